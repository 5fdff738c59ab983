/*
 * Fuzz target: a BMC's Redfish answers as snowd reads them (host/redfish.c).
 * The first byte picks the reader (collection, system, action info, error
 * message, X-Auth-Token header), the rest is the answer.  Checks beyond
 * crashes: every path kept passes redfish_path_ok() and fits its field; a
 * PowerState kept is one of Redfish's; allowed masks name only known reset
 * types; an error message is printable ASCII within its size; a token taken
 * is visible ASCII, fits, and is the header's value exactly; each reader
 * gives the same answer when run again.  A first byte of 0xf0 and above
 * picks the sensor and log readers (Thermal, Power, LogEntry collection,
 * ISO time): every reading kept has a valid bmc.* name, a finite value and
 * a unit that fits; no name twice; every entry has an id above 0, printable
 * text within its field, and a time that is 0 or what redfish_time() says of
 * its Created.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "redfish.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "redfish: " __VA_ARGS__);                                  \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fz_path(const char *p, size_t cap, const char *what)
{
	FZ_CHECK(strlen(p) < cap, "%s: %zu bytes in a field of %zu", what, strlen(p), cap);
	FZ_CHECK(!p[0] || redfish_path_ok(p), "%s: '%s' kept but not a path", what, p);
}

static void fz_system(const char *d, size_t n)
{
	struct redfish_system s, again;
	char err[200];
	int rc = redfish_parse_system(d, n, &s, err, sizeof(err));

	FZ_CHECK(rc == 0 || rc == -71 /* EPROTO */, "system: rc %d", rc);
	if (rc)
		return;
	FZ_CHECK(!s.power_state[0] || !strcmp(s.power_state, "On") || !strcmp(s.power_state, "Off") ||
			 !strcmp(s.power_state, "PoweringOn") || !strcmp(s.power_state, "PoweringOff") ||
			 !strcmp(s.power_state, "Paused"),
		 "system: PowerState '%s' kept", s.power_state);
	fz_path(s.reset_target, sizeof(s.reset_target), "reset target");
	fz_path(s.action_info, sizeof(s.action_info), "action info");
	FZ_CHECK(s.allowed < 1u << REDFISH_NRESET, "system: allowed mask %#x", s.allowed);
	FZ_CHECK(!redfish_parse_system(d, n, &again, err, sizeof(err)) &&
			 !memcmp(&s, &again, sizeof(s)),
		 "system: another answer the second time");
}

static void fz_token(const char *d, size_t n)
{
	char token[REDFISH_TOKEN_MAX], again[REDFISH_TOKEN_MAX];
	int rc = redfish_header_token(d, n, token, sizeof(token));
	size_t i, len;

	FZ_CHECK(rc == 0 || rc == 1 || rc == -71, "token: rc %d", rc);
	if (rc != 1)
		return;
	len = strlen(token);
	FZ_CHECK(len > 0 && len < sizeof(token), "token: length %zu", len);
	for (i = 0; i < len; i++)
		FZ_CHECK((unsigned char)token[i] > 0x20 && (unsigned char)token[i] < 0x7f,
			 "token: byte %#x at %zu", (unsigned char)token[i], i);
	FZ_CHECK(memmem(d, n, token, len), "token: not in the header line");
	FZ_CHECK(redfish_header_token(d, n, again, sizeof(again)) == 1 && !strcmp(token, again),
		 "token: another value the second time");
}

