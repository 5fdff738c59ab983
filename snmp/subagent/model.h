/*
 * The cluster as SNOW-CLUSTER-MIB shows it: snowd's nodes turned into the
 * rows of the four tables, each row carrying its index as OID
 * sub-identifiers.  Every index starts with the node's id, so a table
 * sorted by index is the node blocks in id order, each block's rows sorted.
 *
 * Blocks and snapshots are immutable once built, so the fetcher thread
 * builds them and the agent thread serves from them; nothing here calls
 * the agent library (only its OID type and comparison), so the unit tests
 * need no agent.
 */
#ifndef SNOW_SNMP_MODEL_H
#define SNOW_SNMP_MODEL_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MODEL_NAME_MAX 63  /* SnowName */
#define MODEL_TEXT_MAX 31  /* snowValueText */
#define MODEL_DESC_MAX 95
#define MODEL_UNIT_MAX 15
#define MODEL_OID_MAX 31
#define MODEL_HOST_MAX 255
/* node index + length + name + kind */
#define MODEL_IDX_MAX (1 + 1 + MODEL_NAME_MAX + 1)
#define MODEL_DEC_REAL 2   /* decimals of a value reported as a real */

enum model_node_state { MODEL_BOOTING = 1, MODEL_ONLINE = 2, MODEL_OFFLINE = 3 };
enum model_kind { MODEL_ATTRIBUTE = 1, MODEL_COUNTER = 2, MODEL_GAUGE = 3 };
enum model_thr_kind { MODEL_HIGH = 1, MODEL_LOW = 2 };
/* snowNodePowerState, from the node's power_state. */
enum model_power { MODEL_POWER_UNKNOWN = 1, MODEL_POWER_ON = 2, MODEL_POWER_OFF = 3 };
enum model_run { MODEL_INACTIVE = 1, MODEL_OFFLINE_RUN = 2, MODEL_ONLINE_RUN = 3 };
enum model_check { MODEL_CHECK_NONE = 1, MODEL_CHECK_PASS = 2, MODEL_CHECK_FAIL = 3 };

/*
 * Every row starts with its netsnmp_index (what the table_container helper
 * compares).  A node row's points at its sub[]; the others' point into
 * their block's arena (model_block.subs), which never moves.
 */
struct model_node {
	netsnmp_index idx;
	oid sub[1];
	uint32_t id;
	char name[MODEL_NAME_MAX + 1];
	unsigned char mac[6];
	unsigned char ip[4]; /* network order */
	int state;           /* enum model_node_state */
	char image[MODEL_NAME_MAX + 1];
	char hostname[MODEL_HOST_MAX + 1];
	char stage[MODEL_TEXT_MAX + 1];  /* the last boot stage */
	int64_t last_seen, online_since; /* Unix seconds, 0 never */
	int64_t last_crash;  /* Unix seconds of the last kernel crash snowd knows of, 0 none */
	int power;           /* enum model_power */
};

struct model_value {
	netsnmp_index idx;
	uint32_t node_id;
	char name[MODEL_NAME_MAX + 1];
	char oidstr[MODEL_OID_MAX + 1];
	int kind;          /* enum model_kind */
	char unit[MODEL_UNIT_MAX + 1];
	char desc[MODEL_DESC_MAX + 1];
	unsigned decimals;
	int has_reading, has_wm;
	double v, low, high;
	uint64_t count;    /* a counter's reading, exact (a JSON integer >= 0), else 0 */
};

struct model_thr {
	netsnmp_index idx;
	uint32_t node_id;
	char node[MODEL_NAME_MAX + 1];
	char value[MODEL_NAME_MAX + 1];
	int kind;          /* enum model_thr_kind */
	unsigned decimals; /* the value's */
	int enabled, raised;
	double rise, clear;
	unsigned samples;
};

struct model_check_result {
	int result;        /* enum model_check */
	int64_t time;
};

struct model_dev {
	netsnmp_index idx;
	uint32_t node_id;
	char node[MODEL_NAME_MAX + 1];
	char path[MODEL_NAME_MAX + 1];
	char cls[MODEL_UNIT_MAX + 1];
	int enabled;       /* avail */
	int run;           /* enum model_run */
	int can_enable, can_disable;
	struct model_check_result diag, audit;
};

