/*
 * The instrumentation model (ChorusOS sysctl/DDM/system events, on Linux),
 * shared by snow-agent, snowd, the consoles and the SNMP subagent: values
 * (attribute, counter, gauge) with names, OIDs and units; gauge watermarks;
 * thresholds with hysteresis; the event ring (the black box); DDM device
 * states and the rules saying which operation each state allows; host
 * commands; and their JSON forms as docs/protocol.md defines them.
 *
 * Pure: no I/O, no clock (callers pass times in), no globals, so both sides
 * use the same rules and tests are exact.  JSON is jansson; every function
 * that takes or returns a json_t says who owns it.
 */
#ifndef SNOW_INSTR_H
#define SNOW_INSTR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define INSTR_NAME_MAX 63    /* dotted value name, e.g. "net.eth0.rx_bytes" */
#define INSTR_OID_MAX 31     /* dotted decimal, relative to the Snow node-value arc */
#define INSTR_UNIT_MAX 15
#define INSTR_DESC_MAX 95
#define INSTR_PATH_MAX 63    /* device path, e.g. "cpu/cpu1" */
#define INSTR_CLASS_MAX 15
#define INSTR_DETAIL_MAX 159 /* diag/audit detail text */
#define INSTR_TYPE_MAX 23    /* event type */
#define INSTR_EVENTS_PER_REPORT 256
#define INSTR_SAMPLES_MAX 1000 /* threshold: consecutive samples before raising */

/* ---- values ---------------------------------------------------------------- */

enum instr_kind { INSTR_ATTRIBUTE, INSTR_COUNTER, INSTR_GAUGE };

/* "attribute", "counter", "gauge". */
const char *instr_kind_name(enum instr_kind k);
/* @ret 0 or -EINVAL. */
int instr_kind_parse(const char *s, enum instr_kind *k);

/*
 * A value name: 1..63 characters, dot-separated segments of [a-z0-9_-],
 * none empty.  @ret 0 or -EINVAL with err naming what is wrong.
 */
int instr_name_check(const char *name, char *err, size_t errlen);

/* What the schema says about a value. */
struct instr_def {
	char name[INSTR_NAME_MAX + 1];
	char oid[INSTR_OID_MAX + 1];
	enum instr_kind kind;
	char unit[INSTR_UNIT_MAX + 1];
	char desc[INSTR_DESC_MAX + 1];
	int integer; /* sent as a JSON integer rather than a real */
	/*
	 * A counter that counters.reset may restart from 0 (ChorusOS: "some
	 * counters can be reset"); "resettable": true in the schema.
	 */
	int resettable;
};

/* Low and high watermark of a gauge since boot or the last reset. */
struct instr_wm {
	double low, high;
	int set; /* 0 until the first reading */
};

void instr_wm_update(struct instr_wm *w, double v);
/* Start again from the current reading v. */
void instr_wm_reset(struct instr_wm *w, double v);

struct instr_value {
	struct instr_def def;
	double v;
	int valid;          /* read in the current round */
	struct instr_wm wm; /* gauges only */
	/*
	 * Counters: v is the reading (raw) less base, the raw reading at the
	 * last counters.reset (0: never reset).  A raw reading below base (the
	 * source started again, e.g. an interface re-created) drops base.
	 */
	double raw, base;
};

/*
 * The value tree: every value seen since start, in the order first seen
 * (so OIDs and the schema stay stable).  The tree owns its array.
 */
struct instr_tree {
	struct instr_value *v;
	size_t n, cap;
	unsigned gen; /* bumped when a value is added: the schema changed */
	/* Bumped when a watermark moves or is reset, or a counter is reset (worth saving). */
	unsigned wm_gen;
};

void instr_tree_free(struct instr_tree *t);
/* A new sampling round: every value is invalid until set again. */
void instr_tree_begin(struct instr_tree *t);
/*
 * Record reading v of the value def describes (copied when new), and move
 * a gauge's watermarks.  @ret 0, -EINVAL (bad name, or a name already there
 * with another kind), or -ENOMEM.
 */
