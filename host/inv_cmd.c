/* The inventory's events and command queue (schema version 2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inv.h"
#include "jsonh.h"
#include "log.h"

const char *cmd_state_name(enum cmd_state s)
{
	static const char *const names[] = { "queued", "sent", "done", "failed", "timed out" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int inv_events_insert(struct inv *inv, int64_t node_id, const char *boot_id, json_t *events,
		      int64_t now)
{
	struct db_stmt *ins;
	json_t *e;
	size_t i;
	int rc = 0;

	ins = inv_prepare(inv, "INSERT OR IGNORE INTO events (node_id, boot_id, seq, time, type, "
			       "attrs, received, severity, publisher) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!ins)
		return -EIO;
	json_array_foreach(events, i, e) {
		char *attrs = jsonh_dump(json_object_get(e, "attrs"));
		if (!attrs) {
			rc = -EIO;
			break;
		}
		db_reset(ins);
		db_bind_int64(ins, 1, node_id);
		db_bind_text(ins, 2, boot_id);
		db_bind_int64(ins, 3, json_integer_value(json_object_get(e, "seq")));
		db_bind_int64(ins, 4, json_integer_value(json_object_get(e, "time")));
		db_bind_text(ins, 5, json_string_value(json_object_get(e, "type")));
		db_bind_text_own(ins, 6, attrs);
		db_bind_int64(ins, 7, now);
		/* Absent (an older agent's event): NULL, and the API leaves them out. */
		db_bind_text(ins, 8, json_string_value(json_object_get(e, "severity")));
		db_bind_text(ins, 9, json_string_value(json_object_get(e, "publisher")));
		if (inv_write_step(inv, ins) != DB_DONE) {
			rc = -EIO;
			break;
		}
	}
	inv_done(inv, ins);
	return rc;
}

int inv_events_store(struct inv *inv, int64_t node_id, const char *boot_id, json_t *events,
		     int64_t now, int64_t *ack)
{
	struct db_stmt *mx = NULL;
	int rc = -EIO;

	*ack = 0;
	if (inv_exec(inv, "BEGIN IMMEDIATE"))
		return -EIO;
	if (inv_events_insert(inv, node_id, boot_id, events, now))
		goto out;
	/* snowd's own events of a boot (a crash: seq -1) are not the agent's to acknowledge. */
	mx = inv_prepare(inv, "SELECT coalesce(max(seq), 0) FROM events WHERE node_id = ? AND boot_id = ? "
			      "AND seq > 0");
	if (!mx)
		goto out;
	db_bind_int64(mx, 1, node_id);
	db_bind_text(mx, 2, boot_id);
	if (inv_write_step(inv, mx) != DB_ROW)
		goto out;
	*ack = db_column_int64(mx, 0);
	rc = 0;
out:
	inv_done(inv, mx);
	if (rc || inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		*ack = 0;
		return -EIO;
	}
	return 0;
}

/* Parse a column holding JSON text; a NULL column gives def (which may be NULL). */
static json_t *inv_col_json(struct db_stmt *st, int col)
{
	const char *t = (const char *)db_column_text(st, col);
	json_t *v;

	if (!t)
		return json_null();
	v = json_loads(t, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(t);
}

json_t *inv_events_list(struct inv *inv, int64_t node_id, int64_t before, int64_t after,
			int limit)
{
	/* after >= 0: oldest first from there (for followers); else newest first. */
	struct db_stmt *st = inv_prepare(
		inv, after >= 0 ? "SELECT e.id, n.name, e.boot_id, e.seq, e.time, e.type, e.attrs, e.received, "
			     "e.severity, e.publisher "
			     "FROM events e JOIN nodes n ON n.id = e.node_id "
			     "WHERE (?1 = 0 OR e.node_id = ?1) AND (?2 = 0 OR e.id < ?2) AND e.id > ?4 "
			     "ORDER BY e.id ASC LIMIT ?3" :
			     "SELECT e.id, n.name, e.boot_id, e.seq, e.time, e.type, e.attrs, e.received, "
			     "e.severity, e.publisher "
			     "FROM events e JOIN nodes n ON n.id = e.node_id "
			     "WHERE (?1 = 0 OR e.node_id = ?1) AND (?2 = 0 OR e.id < ?2) "
			     "ORDER BY e.id DESC LIMIT ?3");
	json_t *arr;

	if (!st)
		return NULL;
	db_bind_int64(st, 1, node_id);
	db_bind_int64(st, 2, before);
	db_bind_int64(st, 3, limit);
	if (after >= 0)
		db_bind_int64(st, 4, after);
	arr = json_array();
	while (arr && db_step(st) == DB_ROW) {
		const char *sev = (const char *)db_column_text(st, 8);
		const char *pub = (const char *)db_column_text(st, 9);
		json_t *ev = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:o, s:I}", "id",
				       (json_int_t)db_column_int64(st, 0), "node",
				       (const char *)db_column_text(st, 1), "boot_id",
				       (const char *)db_column_text(st, 2), "seq",
				       (json_int_t)db_column_int64(st, 3), "time",
				       (json_int_t)db_column_int64(st, 4), "type",
				       (const char *)db_column_text(st, 5), "attrs",
				       inv_col_json(st, 6), "received",
				       (json_int_t)db_column_int64(st, 7));
		if (ev && sev)
			json_object_set_new(ev, "severity", json_string(sev));
		if (ev && pub)
			json_object_set_new(ev, "publisher", json_string(pub));
		json_array_append_new(arr, ev);
	}
	inv_done(inv, st);
	return arr;
}

