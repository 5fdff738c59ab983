/*
 * snow-nodesim: N simulated node agents in one process (docs/nodesim.md).
 *
 *   snow-nodesim --url http://127.0.0.1:8080 --add --count 1000 --stats
 *
 * Each node does what a booting node does: fetch its overlay from its own
 * address, read node.conf (name, secret, interval), register with a schema,
 * then send signed reports, obeying the commands in the answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "jsonh.h"
#include "log.h"
#include "nodesim.h"
#include "sign.h"
#include "valid.h"
#include "wire.h"

#define OPT(n, s, t, f, lo, hi, a, h) { n, s, t, offsetof(struct ns_conf, f), lo, hi, a, h }
static const struct conf_option ns_options[] = {
	OPT("config", 'c', CONF_STR, config, 0, 0, "FILE", "read options from FILE (key = value)"),
	OPT("url", 'u', CONF_STR, url, 0, 0, "URL", "snowd, http://HOST:PORT (default $SNOW_URL)"),
	OPT("token", 't', CONF_STR, token, 0, 0, "TOKEN",
	    "admin API token, to list and --add nodes (default $SNOW_TOKEN)"),
	OPT("prefix", 'p', CONF_STR, prefix, 0, 0, "NAME",
	    "node names start with this (default sim): PREFIX0001, ..."),
	OPT("count", 'N', CONF_INT, count, 0, 100000, "N",
	    "how many nodes (default: with --add 10, else every node with the prefix)"),
	OPT("add", 'a', CONF_BOOL, add, 0, 0, NULL,
	    "create missing nodes PREFIX0001..N through the admin API first"),
	OPT("concurrency", 0, CONF_INT, concurrency, 1, 10000, "N",
	    "requests in flight at most (default 256)"),
	OPT("duration", 'd', CONF_INT, duration_s, 0, 86400 * 365, "S",
	    "stop after S seconds (default: at SIGINT/SIGTERM)"),
	OPT("interval-ms", 0, CONF_INT, interval_ms, 0, 3600000, "MS",
	    "report interval, overriding snowd's answer (default: snowd's)"),
	OPT("events-rate", 0, CONF_INT, events_rate, 0, 1000000, "R",
	    "threshold crossings per second, all nodes together (default 0)"),
	OPT("boot-delay-ms", 0, CONF_INT, boot_delay_ms, 0, 600000, "MS",
	    "how long a simulated reboot takes (default 1000)"),
	OPT("timeout-ms", 0, CONF_INT, timeout_ms, 100, 600000, "MS",
	    "a request without an answer this long fails (default 10000)"),
	OPT("ramp-ms", 0, CONF_INT, ramp_ms, 0, 3600000, "MS",
	    "spread the nodes' first requests over MS (default 1000, 0 with --once)"),
	OPT("seed", 0, CONF_INT, seed, 0, 0x7fffffff, "N", "random seed (default 1)"),
	OPT("stats", 's', CONF_BOOL, stats, 0, 0, NULL, "print a progress line every second"),
	OPT("json", 'j', CONF_BOOL, json, 0, 0, NULL, "print the summary as JSON on stdout"),
	OPT("once", '1', CONF_BOOL, once, 0, 0, NULL,
	    "each node registers, sends one report; then exit"),
	OPT("verbose", 'v', CONF_BOOL, verbose, 0, 0, NULL, "log debug messages"),
	OPT("check-config", 'n', CONF_BOOL, check, 0, 0, NULL, "check the options and exit"),
	{ 0 },
};
#undef OPT

/* Signal handlers only write the signal number to the self-pipe. */
static int ns_sigfd = -1;

static void ns_on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(ns_sigfd, &c, 1) < 0) {
		/* Full pipe: the loop has the news already. */
	}
	errno = e;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: snow-nodesim [OPTIONS]\n"
		   "Simulated Snow nodes speaking the node protocol to snowd, for load.\n\n");
	conf_usage(f, ns_options);
}

/* ---- options -------------------------------------------------------------------- */