int instr_tree_set(struct instr_tree *t, const struct instr_def *def, double v);
/* @ret the value (borrowed from t) or NULL. */
struct instr_value *instr_tree_find(const struct instr_tree *t, const char *name);
/*
 * Reset the watermarks of one gauge (name) or, with name NULL, of all, to
 * their current readings.  @ret number reset, or -ENOENT (no such value) /
 * -EINVAL (not a gauge) with err filled.
 */
int instr_tree_wm_reset(struct instr_tree *t, const char *name, char *err, size_t errlen);

/*
 * Restart one resettable counter (name) or, with name NULL, every resettable
 * one, from 0: its base becomes its current raw reading.  @ret number reset,
 * or -ENOENT (no such value), -EINVAL (not a counter) or -EPERM (a counter
 * that cannot be reset) with err filled.
 */
int instr_tree_counter_reset(struct instr_tree *t, const char *name, char *err, size_t errlen);

/*
 * JSON of the tree; each @ret is a new reference the caller json_decref()s,
 * or NULL (out of memory).
 *   schema:     [{name, oid, kind, unit, desc, resettable?}]
 *   values:     {name: number} (valid values only)
 *   watermarks: {name: [low, high]} (gauges with a reading)
 */
json_t *instr_tree_schema_json(const struct instr_tree *t);
json_t *instr_tree_values_json(const struct instr_tree *t);
json_t *instr_tree_watermarks_json(const struct instr_tree *t);

/*
 * One schema entry {name, oid, kind, unit, desc, resettable} (oid, unit,
 * desc optional; resettable a boolean, counters only) into d.  j is borrowed.  @ret 0 or -EINVAL with err naming the field.
 */
int instr_def_from_json(json_t *j, struct instr_def *d, char *err, size_t errlen);

/* ---- thresholds ------------------------------------------------------------ */

enum instr_thr_kind { INSTR_THR_HIGH, INSTR_THR_LOW };
enum instr_thr_state { INSTR_THR_CLEAR, INSTR_THR_RAISED };
enum instr_transition { INSTR_TR_NONE, INSTR_TR_RAISE, INSTR_TR_CLEAR };

/*
 * A threshold on a gauge.  high: raised when the gauge goes above rise
 * (v > rise) for `samples` consecutive readings; then nothing more until it
 * falls below clear (v < clear), which clears it at once.  low mirrors it
 * (raise on v < rise, clear on v > clear).  A reading equal to rise or clear
 * changes nothing, so clear == rise is allowed and still has no flapping.
 */
struct instr_threshold {
	char value[INSTR_NAME_MAX + 1];
	enum instr_thr_kind kind;
	double rise, clear;
	unsigned samples; /* 1..INSTR_SAMPLES_MAX */
	int enabled;
	enum instr_thr_state state;
	unsigned hits;    /* consecutive readings beyond rise while clear */
};

const char *instr_thr_kind_name(enum instr_thr_kind k);
int instr_thr_kind_parse(const char *s, enum instr_thr_kind *k);
const char *instr_thr_state_name(enum instr_thr_state s);

/*
 * Is clear on the right side of rise?  high: clear <= rise; low:
 * clear >= rise; both finite.  @ret 0 or -EINVAL with err naming the field
 * ("clear: 70 is above rise 60; a high threshold clears below its rise").
 */
int threshold_check(double rise, double clear, enum instr_thr_kind kind, char *err,
		    size_t errlen);

/*
 * Set (and enable) t after threshold_check() and a samples range check.
 * A threshold set again with the same kind keeps its state, so a raised one
 * is cleared by the new clear value, not forgotten.  Nothing changes on
 * error.  @ret 0 or -EINVAL with err filled.
 */
