/*
 * snowd's HTTP side on libmicrohttpd, driven from snowd's poll loop
 * (MHD_USE_EPOLL without an internal thread): request bodies are collected
 * up to a cap, then each request is routed to one handler that answers in
 * full.  Routes:
 *   GET  /boot/first.ipxe, /boot/MAC.ipxe, /boot/MAC/overlay.cpio,
 *        /boot/images/IMAGE/{vmlinuz,initrd}              (nodes, no auth)
 *   POST /api/v1/node/register, /api/v1/node/report        (HMAC-signed)
 *   GET  /api/v1/health                                     (no auth)
 *   GET/POST /api/v1/nodes, GET/DELETE /api/v1/nodes/NAME,
 *   GET  /api/v1/discovered                                 (bearer token)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "images.h"
#include "jsonh.h"
#include "power.h"
#include "settings.h"
#include "log.h"
#include "snowd.h"
#include "valid.h"
#include "wire.h"

#define HTTP_SESSION_COOKIE "snow_session"
#define HTTP_MAX_EVENTS 256  /* events or results in one report */
#define HTTP_MAX_VALUES 4096 /* values in a node's schema */

struct http_req {
	struct buf body;
	int too_big;
};

struct http_ctx {
	struct snowd *sd;
	struct MHD_Connection *conn;
	const char *url;
	const char *method;
	struct http_req *req;
	char client_ip[INET6_ADDRSTRLEN];
};

/* --- answers ------------------------------------------------------------ */

static enum MHD_Result http_send(struct http_ctx *h, unsigned status, const char *ctype,
				 void *data, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(h->conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send v (a reference this call takes over) as JSON. */
static enum MHD_Result http_json(struct http_ctx *h, unsigned status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	size_t len;

	json_decref(v);
	if (!text)
		return MHD_NO;
	len = strlen(text);
	/* One object per line reads well with curl and in logs. */
	text = realloc(text, len + 2);
	if (!text)
		return MHD_NO;
	text[len] = '\n';
	text[len + 1] = '\0';
	return http_send(h, status, "application/json", text, len + 1);
}

static enum MHD_Result http_error(struct http_ctx *h, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result http_error(struct http_ctx *h, unsigned status, const char *fmt, ...)
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

static enum MHD_Result http_text(struct http_ctx *h, const char *ctype, struct buf *b)
{
	size_t len;
	char *data = buf_steal(b, &len);

	return http_send(h, MHD_HTTP_OK, ctype, data, len);
}

static enum MHD_Result http_file(struct http_ctx *h, const char *path, const char *ctype)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not a file", h->url);
	}
	/* MHD sends it with sendfile() and closes fd with the response. */
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(h->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* --- the web console's files ------------------------------------------------ */

static const char *http_mime(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".woff2", "font/woff2" }, { ".map", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* GET / and any other path outside the API: a file of the console. */
static enum MHD_Result http_static(struct http_ctx *h)
{
	const char *rel = strcmp(h->url, "/") ? h->url + 1 : "index.html";
	char path[8192];
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat st;
	int fd;

	if (strcmp(h->method, "GET") && strcmp(h->method, "HEAD"))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET", h->url);
	/* Only plain names below the web folder: no "..", no hidden files. */
	if (strstr(rel, "..") || strstr(rel, "/.") || rel[0] == '.' || strchr(rel, '\\') ||
	    strlen(rel) > 512)
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	snprintf(path, sizeof(path), "%s/%s", h->sd->cfg.web_dir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	}
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, http_mime(path));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	ret = MHD_queue_response(h->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* --- boot --------------------------------------------------------------- */

/* A boot file fetched from a node's own address is one of its boot stages. */
static void http_stage_by_ip(struct http_ctx *h, const char *stage)
{
	struct inv_node n;

	if (!inv_node_get_by_ip(&h->sd->inv, h->client_ip, &n))
		nodes_stage(h->sd, &n, stage);
}

/* Whether the request came in on snowd's boot address (not the admin network). */
static int http_on_boot_interface(struct http_ctx *h)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(h->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct sockaddr_in local;
	socklen_t len = sizeof(local);

	if (!ci || getsockname(ci->connect_fd, (struct sockaddr *)&local, &len) ||
	    local.sin_family != AF_INET)
		return 0;
	return ntohl(local.sin_addr.s_addr) == h->sd->boot_ip;
}

static enum MHD_Result http_boot(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	const char *p = h->url + strlen("/boot/");
	char mac[SNOW_MAC_STRLEN + 1], err[256];
	struct buf out = BUF_INIT;
	struct inv_node n;
	int rc;

	if (strcmp(h->method, "GET") && strcmp(h->method, "HEAD"))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET", h->url);
	if (!http_on_boot_interface(h))
		return http_error(h, MHD_HTTP_FORBIDDEN,
				  "%s: boot files are served on the boot interface only", h->url);
	if (!strcmp(p, "first.ipxe")) {
		http_stage_by_ip(h, "first");
		if (boot_render_first(&sd->boot, &out, err, sizeof(err)))
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
		return http_text(h, "text/plain", &out);
	}
	if (!strncmp(p, "images/", 7)) {
		char ref[SNOW_NAME_MAX + INV_VERSION_LEN + 2], path[8192];
		const char *slash = strchr(p + 7, '/');
		size_t len = slash ? (size_t)(slash - p - 7) : 0;

		if (!slash || len >= sizeof(ref))
			return http_error(h, MHD_HTTP_NOT_FOUND, "%s: no such image file", h->url);
		memcpy(ref, p + 7, len);
		ref[len] = '\0';
		if (images_path(sd, ref, slash + 1, path, sizeof(path)))
			return http_error(h, MHD_HTTP_NOT_FOUND, "%s: no such image file", h->url);
		http_stage_by_ip(h, !strcmp(slash + 1, "vmlinuz") ? "kernel" : "initrd");
		return http_file(h, path, "application/octet-stream");
	}
	/* MAC.ipxe or MAC/overlay.cpio, MAC in either separator form. */
	if (strlen(p) < SNOW_MAC_STRLEN)
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	memcpy(mac, p, SNOW_MAC_STRLEN);
	mac[SNOW_MAC_STRLEN] = '\0';
	if (valid_mac(mac, mac, err, sizeof(err)))
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s", err);
	p += SNOW_MAC_STRLEN;
	if (strcmp(p, ".ipxe") && strcmp(p, "/overlay.cpio"))
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s: not found", h->url);
	rc = inv_node_get_by_mac(&sd->inv, mac, &n);
	if (rc == -ENOENT) {
		if (!strcmp(p, "/overlay.cpio"))
			return http_error(h, MHD_HTTP_NOT_FOUND, "mac: %s is not a node", mac);
		if (inv_discovered_seen(&sd->inv, mac, h->client_ip, (int64_t)time(NULL)))
			log_warnx("boot: cannot record discovered %s", mac);
		log_info("boot: unknown MAC %s (%s) asked for its script: listed as discovered", mac,
			 h->client_ip);
		if (boot_render_unknown(&sd->boot, mac, &out, err, sizeof(err)))
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
		return http_text(h, "text/plain", &out);
	}
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	if (!strcmp(p, ".ipxe")) {
		json_t *eff = nodes_effective(sd, &n, NULL);
		char ref[SNOW_NAME_MAX + INV_VERSION_LEN + 2];
		/* Name the image's current version, so a rebuild cannot change it under the boot. */
		if (eff && !images_ref(sd, json_string_value(json_object_get(eff, "image")), ref,
				       sizeof(ref)))
			json_object_set_new(eff, "image", json_string(ref));
		nodes_stage(sd, &n, "script");
		rc = eff ? boot_render_node(&sd->boot, &n, eff, &out, err, sizeof(err)) : -EIO;
		json_decref(eff);
		if (rc)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "script: %s",
					  eff ? err : "inventory error");
		return http_text(h, "text/plain", &out);
	}
	/* The overlay holds the node's secret: only the node's own address gets it. */
	if (strcmp(h->client_ip, n.ip)) {
		log_warnx("boot: overlay of %s asked by %s, not by its address %s: refused", n.name,
			  h->client_ip, n.ip);
		return http_error(h, MHD_HTTP_FORBIDDEN, "overlay: only %s may fetch it", n.ip);
	}
	nodes_stage(sd, &n, "overlay");
	{
		const char *data;
		size_t len;
		rc = nodes_overlay(sd, &n, &data, &len);
		explicit_bzero(n.secret, sizeof(n.secret));
		if (rc || buf_append(&out, data, len)) {
			buf_free(&out);
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "overlay: cannot build");
		}
	}
	return http_text(h, "application/octet-stream", &out);
}

/* --- node channel -------------------------------------------------------- */

static int http_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 19)
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno ? -EINVAL : 0;
}

/*
 * Authenticate a node request: name header, signature, time window and a
 * nonce above the last one (stored, so a replay fails after a restart too).
 * On failure the answer has been queued into *ret.  @ret 0 when good.
 */
static int http_node_auth(struct http_ctx *h, struct inv_node *n, enum MHD_Result *ret)
{
	struct snowd *sd = h->sd;
	const char *name = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, SNOW_HDR_NODE);
	const char *tstr = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, SNOW_HDR_TIME);
	const char *nstr = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, SNOW_HDR_NONCE);
	const char *sig = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, SNOW_HDR_SIG);
	uint64_t t, nonce;
	char err[256];
	int rc;

	if (!name || !tstr || !nstr || !sig) {
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "node request without %s",
				  !name ? SNOW_HDR_NODE : !tstr ? SNOW_HDR_TIME :
				  !nstr ? SNOW_HDR_NONCE : SNOW_HDR_SIG);
		return -EACCES;
	}
	if (valid_name(name, err, sizeof(err)) || inv_node_get(&sd->inv, name, n)) {
		*ret = http_error(h, MHD_HTTP_FORBIDDEN, "%s: not a node", SNOW_HDR_NODE);
		return -EACCES;
	}
	if (http_parse_u64(tstr, &t) || http_parse_u64(nstr, &nonce)) {
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s/%s: not numbers", SNOW_HDR_TIME,
				  SNOW_HDR_NONCE);
		return -EACCES;
	}
	rc = sign_verify(n->secret, h->method, h->url, (int64_t)t, nonce, h->req->body.data,
			 h->req->body.len, sig, (int64_t)time(NULL));
	explicit_bzero(n->secret, sizeof(n->secret));
	if (rc == -ETIME) {
		log_warnx("node %s: request time %" PRIu64 " is off by more than %d s", n->name, t,
			  SIGN_MAX_SKEW);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: stale or future time", SNOW_HDR_TIME);
		return -EACCES;
	}
	if (rc) {
		log_warnx("node %s: bad signature from %s", n->name, h->client_ip);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: bad signature", SNOW_HDR_SIG);
		return -EACCES;
	}
	rc = inv_node_take_nonce(&sd->inv, n->id, nonce);
	if (rc == -EALREADY) {
		log_warnx("node %s: replayed request (nonce %" PRIu64 ") from %s refused", n->name,
			  nonce, h->client_ip);
		*ret = http_error(h, MHD_HTTP_UNAUTHORIZED, "%s: replayed request", SNOW_HDR_NONCE);
		return -EACCES;
	}
	if (rc) {
		*ret = http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "inventory error: try again later");
		return -EIO;
	}
	return 0;
}

