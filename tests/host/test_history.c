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

static json_t *schema(const char *a, const char *b)
{
	return json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "name", a, "kind", "gauge", "name",
			 b, "kind", "gauge", "name", "rx", "kind", "counter");
}

static void add(struct history *h, const char *json, int64_t t)
{
	json_t *v = json_loads(json, 0, NULL);

	assert_non_null(v);
	history_add(h, v, t);
	json_decref(v);
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
	json_t *s1 = schema("temp", "load"), *s2 = schema("temp", "fan"), *j;
	struct history *h = history_new(s1), *h2;

	(void)state;
	add(h, "{\"temp\": 40, \"load\": 1}", 1000);
	add(h, "{\"temp\": 42}", 1010);
	add(h, "{\"temp\": 44, \"load\": 3}", 1030);
	j = history_json(h);
	assert_json(j, "{\"step_s\":30,\"t\":[990,1020],\"values\":{\"load\":[1.0,3.0],\"temp\":[41.0,44.0]}}");
	json_decref(j);
	h2 = history_rebase(h, s2);
	j = history_json(h2);
	assert_json(j, "{\"step_s\":30,\"t\":[990,1020],\"values\":{\"fan\":[null,null],\"temp\":[41.0,44.0]}}");
	json_decref(j);
	history_free(h);
	history_free(h2);
	json_decref(s1);
	json_decref(s2);
}

/*
 * A reading beyond float's range became inf in its slot, which json_real()
 * refuses: that column came out one entry short of the times, so a console
 * plotted every later reading at the wrong time (found by tests/fuzz/history.c).
 */
static void test_reading_beyond_float(void **state)
{
	json_t *s = schema("temp", "load"), *j;
	struct history *h = history_new(s);

	(void)state;
	add(h, "{\"temp\": 1e39, \"load\": -1e300}", 1000);
	add(h, "{\"temp\": 10, \"load\": 2}", 1030);
	add(h, "{\"temp\": 1e300}", 1040);
	j = history_json(h);
	assert_json(j, "{\"step_s\":30,\"t\":[990,1020],\"values\":{\"load\":[null,2.0],\"temp\":[null,10.0]}}");
	json_decref(j);
	history_free(h);
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_and_rebase),
		cmocka_unit_test(test_reading_beyond_float),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
