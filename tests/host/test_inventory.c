/* The SQLite inventory: migrations, nodes, nonces, discovered MACs, tokens, commands. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <cmocka.h>

#include "inv.h"
#include "log.h"

#define SNOW_STR_(x) #x
#define SNOW_STR(x) SNOW_STR_(x)

struct fix {
	char dir[64];
	char db[512];
	struct inv inv;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char err[256];

	log_init("test", LOG_LVL_WARN);
	strcpy(f->dir, "/tmp/snow-inv-XXXXXX");
	if (!f || !mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/snow.db", f->dir);
	/*
	 * SNOW_TEST_DB (a PostgreSQL URL, tests/integration/it_pg.sh): the same
	 * tests on that database, emptied before each.
	 */
	if (getenv("SNOW_TEST_DB") && *getenv("SNOW_TEST_DB")) {
		struct db *db;
		snprintf(f->db, sizeof(f->db), "%s", getenv("SNOW_TEST_DB"));
		if (db_open(&db, f->db, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
		if (db_exec(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") != DB_OK) {
			fprintf(stderr, "%s\n", db_errmsg(db));
			db_close(db);
			return -1;
		}
		db_close(db);
	}
	if (inv_open(&f->inv, f->db, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[128];

	inv_close(&f->inv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static struct inv_node mk(const char *name, const char *mac, const char *ip)
{
	struct inv_node n = { 0 };

	strcpy(n.name, name);
	strcpy(n.mac, mac);
	strcpy(n.ip, ip);
	strcpy(n.image, "default");
	return n;
}

static void test_schema(void **state)
{
	struct fix *f = *state;
	char err[256];

	assert_int_equal(inv_schema_version(&f->inv), INV_SCHEMA_VERSION);
	/* Reopening an up-to-date database migrates nothing and keeps the version. */
	inv_close(&f->inv);
	assert_int_equal(inv_open(&f->inv, f->db, err, sizeof(err)), 0);
	assert_int_equal(inv_schema_version(&f->inv), INV_SCHEMA_VERSION);
}

static void test_future_schema_refused(void **state)
{
	struct fix *f = *state;
	char err[256];

	assert_int_equal(db_schema_set(f->inv.db, 99), DB_OK);
	inv_close(&f->inv);
	assert_int_equal(inv_open(&f->inv, f->db, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "newer"));
	/* Put it back so teardown has a database to close. */
	{
		struct db *db;
		assert_int_equal(db_open(&db, f->db, err, sizeof(err)), 0);
		assert_int_equal(db_schema_set(db, INV_SCHEMA_VERSION), DB_OK);
		db_close(db);
	}
	assert_int_equal(inv_open(&f->inv, f->db, err, sizeof(err)), 0);
}

static void test_nodes(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11"), got;
	struct inv_node dup;
	char err[256];

	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	assert_true(a.id > 0);
	assert_int_equal(strlen(a.secret), 64);
	assert_int_equal(inv_node_get(&f->inv, "node1", &got), 0);
	assert_string_equal(got.mac, "52:54:00:00:00:01");
	assert_string_equal(got.secret, a.secret);
	assert_int_equal(inv_node_get_by_mac(&f->inv, "52:54:00:00:00:01", &got), 0);
	assert_string_equal(got.name, "node1");
	assert_int_equal(inv_node_get(&f->inv, "nope", &got), -ENOENT);

	/* Each duplicate is refused with the field named, and adds nothing. */
	dup = mk("node1", "52:54:00:00:00:02", "10.0.0.12");
	assert_int_equal(inv_node_add(&f->inv, &dup, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "name:"));
	dup = mk("node2", "52:54:00:00:00:01", "10.0.0.12");
	assert_int_equal(inv_node_add(&f->inv, &dup, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "mac:"));
	assert_non_null(strstr(err, "node1"));
	dup = mk("node2", "52:54:00:00:00:02", "10.0.0.11");
	assert_int_equal(inv_node_add(&f->inv, &dup, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "ip:"));
	assert_int_equal(inv_node_get(&f->inv, "node2", &got), -ENOENT);
	assert_int_equal(inv_ip_taken(&f->inv, "10.0.0.11"), 1);
	assert_int_equal(inv_ip_taken(&f->inv, "10.0.0.12"), 0);

	assert_int_equal(inv_node_rm(&f->inv, "node1"), 0);
	assert_int_equal(inv_node_rm(&f->inv, "node1"), -ENOENT);
	assert_int_equal(inv_node_get(&f->inv, "node1", &got), -ENOENT);
}

/*
 * inv_node_auth, the node channel's read kept in memory: it follows every
 * write to the node's secrets, a removal, a rolled-back rekey, and many nodes
 * (the table grows).
 */
static void test_node_auth(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11"), got, b;
	char err[256], name[32], mac[32], ip[32], fresh[SIGN_SECRET_HEX_LEN + 1];
	int i;

	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), 0);
	assert_int_equal(got.id, a.id);
	assert_string_equal(got.secret, a.secret);
	assert_string_equal(got.old_secret, "");
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), 0); /* from memory now */
	assert_string_equal(got.secret, a.secret);
	assert_int_equal(inv_node_auth(&f->inv, "nope", &got), -ENOENT);

	/* A rekey: the new secret and the old one at once. */
	assert_int_equal(inv_node_rekey(&f->inv, a.id, fresh), 0);
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), 0);
	assert_string_equal(got.secret, fresh);
	assert_string_equal(got.old_secret, a.secret);
	assert_int_equal(inv_node_key_taken(&f->inv, a.id), 0);
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), 0);
	assert_string_equal(got.old_secret, "");

	/* A rekey inside a group that is rolled back: the secret before it again. */
	assert_int_equal(inv_batch_begin(&f->inv), 0);
	assert_int_equal(inv_exec(&f->inv, "BEGIN"), 0);
	assert_int_equal(inv_node_rekey(&f->inv, a.id, err), 0);
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), 0);
	assert_string_equal(got.secret, err);
	inv_rollback(&f->inv);
	assert_int_equal(inv_batch_commit(&f->inv), 0);
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), 0);
	assert_string_equal(got.secret, fresh);

	/* Many nodes: each found with its own secret. */
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "m%05d", i);
		snprintf(mac, sizeof(mac), "52:54:00:01:%02x:%02x", i >> 8, i & 255);
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i >> 8, i & 255);
		b = mk(name, mac, ip);
		assert_int_equal(inv_node_add(&f->inv, &b, err, sizeof(err)), 0);
		assert_int_equal(inv_node_auth(&f->inv, name, &got), 0);
		assert_string_equal(got.secret, b.secret);
	}
	assert_int_equal(inv_node_auth(&f->inv, "m00007", &got), 0);
	assert_int_equal(inv_node_get(&f->inv, "m00007", &b), 0);
	assert_string_equal(got.secret, b.secret);
	assert_int_equal(got.id, b.id);

	/* Removed: gone from memory too. */
	assert_int_equal(inv_node_rm(&f->inv, "node1"), 0);
	assert_int_equal(inv_node_auth(&f->inv, "node1", &got), -ENOENT);
}