int threshold_set(struct instr_threshold *t, const char *value, enum instr_thr_kind kind,
		  double rise, double clear, unsigned samples, char *err, size_t errlen);

/* Feed one reading.  @ret INSTR_TR_RAISE or INSTR_TR_CLEAR on a transition. */
enum instr_transition threshold_update(struct instr_threshold *t, double v);

/* {value, kind, rise, clear, samples, state}: new reference or NULL. */
json_t *threshold_to_json(const struct instr_threshold *t);
/*
 * {value, kind, rise, clear, samples?, state?} (j borrowed) into t, checked
 * with threshold_check().  @ret 0 or -EINVAL with err naming the field.
 */
int threshold_from_json(json_t *j, struct instr_threshold *t, char *err, size_t errlen);

/* ---- events (the black box) ------------------------------------------------ */

#define INSTR_EV_AGENT_START "agent.start"
#define INSTR_EV_BOOT "boot"
#define INSTR_EV_THR_RAISE "threshold.raise"
#define INSTR_EV_THR_CLEAR "threshold.clear"
#define INSTR_EV_DEVICE_STATE "device.state"
#define INSTR_EV_COMMAND_RESULT "command.result"
#define INSTR_EV_EVENTS_LOST "events.lost"
#define INSTR_EV_STATE "agent.state" /* the agent's state folder could not be read or written */

#define INSTR_PUBLISHER_MAX 31 /* who posted an event: [a-z0-9_.-], e.g. "snow-agent" */

/*
 * How much an event matters (the ChorusOS black box's severity levels, in
 * syslog's order).  NONE: the event did not say (older agents): absent on
 * the wire.
 */
enum instr_severity {
	INSTR_SEV_NONE,
	INSTR_SEV_DEBUG,
	INSTR_SEV_INFO,
	INSTR_SEV_NOTICE,
	INSTR_SEV_WARNING,
	INSTR_SEV_ERROR,
	INSTR_SEV_CRITICAL,
	INSTR_SEV_COUNT
};

/* "debug", "info", "notice", "warning", "error", "critical" ("" for NONE). */
const char *instr_severity_name(enum instr_severity s);
/* A name above (not ""): @ret 0 or -EINVAL. */
int instr_severity_parse(const char *s, enum instr_severity *sev);
/*
 * The severity an event of the agent's own types has: threshold.raise and
 * events.lost warning, agent.state error, the others info.
 */
enum instr_severity instr_severity_of(const char *type);
/*
 * A publisher name: 1..INSTR_PUBLISHER_MAX of [a-z0-9_.-].  @ret 0 or
 * -EINVAL with err naming the field "publisher".
 */
int instr_publisher_check(const char *s, char *err, size_t errlen);

struct instr_event {
	uint64_t seq;  /* from 1 per boot */
	int64_t time;  /* Unix seconds */
	char type[INSTR_TYPE_MAX + 1];
	enum instr_severity severity;              /* NONE: not on the wire */
	char publisher[INSTR_PUBLISHER_MAX + 1];   /* "": not on the wire */
	json_t *attrs; /* an object, owned by the event */
};

/*
 * A bounded ring of events not yet acknowledged, oldest first.  When full,
 * a push drops the oldest event; the drops are counted and recorded as one
 * "events.lost" event {count, first_seq, last_seq} as soon as there is room
 * again (after an acknowledgement), so the record itself never pushes out a
 * real event and a burst costs one record, not one per drop.
 */
struct instr_ring {
	struct instr_event *ev; /* cap slots, owned */
	size_t cap, head, len;
	uint64_t next_seq;      /* seq of the next event pushed */
	uint64_t lost;          /* dropped and not yet recorded */
	uint64_t lost_first, lost_last;
	uint64_t lost_total;    /* since start, for the agent's own values */
	/* Publisher of the events pushed without one (the owner's name; "" none). */
	char publisher[INSTR_PUBLISHER_MAX + 1];
};

