/*
 * What an engine of the store provides (db.c dispatches to it): the
 * operations table of db.h's calls.  Every engine's struct db and
 * struct db_stmt start with the ones below.
 */
#ifndef SNOW_DB_IMPL_H
#define SNOW_DB_IMPL_H

#include "db.h"

struct db_ops {
	enum db_engine engine;
	/* A new handle (freed by close), or NULL with err filled. */
	struct db *(*open)(const char *target, char *err, size_t errlen);
	void (*close)(struct db *db);
	int (*exec)(struct db *db, const char *sql);
	struct db_stmt *(*prepare)(struct db *db, const char *sql);
	void (*reset)(struct db_stmt *st);
	void (*clear_bindings)(struct db_stmt *st);
	void (*finalize)(struct db_stmt *st);
	/* text NULL: bind NULL; own: the statement frees text when done with it. */
	void (*bind_text)(struct db_stmt *st, int i, const char *text, int own);
	void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
	int (*step)(struct db_stmt *st);
	int64_t (*column_int64)(struct db_stmt *st, int i);
	const unsigned char *(*column_text)(struct db_stmt *st, int i);
	int (*column_null)(struct db_stmt *st, int i);
	int64_t (*changes)(struct db *db);
	int64_t (*total_changes)(struct db *db);
	int64_t (*last_id)(struct db *db);
	int (*autocommit)(struct db *db);
	const char *(*errmsg)(struct db *db);
	int (*host_error)(struct db *db, int rc, int *errno_out);
	int (*schema_version)(struct db *db);
	int (*schema_set)(struct db *db, int version);
	int (*socket)(struct db *db);
	int (*listen)(struct db *db, const char *channel);
	int (*notifies)(struct db *db, void (*fn)(void *ctx, const char *channel,
						  const char *payload, int own), void *ctx);
};

struct db {
	const struct db_ops *ops;
};

struct db_stmt {
	struct db *db;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

#endif
