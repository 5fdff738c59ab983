/* The redfish power driver on libcurl's multi interface (power_redfish.h). */
#include "power_redfish.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fsafe.h"
#include "inv.h"
#include "log.h"
#include "power.h"
#include "bmc.h"
#include "redfish.h"
#include "snowd.h"

enum rf_step {
	RF_LOGIN, RF_SYSTEMS, RF_SYSTEM, RF_ACTIONINFO, RF_RESET,
	/* A sensor poll (bmc.c): the chassis once, its Thermal and Power, the log. */
	RF_CHASSIS, RF_THERMAL, RF_POWER, RF_LOGSVC, RF_ENTRIES
};

/* A BMC's session, kept for the next command; never freed before the driver. */
struct rf_session {
	struct rf_session *next;
	char base[256];                   /* https://HOST[:PORT] */
	char user[65];
	char token[REDFISH_TOKEN_MAX];    /* "" none yet */
	char system[REDFISH_PATH_MAX];    /* the ComputerSystem found, "" not yet */
	char chassis[REDFISH_PATH_MAX];   /* the Chassis found, "" not yet */
	char logsvc[REDFISH_PATH_MAX];    /* the system's first LogService, "" not yet */
	int no_log;                       /* the system has no LogService */
};

/* One command under way. */
struct rf_op {
	struct rf_op *next;
	int64_t cmd_id;
	char op[16];
	char node[64];
	int64_t deadline;                 /* monotonic ms */
	int timeout_s;
	struct rf_session *ss;            /* borrowed from the driver's list */
	char password[256];               /* wiped when the op ends */
	struct buf ca;                    /* power.ca_file's bytes, or empty */
	char pin[160];                    /* power.pin, or "" */
	enum redfish_reset off, cycle;    /* what off and cycle ask for */
	enum rf_step step, resume;        /* resume: the step a login was for */
	int relogged;                     /* logged in again after a 401 */
	char what[320];                   /* the request under way, for messages */
	CURL *easy;
	struct curl_slist *hdrs;
	char *post;                       /* the request body (owned; wiped: may hold the password) */
	size_t postlen;
	struct buf in;                    /* the answer so far */
	int too_long;
	char token[REDFISH_TOKEN_MAX];    /* from the login answer */
	int bad_token;
	char errbuf[CURL_ERROR_SIZE];
	struct redfish_system sys;
	char before[16];                  /* PowerState before a reset; "" not read yet */
	int reset;                        /* the reset sent, -1 none */
	/* A sensor poll rather than a command (cmd_id 0): what it read so far. */
	int poll, want_log;
	int64_t node_id;
	struct bmcp_poll *bp;             /* owned */
};

struct power_redfish {
	CURLM *multi;
	int epfd;                         /* curl's sockets, data.fd */
	int64_t timer_at;                 /* curl wants a timeout call then; -1 none */
	unsigned nops;
	struct rf_op *ops;
	struct rf_session *sessions;
};

static int rf_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct power_redfish *r = userp;
	struct epoll_event ev = { .data.fd = s };

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	/* A descriptor number curl closed and opened again may still be in the set. */
	if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, s, &ev) && errno == ENOENT &&
	    epoll_ctl(r->epfd, EPOLL_CTL_ADD, s, &ev))
		log_warn("redfish: epoll for socket %d", (int)s);
	return 0;
}

static int rf_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct power_redfish *r = userp;

	r->timer_at = timeout_ms < 0 ? -1 : clock_mono_ms() + timeout_ms;
	return 0;
}