/* A node's schema (NULL: none given): [{name, kind, ...}].  @ret 0 or -EINVAL with err filled. */
static int http_check_schema(json_t *schema, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	if (schema && (!json_is_array(schema) || json_array_size(schema) > HTTP_MAX_VALUES)) {
		snprintf(err, errlen, "schema: must be an array of at most %d values", HTTP_MAX_VALUES);
		return -EINVAL;
	}
	json_array_foreach(schema, i, v) {
		const char *vname, *kind;
		char msg[200];
		if (!json_is_object(v) || jsonh_get_str(v, "name", 1, 127, &vname, msg, sizeof(msg)) ||
		    jsonh_get_str(v, "kind", 1, 16, &kind, msg, sizeof(msg))) {
			snprintf(err, errlen, "schema[%zu]: %s", i,
				 json_is_object(v) ? msg : "must be an object");
			return -EINVAL;
		}
	}
	return 0;
}

static enum MHD_Result http_node_register(struct http_ctx *h, struct inv_node *n, json_t *body)
{
	const char *name, *boot_id, *hostname, *kernel, *version, *mac;
	json_t *schema;
	struct node_rt *rt;
	char err[256];

	if (jsonh_get_str(body, "name", 1, SNOW_NAME_MAX, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "boot_id", 1, 39, &boot_id, err, sizeof(err)) ||
	    jsonh_get_str(body, "hostname", 0, SNOW_NAME_MAX, &hostname, err, sizeof(err)) ||
	    jsonh_get_str(body, "kernel", 0, 63, &kernel, err, sizeof(err)) ||
	    jsonh_get_str(body, "version", 0, 31, &version, err, sizeof(err)) ||
	    jsonh_get_str(body, "mac", 0, SNOW_MAC_STRLEN, &mac, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (strcmp(name, n->name))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "name: '%s' does not match %s", name,
				  SNOW_HDR_NODE);
	schema = json_object_get(body, "schema");
	if (http_check_schema(schema, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	rt = nodes_rt(h->sd, n->id, n->name);
	if (!rt)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if (strcmp(rt->boot_id, boot_id)) {
		/* A new boot: what the last one reported no longer holds. */
		nodes_rt_clear(rt);
		rt->events_acked = 0;
	}
	if (schema) {
		nodes_set_schema(h->sd, rt, schema);
		/* A new schema may name other gauges: their history starts over. */
		history_free(rt->hist);
		rt->hist = history_new(schema);
	}
	snprintf(rt->boot_id, sizeof(rt->boot_id), "%s", boot_id);
	snprintf(rt->hostname, sizeof(rt->hostname), "%s", hostname ? hostname : "");
	snprintf(rt->kernel, sizeof(rt->kernel), "%s", kernel ? kernel : "");
	snprintf(rt->version, sizeof(rt->version), "%s", version ? version : "");
	rt->seq = 0;
	rt->last_seen = (int64_t)time(NULL);
	rt->last_seen_ms = snowd_now_ms();
	nodes_stage(h->sd, n, "online");
	if (rt->state != NODE_ONLINE)
		rt->online_since = rt->last_seen;
	rt->state = NODE_ONLINE;
	log_info("node %s: online (agent %s, kernel %s, boot %s, from %s)", n->name,
		 rt->version, rt->kernel, rt->boot_id, h->client_ip);
	nodes_publish_state(h->sd, rt);
	return http_json(h, MHD_HTTP_OK,
			 json_pack("{s:I}", "interval_ms", (json_int_t)h->sd->cfg.interval_ms));
}

/* Check a report's events and results before anything is stored. */
static int http_check_report(json_t *body, char *err, size_t errlen)
{
	json_t *events = json_object_get(body, "events"), *results = json_object_get(body, "results");
	json_t *e;
	size_t i;

	if (events && (!json_is_array(events) || json_array_size(events) > HTTP_MAX_EVENTS)) {
		snprintf(err, errlen, "events: must be an array of at most %d events", HTTP_MAX_EVENTS);
		return -EINVAL;
	}
	json_array_foreach(events, i, e) {
		json_int_t seq, t;
		const char *type;
		json_t *attrs;
		char msg[200];
		if (!json_is_object(e) ||
		    jsonh_get_int(e, "seq", 1, 1, INT64_MAX, &seq, msg, sizeof(msg)) ||
		    jsonh_get_int(e, "time", 1, 0, INT64_MAX, &t, msg, sizeof(msg)) ||
		    jsonh_get_str(e, "type", 1, 63, &type, msg, sizeof(msg))) {
			snprintf(err, errlen, "events[%zu]: %s", i,
				 json_is_object(e) ? msg : "must be an object");
			return -EINVAL;
		}
		attrs = json_object_get(e, "attrs");
		if (attrs && !json_is_object(attrs)) {
			snprintf(err, errlen, "events[%zu].attrs: must be an object", i);
			return -EINVAL;
		}
		if (!attrs)
			json_object_set_new(e, "attrs", json_object());
	}
	if (results && (!json_is_array(results) || json_array_size(results) > HTTP_MAX_EVENTS)) {
		snprintf(err, errlen, "results: must be an array of at most %d results", HTTP_MAX_EVENTS);
		return -EINVAL;
	}
	json_array_foreach(results, i, e) {
		json_int_t id;
		const char *msg_s;
		char msg[200];
		if (!json_is_object(e) || jsonh_get_int(e, "id", 1, 1, INT64_MAX, &id, msg, sizeof(msg)) ||
		    !json_is_boolean(json_object_get(e, "ok")) ||
		    jsonh_get_str(e, "error", 0, 1024, &msg_s, msg, sizeof(msg))) {
			snprintf(err, errlen, "results[%zu]: %s", i,
				 !json_is_object(e) ? "must be an object" :
				 !json_is_boolean(json_object_get(e, "ok")) ? "ok: must be true or false" : msg);
			return -EINVAL;
		}
	}
#define CHECK_TYPE(key, test, what)                                                                \
	do {                                                                                       \
		json_t *x_ = json_object_get(body, key);                                           \
		if (x_ && !test(x_)) {                                                             \
			snprintf(err, errlen, "%s: must be %s", key, what);                        \
			return -EINVAL;                                                            \
		}                                                                                  \
	} while (0)
	CHECK_TYPE("values", json_is_object, "an object");
	CHECK_TYPE("watermarks", json_is_object, "an object");
	CHECK_TYPE("thresholds", json_is_array, "an array");
	CHECK_TYPE("devices", json_is_array, "an array");
#undef CHECK_TYPE
	/* A schema rides in a report when values appeared since the registration. */
	return http_check_schema(json_object_get(body, "schema"), err, errlen);
}

/* Tell stream clients what a report brought: values, new events, finished commands. */
static void http_publish_report(struct snowd *sd, const struct inv_node *n, struct node_rt *rt,
				json_t *body, int64_t ack)
{
	json_t *upd, *e, *r;
	size_t i;

	if (!sd->stream.clients)
		return;
	upd = json_pack("{s:O?, s:O?, s:I, s:I}", "values", rt->values, "watermarks",
			rt->watermarks, "last_seen", (json_int_t)rt->last_seen, "seq",
			(json_int_t)rt->seq);
	if (upd && json_object_get(body, "thresholds"))
		json_object_set(upd, "thresholds", rt->thresholds);
	if (upd && json_object_get(body, "devices"))
		json_object_set(upd, "devices", rt->devices);
	if (upd && json_object_get(body, "schema"))
		json_object_set(upd, "schema", rt->schema);
	stream_values(sd, n->name, upd);
	json_array_foreach(json_object_get(body, "events"), i, e) {
		if (json_integer_value(json_object_get(e, "seq")) > ack)
			continue;
		/* The id lets a follower (SNMP informs) skip what it already saw. */
		stream_publish(sd, "event",
			       json_pack("{s:I, s:s, s:s, s:O, s:O, s:O, s:O}", "id",
					 (json_int_t)inv_event_id(&sd->inv, n->id, rt->boot_id,
								  json_integer_value(json_object_get(e, "seq"))),
					 "node", n->name, "boot_id", rt->boot_id, "seq",
					 json_object_get(e, "seq"), "time", json_object_get(e, "time"),
					 "type", json_object_get(e, "type"), "attrs",
					 json_object_get(e, "attrs")));
	}
	json_array_foreach(json_object_get(body, "results"), i, r) {
		json_t *c = inv_cmd_get(&sd->inv, json_integer_value(json_object_get(r, "id")));
		if (c)
			stream_publish(sd, "command", c);
	}
}

/* Replace *slot with body[key] when the report carries it (absent: unchanged). */
static void http_keep(json_t **slot, json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);

	if (!v)
		return;
	json_decref(*slot);
	*slot = json_incref(v);
}

static enum MHD_Result http_node_report(struct http_ctx *h, struct inv_node *n, json_t *body)
{
	struct snowd *sd = h->sd;
	const char *name, *boot_id, *key;
	json_t *values, *v, *events, *commands;
	json_int_t seq = 0;
	int64_t ack = 0, now = (int64_t)time(NULL);
	struct node_rt *rt;
	char err[256];

	if (jsonh_get_str(body, "name", 1, SNOW_NAME_MAX, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "boot_id", 1, 39, &boot_id, err, sizeof(err)) ||
	    jsonh_get_int(body, "seq", 1, 0, INT64_MAX, &seq, err, sizeof(err)) ||
	    http_check_report(body, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (strcmp(name, n->name))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "name: '%s' does not match %s", name,
				  SNOW_HDR_NODE);
	rt = nodes_rt(sd, n->id, NULL);
	if (!rt || strcmp(rt->boot_id, boot_id))
		return http_error(h, MHD_HTTP_NOT_FOUND, "boot_id: not registered, register first");
	values = json_object_get(body, "values");
	json_object_foreach(values, key, v) {
		if (!json_is_number(v) || strlen(key) > 127)
			return http_error(h, MHD_HTTP_BAD_REQUEST, "values.%.64s: must be a number",
					  key);
	}
	/* Events and results go to SQLite before the answer acknowledges them. */
	events = json_object_get(body, "events");
	if (json_array_size(events)) {
		if (inv_events_store(&sd->inv, n->id, boot_id, events, now, &ack))
			return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "events: not stored, send again");
		sd->events += json_array_size(events);
		rt->events_acked = ack;
	}
	if (inv_cmd_results(&sd->inv, n->id, json_object_get(body, "results"), now))
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "results: not stored, send again");
	if (json_object_get(body, "schema")) {
		/* New values (a hot-plugged device, a new mount): the gauges kept go on. */
		struct history *hist = history_rebase(rt->hist, json_object_get(body, "schema"));
		if (hist) {
			history_free(rt->hist);
			rt->hist = hist;
		}
		nodes_set_schema(sd, rt, json_object_get(body, "schema"));
	}
	http_keep(&rt->values, body, "values");
	history_add(rt->hist, json_object_get(body, "values"), now);
	http_keep(&rt->watermarks, body, "watermarks");
	http_keep(&rt->thresholds, body, "thresholds");
	http_keep(&rt->devices, body, "devices");
	rt->seq = (uint64_t)seq;
	rt->last_seen = now;
	rt->last_seen_ms = snowd_now_ms();
	if (rt->state != NODE_ONLINE) {
		log_info("node %s: online again", n->name);
		rt->online_since = rt->last_seen;
		rt->state = NODE_ONLINE;
		nodes_publish_state(sd, rt);
	}
	sd->reports++;
	http_publish_report(sd, n, rt, body, ack);
	commands = inv_cmd_take_pending(&sd->inv, n->id, now);
	if (!commands)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "commands: inventory error");
	return http_json(h, MHD_HTTP_OK, json_pack("{s:I, s:o}", "ack_events",
						   (json_int_t)rt->events_acked, "commands",
						   commands));
}