static int ns_conf_load(struct ns_conf *c, int argc, char **argv, char *err, size_t errlen)
{
	int rc, next;

	c->concurrency = 256;
	c->boot_delay_ms = 1000;
	c->timeout_ms = 10000;
	c->ramp_ms = -1;
	c->seed = 1;
	c->count = -1;
	rc = conf_parse_args(ns_options, c, argc, argv, &next, err, errlen);
	if (rc)
		return rc;
	if (next < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (try --help)", argv[next]);
		return -EINVAL;
	}
	if (c->config) {
		/* The file first, then the command line again so it wins. */
		rc = conf_parse_file(ns_options, c, c->config, NULL, NULL, err, errlen);
		if (!rc)
			rc = conf_parse_args(ns_options, c, argc, argv, &next, err, errlen);
		if (rc)
			return rc;
	}
	if (!c->url && getenv("SNOW_URL"))
		c->url = strdup(getenv("SNOW_URL"));
	if (!c->token && getenv("SNOW_TOKEN"))
		c->token = strdup(getenv("SNOW_TOKEN"));
	if (!c->prefix)
		c->prefix = strdup("sim");
	if (!c->url || !c->prefix) {
		snprintf(err, errlen, "url: missing (--url or SNOW_URL)");
		return -EINVAL;
	}
	if (c->ramp_ms < 0)
		c->ramp_ms = c->once ? 0 : 1000;
	if (c->count < 0)
		c->count = c->add ? 10 : 0;
	if (c->add && c->count == 0) {
		snprintf(err, errlen, "count: --add needs a count of at least 1");
		return -EINVAL;
	}
	/* Names are PREFIX + at least 4 digits and must stay valid node names. */
	if (strlen(c->prefix) > SNOW_NAME_MAX - 6 || valid_name(c->prefix, err, errlen) ||
	    c->prefix[strlen(c->prefix) - 1] == '-') {
		snprintf(err, errlen, "prefix: '%.64s' must be a node name of at most %d characters "
				      "not ending in '-'", c->prefix, SNOW_NAME_MAX - 6);
		return -EINVAL;
	}
	if (!c->token) {
		snprintf(err, errlen, "token: missing (--token or SNOW_TOKEN): nodesim lists nodes "
				      "through the admin API");
		return -EINVAL;
	}
	return 0;
}

/* ---- schedule: a min-heap on due_ms, then a FIFO of due nodes ------------------- */

static void ns_heap_swap(struct nodesim *ns, size_t a, size_t b)
{
	struct ns_node *t = ns->heap[a];

	ns->heap[a] = ns->heap[b];
	ns->heap[b] = t;
	ns->heap[a]->heap_idx = a;
	ns->heap[b]->heap_idx = b;
}