/* Nonces only go up, and the last one survives a restart of snowd. */
static void test_nonce(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11");
	char err[256];

	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 100), 0);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 100), -EALREADY);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 99), -EALREADY);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 101), 0);
	inv_close(&f->inv);
	assert_int_equal(inv_open(&f->inv, f->db, err, sizeof(err)), 0);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 101), -EALREADY);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, UINT64_MAX), -EALREADY);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 102), 0);
}

/*
 * The group commit (inv_batch_begin): writes of many requests in one
 * transaction, a request's own transaction a savepoint of it; committed, all
 * of it stays; never committed (a crash), nonces and events go together.
 */
static void test_batch(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11");
	char err[256];
	int64_t ack;
	json_t *ev;

	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	assert_int_equal(inv_batch_begin(&f->inv), 0);
	assert_int_equal(inv_batch_begin(&f->inv), 0); /* open already: nothing */
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 100), 0);
	/* A replay inside the same group is refused: the group sees its own writes. */
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 100), -EALREADY);
	ev = json_pack("[{s:i, s:i, s:s, s:{}}, {s:i, s:i, s:s, s:{}}]", "seq", 1, "time", 1,
		       "type", "t", "attrs", "seq", 2, "time", 2, "type", "t", "attrs");
	assert_int_equal(inv_events_store(&f->inv, a.id, "b1", ev, 1000, &ack), 0);
	assert_int_equal(ack, 2);
	assert_true(f->inv.batch); /* its own BEGIN/COMMIT were a savepoint */
	assert_int_equal(inv_batch_commit(&f->inv), 0);
	assert_false(f->inv.batch);
	assert_int_equal(inv_batch_commit(&f->inv), 0); /* none open: nothing */

	/* A group never committed (snowd killed): its nonce and its events are gone together. */
	assert_int_equal(inv_batch_begin(&f->inv), 0);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 200), 0);
	json_decref(ev);
	ev = json_pack("[{s:i, s:i, s:s, s:{}}]", "seq", 3, "time", 3, "type", "t", "attrs");
	assert_int_equal(inv_events_store(&f->inv, a.id, "b1", ev, 1001, &ack), 0);
	json_decref(ev);
	inv_close(&f->inv);
	assert_int_equal(inv_open(&f->inv, f->db, err, sizeof(err)), 0);
	assert_int_equal(inv_count(&f->inv, "events"), 2);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 100), -EALREADY);
	assert_int_equal(inv_node_take_nonce(&f->inv, a.id, 200), 0);
}

