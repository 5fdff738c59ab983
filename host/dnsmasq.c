#include "dnsmasq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int dnsmasq_start(struct dnsmasq_child *c)
{
	char confarg[4200];
	int p[2];
	pid_t pid;

	if (c->logfile_fd <= 0) {
		c->logfile_fd = open(c->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (c->logfile_fd < 0)
			return -errno;
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
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(c->bin, c->bin, "--keep-in-foreground", confarg, (char *)NULL);
		fprintf(stderr, "snowd: exec %s: %s\n", c->bin, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (c->logpipe > 0)
		close(c->logpipe);
	c->logpipe = p[0];
	fcntl(c->logpipe, F_SETFL, O_NONBLOCK);
	c->npartial = 0;
	c->pid = pid;
	c->started = time(NULL);
	log_info("dnsmasq: started (pid %d)", (int)pid);
	return 0;
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
