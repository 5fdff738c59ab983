/*
 * Fuzz target: the SNMP SET planner (snmp/subagent/plan.c).  The input is
 * one row's SET as the agent gathers it from the varbinds of a request (which
 * columns are set, their integer values) and the row as it was (exists,
 * levels, decimals, kind, name).  Checks what the subagent relies on:
 * - the verdict is 0 or one of the three SNMP errors a row SET may give, and
 *   an error plans nothing;
 * - a plan's command and its undo are commands the node's agent accepts
 *   (lib/instr's parser, as snowd would forward them), whenever the row's
 *   name is one the agent accepts at all;
 * - a planned threshold is ordered as its kind says (high: clear <= rise)
 *   and finite, and the plan's new row says what the command does.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include "instr.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "snmp_plan: " __VA_ARGS__);                                \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fz_in {
	const uint8_t *p;
	size_t n;
};

static uint32_t fz_u32(struct fz_in *in)
{
	uint32_t v = 0;
	size_t k = in->n < 4 ? in->n : 4;

	memcpy(&v, in->p, k);
	in->p += k;
	in->n -= k;
	return v;
}

static uint8_t fz_u8(struct fz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

/* A level of the row as it was: what a JSON reading can be (finite). */
static double fz_level(struct fz_in *in, unsigned decimals)
{
	return model_unfixed((int32_t)fz_u32(in), decimals);
}

/* Does the agent take cmd, sent to it as snowd sends it? */
static int fz_agent_takes(json_t *cmd, char *err, size_t errlen)
{
	json_t *j = json_deep_copy(cmd);
	struct instr_cmd c;
	json_int_t id;
	int rc;

	if (!j || json_object_set_new(j, "id", json_integer(7)))
		abort();
	rc = instr_cmd_parse(j, &c, &id, err, errlen);
	json_decref(j);
	return rc;
}

/* Does the agent take this name at all (as the value or device path of a harmless command)? */
static int fz_name_ok(int table, const char *name)
{
	json_t *j = table == TXN_THR ?
			    json_pack("{s:s, s:{s:s, s:s}}", "op", "threshold.clear", "args", "value",
				      name, "kind", "high") :
			    json_pack("{s:s, s:{s:s, s:s}}", "op", "device", "args", "path", name, "op",
				      "enable");
	char err[256];
	int rc;

	if (!j)
		return 0; /* not UTF-8: jansson refuses it, and so would snowd */
	rc = fz_agent_takes(j, err, sizeof(err));
	json_decref(j);
	return rc == 0;
}

static void fz_check_cmd(json_t *cmd, const char *what, int name_ok)
{
	char err[256];

	if (!cmd || !name_ok)
		return;
	FZ_CHECK(fz_agent_takes(cmd, err, sizeof(err)) == 0, "%s refused by the agent: %s", what, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct txn_entry e;
	uint8_t flags, more;
	size_t nlen;
	int rc, name_ok;

	memset(&e, 0, sizeof(e));
	flags = fz_u8(&in);
	more = fz_u8(&in);
	e.table = flags & 1 ? TXN_DEV : TXN_THR;
	e.set_rise = !!(flags & 2);
	e.set_clear = !!(flags & 4);
	e.set_enabled = !!(flags & 8);
	e.set_status = !!(flags & 16);
	e.set_admin = !!(flags & 32);
	e.enabled = !!(flags & 64);
	e.kind = flags & 128 ? MODEL_LOW : MODEL_HIGH;
	e.can_enable = !!(more & 1);
	e.can_disable = !!(more & 2);
	e.decimals = more & 4 ? MODEL_DEC_REAL : 0;
	e.samples = (more >> 3) & 7;
	e.rise = fz_level(&in, e.decimals);
	e.clear = fz_level(&in, e.decimals);
	/* An existing row's levels came from the node's report, which snowd checked: in order. */
	if (e.kind == MODEL_HIGH ? e.clear > e.rise : e.clear < e.rise) {
		double t = e.rise;

		e.rise = e.clear;
		e.clear = t;
	}
	/* SET values: INTEGER varbinds (net-snmp hands them over as long). */
	e.rise_fx = (int32_t)fz_u32(&in);
	e.clear_fx = (int32_t)fz_u32(&in);
	e.want_enabled = (int8_t)fz_u8(&in);
	e.want_status = (int8_t)fz_u8(&in);
	e.want_admin = (int8_t)fz_u8(&in);
	nlen = in.n < MODEL_NAME_MAX ? in.n : MODEL_NAME_MAX;
	memcpy(e.name, in.p, nlen);
	e.name[nlen] = '\0';
	snprintf(e.node, sizeof(e.node), "node1");
	name_ok = fz_name_ok(e.table, e.name);

	rc = e.table == TXN_THR ? plan_threshold(&e) : plan_device(&e);
	FZ_CHECK(rc == 0 || rc == SNMP_ERR_WRONGVALUE || rc == SNMP_ERR_INCONSISTENTVALUE ||
			 rc == SNMP_ERR_NOCREATION || rc == SNMP_ERR_RESOURCEUNAVAILABLE,
		 "verdict %d", rc);
	if (rc) {
		FZ_CHECK(!e.cmd && !e.undo, "an error (%d) with a plan", rc);
		/* Only a name jansson cannot hold (not UTF-8) fails to make its command. */
		FZ_CHECK(rc != SNMP_ERR_RESOURCEUNAVAILABLE || !name_ok, "no command for a good name");
		return 0;
	}
	fz_check_cmd(e.cmd, "command", name_ok);
	fz_check_cmd(e.undo, "undo", name_ok);
	if (e.table == TXN_THR && e.cmd) {
		const char *op = json_string_value(json_object_get(e.cmd, "op"));

		FZ_CHECK(op, "a command without op");
		if (!strcmp(op, "threshold.set")) {
			FZ_CHECK(e.new_exists, "a threshold set, the row said gone");
			FZ_CHECK(isfinite(e.new_rise) && isfinite(e.new_clear), "levels not finite");
			FZ_CHECK(e.kind == MODEL_HIGH ? e.new_clear <= e.new_rise :
							e.new_clear >= e.new_rise,
				 "levels in the wrong order for the kind");
		} else {
			FZ_CHECK(!strcmp(op, "threshold.clear") && !e.new_exists,
				 "op %s, row exists %d", op, e.new_exists);
		}
	}
	/* No command: the row stays as it was, and the plan says so. */
	if (e.table == TXN_THR && !e.cmd)
		FZ_CHECK(e.new_exists == e.enabled, "no command, yet the row would change");
	if (e.table == TXN_DEV)
		FZ_CHECK(e.cmd ? e.new_enabled != e.enabled : e.new_enabled == e.enabled,
			 "device: command %p, enabled %d -> %d", (void *)e.cmd, e.enabled,
			 e.new_enabled);
	json_decref(e.cmd);
	json_decref(e.undo);
	return 0;
}
