#include "wakeup.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void wakeup_key(const char *secret, char out[SIGN_HEX_LEN + 1])
{
	sign_request(secret, "WAKEKEY", "", 0, 0, NULL, 0, out);
}

int wakeup_build(const char *key, const char *name, int64_t time, uint64_t nonce,
		 char out[WAKEUP_MAX + 1])
{
	char mac[SIGN_HEX_LEN + 1];
	int n;

	if (valid_name(name, NULL, 0))
		return -EINVAL;
	sign_request(key, "WAKE", name, time, nonce, NULL, 0, mac);
	n = snprintf(out, WAKEUP_MAX + 1, WAKEUP_MAGIC " %s %" PRId64 " %" PRIu64 " %s", name,
		     time, nonce, mac);
	return n > 0 && n <= WAKEUP_MAX ? n : -EINVAL;
}

/* A decimal number of 1..19 digits, no sign, no leading zero but "0". */
static int wakeup_num(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 19 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int wakeup_parse(const void *data, size_t len, struct wakeup_msg *m, char *err, size_t errlen)
{
	static const char *const what[] = { "magic", "name", "time", "nonce", "mac" };
	const char *p = data, *f[5];
	size_t flen[5], i, k = 0, start = 0;
	char name_err[128];
	uint64_t t;

	memset(m, 0, sizeof(*m));
	if (len && p[len - 1] == '\n')
		len--;
	if (!len || len > WAKEUP_MAX) {
		snprintf(err, errlen, "wake-up: %zu bytes (1..%d)", len, WAKEUP_MAX);
		return -EINVAL;
	}
	/* Five fields, one space between each. */
	for (i = 0; i <= len; i++) {
		if (i < len && p[i] != ' ')
			continue;
		if (k == 5) {
			snprintf(err, errlen, "wake-up: more than 5 fields");
			return -EINVAL;
		}
		f[k] = p + start;
		flen[k++] = i - start;
		start = i + 1;
	}
	if (k != 5) {
		snprintf(err, errlen, "wake-up: %zu fields, not 5", k);
		return -EINVAL;
	}
	for (i = 0; i < 5; i++)
		if (!flen[i]) {
			snprintf(err, errlen, "wake-up: %s: empty", what[i]);
			return -EINVAL;
		}
	if (flen[0] != strlen(WAKEUP_MAGIC) || memcmp(f[0], WAKEUP_MAGIC, flen[0])) {
		snprintf(err, errlen, "wake-up: magic: not %s", WAKEUP_MAGIC);
		return -EINVAL;
	}
	if (flen[1] > SNOW_NAME_MAX) {
		snprintf(err, errlen, "wake-up: name: longer than %d", SNOW_NAME_MAX);
		return -EINVAL;
	}
	memcpy(m->name, f[1], flen[1]);
	m->name[flen[1]] = '\0';
	if (strlen(m->name) != flen[1] || valid_name(m->name, name_err, sizeof(name_err))) {
		snprintf(err, errlen, "wake-up: name: not a node name");
		return -EINVAL;
	}
	if (wakeup_num(f[2], flen[2], &t) || t > INT64_MAX / 2) {
		snprintf(err, errlen, "wake-up: time: not a number of seconds");
		return -EINVAL;
	}
	m->time = (int64_t)t;
	if (wakeup_num(f[3], flen[3], &m->nonce)) {
		snprintf(err, errlen, "wake-up: nonce: not a number");
		return -EINVAL;
	}
	if (flen[4] != SIGN_HEX_LEN) {
		snprintf(err, errlen, "wake-up: mac: not %d hex digits", SIGN_HEX_LEN);
		return -EINVAL;
	}
	for (i = 0; i < SIGN_HEX_LEN; i++) {
		char c = f[4][i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			snprintf(err, errlen, "wake-up: mac: not lowercase hex");
			return -EINVAL;
		}
	}
	memcpy(m->mac, f[4], SIGN_HEX_LEN);
	m->mac[SIGN_HEX_LEN] = '\0';
	return 0;
}

int wakeup_accept(struct wakeup_guard *g, const struct wakeup_msg *m, const char *name,
		  const char *key, int64_t now_s, int64_t now_ms)
{
	const int64_t full = (int64_t)WAKEUP_BURST * 1000;
	int rc;

	if (strcmp(m->name, name)) {
		g->refused++;
		return -ENOENT;
	}
	/*
	 * The budget goes first, before the MAC is computed: a flood costs the
	 * receiver a recv and a compare each, no more.  WAKEUP_PER_S datagrams
	 * a second up to WAKEUP_BURST; a fresh guard is full.
	 */
	if (!g->last_ms) {
		g->tokens_ms = full;
	} else if (now_ms > g->last_ms) {
		g->tokens_ms += (now_ms - g->last_ms) * WAKEUP_PER_S;
		if (g->tokens_ms > full)
			g->tokens_ms = full;
	}
	g->last_ms = now_ms ? now_ms : 1;
	if (g->tokens_ms < 1000) {
		g->limited++;
		return -EBUSY;
	}
	g->tokens_ms -= 1000;
	rc = sign_verify(key, "WAKE", m->name, m->time, m->nonce, NULL, 0, m->mac, now_s);
	if (!rc && (m->time > now_s + WAKEUP_MAX_SKEW || m->time < now_s - WAKEUP_MAX_SKEW))
		rc = -ETIME;
	if (!rc && sign_nonce_check(m->time, m->nonce))
		rc = -ETIME;
	if (!rc && m->nonce <= g->last_nonce)
		rc = -EALREADY;
	if (rc) {
		g->refused++;
		return rc;
	}
	g->last_nonce = m->nonce;
	g->accepted++;
	return 0;
}
