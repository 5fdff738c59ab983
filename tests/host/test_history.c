/* A node's gauge history: slots, the JSON consoles plot, rebase onto a new schema. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "history.h"

/* Two gauges and a counter, parsed as snowd parses a node's schema. */
static struct report_schema schema(const char *a, const char *b)
{
	json_t *j = json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", a, "kind", "gauge",
			      "name", b, "kind", "gauge", "name", "rx", "kind", "counter");
	struct report_schema s;
	char err[256];

	assert_int_equal(report_schema_parse(j, &s, err, sizeof(err)), 0);
	json_decref(j);
	return s;
}

/* A report's values (JSON text), parsed as snowd parses a report, taken at t. */
static void add(struct history *h, const char *values, int64_t t)
{
	json_t *body = json_pack("{s:o}", "values", json_loads(values, 0, NULL));
	struct report_state r;
	char err[256];

	memset(&r, 0, sizeof(r));
	assert_non_null(body);
	assert_int_equal(report_check(body, &r, err, sizeof(err)), 0);
	history_add(h, &r, t);
	report_state_free(&r);
	json_decref(body);
}

static void assert_json(json_t *got, const char *want)
{
	char *s = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

	if (strcmp(s, want))
		fail_msg("got %s\nwant %s", s, want);
	free(s);
}

static void test_slots_and_rebase(void **state)
{
	struct report_schema s1 = schema("temp", "load"), s2 = schema("temp", "fan");
	struct history *h = history_new(&s1), *h2;
	json_t *j;

	(void)state;
	add(h, "{\"temp\": 40, \"load\": 1}", 1000);
	add(h, "{\"temp\": 42}", 1010);
	add(h, "{\"temp\": 44, \"load\": 3}", 1030);
	j = history_json(h);
	assert_json(j, "{\"step_s\":30,\"t\":[990,1020],\"values\":{\"load\":[1.0,3.0],\"temp\":[41.0,44.0]}}");
	json_decref(j);
	h2 = history_rebase(h, &s2);
	j = history_json(h2);
	assert_json(j, "{\"step_s\":30,\"t\":[990,1020],\"values\":{\"fan\":[null,null],\"temp\":[41.0,44.0]}}");
	json_decref(j);
	history_free(h);
	history_free(h2);
	report_schema_free(&s1);
	report_schema_free(&s2);
}

/*
 * A reading beyond float's range became inf in its slot, which json_real()
 * refuses: that column came out one entry short of the times, so a console
 * plotted every later reading at the wrong time (found by tests/fuzz/history.c).
 */
static void test_reading_beyond_float(void **state)
{
	struct report_schema s = schema("temp", "load");
	struct history *h = history_new(&s);
	json_t *j;

	(void)state;
	add(h, "{\"temp\": 1e39, \"load\": -1e300}", 1000);
	add(h, "{\"temp\": 10, \"load\": 2}", 1030);
	add(h, "{\"temp\": 1e300}", 1040);
	j = history_json(h);
	assert_json(j, "{\"step_s\":30,\"t\":[990,1020],\"values\":{\"load\":[null,2.0],\"temp\":[null,10.0]}}");
	json_decref(j);
	history_free(h);
	report_schema_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_and_rebase),
		cmocka_unit_test(test_reading_beyond_float),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
