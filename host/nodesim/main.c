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
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "selfpipe.h"
#include "net.h"
#include "nodesim.h"
#include "procs.h"
#include "sched.h"
#include "setup.h"
#include "simwake.h"
#include "stats.h"
#include "step.h"
#include "valid.h"
#include "wire.h"

#define OPT(n, s, t, f, lo, hi, a, h) { n, s, t, offsetof(struct ns_conf, f), lo, hi, a, h }
static const struct conf_option ns_options[] = {
	OPT("config", 'c', CONF_STR, config, 0, 0, "FILE", "read options from FILE (key = value)"),
	OPT("url", 'u', CONF_STR, url, 0, 0, "URLS",
	    "snowd, http://HOST:PORT (default $SNOW_URL); several, separated by commas or "
	    "blanks: the admin API goes to the first, each node to one, moving on when it "
	    "stops answering, as node.conf's host_url"),
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
	OPT("keep-alive", 0, CONF_BOOL, keep_alive, 0, 0, NULL,
	    "each node keeps its connection open between its register/report requests, as "
	    "snow-agent does by default (without: Connection: close, as keep_alive = no)"),
	OPT("sink", 0, CONF_STR, sink, 0, 0, "URL",
	    "send the nodes' reports to URL (any server answering 2xx, e.g. nginx), not to "
	    "snowd: no boot, no registration, answers not checked; for the benchmark's "
	    "HTTP ceiling (--url still lists the nodes)"),
	OPT("procs", 0, CONF_INT, procs, 1, 64, "N",
	    "split the nodes across N worker processes, each with its own loop, wake-up "
	    "socket, descriptors and share of --concurrency (default 1: this process)"),
	OPT("seed", 0, CONF_INT, seed, 0, 0x7fffffff, "N", "random seed (default 1)"),
	OPT("stats", 's', CONF_BOOL, stats, 0, 0, NULL, "print a progress line every second"),
	OPT("json", 'j', CONF_BOOL, json, 0, 0, NULL, "print the summary as JSON on stdout"),
	OPT("once", '1', CONF_BOOL, once, 0, 0, NULL,
	    "each node registers, sends one report; then exit"),
	OPT("no-wake", 0, CONF_BOOL, no_wake, 0, 0, NULL,
	    "do not listen for snowd's wake-ups: commands wait for the next report"),
	OPT("verbose", 'v', CONF_BOOL, verbose, 0, 0, NULL, "log debug messages"),
	OPT("check-config", 'n', CONF_BOOL, check, 0, 0, NULL, "check the options and exit"),
	{ 0 },
};
#undef OPT

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
	c->procs = 1;
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
	if (c->procs > c->concurrency) {
		snprintf(err, errlen, "procs: %ld workers need a concurrency of at least %ld, "
				      "one request each", c->procs, c->procs);
		return -EINVAL;
	}
	if (!c->token) {
		snprintf(err, errlen, "token: missing (--token or SNOW_TOKEN): nodesim lists nodes "
				      "through the admin API");
		return -EINVAL;
	}
	return 0;
}

/* The program's own generator (sim.c's are per node). */
static uint64_t ns_rand64(struct nodesim *ns)
{
	uint64_t x = ns->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ns->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* ---- the loop ------------------------------------------------------------------------ */

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
	int64_t now = clock_mono_ms(), next_stats = now + 1000, next_expire = now + 100, last_stats = now;
	int64_t end = ns->conf.duration_s ? now + ns->conf.duration_s * 1000 : INT64_MAX;

	ns->last_spike_ms = now;
	while (!ns->quit) {
		int timeout = 100, i, nev;

		now = clock_mono_ms();
		if (now >= end || ns_finished(ns))
			break;
		while (ns->nheap && ns->heap[0]->due_ms <= now) {
			struct ns_node *n = ns_heap_pop(ns);
			n->busy = 1;
			if (n->urgent) {
				/* Woken (simwake.c): ahead of the nodes that are merely due. */
				n->urgent = 0;
				ns->fifo_head = (ns->fifo_head + ns->nnodes - 1) % ns->nnodes;
				ns->fifo[ns->fifo_head] = n;
				ns->fifo_len++;
				continue;
			}
			ns->fifo[(ns->fifo_head + ns->fifo_len++) % ns->nnodes] = n;
		}
		while (ns->fifo_len && ns->inflight < (size_t)ns->conf.concurrency) {
			struct ns_node *n = ns->fifo[ns->fifo_head];
			int rc;
			ns->fifo_head = (ns->fifo_head + 1) % ns->nnodes;
			ns->fifo_len--;
			rc = ns_step_start(ns, n, now);
			if (rc) {
				/* A snowd that stopped answering is logged once, by the move. */
				if (ns->hosts.n > 1 && hostlist_should_move(rc, 0))
					log_debug("%s: cannot send: %s", n->sim.name, strerror(-rc));
				else if (rc != -EADDRNOTAVAIL || !n->fails)
					log_warnx("%s: cannot send: %s", n->sim.name, strerror(-rc));
				n->busy = 0;
				ns_count_error(ns, rc, 0);
				ns_step_failed(ns, n, rc, now);
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
				/* SIGTERM or SIGINT: stop, with the summary. */
				while (selfpipe_next(&ns->sig) > 0)
					ns->quit = 1;
				continue;
			}
			if (evs[i].data.ptr == (void *)ns->wake) {
				ns_wake_input(ns, clock_mono_ms());
				continue;
			}
			ns_conn_event(ns, evs[i].data.ptr, evs[i].events);
		}
		now = clock_mono_ms();
		if (now >= next_expire) {
			ns_conn_expire(ns, now);
			next_expire = now + 100;
		}
		ns_spikes(ns, now);
		if (now >= next_stats) {
			if (ns->conf.stats)
				ns->stats_out(ns, now, (double)(now - last_stats) / 1000.0);
			else
				ns->st.sec_lat.n = 0;
			last_stats = now;
			next_stats = now + 1000;
		}
	}
}


