#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instr.h"
#include "jsonh.h"

#define VALUE_NAME_MAX 127

static int cmd_fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/* Prefix a jsonh error ("rise: missing") with "args." */
static int cmd_args_err(char *err, size_t errlen)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "args.%s", err);
	snprintf(err, errlen, "%s", tmp);
	return -EINVAL;
}

static int cmd_kind(json_t *args, int *high, char *err, size_t errlen)
{
	const char *kind;

	if (jsonh_get_str(args, "kind", 1, 8, &kind, err, errlen))
		return cmd_args_err(err, errlen);
	if (strcmp(kind, "high") && strcmp(kind, "low"))
		return cmd_fail(err, errlen, "args.kind: must be 'high' or 'low'");
	*high = !strcmp(kind, "high");
	return 0;
}

static const char *const cmd_ops[] = { "power.on", "power.off", "power.cycle", "power.status",
					"reboot", "poweroff", "config.reload", "threshold.set",
					"threshold.clear", "watermarks.reset", "device",
					"sysctl.get", "sysctl.set", NULL };

int cmd_check(const char *op, json_t *args, char *err, size_t errlen)
{
	const char *const *known;
	const char *s;
	int high;

	for (known = cmd_ops; *known && strcmp(*known, op); known++)
		;
	if (!*known) {
		snprintf(err, errlen, "op: '%.32s' is not a command (power.on, power.off, "
				      "power.cycle, power.status, reboot, poweroff, threshold.set, "
				      "threshold.clear, watermarks.reset, device, sysctl.get, "
				      "sysctl.set, config.reload)", op);
		return -EINVAL;
	}
	if (args && !json_is_object(args))
		return cmd_fail(err, errlen, "args: must be an object");
	if (!strcmp(op, "reboot") || !strcmp(op, "poweroff") || !strcmp(op, "config.reload") ||
	    !strncmp(op, "power.", 6)) {
		static const char *const none[] = { NULL };
		if (args && jsonh_only_keys(args, none, err, errlen))
			return cmd_args_err(err, errlen);
		return 0;
	}
	if (!args && !strcmp(op, "watermarks.reset"))
		return 0; /* all of them */
	if (!args)
		return cmd_fail(err, errlen, "args: missing");
	if (!strcmp(op, "threshold.set")) {
		static const char *const keys[] = { "value", "kind", "rise", "clear", "samples", NULL };
		double rise, clear;
		json_int_t samples = 1;
		if (jsonh_only_keys(args, keys, err, errlen) ||
		    jsonh_get_str(args, "value", 1, VALUE_NAME_MAX, &s, err, errlen) ||
		    jsonh_get_num(args, "rise", 1, &rise, err, errlen) ||
		    jsonh_get_num(args, "clear", 1, &clear, err, errlen) ||
		    jsonh_get_int(args, "samples", 0, 1, 1000, &samples, err, errlen))
			return cmd_args_err(err, errlen);
		if (cmd_kind(args, &high, err, errlen))
			return -EINVAL;
		/* The one rule for hysteresis, shared with the agent. */
		if (threshold_check(rise, clear, high ? INSTR_THR_HIGH : INSTR_THR_LOW, err, errlen))
			return cmd_args_err(err, errlen);
		return 0;
	}
	if (!strcmp(op, "threshold.clear")) {
		static const char *const keys[] = { "value", "kind", NULL };
		if (jsonh_only_keys(args, keys, err, errlen) ||
		    jsonh_get_str(args, "value", 1, VALUE_NAME_MAX, &s, err, errlen))
			return cmd_args_err(err, errlen);
		return cmd_kind(args, &high, err, errlen);
	}
	if (!strcmp(op, "watermarks.reset")) {
		static const char *const keys[] = { "value", NULL };
		if (jsonh_only_keys(args, keys, err, errlen) ||
		    jsonh_get_str(args, "value", 0, VALUE_NAME_MAX, &s, err, errlen))
			return cmd_args_err(err, errlen);
		return 0;
	}
	if (!strcmp(op, "device")) {
		static const char *const keys[] = { "path", "op", NULL };
		static const char *const ops[] = { "enable", "disable", "online", "offline",
						   "shutdown", "diag", "audit", NULL };
		const char *const *o;
		if (jsonh_only_keys(args, keys, err, errlen) ||
		    jsonh_get_str(args, "path", 1, 255, &s, err, errlen) ||
		    jsonh_get_str(args, "op", 1, 16, &s, err, errlen))
			return cmd_args_err(err, errlen);
		for (o = ops; *o && strcmp(*o, s); o++)
			;
		if (!*o) {
			snprintf(err, errlen, "args.op: '%s' is not one of enable, disable, online, "
					      "offline, shutdown, diag, audit", s);
			return -EINVAL;
		}
		return 0;
	}
	/* sysctl.get and sysctl.set: the last of cmd_ops. */
	{
		static const char *const keys_get[] = { "name", NULL };
		static const char *const keys_set[] = { "name", "value", NULL };
		int get = !strcmp(op, "sysctl.get");
		const char *const *keys = get ? keys_get : keys_set;
		if (jsonh_only_keys(args, keys, err, errlen) ||
		    jsonh_get_str(args, "name", 1, 255, &s, err, errlen))
			return cmd_args_err(err, errlen);
		if (strstr(s, "..") || s[0] == '.' || s[0] == '/' ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			    strlen(s))
			return cmd_fail(err, errlen, "args.name: not a sysctl name like vm.swappiness");
		if (!get && jsonh_get_str(args, "value", 1, 1024, &s, err, errlen))
			return cmd_args_err(err, errlen);
		return 0;
	}
}
