/*
 * The exchanges of snow-nodesim: non-blocking connect (bound to the node's
 * own address when it has one, as snowd serves a node's overlay only to
 * it), one write of the whole request, read until the answer is complete.
 * With --keep-alive, a node-channel exchange (register, report,
 * config.reload) leaves its connection open for the node's next one;
 * a kept connection found closed by the server before any answer came is
 * replaced by a new one and the same request sent again (the server never
 * read it: snowd closes only idle connections).  Boot fetches and admin
 * requests always send Connection: close, as iPXE and the CLI tools do,
 * and so does everything without --keep-alive, as snow-agent with
 * keep_alive = no.  Answers end, and connections are kept or retried, by
 * lib/httpc's rules (httpc.h), the agent's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"

int ns_http_parse(const char *data, size_t len, int eof, int *status, const char **body,
		  size_t *bodylen, int *keep)
{
	/* Where it ends, and whether the connection may be kept: lib/httpc's rule, the agent's. */
	long end = http_answer_end(data, len, eof, keep);
	const char *hend;

	if (end < 0)
		return -EPROTO;
	if (end == 0)
		return eof ? -EPROTO : -EAGAIN;
	hend = memmem(data, (size_t)end, "\r\n\r\n", 4);
	*status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	*body = hend + 4;
	/* A chunked body keeps its framing here: snowd and nginx answer with a length. */
	*bodylen = (size_t)(data + end - *body);
	return 0;
}

int ns_http_header(const char *data, size_t len, const char *name, char *out, size_t cap)
{
	const char *end = memmem(data, len, "\r\n\r\n", 4), *line, *p;
	size_t nlen = strlen(name);

	if (cap)
		out[0] = '\0';
	if (!end)
		return -ENOENT;
	for (line = memchr(data, '\n', (size_t)(end - data)); line && line < end; line = p) {
		size_t vlen;
		line++;
		p = memchr(line, '\n', (size_t)(end + 2 - line));
		if (!p)
			break;
		if ((size_t)(p - line) <= nlen || strncasecmp(line, name, nlen) || line[nlen] != ':')
			continue;
		line += nlen + 1;
		while (line < p && *line == ' ')
			line++;
		vlen = (size_t)(p - line);
		if (vlen && line[vlen - 1] == '\r')
			vlen--;
		snprintf(out, cap, "%.*s", (int)vlen, line);
		return 0;
	}
	return -ENOENT;
}

static void ns_conn_release(struct nodesim *ns, struct ns_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ns->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		ns->inflight--;
	}
	c->fd = -1;
	c->node = NULL;
	buf_free(&c->out);
	/* Keep the input buffer's memory: the next answer reuses it. */
	c->in.len = 0;
	c->off = 0;
}

/* A new non-blocking socket, bound to src when given, connecting to dst.  @ret fd or -errno. */
static int ns_conn_open(const struct sockaddr_in *dst, const struct in_addr *src)
{
	int fd, one = 1, rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (src) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = *src };
		/* Many sources, one server: pick the port at connect, per source. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
			goto err;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) && errno != EINPROGRESS)
		goto err;
	return fd;
err:
	rc = -errno;
	close(fd);
	return rc;
}

static int ns_conn_watch(struct nodesim *ns, struct ns_conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c };

	return epoll_ctl(ns->epfd, EPOLL_CTL_ADD, c->fd, &ev) ? -errno : 0;
}

/*
 * A kept connection the server had closed: the same request on a new one.
 * @ret 0 (under way again) or -errno.
 */
static int ns_conn_retry(struct nodesim *ns, struct ns_conn *c)
{
	int fd;

	epoll_ctl(ns->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->reused = 0;
	c->off = 0;
	c->in.len = 0;
	c->writing = 1;
	fd = ns_conn_open(c->dst, c->node->ip.s_addr ? &c->node->ip : NULL);
	c->fd = fd < 0 ? -1 : fd;
	if (fd < 0 || ns_conn_watch(ns, c)) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		ns->inflight--;
		return -ECONNRESET;
	}
	return 0;
}

/*
 * Whether the answer (all of c->in; keep from ns_http_parse()) leaves the
 * connection usable for the next request: bytes past it were never asked for.
 */
static int ns_conn_keepable(const struct ns_conn *c, int keep, const char *body, size_t bodylen)
{
	return c->keep && keep && body + bodylen == c->in.data + c->in.len;
}

