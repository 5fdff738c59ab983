#include "sim.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonh.h"

#define A INSTR_ATTRIBUTE
#define C INSTR_COUNTER
#define G INSTR_GAUGE
/* name, oid, kind, unit, desc, integer; init, lo, hi, step (per second). */
#define V(n, o, k, u, d, i, init, lo, hi, step) \
	{ { n, o, k, u, d, i, 0 }, init, lo, hi, step }
/* A counter counters.reset may restart (the agent's rule: events, not time). */
#define VR(n, o, u, d, init, step) \
	{ { n, o, C, u, d, 1, 1 }, init, 0, 0, step }
/*
 * The names are the real agent's where it has them (node-os/agent/sample.c),
 * and what a fuller agent would read for the rest, so consoles and SNMP see
 * a realistic tree.
 */
const struct sim_def sim_defs[] = {
	V("sys.uptime_s", "1.1", C, "s", "seconds since boot", 1, 0, 0, 0, 1),
	V("vm.load.avg1", "2.1", G, "", "run queue, 1 minute average", 0, 0.3, 0, 8, 0.2),
	V("vm.load.avg5", "2.2", G, "", "run queue, 5 minute average", 0, 0.3, 0, 6, 0.05),
	V("vm.load.avg15", "2.3", G, "", "run queue, 15 minute average", 0, 0.3, 0, 4, 0.02),
	VR("vm.pgfault", "2.4", "", "page faults", 100000, 500),
	VR("vm.pgmajfault", "2.5", "", "major page faults", 50, 0.2),
	V("vm.swappiness", "2.6", G, "", "vm.swappiness sysctl", 1, 60, 0, 100, 0),
	V("kern.mem.total_kb", "3.1", A, "KiB", "memory the kernel manages", 1, 4026532, 0, 0, 0),
	V("kern.mem.free_kb", "3.2", G, "KiB", "memory unused", 1, 3000000, 200000, 3900000, 40000),
	V("kern.mem.avail_kb", "3.3", G, "KiB", "memory available without swapping", 1, 3500000,
	  400000, 3950000, 40000),
	V("kern.mem.cached_kb", "3.4", G, "KiB", "page cache", 1, 300000, 10000, 1500000, 20000),
	V("kern.mem.buffers_kb", "3.5", G, "KiB", "buffers", 1, 20000, 1000, 200000, 2000),
	V("kern.mem.shmem_kb", "3.6", G, "KiB", "shared memory", 1, 8000, 0, 100000, 500),
	V("kern.procs.count", "3.7", G, "", "processes", 1, 60, 20, 400, 3),
	V("kern.procs.running", "3.8", G, "", "processes running", 1, 1, 0, 16, 1),
	V("kern.files.open", "3.9", G, "", "open files", 1, 400, 100, 20000, 40),
	V("kern.files.max", "3.10", A, "", "open files limit", 1, 9223372, 0, 0, 0),
	VR("kern.ctxt", "3.11", "", "context switches", 200000, 3000),
	VR("kern.forks", "3.12", "", "processes created", 900, 2),
	VR("kern.intr", "3.13", "", "interrupts", 300000, 2500),
	V("cpu.time.user_ms", "4.1", C, "ms", "CPU time in user mode", 1, 5000, 0, 0, 400),
	V("cpu.time.system_ms", "4.2", C, "ms", "CPU time in the kernel", 1, 3000, 0, 0, 150),
	V("cpu.time.idle_ms", "4.3", C, "ms", "CPU time idle", 1, 40000, 0, 0, 3400),
	V("cpu.time.iowait_ms", "4.4", C, "ms", "CPU time waiting for I/O", 1, 100, 0, 0, 5),
	V("hw.cpu.count", "5.1", A, "", "CPUs present", 1, 4, 0, 0, 0),
	V("hw.cpu.online", "5.2", G, "", "CPUs online", 1, 4, 0, 4, 0),
	V("hw.temp.cpu", "5.3", G, "C", "CPU package temperature", 0, 45, 30, 95, 0.5),
	V("hw.temp.board", "5.4", G, "C", "board temperature", 0, 35, 20, 70, 0.2),
	V("hw.fan.rpm", "5.5", G, "rpm", "fan speed", 1, 2400, 800, 6000, 60),
	V("hw.power.watts", "5.6", G, "W", "power draw", 0, 85, 40, 250, 3),
	V("net.eth0.speed_mbps", "6.1", A, "Mbit/s", "link speed", 1, 1000, 0, 0, 0),
	VR("net.eth0.rx_bytes", "6.2", "bytes", "bytes received", 9000000, 20000),
	VR("net.eth0.tx_bytes", "6.3", "bytes", "bytes sent", 400000, 6000),
	VR("net.eth0.rx_packets", "6.4", "packets", "packets received", 7000, 30),
	VR("net.eth0.tx_packets", "6.5", "packets", "packets sent", 3000, 15),
	VR("net.eth0.rx_errors", "6.6", "packets", "receive errors", 0, 0.001),
	VR("net.eth0.tx_errors", "6.7", "packets", "send errors", 0, 0.001),
	V("fs.root.space_total", "7.1", A, "KiB", "root file system size", 1, 2013266, 0, 0, 0),
	V("fs.root.space_free", "7.2", G, "KiB", "root file system free", 1, 1800000, 100000,
	  2013266, 2000),
	V("fs.root.inodes_free", "7.3", G, "", "root file system free inodes", 1, 500000, 1000,
	  503000, 20),
	V("agent.events.lost", "8.1", C, "", "events dropped from the ring", 1, 0, 0, 0, 0),
};
#undef V
#undef VR
#undef A
#undef C
#undef G
const size_t sim_ndefs = sizeof(sim_defs) / sizeof(sim_defs[0]);

