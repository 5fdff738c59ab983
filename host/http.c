/*
 * snowd's HTTP glue (http.h): listeners, request bodies, answers.  Which
 * handler runs, and for whom, is the router's business (route.c).
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "inv.h"
#include "log.h"
#include "snowd.h"
#include "stream.h"

#define HTTP_HEADER_DEADLINE_MS 10000 /* from connect (or the last answer) to whole headers */
#define HTTP_BODY_DEADLINE_MS 60000   /* from headers to the whole body */
#define HTTP_IDLE_DEADLINE_MS 70000   /* a kept-alive connection's next headers (MHD idles out at 60 s) */

/*
 * Every open connection, with the time its current request began: a client
 * that trickles its headers or its body a byte at a time keeps MHD's idle
 * timeout from firing, but not these deadlines (http_tick).
 */
struct http_conn {
	struct MHD_Connection *conn;
	int64_t since_ms;        /* when the current phase began */
	int phase;               /* 0: headers, 1: body, 2: answering (no deadline), 3: kept alive */
	struct http_conn *prev, *next;
};

/* --- answers ------------------------------------------------------------ */

static enum MHD_Result http_queue(struct http_ctx *h, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret = MHD_queue_response(h->conn, status, r);

	MHD_destroy_response(r);
	return ret;
}

static struct MHD_Response *http_buffer(void *data, size_t len, const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);

	if (!r) {
		free(data);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return r;
}

/* v (taken) as one line of compact JSON.  @ret the text, or NULL. */
static char *http_json_text(json_t *v, size_t *len)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL, *t;

	json_decref(v);
	if (!text)
		return NULL;
	*len = strlen(text);
	/* One object per line reads well with curl and in logs. */
	t = realloc(text, *len + 2);
	if (!t) {
		free(text);
		return NULL;
	}
	t[(*len)++] = '\n';
	t[*len] = '\0';
	return t;
}

void http_sign_answers(struct http_ctx *h, const char *secret, uint64_t nonce)
{
	snprintf(h->answer_key.secret, sizeof(h->answer_key.secret), "%s", secret);
	h->answer_key.nonce = nonce;
	h->answer_key.on = 1;
}

enum MHD_Result http_json(struct http_ctx *h, unsigned status, json_t *v)
{
	size_t len;
	char *text = http_json_text(v, &len);
	char sig[SIGN_HEX_LEN + 1];
	struct MHD_Response *r;

	/* Signed before the buffer is handed to MHD, which frees it. */
	if (text && h->answer_key.on)
		sign_answer(h->answer_key.secret, h->url, h->answer_key.nonce, status, text, len,
			    sig);
	r = text ? http_buffer(text, len, "application/json") : NULL;
	if (r && h->answer_key.on)
		MHD_add_response_header(r, SNOW_HDR_SIG, sig);
	return r ? http_queue(h, status, r) : MHD_NO;
}

enum MHD_Result http_json_cookie(struct http_ctx *h, unsigned status, json_t *v, const char *cookie)
{
	size_t len;
	char *text = http_json_text(v, &len);
	struct MHD_Response *r = text ? http_buffer(text, len, "application/json") : NULL;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	return http_queue(h, status, r);
}

enum MHD_Result http_error(struct http_ctx *h, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (status >= 500)
		log_warnx("http: %s %s: %u %s", h->method, h->url, status, msg);
	else
		log_debug("http: %s %s from %s: %u %s", h->method, h->url, h->client_ip, status, msg);
	return http_json(h, status, json_pack("{s:s}", "error", msg));
}

int http_node(struct http_ctx *h, const char *name, struct inv_node *n, enum MHD_Result *ret)
{
	int rc = inv_node_get(&h->sd->inv, name, n);

	if (!rc) {
		explicit_bzero(n->secret, sizeof(n->secret));
		explicit_bzero(n->old_secret, sizeof(n->old_secret));
		return 0;
	}
	*ret = rc == -ENOENT ? http_error(h, MHD_HTTP_NOT_FOUND, "name: no node '%s'", name) :
			       http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	return -1;
}

enum MHD_Result http_text(struct http_ctx *h, const char *ctype, struct buf *b)
{
	size_t len;
	char *data = buf_steal(b, &len);
	struct MHD_Response *r;

	char sig[SIGN_HEX_LEN + 1];

	if (!data && !(data = strdup("")))
		return MHD_NO;
	if (h->answer_key.on)
		sign_answer(h->answer_key.secret, h->url, h->answer_key.nonce, MHD_HTTP_OK, data, len,
			    sig);
	r = http_buffer(data, len, ctype);
	if (r && h->answer_key.on)
		MHD_add_response_header(r, SNOW_HDR_SIG, sig);
	return r ? http_queue(h, MHD_HTTP_OK, r) : MHD_NO;
}

