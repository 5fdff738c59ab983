/*
 * The DDM device tree on a writable copy of the fixture tree: what each
 * class can do, every refusal rule (state and device), the operations that
 * write sysfs, diag/audit results, and device.state events.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <cmocka.h>

#include "ddm.h"
#include "tree.h"

#define GOOD NODE_OS_FIXTURES "/good"

struct fx {
	char root[64];
	struct ddm ddm;
	struct ddm_env env;
	json_t *events; /* what emit received */
	int ticks;      /* env.tick calls, and the longest time without one */
	long long last_tick_ms, max_gap_ms;
};

static long long fx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fx_tick(void *ctx)
{
	struct fx *f = ctx;
	long long now = fx_now_ms();

	if (now - f->last_tick_ms > f->max_gap_ms)
		f->max_gap_ms = now - f->last_tick_ms;
	f->last_tick_ms = now;
	f->ticks++;
}

static void fx_emit(void *ctx, const char *type, json_t *attrs)
{
	struct fx *f = ctx;

	json_object_set_new(attrs, "type", json_string(type));
	json_array_append_new(f->events, attrs);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[256];

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/snow-test-ddm.XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", GOOD, f->root);
	if (system(cmd) != 0)
		return -1;
	f->events = json_array();
	f->env.root = f->root;
	f->env.service_mac = "52:54:00:00:00:01";
	f->env.now = 1795240000;
	f->env.emit = fx_emit;
	f->env.ctx = f;
	if (ddm_scan(&f->ddm, &f->env, "observed"))
		return -1;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	ddm_free(&f->ddm);
	json_decref(f->events);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void fx_read(struct fx *f, const char *rel, char *buf, size_t cap)
{
	assert_int_equal(tree_read_str(f->root, rel, buf, cap), 0);
}

/* Run op; expect rc and (for refusals) the exact message. */
static void op_expect(struct fx *f, const char *path, enum instr_op op, int want_rc,
		      const char *want)
{
	char err[512] = "";
	json_t *res = NULL;
	int rc = ddm_op(&f->ddm, &f->env, path, op, &res, err, sizeof(err));

	if (rc != want_rc || (want && strcmp(err, want)))
		fail_msg("%s %s: rc %d err '%s', want %d '%s'", path, instr_op_name(op), rc, err,
			 want_rc, want ? want : "");
	if (!rc)
		assert_non_null(res);
	json_decref(res);
}

/* Every refusal the fixture's devices give, with the exact reason. */
static void test_refusals(void **state)
{
	struct fx *f = *state;

	op_expect(f, "cpu/cpu0", INSTR_OP_OFFLINE, -EPERM,
		  "cpu/cpu0: cannot offline: cpu0 has no online file: the kernel cannot take it "
		  "offline (the boot CPU)");
	op_expect(f, "cpu/cpu1", INSTR_OP_SHUTDOWN, -EPERM,
		  "cpu/cpu1: cannot shutdown: a CPU has no driver to shut down: take it offline "
		  "instead");
	op_expect(f, "cpu/cpu2", INSTR_OP_DIAG, -EPERM,
		  "cpu/cpu2: cannot diag: Linux cannot run a test on an offline CPU: use audit "
		  "while it is online");
	op_expect(f, "cpu/cpu2", INSTR_OP_AUDIT, -EPERM,
		  "cpu/cpu2: cannot audit: audit runs only on an online device (it is offline)");
	op_expect(f, "cpu/cpu1", INSTR_OP_ONLINE, -EPERM,
		  "cpu/cpu1: cannot online: it is already online (it is online)");
	op_expect(f, "cpu/cpu1", INSTR_OP_DISABLE, -EPERM,
		  "cpu/cpu1: cannot disable: it is online: take it offline first (it is online)");
	op_expect(f, "cpu/cpu1", INSTR_OP_ENABLE, -EPERM,
		  "cpu/cpu1: cannot enable: it is already enabled");
	op_expect(f, "memory/memory0", INSTR_OP_OFFLINE, -EPERM,
		  "memory/memory0: cannot offline: the kernel says this memory block is not "
		  "removable");
	op_expect(f, "memory/memory2", INSTR_OP_DIAG, -EPERM,
		  "memory/memory2: cannot diag: no memory test on Linux for an offline block");
	op_expect(f, "net/eth0", INSTR_OP_OFFLINE, -EPERM,
		  "net/eth0: cannot offline: eth0 carries the agent's link to snowd: down, the "
		  "node is cut off");
	op_expect(f, "net/eth1", INSTR_OP_OFFLINE, -EPERM,
		  "net/eth1: cannot offline: it is not online (it is offline)");
	op_expect(f, "net/eth1", INSTR_OP_DIAG, -EPERM,
		  "net/eth1: cannot diag: no offline diagnostic for network interfaces");
	op_expect(f, "net/eth0", INSTR_OP_SHUTDOWN, -EPERM,
		  "net/eth0: cannot shutdown: shut down its PCI function (pci/...) or take the "
		  "interface offline");
	op_expect(f, "block/vda", INSTR_OP_DIAG, -EPERM,
		  "block/vda: cannot diag: diag is intrusive and runs only on an offline device "
		  "(it is online)");
	op_expect(f, "pci/0000:00:03.0", INSTR_OP_SHUTDOWN, -EPERM,
		  "pci/0000:00:03.0: cannot shutdown: the service NIC eth0 sits on it: the node "
		  "would be cut off");
	op_expect(f, "pci/0000:00:03.0", INSTR_OP_OFFLINE, -EPERM,
		  "pci/0000:00:03.0: cannot offline: a PCI function has no offline state: "
		  "shutdown unbinds its driver");
	op_expect(f, "hwmon/hwmon0", INSTR_OP_OFFLINE, -EPERM,
		  "hwmon/hwmon0: cannot offline: a sensor has no run state to change on Linux");
	op_expect(f, "cpu/cpu9", INSTR_OP_AUDIT, -ENOENT,
		  "path: 'cpu/cpu9' is not a device of this node");
	/* Nothing changed, so no events. */
	assert_int_equal(json_array_size(f->events), 0);
}

/* Operations that act: sysfs files written, states and events follow. */
static void test_ops_write_sysfs(void **state)
{
	struct fx *f = *state;
	char buf[64];
	json_t *e;

	op_expect(f, "cpu/cpu1", INSTR_OP_OFFLINE, 0, NULL);
	fx_read(f, "sys/devices/system/cpu/cpu1/online", buf, sizeof(buf));
	assert_string_equal(buf, "0");
	assert_int_equal(ddm_find(&f->ddm, "cpu/cpu1")->run, INSTR_OFFLINE);
	e = json_array_get(f->events, 0);
	assert_string_equal(json_string_value(json_object_get(e, "type")), "device.state");
	assert_string_equal(json_string_value(json_object_get(e, "path")), "cpu/cpu1");
	assert_string_equal(json_string_value(json_object_get(e, "run")), "offline");
	assert_string_equal(json_string_value(json_object_get(e, "was_run")), "online");
	assert_string_equal(json_string_value(json_object_get(e, "cause")), "offline");
	/* Disabled, it refuses online until enabled. */
	op_expect(f, "cpu/cpu1", INSTR_OP_DISABLE, 0, NULL);
	op_expect(f, "cpu/cpu1", INSTR_OP_ONLINE, -EPERM,
		  "cpu/cpu1: cannot online: it is disabled: enable it first");
	op_expect(f, "cpu/cpu1", INSTR_OP_ENABLE, 0, NULL);
	op_expect(f, "cpu/cpu1", INSTR_OP_ONLINE, 0, NULL);
	fx_read(f, "sys/devices/system/cpu/cpu1/online", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	assert_int_equal(json_array_size(f->events), 4); /* offline, disable, enable, online */

	op_expect(f, "memory/memory1", INSTR_OP_OFFLINE, 0, NULL);
	fx_read(f, "sys/devices/system/memory/memory1/state", buf, sizeof(buf));
	assert_string_equal(buf, "offline");
	op_expect(f, "net/eth1", INSTR_OP_ONLINE, 0, NULL);
	fx_read(f, "sys/class/net/eth1/flags", buf, sizeof(buf));
	assert_string_equal(buf, "0x1003");
	op_expect(f, "net/eth1", INSTR_OP_OFFLINE, 0, NULL);
	fx_read(f, "sys/class/net/eth1/flags", buf, sizeof(buf));
	assert_string_equal(buf, "0x1002");
	op_expect(f, "pci/0000:00:05.0", INSTR_OP_ONLINE, 0, NULL);
	fx_read(f, "sys/bus/pci/drivers_probe", buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:05.0");
}

/* diag and audit record a result, kept across scans and shown in the JSON. */
static void test_diag_audit(void **state)
{
	struct fx *f = *state;
	char err[256];
	json_t *res = NULL, *j;
	struct instr_dev *d;

	op_expect(f, "block/vda", INSTR_OP_OFFLINE, 0, NULL);
	assert_int_equal(ddm_find(&f->ddm, "block/vda")->run, INSTR_OFFLINE);
	assert_int_equal(ddm_op(&f->ddm, &f->env, "block/vda", INSTR_OP_DIAG, &res, err,
				sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(res, "result")), "pass");
	assert_non_null(strstr(json_string_value(json_object_get(res, "detail")),
			       "read 65536 bytes"));
	json_decref(res);
	/* An unreadable device fails its diag (the op itself succeeded). */
	assert_int_equal(unlink(strcat(strcpy(err, f->root), "/dev/vda")), 0);
	assert_int_equal(ddm_op(&f->ddm, &f->env, "block/vda", INSTR_OP_DIAG, &res, err,
				sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(res, "result")), "fail");
	json_decref(res);
	op_expect(f, "block/vda", INSTR_OP_ONLINE, 0, NULL);

	assert_int_equal(ddm_op(&f->ddm, &f->env, "net/eth0", INSTR_OP_AUDIT, &res, err,
				sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(res, "detail")),
			    "carrier up (operstate up)");
	json_decref(res);
	assert_int_equal(ddm_op(&f->ddm, &f->env, "pci/0000:00:03.0", INSTR_OP_AUDIT, &res, err,
				sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(res, "result")), "pass");
	json_decref(res);
	assert_int_equal(ddm_op(&f->ddm, &f->env, "cpu/cpu1", INSTR_OP_AUDIT, &res, err,
				sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(res, "result")), "pass");
	json_decref(res);
	assert_int_equal(ddm_op(&f->ddm, &f->env, "hwmon/hwmon0", INSTR_OP_AUDIT, &res, err,
				sizeof(err)),
			 0);
	assert_string_equal(json_string_value(json_object_get(res, "detail")),
			    "2 temperature inputs readable");
	json_decref(res);

	d = ddm_find(&f->ddm, "block/vda");
	assert_true(d->diag.done && !d->diag.pass && d->diag.time == 1795240000);
	j = ddm_json(&f->ddm);
	assert_non_null(j);
	{
		size_t i;
		json_t *x;
		int seen = 0;
		json_array_foreach(j, i, x) {
			if (strcmp(json_string_value(json_object_get(x, "path")), "net/eth0"))
				continue;
			seen = 1;
			assert_string_equal(json_string_value(json_object_get(
						    json_object_get(x, "audit"), "result")),
					    "pass");
		}
		assert_true(seen);
	}
	json_decref(j);
}

/* A change seen in sysfs (not made by us) is an event too. */
/* Write a module EEPROM dump with temperature t (C) for eth0 of the fixture copy. */
static void xcvr_write(struct fx *f, double t)
{
	unsigned char e[512] = { 0 };
	char path[256];
	FILE *fp;
	int i;
	/* Temp, Vcc, bias, TX, RX: high alarm, low alarm, high warn, low warn. */
	static const unsigned lim[5][4] = { { 75 * 256, 0xfb00, 70 * 256, 0 },
					    { 36000, 30000, 35000, 31000 },
					    { 5000, 1000, 4500, 1500 },
					    { 10000, 1000, 9000, 2000 },
					    { 10000, 100, 9000, 200 } };
	static const unsigned val[5] = { 0, 33000, 3250, 5000, 2500 };

	e[92] = 0x60;
	memcpy(e + 20, "ACME OPTICS     ", 16);
	for (i = 0; i < 5; i++) {
		for (int k = 0; k < 4; k++) {
			e[256 + i * 8 + k * 2] = (unsigned char)(lim[i][k] >> 8);
			e[256 + i * 8 + k * 2 + 1] = (unsigned char)lim[i][k];
		}
		unsigned v = i ? val[i] : (unsigned)(uint16_t)(int16_t)(t * 256);
		e[256 + 96 + i * 2] = (unsigned char)(v >> 8);
		e[256 + 96 + i * 2 + 1] = (unsigned char)v;
	}
	snprintf(path, sizeof(path), "%s/sys/class/net/eth0/device", f->root);
	mkdir(path, 0755);
	strcat(path, "/sff8472.eeprom");
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(e, 1, sizeof(e), fp), sizeof(e));
	fclose(fp);
}

/* A transceiver: a device once its dump is there; audit against its alarm limits. */
static void test_transceiver(void **state)
{
	struct fx *f = *state;
	char err[256];
	json_t *res = NULL;

	assert_null(ddm_find(&f->ddm, "xcvr/eth0"));
	xcvr_write(f, 36.5);
	assert_int_equal(ddm_scan(&f->ddm, &f->env, "observed"), 0);
	assert_non_null(ddm_find(&f->ddm, "xcvr/eth0"));
	assert_string_equal(ddm_find(&f->ddm, "xcvr/eth0")->cls, "transceiver");
	assert_int_equal(ddm_op(&f->ddm, &f->env, "xcvr/eth0", INSTR_OP_AUDIT, &res, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(res, "result")), "pass");
	json_decref(res);
	op_expect(f, "xcvr/eth0", INSTR_OP_OFFLINE, -EPERM,
		  "xcvr/eth0: cannot offline: a module has no power control here: take its interface offline");
	xcvr_write(f, 80.5);
	assert_int_equal(ddm_op(&f->ddm, &f->env, "xcvr/eth0", INSTR_OP_AUDIT, &res, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(res, "result")), "fail");
	assert_non_null(strstr(json_string_value(json_object_get(res, "detail")), "temp_c 80.5"));
	json_decref(res);
}

static void test_observed_change(void **state)
{
	struct fx *f = *state;
	char path[256];
	FILE *fp;
	json_t *e;

	snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/cpu2/online", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("1\n", fp);
	fclose(fp);
	assert_int_equal(ddm_scan(&f->ddm, &f->env, "observed"), 0);
	assert_int_equal(json_array_size(f->events), 1);
	e = json_array_get(f->events, 0);
	assert_string_equal(json_string_value(json_object_get(e, "path")), "cpu/cpu2");
	assert_string_equal(json_string_value(json_object_get(e, "run")), "online");
	assert_string_equal(json_string_value(json_object_get(e, "cause")), "observed");
}

/* ---- the NIC offload engine (nic/engine0) ------------------------------------ */

static void fx_write(struct fx *f, const char *rel, const char *text, int mode)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* snow-nic's status as docs/nic.md shows it, written age_s ago. */
static void nic_status(struct fx *f, long age_s)
{
	char path[512];
	struct utimbuf ut;

	fx_write(f, "run/snow-nic.json",
		 "{\"node\":1,\"iface\":\"eth1\",\"mac\":\"52:54:00:00:00:02\",\"mtu\":9000,"
		 "\"state\":\"online\",\"pid\":0,\"attached_pid\":null,\"peers\":[],"
		 "\"counters\":{\"msgs_tx\":5,\"msgs_rx\":7,\"bytes_tx\":1234,\"bytes_rx\":4321,"
		 "\"drops_nobuf\":2,\"credits_avail\":1188,\"held_frames\":3,\"send_queue\":0,"
		 "\"post_queue\":9}}",
		 0644);
	snprintf(path, sizeof(path), "%s/run/snow-nic.json", f->root);
	ut.actime = ut.modtime = time(NULL) - age_s;
	assert_int_equal(utime(path, &ut), 0);
}

static const char *nic_run(struct fx *f)
{
	struct instr_dev *d;

	assert_int_equal(ddm_scan(&f->ddm, &f->env, "observed"), 0);
	d = ddm_find(&f->ddm, "nic/engine0");
	return d ? instr_run_name(d->run) : "absent";
}

/* Run op on the engine, expect success, return the diag/audit result's detail. */
static void nic_op(struct fx *f, enum instr_op op, const char *want_result, const char *want_in)
{
	char err[512] = "";
	json_t *res = NULL;
	const char *r, *det;

	if (ddm_op(&f->ddm, &f->env, "nic/engine0", op, &res, err, sizeof(err)))
		fail_msg("nic/engine0 %s: %s", instr_op_name(op), err);
	if (want_result) {
		r = json_string_value(json_object_get(res, "result"));
		det = json_string_value(json_object_get(res, "detail"));
		if (!r || strcmp(r, want_result) || !det || !strstr(det, want_in))
			fail_msg("%s: result %s detail '%s', want %s with '%s'", instr_op_name(op),
				 r ? r : "-", det ? det : "-", want_result, want_in);
	}
	json_decref(res);
}

/* State from the files, counters as values and stats, the refusal rules. */
static void test_nic_engine_state(void **state)
{
	struct fx *f = *state;
	struct instr_tree t = { 0 };
	struct instr_value *v;
	struct instr_dev *d;
	char err[256];

	/* declared before snow-nic's first status: in the schema, without a reading */
	tree_nic_declare(&t);
	v = instr_tree_find(&t, "nic.post_queue");
	assert_non_null(v);
	assert_int_equal(v->def.kind, INSTR_GAUGE);
	assert_int_equal(v->valid, 0);
	assert_int_equal(v->wm.set, 0);
	assert_int_equal(instr_tree_find(&t, "nic.frames_lost")->def.kind, INSTR_COUNTER);

	assert_string_equal(nic_run(f), "absent"); /* no status, no identity */
	f->env.nic_mac = "52:54:00:00:00:02";
	assert_string_equal(nic_run(f), "inactive"); /* identity, snow-nic not up yet */
	nic_status(f, 0);
	assert_string_equal(nic_run(f), "online");
	d = ddm_find(&f->ddm, "nic/engine0");
	assert_string_equal(d->cls, "nic-engine");
	assert_int_equal(json_integer_value(json_object_get(d->stats, "msgs_tx")), 5);
	assert_int_equal(json_integer_value(json_object_get(d->stats, "mtu")), 9000);
	assert_string_equal(json_string_value(json_object_get(d->stats, "iface")), "eth1");

	/* the counters as values, with their kinds */
	assert_int_equal(tree_sample(f->root, &t, err, sizeof(err)) >= -1000, 1);
	v = instr_tree_find(&t, "nic.msgs_tx");
	assert_non_null(v);
	assert_int_equal(v->def.kind, INSTR_COUNTER);
	assert_int_equal((int)v->v, 5);
	assert_string_equal(v->def.oid, "12.1");
	v = instr_tree_find(&t, "nic.drops_nobuf");
	assert_non_null(v);
	assert_int_equal(v->def.kind, INSTR_COUNTER);
	assert_int_equal((int)v->v, 2);
	v = instr_tree_find(&t, "nic.credits_avail");
	assert_non_null(v);
	assert_int_equal(v->def.kind, INSTR_GAUGE);
	assert_int_equal((int)v->v, 1188);
	v = instr_tree_find(&t, "nic.bytes_rx");
	assert_non_null(v);
	assert_int_equal((int)v->v, 4321);
	assert_non_null(instr_tree_find(&t, "nic.held_frames"));
	assert_int_equal(instr_tree_find(&t, "nic.held_frames")->def.kind, INSTR_GAUGE);
	assert_int_equal((int)instr_tree_find(&t, "nic.mtu")->v, 9000);
	assert_int_equal(instr_tree_find(&t, "nic.frames_lost")->valid, 0); /* not in this status */

	/* the rules: diag needs offline, online needs not online, shutdown never */
	op_expect(f, "nic/engine0", INSTR_OP_DIAG, -EPERM,
		  "nic/engine0: cannot diag: diag is intrusive and runs only on an offline device "
		  "(it is online)");
	op_expect(f, "nic/engine0", INSTR_OP_ONLINE, -EPERM,
		  "nic/engine0: cannot online: it is already online (it is online)");
	op_expect(f, "nic/engine0", INSTR_OP_SHUTDOWN, -EPERM,
		  "nic/engine0: cannot shutdown: /init supervises snow-nic and would restart it: "
		  "take it offline instead");

	/* a status 10 s old: snow-nic is gone; its values are no longer reported */
	nic_status(f, 10);
	assert_string_equal(nic_run(f), "inactive");
	assert_int_equal(tree_sample(f->root, &t, err, sizeof(err)) >= -1000, 1);
	assert_int_equal(instr_tree_find(&t, "nic.msgs_tx")->valid, 0);
	op_expect(f, "nic/engine0", INSTR_OP_OFFLINE, -EPERM,
		  "nic/engine0: cannot offline: it is not online (it is inactive)");
	op_expect(f, "nic/engine0", INSTR_OP_AUDIT, -EPERM,
		  "nic/engine0: cannot audit: audit runs only on an online device (it is inactive)");

	/* without the identity, a status file alone makes the device */
	f->env.nic_mac = NULL;
	nic_status(f, 0);
	assert_string_equal(nic_run(f), "online");
	instr_tree_free(&t);
}

/* offline/online through the control file; audit; diag pass, fail, crash, events. */
static void test_nic_engine_ops(void **state)
{
	struct fx *f = *state;
	char bin[256], buf[64];
	json_t *e;
	size_t i;
	int saw = 0;

	f->env.nic_mac = "52:54:00:00:00:02";
	f->env.nic_id = "1";
	f->env.nic_peers = "2=52:54:01:00:00:02";
	nic_status(f, 0);
	assert_string_equal(nic_run(f), "online");

	/* audit: fresh and carrier */
	fx_write(f, "sys/class/net/eth1/carrier", "0\n", 0644);
	nic_op(f, INSTR_OP_AUDIT, "fail", "carrier down");
	fx_write(f, "sys/class/net/eth1/carrier", "1\n", 0644);
	nic_op(f, INSTR_OP_AUDIT, "pass", "eth1 MTU 9000, carrier up");

	/* offline: the control file, the status gone, offline; events say so */
	nic_op(f, INSTR_OP_OFFLINE, NULL, NULL);
	fx_read(f, "run/snow-nic.down", buf, sizeof(buf));
	assert_string_equal(buf, "offline by snow-agent");
	snprintf(bin, sizeof(bin), "%s/run/snow-nic.json", f->root);
	assert_int_equal(access(bin, F_OK), -1);
	assert_string_equal(nic_run(f), "offline");
	for (i = 0; i < json_array_size(f->events); i++) {
		e = json_array_get(f->events, i);
		if (!strcmp(json_string_value(json_object_get(e, "path")), "nic/engine0") &&
		    !strcmp(json_string_value(json_object_get(e, "run")), "offline") &&
		    !strcmp(json_string_value(json_object_get(e, "cause")), "offline"))
			saw = 1;
	}
	assert_true(saw);
	op_expect(f, "nic/engine0", INSTR_OP_AUDIT, -EPERM,
		  "nic/engine0: cannot audit: audit runs only on an online device (it is offline)");

	/* diag runs the self-test with the node's identity on the interface with its MAC */
	fx_write(f, "fake-snow-nic",
		 "#!/bin/sh\n"
		 "[ \"$*\" = \"-i eth1 --node 1 --peers 2=52:54:01:00:00:02 -s $ROOT/run/snow-nic-diag.sock --self-test\" ] ||"
		 " { echo \"bad args: $*\"; exit 9; }\n"
		 "echo 'snow-nic[info]: calibrating' >&2\n"
		 /* the verdict may land inside a log line another thread was writing */
		 "printf 'snow-nic[info]: {\"result\":\"pass\",\"detail\":\"4 messages, 30997 bytes checked\"}\\n'\n"
		 "echo 'application (pid 9) detached' >&2\n",
		 0755);
	snprintf(bin, sizeof(bin), "%s/fake-snow-nic", f->root);
	setenv("ROOT", f->root, 1);
	f->env.nic_bin = bin;
	nic_op(f, INSTR_OP_DIAG, "pass", "30997 bytes checked");
	assert_string_equal(nic_run(f), "offline");
	assert_int_equal(ddm_find(&f->ddm, "nic/engine0")->diag.pass, 1);

	fx_write(f, "fake-snow-nic",
		 "#!/bin/sh\necho '{\"result\":\"fail\",\"detail\":\"100 B: byte 7 is 0x00, sent 0x3c\"}'\nexit 1\n",
		 0755);
	nic_op(f, INSTR_OP_DIAG, "fail", "byte 7 is 0x00");
	fx_write(f, "fake-snow-nic", "#!/bin/sh\necho 'snow-nic: iface eth1: No such device'\nexit 1\n",
		 0755);
	nic_op(f, INSTR_OP_DIAG, "fail", "exited with status 1: snow-nic: iface eth1: No such device");
	f->env.nic_bin = "/nonexistent/snow-nic";
	nic_op(f, INSTR_OP_DIAG, "fail", "exited with status 127: cannot run /nonexistent/snow-nic");
	f->env.nic_mac = "52:54:00:00:00:99";
	nic_op(f, INSTR_OP_DIAG, "fail", "no interface has the compute MAC 52:54:00:00:00:99");
	f->env.nic_mac = "52:54:00:00:00:02";

	/* online: the control file goes; the engine is inactive until snow-nic writes */
	nic_op(f, INSTR_OP_ONLINE, NULL, NULL);
	snprintf(bin, sizeof(bin), "%s/run/snow-nic.down", f->root);
	assert_int_equal(access(bin, F_OK), -1);
	assert_string_equal(nic_run(f), "inactive");
	nic_status(f, 0);
	assert_string_equal(nic_run(f), "online");
}

/*
 * A self-test that takes longer than a short watchdog's timeout: the agent
 * is called back (env.tick, where it pats the watchdog) all along, never
 * more than a second apart.
 */
static void test_nic_diag_ticks(void **state)
{
	struct fx *f = *state;
	char bin[256];

	f->env.nic_mac = "52:54:00:00:00:02";
	f->env.nic_id = "1";
	nic_status(f, 0);
	nic_op(f, INSTR_OP_OFFLINE, NULL, NULL);
	fx_write(f, "slow-snow-nic",
		 "#!/bin/sh\nsleep 2.2\necho '{\"result\":\"pass\",\"detail\":\"slow but good\"}'\n",
		 0755);
	snprintf(bin, sizeof(bin), "%s/slow-snow-nic", f->root);
	f->env.nic_bin = bin;
	f->env.tick = fx_tick;
	f->ticks = 0;
	f->max_gap_ms = 0;
	f->last_tick_ms = fx_now_ms();
	nic_op(f, INSTR_OP_DIAG, "pass", "slow but good");
	fx_tick(f); /* the gap from the last tick to the end */
	if (f->ticks < 4 || f->max_gap_ms > 1000)
		fail_msg("%d ticks, longest gap %lld ms: want >= 4 ticks, gaps <= 1000 ms", f->ticks,
			 f->max_gap_ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ops_write_sysfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_diag_audit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_observed_change, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_transceiver, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_nic_engine_state, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_nic_engine_ops, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_nic_diag_ticks, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
