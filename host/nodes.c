/* The run-time side of nodes: state, boot stage, last values, offline timer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bmc.h"
#include "clock.h"
#include "images.h"
#include "klog.h"
#include "klog_crash.h"
#include "log.h"
#include "settings.h"
#include "nodes.h"
#include "peer.h"
#include "wake.h"

const char *node_state_name(enum node_state s)
{
	switch (s) {
	case NODE_BOOTING:
		return "booting";
	case NODE_ONLINE:
		return "online";
	case NODE_OFFLINE:
	case NODE_UNKNOWN:
		break;
	}
	return "offline";
}

/* Rebuild the id -> index hash for cap slots (a power of two, > 2 * nrt). */
static int nodes_rt_reindex(struct snowd *sd, size_t cap)
{
	uint32_t *idx = calloc(cap, sizeof(*idx));
	size_t i;

	if (!idx)
		return -ENOMEM;
	for (i = 0; i < sd->nrt; i++) {
		size_t h = (size_t)sd->rt[i].id * 0x9e3779b97f4a7c15ull & (cap - 1);
		while (idx[h])
			h = (h + 1) & (cap - 1);
		idx[h] = (uint32_t)i + 1;
	}
	free(sd->rt_index);
	sd->rt_index = idx;
	sd->rt_index_cap = cap;
	return 0;
}

struct node_rt *nodes_rt(struct snowd *sd, int64_t id, const char *create_name)
{
	struct node_rt *rt;
	size_t h;

	if (sd->rt_index_cap) {
		h = (size_t)id * 0x9e3779b97f4a7c15ull & (sd->rt_index_cap - 1);
		for (; sd->rt_index[h]; h = (h + 1) & (sd->rt_index_cap - 1))
			if (sd->rt[sd->rt_index[h] - 1].id == id)
				return &sd->rt[sd->rt_index[h] - 1];
	}
	if (!create_name)
		return NULL;
	if (sd->nrt == sd->cap_rt) {
		size_t cap = sd->cap_rt ? sd->cap_rt * 2 : 64;
		rt = realloc(sd->rt, cap * sizeof(*rt));
		if (!rt)
			return NULL;
		sd->rt = rt;
		sd->cap_rt = cap;
	}
	rt = &sd->rt[sd->nrt++];
	memset(rt, 0, sizeof(*rt));
	rt->id = id;
	rt->cmd_open = 1; /* queued before snowd started, or before it registered */
	snprintf(rt->name, sizeof(rt->name), "%s", create_name);
	/* Keep the hash at most half full: grow it (rebuilding), else add one slot. */
	if (sd->nrt * 2 >= sd->rt_index_cap) {
		if (nodes_rt_reindex(sd, sd->rt_index_cap ? sd->rt_index_cap * 2 : 128)) {
			sd->nrt--;
			return NULL;
		}
	} else {
		h = (size_t)id * 0x9e3779b97f4a7c15ull & (sd->rt_index_cap - 1);
		while (sd->rt_index[h])
			h = (h + 1) & (sd->rt_index_cap - 1);
		sd->rt_index[h] = (uint32_t)sd->nrt;
	}
	return rt;
}

/* Let go of rt's schema; the last node to let go frees it. */
static void nodes_schema_drop(struct snowd *sd, struct node_rt *rt)
{
	struct node_schema *ns = rt->schema;
	size_t i;

	rt->schema = NULL;
	if (!ns || --ns->refs)
		return;
	for (i = 0; i < sd->nschemas && sd->schemas[i] != ns; i++)
		;
	if (i < sd->nschemas)
		sd->schemas[i] = sd->schemas[--sd->nschemas];
	report_schema_free(&ns->typed);
	json_decref(ns->json);
	free(ns);
}

void nodes_rt_clear(struct snowd *sd, struct node_rt *rt)
{
	report_state_free(&rt->rep);
	nodes_schema_drop(sd, rt);
}

