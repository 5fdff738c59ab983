/* A simulated node's steps: see step.h. */
#include "step.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "jsonh.h"
#include "log.h"
#include "net.h"
#include "sched.h"
#include "sign.h"
#include "simwake.h"
#include "stats.h"
#include "valid.h"
#include "wire.h"

/* ---- requests ------------------------------------------------------------------- */

/*
 * keep: a node-channel request, whose connection stays open for the next
 * (net.c); host: the index of the snowd it goes to (ns->hosts).
 */
static int ns_req_head(struct nodesim *ns, struct buf *b, const char *method, const char *path,
		       int keep, unsigned host)
{
	return buf_printf(b, "%s %s%s HTTP/1.1\r\nHost: %s\r\n%s"
			     "User-Agent: snow-nodesim\r\n", method, ns->url.base, path,
			  ns->host_hdr[host],
			  keep && ns->conf.keep_alive ? "" : "Connection: close\r\n");
}

/* A signed node request of text (taken): path is signed as the server sees it (with the base). */
static int ns_req_signed_text(struct nodesim *ns, struct ns_node *n, const char *path,
			      char *text, size_t len, struct buf *b)
{
	char sig[SIGN_HEX_LEN + 1], full[512];
	int64_t now = (int64_t)time(NULL);
	uint64_t nonce;
	int rc;

	/* Realtime microseconds, bumped past the last: strictly increasing per node. */
	nonce = (uint64_t)clock_real_us();
	if (nonce <= n->last_nonce)
		nonce = n->last_nonce + 1;
	n->last_nonce = nonce;
	snprintf(full, sizeof(full), "%s%s", ns->url.base, path);
	sign_request(n->sim.conf.secret, "POST", full, now, nonce, text, len, sig);
	rc = ns_req_head(ns, b, "POST", path, 1, n->host);
	if (!rc)
		rc = buf_printf(b, "Content-Type: application/json\r\nContent-Length: %zu\r\n"
				   "%s: %s\r\n%s: %" PRId64 "\r\n%s: %" PRIu64 "\r\n%s: %s\r\n\r\n",
				len, SNOW_HDR_NODE, n->sim.name, SNOW_HDR_TIME, now, SNOW_HDR_NONCE,
				nonce, SNOW_HDR_SIG, sig);
	if (!rc)
		rc = buf_append(b, text, len);
	free(text);
	return rc;
}

/* The same with a JSON body (dumped as every node sends it). */
static int ns_req_signed(struct nodesim *ns, struct ns_node *n, const char *path, json_t *body,
			 struct buf *b)
{
	char *text = jsonh_dump_wire(body);

	if (!text)
		return -ENOMEM;
	return ns_req_signed_text(ns, n, path, text, strlen(text), b);
}

static int ns_req_admin(struct nodesim *ns, const char *method, const char *path, json_t *body,
			struct buf *b)
{
	char *text = body ? jsonh_dump(body) : NULL;
	int rc;

	if (body && !text)
		return -ENOMEM;
	rc = ns_req_head(ns, b, method, path, 0, 0);
	if (!rc)
		rc = buf_printf(b, "Authorization: Bearer %s\r\n", ns->conf.token);
	if (!rc && text)
		rc = buf_printf(b, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				strlen(text), text);
	else if (!rc)
		rc = buf_puts(b, "\r\n");
	free(text);
	return rc;
}

/*
 * GET /boot/MAC.ipxe (script) or /boot/MAC/overlay.cpio, MAC with dashes as
 * iPXE writes it: the script from the node's address opens the window in
 * which snowd serves the overlay, once per boot.
 */
static int ns_req_boot(struct nodesim *ns, struct ns_node *n, int script, struct buf *b)
{
	char mac[SNOW_MAC_STRLEN + 1], path[64];
	size_t i;
	int rc;

	snprintf(mac, sizeof(mac), "%s", n->sim.mac);
	for (i = 0; mac[i]; i++)
		if (mac[i] == ':')
			mac[i] = '-';
	snprintf(path, sizeof(path), script ? "/boot/%s.ipxe" : "/boot/%s/overlay.cpio", mac);
	rc = ns_req_head(ns, b, "GET", path, 0, n->host);
	return rc ? rc : buf_puts(b, "\r\n");
}

/* Node addresses on loopback can be bound; elsewhere the host must own them. */
static const struct in_addr *ns_src(const struct ns_node *n)
{
	return n->ip.s_addr ? &n->ip : NULL;
}

