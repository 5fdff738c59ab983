/*
 * What the files of SNOW-CLUSTER-MIB's agent share: agent.c (the
 * registrations, GET, the snapshot served), agent_set.c (SETs through their
 * phases, and the rows they changed until the node reports them) and
 * agent_notify.c (notifications).  The MIB's numbers are here once.  Private
 * to them; agent.h is the interface.  Runs in the agent thread only.
 */
#ifndef SNOW_SNMP_AGENT_PRIV_H
#define SNOW_SNMP_AGENT_PRIV_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#include <jansson.h>

#include "agent.h"

/* 1.3.6.1.4.1.8072.9999.9999.7669: snowClusterMIB under netSnmpPlaypen. */
#define SNOW_MIB 1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7669
#define MIB_AGENT SNOW_MIB, 1, 1          /* the snowAgent scalars */
#define MIB_NODES SNOW_MIB, 1, 2          /* the tables */
#define MIB_VALUES SNOW_MIB, 1, 3
#define MIB_THRS SNOW_MIB, 1, 4
#define MIB_DEVS SNOW_MIB, 1, 5
#define MIB_NOTIFY_OBJS SNOW_MIB, 1, 6    /* snowNotifyObjects */
#define MIB_NOTIFICATIONS SNOW_MIB, 0

/* Columns (see SNOW-CLUSTER-MIB). */
enum { COL_NODE_NAME = 2, COL_NODE_MAC, COL_NODE_IP, COL_NODE_STATE, COL_NODE_IMAGE,
       COL_NODE_UPTIME, COL_NODE_LAST_SEEN, COL_NODE_HOSTNAME, COL_NODE_STAGE,
       COL_NODE_LAST_CRASH, COL_NODE_POWER };
enum { COL_VAL_OID = 2, COL_VAL_KIND, COL_VAL_UNIT, COL_VAL_DECIMALS, COL_VAL_CURRENT,
       COL_VAL_TEXT, COL_VAL_LOW, COL_VAL_HIGH, COL_VAL_DESCR, COL_VAL_COUNTER };
enum { COL_THR_RISE = 2, COL_THR_CLEAR, COL_THR_ENABLED, COL_THR_STATE, COL_THR_SAMPLES,
       COL_THR_STATUS };
enum { COL_DEV_CLASS = 2, COL_DEV_ADMIN, COL_DEV_OPER, COL_DEV_RUN, COL_DEV_CAN_DISABLE,
       COL_DEV_CAN_ENABLE, COL_DEV_DIAG, COL_DEV_DIAG_TIME, COL_DEV_AUDIT,
       COL_DEV_AUDIT_TIME };

/* ---- agent_set.c ---- */

/*
 * One SET phase for a writable table (table: enum txn_table) over requests
 * (agent_set.c).  @ret SNMP_ERR_NOERROR; refusals are set on the requests.
 */
int agent_set(struct agent *a, int table, netsnmp_agent_request_info *reqinfo,
	      netsnmp_request_info *requests);
/* Whether a SET is between its RESERVE1 and its last phase (and not abandoned). */
int agent_set_open(struct agent *a);
/* End the SET under way (what it planned is released). */
void agent_txn_reset(struct txn *t);
/* The row a SET changed at index sub (table: enum txn_table), as the command leaves it; NULL none. */
struct agent_pending *agent_pending_find(struct agent *a, int table, const oid *sub, size_t len);
/* A new snapshot is served: drop the pending rows it shows already, and those waited on too long. */
void agent_pending_settle(struct agent *a);

/* ---- agent_notify.c ---- */

/* Notifications for snowd's events (threshold, device state, crash) of the served snapshot's nodes. */
void agent_notify_events(struct agent *a, json_t *events);
/* Node up/down notifications: what changed between old and the snapshot now served. */
void agent_notify_states(struct agent *a, const struct model_snap *old);

#endif