/*
 * A file's connection is writable again only when less than
 * HTTP_FILE_LOWAT bytes wait unsent.  MHD's sendfile() goes 128 KiB a
 * call; without a mark the kernel grows the send queue to megabytes per
 * connection and wrk -c16 took vmlinuz at 0.6-0.7x nginx; with 64 KiB,
 * 1.25-1.7x (docs/nodesim.md).  It only delays the wake-up, so a failure
 * costs nothing but that speed.
 */
#define HTTP_FILE_LOWAT 65536

static void http_file_lowat(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	int v = HTTP_FILE_LOWAT;

	if (ci)
		(void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
}

enum MHD_Result http_file(struct http_ctx *h, const char *path, const char *ctype, int web)
{
	struct MHD_Response *r;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	}
	/* MHD sends it with sendfile() and closes fd with the response. */
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	http_file_lowat(h->conn);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (web) {
		MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'self'; img-src 'self' data:; "
					"style-src 'self' 'unsafe-inline'");
		MHD_add_response_header(r, "Cache-Control", "no-cache");
	}
	return http_queue(h, MHD_HTTP_OK, r);
}

/* --- the request ------------------------------------------------------------ */

const char *http_query(struct http_ctx *h, const char *key)
{
	return MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_ctx *h, const char *key)
{
	return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, key);
}

const char *http_cookie(struct http_ctx *h, const char *key)
{
	return MHD_lookup_connection_value(h->conn, MHD_COOKIE_KIND, key);
}

int http_local_ipv4(struct http_ctx *h, uint32_t *ip)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(h->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);

	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&local, &len) ||
	    local.sin_family != AF_INET)
		return -1;
	*ip = ntohl(local.sin_addr.s_addr);
	return 0;
}

/* --- MHD glue -------------------------------------------------------------- */

static void http_client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, cap, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)cap);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
			  (socklen_t)cap);
}

/*
 * Request contexts kept for the next request, with their body buffers: a
 * node's report every second would otherwise allocate both and free them
 * again (a context is larger than glibc's per-thread cache takes, so each
 * was a trip into malloc's bins and their consolidation, seen in perf).
 * Only the loop thread runs MHD's callbacks: no lock.
 */
#define HTTP_CTX_KEEP 256
#define HTTP_BODY_KEEP 65536 /* bodies larger than this are not kept */
static struct http_ctx *http_ctx_kept[HTTP_CTX_KEEP];
static unsigned http_ctx_nkept;

static struct http_ctx *http_ctx_new(void)
{
	struct http_ctx *h;
	struct buf body;

	if (!http_ctx_nkept)
		return calloc(1, sizeof(struct http_ctx));
	h = http_ctx_kept[--http_ctx_nkept];
	body = h->body;
	memset(h, 0, sizeof(*h));
	h->body.data = body.data;
	h->body.cap = body.cap;
	return h;
}

static void http_ctx_release(struct http_ctx *h)
{
	if (http_ctx_nkept < HTTP_CTX_KEEP && h->body.cap <= HTTP_BODY_KEEP) {
		/* A login's body held a password: nothing of it waits for the next request. */
		if (h->body.data)
			explicit_bzero(h->body.data, h->body.len);
		buf_reset(&h->body);
		http_ctx_kept[http_ctx_nkept++] = h;
		return;
	}
	buf_free(&h->body);
	free(h);
}

/* The kept contexts freed (snowd stopping). */
static void http_ctx_drop_kept(void)
{
	while (http_ctx_nkept) {
		struct http_ctx *h = http_ctx_kept[--http_ctx_nkept];
		buf_free(&h->body);
		free(h);
	}
}

/*
 * MHD calls this once with the headers (*con_cls still NULL), then once per
 * piece of body, then once with nothing left: the router decides at the
 * first call, the handler answers at the last.
 */
