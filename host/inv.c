#include "inv.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>


#include "clock.h"
#include "jsonh.h"
#include "log.h"

/*
 * Migrations, oldest first: migrations[i] takes the schema from version i to
 * i + 1.  Never edit one that has shipped; add the next.
 */
static const char *const migrations[] = {
	/* 0 -> 1: nodes, discovered MACs, API tokens. */
	"CREATE TABLE nodes ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  mac TEXT NOT NULL UNIQUE,"
	"  ip TEXT NOT NULL UNIQUE,"
	"  image TEXT NOT NULL,"
	"  secret TEXT NOT NULL,"
	"  last_nonce INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE discovered ("
	"  mac TEXT PRIMARY KEY,"
	"  ip TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  count INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  sha256 TEXT NOT NULL UNIQUE,"
	"  role INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);",
	/* 1 -> 2: node events (the black boxes' contents) and the command queue. */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
	"  boot_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  attrs TEXT NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  UNIQUE (node_id, boot_id, seq));"
	"CREATE INDEX events_by_node ON events (node_id, id);"
	"CREATE TABLE commands ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
	"  op TEXT NOT NULL,"
	"  args TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  result TEXT,"
	"  error TEXT,"
	"  created INTEGER NOT NULL,"
	"  sent INTEGER,"
	"  done INTEGER);"
	"CREATE INDEX commands_open ON commands (node_id, state);",
	/* 2 -> 3: console users (yescrypt hashes) and their sessions. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  hash TEXT NOT NULL,"
	"  role INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	"  id INTEGER PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	"  sha256 TEXT NOT NULL UNIQUE,"
	"  csrf TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL);",
	/* 3 -> 4: boot history, one row per boot that reached the agent. */
	"CREATE TABLE boots ("
	"  id INTEGER PRIMARY KEY,"
	"  node_id INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,"
	"  boot_id TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  online INTEGER NOT NULL,"
	"  stages TEXT NOT NULL);"
	"CREATE INDEX boots_by_node ON boots (node_id, id);",
	/* 4 -> 5: profiles; a node's profile and own settings (its image moves there). */
	"CREATE TABLE profiles ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  settings TEXT NOT NULL DEFAULT '{}',"
	"  created INTEGER NOT NULL);"
	"ALTER TABLE nodes ADD COLUMN profile TEXT REFERENCES profiles(name);"
	"ALTER TABLE nodes ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';"
	"UPDATE nodes SET settings = json_object('image', image) WHERE image != 'default';",
	/* 5 -> 6: registered images, one row per version (files in STATE/images/NAME/VERSION). */
	"CREATE TABLE images ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  version TEXT NOT NULL,"
	"  kernel_size INTEGER NOT NULL,"
	"  initrd_size INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (name, version));",
	/* 6 -> 7: a rekeyed node's previous secret, until its agent takes the new one. */
	"ALTER TABLE nodes ADD COLUMN old_secret TEXT NOT NULL DEFAULT '';",
	/* 7 -> 8: an event's severity and publisher (NULL: an older agent's, which sent none). */
	"ALTER TABLE events ADD COLUMN severity TEXT;"
	"ALTER TABLE events ADD COLUMN publisher TEXT;",
	/*
	 * 8 -> 9: how far snowd has read each node's BMC event log, and the
	 * thresholds it keeps on the node's bmc.* gauges (bmc.c, inv_bmc.c).
	 */
	"CREATE TABLE bmc_logs ("
	"  node_id INTEGER PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,"
	"  cursor INTEGER NOT NULL DEFAULT 0,"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  thresholds TEXT NOT NULL DEFAULT '[]');",
};

const char *inv_role_name(enum inv_role r)
{
	switch (r) {
	case ROLE_VIEWER:
		return "viewer";
	case ROLE_OPERATOR:
		return "operator";
	case ROLE_ADMIN:
		return "admin";
	}
	return "none";
}

/*
 * A write that changed something went through: an episode of failures ends
 * once they have stopped for INV_RECOVER_MS.  (A write that changed nothing
 * proves nothing: SQLite wrote no page.)
 */