/* xorshift64*: plenty for random walks, and the same every run for a seed. */
static uint64_t sim_next(struct sim_node *n)
{
	uint64_t x = n->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	n->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

double sim_rand(struct sim_node *n)
{
	return (double)(sim_next(n) >> 11) / 9007199254740992.0;
}

int sim_value_index(const char *name)
{
	size_t i;

	for (i = 0; i < sim_ndefs; i++)
		if (!strcmp(sim_defs[i].def.name, name))
			return (int)i;
	return -1;
}

static void sim_dev_setup(struct instr_dev *d, const char *path, const char *cls)
{
	instr_dev_clear(d);
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", path);
	snprintf(d->cls, sizeof(d->cls), "%s", cls);
	d->avail = INSTR_ENABLED;
	d->run = INSTR_ONLINE;
}

static void sim_devices_boot(struct sim_node *n)
{
	char path[24];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "cpu/cpu%d", i);
		sim_dev_setup(&n->dev[i], path, "cpu");
	}
	/* As on x86 Linux: cpu0 has no "online" file. */
	snprintf(n->dev[0].cannot[INSTR_OP_OFFLINE], sizeof(n->dev[0].cannot[0]),
		 "the boot CPU cannot go offline");
	snprintf(n->dev[0].cannot[INSTR_OP_SHUTDOWN], sizeof(n->dev[0].cannot[0]),
		 "the boot CPU cannot be shut down");
	sim_dev_setup(&n->dev[4], "net/eth0", "net");
}

int sim_node_init(struct sim_node *n, const char *name, const char *mac, uint64_t seed)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->mac, sizeof(n->mac), "%s", mac);
	/* Any seed works: splitmix the seed so neighbours differ, and never 0. */
	seed += 0x9E3779B97F4A7C15ULL;
	seed = (seed ^ (seed >> 30)) * 0xBF58476D1CE4E5B9ULL;
	seed = (seed ^ (seed >> 27)) * 0x94D049BB133111EBULL;
	n->rng = (seed ^ (seed >> 31)) | 1;
	n->v = calloc(sim_ndefs, sizeof(*n->v));
	n->wm = calloc(sim_ndefs, sizeof(*n->wm));
	n->results = json_array();
	if (!n->v || !n->wm || !n->results || instr_ring_init(&n->ring, SIM_RING_CAP))
		return -ENOMEM;
	return 0;
}

