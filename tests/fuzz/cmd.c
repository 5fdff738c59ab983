/*
 * Differential fuzz target of the command validators: the input is a body
 * POST /api/v1/nodes/NAME/commands takes ({op, args}).  It goes the way
 * snowd's API takes it (jsonh_parse_object(), the same envelope checks as
 * host/http.c, then cmd_check()) and the way an agent gets it (as
 * {id, op, args} in the JSON text of a report answer, through
 * instr_cmd_parse()).  abort() when the verdicts differ, when a host-only op
 * would reach an agent, or when a command the agent took does not come back
 * the same through instr_cmd_to_json().
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../host/cmd.h"
#include "instr.h"
#include "jsonh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_host_only(const char *op)
{
	return !strncmp(op, "power.", 6);
}

/* What the agent's parser says of op and args, sent as snowd sends them. */
static int fz_agent(const char *op, json_t *args, struct instr_cmd *c, char *err, size_t errlen)
{
	json_t *cmd = json_pack("{s:i, s:s}", "id", 1, "op", op), *ans = NULL, *got;
	char *text = NULL;
	json_int_t id;
	int rc = -1;

	if (!cmd)
		abort();
	if (args && json_object_set(cmd, "args", args))
		abort();
	ans = json_pack("{s:i, s:[o]}", "ack_events", 0, "commands", cmd);
	if (!ans || !(text = json_dumps(ans, JSON_COMPACT)))
		abort();
	json_decref(ans);
	ans = jsonh_parse_object(text, strlen(text), err, errlen);
	if (!ans)
		abort(); /* snowd's own JSON must read back */
	got = json_array_get(json_object_get(ans, "commands"), 0);
	rc = instr_cmd_parse(got, c, &id, err, errlen);
	if (id != 1)
		abort();
	json_decref(ans);
	free(text);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "op", "args", NULL };
	char herr[512], aerr[512], err[512];
	struct instr_cmd c, back;
	json_t *body, *args, *j;
	const char *op;
	json_int_t id;
	int hrc, arc;

	/* As host/http.c takes a command: what it refuses here, it refuses first. */
	body = jsonh_parse_object((const char *)data, size, err, sizeof(err));
	if (!body)
		return 0;
	args = json_object_get(body, "args");
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "op", 1, INSTR_CMD_OP_MAX, &op, err, sizeof(err))) {
		json_decref(body);
		return 0;
	}
	herr[0] = aerr[0] = '\0';
	hrc = cmd_check(op, args, herr, sizeof(herr));
	if (hrc && hrc != -EINVAL)
		abort();
	if (hrc && !herr[0])
		abort(); /* a refusal says why */
	arc = fz_agent(op, args, &c, aerr, sizeof(aerr));
	if (fz_host_only(op)) {
		if (!arc)
			abort(); /* an agent must never take a power op */
	} else if (!hrc != !arc) {
		abort(); /* the API and the agent disagree */
	}
	if (!arc) {
		/* Written back and read again: the same command, and snowd takes it too. */
		j = instr_cmd_to_json(&c);
		if (!j || instr_cmd_parse(j, &back, &id, err, sizeof(err)) ||
		    cmd_check(op, json_object_get(j, "args"), err, sizeof(err)))
			abort();
		if (memcmp(&c, &back, sizeof(c)))
			abort();
		json_decref(j);
	}
	json_decref(body);
	return 0;
}