int nodes_set_schema(struct snowd *sd, struct node_rt *rt, struct report_schema *schema)
{
	struct node_schema *ns = NULL;
	size_t i;

	/*
	 * Few distinct schemas (one per image, mostly), and a node registers
	 * once a boot: compared as typed, since writing each as JSON to compare
	 * was 4 % of snowd while 10 000 rebooted nodes registered again.
	 */
	for (i = 0; i < sd->nschemas; i++) {
		if (report_schema_same(&sd->schemas[i]->typed, schema)) {
			ns = sd->schemas[i];
			break;
		}
	}
	if (!ns) {
		json_t *json;

		if (sd->nschemas == sd->cap_schemas) {
			size_t cap = sd->cap_schemas ? sd->cap_schemas * 2 : 8;
			struct node_schema **grown = realloc(sd->schemas, cap * sizeof(*grown));
			if (!grown)
				goto err;
			sd->schemas = grown;
			sd->cap_schemas = cap;
		}
		if (!(json = report_schema_json(schema)))
			goto err;
		if (!(ns = calloc(1, sizeof(*ns)))) {
			json_decref(json);
			goto err;
		}
		ns->json = json;
		ns->typed = *schema;
		memset(schema, 0, sizeof(*schema));
		sd->schemas[sd->nschemas++] = ns;
	}
	ns->refs++;
	nodes_schema_drop(sd, rt);
	rt->schema = ns;
	report_schema_free(schema);
	return 0;

err:
	report_schema_free(schema);
	return -ENOMEM;
}

void nodes_rt_forget(struct snowd *sd, int64_t id)
{
	struct node_rt *rt = nodes_rt(sd, id, NULL);

	if (!rt)
		return;
	klog_forget(sd->klog, id);
	nodes_rt_clear(sd, rt);
	json_decref(rt->boot);
	history_free(rt->hist);
	if (rt->overlay.data)
		explicit_bzero(rt->overlay.data, rt->overlay.len);
	buf_free(&rt->overlay);
	*rt = sd->rt[--sd->nrt];
	/* The last entry moved: the hash must learn its new place. */
	if (nodes_rt_reindex(sd, sd->rt_index_cap))
		log_warnx("nodes: cannot rebuild the index");
}

void nodes_rt_free(struct snowd *sd)
{
	size_t i;

	for (i = 0; i < sd->nrt; i++) {
		nodes_rt_clear(sd, &sd->rt[i]);
		json_decref(sd->rt[i].boot);
		history_free(sd->rt[i].hist);
		buf_free(&sd->rt[i].overlay);
	}
	free(sd->rt);
	free(sd->rt_index);
	free(sd->schemas); /* each went with its last node */
	sd->schemas = NULL;
	sd->nschemas = sd->cap_schemas = 0;
	sd->rt = NULL;
	sd->rt_index = NULL;
	sd->nrt = sd->cap_rt = sd->rt_index_cap = 0;
}

void nodes_limits(struct snowd *sd)
{
	sd->inv.lim.discovered_max = sd->cfg.discovered_max;
	sd->inv.lim.discovered_per_min = sd->cfg.discovery_rate;
}

#define NODES_PRUNE_BATCH 500   /* rows one retention step deletes at most (a few ms) */
#define NODES_PRUNE_EVERY 60000 /* ms between rounds once nothing is left over */

/*
 * One retention step: one kind of history, one batch.  A kind with more to
 * go gets the next tick too; after a round that left nothing over, the next
 * one is a minute away.  So a large backlog goes in steps that never stall
 * the loop.
 */
