/*
 * A node's report and schema as snowd takes them (docs/protocol.md): the
 * envelope, the events and results, and every value, watermark, threshold
 * and device parsed through lib/instr, the same parsers the agent's own
 * state goes through, so what the host stores, streams and shows has been
 * checked once, where it came in.  An unknown kind or state is refused.
 */
#ifndef SNOW_REPORT_H
#define SNOW_REPORT_H

#include <jansson.h>
#include <stddef.h>

#define REPORT_MAX_EVENTS 256  /* events or results in one report */
#define REPORT_MAX_VALUES 4096 /* values in a schema; thresholds or devices in a report */

/*
 * A schema (NULL: none given): [{name, kind, oid?, unit?, desc?}].
 * @ret 0 or -EINVAL with err naming the entry and field.
 */
int report_check_schema(json_t *schema, char *err, size_t errlen);
/*
 * A report's body before anything of it is stored.  Events without attrs
 * get an empty object (body changed in place).
 * @ret 0 or -EINVAL with err naming the field.
 */
int report_check(json_t *body, char *err, size_t errlen);

#endif
