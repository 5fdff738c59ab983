#include "httpc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

/*
 * The TLS plug-in, installed once at start-up by programs that want it; a
 * process-wide setting like the log prefix, not state that changes.
 */
static const struct httpc_tls_ops *httpc_tls;

void httpc_set_tls(const struct httpc_tls_ops *ops)
{
	httpc_tls = ops;
}

const struct httpc_tls_ops *httpc_get_tls(void)
{
	return httpc_tls;
}

int http_url_parse(const char *url, struct http_url *u, char *err, size_t errlen)
{
	const char *p, *host_end, *path;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (!strncmp(url, "https://", 8)) {
		u->tls = 1;
		p = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		snprintf(err, errlen, "url: '%.80s' must start with http:// or https://", url);
		return -EINVAL;
	}
	path = strchr(p, '/');
	if (!path)
		path = p + strlen(p);
	host_end = memchr(p, ':', (size_t)(path - p));
	if (host_end) {
		n = (size_t)(path - host_end - 1);
		if (!n || n >= sizeof(u->port) || strspn(host_end + 1, "0123456789") < n) {
			snprintf(err, errlen, "url: bad port in '%.80s'", url);
			return -EINVAL;
		}
		memcpy(u->port, host_end + 1, n);
	} else {
		host_end = path;
		strcpy(u->port, u->tls ? "443" : "80");
	}
	n = (size_t)(host_end - p);
	if (!n || n >= sizeof(u->host)) {
		snprintf(err, errlen, "url: bad host in '%.80s'", url);
		return -EINVAL;
	}
	memcpy(u->host, p, n);
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (n >= sizeof(u->base)) {
		snprintf(err, errlen, "url: path too long in '%.80s'", url);
		return -EINVAL;
	}
	memcpy(u->base, path, n);
	return 0;
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
}

static int httpc_connect(const struct http_url *u, long long deadline, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, gai;

	gai = getaddrinfo(u->host, u->port, &hints, &res);
	if (gai) {
		snprintf(err, errlen, "%s: %s", u->host, gai_strerror(gai));
		return -EHOSTUNREACH;
	}
	rc = -ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		long long left;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			rc = -errno;
			goto next;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		left = deadline - clock_mono_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) {
			rc = -ETIMEDOUT;
			goto next;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			rc = -soerr;
			goto next;
		}
		freeaddrinfo(res);
		return fd;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "connect to %s:%s: %s", u->host, u->port, strerror(-rc));
	return rc;
}

/* A connection: a socket, and a TLS session on it for https. */
struct httpc_conn {
	int fd;
	void *tls;
};

static ssize_t httpc_io_send(struct httpc_conn *c, const char *p, size_t n)
{
	ssize_t w;

	if (c->tls)
		return httpc_tls->send(c->tls, p, n);
	w = send(c->fd, p, n, MSG_NOSIGNAL);
	return w < 0 ? (errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno) : w;
}

static ssize_t httpc_io_recv(struct httpc_conn *c, char *p, size_t n)
{
	ssize_t r;

	if (c->tls)
		return httpc_tls->recv(c->tls, p, n);
	r = recv(c->fd, p, n, 0);
	return r < 0 ? (errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno) : r;
}

/* Wait until the connection can go on in direction write (or read). */
static int httpc_wait(struct httpc_conn *c, int write, long long deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = write ? POLLOUT : POLLIN };
	long long left = deadline - clock_mono_ms();

	if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
		return -ETIMEDOUT;
	return 0;
}

