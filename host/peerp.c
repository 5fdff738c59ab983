/* The payloads other snowd send by NOTIFY (peerp.h). */
#include "peerp.h"

#include <errno.h>
#include <string.h>

int peer_parse_id(const char *payload, int64_t *id)
{
	int64_t v = 0;
	size_t i;

	if (!payload || !payload[0] || strlen(payload) > 19 || payload[0] == '0')
		return -EINVAL;
	for (i = 0; payload[i]; i++) {
		if (payload[i] < '0' || payload[i] > '9')
			return -EINVAL;
		if (v > (INT64_MAX - (payload[i] - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (payload[i] - '0');
	}
	*id = v;
	return 0;
}