struct power_redfish *power_redfish_new(void)
{
	struct power_redfish *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		goto err_free;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		goto err_free;
	r->multi = curl_multi_init();
	if (!r->multi)
		goto err_close;
	r->timer_at = -1;
	curl_multi_setopt(r->multi, CURLMOPT_SOCKETFUNCTION, rf_socket_cb);
	curl_multi_setopt(r->multi, CURLMOPT_SOCKETDATA, r);
	curl_multi_setopt(r->multi, CURLMOPT_TIMERFUNCTION, rf_timer_cb);
	curl_multi_setopt(r->multi, CURLMOPT_TIMERDATA, r);
	/* A BMC serves few connections: one per BMC, reused across its requests. */
	curl_multi_setopt(r->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
	return r;
err_close:
	close(r->epfd);
err_free:
	free(r);
	return NULL;
}

/* Unlink o from the driver, end its transfer and free it (the password wiped). */
static void rf_op_free(struct power_redfish *r, struct rf_op *o)
{
	struct rf_op **pp;

	for (pp = &r->ops; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (o->easy) {
		curl_multi_remove_handle(r->multi, o->easy);
		curl_easy_cleanup(o->easy);
	}
	curl_slist_free_all(o->hdrs);
	if (o->post) {
		explicit_bzero(o->post, o->postlen);
		free(o->post);
	}
	buf_free(&o->in);
	buf_free(&o->ca);
	free(o->bp);
	explicit_bzero(o->password, sizeof(o->password));
	free(o);
	r->nops--;
}

void power_redfish_free(struct power_redfish *r)
{
	struct rf_session *s;

	if (!r)
		return;
	while (r->ops)
		rf_op_free(r, r->ops);
	while ((s = r->sessions)) {
		r->sessions = s->next;
		explicit_bzero(s->token, sizeof(s->token));
		free(s);
	}
	curl_multi_cleanup(r->multi);
	close(r->epfd);
	free(r);
}

int power_redfish_fd(const struct power_redfish *r)
{
	return r->epfd;
}

int power_redfish_timeout_ms(const struct power_redfish *r, int64_t now_ms)
{
	int64_t next = r->nops ? r->timer_at : -1;
	const struct rf_op *o;

	for (o = r->ops; o; o = o->next)
		if (next < 0 || o->deadline < next)
			next = o->deadline;
	if (next < 0)
		return -1;
	return next <= now_ms ? 0 : next - now_ms > 60000 ? 60000 : (int)(next - now_ms);
}

/* End o: its result (borrowed) or error recorded, o freed. */
static void rf_finish(struct snowd *sd, struct power_redfish *r, struct rf_op *o, int ok,
		      json_t *result, const char *error)
{
	if (o->poll)
		bmc_polled(sd, o->node_id, ok ? o->bp : NULL, error);
	else
		power_finish(sd, o->cmd_id, o->op, o->node, "redfish", ok, result, error);
	rf_op_free(r, o);
}

static void rf_fail(struct snowd *sd, struct power_redfish *r, struct rf_op *o, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rf_fail(struct snowd *sd, struct power_redfish *r, struct rf_op *o, const char *fmt, ...)
{
	char why[300], err[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, sizeof(err), "redfish %s: %s", o->ss->base, why);
	rf_finish(sd, r, o, 0, NULL, err);
}

static size_t rf_write_cb(char *p, size_t size, size_t n, void *userp)
{
	struct rf_op *o = userp;

	if (o->in.len + n > POWER_REDFISH_MAX_ANSWER) {
		o->too_long = 1;
		return 0; /* curl ends the transfer: CURLE_WRITE_ERROR */
	}
	return buf_append(&o->in, p, n) ? 0 : n;
}

static size_t rf_header_cb(char *p, size_t size, size_t n, void *userp)
{
	struct rf_op *o = userp;
	int rc = redfish_header_token(p, n, o->token, sizeof(o->token));

	if (rc < 0)
		o->bad_token = 1;
	return n;
}

/*
 * Send method path (body: JSON text, copied; NULL for GET) for o's current
 * step.  @ret 0, or -errno with o->what saying what could not start.
 */
static int rf_request(struct power_redfish *r, struct rf_op *o, const char *method,
		      const char *path, const char *body)
{
	char url[600], hdr[REDFISH_TOKEN_MAX + 16];
	int64_t left = o->deadline - clock_mono_ms();
	CURL *e = o->easy;

	snprintf(o->what, sizeof(o->what), "%s %s", method, path);
	snprintf(url, sizeof(url), "%s%s", o->ss->base, path);
	curl_multi_remove_handle(r->multi, e);
	curl_easy_reset(e);
	curl_slist_free_all(o->hdrs);
	o->hdrs = NULL;
	if (o->post) {
		explicit_bzero(o->post, o->postlen);
		free(o->post);
		o->post = NULL;
	}
	buf_reset(&o->in);
	o->too_long = 0;
	o->errbuf[0] = '\0';
	o->hdrs = curl_slist_append(o->hdrs, "Accept: application/json");
	if (body)
		o->hdrs = curl_slist_append(o->hdrs, "Content-Type: application/json");
	if (o->step != RF_LOGIN && o->ss->token[0]) {
		snprintf(hdr, sizeof(hdr), "X-Auth-Token: %s", o->ss->token);
		o->hdrs = curl_slist_append(o->hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
	}
	if (!o->hdrs)
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, o);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, rf_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, o);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, o->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
	if (o->step == RF_LOGIN) {
		o->token[0] = '\0';
		o->bad_token = 0;
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, rf_header_cb);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, o);
	}
	if (body) {
		o->postlen = strlen(body);
		o->post = malloc(o->postlen + 1);
		if (!o->post)
			return -ENOMEM;
		memcpy(o->post, body, o->postlen + 1);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->post);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)o->postlen);
	}
	if (o->ca.len) {
		struct curl_blob blob = { .data = o->ca.data, .len = o->ca.len,
					  .flags = CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL); /* this CA only */
	} else if (o->pin[0]) {
		/* A pinned key is the trust: a BMC's self-signed certificate is fine. */
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->pin[0])
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, o->pin);
	return curl_multi_add_handle(r->multi, e) == CURLM_OK ? 0 : -EIO;
}