static enum MHD_Result http_node(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;
	json_t *body;
	char err[256];

	if (strcmp(h->method, "POST"))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use POST", h->url);
	if (http_node_auth(h, &n, &ret))
		return ret;
	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (!strcmp(h->url, WIRE_PATH_REGISTER))
		ret = http_node_register(h, &n, body);
	else
		ret = http_node_report(h, &n, body);
	json_decref(body);
	return ret;
}

/* --- admin API ------------------------------------------------------------ */

/* Who is asking: an API token or a console session. */
struct http_auth {
	enum inv_role role;   /* 0 when neither */
	int via_session;
	struct auth_session session;
	const char *cookie;
};

/*
 * "Authorization: Bearer TOKEN" for scripts and snowctl, else the console's
 * session cookie.  A change made through a session must also carry the
 * session's CSRF token in X-Snow-CSRF (checked by the caller).
 */
static void http_authenticate(struct http_ctx *h, struct http_auth *a)
{
	const char *auth =
		MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	memset(a, 0, sizeof(*a));
	if (auth && !strncmp(auth, "Bearer ", 7)) {
		a->role = (enum inv_role)inv_token_role(&h->sd->inv, auth + 7);
		return;
	}
	a->cookie = MHD_lookup_connection_value(h->conn, MHD_COOKIE_KIND, HTTP_SESSION_COOKIE);
	if (a->cookie &&
	    !auth_session_get(&h->sd->inv, a->cookie, (int64_t)time(NULL), &a->session)) {
		a->role = a->session.role;
		a->via_session = 1;
	}
}

