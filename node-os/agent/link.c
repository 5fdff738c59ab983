/*
 * The agent's link to snowd (docs/protocol.md): registration, reports and
 * the answers to them (results delivered, events acknowledged, commands,
 * rekey), the overlay fetched again for config.reload, and the log of
 * failures, once per outage.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "clock.h"
#include "hotrestart.h"
#include "jsonh.h"
#include "log.h"
#include "overlay.h"

/*
 * Fetch the node's overlay through the signed channel (POST WIRE_PATH_OVERLAY:
 * snowd serves the boot route once per boot only, and only a signed answer
 * is snowd's) and write its etc/snow/node.conf to out (0600).
 * @ret 0 or -errno with err filled.
 */
int agent_fetch_conf(struct agent_state *st, const char *out, char *err, size_t errlen)
{
	struct buf answer = BUF_INIT;
	json_t *body = json_pack("{s:s}", "name", st->conf->name);
	int rc, status;

	if (!body) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = wire_post_raw(&st->wire, WIRE_PATH_OVERLAY, body, &answer, &status, err, errlen);
	json_decref(body);
	if (!rc)
		rc = overlay_write_conf(answer.data, answer.len, out, err, errlen);
	if (answer.data)
		explicit_bzero(answer.data, answer.len); /* it holds the secret */
	buf_free(&answer);
	return rc;
}

/*
 * A signed answer (register or report) may carry "rekey": the node's new
 * secret key (NULL: none; agent_answer_read() checked its form), from
 * `snowctl node rekey` (docs/protocol.md).  Write it to node.conf first (an
 * agent restarted later must have it), then sign with it.
 * @ret 0 (none, or taken) or -errno, logged: the host sends it again.
 */
static int agent_rekey(struct agent_state *st, const char *key)
{
	const char *path = st->conf->config;
	char tmp[4096], line[1024];
	FILE *in = NULL, *out = NULL;
	int fd, rc = 0, seen = 0;

	if (!key || !strcmp(key, st->wire.secret))
		return 0;
	if (path && *path) {
		snprintf(tmp, sizeof(tmp), "%s.rekey", path);
		in = fopen(path, "re");
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		out = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (!out && fd >= 0)
			close(fd);
		if (!in || !out) {
			rc = -errno;
			goto out;
		}
		while (fgets(line, sizeof(line), in)) {
			const char *p = line + strspn(line, " \t");
			if (!strncmp(p, "secret", 6) && strchr(" \t=", p[6])) {
				fprintf(out, "secret = %s\n", key);
				seen = 1;
			} else {
				fputs(line, out);
			}
			explicit_bzero(line, sizeof(line));
		}
		if (!seen)
			fprintf(out, "secret = %s\n", key);
		if (fflush(out) || fsync(fileno(out)))
			rc = -errno;
		if (fclose(out) && !rc)
			rc = -EIO;
		out = NULL;
		if (!rc && rename(tmp, path))
			rc = -errno;
	}
out:
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	if (rc) {
		if (path && *path)
			unlink(tmp);
		log_warnx("rekey: cannot write the new secret to %s: %s (keeping the old one)",
			  path, strerror(-rc));
		return rc;
	}
	snprintf(st->wire.secret, sizeof(st->wire.secret), "%s", key);
	log_info("rekey: the host gave this node a new secret (written to %s): signing with it",
		 path && *path ? path : "nowhere: no --config");
	return 0;
}

int agent_answer(struct agent_state *st, json_t *reply)
{
	struct agent_answer a;
	json_t *cmd;
	size_t i;
	int rc;

	rc = agent_answer_read(reply, AGENT_ANSWER_REPORT, &a);
	agent_rekey(st, a.rekey);
	/* Whatever the answer says, a 2xx means the host has our results. */
	for (i = 0; i < st->nresults; i++)
		if (st->results[i].inflight) {
			st->results[i].inflight = 0;
			st->results[i].pending = 0;
			st->state_dirty = 1;
		}
	if (a.ack > 0 && instr_ring_ack(&st->ring, (uint64_t)a.ack, (int64_t)time(NULL)))
		st->ring_dirty = 1;
	json_array_foreach(a.commands, i, cmd)
		agent_command(st, cmd);
	/*
	 * Their results go at once (AGENT_RESULT_GAP_MS), not an interval or
	 * an early gap later: the host waits on them, and only its answers
	 * bring commands, so this cannot run away.
	 */
	if (json_array_size(a.commands))
		st->wake = st->results_due = 1;
	/* At once: a command re-sent to a restarted agent is answered from the saved results. */
	if (json_array_size(a.commands))
		agent_state_save(st);
	return rc;
}

