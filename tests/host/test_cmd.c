/*
 * One command validator: the same inputs go to snowd's cmd_check() (what the
 * API runs before it queues a command) and to the agent's parser
 * (instr_cmd_parse(), which snow-agent and snow-nodesim run on each command
 * in a report answer), and both must give the same verdict: a command the
 * API queues is one every agent takes, and the reverse.  Each row also says
 * what the verdict must be, and for a refusal which field the error names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "cmd.h"
#include "instr.h"

/*
 * A row: op, args as JSON text (NULL: no args member at all), and the
 * field a refusal names ("args.path"), or NULL when the command is good.
 * In args, <c*N> stands for N copies of the character c, for edge lengths.
 */
struct row {
	const char *op;
	const char *args;
	const char *refused;
};

static const struct row rows[] = {
	/* Ops without args. */
	{ "reboot", NULL, NULL },
	{ "reboot", "{}", NULL },
	{ "reboot", "{\"now\": true}", "args.now" },
	{ "reboot", "[]", "args" },
	{ "reboot", "null", "args" },
	{ "reboot", "\"now\"", "args" },
	{ "reboot", "5", "args" },
	{ "poweroff", NULL, NULL },
	{ "poweroff", "{}", NULL },
	{ "poweroff", "{\"delay\": 5}", "args.delay" },
	{ "config.reload", NULL, NULL },
	{ "config.reload", "{}", NULL },
	{ "config.reload", "{\"force\": true}", "args.force" },
	{ "config.reload", "{\"\": 1}", "args." },

	/* threshold.set */
	{ "threshold.set",
	  "{\"value\": \"kern.mem.free_kb\", \"kind\": \"low\", \"rise\": 50000, \"clear\": 60000}",
	  NULL },
	{ "threshold.set", "{\"value\": \"vm.load.avg1\", \"kind\": \"high\", \"rise\": 5.5, "
			   "\"clear\": 4.25, \"samples\": 3}",
	  NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": -1e300, \"clear\": -1e300}",
	  NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 5, \"clear\": 5}", NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"low\", \"rise\": 5, \"clear\": 5}", NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 5, \"clear\": 6}",
	  "args.clear" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"low\", \"rise\": 5, \"clear\": 4}",
	  "args.clear" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": 1}",
	  NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": 1000}",
	  NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": null}",
	  NULL },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": 0}",
	  "args.samples" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": 1001}",
	  "args.samples" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": -1}",
	  "args.samples" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": 2.0}",
	  "args.samples" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"samples\": \"2\"}",
	  "args.samples" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": \"5\", \"clear\": 0}",
	  "args.rise" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": true, \"clear\": 0}",
	  "args.rise" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"clear\": 0}", "args.rise" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1}", "args.clear" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": null}",
	  "args.clear" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": [0]}",
	  "args.clear" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"sideways\", \"rise\": 1, \"clear\": 0}",
	  "args.kind" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"HIGH\", \"rise\": 1, \"clear\": 0}",
	  "args.kind" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"\", \"rise\": 1, \"clear\": 0}",
	  "args.kind" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": 1, \"rise\": 1, \"clear\": 0}", "args.kind" },
	{ "threshold.set", "{\"value\": \"a\", \"rise\": 1, \"clear\": 0}", "args.kind" },
	{ "threshold.set", "{\"value\": \"<a*63>\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  NULL },
	{ "threshold.set", "{\"value\": \"<a*64>\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a.<b*61>\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  NULL },
	{ "threshold.set", "{\"value\": \"<a*127>\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"<a*128>\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"Kern.mem\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a..b\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \".a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a.\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a b\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a/b\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"caf\\u00e9\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a\\nb\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"a\\u0000b\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": \"\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"value\": 5, \"kind\": \"high\", \"rise\": 1, \"clear\": 0}",
	  "args.value" },
	{ "threshold.set", "{\"kind\": \"high\", \"rise\": 1, \"clear\": 0}", "args.value" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"state\": \"raised\"}",
	  "args.state" },
	{ "threshold.set", "{\"value\": \"a\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0, "
			   "\"color\": \"red\"}",
	  "args.color" },
	{ "threshold.set", NULL, "args.value" },
	{ "threshold.set", "{}", "args.value" },
	{ "threshold.set", "[]", "args" },

	/* threshold.clear */
	{ "threshold.clear", "{\"value\": \"a.b\", \"kind\": \"high\"}", NULL },
	{ "threshold.clear", "{\"value\": \"kern.mem.free_kb\", \"kind\": \"low\"}", NULL },
	{ "threshold.clear", "{\"value\": \"<z*63>\", \"kind\": \"low\"}", NULL },
	{ "threshold.clear", "{\"value\": \"<z*64>\", \"kind\": \"low\"}", "args.value" },
	{ "threshold.clear", "{\"value\": \"a_b-c.d9\", \"kind\": \"low\"}", NULL },
	{ "threshold.clear", "{\"value\": \"a;b\", \"kind\": \"low\"}", "args.value" },
	{ "threshold.clear", "{\"value\": \"a.b\"}", "args.kind" },
	{ "threshold.clear", "{\"value\": \"a.b\", \"kind\": \"middle\"}", "args.kind" },
	{ "threshold.clear", "{\"kind\": \"high\"}", "args.value" },
	{ "threshold.clear", "{\"value\": \"a.b\", \"kind\": \"high\", \"rise\": 1}", "args.rise" },
	{ "threshold.clear", NULL, "args.value" },

	/* watermarks.reset */
	{ "watermarks.reset", NULL, NULL },
	{ "watermarks.reset", "{}", NULL },
	{ "watermarks.reset", "{\"value\": \"kern.mem.free_kb\"}", NULL },
	{ "watermarks.reset", "{\"value\": null}", NULL },
	{ "watermarks.reset", "{\"value\": \"<q*63>\"}", NULL },
	{ "watermarks.reset", "{\"value\": \"<q*64>\"}", "args.value" },
	{ "watermarks.reset", "{\"value\": \"\"}", "args.value" },
	{ "watermarks.reset", "{\"value\": \"VM.load\"}", "args.value" },
	{ "watermarks.reset", "{\"value\": 5}", "args.value" },
	/* counters.reset: the same argument, a counter's name; absent means every resettable one */
	{ "counters.reset", NULL, NULL },
	{ "counters.reset", "{}", NULL },
	{ "counters.reset", "{\"value\": \"net.eth0.rx_bytes\"}", NULL },
	{ "counters.reset", "{\"value\": null}", NULL },
	{ "counters.reset", "{\"value\": \"<q*63>\"}", NULL },
	{ "counters.reset", "{\"value\": \"<q*64>\"}", "args.value" },
	{ "counters.reset", "{\"value\": \"\"}", "args.value" },
	{ "counters.reset", "{\"value\": \"Net.eth0\"}", "args.value" },
	{ "counters.reset", "{\"value\": [1]}", "args.value" },
	{ "counters.reset", "{\"name\": \"net.eth0.rx_bytes\"}", "args.name" },
	{ "watermarks.reset", "{\"value\": [\"a\"]}", "args.value" },
	{ "watermarks.reset", "{\"all\": true}", "args.all" },
	{ "watermarks.reset", "[\"a\"]", "args" },

	/* device */
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"enable\"}", NULL },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"disable\"}", NULL },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"online\"}", NULL },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"offline\"}", NULL },
	{ "device", "{\"path\": \"block/vda\", \"op\": \"shutdown\"}", NULL },
	{ "device", "{\"path\": \"block/vda\", \"op\": \"diag\"}", NULL },
	{ "device", "{\"path\": \"block/vda\", \"op\": \"audit\"}", NULL },
	{ "device", "{\"path\": \"pci/0000:00:1f.2\", \"op\": \"audit\"}", NULL },
	{ "device", "{\"path\": \"net/eth0.100\", \"op\": \"audit\"}", NULL },
	{ "device", "{\"path\": \"xcvr/enp1s0f0\", \"op\": \"audit\"}", NULL },
	{ "device", "{\"path\": \"nic/engine0\", \"op\": \"offline\"}", NULL },
	{ "device", "{\"path\": \"<p*63>\", \"op\": \"offline\"}", NULL },
	{ "device", "{\"path\": \"<p*64>\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"<p*255>\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"<p*256>\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"cpu/cpu 1\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"cpu/cpu1\\n\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"cpu/\\u001b[31m\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"cpu/cpu1\\u0000\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"net/\\u00e9th0\", \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": 1, \"op\": \"offline\"}", "args.path" },
	{ "device", "{\"op\": \"offline\"}", "args.path" },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"explode\"}", "args.op" },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"Offline\"}", "args.op" },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"\"}", "args.op" },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": 3}", "args.op" },
	{ "device", "{\"path\": \"cpu/cpu1\"}", "args.op" },
	{ "device", "{\"path\": \"cpu/cpu1\", \"op\": \"offline\", \"force\": true}", "args.force" },
	{ "device", NULL, "args.path" },

	/* sysctl.get */
	{ "sysctl.get", "{\"name\": \"vm.swappiness\"}", NULL },
	{ "sysctl.get", "{\"name\": \"net.ipv4.conf.eth0-1.forwarding\"}", NULL },
	{ "sysctl.get", "{\"name\": \"net.ipv4.conf.all.IPv6_x\"}", NULL },
	{ "sysctl.get", "{\"name\": \"kernel\"}", NULL },
	{ "sysctl.get", "{\"name\": \"<s*127>\"}", NULL },
	{ "sysctl.get", "{\"name\": \"<s*128>\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"<s*255>\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"<s*256>\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"../etc/passwd\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"vm/swappiness\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"vm.swappiness.\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \".vm\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"vm..swappiness\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"vm swappiness\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"vm.swappiness\\n\"}", "args.name" },
	{ "sysctl.get", "{\"name\": \"\"}", "args.name" },
	{ "sysctl.get", "{\"name\": 5}", "args.name" },
	{ "sysctl.get", "{}", "args.name" },
	{ "sysctl.get", "{\"name\": \"vm.swappiness\", \"value\": \"10\"}", "args.value" },
	{ "sysctl.get", NULL, "args.name" },

	/* sysctl.set */
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"10\"}", NULL },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": 10}", NULL },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": 0}", NULL },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": -1}", NULL },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": 9223372036854775807}", NULL },
	{ "sysctl.set", "{\"name\": \"kernel.printk\", \"value\": \"4\\t4\\t1\\t7\"}", NULL },
	{ "sysctl.set", "{\"name\": \"kernel.printk\", \"value\": \"3 4 1 7\"}", NULL },
	{ "sysctl.set", "{\"name\": \"kernel.hostname\", \"value\": \"n\\u00f6de\"}", NULL },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"<1*255>\"}", NULL },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"<1*256>\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"<1*1024>\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"<1*1025>\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"1\\n2\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"10\\r\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"1\\u0001\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"1\\u007f\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"1\\u0000\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": 1.5}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": true}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": null}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": [10]}", "args.value" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\"}", "args.value" },
	{ "sysctl.set", "{\"name\": \"../../etc/passwd\", \"value\": \"1\"}", "args.name" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness.\", \"value\": \"1\"}", "args.name" },
	{ "sysctl.set", "{\"name\": \"<s*127>\", \"value\": \"1\"}", NULL },
	{ "sysctl.set", "{\"name\": \"<s*128>\", \"value\": \"1\"}", "args.name" },
	{ "sysctl.set", "{\"value\": \"1\"}", "args.name" },
	{ "sysctl.set", "{\"name\": \"vm.swappiness\", \"value\": \"1\", \"now\": 1}", "args.now" },
	{ "sysctl.set", NULL, "args.name" },

	/* Ops nobody knows. */
	{ "format-disk", NULL, "op" },
	{ "format-disk", "{}", "op" },
	{ "", NULL, "op" },
	{ "Reboot", NULL, "op" },
	{ "reboot ", NULL, "op" },
	{ "power", NULL, "op" },
	{ "power.reset", NULL, "op" },
	{ "sysctl", "{\"name\": \"vm.swappiness\"}", "op" },
	{ "threshold", NULL, "op" },

	/* Host-only: snowd runs them, agents never see them. */
	{ "power.on", NULL, NULL },
	{ "power.off", "{}", NULL },
	{ "power.cycle", NULL, NULL },
	{ "power.status", "{}", NULL },
	{ "power.on", "{\"force\": true}", "args.force" },
	{ "power.cycle", "[]", "args" },
	{ "power.status", "null", "args" },
};

