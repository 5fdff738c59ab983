#include "sse.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

int sse_init(struct sse_client *c, const struct http_url *url, const char *path, const char *token,
	     const struct sse_ops *ops, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->url = *url;
	c->ops = ops;
	c->ctx = ctx;
	c->fd = -1;
	c->backoff_ms = SSE_BACKOFF_FIRST_MS;
	if ((size_t)snprintf(c->path, sizeof(c->path), "%s%s", url->base, path) >= sizeof(c->path))
		return -EINVAL;
	if (token && *token &&
	    (size_t)snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s\r\n", token) >=
		    sizeof(c->auth))
		return -EINVAL;
	return 0;
}

static void sse_close(struct sse_client *c, int64_t now_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Drop the connection and schedule the next try; tell the caller once. */
static void sse_close(struct sse_client *c, int64_t now_ms, const char *fmt, ...)
{
	int was_up = c->state == SSE_BODY;
	va_list ap;

	if (c->tls)
		httpc_get_tls()->close(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = SSE_IDLE;
	buf_reset(&c->in);
	buf_reset(&c->body);
	buf_reset(&c->event);
	buf_reset(&c->data);
	c->in_off = c->body_off = 0;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->retry_at_ms = now_ms + c->backoff_ms;
	if (was_up)
		c->retry_at_ms = now_ms + SSE_BACKOFF_FIRST_MS;
	else if (c->backoff_ms < SSE_BACKOFF_MAX_MS)
		c->backoff_ms *= 2;
	if (c->backoff_ms > SSE_BACKOFF_MAX_MS)
		c->backoff_ms = SSE_BACKOFF_MAX_MS;
	c->ops->on_state(c->ctx, 0, c->why);
}

static int sse_connect(struct sse_client *c, int64_t now_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int rc, fd;

	/* getaddrinfo blocks; the host is a name or address given once, usually loopback or LAN. */
	rc = getaddrinfo(c->url.host, c->url.port, &hints, &res);
	if (rc) {
		sse_close(c, now_ms, "%s: %s", c->url.host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(res);
		sse_close(c, now_ms, "socket: %s", strerror(errno));
		return -errno;
	}
	c->fd = fd;
	c->state = SSE_CONNECTING;
	c->last_rx_ms = now_ms;
	c->connects++;
	if (connect(fd, res->ai_addr, res->ai_addrlen) && errno != EINPROGRESS) {
		rc = -errno;
		freeaddrinfo(res);
		sse_close(c, now_ms, "connect %s:%s: %s", c->url.host, c->url.port, strerror(-rc));
		return rc;
	}
	freeaddrinfo(res);
	return 0;
}

/* Write all of p through the TLS session, waiting up to deadline.  @ret 0 or -1. */
static int sse_tls_send_all(struct sse_client *c, const char *p, size_t n, int64_t deadline)
{
	const struct httpc_tls_ops *tls = httpc_get_tls();

	while (n) {
		ssize_t w = tls->send(c->tls, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w != -EAGAIN)
			return -1;
		struct pollfd pf = { .fd = c->fd, .events = tls->wants_write(c->tls) ? POLLOUT : POLLIN };
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
			return -1;
	}
	return 0;
}

static void sse_send_request(struct sse_client *c, int64_t now_ms)
{
	char req[600];
	int err = 0, n;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		sse_close(c, now_ms, "connect %s:%s: %s", c->url.host, c->url.port, strerror(err));
		return;
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: text/event-stream\r\n%s"
		     "User-Agent: snow-sse\r\n\r\n",
		     c->path, c->url.host, c->url.port, c->auth);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		sse_close(c, now_ms, "request too long");
		return;
	}
	if (c->url.tls) {
		const struct httpc_tls_ops *tls = httpc_get_tls();
		char why[200];
		if (!tls) {
			sse_close(c, now_ms, "https:// needs TLS, which this program did not enable");
			return;
		}
		c->tls = tls->open(c->fd, c->url.host, now_ms + SSE_HANDSHAKE_MS, why, sizeof(why));
		if (!c->tls) {
			sse_close(c, now_ms, "%s", why);
			return;
		}
		if (sse_tls_send_all(c, req, (size_t)n, now_ms + SSE_HANDSHAKE_MS)) {
			sse_close(c, now_ms, "tls: send failed");
			return;
		}
	} else if (send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		/* A few hundred bytes into an empty socket buffer: one send() takes them. */
		sse_close(c, now_ms, "send: %s", strerror(errno));
		return;
	}
	c->state = SSE_HEADERS;
}

/* The status line and headers: 200 and chunked (or close-delimited) or fail. */
static int sse_headers(struct sse_client *c, int64_t now_ms)
{
	/*
	 * Before the headers end, in_off is how far they were searched: an
	 * answer trickling in a byte at a time is not searched from its
	 * start again for each byte.
	 */
	size_t from = c->in_off > 3 ? c->in_off - 3 : 0;
	char *end = memmem(c->in.data + from, c->in.len - from, "\r\n\r\n", 4), *p;
	int status = 0;

	if (!end) {
		c->in_off = c->in.len;
		if (c->in.len > 16384)
			sse_close(c, now_ms, "answer headers too long");
		return -EAGAIN;
	}
	*end = 0;
	if (sscanf(c->in.data, "HTTP/1.%*d %d", &status) != 1) {
		sse_close(c, now_ms, "malformed answer");
		return -EPROTO;
	}
	if (status != 200) {
		sse_close(c, now_ms, "snowd answered %d%s", status,
			  status == 401 ? " (token refused: check --token or SNOW_TOKEN)" : "");
		return -EPROTO;
	}
	c->chunked = 0;
	for (p = strcasestr(c->in.data, "\r\ntransfer-encoding:"); p; p = NULL)
		c->chunked = strcasestr(p, "chunked") != NULL;
	c->chunk_left = -1;
	c->in_off = (size_t)(end + 4 - c->in.data);
	c->state = SSE_BODY;
	c->backoff_ms = SSE_BACKOFF_FIRST_MS;
	c->ops->on_state(c->ctx, 1, "");
	return 0;
}

/* Split the body into lines and messages (the SSE format). */
static void sse_lines(struct sse_client *c)
{
	if (!c->body.data) /* nothing came yet (no offset on NULL) */
		return;
	for (;;) {
		char *s = c->body.data + c->body_off, *nl;
		size_t avail = c->body.len - c->body_off, n;
		if (!avail || !(nl = memchr(s, '\n', avail)))
			break;
		n = (size_t)(nl - s);
		if (n && s[n - 1] == '\r')
			n--;
		c->body_off += (size_t)(nl + 1 - s);
		if (n == 0) {
			if (c->data.len || c->event.len) {
				c->messages++;
				c->ops->on_message(c->ctx, c->event.len ? c->event.data : "message",
						   c->data.data ? c->data.data : "", c->data.len);
			}
			buf_reset(&c->event);
			buf_reset(&c->data);
		} else if (n >= 6 && !memcmp(s, "event:", 6)) {
			size_t o = s[6] == ' ' ? 7 : 6;
			buf_reset(&c->event);
			buf_append(&c->event, s + o, n - o);
		} else if (n >= 5 && !memcmp(s, "data:", 5)) {
			size_t o = n > 5 && s[5] == ' ' ? 6 : 5;
			if (c->data.len)
				buf_append(&c->data, "\n", 1);
			if (c->data.len + n < SSE_MAX_MESSAGE)
				buf_append(&c->data, s + o, n - o);
		}
		/* ':' comments (keep-alives), id: and retry: need nothing. */
	}
	if (c->body_off == c->body.len) {
		buf_reset(&c->body);
		c->body_off = 0;
	} else if (c->body_off > (1u << 20)) {
		memmove(c->body.data, c->body.data + c->body_off, c->body.len - c->body_off);
		c->body.len -= c->body_off;
		c->body_off = 0;
	}
}

/* Move chunk payloads from in to body.  @ret 0, or -EPROTO (closed). */
static int sse_dechunk(struct sse_client *c, int64_t now_ms)
{
	while (c->in_off < c->in.len) {
		char *s = c->in.data + c->in_off;
		size_t avail = c->in.len - c->in_off;
		if (!c->chunked) {
			buf_append(&c->body, s, avail);
			c->in_off += avail;
			break;
		}
		if (c->chunk_left < 0) {
			char *nl = memmem(s, avail, "\r\n", 2);
			size_t size;
			if (!nl && avail > SSE_CHUNK_LINE_MAX) {
				/* A size line that never ends would be kept whole: refuse it. */
				sse_lines(c);
				sse_close(c, now_ms, "malformed chunk");
				return -EPROTO;
			}
			if (!nl)
				break;
			if (http_chunk_size(s, (size_t)(nl - s), &size)) {
				sse_lines(c); /* the messages that came whole before it */
				sse_close(c, now_ms, "malformed chunk");
				return -EPROTO;
			}
			c->chunk_left = (long)size; /* at most 15 hex digits */
			c->in_off += (size_t)(nl + 2 - s);
			if (c->chunk_left == 0) {
				sse_lines(c);
				sse_close(c, now_ms, "snowd ended the stream");
				return -EPROTO;
			}
			continue;
		}
		if (c->chunk_left > 0) {
			size_t n = avail < (size_t)c->chunk_left ? avail : (size_t)c->chunk_left;
			buf_append(&c->body, s, n);
			c->in_off += n;
			c->chunk_left -= (long)n;
			continue;
		}
		/* The CRLF after a chunk's payload. */
		if (avail < 2)
			break;
		if (memcmp(s, "\r\n", 2)) {
			sse_lines(c);
			sse_close(c, now_ms, "malformed chunk");
			return -EPROTO;
		}
		c->in_off += 2;
		c->chunk_left = -1;
	}
	if (c->in_off == c->in.len) {
		buf_reset(&c->in);
		c->in_off = 0;
	}
	return 0;
}

/* Take what is in c->in: headers, then chunks and lines.  @ret 0, or -1 (wait, or closed). */
static int sse_process(struct sse_client *c, int64_t now_ms)
{
	if (c->state == SSE_HEADERS && sse_headers(c, now_ms))
		return -1;
	if (c->state == SSE_BODY) {
		if (sse_dechunk(c, now_ms))
			return -1;
		sse_lines(c);
		/* A line that never ends would be kept whole: no message is that long. */
		if (c->body.len - c->body_off > SSE_MAX_MESSAGE) {
			sse_close(c, now_ms, "a stream line longer than any message");
			return -1;
		}
	}
	return 0;
}

int sse_input(struct sse_client *c, const void *p, size_t n, int64_t now_ms)
{
	if (c->state != SSE_HEADERS && c->state != SSE_BODY)
		return -ENOTCONN;
	if (buf_append(&c->in, p, n)) {
		sse_close(c, now_ms, "out of memory");
		return -ENOMEM;
	}
	c->bytes += n;
	c->last_rx_ms = now_ms;
	sse_process(c, now_ms);
	return c->state == SSE_IDLE ? -EPIPE : 0;
}

static void sse_read(struct sse_client *c, int64_t now_ms)
{
	for (;;) {
		ssize_t n;
		if (buf_reserve(&c->in, 65536)) {
			sse_close(c, now_ms, "out of memory");
			return;
		}
		if (c->tls) {
			n = httpc_get_tls()->recv(c->tls, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
			if (n == -EAGAIN)
				break;
			if (n <= 0) {
				sse_close(c, now_ms, n ? "tls: receive failed" : "snowd closed the stream");
				return;
			}
		} else {
			n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n <= 0) {
				sse_close(c, now_ms, n ? "recv: %s" : "snowd closed the stream%s",
					  n ? strerror(errno) : "");
				return;
			}
		}
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = 0;
		c->bytes += (size_t)n;
		c->last_rx_ms = now_ms;
		if (sse_process(c, now_ms))
			return;
		/*
		 * Drained: don't starve the keyboard.  Not so with TLS: a read
		 * returns one record, and what GnuTLS holds decrypted wakes no poll().
		 */
		if (!c->tls && (size_t)n < 65536)
			break;
	}
}

int sse_pollfd(const struct sse_client *c, short *events)
{
	*events = c->state == SSE_CONNECTING ? POLLOUT : POLLIN;
	return c->fd;
}

int sse_timeout_ms(const struct sse_client *c, int64_t now_ms)
{
	int64_t due = c->state == SSE_IDLE ? c->retry_at_ms : c->last_rx_ms + SSE_STALL_MS;

	return due <= now_ms ? 0 : (int)(due - now_ms);
}

void sse_step(struct sse_client *c, short revents, int64_t now_ms)
{
	if (c->state == SSE_IDLE) {
		if (now_ms >= c->retry_at_ms)
			sse_connect(c, now_ms);
		return;
	}
	if (c->state == SSE_CONNECTING) {
		if (revents & (POLLOUT | POLLERR | POLLHUP))
			sse_send_request(c, now_ms);
		else if (now_ms - c->last_rx_ms > 5000)
			sse_close(c, now_ms, "connect %s:%s: timed out", c->url.host, c->url.port);
		return;
	}
	if (revents & (POLLIN | POLLERR | POLLHUP))
		sse_read(c, now_ms);
	else if (now_ms - c->last_rx_ms > SSE_STALL_MS)
		sse_close(c, now_ms, "the stream went silent");
}

void sse_reconnect(struct sse_client *c, int64_t now_ms)
{
	if (c->state != SSE_IDLE)
		sse_close(c, now_ms, "reconnecting");
	c->backoff_ms = SSE_BACKOFF_FIRST_MS;
	c->retry_at_ms = now_ms;
}

void sse_free(struct sse_client *c)
{
	if (c->tls)
		httpc_get_tls()->close(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->body);
	buf_free(&c->event);
	buf_free(&c->data);
}
