#include "hotrestart.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "blackbox.h"
#include "log.h"

/* ---- the agent's state across its restarts (persist.h, blackbox.h) ------------- */

int agent_has_state_dir(const struct agent_state *st)
{
	return st->conf->state_dir && *st->conf->state_dir;
}

/*
 * A write to the state folder failed (full, read only, gone): say so once
 * per outage, in the log and as an agent.state event; the agent goes on
 * (what it keeps in memory is intact, only a restart would lose it).
 */
static void agent_state_failed(struct agent_state *st, int rc, const char *err)
{
	if (st->save_failing)
		return;
	st->save_failing = 1;
	log_warnx("state folder: %s (going on; an agent restart would lose what is not saved)",
		  err);
	agent_event(st, INSTR_EV_STATE,
		    json_pack("{s:s, s:s, s:s}", "op", "write", "error", strerror(-rc), "detail",
			      err));
}

/* What agent.json keeps, borrowed from st (persist_json() does not change it). */
static json_t *agent_state_json(struct agent_state *st)
{
	struct persist_state *p = calloc(1, sizeof(*p));
	json_t *wm = json_object(), *cnt = json_object(), *j = NULL;
	size_t i, k;

	if (!p || !wm || !cnt)
		goto out;
	memcpy(p->thr, st->thr, st->nthr * sizeof(st->thr[0]));
	memcpy(p->thr_conf, st->thr_conf, st->nthr * sizeof(st->thr_conf[0]));
	p->nthr = st->nthr;
	for (i = 0; i < st->tree.n; i++) {
		const struct instr_value *v = &st->tree.v[i];
		if (v->def.kind == INSTR_GAUGE && v->wm.set)
			json_object_set_new(wm, v->def.name,
					    json_pack("[f, f]", v->wm.low, v->wm.high));
		else if (v->def.kind == INSTR_COUNTER && v->base > 0)
			json_object_set_new(cnt, v->def.name, json_real(v->base));
	}
	p->wm = wm;
	p->counters = cnt;
	p->marks = st->ddm.marks;
	p->nmarks = st->ddm.nmarks;
	/* Oldest first: once the ring is full, the oldest is at next_result. */
	for (i = 0; i < st->nresults; i++) {
		k = st->nresults < AGENT_RESULTS_KEEP ? i : (st->next_result + i) % AGENT_RESULTS_KEEP;
		p->results[i].id = st->results[k].id;
		p->results[i].res = st->results[k].res;
		p->results[i].pending = st->results[k].pending || st->results[k].inflight;
	}
	p->nresults = st->nresults;
	p->xcvr = st->xcvr_thr;
	j = persist_json(p, st->boot_id);
out:
	json_decref(wm);
	json_decref(cnt);
	free(p);
	return j;
}

/*
 * Save what changed: the black box (events.json) and the rest of the
 * agent's state (agent.json), each atomically (persist_write), so that an
 * agent restarted by /init within the same boot goes on with the same seq,
 * thresholds, locks, watermarks and results.
 */
void agent_state_save(struct agent_state *st)
{
	char err[4400];
	json_t *j;
	int rc, failed = 0;

	if (!agent_has_state_dir(st))
		return;
	if (st->ring_dirty) {
		j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "boot_id", st->boot_id,
			      "next_seq", (json_int_t)st->ring.next_seq, "lost",
			      (json_int_t)st->ring.lost, "lost_first",
			      (json_int_t)st->ring.lost_first, "lost_last",
			      (json_int_t)st->ring.lost_last, "lost_total",
			      (json_int_t)st->ring.lost_total, "events",
			      instr_ring_json(&st->ring, st->ring.cap));
		rc = j ? persist_write(st->conf->state_dir, "events.json", j, err, sizeof(err)) :
			 -ENOMEM;
		json_decref(j);
		if (!rc)
			st->ring_dirty = 0;
		else if ((failed = 1))
			agent_state_failed(st, rc, j ? err : "events.json: out of memory");
	}
	if (st->state_dirty || st->saved_wm_gen != st->tree.wm_gen) {
		unsigned gen = st->tree.wm_gen;
		j = agent_state_json(st);
		rc = j ? persist_write(st->conf->state_dir, PERSIST_FILE, j, err, sizeof(err)) :
			 -ENOMEM;
		json_decref(j);
		if (!rc) {
			st->state_dirty = 0;
			st->saved_wm_gen = gen;
		} else if ((failed = 1)) {
			agent_state_failed(st, rc, j ? err : PERSIST_FILE ": out of memory");
		}
	}
	if (!failed && st->save_failing) {
		st->save_failing = 0;
		log_info("state folder: writable again, state saved");
	}
}