/*
 * Append s as a JSON string to out (cap bytes, len used).  Room is sized by
 * the caller for 6 bytes per input byte (\u00XX) plus quotes.  @ret the new len.
 */
static size_t rf_json_str(char *out, size_t cap, size_t len, const char *s)
{
	out[len++] = '"';
	for (; *s && len + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[len++] = '\\';
			out[len++] = (char)c;
		} else if (c < 0x20) {
			len += (size_t)snprintf(out + len, cap - len, "\\u%04x", c);
		} else {
			out[len++] = (char)c;
		}
	}
	out[len++] = '"';
	out[len] = '\0';
	return len;
}

/* Send the request of step (the login first when there is no token).  @ret 0 or -errno. */
static int rf_go(struct power_redfish *r, struct rf_op *o, enum rf_step step)
{
	char path[REDFISH_PATH_MAX + 64];
	int rc;

	if (step != RF_LOGIN && !o->ss->token[0]) {
		o->resume = step;
		step = RF_LOGIN;
	}
	o->step = step;
	switch (step) {
	case RF_LOGIN: {
		/* Built here, not by jansson, so that every copy of the password is wiped. */
		char body[6 * sizeof(o->ss->user) + 6 * sizeof(o->password) + 64];
		size_t len = (size_t)snprintf(body, sizeof(body), "{\"UserName\":");
		len = rf_json_str(body, sizeof(body), len, o->ss->user);
		len += (size_t)snprintf(body + len, sizeof(body) - len, ",\"Password\":");
		len = rf_json_str(body, sizeof(body), len, o->password);
		snprintf(body + len, sizeof(body) - len, "}");
		rc = rf_request(r, o, "POST", "/redfish/v1/SessionService/Sessions", body);
		explicit_bzero(body, sizeof(body));
		return rc;
	}
	case RF_SYSTEMS:
		return rf_request(r, o, "GET", "/redfish/v1/Systems", NULL);
	case RF_SYSTEM:
		return rf_request(r, o, "GET", o->ss->system, NULL);
	case RF_ACTIONINFO:
		return rf_request(r, o, "GET", o->sys.action_info, NULL);
	case RF_CHASSIS:
		return rf_request(r, o, "GET", "/redfish/v1/Chassis", NULL);
	case RF_THERMAL:
		snprintf(path, sizeof(path), "%s/Thermal", o->ss->chassis);
		return rf_request(r, o, "GET", path, NULL);
	case RF_POWER:
		snprintf(path, sizeof(path), "%s/Power", o->ss->chassis);
		return rf_request(r, o, "GET", path, NULL);
	case RF_LOGSVC:
		snprintf(path, sizeof(path), "%s/LogServices", o->ss->system);
		return rf_request(r, o, "GET", path, NULL);
	case RF_ENTRIES:
		snprintf(path, sizeof(path), "%s/Entries", o->ss->logsvc);
		return rf_request(r, o, "GET", path, NULL);
	case RF_RESET: {
		char body[64];
		if (o->sys.reset_target[0])
			snprintf(path, sizeof(path), "%s", o->sys.reset_target);
		else
			snprintf(path, sizeof(path), "%s/Actions/ComputerSystem.Reset", o->ss->system);
		snprintf(body, sizeof(body), "{\"ResetType\":\"%s\"}", redfish_reset_name(o->reset));
		return rf_request(r, o, "POST", path, body);
	}
	}
	return -EINVAL;
}

