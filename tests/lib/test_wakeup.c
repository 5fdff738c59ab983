/*
 * The wake-up datagram (lib/wakeup.c): a known MAC, round trips, every
 * refusal of the parser naming its field, and what the receiver accepts:
 * MAC, another node's, time, nonce replay, the budget.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <nettle/hmac.h>

#include "wakeup.h"

static const char *secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
#define NOW 1800000000LL
#define NONCE (NOW * 1000000ULL + 5)

static void hmac_hex(const char *key, const char *msg, size_t len, char out[65])
{
	struct hmac_sha256_ctx ctx;
	unsigned char mac[32];

	hmac_sha256_set_key(&ctx, strlen(key), (const uint8_t *)key);
	hmac_sha256_update(&ctx, len, (const uint8_t *)msg);
	hmac_sha256_digest(&ctx, 32, mac);
	hex_encode(mac, 32, out);
}

/* The key and the MAC are plain HMACs of the documented strings. */
static void test_known_answer(void **state)
{
	char key[65], want_key[65], want_mac[65], msg[WAKEUP_MAX + 1], want[WAKEUP_MAX + 1], canon[200];
	int n;

	(void)state;
	hmac_hex(secret, "WAKEKEY\n\n0\n0\n", 13, want_key);
	wakeup_key(secret, key);
	assert_string_equal(key, want_key);
	n = snprintf(canon, sizeof(canon), "WAKE\nnode7\n%lld\n%llu\n", NOW, (unsigned long long)NONCE);
	hmac_hex(key, canon, (size_t)n, want_mac);
	n = wakeup_build(key, "node7", NOW, NONCE, msg);
	snprintf(want, sizeof(want), "snow-wake/1 node7 %lld %llu %s", NOW, (unsigned long long)NONCE,
		 want_mac);
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(msg, want);
	assert_int_equal(wakeup_build(key, "Bad Name", NOW, NONCE, msg), -EINVAL);
}

static void test_round_trip_and_accept(void **state)
{
	struct wakeup_guard g = { 0 };
	struct wakeup_msg m;
	char key[65], other[65], msg[WAKEUP_MAX + 2], err[128];
	int n;

	(void)state;
	wakeup_key(secret, key);
	n = wakeup_build(key, "node7", NOW, NONCE, msg);
	msg[n] = '\n'; /* a final newline is allowed */
	assert_int_equal(wakeup_parse(msg, (size_t)n + 1, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "node7");
	assert_int_equal(m.time, NOW);
	assert_true(m.nonce == NONCE);
	assert_int_equal(wakeup_accept(&g, &m, "node8", key, NOW, 1000), -ENOENT);
	wakeup_key("ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", other);
	assert_int_equal(wakeup_accept(&g, &m, "node7", other, NOW, 1000), -EBADMSG);
	assert_int_equal(wakeup_accept(&g, &m, "node7", key, NOW + WAKEUP_MAX_SKEW + 1, 1000), -ETIME);
	assert_int_equal(wakeup_accept(&g, &m, "node7", key, NOW, 1000), 0);
	/* The same again: a replay. */
	assert_int_equal(wakeup_accept(&g, &m, "node7", key, NOW, 1000), -EALREADY);
	assert_int_equal((int)g.accepted, 1);
	/* A nonce that does not belong to its time (signed, but far off). */
	n = wakeup_build(key, "node7", NOW, NONCE + 400ULL * 1000000, msg);
	assert_int_equal(wakeup_parse(msg, (size_t)n, &m, err, sizeof(err)), 0);
	assert_int_equal(wakeup_accept(&g, &m, "node7", key, NOW, 1000), -ETIME);
	/* A later one is good. */
	n = wakeup_build(key, "node7", NOW, NONCE + 1, msg);
	assert_int_equal(wakeup_parse(msg, (size_t)n, &m, err, sizeof(err)), 0);
	assert_int_equal(wakeup_accept(&g, &m, "node7", key, NOW, 1000), 0);
}

/* A flood: after WAKEUP_BURST, WAKEUP_PER_S a second are checked, the rest dropped unchecked. */
static void test_budget(void **state)
{
	struct wakeup_guard g = { 0 };
	struct wakeup_msg m;
	char key[65], msg[WAKEUP_MAX + 1], err[128];
	int i, n, ok = 0, busy = 0;

	(void)state;
	wakeup_key(secret, key);
	for (i = 0; i < WAKEUP_BURST + 10; i++) {
		n = wakeup_build(key, "node7", NOW, NONCE + (uint64_t)i, msg);
		assert_int_equal(wakeup_parse(msg, (size_t)n, &m, err, sizeof(err)), 0);
		n = wakeup_accept(&g, &m, "node7", key, NOW, 5000);
		ok += n == 0;
		busy += n == -EBUSY;
	}
	assert_int_equal(ok, WAKEUP_BURST);
	assert_int_equal(busy, 10);
	/* One second later: WAKEUP_PER_S more. */
	for (i = 0, ok = 0; i < WAKEUP_PER_S + 5; i++) {
		n = wakeup_build(key, "node7", NOW, NONCE + 1000 + (uint64_t)i, msg);
		assert_int_equal(wakeup_parse(msg, (size_t)n, &m, err, sizeof(err)), 0);
		ok += wakeup_accept(&g, &m, "node7", key, NOW, 6000) == 0;
	}
	assert_int_equal(ok, WAKEUP_PER_S);
}

static void expect_refused(const char *text, const char *field)
{
	struct wakeup_msg m;
	char err[128] = "";

	if (wakeup_parse(text, strlen(text), &m, err, sizeof(err)) != -EINVAL)
		fail_msg("accepted: '%s'", text);
	if (!strstr(err, field))
		fail_msg("'%s': error '%s' does not name %s", text, err, field);
}

static void test_parse_refusals(void **state)
{
	const char *mac = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char t[400];

	(void)state;
	expect_refused("", "bytes");
	snprintf(t, sizeof(t), "snow-wake/2 n 1 2 %s", mac);
	expect_refused(t, "magic");
	snprintf(t, sizeof(t), "snow-wake/1 N 1 2 %s", mac);
	expect_refused(t, "name");
	snprintf(t, sizeof(t), "snow-wake/1 n -1 2 %s", mac);
	expect_refused(t, "time");
	snprintf(t, sizeof(t), "snow-wake/1 n 01 2 %s", mac);
	expect_refused(t, "time");
	snprintf(t, sizeof(t), "snow-wake/1 n 1 99999999999999999999 %s", mac);
	expect_refused(t, "nonce");
	snprintf(t, sizeof(t), "snow-wake/1 n 1 2 %.63s", mac);
	expect_refused(t, "mac");
	snprintf(t, sizeof(t), "snow-wake/1 n 1 2 %.63sA", mac);
	expect_refused(t, "mac");
	snprintf(t, sizeof(t), "snow-wake/1 n  1 2 %s", mac);
	expect_refused(t, "fields");
	snprintf(t, sizeof(t), "snow-wake/1 n 1 2 %s x", mac);
	expect_refused(t, "fields");
	snprintf(t, sizeof(t), "snow-wake/1 n 1 2 %s\n\n", mac);
	expect_refused(t, "mac");
	memset(t, 'a', 250);
	t[250] = '\0';
	expect_refused(t, "bytes");
	/* A NUL inside the name. */
	{
		char z[120];
		int n = snprintf(z, sizeof(z), "snow-wake/1 a%cb 1 2 %s", '\0', mac);
		struct wakeup_msg m;
		char err[128];
		assert_int_equal(wakeup_parse(z, (size_t)n, &m, err, sizeof(err)), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_round_trip_and_accept),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_parse_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
