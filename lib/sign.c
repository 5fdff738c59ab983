#include "sign.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <nettle/hmac.h>

void hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void sign_request(const char *secret, const char *method, const char *path, int64_t time,
		  uint64_t nonce, const void *body, size_t bodylen, char out[SIGN_HEX_LEN + 1])
{
	struct hmac_sha256_ctx ctx;
	unsigned char mac[SHA256_DIGEST_SIZE];
	char head[64];
	int n;

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(method), (const uint8_t *)method);
	hmac_sha256_update(&ctx, 1, (const uint8_t *)"\n");
	hmac_sha256_update(&ctx, strlen(path), (const uint8_t *)path);
	n = snprintf(head, sizeof(head), "\n%" PRId64 "\n%" PRIu64 "\n", time, nonce);
	hmac_sha256_update(&ctx, (size_t)n, (const uint8_t *)head);
	if (bodylen)
		hmac_sha256_update(&ctx, bodylen, body);
	hmac_sha256_digest(&ctx, sizeof(mac), mac);
	hex_encode(mac, sizeof(mac), out);
}

/* sig (64 hex digits, either case) equals want?  Same time whatever the input. */
static int sign_equal(const char *sig, const char want[SIGN_HEX_LEN + 1])
{
	unsigned diff = 0;
	size_t i;

	if (!sig || strnlen(sig, SIGN_HEX_LEN + 1) != SIGN_HEX_LEN)
		return 0;
	for (i = 0; i < SIGN_HEX_LEN; i++) {
		char c = sig[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		diff |= (unsigned)(c ^ want[i]);
	}
	return !diff;
}

void sign_answer(const char *secret, const char *path, uint64_t nonce, unsigned status,
		 const void *body, size_t bodylen, char out[SIGN_HEX_LEN + 1])
{
	struct hmac_sha256_ctx ctx;
	unsigned char mac[SHA256_DIGEST_SIZE];
	char head[64];
	int n;

	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, 7, (const uint8_t *)"ANSWER\n");
	hmac_sha256_update(&ctx, strlen(path), (const uint8_t *)path);
	n = snprintf(head, sizeof(head), "\n%" PRIu64 "\n%u\n", nonce, status);
	hmac_sha256_update(&ctx, (size_t)n, (const uint8_t *)head);
	if (bodylen)
		hmac_sha256_update(&ctx, bodylen, body);
	hmac_sha256_digest(&ctx, sizeof(mac), mac);
	hex_encode(mac, sizeof(mac), out);
}

int sign_answer_verify(const char *secret, const char *path, uint64_t nonce, unsigned status,
		       const void *body, size_t bodylen, const char *sig)
{
	char want[SIGN_HEX_LEN + 1];

	sign_answer(secret, path, nonce, status, body, bodylen, want);
	return sign_equal(sig, want) ? 0 : -EBADMSG;
}

int sign_verify(const char *secret, const char *method, const char *path, int64_t time,
		uint64_t nonce, const void *body, size_t bodylen, const char *sig, int64_t now)
{
	char want[SIGN_HEX_LEN + 1];

	sign_request(secret, method, path, time, nonce, body, bodylen, want);
	if (!sign_equal(sig, want))
		return -EBADMSG;
	if (time > now + SIGN_MAX_SKEW || time < now - SIGN_MAX_SKEW)
		return -ETIME;
	return 0;
}

int sign_nonce_check(int64_t time, uint64_t nonce)
{
	const int64_t us = 1000000;
	int64_t lo, hi;

	/* Times this far out were refused by sign_verify; keep the products in range. */
	if (time < SIGN_MAX_SKEW || time > INT64_MAX / us - SIGN_MAX_SKEW - 1)
		return -ERANGE;
	lo = (time - SIGN_MAX_SKEW) * us;
	hi = (time + 1 + SIGN_MAX_SKEW) * us; /* time is whole seconds: the nonce may be later */
	if (nonce < (uint64_t)lo || nonce > (uint64_t)hi)
		return -ERANGE;
	return 0;
}

int sign_new_secret(char out[SIGN_SECRET_HEX_LEN + 1])
{
	unsigned char raw[SIGN_SECRET_HEX_LEN / 2];
	size_t got = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	hex_encode(raw, sizeof(raw), out);
	return 0;
}