int64_t inv_event_id(struct inv *inv, int64_t node_id, const char *boot_id, int64_t seq)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT id FROM events WHERE node_id = ? AND boot_id = ? "
					    "AND seq = ?");
	int64_t id = 0;

	if (!st)
		return 0;
	db_bind_int64(st, 1, node_id);
	db_bind_text(st, 2, boot_id);
	db_bind_int64(st, 3, seq);
	if (db_step(st) == DB_ROW)
		id = db_column_int64(st, 0);
	inv_done(inv, st);
	return id;
}

int inv_cmd_add(struct inv *inv, int64_t node_id, const char *op, json_t *args, int64_t now,
		int64_t *id)
{
	struct db_stmt *st = inv_prepare(inv, "INSERT INTO commands (node_id, op, args, state, created) "
					    "VALUES (?, ?, ?, 'queued', ?)");
	char *text = jsonh_dump(args);
	int rc;

	if (!st || !text) {
		inv_done(inv, st);
		free(text);
		return -EIO;
	}
	db_bind_int64(st, 1, node_id);
	db_bind_text(st, 2, op);
	db_bind_text_own(st, 3, text);
	db_bind_int64(st, 4, now);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc != DB_DONE)
		return -EIO;
	*id = db_last_id(inv->db);
	return 0;
}

/*
 * The power driver's ops (power.on/off/cycle/status, power.c) run on the
 * host: never handed to the agent, never finished by its results.
 */
#define CMD_FOR_NODE "op NOT LIKE 'power.%'"

json_t *inv_cmd_take_pending(struct inv *inv, int64_t node_id, int64_t now)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT id, op, args FROM commands WHERE node_id = ? "
					    "AND state IN ('queued', 'sent') AND " CMD_FOR_NODE
					    " ORDER BY id");
	struct db_stmt *up = inv_prepare(inv, "UPDATE commands SET state = 'sent', sent = ? "
					    "WHERE node_id = ? AND state = 'queued' AND " CMD_FOR_NODE);
	json_t *arr = NULL;

	if (!st || !up)
		goto out;
	db_bind_int64(st, 1, node_id);
	arr = json_array();
	while (arr && db_step(st) == DB_ROW) {
		json_array_append_new(arr, json_pack("{s:I, s:s, s:o}", "id",
						     (json_int_t)db_column_int64(st, 0), "op",
						     (const char *)db_column_text(st, 1),
						     "args", inv_col_json(st, 2)));
	}
	if (arr && json_array_size(arr)) {
		db_bind_int64(up, 1, now);
		db_bind_int64(up, 2, node_id);
		if (inv_write_step(inv, up) != DB_DONE)
			log_warnx("inventory: cannot mark commands sent");
	}
out:
	inv_done(inv, st);
	inv_done(inv, up);
	return arr;
}

