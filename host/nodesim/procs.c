/* snow-nodesim --procs: see procs.h. */
#include "procs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "simwake.h"
#include "stats.h"

#define NS_PROCS_MAX 64
#define NS_SLOTS 4              /* --stats seconds gathered at once (workers run abreast) */

/* What a worker sends up its pipe: a header, then the record, then latency samples. */
enum { NS_UP_TICK = 1, NS_UP_SUMMARY = 2 };

struct ns_up_hdr {
	uint32_t type;
	uint32_t pad;
	uint64_t len;               /* bytes after the header */
};

/* One worker's --stats second, then nlat samples (this second's report latencies). */
struct ns_up_tick {
	uint64_t seq;               /* 1, 2, ...: the parent prints second k once all sent theirs */
	uint64_t errors;
	uint64_t nlat;
	struct ns_counts c;         /* .rate: this second's reports per second */
};

/* One worker's summary, then nrep + nreg + novl samples. */
struct ns_up_sum {
	struct ns_stats st;         /* its latency arrays' pointers mean nothing here */
	struct ns_counts c;
	uint64_t nrep, nreg, novl;
};

struct ns_worker {
	pid_t pid;                  /* 0 once waited for */
	int fd;                     /* the pipe's read end, -1 at its end */
	size_t lo, hi;              /* its nodes: ns->nodes[lo, hi) */
	struct buf in;              /* bytes read, not yet a whole record */
	int summed;                 /* its summary came */
	int status;                 /* waitpid()'s */
};

/* One --stats second, gathered from the workers. */
struct ns_slot {
	uint64_t seq;
	size_t have;                /* workers whose second this is in */
	struct ns_counts c;
	uint64_t errors;
	struct ns_lat lat;
};

struct ns_parent {
	struct nodesim *ns;
	struct ns_worker w[NS_PROCS_MAX];
	size_t nw;
	size_t running;             /* workers whose pipe is still open */
	struct ns_slot slot[NS_SLOTS];
	struct ns_stats st;         /* the summaries added up */
	struct ns_counts c;
	int64_t t_steady_ms;        /* the last worker's steady start (0: one never got there) */
	int failed;                 /* a worker died or failed */
	int stopping;               /* the workers were told to stop */
};

/* ---- the worker's side --------------------------------------------------------- */

static int ns_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One record up the pipe: the header, head (hlen bytes), then up to three sample arrays. */
static int ns_up_send(int fd, uint32_t type, const void *head, size_t hlen,
		      const struct ns_lat *const *lats, size_t nlats)
{
	struct ns_up_hdr h = { .type = type, .len = hlen };
	size_t i;
	int rc;

	for (i = 0; i < nlats; i++)
		h.len += lats[i]->n * sizeof(uint32_t);
	rc = ns_write_all(fd, &h, sizeof(h));
	if (!rc)
		rc = ns_write_all(fd, head, hlen);
	for (i = 0; !rc && i < nlats; i++)
		rc = ns_write_all(fd, lats[i]->us, lats[i]->n * sizeof(uint32_t));
	return rc;
}

/* ns->stats_out of a worker: its second up to the parent instead of a line. */
static void ns_up_tick(struct nodesim *ns, int64_t now, double secs)
{
	struct ns_up_tick t = { .seq = ++ns->up_ticks, .errors = ns->st.sec_errors };
	const struct ns_lat *lat = &ns->st.sec_lat;

	ns_counts_of(ns, now, &t.c);
	t.c.rate = (double)ns->st.sec_reports / secs;
	t.nlat = lat->n;
	if (ns_up_send(ns->up_fd, NS_UP_TICK, &t, sizeof(t), &lat, 1))
		ns->quit = 1; /* the parent is gone */
	ns->st.sec_lat.n = 0;
	ns->st.sec_reports = ns->st.sec_errors = 0;
}

