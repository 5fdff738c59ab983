/*
 * snowd's one state struct, passed explicitly to every part of the daemon.
 * Everything runs on one thread: the poll loop drives libmicrohttpd, the
 * signal self-pipe, dnsmasq supervision and the timers, so the inventory
 * and the node table need no locks.
 */
#ifndef SNOW_SNOWD_H
#define SNOW_SNOWD_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "boot.h"
#include "dnsmasq.h"
#include "health.h"
#include "inv.h"
#include "history.h"
#include "stream.h"

struct MHD_Daemon;

struct snowd_config {
	char *state_dir;
	char *listen;       /* ADDR:PORT */
	char *tls_listen;   /* ADDR:PORT for HTTPS */
	char *tls_cert, *tls_key;
	char *boot_if;
	char *boot_addr;    /* CIDR of snowd on the boot interface */
	char *image_dir;
	char *web_dir;      /* the web console's files */
	char *dnsmasq;      /* binary, or "none" */
	char *ipmitool;     /* binary for the ipmi power driver */
	char *cmdline;      /* kernel arguments for every node */
	char *config;       /* the config file these came from */
	long interval_ms;
	long offline_after_ms;
	long max_body;
	long command_timeout_s;
	long discovered_max;     /* rows kept of unknown MACs */
	long discovery_rate;     /* new unknown MACs recorded a minute */
	long events_keep, events_keep_days;     /* retention: rows, days (0: no limit) */
	long boots_keep, boots_keep_days;
	long commands_keep, commands_keep_days; /* finished commands only */
	int check_config;
	int verbose;
};

enum node_state { NODE_UNKNOWN = 0, NODE_BOOTING, NODE_ONLINE, NODE_OFFLINE };

/* What snowd knows of a node at run time, beside its inventory row. */
struct node_rt {
	int64_t id;
	char name[SNOW_NAME_MAX + 1];
	enum node_state state;
	char boot_id[40];
	char hostname[SNOW_NAME_MAX + 1];
	char kernel[64];
	char version[32];
	char stage[16];         /* last boot stage seen: script, kernel, initrd, overlay */
	int64_t stage_time;     /* realtime, s */
	int64_t last_seen;      /* realtime, s */
	int64_t last_seen_ms;   /* monotonic, ms: for the offline timer */
	int64_t online_since;
	uint64_t seq;
	json_t *values;         /* owned: {name: number} from the last report */
	json_t *schema;         /* a reference to a shared schema (nodes_schema_intern): never changed in place */
	json_t *watermarks;     /* owned: {name: [low, high]} */
	json_t *thresholds;     /* owned: [{value, kind, rise, clear, samples, state}] */
	json_t *devices;        /* owned: the DDM device tree */
	int64_t events_acked;   /* highest event seq of this boot stored */
	json_t *boot;           /* owned: {stage: realtime ms} of the boot under way or last */
	struct history *hist;   /* owned: the last hour of the node's gauges */
	struct buf overlay;     /* the rendered overlay, valid while overlay_gen == settings_gen */
	uint64_t overlay_gen;
};

