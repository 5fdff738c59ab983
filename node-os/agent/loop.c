/*
 * snow-agent's loop (agent_run): register with back-off, then sample and
 * report every interval; between reports the one wait, a poll() on the stop
 * pipe, the event socket, netlink and the wake-up socket, patting the
 * watchdog; a reboot or poweroff once its result went out; pstore records
 * after a report got through.  Set-up, sampling and thresholds are
 * agent.c's; the exchanges with snowd link.c's.
 */
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <unistd.h>
#include <linux/watchdog.h>

#include "clock.h"
#include "hotrestart.h"
#include "log.h"
#include "pstore.h"
#include "wdog.h"

/* post.c hands over an event a program on the node posted. */
static uint64_t agent_post_emit(void *ctx, struct post_event *e)
{
	struct agent_state *st = ctx;

	return agent_event_ex(st, e->type, e->severity, e->publisher, e->attrs);
}

/* Programs on the node posted events (post.h): into the black box. */
static void agent_take_posts(struct agent_state *st)
{
	if (post_drain(&st->post, (long long)clock_mono_ms(), agent_post_emit, st) > 0)
		st->wake = 1;
}

/*
 * The kernel says a device changed (nlwatch.h): rescan at once, so the
 * change is an event now rather than at the next sample.
 */
static void agent_devices_changed(struct agent_state *st, int seen)
{
	struct ddm_env env = agent_ddm_env(st);
	uint64_t before = st->ring.next_seq;

	ddm_scan(&st->ddm, &env, seen & NLW_UEVENT ? "uevent" : "rtnetlink");
	if (st->ring.next_seq != before)
		st->wake = 1;
}

/*
 * Wait ms or until a stop is signalled, patting the watchdog, taking
 * posted events and netlink messages as they come.  New events for a host
 * cut the wait short (st->wake), though never to less than
 * AGENT_EARLY_GAP_MS after the last report (AGENT_RESULT_GAP_MS for
 * command results).  Sets st->stop.
 */
static void agent_wait(struct agent_state *st, long long ms)
{
	long long deadline = (long long)clock_mono_ms() + ms;
	int hosted = !agent_standalone(st->conf);

	wdog_pat(st->wdog_fd);
	while (!st->stop) {
		struct pollfd pfd[5] = {
			{ .fd = st->stop_fd, .events = POLLIN },
			{ .fd = st->post.fd, .events = POLLIN },
			{ .fd = st->nl.uev_fd, .events = POLLIN },
			{ .fd = st->nl.rt_fd, .events = POLLIN },
			{ .fd = st->wk.fd, .events = POLLIN },
		};
		long long now = (long long)clock_mono_ms(), until = deadline, left;
		long long cap = st->wdog_fd >= 0 ? st->wdog_period_ms : 60000;
		int n, seen = 0;

		long long gap = st->results_due ? AGENT_RESULT_GAP_MS : AGENT_EARLY_GAP_MS;

		/* Nobody to send them to early (--events has them already). */
		if (!hosted || !st->registered)
			st->wake = st->results_due = 0;
		if (st->wake && st->last_report_ms + gap < until)
			until = st->last_report_ms + gap;
		left = until - now;
		if (left <= 0)
			return;
		/* poll() skips the entries whose fd is -1. */
		n = poll(pfd, 5, (int)(left > cap ? cap : left));
		wdog_pat(st->wdog_fd);
		if (n <= 0)
			continue;
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			char sig;
			if (read(st->stop_fd, &sig, 1) >= 0)
				st->stop = 1;
		}
		if (pfd[1].revents & POLLIN)
			agent_take_posts(st);
		if (pfd[2].revents & POLLIN)
			seen |= nlwatch_drain(&st->nl, st->nl.uev_fd);
		if (pfd[3].revents & POLLIN)
			seen |= nlwatch_drain(&st->nl, st->nl.rt_fd);
		if (seen)
			agent_devices_changed(st, seen);
		/* The host has a command: report now (at most every AGENT_EARLY_GAP_MS). */
		if ((pfd[4].revents & POLLIN) && wake_drain(&st->wk, st->conf->name))
			st->wake = 1;
	}
}

/* Wait before the next registration attempt: 1 s doubling up to 10 s. */
static void agent_backoff(struct agent_state *st)
{
	agent_wait(st, st->backoff_ms);
	st->backoff_ms *= 2;
	if (st->backoff_ms > AGENT_BACKOFF_MAX_MS)
		st->backoff_ms = AGENT_BACKOFF_MAX_MS;
}

/*
 * Reboot or power off, once the result went out (or the wait ran out):
 * disarm the watchdog (a clean shutdown must not be taken for a hang),
 * save the black box, sync.  With --root (tests) the agent only stops.
 */