/* @ret 0, -EINVAL (cap 0) or -ENOMEM. */
int instr_ring_init(struct instr_ring *r, size_t cap);
void instr_ring_free(struct instr_ring *r);
/*
 * Append an event; attrs (an object, or NULL for {}) is stolen, also on
 * error.  Its severity is instr_severity_of(type), its publisher the
 * ring's.  @ret its seq, or 0 when out of memory.
 */
uint64_t instr_ring_push(struct instr_ring *r, int64_t time, const char *type, json_t *attrs);
/* The same with a severity and a publisher (NULL: the ring's). */
uint64_t instr_ring_push_ex(struct instr_ring *r, int64_t time, const char *type,
			    enum instr_severity sev, const char *publisher, json_t *attrs);
/*
 * The host stored every event up to seq: drop them, then record pending
 * drops if there is room.  A seq above the last pushed is clamped (a host
 * from another boot cannot make us drop events it never saw: callers check
 * the boot).  @ret number of events dropped.
 */
size_t instr_ring_ack(struct instr_ring *r, uint64_t seq, int64_t now);
/* The i-th oldest event (borrowed), or NULL. */
const struct instr_event *instr_ring_at(const struct instr_ring *r, size_t i);
/* The oldest max events as [{seq, time, type, attrs}]: new reference or NULL. */
json_t *instr_ring_json(const struct instr_ring *r, size_t max);

/*
 * {seq, time, type, severity?, publisher?, attrs}: new reference (attrs
 * shared, not copied) or NULL.
 */
json_t *instr_event_to_json(const struct instr_event *e);
/*
 * Parse one event (j borrowed); severity and publisher may be absent (an
 * older agent's).  e->attrs becomes a new reference the caller releases
 * with json_decref().  @ret 0 or -EINVAL with err naming the field.
 */
int instr_event_from_json(json_t *j, struct instr_event *e, char *err, size_t errlen);

/* ---- devices (DDM) --------------------------------------------------------- */

enum instr_avail { INSTR_ENABLED, INSTR_DISABLED };
enum instr_run { INSTR_INACTIVE, INSTR_OFFLINE, INSTR_ONLINE };
enum instr_op {
	INSTR_OP_ENABLE,
	INSTR_OP_DISABLE,
	INSTR_OP_ONLINE,
	INSTR_OP_OFFLINE,
	INSTR_OP_SHUTDOWN,
	INSTR_OP_DIAG,
	INSTR_OP_AUDIT,
	INSTR_OP_COUNT
};

const char *instr_avail_name(enum instr_avail a);
const char *instr_run_name(enum instr_run r);
const char *instr_op_name(enum instr_op op);
int instr_avail_parse(const char *s, enum instr_avail *a);
int instr_run_parse(const char *s, enum instr_run *r);
int instr_op_parse(const char *s, enum instr_op *op);

/* Result of the last diag or audit. */
struct instr_check {
	int done;   /* 0: never run */
	int pass;
	int64_t time;
	char detail[INSTR_DETAIL_MAX + 1];
};

struct instr_dev {
	char path[INSTR_PATH_MAX + 1];
	char cls[INSTR_CLASS_MAX + 1];
	enum instr_avail avail;
	enum instr_run run;
	/*
	 * Why this device can never do an op (empty: it can, state permitting),
	 * e.g. "the boot CPU cannot go offline (no online file)".  Filled by
	 * whoever builds the device: what the hardware allows is not a rule of
	 * the model.
	 */
	char cannot[INSTR_OP_COUNT][96];
	/*
	 * A device read from a node's report (instr_dev_from_json) carries the
	 * ops its node offers, since cannot[] is not on the wire: with offered_set,
	 * an op outside offered is refused whatever the state.
	 */
	unsigned offered;
	int offered_set;
	json_t *stats; /* object or NULL, owned */
	struct instr_check diag, audit;
};

