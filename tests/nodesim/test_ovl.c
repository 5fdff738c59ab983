/*
 * host/nodesim/ovl.c: reading node.conf out of the overlay exactly as snowd
 * renders it (boot_render_overlay), and refusing archives and files that
 * are cut short, malformed or missing a field, naming what was wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "boot.h"
#include "cpio.h"
#include "ovl.h"

#define SECRET "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const struct boot_params params = {
	.base_url = "http://127.0.0.1:8080",
	.cmdline = "console=ttyS0",
	.interval_ms = 1500,
	.unknown_retry_s = 10,
};

static void render(struct buf *out)
{
	struct inv_node n = { .id = 1 };

	snprintf(n.name, sizeof(n.name), "sim0001");
	snprintf(n.mac, sizeof(n.mac), "02:aa:bb:00:00:01");
	snprintf(n.ip, sizeof(n.ip), "127.0.0.10");
	snprintf(n.image, sizeof(n.image), "default");
	snprintf(n.secret, sizeof(n.secret), SECRET);
	/* The effective settings snowd passes: env and thresholds land in node.conf. */
	json_t *eff = json_pack("{s:i, s:{s:s}, s:[{s:s, s:s, s:f, s:f, s:i}, {s:s, s:s, s:i, s:i}]}",
				"interval_ms", 1500, "env", "SITE", "lab", "thresholds", "value",
				"hw.temp.cpu", "kind", "high", "rise", 90.5, "clear", 85.25,
				"samples", 3, "value", "kern.mem.free_kb", "kind", "low", "rise",
				100000, "clear", 120000);
	assert_non_null(eff);
	assert_int_equal(boot_render_overlay(&params, &n, eff, out), 0);
	json_decref(eff);
}

