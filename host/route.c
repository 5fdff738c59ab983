/*
 * The route table and the router (route.h).  A request is matched on its
 * whole path and method to one row, then its caller is checked against the
 * row's access before a byte of body is read.  A new route is a new row:
 * its role is declared next to it, never inferred from the path.
 */
#include "route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "auth.h"
#include "bootsrv.h"
#include "chan.h"
#include "inv.h"
#include "klog.h"
#include "pstore.h"
#include "log.h"
#include "snowd.h"
#include "valid.h"
#include "web.h"
#include "wire.h"

#define KIB 1024

static const struct route route_rows[] = {
	/* Node boot: iPXE asks without credentials, on the boot address only. */
	{ "GET", "/boot/first.ipxe", ACCESS_BOOT, 0, bootsrv_first,
	  "first-stage iPXE script (chains to the node's own)" },
	{ "GET", "/boot/{mac}.ipxe", ACCESS_BOOT, 0, bootsrv_script,
	  "a node's iPXE script; unknown MACs are listed as discovered" },
	{ "GET", "/boot/{mac}/overlay.cpio", ACCESS_BOOT, 0, bootsrv_overlay,
	  "a node's overlay (node.conf with its secret): to its own address, once per boot" },
	{ "GET", "/boot/images/{ref}/{file}", ACCESS_BOOT, 0, bootsrv_image,
	  "an image's vmlinuz, initrd or rootfs.squashfs" },
	{ "POST", "/boot/{mac}/dmesg", ACCESS_BOOT, 256 * KIB, klog_boot_dmesg,
	  "/init's kernel messages from before netconsole: to its own address, once per boot" },
	{ "GET", "/boot/{mac}/rootfs/{state}", ACCESS_BOOT, 0, bootsrv_rootfs,
	  "a whole-system image's /init: its root verified, mounted or failed (?why=)" },
	/* The node channel: every request signed with the node's secret. */
	{ "POST", WIRE_PATH_REGISTER, ACCESS_NODE, WIRE_MAX_BODY, chan_register,
	  "an agent registers a boot: identity and value schema" },
	{ "POST", WIRE_PATH_REPORT, ACCESS_NODE, WIRE_MAX_BODY, chan_report,
	  "an agent's report: values, events, results; the answer carries commands" },
	{ "POST", WIRE_PATH_OVERLAY, ACCESS_NODE, 4 * KIB, chan_overlay,
	  "an agent's config.reload: its overlay again, signed" },
	{ "POST", WIRE_PATH_PSTORE, ACCESS_NODE, WIRE_MAX_BODY, chan_pstore,
	  "an agent's pstore files from before a warm reset: the crashed boot's dump" },
	/* The API. */
	{ "GET", "/api/v1/health", ACCESS_PUBLIC, 0, api_health, "liveness, no credentials" },
	{ "POST", "/api/v1/login", ACCESS_PUBLIC, 4 * KIB, api_login,
	  "{user, password} -> a console session cookie and its CSRF token" },
	{ "POST", "/api/v1/logout", ACCESS_VIEWER, 4 * KIB, api_logout, "end the session" },
	{ "GET", "/api/v1/me", ACCESS_VIEWER, 0, api_me, "who is asking, and the session's CSRF token" },
	{ "GET", "/api/v1/stream", ACCESS_VIEWER, 0, api_stream,
	  "server-sent events: node, values, event, command (?values=&full=)" },
	{ "GET", "/api/v1/nodes", ACCESS_VIEWER, 0, api_nodes_list, "every node (?values=&full=)" },
	{ "POST", "/api/v1/nodes", ACCESS_ADMIN, 64 * KIB, api_nodes_add,
	  "{name, mac, ip?, image?, profile?}: add a node" },
	{ "GET", "/api/v1/nodes/{node}", ACCESS_VIEWER, 0, api_node_get,
	  "one node whole: values, devices, settings and their origins" },
	{ "PATCH", "/api/v1/nodes/{node}", ACCESS_ADMIN, 64 * KIB, api_node_patch,
	  "{profile?, settings?, reboot?}: reconfigure (applies at the next boot)" },
	{ "DELETE", "/api/v1/nodes/{node}", ACCESS_ADMIN, 0, api_node_delete, "remove a node" },
	{ "POST", "/api/v1/nodes/{node}/rekey", ACCESS_ADMIN, 4 * KIB, api_node_rekey,
	  "a new secret for the node: to its agent signed with the old one, or at the next boot" },
	{ "GET", "/api/v1/nodes/{node}/commands", ACCESS_VIEWER, 0, api_node_commands,
	  "the node's last commands" },
	{ "POST", "/api/v1/nodes/{node}/commands", ACCESS_OPERATOR, 64 * KIB, api_node_command,
	  "{op, args}: send a command (power.* by the node's power driver)" },
	{ "GET", "/api/v1/nodes/{node}/history", ACCESS_VIEWER, 0, api_node_history,
	  "the last hour of the node's gauges" },
	{ "GET", "/api/v1/nodes/{node}/console", ACCESS_VIEWER, 0, api_node_console,
	  "the end of the node's captured serial console" },
	{ "GET", "/api/v1/nodes/{node}/boots", ACCESS_VIEWER, 0, api_node_boots,
	  "the node's last boots and their stages" },
	{ "GET", "/api/v1/nodes/{node}/boots/{boot}/kernel-log", ACCESS_VIEWER, 0, klog_api_get,
	  "a boot's kernel log by netconsole (boot: an id, or current)" },
	{ "GET", "/api/v1/nodes/{node}/boots/{boot}/pstore", ACCESS_VIEWER, 0, pstore_api_get,
	  "the pstore dump a node sent after a warm reset, tied to the boot that crashed" },
	{ "POST", "/api/v1/commands", ACCESS_OPERATOR, 4096 * KIB, api_commands_bulk,
	  "one command for many nodes {nodes: [NAME...], op, args}: queued together, each node woken" },
	{ "GET", "/api/v1/commands/{id}", ACCESS_VIEWER, 0, api_command_get, "one command" },
	{ "GET", "/api/v1/events", ACCESS_VIEWER, 0, api_events,
	  "events, newest first (?node=&limit=&before=&after=)" },
	{ "GET", "/api/v1/discovered", ACCESS_VIEWER, 0, api_discovered,
	  "MACs that asked to boot and are not nodes" },
	{ "GET", "/api/v1/images", ACCESS_VIEWER, 0, api_images_list, "registered images" },
	{ "POST", "/api/v1/images", ACCESS_ADMIN, 64 * KIB, api_images_add,
	  "{name, kernel, initrd, rootfs?}: register files of this host as a new image version" },
	{ "DELETE", "/api/v1/images/{ref}", ACCESS_ADMIN, 0, api_image_delete,
	  "remove NAME or NAME@VERSION no node, profile or default uses" },
	{ "GET", "/api/v1/profiles", ACCESS_VIEWER, 0, api_profiles_list, "every profile" },
	{ "POST", "/api/v1/profiles", ACCESS_ADMIN, 64 * KIB, api_profile_put,
	  "{name, settings}: add a profile" },
	{ "GET", "/api/v1/profiles/{profile}", ACCESS_VIEWER, 0, api_profile_get, "one profile" },
	{ "PUT", "/api/v1/profiles/{profile}", ACCESS_ADMIN, 64 * KIB, api_profile_put,
	  "{settings}: replace a profile" },
	{ "DELETE", "/api/v1/profiles/{profile}", ACCESS_ADMIN, 0, api_profile_delete,
	  "remove a profile no node uses" },
	{ "GET", "/api/v1/users", ACCESS_ADMIN, 0, api_users_list, "console users" },
	{ "POST", "/api/v1/users", ACCESS_ADMIN, 8 * KIB, api_user_add,
	  "{name, password, role}: add a console user" },
	{ "DELETE", "/api/v1/users/{user}", ACCESS_ADMIN, 0, api_user_delete, "remove a user" },
	{ "GET", "/api/v1/tokens", ACCESS_ADMIN, 0, api_tokens_list, "API tokens (not their secrets)" },
	{ "POST", "/api/v1/tokens", ACCESS_ADMIN, 4 * KIB, api_token_add,
	  "{name, role}: a new API token, shown once" },
	{ "DELETE", "/api/v1/tokens/{token}", ACCESS_ADMIN, 0, api_token_delete, "revoke a token" },
	{ "GET", "/metrics", ACCESS_VIEWER, 0, api_metrics, "Prometheus text format" },
	/* Last: everything else is a file of the web console. */
	{ "GET", "/*", ACCESS_PUBLIC, 0, web_file, "the web console's files" },
};

