/*
 * node-os/agent/persist.c and post.c: the state file written and read back
 * (atomically, nothing left behind), refusals that name the field (a
 * truncated file, another version, a wrong-sided threshold, a result whose
 * id differs), another boot's file told apart; and the event datagram's
 * parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "persist.h"
#include "post.h"

static const char *full =
	"{\"version\": 1, \"boot_id\": \"b1\","
	" \"thresholds\": [{\"t\": {\"value\": \"kern.mem.free_kb\", \"kind\": \"low\", \"rise\": 10,"
	" \"clear\": 20, \"samples\": 1, \"state\": \"raised\"}, \"hits\": 0, \"conf\": false},"
	" {\"t\": {\"value\": \"vm.load.avg1\", \"kind\": \"high\", \"rise\": 5, \"clear\": 4,"
	" \"samples\": 3}, \"hits\": 2, \"conf\": true}],"
	" \"watermarks\": {\"kern.mem.free_kb\": [3, 9]}, \"counters\": {\"net.eth0.rx_bytes\": 500},"
	" \"devices\": [{\"path\": \"cpu/cpu1\", \"disabled\": true, \"offline\": false},"
	" {\"path\": \"block/vda\", \"offline\": true, \"diag\": {\"result\": \"pass\", \"time\": 5}}],"
	" \"results\": [{\"id\": 4, \"pending\": true, \"result\": {\"id\": 4, \"ok\": true}}],"
	" \"xcvr\": [\"net.eth2.xcvr.temp_c\"]}";

static int parse(const char *text, const char *boot, struct persist_state *p, char *err)
{
	json_t *j = json_loads(text, 0, NULL);
	int rc;

	assert_non_null(j);
	rc = persist_parse(j, boot, p, err, 256);
	json_decref(j);
	return rc;
}

static void test_round_trip(void **state)
{
	struct persist_state *p = calloc(1, sizeof(*p)), *q = calloc(1, sizeof(*q));
	char dir[] = "/tmp/snow-test-persist.XXXXXX", err[256], path[128];
	json_t *j, *back;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(parse(full, "b1", p, err), 0);
	assert_int_equal(p->nthr, 2);
	assert_true(p->thr[0].state == INSTR_THR_RAISED && p->thr[1].hits == 2 && p->thr_conf[1]);
	assert_int_equal(p->nmarks, 2);
	assert_true(p->marks[0].disabled && p->marks[1].offline && p->marks[1].diag.pass);
	assert_int_equal(p->nresults, 1);
	assert_true(p->results[0].id == 4 && p->results[0].pending);
	j = persist_json(p, "b1");
	assert_non_null(j);
	assert_int_equal(persist_write(dir, PERSIST_FILE, j, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, PERSIST_FILE);
	assert_int_not_equal(access(path, F_OK), 0); /* renamed, nothing left */
	assert_int_equal(persist_read(dir, PERSIST_FILE, &back, err, sizeof(err)), 0);
	assert_true(json_equal(j, back));
	assert_int_equal(persist_parse(back, "b1", q, err, sizeof(err)), 0);
	assert_true(q->nthr == 2 && q->nmarks == 2 && q->nresults == 1);
	/* Another boot's file: told apart, nothing kept. */
	persist_free(q);
	assert_int_equal(persist_parse(back, "b2", q, err, sizeof(err)), -ESTALE);
	assert_int_equal(q->nthr, 0);
	json_decref(j);
	json_decref(back);
	/* Truncated: the reader says where. */
	{
		FILE *f;
		snprintf(path, sizeof(path), "%s/%s", dir, PERSIST_FILE);
		f = fopen(path, "w");
		assert_non_null(f);
		fwrite(full, 1, 40, f);
		fclose(f);
		assert_int_equal(persist_read(dir, PERSIST_FILE, &back, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "not JSON (truncated or damaged): line 1 column 40"));
		unlink(path);
		assert_int_equal(persist_read(dir, PERSIST_FILE, &back, err, sizeof(err)), -ENOENT);
	}
	rmdir(dir);
	persist_free(p);
	persist_free(q);
	free(p);
	free(q);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *from, *to, *err;
	} cases[] = {
		{ "\"version\": 1", "\"version\": 2", "version: 2 is not 1 (another agent's)" },
		{ "\"clear\": 20", "\"clear\": 5",
		  "thresholds[0]: clear: 5 is below rise 10; a low threshold raises below rise and "
		  "clears above clear, so clear must be >= rise" },
		{ "\"result\": {\"id\": 4", "\"result\": {\"id\": 5",
		  "results[0]: result: must be {id (the same), ok, ...}" },
		{ "[3, 9]", "[9, 3]", "watermarks.kern.mem.free_kb: must be [low, high], finite, low <= high" },
		{ "\"block/vda\"", "\"cpu/cpu1\"", "devices[1]: path: cpu/cpu1 twice" },
		{ "\"xcvr\"", "\"extra\"", "extra: unknown field" },
	};
	struct persist_state *p = calloc(1, sizeof(*p));
	char text[2048], err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(full, cases[i].from);
		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - full), full, cases[i].to,
			 at + strlen(cases[i].from));
		assert_int_equal(parse(text, "b1", p, err), -EINVAL);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: want '%s', got '%s'", i, cases[i].err, err);
		persist_free(p);
	}
	free(p);
}

/* A datagram's text through post_parse(). */
static int pp(const char *text, struct post_event *e, char *err)
{
	return post_parse(text, strlen(text), e, err, 256);
}

static void test_post_parse(void **state)
{
	struct post_event e;
	char err[256];
	const char *good = "{\"type\": \"backup.done\", \"severity\": \"notice\", "
			   "\"publisher\": \"backup\", \"attrs\": {\"files\": 12}}";

	assert_int_equal(post_parse(good, strlen(good), &e, err, sizeof(err)), 0);
	assert_string_equal(e.type, "app.backup.done");
	assert_int_equal(e.severity, INSTR_SEV_NOTICE);
	assert_string_equal(e.publisher, "backup");
	assert_int_equal(json_integer_value(json_object_get(e.attrs, "files")), 12);
	json_decref(e.attrs);
	assert_int_equal(pp("{\"type\":\"x\",\"publisher\":\"a\"}", &e, err), 0);
	assert_int_equal(e.severity, INSTR_SEV_INFO);
	json_decref(e.attrs);
	assert_int_equal(pp("{\"type\":\"x\"}", &e, err), -EINVAL);
	assert_null(e.attrs);
	assert_non_null(strstr(err, "publisher"));
	/* 20 characters: one more than "app." leaves room for. */
	assert_int_equal(pp("{\"type\":\"aaaaaaaaaaaaaaaaaaaa\",\"publisher\":\"a\"}", &e, err), -EINVAL);
	assert_non_null(strstr(err, "type"));
	assert_int_equal(pp("{\"type\":\"x\",\"publisher\":\"snow-agent2\"}", &e, err), -EINVAL);
	assert_string_equal(err, "publisher: 'snow-agent2' is the agent's own name");
	assert_int_equal(pp("{\"type\":\"x\",\"publisher\":\"a\",\"attrs\":[1]}", &e, err), -EINVAL);
	assert_non_null(strstr(err, "attrs: must be an object"));
	assert_int_equal(pp("not json", &e, err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_post_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
