/*
 * snow-agent: registers the node with snowd and sends signed reports
 * (lib/wire.h, docs/protocol.md): the sysctl tree (tree.h), thresholds and
 * watermarks, the DDM device tree (ddm.h), the events of its black box
 * (lib/instr.h's ring) and the results of the commands the host sent in
 * its answers.  One thread, one loop: the only waits are poll() on the
 * signal self-pipe (with the time to the next report, or to the next pat
 * of the watchdog, as timeout), the bounded HTTP request (at most half the
 * watchdog's timeout, with a pat just before it) and the commands themselves
 * (a device operation that waits pats between its slices).  See docs/agent.md.
 */
#ifndef SNOW_NODE_AGENT_H
#define SNOW_NODE_AGENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ddm.h"
#include "instr.h"
#include "nlwatch.h"
#include "post.h"
#include "sample.h"
#include "valid.h"
#include "wire.h"
#include "wake.h"

#define AGENT_VERSION SNOW_VERSION /* VERSION, through the Makefile */
#define AGENT_INTERVAL_MIN_MS 100
#define AGENT_INTERVAL_MAX_MS 3600000
#define AGENT_BACKOFF_FIRST_MS 1000  /* registration retry: 1 s doubling ... */
#define AGENT_BACKOFF_MAX_MS 10000   /* ... up to 10 s */
#define AGENT_HTTP_TIMEOUT_MS 5000
#define AGENT_THRESHOLDS_MAX 256
#define AGENT_RESULTS_KEEP 64       /* results remembered to answer repeated ids */
#define AGENT_EVENTS_DEFAULT 1024   /* black box size */
#define AGENT_POWER_WAIT_MS 10000   /* reboot/poweroff: longest wait to deliver the result */
#define AGENT_WATCHDOG_DEFAULT_S 30
#define AGENT_EARLY_GAP_MS 250      /* new events are reported early, at most this often */
#define AGENT_RESULT_GAP_MS 10      /* the results of an answer's commands go this soon (nodesim's) */

/* Settings: command line over file (node.conf), one table for both. */
struct agent_conf {
	char *config;    /* node.conf path */
	char *root;      /* read ROOT/proc and ROOT/sys; "" means / */
	char *name;
	char *host_url;  /* one URL or several (lib/hostlist.h) */
	int keep_alive;  /* one connection to snowd kept open (default 1) */
	char *secret;    /* never logged */
	char *mac;
	long interval_ms;
	int once;
	int verbose;
	int check;       /* -n: validate the configuration and exit */
	int dump;        /* print one sample as JSON and exit */
	char *events;    /* "-" or FILE: each event as a JSON line */
	char *sysctl_allow; /* comma list of writable sysctls (sysctl.allow) */
	char *state_dir; /* keeps the black box across agent restarts ("" none) */
	char *watchdog;  /* device to pat, "" none; default /dev/watchdog on a node */
	long watchdog_s; /* its timeout */
	long events_max; /* black box size */
	char *event_socket; /* programs post events here; default STATE_DIR/event.sock, "none" */
	long event_group;   /* gid that may post too (-1: root and the agent's user only) */
	long wake_port;     /* UDP port for the host's wake-ups (0: any, -1: none; wake.h) */
	/* threshold.VALUE = high|low RISE CLEAR [SAMPLES] lines, checked. */
	struct instr_threshold *thr;
	size_t nthr;
};

/* The option table (command line and node.conf keys). */
extern const struct conf_option agent_options[];

/*
 * Fill c from argv and the file named by --config; command line values win.
 * Keys of the file that are not in the table are ignored (debug log) so the
 * host can add keys later.  c must be zeroed; agent_conf_free() releases it
 * also on error.  @ret 0, -ECANCELED for --help, or -EINVAL / -errno with
 * err naming the option, key or file.
 */
int agent_conf_load(struct agent_conf *c, int argc, char **argv, char *err, size_t errlen);

/*
 * Check that what the agent needs is there and well formed (name, host_url,
 * secret, mac); canonicalises mac.  Standalone (--dump, or --events without
 * host_url) needs none of them.  @ret 0 or -EINVAL with err naming the
 * field.
 */
int agent_conf_check(struct agent_conf *c, char *err, size_t errlen);