static enum MHD_Result http_login(struct http_ctx *h)
{
	char cookie[SIGN_SECRET_HEX_LEN + 1], err[256], setc[256];
	const char *user, *password;
	struct auth_session s;
	struct MHD_Response *r;
	enum MHD_Result ret;
	json_t *body;
	char *text;
	int rc;

	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_get_str(body, "user", 1, SNOW_NAME_MAX, &user, err, sizeof(err)) ||
	    jsonh_get_str(body, "password", 1, 512, &password, err, sizeof(err))) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	rc = auth_login(&h->sd->inv, user, password, (int64_t)time(NULL), cookie, &s);
	if (rc) {
		log_warnx("login: refused for '%s' from %s", user, h->client_ip);
		json_decref(body);
		return http_error(h, rc == -EACCES ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "login: wrong user or password");
	}
	log_info("login: %s (%s) from %s", s.user, inv_role_name(s.role), h->client_ip);
	json_decref(body);
	{
		json_t *ans = json_pack("{s:s, s:s, s:s}", "user", s.user, "role",
					inv_role_name(s.role), "csrf", s.csrf);
		text = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
		json_decref(ans);
	}
	if (!text)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	snprintf(setc, sizeof(setc), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
		 HTTP_SESSION_COOKIE, cookie, AUTH_SESSION_TTL);
	explicit_bzero(cookie, sizeof(cookie));
	MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, setc);
	explicit_bzero(setc, sizeof(setc));
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(h->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* POST /api/v1/users {name, password, role}; GET lists; DELETE /api/v1/users/NAME. */
static enum MHD_Result http_users(struct http_ctx *h, const char *rest)
{
	static const char *const fields[] = { "name", "password", "role", NULL };
	const char *name, *password, *role;
	enum inv_role r;
	char err[256];
	json_t *body;
	int rc;

	if (!strcmp(h->method, "GET") && !*rest) {
		json_t *arr = auth_user_list(&h->sd->inv);
		return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "users", arr)) :
			     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (!strcmp(h->method, "DELETE") && *rest == '/') {
		rc = auth_user_rm(&h->sd->inv, rest + 1);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no user '%.64s'", rest + 1);
		if (rc)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		log_info("users: %s removed", rest + 1);
		return http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", rest + 1));
	}
	if (strcmp(h->method, "POST") || *rest)
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET, POST or DELETE", h->url);
	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	rc = -EINVAL;
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    valid_name(name, err, sizeof(err)) ||
	    jsonh_get_str(body, "password", 1, 4096, &password, err, sizeof(err)) ||
	    jsonh_get_str(body, "role", 1, 16, &role, err, sizeof(err)))
		goto out;
	r = inv_role_parse(role);
	if (!r) {
		snprintf(err, sizeof(err), "role: '%s' is not viewer, operator or admin", role);
		goto out;
	}
	rc = auth_user_add(&h->sd->inv, name, password, r, err, sizeof(err));
	if (!rc) {
		/* name and role belong to body: answer before letting it go. */
		json_t *ans = json_pack("{s:s, s:s}", "name", name, "role", role);
		log_info("users: %s added (%s)", name, role);
		json_decref(body);
		return http_json(h, MHD_HTTP_CREATED, ans);
	}
out:
	json_decref(body);
	if (rc == -EEXIST)
		return http_error(h, MHD_HTTP_CONFLICT, "%s", err);
	if (rc == -EINVAL)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

/* POST /api/v1/tokens {name, role} -> the token, shown once; GET lists; DELETE /tokens/NAME. */
static enum MHD_Result http_tokens(struct http_ctx *h, const char *rest)
{
	static const char *const fields[] = { "name", "role", NULL };
	const char *name, *role;
	char err[256], token[72];
	enum inv_role r;
	json_t *body, *ans;
	int rc;

	if (!strcmp(h->method, "GET") && !*rest) {
		json_t *arr = inv_token_list(&h->sd->inv);
		return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "tokens", arr)) :
			     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (!strcmp(h->method, "DELETE") && *rest == '/') {
		rc = inv_token_rm(&h->sd->inv, rest + 1);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no token '%.64s'", rest + 1);
		return rc ? http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error") :
			    http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", rest + 1));
	}
	if (strcmp(h->method, "POST") || *rest)
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET, POST or DELETE", h->url);
	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    valid_name(name, err, sizeof(err)) ||
	    jsonh_get_str(body, "role", 1, 16, &role, err, sizeof(err))) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	r = inv_role_parse(role);
	if (!r) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "role: '%.16s' is not viewer, operator or admin", role);
	}
	rc = inv_token_create(&h->sd->inv, name, r, token);
	if (rc) {
		json_decref(body);
		return rc == -EEXIST ? http_error(h, MHD_HTTP_CONFLICT, "name: a token named '%.64s' exists", name) :
				       http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	log_info("tokens: %s created (%s)", name, role);
	ans = json_pack("{s:s, s:s, s:s}", "name", name, "role", role, "token", token);
	explicit_bzero(token, sizeof(token));
	json_decref(body);
	return http_json(h, MHD_HTTP_CREATED, ans);
}

