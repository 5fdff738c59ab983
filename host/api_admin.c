/*
 * The REST API's admin handlers (api.h): console sessions, users, tokens,
 * profiles and images.  Who may call each is route.c's.
 */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "authq.h"
#include "clock.h"
#include "images.h"
#include "inv.h"
#include "jsonh.h"
#include "log.h"
#include "settings.h"
#include "snowd.h"
#include "valid.h"

/* A login whose password is being checked off the loop (authq.h). */
struct api_login {
	struct authq_job job;
	struct http_ctx *h;
};

static void api_login_free(void *p)
{
	struct api_login *l = p;

	explicit_bzero(l, sizeof(*l));
	free(l);
}

/* On the loop: the check is done; the request comes back to api_login. */
static void api_login_checked(struct authq_job *j)
{
	struct api_login *l = j->ctx;

	MHD_resume_connection(l->h->conn);
}

/* The second half of a login: the verdict is in. */
static enum MHD_Result api_login_answer(struct http_ctx *h, struct api_login *l)
{
	struct snowd *sd = h->sd;
	char cookie[SIGN_SECRET_HEX_LEN + 1], setc[256];
	int64_t now_ms = clock_mono_ms();
	struct auth_session s;
	enum MHD_Result ret;
	int ok = l->job.ok;

	throttle_note(&sd->throttle, "ip", h->client_ip, ok, now_ms);
	throttle_note(&sd->throttle, "user", l->job.check.user, ok, now_ms);
	if (!ok) {
		log_warnx("login: refused for '%s' from %s", l->job.check.user, h->client_ip);
		return http_error(h, MHD_HTTP_UNAUTHORIZED, "login: wrong user or password");
	}
	if (auth_login_finish(&sd->inv, &l->job.check, (int64_t)time(NULL), cookie, &s))
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "login: inventory error");
	log_info("login: %s (%s) from %s", s.user, inv_role_name(s.role), h->client_ip);
	/* Secure over HTTPS: the cookie never goes back over plain HTTP. */
	snprintf(setc, sizeof(setc), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
		 AUTH_SESSION_COOKIE, cookie, AUTH_SESSION_TTL, h->tls ? "; Secure" : "");
	explicit_bzero(cookie, sizeof(cookie));
	ret = http_json_cookie(h, MHD_HTTP_OK,
			       json_pack("{s:s, s:s, s:s}", "user", s.user, "role",
					 inv_role_name(s.role), "csrf", s.csrf),
			       setc);
	explicit_bzero(setc, sizeof(setc));
	explicit_bzero(&s, sizeof(s));
	return ret;
}

/*
 * POST /api/v1/login.  The throttle answers first (429, nothing hashed);
 * then the password is checked by authq's thread while the connection is
 * suspended, and the request comes back here with the verdict.
 */
enum MHD_Result api_login(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	const char *user, *password;
	struct api_login *l = h->pending;
	int64_t now_ms = clock_mono_ms();
	enum MHD_Result ret;
	char err[256];
	json_t *body;
	int wait;

	if (l) {
		ret = api_login_answer(h, l);
		h->pending = NULL;
		api_login_free(l);
		return ret;
	}
	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_get_str(body, "user", 1, SNOW_NAME_MAX, &user, err, sizeof(err)) ||
	    jsonh_get_str(body, "password", 1, 512, &password, err, sizeof(err))) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	wait = throttle_wait(&sd->throttle, "ip", h->client_ip, now_ms);
	if (!wait)
		wait = throttle_wait(&sd->throttle, "user", user, now_ms);
	if (wait) {
		char ra[16];
		struct MHD_Response *r;
		json_decref(body);
		snprintf(ra, sizeof(ra), "%d", wait);
		log_debug("login: throttled for %s, %d s", h->client_ip, wait);
		r = MHD_create_response_from_buffer(strlen("{\"error\":\"login: too many failures; "
							   "wait Retry-After seconds\"}\n"),
						    (void *)"{\"error\":\"login: too many failures; "
						    "wait Retry-After seconds\"}\n",
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
		ret = MHD_queue_response(h->conn, MHD_HTTP_TOO_MANY_REQUESTS, r);
		MHD_destroy_response(r);
		return ret;
	}
	l = calloc(1, sizeof(*l));
	if (!l || auth_login_begin(&sd->inv, user, &l->job.check)) {
		free(l);
		json_decref(body);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "login: inventory error");
	}
	snprintf(l->job.password, sizeof(l->job.password), "%s", password);
	json_decref(body);
	l->job.done = api_login_checked;
	l->job.ctx = l;
	l->h = h;
	if (authq_submit(sd->authq, &l->job)) {
		api_login_free(l);
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "login: too many logins under way; try again");
	}
	h->pending = l;
	h->pending_free = api_login_free;
	MHD_suspend_connection(h->conn);
	return MHD_YES;
}