static void fz_poll(const struct bmcp_poll *p)
{
	char err[80];
	size_t i, j;

	FZ_CHECK(p->nr <= BMCP_MAX_READINGS && p->ne <= BMCP_MAX_ENTRIES, "poll: %zu readings, %zu entries",
		 p->nr, p->ne);
	for (i = 0; i < p->nr; i++) {
		const struct bmcp_reading *r = &p->r[i];
		FZ_CHECK(!instr_name_check(r->name, err, sizeof(err)) && !strncmp(r->name, "bmc.", 4),
			 "reading: name '%s'", r->name);
		FZ_CHECK(isfinite(r->v), "reading %s: value not finite", r->name);
		FZ_CHECK(strlen(r->unit) <= INSTR_UNIT_MAX, "reading %s: unit too long", r->name);
		for (j = 0; j < i; j++)
			FZ_CHECK(strcmp(r->name, p->r[j].name), "reading: '%s' twice", r->name);
	}
	for (i = 0; i < p->ne; i++) {
		const struct bmcp_entry *e = &p->e[i];
		FZ_CHECK(e->id > 0 && e->time >= 0, "entry: id %lld time %lld", (long long)e->id,
			 (long long)e->time);
		FZ_CHECK(strlen(e->text) <= BMCP_TEXT_MAX, "entry %lld: text too long", (long long)e->id);
		for (j = 0; e->text[j]; j++)
			FZ_CHECK((unsigned char)e->text[j] >= 0x20 && (unsigned char)e->text[j] < 0x7f,
				 "entry %lld: byte %#x in its text", (long long)e->id,
				 (unsigned char)e->text[j]);
		FZ_CHECK(e->time == 0 || e->time == redfish_time(e->when) || e->when[0] == '\0' ||
				 strlen(e->when) == sizeof(e->when) - 1,
			 "entry %lld: time %lld is not its Created '%s'", (long long)e->id,
			 (long long)e->time, e->when);
	}
}

static void fz_bmc(int which, const char *d, size_t n)
{
	static struct bmcp_poll p, again;
	char err[200], *s;
	int rc;

	memset(&p, 0, sizeof(p));
	switch (which) {
	case 0:
		rc = redfish_parse_thermal(d, n, &p, err, sizeof(err));
		break;
	case 1:
		rc = redfish_parse_power(d, n, &p, err, sizeof(err));
		break;
	case 2:
		rc = redfish_parse_log_entries(d, n, &p, err, sizeof(err));
		break;
	default:
		/* A time: the same from the text cut at its first NUL. */
		s = strndup(d, n);
		if (s) {
			int64_t t = redfish_time(s);
			FZ_CHECK(t >= 0 || strchr(s, '-') || strchr(s, '+'), "time '%s': %lld", s,
				 (long long)t);
			FZ_CHECK(t == redfish_time(s), "time '%s': another value the second time", s);
			free(s);
		}
		return;
	}
	FZ_CHECK(rc == 0 || rc == -71, "bmc reader %d: rc %d", which, rc);
	fz_poll(&p);
	memset(&again, 0, sizeof(again));
	if (which == 0)
		redfish_parse_thermal(d, n, &again, err, sizeof(err));
	else if (which == 1)
		redfish_parse_power(d, n, &again, err, sizeof(err));
	else
		redfish_parse_log_entries(d, n, &again, err, sizeof(err));
	FZ_CHECK(p.nr == again.nr && p.ne == again.ne &&
			 !memcmp(p.r, again.r, p.nr * sizeof(p.r[0])) &&
			 !memcmp(p.e, again.e, p.ne * sizeof(p.e[0])),
		 "bmc reader %d: another answer the second time", which);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data + 1;
	char out[REDFISH_PATH_MAX], err[200];
	unsigned allowed;
	size_t n, i;

	if (!size)
		return 0;
	n = size - 1;
	if (data[0] >= 0xf0) {
		fz_bmc(data[0] & 3, d, n);
		return 0;
	}
	switch (data[0] % 5) {
	case 0:
		if (!redfish_parse_first_member(d, n, out, sizeof(out), err, sizeof(err)))
			fz_path(out, sizeof(out), "first member");
		else
			FZ_CHECK(!out[0], "first member: '%s' left after a failure", out);
		break;
	case 1:
		fz_system(d, n);
		break;
	case 2:
		if (!redfish_parse_action_info(d, n, &allowed, err, sizeof(err)))
			FZ_CHECK(allowed < 1u << REDFISH_NRESET, "action info: mask %#x", allowed);
		break;
	case 3: {
		size_t cap = data[0] / 5 % 64 + 1;
		char msg[64];
		redfish_error_message(d, n, msg, cap);
		FZ_CHECK(strlen(msg) < cap, "error message: %zu bytes, cap %zu", strlen(msg), cap);
		for (i = 0; msg[i]; i++)
			FZ_CHECK((unsigned char)msg[i] >= 0x20 && (unsigned char)msg[i] < 0x7f,
				 "error message: byte %#x", (unsigned char)msg[i]);
		break;
	}
	case 4:
		fz_token(d, n);
		break;
	}
	return 0;
}
