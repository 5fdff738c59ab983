/* The inventory's side of BMC event logs and thresholds: one row per node (inv.h). */
#include <errno.h>
#include <stdlib.h>

#include "inv.h"
#include "jsonh.h"

int inv_bmc_get(struct inv *inv, int64_t node_id, int64_t *cursor, int64_t *seq, json_t **thr)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT cursor, seq, thresholds FROM bmc_logs "
					    "WHERE node_id = ?");
	const char *t;
	int rc;

	*cursor = *seq = 0;
	*thr = NULL;
	if (!st)
		return -EIO;
	db_bind_int64(st, 1, node_id);
	rc = db_step(st);
	if (rc == DB_ROW) {
		*cursor = db_column_int64(st, 0);
		*seq = db_column_int64(st, 1);
		t = (const char *)db_column_text(st, 2);
		*thr = t ? json_loads(t, 0, NULL) : NULL;
	}
	inv_done(inv, st);
	if (!json_is_array(*thr)) {
		json_decref(*thr);
		*thr = json_array();
	}
	return rc == DB_ROW || rc == DB_DONE ? 0 : -EIO;
}

int inv_bmc_store(struct inv *inv, int64_t node_id, json_t *events, int64_t cursor, int64_t seq,
		  json_t *thr, int64_t now)
{
	char *thr_text = thr ? jsonh_dump(thr) : NULL;
	struct db_stmt *cur = NULL;
	int rc = -EIO;

	if ((thr && !thr_text) || inv_exec(inv, "BEGIN IMMEDIATE")) {
		free(thr_text);
		return -EIO;
	}
	cur = inv_prepare(inv, "INSERT INTO bmc_logs (node_id, cursor, seq, thresholds) "
			       "VALUES (?, ?, ?, coalesce(?, '[]')) ON CONFLICT (node_id) DO UPDATE SET "
			       "cursor = excluded.cursor, seq = excluded.seq, thresholds = "
			       "coalesce(?, thresholds)");
	/* The BMC's log entries carry publisher "snowd" (bmc.c); its boot is "bmc". */
	if (!cur || inv_events_insert(inv, node_id, "bmc", events, now))
		goto out;
	db_bind_int64(cur, 1, node_id);
	db_bind_int64(cur, 2, cursor);
	db_bind_int64(cur, 3, seq);
	db_bind_text(cur, 4, thr_text);
	db_bind_text(cur, 5, thr_text);
	if (inv_write_step(inv, cur) != DB_DONE)
		goto out;
	rc = 0;
out:
	inv_done(inv, cur);
	free(thr_text);
	if (rc || inv_exec(inv, "COMMIT")) {
		inv_rollback(inv);
		return -EIO;
	}
	return 0;
}
