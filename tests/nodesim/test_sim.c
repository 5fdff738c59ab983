/*
 * host/nodesim/sim.c: the simulated agent.  Random walks (counters never go
 * back, gauges stay in range, attributes never move, a seed repeats a run),
 * and the agent's side of the protocol: thresholds with hysteresis from
 * commands, events kept until acknowledged, results resent until answered,
 * a repeated command not run twice, device refusals, reboot after the result,
 * sysctl refused unless allowed.
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

#include "jsonh.h"
#include "sim.h"

static int setup(void **state)
{
	struct sim_node *n = calloc(1, sizeof(*n));

	if (!n || sim_node_init(n, "sim0001", "02:aa:bb:00:00:01", 42) || sim_boot(n, 1000))
		return -1;
	*state = n;
	return 0;
}

static int teardown(void **state)
{
	sim_node_free(*state);
	free(*state);
	return 0;
}

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		print_error("bad test JSON: %s: %s\n", text, e.text);
	assert_non_null(j);
	return j;
}

/* Answer the report in flight with ans_text.  @ret the action mask. */
static unsigned answer(struct sim_node *n, const char *ans_text, int64_t now)
{
	json_t *ans = js(ans_text);
	unsigned act = sim_report_answered(n, ans, now);

	json_decref(ans);
	return act;
}

/* Send a report and answer it with ans_text; @ret the action mask. */
static unsigned exchange(struct sim_node *n, const char *ans_text, json_t **body_out)
{
	json_t *body = sim_report_body(n, 0), *ans = ans_text ? js(ans_text) : NULL;
	unsigned act;

	assert_non_null(body);
	act = sim_report_answered(n, ans, 1000);
	json_decref(ans);
	if (body_out)
		*body_out = body;
	else
		json_decref(body);
	return act;
}

/* The number of events of type in a report body. */
static int events_of(json_t *body, const char *type)
{
	json_t *e;
	size_t i;
	int c = 0;

	json_array_foreach(json_object_get(body, "events"), i, e)
		c += !strcmp(json_string_value(json_object_get(e, "type")), type);
	return c;
}

static json_t *result_of(json_t *body, json_int_t id)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(body, "results"), i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
	return NULL;
}

/*
 * The steady report written straight from the readings (simtext.c) is, byte
 * for byte, what the tree gives dumped as nodes send it: two nodes with the
 * same seed, one through each, over many steps and readings of every size.
 */
static void test_report_text(void **state)
{
	struct sim_node *a = *state, *b = calloc(1, sizeof(*b));
	static const double odd[] = { 1e20, 1.5e-7, 0.5, 1e15, 123456789012345.6, -0.0, 2.0,
				      1e-300, 7e22, 0.1 };
	size_t i, k, len, fast = 0;
	char *ta, *tb;
	json_t *body;
	int step;

	assert_non_null(b);
	assert_int_equal(sim_node_init(b, "sim0001", "02:aa:bb:00:00:01", 42), 0);
	assert_int_equal(sim_boot(b, 1000), 0);
	json_decref(sim_register_body(a));
	json_decref(sim_register_body(b));
	sim_registered(a);
	sim_registered(b);
	for (step = 0; step < 400; step++) {
		double dt = 0.01 * (double)(step % 300);
		sim_step(a, dt, 1000 + step);
		sim_step(b, dt, 1000 + step);
		if (step % 7 == 0)
			for (i = 0, k = (size_t)step / 7; i < sim_ndefs; i++)
				if (!sim_defs[i].def.integer && sim_defs[i].def.kind == INSTR_GAUGE)
					a->v[i] = b->v[i] = odd[k++ % (sizeof(odd) / sizeof(odd[0]))];
		fast += !a->thr_dirty && !a->dev_dirty && !a->ring.len &&
			!json_array_size(a->results);
		ta = sim_report_text(a, 0, &len);
		body = sim_report_body(b, 0);
		tb = jsonh_dump_wire(body);
		assert_non_null(ta);
		assert_non_null(tb);
		assert_string_equal(ta, tb);
		assert_int_equal(len, strlen(tb));
		assert_int_equal(a->seq, b->seq);
		free(ta);
		free(tb);
		json_decref(body);
		assert_int_equal(answer(a, "{\"ack_events\": 1000}", 1000 + step), answer(b, "{\"ack_events\": 1000}", 1000 + step));
	}
	assert_true(fast > 300); /* most were the steady report */
	sim_node_free(b);
	free(b);
}

