/*
 * dnsmasq as snowd's supervised child: the static config written once at
 * start-up, the dhcp-hostsfile rewritten (atomically) whenever the node list
 * changes and signalled with SIGHUP, and restarts with back-off when it dies.
 */
#ifndef SNOW_DNSMASQ_H
#define SNOW_DNSMASQ_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "inv.h"

struct dnsmasq_params {
	const char *iface;     /* boot interface */
	uint32_t host_ip;      /* snowd's address on it (host order) */
	int prefix;            /* its prefix length */
	const char *base_url;
	const char *hostsfile;
	const char *leasefile;
	const char *tftp_root;
	const char *pidfile;
};

/* The dynamic range (for unknown MACs) and the pool nodes get fixed IPs from. */
void dnsmasq_ranges(uint32_t host_ip, int prefix, uint32_t *pool_first, uint32_t *pool_last,
		    uint32_t *dyn_first, uint32_t *dyn_last);

/* Render the static config.  @ret 0 or -errno with err filled. */
int dnsmasq_render_conf(const struct dnsmasq_params *p, struct buf *out, char *err, size_t errlen);
/* One "MAC,IP,NAME" line per node.  @ret 0 or -errno. */
int dnsmasq_render_hosts(struct inv *inv, struct buf *out);

/* Write data to path through a temporary file and rename().  @ret 0 or -errno. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

struct dnsmasq_child {
	const char *bin;       /* dnsmasq binary */
	const char *conf;      /* its config file */
	const char *logfile;   /* its stderr goes here */
	const char *leasefile; /* created 0600 before it starts (it would make it 0644) */
	const char *pidfile;   /* where dnsmasq writes its pid */
	pid_t pid;             /* the supervisor between us and dnsmasq; 0 when not running */
	int restarts;
	int backoff_s;
	time_t next_start;     /* when to start it again after it died */
	time_t started;
	int logpipe;           /* read end of dnsmasq's stdout/stderr, -1 when none */
	int logfile_fd;        /* where its lines go on */
	char partial[1024];    /* an unfinished line */
	size_t npartial;       /* sizeof(partial): the line under way is too long, dropped */
};

/*
 * Read what dnsmasq wrote (non-blocking), copy it to the log file, and call
 * on_ack(ctx, mac, ip) for each DHCPACK line.
 */
void dnsmasq_read_log(struct dnsmasq_child *c, void (*on_ack)(void *ctx, const char *mac,
							    const char *ip),
		      void *ctx);

/*
 * The line splitting and parsing of dnsmasq_read_log(), on n bytes read
 * (tests/fuzz/dnsmasq_log.c feeds it directly): an unfinished line waits in
 * c->partial for the next bytes; a line too long for it is dropped whole.
 */
void dnsmasq_log_feed(struct dnsmasq_child *c, const char *buf, size_t n,
		      void (*on_ack)(void *ctx, const char *mac, const char *ip), void *ctx);

/*
 * Start dnsmasq in the foreground under a small supervisor process: a fork
 * of snowd that keeps root and PR_SET_PDEATHSIG, forwards SIGHUP and SIGTERM
 * to dnsmasq and exits as it does.  dnsmasq itself cannot hold a parent-death
 * signal: the kernel clears it when dnsmasq drops root for 'nobody'.  So
 * dnsmasq ends with snowd, even when snowd is killed with -9.
 * @ret 0 or -errno.
 */
int dnsmasq_start(struct dnsmasq_child *c);
/*
 * Stop a dnsmasq that outlived an earlier snowd: the pid in c->pidfile, only
 * when /proc says it is c->bin running with our --conf-file (never a
 * stranger that reused the pid).  Waits for it to go.
 * @ret 1 when one was stopped, 0 when there was none of ours.
 */
int dnsmasq_stop_stale(struct dnsmasq_child *c);
/* Tell it a child exited; schedules the restart.  @ret 1 if pid was dnsmasq. */
int dnsmasq_reaped(struct dnsmasq_child *c, pid_t pid, int status, time_t now);
/* Start it again when its back-off has passed. */
void dnsmasq_tick(struct dnsmasq_child *c, time_t now);
/* Make it re-read the hosts file. */
void dnsmasq_reload(struct dnsmasq_child *c);
/*
 * Rewrite the hosts file at path (with mode: dnsmasq re-reads it as
 * 'nobody') from the inventory and make dnsmasq (when running) re-read it.
 * @ret 0 or -errno.
 */
int dnsmasq_sync_hosts(struct dnsmasq_child *c, struct inv *inv, const char *path, mode_t mode);
/* Stop it and wait for it (SIGTERM, then SIGKILL after 3 s). */
void dnsmasq_stop(struct dnsmasq_child *c);

#endif