/* A worker: its share of everything, its own loop, its summary up.  Never returns. */
static void ns_worker_main(struct nodesim *ns, struct ns_parent *p, size_t k, int fd, pid_t parent,
			   const sigset_t *old, ns_run_fn run)
{
	static const int sigs[] = { SIGTERM, SIGINT };
	struct ns_up_sum s = { 0 };
	const struct ns_lat *lats[3];
	char prefix[32], err[512];
	size_t i, np = p->nw;
	int rc;

	/* Never outlive the parent (it may have gone before this line: then stop now). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(1);
	for (i = 0; i < k; i++)
		close(p->w[i].fd); /* the parent's ends of the earlier workers' pipes */
	snprintf(prefix, sizeof(prefix), "nodesim.%zu", k + 1);
	log_init(prefix, log_get_level());
	/* Its own signals' pipe: the parent's would wake the parent too. */
	selfpipe_close(&ns->sig);
	rc = selfpipe_open(&ns->sig, sigs, 2, SELFPIPE_RESTART);
	sigprocmask(SIG_SETMASK, old, NULL);
	if (rc) {
		log_warnx("signals: %s", strerror(-rc));
		_exit(1);
	}
	ns->nodes += p->w[k].lo;
	ns->nnodes = p->w[k].hi - p->w[k].lo;
	ns->conf.concurrency = ns->conf.concurrency / (long)np + ((size_t)ns->conf.concurrency % np > k);
	ns->conf.events_rate = ns->conf.events_rate / (long)np + ((size_t)ns->conf.events_rate % np > k);
	ns->rng ^= (uint64_t)(k + 1) * 0x9E3779B97F4A7C15ULL;
	ns->up_fd = fd;
	ns->stats_out = ns_up_tick;
	if (run(ns, err, sizeof(err))) {
		log_warnx("%s", err);
		_exit(1);
	}
	s.st = ns->st;
	memset(&s.st.rep_lat, 0, sizeof(s.st.rep_lat));
	memset(&s.st.reg_lat, 0, sizeof(s.st.reg_lat));
	memset(&s.st.ovl_lat, 0, sizeof(s.st.ovl_lat));
	memset(&s.st.sec_lat, 0, sizeof(s.st.sec_lat));
	ns_counts_of(ns, clock_mono_ms(), &s.c);
	s.nrep = ns->st.rep_lat.n;
	s.nreg = ns->st.reg_lat.n;
	s.novl = ns->st.ovl_lat.n;
	lats[0] = &ns->st.rep_lat;
	lats[1] = &ns->st.reg_lat;
	lats[2] = &ns->st.ovl_lat;
	rc = ns_up_send(fd, NS_UP_SUMMARY, &s, sizeof(s), lats, 3);
	ns_wake_close(ns);
	ns_conn_close_all(ns);
	/* No exit handlers, no stdio flushed twice: the parent owns those. */
	_exit(rc ? 1 : 0);
}

/* ---- the parent's side ----------------------------------------------------------- */

static void ns_counts_add(struct ns_counts *d, const struct ns_counts *s)
{
	d->nodes += s->nodes;
	d->registered += s->registered;
	d->online += s->online;
	d->failed += s->failed;
	d->done += s->done;
	d->events += s->events;
	d->acked += s->acked;
	d->inflight += s->inflight;
	d->waiting += s->waiting;
	d->rate += s->rate;
}

static void ns_stats_add(struct ns_stats *d, const struct ns_stats *s)
{
	d->reports += s->reports;
	d->registers += s->registers;
	d->overlays += s->overlays;
	d->adds += s->adds;
	d->reboots += s->reboots;
	d->poweroffs += s->poweroffs;
	d->reloads += s->reloads;
	d->err_transport += s->err_transport;
	d->err_timeout += s->err_timeout;
	d->err_4xx += s->err_4xx;
	d->err_5xx += s->err_5xx;
	d->err_proto += s->err_proto;
	d->commands += s->commands;
	d->results_acked += s->results_acked;
	d->host_switches += s->host_switches;
	d->steady_reports += s->steady_reports;
}

static void ns_slot_print(struct ns_parent *p, struct ns_slot *sl)
{
	int64_t now = clock_mono_ms();

	if (p->ns->conf.stats)
		ns_stats_print((double)(now - p->ns->st.t_start_ms) / 1000.0, &sl->c, sl->c.rate,
			       &sl->lat, sl->errors);
	sl->have = 0;
	sl->lat.n = 0;
	memset(&sl->c, 0, sizeof(sl->c));
	sl->errors = 0;
}