/* Expand <c*N> into N copies of c.  @ret a malloc()ed string the caller frees. */
static char *expand(const char *s)
{
	size_t cap = strlen(s) + 1, len = 0;
	char *out = malloc(cap);
	char c;
	int n, used;

	assert_non_null(out);
	while (*s) {
		if (*s == '<' && sscanf(s, "<%c*%d>%n", &c, &n, &used) == 2 && used > 0) {
			out = realloc(out, cap += (size_t)n);
			assert_non_null(out);
			memset(out + len, c, (size_t)n);
			len += (size_t)n;
			s += used;
			continue;
		}
		out[len++] = *s++;
	}
	out[len] = '\0';
	return out;
}

static int host_only(const char *op)
{
	return !strcmp(op, "power.on") || !strcmp(op, "power.off") || !strcmp(op, "power.cycle") ||
	       !strcmp(op, "power.status");
}

/*
 * The command as an agent gets it: the API's op and args put into
 * {id, op, args} and through JSON text, as snowd stores and sends it.
 */
static json_t *agent_form(const char *op, json_t *args)
{
	json_t *c = json_pack("{s:i, s:s}", "id", 7, "op", op);
	json_error_t je;
	char *text;

	assert_non_null(c);
	if (args)
		json_object_set(c, "args", args);
	text = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(text);
	json_decref(c);
	c = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!c)
		fail_msg("%s: %s", text, je.text);
	free(text);
	return c;
}

