/* Commands from the host: ops, their arguments, results (instr.h). */
#include "instr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instr_priv.h"
#include "jsonh.h"

/* ---- commands -------------------------------------------------------------- */

/*
 * Each argument type: the most characters a string of it may have (the
 * length of its field in struct instr_cmd) and what it must be, for
 * refusals.  The command limits of docs/protocol.md are these.
 */
static const struct {
	size_t max;
	const char *form;
} instr_arg_forms[] = {
	[INSTR_ARG_VALUE] = { INSTR_NAME_MAX,
			      "must be a value name: dot-separated segments of [a-z0-9_-], none "
			      "empty" },
	[INSTR_ARG_THR_KIND] = { 8, "must be high or low" },
	[INSTR_ARG_NUMBER] = { 0, "must be a number" },
	[INSTR_ARG_SAMPLES] = { 0, "must be an integer" },
	[INSTR_ARG_PATH] = { INSTR_PATH_MAX,
			     "must be a device path such as cpu/cpu1 (printable ASCII, no space)" },
	[INSTR_ARG_DEV_OP] = { 16, "must be enable, disable, online, offline, shutdown, diag "
				   "or audit" },
	[INSTR_ARG_SYSCTL] = { INSTR_SYSCTL_NAME_MAX,
			       "must be a dotted sysctl name such as vm.swappiness: dot-separated "
			       "segments of [A-Za-z0-9_-], none empty" },
	[INSTR_ARG_LINE] = { INSTR_SYSCTL_VALUE_MAX,
			     "must be one line: no control characters but tab" },
};

static int instr_cmd_thr_check(const struct instr_cmd *c, char *err, size_t errlen)
{
	return threshold_check(c->thr.rise, c->thr.clear, c->thr.kind, err, errlen);
}

#define ARG(n, t, req, field)                                                        \
	{ .name = n, .type = INSTR_ARG_##t, .required = req,                         \
	  .off = offsetof(struct instr_cmd, field) }

/* Every op an agent runs, with its args: docs/protocol.md, "Commands". */
const struct instr_cmd_rule instr_cmd_rules[INSTR_CMD_COUNT] = {
	[INSTR_CMD_REBOOT] = { .op = "reboot" },
	[INSTR_CMD_POWEROFF] = { .op = "poweroff" },
	[INSTR_CMD_THR_SET] = { .op = "threshold.set",
				.args = { ARG("value", VALUE, 1, thr.value),
					  ARG("kind", THR_KIND, 1, thr.kind),
					  ARG("rise", NUMBER, 1, thr.rise),
					  ARG("clear", NUMBER, 1, thr.clear),
					  ARG("samples", SAMPLES, 0, thr.samples) },
				.check = instr_cmd_thr_check },
	[INSTR_CMD_THR_CLEAR] = { .op = "threshold.clear",
				  .args = { ARG("value", VALUE, 1, thr.value),
					    ARG("kind", THR_KIND, 1, thr.kind) } },
	[INSTR_CMD_WM_RESET] = { .op = "watermarks.reset",
				 .args = { ARG("value", VALUE, 0, value) } },
	[INSTR_CMD_DEVICE] = { .op = "device",
			       .args = { ARG("path", PATH, 1, path),
					 ARG("op", DEV_OP, 1, dev_op) } },
	[INSTR_CMD_SYSCTL_SET] = { .op = "sysctl.set",
				   .args = { ARG("name", SYSCTL, 1, sysctl_name),
					     ARG("value", LINE, 1, sysctl_value) } },
	[INSTR_CMD_CONFIG_RELOAD] = { .op = "config.reload" },
	[INSTR_CMD_SYSCTL_GET] = { .op = "sysctl.get",
				   .args = { ARG("name", SYSCTL, 1, sysctl_name) } },
	[INSTR_CMD_CNT_RESET] = { .op = "counters.reset",
				  .args = { ARG("value", VALUE, 0, value) } },
};

#undef ARG

const struct instr_cmd_rule *instr_cmd_rule(const char *op)
{
	size_t i;

	for (i = 0; op && i < ARRAY_LEN(instr_cmd_rules); i++)
		if (!strcmp(instr_cmd_rules[i].op, op))
			return &instr_cmd_rules[i];
	return NULL;
}

