/*
 * report_fast() (lib/report_fast.c) with events and results: it reads the
 * values and leaves each array's exact span to the channel (brackets and
 * quotes inside strings skipped), steps aside from an array that does not
 * end, and report_check_events()/report_check_results() refuse what
 * report_check() refuses, with the same messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "jsonh.h"
#include "report.h"

#define EVENTS "[{\"seq\":4,\"time\":1795240000,\"type\":\"command.result\",\"attrs\":{\"id\":12}}]"
#define RESULTS "[{\"id\":12,\"ok\":true,\"result\":{\"s\":\"a\\\"]}\\\\\"}},{\"id\":13,\"ok\":false,\"error\":\"[x\"}]"

static void test_spans(void **state)
{
	const char *body = "{\"name\":\"n1\",\"boot_id\":\"b1\",\"seq\":3,\"values\":{\"a\":1},"
			   "\"events\": " EVENTS " ,\"results\":" RESULTS "}";
	struct report_state rep;
	struct report_head head;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(report_fast(body, strlen(body), &head, &rep), 1);
	assert_int_equal(rep.nvalues, 1);
	assert_int_equal(head.events_len, strlen(EVENTS));
	assert_memory_equal(head.events, EVENTS, strlen(EVENTS));
	assert_int_equal(head.results_len, strlen(RESULTS));
	assert_memory_equal(head.results, RESULTS, strlen(RESULTS));
	report_state_free(&rep);
}

static void test_empty_and_unended(void **state)
{
	const char *empty = "{\"name\":\"n1\",\"boot_id\":\"b1\",\"seq\":3,\"events\":[ ],\"results\":[]}";
	const char *open = "{\"name\":\"n1\",\"boot_id\":\"b1\",\"seq\":3,\"results\":[{\"s\":\"]}\\\"]}";
	struct report_state rep;
	struct report_head head;

	(void)state;
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(report_fast(empty, strlen(empty), &head, &rep), 1);
	assert_null(head.events);
	assert_null(head.results);
	report_state_free(&rep);
	memset(&rep, 0, sizeof(rep));
	assert_int_equal(report_fast(open, strlen(open), &head, &rep), 0);
	assert_null(head.results);
}

/* The parts' checks give report_check()'s refusals. */
static void test_checks(void **state)
{
	const char *body = "{\"events\":[{\"seq\":1,\"time\":2,\"type\":\"x\"}],"
			   "\"results\":[{\"id\":5,\"ok\":1}]}";
	char err[256], err2[256];
	json_t *b = json_loads(body, 0, NULL), *ev;

	(void)state;
	assert_non_null(b);
	assert_int_not_equal(report_check(b, NULL, err, sizeof(err)), 0);
	assert_int_not_equal(report_check_results(json_object_get(b, "results"), err2,
						  sizeof(err2)), 0);
	assert_string_equal(err, err2);
	assert_string_equal(err, "results[0]: ok: must be true or false");
	/* An event without attrs gets an empty object, as in report_check(). */
	ev = json_object_get(b, "events");
	assert_int_equal(report_check_events(ev, err, sizeof(err)), 0);
	assert_true(json_is_object(json_object_get(json_array_get(ev, 0), "attrs")));
	json_decref(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_empty_and_unended),
		cmocka_unit_test(test_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