static int ns_init(struct nodesim *ns, char *err, size_t errlen)
{
	uint32_t a;
	size_t i;
	int rc;

	/* One snowd or several, as node.conf's host_url (lib/hostlist.h). */
	rc = hostlist_parse(ns->conf.url, &ns->hosts, err, errlen);
	if (rc)
		return rc;
	ns->url = ns->hosts.url[0];
	for (i = 0; i < ns->hosts.n; i++) {
		const struct http_url *u = &ns->hosts.url[i];
		/* Addresses resolved once: nodesim talks to loopback or literal addresses. */
		if (valid_ipv4(u->host, &a, NULL, 0)) {
			if (!strcmp(u->host, "localhost")) {
				a = 0x7f000001;
			} else {
				snprintf(err, errlen, "url: host '%s' must be an IPv4 address",
					 u->host);
				return -EINVAL;
			}
		}
		ns->servers[i].sin_family = AF_INET;
		ns->servers[i].sin_addr.s_addr = htonl(a);
		ns->servers[i].sin_port = htons((uint16_t)atoi(u->port));
		snprintf(ns->host_hdr[i], sizeof(ns->host_hdr[i]), "%s:%s", u->host, u->port);
	}
	ns->rng = ((uint64_t)ns->conf.seed << 1) | 0x9E3779B97F4A7C15ULL;
	ns->conn_done = ns_step_done;
	ns->stats_out = ns_stats_line;
	return 0;
}

/*
 * What one process needs for its loop over ns->nodes (all, or a worker's
 * share): the slots, the epoll set with the signals' pipe, the wake-up
 * socket; then every node scheduled and the loop run until the end.
 * @ret 0, or -errno with err filled (nothing was run).
 */
static int ns_run(struct nodesim *ns, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	size_t i;

	ns->conns = calloc((size_t)ns->conf.concurrency, sizeof(*ns->conns));
	if (!ns->conns) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < (size_t)ns->conf.concurrency; i++)
		ns->conns[i].fd = -1;
	ns->epfd = epoll_create1(EPOLL_CLOEXEC);
	/* SIGTERM or SIGINT: the epoll entry with no conn. */
	if (ns->epfd < 0 || epoll_ctl(ns->epfd, EPOLL_CTL_ADD, ns->sig.rfd, &ev)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return -errno;
	}
	if (!ns->conf.no_wake && ns_wake_open(ns, err, errlen))
		log_warnx("%s (commands come with the reports)", err);
	for (i = 0; i < ns->nnodes; i++) {
		struct ns_node *n = &ns->nodes[i];
		int64_t off = ns->conf.ramp_ms ? (int64_t)(sim_rand(&n->sim) * (double)ns->conf.ramp_ms) : 0;
		ns_schedule(ns, n, ns->st.t_start_ms + off);
	}
	log_info("%zu nodes (%zu to add) against %s, %ld in flight at most", ns->nnodes,
		 ns_count_state(ns, NS_ADD), ns->conf.url, ns->conf.concurrency);
	ns_loop(ns);
	return 0;
}

/*
 * --sink: every node reports to another server from the start, as if
 * registered (same bodies, signatures, connections), so that the benchmark
 * can set an HTTP server's rate for the same requests beside snowd's.
 * @ret 0 or -EINVAL (err filled).
 */