/* The field an error names: what comes before its first ": ". */
static void error_field(const char *err, char *field, size_t len)
{
	const char *colon = strstr(err, ": ");

	snprintf(field, len, "%.*s", colon ? (int)(colon - err) : (int)strlen(err), err);
}

/*
 * The agent's error names the field as "args: value: ..." (its results
 * have said so since the first agent); the API's as "args.value: ...".
 */
static void agent_field(const char *err, char *field, size_t len)
{
	if (!strncmp(err, "args: ", 6) && strncmp(err, "args: must", 10)) {
		char inner[64];
		error_field(err + 6, inner, sizeof(inner));
		snprintf(field, len, "args.%s", inner);
		return;
	}
	error_field(err, field, len);
}

/*
 * One row through both sides.  want: as a row's refused.  @ret 0 when the
 * verdicts are the same (and what the row wants), else 1 with the values
 * printed.  *cmd (when non-NULL) gets the agent's parse of a good command.
 */
static unsigned check_one(const char *what, const char *op, json_t *args, int check_want,
			  const char *want, struct instr_cmd *parsed)
{
	char herr[512] = "", aerr[512] = "", hfield[128], afield[128];
	struct instr_cmd c;
	json_int_t id;
	json_t *cmd;
	char *text = args ? json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	const char *shown = text ? text : "(none)";
	unsigned bad = 0;
	int hrc, arc;

	hrc = cmd_check(op, args, herr, sizeof(herr));
	cmd = agent_form(op, args);
	arc = instr_cmd_parse(cmd, &c, &id, aerr, sizeof(aerr));
	error_field(herr, hfield, sizeof(hfield));
	agent_field(aerr, afield, sizeof(afield));
	if (hrc != 0 && hrc != -EINVAL) {
		print_message("%s %s %.80s: cmd_check returned %d\n", what, op, shown, hrc);
		bad++;
	}
	if (check_want && !want && hrc) {
		print_message("%s %s %.80s: API refused a good command: %s\n", what, op, shown, herr);
		bad++;
	} else if (check_want && want && (!hrc || strcmp(hfield, want))) {
		print_message("%s %s %.80s: API said %d '%s', want a refusal naming %s\n", what, op,
			      shown, hrc, herr, want);
		bad++;
	}
	if (host_only(op)) {
		/* Never sent to an agent, which would refuse it. */
		if (!arc) {
			print_message("%s %s: an agent took a host-only op\n", what, op);
			bad++;
		}
	} else if (!hrc != !arc) {
		print_message("%s %s %.80s: API %s, agent %s\n", what, op, shown,
			      hrc ? herr : "accepts", arc ? aerr : "accepts");
		bad++;
	} else if (hrc && strcmp(hfield, afield)) {
		print_message("%s %s %.80s: the API names %s ('%s'), the agent %s ('%s')\n", what,
			      op, shown, hfield, herr, afield, aerr);
		bad++;
	} else if (!arc && parsed) {
		*parsed = c;
	}
	json_decref(cmd);
	free(text);
	return bad;
}