/* See step.h (the caller reschedules the node after an error). */
int ns_step_start(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	struct buf req = BUF_INIT;
	enum ns_kind kind;
	json_t *body = NULL;
	int rc;

	switch (n->state) {
	case NS_ADD:
		kind = NS_K_ADD;
		body = json_pack("{s:s, s:s}", "name", n->sim.name, "mac", n->sim.mac);
		rc = body ? ns_req_admin(ns, "POST", "/api/v1/nodes", body, &req) : -ENOMEM;
		break;
	case NS_DOWN:
		/* Back from a reboot: a new boot, and it starts like any boot. */
		if (sim_boot(&n->sim, (int64_t)time(NULL)))
			return -ENOMEM;
		n->state = NS_SCRIPT;
		n->online = 0;
		/* fall through */
	case NS_SCRIPT:
		kind = NS_K_SCRIPT;
		rc = ns_req_boot(ns, n, 1, &req);
		break;
	case NS_OVERLAY:
		kind = NS_K_OVERLAY;
		rc = ns_req_boot(ns, n, 0, &req);
		break;
	case NS_REGISTER:
		kind = NS_K_REGISTER;
		body = sim_register_body(&n->sim);
		if (ns_wake_register(ns, n, body)) {
			json_decref(body);
			body = NULL;
		}
		rc = body ? ns_req_signed(ns, n, WIRE_PATH_REGISTER, body, &req) : -ENOMEM;
		break;
	case NS_REPORT:
		if (n->sim.reload_id) {
			/* As snow-agent's config.reload: the overlay again, signed both ways. */
			kind = NS_K_RELOAD;
			body = json_pack("{s:s}", "name", n->sim.name);
			rc = body ? ns_req_signed(ns, n, WIRE_PATH_OVERLAY, body, &req) : -ENOMEM;
			break;
		}
		kind = NS_K_REPORT;
		sim_step(&n->sim, (double)(now - n->last_step_ms) / 1000.0, (int64_t)time(NULL));
		n->last_step_ms = now;
		{
			size_t len;
			char *text = sim_report_text(&n->sim, 0, &len);
			rc = text ? ns_req_signed_text(ns, n, WIRE_PATH_REPORT, text, len, &req)
				  : -ENOMEM;
			if (rc && text)
				sim_report_failed(&n->sim);
		}
		break;
	default:
		return 0;
	}
	json_decref(body);
	if (rc) {
		buf_free(&req);
		return rc;
	}
	rc = ns_conn_start(ns, n, kind, kind == NS_K_ADD ? NULL : ns_src(n), &req);
	if (rc && kind == NS_K_REPORT)
		sim_report_failed(&n->sim);
	return rc;
}

/* ---- answers -------------------------------------------------------------------- */

static const char *ns_kind_name(enum ns_kind k)
{
	static const char *const names[] = { "add", "overlay", "config.reload", "register",
					     "report", "script" };
	return names[k];
}

/* A node was added, or already there (409): take its address from the answer or the list. */
static void ns_done_add(struct nodesim *ns, struct ns_node *n, int status, json_t *ans,
			int64_t now)
{
	const char *ip = json_string_value(json_object_get(ans, "ip"));
	uint32_t a;

	if (status != 201 || !ip || valid_ipv4(ip, &a, NULL, 0)) {
		log_warnx("%s: not added: %d %s", n->sim.name, status,
			  json_string_value(json_object_get(ans, "error")) ?
				  json_string_value(json_object_get(ans, "error")) : "(no address)");
		ns_count_error(ns, 0, status);
		ns_schedule_retry(ns, n, now);
		return;
	}
	ns->st.adds++;
	n->ip.s_addr = htonl(a);
	snprintf(n->ip_s, sizeof(n->ip_s), "%s", ip);
	n->state = NS_SCRIPT;
	n->fails = 0;
	ns_schedule(ns, n, now);
}

