/* The inventory's side of BMC event logs: the cursor per node (inv.h). */
#include <errno.h>
#include <stdlib.h>

#include "inv.h"
#include "jsonh.h"

int inv_bmc_cursor(struct inv *inv, int64_t node_id, int64_t *cursor, int64_t *seq)
{
	sqlite3_stmt *st = inv_prepare(inv, "SELECT cursor, seq FROM bmc_logs WHERE node_id = ?");
	int rc;

	*cursor = *seq = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, node_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*cursor = sqlite3_column_int64(st, 0);
		*seq = sqlite3_column_int64(st, 1);
	}
	inv_done(inv, st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int inv_bmc_log_store(struct inv *inv, int64_t node_id, json_t *events, int64_t cursor,
		      int64_t seq, int64_t now)
{
	sqlite3_stmt *ins = NULL, *cur = NULL;
	json_t *e;
	size_t i;
	int rc = -EIO;

	if (inv_exec(inv, "BEGIN IMMEDIATE"))
		return -EIO;
	ins = inv_prepare(inv, "INSERT OR IGNORE INTO events (node_id, boot_id, seq, time, type, "
			       "attrs, received, severity, publisher) VALUES (?, 'bmc', ?, ?, ?, ?, ?, ?, "
			       "'snowd')");
	cur = inv_prepare(inv, "INSERT INTO bmc_logs (node_id, cursor, seq) VALUES (?, ?, ?) "
			       "ON CONFLICT (node_id) DO UPDATE SET cursor = excluded.cursor, "
			       "seq = excluded.seq");
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
	if (inv_write_step(inv, cur) != SQLITE_DONE)
		goto out;
	rc = 0;
out:
	inv_done(inv, ins);
	inv_done(inv, cur);
	if (rc || inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		return -EIO;
	}
	return 0;
}