void sim_node_free(struct sim_node *n)
{
	size_t i;

	for (i = 0; i < SIM_NDEV; i++)
		instr_dev_clear(&n->dev[i]);
	for (i = 0; i < SIM_DONE_IDS; i++)
		json_decref(n->done_results[i]);
	instr_ring_free(&n->ring);
	json_decref(n->results);
	free(n->v);
	free(n->wm);
	explicit_bzero(n->conf.secret, sizeof(n->conf.secret));
	memset(n, 0, sizeof(*n));
}

static void sim_event(struct sim_node *n, int64_t now, const char *type, json_t *attrs)
{
	instr_ring_push(&n->ring, now, type, attrs);
	n->events_made++;
}

int sim_boot(struct sim_node *n, int64_t now)
{
	size_t i;
	int t;

	n->boots++;
	snprintf(n->boot_id, sizeof(n->boot_id), "%016llx%08x", (unsigned long long)sim_next(n),
		 (unsigned)sim_next(n));
	n->seq = 0;
	n->uptime_s = 0;
	for (i = 0; i < sim_ndefs; i++) {
		const struct sim_def *d = &sim_defs[i];
		double v = d->init;
		/* Nodes differ a little, as real ones do. */
		if (d->def.kind == INSTR_GAUGE && d->step > 0) {
			v += (sim_rand(n) - 0.5) * 0.2 * (d->hi - d->lo);
			v = v < d->lo ? d->lo : v > d->hi ? d->hi : v;
		} else if (d->def.kind == INSTR_COUNTER && d->step > 0) {
			v *= 0.5 + sim_rand(n);
		}
		n->v[i] = d->def.integer ? round(v) : v;
		instr_wm_reset(&n->wm[i], n->v[i]);
	}
	/* Host-set thresholds do not survive a reboot; the configured one does. */
	for (t = 0; t < SIM_THR_MAX; t++) {
		if (n->thr_cfg[t]) {
			n->thr[t].state = INSTR_THR_CLEAR;
			n->thr[t].hits = 0;
			continue;
		}
		memset(&n->thr[t], 0, sizeof(n->thr[t]));
	}
	sim_devices_boot(n);
	instr_ring_free(&n->ring);
	if (instr_ring_init(&n->ring, SIM_RING_CAP))
		return -ENOMEM;
	/* It speaks for a snow-agent: its events carry the same publisher. */
	snprintf(n->ring.publisher, sizeof(n->ring.publisher), "snow-agent");
	json_array_clear(n->results);
	n->results_sent = 0;
	n->down_id = 0;
	n->reload_id = 0;
	n->thr_dirty = n->dev_dirty = 1;
	sim_event(n, now, INSTR_EV_BOOT, json_pack("{s:s, s:I}", "boot_id", n->boot_id,
						   "boots", (json_int_t)n->boots));
	sim_event(n, now, INSTR_EV_AGENT_START, json_pack("{s:s}", "version", SIM_VERSION));
	return 0;
}

static json_t *sim_thr_event_attrs(const struct instr_threshold *t, double observed)
{
	return json_pack("{s:s, s:s, s:f, s:f, s:f}", "value", t->value, "kind",
			 instr_thr_kind_name(t->kind), "rise", t->rise, "clear", t->clear,
			 "observed", observed);
}