static void inv_note_ok(struct inv *inv)
{
	struct inv_health *h = &inv->health;
	int64_t now;

	if (!h->failing)
		return;
	now = clock_mono_ms();
	if (now - h->fail_last_ms < INV_RECOVER_MS)
		return;
	h->failing = 0;
	log_info("inventory: writes work again (they failed for %lld s; %llu failures in all)",
		 (long long)((h->fail_last_ms - h->fail_since_ms) / 1000),
		 (unsigned long long)h->failures);
}

/*
 * A write failed with rc: the store's reason is logged once per episode, not
 * per request.  @ret whether it was the host's failure (noted).
 */
static int inv_note_fail(struct inv *inv, int rc, const char *msg)
{
	struct inv_health *h = &inv->health;
	int e;

	if (!db_host_error(inv->db, rc, &e))
		return 0;
	h->failures++;
	h->fail_last_ms = clock_mono_ms();
	if (h->failing)
		return 1;
	h->failing = 1;
	h->fail_since_ms = h->fail_last_ms;
	h->fail_since = (int64_t)time(NULL);
	snprintf(h->reason, sizeof(h->reason), "%s%s%s", msg, e ? ": " : "", e ? strerror(e) : "");
	log_warnx("inventory: cannot write (%s): snowd is degraded; node requests are answered "
		  "503 and nodes are not marked offline until writes work again", h->reason);
	return 1;
}

int inv_degraded(const struct inv *inv)
{
	return inv->health.failing;
}

int inv_write_step(struct inv *inv, struct db_stmt *st)
{
	int rc = db_step(st);

	if (rc == DB_DONE || rc == DB_ROW) {
		if (db_autocommit(inv->db) && db_changes(inv->db) > 0)
			inv_note_ok(inv);
	} else {
		inv_note_fail(inv, rc, db_errmsg(inv->db));
	}
	return rc;
}

int inv_exec(struct inv *inv, const char *sql)
{
	int rc;

	/* Inside a group commit, a transaction is a savepoint of it (inv_batch_begin). */
	if (inv->batch && !strncmp(sql, "BEGIN", 5))
		sql = "SAVEPOINT inv_txn";
	else if (inv->batch && !strcmp(sql, "COMMIT"))
		sql = "RELEASE inv_txn";
	rc = db_exec(inv->db, sql);

	if (rc != DB_OK) {
		/* The host's own failures are logged once by inv_note_fail, not per request. */
		if (!inv_note_fail(inv, rc, db_errmsg(inv->db)))
			log_warnx("inventory: %s", db_errmsg(inv->db));
		return -EIO;
	}
	/* A commit that wrote something shows writes work. */
	if (!strncmp(sql, "BEGIN", 5) || !strncmp(sql, "SAVEPOINT", 9))
		inv->txn_changes = db_total_changes(inv->db);
	else if (!strcmp(sql, "COMMIT") && db_total_changes(inv->db) != inv->txn_changes)
		inv_note_ok(inv);
	return 0;
}

void inv_rollback(struct inv *inv)
{
	inv_nodes_changed(inv); /* what inv_node_auth read inside may be gone */
	/* After SQLITE_FULL or an I/O error SQLite may have rolled back already. */
	if (db_autocommit(inv->db)) {
		/* ... the group's transaction too: its answers must not say stored. */
		inv->batch_lost |= inv->batch;
		inv->batch = 0;
		return;
	}
	if (inv->batch) {
		/* Only this request's part of the group goes. */
		if (inv_exec(inv, "ROLLBACK TO inv_txn") || inv_exec(inv, "RELEASE inv_txn"))
			inv->batch = !db_autocommit(inv->db);
		return;
	}
	inv_exec(inv, "ROLLBACK");
}

int inv_batch_begin(struct inv *inv)
{
	if (inv->batch)
		return 0;
	if (inv_exec(inv, "BEGIN IMMEDIATE"))
		return -EIO;
	inv->batch = 1;
	return 0;
}