/* The ?values=&full= filter of the stream and the node list.  @ret 0 or -errno with err filled. */
static int http_filter(struct http_ctx *h, struct stream_filter *f, char *err, size_t errlen)
{
	return stream_filter_parse(f, MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, "values"),
				   MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, "full"), err,
				   errlen);
}

struct list_ctx {
	struct snowd *sd;
	json_t *arr;
	const struct stream_filter *filter;
};

static int http_list_one(void *vctx, const struct inv_node *n)
{
	struct list_ctx *c = vctx;
	json_t *o = nodes_json(c->sd, n, 0);

	if (o && c->filter)
		stream_filter_node(c->filter, o);
	return json_array_append_new(c->arr, o) ? -ENOMEM : 0;
}

static enum MHD_Result http_nodes_add(struct http_ctx *h)
{
	static const char *const fields[] = { "name", "mac", "ip", "image", "profile", NULL };
	struct snowd *sd = h->sd;
	const char *name, *mac, *ip, *image, *profile;
	struct inv_node n = { 0 };
	uint32_t ipv, pf, pl, df, dl, mask;
	char err[256];
	json_t *body;
	int rc;

	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "mac", 1, 255, &mac, err, sizeof(err)) ||
	    jsonh_get_str(body, "ip", 0, 255, &ip, err, sizeof(err)) ||
	    jsonh_get_str(body, "image", 0, 255, &image, err, sizeof(err)) ||
	    jsonh_get_str(body, "profile", 0, 255, &profile, err, sizeof(err)) ||
	    valid_name(name, err, sizeof(err)) || valid_mac(mac, n.mac, err, sizeof(err)) ||
	    (ip && valid_ipv4(ip, &ipv, err, sizeof(err))))
		goto bad;
	if (image && valid_name(image, NULL, 0)) {
		snprintf(err, sizeof(err), "image: '%.64s' is not a valid image name", image);
		goto bad;
	}
	if (profile) {
		json_t *pr = valid_name(profile, NULL, 0) ? NULL : inv_profile_get(&sd->inv, profile);
		if (!pr) {
			snprintf(err, sizeof(err), "profile: no profile '%.64s'", profile);
			goto bad;
		}
		json_decref(pr);
		snprintf(n.profile, sizeof(n.profile), "%s", profile);
	}
	snprintf(n.name, sizeof(n.name), "%s", name);
	snprintf(n.image, sizeof(n.image), "%s", image ? image : "default");
	mask = sd->boot_prefix ? 0xffffffffu << (32 - sd->boot_prefix) : 0;
	dnsmasq_ranges(sd->boot_ip, sd->boot_prefix, &pf, &pl, &df, &dl);
	if (ip) {
		if ((ipv & mask) != (sd->boot_ip & mask)) {
			snprintf(err, sizeof(err), "ip: %s is outside the boot network %s", ip,
				 sd->cfg.boot_addr);
			goto bad;
		}
		if (ipv == sd->boot_ip || ipv == (sd->boot_ip & mask) || ipv == (sd->boot_ip | ~mask)) {
			snprintf(err, sizeof(err),
				 "ip: %s is the host's, network or broadcast address", ip);
			goto bad;
		}
		if (ipv >= df && ipv <= dl) {
			snprintf(err, sizeof(err), "ip: %s is in the discovery range (dynamic DHCP)", ip);
			goto bad;
		}
		ipv4_format(ipv, n.ip);
	} else {
		/* The first free address of the pool, from one look at the inventory. */
		unsigned char *taken = calloc((size_t)(pl - pf) + 1, 1);
		if (!taken || inv_ips_taken(&sd->inv, pf, pl, taken)) {
			free(taken);
			goto ioerr;
		}
		for (ipv = pf; ipv <= pl; ipv++)
			if (ipv != sd->boot_ip && !taken[ipv - pf])
				break;
		free(taken);
		ipv4_format(ipv, n.ip);
		if (ipv > pl) {
			json_decref(body);
			return http_error(h, MHD_HTTP_CONFLICT, "ip: no free address left in the pool");
		}
	}
	json_decref(body);
	rc = inv_node_add(&sd->inv, &n, err, sizeof(err));
	explicit_bzero(n.secret, sizeof(n.secret));
	if (rc == -EEXIST)
		return http_error(h, MHD_HTTP_CONFLICT, "%s", err);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	log_info("inventory: node %s added (%s, %s, image %s)", n.name, n.mac, n.ip, n.image);
	sd->hosts_dirty = 1;
	return http_json(h, MHD_HTTP_CREATED, nodes_json(sd, &n, 1));
bad:
	json_decref(body);
	return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
ioerr:
	json_decref(body);
	return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