static void test_snowd_overlay(void **state)
{
	struct buf b = BUF_INIT;
	struct ovl_conf c;
	char err[256] = "";
	int rc;

	render(&b);
	rc = ovl_parse(b.data, b.len, &c, err, sizeof(err));
	if (rc)
		print_error("ovl_parse: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	assert_string_equal(c.name, "sim0001");
	assert_string_equal(c.mac, "02:aa:bb:00:00:01");
	assert_string_equal(c.host_url, "http://127.0.0.1:8080");
	assert_string_equal(c.secret, SECRET);
	assert_int_equal(c.interval_ms, 1500);
	assert_string_equal(c.sysctl_allow, "");
	assert_int_equal(c.nthr, 2);
	assert_string_equal(c.thr[0].value, "hw.temp.cpu");
	assert_int_equal(c.thr[0].kind, INSTR_THR_HIGH);
	assert_true(c.thr[0].rise == 90.5 && c.thr[0].clear == 85.25);
	assert_int_equal(c.thr[0].samples, 3);
	assert_true(c.thr[0].enabled);
	assert_string_equal(c.thr[1].value, "kern.mem.free_kb");
	assert_int_equal(c.thr[1].kind, INSTR_THR_LOW);
	assert_int_equal(c.thr[1].samples, 1);
	buf_free(&b);
}

static void test_cpio_find(void **state)
{
	struct buf b = BUF_INIT;
	const void *p;
	size_t len;
	char err[256];

	assert_int_equal(cpio_add_dir(&b, "etc", 0755), 0);
	assert_int_equal(cpio_add_file(&b, "./etc/a", 0644, "abc", 3), 0);
	assert_int_equal(cpio_add_file(&b, "/etc/empty", 0644, "", 0), 0);
	assert_int_equal(cpio_add_symlink(&b, "etc/link", "a"), 0);
	assert_int_equal(cpio_finish(&b), 0);
	assert_int_equal(ovl_cpio_find(b.data, b.len, "etc/a", &p, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(ovl_cpio_find(b.data, b.len, "etc/empty", &p, &len, err, sizeof(err)), 0);
	assert_int_equal(len, 0);
	/* A directory or a symlink of that name is not the file. */
	assert_int_equal(ovl_cpio_find(b.data, b.len, "etc", &p, &len, err, sizeof(err)), -ENOENT);
	assert_int_equal(ovl_cpio_find(b.data, b.len, "etc/link", &p, &len, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no file etc/link"));
	buf_free(&b);
}

static void test_cpio_malformed(void **state)
{
	struct buf b = BUF_INIT;
	const void *p;
	size_t len, cut;
	char err[256], *copy;

	render(&b);
	/* Every truncation is refused or not found, never read past the end. */
	for (cut = 0; cut < b.len; cut++) {
		int rc = ovl_cpio_find(b.data, cut, OVL_CONF_PATH, &p, &len, err, sizeof(err));
		if (rc == 0) {
			/* Found: the file's bytes must lie inside what we gave it. */
			assert_true((const char *)p + len <= b.data + cut);
		} else if (rc != -EINVAL && rc != -ENOENT) {
			print_error("cut %zu: rc %d\n", cut, rc);
			fail();
		}
	}
	copy = malloc(b.len);
	assert_non_null(copy);
	memcpy(copy, b.data, b.len);
	copy[0] = 'X';
	assert_int_equal(ovl_cpio_find(copy, b.len, OVL_CONF_PATH, &p, &len, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bad magic at 0"));
	memcpy(copy, b.data, b.len);
	/* filesize of the first entry ("etc", a directory) set huge */
	memcpy(copy + 6 + 6 * 8, "7FFFFFFF", 8);
	assert_int_equal(ovl_cpio_find(copy, b.len, OVL_CONF_PATH, &p, &len, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "past the end"));
	memcpy(copy, b.data, b.len);
	memcpy(copy + 6 + 11 * 8, "0000000G", 8);
	assert_int_equal(ovl_cpio_find(copy, b.len, OVL_CONF_PATH, &p, &len, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not hex"));
	free(copy);
	buf_free(&b);
}

static int conf_rc(const char *text, char *err, size_t errlen)
{
	struct ovl_conf c;

	err[0] = '\0';
	return ovl_conf_parse(text, strlen(text), &c, err, errlen);
}

#define GOOD_HEAD "name = n1\nmac = 02-AA-BB-00-00-01\nhost_url = http://127.0.0.1:1/\n"

static void test_conf_fields(void **state)
{
	const char *text = "# comment\n\n  name   =  n1  \r\nmac = 02-AA-BB-00-00-01\n"
			   "host_url = http://127.0.0.1:1/\nsecret = " SECRET "\n"
			   "env.future = whatever\nsysctl.allow = vm.swappiness, kernel.printk\n";
	struct ovl_conf c;
	char err[256];

	assert_int_equal(ovl_conf_parse(text, strlen(text), &c, err, sizeof(err)), 0);
	assert_string_equal(c.name, "n1");
	assert_string_equal(c.mac, "02:aa:bb:00:00:01");
	assert_int_equal(c.interval_ms, 0);
	assert_true(ovl_sysctl_allowed(&c, "vm.swappiness"));
	assert_true(ovl_sysctl_allowed(&c, "kernel.printk"));
	assert_false(ovl_sysctl_allowed(&c, "vm.swap"));
	assert_false(ovl_sysctl_allowed(&c, "kernel"));
	assert_false(ovl_sysctl_allowed(&c, ""));
}

static void test_conf_refused(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ GOOD_HEAD, "secret: missing" },
		{ "mac = 02:aa:bb:00:00:01\nhost_url = http://x/\nsecret = " SECRET "\n",
		  "name: missing" },
		{ GOOD_HEAD "secret = 0011\n", "secret: must be 64" },
		{ GOOD_HEAD "secret = " SECRET "\ninterval_ms = 5\n", "node.conf:5: interval_ms" },
		{ GOOD_HEAD "secret = " SECRET "\ninterval_ms = 1x\n", "not a number" },
		{ GOOD_HEAD "secret = " SECRET "\njust words\n", "node.conf:5: not 'key = value'" },
		{ "name = Bad_Name\nmac = 02:aa:bb:00:00:01\nhost_url = http://x/\nsecret = " SECRET,
		  "node.conf: " },
		{ "name = n1\nmac = 01:aa:bb:00:00:01\nhost_url = http://x/\nsecret = " SECRET,
		  "node.conf: " },
		{ "name = n1\nmac = 02:aa:bb:00:00:01\nhost_url = ftp://x/\nsecret = " SECRET,
		  "http://" },
		{ GOOD_HEAD "secret = " SECRET "\nthreshold.hw.temp.cpu = high 80 90 1\n",
		  "node.conf:5: threshold.hw.temp.cpu: clear" },
		{ GOOD_HEAD "secret = " SECRET "\nthreshold.hw.temp.cpu = sideways 80 70\n",
		  "is not 'high|low RISE CLEAR [SAMPLES]'" },
		{ GOOD_HEAD "secret = " SECRET "\nthreshold.hw.temp.cpu = high 80 70 1 junk\n",
		  "is not 'high|low" },
		{ GOOD_HEAD "secret = " SECRET "\nthreshold.Bad..Name = high 80 70\n",
		  "threshold.Bad..Name: " },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = conf_rc(cases[i].text, err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, cases[i].want)) {
			print_error("case %zu: rc %d, err '%s', want -EINVAL naming '%s'\n", i, rc,
				    err, cases[i].want);
			fail();
		}
		/* The secret is never echoed in a message. */
		assert_null(strstr(err, SECRET));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snowd_overlay),  cmocka_unit_test(test_cpio_find),
		cmocka_unit_test(test_cpio_malformed), cmocka_unit_test(test_conf_fields),
		cmocka_unit_test(test_conf_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
