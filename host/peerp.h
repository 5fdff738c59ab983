/*
 * The payloads other snowd send by NOTIFY (peer.h): the one parser of what
 * comes from the database's notification channel.
 */
#ifndef SNOW_PEERP_H
#define SNOW_PEERP_H

#include <stdint.h>

/*
 * A snow_cmd payload: a node id, decimal, 1..INT64_MAX, no sign, no leading
 * zero, nothing else.  @ret 0 with *id, or -EINVAL (payload may be NULL).
 */
int peer_parse_id(const char *payload, int64_t *id);

#endif
