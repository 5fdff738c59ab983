#include "valid.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERR(...)                                                                                   \
	do {                                                                                       \
		if (err)                                                                           \
			snprintf(err, errlen, __VA_ARGS__);                                        \
		return -EINVAL;                                                                    \
	} while (0)

int valid_name(const char *s, char *err, size_t errlen)
{
	size_t n, i;

	if (!s || !*s)
		ERR("name: must not be empty");
	n = strnlen(s, SNOW_NAME_MAX + 1);
	if (n > SNOW_NAME_MAX)
		ERR("name: longer than %d characters", SNOW_NAME_MAX);
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		ERR("name: '%.*s' must start with a lowercase letter", (int)n, s);
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			ERR("name: '%.*s' has '%c' at %zu; only a-z, 0-9 and '-' are allowed",
			    (int)n, s, isprint((unsigned char)c) ? c : '?', i);
	}
	if (s[n - 1] == '-')
		ERR("name: '%s' must not end with '-'", s);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int valid_mac(const char *s, char out[SNOW_MAC_STRLEN + 1], char *err, size_t errlen)
{
	unsigned char b[6];
	char sep;
	int i;

	if (!s || !*s)
		ERR("mac: must not be empty");
	if (strnlen(s, SNOW_MAC_STRLEN + 1) != SNOW_MAC_STRLEN)
		ERR("mac: '%.40s' is not six hex octets like 52:54:00:12:34:56", s);
	sep = s[2];
	if (sep != ':' && sep != '-')
		ERR("mac: '%s' must separate octets with ':' or '-'", s);
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != sep))
			ERR("mac: '%s' is not six hex octets like 52:54:00:12:34:56", s);
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	if (b[0] & 1)
		ERR("mac: '%s' is a multicast address", s);
	if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
		ERR("mac: '%s' is all zeros", s);
	if (out)
		snprintf(out, SNOW_MAC_STRLEN + 1, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1],
			 b[2], b[3], b[4], b[5]);
	return 0;
}

int valid_ipv4(const char *s, uint32_t *out, char *err, size_t errlen)
{
	uint32_t ip = 0;
	const char *p = s;
	int part;

	if (!s || !*s)
		ERR("ip: must not be empty");
	if (strnlen(s, 16) > 15)
		ERR("ip: '%.20s...' is too long for an IPv4 address", s);
	for (part = 0; part < 4; part++) {
		unsigned v = 0;
		int digits = 0;
		if (part > 0) {
			if (*p != '.')
				ERR("ip: '%s' is not a dotted-quad IPv4 address", s);
			p++;
		}
		while (*p >= '0' && *p <= '9') {
			if (digits > 0 && v == 0)
				ERR("ip: '%s' has a leading zero", s);
			v = v * 10 + (unsigned)(*p - '0');
			digits++;
			p++;
			if (v > 255)
				ERR("ip: '%s' has an octet above 255", s);
		}
		if (!digits)
			ERR("ip: '%s' is not a dotted-quad IPv4 address", s);
		ip = ip << 8 | v;
	}
	if (*p)
		ERR("ip: '%s' has trailing characters", s);
	if (out)
		*out = ip;
	return 0;
}

void ipv4_format(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int valid_u64(const char *s, uint64_t *out)
{
	size_t len = s ? strlen(s) : 0;

	if (!len || len > 19 || strspn(s, "0123456789") != len)
		return -EINVAL;
	*out = strtoull(s, NULL, 10);
	return 0;
}
