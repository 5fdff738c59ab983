/*
 * POST /api/v1/commands: one command for many nodes in one request (what
 * `snowctl node reboot all` sends).  Every command is queued in one
 * transaction, then each node is woken (wake.h), so a thousand nodes hear
 * of it within one round trip of the POST instead of a thousand POSTs and
 * their next reports later.  The host's power ops start on every node's
 * driver at once instead (api_cmd_power).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "bmc.h"
#include "cmd.h"
#include "inv.h"
#include "jsonh.h"
#include "log.h"
#include "nodes.h"
#include "power.h"
#include "snowd.h"
#include "stream.h"
#include "valid.h"

#define API_CMD_NODES_MAX 100000

/*
 * The node ids of names (an array of node names, checked), into *ids
 * (malloc'd, the caller frees it).  @ret 0; -EINVAL or -ENOENT with err
 * naming the entry; -ENOMEM; -EIO.
 */
static int api_cmd_targets(struct snowd *sd, json_t *names, int64_t **ids, char *err,
			   size_t errlen)
{
	size_t i, n = json_array_size(names);
	struct inv_node node;
	json_t *v;

	*ids = NULL;
	if (!json_is_array(names) || !n || n > API_CMD_NODES_MAX) {
		snprintf(err, errlen, "nodes: must be an array of 1..%d node names",
			 API_CMD_NODES_MAX);
		return -EINVAL;
	}
	*ids = calloc(n, sizeof(**ids));
	if (!*ids) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(names, i, v) {
		const char *name = json_string_value(v);
		char why[128];
		int rc;
		if (!name || valid_name(name, why, sizeof(why))) {
			snprintf(err, errlen, "nodes[%zu]: not a node name", i);
			return -EINVAL;
		}
		rc = inv_node_get(&sd->inv, name, &node);
		explicit_bzero(node.secret, sizeof(node.secret));
		explicit_bzero(node.old_secret, sizeof(node.old_secret));
		if (rc == -ENOENT) {
			snprintf(err, errlen, "nodes[%zu]: no node '%s'", i, name);
			return -ENOENT;
		}
		if (rc) {
			snprintf(err, errlen, "inventory error");
			return -EIO;
		}
		(*ids)[i] = node.id;
	}
	return 0;
}

/* Queue op for every node of ids in one transaction; ids[i] becomes command i's id.  @ret 0 or -EIO. */
static int api_cmd_queue(struct snowd *sd, int64_t *ids, size_t n, const char *op, json_t *args,
			 int64_t now, int64_t *cmd_ids)
{
	size_t i;

	if (inv_exec(&sd->inv, "BEGIN IMMEDIATE"))
		return -EIO;
	for (i = 0; i < n; i++)
		if (inv_cmd_add(&sd->inv, ids[i], op, args, now, &cmd_ids[i])) {
			inv_exec(&sd->inv, "ROLLBACK");
			return -EIO;
		}
	if (inv_exec(&sd->inv, "COMMIT")) {
		inv_exec(&sd->inv, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

/*
 * A power op for every node of names (checked), each started by its node's
 * driver as POST /api/v1/nodes/NAME/commands does, none waiting for another:
 * a thousand BMCs are asked at once (power.c, power_redfish.c).  A node whose
 * driver refuses (or that cannot be read) gets an entry with state "refused"
 * and the reason; the others go on.  @ret the answer's array, or NULL.
 */
static json_t *api_cmd_power(struct snowd *sd, json_t *names, const char *op)
{
	json_t *out = json_array(), *v;
	unsigned started = 0, refused = 0;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(names, i, v) {
		const char *name = json_string_value(v);
		struct inv_node node;
		char err[300];
		json_t *c = NULL;
		int rc = inv_node_get(&sd->inv, name, &node);

		if (!rc)
			rc = power_command(sd, &node, op, &c, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "inventory error");
		explicit_bzero(node.secret, sizeof(node.secret));
		explicit_bzero(node.old_secret, sizeof(node.old_secret));
		if (!rc) {
			started++;
		} else {
			refused++;
			c = json_pack("{s:s, s:s, s:s, s:s}", "node", name, "op", op, "state",
				      "refused", "error", err);
		}
		if (!c || json_array_append_new(out, c)) {
			json_decref(out);
			return NULL;
		}
	}
	log_info("%s for %zu nodes: %u started, %u refused", op, json_array_size(names), started,
		 refused);
	return out;
}

enum MHD_Result api_commands_bulk(struct http_ctx *h)
{
	static const char *const fields[] = { "nodes", "op", "args", NULL };
	struct snowd *sd = h->sd;
	json_t *body, *args, *names, *out = NULL;
	int64_t *ids = NULL, *cmd_ids = NULL;
	const char *op;
	int64_t now = (int64_t)time(NULL);
	char err[256];
	size_t i, n;
	int rc;

	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	args = json_object_get(body, "args");
	names = json_object_get(body, "nodes");
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "op", 1, 32, &op, err, sizeof(err)) ||
	    cmd_check(op, args, err, sizeof(err))) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	if (bmc_command_for(op, args)) {
		enum MHD_Result ret = http_error(h, MHD_HTTP_BAD_REQUEST, "args.value: %s on a bmc.* "
						 "gauge runs on the host, one node at a time: POST "
						 "/api/v1/nodes/NAME/commands", op);
		json_decref(body);
		return ret;
	}
	if (!args)
		json_object_set_new(body, "args", json_object());
	args = json_object_get(body, "args");
	rc = api_cmd_targets(sd, names, &ids, err, sizeof(err));
	if (rc) {
		free(ids);
		json_decref(body);
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : rc == -ENOENT ?
				  MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	}
	n = json_array_size(names);
	if (!strncmp(op, "power.", 6)) {
		/* Every name was checked above: now each node's driver starts at once. */
		out = api_cmd_power(sd, names, op);
		free(ids);
		json_decref(body);
		if (!out)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return http_json(h, MHD_HTTP_ACCEPTED, json_pack("{s:o}", "commands", out));
	}
	cmd_ids = calloc(n, sizeof(*cmd_ids));
	out = json_array();
	if (!cmd_ids || !out || api_cmd_queue(sd, ids, n, op, args, now, cmd_ids)) {
		free(ids);
		free(cmd_ids);
		json_decref(out);
		json_decref(body);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	log_info("commands %lld..%lld: %s queued for %zu nodes", (long long)cmd_ids[0],
		 (long long)cmd_ids[n - 1], op, n);
	/* Wake every node first: their reports come while the rest is done. */
	for (i = 0; i < n; i++)
		nodes_cmd_queued(sd, ids[i]);
	for (i = 0; i < n; i++) {
		/* As inv_cmd_get() would read it back, without reading 10 000 rows back. */
		if (sd->stream.clients)
			stream_publish(&sd->stream, "command",
				       json_pack("{s:I, s:O, s:s, s:O, s:s, s:I}", "id",
						 (json_int_t)cmd_ids[i], "node", json_array_get(names, i),
						 "op", op, "args", args, "state", "queued", "created",
						 (json_int_t)now));
		json_array_append_new(out, json_pack("{s:I, s:O, s:s, s:s}", "id",
						     (json_int_t)cmd_ids[i], "node",
						     json_array_get(names, i), "op", op, "state",
						     "queued"));
	}
	free(ids);
	free(cmd_ids);
	json_decref(body);
	return http_json(h, MHD_HTTP_ACCEPTED, json_pack("{s:o}", "commands", out));
}
