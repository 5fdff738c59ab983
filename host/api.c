/*
 * The REST API's node-side handlers (api.h): the node list and each node,
 * commands, events, the stream, /metrics.  Who may call each is route.c's.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bmc.h"
#include "cmd.h"
#include "fsafe.h"
#include "health.h"
#include "history.h"
#include "jsonh.h"
#include "log.h"
#include "metrics.h"
#include "nodes.h"
#include "power.h"
#include "settings.h"
#include "snowd.h"
#include "stream.h"
#include "valid.h"

enum MHD_Result api_health(struct http_ctx *h)
{
	return http_json(h, MHD_HTTP_OK, snowd_health(h->sd));
}

enum MHD_Result api_metrics(struct http_ctx *h)
{
	struct buf b = BUF_INIT;

	if (metrics_render(h->sd, &b)) {
		buf_free(&b);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics: inventory error");
	}
	return http_text(h, "text/plain; version=0.0.4", &b);
}

/* The ?values=&full= filter of the stream and the node list.  @ret 0 or -errno with err filled. */
static int api_filter(struct http_ctx *h, struct stream_filter *f, char *err, size_t errlen)
{
	return stream_filter_parse(f, http_query(h, "values"),
				   http_query(h, "full"), err,
				   errlen);
}

struct list_ctx {
	struct snowd *sd;
	json_t *arr;
	const struct stream_filter *filter;
};

static int api_list_one(void *vctx, const struct inv_node *n)
{
	struct list_ctx *c = vctx;
	json_t *o = nodes_json(c->sd, n, 0);

	if (o && c->filter)
		stream_filter_node(c->filter, o);
	return json_array_append_new(c->arr, o) ? -ENOMEM : 0;
}

enum MHD_Result api_nodes_add(struct http_ctx *h)
{
	static const char *const fields[] = { "name", "mac", "ip", "image", "profile", NULL };
	struct snowd *sd = h->sd;
	const char *name, *mac, *ip, *image, *profile;
	struct inv_node n = { 0 };
	char err[256];
	json_t *body;
	int rc;

	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "mac", 1, 255, &mac, err, sizeof(err)) ||
	    jsonh_get_str(body, "ip", 0, 255, &ip, err, sizeof(err)) ||
	    jsonh_get_str(body, "image", 0, 255, &image, err, sizeof(err)) ||
	    jsonh_get_str(body, "profile", 0, 255, &profile, err, sizeof(err)) ||
	    valid_name(name, err, sizeof(err)) || valid_mac(mac, n.mac, err, sizeof(err)))
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
	rc = nodes_pick_ip(sd, ip, n.ip, err, sizeof(err));
	if (rc == -ENOSPC) {
		json_decref(body);
		return http_error(h, MHD_HTTP_CONFLICT, "%s", err);
	}
	if (rc == -EINVAL)
		goto bad;
	if (rc)
		goto ioerr;
	json_decref(body);
	rc = inv_node_add(&sd->inv, &n, err, sizeof(err));
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (rc == -EEXIST)
		return http_error(h, MHD_HTTP_CONFLICT, "%s", err);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	log_info("inventory: node %s added (%s, %s, image %s)", n.name, n.mac, n.ip, n.image);
	sd->hosts_dirty = 1;
	sd->settings_gen++; /* whole-system overlays carry every node in /etc/hosts */
	return http_json(h, MHD_HTTP_CREATED, nodes_json(sd, &n, 1));
bad:
	json_decref(body);
	return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
ioerr:
	json_decref(body);
	return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

/* power.on/off/cycle/status by the node's power driver (power.c). */
static enum MHD_Result api_power(struct http_ctx *h, const struct inv_node *n, const char *op)
{
	char err[300];
	json_t *c;
	int rc = power_command(h->sd, n, op, &c, err, sizeof(err));

	if (rc == -ENOTSUP)
		return http_error(h, MHD_HTTP_CONFLICT, "%s", err);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	return http_json(h, MHD_HTTP_ACCEPTED, c);
}