/* POST /api/v1/users {name, password, role}; GET lists; DELETE /api/v1/users/NAME. */
static enum MHD_Result api_users(struct http_ctx *h, const char *rest)
{
	static const char *const fields[] = { "name", "password", "role", NULL };
	const char *name, *password, *role;
	enum inv_role r;
	char err[256];
	json_t *body;
	int rc;

	if (!strcmp(h->method, "GET") && !*rest) {
		json_t *arr = auth_user_list(&h->sd->inv);
		return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "users", arr)) :
			     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (!strcmp(h->method, "DELETE") && *rest == '/') {
		rc = auth_user_rm(&h->sd->inv, rest + 1);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no user '%.64s'", rest + 1);
		if (rc)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		log_info("users: %s removed", rest + 1);
		return http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", rest + 1));
	}
	if (strcmp(h->method, "POST") || *rest)
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET, POST or DELETE", h->url);
	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	rc = -EINVAL;
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    valid_name(name, err, sizeof(err)) ||
	    jsonh_get_str(body, "password", 1, 4096, &password, err, sizeof(err)) ||
	    jsonh_get_str(body, "role", 1, 16, &role, err, sizeof(err)))
		goto out;
	r = inv_role_parse(role);
	if (!r) {
		snprintf(err, sizeof(err), "role: '%s' is not viewer, operator or admin", role);
		goto out;
	}
	rc = auth_user_add(&h->sd->inv, name, password, r, err, sizeof(err));
	if (!rc) {
		/* name and role belong to body: answer before letting it go. */
		json_t *ans = json_pack("{s:s, s:s}", "name", name, "role", role);
		log_info("users: %s added (%s)", name, role);
		json_decref(body);
		return http_json(h, MHD_HTTP_CREATED, ans);
	}
out:
	json_decref(body);
	if (rc == -EEXIST)
		return http_error(h, MHD_HTTP_CONFLICT, "%s", err);
	if (rc == -EINVAL)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
}

/* POST /api/v1/tokens {name, role} -> the token, shown once; GET lists; DELETE /tokens/NAME. */
static enum MHD_Result api_tokens(struct http_ctx *h, const char *rest)
{
	static const char *const fields[] = { "name", "role", NULL };
	const char *name, *role;
	char err[256], token[72];
	enum inv_role r;
	json_t *body, *ans;
	int rc;

	if (!strcmp(h->method, "GET") && !*rest) {
		json_t *arr = inv_token_list(&h->sd->inv);
		return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "tokens", arr)) :
			     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (!strcmp(h->method, "DELETE") && *rest == '/') {
		rc = inv_token_rm(&h->sd->inv, rest + 1);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no token '%.64s'", rest + 1);
		return rc ? http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error") :
			    http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", rest + 1));
	}
	if (strcmp(h->method, "POST") || *rest)
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET, POST or DELETE", h->url);
	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    valid_name(name, err, sizeof(err)) ||
	    jsonh_get_str(body, "role", 1, 16, &role, err, sizeof(err))) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	}
	r = inv_role_parse(role);
	if (!r) {
		json_decref(body);
		return http_error(h, MHD_HTTP_BAD_REQUEST, "role: '%.16s' is not viewer, operator or admin", role);
	}
	rc = inv_token_create(&h->sd->inv, name, r, token);
	if (rc) {
		json_decref(body);
		return rc == -EEXIST ? http_error(h, MHD_HTTP_CONFLICT, "name: a token named '%.64s' exists", name) :
				       http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	log_info("tokens: %s created (%s)", name, role);
	ans = json_pack("{s:s, s:s, s:s}", "name", name, "role", role, "token", token);
	explicit_bzero(token, sizeof(token));
	json_decref(body);
	return http_json(h, MHD_HTTP_CREATED, ans);
}

