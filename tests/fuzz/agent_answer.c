/*
 * Fuzz target: snowd's answer to a node-channel request as the agent reads
 * it.  The steps are the agent's own: lib/wire.c wire_answer_check() (the
 * signature over path, nonce, status and body), wire_answer_json(), then
 * node-os/agent/answer.c agent_answer_read() and, for each command,
 * instr_cmd_parse() as agent_command() calls it.  Nothing is applied: the
 * target stops where the agent would start changing things.
 *
 * The first byte picks the request (register, report, overlay) and how the
 * rest is read:
 *   bit 0 clear: the rest is the answer's bytes as they came off the socket
 *     (status line, headers with whatever X-Snow-Signature, body), read by
 *     http_response_parse(); the secret and nonce are fixed, so a signature
 *     that verifies is one the input got right;
 *   bit 0 set: the rest is the body of an answer that snowd signed
 *     correctly, with the status bits 1-3 pick: the reader behind the
 *     signature is reached.
 * Checks besides crashes:
 *   - a 2xx answer is taken exactly when its signature is the one
 *     sign_answer() gives for this request (hex of either case, as
 *     lib/sign.c reads it); one not taken yields no JSON,
 *     so nothing of it is applied;
 *   - a correctly signed 2xx answer is taken, and the same signature fails
 *     for another nonce, another path and another status;
 *   - what agent_answer_read() keeps is well formed (rekey 64 lowercase hex
 *     digits, ack_events >= 0, interval_ms within the agent's range,
 *     commands an array, fields only for the request's kind);
 *   - every command instr_cmd_parse() accepts is one the shared validator
 *     accepts again unchanged: written back as snowd queues it
 *     (instr_cmd_to_json()), it parses to the same command.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "answer.h"
#include "httpc.h"
#include "instr.h"
#include "jsonh.h"
#include "log.h"
#include "overlay.h"
#include "sign.h"
#include "wire.h"

#define FZ_SECRET "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define FZ_NONCE  UINT64_C(1796000000123456)

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz", LOG_LVL_ERR); /* the agent's warnings about bad fields */
	return 0;
}

static void fz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "agent_answer: %s: %s\n", what, detail ? detail : "");
	abort();
}