/*
 * One node's rows: its node row and its values, thresholds and devices,
 * each array sorted by index.  Built from that node's JSON alone and never
 * changed afterwards, so a block is shared by the fetcher's copy and every
 * snapshot that holds it (reference counted, atomically: the agent thread
 * frees snapshots while the fetcher builds the next).  A node that did not
 * change between two snapshots costs the second one a pointer.
 */
struct model_block {
	unsigned refs;
	struct model_node node;
	struct model_value *values;
	struct model_thr *thrs;
	struct model_dev *devs;
	size_t nvalues, nthrs, ndevs;
	oid *subs;         /* the rows' index sub-identifiers, end to end */
	size_t skipped;    /* rows left out (malformed) */
};

/*
 * Build node n's block (n borrowed).  @ret 0 with *out holding one
 * reference, -EINVAL when the node has no usable id or name (warn says
 * why), or -ENOMEM.  Malformed rows are left out and counted in skipped,
 * the first reason in warn.
 */
int model_block_build(json_t *n, struct model_block **out, char *warn, size_t warnlen);
struct model_block *model_block_ref(struct model_block *b);
void model_block_unref(struct model_block *b);

/* The tables, numbered as under snowClusterObjects. */
enum model_table { MODEL_T_NODES = 2, MODEL_T_VALUES, MODEL_T_THRS, MODEL_T_DEVS };

/* What the agent serves: blocks sorted by node id, no id twice. */
struct model_snap {
	struct model_block **blocks;
	size_t nblocks;
	size_t nnodes, nvalues, nthrs, ndevs; /* rows per table */
	size_t skipped;    /* nodes or rows left out (malformed, no id, an id twice) */
};

/*
 * A snapshot of n blocks (a reference taken on each; the caller keeps its
 * own), sorted by node id; a block whose id an earlier one has is left out
 * and counted in skipped, which starts at skipped.  @ret NULL out of memory.
 */
struct model_snap *model_snap_from(struct model_block *const *b, size_t n, size_t skipped);

/*
 * Build a snapshot from the body of GET /api/v1/nodes (borrowed).  Nodes
 * without a usable id, and malformed members, are left out (counted in
 * skipped; the first reason goes to err when it is not NULL).
 * @ret a snapshot model_snap_free() releases, or NULL (out of memory, or
 * the body has no "nodes" array: err says which).
 */
struct model_snap *model_snap_build(json_t *body, char *err, size_t errlen);
void model_snap_free(struct model_snap *s);

/*
 * The row of table whose index is key (after = 0), or the first row whose
 * index comes after key (after = 1; key NULL: the table's first row).
 * Rows start with their netsnmp_index.  @ret a row borrowed from s, or NULL.
 */
const void *model_row(const struct model_snap *s, int table, const oid *key, size_t keylen,
		      int after);
/* The node row of the i-th block (i < s->nblocks), in node id order. */
static inline const struct model_node *model_node_at(const struct model_snap *s, size_t i)
{
	return &s->blocks[i]->node;
}

/* Lookups by key (binary search).  @ret a row borrowed from s, or NULL. */
const struct model_node *model_find_node(const struct model_snap *s, uint32_t id);
const struct model_node *model_find_node_name(const struct model_snap *s, const char *name);
const struct model_value *model_find_value(const struct model_snap *s, uint32_t node,
					   const char *name);
const struct model_thr *model_find_thr(const struct model_snap *s, uint32_t node,
				       const char *value, int kind);
const struct model_dev *model_find_dev(const struct model_snap *s, uint32_t node,
				       const char *path);

/* v in units of 10^-decimals, rounded, clamped to Integer32. */
int32_t model_fixed(double v, unsigned decimals);
/* The fixed-point x back to a double. */
double model_unfixed(int32_t x, unsigned decimals);
/* Shortest decimal text that reads back as v (at most 31 characters). */
void model_text(double v, char *out, size_t cap);
/*
 * DateAndTime (UTC, 11 octets) of Unix time t into out[11]; 8 zero octets
 * when t is 0.  @ret the length.
 */
size_t model_date(int64_t t, unsigned char *out);

/*
 * Index sub-identifiers of a value row (node, name) or a threshold row
 * (node, name, kind > 0).  @ret the number written (at most MODEL_IDX_MAX).
 */
size_t model_index(uint32_t node, const char *name, int kind, oid *out);

#endif
