/*
 * The agent's state across its own restarts (ChorusOS hot restart): /init
 * restarts a dead agent within the same boot, and the new one goes on from
 * what the old one kept in its state folder, STATE_DIR/agent.json:
 *
 *   {"version": 1, "boot_id": "...",
 *    "thresholds": [{"t": {value, kind, rise, clear, samples, state},
 *                    "hits": N, "conf": true|false}],
 *    "watermarks": {"NAME": [LOW, HIGH]},
 *    "counters": {"NAME": BASE},               (the raw reading at counters.reset)
 *    "devices": [{"path", "disabled", "offline", "diag"?, "audit"?}],
 *    "results": [{"id", "pending", "result": {id, ok, ...}}],   (oldest first)
 *    "xcvr": ["NAME", ...]}                    (transceiver limits installed)
 *
 * The black box has its own file (events.json, blackbox.h).  Both are
 * written the same way (persist_write: a temporary file, fsync, rename,
 * fsync of the folder), so a crash leaves the old file or the new one.
 * The file is input from outside the running agent (a disk, another
 * version, a half-written tmpfs): persist_parse() checks all of it before
 * anything is used, and takes all or nothing (tests/fuzz/agent_state.c).
 */
#ifndef SNOW_NODE_PERSIST_H
#define SNOW_NODE_PERSIST_H

#include <jansson.h>
#include <stddef.h>

#include "ddm.h"
#include "instr.h"

#define PERSIST_VERSION 1
#define PERSIST_THR_MAX 256     /* AGENT_THRESHOLDS_MAX */
#define PERSIST_RESULTS_MAX 64  /* AGENT_RESULTS_KEEP */
#define PERSIST_FILE_MAX (8 << 20) /* a state file larger than this is refused */
#define PERSIST_FILE "agent.json"

/* One kept command result. */
struct persist_result {
	json_int_t id;
	json_t *res; /* {id, ok, ...}, owned */
	int pending; /* not yet in a report answered 2xx */
};

/* What a state file holds, parsed and checked. */
struct persist_state {
	struct instr_threshold thr[PERSIST_THR_MAX];
	int thr_conf[PERSIST_THR_MAX]; /* set by node.conf */
	size_t nthr;
	json_t *wm;       /* {name: [low, high]}, numbers, owned */
	json_t *counters; /* {name: base}, numbers >= 0, owned */
	struct ddm_mark *marks; /* owned (malloc) */
	size_t nmarks;
	struct persist_result results[PERSIST_RESULTS_MAX];
	size_t nresults;
	json_t *xcvr;     /* {name: true}, owned */
};

/*
 * Parse a state file's JSON (j borrowed) for boot boot_id into p (zeroed
 * first; release with persist_free(), also on error).  Everything is
 * checked: names, numbers finite, thresholds by threshold_from_json(), at
 * most PERSIST_THR_MAX thresholds and PERSIST_RESULTS_MAX results, device
 * paths of printable ASCII.  @ret 0; -ESTALE when it is another boot's
 * (nothing kept); -EINVAL with err naming the field.
 */
int persist_parse(json_t *j, const char *boot_id, struct persist_state *p, char *err,
		  size_t errlen);

void persist_free(struct persist_state *p);

/*
 * The JSON of p for boot_id, as persist_parse() reads it: new reference or
 * NULL (out of memory).  p is borrowed.
 */
json_t *persist_json(const struct persist_state *p, const char *boot_id);

/*
 * Write j to DIR/NAME atomically and durably: DIR/NAME.tmp, fsync, rename,
 * fsync of DIR (created 0700 when missing).  @ret 0 or -errno (-ENOSPC for
 * a full folder) with err naming the file; the old file is left as it was.
 */
int persist_write(const char *dir, const char *name, json_t *j, char *err, size_t errlen);

/*
 * Read DIR/NAME as JSON.  @ret 0 with *out (new reference), -ENOENT when
 * there is none, or -EINVAL / -EFBIG / -errno with err saying why (a
 * truncated file, bad JSON with its line and column, too large).
 */
int persist_read(const char *dir, const char *name, json_t **out, char *err, size_t errlen);

#endif