const struct route *route_table(size_t *n)
{
	*n = sizeof(route_rows) / sizeof(route_rows[0]);
	return route_rows;
}

const char *route_access_name(enum route_access a)
{
	static const char *const names[] = {
		[ACCESS_PUBLIC] = "public", [ACCESS_BOOT] = "boot", [ACCESS_NODE] = "node",
		[ACCESS_VIEWER] = "viewer", [ACCESS_OPERATOR] = "operator", [ACCESS_ADMIN] = "admin",
	};
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* Whether segment seg (len bytes) is a good value for a pattern's {kind}. */
static int route_segment_ok(const char *kind, size_t klen, const char *seg, size_t len)
{
	char v[HTTP_PARAM_MAX + 1], mac[SNOW_MAC_STRLEN + 1];

	if (!len || len > HTTP_PARAM_MAX)
		return 0;
	memcpy(v, seg, len);
	v[len] = '\0';
	if (klen == 2 && !memcmp(kind, "id", 2))
		return strspn(v, "0123456789") == len && len <= 19;
	if (klen == 4 && !memcmp(kind, "boot", 4)) /* a boot id (a UUID), early-MS or current */
		return len <= 39 && strspn(v, "0123456789abcdefghijklmnopqrstuvwxyz-") == len;
	if (klen == 3 && !memcmp(kind, "mac", 3))
		return !valid_mac(v, mac, NULL, 0);
	if ((klen == 3 && !memcmp(kind, "ref", 3)) || (klen == 4 && !memcmp(kind, "file", 4)))
		return v[0] != '.' && strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789-_.@") == len;
	return !valid_name(v, NULL, 0); /* node, profile, user, token */
}

/* Match path against one pattern, filling h's params.  @ret 1 on a match. */
static int route_match_one(const char *pattern, const char *path, struct http_ctx *h)
{
	const char *p = pattern, *s = path;
	unsigned np = 0;

	while (*p) {
		if (*p == '*' && !p[1]) {
			if (h) {
				snprintf(h->param_buf[np], sizeof(h->param_buf[np]), "%s", s);
				h->param[np] = h->param_buf[np];
			}
			return strlen(s) <= HTTP_PARAM_MAX;
		}
		if (*p == '{') {
			const char *close = strchr(p, '}'), *pend, *send = strchr(s, '/');
			size_t suffix;
			if (!close || np >= HTTP_MAX_PARAMS)
				return 0;
			/* The pattern's segment may go on after the parameter: "{mac}.ipxe". */
			pend = strchr(close, '/');
			pend = pend ? pend : close + strlen(close);
			suffix = (size_t)(pend - close - 1);
			send = send ? send : s + strlen(s);
			if ((size_t)(send - s) <= suffix || memcmp(send - suffix, close + 1, suffix))
				return 0;
			if (!route_segment_ok(p + 1, (size_t)(close - p - 1), s,
					      (size_t)(send - s) - suffix))
				return 0;
			if (h) {
				memcpy(h->param_buf[np], s, (size_t)(send - s) - suffix);
				h->param_buf[np][(size_t)(send - s) - suffix] = '\0';
				h->param[np] = h->param_buf[np];
			}
			np++;
			p = pend;
			s = send;
			continue;
		}
		if (*p != *s) /* also the end of path */
			return 0;
		p++;
		s++;
	}
	return !*p && !*s;
}

const struct route *route_match(const char *method, const char *path, struct http_ctx *h,
				int *allowed)
{
	size_t i, n = sizeof(route_rows) / sizeof(route_rows[0]);

	*allowed = 0;
	for (i = 0; i < n; i++) {
		if (!route_match_one(route_rows[i].pattern, path, NULL))
			continue;
		if (strcmp(route_rows[i].method, method)) {
			/* The console's catch-all answers only GET; other paths say what they take. */
			if (strcmp(route_rows[i].pattern, "/*"))
				*allowed = 1;
			continue;
		}
		if (h)
			route_match_one(route_rows[i].pattern, path, h);
		return &route_rows[i];
	}
	return NULL;
}

/* The methods path answers to, for a 405. */
static void route_methods(const char *path, char *out, size_t cap)
{
	size_t i, n = sizeof(route_rows) / sizeof(route_rows[0]), len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len < cap; i++)
		if (strcmp(route_rows[i].pattern, "/*") && route_match_one(route_rows[i].pattern, path, NULL))
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "",
						route_rows[i].method);
}

