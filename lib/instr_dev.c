/* DDM devices: states, operations, their JSON (instr.h). */
#include "instr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instr_priv.h"
#include "jsonh.h"

/* ---- devices --------------------------------------------------------------- */

static const char *const instr_avail_names[] = {
	[INSTR_ENABLED] = "enabled",
	[INSTR_DISABLED] = "disabled",
};
static const char *const instr_run_names[] = {
	[INSTR_INACTIVE] = "inactive",
	[INSTR_OFFLINE] = "offline",
	[INSTR_ONLINE] = "online",
};
static const char *const instr_op_names[] = {
	[INSTR_OP_ENABLE] = "enable",     [INSTR_OP_DISABLE] = "disable",
	[INSTR_OP_ONLINE] = "online",     [INSTR_OP_OFFLINE] = "offline",
	[INSTR_OP_SHUTDOWN] = "shutdown", [INSTR_OP_DIAG] = "diag",
	[INSTR_OP_AUDIT] = "audit",
};

const char *instr_avail_name(enum instr_avail a)
{
	return (unsigned)a < ARRAY_LEN(instr_avail_names) ? instr_avail_names[a] : "?";
}

const char *instr_run_name(enum instr_run r)
{
	return (unsigned)r < ARRAY_LEN(instr_run_names) ? instr_run_names[r] : "?";
}

const char *instr_op_name(enum instr_op op)
{
	return (unsigned)op < ARRAY_LEN(instr_op_names) ? instr_op_names[op] : "?";
}

int instr_avail_parse(const char *s, enum instr_avail *a)
{
	int i = instr_lookup(instr_avail_names, ARRAY_LEN(instr_avail_names), s);

	if (i < 0)
		return i;
	*a = (enum instr_avail)i;
	return 0;
}

int instr_run_parse(const char *s, enum instr_run *r)
{
	int i = instr_lookup(instr_run_names, ARRAY_LEN(instr_run_names), s);

	if (i < 0)
		return i;
	*r = (enum instr_run)i;
	return 0;
}

int instr_op_parse(const char *s, enum instr_op *op)
{
	int i = instr_lookup(instr_op_names, ARRAY_LEN(instr_op_names), s);

	if (i < 0)
		return i;
	*op = (enum instr_op)i;
	return 0;
}

#define AV(a) (1u << (a))
#define RUN(r) (1u << (r))
#define RUN_ANY (RUN(INSTR_INACTIVE) | RUN(INSTR_OFFLINE) | RUN(INSTR_ONLINE))
#define AV_ANY (AV(INSTR_ENABLED) | AV(INSTR_DISABLED))

/*
 * The DDM state rules as data: the states an op needs, and what to say
 * when the device is not in them (the avail reason is checked first).
 */
static const struct {
	unsigned avail, run;
	const char *bad_avail, *bad_run;
} instr_op_rules[INSTR_OP_COUNT] = {
	[INSTR_OP_ENABLE] = { AV(INSTR_DISABLED), RUN_ANY, "it is already enabled", NULL },
	[INSTR_OP_DISABLE] = { AV(INSTR_ENABLED), RUN(INSTR_INACTIVE) | RUN(INSTR_OFFLINE),
			       "it is already disabled", "it is online: take it offline first" },
	[INSTR_OP_ONLINE] = { AV(INSTR_ENABLED), RUN(INSTR_INACTIVE) | RUN(INSTR_OFFLINE),
			      "it is disabled: enable it first", "it is already online" },
	[INSTR_OP_OFFLINE] = { AV_ANY, RUN(INSTR_ONLINE), NULL, "it is not online" },
	[INSTR_OP_SHUTDOWN] = { AV_ANY, RUN(INSTR_OFFLINE) | RUN(INSTR_ONLINE), NULL,
				"it is already inactive" },
	[INSTR_OP_DIAG] = { AV_ANY, RUN(INSTR_OFFLINE), NULL,
			    "diag is intrusive and runs only on an offline device" },
	[INSTR_OP_AUDIT] = { AV_ANY, RUN(INSTR_ONLINE), NULL,
			     "audit runs only on an online device" },
};

const char *instr_dev_refusal(const struct instr_dev *d, enum instr_op op, char *buf,
			      size_t len)
{
	if ((unsigned)op >= INSTR_OP_COUNT) {
		snprintf(buf, len, "%s: unknown operation", d->path);
		return buf;
	}
	if (d->cannot[op][0]) {
		snprintf(buf, len, "%s: cannot %s: %s", d->path, instr_op_name(op), d->cannot[op]);
		return buf;
	}
	if (d->offered_set && !(d->offered & (1u << op))) {
		snprintf(buf, len, "%s: cannot %s: its node does not offer it", d->path,
			 instr_op_name(op));
		return buf;
	}
	if (!(instr_op_rules[op].avail & AV(d->avail))) {
		snprintf(buf, len, "%s: cannot %s: %s", d->path, instr_op_name(op),
			 instr_op_rules[op].bad_avail);
		return buf;
	}
	if (!(instr_op_rules[op].run & RUN(d->run))) {
		snprintf(buf, len, "%s: cannot %s: %s (it is %s)", d->path, instr_op_name(op),
			 instr_op_rules[op].bad_run, instr_run_name(d->run));
		return buf;
	}
	return NULL;
}