const char *instr_cmd_op_name(enum instr_cmd_op op)
{
	return (unsigned)op < ARRAY_LEN(instr_cmd_rules) ? instr_cmd_rules[op].op : "?";
}

/* Is the string of type t, once its length is known good? */
static int instr_arg_form_ok(enum instr_arg_type t, const char *s, size_t len)
{
	size_t i;

	switch (t) {
	case INSTR_ARG_VALUE:
		return instr_dotted(s, len, 0);
	case INSTR_ARG_SYSCTL:
		return instr_dotted(s, len, 1);
	case INSTR_ARG_PATH:
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
				return 0;
		return 1;
	case INSTR_ARG_LINE:
		for (i = 0; i < len; i++)
			if (((unsigned char)s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f)
				return 0;
		return 1;
	default:
		return 1;
	}
}

/*
 * s as a refusal may quote it: at most 48 bytes, control characters as '?'
 * (a refusal is logged and shown: it must not break a line).
 */
static const char *instr_quote(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i < 48 && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < ' ' || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Read and check one argument a (v non-NULL, not null) into c. */
static int instr_arg_read(const struct instr_arg *a, json_t *v, const char *pfx,
			  struct instr_cmd *c, char *err, size_t errlen)
{
	char *field = (char *)c + a->off;
	size_t max = instr_arg_forms[a->type].max, len;
	const char *s;
	char q[64];

	switch (a->type) {
	case INSTR_ARG_NUMBER:
		if (!json_is_number(v))
			goto err_form;
		*(double *)field = json_number_value(v);
		return 0;
	case INSTR_ARG_SAMPLES:
		if (!json_is_integer(v))
			goto err_form;
		if (json_integer_value(v) < 1 || json_integer_value(v) > INSTR_SAMPLES_MAX) {
			snprintf(err, errlen, "%s%s: %lld is out of range 1..%d", pfx, a->name,
				 (long long)json_integer_value(v), INSTR_SAMPLES_MAX);
			return -EINVAL;
		}
		*(unsigned *)field = (unsigned)json_integer_value(v);
		return 0;
	case INSTR_ARG_LINE:
		if (json_is_integer(v)) {
			snprintf(field, max + 1, "%lld", (long long)json_integer_value(v));
			return 0;
		}
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s%s: must be a string or an integer", pfx, a->name);
			return -EINVAL;
		}
		break;
	default:
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s%s: must be a string", pfx, a->name);
			return -EINVAL;
		}
		break;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (strlen(s) != len) {
		snprintf(err, errlen, "%s%s: must not contain NUL", pfx, a->name);
		return -EINVAL;
	}
	if (!len) {
		snprintf(err, errlen, "%s%s: must not be empty", pfx, a->name);
		return -EINVAL;
	}
	if (len > max) {
		snprintf(err, errlen, "%s%s: longer than %zu characters", pfx, a->name, max);
		return -EINVAL;
	}
	if (!instr_arg_form_ok(a->type, s, len))
		goto err_form;
	switch (a->type) {
	case INSTR_ARG_THR_KIND:
		if (instr_thr_kind_parse(s, (enum instr_thr_kind *)field))
			goto err_form;
		return 0;
	case INSTR_ARG_DEV_OP:
		if (instr_op_parse(s, (enum instr_op *)field))
			goto err_form;
		return 0;
	default:
		memcpy(field, s, len + 1);
		return 0;
	}

err_form:
	if (json_is_string(v))
		snprintf(err, errlen, "%s%s: '%s' %s", pfx, a->name,
			 instr_quote(json_string_value(v), q, sizeof(q)),
			 instr_arg_forms[a->type].form);
	else
		snprintf(err, errlen, "%s%s: %s", pfx, a->name, instr_arg_forms[a->type].form);
	return -EINVAL;
}

int instr_cmd_args(const struct instr_cmd_rule *r, json_t *args, const char *pfx,
		   struct instr_cmd *c, char *err, size_t errlen)
{
	const struct instr_arg *a;
	const char *key;
	json_t *v;
	int rc;

	if (args && !json_is_object(args)) {
		snprintf(err, errlen, "args: must be an object");
		return -EINVAL;
	}
	json_object_foreach(args, key, v) {
		for (a = r->args; a->name && strcmp(a->name, key); a++)
			;
		if (!a->name) {
			char q[64];
			snprintf(err, errlen, "%s%s: unknown field", pfx,
				 instr_quote(key, q, sizeof(q)));
			return -EINVAL;
		}
	}
	for (a = r->args; a->name; a++) {
		v = args ? json_object_get(args, a->name) : NULL;
		if (v && !json_is_null(v)) {
			rc = instr_arg_read(a, v, pfx, c, err, errlen);
			if (rc)
				return rc;
			continue;
		}
		if (a->required) {
			snprintf(err, errlen, "%s%s: missing", pfx, a->name);
			return -EINVAL;
		}
		/* Absent: the type's default. */
		switch (a->type) {
		case INSTR_ARG_SAMPLES:
			*(unsigned *)((char *)c + a->off) = 1;
			break;
		case INSTR_ARG_NUMBER:
			*(double *)((char *)c + a->off) = 0;
			break;
		case INSTR_ARG_THR_KIND:
			*(enum instr_thr_kind *)((char *)c + a->off) = INSTR_THR_HIGH;
			break;
		case INSTR_ARG_DEV_OP:
			*(enum instr_op *)((char *)c + a->off) = INSTR_OP_ENABLE;
			break;
		default:
			*((char *)c + a->off) = '\0';
			break;
		}
	}
	if (r->check) {
		char inner[256];
		rc = r->check(c, inner, sizeof(inner));
		if (rc) {
			snprintf(err, errlen, "%s%s", pfx, inner);
			return rc;
		}
	}
	return 0;
}

int instr_cmd_parse(json_t *j, struct instr_cmd *c, json_int_t *id, char *err, size_t errlen)
{
	static const char *const keys[] = { "id", "op", "args", NULL };
	const struct instr_cmd_rule *r;
	json_int_t n;
	const char *op;
	int rc;

	*id = -1;
	memset(c, 0, sizeof(*c));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "commands: each command must be an object");
		return -EINVAL;
	}
	rc = jsonh_get_int(j, "id", 1, 0, INT64_MAX, &n, err, errlen);
	if (rc)
		return rc;
	*id = n;
	c->id = n;
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_str(j, "op", 1, INSTR_CMD_OP_MAX, &op, err, errlen)))
		return rc;
	r = instr_cmd_rule(op);
	if (!r) {
		char q[64];
		snprintf(err, errlen, "op: '%s' is not a command this agent knows",
			 instr_quote(op, q, sizeof(q)));
		return -EINVAL;
	}
	c->op = (enum instr_cmd_op)(r - instr_cmd_rules);
	return instr_cmd_args(r, json_object_get(j, "args"), "args: ", c, err, errlen);
}

