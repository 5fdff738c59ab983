/* snow-subagent's model: snowd's node list into sorted MIB rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"

static const char *const body_text =
	"{\"nodes\":["
	"{\"id\":7,\"name\":\"b\",\"mac\":\"52:54:00:00:00:07\",\"ip\":\"127.0.0.17\","
	" \"image\":\"default\",\"state\":\"online\",\"hostname\":\"b\",\"last_seen\":100,"
	" \"online_since\":50,"
	" \"schema\":[{\"name\":\"vm.load.avg1\",\"oid\":\"2.1\",\"kind\":\"gauge\",\"unit\":\"\"},"
	"            {\"name\":\"kern.mem.free_kb\",\"kind\":\"gauge\",\"unit\":\"KiB\"},"
	"            {\"name\":\"sys.uptime_s\",\"kind\":\"counter\",\"unit\":\"s\"},"
	"            {\"name\":\"vm.load.avg1\",\"kind\":\"gauge\"},"
	"            {\"name\":\"bad name\",\"kind\":\"gauge\"}],"
	" \"values\":{\"vm.load.avg1\":0.08,\"kern.mem.free_kb\":201234,\"sys.uptime_s\":34},"
	" \"watermarks\":{\"vm.load.avg1\":[0.01,1.5],\"kern.mem.free_kb\":[180000,240000]},"
	" \"thresholds\":[{\"value\":\"kern.mem.free_kb\",\"kind\":\"low\",\"rise\":50000,"
	"                  \"clear\":60000,\"samples\":3,\"state\":\"raised\"}],"
	" \"devices\":[{\"path\":\"cpu/cpu1\",\"class\":\"cpu\",\"avail\":\"enabled\","
	"              \"run\":\"offline\",\"ops\":[\"online\",\"disable\"],"
	"              \"diag\":{\"result\":\"fail\",\"time\":90}},"
	"             {\"path\":\"cpu/cpu0\",\"class\":\"cpu\",\"avail\":\"disabled\","
	"              \"run\":\"inactive\",\"ops\":[\"enable\"]}]},"
	"{\"id\":3,\"name\":\"a\",\"mac\":\"52:54:00:00:00:03\",\"ip\":\"127.0.0.13\","
	" \"state\":\"offline\"},"
	"{\"name\":\"noid\",\"state\":\"online\"}"
	"]}";

static struct model_snap *build(void)
{
	json_error_t jerr;
	json_t *body = json_loads(body_text, 0, &jerr);
	char warn[256];
	struct model_snap *s;

	assert_non_null(body);
	s = model_snap_build(body, warn, sizeof(warn));
	json_decref(body);
	assert_non_null(s);
	return s;
}

static void test_nodes_sorted_by_id(void **state)
{
	struct model_snap *s = build();

	assert_int_equal(s->nnodes, 2); /* "noid" left out */
	assert_int_equal(s->nodes[0].id, 3);
	assert_int_equal(s->nodes[1].id, 7);
	assert_int_equal(s->nodes[1].state, MODEL_ONLINE);
	assert_int_equal(s->nodes[0].state, MODEL_OFFLINE);
	assert_int_equal(s->nodes[1].ip[3], 17);
	assert_int_equal(s->nodes[1].mac[5], 7);
	assert_true(s->skipped >= 2); /* noid, bad name */
	assert_ptr_equal(model_find_node(s, 7), &s->nodes[1]);
	assert_null(model_find_node(s, 4));
	model_snap_free(s);
}