/* Store results for node_id's open commands: the node's (host 0) or snowd's own (host 1). */
static int inv_cmd_store(struct inv *inv, int64_t node_id, json_t *results, int64_t now, int host)
{
	struct db_stmt *st;
	json_t *r;
	size_t i;
	int rc = 0;

	if (!json_array_size(results))
		return 0;
	st = inv_prepare(inv, host ? "UPDATE commands SET state = ?, result = ?, error = ?, done = ? "
				     "WHERE id = ? AND node_id = ? AND state IN ('queued', 'sent')" :
				     "UPDATE commands SET state = ?, result = ?, error = ?, done = ? "
				     "WHERE id = ? AND node_id = ? AND state IN ('queued', 'sent') "
				     "AND " CMD_FOR_NODE);
	if (!st || inv_exec(inv, "BEGIN IMMEDIATE")) {
		inv_done(inv, st);
		return -EIO;
	}
	json_array_foreach(results, i, r) {
		int ok = json_is_true(json_object_get(r, "ok"));
		json_t *res = json_object_get(r, "result");
		db_reset(st);
		db_bind_text(st, 1, ok ? "done" : "failed");
		if (res)
			db_bind_text_own(st, 2, jsonh_dump(res));
		else
			db_bind_null(st, 2);
		if (!ok)
			db_bind_text(st, 3, json_string_value(json_object_get(r, "error")));
		else
			db_bind_null(st, 3);
		db_bind_int64(st, 4, now);
		db_bind_int64(st, 5, json_integer_value(json_object_get(r, "id")));
		db_bind_int64(st, 6, node_id);
		if (inv_write_step(inv, st) != DB_DONE) {
			rc = -EIO;
			break;
		}
	}
	inv_done(inv, st);
	if (rc || inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		return -EIO;
	}
	return 0;
}

int inv_cmd_results(struct inv *inv, int64_t node_id, json_t *results, int64_t now)
{
	return inv_cmd_store(inv, node_id, results, now, 0);
}

int inv_cmd_expire(struct inv *inv, int64_t now, int64_t max_age)
{
	struct db_stmt *st = inv_prepare(inv, "UPDATE commands SET state = 'timed out', done = ?1, "
					    "error = 'no result from the node in time' "
					    "WHERE state IN ('queued', 'sent') AND created < ?1 - ?2");
	int rc;

	if (!st)
		return -EIO;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, max_age);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? db_changes(inv->db) : -EIO;
}

#define CMD_COLS "c.id, n.name, c.op, c.args, c.state, c.result, c.error, c.created, c.sent, c.done"

static json_t *inv_cmd_row(struct db_stmt *st)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:s, s:I}", "id",
			      (json_int_t)db_column_int64(st, 0), "node",
			      (const char *)db_column_text(st, 1), "op",
			      (const char *)db_column_text(st, 2), "args", inv_col_json(st, 3),
			      "state", (const char *)db_column_text(st, 4), "created",
			      (json_int_t)db_column_int64(st, 7));

	if (!o)
		return NULL;
	if (!db_column_null(st, 5))
		json_object_set_new(o, "result", inv_col_json(st, 5));
	if (!db_column_null(st, 6))
		json_object_set_new(o, "error", json_string((const char *)db_column_text(st, 6)));
	if (!db_column_null(st, 8))
		json_object_set_new(o, "sent", json_integer(db_column_int64(st, 8)));
	if (!db_column_null(st, 9))
		json_object_set_new(o, "done", json_integer(db_column_int64(st, 9)));
	return o;
}

json_t *inv_cmd_get(struct inv *inv, int64_t id)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT " CMD_COLS " FROM commands c JOIN nodes n "
					    "ON n.id = c.node_id WHERE c.id = ?");
	json_t *o = NULL;

	if (!st)
		return NULL;
	db_bind_int64(st, 1, id);
	if (db_step(st) == DB_ROW)
		o = inv_cmd_row(st);
	inv_done(inv, st);
	return o;
}

json_t *inv_cmd_list(struct inv *inv, int64_t node_id, int limit)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT " CMD_COLS " FROM commands c JOIN nodes n "
					    "ON n.id = c.node_id WHERE c.node_id = ? "
					    "ORDER BY c.id DESC LIMIT ?");
	json_t *arr;

	if (!st)
		return NULL;
	db_bind_int64(st, 1, node_id);
	db_bind_int64(st, 2, limit);
	arr = json_array();
	while (arr && db_step(st) == DB_ROW)
		json_array_append_new(arr, inv_cmd_row(st));
	inv_done(inv, st);
	return arr;
}