static int ns_sink(struct nodesim *ns, char *err, size_t errlen)
{
	struct http_url u;
	uint32_t a;
	size_t i;

	if (http_url_parse(ns->conf.sink, &u, err, errlen))
		return -EINVAL;
	if (valid_ipv4(u.host, &a, NULL, 0) || strcmp(u.base, ns->url.base)) {
		snprintf(err, errlen, "sink: '%s' must be http://IPV4:PORT with --url's path",
			 ns->conf.sink);
		return -EINVAL;
	}
	/* Every node sends to the sink: one server. */
	ns->hosts.n = 1;
	ns->servers[0].sin_addr.s_addr = htonl(a);
	ns->servers[0].sin_port = htons((uint16_t)atoi(u.port));
	snprintf(ns->host_hdr[0], sizeof(ns->host_hdr[0]), "%s:%s", u.host, u.port);
	for (i = 0; i < ns->nnodes; i++) {
		struct ns_node *n = &ns->nodes[i];
		if (n->state != NS_SCRIPT) {
			snprintf(err, errlen, "sink: %s is not in snowd (no --add with --sink)",
				 n->sim.name);
			return -EINVAL;
		}
		/* Any key: the sink checks nothing, but the HMAC costs the same. */
		memset(n->sim.conf.secret, 'a', SIGN_SECRET_HEX_LEN);
		n->sim.conf.secret[SIGN_SECRET_HEX_LEN] = '\0';
		sim_registered(&n->sim);
		n->interval_ms = ns->conf.interval_ms ? ns->conf.interval_ms :
							WIRE_DEFAULT_INTERVAL_MS;
		n->state = NS_REPORT;
		n->registered_once = 1;
		n->last_step_ms = ns->st.t_start_ms;
	}
	ns->all_registered = 1;
	ns->st.t_steady_ms = ns->st.t_start_ms;
	log_info("all %zu nodes registered after 0.0 s (--sink %s: none registers)", ns->nnodes,
		 ns->conf.sink);
	return 0;
}

/* SIGTERM and SIGINT into the loop (ns_run) or the workers' parent (procs.c). */
static int ns_signals(struct nodesim *ns, char *err, size_t errlen)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	int rc = selfpipe_open(&ns->sig, sigs, 2, SELFPIPE_RESTART);

	if (rc)
		snprintf(err, errlen, "signals: %s", strerror(-rc));
	return rc;
}

static void ns_free(struct nodesim *ns)
{
	size_t i;

	ns_conn_close_all(ns);
	ns_wake_close(ns);
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
	if (ns->epfd >= 0)
		close(ns->epfd);
	selfpipe_close(&ns->sig);
	if (ns->conf.token)
		explicit_bzero(ns->conf.token, strlen(ns->conf.token));
	conf_free(ns_options, &ns->conf);
}

int main(int argc, char **argv)
{
	struct nodesim ns = { 0 };
	char err[512];
	int rc, failed;

	log_init("nodesim", LOG_LVL_INFO);
	if ((rc = conf_early(ns_options, NULL, "snow-nodesim", argc, argv)))
		return rc < 0 ? 2 : 0;
	ns.epfd = -1;
	ns.sig.rfd = -1;
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
	if (ns_signals(&ns, err, sizeof(err))) {
		log_warnx("%s", err);
		ns_free(&ns);
		return 1;
	}

	rc = ns_setup_nodes(&ns, err, sizeof(err));
	if (rc) {
		log_warnx("%s", rc == -ENOMEM ? "out of memory" : err);
		ns_free(&ns);
		return 1;
	}
	ns.st.t_start_ms = clock_mono_ms();
	if (ns.conf.sink && ns_sink(&ns, err, sizeof(err))) {
		log_warnx("%s", err);
		ns_free(&ns);
		return 1;
	}
	if (ns.conf.procs > 1) {
		/* Each worker runs ns_run() on its share; this process gathers and prints. */
		rc = ns_procs_run(&ns, ns_run);
		ns_free(&ns);
		return rc;
	}
	if (ns_run(&ns, err, sizeof(err))) {
		log_warnx("%s", err);
		ns_free(&ns);
		return 1;
	}
	ns_summary(&ns);
	failed = ns.conf.once ? (int)ns_count_state(&ns, NS_FAILED) +
					(int)(ns.nnodes - ns_count_state(&ns, NS_DONE) -
					      ns_count_state(&ns, NS_FAILED)) :
				0;
	ns_free(&ns);
	return failed ? 1 : 0;
}