void agent_conf_free(struct agent_conf *c);

/* No host: --dump, or --events without host_url. */
int agent_standalone(const struct agent_conf *c);

/*
 * Parse the value of a "threshold.NAME" line ("high|low RISE CLEAR
 * [SAMPLES]") into t.  @ret 0 or -EINVAL with err naming what was wrong.
 */
int agent_threshold_line(const char *name, const char *value, struct instr_threshold *t,
			 char *err, size_t errlen);

/* A command's result, kept to answer a repeated id with the same result. */
struct agent_result {
	json_int_t id;
	json_t *res;  /* {id, ok, ...}, owned */
	int pending;  /* not yet in a report answered 2xx */
	int inflight; /* in the report being sent */
};

enum agent_power { AGENT_POWER_NONE, AGENT_POWER_REBOOT, AGENT_POWER_POWEROFF };

/* The agent's one state, passed explicitly. */
struct agent_state {
	struct agent_conf *conf;       /* borrowed */
	struct wire_client wire;
	char boot_id[SAMPLE_BOOT_ID_LEN + 1];
	char kernel[65];
	char hostname[65];
	long interval_ms;              /* configured, or as the host said */
	uint64_t seq;                  /* last report sent since registering */
	int registered;
	unsigned schema_gen;    /* the tree's gen whose schema the host has */
	/*
	 * Digests of the thresholds and devices the host has (from the last
	 * report it answered 2xx; 0: none since registering), and of those the
	 * report in flight carries (0: it carries none).  A report leaves a part
	 * out when its digest is the host's: absent means unchanged.
	 */
	uint64_t thr_sig, dev_sig, thr_sig_inflight, dev_sig_inflight;
	long backoff_ms;               /* next registration retry delay */
	int fail_kind;                 /* what the current failure is (0: none) */
	unsigned fail_count;           /* attempts failed in the current failure */
	int sample_rc;                 /* last sampling error, logged on change */
	int stop_fd;                   /* read end of the signal pipe, -1 for none */
	int stop;
	struct instr_tree tree;        /* the sysctl tree */
	struct instr_threshold thr[AGENT_THRESHOLDS_MAX];
	int thr_conf[AGENT_THRESHOLDS_MAX]; /* set by node.conf (a reload replaces them) */
	size_t nthr;
	int conf_thr_applied;          /* node.conf's thresholds need a first sample */
	json_t *xcvr_thr;              /* owned: transceiver values whose module limits were installed */
	struct ddm ddm;
	struct instr_ring ring;        /* the black box */
	int ring_dirty;                /* changed since saved to state_dir */
	int state_dirty;               /* thresholds, locks, results changed since agent.json */
	unsigned saved_wm_gen;         /* tree.wm_gen when agent.json was written */
	int save_failing;              /* the state folder refused the last write (reported once) */
	struct post_sock post;         /* events posted by programs on the node */
	struct nlwatch nl;             /* uevents and link messages */
	struct agent_wake wk;          /* the host's wake-ups (wake.h) */
	int wake;                      /* new events to report before the next sample */
	int results_due;               /* ...among them an answer's command results: sent at once */
	long long last_report_ms;      /* monotonic, of the last report sent */
	struct agent_result results[AGENT_RESULTS_KEEP];
	size_t nresults, next_result;  /* a ring: the oldest is overwritten */
	enum agent_power power;        /* asked for, done after the result is delivered */
	long long power_at;            /* ... or at this monotonic ms at the latest */
	json_int_t power_id;
	FILE *events_out;              /* --events, or NULL */
	int wdog_fd;                   /* -1: no watchdog */
	int wdog_period_ms;
	int exit_rc;                   /* what main() returns after a stop */
	char *allow;                   /* sysctl.allow, owned (a reload replaces it) */
	int pstore_left;               /* pstore records to send: tries left (0: done; pstore.h) */
};

/*
 * Set up st from a checked conf: wire client, boot id (under conf->root),
 * kernel release, hostname.  @ret 0 or -errno with err filled.
 */
int agent_init(struct agent_state *st, struct agent_conf *conf, int stop_fd, char *err,
	       size_t errlen);

/* Release what agent_init() set up (not the conf). */
void agent_fini(struct agent_state *st);

