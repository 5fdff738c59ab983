#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instr.h"

/*
 * Ops snowd runs itself, through the node's BMC or QEMU: never sent to an
 * agent.  Everything else is an agent's op, checked by the agent's own rules
 * (lib/instr.c's instr_cmd_rules[]), so the API queues exactly the commands
 * agents take.
 */
static const struct instr_cmd_rule cmd_host_rules[] = {
	{ .op = "power.on" },
	{ .op = "power.off" },
	{ .op = "power.cycle" },
	{ .op = "power.status" },
};

#define CMD_HOST_OPS (sizeof(cmd_host_rules) / sizeof(cmd_host_rules[0]))

static const struct instr_cmd_rule *cmd_rule(const char *op)
{
	size_t i;

	for (i = 0; i < CMD_HOST_OPS; i++)
		if (!strcmp(cmd_host_rules[i].op, op))
			return &cmd_host_rules[i];
	return instr_cmd_rule(op);
}

/* "op: 'OP' is not a command (power.on, ..., sysctl.get)", every op named. */
static int cmd_unknown(const char *op, char *err, size_t errlen)
{
	size_t i, len;

	snprintf(err, errlen, "op: '");
	/* Quote at most 32 bytes, control characters as '?': it is logged. */
	for (i = 0, len = strlen(err); op[i] && i < 32 && len + 1 < errlen; i++, len++)
		err[len] = (unsigned char)op[i] < ' ' || op[i] == 0x7f ? '?' : op[i];
	if (len < errlen)
		err[len] = '\0';
	len = strlen(err);
	snprintf(err + len, errlen - len, "' is not a command (");
	for (i = 0; i < CMD_HOST_OPS + INSTR_CMD_COUNT; i++) {
		const char *name = i < CMD_HOST_OPS ? cmd_host_rules[i].op :
						      instr_cmd_rules[i - CMD_HOST_OPS].op;
		len = strlen(err);
		snprintf(err + len, errlen - len, "%s%s", i ? ", " : "", name);
	}
	len = strlen(err);
	snprintf(err + len, errlen - len, ")");
	return -EINVAL;
}

int cmd_check(const char *op, json_t *args, char *err, size_t errlen)
{
	const struct instr_cmd_rule *r = op ? cmd_rule(op) : NULL;
	struct instr_cmd c;

	if (!r)
		return cmd_unknown(op ? op : "", err, errlen);
	memset(&c, 0, sizeof(c));
	return instr_cmd_args(r, args, "args.", &c, err, errlen);
}