static void test_discovered(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node9", "52:54:00:00:00:09", "10.0.0.19");
	char err[256];
	json_t *l;

	assert_int_equal(inv_discovered_seen(&f->inv, "52:54:00:00:00:09", "10.0.0.200", 1000), 0);
	assert_int_equal(inv_discovered_seen(&f->inv, "52:54:00:00:00:09", "10.0.0.201", 1005), 0);
	l = inv_discovered_list(&f->inv);
	assert_int_equal(json_array_size(l), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 0), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 0), "first_seen")), 1000);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "ip")), "10.0.0.201");
	json_decref(l);
	/* Adding the MAC as a node takes it off the discovered list. */
	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	l = inv_discovered_list(&f->inv);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
}

static void test_tokens(void **state)
{
	struct fix *f = *state;
	char t1[72], t2[72];

	assert_int_equal(inv_token_count(&f->inv), 0);
	assert_int_equal(inv_token_create(&f->inv, "admin", ROLE_ADMIN, t1), 0);
	assert_int_equal(inv_token_create(&f->inv, "watcher", ROLE_VIEWER, t2), 0);
	assert_int_equal(inv_token_create(&f->inv, "admin", ROLE_ADMIN, t2), -EEXIST);
	assert_int_equal(strncmp(t1, "snow_", 5), 0);
	assert_int_equal(inv_token_role(&f->inv, t1), ROLE_ADMIN);
	assert_int_equal(inv_token_count(&f->inv), 2);
	assert_int_equal(inv_token_role(&f->inv, "snow_0000"), 0);
	assert_int_equal(inv_token_role(&f->inv, ""), 0);
	assert_int_equal(inv_token_role(&f->inv, NULL), 0);
	/* The database stores only a hash: the token text is nowhere in it. */
	{
		struct db_stmt *st = db_prepare(f->inv.db, "SELECT count(*) FROM tokens WHERE sha256 = ?");
		int found = 0;
		assert_non_null(st);
		db_bind_text(st, 1, t1);
		if (db_step(st) == DB_ROW)
			found = db_column_int(st, 0);
		db_finalize(st);
		assert_int_equal(found, 0);
	}
}

/* A command's state, by id. */
static char *cmd_state(struct inv *inv, int64_t id)
{
	static char s[16];
	json_t *c = inv_cmd_get(inv, id);

	assert_non_null(c);
	snprintf(s, sizeof(s), "%s", json_string_value(json_object_get(c, "state")));
	json_decref(c);
	return s;
}

/*
 * Host-side ops (power.*) never reach the node, whose results cannot finish
 * them; a sent reboot is done by a boot never seen before, and only by one.
 */