static void ns_heap_up(struct nodesim *ns, size_t i)
{
	while (i && ns->heap[(i - 1) / 2]->due_ms > ns->heap[i]->due_ms) {
		ns_heap_swap(ns, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void ns_heap_down(struct nodesim *ns, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < ns->nheap && ns->heap[l]->due_ms < ns->heap[m]->due_ms)
			m = l;
		if (r < ns->nheap && ns->heap[r]->due_ms < ns->heap[m]->due_ms)
			m = r;
		if (m == i)
			return;
		ns_heap_swap(ns, i, m);
		i = m;
	}
}

static struct ns_node *ns_heap_pop(struct nodesim *ns)
{
	struct ns_node *top = ns->heap[0];

	ns->nheap--;
	if (ns->nheap) {
		ns->heap[0] = ns->heap[ns->nheap];
		ns->heap[0]->heap_idx = 0;
		ns_heap_down(ns, 0);
	}
	top->heap_idx = SIZE_MAX;
	return top;
}

/* Run node's next step at due (monotonic ms). */
static void ns_schedule(struct nodesim *ns, struct ns_node *n, int64_t due)
{
	n->due_ms = due;
	if (n->heap_idx != SIZE_MAX) {
		ns_heap_up(ns, n->heap_idx);
		ns_heap_down(ns, n->heap_idx);
		return;
	}
	n->heap_idx = ns->nheap;
	ns->heap[ns->nheap++] = n;
	ns_heap_up(ns, n->heap_idx);
}

static uint64_t ns_rand64(struct nodesim *ns)
{
	uint64_t x = ns->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ns->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* The next report, spread by +-5% so nodes that started together drift apart. */
static void ns_schedule_report(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	double j = 0.95 + 0.1 * sim_rand(&n->sim);

	ns_schedule(ns, n, now + (int64_t)((double)n->interval_ms * j));
}

/* After a failure: 1 s doubling to 10 s, with jitter so a crowd does not return at once. */
static void ns_schedule_retry(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	long b = NS_BACKOFF_FIRST_MS;
	unsigned i;

	n->fails++;
	for (i = 1; i < n->fails && b < NS_BACKOFF_MAX_MS; i++)
		b *= 2;
	if (b > NS_BACKOFF_MAX_MS)
		b = NS_BACKOFF_MAX_MS;
	if (ns->conf.once && n->fails >= NS_ONCE_TRIES) {
		log_warnx("%s: giving up after %u attempts", n->sim.name, n->fails);
		n->state = NS_FAILED;
		return;
	}
	ns_schedule(ns, n, now + (int64_t)((double)b * (0.5 + sim_rand(&n->sim))));
}

/* ---- requests ------------------------------------------------------------------- */

static int ns_req_head(struct nodesim *ns, struct buf *b, const char *method, const char *path)
{
	return buf_printf(b, "%s %s%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
			     "User-Agent: snow-nodesim\r\n", method, ns->url.base, path,
			  ns->host_hdr);
}

/* A signed node request: path is signed as the server sees it (with the base). */
static int ns_req_signed(struct nodesim *ns, struct ns_node *n, const char *path, json_t *body,
			 struct buf *b)
{
	char sig[SIGN_HEX_LEN + 1], full[512];
	struct timespec ts;
	int64_t now = (int64_t)time(NULL);
	uint64_t nonce;
	char *text = jsonh_dump(body);
	size_t len;
	int rc;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	/* Realtime microseconds, bumped past the last: strictly increasing per node. */
	clock_gettime(CLOCK_REALTIME, &ts);
	nonce = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (nonce <= n->last_nonce)
		nonce = n->last_nonce + 1;
	n->last_nonce = nonce;
	snprintf(full, sizeof(full), "%s%s", ns->url.base, path);
	sign_request(n->sim.conf.secret, "POST", full, now, nonce, text, len, sig);
	rc = ns_req_head(ns, b, "POST", path);
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

static int ns_req_admin(struct nodesim *ns, const char *method, const char *path, json_t *body,
			struct buf *b)
{
	char *text = body ? jsonh_dump(body) : NULL;
	int rc;

	if (body && !text)
		return -ENOMEM;
	rc = ns_req_head(ns, b, method, path);
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

/* GET /boot/MAC/overlay.cpio, MAC with dashes as iPXE writes it. */
static int ns_req_overlay(struct nodesim *ns, struct ns_node *n, struct buf *b)
{
	char mac[SNOW_MAC_STRLEN + 1], path[64];
	size_t i;
	int rc;

	snprintf(mac, sizeof(mac), "%s", n->sim.mac);
	for (i = 0; mac[i]; i++)
		if (mac[i] == ':')
			mac[i] = '-';
	snprintf(path, sizeof(path), "/boot/%s/overlay.cpio", mac);
	rc = ns_req_head(ns, b, "GET", path);
	return rc ? rc : buf_puts(b, "\r\n");
}

/* Node addresses on loopback can be bound; elsewhere the host must own them. */
static const struct in_addr *ns_src(const struct ns_node *n)
{
	return n->ip.s_addr ? &n->ip : NULL;
}

/* Start node's next exchange.  @ret 0, or -EBUSY / -errno (node rescheduled). */
static int ns_start(struct nodesim *ns, struct ns_node *n, int64_t now)
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
		n->state = NS_OVERLAY;
		n->online = 0;
		/* fall through */
	case NS_OVERLAY:
		kind = NS_K_OVERLAY;
		rc = ns_req_overlay(ns, n, &req);
		break;
	case NS_REGISTER:
		kind = NS_K_REGISTER;
		body = sim_register_body(&n->sim);
		rc = body ? ns_req_signed(ns, n, WIRE_PATH_REGISTER, body, &req) : -ENOMEM;
		break;
	case NS_REPORT:
		if (n->sim.reload_id) {
			kind = NS_K_RELOAD;
			rc = ns_req_overlay(ns, n, &req);
			break;
		}
		kind = NS_K_REPORT;
		sim_step(&n->sim, (double)(now - n->last_step_ms) / 1000.0, (int64_t)time(NULL));
		n->last_step_ms = now;
		body = sim_report_body(&n->sim, 0);
		rc = body ? ns_req_signed(ns, n, WIRE_PATH_REPORT, body, &req) : -ENOMEM;
		if (rc && body)
			sim_report_failed(&n->sim);
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

static void ns_lat_add(struct ns_lat *l, int64_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		uint32_t *p = realloc(l->us, cap * sizeof(*p));
		if (!p)
			return; /* a lost sample only blurs the figures */
		l->us = p;
		l->cap = cap;
	}
	l->us[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int ns_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile in ms (sorts l), or -1 without samples. */
static double ns_lat_pct(struct ns_lat *l, double p)
{
	size_t i;

	if (!l->n)
		return -1;
	qsort(l->us, l->n, sizeof(*l->us), ns_cmp_u32);
	i = (size_t)ceil(p / 100.0 * (double)l->n);
	i = i ? i - 1 : 0;
	return l->us[i >= l->n ? l->n - 1 : i] / 1000.0;
}

static void ns_count_error(struct nodesim *ns, int rc, int status)
{
	if (rc == -ETIMEDOUT)
		ns->st.err_timeout++;
	else if (rc == -EPROTO || rc == -EFBIG)
		ns->st.err_proto++;
	else if (rc)
		ns->st.err_transport++;
	else if (status >= 500)
		ns->st.err_5xx++;
	else
		ns->st.err_4xx++;
	ns->st.sec_errors++;
}

static const char *ns_kind_name(enum ns_kind k)
{
	static const char *const names[] = { "add", "overlay", "config.reload", "register",
					     "report" };
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
	n->state = NS_OVERLAY;
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

static void ns_done_register(struct nodesim *ns, struct ns_node *n, json_t *ans, int64_t now)
{
	json_int_t iv;
	char err[128];

	ns->st.registers++;
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
}

void ns_conn_done(struct nodesim *ns, struct ns_conn *c, int rc, int status, const char *body,
		  size_t bodylen)
{
	struct ns_node *n = c->node;
	int64_t now = ns_now_ms(), lat = ns_now_us() - c->t0_us;
	json_t *ans = NULL;
	char err[200];

	n->busy = 0;
	if (rc) {
		log_debug("%s: %s: %s", n->sim.name, ns_kind_name(c->kind), strerror(-rc));
		ns_count_error(ns, rc, 0);
		if (c->kind == NS_K_REPORT) {
			sim_report_failed(&n->sim);
			n->online = 0;
		}
		ns_schedule_retry(ns, n, now);
		return;
	}
	if (c->kind != NS_K_OVERLAY && c->kind != NS_K_RELOAD && bodylen)
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
		ns_schedule_retry(ns, n, now);
		goto out;
	}
	switch (c->kind) {
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

/* ---- setup: which nodes ----------------------------------------------------------- */

/* A locally administered unicast MAC (02:...) from the prefix and the index. */
static void ns_mac(const char *prefix, unsigned idx, char out[SNOW_MAC_STRLEN + 1])
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = prefix; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, SNOW_MAC_STRLEN + 1, "02:%02x:%02x:%02x:%02x:%02x", (h >> 8) & 0xff,
		 h & 0xff, (idx >> 16) & 0xff, (idx >> 8) & 0xff, idx & 0xff);
}

/*
 * The nodes snowd has (GET /api/v1/nodes) as {name: {mac, ip}} for names
 * with the prefix.  @ret a new reference or NULL with err filled.
 */
static json_t *ns_list(struct nodesim *ns, char *err, size_t errlen)
{
	char auth[600];
	const struct http_header h[] = { { "Authorization", auth } };
	struct http_response resp = { 0 };
	json_t *body = NULL, *arr, *e, *out = NULL;
	size_t i;
	int rc;

	snprintf(auth, sizeof(auth), "Bearer %s", ns->conf.token);
	rc = http_request(&ns->url, "GET", "/api/v1/nodes", h, 1, NULL, 0, 60000, &resp, err,
			  errlen);
	explicit_bzero(auth, sizeof(auth));
	if (rc)
		goto out;
	if (resp.status != 200) {
		snprintf(err, errlen, "GET /api/v1/nodes: snowd answered %d: %.200s", resp.status,
			 resp.body.data ? resp.body.data : "");
		goto out;
	}
	body = jsonh_parse_object(resp.body.data, resp.body.len, err, errlen);
	arr = json_object_get(body, "nodes");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "GET /api/v1/nodes: no 'nodes' array in the answer");
		goto out;
	}
	out = json_object();
	json_array_foreach(arr, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!name || strncmp(name, ns->conf.prefix, strlen(ns->conf.prefix)))
			continue;
		json_object_set(out, name, e);
	}
out:
	json_decref(body);
	http_response_free(&resp);
	return out;
}

/* Fill n from a listed node e (borrowed).  @ret 0 or -EINVAL. */
static int ns_node_from_list(struct ns_node *n, const char *name, json_t *e, char *err,
			     size_t errlen)
{
	const char *mac = json_string_value(json_object_get(e, "mac"));
	const char *ip = json_string_value(json_object_get(e, "ip"));
	char m[SNOW_MAC_STRLEN + 1];
	uint32_t a;

	if (!mac || !ip || valid_mac(mac, m, err, errlen) || valid_ipv4(ip, &a, err, errlen)) {
		snprintf(err, errlen, "%s: listed without a valid mac and ip", name);
		return -EINVAL;
	}
	snprintf(n->sim.mac, sizeof(n->sim.mac), "%s", m);
	n->ip.s_addr = htonl(a);
	snprintf(n->ip_s, sizeof(n->ip_s), "%s", ip);
	return 0;
}

static int ns_cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int ns_setup_nodes(struct nodesim *ns, char *err, size_t errlen)
{
	json_t *listed = ns_list(ns, err, errlen), *e;
	const char **names = NULL, *name;
	size_t i, n = 0;
	int rc = -EINVAL;

	if (!listed)
		return -EIO;
	if (ns->conf.add) {
		n = (size_t)ns->conf.count;
	} else {
		/* Every listed node with the prefix, by name, up to --count. */
		names = calloc(json_object_size(listed) + 1, sizeof(*names));
		if (!names)
			goto out;
		json_object_foreach(listed, name, e)
			names[n++] = name;
		qsort(names, n, sizeof(*names), ns_cmp_name);
		if (ns->conf.count && (size_t)ns->conf.count < n)
			n = (size_t)ns->conf.count;
		if (!n) {
			snprintf(err, errlen, "prefix: snowd has no node named %s* (use --add to "
					      "create them)", ns->conf.prefix);
			goto out;
		}
	}
	ns->nodes = calloc(n, sizeof(*ns->nodes));
	ns->heap = calloc(n, sizeof(*ns->heap));
	ns->fifo = calloc(n, sizeof(*ns->fifo));
	if (!ns->nodes || !ns->heap || !ns->fifo) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct ns_node *nd = &ns->nodes[i];
		char nm[SNOW_NAME_MAX + 1], mac[SNOW_MAC_STRLEN + 1];

		if (ns->conf.add)
			snprintf(nm, sizeof(nm), "%s%04zu", ns->conf.prefix, i + 1);
		else
			snprintf(nm, sizeof(nm), "%s", names[i]);
		ns_mac(ns->conf.prefix, (unsigned)(i + 1), mac);
		ns->nnodes = i + 1;
		nd->heap_idx = SIZE_MAX;
		if (sim_node_init(&nd->sim, nm, mac, (uint64_t)ns->conf.seed * 1000003u + i)) {
			rc = -ENOMEM;
			goto out;
		}
		if (sim_boot(&nd->sim, (int64_t)time(NULL))) {
			rc = -ENOMEM;
			goto out;
		}
		if (ns->conf.events_rate && sim_spike_setup(&nd->sim)) {
			snprintf(err, errlen, "events-rate: no value %s to cross", SIM_SPIKE_VALUE);
			goto out;
		}
		nd->interval_ms = ns->conf.interval_ms;
		e = json_object_get(listed, nm);
		if (e) {
			if (ns_node_from_list(nd, nm, e, err, errlen))
				goto out;
			nd->state = NS_OVERLAY;
		} else {
			nd->state = NS_ADD;
		}
	}
	rc = 0;
out:
	free(names);
	json_decref(listed);
	return rc;
}

/* ---- the loop ------------------------------------------------------------------------ */

static size_t ns_count_state(const struct nodesim *ns, enum ns_state s)
{
	size_t i, c = 0;

	for (i = 0; i < ns->nnodes; i++)
		c += ns->nodes[i].state == s;
	return c;
}

static size_t ns_count_online(const struct nodesim *ns)
{
	size_t i, c = 0;

	for (i = 0; i < ns->nnodes; i++)
		c += ns->nodes[i].online;
	return c;
}

static size_t ns_count_registered(const struct nodesim *ns)
{
	size_t i, c = 0;

	for (i = 0; i < ns->nnodes; i++)
		c += ns->nodes[i].registered_once;
	return c;
}

static uint64_t ns_errors(const struct ns_stats *s)
{
	return s->err_transport + s->err_timeout + s->err_4xx + s->err_5xx + s->err_proto;
}

static void ns_stats_line(struct nodesim *ns, int64_t now, double secs)
{
	double p50 = ns_lat_pct(&ns->st.sec_lat, 50), p99 = ns_lat_pct(&ns->st.sec_lat, 99);

	fprintf(stderr, "nodesim: t=%.0fs nodes %zu registered %zu online %zu | reports %.0f/s "
			"p50 %.2f ms p99 %.2f ms | errors %" PRIu64 " | in flight %zu waiting %zu\n",
		(double)(now - ns->st.t_start_ms) / 1000.0, ns->nnodes, ns_count_registered(ns),
		ns_count_online(ns), (double)ns->st.sec_reports / secs, p50 < 0 ? 0 : p50,
		p99 < 0 ? 0 : p99, ns->st.sec_errors, ns->inflight, ns->fifo_len);
	ns->st.sec_lat.n = 0;
	ns->st.sec_reports = ns->st.sec_errors = 0;
}

/* --events-rate: pick nodes that report and push them across their threshold. */
static void ns_spikes(struct nodesim *ns, int64_t now)
{
	int tries;

	if (!ns->conf.events_rate)
		return;
	ns->spike_debt += (double)ns->conf.events_rate * (double)(now - ns->last_spike_ms) / 1000.0;
	ns->last_spike_ms = now;
	for (tries = 0; ns->spike_debt >= 1 && tries < 1000; tries++) {
		struct ns_node *n = &ns->nodes[ns_rand64(ns) % ns->nnodes];
		if (n->state != NS_REPORT)
			continue;
		sim_spike(&n->sim);
		ns->spike_debt -= 1;
	}
	if (ns->spike_debt > ns->conf.events_rate)
		ns->spike_debt = (double)ns->conf.events_rate; /* nobody to cross: do not pile up */
}

static int ns_finished(struct nodesim *ns)
{
	size_t i;

	if (!ns->conf.once)
		return 0;
	for (i = 0; i < ns->nnodes; i++)
		if (ns->nodes[i].state != NS_DONE && ns->nodes[i].state != NS_FAILED)
			return 0;
	return 1;
}

static void ns_loop(struct nodesim *ns)
{
	struct epoll_event evs[256];
	int64_t now = ns_now_ms(), next_stats = now + 1000, next_expire = now + 100, last_stats = now;
	int64_t end = ns->conf.duration_s ? now + ns->conf.duration_s * 1000 : INT64_MAX;

	ns->last_spike_ms = now;
	while (!ns->quit) {
		int timeout = 100, i, nev;

		now = ns_now_ms();
		if (now >= end || ns_finished(ns))
			break;
		while (ns->nheap && ns->heap[0]->due_ms <= now) {
			struct ns_node *n = ns_heap_pop(ns);
			n->busy = 1;
			ns->fifo[(ns->fifo_head + ns->fifo_len++) % ns->nnodes] = n;
		}
		while (ns->fifo_len && ns->inflight < (size_t)ns->conf.concurrency) {
			struct ns_node *n = ns->fifo[ns->fifo_head];
			int rc;
			ns->fifo_head = (ns->fifo_head + 1) % ns->nnodes;
			ns->fifo_len--;
			rc = ns_start(ns, n, now);
			if (rc) {
				if (rc != -EADDRNOTAVAIL || !n->fails)
					log_warnx("%s: cannot send: %s", n->sim.name, strerror(-rc));
				n->busy = 0;
				ns_count_error(ns, rc, 0);
				ns_schedule_retry(ns, n, now);
			}
		}
		if (ns->nheap && !ns->fifo_len) {
			int64_t d = ns->heap[0]->due_ms - now;
			timeout = d < 0 ? 0 : d < timeout ? (int)d : timeout;
		}
		nev = epoll_wait(ns->epfd, evs, 256, timeout);
		if (nev < 0 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < nev; i++) {
			if (!evs[i].data.ptr) {
				unsigned char sigs[16];
				if (read(ns->sigpipe[0], sigs, sizeof(sigs)) > 0)
					ns->quit = 1;
				continue;
			}
			ns_conn_event(ns, evs[i].data.ptr, evs[i].events);
		}
		now = ns_now_ms();
		if (now >= next_expire) {
			ns_conn_expire(ns, now);
			next_expire = now + 100;
		}
		ns_spikes(ns, now);
		if (now >= next_stats) {
			if (ns->conf.stats)
				ns_stats_line(ns, now, (double)(now - last_stats) / 1000.0);
			else
				ns->st.sec_lat.n = 0;
			last_stats = now;
			next_stats = now + 1000;
		}
	}
}

static void ns_summary(struct nodesim *ns)
{
	struct ns_stats *s = &ns->st;
	int64_t now = ns_now_ms();
	double run = (double)(now - s->t_start_ms) / 1000.0;
	double steady = s->t_steady_ms ? (double)(now - s->t_steady_ms) / 1000.0 : 0;
	double rate = steady > 0 ? (double)s->steady_reports / steady : 0;
	double p50 = ns_lat_pct(&s->rep_lat, 50), p99 = ns_lat_pct(&s->rep_lat, 99);
	double pmax = ns_lat_pct(&s->rep_lat, 100);
	double o50 = ns_lat_pct(&s->ovl_lat, 50), o99 = ns_lat_pct(&s->ovl_lat, 99);
	double r50 = ns_lat_pct(&s->reg_lat, 50);
	uint64_t events = 0;
	size_t i;

	for (i = 0; i < ns->nnodes; i++)
		events += ns->nodes[i].sim.events_made;
	fprintf(stderr,
		"nodesim: %zu nodes, %zu registered, %zu online, %zu failed, %.1f s "
		"(steady %.1f s)\n"
		"nodesim: reports %" PRIu64 " (%.0f/s steady), latency p50 %.2f ms p99 %.2f ms "
		"max %.2f ms\n"
		"nodesim: overlays %" PRIu64 " (p50 %.2f ms p99 %.2f ms), registers %" PRIu64
		" (p50 %.2f ms), adds %" PRIu64 "\n"
		"nodesim: commands %" PRIu64 ", reboots %" PRIu64 ", poweroffs %" PRIu64
		", reloads %" PRIu64 ", events made %" PRIu64 "\n"
		"nodesim: errors %" PRIu64 " (transport %" PRIu64 ", timeout %" PRIu64
		", 4xx %" PRIu64 ", 5xx %" PRIu64 ", protocol %" PRIu64 ")\n",
		ns->nnodes, ns_count_registered(ns), ns_count_online(ns),
		ns_count_state(ns, NS_FAILED), run, steady, s->reports, rate, p50, p99, pmax,
		s->overlays, o50, o99, s->registers, r50, s->adds, s->commands, s->reboots,
		s->poweroffs, s->reloads, events, ns_errors(s), s->err_transport, s->err_timeout,
		s->err_4xx, s->err_5xx, s->err_proto);
	if (ns->conf.json) {
		json_t *j = json_pack(
			"{s:f, s:I, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:I, s:f, s:f,"
			" s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			" s:{s:I, s:I, s:I, s:I, s:I}}",
			"registered_after_s",
			s->t_steady_ms ? (double)(s->t_steady_ms - s->t_start_ms) / 1000.0 : -1.0,
			"nodes", (json_int_t)ns->nnodes, "registered",
			(json_int_t)ns_count_registered(ns), "online",
			(json_int_t)ns_count_online(ns), "failed",
			(json_int_t)ns_count_state(ns, NS_FAILED), "run_s", run, "steady_s", steady,
			"reports", (json_int_t)s->reports, "steady_reports",
			(json_int_t)s->steady_reports, "reports_per_s", rate, "report_p50_ms", p50,
			"report_p99_ms", p99, "report_max_ms", pmax, "overlays",
			(json_int_t)s->overlays, "overlay_p50_ms", o50, "overlay_p99_ms", o99,
			"registers", (json_int_t)s->registers, "register_p50_ms", r50, "adds",
			(json_int_t)s->adds, "commands", (json_int_t)s->commands, "reboots",
			(json_int_t)s->reboots, "poweroffs", (json_int_t)s->poweroffs, "reloads",
			(json_int_t)s->reloads, "events_made", (json_int_t)events, "errors",
			(json_int_t)ns_errors(s), "error_kinds", "transport",
			(json_int_t)s->err_transport, "timeout", (json_int_t)s->err_timeout, "http_4xx",
			(json_int_t)s->err_4xx, "http_5xx", (json_int_t)s->err_5xx, "protocol",
			(json_int_t)s->err_proto);
		char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (t)
			printf("%s\n", t);
		free(t);
		json_decref(j);
	}
}

