/*
 * The inventory's configuration tables (inv.h): API tokens, node and profile
 * settings, registered images.  inv.c has the database, nodes, boots,
 * nonces and discovery; inv_cmd.c events, commands and retention.
 */
#include "inv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>

#include "jsonh.h"
#include "log.h"

void inv_token_hash(const char *token, char out[65])
{
	struct sha256_ctx ctx;
	unsigned char d[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, strlen(token), (const uint8_t *)token);
	sha256_digest(&ctx, sizeof(d), d);
	hex_encode(d, sizeof(d), out);
}

int inv_token_create(struct inv *inv, const char *name, enum inv_role role, char out[72])
{
	char secret[SIGN_SECRET_HEX_LEN + 1], hash[65];
	struct db_stmt *st;
	int rc;

	if ((rc = sign_new_secret(secret)))
		return rc;
	/* 40 hex digits (160 bits) after a prefix that makes tokens easy to spot. */
	snprintf(out, 72, "snow_%.40s", secret);
	inv_token_hash(out, hash);
	st = inv_prepare(inv, "INSERT INTO tokens (name, sha256, role, created) VALUES (?, ?, ?, ?)");
	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, hash);
	db_bind_int64(st, 3, (int)role);
	db_bind_int64(st, 4, (int64_t)time(NULL));
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc == DB_CONSTRAINT)
		return -EEXIST;
	return rc == DB_DONE ? 0 : -EIO;
}

int inv_token_role(struct inv *inv, const char *token)
{
	char hash[65];
	struct db_stmt *st;
	int role = 0;

	if (!token || strlen(token) > 128)
		return 0;
	inv_token_hash(token, hash);
	st = inv_prepare(inv, "SELECT role FROM tokens WHERE sha256 = ?");
	if (!st)
		return 0;
	db_bind_text(st, 1, hash);
	if (db_step(st) == DB_ROW)
		role = db_column_int(st, 0);
	inv_done(inv, st);
	return role;
}

int inv_token_count(struct inv *inv)
{
	return inv_count(inv, "tokens");
}

enum inv_role inv_role_parse(const char *s)
{
	if (!s)
		return 0;
	if (!strcmp(s, "viewer"))
		return ROLE_VIEWER;
	if (!strcmp(s, "operator"))
		return ROLE_OPERATOR;
	if (!strcmp(s, "admin"))
		return ROLE_ADMIN;
	return 0;
}

json_t *inv_token_list(struct inv *inv)
{
	return inv_list_named_roles(inv, "tokens");
}

int inv_token_rm(struct inv *inv, const char *name)
{
	return inv_delete_named(inv, "tokens", name);
}

/* --- profiles and node settings ------------------------------------------------ */

static json_t *inv_parse_settings(struct db_stmt *st, int col)
{
	const char *t = (const char *)db_column_text(st, col);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;

	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	return v;
}

json_t *inv_node_settings(struct inv *inv, int64_t id)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT settings FROM nodes WHERE id = ?");
	json_t *v = NULL;

	if (!st)
		return NULL;
	db_bind_int64(st, 1, id);
	if (db_step(st) == DB_ROW)
		v = inv_parse_settings(st, 0);
	inv_done(inv, st);
	return v;
}

int inv_node_configure(struct inv *inv, int64_t id, const char *profile, json_t *settings)
{
	struct db_stmt *st = inv_prepare(inv, "UPDATE nodes SET profile = ?, settings = ? WHERE id = ?");
	char *text = jsonh_dump(settings);
	int rc;

	if (!st || !text) {
		inv_done(inv, st);
		free(text);
		return -EIO;
	}
	if (profile && *profile)
		db_bind_text(st, 1, profile);
	else
		db_bind_null(st, 1);
	db_bind_text_own(st, 2, text);
	db_bind_int64(st, 3, id);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? 0 : -EIO;
}

json_t *inv_profile_get(struct inv *inv, const char *name)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT settings FROM profiles WHERE name = ?");
	json_t *v = NULL;

	if (!st)
		return NULL;
	db_bind_text(st, 1, name);
	if (db_step(st) == DB_ROW)
		v = inv_parse_settings(st, 0);
	inv_done(inv, st);
	return v;
}

int inv_profile_put(struct inv *inv, const char *name, json_t *settings, int create)
{
	struct db_stmt *st = inv_prepare(inv, create ?
		"INSERT INTO profiles (settings, name, created) VALUES (?, ?, strftime('%s','now'))" :
		"UPDATE profiles SET settings = ? WHERE name = ?");
	char *text = jsonh_dump(settings);
	int rc;

	if (!st || !text) {
		inv_done(inv, st);
		free(text);
		return -EIO;
	}
	db_bind_text_own(st, 1, text);
	db_bind_text(st, 2, name);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc == DB_CONSTRAINT)
		return -EEXIST;
	if (rc != DB_DONE)
		return -EIO;
	return db_changes(inv->db) ? 0 : -ENOENT;
}

int inv_profile_rm(struct inv *inv, const char *name, int *users)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT count(*) FROM nodes WHERE profile = ?");
	int rc;

	*users = 0;
	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	if (db_step(st) == DB_ROW)
		*users = db_column_int(st, 0);
	inv_done(inv, st);
	if (*users)
		return -EBUSY;
	st = inv_prepare(inv, "DELETE FROM profiles WHERE name = ?");
	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	if (rc != DB_DONE)
		return -EIO;
	return db_changes(inv->db) ? 0 : -ENOENT;
}