/* The allowed reset types, for a message. */
static void rf_allowed_text(unsigned mask, char *out, size_t cap)
{
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < REDFISH_NRESET && len < cap; i++)
		if (mask & (1u << i))
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "",
						redfish_reset_name(i));
}

/* Done with the op: the state read last, and the reset sent, if any. */
static void rf_result(struct snowd *sd, struct power_redfish *r, struct rf_op *o)
{
	json_t *res = json_pack("{s:s, s:s, s:s}", "driver", "redfish", "before", o->before,
				"status", o->sys.power_state[0] ? o->sys.power_state : "unknown");

	if (res && o->reset >= 0)
		json_object_set_new(res, "reset", json_string(redfish_reset_name(o->reset)));
	if (!res) {
		rf_fail(sd, r, o, "out of memory");
		return;
	}
	rf_finish(sd, r, o, 1, res, NULL);
	json_decref(res);
}

/*
 * The system was read before any reset: pick the reset for op, or end here
 * (status; on when on; off when off).  @ret 0 (next request sent or op
 * ended), or -errno to fail with o->what.
 */
static int rf_plan(struct snowd *sd, struct power_redfish *r, struct rf_op *o)
{
	const char *ps = o->sys.power_state;
	int off = !strcmp(ps, "Off");
	unsigned allowed;
	char list[120];

	snprintf(o->before, sizeof(o->before), "%s", ps[0] ? ps : "unknown");
	if (!strcmp(o->op, "power.status") || (!strcmp(o->op, "power.on") && !strcmp(ps, "On")) ||
	    (!strcmp(o->op, "power.off") && off)) {
		rf_result(sd, r, o);
		return 0;
	}
	if (!strcmp(o->op, "power.on") || (!strcmp(o->op, "power.cycle") && off))
		o->reset = REDFISH_ON;
	else if (!strcmp(o->op, "power.off"))
		o->reset = (int)o->off;
	else
		o->reset = (int)o->cycle;
	if (!o->sys.allowed && o->sys.action_info[0] && o->step != RF_ACTIONINFO)
		return rf_go(r, o, RF_ACTIONINFO);
	allowed = o->sys.allowed;
	/* Not every BMC offers PowerCycle: a ForceRestart cycles the host as well. */
	if (allowed && o->reset == REDFISH_POWER_CYCLE && !(allowed & (1u << REDFISH_POWER_CYCLE)))
		o->reset = REDFISH_FORCE_RESTART;
	if (allowed && !(allowed & (1u << o->reset))) {
		rf_allowed_text(allowed, list, sizeof(list));
		rf_fail(sd, r, o, "the system does not allow ResetType %s (it allows %s)",
			redfish_reset_name(o->reset), list);
		return 0;
	}
	return rf_go(r, o, RF_RESET);
}

/*
 * A sensor poll's next step after the one done (the sensors first, then the
 * log when asked for), or its end.  @ret 0 or -errno.
 */
static int rf_poll_next(struct snowd *sd, struct power_redfish *r, struct rf_op *o,
			enum rf_step done)
{
	switch (done) {
	case RF_CHASSIS:
		return rf_go(r, o, RF_THERMAL);
	case RF_THERMAL:
		return rf_go(r, o, RF_POWER);
	case RF_POWER:
		if (!o->want_log || o->ss->no_log)
			break;
		/* fall through */
	case RF_SYSTEMS:
		if (o->ss->logsvc[0])
			return rf_go(r, o, RF_ENTRIES);
		return rf_go(r, o, o->ss->system[0] ? RF_LOGSVC : RF_SYSTEMS);
	case RF_LOGSVC:
		if (o->ss->logsvc[0])
			return rf_go(r, o, RF_ENTRIES);
		break;
	default:
		break;
	}
	rf_finish(sd, r, o, 1, NULL, NULL);
	return 0;
}