int inv_batch_commit(struct inv *inv)
{
	if (inv->batch_lost) {
		inv_nodes_changed(inv);
		inv->batch_lost = 0;
		if (inv->batch) {
			inv->batch = 0;
			inv_rollback(inv); /* a group opened since goes with it */
		}
		return -EIO;
	}
	if (!inv->batch)
		return 0;
	inv->batch = 0;
	if (db_autocommit(inv->db)) {
		inv_nodes_changed(inv);
		return -EIO; /* the store rolled it back already (disk full, I/O error) */
	}
	inv->txn_changes = -1; /* the group wrote (its nonces at least): a commit shows writes work */
	if (inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		return -EIO;
	}
	return 0;
}

int inv_schema_version(struct inv *inv)
{
	int v = db_schema_version(inv->db);

	return v < 0 ? -1 : v;
}

int inv_open(struct inv *inv, const char *target, char *err, size_t errlen)
{
	int v, target_v = (int)(sizeof(migrations) / sizeof(migrations[0]));

	inv->db = NULL;
	inv->ncache = 0;
	inv->batch = inv->batch_lost = 0;
	inv->auth = NULL; /* inv_node_auth's table: none yet */
	inv->nodes_gen = 1;
	if (db_open(&inv->db, target, err, errlen))
		return -EIO;
	v = inv_schema_version(inv);
	if (v < 0)
		goto err_sql;
	if (v < target_v) {
		/* Two snowd starting on one database: the first migrates, the other waits, then sees it done. */
		if (inv_exec(inv, "BEGIN IMMEDIATE"))
			goto err_sql;
		v = inv_schema_version(inv);
		if (v < 0)
			goto err_rollback;
		for (; v < target_v; v++) {
			log_info("inventory: migrating schema %d -> %d", v, v + 1);
			if (inv_exec(inv, migrations[v]) || db_schema_set(inv->db, v + 1) != DB_OK)
				goto err_rollback;
		}
		if (inv_exec(inv, "COMMIT"))
			goto err_sql;
	}
	if (v > target_v) {
		snprintf(err, errlen, "%s: schema version %d is newer than this snowd (%d)",
			 db_is_url(target) ? "database" : target, v, target_v);
		goto err_close;
	}
	return 0;

err_rollback:
	snprintf(err, errlen, "%s: %s", db_is_url(target) ? "database" : target,
		 db_errmsg(inv->db));
	inv_exec(inv, "ROLLBACK");
	goto err_close;
err_sql:
	snprintf(err, errlen, "%s: %s", db_is_url(target) ? "database" : target,
		 db_errmsg(inv->db));
err_close:
	db_close(inv->db);
	inv->db = NULL;
	return -EIO;
}

void inv_close(struct inv *inv)
{
	size_t i;

	for (i = 0; i < inv->ncache; i++) {
		db_finalize(inv->cache[i].st);
		free(inv->cache[i].sql);
	}
	inv->ncache = 0;
	inv_auth_free(inv);
	db_close(inv->db);
	inv->db = NULL;
}

/* FNV-1a of a statement's text. */
static uint64_t inv_sql_hash(const char *sql)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 0x100000001b3ull;
	return h;
}

struct db_stmt *inv_prepare(struct inv *inv, const char *sql)
{
	uint64_t hash = inv_sql_hash(sql);
	struct db_stmt *st = NULL;
	struct inv_stmt *c;
	int known = 0;
	size_t i;

	for (i = 0; i < inv->ncache; i++) {
		c = &inv->cache[i];
		if (c->hash != hash || strcmp(c->sql, sql))
			continue;
		if (!c->busy) {
			c->busy = 1;
			return c->st;
		}
		known = 1;
	}
	st = db_prepare(inv->db, sql);
	if (!st) {
		log_warnx("inventory: prepare: %s", db_errmsg(inv->db));
		return NULL;
	}
	/* Keep the first statement of each SQL while there is room; others go at inv_done(). */
	if (!known && inv->ncache < INV_STMT_CACHE) {
		c = &inv->cache[inv->ncache];
		c->sql = strdup(sql);
		if (c->sql) {
			c->hash = hash;
			c->st = st;
			c->busy = 1;
			inv->ncache++;
		}
	}
	return st;
}

