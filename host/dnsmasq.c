#include "dnsmasq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "firmware_templates.h"
#include "log.h"
#include "tmpl.h"
#include "valid.h"

void dnsmasq_ranges(uint32_t host_ip, int prefix, uint32_t *pool_first, uint32_t *pool_last,
		    uint32_t *dyn_first, uint32_t *dyn_last)
{
	uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	uint32_t net = host_ip & mask, bcast = net | ~mask, size = bcast - net + 1;

	/* Fixed node addresses in the lower three quarters, discovery above. */
	*pool_first = net + (size >= 64 ? 10 : 2);
	*pool_last = net + size / 4 * 3 - 1;
	*dyn_first = net + size / 4 * 3;
	*dyn_last = bcast - 1;
}

int dnsmasq_render_conf(const struct dnsmasq_params *p, struct buf *out, char *err, size_t errlen)
{
	uint32_t pf, pl, df, dl, mask = p->prefix ? 0xffffffffu << (32 - p->prefix) : 0;
	char dyn_first[16], dyn_last[16], netmask[16];

	dnsmasq_ranges(p->host_ip, p->prefix, &pf, &pl, &df, &dl);
	ipv4_format(df, dyn_first);
	ipv4_format(dl, dyn_last);
	ipv4_format(mask, netmask);
	const struct tmpl_var v[] = {
		{ "iface", p->iface },         { "dyn_first", dyn_first },
		{ "dyn_last", dyn_last },      { "netmask", netmask },
		{ "lease", "1h" },             { "hostsfile", p->hostsfile },
		{ "leasefile", p->leasefile }, { "base", p->base_url },
		{ "tftp_root", p->tftp_root }, { "pidfile", p->pidfile },
	};
	return tmpl_render(fw_dnsmasq_conf, v, sizeof(v) / sizeof(v[0]), out, err, errlen);
}

static int dnsmasq_host_line(void *ctx, const struct inv_node *n)
{
	return buf_printf(ctx, "%s,%s,%s\n", n->mac, n->ip, n->name);
}

int dnsmasq_render_hosts(struct inv *inv, struct buf *out)
{
	int rc = buf_puts(out, "# Written by snowd from its inventory; do not edit.\n");

	return rc ? rc : inv_node_foreach(inv, dnsmasq_host_line, out);
}

