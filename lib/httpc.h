/*
 * A small blocking HTTP/1.1 client for the node agent and the CLI tools:
 * one request per connection (Connection: close) with http_request(), or
 * a connection kept open between requests with http_request_on() (the
 * node agent's link to snowd), an overall deadline, and a cap on the
 * answer's size.  https:// URLs go through GnuTLS, verifying
 * the server's certificate against $SNOW_CA (a PEM file) if set, else the
 * system's trust store.
 */
#ifndef SNOW_HTTPC_H
#define SNOW_HTTPC_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define HTTPC_MAX_BODY (64u << 20)

struct http_url {
	char host[256];
	char port[8];
	char base[256]; /* path prefix without the trailing '/', may be empty */
	int tls;        /* https:// */
};

struct http_header {
	const char *name;
	const char *value;
};

struct http_response {
	int status;
	char content_type[128];
	char snow_sig[72]; /* X-Snow-Signature (sign.h), "" when absent; longer ones cut */
	struct buf body; /* owned by the response: http_response_free() */
};

/* Parse "http[s]://HOST[:PORT][/PREFIX]".  @ret 0 or -EINVAL with err filled. */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen);

/*
 * Send METHOD base+path with the given headers and body, and read the whole
 * answer into resp (which the caller frees with http_response_free(), also
 * on error).  @ret 0 when an HTTP answer came back (whatever its status);
 * -ETIMEDOUT, -ECONNREFUSED, -EPROTO (malformed answer), -EFBIG, or another
 * -errno, with err filled.
 */
int http_request(const struct http_url *u, const char *method, const char *path,
		 const struct http_header *hdrs, size_t nhdrs, const void *body, size_t bodylen,
		 int timeout_ms, struct http_response *resp, char *err, size_t errlen);

void http_response_free(struct http_response *resp);

/*
 * A connection kept open between requests to one server (HTTP/1.1
 * keep-alive).  Start it with HTTP_CONN_INIT; http_conn_close() ends it.
 */
struct http_conn {
	int fd;                    /* -1: none open */
	void *tls;                 /* the TLS session on fd, for https */
	char host[256], port[8];   /* where fd goes */
	int tls_on;
	unsigned long long opened; /* connections opened so far (tests, logs) */
	unsigned long long retried; /* requests sent again on a new connection */
};
#define HTTP_CONN_INIT { .fd = -1 }

void http_conn_close(struct http_conn *hc);

/*
 * As http_request(), on the connection hc keeps open: it is opened (or
 * opened again) when hc has none to u's server, and left open after an
 * answer that allows it (HTTP/1.1, its length known, no Connection:
 * close); the request carries no Connection header.
 *
 * The one retry (lib/httpc.c, nodesim's net.c): a request sent on a kept
 * connection that ends before a single byte of answer (the server closed
 * it while idle: EOF, ECONNRESET, EPIPE) is sent once more, the same
 * bytes, on a new connection.  A server closes an idle connection without
 * reading what arrives, so the request was not taken; if it was (a server
 * that died after storing it), the copy carries the same nonce and snowd
 * refuses it as a replay (401), which the node treats as any refusal.
 * @ret as http_request().
 */
int http_request_on(struct http_conn *hc, const struct http_url *u, const char *method,
		    const char *path, const struct http_header *hdrs, size_t nhdrs,
		    const void *body, size_t bodylen, int timeout_ms, struct http_response *resp,
		    char *err, size_t errlen);

/*
 * Where an answer ends, from the bytes read so far (data[0..len), eof when
 * the server closed): by Content-Length, by the last chunk of a chunked
 * body, or for an answer without either, by the close.  204 and 304 have
 * no body.  *keep (may be NULL) says whether the connection may carry a
 * next request: HTTP/1.1, the length known, no "Connection: close".
 * lib/httpc and snow-nodesim's net.c both read answers by it.
 * @ret the answer's length (headers and body, <= len), 0 when more bytes
 * are needed, or -EPROTO (malformed, or truncated by the close).
 */
long http_answer_end(const char *data, size_t len, int eof, int *keep);

/*
 * Parse a whole answer as read from the server (status line, headers, and a
 * body, chunked or not) into resp, which must start zeroed; the caller
 * frees it with http_response_free(), also on error.  raw (NUL-terminated
 * after len, as struct buf keeps it) is changed in place.  http_request()
 * reads with it; the fuzz target tests/fuzz/httpc_response.c calls it alone.
 * @ret 0, -EPROTO (malformed, truncated, or a bad chunk; err says which) or
 * -ENOMEM.
 */
int http_response_parse(struct buf *raw, struct http_response *resp, char *err, size_t errlen);

/*
 * The size in a chunk's size line (line, len bytes without the line end):
 * 1 to 15 hex digits, then nothing or a ';' extension after optional
 * blanks.  @ret 0 with *size set, or -EPROTO.
 */
int http_chunk_size(const char *line, size_t len, size_t *size);

/*
 * TLS is a plug-in so that programs without https:// (the node agent) do not
 * link GnuTLS: httpc_tls_enable() (lib/httpc_tls.c) installs it.
 */
struct httpc_tls_ops {
	/* Wrap connected socket fd for host.  @ret an opaque session or NULL (err filled). */
	void *(*open)(int fd, const char *host, long long deadline_ms, char *err, size_t errlen);
	/* Like send()/recv() on a non-blocking socket: -EAGAIN when it would block. */
	ssize_t (*send)(void *s, const void *p, size_t n);
	ssize_t (*recv)(void *s, void *p, size_t n);
	/* Whether the last -EAGAIN waits for writing (else reading). */
	int (*wants_write)(void *s);
	void (*close)(void *s);
};

/* Install GnuTLS for https:// URLs.  @ret 0, or -errno when GnuTLS cannot start. */
int httpc_tls_enable(void);
void httpc_set_tls(const struct httpc_tls_ops *ops);
/* What httpc_set_tls() installed, or NULL (https:// then cannot be used). */
const struct httpc_tls_ops *httpc_get_tls(void);

#endif