/*
 * Why op is refused on d now, in buf as "PATH: cannot OP: REASON": first
 * what the device can never do (cannot[]), then the state rules:
 *   enable   needs avail disabled
 *   disable  needs avail enabled and run not online (take it offline first)
 *   online   needs avail enabled and run not online
 *   offline  needs run online
 *   shutdown needs run not inactive
 *   diag     needs run offline (intrusive)
 *   audit    needs run online (non-intrusive)
 * @ret NULL when allowed, else buf.
 */
const char *instr_dev_refusal(const struct instr_dev *d, enum instr_op op, char *buf,
			      size_t len);
/* Bit (1u << op) set for every op instr_dev_refusal() allows now. */
unsigned instr_dev_ops(const struct instr_dev *d);

/* Release d->stats. */
void instr_dev_clear(struct instr_dev *d);
/*
 * {path, class, avail, run, stats?, diag?, audit?, ops}: new reference (stats
 * shared) or NULL.
 */
json_t *instr_dev_to_json(const struct instr_dev *d);
/* A diagnostic or audit result as JSON: {"result": "pass"|"fail", "time", "detail"}. */
json_t *instr_check_to_json(const struct instr_check *c);
/*
 * Read one back into c (done set); j NULL leaves c as it is.  Errors name
 * field.  @ret 0 or -EINVAL.
 */
int instr_check_from_json(json_t *j, const char *field, struct instr_check *c, char *err,
			  size_t errlen);
/*
 * Parse a device (j borrowed); d->stats gets a new reference (release with
 * instr_dev_clear()).  cannot[] is not on the wire: the ops given (if any)
 * become offered, so instr_dev_to_json() gives back the same ops.
 * @ret 0 or -EINVAL with err naming the field.
 */
int instr_dev_from_json(json_t *j, struct instr_dev *d, char *err, size_t errlen);

/* ---- commands -------------------------------------------------------------- */

enum instr_cmd_op {
	INSTR_CMD_REBOOT,
	INSTR_CMD_POWEROFF,
	INSTR_CMD_THR_SET,
	INSTR_CMD_THR_CLEAR,
	INSTR_CMD_WM_RESET,
	INSTR_CMD_DEVICE,
	INSTR_CMD_SYSCTL_SET,
	INSTR_CMD_CONFIG_RELOAD,
	INSTR_CMD_SYSCTL_GET,
	INSTR_CMD_CNT_RESET,
	INSTR_CMD_COUNT
};

#define INSTR_SYSCTL_NAME_MAX 127
#define INSTR_SYSCTL_VALUE_MAX 255
#define INSTR_CMD_OP_MAX 32 /* longest op name a command may carry */

struct instr_cmd {
	json_int_t id;
	enum instr_cmd_op op;
	struct instr_threshold thr; /* threshold.set; .value/.kind for threshold.clear */
	char value[INSTR_NAME_MAX + 1]; /* watermarks.reset, counters.reset; empty = all */
	char path[INSTR_PATH_MAX + 1];  /* device */
	enum instr_op dev_op;
	char sysctl_name[INSTR_SYSCTL_NAME_MAX + 1];  /* dotted, e.g. vm.swappiness */
	char sysctl_value[INSTR_SYSCTL_VALUE_MAX + 1];
};

/*
 * What a command argument may be; the limits are lib/instr.c's
 * instr_arg_forms[], the one place they are written:
 *   VALUE     a value name, as instr_name_check() says (1..63 of [a-z0-9_-]
 *             in dot-separated segments, none empty)
 *   THR_KIND  "high" or "low"
 *   NUMBER    a JSON number (integer or real)
 *   SAMPLES   a JSON integer 1..INSTR_SAMPLES_MAX; absent: 1
 *   PATH      a device path, 1..63 printable ASCII characters, no space
 *   DEV_OP    "enable", "disable", "online", "offline", "shutdown", "diag", "audit"
 *   SYSCTL    a sysctl name, 1..127 of [A-Za-z0-9_-] in dot-separated
 *             segments, none empty (so no "..", no "/")
 *   LINE      a sysctl value: a JSON integer (written in decimal), or a
 *             string of 1..255 bytes on one line: no control character but tab
 * A string is never empty and never holds a NUL; a member that is null
 * counts as absent.
 */
