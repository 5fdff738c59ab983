/*
 * The store on SQLite: a file in snowd's state directory, WAL mode.  A thin
 * layer: the inventory's SQL is SQLite's own dialect.
 */
#include "db_impl.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The transaction verbs (BEGIN IMMEDIATE, COMMIT, SAVEPOINT, RELEASE, ...)
 * kept prepared: snowd runs two or more of them per loop pass (the group
 * commit, a savepoint per request that writes), and sqlite3_exec() parsed
 * each one again, with a parser allocated and freed each time (5 % of
 * snowd in perf during a command burst to 10 000 nodes, docs/nodesim.md).
 */
#define LITE_EXEC_CACHE 8

struct db_lite {
	struct db base;
	sqlite3 *h;
	int last_rc; /* SQLite's code of the last failure */
	struct {
		char sql[32];
		sqlite3_stmt *st;  /* NULL: a free slot */
	} exec_cache[LITE_EXEC_CACHE];
};

struct db_lite_stmt {
	struct db_stmt base;
	sqlite3_stmt *st;
};

#define LITE(d) ((struct db_lite *)(d))
#define LST(s) (((struct db_lite_stmt *)(s))->st)

/* ROW, DONE and CONSTRAINT as they are; any other failure is DB_ERROR (its code kept). */
static int lite_rc(struct db *db, int rc)
{
	switch (rc) {
	case SQLITE_OK:
		return DB_OK;
	case SQLITE_ROW:
		return DB_ROW;
	case SQLITE_DONE:
		return DB_DONE;
	}
	LITE(db)->last_rc = rc;
	return (rc & 0xff) == SQLITE_CONSTRAINT ? DB_CONSTRAINT : DB_ERROR;
}

static struct db *lite_open(const char *path, char *err, size_t errlen)
{
	struct db_lite *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	d->base.ops = &db_sqlite_ops;
	if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, d->h ? sqlite3_errmsg(d->h) : "cannot open");
		goto err;
	}
	sqlite3_busy_timeout(d->h, 5000);
	/*
	 * WAL with synchronous=NORMAL: a commit is in the WAL before the answer
	 * goes out, so it survives snowd being killed (kill -9) at any point;
	 * only an OS crash or power loss can lose the commits since the last
	 * checkpoint.  FULL would fsync every report's nonce and cap ingestion at
	 * a few hundred reports a second (docs/nodesim.md).
	 */
	if (sqlite3_exec(d->h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			       "PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(d->h));
		goto err;
	}
	return &d->base;
err:
	sqlite3_close(d->h);
	free(d);
	return NULL;
}

static void lite_close(struct db *db)
{
	unsigned i;

	for (i = 0; i < LITE_EXEC_CACHE; i++)
		sqlite3_finalize(LITE(db)->exec_cache[i].st);
	sqlite3_close(LITE(db)->h);
	free(db);
}

/* A transaction verb (no ';', at most 31 bytes): its statement, prepared once.  @ret NULL otherwise. */
static sqlite3_stmt *lite_exec_stmt(struct db_lite *d, const char *sql)
{
	static const char *const verbs[] = { "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE" };
	size_t i, len = strlen(sql);

	if (len >= sizeof(d->exec_cache[0].sql) || strchr(sql, ';'))
		return NULL;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strncmp(sql, verbs[i], strlen(verbs[i])))
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return NULL;
	for (i = 0; i < LITE_EXEC_CACHE && d->exec_cache[i].st; i++)
		if (!strcmp(d->exec_cache[i].sql, sql))
			return d->exec_cache[i].st;
	if (i == LITE_EXEC_CACHE ||
	    sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &d->exec_cache[i].st,
			       NULL) != SQLITE_OK)
		return NULL; /* sqlite3_exec() then runs it, and says what is wrong */
	memcpy(d->exec_cache[i].sql, sql, len + 1);
	return d->exec_cache[i].st;
}

static int lite_exec(struct db *db, const char *sql)
{
	sqlite3_stmt *st = lite_exec_stmt(LITE(db), sql);
	int rc;

	if (!st)
		return lite_rc(db, sqlite3_exec(LITE(db)->h, sql, NULL, NULL, NULL));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return lite_rc(db, rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc);
}