int dnsmasq_sync_hosts(struct dnsmasq_child *c, struct inv *inv, const char *path, mode_t mode)
{
	struct buf b = BUF_INIT;
	int rc = dnsmasq_render_hosts(inv, &b);

	if (!rc)
		rc = file_write_atomic(path, b.data, b.len, mode);
	buf_free(&b);
	if (rc)
		return rc;
	dnsmasq_reload(c);
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	const char *p = data;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (!rc && fchmod(fd, mode))
		rc = -errno;
	if (!rc && fsync(fd))
		rc = -errno;
	close(fd);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/*
 * The supervisor (see dnsmasq_start): runs in the forked child, never
 * returns.  Only async-signal-safe calls until the exec: snowd may have
 * threads.
 */
static void dnsmasq_supervise(const char *bin, const char *confarg, pid_t parent, int out)
	__attribute__((noreturn));
static void dnsmasq_supervise(const char *bin, const char *confarg, pid_t parent, int out)
{
	struct timespec grace = { 2, 0 };
	sigset_t set, none;
	int status = 0, sig, stopping = 0;
	pid_t child;

	sigemptyset(&none);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_SETMASK, &set, NULL);
	/* snowd may have died before the prctl: then nobody would send the signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(0);
	dup2(out, 1);
	dup2(out, 2);
	/* Not snowd's sockets, database or pipes: only dnsmasq's output. */
	close_range(3, ~0U, 0);
	child = fork();
	if (child < 0)
		_exit(127);
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(bin, bin, "--keep-in-foreground", confarg, (char *)NULL);
		dprintf(2, "snowd: exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	for (;;) {
		sig = stopping ? sigtimedwait(&set, NULL, &grace) : sigwaitinfo(&set, NULL);
		if (sig < 0 && errno == EAGAIN) {
			/* dnsmasq ignored SIGTERM for the grace period. */
			kill(child, SIGKILL);
			stopping = 0;
		} else if (sig == SIGHUP) {
			kill(child, SIGHUP);
		} else if (sig == SIGTERM || sig == SIGINT) {
			kill(child, SIGTERM);
			stopping = 1;
		} else if (sig == SIGCHLD && waitpid(child, &status, WNOHANG) == child) {
			break;
		}
	}
	/* Exit as dnsmasq did, so snowd's log says what happened to it. */
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		sigprocmask(SIG_SETMASK, &none, NULL);
		raise(WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

int dnsmasq_start(struct dnsmasq_child *c)
{
	char confarg[4200];
	pid_t pid, self = getpid();
	int p[2], fd;

	if (c->logfile_fd <= 0) {
		c->logfile_fd = open(c->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (c->logfile_fd < 0)
			return -errno;
	}
	/* dnsmasq sets umask 022 for its lease file: made first, it stays 0600. */
	if (c->leasefile) {
		fd = open(c->leasefile, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	/* Its output comes to us first: DHCPACK lines are the nodes' first boot stage. */
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	snprintf(confarg, sizeof(confarg), "--conf-file=%s", c->conf);
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0)
		dnsmasq_supervise(c->bin, confarg, self, p[1]);
	close(p[1]);
	if (c->logpipe > 0)
		close(c->logpipe);
	c->logpipe = p[0];
	fcntl(c->logpipe, F_SETFL, O_NONBLOCK);
	c->npartial = 0;
	c->pid = pid;
	c->started = time(NULL);
	log_info("dnsmasq: started (supervisor pid %d)", (int)pid);
	return 0;
}

/* Whether pid is c->bin run with our config (from /proc).  @ret 1 or 0. */
static int dnsmasq_is_ours(const struct dnsmasq_child *c, pid_t pid)
{
	char path[64], exe[4096], bin[4096], cmd[8192], want[4200];
	ssize_t n;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0 || !realpath(c->bin, bin))
		return 0;
	exe[n] = '\0';
	/* A dnsmasq upgraded under it runs a deleted file. */
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';
	if (strcmp(exe, bin))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	cmd[n] = '\0';
	snprintf(want, sizeof(want), "--conf-file=%s", c->conf);
	for (i = 0; i < (size_t)n; i += strlen(cmd + i) + 1)
		if (!strcmp(cmd + i, want))
			return 1;
	return 0;
}

/* Wait up to ms for pid (not our child) to be gone.  @ret 1 when gone. */
static int dnsmasq_wait_gone(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 50) {
		if (kill(pid, 0) && errno == ESRCH)
			return 1;
		usleep(50000);
	}
	return kill(pid, 0) && errno == ESRCH;
}

int dnsmasq_stop_stale(struct dnsmasq_child *c)
{
	char text[32], *end;
	ssize_t n;
	long pid;
	int fd;

	if (!c->pidfile)
		return 0;
	fd = open(c->pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	pid = strtol(text, &end, 10);
	if (pid <= 1 || pid > 4194304 || (*end && *end != '\n') || pid == (long)getpid())
		return 0;
	if (!dnsmasq_is_ours(c, (pid_t)pid)) {
		if (!kill((pid_t)pid, 0))
			log_info("dnsmasq: %s names pid %ld, which is not our dnsmasq: left alone",
				 c->pidfile, pid);
		return 0;
	}
	log_warnx("dnsmasq: pid %ld is a dnsmasq of ours an earlier snowd left running: stopping it",
		  pid);
	kill((pid_t)pid, SIGTERM);
	if (!dnsmasq_wait_gone((pid_t)pid, 3000)) {
		kill((pid_t)pid, SIGKILL);
		if (!dnsmasq_wait_gone((pid_t)pid, 2000))
			log_warnx("dnsmasq: pid %ld does not go away", pid);
	}
	return 1;
}

int dnsmasq_reaped(struct dnsmasq_child *c, pid_t pid, int status, time_t now)
{
	if (!c->pid || pid != c->pid)
		return 0;
	c->pid = 0;
	c->restarts++;
	/* Back off 1, 2, 4 ... 30 s so a broken config does not spin. */
	c->backoff_s = c->backoff_s ? (c->backoff_s * 2 > 30 ? 30 : c->backoff_s * 2) : 1;
	c->next_start = now + c->backoff_s;
	if (WIFEXITED(status))
		log_warnx("dnsmasq: exited with status %d (see %s); restart in %d s",
			  WEXITSTATUS(status), c->logfile, c->backoff_s);
	else
		log_warnx("dnsmasq: killed by signal %d; restart in %d s", WTERMSIG(status),
			  c->backoff_s);
	return 1;
}

void dnsmasq_tick(struct dnsmasq_child *c, time_t now)
{
	/* A minute up means the last failure is behind us. */
	if (c->pid && c->backoff_s && now - c->started > 60)
		c->backoff_s = 0;
	if (c->pid || !c->next_start || now < c->next_start)
		return;
	c->next_start = 0;
	if (dnsmasq_start(c))
		log_warn("dnsmasq: cannot start %s", c->bin);
}

/* "dnsmasq-dhcp[1]: 123 DHCPACK(br0) 10.77.0.11 52:54:00:4d:00:01 node1" */
static void dnsmasq_parse_line(const char *line, void (*on_ack)(void *, const char *, const char *),
			       void *ctx)
{
	const char *p = strstr(line, " DHCPACK(");
	char ip[16], mac[18];

	if (!p || !(p = strchr(p, ')')))
		return;
	if (sscanf(p + 1, " %15s %17s", ip, mac) == 2)
		on_ack(ctx, mac, ip);
}

void dnsmasq_log_feed(struct dnsmasq_child *c, const char *buf, size_t n,
		      void (*on_ack)(void *ctx, const char *mac, const char *ip), void *ctx)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (buf[i] != '\n')
			continue;
		size_t len = i - start;
		/* A line longer than partial[] (npartial at its size) is dropped whole. */
		if (c->npartial + len < sizeof(c->partial)) {
			memcpy(c->partial + c->npartial, buf + start, len);
			c->partial[c->npartial + len] = '\0';
			dnsmasq_parse_line(c->partial, on_ack, ctx);
		}
		c->npartial = 0;
		start = i + 1;
	}
	if (start < n) {
		if (c->npartial + (n - start) < sizeof(c->partial)) {
			memcpy(c->partial + c->npartial, buf + start, n - start);
			c->npartial += n - start;
		} else {
			/* Too long: not its head glued to the tail of a later read. */
			c->npartial = sizeof(c->partial);
		}
	}
}

void dnsmasq_read_log(struct dnsmasq_child *c, void (*on_ack)(void *ctx, const char *mac,
							    const char *ip),
		      void *ctx)
{
	char buf[4096];
	ssize_t n;

	if (c->logpipe <= 0)
		return;
	while ((n = read(c->logpipe, buf, sizeof(buf))) > 0) {
		if (write(c->logfile_fd, buf, (size_t)n) < 0) {
			/* A full disk must not stop the boot server. */
		}
		dnsmasq_log_feed(c, buf, (size_t)n, on_ack, ctx);
	}
	if (n == 0) {
		/* dnsmasq is gone; the next start opens a new pipe. */
		close(c->logpipe);
		c->logpipe = -1;
	}
}

void dnsmasq_reload(struct dnsmasq_child *c)
{
	if (c->pid && kill(c->pid, SIGHUP))
		log_warn("dnsmasq: SIGHUP");
}

void dnsmasq_stop(struct dnsmasq_child *c)
{
	int status, i;

	if (!c->pid)
		return;
	kill(c->pid, SIGTERM);
	for (i = 0; i < 30; i++) {
		if (waitpid(c->pid, &status, WNOHANG) == c->pid)
			goto out;
		usleep(100000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &status, 0);
out:
	log_info("dnsmasq: stopped");
	if (c->logpipe > 0) {
		close(c->logpipe);
		c->logpipe = -1;
	}
	c->pid = 0;
	c->next_start = 0;
}
