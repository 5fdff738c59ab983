/*
 * Golden-file tests of everything snowd generates for booting: the iPXE
 * scripts, the dnsmasq config and hosts file, node.conf and the overlay cpio.
 * Run with SNOW_UPDATE_GOLDEN=1 to rewrite the golden files after an
 * intended change (then review the diff).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot.h"
#include "dnsmasq.h"
#include "inv.h"

#define GOLDEN "tests/firmware/golden/"

static const struct boot_params params = {
	.base_url = "http://10.77.0.1:8080",
	.cmdline = "console=ttyS0,115200 loglevel=4 panic=10",
	.interval_ms = 2000,
	.unknown_retry_s = 10,
};

static struct inv_node node1(void)
{
	struct inv_node n = { .id = 1, .name = "node1", .mac = "52:54:00:4d:00:01",
			      .ip = "10.77.0.11", .image = "default", .created = 0 };
	memset(n.secret, 'a', 64);
	n.secret[64] = '\0';
	return n;
}

/* Effective settings as snowd computes them (settings.h). */
static json_t *eff1(void)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:f, s:f, s:i}], s:i}", "image",
			 "compute", "cmdline", "quiet nosmt", "env", "OMP_NUM_THREADS", "2",
			 "SNOW_JOB", "a b", "thresholds", "value", "kern.mem.avail_kb", "kind", "low",
			 "rise", 50000.0, "clear", 60000.0, "samples", 3, "interval_ms", 1000);
}

static void golden(const char *name, const struct buf *got)
{
	char path[256], *want = NULL;
	size_t wantlen = 0;
	FILE *f;

	snprintf(path, sizeof(path), GOLDEN "%s", name);
	if (getenv("SNOW_UPDATE_GOLDEN")) {
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(got->data, 1, got->len, f), got->len);
		fclose(f);
	}
	f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: missing golden file (run with SNOW_UPDATE_GOLDEN=1)", path);
	fseek(f, 0, SEEK_END);
	wantlen = (size_t)ftell(f);
	rewind(f);
	want = malloc(wantlen + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, wantlen, f), wantlen);
	fclose(f);
	int same = wantlen == got->len && !memcmp(want, got->data, wantlen);
	free(want);
	if (!same)
		fail_msg("%s differs from the golden file (%zu bytes, got %zu):\n%.*s", path, wantlen,
			 got->len, (int)(got->len > 2000 ? 2000 : got->len), got->data);
}

static void test_first_stage(void **state)
{
	struct buf b = BUF_INIT;
	char err[128];

	assert_int_equal(boot_render_first(&params, &b, err, sizeof(err)), 0);
	golden("first.ipxe", &b);
	buf_free(&b);
}

static void test_node_script(void **state)
{
	struct inv_node n = node1();
	struct buf b = BUF_INIT;
	char err[128];

	json_t *eff = json_object();
	assert_int_equal(boot_render_node(&params, &n, eff, &b, err, sizeof(err)), 0);
	golden("node1.ipxe", &b);
	/* The node's own image and kernel arguments. */
	json_decref(eff);
	eff = eff1();
	buf_reset(&b);
	assert_int_equal(boot_render_node(&params, &n, eff, &b, err, sizeof(err)), 0);
	golden("node1-settings.ipxe", &b);
	json_decref(eff);
	/* The secret never appears in a script: it travels only in the overlay. */
	assert_null(strstr(b.data, n.secret));
	buf_free(&b);
}

static void test_unknown_script(void **state)
{
	struct buf b = BUF_INIT;
	char err[128];

	assert_int_equal(boot_render_unknown(&params, "52:54:00:4d:00:63", &b, err, sizeof(err)), 0);
	golden("unknown.ipxe", &b);
	buf_free(&b);
}

static void test_node_conf_and_overlay(void **state)
{
	struct inv_node n = node1();
	struct buf b = BUF_INIT;

	json_t *none = json_object(), *eff = eff1();

	assert_int_equal(boot_render_node_conf(&params, &n, none, &b), 0);
	golden("node1.conf", &b);
	buf_reset(&b);
	assert_int_equal(boot_render_node_conf(&params, &n, eff, &b), 0);
	golden("node1-settings.conf", &b);
	buf_reset(&b);
	assert_int_equal(boot_render_overlay(&params, &n, eff, &b), 0);
	golden("node1-overlay.cpio", &b);
	/* Several snowd on one database (peernet.h): host_url lists them, this one first. */
	struct boot_params many = params;
	many.host_urls = "http://10.77.0.1:8080, http://10.78.0.1:8080";
	buf_reset(&b);
	assert_int_equal(boot_render_node_conf(&many, &n, none, &b), 0);
	assert_non_null(memmem(b.data, b.len, "\nhost_url = http://10.77.0.1:8080, http://10.78.0.1:8080\n",
			       strlen("\nhost_url = http://10.77.0.1:8080, http://10.78.0.1:8080\n")));
	buf_reset(&b);
	assert_int_equal(boot_render_overlay(&params, &n, eff, &b), 0);
	json_decref(none);
	json_decref(eff);
	/* newc: every header starts with the magic, the archive ends with the trailer. */
	assert_memory_equal(b.data, "070701", 6);
	assert_non_null(memmem(b.data, b.len, "TRAILER!!!", 10));
	assert_int_equal(b.len % 4, 0);
	buf_free(&b);
}