json_t *instr_cmd_to_json(const struct instr_cmd *c)
{
	const struct instr_cmd_rule *r;
	const struct instr_arg *a;
	json_t *args;

	if ((unsigned)c->op >= ARRAY_LEN(instr_cmd_rules))
		return NULL;
	r = &instr_cmd_rules[c->op];
	args = json_object();
	if (!args)
		return NULL;
	for (a = r->args; a->name; a++) {
		const char *field = (const char *)c + a->off;
		json_t *v;
		switch (a->type) {
		case INSTR_ARG_THR_KIND:
			v = json_string(instr_thr_kind_name(*(const enum instr_thr_kind *)field));
			break;
		case INSTR_ARG_DEV_OP:
			v = json_string(instr_op_name(*(const enum instr_op *)field));
			break;
		case INSTR_ARG_NUMBER:
			v = json_real(*(const double *)field);
			break;
		case INSTR_ARG_SAMPLES:
			v = json_integer(*(const unsigned *)field);
			break;
		default:
			if (!*field && !a->required)
				continue;
			v = json_string(field);
			break;
		}
		if (json_object_set_new(args, a->name, v)) {
			json_decref(args);
			return NULL;
		}
	}
	return json_pack("{s:I, s:s, s:o}", "id", c->id, "op", r->op, "args", args);
}

json_t *instr_result_ok(json_int_t id, json_t *result)
{
	return json_pack("{s:I, s:b, s:o}", "id", id, "ok", 1, "result",
			 result ? result : json_null());
}

json_t *instr_result_err(json_int_t id, const char *error)
{
	return json_pack("{s:I, s:b, s:s}", "id", id, "ok", 0, "error", error);
}
