/* snow-subagent's model: snowd's node list into sorted MIB rows. */
#include <errno.h>
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

/* The n-th row of table in index order, walked as GETNEXT does. */
static const void *row_at(const struct model_snap *s, int table, size_t n)
{
	const netsnmp_index *x = model_row(s, table, NULL, 0, 1);

	while (x && n--)
		x = model_row(s, table, x->oids, x->len, 1);
	return x;
}

static void test_nodes_sorted_by_id(void **state)
{
	struct model_snap *s = build();

	assert_int_equal(s->nnodes, 2); /* "noid" left out */
	assert_int_equal(model_node_at(s, 0)->id, 3);
	assert_int_equal(model_node_at(s, 1)->id, 7);
	assert_int_equal(model_node_at(s, 1)->state, MODEL_ONLINE);
	assert_int_equal(model_node_at(s, 0)->state, MODEL_OFFLINE);
	assert_int_equal(model_node_at(s, 1)->ip[3], 17);
	assert_int_equal(model_node_at(s, 1)->mac[5], 7);
	assert_true(s->skipped >= 2); /* noid, bad name */
	assert_ptr_equal(model_find_node(s, 7), model_node_at(s, 1));
	assert_ptr_equal(row_at(s, MODEL_T_NODES, 1), model_node_at(s, 1));
	assert_null(row_at(s, MODEL_T_NODES, 2));
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
	for (i = 1; i < s->nvalues; i++) {
		const netsnmp_index *a = row_at(s, MODEL_T_VALUES, i - 1), *b = row_at(s, MODEL_T_VALUES, i);
		assert_true(snmp_oid_compare(a->oids, a->len, b->oids, b->len) < 0);
	}
	assert_null(row_at(s, MODEL_T_VALUES, 3));
	/* Length-prefixed strings: shorter names first. */
	v = row_at(s, MODEL_T_VALUES, 0);
	assert_string_equal(v->name, "sys.uptime_s");
	v = model_find_value(s, 7, "vm.load.avg1");
	assert_non_null(v);
	assert_int_equal(v->idx.len, 2 + strlen("vm.load.avg1"));
	assert_int_equal(v->idx.oids[0], 7);
	assert_int_equal(v->idx.oids[1], strlen("vm.load.avg1"));
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

static void test_thresholds_that_exist(void **state)
{
	struct model_snap *s = build();
	const struct model_thr *t;

	assert_int_equal(s->nthrs, 1); /* the node has one: no rows for the others */
	t = model_find_thr(s, 7, "kern.mem.free_kb", MODEL_LOW);
	assert_non_null(t);
	assert_true(t->enabled);
	assert_true(t->raised);
	assert_int_equal(t->samples, 3);
	assert_int_equal(model_fixed(t->rise, t->decimals), 50000);
	assert_null(model_find_thr(s, 7, "kern.mem.free_kb", MODEL_HIGH));
	assert_null(model_find_thr(s, 7, "sys.uptime_s", MODEL_HIGH));
	model_snap_free(s);
}

static void test_devices(void **state)
{
	struct model_snap *s = build();
	const struct model_dev *d;

	assert_int_equal(s->ndevs, 2);
	d = row_at(s, MODEL_T_DEVS, 0);
	assert_string_equal(d->path, "cpu/cpu0");
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

/* A GETNEXT from between rows, or from a node without rows, lands on the next row. */
static void test_next_between_rows(void **state)
{
	struct model_snap *s = build();
	const struct model_value *v;
	const struct model_node *n;
	oid key[MODEL_IDX_MAX];
	size_t len;

	/* Node 3 has no values: after (3) comes node 7's first. */
	key[0] = 3;
	v = model_row(s, MODEL_T_VALUES, key, 1, 1);
	assert_non_null(v);
	assert_int_equal(v->node_id, 7);
	assert_string_equal(v->name, "sys.uptime_s");
	assert_null(model_row(s, MODEL_T_VALUES, key, 1, 0));
	/* After node 7's last value (the longest name): nothing. */
	len = model_index(7, "kern.mem.free_kb", 0, key);
	assert_null(model_row(s, MODEL_T_VALUES, key, len, 1));
	/* Between nodes 3 and 7 in the node table, and past the end. */
	key[0] = 3;
	key[1] = 9;
	n = model_row(s, MODEL_T_NODES, key, 2, 1);
	assert_non_null(n);
	assert_int_equal(n->id, 7);
	key[0] = 8;
	assert_null(model_row(s, MODEL_T_NODES, key, 1, 1));
	model_snap_free(s);
}

/* Blocks are shared: a snapshot made of them holds its own references. */
static void test_blocks_shared(void **state)
{
	json_t *n = json_pack("{s:i, s:s, s:s, s:[{s:s, s:s}], s:{s:f}}", "id", 5, "name", "e",
			      "state", "online", "schema", "name", "x.y", "kind", "gauge", "values",
			      "x.y", 1.5);
	struct model_block *b;
	struct model_snap *s1, *s2;
	char warn[128] = "";

	assert_int_equal(model_block_build(n, &b, warn, sizeof(warn)), 0);
	s1 = model_snap_from(&b, 1, 0);
	s2 = model_snap_from(&b, 1, 0);
	assert_int_equal(b->refs, 3);
	model_block_unref(b);
	model_snap_free(s1);
	assert_non_null(model_find_value(s2, 5, "x.y"));
	assert_int_equal(s2->nvalues, 1);
	model_snap_free(s2);
	json_decref(n);
	n = json_pack("{s:s}", "name", "noid");
	assert_int_equal(model_block_build(n, &b, warn, sizeof(warn)), -EINVAL);
	assert_non_null(strstr(warn, "no id"));
	json_decref(n);
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
		cmocka_unit_test(test_thresholds_that_exist),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_next_between_rows),
		cmocka_unit_test(test_blocks_shared),
		cmocka_unit_test(test_no_nodes_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