/* /api/v1/profiles[/NAME]: GET (viewer), POST/PUT/DELETE (admin; checked by the caller). */
static enum MHD_Result api_profiles(struct http_ctx *h, const char *name)
{
	static const char *const fields[] = { "name", "settings", NULL };
	struct snowd *sd = h->sd;
	json_t *body, *settings;
	char err[256];
	int rc, users;

	if (!strcmp(h->method, "GET")) {
		json_t *v = name ? inv_profile_get(&sd->inv, name) : inv_profile_list(&sd->inv);
		if (!v)
			return name ? http_error(h, MHD_HTTP_NOT_FOUND, "name: no profile '%s'", name) :
				      http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		return http_json(h, MHD_HTTP_OK, name ? json_pack("{s:s, s:o}", "name", name, "settings", v) :
						       json_pack("{s:o}", "profiles", v));
	}
	if (!strcmp(h->method, "DELETE") && name) {
		rc = inv_profile_rm(&sd->inv, name, &users);
		if (rc == -EBUSY)
			return http_error(h, MHD_HTTP_CONFLICT, "name: %d node(s) use profile '%s'", users, name);
		if (rc == -ENOENT)
			return http_error(h, MHD_HTTP_NOT_FOUND, "name: no profile '%s'", name);
		if (rc)
			return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
		log_info("profiles: %s removed", name);
		return http_json(h, MHD_HTTP_OK, json_pack("{s:s}", "deleted", name));
	}
	if (!((!strcmp(h->method, "POST") && !name) || (!strcmp(h->method, "PUT") && name)))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "%s: GET, POST to /profiles, PUT or DELETE /profiles/NAME", h->url);
	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	settings = json_object_get(body, "settings");
	if (!name && jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)))
		goto bad;
	if (jsonh_only_keys(body, fields, err, sizeof(err)) || valid_name(name, err, sizeof(err)))
		goto bad;
	if (!settings)
		settings = json_object_get(body, "settings") ? NULL : json_object();
	else
		json_incref(settings);
	if (settings_check(settings, 0, err, sizeof(err))) {
		json_decref(settings);
		goto bad;
	}
	rc = inv_profile_put(&sd->inv, name, settings, !strcmp(h->method, "POST"));
	json_decref(settings);
	if (rc == -EEXIST || rc == -ENOENT) {
		/* name may belong to body: the message first, then let body go. */
		snprintf(err, sizeof(err), "name: %s profile '%s'",
			 rc == -EEXIST ? "there is already a" : "no", name);
		json_decref(body);
		return http_error(h, rc == -EEXIST ? MHD_HTTP_CONFLICT : MHD_HTTP_NOT_FOUND, "%s", err);
	}
	if (rc) {
		json_decref(body);
		return http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	sd->settings_gen++;
	log_info("profiles: %s %s", name, !strcmp(h->method, "POST") ? "added" : "replaced");
	{
		json_t *ans = json_pack("{s:s, s:o}", "name", name, "settings",
					inv_profile_get(&sd->inv, name));
		json_decref(body);
		return http_json(h, !strcmp(h->method, "POST") ? MHD_HTTP_CREATED : MHD_HTTP_OK, ans);
	}
bad:
	json_decref(body);
	return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
}

/* GET /api/v1/images; POST {name, kernel, initrd, rootfs?} registers files of this host (admin). */
static enum MHD_Result api_images(struct http_ctx *h)
{
	static const char *const fields[] = { "name", "kernel", "initrd", "rootfs", NULL };
	char version[INV_VERSION_LEN + 1], err[512];
	const char *name, *kernel, *initrd, *rootfs = NULL;
	json_t *body;
	int rc;