static void ns_done_overlay(struct nodesim *ns, struct ns_node *n, enum ns_kind kind,
			    const char *body, size_t len, int64_t now)
{
	struct ovl_conf c;
	char err[256];
	int rc = ovl_parse(body, len, &c, err, sizeof(err));

	if (!rc && strcmp(c.name, n->sim.name)) {
		snprintf(err, sizeof(err), "node.conf: name '%s' is not %s", c.name, n->sim.name);
		rc = -EINVAL;
	}
	if (kind == NS_K_RELOAD) {
		if (!rc && c.interval_ms && !ns->conf.interval_ms)
			n->interval_ms = c.interval_ms;
		sim_reload_done(&n->sim, rc, &c, err, (int64_t)time(NULL));
		ns->st.reloads++;
		explicit_bzero(&c, sizeof(c));
		ns_schedule(ns, n, now);
		return;
	}
	if (rc) {
		log_warnx("%s: overlay: %s", n->sim.name, err);
		ns->st.err_proto++;
		ns_schedule_retry(ns, n, now);
		return;
	}
	if (sim_apply_conf(&n->sim, &c))
		log_warnx("%s: node.conf has more thresholds than the %d a node holds", n->sim.name,
			  SIM_THR_MAX);
	explicit_bzero(&c, sizeof(c));
	if (!n->interval_ms)
		n->interval_ms = n->sim.conf.interval_ms ? n->sim.conf.interval_ms :
							   WIRE_DEFAULT_INTERVAL_MS;
	ns->st.overlays++;
	n->state = NS_REGISTER;
	n->fails = 0;
	ns_schedule(ns, n, now);
}

static void ns_check_steady(struct nodesim *ns, int64_t now)
{
	size_t i;

	if (ns->all_registered)
		return;
	for (i = 0; i < ns->nnodes; i++)
		if (!ns->nodes[i].registered_once && ns->nodes[i].state != NS_FAILED)
			return;
	/* From here on the figures describe the steady state, not the start-up. */
	ns->all_registered = 1;
	ns->st.t_steady_ms = now;
	ns->st.steady_reports = 0;
	ns->st.rep_lat.n = 0;
	log_info("all %zu nodes registered after %.1f s", ns->nnodes,
		 (double)(now - ns->st.t_start_ms) / 1000.0);
}

/* As snow-agent: a signed answer's "rekey" is the node's secret from now on. */
static void ns_take_rekey(struct ns_node *n, json_t *ans)
{
	const char *key = json_string_value(json_object_get(ans, "rekey"));

	if (!key)
		return;
	if (strlen(key) != SIGN_SECRET_HEX_LEN ||
	    strspn(key, "0123456789abcdef") != SIGN_SECRET_HEX_LEN) {
		log_warnx("%s: answer: rekey: not %d lowercase hex digits (ignored)", n->sim.name,
			  SIGN_SECRET_HEX_LEN);
		return;
	}
	snprintf(n->sim.conf.secret, sizeof(n->sim.conf.secret), "%s", key);
	log_debug("%s: rekeyed", n->sim.name);
}

static void ns_done_register(struct nodesim *ns, struct ns_node *n, json_t *ans, int64_t now)
{
	json_int_t iv;
	char err[128];

	ns->st.registers++;
	ns_take_rekey(n, ans);
	sim_registered(&n->sim);
	if (!jsonh_get_int(ans, "interval_ms", 0, 100, 3600000, &iv, err, sizeof(err)) &&
	    json_object_get(ans, "interval_ms") && !ns->conf.interval_ms)
		n->interval_ms = (long)iv;
	n->state = NS_REPORT;
	n->fails = 0;
	n->last_step_ms = now;
	if (!n->registered_once) {
		n->registered_once = 1;
		ns_check_steady(ns, now);
	}
	/* As snow-agent: the first report right after registering. */
	ns_schedule(ns, n, now);
}

static void ns_done_report(struct nodesim *ns, struct ns_node *n, json_t *ans, int64_t now)
{
	unsigned act;

	ns->st.reports++;
	ns->st.sec_reports++;
	if (ns->all_registered)
		ns->st.steady_reports++;
	n->online = 1;
	n->fails = 0;
	ns_take_rekey(n, ans);
	if (ns->conf.sink && n->sim.ring.next_seq > 1)
		/* A sink acknowledges nothing: as if snowd had stored every event sent. */
		instr_ring_ack(&n->sim.ring, n->sim.ring.next_seq - 1, (int64_t)time(NULL));
	ns->st.commands += json_array_size(json_object_get(ans, "commands"));
	act = sim_report_answered(&n->sim, ans, (int64_t)time(NULL));
	if (act & (SIM_ACT_REBOOT | SIM_ACT_POWEROFF)) {
		n->online = 0;
		if (act & SIM_ACT_POWEROFF) {
			ns->st.poweroffs++;
			n->state = NS_OFF;
			log_debug("%s: powered off", n->sim.name);
			return;
		}
		ns->st.reboots++;
		n->state = NS_DOWN;
		log_debug("%s: rebooting", n->sim.name);
		ns_schedule(ns, n, now + ns->conf.boot_delay_ms);
		return;
	}
	if (ns->conf.once && !(act & (SIM_ACT_SOON | SIM_ACT_RELOAD))) {
		n->state = NS_DONE;
		return;
	}
	if (act & (SIM_ACT_SOON | SIM_ACT_RELOAD))
		/* Results (or the overlay) go now, not an interval later. */
		ns_schedule(ns, n, now + 10);
	else
		ns_schedule_report(ns, n, now);
	ns_wake_after_report(ns, n, now);
}