json_t *agent_register_body(struct agent_state *st)
{
	/* "o" steals the schema reference, also when json_pack fails. */
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", st->conf->name, "mac",
			 st->conf->mac, "boot_id", st->boot_id, "version", AGENT_VERSION, "kernel",
			 st->kernel, "hostname", st->hostname, "schema",
			 instr_tree_schema_json(&st->tree));
}

/* Seconds since boot from the tree, or the clock when /proc says nothing. */
static json_int_t agent_uptime_s(struct agent_state *st)
{
	struct instr_value *v = instr_tree_find(&st->tree, "sys.uptime_s");
	struct timespec ts;

	if (v && v->valid)
		return (json_int_t)v->v;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (json_int_t)ts.tv_sec;
}

/* FNV-1a over text, never 0 (0 stands for "the host has none"). */
static uint64_t agent_digest(const char *text)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 0x100000001b3ull;
	return h ? h : 1;
}

/*
 * Add part (taken) to body as key unless its digest is have, the host's:
 * the protocol's "absent means unchanged".  *inflight gets the digest sent,
 * or 0.  @ret 0 or -ENOMEM.
 */
static int agent_report_part(json_t *body, const char *key, json_t *part, uint64_t have,
			     uint64_t *inflight)
{
	char *text = part ? jsonh_dump(part) : NULL;
	uint64_t sig;

	*inflight = 0;
	if (!text) {
		json_decref(part);
		return -ENOMEM;
	}
	sig = agent_digest(text);
	free(text);
	if (sig == have) {
		json_decref(part);
		return 0;
	}
	if (json_object_set_new(body, key, part))
		return -ENOMEM;
	*inflight = sig;
	return 0;
}

json_t *agent_report_body(struct agent_state *st)
{
	json_t *results = json_array(), *body;
	size_t i;

	if (!results)
		return NULL;
	for (i = 0; i < st->nresults; i++) {
		st->results[i].inflight = 0;
		if (!st->results[i].pending)
			continue;
		if (json_array_append(results, st->results[i].res))
			break;
		st->results[i].inflight = 1;
	}
	/* The members in snow-nodesim's order (sim_report_body): the two send the same bytes. */
	body = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o}", "name", st->conf->name,
			 "boot_id", st->boot_id, "seq", (json_int_t)++st->seq, "uptime_s",
			 agent_uptime_s(st), "values", instr_tree_values_json(&st->tree),
			 "watermarks", instr_tree_watermarks_json(&st->tree), "events",
			 instr_ring_json(&st->ring, INSTR_EVENTS_PER_REPORT), "results", results);
	if (!body)
		return NULL;
	if (agent_report_part(body, "thresholds", agent_thresholds_json(st), st->thr_sig,
			      &st->thr_sig_inflight) ||
	    agent_report_part(body, "devices", ddm_json(&st->ddm), st->dev_sig,
			      &st->dev_sig_inflight))
		goto err;
	/* Values appeared since the host last had our schema (hotplug, a mount): send it again. */
	if (st->tree.gen != st->schema_gen &&
	    json_object_set_new(body, "schema", instr_tree_schema_json(&st->tree)))
		goto err;
	return body;
err:
	json_decref(body);
	return NULL;
}

void agent_report_acked(struct agent_state *st)
{
	if (st->thr_sig_inflight)
		st->thr_sig = st->thr_sig_inflight;
	if (st->dev_sig_inflight)
		st->dev_sig = st->dev_sig_inflight;
	st->thr_sig_inflight = st->dev_sig_inflight = 0;
}

/*
 * A failure kind for "log once per outage": transport errors are one kind,
 * answers not signed by snowd (wire_post's -EBADMSG) another, answers
 * signed with a wrong key a third (a forger that changes its way is news),
 * each HTTP status its own.
 */
static int agent_fail_kind(const struct agent_state *st, int rc, int status)
{
	if (status)
		return status;
	return rc == -EBADMSG ? 1 + st->wire.bad_sig : 1;
}

static void agent_note_failure(struct agent_state *st, const char *what, int rc, int status,
			       const char *err)
{
	int kind = agent_fail_kind(st, rc, status);

	if (kind != st->fail_kind) {
		if (status)
			log_warnx("%s: %s", what, err);
		else if (rc == -EBADMSG)
			log_warnx("%s: %s (nothing applied; retrying quietly)", what, err);
		else
			log_warnx("%s: host unreachable: %s (retrying quietly)", what, err);
	} else {
		log_debug("%s: %s", what, err);
	}
	st->fail_kind = kind;
	st->fail_count++;
}

