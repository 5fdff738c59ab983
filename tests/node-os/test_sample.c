/*
 * The agent's /proc readers (node-os/agent/sample.c) against the fixture
 * trees in tests/node-os/fixtures/ and against malformed files written into
 * a temporary root: good files give exact values, bad ones are refused with
 * an error that names the file, and leave their values unset.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sample.h"

#define GOOD NODE_OS_FIXTURES "/good"
#define BAD NODE_OS_FIXTURES "/bad"

static int is_valid(const struct sample_set *s, enum sample_id id)
{
	return !!(s->valid & (1u << id));
}

static void test_good_tree(void **state)
{
	struct sample_set s;
	char err[256] = "";
	char id[SAMPLE_BOOT_ID_LEN + 1];

	assert_int_equal(sample_read_all(GOOD, &s, err, sizeof(err)), 0);
	assert_int_equal(s.valid, (1u << SAMPLE_COUNT) - 1);
	assert_true(s.v[SAMPLE_UPTIME_S] == 5234.17);
	assert_true(s.v[SAMPLE_LOAD1] == 0.52);
	assert_true(s.v[SAMPLE_LOAD5] == 0.31);
	assert_true(s.v[SAMPLE_LOAD15] == 0.12);
	assert_true(s.v[SAMPLE_MEM_TOTAL_KB] == 504424);
	assert_true(s.v[SAMPLE_MEM_FREE_KB] == 431032);
	assert_true(s.v[SAMPLE_MEM_AVAIL_KB] == 452980);
	/* 1, 42, 1234; not the file "77", the link "self" or "net". */
	assert_true(s.v[SAMPLE_PROCS] == 3);

	assert_int_equal(sample_boot_id(GOOD, id, err, sizeof(err)), 0);
	assert_string_equal(id, "1b2c6a30-5a0e-4c4c-9d1f-8e0b4f3a7c21");
}

static void test_bad_tree(void **state)
{
	struct sample_set s;
	char err[256];
	char id[SAMPLE_BOOT_ID_LEN + 1];

	memset(&s, 0, sizeof(s));
	err[0] = '\0';
	assert_int_equal(sample_uptime(BAD, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "proc/uptime"));
	err[0] = '\0';
	assert_int_equal(sample_loadavg(BAD, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "proc/loadavg"));
	err[0] = '\0';
	assert_int_equal(sample_meminfo(BAD, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "MemTotal"));
	assert_int_equal(s.valid, 0);
	err[0] = '\0';
	assert_int_equal(sample_boot_id(BAD, id, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "boot_id"));

	/* The readers that can still read do: only the process count here. */
	err[0] = '\0';
	assert_int_equal(sample_read_all(BAD, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "proc/uptime")); /* the first error */
	assert_int_equal(s.valid, 1u << SAMPLE_PROCS);
	assert_true(s.v[SAMPLE_PROCS] == 1);
}