static int ns_init(struct nodesim *ns, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	uint32_t a;
	size_t i;
	int rc;

	rc = http_url_parse(ns->conf.url, &ns->url, err, errlen);
	if (rc)
		return rc;
	/* One address, resolved once: nodesim talks to loopback or a literal address. */
	if (valid_ipv4(ns->url.host, &a, NULL, 0)) {
		if (!strcmp(ns->url.host, "localhost")) {
			a = 0x7f000001;
		} else {
			snprintf(err, errlen, "url: host '%s' must be an IPv4 address", ns->url.host);
			return -EINVAL;
		}
	}
	ns->server.sin_family = AF_INET;
	ns->server.sin_addr.s_addr = htonl(a);
	ns->server.sin_port = htons((uint16_t)atoi(ns->url.port));
	snprintf(ns->host_hdr, sizeof(ns->host_hdr), "%s:%s", ns->url.host, ns->url.port);
	ns->rng = ((uint64_t)ns->conf.seed << 1) | 0x9E3779B97F4A7C15ULL;
	ns->conns = calloc((size_t)ns->conf.concurrency, sizeof(*ns->conns));
	if (!ns->conns)
		return -ENOMEM;
	for (i = 0; i < (size_t)ns->conf.concurrency; i++)
		ns->conns[i].fd = -1;
	ns->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ns->epfd < 0 || pipe2(ns->sigpipe, O_CLOEXEC | O_NONBLOCK)) {
		snprintf(err, errlen, "epoll/pipe: %s", strerror(errno));
		return -errno;
	}
	if (epoll_ctl(ns->epfd, EPOLL_CTL_ADD, ns->sigpipe[0], &ev)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void ns_free(struct nodesim *ns)
{
	size_t i;

	ns_conn_close_all(ns);
	free(ns->conns);
	for (i = 0; i < ns->nnodes; i++)
		sim_node_free(&ns->nodes[i].sim);
	free(ns->nodes);
	free(ns->heap);
	free(ns->fifo);
	free(ns->st.rep_lat.us);
	free(ns->st.reg_lat.us);
	free(ns->st.ovl_lat.us);
	free(ns->st.sec_lat.us);
	if (ns->epfd > 0)
		close(ns->epfd);
	if (ns->sigpipe[0] > 0) {
		close(ns->sigpipe[0]);
		close(ns->sigpipe[1]);
	}
	if (ns->conf.token)
		explicit_bzero(ns->conf.token, strlen(ns->conf.token));
	conf_free(ns_options, &ns->conf);
}

int main(int argc, char **argv)
{
	struct nodesim ns = { 0 };
	struct sigaction sa = { .sa_handler = ns_on_signal };
	char err[512];
	size_t i;
	int rc, failed;

	log_init("nodesim", LOG_LVL_INFO);
	ns.epfd = -1;
	rc = ns_conf_load(&ns.conf, argc, argv, err, sizeof(err));
	if (rc == -ECANCELED) {
		usage(stdout);
		conf_free(ns_options, &ns.conf);
		return 0;
	}
	if (rc) {
		log_warnx("%s", err);
		conf_free(ns_options, &ns.conf);
		return 2;
	}
	if (ns.conf.verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (ns_init(&ns, err, sizeof(err)))
		fatalx("%s", err);
	if (ns.conf.check) {
		log_info("configuration ok: %s, prefix %s, count %ld", ns.conf.url, ns.conf.prefix,
			 ns.conf.count);
		ns_free(&ns);
		return 0;
	}
	ns_sigfd = ns.sigpipe[1];
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = ns_setup_nodes(&ns, err, sizeof(err));
	if (rc) {
		log_warnx("%s", rc == -ENOMEM ? "out of memory" : err);
		ns_free(&ns);
		return 1;
	}
	ns.st.t_start_ms = ns_now_ms();
	for (i = 0; i < ns.nnodes; i++) {
		struct ns_node *n = &ns.nodes[i];
		int64_t off = ns.conf.ramp_ms ? (int64_t)(sim_rand(&n->sim) * (double)ns.conf.ramp_ms) : 0;
		ns_schedule(&ns, n, ns.st.t_start_ms + off);
	}
	log_info("%zu nodes (%zu to add) against %s, %ld in flight at most", ns.nnodes,
		 ns_count_state(&ns, NS_ADD), ns.conf.url, ns.conf.concurrency);
	ns_loop(&ns);
	ns_summary(&ns);
	failed = ns.conf.once ? (int)ns_count_state(&ns, NS_FAILED) +
					(int)(ns.nnodes - ns_count_state(&ns, NS_DONE) -
					      ns_count_state(&ns, NS_FAILED)) :
				0;
	ns_free(&ns);
	return failed ? 1 : 0;
}
