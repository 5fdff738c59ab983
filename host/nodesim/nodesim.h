/*
 * snow-nodesim: many simulated node agents in one process (or, --procs, in
 * several, each with a share of the nodes), speaking the real node protocol
 * to snowd (docs/protocol.md).  One thread, one epoll loop a process: every request is a non-blocking HTTP/1.1 exchange (Connection:
 * close, as snow-agent with keep_alive = no; with --keep-alive a node keeps
 * its connection between its node-channel requests, as snow-agent by
 * default), at most `concurrency` in flight;
 * nodes wait for their turn in a timer heap and a FIFO.  This header holds
 * the program's state; each job has its own module, and calls go one way:
 *
 *   main.c   options, the loop, start and exit
 *   setup.c  which nodes: snowd's list, --add
 *   step.c   a node's next request and what its answer does (sim.c, the agent)
 *   sched.c  the timer heap
 *   stats.c  counters, latencies, the --stats line and the summary
 *   net.c    the exchanges on the wire; ends each through ns->conn_done
 *   simwake.c wake-ups from snowd: a node with a command waiting reports now
 *   procs.c  --procs N: the nodes split across N worker processes, their
 *            figures gathered into one summary
 *
 * main.c -> setup, step, sched, stats, net, simwake, procs; procs.c -> stats; step.c -> sched, stats,
 * net, simwake; simwake.c -> sched.
 */
#ifndef SNOW_NODESIM_H
#define SNOW_NODESIM_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "hostlist.h"
#include "httpc.h"
#include "selfpipe.h"
#include "sim.h"
#include "wakeup.h"

#define NS_MAX_ANSWER (64u << 20)  /* an answer bigger than this is an error */
#define NS_BACKOFF_FIRST_MS 1000   /* as snow-agent: 1 s doubling ... */
#define NS_BACKOFF_MAX_MS 10000    /* ... up to 10 s */
#define NS_ONCE_TRIES 5            /* --once: attempts per step before a node fails */
#define NS_MOVE_RETRY_MS 250       /* moved to another snowd: tried this soon (the agent's early gap) */

/* Options: one table serves the command line and --config FILE. */
struct ns_conf {
	char *config;
	char *url;
	char *token;
	char *prefix;
	char *sink;         /* reports to this server instead, answers unchecked (bench: nginx) */
	int keep_alive;     /* keep each node's connection between its node-channel requests */
	long count;
	long concurrency;
	long duration_s;
	long interval_ms;   /* 0: what snowd answers at registration */
	long events_rate;   /* threshold crossings per second, all nodes together */
	long boot_delay_ms;
	long timeout_ms;
	long ramp_ms;       /* spread the nodes' first requests over this long */
	long seed;
	long procs;         /* worker processes, each with its share of the nodes (1: this one) */
	int add;
	int stats;
	int json;
	int once;
	int no_wake;        /* do not listen for wake-ups (as an agent with wake_port = -1) */
	int verbose;
	int check;
};

enum ns_state {
	NS_ADD,      /* create the node through the admin API */
	NS_SCRIPT,   /* fetch its iPXE script from its address: opens the overlay's boot window */
	NS_OVERLAY,  /* fetch the overlay from the node's address (a boot) */
	NS_REGISTER,
	NS_REPORT,
	NS_DOWN,     /* rebooting: registers again with a new boot_id */
	NS_OFF,      /* powered off */
	NS_DONE,     /* --once: reported */
	NS_FAILED,   /* --once: gave up */
};

enum ns_kind { NS_K_ADD, NS_K_OVERLAY, NS_K_RELOAD, NS_K_REGISTER, NS_K_REPORT, NS_K_SCRIPT };