int inv_cmd_finish(struct inv *inv, int64_t id, int ok, json_t *result, const char *error,
		   int64_t now)
{
	json_t *r = json_pack("[{s:I, s:b}]", "id", (json_int_t)id, "ok", ok);
	struct db_stmt *st;
	int64_t node_id = 0;
	int rc;

	if (!r)
		return -ENOMEM;
	if (result)
		json_object_set(json_array_get(r, 0), "result", result);
	if (error)
		json_object_set_new(json_array_get(r, 0), "error", json_string(error));
	st = inv_prepare(inv, "SELECT node_id FROM commands WHERE id = ?");
	if (st) {
		db_bind_int64(st, 1, id);
		if (db_step(st) == DB_ROW)
			node_id = db_column_int64(st, 0);
		inv_done(inv, st);
	}
	rc = node_id ? inv_cmd_store(inv, node_id, r, now, 1) : -ENOENT;
	if (!rc && !db_changes(inv->db))
		rc = -ENOENT;
	json_decref(r);
	return rc;
}

int inv_cmd_mark_sent(struct inv *inv, int64_t id, int64_t now)
{
	struct db_stmt *st = inv_prepare(inv, "UPDATE commands SET state = 'sent', sent = ? WHERE id = ?");
	int rc;

	if (!st)
		return -EIO;
	db_bind_int64(st, 1, now);
	db_bind_int64(st, 2, id);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? 0 : -EIO;
}

json_t *inv_cmd_boot_changed(struct inv *inv, int64_t node_id, const char *boot_id, int64_t now)
{
	/*
	 * Only a boot never seen before counts: a re-registration of a known one
	 * (after a snowd restart) proves nothing.  So this runs before the boot
	 * history learns boot_id (inv_boot_add).
	 */
	struct db_stmt *st = inv_prepare(
		inv, "UPDATE commands SET state = 'done', done = ?3, "
		     "result = json_object('status', 'the node came back', 'boot_id', ?2) "
		     "WHERE node_id = ?1 AND state = 'sent' AND op IN ('reboot', 'poweroff') "
		     "AND NOT EXISTS (SELECT 1 FROM boots WHERE node_id = ?1 AND boot_id = ?2) "
		     "RETURNING id");
	json_t *ids = json_array();
	int rc;

	if (!st || !ids)
		goto err;
	db_bind_int64(st, 1, node_id);
	db_bind_text(st, 2, boot_id);
	db_bind_int64(st, 3, now);
	while ((rc = db_step(st)) == DB_ROW)
		if (json_array_append_new(ids, json_integer(db_column_int64(st, 0))))
			goto err;
	if (rc != DB_DONE)
		goto err;
	inv_done(inv, st);
	return ids;
err:
	inv_done(inv, st);
	json_decref(ids);
	return NULL;
}

/*
 * Each kind's oldest batch rows (by id, which follows time), of which those
 * beyond the count (id more than keep below the newest: ids only grow) or
 * older than the age go.  Looking at the oldest batch only keeps each call
 * short however large the table; commands still open are never deleted.
 */
static const char *const inv_prune_sql[] = {
	[INV_EVENTS] = "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?3) "
		       "AND ((?1 > 0 AND id <= (SELECT max(id) FROM events) - ?1) OR "
		       "(?2 > 0 AND received < ?4 - ?2))",
	/* A boot's times are milliseconds. */
	[INV_BOOTS] = "DELETE FROM boots WHERE id IN (SELECT id FROM boots ORDER BY id LIMIT ?3) "
		      "AND ((?1 > 0 AND id <= (SELECT max(id) FROM boots) - ?1) OR "
		      "(?2 > 0 AND online < (?4 - ?2) * 1000))",
	[INV_COMMANDS] = "DELETE FROM commands WHERE id IN (SELECT id FROM commands WHERE state "
			 "NOT IN ('queued', 'sent') ORDER BY id LIMIT ?3) "
			 "AND ((?1 > 0 AND id <= (SELECT max(id) FROM commands) - ?1) OR "
			 "(?2 > 0 AND coalesce(done, created) < ?4 - ?2))",
};

int inv_prune(struct inv *inv, enum inv_history kind, const struct inv_keep *k, int64_t now,
	      int batch)
{
	struct db_stmt *st;
	int rc;

	if ((unsigned)kind >= sizeof(inv_prune_sql) / sizeof(inv_prune_sql[0]) ||
	    (!k->keep && !k->max_age_s))
		return 0;
	st = inv_prepare(inv, inv_prune_sql[kind]);
	if (!st)
		return -EIO;
	db_bind_int64(st, 1, k->keep);
	db_bind_int64(st, 2, k->max_age_s);
	db_bind_int64(st, 3, batch);
	db_bind_int64(st, 4, now);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? db_changes(inv->db) : -EIO;
}