void inv_done(struct inv *inv, struct db_stmt *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < inv->ncache; i++) {
		if (inv->cache[i].st == st) {
			db_reset(st);
			db_clear_bindings(st);
			inv->cache[i].busy = 0;
			return;
		}
	}
	db_finalize(st);
}

static void inv_copy_text(char *dst, size_t cap, struct db_stmt *st, int col)
{
	const unsigned char *t = db_column_text(st, col);

	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

#define NODE_COLS \
	"id, name, mac, ip, image, secret, last_nonce, created, coalesce(profile, ''), old_secret"

static void inv_row_node(struct db_stmt *st, struct inv_node *n)
{
	n->id = db_column_int64(st, 0);
	inv_copy_text(n->name, sizeof(n->name), st, 1);
	inv_copy_text(n->mac, sizeof(n->mac), st, 2);
	inv_copy_text(n->ip, sizeof(n->ip), st, 3);
	inv_copy_text(n->image, sizeof(n->image), st, 4);
	inv_copy_text(n->secret, sizeof(n->secret), st, 5);
	n->last_nonce = (uint64_t)db_column_int64(st, 6);
	n->created = db_column_int64(st, 7);
	inv_copy_text(n->profile, sizeof(n->profile), st, 8);
	inv_copy_text(n->old_secret, sizeof(n->old_secret), st, 9);
}

/* Which node already holds column = value, for a message naming it. */
static int inv_holder(struct inv *inv, const char *col, const char *value, char *who, size_t cap)
{
	char sql[96];
	struct db_stmt *st;
	int found = 0;

	snprintf(sql, sizeof(sql), "SELECT name FROM nodes WHERE %s = ?", col);
	st = inv_prepare(inv, sql);
	if (!st)
		return -EIO;
	db_bind_text(st, 1, value);
	if (db_step(st) == DB_ROW) {
		inv_copy_text(who, cap, st, 0);
		found = 1;
	}
	inv_done(inv, st);
	return found;
}

int inv_node_add(struct inv *inv, struct inv_node *n, char *err, size_t errlen)
{
	static const char *const cols[] = { "name", "mac", "ip" };
	const char *vals[] = { n->name, n->mac, n->ip };
	struct db_stmt *st;
	char who[SNOW_NAME_MAX + 1];
	int rc, i;

	for (i = 0; i < 3; i++) {
		rc = inv_holder(inv, cols[i], vals[i], who, sizeof(who));
		if (rc < 0)
			return rc;
		if (rc) {
			if (i == 0)
				snprintf(err, errlen, "name: a node named '%s' already exists", n->name);
			else
				snprintf(err, errlen, "%s: %s is already used by node '%s'", cols[i],
					 vals[i], who);
			return -EEXIST;
		}
	}
	if ((rc = sign_new_secret(n->secret)))
		return rc;
	n->created = (int64_t)time(NULL);
	n->last_nonce = 0;
	inv_nodes_changed(inv);
	/* An image given at creation is the node's own setting; the column is historical. */
	st = inv_prepare(inv, "INSERT INTO nodes (name, mac, ip, image, secret, created, profile, "
			      "settings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, ''), "
			      "CASE WHEN ?4 = 'default' THEN '{}' ELSE json_object('image', ?4) END)");
	if (!st)
		return -EIO;
	db_bind_text(st, 1, n->name);
	db_bind_text(st, 2, n->mac);
	db_bind_text(st, 3, n->ip);
	db_bind_text(st, 4, n->image);
	db_bind_text(st, 5, n->secret);
	db_bind_int64(st, 6, n->created);
	db_bind_text(st, 7, n->profile);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc == DB_CONSTRAINT) {
		snprintf(err, errlen, "name: conflicts with an existing node");
		return -EEXIST;
	}
	if (rc != DB_DONE) {
		snprintf(err, errlen, "inventory: %s", db_errmsg(inv->db));
		return -EIO;
	}
	n->id = db_last_id(inv->db);
	inv_discovered_forget(inv, n->mac);
	return 0;
}