static void nodes_prune(struct snowd *sd, int64_t now)
{
	const struct snowd_config *c = &sd->cfg;
	const struct inv_keep keep[] = {
		[INV_EVENTS] = { c->events_keep, c->events_keep_days * 86400 },
		[INV_BOOTS] = { c->boots_keep, c->boots_keep_days * 86400 },
		[INV_COMMANDS] = { c->commands_keep, c->commands_keep_days * 86400 },
	};
	static const char *const names[] = { "events", "boots", "commands" };
	int kind = sd->prune_kind;
	int n = inv_prune(&sd->inv, (enum inv_history)kind, &keep[kind], (int64_t)time(NULL),
			  NODES_PRUNE_BATCH);

	if (n > 0)
		log_debug("retention: %d old %s deleted", n, names[kind]);
	if (n == NODES_PRUNE_BATCH)
		return;
	sd->prune_kind = (kind + 1) % 3;
	if (!sd->prune_kind)
		sd->next_prune = now + NODES_PRUNE_EVERY;
}

void nodes_tick(struct snowd *sd)
{
	int64_t now = clock_mono_ms(), held = sd->inv.health.fail_last_ms;
	size_t i;

	if (sd->hosts_dirty) {
		/* Many adds in a row cost one rewrite of the hosts file. */
		sd->hosts_dirty = 0;
		if (dnsmasq_sync_hosts(&sd->dnsmasq, &sd->inv, sd->path_hosts, snowd_hosts_mode(sd)))
			log_warnx("dnsmasq: hosts file not updated");
	}
	if (now >= sd->next_prune)
		nodes_prune(sd, now);
	/*
	 * While the inventory cannot be written, node requests fail for the
	 * host's fault: nobody goes offline, and after it each node has a full
	 * window to report again.
	 */
	if (inv_degraded(&sd->inv))
		return;
	for (i = 0; i < sd->nrt; i++) {
		struct node_rt *rt = &sd->rt[i];
		int64_t seen = rt->last_seen_ms > held ? rt->last_seen_ms : held;
		if (rt->state == NODE_ONLINE && now - seen > sd->cfg.offline_after_ms) {
			rt->state = NODE_OFFLINE;
			log_warnx("node %s: offline (no report for %lld ms)", rt->name,
				  (long long)(now - rt->last_seen_ms));
			nodes_publish_state(sd, rt);
		}
	}
}

/*
 * A new boot is the result of a reboot or poweroff sent before it (the agent
 * may not have got its result out in time): done, and never delivered again,
 * or a slow host would reboot the node over and over.
 */
static void nodes_boot_finishes(struct snowd *sd, const struct inv_node *n, const char *boot_id)
{
	json_t *ids = inv_cmd_boot_changed(&sd->inv, n->id, boot_id, (int64_t)time(NULL)), *id, *c;
	size_t i;

	if (!ids) {
		log_warnx("node %s: commands ended by the new boot not recorded", n->name);
		return;
	}
	json_array_foreach(ids, i, id) {
		log_info("command %lld: done, %s came back in a new boot",
			 (long long)json_integer_value(id), n->name);
		if ((c = inv_cmd_get(&sd->inv, json_integer_value(id))))
			stream_publish(&sd->stream, "command", c);
	}
	json_decref(ids);
}

void nodes_stage(struct snowd *sd, const struct inv_node *n, const char *stage)
{
	struct node_rt *rt = nodes_rt(sd, n->id, n->name);
	int64_t now = clock_real_ms();
	int early = !strcmp(stage, "dhcp") || !strcmp(stage, "first") || !strcmp(stage, "script");

	if (!rt)
		return;
	if (!strcmp(stage, "script")) {
		klog_boot_start(sd, n->id, n->name); /* iPXE asks for its script: a new kernel follows */
		bmc_sol_script(sd, n->id);           /* and a new boot's SOL log */
	}
	/* An early stage after the node was up (or after an earlier boot finished) starts a new boot. */
	if (!rt->boot || ((early || !strcmp(stage, "online")) &&
			  (rt->state == NODE_ONLINE || json_object_get(rt->boot, "online")))) {
		json_decref(rt->boot);
		rt->boot = json_object();
	}
	if (!json_object_get(rt->boot, stage))
		json_object_set_new(rt->boot, stage, json_integer(now));
	snprintf(rt->stage, sizeof(rt->stage), "%s", stage);
	rt->stage_time = now / 1000;
	if (!strcmp(stage, "online")) {
		int64_t started = now;
		const char *k;
		json_t *v;
		json_object_foreach(rt->boot, k, v)
			if (json_integer_value(v) < started)
				started = json_integer_value(v);
		nodes_boot_finishes(sd, n, rt->boot_id);
		if (inv_boot_add(&sd->inv, n->id, rt->boot_id, started, now, rt->boot))
			log_warnx("node %s: boot history not written", n->name);
		return;
	}
	if (rt->state != NODE_BOOTING)
		log_info("node %s: booting (%s)", n->name, stage);
	rt->state = NODE_BOOTING;
	nodes_publish_state(sd, rt);
}