static void test_walks(void **state)
{
	struct sim_node *n = *state, *m = calloc(1, sizeof(*m));
	double *prev = calloc(sim_ndefs, sizeof(double));
	size_t i, step;

	assert_non_null(m);
	assert_non_null(prev);
	assert_true(sim_ndefs >= 40);
	memcpy(prev, n->v, sim_ndefs * sizeof(double));
	for (step = 0; step < 20000; step++) {
		/* Steps of every size, including none and very long ones. */
		double dt = step % 100 == 0 ? 0 : step % 97 == 0 ? 3600 : 0.01 * (double)(step % 300);
		sim_step(n, dt, 1000 + (int64_t)step);
		for (i = 0; i < sim_ndefs; i++) {
			const struct sim_def *d = &sim_defs[i];
			if (d->def.kind == INSTR_COUNTER && n->v[i] < prev[i]) {
				print_error("step %zu: counter %s went back: %f -> %f\n", step,
					    d->def.name, prev[i], n->v[i]);
				fail();
			}
			if (d->def.kind == INSTR_ATTRIBUTE && n->v[i] != prev[i]) {
				print_error("attribute %s moved: %f -> %f\n", d->def.name, prev[i],
					    n->v[i]);
				fail();
			}
			if (d->def.kind == INSTR_GAUGE && (n->v[i] < d->lo || n->v[i] > d->hi)) {
				print_error("step %zu: gauge %s = %f outside [%f, %f]\n", step,
					    d->def.name, n->v[i], d->lo, d->hi);
				fail();
			}
			if (d->def.integer && n->v[i] != floor(n->v[i])) {
				print_error("%s = %f is not an integer\n", d->def.name, n->v[i]);
				fail();
			}
			if (d->def.kind == INSTR_GAUGE &&
			    (n->wm[i].low > n->v[i] || n->wm[i].high < n->v[i])) {
				print_error("%s = %f outside its watermarks [%f, %f]\n", d->def.name,
					    n->v[i], n->wm[i].low, n->wm[i].high);
				fail();
			}
		}
		memcpy(prev, n->v, sim_ndefs * sizeof(double));
	}
	/* Gauges moved, counters grew. */
	assert_true(n->v[sim_value_index("net.eth0.rx_bytes")] > sim_defs[sim_value_index("net.eth0.rx_bytes")].init * 0.5);
	assert_true(n->wm[sim_value_index("vm.load.avg1")].high > n->wm[sim_value_index("vm.load.avg1")].low);
	/* The same seed gives the same run. */
	assert_int_equal(sim_node_init(m, "sim0001", "02:aa:bb:00:00:01", 42), 0);
	assert_int_equal(sim_boot(m, 1000), 0);
	for (step = 0; step < 20000; step++) {
		double dt = step % 100 == 0 ? 0 : step % 97 == 0 ? 3600 : 0.01 * (double)(step % 300);
		sim_step(m, dt, 1000 + (int64_t)step);
	}
	assert_memory_equal(m->v, n->v, sim_ndefs * sizeof(double));
	assert_string_equal(m->boot_id, n->boot_id);
	sim_node_free(m);
	free(m);
	free(prev);
}

static void test_register_and_report_shape(void **state)
{
	struct sim_node *n = *state;
	json_t *reg = sim_register_body(n), *body, *schema = json_object_get(reg, "schema"), *e;
	size_t i;

	assert_int_equal(json_array_size(schema), sim_ndefs);
	json_array_foreach(schema, i, e) {
		char err[128];
		struct instr_def d;
		assert_int_equal(instr_def_from_json(e, &d, err, sizeof(err)), 0);
	}
	json_decref(reg);
	sim_registered(n);
	body = sim_report_body(n, 0);
	assert_int_equal(json_integer_value(json_object_get(body, "seq")), 1);
	assert_int_equal(json_object_size(json_object_get(body, "values")), sim_ndefs);
	assert_non_null(json_object_get(body, "devices"));
	assert_non_null(json_object_get(body, "thresholds"));
	/* boot and agent.start, seq 1 and 2 */
	assert_int_equal(json_array_size(json_object_get(body, "events")), 2);
	assert_int_equal(events_of(body, "boot"), 1);
	json_decref(body);
	/* Answered, with the events acknowledged: the next report has none, and no devices. */
	assert_int_equal(sim_report_answered(n, NULL, 1000), SIM_ACT_NONE);
	body = sim_report_body(n, 0);
	assert_int_equal(json_array_size(json_object_get(body, "events")), 2);
	assert_null(json_object_get(body, "devices"));
	json_decref(body);
	assert_int_equal(exchange(n, "{\"ack_events\": 2}", NULL), SIM_ACT_NONE);
	assert_int_equal(exchange(n, "{\"ack_events\": 2}", &body), SIM_ACT_NONE);
	assert_int_equal(json_array_size(json_object_get(body, "events")), 0);
	assert_int_equal(json_integer_value(json_object_get(body, "seq")), 4);
	json_decref(body);
}