unsigned instr_dev_ops(const struct instr_dev *d)
{
	char buf[256];
	unsigned ops = 0;
	int op;

	for (op = 0; op < INSTR_OP_COUNT; op++)
		if (!instr_dev_refusal(d, (enum instr_op)op, buf, sizeof(buf)))
			ops |= 1u << op;
	return ops;
}

void instr_dev_clear(struct instr_dev *d)
{
	json_decref(d->stats);
	d->stats = NULL;
}

json_t *instr_check_to_json(const struct instr_check *c)
{
	return json_pack("{s:s, s:I, s:s}", "result", c->pass ? "pass" : "fail", "time",
			 (json_int_t)c->time, "detail", c->detail);
}

json_t *instr_dev_to_json(const struct instr_dev *d)
{
	unsigned ops = instr_dev_ops(d);
	json_t *o, *a;
	int op;

	o = json_pack("{s:s, s:s, s:s, s:s}", "path", d->path, "class", d->cls, "avail",
		      instr_avail_name(d->avail), "run", instr_run_name(d->run));
	a = json_array();
	if (!o || !a)
		goto err;
	for (op = 0; op < INSTR_OP_COUNT; op++)
		if ((ops & (1u << op)) && json_array_append_new(a, json_string(instr_op_name(op))))
			goto err;
	if (json_object_set_new(o, "ops", a)) {
		a = NULL;
		goto err;
	}
	a = NULL;
	if (d->stats && json_object_set(o, "stats", d->stats))
		goto err;
	if (d->diag.done && json_object_set_new(o, "diag", instr_check_to_json(&d->diag)))
		goto err;
	if (d->audit.done && json_object_set_new(o, "audit", instr_check_to_json(&d->audit)))
		goto err;
	return o;

err:
	json_decref(a);
	json_decref(o);
	return NULL;
}

int instr_check_from_json(json_t *j, const char *field, struct instr_check *c, char *err,
			  size_t errlen)
{
	static const char *const keys[] = { "result", "time", "detail", NULL };
	const char *result;
	json_int_t time;
	int rc;

	if (!j)
		return 0;
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%s: must be an object", field);
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_str(j, "result", 1, 8, &result, err, errlen)) ||
	    (rc = jsonh_get_int(j, "time", 1, 0, INT64_MAX, &time, err, errlen)) ||
	    (rc = instr_get_strbuf(j, "detail", 0, c->detail, sizeof(c->detail), err, errlen)))
		goto err_field;
	if (strcmp(result, "pass") && strcmp(result, "fail")) {
		snprintf(err, errlen, "%s: result: '%s' must be pass or fail", field, result);
		return -EINVAL;
	}
	c->done = 1;
	c->pass = !strcmp(result, "pass");
	c->time = (int64_t)time;
	return 0;

err_field: {
	char inner[256];
	snprintf(inner, sizeof(inner), "%s", err);
	snprintf(err, errlen, "%s: %s", field, inner);
	return rc;
}
}

int instr_dev_from_json(json_t *j, struct instr_dev *d, char *err, size_t errlen)
{
	static const char *const keys[] = { "path",  "class", "avail", "run", "stats",
					    "diag",  "audit", "ops",   NULL };
	struct instr_dev n;
	const char *avail, *run;
	json_t *stats, *ops, *op;
	size_t i;
	int rc;

	memset(&n, 0, sizeof(n));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "devices: each device must be an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = instr_get_strbuf(j, "path", 1, n.path, sizeof(n.path), err, errlen)) ||
	    (rc = instr_get_strbuf(j, "class", 1, n.cls, sizeof(n.cls), err, errlen)) ||
	    (rc = jsonh_get_str(j, "avail", 1, 16, &avail, err, errlen)) ||
	    (rc = jsonh_get_str(j, "run", 1, 16, &run, err, errlen)) ||
	    (rc = instr_check_from_json(json_object_get(j, "diag"), "diag", &n.diag, err,
					errlen)) ||
	    (rc = instr_check_from_json(json_object_get(j, "audit"), "audit", &n.audit, err,
					errlen)))
		return rc;
	if (instr_avail_parse(avail, &n.avail)) {
		snprintf(err, errlen, "avail: '%s' must be enabled or disabled", avail);
		return -EINVAL;
	}
	if (instr_run_parse(run, &n.run)) {
		snprintf(err, errlen, "run: '%s' must be inactive, offline or online", run);
		return -EINVAL;
	}
	ops = json_object_get(j, "ops");
	if (ops && (!json_is_array(ops) || json_array_size(ops) > INSTR_OP_COUNT)) {
		snprintf(err, errlen, "ops: must be an array of at most %d operations", INSTR_OP_COUNT);
		return -EINVAL;
	}
	json_array_foreach(ops, i, op) {
		enum instr_op o;
		if (!json_is_string(op) || instr_op_parse(json_string_value(op), &o)) {
			snprintf(err, errlen, "ops[%zu]: must be enable, disable, online, offline, "
				 "shutdown, diag or audit", i);
			return -EINVAL;
		}
		n.offered |= 1u << o;
	}
	n.offered_set = ops != NULL;
	stats = json_object_get(j, "stats");
	if (stats && !json_is_object(stats)) {
		snprintf(err, errlen, "stats: must be an object");
		return -EINVAL;
	}
	n.stats = json_incref(stats);
	*d = n;
	return 0;
}