/*
 * "Authorization: Bearer TOKEN" for scripts and snowctl, else the console's
 * session cookie.
 */
static void route_who(struct http_ctx *h)
{
	const char *auth = http_header(h, MHD_HTTP_HEADER_AUTHORIZATION);
	struct auth_session s;

	memset(&h->who, 0, sizeof(h->who));
	if (auth && !strncmp(auth, "Bearer ", 7)) {
		h->who.role = inv_token_role(&h->sd->inv, auth + 7);
		return;
	}
	h->who.cookie = http_cookie(h, AUTH_SESSION_COOKIE);
	if (h->who.cookie && !auth_session_get(&h->sd->inv, h->who.cookie, (int64_t)time(NULL), &s)) {
		h->who.role = (int)s.role;
		h->who.via_session = 1;
		snprintf(h->who.user, sizeof(h->who.user), "%s", s.user);
		snprintf(h->who.csrf, sizeof(h->who.csrf), "%s", s.csrf);
		explicit_bzero(&s, sizeof(s));
	}
}

static long route_answered(enum MHD_Result r)
{
	return HTTP_BEGIN_ANSWERED(r);
}

static long route_begin(struct http_ctx *h)
{
	const struct route *r;
	uint32_t local;
	int allowed;

	r = route_match(h->method, h->url, h, &allowed);
	if (!r) {
		char methods[64];
		if (!allowed)
			return route_answered(http_error(h, MHD_HTTP_NOT_FOUND, "%s: no such route", h->url));
		route_methods(h->url, methods, sizeof(methods));
		return route_answered(http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use %s", h->url,
						 methods));
	}
	/*
	 * With a certificate, plain HTTP is for what cannot do TLS or signs its
	 * own requests: iPXE and the agents.  Tokens and passwords go over HTTPS.
	 */
	if (h->sd->httpsd && !h->tls && r->access != ACCESS_BOOT && r->access != ACCESS_NODE &&
	    !h->sd->cfg.plain_api)
		return route_answered(http_error(h, MHD_HTTP_FORBIDDEN,
			"%s: served over HTTPS only (--tls-listen %s; --plain-api allows plain HTTP)",
			h->url, h->sd->cfg.tls_listen));
	switch (r->access) {
	case ACCESS_PUBLIC:
		break;
	case ACCESS_BOOT:
		if (http_local_ipv4(h, &local) || local != h->sd->boot_ip)
			return route_answered(http_error(h, MHD_HTTP_FORBIDDEN,
				"%s: boot files are served on the boot interface only", h->url));
		break;
	case ACCESS_NODE:
		/* The signature covers the body: the handler checks it; no headers, no body. */
		if (!http_header(h, SNOW_HDR_NODE) || !http_header(h, SNOW_HDR_SIG))
			return route_answered(http_error(h, MHD_HTTP_UNAUTHORIZED, "node request without %s",
				!http_header(h, SNOW_HDR_NODE) ? SNOW_HDR_NODE : SNOW_HDR_SIG));
		break;
	case ACCESS_VIEWER:
	case ACCESS_OPERATOR:
	case ACCESS_ADMIN:
		route_who(h);
		if (!h->who.role)
			return route_answered(http_error(h, MHD_HTTP_UNAUTHORIZED,
				"authorization: log in, or send 'Authorization: Bearer TOKEN'"));
		if (h->who.role < (int)r->access - ACCESS_VIEWER + ROLE_VIEWER)
			return route_answered(http_error(h, MHD_HTTP_FORBIDDEN,
				"role: %s may not %s %s (needs %s)", inv_role_name((enum inv_role)h->who.role),
				h->method, r->pattern, route_access_name(r->access)));
		/* A change made through a console session carries its CSRF token too. */
		if (strcmp(h->method, "GET") && h->who.via_session) {
			const char *csrf = http_header(h, "X-Snow-CSRF");
			if (!csrf || strcmp(csrf, h->who.csrf))
				return route_answered(http_error(h, MHD_HTTP_FORBIDDEN,
					"X-Snow-CSRF: missing or wrong for this session"));
		}
		break;
	}
	h->route = r;
	/* --max-body bounds every route's own limit. */
	return (long)(r->max_body < (size_t)h->sd->cfg.max_body ? r->max_body :
							    (size_t)h->sd->cfg.max_body);
}

static enum MHD_Result route_handle(struct http_ctx *h)
{
	const struct route *r = h->route;

	/* Another handler's writes never join the node channel's group (chan.h). */
	if (r->access != ACCESS_NODE)
		chan_commit_early(h->sd);
	return r->handler(h);
}

const struct http_router route_router = { .begin = route_begin, .handle = route_handle };