	if (!strcmp(h->method, "GET")) {
		json_t *arr = inv_image_list(&h->sd->inv);
		return arr ? http_json(h, MHD_HTTP_OK, json_pack("{s:o}", "images", arr)) :
			     http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	}
	if (strcmp(h->method, "POST"))
		return http_error(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s: use GET or POST", h->url);
	body = jsonh_parse_object(h->body.data, h->body.len, err, sizeof(err));
	if (!body)
		return http_error(h, MHD_HTTP_BAD_REQUEST, "%s", err);
	if (jsonh_only_keys(body, fields, err, sizeof(err)) ||
	    jsonh_get_str(body, "name", 1, 255, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "kernel", 1, 4000, &kernel, err, sizeof(err)) ||
	    jsonh_get_str(body, "initrd", 1, 4000, &initrd, err, sizeof(err)) ||
	    jsonh_get_str(body, "rootfs", 0, 4000, &rootfs, err, sizeof(err)))
		rc = -EINVAL;
	else
		rc = images_register(h->sd, name, kernel, initrd, rootfs, version, err, sizeof(err));
	if (rc) {
		json_decref(body);
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "%s", err);
	}
	{
		json_t *ans = json_pack("{s:s, s:s}", "name", name, "version", version);
		json_decref(body);
		return http_json(h, MHD_HTTP_CREATED, ans);
	}
}

enum MHD_Result api_logout(struct http_ctx *h)
{
	if (h->who.via_session)
		auth_logout(&h->sd->inv, h->who.cookie);
	return http_json(h, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
}

enum MHD_Result api_me(struct http_ctx *h)
{
	json_t *me = json_pack("{s:s, s:s}", "user", h->who.via_session ? h->who.user : "(token)",
			       "role", inv_role_name((enum inv_role)h->who.role));

	if (me && h->who.via_session)
		json_object_set_new(me, "csrf", json_string(h->who.csrf));
	return http_json(h, MHD_HTTP_OK, me);
}

/* A user or token path: "" for the collection, "/NAME" for one. */
static const char *api_rest(struct http_ctx *h, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s", h->param[0] ? "/" : "", h->param[0] ? h->param[0] : "");
	return buf;
}

enum MHD_Result api_users_list(struct http_ctx *h)
{
	return api_users(h, "");
}

enum MHD_Result api_user_add(struct http_ctx *h)
{
	return api_users(h, "");
}

enum MHD_Result api_user_delete(struct http_ctx *h)
{
	char rest[HTTP_PARAM_MAX + 2];

	return api_users(h, api_rest(h, rest, sizeof(rest)));
}

enum MHD_Result api_tokens_list(struct http_ctx *h)
{
	return api_tokens(h, "");
}

enum MHD_Result api_token_add(struct http_ctx *h)
{
	return api_tokens(h, "");
}

enum MHD_Result api_token_delete(struct http_ctx *h)
{
	char rest[HTTP_PARAM_MAX + 2];

	return api_tokens(h, api_rest(h, rest, sizeof(rest)));
}

enum MHD_Result api_profiles_list(struct http_ctx *h)
{
	return api_profiles(h, NULL);
}

enum MHD_Result api_profile_get(struct http_ctx *h)
{
	return api_profiles(h, h->param[0]);
}

enum MHD_Result api_profile_put(struct http_ctx *h)
{
	return api_profiles(h, h->param[0]);
}

enum MHD_Result api_profile_delete(struct http_ctx *h)
{
	return api_profiles(h, h->param[0]);
}

enum MHD_Result api_images_list(struct http_ctx *h)
{
	return api_images(h);
}

enum MHD_Result api_images_add(struct http_ctx *h)
{
	return api_images(h);
}

/* DELETE /api/v1/images/NAME[@VERSION]: refused (409) while a node or profile uses it. */
enum MHD_Result api_image_delete(struct http_ctx *h)
{
	char err[1400];
	json_t *gone;
	int rc = images_remove(h->sd, h->param[0], &gone, err, sizeof(err));

	if (rc)
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST :
				     rc == -ENOENT ? MHD_HTTP_NOT_FOUND :
				     rc == -EBUSY ? MHD_HTTP_CONFLICT : MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "%s", err);
	{
		const char *at = strchr(h->param[0], '@');
		json_t *ans = json_pack("{s:s%, s:o}", "name", h->param[0],
					at ? (size_t)(at - h->param[0]) : strlen(h->param[0]), "removed",
					gone);
		return http_json(h, MHD_HTTP_OK, ans);
	}
}