int power_reaped(struct snowd *sd, pid_t pid, int status)
{
	unsigned i;

	for (i = 0; i < sd->npower; i++) {
		if (sd->power_children[i].pid != pid)
			continue;
		int64_t id = sd->power_children[i].cmd_id;
		int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		char why[96];
		json_t *c;
		snprintf(why, sizeof(why), "ipmitool %s %d", WIFEXITED(status) ? "exited with" : "killed by",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		inv_cmd_finish(&sd->inv, id, ok, NULL, ok ? NULL : why, (int64_t)time(NULL));
		log_info("command %lld: ipmi %s", (long long)id, ok ? "done" : why);
		if ((c = inv_cmd_get(&sd->inv, id)))
			stream_publish(sd, "command", c);
		sd->power_children[i] = sd->power_children[--sd->npower];
		return 1;
	}
	return 0;
}

/*
 * power.on/off/cycle/status by the node's power driver.  The agent driver
 * turns off and cycle into the agent's own commands; qmp runs now; ipmi
 * starts ipmitool and finishes when it exits.
 */
static enum MHD_Result http_power(struct http_ctx *h, const struct inv_node *n, const char *op)
{
	struct snowd *sd = h->sd;
	json_t *eff = nodes_effective(sd, n, NULL), *power, *result = NULL, *none, *c;
	const char *driver;
	int64_t id, now = (int64_t)time(NULL);
	char err[300];
	int rc;

	if (!eff)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	power = json_object_get(eff, "power");
	driver = json_string_value(json_object_get(power, "driver"));
	none = json_object();
	if (!driver || !strcmp(driver, "agent")) {
		const char *agent_op = !strcmp(op, "power.off") ? "poweroff" :
				       !strcmp(op, "power.cycle") ? "reboot" : NULL;
		if (!agent_op) {
			json_decref(eff);
			json_decref(none);
			return http_error(h, MHD_HTTP_CONFLICT,
					  "op: %s needs a power driver (set power to qmp or ipmi); "
					  "the agent can only switch its node off or reboot it", op);
		}
		rc = inv_cmd_add(&sd->inv, n->id, agent_op, none, now, &id);
	} else {
		rc = inv_cmd_add(&sd->inv, n->id, op, none, now, &id);
	}
	json_decref(none);
	if (rc) {
		json_decref(eff);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (driver && !strcmp(driver, "qmp")) {
		rc = power_qmp(json_string_value(json_object_get(power, "socket")), op, &result, err,
			       sizeof(err));
		inv_cmd_finish(&sd->inv, id, !rc, result, rc ? err : NULL, now);
		log_info("command %lld: %s of %s by qmp: %s", (long long)id, op, n->name, rc ? err : "done");
		json_decref(result);
	} else if (driver && !strcmp(driver, "ipmi")) {
		pid_t pid = sd->npower < sizeof(sd->power_children) / sizeof(sd->power_children[0]) ?
				    power_ipmi_start(power, op, sd->cfg.ipmitool, err, sizeof(err)) :
				    -EBUSY;
		if (pid == -EBUSY)
			snprintf(err, sizeof(err), "ipmi: too many power operations under way");
		if (pid < 0) {
			inv_cmd_finish(&sd->inv, id, 0, NULL, err, now);
		} else {
			sd->power_children[sd->npower].pid = pid;
			sd->power_children[sd->npower++].cmd_id = id;
			inv_cmd_mark_sent(&sd->inv, id, now);
		}
	}
	json_decref(eff);
	c = inv_cmd_get(&sd->inv, id);
	if (!c)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	stream_publish(sd, "command", json_incref(c));
	return http_json(h, MHD_HTTP_ACCEPTED, c);
}

/* POST /api/v1/nodes/NAME/commands {op, args}; GET lists the node's commands. */
static enum MHD_Result http_commands(struct http_ctx *h, const struct inv_node *n, int is_get)
{
	static const char *const fields[] = { "op", "args", NULL };
	struct snowd *sd = h->sd;
	const char *op;
	char err[256];
	json_t *body, *args, *c;
	int64_t id;
	int rc;

	if (is_get) {
		json_t *arr = inv_cmd_list(&sd->inv, n->id, 100);
		if (!arr)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "commands", arr));
	}
	if (strcmp(h->method, "POST"))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET or POST", h->url);
	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	args = json_object_get(body, "args");
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "op", 1, 32, &op, err, sizeof(err)) ||
	    cmd_check(op, args, err, sizeof(err))) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	if (!args)
		json_object_set_new(body, "args", json_object());
	if (!strncmp(op, "power.", 6)) {
		enum MHD_Result ret = http_power(h, n, op);
		json_decref(body);
		return ret;
	}
	rc = inv_cmd_add(&sd->inv, n->id, op, json_object_get(body, "args"), (int64_t)time(NULL), &id);
	if (!rc)
		log_info("command %lld: %s queued for %s", (long long)id, op, n->name);
	/* op belongs to body: nothing uses it past here. */
	json_decref(body);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	c = inv_cmd_get(&sd->inv, id);
	if (c)
		stream_publish(sd, "command", json_incref(c));
	return c ? http_json(h, MHD_HTTP_ACCEPTED, c) :
		   http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

/*
 * PATCH /api/v1/nodes/NAME {"profile": NAME|null, "settings": {KEY: VALUE|null},
 * "reboot": bool}: reconfigure, applied at the node's next boot; with reboot,
 * a reboot command is queued too.
 */
static enum MHD_Result http_node_patch(struct http_ctx *h, const struct inv_node *n)
{
	static const char *const fields[] = { "profile", "settings", "reboot", NULL };
	struct snowd *sd = h->sd;
	json_t *body, *patch, *own = NULL, *prof, *pv, *ans;
	const char *profile = n->profile;
	char err[256];
	int64_t cmd_id = 0;
	int rc = -EINVAL;

	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	patch = json_object_get(body, "settings");
	pv = json_object_get(body, "profile");
	if (jsonh_only_keys(body, fields, err, sizeof(err)))
		goto bad;
	if (json_object_get(body, "reboot") && !json_is_boolean(json_object_get(body, "reboot"))) {
		snprintf(err, sizeof(err), "reboot: must be true or false");
		goto bad;
	}
	if (patch && settings_check(patch, 1, err, sizeof(err)))
		goto bad;
	if (pv && !json_is_null(pv)) {
		if (!json_is_string(pv) || valid_name(json_string_value(pv), NULL, 0)) {
			snprintf(err, sizeof(err), "profile: must be a profile name or null");
			goto bad;
		}
		prof = inv_profile_get(&sd->inv, json_string_value(pv));
		if (!prof) {
			snprintf(err, sizeof(err), "profile: no profile '%s'", json_string_value(pv));
			goto bad;
		}
		json_decref(prof);
		profile = json_string_value(pv);
	} else if (pv) {
		profile = NULL;
	}
	own = inv_node_settings(&sd->inv, n->id);
	if (!own)
		goto ioerr;
	if (patch)
		settings_patch(own, patch);
	if (inv_node_configure(&sd->inv, n->id, profile, own))
		goto ioerr;
	sd->settings_gen++;
	log_info("node %s: reconfigured (profile %s); applies at its next boot", n->name,
		 profile && *profile ? profile : "none");
	if (json_is_true(json_object_get(body, "reboot"))) {
		json_t *none = json_object();
		rc = inv_cmd_add(&sd->inv, n->id, "reboot", none, (int64_t)time(NULL), &cmd_id);
		json_decref(none);
		if (rc)
			goto ioerr;
	}
	json_decref(own);
	json_decref(body);
	{
		struct inv_node now;
		if (inv_node_get(&sd->inv, n->name, &now))
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		ans = nodes_json(sd, &now, 1);
	}
	if (cmd_id)
		json_object_set_new(ans, "reboot_command", json_integer(cmd_id));
	return http_json(h, MHD_HTTP_OK, ans);
bad:
	json_decref(body);
	return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
ioerr:
	json_decref(own);
	json_decref(body);
	return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

/* /api/v1/profiles[/NAME]: GET (viewer), POST/PUT/DELETE (admin; checked by the caller). */
static enum MHD_Result http_profiles(struct http_ctx *h, const char *rest)
{
	static const char *const fields[] = { "name", "settings", NULL };
	struct snowd *sd = h->sd;
	const char *name = *rest == '/' ? rest + 1 : NULL;
	json_t *body, *settings;
	char err[256];
	int rc, users;