static void ns_got_tick(struct ns_parent *p, const struct ns_up_tick *t, const uint32_t *lat)
{
	struct ns_slot *sl = &p->slot[t->seq % NS_SLOTS];

	if (sl->have && sl->seq != t->seq)
		ns_slot_print(p, sl); /* a worker fell behind by NS_SLOTS seconds: print what came */
	sl->seq = t->seq;
	sl->have++;
	ns_counts_add(&sl->c, &t->c);
	sl->errors += t->errors;
	ns_lat_append(&sl->lat, lat, (size_t)t->nlat);
	if (sl->have >= p->running)
		ns_slot_print(p, sl);
}

static void ns_got_summary(struct ns_parent *p, struct ns_worker *w, const struct ns_up_sum *s,
			   const uint32_t *lat)
{
	ns_stats_add(&p->st, &s->st);
	ns_counts_add(&p->c, &s->c);
	/* Steady once the last worker was: its start is the one the summary counts from. */
	if (!s->st.t_steady_ms || (p->t_steady_ms < 0))
		p->t_steady_ms = -1;
	else if (s->st.t_steady_ms > p->t_steady_ms)
		p->t_steady_ms = s->st.t_steady_ms;
	ns_lat_append(&p->st.rep_lat, lat, (size_t)s->nrep);
	ns_lat_append(&p->st.reg_lat, lat + s->nrep, (size_t)s->nreg);
	ns_lat_append(&p->st.ovl_lat, lat + s->nrep + s->nreg, (size_t)s->novl);
	w->summed = 1;
}

/* Whole records out of w's bytes.  @ret 0, or -EPROTO (a record that makes no sense). */
static int ns_records(struct ns_parent *p, struct ns_worker *w)
{
	size_t off = 0;

	while (w->in.len - off >= sizeof(struct ns_up_hdr)) {
		struct ns_up_hdr h;
		const char *body;
		memcpy(&h, w->in.data + off, sizeof(h));
		if (w->in.len - off - sizeof(h) < h.len)
			break;
		body = w->in.data + off + sizeof(h);
		if (h.type == NS_UP_TICK && h.len >= sizeof(struct ns_up_tick)) {
			struct ns_up_tick t;
			memcpy(&t, body, sizeof(t));
			if (h.len != sizeof(t) + t.nlat * sizeof(uint32_t))
				return -EPROTO;
			ns_got_tick(p, &t, (const uint32_t *)(const void *)(body + sizeof(t)));
		} else if (h.type == NS_UP_SUMMARY && h.len >= sizeof(struct ns_up_sum)) {
			struct ns_up_sum s;
			memcpy(&s, body, sizeof(s));
			if (h.len != sizeof(s) + (s.nrep + s.nreg + s.novl) * sizeof(uint32_t))
				return -EPROTO;
			ns_got_summary(p, w, &s, (const uint32_t *)(const void *)(body + sizeof(s)));
		} else {
			return -EPROTO;
		}
		off += sizeof(h) + h.len;
	}
	memmove(w->in.data, w->in.data + off, w->in.len - off);
	w->in.len -= off;
	return 0;
}

/* Tell every worker still running to stop (each sends its summary and exits). */
static void ns_stop_all(struct ns_parent *p)
{
	size_t i;

	p->stopping = 1;
	for (i = 0; i < p->nw; i++)
		if (p->w[i].pid)
			kill(p->w[i].pid, SIGTERM);
}

/* w's pipe ended: wait for it, and say so when it did not end well. */
static void ns_worker_ended(struct ns_parent *p, struct ns_worker *w, size_t k)
{
	int st = 0;
	pid_t r;

	close(w->fd);
	w->fd = -1;
	p->running--;
	while ((r = waitpid(w->pid, &st, 0)) < 0 && errno == EINTR)
		;
	w->pid = 0;
	w->status = st;
	if (r > 0 && WIFEXITED(st) && !WEXITSTATUS(st) && w->summed)
		return;
	if (r > 0 && WIFSIGNALED(st))
		log_warnx("worker %zu (nodes %s..%s) killed by signal %d: its nodes are not in "
			  "the summary", k + 1, p->ns->nodes[w->lo].sim.name,
			  p->ns->nodes[w->hi - 1].sim.name, WTERMSIG(st));
	else
		log_warnx("worker %zu (nodes %s..%s) ended with status %d%s", k + 1,
			  p->ns->nodes[w->lo].sim.name, p->ns->nodes[w->hi - 1].sim.name,
			  r > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			  w->summed ? "" : ", without its summary: its nodes are not in it");
	p->failed = 1;
	if (!p->stopping) {
		log_warnx("stopping the other workers");
		ns_stop_all(p);
	}
}