/*
 * A node-channel answer (register, report) that is 2xx must be snowd's, as
 * snow-agent checks it (lib/wire.c): signed with the node's secret over the
 * request's path and nonce (the node's last: one request in flight each).
 * @ret 0, or -EBADMSG with err saying why.
 */
static int ns_answer_check(struct nodesim *ns, struct ns_conn *c, int status, const char *body,
			   size_t bodylen, char *err, size_t errlen)
{
	struct ns_node *n = c->node;
	char sig[80], full[512];
	int absent;

	if ((c->kind != NS_K_REGISTER && c->kind != NS_K_REPORT && c->kind != NS_K_RELOAD) ||
	    status < 200 || status > 299 || ns->conf.sink)
		return 0;
	absent = ns_http_header(c->in.data, c->in.len, SNOW_HDR_SIG, sig, sizeof(sig));
	snprintf(full, sizeof(full), "%s%s", ns->url.base,
		 c->kind == NS_K_REGISTER ? WIRE_PATH_REGISTER :
		 c->kind == NS_K_REPORT ? WIRE_PATH_REPORT : WIRE_PATH_OVERLAY);
	if (!sign_answer_verify(n->sim.conf.secret, full, n->last_nonce, (unsigned)status, body,
				bodylen, absent ? NULL : sig))
		return 0;
	snprintf(err, errlen, "answer %d %s: ignored (not from snowd?)", status,
		 absent ? "not signed" : "wrongly signed");
	return -EBADMSG;
}

/*
 * The node's snowd stopped answering (hostlist_should_move(), the rule of
 * snow-agent's lib/wire.c): the node moves to the next one of --url,
 * registers there first, and tries it soon, until it has been once round
 * the list (then its back-off, as the agent).
 * Each switch from one snowd to another is logged once.  @ret 1 when the
 * node was rescheduled.
 */
static int ns_move(struct nodesim *ns, struct ns_node *n, int rc, int status, const char *why,
		   int64_t now)
{
	unsigned from = n->host, to;
	uint64_t bit;

	if (ns->hosts.n < 2 || !hostlist_should_move(rc, status))
		return 0;
	to = (from + 1) % (unsigned)ns->hosts.n;
	bit = 1ull << (from * HOSTLIST_MAX + to);
	if (!(ns->moved_logged & bit)) {
		log_warnx("host_url: %s stopped answering %s (%s): moving it to %s (logged once)",
			  ns->host_hdr[from], n->sim.name, why, ns->host_hdr[to]);
		ns->moved_logged |= bit;
	}
	if (n->keep_fd >= 0)
		close(n->keep_fd);
	n->keep_fd = -1;
	n->host = (uint8_t)to;
	/* As the agent: registers with the new one first (wake-ups, the whole state). */
	if (n->state == NS_REPORT)
		n->state = NS_REGISTER;
	n->sim.thr_dirty = n->sim.dev_dirty = 1;
	ns->st.host_switches++;
	if (++n->moves >= ns->hosts.n)
		return 0;
	ns_schedule(ns, n, now + NS_MOVE_RETRY_MS);
	return 1;
}

void ns_step_failed(struct nodesim *ns, struct ns_node *n, int rc, int64_t now)
{
	/* -EBUSY: no free slot, which says nothing about snowd. */
	if (rc == -EBUSY || n->state == NS_ADD || !ns_move(ns, n, rc, 0, strerror(-rc), now))
		ns_schedule_retry(ns, n, now);
}