enum instr_arg_type {
	INSTR_ARG_VALUE,
	INSTR_ARG_THR_KIND,
	INSTR_ARG_NUMBER,
	INSTR_ARG_SAMPLES,
	INSTR_ARG_PATH,
	INSTR_ARG_DEV_OP,
	INSTR_ARG_SYSCTL,
	INSTR_ARG_LINE,
};

/* One argument of an op: its name, what it may be, and where it is kept. */
struct instr_arg {
	const char *name; /* NULL ends an op's list */
	enum instr_arg_type type;
	int required;
	/*
	 * Offset in struct instr_cmd of the field the type keeps it in: a
	 * char[] of the type's length + 1 (VALUE, PATH, SYSCTL, LINE), an enum
	 * instr_thr_kind, a double, an unsigned (SAMPLES) or an enum instr_op.
	 */
	size_t off;
};

#define INSTR_CMD_ARGS_MAX 5

/*
 * One command op: everything that decides whether a command is well formed.
 * The agent's ops are instr_cmd_rules[]; snowd adds its host-only ops (power)
 * as rules of its own, checked by the same instr_cmd_args().
 */
struct instr_cmd_rule {
	const char *op;
	struct instr_arg args[INSTR_CMD_ARGS_MAX + 1]; /* ends with name NULL */
	/*
	 * A rule across arguments, run once each is read (threshold.set: clear
	 * on the right side of rise), or NULL.  @ret 0 or -EINVAL with err
	 * naming the field ("clear: ...").
	 */
	int (*check)(const struct instr_cmd *c, char *err, size_t errlen);
};

/* The ops an agent runs, indexed by enum instr_cmd_op. */
extern const struct instr_cmd_rule instr_cmd_rules[INSTR_CMD_COUNT];

/* @ret op's rule in instr_cmd_rules[] (static, never freed), or NULL. */
const struct instr_cmd_rule *instr_cmd_rule(const char *op);

const char *instr_cmd_op_name(enum instr_cmd_op op);

/*
 * Check args (borrowed; NULL: the command had none, as {}) against rule r:
 * an object, no member r does not name, every one r requires, each of its
 * type, then r->check.  The values go into c's fields (c->id and c->op are
 * not touched; absent optional ones are cleared: "", samples 1).  A refusal
 * names the field after pfx: "args." makes "args.name: ...", as snowd's API
 * answers; "args: " makes "args: name: ...", as agents' results say.
 * @ret 0 or -EINVAL with err filled.
 */
int instr_cmd_args(const struct instr_cmd_rule *r, json_t *args, const char *pfx,
		   struct instr_cmd *c, char *err, size_t errlen);

/*
 * Parse a command {id, op, args} (j borrowed) as an agent does: the op from
 * instr_cmd_rules[], its args by instr_cmd_args() ("args: FIELD: ...").
 * *id gets the id as soon as it is readable (-1 before), so a malformed
 * command can still be answered.  @ret 0 or -EINVAL with err naming the
 * field.
 */
int instr_cmd_parse(json_t *j, struct instr_cmd *c, json_int_t *id, char *err, size_t errlen);

/* {id, op, args}: new reference or NULL (for snowd's queue and tests). */
json_t *instr_cmd_to_json(const struct instr_cmd *c);

/*
 * A result: {id, ok: true, result} (result stolen, NULL for null) or
 * {id, ok: false, error}.  @ret new reference or NULL.
 */
json_t *instr_result_ok(json_int_t id, json_t *result);
json_t *instr_result_err(json_int_t id, const char *error);

#endif