void sim_step(struct sim_node *n, double dt, int64_t now)
{
	size_t i;
	int t;

	if (dt < 0)
		dt = 0;
	n->uptime_s += dt;
	for (i = 0; i < sim_ndefs; i++) {
		const struct sim_def *d = &sim_defs[i];
		double v = n->v[i];

		switch (d->def.kind) {
		case INSTR_ATTRIBUTE:
			continue;
		case INSTR_COUNTER:
			/* Never backwards: the rate is drawn from [0.5, 1.5) of the mean. */
			if (i == 0)
				v = floor(n->uptime_s);
			else
				v += d->step * dt * (0.5 + sim_rand(n));
			break;
		case INSTR_GAUGE:
			/* A walk that bounces off the ends, so it never sticks there. */
			v += d->step * sqrt(dt > 0 ? dt : 0) * (2 * sim_rand(n) - 1);
			if (v < d->lo)
				v = 2 * d->lo - v;
			if (v > d->hi)
				v = 2 * d->hi - v;
			v = v < d->lo ? d->lo : v > d->hi ? d->hi : v;
			break;
		}
		if (d->def.integer)
			v = d->def.kind == INSTR_COUNTER ? floor(v) : round(v);
		if (d->def.kind == INSTR_COUNTER && v < n->v[i])
			v = n->v[i];
		n->v[i] = v;
		if (d->def.kind == INSTR_GAUGE)
			instr_wm_update(&n->wm[i], v);
	}
	n->v[sim_value_index("agent.events.lost")] = (double)n->ring.lost_total;
	for (t = 0; t < SIM_THR_MAX; t++) {
		struct instr_threshold *th = &n->thr[t];
		enum instr_transition tr;
		int k;

		if (!th->enabled || (k = sim_value_index(th->value)) < 0)
			continue;
		tr = threshold_update(th, n->v[k]);
		if (tr == INSTR_TR_NONE)
			continue;
		n->thr_dirty = 1;
		sim_event(n, now, tr == INSTR_TR_RAISE ? INSTR_EV_THR_RAISE : INSTR_EV_THR_CLEAR,
			  sim_thr_event_attrs(th, n->v[k]));
	}
}

int sim_spike_setup(struct sim_node *n)
{
	char err[128];

	if (sim_value_index(SIM_SPIKE_VALUE) < 0)
		return -EINVAL;
	n->thr_dirty = 1;
	n->thr_cfg[0] = 1;
	n->spike = 1;
	return threshold_set(&n->thr[0], SIM_SPIKE_VALUE, INSTR_THR_HIGH, 85, 80, 1, err,
			     sizeof(err));
}

int sim_apply_conf(struct sim_node *n, const struct ovl_conf *c)
{
	unsigned char keep[SIM_THR_MAX] = { 0 };
	size_t i;
	int t, rc = 0;

	n->conf = *c;
	/* The spike threshold (thr[0] with --events-rate) is ours, not the file's. */
	if (n->spike)
		keep[0] = 1;
	for (i = 0; i < c->nthr; i++) {
		const struct instr_threshold *w = &c->thr[i];
		struct instr_threshold *slot = NULL;
		char err[128];
		for (t = 0; t < SIM_THR_MAX && !slot; t++)
			if (n->thr[t].enabled && n->thr[t].kind == w->kind &&
			    !strcmp(n->thr[t].value, w->value))
				slot = &n->thr[t];
		for (t = 0; t < SIM_THR_MAX && !slot; t++)
			if (!n->thr[t].enabled)
				slot = &n->thr[t];
		if (!slot) {
			rc = -ENOSPC;
			break;
		}
		threshold_set(slot, w->value, w->kind, w->rise, w->clear, w->samples, err,
			      sizeof(err));
		keep[slot - n->thr] = 1;
	}
	/* Configured thresholds the file no longer has are gone. */
	for (t = 0; t < SIM_THR_MAX; t++) {
		if (n->thr_cfg[t] && !keep[t])
			memset(&n->thr[t], 0, sizeof(n->thr[t]));
		n->thr_cfg[t] = keep[t];
	}
	n->thr_dirty = 1;
	return rc;
}

void sim_spike(struct sim_node *n)
{
	int k = sim_value_index(SIM_SPIKE_VALUE);

	if (k < 0 || !n->thr[0].enabled)
		return;
	/* Far enough past the line that the next step's walk cannot undo it. */
	n->v[k] = n->thr[0].state == INSTR_THR_RAISED ? 70 + 5 * sim_rand(n) : 90 + 4 * sim_rand(n);
}

