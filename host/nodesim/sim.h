/*
 * One simulated node agent, without I/O: its values (random walks), gauge
 * watermarks, thresholds with hysteresis, DDM devices, event ring (the black
 * box), pending command results, and what it does with a command.  The
 * rules are lib/instr.h's, so a simulated node judges a threshold or a device
 * operation exactly as snow-agent does.  Times are passed in; randomness is
 * a per-node xorshift seeded by the caller, so a run can be repeated and the
 * tests are exact.
 */
#ifndef SNOW_NODESIM_SIM_H
#define SNOW_NODESIM_SIM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "instr.h"
#include "ovl.h"

#define SIM_VERSION "nodesim-0.1.0"
#define SIM_THR_MAX 8      /* thresholds a node holds at once */
#define SIM_RING_CAP 64    /* events kept until acknowledged */
#define SIM_DONE_IDS 16    /* command ids remembered as done */
#define SIM_NDEV 5         /* cpu/cpu0..3, net/eth0 */
#define SIM_SPIKE_VALUE "hw.temp.cpu"

/* A value the simulation produces: what the schema says, and how it moves. */
struct sim_def {
	struct instr_def def;
	double init;     /* value at boot */
	double lo, hi;   /* gauges stay within [lo, hi] */
	double step;     /* gauge: largest change per second; counter: mean rate per second */
};

extern const struct sim_def sim_defs[];
extern const size_t sim_ndefs;

/* What the caller must do after a report answer was handled. */
enum sim_action {
	SIM_ACT_NONE = 0,
	SIM_ACT_SOON = 1 << 0,     /* results are waiting: report again soon */
	SIM_ACT_REBOOT = 1 << 1,   /* a reboot's result was acknowledged: go down now */
	SIM_ACT_POWEROFF = 1 << 2, /* likewise, and stay down */
	SIM_ACT_RELOAD = 1 << 3,   /* fetch the overlay again, then sim_reload_done() */
};

struct sim_node {
	char name[SNOW_NAME_MAX + 1];
	char mac[SNOW_MAC_STRLEN + 1];
	char boot_id[40];
	struct ovl_conf conf;          /* from the overlay; holds the secret */
	uint64_t rng;                  /* xorshift64* state, never 0 */
	unsigned boots;                /* boots since start */
	uint64_t seq;                  /* last report sequence number of this registration */
	double uptime_s;
	double *v;                     /* sim_ndefs readings */
	struct instr_wm *wm;           /* sim_ndefs watermarks (gauges) */
	struct instr_threshold thr[SIM_THR_MAX];
	int spike;                     /* --events-rate: thr[0] is the spike threshold */
	unsigned char thr_cfg[SIM_THR_MAX]; /* from node.conf or --events-rate: kept at boot */
	struct instr_dev dev[SIM_NDEV];
	struct instr_ring ring;
	json_t *results;               /* [result...] not yet in a report answered 2xx */
	size_t results_sent;           /* how many of them the report in flight carries */
	int thr_dirty, dev_dirty;      /* changed since the last report answered 2xx */
	int thr_sent, dev_sent;        /* the report in flight carries them */
	json_int_t done_ids[SIM_DONE_IDS];
	json_t *done_results[SIM_DONE_IDS]; /* the result sent for each, owned */
	size_t done_next;
	json_int_t down_id;            /* reboot/poweroff waiting for its result's ack */
	int down_op;                   /* INSTR_CMD_REBOOT or INSTR_CMD_POWEROFF */
	json_int_t reload_id;          /* config.reload waiting for the overlay, 0 none */
	uint64_t events_made;          /* threshold crossings and other events pushed */
};

/*
 * Set up n (zeroed by this call) for name/mac with a seed (any value).
 * @ret 0 or -ENOMEM; sim_node_free() releases n also after an error.
 */
int sim_node_init(struct sim_node *n, const char *name, const char *mac, uint64_t seed);
void sim_node_free(struct sim_node *n);

/* A uniform random double in [0, 1) from n's generator. */
double sim_rand(struct sim_node *n);

/*
 * Boot: a new boot_id, values back to their initial readings, watermarks
 * from there, devices online, host-set thresholds gone (the config ones,
 * from spike_thr, stay), the ring emptied, then "boot" and "agent.start"
 * events.  now is Unix seconds.  @ret 0 or -ENOMEM.
 */
int sim_boot(struct sim_node *n, int64_t now);

/*
 * Advance the readings by dt seconds (random walks; counters only grow,
 * attributes never change), move the watermarks, and feed every threshold,
 * pushing threshold.raise/clear events on transitions.
 */
void sim_step(struct sim_node *n, double dt, int64_t now);

/*
 * The --events-rate source: set a high threshold on hw.temp.cpu (rise 85,
 * clear 80) as if node.conf had it, then push the temperature over rise, or
 * back under clear when raised, so the next sim_step() crosses it.
 * @ret 0 or -EINVAL (no such value).
 */
int sim_spike_setup(struct sim_node *n);
void sim_spike(struct sim_node *n);

/*
 * Apply node.conf (copied into n->conf): its thresholds replace the
 * configured ones (one already there with the same value and kind keeps its
 * state); thresholds the host set stay.  @ret 0, or -ENOSPC when they do not
 * all fit (the rest are left out).
 */
int sim_apply_conf(struct sim_node *n, const struct ovl_conf *c);

/* Register body {name, mac, boot_id, version, kernel, hostname, schema}: new reference or NULL. */
json_t *sim_register_body(struct sim_node *n);
/* Registered again: the host forgot what we told it; resend thresholds and devices. */
void sim_registered(struct sim_node *n);

/*
 * Report body with the next seq: values, watermarks, thresholds and devices
 * (when changed since the last answered report, or always with full), up
 * to INSTR_EVENTS_PER_REPORT events, and every pending result.  Notes what
 * it carries so sim_report_answered() knows what was delivered.
 * @ret new reference or NULL.
 */
json_t *sim_report_body(struct sim_node *n, int full);
/*
 * The same report as the text sent (jsonh_dump_wire of sim_report_body),
 * the steady one written without a tree (simtext.c); *len its length.
 * @ret malloc()ed text, or NULL (out of memory).
 */
char *sim_report_text(struct sim_node *n, int full, size_t *len);

/*
 * The host answered the report 2xx with ans (borrowed, may be NULL):
 * delivered results and dirty flags are cleared, events up to ack_events
 * dropped, and each command run (or, when its id is already done, its
 * earlier result queued again).  @ret a mask of enum sim_action.
 */
unsigned sim_report_answered(struct sim_node *n, json_t *ans, int64_t now);

/* The report was not answered 2xx: everything it carried stays pending. */
void sim_report_failed(struct sim_node *n);

/*
 * Run one command (j borrowed): the result is queued for the next report.
 * @ret a mask of enum sim_action.
 */
unsigned sim_command(struct sim_node *n, json_t *j, int64_t now);

/*
 * config.reload finished: c (when rc is 0) replaces the node's conf; the
 * result says so or names the error.
 */
void sim_reload_done(struct sim_node *n, int rc, const struct ovl_conf *c, const char *err,
		     int64_t now);

/* Index of a value in sim_defs, or -1. */
int sim_value_index(const char *name);

#endif