void ns_step_done(struct nodesim *ns, struct ns_conn *c, int rc, int status, const char *body,
		  size_t bodylen)
{
	struct ns_node *n = c->node;
	int64_t now = clock_mono_ms(), lat = clock_mono_us() - c->t0_us;
	json_t *ans = NULL;
	char err[200];

	n->busy = 0;
	if (!rc && ns_answer_check(ns, c, status, body, bodylen, err, sizeof(err))) {
		/* Like a transport error: nothing from it applied, logged once per burst. */
		if (n->fails == 0)
			log_warnx("%s: %s: %s", n->sim.name, ns_kind_name(c->kind), err);
		ns->st.err_proto++;
		if (c->kind == NS_K_REPORT) {
			sim_report_failed(&n->sim);
			n->online = 0;
		}
		if (c->kind == NS_K_RELOAD) {
			sim_reload_done(&n->sim, -EBADMSG, NULL, err, (int64_t)time(NULL));
			ns_schedule(ns, n, now);
			return;
		}
		ns_schedule_retry(ns, n, now);
		return;
	}
	/* An answer, not a 5xx: this snowd is alive (as lib/wire.c's count of switches). */
	if (!rc && !hostlist_should_move(0, status))
		n->moves = 0;
	if (rc) {
		log_debug("%s: %s: %s", n->sim.name, ns_kind_name(c->kind), strerror(-rc));
		ns_count_error(ns, rc, 0);
		if (c->kind == NS_K_REPORT) {
			sim_report_failed(&n->sim);
			n->online = 0;
		}
		if (c->kind == NS_K_ADD || !ns_move(ns, n, rc, 0, strerror(-rc), now))
			ns_schedule_retry(ns, n, now);
		return;
	}
	if (c->kind != NS_K_OVERLAY && c->kind != NS_K_RELOAD && c->kind != NS_K_SCRIPT && bodylen)
		ans = jsonh_parse_object(body, bodylen, err, sizeof(err));
	if (status == 404 && (c->kind == NS_K_REPORT)) {
		/* snowd does not know this boot (restarted, or forgot): register again. */
		ns->st.err_4xx++;
		sim_report_failed(&n->sim);
		n->state = NS_REGISTER;
		ns_schedule(ns, n, now);
		goto out;
	}
	if ((status == 401 || status == 403) && c->kind == NS_K_REPORT) {
		log_warnx("%s: report refused (%d): registering again", n->sim.name, status);
		ns_count_error(ns, 0, status);
		sim_report_failed(&n->sim);
		n->state = NS_REGISTER;
		ns_schedule_retry(ns, n, now);
		goto out;
	}
	if (c->kind == NS_K_ADD) {
		ns_done_add(ns, n, status, ans, now);
		goto out;
	}
	if (status < 200 || status > 299) {
		if (n->fails == 0)
			log_warnx("%s: %s: snowd answered %d: %.*s", n->sim.name,
				  ns_kind_name(c->kind), status,
				  (int)(bodylen > 160 ? 160 : bodylen), body);
		ns_count_error(ns, 0, status);
		if (c->kind == NS_K_REPORT) {
			sim_report_failed(&n->sim);
			n->online = 0;
		}
		if (c->kind == NS_K_RELOAD) {
			snprintf(err, sizeof(err), "snowd answered %d", status);
			sim_reload_done(&n->sim, -EIO, NULL, err, (int64_t)time(NULL));
			ns_schedule(ns, n, now);
			goto out;
		}
		snprintf(err, sizeof(err), "it answered %d", status);
		if (!ns_move(ns, n, -EIO, status, err, now))
			ns_schedule_retry(ns, n, now);
		goto out;
	}
	switch (c->kind) {
	case NS_K_SCRIPT:
		/* The script itself is iPXE's business: it opened the overlay's window. */
		n->state = NS_OVERLAY;
		n->fails = 0;
		ns_schedule(ns, n, now);
		break;
	case NS_K_OVERLAY:
		ns_lat_add(&ns->st.ovl_lat, lat);
		/* fall through */
	case NS_K_RELOAD:
		ns_done_overlay(ns, n, c->kind, body, bodylen, now);
		break;
	case NS_K_REGISTER:
		ns_lat_add(&ns->st.reg_lat, lat);
		ns_done_register(ns, n, ans, now);
		break;
	case NS_K_REPORT:
		ns_lat_add(&ns->st.rep_lat, lat);
		ns_lat_add(&ns->st.sec_lat, lat);
		ns_done_report(ns, n, ans, now);
		break;
	case NS_K_ADD:
		break;
	}
out:
	json_decref(ans);
}