json_t *sim_register_body(struct sim_node *n)
{
	json_t *schema = json_array(), *e;
	size_t i;

	if (!schema)
		return NULL;
	for (i = 0; i < sim_ndefs; i++) {
		const struct instr_def *d = &sim_defs[i].def;
		e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", d->name, "oid", d->oid, "kind",
			      instr_kind_name(d->kind), "unit", d->unit, "desc", d->desc);
		if (e && d->resettable)
			json_object_set_new(e, "resettable", json_true());
		if (json_array_append_new(schema, e)) {
			json_decref(schema);
			return NULL;
		}
	}
	/* "o" steals schema, also when json_pack fails. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", n->name, "mac", n->mac,
			 "boot_id", n->boot_id, "version", SIM_VERSION, "kernel", "6.1.0-sim",
			 "hostname", n->name, "schema", schema);
}

void sim_registered(struct sim_node *n)
{
	n->seq = 0;
	n->thr_dirty = n->dev_dirty = 1;
}

static json_t *sim_num(double v, int integer)
{
	return integer ? json_integer((json_int_t)v) : json_real(v);
}

static json_t *sim_values_json(const struct sim_node *n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < sim_ndefs; i++) {
		if (json_object_set_new(o, sim_defs[i].def.name,
					sim_num(n->v[i], sim_defs[i].def.integer))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *sim_watermarks_json(const struct sim_node *n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < sim_ndefs; i++) {
		const struct sim_def *d = &sim_defs[i];
		if (d->def.kind != INSTR_GAUGE || !n->wm[i].set)
			continue;
		if (json_object_set_new(o, d->def.name,
					json_pack("[o, o]", sim_num(n->wm[i].low, d->def.integer),
						  sim_num(n->wm[i].high, d->def.integer)))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *sim_thresholds_json(const struct sim_node *n)
{
	json_t *a = json_array();
	int t;

	for (t = 0; a && t < SIM_THR_MAX; t++) {
		if (n->thr[t].enabled && json_array_append_new(a, threshold_to_json(&n->thr[t]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *sim_devices_json(const struct sim_node *n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < SIM_NDEV; i++) {
		if (json_array_append_new(a, instr_dev_to_json(&n->dev[i]))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *sim_report_body(struct sim_node *n, int full)
{
	json_t *o;

	o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:O}", "name", n->name, "boot_id",
		      n->boot_id, "seq", (json_int_t)(n->seq + 1), "uptime_s",
		      (json_int_t)n->uptime_s, "values", sim_values_json(n), "watermarks",
		      sim_watermarks_json(n), "events",
		      instr_ring_json(&n->ring, INSTR_EVENTS_PER_REPORT), "results", n->results);
	if (!o)
		return NULL;
	n->thr_sent = full || n->thr_dirty;
	n->dev_sent = full || n->dev_dirty;
	if ((n->thr_sent && json_object_set_new(o, "thresholds", sim_thresholds_json(n))) ||
	    (n->dev_sent && json_object_set_new(o, "devices", sim_devices_json(n)))) {
		json_decref(o);
		return NULL;
	}
	n->seq++;
	n->results_sent = json_array_size(n->results);
	return o;
}

void sim_report_failed(struct sim_node *n)
{
	n->results_sent = 0;
	n->thr_sent = n->dev_sent = 0;
}

/* Queue a result (stolen) and remember it under its id for repeats. */
static void sim_result(struct sim_node *n, int64_t now, json_int_t id, const char *op,
		       json_t *r)
{
	size_t slot = n->done_next++ % SIM_DONE_IDS;
	int ok = json_is_true(json_object_get(r, "ok"));

	if (!r)
		return;
	json_decref(n->done_results[slot]);
	n->done_ids[slot] = id;
	n->done_results[slot] = json_incref(r);
	json_array_append_new(n->results, r);
	sim_event(n, now, INSTR_EV_COMMAND_RESULT,
		  json_pack("{s:I, s:s, s:b}", "id", id, "op", op, "ok", ok));
}