	if (name && valid_name(name, err, sizeof(err)))
		return http_error(h, MHD_HTTP_NOT_FOUND, "%s", err);
	if (!strcmp(h->method, "GET")) {
		json_t *v = name ? inv_profile_get(&sd->inv, name) : inv_profile_list(&sd->inv);
		if (!v)
			return name ? http_error(h, MHD_HTTP_NOT_FOUND, "name: no profile '%s'", name) :
				      http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		return http_json(h, MHD_HTTP_OK, name ? json_pack("{s:s, s:o}", "name", name, "settings", v) :
						       json_pack("{s:o}", "profiles", v));
	}
	if (!strcmp(h->method, "DELETE") && name) {
		rc = inv_profile_rm(&sd->inv, name, &users);
		if (rc == -EBUSY)
			return http_error(h, MHD_HTTP_CONFLICT, "name: %d node(s) use profile '%s'", users, name);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no profile '%s'", name);
		if (rc)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		log_info("profiles: %s removed", name);
		return http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", name));
	}
	if (!((!strcmp(h->method, "POST") && !name) || (!strcmp(h->method, "PUT") && name)))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "%s: GET, POST to /profiles, PUT or DELETE /profiles/NAME", h->url);
	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	settings = json_object_get(body, "settings");
	if (!name && jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)))
		goto bad;
	if (jsonh_only_keys(body, fields, err, sizeof(err)) || valid_name(name, err, sizeof(err)))
		goto bad;
	if (!settings)
		settings = json_object_get(body, "settings") ? NULL : json_object();
	else
		json_incref(settings);
	if (settings_check(settings, 0, err, sizeof(err))) {
		json_decref(settings);
		goto bad;
	}
	rc = inv_profile_put(&sd->inv, name, settings, !strcmp(h->method, "POST"));
	json_decref(settings);
	if (rc == -EEXIST || rc == -ENOENT) {
		/* name may belong to body: the message first, then let body go. */
		snprintf(err, sizeof(err), "name: %s profile '%s'",
			 rc == -EEXIST ? "there is already a" : "no", name);
		json_decref(body);
		return http_error(h, rc == -EEXIST ? MHD_HTTP_CONFLICT : MHD_HTTP_NOT_FOUND, "%s", err);
	}
	if (rc) {
		json_decref(body);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	sd->settings_gen++;
	log_info("profiles: %s %s", name, !strcmp(h->method, "POST") ? "added" : "replaced");
	{
		json_t *ans = json_pack("{s:s, s:o}", "name", name, "settings",
					inv_profile_get(&sd->inv, name));
		json_decref(body);
		return http_json(h, !strcmp(h->method, "POST") ? MHD_HTTP_CREATED : MHD_HTTP_OK, ans);
	}
bad:
	json_decref(body);
	return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
}

/* GET /api/v1/nodes/NAME/console: the end (64 KiB) of the node's captured serial console. */
static enum MHD_Result http_console(struct http_ctx *h, const struct inv_node *n)
{
	json_t *eff = nodes_effective(h->sd, n, NULL);
	const char *path = json_string_value(json_object_get(eff, "console_log"));
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t got;
	off_t size;
	int fd;

	if (!path) {
		json_decref(eff);
		return http_error(h, MHD_HTTP_NOT_FOUND, "console_log: not set for %s", n->name);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	json_decref(eff);
	if (fd < 0)
		return http_error(h, MHD_HTTP_NOT_FOUND, "console_log: cannot read it: %s", strerror(errno));
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(chunk) ? size - (off_t)sizeof(chunk) : 0, SEEK_SET);
	got = read(fd, chunk, sizeof(chunk));
	close(fd);
	if (got > 0)
		buf_append(&b, chunk, (size_t)got);
	else
		buf_puts(&b, "");
	return http_text(h, "text/plain; charset=utf-8", &b);
}

/* GET /api/v1/images; POST {name, kernel, initrd} registers files of this host (admin). */
static enum MHD_Result http_images(struct http_ctx *h)
{
	static const char *const fields[] = { "name", "kernel", "initrd", NULL };
	char version[INV_VERSION_LEN + 1], err[512];
	const char *name, *kernel, *initrd;
	json_t *body;
	int rc;

	if (!strcmp(h->method, "GET")) {
		json_t *arr = inv_image_list(&h->sd->inv);
		return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "images", arr)) :
			     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (strcmp(h->method, "POST"))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET or POST", h->url);
	body = jsonh_parse_object(h->req->body.data, h->req->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "kernel", 1, 4000, &kernel, err, sizeof(err)) ||
	    jsonh_get_str(body, "initrd", 1, 4000, &initrd, err, sizeof(err)))
		rc = -EINVAL;
	else
		rc = images_register(h->sd, name, kernel, initrd, version, err, sizeof(err));
	if (rc) {
		json_decref(body);
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "%s", err);
	}
	{
		json_t *ans = json_pack("{s:s, s:s}", "name", name, "version", version);
		json_decref(body);
		return http_json(h, MHD_HTTP_CREATED, ans);
	}
}

/* GET /api/v1/events?node=NAME&limit=N&before=ID, newest first. */
static enum MHD_Result http_events(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	const char *node = MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, "node");
	const char *lim = MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, "limit");
	const char *bef = MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, "before");
	const char *aft = MHD_lookup_connection_value(h->conn, MHD_GET_ARGUMENT_KIND, "after");
	uint64_t limit = 100, before = 0, after = 0;
	int64_t node_id = 0;
	char err[256];
	json_t *arr;

	if (node) {
		struct inv_node n;
		if (valid_name(node, err, sizeof(err)) || inv_node_get(&sd->inv, node, &n))
			return http_error(h, MHD_HTTP_NOT_FOUND, "node: no node '%.64s'", node);
		node_id = n.id;
	}
	if (lim && (http_parse_u64(lim, &limit) || limit < 1 || limit > 10000))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "limit: must be a number 1..10000");
	if (bef && http_parse_u64(bef, &before))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "before: must be an event id");
	if (aft && (http_parse_u64(aft, &after) || after > INT64_MAX))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "after: must be an event id");
	arr = inv_events_list(&sd->inv, node_id, (int64_t)before, aft ? (int64_t)after : -1,
			      (int)limit);
	if (!arr)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "events", arr));
}

