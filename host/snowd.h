/*
 * snowd's one state struct, passed explicitly to every part of the daemon.
 * This header holds the state only: each module declares its functions in
 * its own header (docs/host.md maps them).
 * Everything runs on one thread: the poll loop drives libmicrohttpd, the
 * signal self-pipe, dnsmasq supervision and the timers, so the inventory
 * and the node table need no locks.
 */
#ifndef SNOW_SNOWD_H
#define SNOW_SNOWD_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "authq.h"
#include "boot.h"
#include "dnsmasq.h"
#include "inv.h"
#include "overlay.h"
#include "report.h"
#include "selfpipe.h"
#include "history.h"
#include "stream.h"
#include "wake.h"

struct MHD_Daemon;
struct http_router;
struct http_conn;
struct power;
struct klog;
struct qmpev;

struct snowd_config {
	char *state_dir;
	char *db;           /* --db: a PostgreSQL URL or a SQLite path (NULL: STATE/snow.db) */
	char *listen;       /* ADDR:PORT */
	char *tls_listen;   /* ADDR:PORT for HTTPS */
	char *tls_cert, *tls_key;
	char *boot_if;
	char *boot_addr;    /* CIDR of snowd on the boot interface */
	char *image_dir;
	char *allow_dir;    /* folders whose files admins may name (fsafe.h) */
	char *web_dir;      /* the web console's files */
	char *dnsmasq;      /* binary, or "none" */
	char *ipmitool;     /* binary for the ipmi power driver */
	char *cmdline;      /* kernel arguments for every node */
	char *authorized_keys; /* the admin's SSH public keys for whole-system images */
	char *overlay_dir;  /* the admin's overlay templates (overlay.h) */
	char *config;       /* the config file these came from */
	long interval_ms;
	long offline_after_ms;
	long max_body;
	long max_conn_per_ip;
	long body_budget;        /* bytes of request bodies buffered at once */
	long command_timeout_s;
	long discovered_max;     /* rows kept of unknown MACs */
	long discovery_rate;     /* new unknown MACs recorded a minute */
	long events_keep, events_keep_days;     /* retention: rows, days (0: no limit) */
	long boots_keep, boots_keep_days;
	long commands_keep, commands_keep_days; /* finished commands only */
	char *klog_listen;       /* ADDR:PORT of the netconsole UDP socket, or "none" (klog.h) */
	long klog_rate;          /* netconsole datagrams a second a node may send */
	long klog_boot_max;      /* bytes of kernel log kept a boot (twice this with its older part) */
	long klog_boots_keep;    /* boots' kernel logs kept a node */
	int check_config;
	int print_routes;
	int plain_api;       /* API and console on plain HTTP although HTTPS is on */
	int verbose;
};

enum node_state { NODE_UNKNOWN = 0, NODE_BOOTING, NODE_ONLINE, NODE_OFFLINE };

/*
 * A schema as nodes reported it, kept once for every node that reports the
 * same one (a thousand nodes of one image: one copy, not a thousand).
 */
struct node_schema {
	unsigned refs;              /* nodes that point at it */
	struct report_schema typed; /* found again by report_schema_same() */
	json_t *json;               /* made from typed once, for what shows it */
};

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
	struct report_state rep; /* owned: values, watermarks, thresholds, devices as last reported (not the schema) */
	struct node_schema *schema; /* shared with the nodes of the same schema (nodes_set_schema), or NULL */
	int64_t events_acked;   /* highest event seq of this boot stored */
	int cmd_open;           /* commands may wait for it: the next report asks the inventory */
	json_t *boot;           /* owned: {stage: realtime ms} of the boot under way or last */
	struct history *hist;   /* owned: the last hour of the node's gauges */
	struct buf overlay;     /* the rendered overlay, valid while overlay_gen == settings_gen */
	uint64_t overlay_gen;
	int64_t overlay_window_ms; /* monotonic: the boot overlay may be fetched until then (0: closed) */
	char power[8];          /* "on" or "off" as a power driver last said, "" never */
	int64_t power_time;     /* realtime, s: when it said so */
	struct wake_dest wake;  /* where its agent hears wake-ups (wake.h), from its registration */
};

struct chan_held;
struct peer;

struct snowd {
	struct snowd_config cfg;
	struct inv inv;
	struct peer *peer;          /* owned: live state shared with other snowd (peer.h), or NULL */
	struct boot_params boot;
	struct dnsmasq_params dparams;
	struct dnsmasq_child dnsmasq;
	struct MHD_Daemon *httpd;   /* plain HTTP: boot files, nodes, and the API */
	struct MHD_Daemon *httpsd;  /* HTTPS for the API and console, when configured */
	const struct http_router *router; /* borrowed: who answers requests (route.c) */
	struct authq *authq;        /* owned: password checks off the loop */
	struct http_conn *conns;    /* owned: every open connection (http.c), for its deadlines */
	size_t body_bytes;          /* request bodies buffered now */
	uint64_t conns_cut;         /* connections closed for missing a deadline */
	struct throttle throttle;   /* login failures by address and by user */
	char *tls_key_pem, *tls_cert_pem;
	uint32_t boot_ip;
	int boot_prefix;
	char base_url[64];
	char path_db[4096], path_hosts[4096], path_leases[4096], path_dnsconf[4096];
	char path_tftp[4096], path_dnslog[4096], path_token[4096], path_dnspid[4096];
	char path_ssh[4096];       /* per-node SSH host keys (boot.h) */
	char klog_host[32];        /* netconsole's target: boot-addr's address, and the boot interface's MAC */
	char klog_mac[32];
	struct selfpipe sig;    /* signals into the loop */
	int argc;               /* the command line, for SIGHUP's re-read */
	char **argv;
	int quit;
	struct node_rt *rt;     /* growable array, looked up by node id */
	size_t nrt, cap_rt;
	uint32_t *rt_index;     /* open-addressing hash: node id -> index + 1 (0 empty) */
	size_t rt_index_cap;
	int hosts_dirty;        /* the dnsmasq hosts file must be rewritten */
	struct stream stream;
	struct chan_held *held; /* node answers waiting for the group commit (chan.c) */
	struct power *power;    /* owned: power operations under way (power.h) */
	struct klog *klog;      /* owned: kernel logs by netconsole, crashes (klog.h) */
	struct wake_tx wake;    /* owned: the wake-up socket (wake.h) */
	struct qmpev *qmpev;    /* owned: QMP event sockets of virtual nodes (qmpev.h) */
	struct bmc *bmc;        /* owned: BMC sensors and event logs (bmc.h) */
	json_t *defaults;       /* owned: the settings a node gets when neither it nor its profile sets them */
	uint64_t settings_gen;  /* bumped by every settings change: cached overlays go stale */
	struct overlay_set tmpls; /* owned: the admin's overlay templates */
	struct buf hosts;       /* owned: the cluster's /etc/hosts (nodes.c), made at hosts_gen */
	uint64_t hosts_gen;
	uint64_t requests, reports, events;
	int64_t next_expire;
	struct node_schema **schemas; /* owned: one per distinct schema a node has now */
	size_t nschemas, cap_schemas;
	int64_t next_prune;     /* monotonic ms: the next retention step (nodes_tick) */
	int prune_kind;         /* the kind of history it prunes next */
};

/* The dnsmasq hosts file's mode: dnsmasq re-reads it as 'nobody'; without dnsmasq it is snowd's alone. */
static inline mode_t snowd_hosts_mode(const struct snowd *sd)
{
	return strcmp(sd->cfg.dnsmasq, "none") ? 0644 : 0600;
}

#endif