/* The row's args as JSON (a new reference, NULL for none). */
static json_t *row_args(const struct row *r)
{
	char *text;
	json_error_t je;
	json_t *args;

	if (!r->args)
		return NULL;
	text = expand(r->args);
	args = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!args)
		fail_msg("bad test JSON %s: %s", text, je.text);
	free(text);
	return args;
}

static void test_same_verdict(void **state)
{
	unsigned bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *args = row_args(&rows[i]);
		char what[32];

		snprintf(what, sizeof(what), "row %zu", i);
		bad += check_one(what, rows[i].op, args, 1, rows[i].refused, NULL);
		json_decref(args);
	}
	if (bad)
		fail_msg("%u of %zu rows wrong", bad, sizeof(rows) / sizeof(rows[0]));
}

/*
 * The rows cover the table: every op of instr_cmd_rules[] has a good row,
 * and every argument a row refused for it.  A new op or argument without
 * rows here fails.
 */
static void test_rows_cover_every_op(void **state)
{
	unsigned bad = 0;
	size_t op, i;

	(void)state;
	for (op = 0; op < INSTR_CMD_COUNT; op++) {
		const struct instr_cmd_rule *r = &instr_cmd_rules[op];
		const struct instr_arg *a;
		int good = 0;
		assert_ptr_equal(instr_cmd_rule(r->op), r);
		assert_string_equal(instr_cmd_op_name((enum instr_cmd_op)op), r->op);
		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			good |= !strcmp(rows[i].op, r->op) && !rows[i].refused;
		if (!good) {
			print_message("op %s: no good row\n", r->op);
			bad++;
		}
		for (a = r->args; a->name; a++) {
			char field[64];
			int refused = 0;
			snprintf(field, sizeof(field), "args.%s", a->name);
			for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
				refused |= !strcmp(rows[i].op, r->op) && rows[i].refused &&
					   !strcmp(rows[i].refused, field);
			if (!refused) {
				print_message("op %s: no row refused for %s\n", r->op, field);
				bad++;
			}
		}
	}
	if (bad)
		fail_msg("%u ops or args without rows", bad);
}

