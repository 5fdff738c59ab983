/* The inventory's side of BMC event logs and thresholds: one row per node (inv.h). */
#include <errno.h>
#include <stdlib.h>

#include "inv.h"
#include "jsonh.h"

int inv_bmc_get(struct inv *inv, int64_t node_id, int64_t *cursor, int64_t *seq, json_t **thr)
{
	sqlite3_stmt *st = inv_prepare(inv, "SELECT cursor, seq, thresholds FROM bmc_logs "
					    "WHERE node_id = ?");
	const char *t;
	int rc;

	*cursor = *seq = 0;
	*thr = NULL;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, node_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*cursor = sqlite3_column_int64(st, 0);
		*seq = sqlite3_column_int64(st, 1);
		t = (const char *)sqlite3_column_text(st, 2);
		*thr = t ? json_loads(t, 0, NULL) : NULL;
	}
	inv_done(inv, st);
	if (!json_is_array(*thr)) {
		json_decref(*thr);
		*thr = json_array();
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int inv_bmc_store(struct inv *inv, int64_t node_id, json_t *events, int64_t cursor, int64_t seq,
		  json_t *thr, int64_t now)
{
	char *thr_text = thr ? jsonh_dump(thr) : NULL;
	sqlite3_stmt *ins = NULL, *cur = NULL;
	json_t *e;
	size_t i;
	int rc = -EIO;

	if ((thr && !thr_text) || inv_exec(inv, "BEGIN IMMEDIATE")) {
		free(thr_text);
		return -EIO;
	}
	ins = inv_prepare(inv, "INSERT OR IGNORE INTO events (node_id, boot_id, seq, time, type, "
			       "attrs, received, severity, publisher) VALUES (?, 'bmc', ?, ?, ?, ?, ?, ?, "
			       "'snowd')");
	cur = inv_prepare(inv, "INSERT INTO bmc_logs (node_id, cursor, seq, thresholds) "
			       "VALUES (?, ?, ?, coalesce(?, '[]')) ON CONFLICT (node_id) DO UPDATE SET "
			       "cursor = excluded.cursor, seq = excluded.seq, thresholds = "
			       "coalesce(?, thresholds)");
	if (!ins || !cur)
		goto out;
	json_array_foreach(events, i, e) {
		char *attrs = jsonh_dump(json_object_get(e, "attrs"));
		if (!attrs)
			goto out;
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, node_id);
		sqlite3_bind_int64(ins, 2, json_integer_value(json_object_get(e, "seq")));
		sqlite3_bind_int64(ins, 3, json_integer_value(json_object_get(e, "time")));
		sqlite3_bind_text(ins, 4, json_string_value(json_object_get(e, "type")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, attrs, -1, free);
		sqlite3_bind_int64(ins, 6, now);
		sqlite3_bind_text(ins, 7, json_string_value(json_object_get(e, "severity")), -1,
				  SQLITE_STATIC);
		if (inv_write_step(inv, ins) != SQLITE_DONE)
			goto out;
	}
	sqlite3_bind_int64(cur, 1, node_id);
	sqlite3_bind_int64(cur, 2, cursor);
	sqlite3_bind_int64(cur, 3, seq);
	sqlite3_bind_text(cur, 4, thr_text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(cur, 5, thr_text, -1, SQLITE_TRANSIENT);
	if (inv_write_step(inv, cur) != SQLITE_DONE)
		goto out;
	rc = 0;
out:
	inv_done(inv, ins);
	inv_done(inv, cur);
	free(thr_text);
	if (rc || inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		return -EIO;
	}
	return 0;
}