static json_t *sim_err(json_int_t id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *sim_err(json_int_t id, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return instr_result_err(id, msg);
}

static json_t *sim_cmd_threshold(struct sim_node *n, const struct instr_cmd *c, int64_t now)
{
	const struct instr_threshold *a = &c->thr;
	struct instr_threshold *free_slot = NULL, *t = NULL;
	int k = sim_value_index(a->value), i;
	char err[200];

	if (k < 0)
		return sim_err(c->id, "args.value: this node has no value '%s'", a->value);
	if (sim_defs[k].def.kind != INSTR_GAUGE)
		return sim_err(c->id, "args.value: %s is a%s %s, not a gauge", a->value,
			       sim_defs[k].def.kind == INSTR_ATTRIBUTE ? "n" : "",
			       instr_kind_name(sim_defs[k].def.kind));
	for (i = 0; i < SIM_THR_MAX; i++) {
		struct instr_threshold *x = &n->thr[i];
		if (x->enabled && x->kind == a->kind && !strcmp(x->value, a->value))
			t = x;
		else if (!x->enabled && !free_slot)
			free_slot = x;
	}
	if (c->op == INSTR_CMD_THR_CLEAR) {
		if (!t)
			return sim_err(c->id, "args.value: no %s threshold on %s",
				       instr_thr_kind_name(a->kind), a->value);
		/* As the agent does: a raised threshold that goes away clears. */
		if (t->state == INSTR_THR_RAISED) {
			json_t *ev = sim_thr_event_attrs(t, n->v[k]);
			if (ev)
				json_object_set_new(ev, "cause", json_string("threshold.clear"));
			sim_event(n, now, INSTR_EV_THR_CLEAR, ev);
		}
		memset(t, 0, sizeof(*t));
		n->thr_cfg[t - n->thr] = 0;
		n->thr_dirty = 1;
		return instr_result_ok(c->id, NULL);
	}
	if (!t)
		t = free_slot;
	if (!t)
		return sim_err(c->id, "thresholds: all %d in use; clear one first", SIM_THR_MAX);
	if (threshold_set(t, a->value, a->kind, a->rise, a->clear, a->samples ? a->samples : 1,
			  err, sizeof(err)))
		return instr_result_err(c->id, err);
	n->thr_dirty = 1;
	return instr_result_ok(c->id, threshold_to_json(t));
}

/* counters.reset: a simulated counter simply starts again from 0 and grows. */
static json_t *sim_cmd_cnt_reset(struct sim_node *n, const struct instr_cmd *c)
{
	int k, count = 0;
	size_t i;

	if (c->value[0]) {
		k = sim_value_index(c->value);
		if (k < 0)
			return sim_err(c->id, "value: '%s' is not a value of this node", c->value);
		if (sim_defs[k].def.kind != INSTR_COUNTER)
			return sim_err(c->id, "value: '%s' is a %s; only counters are reset",
				       c->value, instr_kind_name(sim_defs[k].def.kind));
		if (!sim_defs[k].def.resettable)
			return sim_err(c->id, "value: '%s' is a counter that cannot be reset",
				       c->value);
		n->v[k] = 0;
		return instr_result_ok(c->id, json_pack("{s:i}", "reset", 1));
	}
	for (i = 0; i < sim_ndefs; i++)
		if (sim_defs[i].def.kind == INSTR_COUNTER && sim_defs[i].def.resettable) {
			n->v[i] = 0;
			count++;
		}
	return instr_result_ok(c->id, json_pack("{s:i}", "reset", count));
}

static json_t *sim_cmd_wm_reset(struct sim_node *n, const struct instr_cmd *c)
{
	int k, count = 0;
	size_t i;

	if (c->value[0]) {
		k = sim_value_index(c->value);
		if (k < 0)
			return sim_err(c->id, "args.value: this node has no value '%s'", c->value);
		if (sim_defs[k].def.kind != INSTR_GAUGE)
			return sim_err(c->id, "args.value: %s is not a gauge (only gauges have "
					      "watermarks)", c->value);
		instr_wm_reset(&n->wm[k], n->v[k]);
		count = 1;
	} else {
		for (i = 0; i < sim_ndefs; i++) {
			if (sim_defs[i].def.kind != INSTR_GAUGE)
				continue;
			instr_wm_reset(&n->wm[i], n->v[i]);
			count++;
		}
	}
	return instr_result_ok(c->id, json_pack("{s:i}", "reset", count));
}

static json_t *sim_cmd_device(struct sim_node *n, const struct instr_cmd *c, int64_t now)
{
	struct instr_dev *d = NULL;
	char why[200];
	int i;

	for (i = 0; i < SIM_NDEV; i++)
		if (!strcmp(n->dev[i].path, c->path))
			d = &n->dev[i];
	if (!d)
		return sim_err(c->id, "args.path: this node has no device '%s'", c->path);
	if (instr_dev_refusal(d, c->dev_op, why, sizeof(why)))
		return instr_result_err(c->id, why);
	switch (c->dev_op) {
	case INSTR_OP_ENABLE:
		d->avail = INSTR_ENABLED;
		d->run = INSTR_OFFLINE;
		break;
	case INSTR_OP_DISABLE:
		d->avail = INSTR_DISABLED;
		d->run = INSTR_INACTIVE;
		break;
	case INSTR_OP_ONLINE:
		d->run = INSTR_ONLINE;
		break;
	case INSTR_OP_OFFLINE:
		d->run = INSTR_OFFLINE;
		break;
	case INSTR_OP_SHUTDOWN:
		d->run = INSTR_INACTIVE;
		break;
	case INSTR_OP_DIAG:
	case INSTR_OP_AUDIT: {
		struct instr_check *k = c->dev_op == INSTR_OP_DIAG ? &d->diag : &d->audit;
		k->done = 1;
		k->pass = 1;
		k->time = now;
		snprintf(k->detail, sizeof(k->detail), "simulated %s: pass",
			 instr_op_name(c->dev_op));
		break;
	}
	case INSTR_OP_COUNT:
		break;
	}
	if (!strncmp(d->path, "cpu/", 4)) {
		int online = 0;
		for (i = 0; i < 4; i++)
			online += n->dev[i].run == INSTR_ONLINE;
		n->v[sim_value_index("hw.cpu.online")] = online;
	}
	n->dev_dirty = 1;
	sim_event(n, now, INSTR_EV_DEVICE_STATE,
		  json_pack("{s:s, s:s, s:s, s:s}", "path", d->path, "op", instr_op_name(c->dev_op),
			    "avail", instr_avail_name(d->avail), "run", instr_run_name(d->run)));
	return instr_result_ok(c->id, json_pack("{s:s, s:s, s:s}", "path", d->path, "avail",
						instr_avail_name(d->avail), "run",
						instr_run_name(d->run)));
}

static json_t *sim_cmd_sysctl(struct sim_node *n, const struct instr_cmd *c)
{
	int k;

	if (!ovl_sysctl_allowed(&n->conf, c->sysctl_name))
		return sim_err(c->id, "args.name: %s is not on this node's sysctl.allow list",
			       c->sysctl_name);
	k = sim_value_index(c->sysctl_name);
	if (k >= 0) {
		char *end;
		double v = strtod(c->sysctl_value, &end);
		if (*end || end == c->sysctl_value)
			return sim_err(c->id, "args.value: '%s' is not a number", c->sysctl_value);
		n->v[k] = v;
	}
	return instr_result_ok(c->id, json_pack("{s:s, s:s}", "name", c->sysctl_name, "value",
						c->sysctl_value));
}

/* A simulated node has no /proc/sys: it answers for the values it simulates. */
static json_t *sim_cmd_sysctl_get(const struct sim_node *n, const struct instr_cmd *c)
{
	int k = sim_value_index(c->sysctl_name);
	char v[64];

	if (k < 0)
		return sim_err(c->id, "name: %s: no such sysctl (or not readable)", c->sysctl_name);
	snprintf(v, sizeof(v), "%.17g", n->v[k]);
	return instr_result_ok(c->id, json_pack("{s:s, s:s}", "name", c->sysctl_name, "value", v));
}

/* Is a result for id waiting to be sent? */
static int sim_result_pending(const struct sim_node *n, json_int_t id)
{
	json_t *r;
	size_t i;

	json_array_foreach(n->results, i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return 1;
	return 0;
}

unsigned sim_command(struct sim_node *n, json_t *j, int64_t now)
{
	struct instr_cmd c;
	json_int_t id = -1;
	char err[256];
	json_t *r = NULL;
	size_t i;

	if (instr_cmd_parse(j, &c, &id, err, sizeof(err))) {
		if (id <= 0)
			return SIM_ACT_NONE; /* nothing to answer to */
		c.id = id;
		c.op = INSTR_CMD_COUNT;
		for (i = 0; i < SIM_DONE_IDS; i++)
			if (n->done_ids[i] == id && n->done_results[i])
				goto repeat;
		sim_result(n, now, id, "?", instr_result_err(id, err));
		return SIM_ACT_SOON;
	}
	/* A command seen before is not run twice: its result goes again. */
	for (i = 0; i < SIM_DONE_IDS; i++)
		if (n->done_ids[i] == c.id && n->done_results[i])
			goto repeat;
	/* Going down: what comes after the reboot waits for the next boot. */
	if (n->down_id)
		return SIM_ACT_NONE;
	switch (c.op) {
	case INSTR_CMD_REBOOT:
	case INSTR_CMD_POWEROFF:
		n->down_id = c.id;
		n->down_op = (int)c.op;
		r = instr_result_ok(c.id, json_pack("{s:s}", "action", instr_cmd_op_name(c.op)));
		break;
	case INSTR_CMD_THR_SET:
	case INSTR_CMD_THR_CLEAR:
		r = sim_cmd_threshold(n, &c, now);
		break;
	case INSTR_CMD_WM_RESET:
		r = sim_cmd_wm_reset(n, &c);
		break;
	case INSTR_CMD_CNT_RESET:
		r = sim_cmd_cnt_reset(n, &c);
		break;
	case INSTR_CMD_DEVICE:
		r = sim_cmd_device(n, &c, now);
		break;
	case INSTR_CMD_SYSCTL_SET:
		r = sim_cmd_sysctl(n, &c);
		break;
	case INSTR_CMD_SYSCTL_GET:
		r = sim_cmd_sysctl_get(n, &c);
		break;
	case INSTR_CMD_CONFIG_RELOAD:
		/* The result comes when the overlay has been fetched again. */
		n->reload_id = c.id;
		return SIM_ACT_RELOAD;
	case INSTR_CMD_COUNT:
		r = sim_err(c.id, "op: not supported");
		break;
	}
	sim_result(n, now, c.id, instr_cmd_op_name(c.op), r);
	return SIM_ACT_SOON;

repeat:
	if (!sim_result_pending(n, n->done_ids[i]))
		json_array_append(n->results, n->done_results[i]);
	return SIM_ACT_SOON;
}

unsigned sim_report_answered(struct sim_node *n, json_t *ans, int64_t now)
{
	unsigned act = SIM_ACT_NONE;
	json_t *cmds, *c, *ack;
	size_t i;

	for (i = 0; i < n->results_sent && i < json_array_size(n->results); i++) {
		json_int_t id = json_integer_value(json_object_get(json_array_get(n->results, i),
								   "id"));
		if (n->down_id && id == n->down_id)
			act |= n->down_op == INSTR_CMD_POWEROFF ? SIM_ACT_POWEROFF : SIM_ACT_REBOOT;
	}
	while (n->results_sent && json_array_size(n->results)) {
		json_array_remove(n->results, 0);
		n->results_sent--;
	}
	n->results_sent = 0;
	if (n->thr_sent)
		n->thr_dirty = 0;
	if (n->dev_sent)
		n->dev_dirty = 0;
	n->thr_sent = n->dev_sent = 0;
	if (act)
		return act; /* going down now: the rest waits for the next boot */
	ack = json_object_get(ans, "ack_events");
	if (json_is_integer(ack) && json_integer_value(ack) > 0)
		instr_ring_ack(&n->ring, (uint64_t)json_integer_value(ack), now);
	cmds = json_object_get(ans, "commands");
	json_array_foreach(cmds, i, c)
		act |= sim_command(n, c, now);
	if (json_array_size(n->results))
		act |= SIM_ACT_SOON;
	return act;
}

void sim_reload_done(struct sim_node *n, int rc, const struct ovl_conf *c, const char *err,
		     int64_t now)
{
	json_int_t id = n->reload_id;

	if (!id)
		return;
	n->reload_id = 0;
	if (rc) {
		sim_result(n, now, id, "config.reload", sim_err(id, "overlay: %s", err));
		return;
	}
	sim_apply_conf(n, c);
	sim_result(n, now, id, "config.reload",
		   instr_result_ok(id, json_pack("{s:I}", "interval_ms",
						 (json_int_t)c->interval_ms)));
}