json_t *inv_profile_list(struct inv *inv)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT p.name, p.settings, p.created, "
					    "(SELECT count(*) FROM nodes n WHERE n.profile = p.name) "
					    "FROM profiles p ORDER BY p.name");
	json_t *arr;

	if (!st)
		return NULL;
	arr = json_array();
	while (arr && db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:o, s:I, s:i}", "name",
						     (const char *)db_column_text(st, 0),
						     "settings", inv_parse_settings(st, 1), "created",
						     (json_int_t)db_column_int64(st, 2), "nodes",
						     db_column_int(st, 3)));
	inv_done(inv, st);
	return arr;
}

/* --- images ----------------------------------------------------------------------- */

int inv_image_add(struct inv *inv, const char *name, const char *version, int64_t ksize,
		  int64_t isize, int64_t now)
{
	struct db_stmt *st = inv_prepare(inv, "INSERT INTO images (name, version, kernel_size, "
					    "initrd_size, created) VALUES (?, ?, ?, ?, ?) "
					    "ON CONFLICT (name, version) DO UPDATE SET created = excluded.created");
	int rc;

	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, version);
	db_bind_int64(st, 3, ksize);
	db_bind_int64(st, 4, isize);
	db_bind_int64(st, 5, now);
	rc = inv_write_step(inv, st);
	inv_done(inv, st);
	return rc == DB_DONE ? 0 : -EIO;
}

int inv_image_current(struct inv *inv, const char *name, char version[INV_VERSION_LEN + 1])
{
	struct db_stmt *st = inv_prepare(inv, "SELECT version FROM images WHERE name = ? "
					    "ORDER BY created DESC, id DESC LIMIT 1");
	int rc;

	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	rc = db_step(st);
	if (rc == DB_ROW)
		snprintf(version, INV_VERSION_LEN + 1, "%s", (const char *)db_column_text(st, 0));
	inv_done(inv, st);
	return rc == DB_ROW ? 0 : rc == DB_DONE ? -ENOENT : -EIO;
}

int inv_image_has(struct inv *inv, const char *name, const char *version)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT 1 FROM images WHERE name = ? AND version = ?");
	int rc;

	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, version);
	rc = db_step(st);
	inv_done(inv, st);
	return rc == DB_ROW;
}

json_t *inv_image_list(struct inv *inv)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT name, version, kernel_size, initrd_size, created "
					    "FROM images ORDER BY name, created DESC, id DESC");
	json_t *arr;

	if (!st)
		return NULL;
	arr = json_array();
	while (arr && db_step(st) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I}", "name",
						     (const char *)db_column_text(st, 0), "version",
						     (const char *)db_column_text(st, 1), "kernel_size",
						     (json_int_t)db_column_int64(st, 2), "initrd_size",
						     (json_int_t)db_column_int64(st, 3), "created",
						     (json_int_t)db_column_int64(st, 4)));
	inv_done(inv, st);
	return arr;
}

json_t *inv_image_prune(struct inv *inv, const char *name, int keep)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT version FROM images WHERE name = ? "
					    "ORDER BY created DESC, id DESC LIMIT -1 OFFSET ?");
	struct db_stmt *del = inv_prepare(inv, "DELETE FROM images WHERE name = ? AND version = ?");
	json_t *gone = json_array();

	if (!st || !del || !gone)
		goto out;
	db_bind_text(st, 1, name);
	db_bind_int64(st, 2, keep);
	while (db_step(st) == DB_ROW)
		json_array_append_new(gone, json_string((const char *)db_column_text(st, 0)));
	{
		size_t i;
		json_t *v;
		json_array_foreach(gone, i, v) {
			db_reset(del);
			db_bind_text(del, 1, name);
			db_bind_text(del, 2, json_string_value(v));
			inv_write_step(inv, del);
		}
	}
out:
	inv_done(inv, st);
	inv_done(inv, del);
	return gone;
}


json_t *inv_image_rm(struct inv *inv, const char *name, const char *version)
{
	struct db_stmt *st = inv_prepare(inv, "SELECT version FROM images WHERE name = ?1 AND "
					    "version = coalesce(?2, version) ORDER BY created DESC, id DESC");
	struct db_stmt *del = inv_prepare(inv, "DELETE FROM images WHERE name = ? AND version = ?");
	json_t *gone = json_array(), *v;
	size_t i;

	if (!st || !del || !gone) {
		json_decref(gone);
		gone = NULL;
		goto out;
	}
	db_bind_text(st, 1, name);
	if (version)
		db_bind_text(st, 2, version);
	while (db_step(st) == DB_ROW)
		json_array_append_new(gone, json_string((const char *)db_column_text(st, 0)));
	json_array_foreach(gone, i, v) {
		db_reset(del);
		db_bind_text(del, 1, name);
		db_bind_text(del, 2, json_string_value(v));
		if (inv_write_step(inv, del) != DB_DONE) {
			json_decref(gone);
			gone = NULL;
			break;
		}
	}
out:
	inv_done(inv, st);
	inv_done(inv, del);
	return gone;
}
