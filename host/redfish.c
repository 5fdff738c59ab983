/* Reading a Redfish service's answers (redfish.h). */
#include "redfish.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Each member of arr (an array or absent) with a number at key: a reading of family f. */
static int redfish_readings(json_t *v, const char *arrname, const char *key, enum bmcp_family f,
			    const char *unit, struct bmcp_poll *p, char *err, size_t errlen)
{
	json_t *arr = json_object_get(v, arrname), *m, *x;
	const char *name, *u;
	size_t i;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: not an array", arrname);
		return -EPROTO;
	}
	json_array_foreach(arr, i, m) {
		char id[24];
		x = json_object_get(m, key);
		if (!json_is_number(x))
			continue; /* absent, null (no reading now) */
		name = json_string_value(json_object_get(m, "Name"));
		if (!name)
			name = json_string_value(json_object_get(m, "MemberId"));
		if (!name) {
			snprintf(id, sizeof(id), "%s%zu", arrname, i);
			name = id;
		}
		u = unit;
		if (f == BMCP_FAN) {
			const char *ru = json_string_value(json_object_get(m, "ReadingUnits"));
			u = ru && !strcmp(ru, "Percent") ? "%" : "RPM";
		}
		bmcp_add_reading(p, f, name, strlen(name), u, json_number_value(x));
	}
	return 0;
}

int redfish_parse_thermal(const char *body, size_t len, struct bmcp_poll *p, char *err,
			  size_t errlen)
{
	json_t *v = redfish_load(body, len, err, errlen);
	int rc;

	if (!v)
		return -EPROTO;
	rc = redfish_readings(v, "Temperatures", "ReadingCelsius", BMCP_TEMP, "C", p, err, errlen);
	if (!rc)
		rc = redfish_readings(v, "Fans", "Reading", BMCP_FAN, "RPM", p, err, errlen);
	json_decref(v);
	return rc;
}

int redfish_parse_power(const char *body, size_t len, struct bmcp_poll *p, char *err,
			size_t errlen)
{
	json_t *v = redfish_load(body, len, err, errlen);
	int rc;

	if (!v)
		return -EPROTO;
	rc = redfish_readings(v, "PowerControl", "PowerConsumedWatts", BMCP_POWER, "W", p, err,
			      errlen);
	if (!rc)
		rc = redfish_readings(v, "Voltages", "ReadingVolts", BMCP_VOLT, "V", p, err, errlen);
	if (!rc)
		rc = redfish_readings(v, "PowerSupplies", "PowerInputWatts", BMCP_POWER, "W", p, err,
				      errlen);
	json_decref(v);
	return rc;
}

/* Two to four decimal digits at s.  @ret the number or -1. */
static int redfish_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int64_t redfish_time(const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t days;
	size_t i = 19;

	if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	y = redfish_digits(s, 4);
	mo = redfish_digits(s + 5, 2);
	d = redfish_digits(s + 8, 2);
	h = redfish_digits(s + 11, 2);
	mi = redfish_digits(s + 14, 2);
	sec = redfish_digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || sec < 0 || sec > 60)
		return 0;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			;
	if (s[i] == 'Z' && !s[i + 1]) {
		sign = 0;
	} else if ((s[i] == '+' || s[i] == '-') && strlen(s + i) == 6 && s[i + 3] == ':') {
		sign = s[i] == '+' ? 1 : -1;
		oh = redfish_digits(s + i + 1, 2);
		om = redfish_digits(s + i + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return 0;
	} else {
		return 0;
	}
	/* Days since 1970-01-01 (civil calendar, Howard Hinnant's way of counting). */
	{
		int yy = y - (mo <= 2), era = yy / 400, yoe = yy - era * 400;
		int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
		days = (int64_t)era * 146097 + doe - 719468;
	}
	return days * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
}

int redfish_parse_log_entries(const char *body, size_t len, struct bmcp_poll *p, char *err,
			      size_t errlen)
{
	json_t *v = redfish_load(body, len, err, errlen), *m, *e;
	size_t i;

	if (!v)
		return -EPROTO;
	m = json_object_get(v, "Members");
	if (!json_is_array(m)) {
		json_decref(v);
		snprintf(err, errlen, "Members: not an array");
		return -EPROTO;
	}
	p->has_log = 1;
	json_array_foreach(m, i, e) {
		const char *id = json_string_value(json_object_get(e, "Id"));
		const char *created = json_string_value(json_object_get(e, "Created"));
		const char *sev = json_string_value(json_object_get(e, "Severity"));
		const char *msg = json_string_value(json_object_get(e, "Message"));
		char *end;
		long long n;

		if (!id || !*id || strlen(id) > 15 || *id < '0' || *id > '9')
			continue;
		n = strtoll(id, &end, 10);
		if (*end || n <= 0)
			continue;
		bmcp_add_entry(p, n, redfish_time(created), created ? created : "", sev ? sev : "",
			       msg ? msg : "");
	}
	json_decref(v);
	return 0;
}
