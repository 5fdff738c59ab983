/*
 * SNOW-CLUSTER-MIB in net-snmp's agent: the four tables (table_container
 * helper over the rows of the current snapshot, as mib2c's container
 * template does), the snowAgent scalars, SETs through the RESERVE1 ..
 * FREE/UNDO phases turned into snowd commands (agent_set.c), and
 * notifications for snowd's events and node state changes (agent_notify.c).
 * Runs in the agent thread only.
 */
#ifndef SNOW_SNMP_AGENT_H
#define SNOW_SNMP_AGENT_H

#include "fetch.h"
#include "model.h"
#include "txn.h"

/*
 * A netsnmp_container over one table of the served snapshot: find and
 * find_next (all that table_container asks of it) search the snapshot's
 * blocks (model_row()).  Swapping in a new snapshot is a pointer change:
 * nothing is copied, inserted or sorted per refresh.
 */
struct snap_container {
	netsnmp_container c; /* first: the agent library sees only this */
	struct model_snap *const *snap; /* the agent's served snapshot */
	int table;           /* enum model_table */
};

/*
 * A row as a SET left it, shown by GET until a snapshot agrees (the node
 * applied the command and reported) or AGENT_PENDING_MS pass.
 */
#define AGENT_PENDING_MAX 64
#define AGENT_PENDING_MS 15000
struct agent_pending {
	int table;           /* enum txn_table */
	oid sub[MODEL_IDX_MAX];
	size_t len;
	int exists, enabled; /* threshold: exists; device: enabled (avail) */
	double rise, clear;
	unsigned decimals;
	int64_t until_ms;
};

/* One registration of the MIB's objects, kept to undo it (agent_unregister()). */
struct agent_reg {
	netsnmp_handler_registration *reg;
	int table; /* through the table_container helper */
};
#define AGENT_REGS 7 /* four tables, three scalars */

struct agent {
	struct fetch *fetch;
	struct model_snap *snap;          /* served; never NULL after agent_init() */
	struct fetch_result *deferred;    /* a result waiting for a SET to end */
	int reachable;
	int64_t data_ms;                  /* when snap arrived, 0 never */
	struct snap_container c_nodes, c_values, c_thrs, c_devs;
	struct txn txn;
	struct agent_pending pending[AGENT_PENDING_MAX];
	size_t npending;
	unsigned long notifications;
	struct agent_reg regs[AGENT_REGS];
	size_t nregs;
};

/* Register the MIB's objects.  @ret 0 or -ENOMEM / -EIO (registration refused). */
int agent_init(struct agent *a, struct fetch *f);
/* Take a poll result: swap in its snapshot, send its notifications (r is owned). */
void agent_take(struct agent *a, struct fetch_result *r);
/* Once a second: end abandoned SETs, apply a deferred result. */
void agent_tick(struct agent *a);
/* Undo agent_init()'s registrations (a module snmpd unloads); agent_free() still follows. */
void agent_unregister(struct agent *a);
void agent_free(struct agent *a);

#endif
