/* Reading a Redfish service's answers (redfish.h). */
#include "redfish.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const redfish_resets[REDFISH_NRESET] = {
	[REDFISH_ON] = "On",
	[REDFISH_FORCE_OFF] = "ForceOff",
	[REDFISH_GRACEFUL_SHUTDOWN] = "GracefulShutdown",
	[REDFISH_FORCE_RESTART] = "ForceRestart",
	[REDFISH_POWER_CYCLE] = "PowerCycle",
};

/* The states a ComputerSystem's PowerState may take (Resource.PowerState). */
static const char *const redfish_states[] = { "On", "Off", "PoweringOn", "PoweringOff", "Paused",
					      NULL };

const char *redfish_reset_name(enum redfish_reset r)
{
	return (unsigned)r < REDFISH_NRESET ? redfish_resets[r] : "?";
}

int redfish_reset_parse(const char *s)
{
	int i;

	for (i = 0; s && i < REDFISH_NRESET; i++)
		if (!strcmp(s, redfish_resets[i]))
			return i;
	return -1;
}

int redfish_path_ok(const char *p)
{
	size_t i, n;

	if (!p || strncmp(p, "/redfish/v1", 11) || (p[11] && p[11] != '/'))
		return 0;
	n = strlen(p);
	if (n >= REDFISH_PATH_MAX || strstr(p, ".."))
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f || p[i] == '"' ||
		    p[i] == '\\' || p[i] == '?' || p[i] == '#')
			return 0;
	return 1;
}

/* @ret the body as a JSON object (a new reference), or NULL with err. */
static json_t *redfish_load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (!v) {
		snprintf(err, errlen, "not JSON (%.80s at byte %d)", je.text, je.position);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
	return v;
}

int redfish_parse_first_member(const char *body, size_t len, char *first, size_t cap, char *err,
			       size_t errlen)
{
	json_t *v = redfish_load(body, len, err, errlen), *m;
	const char *id;
	int rc = -EPROTO;

	first[0] = '\0';
	if (!v)
		return -EPROTO;
	m = json_object_get(v, "Members");
	if (!json_is_array(m) || !json_array_size(m)) {
		snprintf(err, errlen, "Members: %s", json_is_array(m) ? "empty" : "not an array");
		goto out;
	}
	id = json_string_value(json_object_get(json_array_get(m, 0), "@odata.id"));
	if (!redfish_path_ok(id) || strlen(id) >= cap) {
		snprintf(err, errlen, "Members[0].@odata.id: %s", id ? "not a /redfish/v1 path" : "missing");
		goto out;
	}
	strcpy(first, id);
	rc = 0;
out:
	json_decref(v);
	return rc;
}

/* The reset types named in arr (a JSON array) as a mask; unknown ones are left out. */
static unsigned redfish_allowed(json_t *arr)
{
	unsigned mask = 0;
	json_t *x;
	size_t i;

	json_array_foreach(arr, i, x) {
		int r = redfish_reset_parse(json_string_value(x));
		if (r >= 0)
			mask |= 1u << r;
	}
	return mask;
}

int redfish_parse_system(const char *body, size_t len, struct redfish_system *s, char *err,
			 size_t errlen)
{
	json_t *v = redfish_load(body, len, err, errlen), *reset, *ps;
	const char *t;
	int rc = -EPROTO, i;

	memset(s, 0, sizeof(*s));
	if (!v)
		return -EPROTO;
	ps = json_object_get(v, "PowerState");
	if (ps && !json_is_null(ps)) {
		t = json_string_value(ps);
		for (i = 0; t && redfish_states[i] && strcmp(t, redfish_states[i]); i++)
			;
		if (!t || !redfish_states[i]) {
			snprintf(err, errlen, "PowerState: not On, Off, PoweringOn, PoweringOff or Paused");
			goto out;
		}
		snprintf(s->power_state, sizeof(s->power_state), "%s", t);
	}
	reset = json_object_get(json_object_get(v, "Actions"), "#ComputerSystem.Reset");
	if (reset) {
		if (!json_is_object(reset)) {
			snprintf(err, errlen, "Actions.#ComputerSystem.Reset: not an object");
			goto out;
		}
		t = json_string_value(json_object_get(reset, "target"));
		if (t && !redfish_path_ok(t)) {
			snprintf(err, errlen, "Actions.#ComputerSystem.Reset.target: not a /redfish/v1 path");
			goto out;
		}
		if (t)
			strcpy(s->reset_target, t);
		t = json_string_value(json_object_get(reset, "@Redfish.ActionInfo"));
		if (t && redfish_path_ok(t))
			strcpy(s->action_info, t);
		s->allowed = redfish_allowed(json_object_get(reset, "ResetType@Redfish.AllowableValues"));
	}
	rc = 0;
out:
	json_decref(v);
	return rc;
}

int redfish_parse_action_info(const char *body, size_t len, unsigned *allowed, char *err,
			      size_t errlen)
{
	json_t *v = redfish_load(body, len, err, errlen), *params, *x;
	size_t i;

	*allowed = 0;
	if (!v)
		return -EPROTO;
	params = json_object_get(v, "Parameters");
	if (!json_is_array(params)) {
		json_decref(v);
		snprintf(err, errlen, "Parameters: not an array");
		return -EPROTO;
	}
	json_array_foreach(params, i, x) {
		const char *name = json_string_value(json_object_get(x, "Name"));
		if (name && !strcmp(name, "ResetType"))
			*allowed |= redfish_allowed(json_object_get(x, "AllowableValues"));
	}
	json_decref(v);
	return 0;
}

void redfish_error_message(const char *body, size_t len, char *msg, size_t cap)
{
	json_t *v, *e;
	const char *m;
	size_t i;

	if (!cap)
		return;
	msg[0] = '\0';
	v = json_loadb(body, len, 0, NULL);
	e = json_object_get(v, "error");
	m = json_string_value(json_object_get(
		json_array_get(json_object_get(e, "@Message.ExtendedInfo"), 0), "Message"));
	if (!m)
		m = json_string_value(json_object_get(e, "message"));
	/* ASCII only: a cut can never split a character of the command's error text. */
	for (i = 0; m && m[i] && i + 1 < cap; i++)
		msg[i] = (unsigned char)m[i] < 0x20 || (unsigned char)m[i] >= 0x7f ? '?' : m[i];
	msg[i] = '\0';
	json_decref(v);
}

int redfish_header_token(const char *line, size_t len, char *token, size_t cap)
{
	static const char name[] = "x-auth-token:";
	size_t i, j;

	if (len < sizeof(name) - 1 || strncasecmp(line, name, sizeof(name) - 1))
		return 0;
	i = sizeof(name) - 1;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	while (len > i && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' ' ||
			   line[len - 1] == '\t'))
		len--;
	if (len == i || len - i >= cap || len - i >= REDFISH_TOKEN_MAX)
		return -EPROTO;
	for (j = i; j < len; j++)
		if ((unsigned char)line[j] <= 0x20 || (unsigned char)line[j] >= 0x7f)
			return -EPROTO;
	memcpy(token, line + i, len - i);
	token[len - i] = '\0';
	return 1;
}