void nodes_publish_state(struct snowd *sd, const struct node_rt *rt)
{
	stream_publish(&sd->stream, "node", json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "name",
					     rt->name, "state", node_state_name(rt->state), "stage",
					     rt->stage, "stage_time", (json_int_t)rt->stage_time,
					     "last_seen", (json_int_t)rt->last_seen, "hostname",
					     rt->hostname, "power_state", nodes_power_state(rt)));
}

const char *nodes_power_state(const struct node_rt *rt)
{
	if (rt->power[0] && rt->power_time >= rt->last_seen)
		return rt->power;
	return rt->state == NODE_ONLINE ? "on" : "unknown";
}

/* A driver's word for the power: "on", "off", or NULL when it says neither. */
static const char *nodes_power_word(const char *op, json_t *result)
{
	static const char *const on[] = { "On", "PoweringOn", "running", NULL };
	static const char *const off[] = { "Off", "PoweringOff", "shutdown", "paused", NULL };
	const char *st = json_string_value(json_object_get(result, "status"));

	for (int i = 0; st && on[i]; i++)
		if (!strcmp(st, on[i]))
			return "on";
	for (int i = 0; st && off[i]; i++)
		if (!strcmp(st, off[i]))
			return "off";
	/* No state read back: what the operation did. */
	if (!strcmp(op, "power.on") || !strcmp(op, "power.cycle"))
		return "on";
	return !strcmp(op, "power.off") ? "off" : NULL;
}

void nodes_power_result(struct snowd *sd, const char *node, const char *op, json_t *result)
{
	const char *word = nodes_power_word(op, result), *was;
	struct inv_node n;
	struct node_rt *rt;

	if (!word || inv_node_get(&sd->inv, node, &n) || !(rt = nodes_rt(sd, n.id, n.name)))
		return;
	was = nodes_power_state(rt);
	snprintf(rt->power, sizeof(rt->power), "%s", word);
	rt->power_time = (int64_t)time(NULL);
	if (strcmp(was, nodes_power_state(rt)))
		nodes_publish_state(sd, rt);
}

json_t *nodes_effective(struct snowd *sd, const struct inv_node *n, json_t **origins)
{
	json_t *own = inv_node_settings(&sd->inv, n->id), *prof = NULL, *eff;

	if (!own)
		return NULL;
	if (n->profile[0])
		prof = inv_profile_get(&sd->inv, n->profile);
	eff = settings_effective(own, n->profile[0] ? n->profile : NULL, prof, sd->defaults, origins);
	json_decref(own);
	json_decref(prof);
	return eff;
}

/* Whether the node's image (eff's) is a whole system: its version has a rootfs.squashfs. */
static int nodes_whole_system(struct snowd *sd, json_t *eff)
{
	const char *image = json_string_value(json_object_get(eff, "image"));
	char ref[SNOW_NAME_MAX + INV_VERSION_LEN + 2], path[4096];

	return image && !images_ref(sd, image, ref, sizeof(ref)) &&
	       !images_path(sd, ref, "rootfs.squashfs", path, sizeof(path)) && !access(path, F_OK);
}

static int nodes_hosts_line(void *ctx, const struct inv_node *n)
{
	return n->ip[0] ? buf_printf(ctx, "%s\t%s\n", n->ip, n->name) : 0;
}