static void test_threshold_commands(void **state)
{
	struct sim_node *n = *state;
	json_t *body, *r, *t;
	unsigned act;
	int k = sim_value_index("kern.mem.free_kb");

	assert_int_equal(exchange(n, "{\"ack_events\": 2}", NULL), SIM_ACT_NONE);
	/* A low threshold above any possible reading raises at the next sample. */
	act = exchange(n, "{\"ack_events\": 2, \"commands\": [{\"id\": 7, \"op\": \"threshold.set\","
			  " \"args\": {\"value\": \"kern.mem.free_kb\", \"kind\": \"low\","
			  " \"rise\": 5000000, \"clear\": 6000000}}]}", NULL);
	assert_int_equal(act, SIM_ACT_SOON);
	sim_step(n, 1, 1001);
	body = sim_report_body(n, 0);
	r = result_of(body, 7);
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(events_of(body, "threshold.raise"), 1);
	t = json_array_get(json_object_get(body, "thresholds"), 0);
	assert_string_equal(json_string_value(json_object_get(t, "state")), "raised");
	json_decref(body);
	assert_int_equal(answer(n, "{\"ack_events\": 99}", 1001) & ~SIM_ACT_SOON, 0);
	/* Delivered: gone from the next report.  Within hysteresis: no new event. */
	sim_step(n, 1, 1002);
	body = sim_report_body(n, 0);
	assert_null(result_of(body, 7));
	assert_int_equal(events_of(body, "threshold.raise"), 0);
	json_decref(body);
	sim_report_answered(n, NULL, 1002);
	/* Set again with a clear below the reading: it clears (state kept, then cleared). */
	n->v[k] = 3000000;
	exchange(n, "{\"commands\": [{\"id\": 8, \"op\": \"threshold.set\", \"args\": {\"value\":"
		    " \"kern.mem.free_kb\", \"kind\": \"low\", \"rise\": 100000, \"clear\": 150000}}]}",
		 NULL);
	sim_step(n, 0, 1003);
	body = sim_report_body(n, 0);
	assert_int_equal(events_of(body, "threshold.clear"), 1);
	json_decref(body);
	sim_report_failed(n);
	/* Not answered: the result and the event go again. */
	sim_step(n, 0, 1003);
	body = sim_report_body(n, 0);
	assert_non_null(result_of(body, 8));
	assert_int_equal(events_of(body, "threshold.clear"), 1);
	json_decref(body);
	sim_report_answered(n, NULL, 1003);
	/* Refusals name the field; nothing changes. */
	exchange(n, "{\"commands\": ["
		    "{\"id\": 9, \"op\": \"threshold.set\", \"args\": {\"value\": \"kern.mem.total_kb\","
		    " \"kind\": \"high\", \"rise\": 1, \"clear\": 1}},"
		    "{\"id\": 10, \"op\": \"threshold.set\", \"args\": {\"value\": \"kern.mem.free_kb\","
		    " \"kind\": \"high\", \"rise\": 10, \"clear\": 20}},"
		    "{\"id\": 11, \"op\": \"threshold.clear\", \"args\": {\"value\": \"hw.temp.cpu\","
		    " \"kind\": \"high\"}},"
		    "{\"id\": 12, \"op\": \"threshold.set\", \"args\": {\"value\": \"no.such\","
		    " \"kind\": \"high\", \"rise\": 1, \"clear\": 1}}]}",
		 NULL);
	body = sim_report_body(n, 0);
	assert_string_equal(json_string_value(json_object_get(result_of(body, 9), "error")),
			    "args.value: kern.mem.total_kb is an attribute, not a gauge");
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 10), "error")),
			       "clear"));
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 11), "error")),
			       "no high threshold on hw.temp.cpu"));
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 12), "error")),
			       "no value 'no.such'"));
	/* Nothing changed, so the report leaves the thresholds out. */
	assert_null(json_object_get(body, "thresholds"));
	assert_true(n->thr[0].enabled);
	assert_false(n->thr[1].enabled);
	json_decref(body);
	sim_report_answered(n, NULL, 1004);
	/* threshold.clear forgets it. */
	exchange(n, "{\"commands\": [{\"id\": 13, \"op\": \"threshold.clear\", \"args\": "
		    "{\"value\": \"kern.mem.free_kb\", \"kind\": \"low\"}}]}", NULL);
	body = sim_report_body(n, 0);
	assert_true(json_is_true(json_object_get(result_of(body, 13), "ok")));
	assert_int_equal(json_array_size(json_object_get(body, "thresholds")), 0);
	json_decref(body);
}

