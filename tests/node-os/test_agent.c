/*
 * snow-agent's configuration (one table for argv and node.conf) and the
 * bodies it sends, built against the fixture tree.
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

#include "agent.h"
#include "answer.h"
#include "log.h"
#include "wire.h"

#define GOOD NODE_OS_FIXTURES "/good"
#define SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char conf_path[64];

/* Write text to a fresh temporary node.conf; conf_path names it. */
static void write_conf(const char *text)
{
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/snow-test-agent.XXXXXX");
	fd = mkstemp(conf_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int load(struct agent_conf *c, char *err, size_t errlen, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	return agent_conf_load(c, argc, argv, err, errlen);
}

static const char node_conf[] = "# written by snowd\n"
				"name = node1\n"
				"host_url = http://10.77.0.1:8080\n"
				"secret = " SECRET "\n"
				"interval_ms = 2000\n"
				"mac = 52:54:00:00:00:01\n"
				"env.FOO = bar\n"
				"threshold.vm.load.avg1 = high 4 3\n";

static void test_conf_file_and_unknown_keys(void **state)
{
	struct agent_conf c;
	char err[256] = "";
	char *argv[] = { "snow-agent", "--config", conf_path, NULL };

	write_conf(node_conf);
	assert_int_equal(load(&c, err, sizeof(err), 3, argv), 0);
	assert_int_equal(agent_conf_check(&c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "node1");
	assert_string_equal(c.host_url, "http://10.77.0.1:8080");
	assert_string_equal(c.mac, "52:54:00:00:00:01");
	assert_int_equal(c.interval_ms, 2000);
	assert_string_equal(c.root, "");
	agent_conf_free(&c);
	unlink(conf_path);
}

static void test_conf_command_line_wins(void **state)
{
	struct agent_conf c;
	char err[256] = "";
	char *argv[] = { "snow-agent", "--interval", "500", "--config", conf_path,
			 "--root=" GOOD, "--mac", "52:54:00:AB:CD:EF", "--once", NULL };

	write_conf(node_conf);
	assert_int_equal(load(&c, err, sizeof(err), 9, argv), 0);
	assert_int_equal(agent_conf_check(&c, err, sizeof(err)), 0);
	assert_int_equal(c.interval_ms, 500);
	assert_string_equal(c.root, GOOD);
	assert_string_equal(c.mac, "52:54:00:ab:cd:ef"); /* canonicalised */
	assert_int_equal(c.once, 1);
	agent_conf_free(&c);
	unlink(conf_path);
}

static void test_conf_refusals(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "name = node1\nhost_url = http://h:1\nsecret = abc\nmac = 52:54:00:00:00:01\n",
		  "secret" },
		{ "name = node1\nhost_url = http://h:1\nsecret = " SECRET "\n", "mac: missing" },
		{ "name = Node_1\nhost_url = http://h:1\nsecret = " SECRET
		  "\nmac = 52:54:00:00:00:01\n",
		  "name" },
		{ "name = node1\nhost_url = ftp://h:1\nsecret = " SECRET
		  "\nmac = 52:54:00:00:00:01\n",
		  "url" },
		{ "name = node1\nhost_url = http://h:1\nsecret = " SECRET "\nmac = 01:00:5e:00:00:01\n",
		  "mac" },
		{ "host_url = http://h:1\nsecret = " SECRET "\nmac = 52:54:00:00:00:01\n",
		  "name: missing" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_conf c;
		char err[256] = "";
		char *argv[] = { "snow-agent", "--config", conf_path, NULL };
		int rc;

		write_conf(cases[i].text);
		rc = load(&c, err, sizeof(err), 3, argv);
		if (!rc)
			rc = agent_conf_check(&c, err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, cases[i].why))
			fail_msg("case %zu: rc %d err '%s', want -EINVAL naming '%s'", i, rc, err,
				 cases[i].why);
		/* The secret is never part of an error message. */
		assert_null(strstr(err, SECRET));
		agent_conf_free(&c);
		unlink(conf_path);
	}
}

static void test_conf_file_and_arg_errors(void **state)
{
	struct agent_conf c;
	char err[256] = "";
	char *range[] = { "snow-agent", "--interval", "5", NULL };
	char *unknown[] = { "snow-agent", "--bogus", NULL };
	char *stray[] = { "snow-agent", "stray", NULL };
	char *missing[] = { "snow-agent", "--config", "/nonexistent/node.conf", NULL };
	char *help[] = { "snow-agent", "--help", NULL };
	char *argv[] = { "snow-agent", "--config", conf_path, NULL };

	assert_int_equal(load(&c, err, sizeof(err), 3, range), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
	agent_conf_free(&c);
	assert_int_equal(load(&c, err, sizeof(err), 2, unknown), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	agent_conf_free(&c);
	assert_int_equal(load(&c, err, sizeof(err), 2, stray), -EINVAL);
	assert_non_null(strstr(err, "stray"));
	agent_conf_free(&c);
	assert_int_equal(load(&c, err, sizeof(err), 3, missing), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/node.conf"));
	agent_conf_free(&c);
	assert_int_equal(load(&c, err, sizeof(err), 2, help), -ECANCELED);
	agent_conf_free(&c);

	/* A line without '=' is refused with its line number. */
	write_conf("name = node1\nthis is not a pair\n");
	assert_int_equal(load(&c, err, sizeof(err), 3, argv), -EINVAL);
	assert_non_null(strstr(err, ":2:"));
	agent_conf_free(&c);
	unlink(conf_path);
}

/* A checked conf reading the good fixture tree. */
static void fixture_state(struct agent_conf *c, struct agent_state *st)
{
	char err[256] = "";
	char *argv[] = { "snow-agent", "--config", conf_path, "--root", GOOD, NULL };

	write_conf(node_conf);
	assert_int_equal(load(c, err, sizeof(err), 5, argv), 0);
	assert_int_equal(agent_conf_check(c, err, sizeof(err)), 0);
	unlink(conf_path);
	if (agent_init(st, c, -1, err, sizeof(err)))
		fail_msg("agent_init: %s", err);
}

static void test_register_body(void **state)
{
	struct agent_conf c;
	struct agent_state st;
	json_t *b;

	fixture_state(&c, &st);
	assert_string_equal(st.boot_id, "1b2c6a30-5a0e-4c4c-9d1f-8e0b4f3a7c21");
	b = agent_register_body(&st);
	assert_non_null(b);
	assert_string_equal(json_string_value(json_object_get(b, "name")), "node1");
	assert_string_equal(json_string_value(json_object_get(b, "mac")), "52:54:00:00:00:01");
	assert_string_equal(json_string_value(json_object_get(b, "boot_id")), st.boot_id);
	assert_string_equal(json_string_value(json_object_get(b, "version")), AGENT_VERSION);
	assert_non_null(json_string_value(json_object_get(b, "kernel")));
	assert_non_null(json_string_value(json_object_get(b, "hostname")));
	/* The schema is the whole tree of the first sample, with OIDs. */
	assert_true(json_array_size(json_object_get(b, "schema")) == st.tree.n);
	assert_true(st.tree.n > 60);
	{
		json_t *e = json_array_get(json_object_get(b, "schema"), 0);
		assert_string_equal(json_string_value(json_object_get(e, "name")), "sys.uptime_s");
		assert_string_equal(json_string_value(json_object_get(e, "oid")), "1.1");
		assert_string_equal(json_string_value(json_object_get(e, "kind")), "counter");
	}
	assert_null(json_object_get(b, "secret"));
	json_decref(b);
	agent_fini(&st);
	agent_conf_free(&c);
}

static void test_report_body(void **state)
{
	struct agent_conf c;
	struct agent_state st;
	json_t *b, *v;

	fixture_state(&c, &st);
	b = agent_report_body(&st);
	assert_non_null(b);
	assert_int_equal(json_integer_value(json_object_get(b, "seq")), 1);
	assert_int_equal(json_integer_value(json_object_get(b, "uptime_s")), 5234);
	assert_string_equal(json_string_value(json_object_get(b, "boot_id")), st.boot_id);
	v = json_object_get(b, "values");
	assert_true(json_object_size(v) == st.tree.n);
	assert_int_equal(json_integer_value(json_object_get(v, "kern.procs.count")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "kern.mem.avail_kb")), 452980);
	assert_true(json_real_value(json_object_get(v, "vm.load.avg5")) == 0.31);
	json_decref(b);
	/* seq goes up by one per report. */
	b = agent_report_body(&st);
	assert_int_equal(json_integer_value(json_object_get(b, "seq")), 2);
	/* Not answered yet: thresholds and devices go again. */
	assert_non_null(json_object_get(b, "thresholds"));
	assert_non_null(json_object_get(b, "devices"));
	json_decref(b);
	/* Answered 2xx: the host has them, and the next report leaves them out ... */
	agent_report_acked(&st);
	b = agent_report_body(&st);
	assert_null(json_object_get(b, "thresholds"));
	assert_null(json_object_get(b, "devices"));
	assert_non_null(json_object_get(b, "values"));
	json_decref(b);
	/* ... until one changes (a threshold set): only that part goes. */
	agent_report_acked(&st);
	assert_true(st.nthr < AGENT_THRESHOLDS_MAX);
	st.thr[st.nthr++] = (struct instr_threshold){ .kind = INSTR_THR_HIGH, .rise = 90,
						       .clear = 80, .samples = 1, .enabled = 1 };
	snprintf(st.thr[st.nthr - 1].value, sizeof(st.thr[0].value), "vm.load.avg1");
	b = agent_report_body(&st);
	assert_non_null(json_object_get(b, "thresholds"));
	assert_null(json_object_get(b, "devices"));
	json_decref(b);
	/* A failed report changes nothing the host has: the part goes again. */
	b = agent_report_body(&st);
	assert_non_null(json_object_get(b, "thresholds"));
	json_decref(b);
	agent_fini(&st);
	agent_conf_free(&c);
}

static void test_register_unreachable(void **state)
{
	struct agent_conf c;
	struct agent_state st;
	char err[256] = "";
	char *argv[] = { "snow-agent", "--config", conf_path, "--root", GOOD,
			 /* a port nobody listens on: connection refused at once */
			 "--host_url", "http://127.0.0.1:1", NULL };

	write_conf(node_conf);
	memset(&c, 0, sizeof(c));
	assert_int_equal(agent_conf_load(&c, 7, argv, err, sizeof(err)), 0);
	assert_int_equal(agent_conf_check(&c, err, sizeof(err)), 0);
	unlink(conf_path);
	assert_int_equal(agent_init(&st, &c, -1, err, sizeof(err)), 0);
	assert_int_equal(agent_register(&st), -ECONNREFUSED);
	assert_int_equal(st.registered, 0);
	assert_int_equal(st.fail_count, 1);
	assert_int_equal(agent_register(&st), -ECONNREFUSED);
	assert_int_equal(st.fail_count, 2);
	agent_fini(&st);
	agent_conf_free(&c);
}

/* What agent_answer_read() keeps of an answer, and what it leaves out. */
static void test_answer_read(void **state)
{
	struct agent_answer a;
	json_t *j;

	j = json_loads("{\"ack_events\": 5, \"commands\": [{\"id\": 1, \"op\": \"reboot\"}],"
		       " \"interval_ms\": 500, \"rekey\": \"" SECRET "\"}", 0, NULL);
	assert_non_null(j);
	assert_int_equal(agent_answer_read(j, AGENT_ANSWER_REPORT, &a), 0);
	assert_int_equal(a.ack, 5);
	assert_int_equal(json_array_size(a.commands), 1);
	assert_int_equal(a.interval_ms, 0); /* a report's answer sets no interval */
	assert_string_equal(a.rekey, SECRET);
	assert_int_equal(agent_answer_read(j, AGENT_ANSWER_REGISTER, &a), 0);
	assert_int_equal(a.interval_ms, 500);
	assert_int_equal(a.ack, 0); /* nor a register's any ack or command */
	assert_null(a.commands);
	json_decref(j);

	/* Each malformed field is left out, the rest kept. */
	j = json_loads("{\"ack_events\": -1, \"commands\": {\"id\": 1}, \"interval_ms\": 5,"
		       " \"rekey\": \"ABC\"}", 0, NULL);
	assert_int_equal(agent_answer_read(j, AGENT_ANSWER_REPORT, &a), -EINVAL);
	assert_int_equal(a.ack, 0);
	assert_null(a.commands);
	assert_null(a.rekey);
	assert_int_equal(agent_answer_read(j, AGENT_ANSWER_REGISTER, &a), 0);
	assert_int_equal(a.interval_ms, 0);
	json_decref(j);
	/* Absent or null: nothing taken (found by fuzzing: an ack read from an unset variable). */
	j = json_loads("{\"ack_events/\": -3, \"interval_ms\": null, \"ack_events\": null}", 0, NULL);
	assert_int_equal(agent_answer_read(j, AGENT_ANSWER_REPORT, &a), 0);
	assert_int_equal(a.ack, 0);
	assert_int_equal(agent_answer_read(j, AGENT_ANSWER_REGISTER, &a), 0);
	assert_int_equal(a.interval_ms, 0);
	json_decref(j);
	assert_int_equal(agent_answer_read(NULL, AGENT_ANSWER_REPORT, &a), 0);
	assert_null(a.commands);
}

/* wire_answer_check(): a 2xx answer is taken only with its own request's signature. */
static void test_answer_signature(void **state)
{
	struct http_response r = { .status = 200 };
	const char body[] = "{\"ack_events\": 3}";
	char err[256];

	assert_int_equal(buf_append(&r.body, body, strlen(body)), 0);
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REPORT, 42, &r, err, sizeof(err)),
			 -EBADMSG); /* unsigned */
	sign_answer(SECRET, WIRE_PATH_REPORT, 42, 200, body, strlen(body), r.snow_sig);
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REPORT, 42, &r, err, sizeof(err)), 0);
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REPORT, 43, &r, err, sizeof(err)),
			 -EBADMSG); /* another request's nonce */
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REGISTER, 42, &r, err, sizeof(err)),
			 -EBADMSG); /* another path */
	r.status = 201;
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REPORT, 42, &r, err, sizeof(err)),
			 -EBADMSG); /* another status */
	assert_null(wire_answer_json(0, &r.body)); /* a dropped answer has no JSON */
	r.status = 403;
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REPORT, 42, &r, err, sizeof(err)),
			 -EACCES);
	r.status = 500;
	assert_int_equal(wire_answer_check(SECRET, "", WIRE_PATH_REPORT, 42, &r, err, sizeof(err)),
			 -EPROTO);
	http_response_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_file_and_unknown_keys),
		cmocka_unit_test(test_conf_command_line_wins),
		cmocka_unit_test(test_conf_refusals),
		cmocka_unit_test(test_conf_file_and_arg_errors),
		cmocka_unit_test(test_register_body),
		cmocka_unit_test(test_report_body),
		cmocka_unit_test(test_register_unreachable),
		cmocka_unit_test(test_answer_read),
		cmocka_unit_test(test_answer_signature),
	};

	log_init("test-agent", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