static void test_values_indexed_and_scaled(void **state)
{
	struct model_snap *s = build();
	const struct model_value *v;
	size_t i;

	/* Duplicate and bad names dropped: three values. */
	assert_int_equal(s->nvalues, 3);
	for (i = 1; i < s->nvalues; i++)
		assert_true(snmp_oid_compare(s->values[i - 1].idx.oids, s->values[i - 1].idx.len,
					     s->values[i].idx.oids, s->values[i].idx.len) < 0);
	/* Length-prefixed strings: shorter names first. */
	assert_string_equal(s->values[0].name, "sys.uptime_s");
	v = model_find_value(s, 7, "vm.load.avg1");
	assert_non_null(v);
	assert_ptr_equal(v->idx.oids, v->sub);
	assert_int_equal(v->decimals, 2);
	assert_int_equal(model_fixed(v->v, v->decimals), 8);
	assert_int_equal(model_fixed(v->high, v->decimals), 150);
	assert_string_equal(v->oidstr, "2.1");
	v = model_find_value(s, 7, "kern.mem.free_kb");
	assert_non_null(v);
	assert_int_equal(v->decimals, 0);
	assert_int_equal(model_fixed(v->low, 0), 180000);
	v = model_find_value(s, 7, "sys.uptime_s");
	assert_int_equal(v->kind, MODEL_COUNTER);
	assert_int_equal(model_fixed(v->low, 0), 34); /* no watermarks: the reading */
	model_snap_free(s);
}

static void test_thresholds_for_every_gauge(void **state)
{
	struct model_snap *s = build();
	const struct model_thr *t;

	assert_int_equal(s->nthrs, 4); /* two gauges x high/low */
	t = model_find_thr(s, 7, "kern.mem.free_kb", MODEL_LOW);
	assert_non_null(t);
	assert_true(t->enabled);
	assert_true(t->raised);
	assert_int_equal(t->samples, 3);
	assert_int_equal(model_fixed(t->rise, t->decimals), 50000);
	t = model_find_thr(s, 7, "kern.mem.free_kb", MODEL_HIGH);
	assert_non_null(t);
	assert_false(t->enabled);
	assert_null(model_find_thr(s, 7, "sys.uptime_s", MODEL_HIGH));
	model_snap_free(s);
}

static void test_devices(void **state)
{
	struct model_snap *s = build();
	const struct model_dev *d;

	assert_int_equal(s->ndevs, 2);
	assert_string_equal(s->devs[0].path, "cpu/cpu0");
	d = model_find_dev(s, 7, "cpu/cpu1");
	assert_non_null(d);
	assert_true(d->enabled);
	assert_int_equal(d->run, MODEL_OFFLINE_RUN);
	assert_true(d->can_disable);
	assert_false(d->can_enable);
	assert_int_equal(d->diag.result, MODEL_CHECK_FAIL);
	assert_int_equal(d->diag.time, 90);
	assert_int_equal(d->audit.result, MODEL_CHECK_NONE);
	d = model_find_dev(s, 7, "cpu/cpu0");
	assert_false(d->enabled);
	assert_true(d->can_enable);
	model_snap_free(s);
}

static void test_numbers(void **state)
{
	char t[32];
	unsigned char d[11];

	assert_int_equal(model_fixed(1e12, 0), INT32_MAX);
	assert_int_equal(model_fixed(-1e12, 2), INT32_MIN);
	assert_int_equal(model_fixed(-0.125, 2), -13);
	assert_true(model_unfixed(250, 2) == 2.5);
	model_text(0.08, t, sizeof(t));
	assert_string_equal(t, "0.08");
	model_text(201234, t, sizeof(t));
	assert_string_equal(t, "201234");
	assert_int_equal(model_date(0, d), 8);
	assert_int_equal(d[0] | d[1] | d[2], 0);
	assert_int_equal(model_date(86400 * 365, d), 11); /* 1971-01-01 00:00:00 */
	assert_int_equal((d[0] << 8) | d[1], 1971);
	assert_int_equal(d[2], 1);
	assert_int_equal(d[8], '+');
}

static void test_no_nodes_array(void **state)
{
	json_t *body = json_pack("{s:i}", "nodes", 3);
	char err[128];

	assert_null(model_snap_build(body, err, sizeof(err)));
	assert_non_null(strstr(err, "nodes"));
	json_decref(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nodes_sorted_by_id),
		cmocka_unit_test(test_values_indexed_and_scaled),
		cmocka_unit_test(test_thresholds_for_every_gauge),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_no_nodes_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