/* A command the agent would run, checked against the shared validator once more. */
static void fz_command(json_t *cmd)
{
	struct instr_cmd c, c2;
	json_int_t id, id2;
	json_t *back, *again;
	char err[512], *t1, *t2;

	if (instr_cmd_parse(cmd, &c, &id, err, sizeof(err)))
		return; /* refused: the agent answers it with an error, runs nothing */
	if (id < 0)
		fz_fail("command accepted without an id", err);
	c.id = id;
	back = instr_cmd_to_json(&c);
	if (!back)
		return; /* out of memory */
	t1 = json_dumps(back, JSON_SORT_KEYS | JSON_COMPACT);
	if (instr_cmd_parse(back, &c2, &id2, err, sizeof(err))) {
		fz_fail("a command the agent takes, written back, is refused", err);
	}
	c2.id = id2;
	again = instr_cmd_to_json(&c2);
	t2 = again ? json_dumps(again, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	if (t1 && t2 && (id2 != id || strcmp(t1, t2)))
		fz_fail("a command the agent takes reads back otherwise", t2);
	free(t1);
	free(t2);
	json_decref(again);
	json_decref(back);
}

/* What the agent reads from a taken answer's JSON (reply borrowed). */
static void fz_read(json_t *reply, enum agent_answer_kind kind)
{
	struct agent_answer a;
	json_t *cmd;
	size_t i;

	agent_answer_read(reply, kind, &a);
	if (a.rekey && (strlen(a.rekey) != SIGN_SECRET_HEX_LEN ||
			strspn(a.rekey, "0123456789abcdef") != SIGN_SECRET_HEX_LEN))
		fz_fail("rekey kept", a.rekey);
	if (a.ack < 0 || (kind == AGENT_ANSWER_REGISTER && a.ack))
		fz_fail("ack_events kept", "out of range or on a register");
	if (a.interval_ms && (kind != AGENT_ANSWER_REGISTER || a.interval_ms < AGENT_INTERVAL_MIN_MS ||
			      a.interval_ms > AGENT_INTERVAL_MAX_MS))
		fz_fail("interval_ms kept", "out of range or not on a register");
	if (a.commands && (kind != AGENT_ANSWER_REPORT || !json_is_array(a.commands)))
		fz_fail("commands kept", "not an array or not on a report");
	json_array_foreach(a.commands, i, cmd)
		fz_command(cmd);
}

static const char *const fz_paths[] = { WIRE_PATH_REGISTER, WIRE_PATH_REPORT, WIRE_PATH_OVERLAY };
static const int fz_status[] = { 200, 201, 204, 299, 401, 403, 404, 500 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response resp;
	struct buf raw = BUF_INIT;
	char err[512], want[SIGN_HEX_LEN + 1];
	const char *path;
	unsigned sel;
	int rc, status, is2xx, signed_ok;
	json_t *reply;

	if (size < 1)
		return 0;
	sel = data[0];
	path = fz_paths[((sel >> 4) & 3) % 3];
	memset(&resp, 0, sizeof(resp));
	if (sel & 1) {
		/* A body snowd signed correctly, under the status bits 1-3 pick. */
		resp.status = fz_status[(sel >> 1) & 7];
		if (buf_append(&resp.body, data + 1, size - 1))
			return 0;
		sign_answer(FZ_SECRET, path, FZ_NONCE, (unsigned)resp.status, resp.body.data,
			    resp.body.len, resp.snow_sig);
	} else {
		if (buf_append(&raw, data + 1, size - 1))
			return 0;
		rc = http_response_parse(&raw, &resp, err, sizeof(err));
		buf_free(&raw);
		if (rc) {
			http_response_free(&resp);
			return 0; /* http_request() fails: a transport error, nothing taken */
		}
	}

	is2xx = resp.status >= 200 && resp.status <= 299;
	sign_answer(FZ_SECRET, path, FZ_NONCE, (unsigned)resp.status, resp.body.data, resp.body.len,
		    want);
	signed_ok = !strcasecmp(resp.snow_sig, want); /* lib/sign.c takes hex of either case */
	rc = wire_answer_check(FZ_SECRET, "", path, FZ_NONCE, &resp, err, sizeof(err));
	if (is2xx && (rc == 0) != signed_ok)
		fz_fail(signed_ok ? "a correctly signed answer refused" : "a wrong signature taken",
			resp.snow_sig);
	if (!is2xx && (rc != -EACCES && rc != -EPROTO))
		fz_fail("a non-2xx answer", err);
	if ((sel & 1) && is2xx) {
		/* The signature binds the nonce, the path and the status. */
		struct http_response other = resp;
		if (!wire_answer_check(FZ_SECRET, "", path, FZ_NONCE + 1, &resp, err, sizeof(err)) ||
		    !wire_answer_check(FZ_SECRET, "/x", path, FZ_NONCE, &resp, err, sizeof(err)))
			fz_fail("a signature taken for another request", path);
		other.status = resp.status == 200 ? 201 : 200;
		if (!wire_answer_check(FZ_SECRET, "", path, FZ_NONCE, &other, err, sizeof(err)))
			fz_fail("a signature taken for another status", path);
	}

	/* As wire_post_raw() and wire_post() go on: status 0 when dropped. */
	status = rc == -EBADMSG ? 0 : resp.status;
	reply = path == fz_paths[2] ? NULL : wire_answer_json(status, &resp.body);
	if (rc == -EBADMSG && reply)
		fz_fail("JSON read from a dropped answer", path);
	if (!rc) {
		/* The agent applies only what a 2xx, signed answer says. */
		if (path == fz_paths[2]) {
			const char *conf;
			size_t n;
			overlay_cpio_find(resp.body.data ? resp.body.data : "", resp.body.len,
					  "etc/snow/node.conf", &conf, &n, err, sizeof(err));
		} else {
			fz_read(reply, path == fz_paths[0] ? AGENT_ANSWER_REGISTER
							   : AGENT_ANSWER_REPORT);
		}
	}
	json_decref(reply);
	http_response_free(&resp);
	return 0;
}
