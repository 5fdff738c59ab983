/*
 * What a SET on one row of SNOW-CLUSTER-MIB asks, turned into the snowd
 * command that does it and the one that undoes it (RESERVE2).  Pure: the
 * row as it was and the varbinds' values are in the txn_entry; nothing is
 * sent.  Every command planned is one the node's agent accepts
 * (lib/instr's rules; checked by the snmp_plan fuzz target).
 */
#ifndef SNOW_SNMP_PLAN_H
#define SNOW_SNMP_PLAN_H

#include "txn.h"

/* EntityAdminState / EntityOperState (ENTITY-STATE-TC-MIB). */
#define ADMIN_LOCKED 2
#define ADMIN_UNLOCKED 4
#define OPER_DISABLED 2
#define OPER_ENABLED 3
#define TV_TRUE 1
#define TV_FALSE 2
/* RowStatus (SNMPv2-TC) */
#define RS_ACTIVE 1
#define RS_CREATE_AND_GO 4
#define RS_DESTROY 6

/*
 * A threshold row: the values of every varbind of the row together must
 * make sense.  @ret 0 with e->cmd and e->undo (either may stay NULL: nothing
 * to do) and e->new_* set, or an SNMP error (SNMP_ERR_WRONGVALUE,
 * SNMP_ERR_INCONSISTENTVALUE, SNMP_ERR_NOCREATION, or
 * SNMP_ERR_RESOURCEUNAVAILABLE when a command could not be made) with
 * nothing planned.
 */
int plan_threshold(struct txn_entry *e);
/* A device row (snowDeviceAdminState): enable or disable.  @ret as plan_threshold(). */
int plan_device(struct txn_entry *e);

#endif
