/*
 * snowd's HTTP glue on libmicrohttpd, driven from snowd's poll loop
 * (MHD_USE_EPOLL without an internal thread).  It knows listeners, request
 * bodies and how to answer; it knows no route.  A router (route.h) is handed
 * in at start and asked twice per request:
 *   begin   when the headers are in: match the route, check who may call it,
 *           and say how large a body the route takes (nothing is buffered
 *           before that, so an unauthenticated flood costs no memory);
 *   handle  when the whole body is in: answer.
 */
#ifndef SNOW_HTTP_H
#define SNOW_HTTP_H

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sign.h"
#include "valid.h"

struct inv_node;
struct snowd;

#define HTTP_MAX_PARAMS 3
#define HTTP_PARAM_MAX 255 /* longest path segment a pattern's {x} takes */

/* Who is asking, as the router found out (role 0: nobody). */
struct http_who {
	int role;                /* enum inv_role, 0 when anonymous */
	int via_session;         /* a console session (cookie) rather than a bearer token */
	char user[SNOW_NAME_MAX + 1];
	char csrf[SIGN_SECRET_HEX_LEN + 1];
	const char *cookie;      /* borrowed from the connection: the session cookie */
};

/* One request, from its headers to its answer. */
struct http_ctx {
	struct snowd *sd;
	struct MHD_Connection *conn;
	const char *url;         /* borrowed from MHD, valid for the request */
	const char *method;      /* "HEAD" is passed on as "GET" */
	char client_ip[INET6_ADDRSTRLEN];
	int tls;                 /* came in on the HTTPS listener */
	struct buf body;         /* the request body, up to max_body */
	size_t max_body;         /* what the router allowed at begin */
	int too_big;
	int busy;                /* the body budget was spent: 503 */
	const void *route;       /* the router's: which route matched */
	const char *param[HTTP_MAX_PARAMS]; /* the pattern's {x} segments, in order */
	char param_buf[HTTP_MAX_PARAMS][HTTP_PARAM_MAX + 1];
	struct http_who who;
	void *pending;           /* a handler's work under way while the connection is suspended */
	void (*pending_free)(void *pending); /* frees it if the request ends first */
	/*
	 * Set by the node channel (http_sign_answers) once a request has
	 * authenticated: every answer to it then carries SNOW_HDR_SIG (sign.h).
	 * Wiped when the request ends.
	 */
	struct {
		int on;
		uint64_t nonce;
		char secret[SIGN_SECRET_HEX_LEN + 1];
	} answer_key;
};

struct http_router {
	/*
	 * The headers are in.  @ret >= 0: the largest body (bytes) the request
	 * may carry, the request goes on; < 0: an answer was queued (it is the
	 * MHD result negated minus one: use HTTP_BEGIN_ANSWERED(ret)).
	 */
	long (*begin)(struct http_ctx *h);
	/* The whole body is in h->body: answer it.  @ret MHD's result. */
	enum MHD_Result (*handle)(struct http_ctx *h);
};

/* What a router's begin returns after it answered (with http_error & co). */
#define HTTP_BEGIN_ANSWERED(mhd_result) (-1 - (long)(mhd_result))

/*
 * Listen on cfg.listen (and cfg.tls_listen with TLS when a certificate is
 * configured); requests go to r (borrowed, kept for snowd's life).
 * @ret 0, or -errno with err saying which option is wrong.
 */
int http_start(struct snowd *sd, const struct http_router *r, char *err, size_t errlen);
void http_stop(struct snowd *sd);
/*
 * Close connections that missed a deadline: whole headers within 10 s of
 * connecting (or of their last answer), a whole body within 60 s of its
 * headers, however slowly they trickle.  Called from snowd's timer.
 */
void http_tick(struct snowd *sd);

/* --- answers: each queues one response and returns MHD's result ---------- */

/* v (a reference this call takes over) as JSON, one line. */
enum MHD_Result http_json(struct http_ctx *h, unsigned status, json_t *v);
/* {"error": MSG}; 5xx are logged as warnings, the rest at debug level. */
enum MHD_Result http_error(struct http_ctx *h, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The inventory's node called name (a route's {node}) into n, its secrets
 * wiped, for a handler to answer about.  @ret 0, or -1 after answering 404
 * (no such node) or 500 (the inventory failed) into *ret.
 */
int http_node(struct http_ctx *h, const char *name, struct inv_node *n, enum MHD_Result *ret);
/* 200 with b's bytes (taken: b is left empty). */
enum MHD_Result http_text(struct http_ctx *h, const char *ctype, struct buf *b);
/* 200 with v as JSON and a Set-Cookie header (v taken). */
enum MHD_Result http_json_cookie(struct http_ctx *h, unsigned status, json_t *v, const char *cookie);
/*
 * 200 with a regular file, sent by sendfile().  web adds the console's
 * security headers (CSP, nosniff, no framing).  404 when path is not a
 * regular file.
 */
enum MHD_Result http_file(struct http_ctx *h, const char *path, const char *ctype, int web);

/*
 * Sign every answer to this request from now on with secret (copied) over
 * the request's path and nonce (sign.h's sign_answer): the node channel
 * calls it once the request has authenticated.
 */
void http_sign_answers(struct http_ctx *h, const char *secret, uint64_t nonce);

/* --- the request ------------------------------------------------------------ */

/* A query argument, a header or a cookie: borrowed, or NULL when absent. */
const char *http_query(struct http_ctx *h, const char *key);
const char *http_header(struct http_ctx *h, const char *key);
const char *http_cookie(struct http_ctx *h, const char *key);
/* The IPv4 address the request came in on.  @ret 0, or -1 (not IPv4). */
int http_local_ipv4(struct http_ctx *h, uint32_t *ip);

#endif
