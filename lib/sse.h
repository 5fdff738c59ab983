/*
 * A non-blocking client of snowd's server-sent-events stream (snowtop, snow-subagent):
 * the caller polls sse_pollfd() in its own loop and calls sse_step(); each
 * complete message is handed to on_message.  A cut connection, an error
 * status or a silent stream (no keep-alive for SSE_STALL_MS) is closed and
 * tried again after a back-off that doubles from 0.5 s up to 10 s.
 * lib/httpc is blocking and reads whole answers, so it cannot do this.
 * https:// goes through httpc's TLS plug-in (the program calls
 * httpc_tls_enable() first); its handshake blocks, up to SSE_HANDSHAKE_MS.
 */
#ifndef SNOW_SSE_H
#define SNOW_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "httpc.h"

#define SSE_STALL_MS 40000       /* snowd sends a keep-alive every 15 s */
#define SSE_BACKOFF_FIRST_MS 500
#define SSE_BACKOFF_MAX_MS 10000
#define SSE_MAX_MESSAGE (64u << 20)
#define SSE_CHUNK_LINE_MAX 1024 /* a chunk-size line with its extensions, at most */
#define SSE_HANDSHAKE_MS 5000

enum sse_state { SSE_IDLE, SSE_CONNECTING, SSE_HEADERS, SSE_BODY };

struct sse_ops {
	/* A message: event name ("message" when none) and its data, NUL-terminated. */
	void (*on_message)(void *ctx, const char *event, const char *data, size_t len);
	/* Connected (up = 1) or lost (up = 0, why says what happened). */
	void (*on_state)(void *ctx, int up, const char *why);
};

struct sse_client {
	struct http_url url;
	char path[512];
	char auth[200];
	const struct sse_ops *ops;
	void *ctx;
	enum sse_state state;
	int fd;
	void *tls;            /* httpc's TLS session on fd (https://), or NULL */
	struct buf in;        /* bytes read, not yet taken by the decoder */
	size_t in_off;        /* in the body: taken up to here; in the headers: searched up to here */
	int chunked;
	long chunk_left;      /* bytes left in the current chunk; -1: at a size line */
	struct buf body;      /* decoded body, not yet split into lines */
	size_t body_off;
	struct buf event;     /* the message being assembled */
	struct buf data;
	int64_t last_rx_ms;
	int64_t retry_at_ms;
	int backoff_ms;
	uint64_t bytes, messages, connects;
	char why[160];
};

/*
 * Set up (nothing is connected until sse_step()).  token may be NULL.
 * @ret 0 or -EINVAL when the path or token does not fit.
 */
int sse_init(struct sse_client *c, const struct http_url *url, const char *path, const char *token,
	     const struct sse_ops *ops, void *ctx);
/* The descriptor to poll and the events wanted; fd -1 when there is none. */
int sse_pollfd(const struct sse_client *c, short *events);
/* Milliseconds until sse_step() has something to do without I/O (-1: none). */
int sse_timeout_ms(const struct sse_client *c, int64_t now_ms);
/* Connect when due, read what is there, hand complete messages over. */
void sse_step(struct sse_client *c, short revents, int64_t now_ms);
/* Close the connection and try again now (after a resume or a user's key). */
void sse_reconnect(struct sse_client *c, int64_t now_ms);
void sse_free(struct sse_client *c);
/*
 * Bytes as received on the connection (sse_step() reads them with this
 * decoder; tests/fuzz/sse.c feeds them directly): the answer's headers
 * while the state is SSE_HEADERS, then the body.  Messages go to on_message,
 * a bad answer closes the connection as a read would.
 * @ret 0; -EPIPE when the answer made it close; -ENOTCONN when c is neither
 * reading headers nor a body; -ENOMEM.
 */
int sse_input(struct sse_client *c, const void *p, size_t n, int64_t now_ms);

#endif