/* A poll's answer to step: parsed into o->bp.  @ret 0 or -EPROTO with err. */
static int rf_poll_read(struct rf_op *o, char *err, size_t errlen)
{
	const char *d = o->in.data ? o->in.data : "";

	switch (o->step) {
	case RF_CHASSIS:
		return redfish_parse_first_member(d, o->in.len, o->ss->chassis,
						  sizeof(o->ss->chassis), err, errlen);
	case RF_SYSTEMS:
		return redfish_parse_first_member(d, o->in.len, o->ss->system,
						  sizeof(o->ss->system), err, errlen);
	case RF_THERMAL:
		return redfish_parse_thermal(d, o->in.len, o->bp, err, errlen);
	case RF_POWER:
		return redfish_parse_power(d, o->in.len, o->bp, err, errlen);
	case RF_LOGSVC:
		/* No LogService at all is a BMC without a log, not a fault. */
		if (redfish_parse_first_member(d, o->in.len, o->ss->logsvc, sizeof(o->ss->logsvc),
					       err, errlen))
			o->ss->no_log = 1;
		return 0;
	case RF_ENTRIES:
		return redfish_parse_log_entries(d, o->in.len, o->bp, err, errlen);
	default:
		return 0;
	}
}

/* A transfer of o ended with cc: check it and take the next step. */
static void rf_done(struct snowd *sd, struct power_redfish *r, struct rf_op *o, CURLcode cc)
{
	char msg[200], err[200];
	long status = 0;
	int rc = 0;

	if (cc != CURLE_OK) {
		if (o->too_long)
			rf_fail(sd, r, o, "%s: answer longer than %u bytes", o->what,
				POWER_REDFISH_MAX_ANSWER);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			rf_fail(sd, r, o, "%s: no answer within %d s (deadline passed)", o->what,
				o->timeout_s);
		else
			rf_fail(sd, r, o, "%s: %s%s%s", o->what, curl_easy_strerror(cc),
				o->errbuf[0] ? ": " : "", o->errbuf);
		return;
	}
	curl_easy_getinfo(o->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status == 401 && o->step != RF_LOGIN && !o->relogged) {
		/* The session expired or the BMC restarted: log in again, once. */
		log_info("redfish %s: session refused, logging in again", o->ss->base);
		o->relogged = 1;
		o->ss->token[0] = '\0';
		if ((rc = rf_go(r, o, o->step)))
			goto fail;
		return;
	}
	if (o->poll && status == 404 && (o->step >= RF_THERMAL || o->step == RF_CHASSIS)) {
		/* A BMC without this resource: its readings or log are simply not there. */
		if (o->step == RF_LOGSVC || o->step == RF_ENTRIES)
			o->ss->no_log = 1;
		/* No Chassis at all: no readings; the log may still be there. */
		if ((rc = rf_poll_next(sd, r, o, o->step == RF_CHASSIS ? RF_POWER : o->step)))
			goto fail;
		return;
	}
	if (status < 200 || status > 299) {
		redfish_error_message(o->in.data ? o->in.data : "", o->in.len, msg, sizeof(msg));
		if (o->step == RF_LOGIN && (status == 401 || status == 403))
			rf_fail(sd, r, o, "login refused (HTTP %ld: wrong user or password?)%s%s",
				status, msg[0] ? ": " : "", msg);
		else
			rf_fail(sd, r, o, "%s: HTTP %ld%s%s", o->what, status, msg[0] ? ": " : "", msg);
		return;
	}
	if (o->poll && o->step != RF_LOGIN) {
		if (rf_poll_read(o, err, sizeof(err))) {
			rf_fail(sd, r, o, "%s: %s", o->what, err);
			return;
		}
		if ((rc = rf_poll_next(sd, r, o, o->step)))
			goto fail;
		return;
	}
	switch (o->step) {
	case RF_LOGIN:
		if (o->bad_token || !o->token[0]) {
			rf_fail(sd, r, o, "login: %s X-Auth-Token in the answer",
				o->bad_token ? "a malformed" : "no");
			return;
		}
		memcpy(o->ss->token, o->token, sizeof(o->token));
		explicit_bzero(o->token, sizeof(o->token));
		rc = rf_go(r, o, o->resume);
		break;
	case RF_SYSTEMS:
		if (redfish_parse_first_member(o->in.data, o->in.len, o->ss->system,
					       sizeof(o->ss->system), err, sizeof(err))) {
			rf_fail(sd, r, o, "%s: %s", o->what, err);
			return;
		}
		rc = rf_go(r, o, RF_SYSTEM);
		break;
	case RF_SYSTEM:
		if (redfish_parse_system(o->in.data, o->in.len, &o->sys, err, sizeof(err))) {
			rf_fail(sd, r, o, "%s: %s", o->what, err);
			return;
		}
		if (o->reset >= 0)
			rf_result(sd, r, o);
		else
			rc = rf_plan(sd, r, o);
		break;
	case RF_ACTIONINFO:
		if (redfish_parse_action_info(o->in.data, o->in.len, &o->sys.allowed, err,
					      sizeof(err))) {
			rf_fail(sd, r, o, "%s: %s", o->what, err);
			return;
		}
		rc = rf_plan(sd, r, o);
		break;
	case RF_RESET:
		rc = rf_go(r, o, RF_SYSTEM);
		break;
	default:
		break;
	}
	if (!rc)
		return;
fail:
	rf_fail(sd, r, o, "%s: cannot send: %s", o->what, strerror(-rc));
}