int inv_delete_named(struct inv *inv, const char *table, const char *name)
{
	char sql[96];
	struct db_stmt *st;
	int rc;

	/* table is one of ours, never input. */
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE name = ?", table);
	if (!strcmp(table, "nodes"))
		inv_nodes_changed(inv);
	st = inv_prepare(inv, sql);
	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc != DB_DONE)
		return -EIO;
	return db_changes(inv->db) ? 0 : -ENOENT;
}

json_t *inv_list_named_roles(struct inv *inv, const char *table)
{
	char sql[96];
	struct db_stmt *st;
	json_t *arr;

	snprintf(sql, sizeof(sql), "SELECT name, role, created FROM %s ORDER BY name", table);
	st = inv_prepare(inv, sql);
	if (!st)
		return NULL;
	arr = json_array();
	while (arr && db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "name",
						     (const char *)db_column_text(st, 0), "role",
						     inv_role_name((enum inv_role)db_column_int(st, 1)),
						     "created", (json_int_t)db_column_int64(st, 2)));
	inv_done(inv, st);
	return arr;
}

int inv_node_rm(struct inv *inv, const char *name)
{
	return inv_delete_named(inv, "nodes", name);
}

static int inv_node_get_where(struct inv *inv, const char *col, const char *value,
			      struct inv_node *out)
{
	char sql[128];
	struct db_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT " NODE_COLS " FROM nodes WHERE %s = ?", col);
	st = inv_prepare(inv, sql);
	if (!st)
		return -EIO;
	db_bind_text(st, 1, value);
	rc = db_step(st);
	if (rc == DB_ROW)
		inv_row_node(st, out);
	inv_done(inv, st);
	if (rc == DB_ROW)
		return 0;
	return rc == DB_DONE ? -ENOENT : -EIO;
}

int inv_node_get(struct inv *inv, const char *name, struct inv_node *out)
{
	return inv_node_get_where(inv, "name", name, out);
}

int inv_node_get_by_mac(struct inv *inv, const char *mac, struct inv_node *out)
{
	return inv_node_get_where(inv, "mac", mac, out);
}

int inv_node_get_by_ip(struct inv *inv, const char *ip, struct inv_node *out)
{
	return inv_node_get_where(inv, "ip", ip, out);
}

int inv_boot_add(struct inv *inv, int64_t node_id, const char *boot_id, int64_t started,
		 int64_t online, json_t *stages)
{
	/* A re-registration within the same boot (after a snowd restart) adds nothing. */
	struct db_stmt *st = inv_prepare(inv, "INSERT INTO boots (node_id, boot_id, started, online, "
					    "stages) SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS "
					    "(SELECT 1 FROM boots WHERE node_id = ?1 AND boot_id = ?2)");
	char *text = jsonh_dump(stages);
	int rc;

	if (!st || !text) {
		inv_done(inv, st);
		free(text);
		return -EIO;
	}
	db_bind_int64(st, 1, node_id);
	db_bind_text(st, 2, boot_id);
	db_bind_int64(st, 3, started);
	db_bind_int64(st, 4, online);
	db_bind_text_own(st, 5, text);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? 0 : -EIO;
}

json_t *inv_boot_list(struct inv *inv, int64_t node_id, int limit)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT boot_id, started, online, stages FROM boots "
					    "WHERE node_id = ? ORDER BY id DESC LIMIT ?");
	json_t *arr;

	if (!st)
		return NULL;
	db_bind_int64(st, 1, node_id);
	db_bind_int64(st, 2, limit);
	arr = json_array();
	while (arr && db_step(st) == DB_ROW) {
		json_t *stages = json_loads((const char *)db_column_text(st, 3), 0, NULL);
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:o}", "boot_id",
						     (const char *)db_column_text(st, 0), "started",
						     (json_int_t)db_column_int64(st, 1), "online",
						     (json_int_t)db_column_int64(st, 2), "stages",
						     stages ? stages : json_object()));
	}
	inv_done(inv, st);
	return arr;
}