static void test_commands(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11");
	json_t *none = json_object(), *arr, *res, *stages = json_object();
	int64_t reboot, power, later;
	char err[256];

	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	assert_int_equal(inv_cmd_add(&f->inv, a.id, "power.on", none, 100, &power), 0);
	assert_int_equal(inv_cmd_add(&f->inv, a.id, "reboot", none, 100, &reboot), 0);
	arr = inv_cmd_take_pending(&f->inv, a.id, 101);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "op")), "reboot");
	json_decref(arr);
	assert_string_equal(cmd_state(&f->inv, power), "queued");
	assert_int_equal(inv_cmd_mark_sent(&f->inv, power, 101), 0);
	arr = inv_cmd_take_pending(&f->inv, a.id, 102);
	assert_int_equal(json_array_size(arr), 1);
	json_decref(arr);

	/* The node fails the power command it was never given: nothing changes. */
	res = json_pack("[{s:I, s:b, s:s}]", "id", (json_int_t)power, "ok", 0, "error", "unknown op");
	assert_int_equal(inv_cmd_results(&f->inv, a.id, res, 103), 0);
	json_decref(res);
	assert_string_equal(cmd_state(&f->inv, power), "sent");
	assert_int_equal(inv_cmd_finish(&f->inv, power, 1, NULL, NULL, 104), 0);
	assert_string_equal(cmd_state(&f->inv, power), "done");
	assert_int_equal(inv_cmd_finish(&f->inv, power, 0, NULL, "late", 105), -ENOENT);
	assert_string_equal(cmd_state(&f->inv, power), "done");

	/* The boot the reboot was sent to registers again (snowd restarted): no proof. */
	assert_int_equal(inv_boot_add(&f->inv, a.id, "b-1", 90, 95, stages), 0);
	assert_int_equal(inv_cmd_add(&f->inv, a.id, "reboot", none, 106, &later), 0);
	arr = inv_cmd_boot_changed(&f->inv, a.id, "b-1", 107);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);
	assert_string_equal(cmd_state(&f->inv, reboot), "sent");
	/* A new boot: the sent reboot is done; the one still queued waits for the new boot. */
	arr = inv_cmd_boot_changed(&f->inv, a.id, "b-2", 108);
	assert_non_null(arr);
	assert_int_equal(json_array_size(arr), 1);
	assert_int_equal(json_integer_value(json_array_get(arr, 0)), reboot);
	json_decref(arr);
	assert_string_equal(cmd_state(&f->inv, reboot), "done");
	assert_string_equal(cmd_state(&f->inv, later), "queued");
	res = inv_cmd_get(&f->inv, reboot);
	assert_string_equal(json_string_value(json_object_get(json_object_get(res, "result"), "boot_id")),
			    "b-2");
	json_decref(res);
	arr = inv_cmd_take_pending(&f->inv, a.id, 109);
	assert_int_equal(json_array_size(arr), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "id")), later);
	json_decref(arr);
	json_decref(none);
	json_decref(stages);
}

static char *mac_n(char out[18], unsigned i)
{
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
	return out;
}

/* A flood of unknown MACs stops at the cap; the least recently seen make room. */
static void test_discovered_cap(void **state)
{
	struct fix *f = *state;
	char mac[18];
	unsigned i;
	json_t *l;

	f->inv.lim.discovered_max = 16;
	for (i = 0; i < 100; i++) {
		assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, i), "10.0.0.200", 1000 + i), 0);
		/* MAC 0 keeps asking: it stays. */
		assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, 0), "10.0.0.200", 1000 + i), 0);
	}
	assert_int_equal(inv_discovered_count(&f->inv), 16);
	l = inv_discovered_list(&f->inv);
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "mac")),
			    "52:54:00:00:00:00");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 0), "count")), 101);
	/* The other 15 are the newest: 85..99. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 1), "mac")),
			    mac_n(mac, 85));
	assert_string_equal(json_string_value(json_object_get(json_array_get(l, 15), "mac")),
			    mac_n(mac, 99));
	json_decref(l);
	/* A lower cap (SIGHUP) shrinks the table at the next new MAC. */
	f->inv.lim.discovered_max = 4;
	assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, 1000), "10.0.0.200", 2000), 0);
	assert_int_equal(inv_discovered_count(&f->inv), 4);
}