static void test_repeated_command_runs_once(void **state)
{
	struct sim_node *n = *state;
	const char *cmd = "{\"commands\": [{\"id\": 21, \"op\": \"device\", \"args\": "
			  "{\"path\": \"cpu/cpu1\", \"op\": \"offline\"}}]}";
	json_t *body, *r;

	exchange(n, cmd, NULL);
	body = sim_report_body(n, 0);
	r = result_of(body, 21);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(events_of(body, "device.state"), 1);
	assert_int_equal(n->v[sim_value_index("hw.cpu.online")], 3);
	json_decref(body);
	/* The answer to that report repeats the command (the result was lost, say). */
	sim_report_failed(n);
	answer(n, cmd, 1000);
	body = sim_report_body(n, 0);
	/* Once in results, not run again: a second offline would have been refused. */
	assert_int_equal(json_array_size(json_object_get(body, "results")), 1);
	assert_true(json_is_true(json_object_get(result_of(body, 21), "ok")));
	json_decref(body);
	sim_report_answered(n, NULL, 1000);
	answer(n, cmd, 1000);
	body = sim_report_body(n, 0);
	assert_true(json_is_true(json_object_get(result_of(body, 21), "ok")));
	assert_int_equal(events_of(body, "device.state"), 1);
	json_decref(body);
}

static void test_device_refusals(void **state)
{
	struct sim_node *n = *state;
	json_t *body;

	exchange(n, "{\"commands\": ["
		    "{\"id\": 31, \"op\": \"device\", \"args\": {\"path\": \"cpu/cpu0\", \"op\": \"offline\"}},"
		    "{\"id\": 32, \"op\": \"device\", \"args\": {\"path\": \"cpu/cpu2\", \"op\": \"online\"}},"
		    "{\"id\": 33, \"op\": \"device\", \"args\": {\"path\": \"gpu/gpu0\", \"op\": \"online\"}},"
		    "{\"id\": 34, \"op\": \"device\", \"args\": {\"path\": \"net/eth0\", \"op\": \"offline\"}}]}",
		 NULL);
	body = sim_report_body(n, 0);
	assert_false(json_is_true(json_object_get(result_of(body, 31), "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 31), "error")),
			       "boot CPU"));
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 32), "error")),
			       "cpu/cpu2"));
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 33), "error")),
			       "no device 'gpu/gpu0'"));
	assert_true(json_is_true(json_object_get(result_of(body, 34), "ok")));
	json_decref(body);
}

static void test_reboot(void **state)
{
	struct sim_node *n = *state;
	char old[sizeof(n->boot_id)];
	json_t *body;
	unsigned act;

	snprintf(old, sizeof(old), "%s", n->boot_id);
	act = exchange(n, "{\"ack_events\": 2, \"commands\": [{\"id\": 41, \"op\": \"reboot\", \"args\": {}},"
			  " {\"id\": 42, \"op\": \"watermarks.reset\", \"args\": {}}]}", NULL);
	assert_int_equal(act, SIM_ACT_SOON);
	body = sim_report_body(n, 0);
	assert_true(json_is_true(json_object_get(result_of(body, 41), "ok")));
	/* What comes after the reboot waits for the next boot. */
	assert_null(result_of(body, 42));
	json_decref(body);
	/* Not down until the result was delivered. */
	sim_report_failed(n);
	body = sim_report_body(n, 0);
	json_decref(body);
	assert_int_equal(sim_report_answered(n, NULL, 1000), SIM_ACT_REBOOT);
	assert_int_equal(sim_boot(n, 1010), 0);
	assert_string_not_equal(n->boot_id, old);
	sim_registered(n);
	body = sim_report_body(n, 0);
	assert_int_equal(json_integer_value(json_object_get(body, "seq")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(body, "events"), 0), "seq")), 1);
	assert_int_equal(events_of(body, "boot"), 1);
	assert_int_equal(json_array_size(json_object_get(body, "results")), 0);
	json_decref(body);
}

