/*
 * Request signing between a node and the host: HMAC-SHA256 keyed with the
 * node's secret over
 *     METHOD "\n" PATH "\n" TIME "\n" NONCE "\n" BODY
 * TIME is Unix seconds; NONCE is a number the node makes strictly increasing
 * (it uses the realtime clock in microseconds, bumped past the last one), so
 * the host can refuse a replay by remembering the last nonce per node.  The
 * nonce is bound to TIME (sign_nonce_check): it must be within SIGN_MAX_SKEW
 * of TIME in microseconds, so one leaked secret cannot store a nonce far in
 * the future (INT64_MAX) that would lock the node out for good.
 * The signature travels as lowercase hex in the SNOW_HDR_SIG header.
 *
 * Answers are signed too, so whoever can answer for snowd's address cannot
 * command a node: snowd puts SNOW_HDR_SIG on every answer of the node
 * channel it gives after the request authenticated, an HMAC-SHA256 keyed
 * with the same secret over
 *     "ANSWER" "\n" PATH "\n" NONCE "\n" STATUS "\n" BODY
 * where PATH and NONCE are the request's (so an answer fits one request
 * only and cannot be replayed) and STATUS is the HTTP status in decimal.
 * No request has the method "ANSWER", so a request's signature is never an
 * answer's.  The agent (lib/wire.c) takes nothing from a 2xx answer whose
 * signature is missing or wrong.
 */
#ifndef SNOW_SIGN_H
#define SNOW_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define SNOW_HDR_NODE  "X-Snow-Node"
#define SNOW_HDR_TIME  "X-Snow-Time"
#define SNOW_HDR_NONCE "X-Snow-Nonce"
#define SNOW_HDR_SIG   "X-Snow-Signature"

#define SIGN_HEX_LEN 64
#define SIGN_SECRET_HEX_LEN 64 /* secrets are 32 random bytes, hex encoded */
#define SIGN_MAX_SKEW 300      /* seconds a request time may differ from ours */

/* Compute the signature into out (65 bytes with the NUL). */
void sign_request(const char *secret, const char *method, const char *path, int64_t time,
		  uint64_t nonce, const void *body, size_t bodylen, char out[SIGN_HEX_LEN + 1]);

/*
 * Check a signature and the request time against now.
 * @ret 0 when good; -EBADMSG when the signature does not match (or is not
 * 64 hex digits); -ETIME when time is more than SIGN_MAX_SKEW from now.
 * The comparison takes the same time whatever the input.
 */
int sign_verify(const char *secret, const char *method, const char *path, int64_t time,
		uint64_t nonce, const void *body, size_t bodylen, const char *sig, int64_t now);

/* Compute an answer's signature into out (65 bytes with the NUL). */
void sign_answer(const char *secret, const char *path, uint64_t nonce, unsigned status,
		 const void *body, size_t bodylen, char out[SIGN_HEX_LEN + 1]);

/*
 * Check an answer's signature (sig may be NULL: absent).
 * @ret 0 when good; -EBADMSG when absent, not 64 hex digits or wrong.
 * The comparison takes the same time whatever the input.
 */
int sign_answer_verify(const char *secret, const char *path, uint64_t nonce, unsigned status,
		       const void *body, size_t bodylen, const char *sig);

/*
 * Check that a request's nonce belongs to its time: within SIGN_MAX_SKEW
 * seconds of time, in microseconds.  Call it after sign_verify (which binds
 * time to now) and before storing the nonce.
 * @ret 0 when it does; -ERANGE when the nonce is outside that window.
 */
int sign_nonce_check(int64_t time, uint64_t nonce);

/*
 * Fill out with a new secret: 32 bytes from getrandom(2), hex encoded.
 * @ret 0 or -errno.
 */
int sign_new_secret(char out[SIGN_SECRET_HEX_LEN + 1]);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

#endif