/* New MACs are recorded at most discovered_per_min a minute; known ones are always bumped. */
static void test_discovered_rate(void **state)
{
	struct fix *f = *state;
	char mac[18];
	unsigned i;
	json_t *l;

	f->inv.lim.discovered_per_min = 10;
	for (i = 0; i < 30; i++)
		assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, i), "10.0.0.200", 5000), 0);
	assert_int_equal(inv_discovered_count(&f->inv), 10);
	assert_int_equal(f->inv.disc_dropped, 20);
	assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, 0), "10.0.0.201", 5001), 0);
	l = inv_discovered_list(&f->inv);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 0), "count")), 2);
	json_decref(l);
	/* Six seconds give one more; a minute gives a full burst, no more. */
	assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, 100), "10.0.0.200", 5006), 0);
	assert_int_equal(inv_discovered_seen(&f->inv, mac_n(mac, 101), "10.0.0.200", 5006), 0);
	assert_int_equal(inv_discovered_count(&f->inv), 11);
	for (i = 200; i < 300; i++)
		inv_discovered_seen(&f->inv, mac_n(mac, i), "10.0.0.200", 9000);
	assert_int_equal(inv_discovered_count(&f->inv), 21);
}

static int64_t count_rows(struct fix *f, const char *sql)
{
	struct db_stmt *st = db_prepare(f->inv.db, sql);
	int64_t n = -1;

	assert_non_null(st);
	if (db_step(st) == DB_ROW)
		n = db_column_int64(st, 0);
	db_finalize(st);
	return n;
}

/* Prune until nothing more goes; each call deletes at most batch.  @ret calls made. */
static int prune_all(struct fix *f, enum inv_history kind, struct inv_keep k, int64_t now, int batch)
{
	int n, calls = 0;

	do {
		n = inv_prune(&f->inv, kind, &k, now, batch);
		assert_true(n >= 0 && n <= batch);
		calls++;
	} while (n == batch);
	return calls;
}

/* Events, boots and finished commands are kept by count and age, pruned in small steps. */
static void test_retention(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11");
	char err[256], boot[16];
	int64_t ack, id;
	json_t *ev, *args = json_object(), *res;
	int i;

	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	/* 100 events received at t = 1000..1099. */
	for (i = 0; i < 100; i++) {
		ev = json_pack("[{s:i, s:i, s:s, s:{}}]", "seq", i + 1, "time", i, "type", "t", "attrs");
		assert_int_equal(inv_events_store(&f->inv, a.id, "b1", ev, 1000 + i, &ack), 0);
		json_decref(ev);
	}
	/* Count: the newest 30 stay, in steps of at most 20. */
	assert_int_equal(prune_all(f, INV_EVENTS, (struct inv_keep){ 30, 0 }, 2000, 20), 4);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), 30);
	assert_int_equal(count_rows(f, "SELECT min(seq) FROM events"), 71);
	/* Age: none older than 10 s at t = 1100, i.e. received 1090 and later. */
	prune_all(f, INV_EVENTS, (struct inv_keep){ 0, 10 }, 1100, 7);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), 10);
	assert_int_equal(count_rows(f, "SELECT min(received) FROM events"), 1090);
	/* No limits: nothing goes. */
	assert_int_equal(inv_prune(&f->inv, INV_EVENTS, &(struct inv_keep){ 0, 0 }, 1 << 30, 10), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM events"), 10);

	/* Boots: times in ms. */
	for (i = 0; i < 10; i++) {
		snprintf(boot, sizeof(boot), "b%d", i);
		assert_int_equal(inv_boot_add(&f->inv, a.id, boot, (1000 + i) * 1000LL,
					      (1000 + i) * 1000LL + 500, args), 0);
	}
	prune_all(f, INV_BOOTS, (struct inv_keep){ 0, 5 }, 1010, 3);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM boots"), 5);
	prune_all(f, INV_BOOTS, (struct inv_keep){ 2, 0 }, 1010, 3);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM boots"), 2);

	/* Commands: finished ones go; an open one stays however old. */
	assert_int_equal(inv_cmd_add(&f->inv, a.id, "reboot", args, 100, &id), 0);
	for (i = 0; i < 20; i++) {
		int64_t c;
		assert_int_equal(inv_cmd_add(&f->inv, a.id, "sysctl", args, 200 + i, &c), 0);
		assert_int_equal(inv_cmd_finish(&f->inv, c, 1, NULL, NULL, 200 + i), 0);
	}
	prune_all(f, INV_COMMANDS, (struct inv_keep){ 5, 0 }, 1000, 4);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM commands"), 6);
	prune_all(f, INV_COMMANDS, (struct inv_keep){ 0, 1 }, 1000, 4);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM commands"), 1);
	res = inv_cmd_get(&f->inv, id);
	assert_non_null(res);
	assert_string_equal(json_string_value(json_object_get(res, "state")), "queued");
	json_decref(res);
	json_decref(args);
}