static void agent_power(struct agent_state *st)
{
	const char *what = st->power == AGENT_POWER_REBOOT ? "reboot" : "poweroff";
	struct agent_result *r = agent_result_find(st, st->power_id);

	log_info("%s: %s", what, r && r->pending ? "result not delivered in time, going anyway" :
						     "result delivered");
	agent_state_save(st);
	if (st->conf->root[0]) {
		log_info("%s: fixture root %s: stopping the agent instead", what, st->conf->root);
		st->stop = 1;
		return;
	}
	wdog_close(st->wdog_fd, 1);
	st->wdog_fd = -1;
	sync();
	if (reboot(st->power == AGENT_POWER_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF))
		log_warn("%s", what);
	st->power = AGENT_POWER_NONE;
}

/* A reboot or poweroff asked for goes once its result was delivered (or the wait ran out). */
static void agent_power_due(struct agent_state *st)
{
	struct agent_result *r;

	if (!st->power)
		return;
	r = agent_result_find(st, st->power_id);
	if (!r || !r->pending || (long long)clock_mono_ms() >= st->power_at)
		agent_power(st);
}

/* Open the watchdog: the one named, or /dev/watchdog on a node. */
static void agent_watchdog_open(struct agent_state *st)
{
	const char *dev = st->conf->watchdog;
	char err[256] = "";

	if (!dev || !*dev) {
		if (st->conf->root[0] || access("/dev/watchdog", F_OK))
			return;
		dev = "/dev/watchdog";
	}
	if (!strcmp(dev, "none"))
		return;
	st->wdog_fd = wdog_open(dev, (int)st->conf->watchdog_s, err, sizeof(err));
	if (st->wdog_fd < 0) {
		log_warnx("watchdog: %s (running without)", err);
		return;
	}
	/* Three pats per timeout: a late report never resets the node. */
	st->wdog_period_ms = (int)st->conf->watchdog_s * 1000 / 3;
	/*
	 * A request cannot pat while it waits: it gets at most half the timeout,
	 * with a pat just before it (agent_run, agent_config_reload), so a host
	 * that does not answer never resets the node.
	 */
	if (st->wire.timeout_ms > (int)st->conf->watchdog_s * 500)
		st->wire.timeout_ms = (int)st->conf->watchdog_s * 500;
	{
		int pre = 0;
		if (ioctl(st->wdog_fd, WDIOC_GETPRETIMEOUT, &pre))
			pre = 0;
		log_info("watchdog: %s armed, %ld s, pretimeout %d s%s%s", dev, st->conf->watchdog_s, pre,
			 err[0] ? ": " : "", err);
	}
}

/*
 * What the last boot left in pstore goes to snowd after a report got
 * through (pstore.h); given up after PSTORE_TRIES failures.
 */
static void agent_pstore(struct agent_state *st)
{
	int rc;

	wdog_pat(st->wdog_fd);
	rc = pstore_send(&st->wire, st->conf->root, st->boot_id);
	if (rc == 0 || rc == -EPERM || --st->pstore_left == 0)
		st->pstore_left = 0;
}

int agent_run(struct agent_state *st)
{
	int standalone = agent_standalone(st->conf);
	long long next = (long long)clock_mono_ms();
	int rc = 0;

	agent_watchdog_open(st);
	st->pstore_left = PSTORE_TRIES;
	while (!st->stop) {
		if (!standalone && !st->registered) {
			wdog_pat(st->wdog_fd);
			rc = agent_register(st);
			if (rc) {
				/* --once: each snowd of host_url gets its try (it moved: not round yet). */
				if (st->conf->once &&
				    !(st->wire.moves && st->wire.moves < st->wire.hosts.n))
					break;
				/* Thresholds and devices are watched with the host away too. */
				agent_sample(st);
				agent_state_save(st);
				agent_backoff(st);
				continue;
			}
			next = (long long)clock_mono_ms();
		}
		agent_wait(st, next - (long long)clock_mono_ms());
		if (st->stop)
			break;
		/*
		 * Early (a wake-up, new events, results to send) or on time, a
		 * report is sampled anew and the next one is an interval later:
		 * a command to every node costs the host two reports a node in
		 * the burst, not three (as snow-nodesim, docs/nodesim.md).
		 */
		st->wake = st->results_due = 0;
		/* Schedule from the start, so the request time does not add drift. */
		next = (long long)clock_mono_ms() + st->interval_ms;
		agent_sample(st);
		if (standalone) {
			/* Nobody to acknowledge: what went to --events is delivered. */
			instr_ring_ack(&st->ring, st->ring.next_seq - 1, agent_unix_now());
			rc = 0;
		} else {
			wdog_pat(st->wdog_fd); /* the request may take half the watchdog's time */
			rc = agent_report(st);
			if (st->registered && st->pstore_left > 0)
				agent_pstore(st);
		}
		agent_state_save(st);
		agent_power_due(st);
		if (st->conf->once)
			break;
		if (!standalone && !st->registered)
			agent_backoff(st);
	}
	if (!st->conf->once || st->stop)
		log_info("stopping");
	return st->conf->once ? rc : 0;
}
