/* BMC sensors as bmc.* gauges, BMC event logs as bmc.log events (bmc.h). */
#include "bmc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bmc_int.h"
#include "bmcp.h"
#include "buf.h"
#include "clock.h"
#include "history.h"
#include "inv.h"
#include "log.h"
#include "nodes.h"
#include "power.h"
#include "power_redfish.h"
#include "snowd.h"

struct bmc *bmc_new(void)
{
	return calloc(1, sizeof(struct bmc));
}

static void bmc_node_clear(struct bmc_node *bn)
{
	json_decref(bn->power);
	if (bn->fd >= 0)
		close(bn->fd);
	/*
	 * Its ipmitool ends (SIGKILL: sol activate may linger on SIGTERM; the
	 * BMC's stale session is deactivated at the next start); the loop reaps it.
	 */
	if (bn->sol_pid > 0)
		kill(bn->sol_pid, SIGKILL);
	if (bn->sol_fd >= 0)
		close(bn->sol_fd);
	buf_free(&bn->out);
	free(bn->v);
}

void bmc_free(struct bmc *b)
{
	if (!b)
		return;
	bmc_sol_end_all(b);
	for (size_t i = 0; i < b->nn; i++)
		bmc_node_clear(&b->n[i]);
	free(b->n);
	free(b);
}

