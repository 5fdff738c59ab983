/*
 * Console users and their sessions, stored in the inventory: yescrypt
 * password hashes, session cookies kept as hashes, a CSRF token per session.
 */
#ifndef SNOW_AUTH_H
#define SNOW_AUTH_H

#include <crypt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "inv.h"
#include "sign.h"
#include "valid.h"

#define AUTH_SESSION_COOKIE "snow_session" /* the console's session cookie */
#define AUTH_SESSION_TTL (12 * 3600) /* seconds a console session lasts without use */

struct auth_session {
	char user[SNOW_NAME_MAX + 1];
	enum inv_role role;
	char csrf[SIGN_SECRET_HEX_LEN + 1];
};

/*
 * Add a user with a yescrypt hash of password.
 * @ret 0; -EEXIST; -EINVAL (err names the field: password under 8 characters);
 * -EIO.
 */
int auth_user_add(struct inv *inv, const char *name, const char *password, enum inv_role role,
		  char *err, size_t errlen);
int auth_user_rm(struct inv *inv, const char *name);
/* [{name, role, created}]: a new array, or NULL. */
json_t *auth_user_list(struct inv *inv);
/*
 * Check a password and open a session: cookie (the session's secret, for the
 * Set-Cookie header) and s are filled.  The check costs the same whether the
 * user exists or not.  @ret 0, -EACCES, -EIO.
 */
int auth_login(struct inv *inv, const char *name, const char *password, int64_t now,
	       char cookie[SIGN_SECRET_HEX_LEN + 1], struct auth_session *s);
/*
 * A login in three steps, so the slow hash can run off snowd's loop:
 * begin reads the user's stored hash (a made-up one for an unknown user,
 * which costs the same), check_password hashes (thread-safe, touches no
 * inventory), finish opens the session.
 */
struct auth_check {
	int64_t uid;             /* 0: no such user (the check then always fails) */
	enum inv_role role;
	char user[SNOW_NAME_MAX + 1];
	char stored[CRYPT_OUTPUT_SIZE];
};
/* @ret 0 or -EIO. */
int auth_login_begin(struct inv *inv, const char *name, struct auth_check *c);
/* @ret 1 when password is the user's. */
int auth_check_password(const struct auth_check *c, const char *password);
/* Open a session for a checked user: cookie and s filled.  @ret 0 or -EIO. */
int auth_login_finish(struct inv *inv, const struct auth_check *c, int64_t now,
		      char cookie[SIGN_SECRET_HEX_LEN + 1], struct auth_session *s);

/* Look a session cookie up (and extend it).  @ret 0, -EACCES when unknown or expired. */
int auth_session_get(struct inv *inv, const char *cookie, int64_t now, struct auth_session *s);
void auth_logout(struct inv *inv, const char *cookie);

#endif