static void agent_note_success(struct agent_state *st)
{
	if (st->fail_kind)
		log_info("host answering again after %u failed attempt%s", st->fail_count,
			 st->fail_count == 1 ? "" : "s");
	st->fail_kind = 0;
	st->fail_count = 0;
}

/*
 * The request just made moved the wire to another snowd (it stopped
 * answering; lib/wire.c logged the switch): the node registers with the new
 * one first (so that it knows where to send wake-ups, and gets schema,
 * thresholds and devices whole), and tries it soon: on the first round of
 * the list AGENT_EARLY_GAP_MS later, then at the back-off's pace.  What was
 * not acknowledged (events, results) goes in the first report there.
 */
static void agent_link_moved(struct agent_state *st, size_t was)
{
	if (st->wire.hosts.cur == was)
		return;
	st->registered = 0;
	st->thr_sig = st->dev_sig = 0;
	if (st->wire.moves < st->wire.hosts.n)
		st->backoff_ms = AGENT_EARLY_GAP_MS;
}

int agent_register(struct agent_state *st)
{
	size_t was = st->wire.hosts.cur;
	struct agent_answer a;
	json_t *body, *reply = NULL;
	char err[512];
	int rc, status;

	unsigned gen = st->tree.gen;

	body = agent_register_body(st);
	if (body && wake_register_field(&st->wk, body)) {
		json_decref(body);
		body = NULL;
	}
	/* snowd keys the wake-ups with the secret this registration is signed with. */
	wake_keyed(&st->wk, st->wire.secret);
	if (!body) {
		log_warnx("register: out of memory");
		return -ENOMEM;
	}
	rc = wire_post(&st->wire, WIRE_PATH_REGISTER, body, &reply, &status, err, sizeof(err));
	json_decref(body);
	if (rc) {
		agent_note_failure(st, "register", rc, status, err);
		agent_link_moved(st, was);
		goto out;
	}
	agent_note_success(st);
	agent_answer_read(reply, AGENT_ANSWER_REGISTER, &a);
	agent_rekey(st, a.rekey);
	st->registered = 1;
	st->schema_gen = gen;
	st->seq = 0;
	/* A host that registers us again may have forgotten them (a restart): send both. */
	st->thr_sig = st->dev_sig = 0;
	if (a.interval_ms)
		st->interval_ms = a.interval_ms;
	log_info("registered with http%s://%s:%s as %s (boot %s), reporting every %ld ms",
		 wire_url(&st->wire)->tls ? "s" : "", wire_url(&st->wire)->host,
		 wire_url(&st->wire)->port, st->conf->name, st->boot_id, st->interval_ms);
out:
	json_decref(reply);
	return rc;
}

int agent_report(struct agent_state *st)
{
	json_t *body, *reply = NULL;
	char err[512];
	int rc, status;
	unsigned gen = st->tree.gen;
	size_t was = st->wire.hosts.cur;

	st->last_report_ms = (long long)clock_mono_ms();
	body = agent_report_body(st);
	if (!body) {
		log_warnx("report: out of memory");
		return -ENOMEM;
	}
	rc = wire_post(&st->wire, WIRE_PATH_REPORT, body, &reply, &status, err, sizeof(err));
	json_decref(body);
	if (!rc) {
		agent_note_success(st);
		/*
		 * Only a report accepted ends the back-off: a host that takes the
		 * registration but refuses every report is not hammered.
		 */
		st->backoff_ms = AGENT_BACKOFF_FIRST_MS;
		if (st->schema_gen != gen)
			log_info("report %llu carried the schema again (%zu values)",
				 (unsigned long long)st->seq, st->tree.n);
		st->schema_gen = gen;
		agent_report_acked(st);
		log_debug("report %llu sent", (unsigned long long)st->seq);
		agent_answer(st, reply);
		json_decref(reply);
		return 0;
	}
	json_decref(reply);
	if (status == 401 || status == 403 || status == 404) {
		/* The host forgot us (restart, node removed) or refuses this boot. */
		log_warnx("report: host answered %d: registering again", status);
		st->registered = 0;
		st->fail_kind = 0;
		st->fail_count = 0;
		return rc;
	}
	agent_note_failure(st, "report", rc, status, err);
	agent_link_moved(st, was);
	return rc;
}