/*
 * Generated from the table: each op's first good row with one argument
 * taken away, replaced by each of a set of odd values, or joined by one
 * nobody knows.  Both sides must agree on each; a required argument taken
 * away and an unknown one are refused naming them.
 */
static void test_generated(void **state)
{
	static const char *const odd[] = {
		"true", "false", "0", "1", "-1", "1001", "1.5", "-0.0", "1e300", "\"\"", "\" \"",
		"\"a\"", "\"A\"", "\"high\"", "\"low\"", "\"offline\"", "\"a.b\"", "\"a..b\"",
		"\"a/b\"", "\"10\"", "\"\\t\"", "\"\\n\"", "\"\\u0000\"", "\"\\u00e9\"", "[]", "{}",
		"[1]", "{\"a\": 1}", "\"<a*63>\"", "\"<a*64>\"", "\"<a*127>\"", "\"<a*128>\"",
		"\"<a*255>\"", "\"<a*256>\"", "\"<a*1024>\"", "\"<a*1025>\"",
	};
	unsigned bad = 0, n = 0;
	size_t op, i, k;

	(void)state;
	for (op = 0; op < INSTR_CMD_COUNT; op++) {
		const struct instr_cmd_rule *r = &instr_cmd_rules[op];
		const struct instr_arg *a;
		json_t *good = NULL, *args;
		char what[96];

		for (i = 0; i < sizeof(rows) / sizeof(rows[0]) && !good; i++)
			if (!strcmp(rows[i].op, r->op) && !rows[i].refused && rows[i].args)
				good = row_args(&rows[i]);
		if (!good)
			good = json_object();
		for (a = r->args; a->name; a++) {
			char field[64];
			snprintf(field, sizeof(field), "args.%s", a->name);
			args = json_deep_copy(good);
			json_object_del(args, a->name);
			snprintf(what, sizeof(what), "without %s", a->name);
			bad += check_one(what, r->op, args, 1, a->required ? field : NULL, NULL);
			n++;
			json_decref(args);
			for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
				char *text = expand(odd[k]);
				json_error_t je;
				json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
				if (!v)
					fail_msg("bad test JSON %s: %s", text, je.text);
				args = json_deep_copy(good);
				json_object_set_new(args, a->name, v);
				snprintf(what, sizeof(what), "%s = %.40s", a->name, text);
				bad += check_one(what, r->op, args, 0, NULL, NULL);
				n++;
				json_decref(args);
				free(text);
			}
		}
		args = json_deep_copy(good);
		json_object_set_new(args, "zz", json_integer(1));
		bad += check_one("an unknown member", r->op, args, 1, "args.zz", NULL);
		n++;
		json_decref(args);
		json_decref(good);
	}
	if (bad)
		fail_msg("%u of %u generated commands wrong", bad, n);
}