static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	struct snowd *sd = cls;
	struct http_ctx *h = *con_cls;

	if (!h) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
		const union MHD_ConnectionInfo *sc =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct http_conn *hc = sc ? sc->socket_context : NULL;

		if (hc) {
			hc->phase = 1;
			hc->since_ms = clock_mono_ms();
		}
		const char *clen;
		long max;

		h = http_ctx_new();
		if (!h)
			return MHD_NO;
		*con_cls = h;
		h->sd = sd;
		h->conn = conn;
		h->url = url;
		h->method = strcmp(method, "HEAD") ? method : "GET";
		h->tls = ci && sd->httpsd && ci->daemon == sd->httpsd;
		http_client_ip(conn, h->client_ip, sizeof(h->client_ip));
		sd->requests++;
		max = sd->router->begin(h);
		if (max < 0)
			return (enum MHD_Result)(-1 - max);
		h->max_body = (size_t)max;
		/* A body the route cannot take is refused before a byte of it is read. */
		clen = http_header(h, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen && strtoull(clen, NULL, 10) > h->max_body) {
			h->route = NULL;
			if (!h->max_body)
				return http_error(h, MHD_HTTP_CONTENT_TOO_LARGE, "body: %s takes none",
						  h->url);
			return http_error(h, MHD_HTTP_CONTENT_TOO_LARGE,
					  "body: larger than %zu bytes", h->max_body);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		if (h->too_big || h->busy || h->body.len + n > h->max_body) {
			/* Keep reading so the client gets our answer, but store nothing. */
			h->too_big = !h->busy;
			sd->body_bytes -= h->body.len;
			buf_free(&h->body);
		} else if (sd->body_bytes + n > (size_t)sd->cfg.body_budget) {
			/* All bodies together are bounded: a flood of them cannot take the host's memory. */
			h->busy = 1;
			sd->body_bytes -= h->body.len;
			buf_free(&h->body);
		} else if (buf_append(&h->body, upload_data, n)) {
			return MHD_NO;
		} else {
			sd->body_bytes += n;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	{
		const union MHD_ConnectionInfo *sc =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct http_conn *hc = sc ? sc->socket_context : NULL;
		if (hc)
			hc->phase = 2;
	}
	if (h->busy)
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "body: too many request bodies under way; try again");
	if (!h->route)
		return MHD_NO; /* answered at begin: nothing more to say */
	if (h->too_big)
		return http_error(h, MHD_HTTP_CONTENT_TOO_LARGE, "body: larger than %zu bytes",
				  h->max_body);
	return sd->router->handle(h);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *h = *con_cls;
	const union MHD_ConnectionInfo *sc =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct http_conn *hc = sc ? sc->socket_context : NULL;

	if (hc) {
		/* A kept-alive connection has its next request's headers to send in time. */
		hc->phase = 3;
		hc->since_ms = clock_mono_ms();
	}
	if (!h)
		return;
	if (h->pending && h->pending_free)
		h->pending_free(h->pending);
	h->sd->body_bytes -= h->body.len;
	explicit_bzero(&h->who, sizeof(h->who));
	explicit_bzero(&h->answer_key, sizeof(h->answer_key));
	http_ctx_release(h);
	*con_cls = NULL;
}

static void http_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	struct snowd *sd = cls;
	struct http_conn *hc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = calloc(1, sizeof(*hc));
		if (!hc)
			return; /* untracked: only its deadlines are lost */
		hc->conn = conn;
		hc->since_ms = clock_mono_ms();
		hc->next = sd->conns;
		if (sd->conns)
			sd->conns->prev = hc;
		sd->conns = hc;
		*socket_context = hc;
		return;
	}
	if (!hc)
		return;
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		sd->conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	free(hc);
	*socket_context = NULL;
}

void http_tick(struct snowd *sd)
{
	int64_t now = clock_mono_ms();
	struct http_conn *hc;

	for (hc = sd->conns; hc; hc = hc->next) {
		const union MHD_ConnectionInfo *ci;
		int64_t limit = hc->phase == 0 ? HTTP_HEADER_DEADLINE_MS :
				hc->phase == 1 ? HTTP_BODY_DEADLINE_MS :
				hc->phase == 3 ? HTTP_IDLE_DEADLINE_MS : -1;
		if (limit < 0 || now - hc->since_ms <= limit)
			continue;
		/* MHD has no call to close one connection: end its socket, MHD sees it and cleans up. */
		ci = MHD_get_connection_info(hc->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci && shutdown(ci->connect_fd, SHUT_RDWR) == 0) {
			sd->conns_cut++;
			log_debug("http: a connection missed its %s deadline: closed",
				  hc->phase == 1 ? "body" : "header");
		}
		hc->phase = 2;
	}
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("http: %s", msg);
}

