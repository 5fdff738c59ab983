#include "answer.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "agent.h"
#include "jsonh.h"
#include "log.h"
#include "sign.h"

int agent_answer_read(json_t *reply, enum agent_answer_kind kind, struct agent_answer *a)
{
	const char *key = json_string_value(json_object_get(reply, "rekey"));
	json_int_t v;
	char err[256];
	int rc = 0;

	memset(a, 0, sizeof(*a));
	if (!reply)
		return 0;
	if (json_object_get(reply, "rekey")) {
		if (key && strlen(key) == SIGN_SECRET_HEX_LEN &&
		    strspn(key, "0123456789abcdef") == SIGN_SECRET_HEX_LEN)
			a->rekey = key;
		else
			log_warnx("host's answer: rekey: must be %d lowercase hex digits (ignored)",
				  SIGN_SECRET_HEX_LEN);
	}
	/* jsonh_get_int() leaves v alone for a member absent or null: 0, nothing to take. */
	if (kind == AGENT_ANSWER_REGISTER) {
		v = 0;
		if (jsonh_get_int(reply, "interval_ms", 0, AGENT_INTERVAL_MIN_MS,
				  AGENT_INTERVAL_MAX_MS, &v, err, sizeof(err)))
			log_warnx("register: host's answer: %s (keeping the interval)", err);
		else
			a->interval_ms = (long)v;
		return 0;
	}
	v = 0;
	if (jsonh_get_int(reply, "ack_events", 0, 0, INT64_MAX, &v, err, sizeof(err))) {
		log_warnx("report: host's answer: %s", err);
		rc = -EINVAL;
	} else {
		a->ack = v;
	}
	a->commands = json_object_get(reply, "commands");
	if (a->commands && !json_is_array(a->commands)) {
		log_warnx("report: host's answer: commands: must be an array");
		a->commands = NULL;
		rc = -EINVAL;
	}
	return rc;
}