/* The cluster's /etc/hosts, made again when a node or a setting changed.  @ret NULL on -EIO. */
static const char *nodes_hosts(struct snowd *sd)
{
	if (sd->hosts.len && sd->hosts_gen == sd->settings_gen)
		return sd->hosts.data;
	buf_reset(&sd->hosts);
	if (buf_puts(&sd->hosts, "# The cluster's nodes, written by snowd.\n127.0.0.1\tlocalhost\n"
				 "::1\tlocalhost ip6-localhost ip6-loopback\n") ||
	    inv_node_foreach(&sd->inv, nodes_hosts_line, &sd->hosts)) {
		buf_reset(&sd->hosts);
		return NULL;
	}
	sd->hosts_gen = sd->settings_gen;
	return sd->hosts.data;
}

int nodes_overlay(struct snowd *sd, const struct inv_node *n, const char **data, size_t *len)
{
	struct node_rt *rt = nodes_rt(sd, n->id, n->name);
	json_t *eff;
	int rc;

	if (!rt)
		return -ENOMEM;
	if (!rt->overlay.len || rt->overlay_gen != sd->settings_gen) {
		eff = nodes_effective(sd, n, NULL);
		if (!eff)
			return -EIO;
		struct boot_params bp = sd->boot;
		if (!nodes_whole_system(sd, eff)) {
			/* No sshd on a busybox image: no host key to make (ssh-keygen is ~15 ms a node). */
			bp.ssh_dir = NULL;
			bp.authorized_keys = NULL;
		} else {
			bp.whole_system = 1;
			bp.hosts = nodes_hosts(sd);
			bp.tmpls = &sd->tmpls;
		}
		if (rt->overlay.data)
			explicit_bzero(rt->overlay.data, rt->overlay.len);
		buf_reset(&rt->overlay);
		rc = boot_render_overlay(&bp, n, eff, &rt->overlay);
		json_decref(eff);
		if (rc)
			return rc;
		rt->overlay_gen = sd->settings_gen;
	}
	*data = rt->overlay.data;
	*len = rt->overlay.len;
	return 0;
}

json_t *nodes_json(struct snowd *sd, const struct inv_node *n, int full)
{
	struct node_rt *rt = nodes_rt(sd, n->id, NULL);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)n->id, "name",
			      n->name, "mac", n->mac, "ip", n->ip, "image", n->image, "created",
			      (json_int_t)n->created);

	if (!o)
		return NULL;
	json_object_set_new(o, "state", json_string(node_state_name(rt ? rt->state : NODE_UNKNOWN)));
	json_object_set_new(o, "profile", n->profile[0] ? json_string(n->profile) : json_null());
	if (full) {
		json_t *origins = NULL, *eff = nodes_effective(sd, n, &origins);
		json_object_set_new(o, "settings", inv_node_settings(&sd->inv, n->id));
		json_object_set_new(o, "effective", eff ? eff : json_null());
		json_object_set_new(o, "origins", origins ? origins : json_null());
	} else {
		/* The effective image and groups are what a list shows and filters on. */
		json_t *eff = nodes_effective(sd, n, NULL);
		json_object_set(o, "image", json_object_get(eff, "image"));
		json_object_set(o, "groups", json_object_get(eff, "groups"));
		json_decref(eff);
	}
	klog_crash_json(sd, n->id, o); /* "last_crash", when the node has crashed (docs/crash.md) */
	bmc_node_json(sd, n->id, o);  /* "bmc": its sensors' poll, when it has a BMC (bmc.h) */
	peer_node_json(sd, n->id, rt, o); /* it reports to another snowd (peer.h) */
	if (!rt || (sd->peer && rt->state != NODE_ONLINE && json_object_get(o, "via")))
		return o;
	json_object_set_new(o, "hostname", json_string(rt->hostname));
	json_object_set_new(o, "boot_id", json_string(rt->boot_id));
	json_object_set_new(o, "kernel", json_string(rt->kernel));
	json_object_set_new(o, "agent_version", json_string(rt->version));
	json_object_set_new(o, "stage", json_string(rt->stage));
	json_object_set_new(o, "stage_time", json_integer(rt->stage_time));
	json_object_set_new(o, "last_seen", json_integer(rt->last_seen));
	json_object_set_new(o, "online_since", json_integer(rt->online_since));
	json_object_set_new(o, "power_state", json_string(nodes_power_state(rt)));
	json_object_set_new(o, "seq", json_integer((json_int_t)rt->seq));
	if (rt->boot)
		json_object_set(o, "boot", rt->boot);
	nodes_report_json(o, rt, REPORT_VALUES | REPORT_WATERMARKS | REPORT_THRESHOLDS |
				      REPORT_DEVICES | REPORT_SCHEMA);
	if (!json_object_get(o, "values"))
		json_object_set_new(o, "values", json_object());
	return o;
}

