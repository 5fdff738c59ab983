/* The stream's value filter: what ?values= and &full= accept and what they let through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "stream.h"

static json_t *update(void)
{
	return json_pack("{s:{s:f, s:i, s:i, s:i}, s:{s:{s:f, s:f}, s:{s:i, s:i}}, s:I, s:[{s:s}]}",
			 "values", "vm.load.avg1", 0.5, "kern.mem.free_kb", 100, "kern.mem.total_kb", 200,
			 "sys.boots", 3,
			 "watermarks", "vm.load.avg1", "low", 0.1, "high", 0.9, "sys.boots", "low", 1, "high", 3,
			 "last_seen", (json_int_t)1795240000, "thresholds", "value", "sys.boots");
}

static void test_parse_refusals(void **state)
{
	struct stream_filter f;
	char err[200], many[64 * 4 + 8] = "";
	int i;

	(void)state;
	assert_int_equal(stream_filter_parse(&f, "vm.load avg1", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'vm.load avg1' is not a value name"));
	assert_int_equal(f.on, 0);
	assert_int_equal(stream_filter_parse(&f, "a*b", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(stream_filter_parse(&f, "vm.*", "Not_A_Node", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "full: 'Not_A_Node' is not a node name"));
	for (i = 0; i < 65; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "v%d,", i);
	assert_int_equal(stream_filter_parse(&f, many, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most 64"));
	/* 64 is allowed; empty items (a trailing comma) are not names. */
	many[0] = 0;
	for (i = 0; i < 64; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "v%d,", i);
	assert_int_equal(stream_filter_parse(&f, many, NULL, err, sizeof(err)), 0);
	assert_int_equal(f.nvalues, 64);
	stream_filter_free(&f);
	/* Neither given: no filter at all. */
	assert_int_equal(stream_filter_parse(&f, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(f.on, 0);
}

static void test_cut(void **state)
{
	struct stream_filter f;
	char err[200];
	json_t *u = update(), *out;

	(void)state;
	assert_int_equal(stream_filter_parse(&f, "vm.*,kern.mem.free_kb", NULL, err, sizeof(err)), 0);
	out = stream_filter_update(&f, "sim0001", u);
	assert_int_equal(json_object_size(json_object_get(out, "values")), 2);
	assert_non_null(json_object_get(json_object_get(out, "values"), "vm.load.avg1"));
	assert_non_null(json_object_get(json_object_get(out, "values"), "kern.mem.free_kb"));
	assert_null(json_object_get(json_object_get(out, "values"), "sys.boots"));
	assert_int_equal(json_object_size(json_object_get(out, "watermarks")), 1);
	/* The rest of the update is untouched. */
	assert_int_equal(json_integer_value(json_object_get(out, "last_seen")), 1795240000);
	assert_int_equal(json_array_size(json_object_get(out, "thresholds")), 1);
	/* The input is not changed. */
	assert_int_equal(json_object_size(json_object_get(u, "values")), 4);
	json_decref(out);
	stream_filter_free(&f);
	json_decref(u);
}

static void test_full_and_none(void **state)
{
	struct stream_filter f;
	char err[200];
	json_t *u = update(), *out;

	(void)state;
	/* values= empty: no values, except for the nodes asked whole. */
	assert_int_equal(stream_filter_parse(&f, "", "sim0002,sim0003", err, sizeof(err)), 0);
	out = stream_filter_update(&f, "sim0001", u);
	assert_int_equal(json_object_size(json_object_get(out, "values")), 0);
	json_decref(out);
	out = stream_filter_update(&f, "sim0003", u);
	assert_ptr_equal(out, u);
	json_decref(out);
	stream_filter_free(&f);
	/* full= alone: every node whole. */
	assert_int_equal(stream_filter_parse(&f, NULL, "sim0002", err, sizeof(err)), 0);
	out = stream_filter_update(&f, "sim0001", u);
	assert_true(json_equal(out, u));
	json_decref(out);
	stream_filter_free(&f);
	json_decref(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_full_and_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
