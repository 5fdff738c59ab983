/*
 * lib/instr: value kinds, watermarks, thresholds with hysteresis exactly at
 * the boundaries, the event ring (ack, overflow), the DDM refusal rules,
 * commands and the JSON forms of docs/protocol.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "instr.h"
#include "jsonh.h"

static struct instr_def def(const char *name, enum instr_kind kind, int integer)
{
	struct instr_def d = { .kind = kind, .integer = integer };

	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.oid, sizeof(d.oid), "1.1");
	snprintf(d.unit, sizeof(d.unit), "KiB");
	snprintf(d.desc, sizeof(d.desc), "a test value");
	return d;
}

/* Compare a JSON value with the compact text we expect; print both on failure. */
static void assert_json(json_t *got, const char *want)
{
	json_error_t je;
	json_t *w = json_loads(want, 0, &je);
	char *g = jsonh_dump(got);

	assert_non_null(w);
	if (!json_equal(got, w)) {
		print_error("JSON differs:\n got  %s\n want %s\n", g, want);
		free(g);
		json_decref(w);
		fail();
	}
	free(g);
	json_decref(w);
}

static void test_kinds_and_names(void **state)
{
	enum instr_kind k;
	char err[256];

	assert_string_equal(instr_kind_name(INSTR_ATTRIBUTE), "attribute");
	assert_string_equal(instr_kind_name(INSTR_COUNTER), "counter");
	assert_string_equal(instr_kind_name(INSTR_GAUGE), "gauge");
	assert_int_equal(instr_kind_parse("gauge", &k), 0);
	assert_int_equal(k, INSTR_GAUGE);
	assert_int_equal(instr_kind_parse("Gauge", &k), -EINVAL);
	assert_int_equal(instr_name_check("net.eth0.rx_bytes", err, sizeof(err)), 0);
	assert_int_equal(instr_name_check("kern.mem.pages_avail", err, sizeof(err)), 0);
	assert_int_equal(instr_name_check("", err, sizeof(err)), -EINVAL);
	assert_int_equal(instr_name_check(".a", err, sizeof(err)), -EINVAL);
	assert_int_equal(instr_name_check("a..b", err, sizeof(err)), -EINVAL);
	assert_int_equal(instr_name_check("a.", err, sizeof(err)), -EINVAL);
	assert_int_equal(instr_name_check("A.b", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'A.b'"));
}

/* Every kind in the tree: attributes and counters have no watermarks. */
static void test_tree_every_kind(void **state)
{
	struct instr_tree t = { 0 };
	struct instr_def a = def("kern.mem.total_kb", INSTR_ATTRIBUTE, 1);
	struct instr_def c = def("kern.cpu.user_ms", INSTR_COUNTER, 1);
	struct instr_def g = def("vm.load.avg1", INSTR_GAUGE, 0);
	json_t *j;

	assert_int_equal(instr_tree_set(&t, &a, 1000), 0);
	assert_int_equal(instr_tree_set(&t, &c, 5), 0);
	assert_int_equal(instr_tree_set(&t, &g, 0.5), 0);
	assert_int_equal(t.gen, 3);
	instr_tree_begin(&t);
	assert_int_equal(instr_tree_set(&t, &c, 7), 0);
	assert_int_equal(instr_tree_set(&t, &g, 0.25), 0);
	assert_int_equal(t.gen, 3); /* nothing new */
	/* The same name with another kind is refused. */
	g.kind = INSTR_COUNTER;
	assert_int_equal(instr_tree_set(&t, &g, 1), -EINVAL);
	g.kind = INSTR_GAUGE;
	assert_int_equal(instr_tree_set(&t, &g, NAN), -EINVAL);

	j = instr_tree_values_json(&t); /* the attribute was not read this round */
	assert_json(j, "{\"kern.cpu.user_ms\": 7, \"vm.load.avg1\": 0.25}");
	json_decref(j);
	j = instr_tree_watermarks_json(&t);
	assert_json(j, "{\"vm.load.avg1\": [0.25, 0.5]}");
	json_decref(j);
	j = instr_tree_schema_json(&t);
	assert_int_equal(json_array_size(j), 3);
	assert_json(json_array_get(j, 0), "{\"name\": \"kern.mem.total_kb\", \"oid\": \"1.1\", "
					  "\"kind\": \"attribute\", \"unit\": \"KiB\", "
					  "\"desc\": \"a test value\"}");
	{
		struct instr_def back;
		char err[256];
		assert_int_equal(instr_def_from_json(json_array_get(j, 2), &back, err, sizeof(err)),
				 0);
		assert_string_equal(back.name, "vm.load.avg1");
		assert_int_equal(back.kind, INSTR_GAUGE);
		json_object_set_new(json_array_get(j, 2), "kind", json_string("meter"));
		assert_int_equal(instr_def_from_json(json_array_get(j, 2), &back, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "kind: 'meter'"));
	}
	json_decref(j);
	instr_tree_free(&t);
}

static void test_watermarks(void **state)
{
	struct instr_tree t = { 0 };
	struct instr_def g = def("kern.mem.free_kb", INSTR_GAUGE, 1);
	struct instr_def c = def("kern.ctxt", INSTR_COUNTER, 1);
	struct instr_value *v;
	char err[256];
	double seq[] = { 100, 80, 120, 90 };
	size_t i;

	for (i = 0; i < 4; i++) {
		instr_tree_begin(&t);
		assert_int_equal(instr_tree_set(&t, &g, seq[i]), 0);
		assert_int_equal(instr_tree_set(&t, &c, (double)i), 0);
	}
	v = instr_tree_find(&t, "kern.mem.free_kb");
	assert_true(v->wm.set && v->wm.low == 80 && v->wm.high == 120);
	assert_false(instr_tree_find(&t, "kern.ctxt")->wm.set);
	/* Reset to the current reading (90), then the range grows again. */
	assert_int_equal(instr_tree_wm_reset(&t, "kern.mem.free_kb", err, sizeof(err)), 1);
	assert_true(v->wm.low == 90 && v->wm.high == 90);
	instr_tree_begin(&t);
	assert_int_equal(instr_tree_set(&t, &g, 95), 0);
	assert_true(v->wm.low == 90 && v->wm.high == 95);
	assert_int_equal(instr_tree_wm_reset(&t, "kern.ctxt", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is a counter"));
	assert_int_equal(instr_tree_wm_reset(&t, "no.such", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'no.such'"));
	assert_int_equal(instr_tree_wm_reset(&t, NULL, err, sizeof(err)), 1);
	assert_true(v->wm.low == 95 && v->wm.high == 95);
	instr_tree_free(&t);
}

static void test_counter_reset(void **state)
{
	struct instr_tree t = { 0 };
	struct instr_def rx = def("net.eth0.rx_bytes", INSTR_COUNTER, 1);
	struct instr_def up = def("sys.uptime_s", INSTR_COUNTER, 1);
	struct instr_def g = def("kern.mem.free_kb", INSTR_GAUGE, 1);
	struct instr_value *v;
	unsigned gen;
	char err[256];

	rx.resettable = 1;
	assert_int_equal(instr_tree_set(&t, &rx, 5000), 0);
	assert_int_equal(instr_tree_set(&t, &up, 30), 0);
	assert_int_equal(instr_tree_set(&t, &g, 7), 0);
	v = instr_tree_find(&t, "net.eth0.rx_bytes");
	gen = t.wm_gen;
	assert_int_equal(instr_tree_counter_reset(&t, "net.eth0.rx_bytes", err, sizeof(err)), 1);
	assert_true(v->v == 0 && v->base == 5000 && t.wm_gen != gen);
	instr_tree_begin(&t);
	assert_int_equal(instr_tree_set(&t, &rx, 5100), 0);
	assert_true(v->v == 100);
	/* The source started again (an interface re-created): so does the counter. */
	assert_int_equal(instr_tree_set(&t, &rx, 40), 0);
	assert_true(v->v == 40 && v->base == 0);
	assert_int_equal(instr_tree_counter_reset(&t, "sys.uptime_s", err, sizeof(err)), -EPERM);
	assert_string_equal(err, "value: 'sys.uptime_s' is a counter that cannot be reset");
	assert_int_equal(instr_tree_counter_reset(&t, "kern.mem.free_kb", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "value: 'kern.mem.free_kb' is a gauge; only counters are reset");
	assert_int_equal(instr_tree_counter_reset(&t, "no.such", err, sizeof(err)), -ENOENT);
	/* All: only the resettable ones. */
	assert_int_equal(instr_tree_counter_reset(&t, NULL, err, sizeof(err)), 1);
	assert_true(instr_tree_find(&t, "sys.uptime_s")->v == 30);
	/* The schema says which; a schema entry reads it back, and refuses it on a gauge. */
	{
		json_t *sch = instr_tree_schema_json(&t), *bad;
		struct instr_def d;
		assert_true(json_is_true(json_object_get(json_array_get(sch, 0), "resettable")));
		assert_null(json_object_get(json_array_get(sch, 1), "resettable"));
		assert_int_equal(instr_def_from_json(json_array_get(sch, 0), &d, err, sizeof(err)), 0);
		assert_true(d.resettable && d.kind == INSTR_COUNTER);
		assert_int_equal(instr_def_from_json(json_array_get(sch, 1), &d, err, sizeof(err)), 0);
		assert_false(d.resettable);
		bad = json_pack("{s:s, s:s, s:b}", "name", "a.b", "kind", "gauge", "resettable", 1);
		assert_int_equal(instr_def_from_json(bad, &d, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "resettable: only a counter"));
		json_decref(bad);
		bad = json_pack("{s:s, s:s, s:i}", "name", "a.b", "kind", "counter", "resettable", 1);
		assert_int_equal(instr_def_from_json(bad, &d, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, "resettable: must be true or false");
		json_decref(bad);
		json_decref(sch);
	}
	instr_tree_free(&t);
}

static void test_event_severity_publisher(void **state)
{
	struct instr_ring r;
	struct instr_event e;
	json_t *j, *bad;
	char err[256];

	assert_int_equal(instr_ring_init(&r, 2), 0);
	snprintf(r.publisher, sizeof(r.publisher), "snow-agent");
	assert_int_equal(instr_ring_push(&r, 1, INSTR_EV_STATE, NULL), 1);
	assert_int_equal(instr_ring_push_ex(&r, 2, "app.backup.done", INSTR_SEV_NOTICE, "backup",
					    NULL), 2);
	assert_int_equal(instr_ring_push(&r, 3, INSTR_EV_BOOT, NULL), 3); /* drops seq 1 */
	j = instr_ring_json(&r, 8);
	assert_json(j, "[{\"seq\": 2, \"time\": 2, \"type\": \"app.backup.done\", \"attrs\": {},"
		       " \"severity\": \"notice\", \"publisher\": \"backup\"},"
		       " {\"seq\": 3, \"time\": 3, \"type\": \"boot\", \"attrs\": {},"
		       " \"severity\": \"info\", \"publisher\": \"snow-agent\"}]");
	assert_int_equal(instr_event_from_json(json_array_get(j, 0), &e, err, sizeof(err)), 0);
	assert_true(e.severity == INSTR_SEV_NOTICE && !strcmp(e.publisher, "backup"));
	json_decref(e.attrs);
	json_decref(j);
	/* The loss record is the ring's own, a warning. */
	instr_ring_ack(&r, 3, 4);
	j = instr_ring_json(&r, 8);
	assert_json(j, "[{\"seq\": 4, \"time\": 4, \"type\": \"events.lost\", \"attrs\":"
		       " {\"count\": 1, \"first_seq\": 1, \"last_seq\": 1}, \"severity\": \"warning\","
		       " \"publisher\": \"snow-agent\"}]");
	json_decref(j);
	/* An older agent's event has neither; a bad one names the field. */
	j = json_pack("{s:i, s:i, s:s}", "seq", 1, "time", 1, "type", "boot");
	assert_int_equal(instr_event_from_json(j, &e, err, sizeof(err)), 0);
	assert_true(e.severity == INSTR_SEV_NONE && !e.publisher[0]);
	json_decref(e.attrs);
	bad = instr_event_to_json(&e);
	assert_null(json_object_get(bad, "severity"));
	assert_null(json_object_get(bad, "publisher"));
	json_decref(bad);
	json_object_set_new(j, "severity", json_string("loud"));
	assert_int_equal(instr_event_from_json(j, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "severity: must be debug, info, notice, warning, error or critical");
	json_object_set_new(j, "severity", json_string("error"));
	json_object_set_new(j, "publisher", json_string("Bad Name"));
	assert_int_equal(instr_event_from_json(j, &e, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "publisher: only [a-z0-9_.-] may be used");
	json_decref(j);
	instr_ring_free(&r);
}

static void test_threshold_check_messages(void **state)
{
	char err[256];

	assert_int_equal(threshold_check(60, 50, INSTR_THR_HIGH, err, sizeof(err)), 0);
	assert_int_equal(threshold_check(60, 60, INSTR_THR_HIGH, err, sizeof(err)), 0);
	assert_int_equal(threshold_check(60, 70, INSTR_THR_HIGH, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "clear: 70 is above rise 60"));
	assert_non_null(strstr(err, "clear must be <= rise"));
	assert_int_equal(threshold_check(50, 60, INSTR_THR_LOW, err, sizeof(err)), 0);
	assert_int_equal(threshold_check(50, 50, INSTR_THR_LOW, err, sizeof(err)), 0);
	assert_int_equal(threshold_check(50, 40, INSTR_THR_LOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "clear: 40 is below rise 50"));
	assert_non_null(strstr(err, "clear must be >= rise"));
	assert_int_equal(threshold_check(NAN, 1, INSTR_THR_LOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rise:"));
	assert_int_equal(threshold_check(1, INFINITY, INSTR_THR_LOW, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "clear:"));
}

/* High: raise above 60 (not at 60), clear below 50 (not at 50), once each. */
static void test_threshold_high_boundaries(void **state)
{
	struct instr_threshold t = { 0 };
	char err[256];
	static const struct {
		double v;
		enum instr_transition want;
		enum instr_thr_state state;
	} steps[] = {
		{ 10, INSTR_TR_NONE, INSTR_THR_CLEAR },  { 60, INSTR_TR_NONE, INSTR_THR_CLEAR },
		{ 60.001, INSTR_TR_RAISE, INSTR_THR_RAISED }, { 90, INSTR_TR_NONE, INSTR_THR_RAISED },
		{ 55, INSTR_TR_NONE, INSTR_THR_RAISED }, { 61, INSTR_TR_NONE, INSTR_THR_RAISED },
		{ 50, INSTR_TR_NONE, INSTR_THR_RAISED }, { 49.999, INSTR_TR_CLEAR, INSTR_THR_CLEAR },
		{ 10, INSTR_TR_NONE, INSTR_THR_CLEAR },  { 55, INSTR_TR_NONE, INSTR_THR_CLEAR },
		{ 61, INSTR_TR_RAISE, INSTR_THR_RAISED },
	};
	size_t i;

	/* Disabled until set. */
	assert_int_equal(threshold_update(&t, 1000), INSTR_TR_NONE);
	assert_int_equal(threshold_set(&t, "vm.load.avg1", INSTR_THR_HIGH, 60, 50, 1, err,
				       sizeof(err)),
			 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		enum instr_transition got = threshold_update(&t, steps[i].v);
		if (got != steps[i].want || t.state != steps[i].state)
			fail_msg("step %zu (v=%g): transition %d state %d, want %d %d", i,
				 steps[i].v, got, t.state, steps[i].want, steps[i].state);
	}
}

/* Low mirrors high: raise below 50, clear above 60. */
static void test_threshold_low_boundaries(void **state)
{
	struct instr_threshold t = { 0 };
	char err[256];
	static const struct {
		double v;
		enum instr_transition want;
	} steps[] = {
		{ 100, INSTR_TR_NONE }, { 50, INSTR_TR_NONE },  { 49, INSTR_TR_RAISE },
		{ 0, INSTR_TR_NONE },   { 60, INSTR_TR_NONE },  { 55, INSTR_TR_NONE },
		{ 60.5, INSTR_TR_CLEAR }, { 55, INSTR_TR_NONE }, { 49.5, INSTR_TR_RAISE },
	};
	size_t i;

	assert_int_equal(threshold_set(&t, "kern.mem.avail_kb", INSTR_THR_LOW, 50, 60, 1, err,
				       sizeof(err)),
			 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		enum instr_transition got = threshold_update(&t, steps[i].v);
		if (got != steps[i].want)
			fail_msg("step %zu (v=%g): transition %d, want %d", i, steps[i].v, got,
				 steps[i].want);
	}
}

/* clear == rise: no flapping at the boundary value itself. */
static void test_threshold_equal_rise_clear(void **state)
{
	struct instr_threshold t = { 0 };
	char err[256];

	assert_int_equal(threshold_set(&t, "a.b", INSTR_THR_HIGH, 5, 5, 1, err, sizeof(err)), 0);
	assert_int_equal(threshold_update(&t, 5), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 6), INSTR_TR_RAISE);
	assert_int_equal(threshold_update(&t, 5), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 4), INSTR_TR_CLEAR);
}

static void test_threshold_samples(void **state)
{
	struct instr_threshold t = { 0 };
	char err[256];

	assert_int_equal(threshold_set(&t, "a.b", INSTR_THR_HIGH, 10, 5, 3, err, sizeof(err)), 0);
	assert_int_equal(threshold_update(&t, 11), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 11), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 10), INSTR_TR_NONE); /* not beyond: count restarts */
	assert_int_equal(threshold_update(&t, 11), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 12), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 13), INSTR_TR_RAISE);
	assert_int_equal(threshold_update(&t, 13), INSTR_TR_NONE);
	assert_int_equal(threshold_update(&t, 4), INSTR_TR_CLEAR); /* clearing is immediate */
	assert_int_equal(threshold_set(&t, "a.b", INSTR_THR_HIGH, 10, 5, 0, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "samples: 0 is out of range"));
	assert_int_equal(t.samples, 3); /* a bad set changes nothing */
}

/* Setting a raised threshold again keeps it raised until the new clear. */
static void test_threshold_reset_keeps_state(void **state)
{
	struct instr_threshold t = { 0 };
	char err[256];

	assert_int_equal(threshold_set(&t, "a.b", INSTR_THR_HIGH, 10, 5, 1, err, sizeof(err)), 0);
	assert_int_equal(threshold_update(&t, 20), INSTR_TR_RAISE);
	assert_int_equal(threshold_set(&t, "a.b", INSTR_THR_HIGH, 30, 25, 1, err, sizeof(err)), 0);
	assert_int_equal(t.state, INSTR_THR_RAISED);
	assert_int_equal(threshold_update(&t, 20), INSTR_TR_CLEAR);
	assert_int_equal(threshold_set(&t, "a.b", INSTR_THR_HIGH, 30, 35, 1, err, sizeof(err)),
			 -EINVAL);
	assert_true(t.rise == 30 && t.clear == 25);
}

static void test_threshold_json(void **state)
{
	struct instr_threshold t = { 0 }, back;
	char err[256];
	json_t *j;

	assert_int_equal(threshold_set(&t, "kern.mem.free_kb", INSTR_THR_LOW, 50000, 60000, 2,
				       err, sizeof(err)),
			 0);
	j = threshold_to_json(&t);
	assert_json(j, "{\"value\": \"kern.mem.free_kb\", \"kind\": \"low\", \"rise\": 50000.0, "
		       "\"clear\": 60000.0, \"samples\": 2, \"state\": \"clear\"}");
	assert_int_equal(threshold_from_json(j, &back, err, sizeof(err)), 0);
	assert_string_equal(back.value, t.value);
	assert_true(back.kind == t.kind && back.rise == t.rise && back.clear == t.clear &&
		    back.samples == 2 && back.enabled);
	json_object_set_new(j, "clear", json_integer(40000));
	assert_int_equal(threshold_from_json(j, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "clear: 40000 is below rise 50000"));
	json_object_set_new(j, "clear", json_integer(60000));
	json_object_set_new(j, "kind", json_string("middle"));
	assert_int_equal(threshold_from_json(j, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "kind: 'middle'"));
	json_object_set_new(j, "kind", json_string("low"));
	json_object_set_new(j, "extra", json_true());
	assert_int_equal(threshold_from_json(j, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "extra: unknown field"));
	json_decref(j);
}

static void test_ring_ack(void **state)
{
	struct instr_ring r;
	json_t *j;
	size_t i;

	assert_int_equal(instr_ring_init(&r, 8), 0);
	assert_int_equal(instr_ring_push(&r, 100, INSTR_EV_AGENT_START, NULL), 1);
	assert_int_equal(instr_ring_push(&r, 101, INSTR_EV_BOOT, json_pack("{s:i}", "x", 1)), 2);
	assert_int_equal(instr_ring_push(&r, 102, INSTR_EV_THR_RAISE, NULL), 3);
	j = instr_ring_json(&r, 256);
	/* Each event's severity follows its type; the ring has no publisher here. */
	assert_json(j, "[{\"seq\": 1, \"time\": 100, \"type\": \"agent.start\", \"attrs\": {},"
		       " \"severity\": \"info\"},"
		       " {\"seq\": 2, \"time\": 101, \"type\": \"boot\", \"attrs\": {\"x\": 1},"
		       " \"severity\": \"info\"},"
		       " {\"seq\": 3, \"time\": 102, \"type\": \"threshold.raise\", \"attrs\": {},"
		       " \"severity\": \"warning\"}]");
	/* Round trip of one event. */
	{
		struct instr_event e;
		char err[256];
		assert_int_equal(instr_event_from_json(json_array_get(j, 1), &e, err, sizeof(err)),
				 0);
		assert_true(e.seq == 2 && e.time == 101);
		assert_string_equal(e.type, "boot");
		assert_int_equal(json_integer_value(json_object_get(e.attrs, "x")), 1);
		json_decref(e.attrs);
		json_t *bad = json_pack("{s:i, s:i, s:s}", "seq", 0, "time", 1, "type", "x");
		assert_int_equal(instr_event_from_json(bad, &e, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "seq: 0 is out of range"));
		json_decref(bad);
	}
	json_decref(j);
	assert_int_equal(instr_ring_ack(&r, 2, 103), 2);
	assert_int_equal(r.len, 1);
	assert_int_equal(instr_ring_at(&r, 0)->seq, 3);
	assert_int_equal(instr_ring_ack(&r, 2, 103), 0); /* repeated ack: nothing */
	assert_int_equal(instr_ring_ack(&r, 0, 103), 0);
	/* Sequence numbers go on without gaps. */
	for (i = 0; i < 3; i++)
		assert_int_equal(instr_ring_push(&r, 104, INSTR_EV_BOOT, NULL), 4 + i);
	j = instr_ring_json(&r, 2); /* at most max, oldest first */
	assert_int_equal(json_array_size(j), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "seq")), 3);
	json_decref(j);
	assert_int_equal(instr_ring_ack(&r, 1000, 105), 4);
	assert_int_equal(r.len, 0);
	instr_ring_free(&r);
}

static void test_ring_overflow(void **state)
{
	struct instr_ring r;
	const struct instr_event *e;
	uint64_t i;

	assert_int_equal(instr_ring_init(&r, 4), 0);
	for (i = 1; i <= 10; i++)
		assert_int_equal(instr_ring_push(&r, (int64_t)i, INSTR_EV_BOOT, NULL), i);
	/* 1..6 dropped, oldest first; 7..10 kept. */
	assert_int_equal(r.len, 4);
	assert_int_equal(instr_ring_at(&r, 0)->seq, 7);
	assert_int_equal(r.lost, 6);
	assert_int_equal(r.lost_total, 6);
	/* An ack makes room: the loss is recorded as one event. */
	assert_int_equal(instr_ring_ack(&r, 8, 50), 2);
	assert_int_equal(r.len, 3);
	e = instr_ring_at(&r, 2);
	assert_string_equal(e->type, INSTR_EV_EVENTS_LOST);
	assert_int_equal(e->seq, 11);
	assert_int_equal(e->time, 50);
	assert_json(e->attrs, "{\"count\": 6, \"first_seq\": 1, \"last_seq\": 6}");
	assert_int_equal(r.lost, 0);
	assert_int_equal(instr_ring_push(&r, 51, INSTR_EV_BOOT, NULL), 12);
	instr_ring_free(&r);
	assert_int_equal(instr_ring_init(&r, 0), -EINVAL);
}

static struct instr_dev dev(enum instr_avail a, enum instr_run run)
{
	struct instr_dev d;

	memset(&d, 0, sizeof(d));
	snprintf(d.path, sizeof(d.path), "cpu/cpu1");
	snprintf(d.cls, sizeof(d.cls), "cpu");
	d.avail = a;
	d.run = run;
	return d;
}

/* Every op in every state: allowed, or refused with the reason. */
static void test_device_rules(void **state)
{
	static const struct {
		enum instr_avail a;
		enum instr_run run;
		const char *ops;          /* allowed, in op order */
		enum instr_op probe;      /* one refused op ... */
		const char *reason;       /* ... and what it says */
	} cases[] = {
		{ INSTR_ENABLED, INSTR_ONLINE, "offline shutdown audit", INSTR_OP_DIAG,
		  "cpu/cpu1: cannot diag: diag is intrusive and runs only on an offline device (it "
		  "is online)" },
		{ INSTR_ENABLED, INSTR_OFFLINE, "disable online shutdown diag", INSTR_OP_AUDIT,
		  "cpu/cpu1: cannot audit: audit runs only on an online device (it is offline)" },
		{ INSTR_ENABLED, INSTR_INACTIVE, "disable online", INSTR_OP_SHUTDOWN,
		  "cpu/cpu1: cannot shutdown: it is already inactive (it is inactive)" },
		{ INSTR_DISABLED, INSTR_OFFLINE, "enable shutdown diag", INSTR_OP_ONLINE,
		  "cpu/cpu1: cannot online: it is disabled: enable it first" },
		{ INSTR_DISABLED, INSTR_ONLINE, "enable offline shutdown audit", INSTR_OP_DISABLE,
		  "cpu/cpu1: cannot disable: it is already disabled" },
		{ INSTR_ENABLED, INSTR_ONLINE, "offline shutdown audit", INSTR_OP_DISABLE,
		  "cpu/cpu1: cannot disable: it is online: take it offline first (it is online)" },
		{ INSTR_ENABLED, INSTR_ONLINE, "offline shutdown audit", INSTR_OP_ENABLE,
		  "cpu/cpu1: cannot enable: it is already enabled" },
		{ INSTR_ENABLED, INSTR_OFFLINE, "disable online shutdown diag", INSTR_OP_OFFLINE,
		  "cpu/cpu1: cannot offline: it is not online (it is offline)" },
	};
	char buf[256], ops[128];
	size_t i;
	int op;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct instr_dev d = dev(cases[i].a, cases[i].run);
		unsigned mask = instr_dev_ops(&d);
		const char *why;

		ops[0] = '\0';
		for (op = 0; op < INSTR_OP_COUNT; op++)
			if (mask & (1u << op))
				snprintf(ops + strlen(ops), sizeof(ops) - strlen(ops), "%s%s",
					 ops[0] ? " " : "", instr_op_name(op));
		if (strcmp(ops, cases[i].ops))
			fail_msg("case %zu: ops '%s', want '%s'", i, ops, cases[i].ops);
		why = instr_dev_refusal(&d, cases[i].probe, buf, sizeof(buf));
		assert_non_null(why);
		if (strcmp(why, cases[i].reason))
			fail_msg("case %zu: reason '%s', want '%s'", i, why, cases[i].reason);
	}
	/* What the device can never do comes first. */
	{
		struct instr_dev d = dev(INSTR_ENABLED, INSTR_ONLINE);
		snprintf(d.cannot[INSTR_OP_OFFLINE], sizeof(d.cannot[0]),
			 "the boot CPU cannot go offline (no online file)");
		assert_string_equal(instr_dev_refusal(&d, INSTR_OP_OFFLINE, buf, sizeof(buf)),
				    "cpu/cpu1: cannot offline: the boot CPU cannot go offline (no "
				    "online file)");
		assert_false(instr_dev_ops(&d) & (1u << INSTR_OP_OFFLINE));
		assert_non_null(instr_dev_refusal(&d, INSTR_OP_COUNT, buf, sizeof(buf)));
	}
}

static void test_device_json(void **state)
{
	struct instr_dev d = dev(INSTR_ENABLED, INSTR_ONLINE), back;
	char err[256];
	json_t *j;

	d.stats = json_pack("{s:i}", "user_ms", 10);
	d.audit.done = 1;
	d.audit.pass = 1;
	d.audit.time = 1795240000;
	snprintf(d.audit.detail, sizeof(d.audit.detail), "ran on cpu1");
	j = instr_dev_to_json(&d);
	assert_json(j, "{\"path\": \"cpu/cpu1\", \"class\": \"cpu\", \"avail\": \"enabled\", "
		       "\"run\": \"online\", \"ops\": [\"offline\", \"shutdown\", \"audit\"], "
		       "\"stats\": {\"user_ms\": 10}, \"audit\": {\"result\": \"pass\", "
		       "\"time\": 1795240000, \"detail\": \"ran on cpu1\"}}");
	assert_int_equal(instr_dev_from_json(j, &back, err, sizeof(err)), 0);
	assert_string_equal(back.path, "cpu/cpu1");
	assert_true(back.avail == INSTR_ENABLED && back.run == INSTR_ONLINE && back.audit.done &&
		    back.audit.pass && !back.diag.done);
	assert_true(json_equal(back.stats, d.stats));
	instr_dev_clear(&back);
	json_object_set_new(j, "run", json_string("running"));
	assert_int_equal(instr_dev_from_json(j, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "run: 'running'"));
	json_object_set_new(j, "run", json_string("online"));
	json_object_set_new(json_object_get(j, "audit"), "result", json_string("maybe"));
	assert_int_equal(instr_dev_from_json(j, &back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "audit: result: 'maybe'"));
	json_decref(j);
	instr_dev_clear(&d);
}

static int parse(const char *text, struct instr_cmd *c, json_int_t *id, char *err, size_t len)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	int rc;

	assert_non_null(j);
	rc = instr_cmd_parse(j, c, id, err, len);
	json_decref(j);
	return rc;
}

static void test_commands(void **state)
{
	static const struct {
		const char *json;
		const char *err; /* NULL: accepted */
	} cases[] = {
		{ "{\"id\": 1, \"op\": \"reboot\", \"args\": {}}", NULL },
		{ "{\"id\": 2, \"op\": \"poweroff\"}", NULL },
		{ "{\"id\": 3, \"op\": \"threshold.set\", \"args\": {\"value\": \"kern.mem.free_kb\", "
		  "\"kind\": \"low\", \"rise\": 50000, \"clear\": 60000}}",
		  NULL },
		{ "{\"id\": 4, \"op\": \"threshold.set\", \"args\": {\"value\": \"kern.mem.free_kb\", "
		  "\"kind\": \"low\", \"rise\": 50000, \"clear\": 40000}}",
		  "args: clear: 40000 is below rise 50000" },
		{ "{\"id\": 5, \"op\": \"threshold.clear\", \"args\": {\"value\": \"a.b\", "
		  "\"kind\": \"high\"}}",
		  NULL },
		{ "{\"id\": 6, \"op\": \"watermarks.reset\", \"args\": {}}", NULL },
		{ "{\"id\": 7, \"op\": \"device\", \"args\": {\"path\": \"cpu/cpu1\", \"op\": "
		  "\"offline\"}}",
		  NULL },
		{ "{\"id\": 8, \"op\": \"device\", \"args\": {\"path\": \"cpu/cpu1\", \"op\": "
		  "\"explode\"}}",
		  "args: op: 'explode' must be" },
		{ "{\"id\": 9, \"op\": \"sysctl.set\", \"args\": {\"name\": \"vm.swappiness\", "
		  "\"value\": 10}}",
		  NULL },
		{ "{\"id\": 10, \"op\": \"sysctl.set\", \"args\": {\"name\": \"../etc/passwd\", "
		  "\"value\": \"x\"}}",
		  "args: name: '../etc/passwd' must be a dotted sysctl name" },
		{ "{\"id\": 11, \"op\": \"config.reload\"}", NULL },
		{ "{\"id\": 12, \"op\": \"selfdestruct\"}",
		  "op: 'selfdestruct' is not a command this agent knows" },
		{ "{\"id\": 13, \"op\": \"reboot\", \"args\": {\"now\": true}}",
		  "args: now: unknown field" },
		{ "{\"id\": 14, \"op\": \"reboot\", \"args\": []}", "args: must be an object" },
		{ "{\"id\": 15, \"op\": \"reboot\", \"extra\": 1}", "extra: unknown field" },
		{ "{\"op\": \"reboot\"}", "id: missing" },
	};
	struct instr_cmd c;
	json_int_t id;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;
		err[0] = '\0';
		rc = parse(cases[i].json, &c, &id, err, sizeof(err));
		if (!cases[i].err && rc)
			fail_msg("case %zu refused: %s", i, err);
		if (cases[i].err && (!rc || !strstr(err, cases[i].err)))
			fail_msg("case %zu: rc %d err '%s', want '%s'", i, rc, err, cases[i].err);
		if (cases[i].err && !strstr(cases[i].json, "\"id\""))
			assert_int_equal(id, -1);
		else
			assert_int_equal(id, (json_int_t)i + 1);
	}
	/* Round trip through instr_cmd_to_json(). */
	assert_int_equal(parse(cases[2].json, &c, &id, err, sizeof(err)), 0);
	assert_int_equal(c.op, INSTR_CMD_THR_SET);
	assert_true(c.thr.rise == 50000 && c.thr.clear == 60000 && c.thr.samples == 1);
	{
		json_t *j = instr_cmd_to_json(&c);
		struct instr_cmd back;
		assert_int_equal(instr_cmd_parse(j, &back, &id, err, sizeof(err)), 0);
		assert_true(back.thr.rise == c.thr.rise && back.thr.kind == INSTR_THR_LOW);
		json_decref(j);
	}
	assert_int_equal(parse(cases[8].json, &c, &id, err, sizeof(err)), 0);
	assert_string_equal(c.sysctl_value, "10");
	{
		json_t *r = instr_result_err(4, "x: bad");
		assert_json(r, "{\"id\": 4, \"ok\": false, \"error\": \"x: bad\"}");
		json_decref(r);
		r = instr_result_ok(5, NULL);
		assert_json(r, "{\"id\": 5, \"ok\": true, \"result\": null}");
		json_decref(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds_and_names),
		cmocka_unit_test(test_tree_every_kind),
		cmocka_unit_test(test_watermarks),
		cmocka_unit_test(test_threshold_check_messages),
		cmocka_unit_test(test_threshold_high_boundaries),
		cmocka_unit_test(test_threshold_low_boundaries),
		cmocka_unit_test(test_threshold_equal_rise_clear),
		cmocka_unit_test(test_threshold_samples),
		cmocka_unit_test(test_threshold_reset_keeps_state),
		cmocka_unit_test(test_threshold_json),
		cmocka_unit_test(test_ring_ack),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_event_severity_publisher),
		cmocka_unit_test(test_ring_overflow),
		cmocka_unit_test(test_device_rules),
		cmocka_unit_test(test_device_json),
		cmocka_unit_test(test_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