static int httpc_write_all(struct httpc_conn *c, const char *p, size_t n, long long deadline)
{
	while (n) {
		ssize_t w = httpc_io_send(c, p, n);
		if (w == -EAGAIN) {
			if (httpc_wait(c, c->tls ? httpc_tls->wants_write(c->tls) : 1, deadline))
				return -ETIMEDOUT;
			continue;
		}
		if (w < 0)
			return (int)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int http_chunk_size(const char *line, size_t len, size_t *size)
{
	size_t i, v = 0;

	/* strtoul() would take a sign, blanks, even the newline before the next line's digits. */
	for (i = 0; i < len && i < 15; i++) {
		char c = line[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			break;
		v = v << 4 | (size_t)d;
	}
	if (!i)
		return -EPROTO;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';')
		return -EPROTO;
	*size = v;
	return 0;
}

/* Decode a chunked body in place.  @ret 0 or -EPROTO. */
static int httpc_dechunk(struct buf *b, size_t start)
{
	size_t in = start, out = start;

	for (;;) {
		size_t sz, n;
		char *nl = memchr(b->data + in, '\n', b->len - in);
		if (!nl)
			return -EPROTO;
		n = (size_t)(nl - (b->data + in));
		if (n && nl[-1] == '\r')
			n--;
		if (http_chunk_size(b->data + in, n, &sz))
			return -EPROTO;
		in = (size_t)(nl - b->data) + 1;
		if (sz == 0)
			break;
		if (sz > b->len - in)
			return -EPROTO;
		memmove(b->data + out, b->data + in, sz);
		out += sz;
		in += sz;
		if (in + 2 <= b->len && b->data[in] == '\r')
			in += 2;
		else if (in + 1 <= b->len && b->data[in] == '\n')
			in += 1;
	}
	b->len = out;
	b->data[out] = '\0';
	return 0;
}

int http_response_parse(struct buf *raw, struct http_response *resp, char *err, size_t errlen)
{
	char *hend, *line, *p;
	int chunked = 0;
	size_t hlen;
	long end;

	if (!raw->data || raw->len < 12 || strncmp(raw->data, "HTTP/1.", 7)) {
		snprintf(err, errlen, "malformed answer");
		return -EPROTO;
	}
	/*
	 * Where the answer ends, by its Content-Length or last chunk, the
	 * server having closed: one cut short (the server died between its
	 * headers and its body) is no answer, for checked against its signature
	 * it would look forged.  Bytes past its end are not its body either.
	 */
	end = http_answer_end(raw->data, raw->len, 1, NULL);
	if (end <= 0) {
		snprintf(err, errlen, "truncated or malformed answer");
		return -EPROTO;
	}
	raw->len = (size_t)end;
	raw->data[raw->len] = '\0';
	hend = strstr(raw->data, "\r\n\r\n");
	if (!hend) {
		snprintf(err, errlen, "truncated answer");
		return -EPROTO;
	}
	resp->status = atoi(raw->data + 9);
	hlen = (size_t)(hend - raw->data) + 4;
	*hend = '\0';
	for (line = strstr(raw->data, "\r\n"); line; line = strstr(line, "\r\n")) {
		line += 2;
		p = strchr(line, ':');
		if (!p)
			continue;
		if (!strncasecmp(line, "Content-Type:", 13)) {
			p++;
			while (*p == ' ')
				p++;
			snprintf(resp->content_type, sizeof(resp->content_type), "%.*s",
				 (int)strcspn(p, "\r;"), p);
		} else if (!strncasecmp(line, "X-Snow-Signature:", 17)) {
			p++;
			while (*p == ' ')
				p++;
			snprintf(resp->snow_sig, sizeof(resp->snow_sig), "%.*s",
				 (int)strcspn(p, "\r "), p);
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18) && strstr(p, "chunked")) {
			chunked = 1;
		}
	}
	if (chunked && httpc_dechunk(raw, hlen)) {
		snprintf(err, errlen, "bad chunked answer");
		return -EPROTO;
	}
	return buf_append(&resp->body, raw->data + hlen, raw->len - hlen);
}

/* The value of a header line (after the ':' and blanks) up to the line's end. */
static int httpc_hdr_is(const char *line, const char *end, const char *name, const char **val)
{
	size_t n = strlen(name);

	if ((size_t)(end - line) <= n || strncasecmp(line, name, n) || line[n] != ':')
		return 0;
	line += n + 1;
	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	*val = line;
	return 1;
}

/* Whether the comma list val..end holds token (case-insensitive). */
static int httpc_has_token(const char *val, const char *end, const char *token)
{
	size_t n = strlen(token);

	while (val < end) {
		const char *comma = memchr(val, ',', (size_t)(end - val)), *e;
		if (!comma)
			comma = end;
		while (val < comma && (*val == ' ' || *val == '\t'))
			val++;
		e = comma;
		while (e > val && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if ((size_t)(e - val) == n && !strncasecmp(val, token, n))
			return 1;
		val = comma + 1;
	}
	return 0;
}

long http_answer_end(const char *data, size_t len, int eof, int *keep)
{
	const char *hend = memmem(data, len, "\r\n\r\n", 4), *line, *next, *v;
	size_t hlen, pos, clen = 0;
	int code, have_clen = 0, chunked = 0, close = 0;

	if (keep)
		*keep = 0;
	if (!hend)
		return eof ? -EPROTO : 0;
	hlen = (size_t)(hend - data) + 4;
	if (hlen < 16 || strncmp(data, "HTTP/1.", 7) || (data[7] != '0' && data[7] != '1') ||
	    data[8] != ' ' || data[9] < '2' || data[9] > '5' || data[10] < '0' || data[10] > '9' ||
	    data[11] < '0' || data[11] > '9')
		return -EPROTO;
	code = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	close = data[7] == '0';
	for (line = memchr(data, '\n', hlen); line && line < hend; line = next) {
		line++;
		next = memchr(line, '\n', (size_t)(hend + 2 - line));
		if (!next)
			break;
		if (httpc_hdr_is(line, next, "Content-Length", &v)) {
			size_t i, digits, x = 0;
			for (i = 0; v + i < next && v[i] >= '0' && v[i] <= '9'; i++) {
				x = x * 10 + (size_t)(v[i] - '0');
				if (x > HTTPC_MAX_BODY)
					return -EPROTO;
			}
			digits = i;
			while (v + i < next && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r'))
				i++;
			if (!digits || v + i != next || (have_clen && x != clen))
				return -EPROTO;
			clen = x;
			have_clen = 1;
		} else if (httpc_hdr_is(line, next, "Transfer-Encoding", &v)) {
			chunked = httpc_has_token(v, next, "chunked");
		} else if (httpc_hdr_is(line, next, "Connection", &v)) {
			close |= httpc_has_token(v, next, "close");
		}
	}
	if (code == 204 || code == 304) {
		pos = hlen;
	} else if (chunked) {
		/* Walk the chunks to the last one and the blank line after its trailers. */
		pos = hlen;
		for (;;) {
			const char *nl = memchr(data + pos, '\n', len - pos);
			size_t n, sz;
			if (!nl)
				return eof ? -EPROTO : 0;
			n = (size_t)(nl - (data + pos));
			if (n && nl[-1] == '\r')
				n--;
			if (http_chunk_size(data + pos, n, &sz) || sz > HTTPC_MAX_BODY)
				return -EPROTO;
			pos = (size_t)(nl - data) + 1;
			if (!sz)
				break;
			if (len - pos < sz + 2)
				return eof ? -EPROTO : 0;
			if (data[pos + sz] != '\r' || data[pos + sz + 1] != '\n')
				return -EPROTO;
			pos += sz + 2;
			if (pos > HTTPC_MAX_BODY)
				return -EPROTO;
		}
		for (;;) { /* trailers, then the blank line */
			const char *nl = memchr(data + pos, '\n', len - pos);
			size_t n;
			if (!nl)
				return eof ? -EPROTO : 0;
			n = (size_t)(nl - (data + pos));
			pos = (size_t)(nl - data) + 1;
			if (n == 0 || (n == 1 && nl[-1] == '\r'))
				break;
		}
	} else if (have_clen) {
		if (len - hlen < clen)
			return eof ? -EPROTO : 0;
		pos = hlen + clen;
	} else {
		/* No length: the answer ends with the connection, which cannot be kept. */
		if (!eof)
			return 0;
		close = 1;
		pos = len;
	}
	if (keep)
		*keep = !close;
	return (long)pos;
}

void http_conn_close(struct http_conn *hc)
{
	if (hc->tls)
		httpc_tls->close(hc->tls);
	hc->tls = NULL;
	if (hc->fd >= 0)
		close(hc->fd);
	hc->fd = -1;
}

/*
 * Whether the kept connection was closed (or spoken on) by the server
 * while idle: it cannot carry a request then.
 */
static int httpc_conn_stale(const struct http_conn *hc)
{
	struct pollfd pfd = { .fd = hc->fd, .events = POLLIN | POLLRDHUP };

	return poll(&pfd, 1, 0) != 0;
}

/* Open hc to u's server (closing whatever it had).  @ret 0 or -errno, err filled. */
static int httpc_conn_open(struct http_conn *hc, const struct http_url *u, long long deadline,
			   char *err, size_t errlen)
{
	http_conn_close(hc);
	hc->fd = httpc_connect(u, deadline, err, errlen);
	if (hc->fd < 0) {
		int rc = hc->fd;
		hc->fd = -1;
		return rc;
	}
	if (u->tls) {
		struct httpc_conn c = { hc->fd, NULL };
		c.tls = httpc_tls->open(hc->fd, u->host, deadline, err, errlen);
		if (!c.tls) {
			http_conn_close(hc);
			return -EPROTO;
		}
		hc->tls = c.tls;
	}
	snprintf(hc->host, sizeof(hc->host), "%s", u->host);
	snprintf(hc->port, sizeof(hc->port), "%s", u->port);
	hc->tls_on = u->tls;
	hc->opened++;
	return 0;
}

/*
 * Send req on hc and read the answer into raw, up to its end
 * (http_answer_end()); *keep says whether hc may carry the next request.
 * @ret 0, or -errno with err filled; -ESHUTDOWN: the server closed the
 * connection before a byte of answer came (the retry's case).
 */
static int httpc_exchange(struct http_conn *hc, const struct http_url *u, const char *method,
			  const char *path, const struct buf *req, long long deadline,
			  struct buf *raw, int *keep, char *err, size_t errlen)
{
	struct httpc_conn c = { hc->fd, hc->tls };
	long end = 0;
	int rc;

	raw->len = 0;
	*keep = 0;
	rc = httpc_write_all(&c, req->data, req->len, deadline);
	if (rc == -EPIPE || rc == -ECONNRESET)
		return -ESHUTDOWN;
	if (rc) {
		snprintf(err, errlen, "send to %s:%s: %s", u->host, u->port, strerror(-rc));
		return rc;
	}
	while (end == 0) {
		ssize_t r;

		if ((rc = buf_reserve(raw, 65536)))
			return rc;
		r = httpc_io_recv(&c, raw->data + raw->len, 65536);
		if (r == -EAGAIN) {
			if (httpc_wait(&c, c.tls ? httpc_tls->wants_write(c.tls) : 0, deadline)) {
				snprintf(err, errlen, "%s %s: no answer from %s:%s in time", method,
					 path, u->host, u->port);
				return -ETIMEDOUT;
			}
			continue;
		}
		if (r < 0 && raw->len == 0 && (r == -ECONNRESET || r == -EPIPE))
			return -ESHUTDOWN;
		if (r < 0) {
			rc = (int)r;
			snprintf(err, errlen, "read from %s:%s: %s", u->host, u->port, strerror(-rc));
			return rc;
		}
		if (r == 0 && raw->len == 0)
			return -ESHUTDOWN;
		raw->len += (size_t)r;
		raw->data[raw->len] = '\0';
		if (raw->len > HTTPC_MAX_BODY) {
			snprintf(err, errlen, "answer from %s:%s is too large", u->host, u->port);
			return -EFBIG;
		}
		end = http_answer_end(raw->data, raw->len, r == 0, keep);
		if (end < 0 || (end == 0 && r == 0)) {
			snprintf(err, errlen, "malformed answer from %s:%s", u->host, u->port);
			return -EPROTO;
		}
	}
	/* Bytes past the answer were never asked for: the connection is not to be trusted. */
	if ((size_t)end != raw->len)
		*keep = 0;
	raw->len = (size_t)end;
	raw->data[raw->len] = '\0';
	return 0;
}

static int httpc_do(struct http_conn *hc, int keep_open, const struct http_url *u,
		    const char *method, const char *path, const struct http_header *hdrs,
		    size_t nhdrs, const void *body, size_t bodylen, int timeout_ms,
		    struct http_response *resp, char *err, size_t errlen)
{
	long long deadline = clock_mono_ms() + timeout_ms;
	struct buf req = BUF_INIT, raw = BUF_INIT;
	int rc, reused, keep = 0;
	size_t i;

	memset(resp, 0, sizeof(*resp));
	if (u->tls && !httpc_tls) {
		snprintf(err, errlen, "url: https:// is not supported by this program");
		return -EPROTONOSUPPORT;
	}
	rc = buf_printf(&req, "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\n%s", method, u->base, path,
			u->host, u->port, keep_open ? "" : "Connection: close\r\n");
	for (i = 0; !rc && i < nhdrs; i++)
		rc = buf_printf(&req, "%s: %s\r\n", hdrs[i].name, hdrs[i].value);
	if (!rc && (body || !strcmp(method, "POST") || !strcmp(method, "PUT")))
		rc = buf_printf(&req, "Content-Length: %zu\r\n", bodylen);
	if (!rc)
		rc = buf_puts(&req, "\r\n");
	if (!rc && bodylen)
		rc = buf_append(&req, body, bodylen);
	if (rc)
		goto out;
	if (hc->fd >= 0 && (strcmp(hc->host, u->host) || strcmp(hc->port, u->port) ||
			    hc->tls_on != u->tls || httpc_conn_stale(hc)))
		http_conn_close(hc);
	reused = hc->fd >= 0;
	if (!reused && (rc = httpc_conn_open(hc, u, deadline, err, errlen)))
		goto out;
	rc = httpc_exchange(hc, u, method, path, &req, deadline, &raw, &keep, err, errlen);
	if (rc == -ESHUTDOWN && reused) {
		/* The server had closed the kept connection: once more on a new one (httpc.h). */
		hc->retried++;
		rc = httpc_conn_open(hc, u, deadline, err, errlen);
		if (!rc)
			rc = httpc_exchange(hc, u, method, path, &req, deadline, &raw, &keep, err,
					    errlen);
	}
	if (rc == -ESHUTDOWN) {
		rc = -ECONNRESET;
		snprintf(err, errlen, "%s %s: %s:%s closed the connection without an answer",
			 method, path, u->host, u->port);
	}
	if (rc)
		goto out;
	rc = http_response_parse(&raw, resp, err, errlen);
	if (rc == -EPROTO) {
		char why[64];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s from %s:%s", why, u->host, u->port);
	}
out:
	if (rc || !keep_open || !keep)
		http_conn_close(hc);
	buf_free(&req);
	buf_free(&raw);
	return rc;
}

int http_request_on(struct http_conn *hc, const struct http_url *u, const char *method,
		    const char *path, const struct http_header *hdrs, size_t nhdrs,
		    const void *body, size_t bodylen, int timeout_ms, struct http_response *resp,
		    char *err, size_t errlen)
{
	return httpc_do(hc, 1, u, method, path, hdrs, nhdrs, body, bodylen, timeout_ms, resp, err,
			errlen);
}

int http_request(const struct http_url *u, const char *method, const char *path,
		 const struct http_header *hdrs, size_t nhdrs, const void *body, size_t bodylen,
		 int timeout_ms, struct http_response *resp, char *err, size_t errlen)
{
	struct http_conn hc = HTTP_CONN_INIT;

	return httpc_do(&hc, 0, u, method, path, hdrs, nhdrs, body, bodylen, timeout_ms, resp, err,
			errlen);
}