/* Count lines of what log_* wrote to stderr while fn ran that contain needle. */
static int stderr_count(void (*fn)(struct fix *), struct fix *f, const char *needle)
{
	char path[] = "/tmp/snow-inv-log-XXXXXX", line[1024];
	int fd = mkstemp(path), saved = dup(2), n = 0;
	FILE *in;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn(f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	in = fdopen(fd, "r");
	rewind(in);
	while (fgets(line, sizeof(line), in)) {
		if (strstr(line, needle))
			n++;
		fputs(line, stderr);
	}
	fclose(in);
	unlink(path);
	return n;
}

static void failing_writes(struct fix *f)
{
	int64_t ack;
	json_t *ev = json_pack("[{s:i, s:i, s:s, s:{}}]", "seq", 1, "time", 1, "type", "t", "attrs");
	int i;

	/* query_only: SQLite refuses every write as on a read-only file system. */
	assert_int_equal(inv_exec(&f->inv, "PRAGMA query_only = 1"), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(inv_node_take_nonce(&f->inv, 1, 1000 + i), -EIO);
		assert_int_equal(inv_events_store(&f->inv, 1, "b1", ev, 1000, &ack), -EIO);
		assert_int_equal(inv_discovered_seen(&f->inv, "52:54:00:00:00:77", "10.0.0.9", 1000), -EIO);
	}
	json_decref(ev);
}

/* A write the host cannot make: logged once with SQLite's reason, degraded until it can. */
static void test_write_failure(void **state)
{
	struct fix *f = *state;
	struct inv_node a = mk("node1", "52:54:00:00:00:01", "10.0.0.11");
	char err[256];

	if (db_engine(f->inv.db) != DB_SQLITE)
		skip(); /* it makes SQLite's file read-only; it_pg.sh stops the server instead */
	f->inv.lim.discovered_per_min = 1000;
	assert_int_equal(inv_node_add(&f->inv, &a, err, sizeof(err)), 0);
	assert_int_equal(a.id, 1);
	assert_false(inv_degraded(&f->inv));
	assert_int_equal(stderr_count(failing_writes, f, "readonly"), 1);
	assert_true(inv_degraded(&f->inv));
	assert_non_null(strstr(f->inv.health.reason, "readonly"));
	assert_int_equal(f->inv.health.failures, 15);
	assert_true(f->inv.health.fail_since > 0);
	/* A refused input is not the host's failure. */
	assert_int_equal(inv_exec(&f->inv, "PRAGMA query_only = 0"), 0);
	assert_int_equal(inv_node_take_nonce(&f->inv, 1, 1), 0);
	assert_int_equal(inv_node_take_nonce(&f->inv, 1, 1), -EALREADY);
	assert_int_equal(f->inv.health.failures, 15);
	/* Writes work, but too soon after the last failure to call it over. */
	assert_true(inv_degraded(&f->inv));
	f->inv.health.fail_last_ms -= INV_RECOVER_MS;
	/* A write that changes nothing proves nothing. */
	assert_int_equal(inv_cmd_expire(&f->inv, 1000, 10), 0);
	assert_true(inv_degraded(&f->inv));
	assert_int_equal(inv_node_take_nonce(&f->inv, 1, 2), 0);
	assert_false(inv_degraded(&f->inv));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_future_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovered_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discovered_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
