/*
 * Fuzz target: a BMC's Redfish answers as snowd reads them (host/redfish.c).
 * The first byte picks the reader (collection, system, action info, error
 * message, X-Auth-Token header), the rest is the answer.  Checks beyond
 * crashes: every path kept passes redfish_path_ok() and fits its field; a
 * PowerState kept is one of Redfish's; allowed masks name only known reset
 * types; an error message is printable ASCII within its size; a token taken
 * is visible ASCII, fits, and is the header's value exactly; each reader
 * gives the same answer when run again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data + 1;
	char out[REDFISH_PATH_MAX], err[200];
	unsigned allowed;
	size_t n, i;

	if (!size)
		return 0;
	n = size - 1;
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
