/*
 * A SET's transaction: the rows of SNOW-CLUSTER-MIB's writable tables one
 * SET writes, each with the row as it was, what the request asks of it and
 * the plan made in RESERVE2 (plan.c), until the transaction ends
 * (agent_set.c).
 */
#ifndef SNOW_SNMP_TXN_H
#define SNOW_SNMP_TXN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define AGENT_TXN_MAX 32 /* rows one SET may touch */

enum txn_table { TXN_THR = 1, TXN_DEV = 2 };

/* One row a SET writes: the request, the row as it was, the plan. */
struct txn_entry {
	int table;
	oid sub[MODEL_IDX_MAX];
	size_t len;
	char node[MODEL_NAME_MAX + 1];
	char name[MODEL_NAME_MAX + 1]; /* value name or device path */
	int kind;
	unsigned decimals;
	/* the row before (a threshold row a SET creates: enabled 0) */
	int enabled, can_enable, can_disable;
	double rise, clear;
	unsigned samples;
	/* what the request writes */
	int set_rise, set_clear, set_enabled, set_admin, set_status;
	long rise_fx, clear_fx, want_enabled, want_admin, want_status;
	/* RESERVE2's plan: the command and the one that undoes it (NULL: none) */
	int planned, error;
	json_t *cmd, *undo;
	int new_exists, new_enabled;     /* the row once cmd is applied */
	double new_rise, new_clear;
	int posted;
	int64_t cmd_id;
};

struct txn {
	int open;
	long transid;
	int64_t opened_ms;
	size_t n;
	struct txn_entry e[AGENT_TXN_MAX];
};

#endif