/*
 * What the agent parsed, written back by instr_cmd_to_json(), is parsed the
 * same again (and snowd takes it): the table reads and writes each field.
 */
static void test_round_trip(void **state)
{
	unsigned bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct instr_cmd c, back;
		json_t *args, *j, *j2;
		char err[512];
		json_int_t id;

		if (rows[i].refused || host_only(rows[i].op))
			continue;
		args = row_args(&rows[i]);
		memset(&c, 0, sizeof(c));
		bad += check_one("round trip", rows[i].op, args, 1, NULL, &c);
		json_decref(args);
		j = instr_cmd_to_json(&c);
		assert_non_null(j);
		if (instr_cmd_parse(j, &back, &id, err, sizeof(err))) {
			print_message("row %zu: its own JSON refused: %s\n", i, err);
			bad++;
		} else if (cmd_check(rows[i].op, json_object_get(j, "args"), err, sizeof(err))) {
			print_message("row %zu: the API refused its JSON: %s\n", i, err);
			bad++;
		} else {
			j2 = instr_cmd_to_json(&back);
			if (!json_equal(j, j2)) {
				char *t1 = json_dumps(j, JSON_COMPACT), *t2 = json_dumps(j2, JSON_COMPACT);
				print_message("row %zu: %s came back as %s\n", i, t1, t2);
				free(t1);
				free(t2);
				bad++;
			}
			json_decref(j2);
		}
		json_decref(j);
	}
	if (bad)
		fail_msg("%u rows did not come back the same", bad);
}

/* The API's refusals of unknown ops list every op, host-only ones too. */
static void test_unknown_op_lists_all(void **state)
{
	char err[512];
	size_t i;

	(void)state;
	assert_int_equal(cmd_check("format\n-disk", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "op: 'format?-disk' is not a command ("));
	for (i = 0; i < INSTR_CMD_COUNT; i++)
		if (!strstr(err, instr_cmd_rules[i].op))
			fail_msg("'%s' does not name %s", err, instr_cmd_rules[i].op);
	assert_non_null(strstr(err, "power.status"));
	/* A short buffer is cut, never overrun. */
	assert_int_equal(cmd_check("nope", NULL, err, 12), -EINVAL);
	assert_int_equal(strlen(err), 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_verdict),
		cmocka_unit_test(test_rows_cover_every_op),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_unknown_op_lists_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