struct bmc_node *bmc_find(struct bmc *b, int64_t id)
{
	size_t lo = 0, hi = b ? b->nn : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->n[mid].id == id)
			return &b->n[mid];
		if (b->n[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Read bn's cursor and thresholds from the inventory, once.  @ret 0 or -EIO. */
static int bmc_load(struct snowd *sd, struct bmc_node *bn)
{
	char err[200];
	json_t *thr, *t;
	size_t i;

	if (bn->loaded)
		return 0;
	if (inv_bmc_get(&sd->inv, bn->id, &bn->cursor, &bn->seq, &thr))
		return -EIO;
	bn->nthr = 0;
	json_array_foreach(thr, i, t) {
		if (bn->nthr == BMC_MAX_THR)
			break;
		if (threshold_from_json(t, &bn->thr[bn->nthr], err, sizeof(err)))
			log_warnx("node %s: a stored BMC threshold is left out: %s", bn->name, err);
		else
			bn->nthr++;
	}
	json_decref(thr);
	bn->loaded = 1;
	return 0;
}

/* bn's thresholds as JSON: a new array, or NULL. */
static json_t *bmc_thr_json(const struct bmc_node *bn)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < bn->nthr; i++)
		if (json_array_append_new(a, threshold_to_json(&bn->thr[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* --- which nodes have a BMC ------------------------------------------------------------- */

struct bmc_scan {
	struct snowd *sd;
	struct bmc_node *n;
	size_t nn, cap;
};

static int bmc_scan_one(void *vctx, const struct inv_node *n)
{
	struct bmc_scan *sc = vctx;
	json_t *eff = nodes_effective(sc->sd, n, NULL), *power = json_object_get(eff, "power");
	const char *driver = json_string_value(json_object_get(power, "driver"));
	json_t *every = json_object_get(power, "sensors_s"), *log = json_object_get(power, "log");
	struct bmc_node *bn;
	json_int_t port;

	if (!driver || (strcmp(driver, "ipmi") && strcmp(driver, "redfish")) ||
	    (every && json_integer_value(every) <= 0))
		goto out;
	if (sc->nn == sc->cap) {
		size_t cap = sc->cap ? sc->cap * 2 : 16;
		struct bmc_node *grown = realloc(sc->n, cap * sizeof(*grown));
		if (!grown)
			goto out;
		sc->n = grown;
		sc->cap = cap;
	}
	bn = &sc->n[sc->nn++];
	memset(bn, 0, sizeof(*bn));
	bn->id = n->id;
	bn->fd = -1;
	bn->sol_fd = -1;
	snprintf(bn->name, sizeof(bn->name), "%s", n->name);
	bn->power = json_incref(power);
	bn->ipmi = !strcmp(driver, "ipmi");
	bn->every_s = every ? (int)json_integer_value(every) : BMC_POLL_S;
	bn->log = !json_is_false(log);
	bn->sol = bn->ipmi && json_is_true(json_object_get(power, "sol"));
	port = json_integer_value(json_object_get(power, "port"));
	if (bn->ipmi)
		snprintf(bn->where, sizeof(bn->where), port ? "ipmi %s:%lld" : "ipmi %s",
			 json_string_value(json_object_get(power, "host")), (long long)port);
	else
		snprintf(bn->where, sizeof(bn->where), "redfish %s",
			 json_string_value(json_object_get(power, "url")));
out:
	json_decref(eff);
	return 0;
}

static int bmc_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct bmc_node *)a)->id, y = ((const struct bmc_node *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * Read the node list again: new BMCs are added (due at once), what is known
 * of the others is kept, nodes without a BMC any more go (or wait, gone,
 * until their poll under way ends).
 */
static void bmc_scan(struct snowd *sd, struct bmc *b)
{
	struct bmc_scan sc = { .sd = sd };
	struct bmc_node *old;
	size_t i, kept = 0;

	if (inv_node_foreach(&sd->inv, bmc_scan_one, &sc)) {
		for (i = 0; i < sc.nn; i++)
			bmc_node_clear(&sc.n[i]);
		free(sc.n);
		return;
	}
	for (i = 0; i < sc.nn; i++) {
		struct bmc_node *nb = &sc.n[i];
		nb->seen = 1;
		if (!(old = bmc_find(b, nb->id)))
			continue;
		/* Same node: its poll, readings and cursor go on; the settings are the new ones. */
		json_t *power = nb->power;
		char where[sizeof(nb->where)];
		int ipmi = nb->ipmi, every = nb->every_s, log = nb->log, sol = nb->sol;
		memcpy(where, nb->where, sizeof(where));
		*nb = *old;
		json_decref(nb->power);
		nb->power = power;
		memcpy(nb->where, where, sizeof(where));
		if (every < nb->every_s && nb->next_ms > clock_mono_ms() + every * 1000LL)
			nb->next_ms = clock_mono_ms() + every * 1000LL;
		nb->ipmi = ipmi;
		nb->every_s = every;
		nb->log = log;
		nb->seen = 1;
		/* SOL turned off: its session ends (not restarted). */
		if (nb->sol && !sol && nb->sol_pid > 0)
			kill(nb->sol_pid, SIGKILL);
		nb->sol = sol;
		old->id = -1; /* moved */
		old->power = NULL;
		old->fd = -1;
		old->sol_fd = -1;
		old->sol_pid = 0;
		old->out = (struct buf)BUF_INIT;
		old->v = NULL;
	}
	/* The old ones not seen: dropped, unless a poll is under way (then kept until it ends). */
	for (i = 0; i < b->nn; i++) {
		old = &b->n[i];
		if (old->id < 0)
			continue;
		if (!old->busy) {
			bmc_node_clear(old);
			continue;
		}
		if (sc.nn == sc.cap) {
			struct bmc_node *grown = realloc(sc.n, (sc.cap + 16) * sizeof(*grown));
			if (!grown) {
				bmc_node_clear(old);
				continue;
			}
			sc.n = grown;
			sc.cap += 16;
		}
		old->seen = 0;
		sc.n[sc.nn++] = *old;
		kept++;
	}
	free(b->n);
	if (sc.nn)
		qsort(sc.n, sc.nn, sizeof(*sc.n), bmc_cmp);
	b->n = sc.n;
	b->nn = sc.nn;
	b->cap = sc.cap;
	if (!b->scanned || kept)
		log_debug("bmc: %zu nodes with a BMC", b->nn - kept);
	b->scanned = 1;
}

/* Take a good poll's readings: watermarks go on for the sensors seen before. */
static void bmc_take_readings(struct bmc_node *bn, const struct bmcp_poll *p)
{
	struct bmc_val *v = p->nr ? calloc(p->nr, sizeof(*v)) : NULL;
	size_t i, j;

	if (p->nr && !v)
		return;
	for (i = 0; i < p->nr; i++) {
		memcpy(v[i].name, p->r[i].name, sizeof(v[i].name));
		memcpy(v[i].unit, p->r[i].unit, sizeof(v[i].unit));
		v[i].v = p->r[i].v;
		for (j = 0; j < bn->nv; j++)
			if (!strcmp(bn->v[j].name, v[i].name)) {
				v[i].wm = bn->v[j].wm;
				break;
			}
		instr_wm_update(&v[i].wm, v[i].v);
	}
	free(bn->v);
	bn->v = v;
	bn->nv = p->nr;
}

/* --- the event log ----------------------------------------------------------------------- */

static const char *bmc_severity(const char *s)
{
	if (!strcmp(s, "Critical"))
		return "critical";
	if (!strcmp(s, "Warning"))
		return "warning";
	if (!strcmp(s, "OK"))
		return "info";
	return "notice"; /* IPMI's SEL says none: a BMC logs what is worth a look */
}

/*
 * Feed the readings to bn's thresholds: each raise or clear becomes a
 * threshold.raise/clear event (as the agent's) appended to events.
 * @ret how many.
 */
static size_t bmc_thr_feed(struct bmc_node *bn, json_t *events, int64_t now, int64_t *seq)
{
	size_t i, j, n = 0;

	for (i = 0; i < bn->nthr; i++) {
		struct instr_threshold *t = &bn->thr[i];
		enum instr_transition tr;
		const char *type;
		for (j = 0; j < bn->nv && strcmp(bn->v[j].name, t->value); j++)
			;
		if (!t->enabled || j == bn->nv)
			continue;
		tr = threshold_update(t, bn->v[j].v);
		if (tr == INSTR_TR_NONE)
			continue;
		type = tr == INSTR_TR_RAISE ? INSTR_EV_THR_RAISE : INSTR_EV_THR_CLEAR;
		json_array_append_new(events, json_pack(
			"{s:I, s:I, s:s, s:s, s:{s:s, s:s, s:f, s:f, s:f}}", "seq", (json_int_t)++*seq,
			"time", (json_int_t)now, "type", type, "severity",
			instr_severity_name(instr_severity_of(type)), "attrs", "value", t->value, "kind",
			instr_thr_kind_name(t->kind), "rise", t->rise, "clear", t->clear, "observed",
			bn->v[j].v));
		n++;
	}
	return n;
}

/*
 * A good poll's events: threshold transitions on its readings, and the log
 * entries of p past the cursor as bmc.log events; stored with the new
 * cursor and thresholds in one transaction, then told to the stream.
 */
static void bmc_events_take(struct snowd *sd, struct bmc_node *bn, const struct bmcp_poll *p)
{
	size_t idx[BMCP_MAX_ENTRIES], k = 0, i, nthr;
	int64_t now = (int64_t)time(NULL), seq, cursor;
	json_t *events, *ev, *thr = NULL;

	if (bmc_load(sd, bn))
		return;
	if (bn->log && p->has_log)
		k = bmcp_new_entries(p, bn->cursor, idx, BMCP_MAX_ENTRIES);
	if (!k && !bn->nthr)
		return;
	events = json_array();
	if (!events)
		return;
	seq = bn->seq;
	cursor = bn->cursor;
	/* On a copy: a failed store leaves the thresholds as they were, to feed again. */
	struct instr_threshold saved[BMC_MAX_THR];
	memcpy(saved, bn->thr, sizeof(saved));
	nthr = bmc_thr_feed(bn, events, now, &seq);
	for (i = 0; i < k; i++) {
		const struct bmcp_entry *e = &p->e[idx[i]];
		ev = json_pack("{s:I, s:I, s:s, s:s, s:{s:s, s:I, s:s, s:s}}", "seq", (json_int_t)++seq,
			       "time", (json_int_t)(e->time > 0 ? e->time : now), "type", "bmc.log",
			       "severity", bmc_severity(e->severity), "attrs", "source",
			       bn->ipmi ? "sel" : "redfish", "id", (json_int_t)e->id, "bmc_time",
			       e->when, "message", e->text);
		if (!ev || json_array_append_new(events, ev))
			goto fail;
		cursor = e->id;
	}
	if (!json_array_size(events)) {
		json_decref(events);
		return;
	}
	if (nthr && !(thr = bmc_thr_json(bn)))
		goto fail;
	if (json_array_size(events) != k + nthr ||
	    inv_bmc_store(&sd->inv, bn->id, events, cursor, seq, thr, now))
		goto fail;
	bn->cursor = cursor;
	bn->seq = seq;
	sd->events += json_array_size(events);
	if (k)
		log_info("node %s: %zu new BMC log entries (up to id %lld)", bn->name, k,
			 (long long)cursor);
	json_array_foreach(events, i, ev) {
		json_t *out = json_pack("{s:I, s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:s}", "id",
					(json_int_t)inv_event_id(&sd->inv, bn->id, "bmc",
								 json_integer_value(json_object_get(ev, "seq"))),
					"node", bn->name, "boot_id", "bmc", "seq",
					json_object_get(ev, "seq"), "time", json_object_get(ev, "time"),
					"type", json_object_get(ev, "type"), "attrs",
					json_object_get(ev, "attrs"), "severity",
					json_object_get(ev, "severity"), "publisher", "snowd");
		if (nthr && !strncmp(json_string_value(json_object_get(ev, "type")), "threshold.", 10))
			log_info("node %s: %s %s", bn->name, json_string_value(json_object_get(ev, "type")),
				 json_string_value(json_object_get(json_object_get(ev, "attrs"), "value")));
		stream_publish(&sd->stream, "event", out);
	}
	json_decref(events);
	json_decref(thr);
	return;
fail:
	memcpy(bn->thr, saved, sizeof(saved));
	log_warnx("node %s: BMC events not stored (taken at the next poll)", bn->name);
	json_decref(events);
	json_decref(thr);
}

/* --- polls -------------------------------------------------------------------------------- */

void bmc_polled(struct snowd *sd, int64_t node_id, struct bmcp_poll *p, const char *error)
{
	struct bmc *b = sd->bmc;
	struct bmc_node *bn = bmc_find(b, node_id);
	struct report_state only;
	struct node_rt *rt;
	int changed;

	if (!bn || !bn->busy)
		return;
	bn->busy = 0;
	b->busy--;
	bn->next_ms = clock_mono_ms() + bn->every_s * 1000LL;
	bn->polls++;
	if (!p) {
		bn->failures++;
		/* Logged when the reason changes (its details in parentheses may vary). */
		if (strncmp(bn->error, error ? error : "failed",
			    strcspn(error ? error : "failed", "(")))
			log_warnx("node %s: bmc: %s", bn->name, error ? error : "failed");
		snprintf(bn->error, sizeof(bn->error), "%s", error ? error : "failed");
		return;
	}
	if (bn->error[0])
		log_info("node %s: bmc answers again (%s)", bn->name, bn->where);
	bn->error[0] = '\0';
	bn->polled = (int64_t)time(NULL);
	if (p->dropped)
		log_debug("node %s: bmc: %zu readings left out", bn->name, p->dropped);
	bmc_take_readings(bn, p);
	bmc_events_take(sd, bn, p);
	if (!bn->seen || !(rt = nodes_rt(sd, bn->id, bn->name)))
		return;
	changed = bmc_schema_update(sd, rt, bn);
	memset(&only, 0, sizeof(only));
	bmc_values(bn, rt, &only);
	history_add(rt->hist, &only, bn->polled);
	report_state_free(&only);
	if (sd->stream.clients) {
		json_t *upd = json_object();
		nodes_report_json(upd, rt, REPORT_VALUES | REPORT_WATERMARKS |
						   (bn->nthr ? REPORT_THRESHOLDS : 0) |
						   (changed ? REPORT_SCHEMA : 0));
		json_object_set_new(upd, "last_seen", json_integer(rt->last_seen));
		json_object_set_new(upd, "seq", json_integer((json_int_t)rt->seq));
		stream_values(&sd->stream, rt->name, upd);
	}
}

/* The output of bn's ipmitool so far, without blocking. */
static void bmc_drain(struct bmc_node *bn)
{
	char chunk[4096];
	ssize_t n;

	while (bn->fd >= 0 && (n = read(bn->fd, chunk, sizeof(chunk))) > 0)
		if (bn->out.len + (size_t)n <= BMC_OUT_MAX)
			buf_append(&bn->out, chunk, (size_t)n);
}

static int bmc_start(struct snowd *sd, struct bmc_node *bn, char *err, size_t errlen)
{
	static const char *const args[] = { "exec", "/dev/stdin", NULL };
	json_int_t t = json_integer_value(json_object_get(bn->power, "timeout_s"));
	int deadline_s = t > 0 && t < BMC_DEADLINE_S ? (int)t : BMC_DEADLINE_S;
	pid_t pid;

	if (!bn->ipmi)
		return power_redfish_poll_start(sd, power_rf(sd->power), bn->id, bn->name, bn->power,
						bn->log, deadline_s, err, errlen);
	pid = power_ipmi_spawn(bn->power, args, bn->log ? "sensor\nsel list\n" : "sensor\n", 0,
			       sd->cfg.ipmitool, sd->cfg.allow_dir, &bn->fd, err, errlen);
	if (pid < 0)
		return (int)pid;
	bn->pid = pid;
	bn->killed = 0;
	buf_reset(&bn->out);
	bn->deadline_s = deadline_s;
	bn->deadline_ms = clock_mono_ms() + deadline_s * 1000LL;
	return 0;
}

void bmc_tick(struct snowd *sd)
{
	struct bmc *b = sd->bmc;
	int64_t now = clock_mono_ms();
	char err[400], why[760];
	size_t i;

	if (!b)
		return;
	/*
	 * Settings changed (a node added, a power setting set): read the list
	 * again, at most every BMC_RESCAN_MS (many adds in a row cost one scan).
	 */
	if (!b->scanned || (b->gen != sd->settings_gen && now >= b->next_scan)) {
		int64_t t0 = now;
		b->gen = sd->settings_gen;
		bmc_scan(sd, b);
		now = clock_mono_ms();
		b->next_scan = now + BMC_RESCAN_MS;
		if (now - t0 > 100)
			log_info("bmc: the node list took %lld ms to read", (long long)(now - t0));
	}
	for (i = 0; i < b->nn; i++) {
		struct bmc_node *bn = &b->n[i];
		if (bn->sol_fd >= 0)
			bmc_sol_drain(sd, bn);
		if (bn->sol && bn->seen && !bn->sol_pid && now >= bn->sol_next_ms)
			bmc_sol_start(sd, bn);
		if (bn->busy && bn->pid) {
			bmc_drain(bn);
			if (now >= bn->deadline_ms && !bn->killed) {
				kill(bn->pid, SIGKILL);
				bn->killed = 1;
			}
			continue;
		}
		/* Not while a SOL session is being set up: one thing at a time on a BMC. */
		if (bn->busy || !bn->seen || now < bn->next_ms || b->busy >= BMC_MAX_POLLS ||
		    bn->sol_phase == 1 || bn->sol_phase == 2)
			continue;
		bn->busy = 1;
		b->busy++;
		if (bmc_start(sd, bn, err, sizeof(err))) {
			snprintf(why, sizeof(why), "%s: cannot poll: %s", bn->where, err);
			bmc_polled(sd, bn->id, NULL, why);
		}
	}
}

int bmc_reaped(struct snowd *sd, pid_t pid, int status)
{
	struct bmc *b = sd->bmc;
	struct bmcp_poll *p;
	char err[200], why[700], first[160];
	size_t i;
	int rc;

	for (i = 0; b && i < b->nn && b->n[i].pid != pid; i++)
		if (b->n[i].sol_pid == pid) {
			bmc_sol_reaped(sd, &b->n[i], status);
			return 1;
		}
	if (!b || i == b->nn)
		return 0;
	struct bmc_node *bn = &b->n[i];
	bn->pid = 0;
	bmc_drain(bn);
	close(bn->fd);
	bn->fd = -1;
	if (bn->killed) {
		snprintf(why, sizeof(why), "%s: no answer within %d s (deadline passed), ipmitool killed",
			 bn->where, bn->deadline_s);
		bmc_polled(sd, bn->id, NULL, why);
		return 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(why, sizeof(why), "%s: out of memory", bn->where);
		bmc_polled(sd, bn->id, NULL, why);
		return 1;
	}
	rc = bmcp_ipmi_parse(bn->out.data ? bn->out.data : "", bn->out.len, p, err, sizeof(err));
	if (rc) {
		/* ipmitool's own first line says why (its stderr is in the output too). */
		size_t n = bn->out.len ? strcspn(bn->out.data, "\n") : 0;
		snprintf(first, sizeof(first), "%.*s", (int)(n < sizeof(first) - 1 ? n : sizeof(first) - 1),
			 bn->out.data ? bn->out.data : "");
		for (char *c = first; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		if (WIFEXITED(status) && WEXITSTATUS(status))
			snprintf(why, sizeof(why), "%s: ipmitool exited with %d%s%s", bn->where,
				 WEXITSTATUS(status), first[0] ? ": " : "", first);
		else
			snprintf(why, sizeof(why), "%s: %s", bn->where, err);
		bmc_polled(sd, bn->id, NULL, why);
	} else {
		bmc_polled(sd, bn->id, p, NULL);
	}
	free(p);
	buf_reset(&bn->out);
	return 1;
}

void bmc_node_json(struct snowd *sd, int64_t node_id, json_t *o)
{
	struct bmc_node *bn = bmc_find(sd->bmc, node_id);
	json_t *b;

	if (!bn || !bn->seen)
		return;
	b = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I}", "driver", bn->ipmi ? "ipmi" : "redfish",
		      "bmc", bn->where, "sensors_s", bn->every_s, "readings", (json_int_t)bn->nv,
		      "polls", (json_int_t)bn->polls, "failures", (json_int_t)bn->failures);
	if (!b)
		return;
	json_object_set_new(b, "polled", bn->polled ? json_integer(bn->polled) : json_null());
	json_object_set_new(b, "error", bn->error[0] ? json_string(bn->error) : json_null());
	if (bn->loaded)
		json_object_set_new(b, "log_cursor", json_integer(bn->cursor));
	json_object_set_new(o, "bmc", b);
}

int bmc_command_for(const char *op, json_t *args)
{
	const char *v = json_string_value(json_object_get(args, "value"));

	return v && !strncmp(v, "bmc.", 4) &&
	       (!strcmp(op, "threshold.set") || !strcmp(op, "threshold.clear") ||
		!strcmp(op, "watermarks.reset"));
}

/* Run c (checked) on bn.  @ret 0 with *result (new; may be NULL), or -errno with err. */
static int bmc_run(struct bmc_node *bn, const struct instr_cmd *c, json_t **result, char *err,
		   size_t errlen)
{
	size_t i;

	*result = NULL;
	for (i = 0; i < bn->nthr; i++)
		if (!strcmp(bn->thr[i].value, c->thr.value) && bn->thr[i].kind == c->thr.kind)
			break;
	switch (c->op) {
	case INSTR_CMD_THR_SET:
		if (i == bn->nthr) {
			if (bn->nthr == BMC_MAX_THR) {
				snprintf(err, errlen, "value: %d thresholds on BMC gauges already",
					 BMC_MAX_THR);
				return -ENOSPC;
			}
			memset(&bn->thr[i], 0, sizeof(bn->thr[i]));
		}
		/* Set again with the same kind: a raised one stays raised until it clears. */
		if (threshold_set(&bn->thr[i], c->thr.value, c->thr.kind, c->thr.rise, c->thr.clear,
				  c->thr.samples, err, errlen))
			return -EINVAL;
		if (i == bn->nthr)
			bn->nthr++;
		*result = threshold_to_json(&bn->thr[i]);
		return 0;
	case INSTR_CMD_THR_CLEAR:
		if (i == bn->nthr) {
			snprintf(err, errlen, "value: no %s threshold is set on '%s'",
				 instr_thr_kind_name(c->thr.kind), c->thr.value);
			return -ENOENT;
		}
		bn->thr[i] = bn->thr[--bn->nthr];
		return 0;
	case INSTR_CMD_WM_RESET:
		for (i = 0; i < bn->nv && strcmp(bn->v[i].name, c->value); i++)
			;
		if (i == bn->nv) {
			snprintf(err, errlen, "value: the BMC gave no reading named '%s'", c->value);
			return -ENOENT;
		}
		instr_wm_reset(&bn->v[i].wm, bn->v[i].v);
		*result = json_pack("{s:i}", "reset", 1);
		return 0;
	default:
		snprintf(err, errlen, "op: not one snowd runs on BMC gauges");
		return -EINVAL;
	}
}

int bmc_command(struct snowd *sd, const struct inv_node *n, const char *op, json_t *args,
		json_t **cmd, char *err, size_t errlen)
{
	const struct instr_cmd_rule *r = instr_cmd_rule(op);
	struct bmc_node *bn = bmc_find(sd->bmc, n->id);
	struct instr_cmd c;
	json_t *result = NULL, *thr = NULL;
	int64_t id, now = (int64_t)time(NULL);
	int rc;

	*cmd = NULL;
	memset(&c, 0, sizeof(c));
	if (!r || instr_cmd_args(r, args, "args.", &c, err, errlen))
		return -EINVAL;
	c.op = (enum instr_cmd_op)(r - instr_cmd_rules);
	if (!bn || !bn->seen) {
		snprintf(err, errlen, "args.value: %s has no BMC polled for bmc.* gauges (power: ipmi or "
			 "redfish, sensors_s not 0)", n->name);
		return -ENOTSUP;
	}
	if (bmc_load(sd, bn)) {
		snprintf(err, errlen, "inventory error");
		return -EIO;
	}
	struct instr_threshold saved[BMC_MAX_THR];
	size_t nsaved = bn->nthr;
	memcpy(saved, bn->thr, sizeof(saved));
	rc = bmc_run(bn, &c, &result, err, errlen);
	if (rc)
		return rc;
	/* Kept before the answer: the thresholds survive a restart of snowd. */
	if (c.op != INSTR_CMD_WM_RESET &&
	    (!(thr = bmc_thr_json(bn)) ||
	     inv_bmc_store(&sd->inv, n->id, NULL, bn->cursor, bn->seq, thr, now))) {
		memcpy(bn->thr, saved, sizeof(saved));
		bn->nthr = nsaved;
		json_decref(thr);
		json_decref(result);
		snprintf(err, errlen, "inventory error");
		return -EIO;
	}
	json_decref(thr);
	if (inv_cmd_add(&sd->inv, n->id, op, args, now, &id)) {
		json_decref(result);
		snprintf(err, errlen, "inventory error");
		return -EIO;
	}
	power_finish(sd, id, op, n->name, "bmc", 1, result, NULL);
	json_decref(result);
	/* The node's tree and the stream show it at once, not at the next poll. */
	struct node_rt *rt = nodes_rt(sd, n->id, n->name);
	if (rt) {
		bmc_merge(sd, rt);
		if (sd->stream.clients) {
			json_t *upd = json_object();
			nodes_report_json(upd, rt, REPORT_VALUES | REPORT_WATERMARKS | REPORT_THRESHOLDS);
			json_object_set_new(upd, "last_seen", json_integer(rt->last_seen));
			json_object_set_new(upd, "seq", json_integer((json_int_t)rt->seq));
			stream_values(&sd->stream, rt->name, upd);
		}
	}
	*cmd = inv_cmd_get(&sd->inv, id);
	if (!*cmd) {
		snprintf(err, errlen, "inventory error");
		return -EIO;
	}
	return 0;
}