/*
 * A whole-system image's overlay: the cluster's hosts, the login shells'
 * environment, the compute NIC for systemd-networkd (a bad MTU is left out)
 * and an admin's template, each under etc/snow/overlay/ with every folder
 * named once.
 */
static void test_system_overlay(void **state)
{
	static struct overlay_file files[] = {
		{ "etc/motd", "Welcome to {{name}} ({{ip}}, {{mac}}), image {{image}}{{profile}}, "
			      "managed by {{host_url}}\n", 0644 },
		{ "etc/slurm/slurm.conf", "NodeName={{name}} NodeAddr={{ip}}\n", 0644 },
		{ "usr/local/bin/hello", "#!/bin/sh\necho {{name}}\n", 0755 },
	};
	static const struct overlay_set set = { files, 3 };
	struct boot_params p = params;
	struct inv_node n = node1();
	struct buf b = BUF_INIT;
	json_t *eff = eff1();

	p.whole_system = 1;
	p.hosts = "127.0.0.1\tlocalhost\n10.77.0.11\tnode1\n10.77.0.12\tnode2\n";
	p.tmpls = &set;
	json_object_set_new(json_object_get(eff, "env"), "SNOW_NIC_MAC", json_string("52-54-00-4D-01-01"));
	json_object_set_new(json_object_get(eff, "env"), "SNOW_NIC_ADDR", json_string("10.78.0.11/24"));
	json_object_set_new(json_object_get(eff, "env"), "SNOW_NIC_MTU", json_string("9000"));
	assert_int_equal(boot_render_overlay(&p, &n, eff, &b), 0);
	golden("node1-system-overlay.cpio", &b);
	assert_non_null(memmem(b.data, b.len, "MACAddress=52:54:00:4d:01:01\n", 29));
	assert_non_null(memmem(b.data, b.len, "MTUBytes=9000\n", 14));
	buf_reset(&b);
	json_object_set_new(json_object_get(eff, "env"), "SNOW_NIC_MTU", json_string("9000\nX=1"));
	assert_int_equal(boot_render_overlay(&p, &n, eff, &b), 0);
	assert_null(memmem(b.data, b.len, "MTUBytes", 8));
	json_decref(eff);
	buf_free(&b);
}

static void test_dnsmasq_conf(void **state)
{
	const struct dnsmasq_params p = {
		.iface = "snowbr0", .host_ip = 0x0a4d0001, .prefix = 24,
		.base_url = "http://10.77.0.1:8080", .hostsfile = "/var/lib/snow/dhcp-hosts",
		.leasefile = "/var/lib/snow/dnsmasq.leases", .tftp_root = "/var/lib/snow/tftp",
		.pidfile = "/var/lib/snow/dnsmasq.pid",
	};
	struct buf b = BUF_INIT;
	char err[128];

	assert_int_equal(dnsmasq_render_conf(&p, &b, err, sizeof(err)), 0);
	golden("dnsmasq.conf", &b);
	buf_free(&b);
}

static void test_dnsmasq_ranges(void **state)
{
	uint32_t pf, pl, df, dl;

	dnsmasq_ranges(0x0a4d0001, 24, &pf, &pl, &df, &dl);
	assert_int_equal(pf, 0x0a4d000a); /* .10 */
	assert_int_equal(pl, 0x0a4d00bf); /* .191 */
	assert_int_equal(df, 0x0a4d00c0); /* .192 */
	assert_int_equal(dl, 0x0a4d00fe); /* .254 */
	dnsmasq_ranges(0x0a000001, 16, &pf, &pl, &df, &dl);
	assert_int_equal(pl, 0x0a00bfff);
	assert_int_equal(dl, 0x0a00fffe);
}

static void test_dnsmasq_hosts(void **state)
{
	char dir[] = "/tmp/snow-test-XXXXXX", path[300], err[256];
	struct inv inv;
	struct buf b = BUF_INIT;
	struct inv_node a = { .name = "node2", .mac = "52:54:00:4d:00:02", .ip = "10.77.0.12",
			      .image = "default" };
	struct inv_node c = { .name = "node1", .mac = "52:54:00:4d:00:01", .ip = "10.77.0.11",
			      .image = "default" };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snow.db", dir);
	assert_int_equal(inv_open(&inv, path, err, sizeof(err)), 0);
	assert_int_equal(inv_node_add(&inv, &a, err, sizeof(err)), 0);
	assert_int_equal(inv_node_add(&inv, &c, err, sizeof(err)), 0);
	assert_int_equal(dnsmasq_render_hosts(&inv, &b), 0);
	golden("dhcp-hosts", &b);
	buf_free(&b);
	inv_close(&inv);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_stage),
		cmocka_unit_test(test_node_script),
		cmocka_unit_test(test_unknown_script),
		cmocka_unit_test(test_node_conf_and_overlay),
		cmocka_unit_test(test_system_overlay),
		cmocka_unit_test(test_dnsmasq_conf),
		cmocka_unit_test(test_dnsmasq_ranges),
		cmocka_unit_test(test_dnsmasq_hosts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
