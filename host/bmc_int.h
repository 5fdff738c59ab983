/*
 * Inside the BMC poller (bmc.c) and its serial-over-LAN sessions
 * (bmc_sol.c): the per-node state both keep.  Not for other modules: they
 * use bmc.h.
 */
#ifndef SNOW_BMC_INT_H
#define SNOW_BMC_INT_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "bmc.h"
#include "buf.h"
#include "instr.h"
#include "snowd.h"

struct node_rt;
struct report_state;

#define BMC_OUT_MAX (1u << 20) /* ipmitool output kept per poll */

struct bmc_val {
	char name[INSTR_NAME_MAX + 1];
	char unit[INSTR_UNIT_MAX + 1];
	double v;
	struct instr_wm wm;
};

struct bmc_node {
	int64_t id;
	char name[SNOW_NAME_MAX + 1];
	json_t *power;          /* owned: the node's effective power setting */
	int ipmi;               /* else redfish */
	int every_s;            /* power.sensors_s */
	int log;                /* read the event log too (power.log, default true) */
	char where[300];        /* "ipmi HOST[:PORT]" or "redfish URL", for messages */
	int seen;               /* found by the last scan */
	int64_t next_ms;        /* monotonic: the next poll is due */
	int busy;               /* a poll is under way */
	int64_t deadline_ms;    /* ipmi: kill ipmitool then */
	int deadline_s;
	pid_t pid;              /* ipmi: the poll's ipmitool, 0 none */
	int fd;                 /* its output, -1 none */
	int killed;
	struct buf out;         /* owned: what it printed so far */
	struct bmc_val *v;      /* owned: the readings of the last good poll */
	size_t nv;
	int64_t polled;         /* realtime s of the last good poll, 0 never */
	uint64_t polls, failures;
	char error[400];        /* the last poll's failure, "" none */
	int loaded;             /* cursor, seq and thresholds read from the inventory */
	int64_t cursor, seq;    /* the event log: highest entry id taken, last event seq */
	struct instr_threshold thr[BMC_MAX_THR]; /* on its bmc.* gauges, kept by snowd */
	size_t nthr;
	/* Serial-over-LAN (ipmi, power.sol): `sol deactivate` (a stale session), then `sol activate`. */
	int sol;
	int sol_phase;          /* 0 next: deactivate; 1 deactivating; 2 next: activate; 3 active */
	pid_t sol_pid;          /* 0 none */
	int sol_fd;             /* activate's terminal, -1 none */
	int64_t sol_next_ms;    /* monotonic: start again then */
	char sol_boot[32];      /* the boot whose file SOL goes to (STATE/sol/NODE/BOOT.log), "" not known yet */
	int sol_fresh;          /* that boot was begun by a power command and has not fetched its script */
};

struct bmc {
	struct bmc_node *n;     /* owned, sorted by id */
	size_t nn, cap;
	unsigned busy;          /* polls under way */
	uint64_t gen;           /* sd->settings_gen at the last scan */
	int64_t next_scan;      /* monotonic ms */
	int scanned;
};

/* Give rt a schema with bn's gauges, its history going on (bmc_tree.c).  @ret 1 if it changed. */
int bmc_schema_update(struct snowd *sd, struct node_rt *rt, const struct bmc_node *bn);
/*
 * rt's values and watermarks with bn's in place of any bmc.* ones, and its
 * thresholds with snowd's on the bmc.* gauges (bmc_tree.c); *only (may be
 * NULL; zeroed by the caller, released with report_state_free()) gets bn's
 * readings alone.
 */
void bmc_values(struct bmc_node *bn, struct node_rt *rt, struct report_state *only);
/* @ret node id's entry (borrowed from b; NULL: b knows no BMC for it). */
struct bmc_node *bmc_find(struct bmc *b, int64_t id);
/* Copy what bn's SOL terminal has into its log, without blocking. */
void bmc_sol_drain(struct snowd *sd, struct bmc_node *bn);
/* Start bn's next SOL step: deactivate a stale session, or activate one on a terminal. */
void bmc_sol_start(struct snowd *sd, struct bmc_node *bn);
/* A SOL ipmitool of bn ended with status. */
void bmc_sol_reaped(struct snowd *sd, struct bmc_node *bn, int status);
/*
 * snowd stops: every SOL session is ended by ipmitool's escape, so the BMC
 * closes it (one killed stays open on the BMC until it times out); waits
 * at most a second for them, the rest are killed by bmc_free().
 */
void bmc_sol_end_all(struct bmc *b);

#endif