/* A state file that cannot be used: reported (log and event), then ignored. */
void agent_state_bad(struct agent_state *st, const char *file, const char *err)
{
	log_warnx("state folder: %s (ignored: starting without it)", err);
	agent_event(st, INSTR_EV_STATE,
		    json_pack("{s:s, s:s, s:s}", "op", "read", "file", file, "error", err));
}

/* @ret number of events restored, or -1 when there was nothing of this boot. */
int agent_events_load(struct agent_state *st, char *bad, size_t badlen)
{
	json_t *j;
	int n, rc;

	bad[0] = '\0';
	if (!agent_has_state_dir(st))
		return -1;
	rc = persist_read(st->conf->state_dir, "events.json", &j, bad, badlen);
	if (rc) {
		if (rc == -ENOENT)
			bad[0] = '\0';
		return -1;
	}
	n = blackbox_restore(&st->ring, st->boot_id, j);
	/* Our boot's, yet not taken: its header is damaged. */
	if (n < 0 && json_is_string(json_object_get(j, "boot_id")) &&
	    !strcmp(json_string_value(json_object_get(j, "boot_id")), st->boot_id))
		snprintf(bad, badlen, "events.json: the header (next_seq, lost...) is damaged");
	json_decref(j);
	return n;
}

/*
 * agent.json, before the first sample: thresholds (with their state, so a
 * raised one raises again only after a real clear), device locks and kept
 * run states, results, installed transceiver limits.  Watermarks and
 * counter bases need the tree: agent_state_merge() after the first sample.
 * @ret 1 restored, 0 none (another boot's, or no file), -1 bad (reported).
 */
int agent_state_load(struct agent_state *st, struct persist_state *p)
{
	char err[600];
	json_t *j;
	size_t i;
	int rc;

	if (!agent_has_state_dir(st))
		return 0;
	rc = persist_read(st->conf->state_dir, PERSIST_FILE, &j, err, sizeof(err));
	if (rc == -ENOENT)
		return 0;
	if (!rc) {
		rc = persist_parse(j, st->boot_id, p, err, sizeof(err));
		json_decref(j);
	}
	if (rc == -ESTALE) {
		log_info("state folder: %s is another boot's: starting afresh", PERSIST_FILE);
		return 0;
	}
	if (rc) {
		agent_state_bad(st, PERSIST_FILE, err);
		persist_free(p);
		return -1;
	}
	memcpy(st->thr, p->thr, p->nthr * sizeof(p->thr[0]));
	memcpy(st->thr_conf, p->thr_conf, p->nthr * sizeof(p->thr_conf[0]));
	st->nthr = p->nthr;
	/* ddm_scan() applies the marks to the devices it finds. */
	if (p->nmarks) {
		st->ddm.marks = p->marks;
		st->ddm.nmarks = st->ddm.capmarks = p->nmarks;
		p->marks = NULL;
	}
	for (i = 0; i < p->nresults; i++) {
		st->results[i].id = p->results[i].id;
		st->results[i].res = p->results[i].res;
		st->results[i].pending = p->results[i].pending;
		p->results[i].res = NULL;
	}
	st->nresults = p->nresults;
	st->next_result = p->nresults % AGENT_RESULTS_KEEP;
	st->xcvr_thr = p->xcvr;
	p->xcvr = NULL;
	log_info("state folder: restored %zu threshold%s, %zu device mark%s, %zu result%s",
		 st->nthr, st->nthr == 1 ? "" : "s", st->ddm.nmarks, st->ddm.nmarks == 1 ? "" : "s",
		 st->nresults, st->nresults == 1 ? "" : "s");
	return 1;
}

/* Watermarks and counter bases of agent.json into the tree's first sample. */
void agent_state_merge(struct agent_state *st, const struct persist_state *p)
{
	const char *name;
	json_t *v;

	json_object_foreach(p->wm, name, v) {
		struct instr_value *x = instr_tree_find(&st->tree, name);
		double lo = json_number_value(json_array_get(v, 0));
		double hi = json_number_value(json_array_get(v, 1));
		if (!x || x->def.kind != INSTR_GAUGE)
			continue; /* not (yet) a value of this node: its range starts again */
		if (!x->wm.set) {
			x->wm.low = lo;
			x->wm.high = hi;
			x->wm.set = 1;
			continue;
		}
		if (lo < x->wm.low)
			x->wm.low = lo;
		if (hi > x->wm.high)
			x->wm.high = hi;
	}
	json_object_foreach(p->counters, name, v) {
		struct instr_value *x = instr_tree_find(&st->tree, name);
		if (!x || x->def.kind != INSTR_COUNTER || !x->def.resettable)
			continue;
		x->base = json_number_value(v);
		if (x->raw < x->base)
			x->base = 0; /* the source started again meanwhile */
		x->v = x->raw - x->base;
	}
	st->saved_wm_gen = st->tree.wm_gen;
}