static void test_sysctl_and_unknown(void **state)
{
	struct sim_node *n = *state;
	json_t *body;

	exchange(n, "{\"commands\": [{\"id\": 51, \"op\": \"sysctl.set\", \"args\": "
		    "{\"name\": \"vm.swappiness\", \"value\": \"10\"}}, {\"id\": 52, \"op\": \"explode\"}]}",
		 NULL);
	body = sim_report_body(n, 0);
	assert_non_null(strstr(json_string_value(json_object_get(result_of(body, 51), "error")),
			       "not on this node's sysctl.allow list"));
	assert_false(json_is_true(json_object_get(result_of(body, 52), "ok")));
	json_decref(body);
	sim_report_answered(n, NULL, 1000);
	snprintf(n->conf.sysctl_allow, sizeof(n->conf.sysctl_allow), "vm.swappiness");
	exchange(n, "{\"commands\": [{\"id\": 53, \"op\": \"sysctl.set\", \"args\": "
		    "{\"name\": \"vm.swappiness\", \"value\": \"10\"}}]}", NULL);
	body = sim_report_body(n, 0);
	assert_true(json_is_true(json_object_get(result_of(body, 53), "ok")));
	assert_int_equal(n->v[sim_value_index("vm.swappiness")], 10);
	json_decref(body);
}

static void test_spike_crosses(void **state)
{
	struct sim_node *n = *state;
	int i, raise = 0, clear = 0;
	json_t *body;

	assert_int_equal(sim_spike_setup(n), 0);
	for (i = 0; i < 10; i++) {
		sim_spike(n);
		sim_step(n, 1, 1000 + i);
	}
	body = sim_report_body(n, 0);
	raise = events_of(body, "threshold.raise");
	clear = events_of(body, "threshold.clear");
	assert_int_equal(raise, 5);
	assert_int_equal(clear, 5);
	json_decref(body);
	/* The configured threshold survives a reboot; host-set ones do not. */
	assert_int_equal(sim_boot(n, 2000), 0);
	assert_true(n->thr[0].enabled);
	assert_int_equal(n->thr[0].state, INSTR_THR_CLEAR);
}

static void test_conf_thresholds(void **state)
{
	struct sim_node *n = *state;
	struct ovl_conf c = { .nthr = 1 };
	char err[128];
	int k = sim_value_index("kern.mem.free_kb");

	assert_int_equal(threshold_set(&c.thr[0], "kern.mem.free_kb", INSTR_THR_LOW, 5000000,
				       5000000, 1, err, sizeof(err)), 0);
	assert_int_equal(sim_apply_conf(n, &c), 0);
	/* A host-set one beside it. */
	exchange(n, "{\"commands\": [{\"id\": 61, \"op\": \"threshold.set\", \"args\": "
		    "{\"value\": \"hw.temp.cpu\", \"kind\": \"high\", \"rise\": 1, \"clear\": 0}}]}",
		 NULL);
	sim_step(n, 1, 1001);
	assert_int_equal(n->thr[0].state, INSTR_THR_RAISED);
	assert_true(n->thr[1].enabled);
	/* A reboot keeps the configured one (cleared), forgets the host's. */
	assert_int_equal(sim_boot(n, 1002), 0);
	assert_true(n->thr[0].enabled);
	assert_string_equal(n->thr[0].value, "kern.mem.free_kb");
	assert_int_equal(n->thr[0].state, INSTR_THR_CLEAR);
	assert_false(n->thr[1].enabled);
	assert_true(n->v[k] < 5000000);
	/* A reload without it drops it. */
	c.nthr = 0;
	assert_int_equal(sim_apply_conf(n, &c), 0);
	assert_false(n->thr[0].enabled);
}

static void test_ring_overflow(void **state)
{
	struct sim_node *n = *state;
	json_t *body;
	int i;

	assert_int_equal(sim_spike_setup(n), 0);
	for (i = 0; i < 3 * SIM_RING_CAP; i++) {
		sim_spike(n);
		sim_step(n, 1, 1000 + i);
	}
	body = sim_report_body(n, 0);
	assert_int_equal(json_array_size(json_object_get(body, "events")), SIM_RING_CAP);
	json_decref(body);
	/* After the ack, the loss is recorded once, and counted in the values. */
	answer(n, "{\"ack_events\": 100000}", 2000);
	sim_step(n, 1, 2001);
	body = sim_report_body(n, 0);
	assert_int_equal(events_of(body, "events.lost"), 1);
	assert_true(json_integer_value(json_object_get(json_object_get(body, "values"),
						       "agent.events.lost")) > 0);
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_and_report_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threshold_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeated_command_runs_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_and_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spike_crosses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_thresholds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_text, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
