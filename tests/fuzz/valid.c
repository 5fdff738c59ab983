/*
 * Fuzz target: names, MACs and IPv4 addresses (lib/valid.c), as round trips.
 * The input, as a C string, goes to each parser: a name accepted has the
 * form it promises; a MAC accepted re-formats to a canonical text that is
 * accepted again unchanged and equals the input but for case and separator;
 * an IPv4 address accepted formats back to exactly the input (there is one
 * way to write each).  The first bytes, as numbers, go the other way:
 * formatted, then parsed back to the same.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valid.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "valid: " __VA_ARGS__);                                    \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fz_name(const char *s)
{
	char err[200];
	size_t n, i;

	if (valid_name(s, err, sizeof(err)))
		return;
	n = strlen(s);
	FZ_CHECK(n >= 1 && n <= SNOW_NAME_MAX, "name '%s' accepted with length %zu", s, n);
	FZ_CHECK(s[0] >= 'a' && s[0] <= 'z' && s[n - 1] != '-', "name '%s' accepted", s);
	for (i = 0; i < n; i++)
		FZ_CHECK(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-',
			 "name '%s' accepted with '%c'", s, s[i]);
}

static void fz_mac(const char *s)
{
	char out[SNOW_MAC_STRLEN + 1], again[SNOW_MAC_STRLEN + 1], err[200];
	size_t i;

	if (valid_mac(s, out, err, sizeof(err)))
		return;
	FZ_CHECK(!valid_mac(out, again, err, sizeof(err)), "mac '%s' -> '%s' refused: %s", s, out, err);
	FZ_CHECK(!strcmp(out, again), "mac '%s' -> '%s' -> '%s'", s, out, again);
	FZ_CHECK(strlen(s) == SNOW_MAC_STRLEN, "mac '%s' accepted", s);
	for (i = 0; i < SNOW_MAC_STRLEN; i++)
		FZ_CHECK(i % 3 == 2 ? out[i] == ':' && (s[i] == ':' || s[i] == '-') :
				      out[i] == tolower((unsigned char)s[i]),
			 "mac '%s' -> '%s'", s, out);
	FZ_CHECK(!(strtoul(out, NULL, 16) & 1), "mac '%s' is multicast", s);
}

static void fz_ipv4(const char *s)
{
	char text[16], err[200];
	uint32_t ip, again;

	if (valid_ipv4(s, &ip, err, sizeof(err)))
		return;
	ipv4_format(ip, text);
	FZ_CHECK(!strcmp(text, s), "ip '%s' read as %s", s, text);
	FZ_CHECK(!valid_ipv4(text, &again, err, sizeof(err)) && again == ip, "ip %s: %s", text, err);
}

/* The other way: numbers formatted, then parsed. */
static void fz_from_bytes(const uint8_t *d, size_t size)
{
	char text[40], out[SNOW_MAC_STRLEN + 1], err[200];
	uint32_t ip, again;
	int rc;

	if (size < 6)
		return;
	ip = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
	ipv4_format(ip, text);
	FZ_CHECK(!valid_ipv4(text, &again, err, sizeof(err)) && again == ip, "ip %s: %s", text, err);
	snprintf(text, sizeof(text), "%02X-%02x-%02X-%02x-%02X-%02x", d[0], d[1], d[2], d[3], d[4],
		 d[5]);
	rc = valid_mac(text, out, err, sizeof(err));
	FZ_CHECK(!rc == (!(d[0] & 1) && (d[0] | d[1] | d[2] | d[3] | d[4] | d[5])),
		 "mac %s: rc %d (%s)", text, rc, rc ? err : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fz_name(s);
	fz_mac(s);
	fz_ipv4(s);
	fz_from_bytes(data, size);
	free(s);
	return 0;
}
