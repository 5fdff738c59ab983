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
	size_t hlen, clen = 0;
	int chunked = 0, has_clen = 0;

	if (!raw->data || raw->len < 12 || strncmp(raw->data, "HTTP/1.", 7)) {
		snprintf(err, errlen, "malformed answer");
		return -EPROTO;
	}
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
		} else if (!strncasecmp(line, "Content-Length:", 15)) {
			char *end;
			unsigned long long v;

			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			errno = 0;
			v = strtoull(p, &end, 10);
			if (*p < '0' || *p > '9' || errno || (*end && *end != '\r' && *end != ' ') ||
			    (has_clen && v != clen)) {
				snprintf(err, errlen, "bad Content-Length");
				return -EPROTO;
			}
			clen = (size_t)v;
			has_clen = 1;
		}
	}
	/*
	 * An answer cut short (the server died between its headers and its
	 * body) is no answer: checked against its signature, it would look
	 * forged.  Bytes past the declared length are not the body either.
	 */
	if (has_clen && !chunked) {
		if (raw->len - hlen < clen) {
			snprintf(err, errlen, "truncated answer");
			return -EPROTO;
		}
		raw->len = hlen + clen;
		raw->data[raw->len] = '\0';
	}
	if (chunked && httpc_dechunk(raw, hlen)) {
		snprintf(err, errlen, "bad chunked answer");
		return -EPROTO;
	}
	return buf_append(&resp->body, raw->data + hlen, raw->len - hlen);
}

int http_request(const struct http_url *u, const char *method, const char *path,
		 const struct http_header *hdrs, size_t nhdrs, const void *body, size_t bodylen,
		 int timeout_ms, struct http_response *resp, char *err, size_t errlen)
{
	long long deadline = clock_mono_ms() + timeout_ms;
	struct buf req = BUF_INIT, raw = BUF_INIT;
	struct httpc_conn c = { -1, NULL };
	size_t i;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (u->tls && !httpc_tls) {
		snprintf(err, errlen, "url: https:// is not supported by this program");
		return -EPROTONOSUPPORT;
	}
	c.fd = httpc_connect(u, deadline, err, errlen);
	if (c.fd < 0)
		return c.fd;
	if (u->tls) {
		c.tls = httpc_tls->open(c.fd, u->host, deadline, err, errlen);
		if (!c.tls) {
			close(c.fd);
			return -EPROTO;
		}
	}
	rc = buf_printf(&req, "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n", method,
			u->base, path, u->host, u->port);
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
	rc = httpc_write_all(&c, req.data, req.len, deadline);
	if (rc) {
		snprintf(err, errlen, "send to %s:%s: %s", u->host, u->port, strerror(-rc));
		goto out;
	}
	for (;;) {
		ssize_t r;

		if ((rc = buf_reserve(&raw, 65536)))
			goto out;
		r = httpc_io_recv(&c, raw.data + raw.len, 65536);
		if (r == -EAGAIN) {
			if (httpc_wait(&c, c.tls ? httpc_tls->wants_write(c.tls) : 0, deadline)) {
				rc = -ETIMEDOUT;
				snprintf(err, errlen, "%s %s: no answer from %s:%s in time", method,
					 path, u->host, u->port);
				goto out;
			}
			continue;
		}
		if (r < 0) {
			rc = (int)r;
			snprintf(err, errlen, "read from %s:%s: %s", u->host, u->port, strerror(-rc));
			goto out;
		}
		if (r == 0)
			break;
		raw.len += (size_t)r;
		raw.data[raw.len] = '\0';
		if (raw.len > HTTPC_MAX_BODY) {
			rc = -EFBIG;
			snprintf(err, errlen, "answer from %s:%s is too large", u->host, u->port);
			goto out;
		}
	}
	rc = http_response_parse(&raw, resp, err, errlen);
	if (rc == -EPROTO) {
		char why[64];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s from %s:%s", why, u->host, u->port);
	}
out:
	if (c.tls)
		httpc_tls->close(c.tls);
	close(c.fd);
	buf_free(&req);
	buf_free(&raw);
	return rc;
}
