/*
 * A small blocking HTTP/1.1 client for the node agent and the CLI tools:
 * one request per connection (Connection: close), an overall deadline, and
 * a cap on the answer's size.  https:// URLs go through GnuTLS, verifying
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
