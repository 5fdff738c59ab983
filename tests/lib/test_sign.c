/* HMAC-SHA256 request signing: known answer, tamper detection, clock skew. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include <nettle/hmac.h>

#include "sign.h"

static const char *secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/* The signature must equal a plain HMAC of the documented canonical string. */
static void test_known_answer(void **state)
{
	const char *canon = "POST\n/api/v1/node/report\n1700000000\n42\n{\"a\":1}";
	struct hmac_sha256_ctx ctx;
	unsigned char mac[32];
	char want[65], got[65];

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(canon), (const uint8_t *)canon);
	hmac_sha256_digest(&ctx, 32, mac);
	hex_encode(mac, 32, want);
	sign_request(secret, "POST", "/api/v1/node/report", 1700000000, 42, "{\"a\":1}", 7, got);
	assert_string_equal(got, want);
}

/* RFC 4231 test case 2, to pin nettle's HMAC to the standard. */
static void test_rfc4231(void **state)
{
	struct hmac_sha256_ctx ctx;
	unsigned char mac[32];
	char hex[65];

	hmac_sha256_set_key(&ctx, 4, (const uint8_t *)"Jefe");
	hmac_sha256_update(&ctx, 28, (const uint8_t *)"what do ya want for nothing?");
	hmac_sha256_digest(&ctx, 32, mac);
	hex_encode(mac, 32, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_verify(void **state)
{
	char sig[65];
	const char *body = "{\"x\":2}";

	sign_request(secret, "POST", "/p", 1000, 7, body, strlen(body), sig);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), sig, 1000), 0);
	/* Uppercase hex is the same signature. */
	char up[65];
	for (int i = 0; i < 65; i++)
		up[i] = (sig[i] >= 'a' && sig[i] <= 'f') ? (char)(sig[i] - 32) : sig[i];
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), up, 1000), 0);
	/* Any change of method, path, time, nonce or body breaks it. */
	assert_int_equal(sign_verify(secret, "GET", "/p", 1000, 7, body, strlen(body), sig, 1000), -EBADMSG);
	assert_int_equal(sign_verify(secret, "POST", "/q", 1000, 7, body, strlen(body), sig, 1000), -EBADMSG);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1001, 7, body, strlen(body), sig, 1000), -EBADMSG);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 8, body, strlen(body), sig, 1000), -EBADMSG);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, "{\"x\":3}", 7, sig, 1000), -EBADMSG);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), "abc", 1000), -EBADMSG);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), NULL, 1000), -EBADMSG);
	/* A different key does not verify. */
	char other[65];
	assert_int_equal(sign_new_secret(other), 0);
	assert_int_equal(sign_verify(other, "POST", "/p", 1000, 7, body, strlen(body), sig, 1000), -EBADMSG);
	/* Skew: at the edge accepted, one second past it refused. */
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), sig, 1000 + SIGN_MAX_SKEW), 0);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), sig, 1000 + SIGN_MAX_SKEW + 1), -ETIME);
	assert_int_equal(sign_verify(secret, "POST", "/p", 1000, 7, body, strlen(body), sig, 1000 - SIGN_MAX_SKEW - 1), -ETIME);
}

/* An answer's signature: the documented canonical string, bound to path, nonce, status, body. */
static void test_answer(void **state)
{
	const char *canon = "ANSWER\n/api/v1/node/report\n42\n200\n{\"ack_events\":3}\n";
	const char *body = "{\"ack_events\":3}\n", *p = "/api/v1/node/report";
	size_t len = strlen(body);
	struct hmac_sha256_ctx ctx;
	unsigned char mac[32];
	char want[65], got[65], other[65], req[65];

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(canon), (const uint8_t *)canon);
	hmac_sha256_digest(&ctx, 32, mac);
	hex_encode(mac, 32, want);
	sign_answer(secret, p, 42, 200, body, len, got);
	assert_string_equal(got, want);
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, body, len, got), 0);
	/* Another request's answer (path, nonce), another status, another body: refused. */
	assert_int_equal(sign_answer_verify(secret, "/api/v1/node/register", 42, 200, body, len, got),
			 -EBADMSG);
	assert_int_equal(sign_answer_verify(secret, p, 43, 200, body, len, got), -EBADMSG);
	assert_int_equal(sign_answer_verify(secret, p, 42, 201, body, len, got), -EBADMSG);
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, "{\"ack_events\":9}\n", len, got),
			 -EBADMSG);
	/* Unsigned, short, or by another key: refused. */
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, body, len, NULL), -EBADMSG);
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, body, len, ""), -EBADMSG);
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, body, len, "abc"), -EBADMSG);
	assert_int_equal(sign_new_secret(other), 0);
	sign_answer(other, p, 42, 200, body, len, got);
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, body, len, got), -EBADMSG);
	/* The request's own signature (nodes sign POSTs) is not its answer's. */
	sign_request(secret, "POST", p, 42, 200, body, len, req);
	assert_int_equal(sign_answer_verify(secret, p, 42, 200, body, len, req), -EBADMSG);
}

/* A nonce belongs to its request time: microseconds within SIGN_MAX_SKEW. */
static void test_nonce_window(void **state)
{
	const int64_t t = 1700000000, us = 1000000;

	assert_int_equal(sign_nonce_check(t, (uint64_t)(t * us)), 0);
	assert_int_equal(sign_nonce_check(t, (uint64_t)(t * us + 999999)), 0);
	assert_int_equal(sign_nonce_check(t, (uint64_t)((t - SIGN_MAX_SKEW) * us)), 0);
	assert_int_equal(sign_nonce_check(t, (uint64_t)((t - SIGN_MAX_SKEW) * us - 1)), -ERANGE);
	assert_int_equal(sign_nonce_check(t, (uint64_t)((t + 1 + SIGN_MAX_SKEW) * us)), 0);
	assert_int_equal(sign_nonce_check(t, (uint64_t)((t + 1 + SIGN_MAX_SKEW) * us + 1)), -ERANGE);
	assert_int_equal(sign_nonce_check(t, INT64_MAX), -ERANGE);
	assert_int_equal(sign_nonce_check(t, UINT64_MAX), -ERANGE);
	assert_int_equal(sign_nonce_check(t, 1), -ERANGE);
	assert_int_equal(sign_nonce_check(INT64_MAX, INT64_MAX), -ERANGE);
	assert_int_equal(sign_nonce_check(0, 0), -ERANGE);
}

static void test_new_secret(void **state)
{
	char a[65], b[65];

	assert_int_equal(sign_new_secret(a), 0);
	assert_int_equal(sign_new_secret(b), 0);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_nonce_window),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_new_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