/* Read a whole (small) PEM file.  @ret a malloc()ed string or NULL with err filled. */
static char *http_read_pem(const char *path, const char *field, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s: %s", field, path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
		buf_append(&b, chunk, n);
	fclose(f);
	if (!b.len || !strstr(b.data, "-----BEGIN ")) {
		snprintf(err, errlen, "%s: %s is not a PEM file", field, path);
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/* One listener on "ADDR:PORT"; with TLS when key and cert are given. */
static struct MHD_Daemon *http_listen(struct snowd *sd, const char *listen,
				      const char *field, const char *key, const char *cert,
				      char *err, size_t errlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(listen, ':');
	unsigned conn_limit = 200000, per_ip;
	struct MHD_Daemon *d;
	struct rlimit rl;
	char host[64];
	uint32_t ip;
	long port;

	if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
		snprintf(err, errlen, "%s: '%s' is not ADDR:PORT", field, listen);
		return NULL;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (valid_ipv4(host, &ip, err, errlen))
		return NULL;
	if (port < 1 || port > 65535 || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(err, errlen, "%s: port in '%s' must be 1..65535", field, listen);
		return NULL;
	}
	sin.sin_addr.s_addr = htonl(ip);
	sin.sin_port = htons((uint16_t)port);
	/*
	 * As many connections as the descriptors allow, less a reserve for the
	 * database, dnsmasq, files and the second listener; one address never
	 * more than a quarter of them.  Every agent keeps its connection open
	 * (docs/protocol.md), so a cluster needs one per node: raise
	 * RLIMIT_NOFILE (LimitNOFILE in the unit) for big ones.
	 */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)conn_limit + 1024)
		/* Idle kept-alive agents hold no file: a fixed reserve, not half. */
		conn_limit = rl.rlim_cur > 2048 ? (unsigned)(rl.rlim_cur - 1024) :
			     rl.rlim_cur > 96 ? (unsigned)(rl.rlim_cur - 64) / 2 : 16;
	per_ip = (unsigned)sd->cfg.max_conn_per_ip;
	if (per_ip > conn_limit / 4)
		per_ip = conn_limit / 4 ? conn_limit / 4 : 1;
	d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
				     (key ? MHD_USE_TLS : 0),
			     (uint16_t)port, NULL, NULL, http_access, sd,
			     MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, sd,
			     MHD_OPTION_SOCK_ADDR, &sin,
			     MHD_OPTION_NOTIFY_COMPLETED, http_completed, sd,
			     MHD_OPTION_NOTIFY_CONNECTION, http_notify, sd,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			     MHD_OPTION_CONNECTION_LIMIT, conn_limit,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
			     MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
			     /*
			      * SIGPIPE is ignored (selfpipe.c): without this MHD sends files
			      * with pread()+send() through its buffer, not sendfile().
			      */
			     MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)1,
			     key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, key,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
	if (!d)
		snprintf(err, errlen, "%s: cannot listen on %s%s", field, listen,
			 key ? " with TLS (is the key the certificate's?)" :
			       " (in use, or not an address here)");
	return d;
}

int http_start(struct snowd *sd, const struct http_router *r, char *err, size_t errlen)
{
	char *key = NULL, *cert = NULL;

	sd->router = r;
	sd->httpd = http_listen(sd, sd->cfg.listen, "listen", NULL, NULL, err, errlen);
	if (!sd->httpd)
		return -EADDRINUSE;
	if (!sd->cfg.tls_cert && !sd->cfg.tls_key)
		return 0;
	if (!sd->cfg.tls_cert || !sd->cfg.tls_key) {
		snprintf(err, errlen, "%s: needed with --%s", sd->cfg.tls_cert ? "tls-key" : "tls-cert",
			 sd->cfg.tls_cert ? "tls-cert" : "tls-key");
		goto err;
	}
	key = http_read_pem(sd->cfg.tls_key, "tls-key", err, errlen);
	cert = key ? http_read_pem(sd->cfg.tls_cert, "tls-cert", err, errlen) : NULL;
	if (!cert)
		goto err;
	/* MHD keeps pointers to the PEM text: snowd keeps them for its lifetime. */
	sd->tls_key_pem = key;
	sd->tls_cert_pem = cert;
	sd->httpsd = http_listen(sd, sd->cfg.tls_listen, "tls-listen", key, cert, err,
				 errlen);
	if (!sd->httpsd)
		goto err;
	return 0;
err:
	free(key);
	free(cert);
	sd->tls_key_pem = sd->tls_cert_pem = NULL;
	MHD_stop_daemon(sd->httpd);
	sd->httpd = NULL;
	return -EINVAL;
}

void http_stop(struct snowd *sd)
{
	stream_close_all(&sd->stream);
	if (sd->httpsd) {
		MHD_run(sd->httpsd);
		MHD_stop_daemon(sd->httpsd);
		sd->httpsd = NULL;
	}
	if (sd->tls_key_pem)
		explicit_bzero(sd->tls_key_pem, strlen(sd->tls_key_pem));
	free(sd->tls_key_pem);
	free(sd->tls_cert_pem);
	sd->tls_key_pem = sd->tls_cert_pem = NULL;
	if (sd->httpd) {
		/* Let the resumed streams end before the daemon goes. */
		MHD_run(sd->httpd);
		MHD_stop_daemon(sd->httpd);
	}
	sd->httpd = NULL;
	http_ctx_drop_kept();
}