/* Read what w sent; at the end of its pipe, wait for it. */
static void ns_worker_input(struct ns_parent *p, size_t k)
{
	struct ns_worker *w = &p->w[k];
	ssize_t r;

	if (buf_reserve(&w->in, 1 << 16)) {
		r = -1;
		errno = ENOMEM;
	} else {
		r = read(w->fd, w->in.data + w->in.len, w->in.cap - w->in.len);
	}
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r > 0) {
		w->in.len += (size_t)r;
		if (!ns_records(p, w))
			return;
		log_warnx("worker %zu: a malformed record (stopping it)", k + 1);
		kill(w->pid, SIGKILL);
	} else if (r < 0) {
		log_warn("worker %zu: read", k + 1);
		kill(w->pid, SIGKILL);
	}
	ns_worker_ended(p, w, k);
}

/* Until every worker's pipe ended: their records, and the signals to pass on. */
static void ns_parent_loop(struct ns_parent *p)
{
	struct pollfd pfd[NS_PROCS_MAX + 1];
	size_t idx[NS_PROCS_MAX + 1], i, n;

	while (p->running) {
		pfd[0] = (struct pollfd){ .fd = p->ns->sig.rfd, .events = POLLIN };
		for (i = 0, n = 1; i < p->nw; i++) {
			if (p->w[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){ .fd = p->w[i].fd, .events = POLLIN };
			idx[n++] = i;
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[0].revents) {
			int sig = 0;
			while (selfpipe_next(&p->ns->sig) > 0)
				sig = 1;
			if (sig)
				ns_stop_all(p);
		}
		for (i = 1; i < n; i++)
			if (pfd[i].revents)
				ns_worker_input(p, idx[i]);
	}
}

int ns_procs_run(struct nodesim *ns, ns_run_fn run)
{
	struct ns_parent *p = calloc(1, sizeof(*p));
	sigset_t block, old;
	pid_t self = getpid();
	size_t i, np;
	int rc = 1;

	if (!p) {
		log_warnx("out of memory");
		return 1;
	}
	p->ns = ns;
	np = (size_t)ns->conf.procs;
	if (np > ns->nnodes)
		np = ns->nnodes;
	p->nw = np;
	for (i = 0; i < np; i++) {
		p->w[i].lo = ns->nnodes * i / np;
		p->w[i].hi = ns->nnodes * (i + 1) / np;
		p->w[i].fd = -1;
	}
	/* A signal before a worker has its own handlers waits for them (the mask is inherited). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	fflush(NULL);
	for (i = 0; i < np; i++) {
		int fds[2];
		pid_t pid;
		if (pipe2(fds, O_CLOEXEC)) {
			log_warn("pipe");
			break;
		}
		pid = fork();
		if (pid < 0) {
			log_warn("fork");
			close(fds[0]);
			close(fds[1]);
			break;
		}
		if (!pid) {
			close(fds[0]);
			ns_worker_main(ns, p, i, fds[1], self, &old, run);
		}
		close(fds[1]);
		p->w[i].pid = pid;
		p->w[i].fd = fds[0];
		p->running++;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	log_info("%zu nodes on %zu worker processes", ns->nnodes, np);
	if (p->running < np) {
		p->failed = 1;
		ns_stop_all(p);
	}
	ns_parent_loop(p);
	/* The summary over every worker that sent one. */
	p->st.t_start_ms = ns->st.t_start_ms;
	p->st.t_steady_ms = p->t_steady_ms > 0 ? p->t_steady_ms : 0;
	ns_summary_print(&ns->conf, &p->st, &p->c, clock_mono_ms());
	if (!p->failed && (!ns->conf.once || (p->c.failed == 0 && p->c.done == p->c.nodes &&
					      p->c.nodes == ns->nnodes)))
		rc = 0;
	for (i = 0; i < NS_SLOTS; i++)
		free(p->slot[i].lat.us);
	for (i = 0; i < np; i++)
		buf_free(&p->w[i].in);
	free(p->st.rep_lat.us);
	free(p->st.reg_lat.us);
	free(p->st.ovl_lat.us);
	free(p);
	return rc;
}