struct ns_node {
	struct sim_node sim;
	struct in_addr ip;          /* the node's address; its requests come from it */
	char ip_s[16];
	enum ns_state state;
	int64_t due_ms;             /* monotonic: when it wants to send next */
	size_t heap_idx;            /* position in the heap, SIZE_MAX when not there */
	int busy;                   /* queued or in flight */
	int online;                 /* its last report was answered 2xx */
	int registered_once;
	long interval_ms;
	unsigned fails;             /* consecutive failures of the current step */
	int64_t last_step_ms;
	uint64_t last_nonce;
	char wake_key[SIGN_HEX_LEN + 1]; /* simwake.c: wake-ups are MACed with it ("": none yet) */
	struct wakeup_guard wake_guard;
	int woken;                  /* woken while busy: report again when the exchange ends */
	int urgent;                 /* woken: first in the FIFO (a real node would not queue behind others) */
	int keep_fd;                /* its idle kept-alive connection to snowd, -1 when none */
	uint8_t host;               /* the snowd it talks to: an index into ns->hosts */
	uint8_t moves;              /* switches since a snowd last answered it */
};

/* One exchange in flight. */
struct ns_conn {
	int fd;                     /* -1 when the slot is free */
	struct ns_node *node;
	enum ns_kind kind;
	struct buf out, in;
	size_t off;                 /* bytes of out written */
	int64_t t0_us;              /* monotonic, when the connect started */
	int64_t deadline_ms;
	int writing;
	int keep;                   /* a node-channel request: the connection may be kept */
	int reused;                 /* sent on a kept connection (retried once if it was closed) */
	const struct sockaddr_in *dst; /* where it goes (one of ns->servers) */
};

/* Latency samples in microseconds, kept whole so percentiles are exact. */
struct ns_lat {
	uint32_t *us;
	size_t n, cap;
};

struct ns_stats {
	uint64_t reports, registers, overlays, adds, reboots, poweroffs, reloads;
	uint64_t err_transport, err_timeout, err_4xx, err_5xx, err_proto;
	uint64_t commands, results_acked;
	uint64_t host_switches;                   /* nodes that moved to another snowd */
	struct ns_lat rep_lat, reg_lat, ovl_lat;  /* since the steady state began */
	struct ns_lat sec_lat;                    /* this second, for --stats */
	uint64_t sec_reports, sec_errors;
	int64_t t_start_ms, t_steady_ms;          /* steady: every node registered once */
	uint64_t steady_reports;
};

/* The one state of the program, passed explicitly. */
struct nodesim {
	struct ns_conf conf;
	struct http_url url;         /* --url's first: the admin API */
	struct hostlist hosts;       /* --url: every snowd; a node talks to one, moving on failure */
	struct sockaddr_in servers[HOSTLIST_MAX]; /* hosts' addresses (--sink: the sink's) */
	char host_hdr[HOSTLIST_MAX][300];
	uint64_t moved_logged;       /* bit FROM*HOSTLIST_MAX+TO: that switch was logged once */
	struct ns_node *nodes;
	size_t nnodes;
	struct ns_node **heap;       /* min-heap on due_ms */
	size_t nheap;
	struct ns_node **fifo;       /* due, waiting for a free slot */
	size_t fifo_head, fifo_len;
	struct ns_conn *conns;       /* concurrency slots */
	size_t inflight;
	int epfd;
	/*
	 * An exchange ended: net.c calls this (main.c sets it to step.c's
	 * ns_step_done), so the transport knows nothing above it.  rc 0 with
	 * status and body (pointing into c->in, valid until it returns), or a
	 * transport -errno.
	 */
	void (*conn_done)(struct nodesim *ns, struct ns_conn *c, int rc, int status,
			  const char *body, size_t bodylen);
	/* Every second: main.c's ns_stats_line, or a worker's report to its parent (procs.c). */
	void (*stats_out)(struct nodesim *ns, int64_t now, double secs);
	struct selfpipe sig;         /* SIGTERM, SIGINT */
	int up_fd;                   /* procs.c, a worker: the pipe to its parent */
	uint64_t up_ticks;           /* procs.c, a worker: --stats seconds sent up */
	int quit;
	uint64_t rng;
	double spike_debt;           /* --events-rate: crossings owed */
	int64_t last_spike_ms;
	int all_registered;
	struct simwake *wake;        /* owned: the wake-up socket (simwake.h), or NULL */
	struct ns_stats st;
};

#endif