void nodes_cmd_queued(struct snowd *sd, int64_t node_id)
{
	struct node_rt *rt = nodes_rt(sd, node_id, NULL);

	if (rt) {
		rt->cmd_open = 1;
		wake_node(sd, rt); /* "report now": the command goes out in that answer */
	}
	peer_cmd_queued(sd, node_id, rt); /* it may report to another snowd */
}

void nodes_report_json(json_t *o, const struct node_rt *rt, unsigned parts)
{
	const struct report_state *r = &rt->rep;

	parts &= r->has | (rt->schema ? REPORT_SCHEMA : 0);
	if (parts & REPORT_VALUES)
		json_object_set_new(o, "values", report_values_json(r));
	if (parts & REPORT_SCHEMA)
		json_object_set(o, "schema", rt->schema->json);
	if (parts & REPORT_WATERMARKS)
		json_object_set_new(o, "watermarks", report_watermarks_json(r));
	if (parts & REPORT_THRESHOLDS)
		json_object_set_new(o, "thresholds", report_thresholds_json(r));
	if (parts & REPORT_DEVICES)
		json_object_set_new(o, "devices", report_devices_json(r));
}

int nodes_pick_ip(struct snowd *sd, const char *ip, char out[16], char *err, size_t errlen)
{
	uint32_t ipv, pf, pl, df, dl;
	uint32_t mask = sd->boot_prefix ? 0xffffffffu << (32 - sd->boot_prefix) : 0;
	unsigned char *taken;

	dnsmasq_ranges(sd->boot_ip, sd->boot_prefix, &pf, &pl, &df, &dl);
	if (ip) {
		if (valid_ipv4(ip, &ipv, err, errlen))
			return -EINVAL;
		if ((ipv & mask) != (sd->boot_ip & mask)) {
			snprintf(err, errlen, "ip: %s is outside the boot network %s", ip,
				 sd->cfg.boot_addr);
			return -EINVAL;
		}
		if (ipv == sd->boot_ip || ipv == (sd->boot_ip & mask) || ipv == (sd->boot_ip | ~mask)) {
			snprintf(err, errlen, "ip: %s is the host's, network or broadcast address", ip);
			return -EINVAL;
		}
		if (ipv >= df && ipv <= dl) {
			snprintf(err, errlen, "ip: %s is in the discovery range (dynamic DHCP)", ip);
			return -EINVAL;
		}
		ipv4_format(ipv, out);
		return 0;
	}
	/* The first free address of the pool, from one look at the inventory. */
	taken = calloc((size_t)(pl - pf) + 1, 1);
	if (!taken || inv_ips_taken(&sd->inv, pf, pl, taken)) {
		free(taken);
		snprintf(err, errlen, "inventory error");
		return -EIO;
	}
	for (ipv = pf; ipv <= pl; ipv++)
		if (ipv != sd->boot_ip && !taken[ipv - pf])
			break;
	free(taken);
	if (ipv > pl) {
		snprintf(err, errlen, "ip: no free address left in the pool");
		return -ENOSPC;
	}
	ipv4_format(ipv, out);
	return 0;
}
