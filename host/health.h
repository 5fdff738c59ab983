/*
 * snowd's own health, for GET /api/v1/health (no auth) and /metrics:
 * whether the inventory takes writes and whether dnsmasq runs.
 */
#ifndef SNOW_HEALTH_H
#define SNOW_HEALTH_H

#include <jansson.h>

struct snowd;

/*
 * {"status": "ok"|"degraded", "reasons": [text...],
 *  "inventory": {"writable", "write_failures", "reason"?, "since"?},
 *  "dnsmasq": {"enabled", "running", "restarts"}}
 * @ret a new object (the caller owns it), or NULL when out of memory.
 */
json_t *snowd_health(struct snowd *sd);

#endif