/*
 * Take one sample: the tree, thresholds (raise/clear events), devices
 * (state change events).  @ret 0 or the sampling error (logged on change).
 */
int agent_sample(struct agent_state *st);

/* Record an event (attrs stolen) in the black box and on --events. */
void agent_event(struct agent_state *st, const char *type, json_t *attrs);

/*
 * Run one command from the host (cmd borrowed) unless its id was seen
 * already.  @ret the result {id, ok, ...} (borrowed from st), or NULL when
 * the command had no usable id (logged).
 */
json_t *agent_command(struct agent_state *st, json_t *cmd);

/*
 * Apply the host's answer to a report (borrowed): results delivered,
 * ack_events, commands.  @ret 0 or -EINVAL (malformed, logged; what could
 * be applied is).
 */
int agent_answer(struct agent_state *st, json_t *reply);

/* {boot_id, values, schema, watermarks, thresholds, devices}: --dump.  New reference. */
json_t *agent_dump_json(struct agent_state *st);

/*
 * The register and report bodies.  @ret a new reference the caller
 * json_decref()s, or NULL (out of memory).  The report body takes the next
 * seq: call it once per report sent.
 */
json_t *agent_register_body(struct agent_state *st);
json_t *agent_report_body(struct agent_state *st);
/* The host answered the last report 2xx: it has the thresholds and devices that report carried. */
void agent_report_acked(struct agent_state *st);

/*
 * One registration attempt.  On 2xx, applies the host's interval_ms and
 * resets seq.  @ret 0, or the wire_post() error (-EACCES refused, -EPROTO
 * other status, transport errors), logged once per failure.
 */
int agent_register(struct agent_state *st);

/*
 * Send one report.  A 401/403/404 answer clears st->registered.
 * @ret 0 or the wire_post() error.
 */
int agent_report(struct agent_state *st);

/*
 * The loop: register (with back-off), then report every interval, until a
 * stop is signalled (a byte on stop_fd) or, with conf->once, after one
 * report.  @ret 0, or with once the first error.
 */
int agent_run(struct agent_state *st);

/*
 * Between the agent's own files: agent.c (config, set-up, events, sampling,
 * thresholds), loop.c (the loop, its waits, the watchdog, power), command.c
 * (commands and their results), link.c (the exchanges with snowd).  Nothing
 * outside node-os/agent/ calls these.
 */

/* The wall clock, in seconds: events' and acknowledgements' time. */
int64_t agent_unix_now(void);
/*
 * Record an event (attrs stolen) with a severity and a publisher (NULL: the
 * agent; borrowed).  @ret its seq, or 0 (out of memory, logged).
 */
uint64_t agent_event_ex(struct agent_state *st, const char *type, enum instr_severity sev,
			const char *publisher, json_t *attrs);

/* The threshold on value of that kind, or NULL. */
struct instr_threshold *agent_thr_find(struct agent_state *st, const char *value,
				       enum instr_thr_kind kind);
/* Take t (one of st->thr) away. */
void agent_thr_remove(struct agent_state *st, struct instr_threshold *t);
/*
 * Install threshold t (checked) on a gauge of the tree.  @ret 0, or -EINVAL
 * / -ENOSPC with err naming the problem; nothing changes then.
 */
int agent_thr_install(struct agent_state *st, const struct instr_threshold *t,
		      int from_conf, char *err, size_t errlen);
/* node.conf's thresholds (thr borrowed) replace those an earlier node.conf set. */
void agent_thr_from_conf(struct agent_state *st, const struct instr_threshold *thr, size_t n);
/* Every threshold set, as a JSON array.  @ret a new reference, or NULL (out of memory). */
json_t *agent_thresholds_json(struct agent_state *st);
/* What ddm.c's operations may call back into (events, the watchdog's pat). */
struct ddm_env agent_ddm_env(struct agent_state *st);
/* The kept result of command id (borrowed from st), or NULL. */
struct agent_result *agent_result_find(struct agent_state *st, json_int_t id);
/*
 * Fetch the node's overlay through the signed channel and write its
 * etc/snow/node.conf to out (0600).  @ret 0 or -errno with err filled.
 */
int agent_fetch_conf(struct agent_state *st, const char *out, char *err, size_t errlen);

#endif
