/* The store's calls, sent to the engine the target names (db.h). */
#include "db_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int db_is_url(const char *target)
{
	return !strncmp(target, "postgresql://", 13) || !strncmp(target, "postgres://", 11);
}

int db_open(struct db **out, const char *target, char *err, size_t errlen)
{
	const struct db_ops *ops = db_is_url(target) ? &db_pg_ops : &db_sqlite_ops;

	*out = ops->open(target, err, errlen);
	return *out ? 0 : -EIO;
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

enum db_engine db_engine(const struct db *db)
{
	return db->ops->engine;
}

int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

struct db_stmt *db_prepare(struct db *db, const char *sql)
{
	return db->ops->prepare(db, sql);
}

void db_reset(struct db_stmt *st)
{
	st->db->ops->reset(st);
}

void db_finalize(struct db_stmt *st)
{
	if (st)
		st->db->ops->finalize(st);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
	st->db->ops->bind_int64(st, i, v);
}

void db_bind_text(struct db_stmt *st, int i, const char *text)
{
	st->db->ops->bind_text(st, i, text, 0);
}

void db_bind_text_own(struct db_stmt *st, int i, char *text)
{
	st->db->ops->bind_text(st, i, text, 1);
}

void db_bind_null(struct db_stmt *st, int i)
{
	st->db->ops->bind_text(st, i, NULL, 0);
}

int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

int64_t db_column_int64(struct db_stmt *st, int i)
{
	return st->db->ops->column_int64(st, i);
}

int db_column_int(struct db_stmt *st, int i)
{
	return (int)st->db->ops->column_int64(st, i);
}

const unsigned char *db_column_text(struct db_stmt *st, int i)
{
	return st->db->ops->column_text(st, i);
}

int db_column_null(struct db_stmt *st, int i)
{
	return st->db->ops->column_null(st, i);
}

int64_t db_changes(struct db *db)
{
	return db->ops->changes(db);
}

int64_t db_total_changes(struct db *db)
{
	return db->ops->total_changes(db);
}

int64_t db_last_id(struct db *db)
{
	return db->ops->last_id(db);
}

int db_autocommit(struct db *db)
{
	return db->ops->autocommit(db);
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

int db_host_error(struct db *db, int rc, int *errno_out)
{
	*errno_out = 0;
	return db->ops->host_error(db, rc, errno_out);
}

int db_schema_version(struct db *db)
{
	return db->ops->schema_version(db);
}

int db_schema_set(struct db *db, int version)
{
	return db->ops->schema_set(db, version);
}

int db_socket(struct db *db)
{
	return db->ops->socket(db);
}

void db_clear_bindings(struct db_stmt *st)
{
	st->db->ops->clear_bindings(st);
}

int db_listen(struct db *db, const char *channel)
{
	return db->ops->listen(db, channel);
}

int db_notifies(struct db *db, void (*fn)(void *ctx, const char *channel, const char *payload,
					  int own), void *ctx)
{
	return db->ops->notifies(db, fn, ctx);
}