void power_redfish_poll(struct snowd *sd, struct power_redfish *r)
{
	struct epoll_event ev[256];
	struct rf_op *o, *next;
	int n, k, running;
	int64_t now;
	CURLMsg *m;

	if (!r->nops)
		return;
	n = epoll_wait(r->epfd, ev, 256, 0);
	for (k = 0; k < n; k++) {
		int flags = (ev[k].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			    (ev[k].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			    (ev[k].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
		curl_multi_socket_action(r->multi, ev[k].data.fd, flags, &running);
	}
	now = clock_mono_ms();
	if (r->timer_at >= 0 && now >= r->timer_at) {
		r->timer_at = -1;
		curl_multi_socket_action(r->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	while ((m = curl_multi_info_read(r->multi, &k))) {
		char *priv = NULL;
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		if (priv)
			rf_done(sd, r, (struct rf_op *)priv, m->data.result);
	}
	now = clock_mono_ms();
	for (o = r->ops; o; o = next) {
		next = o->next;
		if (now >= o->deadline)
			rf_fail(sd, r, o, "%s: no answer within %d s (deadline passed)", o->what,
				o->timeout_s);
	}
}

/* The session of BMC base for user, made when new.  @ret it (borrowed), or NULL. */
static struct rf_session *rf_session(struct power_redfish *r, const char *base, const char *user)
{
	struct rf_session *s;

	for (s = r->sessions; s; s = s->next)
		if (!strcmp(s->base, base) && !strcmp(s->user, user))
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->base, sizeof(s->base), "%s", base);
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->next = r->sessions;
	r->sessions = s;
	return s;
}

/* Read a small file snowd may read (fsafe) into b.  @ret 0 or -errno with err. */
static int rf_read_file(const char *allow, const char *path, const char *field, struct buf *b,
			size_t max, char *err, size_t errlen)
{
	int fd = fsafe_open(allow, path, field, err, errlen);
	ssize_t n;

	if (fd < 0)
		return fd;
	for (;;) {
		if (buf_reserve(b, 4096)) {
			close(fd);
			snprintf(err, errlen, "%s: out of memory", field);
			return -ENOMEM;
		}
		n = read(fd, b->data + b->len, 4096);
		if (n <= 0)
			break;
		b->len += (size_t)n;
		if (b->len > max) {
			close(fd);
			snprintf(err, errlen, "%s: %s is larger than %zu bytes", field, path, max);
			return -EFBIG;
		}
	}
	close(fd);
	if (n < 0 || !b->len) {
		snprintf(err, errlen, "%s: %s is %s", field, path, n < 0 ? "unreadable" : "empty");
		return -EINVAL;
	}
	b->data[b->len] = '\0';
	return 0;
}

/*
 * A new op for the BMC of power (borrowed) on behalf of node, linked into r,
 * its password read and its TLS trust set; the caller sends its first
 * request.  @ret 0 with *out, or -errno with err (nothing left behind).
 */
static int rf_op_new(struct snowd *sd, struct power_redfish *r, const char *node, json_t *power,
		     struct rf_op **out, char *err, size_t errlen)
{
	const char *url = json_string_value(json_object_get(power, "url"));
	const char *user = json_string_value(json_object_get(power, "user"));
	const char *pwfile = json_string_value(json_object_get(power, "password_file"));
	const char *ca = json_string_value(json_object_get(power, "ca_file"));
	const char *pin = json_string_value(json_object_get(power, "pin"));
	const char *sys = json_string_value(json_object_get(power, "system"));
	const char *chassis = json_string_value(json_object_get(power, "chassis"));
	json_int_t tmo = json_integer_value(json_object_get(power, "timeout_s"));
	struct buf pw = BUF_INIT;
	char base[256];
	struct rf_op *o;
	int rc;

	if (!url || !user || !pwfile) {
		snprintf(err, errlen, "power: redfish needs url, user and password_file");
		return -EINVAL;
	}
	snprintf(base, sizeof(base), "%s", url);
	if (strlen(base) && base[strlen(base) - 1] == '/')
		base[strlen(base) - 1] = '\0';
	if (r->nops >= POWER_REDFISH_MAX_OPS) {
		snprintf(err, errlen, "redfish: too many power operations under way");
		return -EBUSY;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "redfish: out of memory");
		return -ENOMEM;
	}
	o->reset = -1;
	snprintf(o->node, sizeof(o->node), "%s", node);
	o->timeout_s = tmo > 0 ? (int)tmo : POWER_REDFISH_DEADLINE_S;
	if (pin)
		snprintf(o->pin, sizeof(o->pin), "%s", pin);
	o->next = r->ops;
	r->ops = o;
	r->nops++;
	o->ss = rf_session(r, base, user);
	o->easy = curl_easy_init();
	if (!o->ss || !o->easy) {
		snprintf(err, errlen, "redfish: out of memory");
		rc = -ENOMEM;
		goto err_op;
	}
	rc = rf_read_file(sd->cfg.allow_dir, pwfile, "power.password_file", &pw, sizeof(o->password) - 1,
			  err, errlen);
	if (!rc) {
		pw.data[strcspn(pw.data, "\r\n")] = '\0';
		snprintf(o->password, sizeof(o->password), "%s", pw.data);
	}
	if (pw.data)
		explicit_bzero(pw.data, pw.cap);
	buf_free(&pw);
	if (rc)
		goto err_op;
	if (ca && (rc = rf_read_file(sd->cfg.allow_dir, ca, "power.ca_file", &o->ca, 1u << 20, err,
				     errlen)))
		goto err_op;
	if (sys && strcmp(sys, o->ss->system))
		snprintf(o->ss->system, sizeof(o->ss->system), "%s", sys);
	if (chassis && redfish_path_ok(chassis) && strcmp(chassis, o->ss->chassis))
		snprintf(o->ss->chassis, sizeof(o->ss->chassis), "%s", chassis);
	o->deadline = clock_mono_ms() + (int64_t)o->timeout_s * 1000;
	*out = o;
	return 0;
err_op:
	rf_op_free(r, o);
	return rc;
}

int power_redfish_start(struct snowd *sd, struct power_redfish *r, const struct inv_node *n,
			int64_t id, const char *op, json_t *power, char *err, size_t errlen)
{
	const char *off = json_string_value(json_object_get(power, "off"));
	const char *cycle = json_string_value(json_object_get(power, "cycle"));
	struct rf_op *o;
	int rc = rf_op_new(sd, r, n->name, power, &o, err, errlen);

	if (rc)
		return rc;
	o->cmd_id = id;
	snprintf(o->op, sizeof(o->op), "%s", op);
	o->off = off && redfish_reset_parse(off) >= 0 ? redfish_reset_parse(off) : REDFISH_FORCE_OFF;
	o->cycle = cycle && redfish_reset_parse(cycle) >= 0 ? redfish_reset_parse(cycle) :
							       REDFISH_POWER_CYCLE;
	rc = rf_go(r, o, o->ss->system[0] ? RF_SYSTEM : RF_SYSTEMS);
	if (rc) {
		snprintf(err, errlen, "redfish %s: cannot start: %s", o->ss->base, strerror(-rc));
		rf_op_free(r, o);
	}
	return rc;
}

int power_redfish_poll_start(struct snowd *sd, struct power_redfish *r, int64_t node_id,
			     const char *node, json_t *power, int want_log, int timeout_s,
			     char *err, size_t errlen)
{
	struct rf_op *o;
	int rc = rf_op_new(sd, r, node, power, &o, err, errlen);

	if (rc)
		return rc;
	o->poll = 1;
	o->want_log = want_log;
	o->node_id = node_id;
	o->timeout_s = timeout_s;
	o->deadline = clock_mono_ms() + (int64_t)timeout_s * 1000;
	snprintf(o->op, sizeof(o->op), "bmc.poll");
	o->bp = calloc(1, sizeof(*o->bp));
	rc = o->bp ? rf_go(r, o, o->ss->chassis[0] ? RF_THERMAL : RF_CHASSIS) : -ENOMEM;
	if (rc) {
		snprintf(err, errlen, "redfish %s: cannot start: %s", o->ss->base, strerror(-rc));
		rf_op_free(r, o);
	}
	return rc;
}