static struct db_stmt *lite_prepare(struct db *db, const char *sql)
{
	struct db_lite_stmt *s = malloc(sizeof(*s));
	int rc;

	if (!s)
		return NULL;
	s->base.db = db;
	rc = sqlite3_prepare_v3(LITE(db)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
	if (rc != SQLITE_OK) {
		lite_rc(db, rc);
		free(s);
		return NULL;
	}
	return &s->base;
}

static void lite_reset(struct db_stmt *st)
{
	sqlite3_reset(LST(st));
}

static void lite_clear_bindings(struct db_stmt *st)
{
	sqlite3_clear_bindings(LST(st));
}

static void lite_finalize(struct db_stmt *st)
{
	sqlite3_finalize(LST(st));
	free(st);
}

static void lite_bind_text(struct db_stmt *st, int i, const char *text, int own)
{
	if (!text)
		sqlite3_bind_null(LST(st), i);
	else
		sqlite3_bind_text(LST(st), i, text, -1, own ? free : SQLITE_STATIC);
}

static void lite_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(LST(st), i, v);
}

static int lite_step(struct db_stmt *st)
{
	return lite_rc(st->db, sqlite3_step(LST(st)));
}

static int64_t lite_column_int64(struct db_stmt *st, int i)
{
	return sqlite3_column_int64(LST(st), i);
}

static const unsigned char *lite_column_text(struct db_stmt *st, int i)
{
	return sqlite3_column_text(LST(st), i);
}

static int lite_column_null(struct db_stmt *st, int i)
{
	return sqlite3_column_type(LST(st), i) == SQLITE_NULL;
}

static int64_t lite_changes(struct db *db)
{
	return sqlite3_changes(LITE(db)->h);
}

static int64_t lite_total_changes(struct db *db)
{
	return sqlite3_total_changes64(LITE(db)->h);
}

static int64_t lite_last_id(struct db *db)
{
	return sqlite3_last_insert_rowid(LITE(db)->h);
}

static int lite_autocommit(struct db *db)
{
	return sqlite3_get_autocommit(LITE(db)->h);
}

static const char *lite_errmsg(struct db *db)
{
	return sqlite3_errmsg(LITE(db)->h);
}

/* Whether a failure is the host's (its storage), not the request's. */
static int lite_host_error(struct db *db, int rc, int *errno_out)
{
	if (rc == DB_OK || rc == DB_ROW || rc == DB_DONE || rc == DB_CONSTRAINT)
		return 0;
	switch (LITE(db)->last_rc & 0xff) {
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_NOMEM:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
		*errno_out = sqlite3_system_errno(LITE(db)->h);
		return 1;
	}
	return 0;
}

static int lite_schema_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = -EIO;

	if (sqlite3_prepare_v2(LITE(db)->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int lite_schema_set(struct db *db, int version)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", version);
	return lite_exec(db, sql);
}

static int lite_socket(struct db *db)
{
	return -1;
}

static int lite_listen(struct db *db, const char *channel)
{
	return DB_ERROR;
}

static int lite_notifies(struct db *db, void (*fn)(void *ctx, const char *channel,
						   const char *payload, int own), void *ctx)
{
	return 0;
}

const struct db_ops db_sqlite_ops = {
	.engine = DB_SQLITE,
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.prepare = lite_prepare,
	.reset = lite_reset,
	.clear_bindings = lite_clear_bindings,
	.finalize = lite_finalize,
	.bind_text = lite_bind_text,
	.bind_int64 = lite_bind_int64,
	.step = lite_step,
	.column_int64 = lite_column_int64,
	.column_text = lite_column_text,
	.column_null = lite_column_null,
	.changes = lite_changes,
	.total_changes = lite_total_changes,
	.last_id = lite_last_id,
	.autocommit = lite_autocommit,
	.errmsg = lite_errmsg,
	.host_error = lite_host_error,
	.schema_version = lite_schema_version,
	.schema_set = lite_schema_set,
	.socket = lite_socket,
	.listen = lite_listen,
	.notifies = lite_notifies,
};