/* POST /api/v1/nodes/NAME/commands {op, args}; GET lists the node's commands. */
static enum MHD_Result api_commands(struct http_ctx *h, const struct inv_node *n, int is_get)
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
	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
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
		enum MHD_Result ret = api_power(h, n, op);
		json_decref(body);
		return ret;
	}
	if (bmc_command_for(op, json_object_get(body, "args"))) {
		/* Thresholds and watermarks of bmc.* gauges are snowd's own (bmc.h). */
		rc = bmc_command(sd, n, op, json_object_get(body, "args"), &c, err, sizeof(err));
		json_decref(body);
		if (!rc)
			return http_json(h, MHD_HTTP_OK, c);
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : rc == -ENOENT ?
				  MHD_HTTP_NOT_FOUND : rc == -ENOTSUP ? MHD_HTTP_CONFLICT :
				  MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	}
	rc = inv_cmd_add(&sd->inv, n->id, op, json_object_get(body, "args"), (int64_t)time(NULL), &id);
	if (!rc) {
		log_info("command %lld: %s queued for %s", (long long)id, op, n->name);
		nodes_cmd_queued(sd, n->id);
	}
	/* op belongs to body: nothing uses it past here. */
	json_decref(body);
	if (rc)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	c = inv_cmd_get(&sd->inv, id);
	if (c)
		stream_publish(&sd->stream, "command", json_incref(c));
	return c ? http_json(h, MHD_HTTP_ACCEPTED, c) :
		   http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

/*
 * PATCH /api/v1/nodes/NAME {"profile": NAME|null, "settings": {KEY: VALUE|null},
 * "reboot": bool}: reconfigure, applied at the node's next boot; with reboot,
 * a reboot command is queued too.
 */
static enum MHD_Result api_patch(struct http_ctx *h, const struct inv_node *n)
{
	static const char *const fields[] = { "profile", "settings", "reboot", NULL };
	struct snowd *sd = h->sd;
	json_t *body, *patch, *own = NULL, *prof, *pv, *ans;
	const char *profile = n->profile;
	char err[256];
	int64_t cmd_id = 0;
	int rc = -EINVAL;

	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
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
		nodes_cmd_queued(sd, n->id);
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

/* GET /api/v1/nodes/NAME/console: the end (64 KiB) of the node's captured serial console. */
static enum MHD_Result api_console(struct http_ctx *h, const struct inv_node *n)
{
	json_t *eff = nodes_effective(h->sd, n, NULL);
	const char *path = json_string_value(json_object_get(eff, "console_log"));
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t got;
	off_t size;
	int fd;