struct snowd {
	struct snowd_config cfg;
	struct inv inv;
	struct boot_params boot;
	struct dnsmasq_params dparams;
	struct dnsmasq_child dnsmasq;
	struct MHD_Daemon *httpd;   /* plain HTTP: boot files, nodes, and the API */
	struct MHD_Daemon *httpsd;  /* HTTPS for the API and console, when configured */
	char *tls_key_pem, *tls_cert_pem;
	uint32_t boot_ip;
	int boot_prefix;
	char base_url[64];
	char path_db[4096], path_hosts[4096], path_leases[4096], path_dnsconf[4096];
	char path_tftp[4096], path_dnslog[4096], path_token[4096], path_dnspid[4096];
	int sigpipe[2];
	int argc;               /* the command line, for SIGHUP's re-read */
	char **argv;
	int quit;
	struct node_rt *rt;     /* growable array, looked up by node id */
	size_t nrt, cap_rt;
	uint32_t *rt_index;     /* open-addressing hash: node id -> index + 1 (0 empty) */
	size_t rt_index_cap;
	int hosts_dirty;        /* the dnsmasq hosts file must be rewritten */
	struct stream stream;
	struct { pid_t pid; int64_t cmd_id; } power_children[64]; /* ipmitool runs */
	unsigned npower;
	json_t *defaults;       /* owned: the settings a node gets when neither it nor its profile sets them */
	uint64_t settings_gen;  /* bumped by every settings change: cached overlays go stale */
	uint64_t requests, reports, events;
	int64_t next_expire;
	json_t *schemas;        /* owned: {compact text: schema}, one copy per distinct schema */
	int64_t next_schema_gc;
	int64_t next_prune;     /* monotonic ms: the next retention step (nodes_tick) */
	int prune_kind;         /* the kind of history it prunes next */
};

int64_t snowd_now_ms(void);

/* http.c */
int http_start(struct snowd *sd, char *err, size_t errlen);
void http_stop(struct snowd *sd);

/* nodes.c: the run-time node table. */
/* Find a node's run-time entry; create it (named) when create_name is not NULL. */
struct node_rt *nodes_rt(struct snowd *sd, int64_t id, const char *create_name);
void nodes_rt_forget(struct snowd *sd, int64_t id);
/* Drop what a node reported (a new boot starts from nothing). */
void nodes_rt_clear(struct node_rt *rt);
/*
 * Set rt's schema to schema (borrowed), sharing one copy among the nodes that
 * report the same one (a thousand nodes of one image: one schema, not a
 * thousand).  Copies no node uses any more go at the next nodes_tick().
 */
void nodes_set_schema(struct snowd *sd, struct node_rt *rt, json_t *schema);
void nodes_rt_free(struct snowd *sd);
/*
 * The timers: the dnsmasq hosts file, command timeouts, schema copies, the
 * offline timer (held while the inventory cannot be written: the host's
 * failure is not the nodes'), and one small retention step.
 */
void nodes_tick(struct snowd *sd);
/* Apply the limits of sd->cfg to the inventory (at start and SIGHUP). */
void nodes_limits(struct snowd *sd);
const char *node_state_name(enum node_state s);
/*
 * @ret a new JSON object describing n and its run-time state; with full, also
 * its profile, own settings and effective settings with their origins.
 */
json_t *nodes_json(struct snowd *sd, const struct inv_node *n, int full);
/*
 * A node's effective settings (settings.h); origins (may be NULL) receives
 * where each came from.  @ret a new object, or NULL on an inventory error.
 */
json_t *nodes_effective(struct snowd *sd, const struct inv_node *n, json_t **origins);
/*
 * The node's overlay, from the cache while no setting changed since it was
 * rendered.  @ret 0 with *data and *len pointing into the cache (valid until the
 * next call), or -errno.
 */
int nodes_overlay(struct snowd *sd, const struct inv_node *n, const char **data, size_t *len);
/*
 * Note that a node reached a boot stage: dhcp, first, script, kernel, initrd,
 * overlay (from its requests), or online (its agent registered: the boot is
 * then written to the boot history).
 */
void nodes_stage(struct snowd *sd, const struct inv_node *n, const char *stage);

/* Tell stream clients a node's state or stage changed. */
void nodes_publish_state(struct snowd *sd, const struct node_rt *rt);

/* Reap an ipmitool child: its command is done or failed.  @ret 1 if pid was one. */
int power_reaped(struct snowd *sd, pid_t pid, int status);

/* metrics.c: Prometheus text into b.  @ret 0 or -errno. */
int metrics_render(struct snowd *sd, struct buf *b);

/* Rewrite the dnsmasq hosts file and make dnsmasq re-read it.  @ret 0 or -errno. */
int nodes_sync_dnsmasq(struct snowd *sd);

#endif
