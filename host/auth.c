/*
 * Console users and sessions.  Passwords are hashed with yescrypt through
 * libxcrypt's crypt(3) (slow on purpose); sessions are random cookies of
 * which the database keeps only a SHA-256, each with a CSRF token the
 * console must echo on every change.
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "inv.h"
#include "log.h"


int auth_user_add(struct inv *inv, const char *name, const char *password, enum inv_role role,
		  char *err, size_t errlen)
{
	struct crypt_data *cd;
	char *setting;
	struct db_stmt *st;
	int rc;

	if (!password || strlen(password) < 8) {
		snprintf(err, errlen, "password: must be at least 8 characters");
		return -EINVAL;
	}
	if (strlen(password) > 512) {
		snprintf(err, errlen, "password: longer than 512 characters");
		return -EINVAL;
	}
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	cd = calloc(1, sizeof(*cd));
	if (!setting || !cd || !crypt_rn(password, setting, cd, sizeof(*cd)) ||
	    cd->output[0] == '*') {
		free(setting);
		free(cd);
		snprintf(err, errlen, "password: cannot hash (libxcrypt without yescrypt?)");
		return -EIO;
	}
	free(setting);
	st = inv_prepare(inv, "INSERT INTO users (name, hash, role, created) VALUES (?, ?, ?, strftime('%s','now'))");
	if (!st) {
		free(cd);
		return -EIO;
	}
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, cd->output);
	db_bind_int64(st, 3, (int)role);
	rc = db_step(st);
	inv_done(inv, st);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (rc == DB_CONSTRAINT) {
		snprintf(err, errlen, "name: a user named '%s' already exists", name);
		return -EEXIST;
	}
	return rc == DB_DONE ? 0 : -EIO;
}

int auth_user_rm(struct inv *inv, const char *name)
{
	return inv_delete_named(inv, "users", name);
}

json_t *auth_user_list(struct inv *inv)
{
	return inv_list_named_roles(inv, "users");
}

int auth_login_begin(struct inv *inv, const char *name, struct auth_check *c)
{
	struct db_stmt *st;

	memset(c, 0, sizeof(*c));
	st = inv_prepare(inv, "SELECT id, hash, role FROM users WHERE name = ?");
	if (!st)
		return -EIO;
	db_bind_text(st, 1, name);
	if (db_step(st) == DB_ROW) {
		c->uid = db_column_int64(st, 0);
		snprintf(c->stored, sizeof(c->stored), "%s", (const char *)db_column_text(st, 1));
		c->role = (enum inv_role)db_column_int(st, 2);
	}
	inv_done(inv, st);
	if (!c->uid) {
		/* Hash anyway, so an unknown user costs as long as a wrong password. */
		char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
		snprintf(c->stored, sizeof(c->stored), "%s", setting ? setting : "$y$");
		free(setting);
	}
	snprintf(c->user, sizeof(c->user), "%s", name);
	return 0;
}

int auth_check_password(const struct auth_check *c, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	int ok = 0;

	if (!cd)
		return 0;
	if (crypt_rn(password, c->stored, cd, sizeof(*cd)) && c->uid &&
	    strlen(cd->output) == strlen(c->stored)) {
		/* Compare in constant time. */
		unsigned diff = 0;
		for (size_t i = 0; c->stored[i]; i++)
			diff |= (unsigned)(c->stored[i] ^ cd->output[i]);
		ok = !diff;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

int auth_login_finish(struct inv *inv, const struct auth_check *c, int64_t now,
		      char cookie[SIGN_SECRET_HEX_LEN + 1], struct auth_session *s)
{
	char hash[65];
	struct db_stmt *st;
	int rc = -EIO;

	s->role = c->role;
	if (sign_new_secret(cookie) || sign_new_secret(s->csrf))
		return -EIO;
	inv_token_hash(cookie, hash);
	st = inv_prepare(inv, "INSERT INTO sessions (user_id, sha256, csrf, created, expires) "
			      "VALUES (?, ?, ?, ?, ?)");
	if (!st)
		return -EIO;
	db_bind_int64(st, 1, c->uid);
	db_bind_text(st, 2, hash);
	db_bind_text(st, 3, s->csrf);
	db_bind_int64(st, 4, now);
	db_bind_int64(st, 5, now + AUTH_SESSION_TTL);
	if (db_step(st) == DB_DONE) {
		snprintf(s->user, sizeof(s->user), "%s", c->user);
		rc = 0;
	}
	inv_done(inv, st);
	/* Old sessions go when new ones come. */
	st = inv_prepare(inv, "DELETE FROM sessions WHERE expires < ?");
	if (st) {
		db_bind_int64(st, 1, now);
		db_step(st);
		inv_done(inv, st);
	}
	return rc;
}

int auth_login(struct inv *inv, const char *name, const char *password, int64_t now,
	       char cookie[SIGN_SECRET_HEX_LEN + 1], struct auth_session *s)
{
	struct auth_check c;
	int rc = auth_login_begin(inv, name, &c);

	if (!rc)
		rc = auth_check_password(&c, password) ? auth_login_finish(inv, &c, now, cookie, s) :
							 -EACCES;
	explicit_bzero(&c, sizeof(c));
	return rc;
}

int auth_session_get(struct inv *inv, const char *cookie, int64_t now, struct auth_session *s)
{
	char hash[65];
	struct db_stmt *st;
	int64_t id = 0, expires = 0;

	if (!cookie || strlen(cookie) != SIGN_SECRET_HEX_LEN)
		return -EACCES;
	inv_token_hash(cookie, hash);
	st = inv_prepare(inv, "SELECT s.id, s.expires, s.csrf, u.name, u.role FROM sessions s "
			      "JOIN users u ON u.id = s.user_id WHERE s.sha256 = ?");
	if (!st)
		return -EIO;
	db_bind_text(st, 1, hash);
	if (db_step(st) == DB_ROW) {
		id = db_column_int64(st, 0);
		expires = db_column_int64(st, 1);
		snprintf(s->csrf, sizeof(s->csrf), "%s", (const char *)db_column_text(st, 2));
		snprintf(s->user, sizeof(s->user), "%s", (const char *)db_column_text(st, 3));
		s->role = (enum inv_role)db_column_int(st, 4);
	}
	inv_done(inv, st);
	if (!id || expires < now)
		return -EACCES;
	/* Sliding expiry, written at most once a minute. */
	if (expires - now < AUTH_SESSION_TTL - 60) {
		st = inv_prepare(inv, "UPDATE sessions SET expires = ? WHERE id = ?");
		if (st) {
			db_bind_int64(st, 1, now + AUTH_SESSION_TTL);
			db_bind_int64(st, 2, id);
			db_step(st);
			inv_done(inv, st);
		}
	}
	return 0;
}

void auth_logout(struct inv *inv, const char *cookie)
{
	char hash[65];
	struct db_stmt *st;

	if (!cookie)
		return;
	inv_token_hash(cookie, hash);
	st = inv_prepare(inv, "DELETE FROM sessions WHERE sha256 = ?");
	if (!st)
		return;
	db_bind_text(st, 1, hash);
	db_step(st);
	inv_done(inv, st);
}