	if (!path) {
		char sol[4200];
		json_decref(eff);
		/* A node whose BMC carries its serial port: snowd's own log of it (bmc.h). */
		if (!bmc_sol_log(h->sd, n->id, sol, sizeof(sol))) {
			fd = open(sol, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return http_error(h, MHD_HTTP_NOT_FOUND, "serial-over-LAN: nothing "
						  "read from %s's BMC yet", n->name);
			goto read;
		}
		return http_error(h, MHD_HTTP_NOT_FOUND, "console_log: not set for %s", n->name);
	}
	{
		char err[600];
		fd = fsafe_open(h->sd->cfg.allow_dir, path, "console_log", err, sizeof(err));
		json_decref(eff);
		if (fd == -EPERM)
			return http_error(h, MHD_HTTP_FORBIDDEN, "%s", err);
		if (fd < 0)
			return http_error(h, MHD_HTTP_NOT_FOUND, "%s", err);
	}
read:
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

enum MHD_Result api_stream(struct http_ctx *h)
{
	struct stream_filter f;
	char err[200];

	if (api_filter(h, &f, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	return stream_open(&h->sd->stream, h->conn, &f);
}

enum MHD_Result api_nodes_list(struct http_ctx *h)
{
	/* ?values=&full= as for the stream: a console's overview needs a few values of each. */
	struct stream_filter f;
	struct list_ctx c = { h->sd, NULL, &f };
	char err[200];

	if (api_filter(h, &f, err, sizeof(err)))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	c.arr = json_array();
	if (!c.arr || inv_node_foreach(&h->sd->inv, api_list_one, &c)) {
		json_decref(c.arr);
		stream_filter_free(&f);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	stream_filter_free(&f);
	return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "nodes", c.arr));
}

enum MHD_Result api_node_get(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	return http_json(h, MHD_HTTP_OK, nodes_json(h->sd, &n, 1));
}

enum MHD_Result api_node_delete(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	enum MHD_Result ret;
	struct inv_node n;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	if (inv_node_rm(&sd->inv, n.name))
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	nodes_rt_forget(sd, n.id);
	log_info("inventory: node %s removed", n.name);
	stream_publish(&sd->stream, "node", json_pack("{s:s, s:s}", "name", n.name, "state", "removed"));
	sd->hosts_dirty = 1;
	sd->settings_gen++;
	return http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", n.name));
}

enum MHD_Result api_node_rekey(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	char secret[SIGN_SECRET_HEX_LEN + 1];
	enum MHD_Result ret;
	struct inv_node n;
	struct node_rt *rt;
	int rc;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	rc = inv_node_rekey(&sd->inv, n.id, secret);
	explicit_bzero(secret, sizeof(secret)); /* the answer never carries it */
	if (rc)
		return http_error(h, rc == -ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_SERVICE_UNAVAILABLE,
				  "%s", rc == -ENOENT ? "name: no such node" :
				  "inventory error: not rekeyed, try again");
	/* The cached overlay holds the old secret: the next boot gets the new one. */
	rt = nodes_rt(sd, n.id, NULL);
	if (rt && rt->overlay.data) {
		explicit_bzero(rt->overlay.data, rt->overlay.len);
		buf_reset(&rt->overlay);
	}
	log_info("inventory: node %s rekeyed by %s (sent to its agent in its next answer)", n.name,
		 h->who.user[0] ? h->who.user : "a token");
	return http_json(h, MHD_HTTP_OK,
			 json_pack("{s:s, s:s}", "rekeyed", n.name, "delivery",
				   "in the answer to the agent's next request (signed with the old "
				   "secret), or in the overlay at the next boot"));
}

enum MHD_Result api_node_patch(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;

	return http_node(h, h->param[0], &n, &ret) ? ret : api_patch(h, &n);
}

enum MHD_Result api_node_commands(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;

	return http_node(h, h->param[0], &n, &ret) ? ret : api_commands(h, &n, 1);
}

enum MHD_Result api_node_command(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;

	return http_node(h, h->param[0], &n, &ret) ? ret : api_commands(h, &n, 0);
}

enum MHD_Result api_node_console(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;

	return http_node(h, h->param[0], &n, &ret) ? ret : api_console(h, &n);
}

enum MHD_Result api_node_history(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;
	struct node_rt *rt;
	json_t *hj;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	rt = nodes_rt(h->sd, n.id, NULL);
	hj = history_json(rt ? rt->hist : NULL);
	return hj ? http_json(h, MHD_HTTP_OK, hj) :
		    http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
}

enum MHD_Result api_node_boots(struct http_ctx *h)
{
	enum MHD_Result ret;
	struct inv_node n;
	json_t *arr;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	arr = inv_boot_list(&h->sd->inv, n.id, 20);
	return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "boots", arr)) :
		     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

enum MHD_Result api_command_get(struct http_ctx *h)
{
	uint64_t id;
	json_t *c;

	if (valid_u64(h->param[0], &id))
		return http_error(h, MHD_HTTP_NOT_FOUND, "id: '%.32s' is not a command id", h->param[0]);
	c = inv_cmd_get(&h->sd->inv, (int64_t)id);
	if (!c)
		return http_error(h, MHD_HTTP_NOT_FOUND, "id: no command %" PRIu64, id);
	return http_json(h, MHD_HTTP_OK, c);
}

enum MHD_Result api_discovered(struct http_ctx *h)
{
	json_t *arr = inv_discovered_list(&h->sd->inv);

	if (!arr)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "discovered", arr));
}

/* GET /api/v1/events?node=NAME&limit=N&before=ID, newest first. */
enum MHD_Result api_events(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	const char *node = http_query(h, "node");
	const char *lim = http_query(h, "limit");
	const char *bef = http_query(h, "before");
	const char *aft = http_query(h, "after");
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
	if (lim && (valid_u64(lim, &limit) || limit < 1 || limit > 10000))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "limit: must be a number 1..10000");
	if (bef && valid_u64(bef, &before))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "before: must be an event id");
	if (aft && (valid_u64(aft, &after) || after > INT64_MAX))
		return http_error(h, MHD_HTTP_BAD_REQUEST, "after: must be an event id");
	arr = inv_events_list(&sd->inv, node_id, (int64_t)before, aft ? (int64_t)after : -1,
			      (int)limit);
	if (!arr)
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	return http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "events", arr));
}