int inv_node_take_nonce(struct inv *inv, int64_t id, uint64_t nonce)
{
	struct db_stmt *st;
	int rc;

	if (nonce > (uint64_t)INT64_MAX)
		return -EALREADY;
	st = inv_prepare(inv, "UPDATE nodes SET last_nonce = ? WHERE id = ? AND last_nonce < ?");
	if (!st)
		return -EIO;
	db_bind_int64(st, 1, (int64_t)nonce);
	db_bind_int64(st, 2, id);
	db_bind_int64(st, 3, (int64_t)nonce);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc != DB_DONE)
		return -EIO;
	return db_changes(inv->db) ? 0 : -EALREADY;
}

int inv_node_rekey(struct inv *inv, int64_t id, char secret_out[SIGN_SECRET_HEX_LEN + 1])
{
	struct db_stmt *st;
	int rc;

	if ((rc = sign_new_secret(secret_out)))
		return rc;
	inv_nodes_changed(inv);
	st = inv_prepare(inv, "UPDATE nodes SET old_secret = CASE WHEN old_secret = '' THEN secret "
			      "ELSE old_secret END, secret = ? WHERE id = ?");
	if (!st)
		return -EIO;
	db_bind_text(st, 1, secret_out);
	db_bind_int64(st, 2, id);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc != DB_DONE)
		return -EIO;
	return db_changes(inv->db) ? 0 : -ENOENT;
}

int inv_node_key_taken(struct inv *inv, int64_t id)
{
	struct db_stmt *st = inv_prepare(inv, "UPDATE nodes SET old_secret = '' WHERE id = ?");
	int rc;

	inv_nodes_changed(inv);
	if (!st)
		return -EIO;
	db_bind_int64(st, 1, id);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? 0 : -EIO;
}

int inv_node_foreach(struct inv *inv, int (*fn)(void *ctx, const struct inv_node *n), void *ctx)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT " NODE_COLS " FROM nodes ORDER BY name");
	struct inv_node n;
	int rc, ret = 0;

	if (!st)
		return -EIO;
	while ((rc = db_step(st)) == DB_ROW) {
		inv_row_node(st, &n);
		ret = fn(ctx, &n);
		if (ret)
			break;
	}
	inv_done(inv, st);
	if (!ret && rc != DB_DONE)
		return -EIO;
	return ret;
}

int inv_ip_taken(struct inv *inv, const char *ip)
{
	char who[SNOW_NAME_MAX + 1];

	return inv_holder(inv, "ip", ip, who, sizeof(who));
}

/*
 * Take a token for a new MAC: the bucket holds a minute's worth and fills at
 * discovered_per_min a minute.  @ret 1 when taken, 0 when over the rate.
 */
static int inv_discovery_allowed(struct inv *inv, int64_t now)
{
	double rate = (double)inv->lim.discovered_per_min;

	if (rate <= 0)
		return 1;
	if (!inv->disc_refill || now < inv->disc_refill) {
		inv->disc_tokens = rate;
	} else if (now > inv->disc_refill) {
		inv->disc_tokens += (double)(now - inv->disc_refill) * rate / 60;
		if (inv->disc_tokens > rate)
			inv->disc_tokens = rate;
	}
	inv->disc_refill = now;
	if (inv->disc_tokens < 1) {
		inv->disc_dropped++;
		/* One line a minute at most: the flood itself is what it says. */
		if (now - inv->disc_dropped_logged >= 60) {
			log_warnx("discovery: over %ld new MACs a minute: %llu not recorded so far "
				  "(they ask again; --discovery-rate)", inv->lim.discovered_per_min,
				  (unsigned long long)inv->disc_dropped);
			inv->disc_dropped_logged = now;
		}
		return 0;
	}
	inv->disc_tokens -= 1;
	return 1;
}