/* End c with rc (0: parse what came), then tell whoever set ns->conn_done. */
static void ns_conn_finish(struct nodesim *ns, struct ns_conn *c, int rc, int eof)
{
	const char *body = NULL;
	size_t bodylen = 0;
	int status = 0, keep = 0;

	/* lib/httpc's one retry (httpc.h): the server closed the kept connection before answering. */
	if (c->reused && c->in.len == 0 && (eof || rc == -ECONNRESET || rc == -EPIPE)) {
		rc = ns_conn_retry(ns, c);
		if (!rc)
			return;
	}
	if (!rc) {
		rc = ns_http_parse(c->in.data ? c->in.data : "", c->in.len, eof, &status, &body,
				   &bodylen, &keep);
		if (rc == -EAGAIN)
			return;
	}
	/* The answer stays in c->in until conn_done returns. */
	if (c->fd >= 0) {
		epoll_ctl(ns->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		if (!rc && !eof && ns_conn_keepable(c, keep, body, bodylen)) {
			if (c->node->keep_fd >= 0)
				close(c->node->keep_fd);
			c->node->keep_fd = c->fd;
		} else {
			close(c->fd);
		}
		c->fd = -1;
		ns->inflight--;
	}
	ns->conn_done(ns, c, rc, status, body, bodylen);
	ns_conn_release(ns, c);
}

int ns_conn_start(struct nodesim *ns, struct ns_node *node, enum ns_kind kind,
		  const struct in_addr *src, struct buf *req)
{
	struct ns_conn *c = NULL;
	size_t i;
	int fd, rc;

	for (i = 0; i < (size_t)ns->conf.concurrency; i++) {
		if (ns->conns[i].fd < 0) {
			c = &ns->conns[i];
			break;
		}
	}
	if (!c) {
		buf_free(req);
		return -EBUSY;
	}
	if (kind == NS_K_SCRIPT && node->keep_fd >= 0) {
		/* A boot: the last boot's connection went with it. */
		close(node->keep_fd);
		node->keep_fd = -1;
	}
	c->dst = kind == NS_K_ADD ? &ns->servers[0] : &ns->servers[node->host];
	c->keep = ns->conf.keep_alive &&
		  (kind == NS_K_REGISTER || kind == NS_K_REPORT || kind == NS_K_RELOAD);
	if (node->keep_fd >= 0) {
		/* As lib/httpc: one the server closed (or spoke on) while idle is not used. */
		struct pollfd pfd = { .fd = node->keep_fd, .events = POLLIN | POLLRDHUP };
		if (!c->keep || poll(&pfd, 1, 0) != 0) {
			close(node->keep_fd);
			node->keep_fd = -1;
		}
	}
	c->reused = c->keep && node->keep_fd >= 0;
	if (c->reused) {
		fd = node->keep_fd;
		node->keep_fd = -1;
	} else {
		fd = ns_conn_open(c->dst, src);
		if (fd < 0) {
			rc = fd;
			goto err_req;
		}
	}
	c->fd = fd;
	if ((rc = ns_conn_watch(ns, c)))
		goto err_fd;
	c->node = node;
	c->kind = kind;
	c->out = *req;
	*req = (struct buf)BUF_INIT;
	c->off = 0;
	c->in.len = 0;
	c->writing = 1;
	c->t0_us = clock_mono_us();
	c->deadline_ms = c->t0_us / 1000 + ns->conf.timeout_ms;
	ns->inflight++;
	return 0;

err_fd:
	close(fd);
	c->fd = -1;
err_req:
	buf_free(req);
	return rc;
}

void ns_conn_event(struct nodesim *ns, struct ns_conn *c, uint32_t events)
{
	if (c->fd < 0)
		return;
	if (c->writing && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		while (c->off < c->out.len) {
			ssize_t w = send(c->fd, c->out.data + c->off, c->out.len - c->off,
					 MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return;
				ns_conn_finish(ns, c, -errno, 0);
				return;
			}
			c->off += (size_t)w;
		}
		c->writing = 0;
		{
			struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
			epoll_ctl(ns->epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t r;
			if (buf_reserve(&c->in, 16384)) {
				ns_conn_finish(ns, c, -ENOMEM, 0);
				return;
			}
			r = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				ns_conn_finish(ns, c, -errno, 0);
				return;
			}
			if (r == 0) {
				ns_conn_finish(ns, c, 0, 1);
				return;
			}
			c->in.len += (size_t)r;
			c->in.data[c->in.len] = '\0';
			if (c->in.len > NS_MAX_ANSWER) {
				ns_conn_finish(ns, c, -EFBIG, 0);
				return;
			}
		}
		/* Content-Length says it is all here: no need to wait for the close. */
		ns_conn_finish(ns, c, 0, 0);
	}
}

void ns_conn_expire(struct nodesim *ns, int64_t now_ms)
{
	size_t i;

	for (i = 0; i < (size_t)ns->conf.concurrency; i++) {
		struct ns_conn *c = &ns->conns[i];
		if (c->fd >= 0 && now_ms >= c->deadline_ms)
			ns_conn_finish(ns, c, -ETIMEDOUT, 0);
	}
}

void ns_conn_close_all(struct nodesim *ns)
{
	size_t i;

	for (i = 0; ns->conns && i < (size_t)ns->conf.concurrency; i++) {
		ns_conn_release(ns, &ns->conns[i]);
		buf_free(&ns->conns[i].in);
	}
	for (i = 0; i < ns->nnodes; i++) {
		if (ns->nodes[i].keep_fd >= 0)
			close(ns->nodes[i].keep_fd);
		ns->nodes[i].keep_fd = -1;
	}
}
