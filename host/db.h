/*
 * The store under the inventory: one interface, two engines.
 *
 * SQLite (a file path: the embedded default) and PostgreSQL (a URL starting
 * postgresql:// or postgres://).  The inventory's SQL is written once, in
 * SQLite's dialect with ? or ?N placeholders; the PostgreSQL engine turns it
 * into its own at prepare time (db_pg.c: placeholders, types, the handful
 * of SQLite phrases the inventory uses), so no caller writes SQL twice.
 *
 * The calls follow SQLite's prepare/bind/step/column shape, which the
 * inventory was written against.  Everything runs on snowd's loop thread;
 * the PostgreSQL engine's round trips are short (a unix socket or a LAN).
 */
#ifndef SNOW_DB_H
#define SNOW_DB_H

#include <stddef.h>
#include <stdint.h>

/* What a step or exec came to. */
enum db_rc {
	DB_OK = 0,        /* exec done */
	DB_ROW = 100,     /* step: a row is ready (db_column_*) */
	DB_DONE = 101,    /* step: no (more) rows */
	DB_CONSTRAINT = 19, /* a UNIQUE, NOT NULL or foreign key constraint refused the write */
	DB_ERROR = 1,     /* anything else (db_errmsg says what; db_host_error whose) */
};

enum db_engine { DB_SQLITE, DB_PG };

struct db;
struct db_stmt;

/* Whether target names a PostgreSQL database (a URL) rather than a SQLite file. */
int db_is_url(const char *target);

/*
 * Open the store: a SQLite file (created when missing, WAL) or a PostgreSQL
 * URL (connected, the credentials checked).  *out is freed with db_close().
 * @ret 0, or -EIO with err filled (no password in it).
 */
int db_open(struct db **out, const char *target, char *err, size_t errlen);
void db_close(struct db *db);
enum db_engine db_engine(const struct db *db);

/*
 * Run one or more statements without parameters ("BEGIN IMMEDIATE",
 * "SAVEPOINT x", a migration).  @ret DB_OK or DB_ERROR/DB_CONSTRAINT.
 */
int db_exec(struct db *db, const char *sql);
/* A statement (caller finalizes it).  @ret it, or NULL (db_errmsg says why). */
struct db_stmt *db_prepare(struct db *db, const char *sql);
/* Forget its rows, ready for the next step (bindings stay). */
void db_reset(struct db_stmt *st);
/* Unbind every parameter (freeing what db_bind_text_own gave). */
void db_clear_bindings(struct db_stmt *st);
void db_finalize(struct db_stmt *st);

/*
 * Bind parameter i (from 1).  Text is borrowed (kept by the caller until the
 * statement is reset) except with db_bind_text_own, where the statement takes
 * text (malloc'd) and frees it.  NULL text binds NULL.
 */
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_text(struct db_stmt *st, int i, const char *text);
void db_bind_text_own(struct db_stmt *st, int i, char *text);
void db_bind_null(struct db_stmt *st, int i);

/* @ret DB_ROW, DB_DONE, DB_CONSTRAINT or DB_ERROR. */
int db_step(struct db_stmt *st);
/* Column i (from 0) of the current row; text is valid until the next step or reset, NULL for NULL. */
int64_t db_column_int64(struct db_stmt *st, int i);
int db_column_int(struct db_stmt *st, int i);
const unsigned char *db_column_text(struct db_stmt *st, int i);
int db_column_null(struct db_stmt *st, int i);

/* Rows changed by the last write. */
int64_t db_changes(struct db *db);
/* Rows changed since the store was opened (any write). */
int64_t db_total_changes(struct db *db);
/* The id the last INSERT gave its row.  @ret it, or 0. */
int64_t db_last_id(struct db *db);
/* Whether no transaction is open (the engine may have rolled one back itself). */
int db_autocommit(struct db *db);
/* The last error's text (never a password). */
const char *db_errmsg(struct db *db);
/*
 * Whether the last failure was the host's own (storage full or broken, the
 * database server gone), not the request's.  errno_out gets the system's
 * errno when the engine knows one (0 otherwise).
 */
int db_host_error(struct db *db, int rc, int *errno_out);

/* The schema version kept in the store (0 for a new one).  @ret >= 0 or -EIO. */
int db_schema_version(struct db *db);
/* Set it: inside the migration's transaction.  @ret DB_OK or DB_ERROR. */
int db_schema_set(struct db *db, int version);

/*
 * The socket of a PostgreSQL connection (for LISTEN in the poll loop), -1 for
 * SQLite.
 */
int db_socket(struct db *db);

/*
 * PostgreSQL only: LISTEN on channel (a constant name), again after any
 * reconnection.  @ret DB_OK, DB_ERROR (SQLite has no notifications).
 */
int db_listen(struct db *db, const char *channel);
/*
 * Take the notifications that came in (without blocking): fn for each, own
 * set for this connection's own NOTIFY.  Strings are valid during the call.
 * @ret how many, or -EIO when the connection is lost (reset at the next statement).
 */
int db_notifies(struct db *db, void (*fn)(void *ctx, const char *channel, const char *payload,
					  int own), void *ctx);

/*
 * SQLite's dialect as PostgreSQL takes it: placeholders ?/?N become $N and
 * the SQLite phrases the inventory uses become PostgreSQL's.  Exposed for
 * the unit test.  @ret a new string (caller frees) or NULL (no memory, or
 * more than DB_PARAMS_MAX parameters).
 */
#define DB_PARAMS_MAX 32
char *db_pg_sql(const char *sql, int *nparams);

#endif