int inv_discovered_seen(struct inv *inv, const char *mac, const char *ip, int64_t now)
{
	struct db_stmt *st = inv_prepare(inv, "UPDATE discovered SET ip = ?, last_seen = ?, "
					    "count = count + 1 WHERE mac = ?");
	int rc;

	if (!st)
		return -EIO;
	db_bind_text(st, 1, ip);
	db_bind_int64(st, 2, now);
	db_bind_text(st, 3, mac);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc != DB_DONE)
		return -EIO;
	if (db_changes(inv->db) || !inv_discovery_allowed(inv, now))
		return 0;
	/* A new MAC: make room (the least recently seen go) and insert, in one transaction. */
	if (inv_exec(inv, "BEGIN IMMEDIATE"))
		return -EIO;
	rc = -EIO;
	if (inv->lim.discovered_max > 0) {
		st = inv_prepare(inv, "DELETE FROM discovered WHERE mac IN (SELECT mac FROM discovered "
				      "ORDER BY last_seen, first_seen, mac LIMIT max(0, (SELECT "
				      "count(*) FROM discovered) - ?1 + 1))");
		if (!st)
			goto out;
		db_bind_int64(st, 1, inv->lim.discovered_max);
		if (inv_write_step(inv, st) != DB_DONE) {
			inv_done(inv, st);
			goto out;
		}
		inv_done(inv, st);
	}
	st = inv_prepare(inv, "INSERT INTO discovered (mac, ip, first_seen, last_seen) "
			      "VALUES (?, ?, ?, ?)");
	if (!st)
		goto out;
	db_bind_text(st, 1, mac);
	db_bind_text(st, 2, ip);
	db_bind_int64(st, 3, now);
	db_bind_int64(st, 4, now);
	if (inv_write_step(inv, st) == DB_DONE)
		rc = 0;
	inv_done(inv, st);
out:
	if (rc || inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		return -EIO;
	}
	return 0;
}

int inv_count(struct inv *inv, const char *table)
{
	char sql[64];
	struct db_stmt *st;
	int n = -EIO;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	st = inv_prepare(inv, sql);
	if (!st)
		return -EIO;
	if (db_step(st) == DB_ROW)
		n = db_column_int(st, 0);
	inv_done(inv, st);
	return n;
}

int inv_discovered_count(struct inv *inv)
{
	return inv_count(inv, "discovered");
}

int inv_discovered_forget(struct inv *inv, const char *mac)
{
	struct db_stmt *st = inv_prepare(inv, "DELETE FROM discovered WHERE mac = ?");
	int rc;

	if (!st)
		return -EIO;
	db_bind_text(st, 1, mac);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? 0 : -EIO;
}

json_t *inv_discovered_list(struct inv *inv)
{
	struct db_stmt *st = inv_prepare(
		inv, "SELECT mac, ip, first_seen, last_seen, count FROM discovered ORDER BY mac");
	json_t *arr;

	if (!st)
		return NULL;
	arr = json_array();
	while (arr && db_step(st) == DB_ROW) {
		const unsigned char *ip = db_column_text(st, 1);
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:I, s:I, s:I}", "mac",
				       (const char *)db_column_text(st, 0), "ip",
				       ip ? (const char *)ip : "", "first_seen",
				       (json_int_t)db_column_int64(st, 2), "last_seen",
				       (json_int_t)db_column_int64(st, 3), "count",
				       (json_int_t)db_column_int64(st, 4)));
	}
	inv_done(inv, st);
	return arr;
}

int inv_ips_taken(struct inv *inv, uint32_t first, uint32_t last, unsigned char *taken)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT ip FROM nodes");
	uint32_t ip;

	if (!st)
		return -EIO;
	while (db_step(st) == DB_ROW) {
		const char *t = (const char *)db_column_text(st, 0);
		if (t && !valid_ipv4(t, &ip, NULL, 0) && ip >= first && ip <= last)
			taken[ip - first] = 1;
	}
	inv_done(inv, st);
	return 0;
}