static void test_missing_root(void **state)
{
	struct sample_set s;
	char err[256] = "";

	assert_int_equal(sample_read_all(NODE_OS_FIXTURES "/no-such-root", &s, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no-such-root/proc/uptime"));
	assert_int_equal(s.valid, 0);
}

/* A temporary root with proc/ for the malformed cases. */
struct tmproot {
	char dir[64];
};

static int tmproot_setup(void **state)
{
	struct tmproot *t = calloc(1, sizeof(*t));
	char p[128];

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/snow-test-sample.XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(p, sizeof(p), "%s/proc", t->dir);
	mkdir(p, 0755);
	*state = t;
	return 0;
}

static int tmproot_teardown(void **state)
{
	struct tmproot *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void tmproot_write(struct tmproot *t, const char *rel, const char *data, size_t len)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", t->dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

typedef int (*reader_fn)(const char *, struct sample_set *, char *, size_t);

static void test_malformed(void **state)
{
	static const struct {
		const char *file;
		reader_fn fn;
		const char *data;
		int rc;
		const char *why; /* must appear in err */
	} cases[] = {
		{ "proc/uptime", sample_uptime, "", -EINVAL, "proc/uptime" },
		{ "proc/uptime", sample_uptime, "12.5\n", -EINVAL, "two" },
		{ "proc/uptime", sample_uptime, "-3 4\n", -EINVAL, "non-negative" },
		{ "proc/uptime", sample_uptime, "nan 4\n", -EINVAL, "proc/uptime" },
		{ "proc/uptime", sample_uptime, "1e999 4\n", -EINVAL, "proc/uptime" },
		{ "proc/uptime", sample_uptime, "12x 4\n", -EINVAL, "proc/uptime" },
		{ "proc/uptime", sample_uptime, "0x10 4\n", -EINVAL, "proc/uptime" },
		{ "proc/loadavg", sample_loadavg, "0.1 0.2\n", -EINVAL, "three" },
		{ "proc/loadavg", sample_loadavg, "0.1,0.2,0.3 1/2 3\n", -EINVAL, "proc/loadavg" },
		{ "proc/meminfo", sample_meminfo, "MemFree: 10 kB\n", -EINVAL, "MemTotal missing" },
		{ "proc/meminfo", sample_meminfo, "MemTotal: 10 kB\n", -EINVAL, "MemFree missing" },
		{ "proc/meminfo", sample_meminfo, "MemTotal: 10 MB\nMemFree: 1 kB\n", -EINVAL,
		  "MemTotal" },
		{ "proc/meminfo", sample_meminfo, "MemTotal: 10 kB\nMemFree: 20 kB\n", -EINVAL,
		  "above MemTotal" },
		{ "proc/meminfo", sample_meminfo, "MemTotal: 10 kB\nMemTotal: 10 kB\nMemFree: 1 kB\n",
		  -EINVAL, "twice" },
		{ "proc/meminfo", sample_meminfo,
		  "MemTotal: 99999999999999999999 kB\nMemFree: 1 kB\n", -EINVAL, "MemTotal" },
		{ "proc/meminfo", sample_meminfo, "MemTotal: 0 kB\nMemFree: 0 kB\n", -EINVAL,
		  "MemTotal" },
	};
	struct tmproot *t = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sample_set s;
		char err[256] = "";
		int rc;

		memset(&s, 0, sizeof(s));
		tmproot_write(t, cases[i].file, cases[i].data, strlen(cases[i].data));
		rc = cases[i].fn(t->dir, &s, err, sizeof(err));
		if (rc != cases[i].rc || !strstr(err, cases[i].why) || s.valid)
			fail_msg("case %zu (%s '%s'): rc %d, err '%s', valid %#x; want rc %d and '%s'",
				 i, cases[i].file, cases[i].data, rc, err, s.valid, cases[i].rc,
				 cases[i].why);
	}
}

static void test_meminfo_optional_available(void **state)
{
	struct tmproot *t = *state;
	const char *old = "MemTotal:  2000 kB\nMemFree:   1500 kB\nBuffers: 3 kB\n";
	struct sample_set s;
	char err[256] = "";

	memset(&s, 0, sizeof(s));
	tmproot_write(t, "proc/meminfo", old, strlen(old));
	assert_int_equal(sample_meminfo(t->dir, &s, err, sizeof(err)), 0);
	assert_true(is_valid(&s, SAMPLE_MEM_TOTAL_KB) && is_valid(&s, SAMPLE_MEM_FREE_KB));
	assert_false(is_valid(&s, SAMPLE_MEM_AVAIL_KB));
	assert_true(s.v[SAMPLE_MEM_FREE_KB] == 1500);
}

static void test_oversize_and_nul(void **state)
{
	struct tmproot *t = *state;
	struct sample_set s;
	char err[256] = "";
	char *big;

	big = malloc(SAMPLE_MAX_FILE + 10);
	assert_non_null(big);
	memset(big, 'x', SAMPLE_MAX_FILE + 10);
	tmproot_write(t, "proc/meminfo", big, SAMPLE_MAX_FILE + 10);
	free(big);
	memset(&s, 0, sizeof(s));
	assert_int_equal(sample_meminfo(t->dir, &s, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "larger than"));

	tmproot_write(t, "proc/uptime", "1.0\0 2.0\n", 9);
	assert_int_equal(sample_uptime(t->dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
	assert_int_equal(s.valid, 0);
}

static void test_empty_proc_refused(void **state)
{
	struct tmproot *t = *state;
	struct sample_set s;
	char err[256] = "";

	memset(&s, 0, sizeof(s));
	assert_int_equal(sample_procs(t->dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no process"));
}

static void test_boot_id_forms(void **state)
{
	struct tmproot *t = *state;
	static const char *bad[] = {
		"1b2c6a30-5a0e-4c4c-9d1f-8e0b4f3a7c2\n",   /* short */
		"1b2c6a30-5a0e-4c4c-9d1f-8e0b4f3a7c211\n", /* long */
		"1b2c6a30x5a0e-4c4c-9d1f-8e0b4f3a7c21\n",  /* dash missing */
		"1b2c6a30-5a0e-4c4c-9d1f-8e0b4f3a7cg1\n",  /* not hex */
		"",
	};
	char id[SAMPLE_BOOT_ID_LEN + 1], err[256];
	size_t i;

	{
		char p[128];
		snprintf(p, sizeof(p), "%s/proc/sys", t->dir);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/proc/sys/kernel", t->dir);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/proc/sys/kernel/random", t->dir);
		mkdir(p, 0755);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tmproot_write(t, "proc/sys/kernel/random/boot_id", bad[i], strlen(bad[i]));
		err[0] = '\0';
		if (sample_boot_id(t->dir, id, err, sizeof(err)) != -EINVAL || !strstr(err, "boot_id"))
			fail_msg("boot_id '%s' accepted or err '%s' does not name it", bad[i], err);
	}
	/* No newline at the end is fine. */
	tmproot_write(t, "proc/sys/kernel/random/boot_id", "00000000-0000-0000-0000-00000000abcd",
		      36);
	assert_int_equal(sample_boot_id(t->dir, id, err, sizeof(err)), 0);
	assert_string_equal(id, "00000000-0000-0000-0000-00000000abcd");
}

static void test_json(void **state)
{
	struct sample_set s;
	char err[256];
	json_t *o, *schema;
	size_t i;

	assert_int_equal(sample_read_all(GOOD, &s, err, sizeof(err)), 0);
	s.valid &= ~(1u << SAMPLE_MEM_AVAIL_KB); /* unset values are left out */
	o = sample_to_json(&s);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), SAMPLE_COUNT - 1);
	assert_null(json_object_get(o, "kern.mem.avail_kb"));
	/* Counts are integers, averages reals: what the host stores and plots. */
	assert_true(json_is_integer(json_object_get(o, "kern.mem.total_kb")));
	assert_int_equal(json_integer_value(json_object_get(o, "kern.mem.total_kb")), 504424);
	assert_true(json_is_integer(json_object_get(o, "sys.uptime_s")));
	assert_int_equal(json_integer_value(json_object_get(o, "sys.uptime_s")), 5234);
	assert_true(json_is_integer(json_object_get(o, "kern.procs.count")));
	assert_true(json_is_real(json_object_get(o, "vm.load.avg1")));
	assert_true(json_real_value(json_object_get(o, "vm.load.avg15")) == 0.12);
	json_decref(o);

	schema = sample_schema_json();
	assert_non_null(schema);
	assert_int_equal(json_array_size(schema), SAMPLE_COUNT);
	for (i = 0; i < SAMPLE_COUNT; i++) {
		json_t *e = json_array_get(schema, i);
		assert_string_equal(json_string_value(json_object_get(e, "name")),
				    sample_defs[i].name);
		assert_non_null(json_string_value(json_object_get(e, "kind")));
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(schema, SAMPLE_LOAD1),
							      "kind")),
			    "gauge");
	json_decref(schema);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_tree),
		cmocka_unit_test(test_bad_tree),
		cmocka_unit_test(test_missing_root),
		cmocka_unit_test_setup_teardown(test_malformed, tmproot_setup, tmproot_teardown),
		cmocka_unit_test_setup_teardown(test_meminfo_optional_available, tmproot_setup,
						tmproot_teardown),
		cmocka_unit_test_setup_teardown(test_oversize_and_nul, tmproot_setup,
						tmproot_teardown),
		cmocka_unit_test_setup_teardown(test_empty_proc_refused, tmproot_setup,
						tmproot_teardown),
		cmocka_unit_test_setup_teardown(test_boot_id_forms, tmproot_setup, tmproot_teardown),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
