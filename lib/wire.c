#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "jsonh.h"
#include "log.h"

int wire_client_init(struct wire_client *c, const char *host_url, const char *name,
		     const char *secret, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->conn.fd = -1;
	c->keep_alive = 1;
	rc = hostlist_parse(host_url, &c->hosts, err, errlen);
	if (rc)
		return rc;
	rc = valid_name(name, err, errlen);
	if (rc)
		return rc;
	if (!secret || strlen(secret) != SIGN_SECRET_HEX_LEN ||
	    strspn(secret, "0123456789abcdef") != SIGN_SECRET_HEX_LEN) {
		snprintf(err, errlen, "secret: must be %d lowercase hex digits",
			 SIGN_SECRET_HEX_LEN);
		return -EINVAL;
	}
	strcpy(c->name, name);
	strcpy(c->secret, secret);
	c->timeout_ms = 10000;
	return 0;
}

void wire_client_fini(struct wire_client *c)
{
	http_conn_close(&c->conn);
}

const struct http_url *wire_url(const struct wire_client *c)
{
	return hostlist_cur(&c->hosts);
}

/*
 * After a request: move to the next snowd when this one stopped answering,
 * and say so once per outage (not at every attempt while all are down).
 */
static void wire_follow(struct wire_client *c, int rc, int status, const char *err)
{
	const struct http_url *u = wire_url(c), *to;

	if (!hostlist_should_move(rc, status)) {
		/* An answer (a 4xx too), not one dropped for its signature. */
		if (c->moves && (status || !rc)) {
			log_info("host_url: %s:%s answers: staying with it (%u switch%s)", u->host,
				 u->port, c->moves, c->moves == 1 ? "" : "es");
			c->moves = 0;
		}
		return;
	}
	if (c->hosts.n < 2)
		return;
	http_conn_close(&c->conn);
	hostlist_next(&c->hosts);
	to = wire_url(c);
	if (!c->moves++)
		log_warnx("host_url: %s:%s stopped answering (%s): switching to %s:%s", u->host,
			  u->port, err, to->host, to->port);
	else
		log_debug("host_url: %s:%s does not answer either: trying %s:%s", u->host,
			  u->port, to->host, to->port);
}

uint64_t wire_next_nonce(struct wire_client *c)
{
	uint64_t n = (uint64_t)clock_real_us();

	if (n <= c->last_nonce)
		n = c->last_nonce + 1;
	c->last_nonce = n;
	return n;
}

int wire_answer_check(const char *secret, const char *base, const char *path, uint64_t nonce,
		      const struct http_response *resp, char *err, size_t errlen)
{
	char fullpath[512];

	/* The signature covers the path as the server saw it. */
	snprintf(fullpath, sizeof(fullpath), "%s%s", base, path);
	/*
	 * A 2xx answer is applied (commands, ack_events, interval): it must be
	 * snowd's, signed over this request's nonce.  One that is not counts
	 * as no answer at all, as a transport error would.
	 */
	if (resp->status >= 200 && resp->status <= 299 &&
	    sign_answer_verify(secret, fullpath, nonce, (unsigned)resp->status, resp->body.data,
			       resp->body.len, resp->snow_sig[0] ? resp->snow_sig : NULL)) {
		snprintf(err, errlen, "%s: answer %d %s: ignored (not from snowd?)", path,
			 resp->status, resp->snow_sig[0] ? "wrongly signed" : "not signed");
		return -EBADMSG;
	}
	if (resp->status < 200 || resp->status > 299) {
		snprintf(err, errlen, "%s: host answered %d: %.200s", path, resp->status,
			 resp->body.data ? resp->body.data : "");
		return (resp->status == 401 || resp->status == 403) ? -EACCES : -EPROTO;
	}
	return 0;
}

json_t *wire_answer_json(int status, const struct buf *answer)
{
	char jerr[128];

	if (!status || !answer->len)
		return NULL;
	return jsonh_parse_object(answer->data, answer->len, jerr, sizeof(jerr));
}

int wire_post_raw(struct wire_client *c, const char *path, json_t *body, struct buf *answer,
		  int *status, char *err, size_t errlen)
{
	char tbuf[24], nbuf[24], sig[SIGN_HEX_LEN + 1], fullpath[512];
	const struct http_url *u = wire_url(c);
	struct http_response resp;
	uint64_t nonce;
	int64_t now;
	char *text;
	int rc;

	*status = 0;
	text = jsonh_dump_wire(body);
	if (!text) {
		snprintf(err, errlen, "cannot serialise request");
		return -ENOMEM;
	}
	now = (int64_t)time(NULL);
	nonce = wire_next_nonce(c);
	/* The signature covers the path as the server sees it. */
	snprintf(fullpath, sizeof(fullpath), "%s%s", u->base, path);
	sign_request(c->secret, "POST", fullpath, now, nonce, text, strlen(text), sig);
	snprintf(tbuf, sizeof(tbuf), "%" PRId64, now);
	snprintf(nbuf, sizeof(nbuf), "%" PRIu64, nonce);
	{
		const struct http_header h[] = {
			{ "Content-Type", "application/json" },
			{ SNOW_HDR_NODE, c->name },
			{ SNOW_HDR_TIME, tbuf },
			{ SNOW_HDR_NONCE, nbuf },
			{ SNOW_HDR_SIG, sig },
		};
		if (c->keep_alive) {
			unsigned long long opened = c->conn.opened;
			rc = http_request_on(&c->conn, u, "POST", path, h, sizeof(h) / sizeof(h[0]),
					     text, strlen(text), c->timeout_ms, &resp, err, errlen);
			if (c->conn.opened != opened)
				log_debug("%s: connected to %s:%s (connection %llu, %llu sent again)",
					  path, u->host, u->port, c->conn.opened, c->conn.retried);
		} else {
			rc = http_request(u, "POST", path, h, sizeof(h) / sizeof(h[0]), text,
					  strlen(text), c->timeout_ms, &resp, err, errlen);
		}
	}
	free(text);
	if (rc) {
		http_response_free(&resp);
		wire_follow(c, rc, 0, err);
		return rc;
	}
	rc = wire_answer_check(c->secret, u->base, path, nonce, &resp, err, errlen);
	wire_follow(c, rc, rc == -EBADMSG ? 0 : resp.status, err);
	if (rc == -EBADMSG) {
		c->bad_sig = resp.snow_sig[0] ? 2 : 1;
		http_response_free(&resp);
		return rc;
	}
	*status = resp.status;
	/* The answer's bytes move to the caller: no copy of an overlay left behind. */
	buf_free(answer);
	*answer = resp.body;
	memset(&resp.body, 0, sizeof(resp.body));
	http_response_free(&resp);
	return rc;
}

int wire_post(struct wire_client *c, const char *path, json_t *body, json_t **reply, int *status,
	      char *err, size_t errlen)
{
	struct buf answer = BUF_INIT;
	int rc;

	if (reply)
		*reply = NULL;
	rc = wire_post_raw(c, path, body, &answer, status, err, errlen);
	if (reply)
		*reply = wire_answer_json(*status, &answer);
	buf_free(&answer);
	return rc;
}