static enum MHD_Result http_api(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	const char *p = h->url + strlen("/api/v1/");
	int role, is_get = !strcmp(h->method, "GET");
	struct http_auth a;
	char err[256];

	if (!strcmp(p, "health") && is_get)
		return http_json(h, MHD_HTTP_OK, snowd_health(sd));
	if (!strcmp(p, "login") && !strcmp(h->method, "POST"))
		return http_login(h);
	http_authenticate(h, &a);
	role = (int)a.role;
	if (!role)
		return http_error(h, MHD_HTTP_UNAUTHORIZED,
				  "authorization: log in, or send 'Authorization: Bearer TOKEN'");
	if (!is_get && a.via_session) {
		const char *csrf = MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, "X-Snow-CSRF");
		if (!csrf || strcmp(csrf, a.session.csrf))
			return http_error(h, MHD_HTTP_FORBIDDEN,
					  "X-Snow-CSRF: missing or wrong for this session");
	}
	if (!strcmp(p, "logout") && !strcmp(h->method, "POST")) {
		if (a.via_session)
			auth_logout(&sd->inv, a.cookie);
		return http_json(h, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
	}
	if (!strcmp(p, "me") && is_get) {
		json_t *me = json_pack("{s:s, s:s}", "user", a.via_session ? a.session.user : "(token)",
				       "role", inv_role_name(a.role));
		if (a.via_session)
			json_object_set_new(me, "csrf", json_string(a.session.csrf));
		return http_json(h, MHD_HTTP_OK, me);
	}
	if (!strcmp(p, "stream") && is_get) {
		struct stream_filter f;
		char ferr[200];
		if (http_filter(h, &f, ferr, sizeof(ferr)))
			return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", ferr);
		return stream_open(sd, h->conn, &f);
	}
	if (!strncmp(p, "users", 5) && (!p[5] || p[5] == '/')) {
		if (role < ROLE_ADMIN)
			return http_error(h, MHD_HTTP_FORBIDDEN, "role: only an admin manages users");
		return http_users(h, p + 5);
	}
	if (!strncmp(p, "tokens", 6) && (!p[6] || p[6] == '/')) {
		if (role < ROLE_ADMIN)
			return http_error(h, MHD_HTTP_FORBIDDEN, "role: only an admin manages tokens");
		return http_tokens(h, p + 6);
	}
	if (!is_get && strstr(p, "/commands")) {
		if (role < ROLE_OPERATOR)
			return http_error(h, MHD_HTTP_FORBIDDEN, "role: %s may not send commands",
					  inv_role_name((enum inv_role)role));
	} else if (!is_get && role < ROLE_ADMIN) {
		return http_error(h, MHD_HTTP_FORBIDDEN, "role: %s may not change the inventory",
				  inv_role_name((enum inv_role)role));
	}
	if (!strcmp(p, "events") && is_get)
		return http_events(h);
	if (!strncmp(p, "commands/", 9) && is_get) {
		uint64_t id;
		json_t *c;
		if (http_parse_u64(p + 9, &id))
			return http_error(h, MHD_HTTP_NOT_FOUND, "id: '%.32s' is not a command id", p + 9);
		c = inv_cmd_get(&sd->inv, (int64_t)id);
		if (!c)
			return http_error(h, MHD_HTTP_NOT_FOUND, "id: no command %" PRIu64, id);
		return http_json(h, MHD_HTTP_OK, c);
	}
	if (!strcmp(p, "nodes")) {
		if (is_get) {
			/* ?values=&full= as for the stream: a console's overview needs a few values of each. */
			struct stream_filter f;
			struct list_ctx c = { sd, NULL, &f };
			char ferr[200];
			if (http_filter(h, &f, ferr, sizeof(ferr)))
				return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", ferr);
			c.arr = json_array();
			if (!c.arr || inv_node_foreach(&sd->inv, http_list_one, &c)) {
				json_decref(c.arr);
				stream_filter_free(&f);
				return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
			}
			stream_filter_free(&f);
			return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "nodes", c.arr));
		}
		if (!strcmp(h->method, "POST"))
			return http_nodes_add(h);
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET or POST", h->url);
	}
	if (!strncmp(p, "nodes/", 6)) {
		char name[SNOW_NAME_MAX + 2];
		const char *sub = strchr(p + 6, '/');
		size_t len = sub ? (size_t)(sub - p - 6) : strlen(p + 6);
		struct inv_node n;
		int rc;

		snprintf(name, sizeof(name), "%.*s", (int)(len > SNOW_NAME_MAX + 1 ? SNOW_NAME_MAX + 1 : len),
			 p + 6);
		if (valid_name(name, err, sizeof(err)))
			return http_error(h, MHD_HTTP_NOT_FOUND, "%s", err);
		rc = inv_node_get(&sd->inv, name, &n);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no node '%s'", name);
		if (rc)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		if (sub && !strcmp(sub, "/commands"))
			return http_commands(h, &n, is_get);
		if (!sub && !strcmp(h->method, "PATCH"))
			return http_node_patch(h, &n);
		if (sub && !strcmp(sub, "/history") && is_get) {
			struct node_rt *rt = nodes_rt(sd, n.id, NULL);
			json_t *hj = history_json(rt ? rt->hist : NULL);
			return hj ? http_json(h, MHD_HTTP_OK, hj) :
				    http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		}
		if (sub && !strcmp(sub, "/console") && is_get)
			return http_console(h, &n);
		if (sub && !strcmp(sub, "/boots") && is_get) {
			json_t *arr = inv_boot_list(&sd->inv, n.id, 20);
			return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "boots", arr)) :
				     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		}
		if (sub)
			return http_error(h, MHD_HTTP_NOT_FOUND, "%s: no such route", h->url);
		if (is_get)
			return http_json(h, MHD_HTTP_OK, nodes_json(sd, &n, 1));
		if (!strcmp(h->method, "DELETE")) {
			if (inv_node_rm(&sd->inv, name))
				return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
			nodes_rt_forget(sd, n.id);
			log_info("inventory: node %s removed", name);
			stream_publish(sd, "node", json_pack("{s:s, s:s}", "name", name, "state", "removed"));
			sd->hosts_dirty = 1;
			return http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", name));
		}
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET or DELETE", h->url);
	}
	if (!strcmp(p, "images"))
		return http_images(h);
	if (!strncmp(p, "profiles", 8) && (!p[8] || p[8] == '/'))
		return http_profiles(h, p + 8);
	if (!strcmp(p, "discovered") && is_get) {
		json_t *arr = inv_discovered_list(&sd->inv);
		if (!arr)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "discovered", arr));
	}
	return http_error(h, MHD_HTTP_NOT_FOUND, "%s: no such route", h->url);
}

/* --- MHD glue -------------------------------------------------------------- */

static enum MHD_Result http_route(struct http_ctx *h)
{
	if (h->req->too_big)
		return http_error(h, MHD_HTTP_CONTENT_TOO_LARGE, "body: larger than %ld bytes",
				  h->sd->cfg.max_body);
	if (!strncmp(h->url, "/boot/", 6))
		return http_boot(h);
	if (!strcmp(h->url, WIRE_PATH_REGISTER) || !strcmp(h->url, WIRE_PATH_REPORT))
		return http_node(h);
	if (!strncmp(h->url, "/api/v1/", 8))
		return http_api(h);
	if (!strcmp(h->url, "/metrics") && !strcmp(h->method, "GET")) {
		struct http_auth a;
		struct buf b = BUF_INIT;
		http_authenticate(h, &a);
		if (!a.role)
			return http_error(h, MHD_HTTP_UNAUTHORIZED,
					  "authorization: send 'Authorization: Bearer TOKEN'");
		if (metrics_render(h->sd, &b)) {
			buf_free(&b);
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics: inventory error");
		}
		return http_text(h, "text/plain; version=0.0.4", &b);
	}
	return http_static(h);
}

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

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	struct snowd *sd = cls;
	struct http_req *req = *con_cls;
	struct http_ctx h;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (req->too_big || req->body.len + *upload_data_size > (size_t)sd->cfg.max_body) {
			/* Keep reading so the client gets our answer, but store nothing. */
			req->too_big = 1;
			buf_free(&req->body);
		} else if (buf_append(&req->body, upload_data, *upload_data_size)) {
			return MHD_NO;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	sd->requests++;
	h.sd = sd;
	h.conn = conn;
	h.url = url;
	h.method = method;
	h.req = req;
	http_client_ip(conn, h.client_ip, sizeof(h.client_ip));
	return http_route(&h);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	if (!req)
		return;
	buf_free(&req->body);
	free(req);
	*con_cls = NULL;
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
static struct MHD_Daemon *http_listen(struct snowd *sd, const char *listen, const char *field,
				      const char *key, const char *cert, char *err, size_t errlen)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon = strrchr(listen, ':');
	struct MHD_Daemon *d;
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
	d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
				     (key ? MHD_USE_TLS : 0),
			     (uint16_t)port, NULL, NULL, http_access, sd,
			     MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, sd,
			     MHD_OPTION_SOCK_ADDR, &sin,
			     MHD_OPTION_NOTIFY_COMPLETED, http_completed, sd,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
			     MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
			     key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, key,
			     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
	if (!d)
		snprintf(err, errlen, "%s: cannot listen on %s%s", field, listen,
			 key ? " with TLS (is the key the certificate's?)" :
			       " (in use, or not an address here)");
	return d;
}

int http_start(struct snowd *sd, char *err, size_t errlen)
{
	char *key = NULL, *cert = NULL;

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
	sd->httpsd = http_listen(sd, sd->cfg.tls_listen, "tls-listen", key, cert, err, errlen);
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
	stream_close_all(sd);
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
}
