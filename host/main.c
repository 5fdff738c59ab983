/*
 * snowd: the host daemon.  One poll loop drives the HTTP server
 * (libmicrohttpd in external-epoll mode), the signal self-pipe, dnsmasq's
 * supervision and the node timers; everything shares one thread and one
 * struct snowd.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <microhttpd.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "authq.h"
#include "bmc.h"
#include "chan.h"
#include "clock.h"
#include "conf.h"
#include "db.h"
#include "http.h"
#include "klog.h"
#include "klog_crash.h"
#include "log.h"
#include "nodes.h"
#include "wake.h"
#include "notify.h"
#include "overlay.h"
#include "peer.h"
#include "peernet.h"
#include "power.h"
#include "qmpev.h"
#include "route.h"
#include "selfpipe.h"
#include "snowd.h"
#include "stream.h"
#include "valid.h"

#define OPT(n, s, t, f, lo, hi, a, h) { n, s, t, offsetof(struct snowd_config, f), lo, hi, a, h }
static const struct conf_option snowd_options[] = {
	OPT("config", 'c', CONF_STR, config, 0, 0, "FILE", "read options from FILE (key = value)"),
	OPT("state-dir", 'd', CONF_STR, state_dir, 0, 0, "DIR",
	    "database, dnsmasq files, tokens (default /var/lib/snow)"),
	OPT("db", 0, CONF_STR, db, 0, 0, "URL",
	    "the inventory's database: postgresql://USER@HOST/DB (or ?host=/socket/dir) to share "
	    "one with other snowd, or a SQLite file (default STATE/snow.db)"),
	OPT("listen", 'l', CONF_STR, listen, 0, 0, "ADDR:PORT",
	    "HTTP address for API and boot (default 0.0.0.0:8080)"),
	OPT("tls-cert", 0, CONF_STR, tls_cert, 0, 0, "PEM",
	    "certificate (chain) for HTTPS; with --tls-key turns HTTPS on"),
	OPT("tls-key", 0, CONF_STR, tls_key, 0, 0, "PEM", "private key for HTTPS"),
	OPT("tls-listen", 0, CONF_STR, tls_listen, 0, 0, "ADDR:PORT",
	    "HTTPS address for API and console (default 0.0.0.0:8443)"),
	OPT("plain-api", 0, CONF_BOOL, plain_api, 0, 0, NULL,
	    "with HTTPS on, also serve the API and console on plain HTTP (default: plain HTTP "
	    "serves only boot files and the signed node channel)"),
	OPT("boot-if", 'i', CONF_STR, boot_if, 0, 0, "IFACE", "boot interface dnsmasq serves"),
	OPT("boot-addr", 'a', CONF_STR, boot_addr, 0, 0, "IP/PREFIX",
	    "snowd's address on the boot interface, e.g. 10.77.0.1/24"),
	OPT("allow-dir", 0, CONF_STR, allow_dir, 0, 0, "DIRS",
	    "folders (':' between) whose files an admin may name: console logs, images to add, "
	    "BMC password files (default STATE:IMAGE-DIR)"),
	OPT("image-dir", 0, CONF_STR, image_dir, 0, 0, "DIR",
	    "images, one folder each with vmlinuz and initrd (default STATE/images)"),
	OPT("web-dir", 0, CONF_STR, web_dir, 0, 0, "DIR",
	    "the web console's files (default: share/snow/web beside the binary's folder)"),
	OPT("dnsmasq", 0, CONF_STR, dnsmasq, 0, 0, "PATH",
	    "dnsmasq binary, or 'none' to run without DHCP/TFTP (default /usr/sbin/dnsmasq)"),
	OPT("ipmitool", 0, CONF_STR, ipmitool, 0, 0, "PATH",
	    "ipmitool for the ipmi power driver (default ipmitool, from PATH)"),
	OPT("cmdline", 0, CONF_STR, cmdline, 0, 0, "ARGS", "kernel arguments for every node"),
	OPT("authorized-keys", 0, CONF_STR, authorized_keys, 0, 0, "FILE",
	    "the admin's SSH public keys, root's authorized_keys on whole-system images "
	    "(default STATE/authorized_keys when it exists)"),
	OPT("overlay-dir", 0, CONF_STR, overlay_dir, 0, 0, "DIR",
	    "the admin's templates for whole-system nodes' overlays, one file per file of the "
	    "node, {{name}} {{mac}} {{ip}} {{image}} {{profile}} {{host_url}} "
	    "(default /etc/snow/overlay.d; read again on SIGHUP)"),
	OPT("interval-ms", 0, CONF_INT, interval_ms, 200, 3600000, "MS",
	    "how often agents report (default 2000)"),
	OPT("offline-after-ms", 0, CONF_INT, offline_after_ms, 500, 86400000, "MS",
	    "a node without a report this long is offline (default 3 intervals + 2 s)"),
	OPT("max-conn-per-ip", 0, CONF_INT, max_conn_per_ip, 1, 100000, "N",
	    "connections one client address may hold (default 256; at most a quarter of all)"),
	OPT("body-budget", 0, CONF_INT, body_budget, 64 << 10, 1L << 30, "BYTES",
	    "request bodies buffered at once, all clients together; more get 503 (default 16 MiB)"),
	OPT("max-body", 0, CONF_INT, max_body, 1024, 64 << 20, "BYTES",
	    "largest request body accepted (default 1 MiB)"),
	OPT("command-timeout", 0, CONF_INT, command_timeout_s, 5, 86400, "S",
	    "a command without a result this long is timed out (default 300)"),
	OPT("routes", 0, CONF_BOOL, print_routes, 0, 0, NULL,
	    "print the route table (method, path, lowest role, body limit) and exit"),
	OPT("discovered-max", 0, CONF_INT, discovered_max, 16, 100000, "N",
	    "unknown MACs kept in the discovered list; the least recently seen go (default 1024)"),
	OPT("discovery-rate", 0, CONF_INT, discovery_rate, 1, 60000, "N",
	    "new unknown MACs recorded a minute; more are not recorded, they ask again (default 600)"),
	OPT("events-keep", 0, CONF_INT, events_keep, 0, 1000000000, "N",
	    "node events kept, the newest (0: no limit; default 1000000)"),
	OPT("events-keep-days", 0, CONF_INT, events_keep_days, 0, 36500, "DAYS",
	    "node events kept at most this long (0: no limit; default 90)"),
	OPT("boots-keep", 0, CONF_INT, boots_keep, 0, 1000000000, "N",
	    "boot history rows kept, the newest (0: no limit; default 100000)"),
	OPT("boots-keep-days", 0, CONF_INT, boots_keep_days, 0, 36500, "DAYS",
	    "boot history kept at most this long (0: no limit; default 365)"),
	OPT("commands-keep", 0, CONF_INT, commands_keep, 0, 1000000000, "N",
	    "finished commands kept, the newest (0: no limit; default 100000)"),
	OPT("commands-keep-days", 0, CONF_INT, commands_keep_days, 0, 36500, "DAYS",
	    "finished commands kept at most this long (0: no limit; default 90)"),
	OPT("klog-listen", 0, CONF_STR, klog_listen, 0, 0, "ADDR:PORT",
	    "UDP address nodes send their kernel log to by netconsole, or 'none' (default: "
	    "--listen's address and port, over UDP; nodes get boot-addr and this port)"),
	OPT("klog-rate", 0, CONF_INT, klog_rate, 10, 100000, "N",
	    "netconsole datagrams a second one node may send, in bursts of twice that; more "
	    "are dropped and counted (default 500)"),
	OPT("klog-boot-max", 0, CONF_INT, klog_boot_max, 16 << 10, 1L << 30, "BYTES",
	    "kernel log kept of one boot; past it the older part is rotated to BOOT.log.1 "
	    "(default 1 MiB)"),
	OPT("klog-boots-keep", 0, CONF_INT, klog_boots_keep, 1, 100000, "N",
	    "boots whose kernel log is kept, per node, the newest (default 20)"),
	OPT("check-config", 'n', CONF_BOOL, check_config, 0, 0, NULL,
	    "check the configuration (and dnsmasq's) and exit"),
	OPT("verbose", 'v', CONF_BOOL, verbose, 0, 0, NULL, "log debug messages"),
	{ 0 },
};
/* Actions, not settings: /etc/snow/snowd.conf (snowd --conf-doc=file) leaves them out. */
static const char *const snowd_cmdline_only[] = { "config", "routes", "check-config", NULL };

static int snowd_defaults(struct snowd_config *c)
{
	c->state_dir = strdup("/var/lib/snow");
	c->listen = strdup("0.0.0.0:8080");
	c->tls_listen = strdup("0.0.0.0:8443");
	c->dnsmasq = strdup("/usr/sbin/dnsmasq");
	c->ipmitool = strdup("ipmitool");
	c->cmdline = strdup("console=ttyS0,115200 loglevel=4 panic=10");
	c->interval_ms = 2000;
	c->offline_after_ms = 0;
	c->max_body = 1 << 20;
	c->max_conn_per_ip = 256;
	c->body_budget = 16 << 20;
	c->command_timeout_s = 300;
	c->discovered_max = 1024;
	c->discovery_rate = 600;
	c->events_keep = 1000000;
	c->events_keep_days = 90;
	c->boots_keep = 100000;
	c->boots_keep_days = 365;
	c->commands_keep = 100000;
	c->commands_keep_days = 90;
	c->klog_rate = 500;
	c->klog_boot_max = 1 << 20;
	c->klog_boots_keep = 20;
	return (c->state_dir && c->listen && c->dnsmasq && c->cmdline) ? 0 : -ENOMEM;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: snowd [OPTIONS]\n\nThe Snow host daemon: inventory, boot server, "
		   "node channel and REST API.\n\n");
	conf_usage(f, snowd_options);
}

/* Check options and derive what depends on them.  @ret 0 or -EINVAL. */
static int snowd_configure(struct snowd *sd, char *err, size_t errlen)
{
	struct snowd_config *c = &sd->cfg;
	char *slash, addr[32], msg[200];
	const char *port;
	long prefix;

	if (!c->boot_addr) {
		snprintf(err, errlen, "boot-addr: required (e.g. --boot-addr 10.77.0.1/24)");
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "%s", c->boot_addr);
	slash = strchr(addr, '/');
	if (!slash) {
		snprintf(err, errlen, "boot-addr: '%s' needs a prefix length, e.g. /24", c->boot_addr);
		return -EINVAL;
	}
	*slash = '\0';
	prefix = strtol(slash + 1, NULL, 10);
	if (valid_ipv4(addr, &sd->boot_ip, msg, sizeof(msg))) {
		snprintf(err, errlen, "boot-addr: %s", msg);
		return -EINVAL;
	}
	if (prefix < 8 || prefix > 29 || strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
		snprintf(err, errlen, "boot-addr: prefix /%s must be 8..29", slash + 1);
		return -EINVAL;
	}
	sd->boot_prefix = (int)prefix;
	port = strrchr(c->listen, ':');
	if (!port) {
		snprintf(err, errlen, "listen: '%s' is not ADDR:PORT", c->listen);
		return -EINVAL;
	}
	snprintf(sd->base_url, sizeof(sd->base_url), "http://%s:%s", addr, port + 1);
	if (strcmp(c->dnsmasq, "none") && !c->boot_if) {
		snprintf(err, errlen, "boot-if: required when dnsmasq runs (or --dnsmasq none)");
		return -EINVAL;
	}
	if (strcmp(c->dnsmasq, "none") && access(c->dnsmasq, X_OK)) {
		snprintf(err, errlen, "dnsmasq: %s is not executable (apt-get install dnsmasq-base)",
			 c->dnsmasq);
		return -EINVAL;
	}
	if (!c->web_dir) {
		char exe[4096], p[4200];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		/* build/bin/snowd -> build/share/snow/web (and /usr/bin -> /usr/share). */
		snprintf(p, sizeof(p), "%s/../share/snow/web", n > 0 ? dirname(exe) : ".");
		c->web_dir = strdup(p);
		if (!c->web_dir)
			return -ENOMEM;
	}
	if (!c->offline_after_ms)
		c->offline_after_ms = 3 * c->interval_ms + 2000;
	if (!c->klog_listen) {
		c->klog_listen = strdup(c->listen); /* the same ADDR:PORT, over UDP */
		if (!c->klog_listen)
			return -ENOMEM;
	}
	if (strcmp(c->klog_listen, "none")) {
		const char *kp = strrchr(c->klog_listen, ':');
		long kport = kp ? strtol(kp + 1, NULL, 10) : 0;
		if (kport < 1 || kport > 65535) {
			snprintf(err, errlen, "klog-listen: '%s' is not ADDR:PORT (or none)", c->klog_listen);
			return -EINVAL;
		}
		sd->boot.klog_port = (int)kport;
		snprintf(sd->klog_host, sizeof(sd->klog_host), "%s", addr);
		sd->boot.klog_host = sd->klog_host;
		klog_target_refresh(sd);
	}
	if (!c->image_dir) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/images", c->state_dir);
		c->image_dir = strdup(p);
		if (!c->image_dir)
			return -ENOMEM;
	}
	if (!c->allow_dir) {
		char p[8400];
		snprintf(p, sizeof(p), "%s:%s", c->state_dir, c->image_dir);
		c->allow_dir = strdup(p);
		if (!c->allow_dir)
			return -ENOMEM;
	}
#define SPATH(field, name) snprintf(sd->field, sizeof(sd->field), "%s/%s", c->state_dir, name)
	if (c->db && *c->db)
		snprintf(sd->path_db, sizeof(sd->path_db), "%s", c->db);
	else
		SPATH(path_db, "snow.db");
	SPATH(path_hosts, "dhcp-hosts");
	SPATH(path_leases, "dnsmasq.leases");
	SPATH(path_dnsconf, "dnsmasq.conf");
	SPATH(path_tftp, "tftp");
	SPATH(path_dnslog, "dnsmasq.log");
	SPATH(path_token, "admin.token");
	SPATH(path_dnspid, "dnsmasq.pid");
#undef SPATH
	/* What a node gets when neither it nor its profile says otherwise. */
	sd->defaults = json_pack("{s:s, s:s, s:{}, s:[], s:I, s:{s:s}, s:[]}", "image", "default",
				 "cmdline", "", "env", "thresholds", "interval_ms",
				 (json_int_t)c->interval_ms, "power", "driver", "agent", "groups");
	if (!sd->defaults)
		return -ENOMEM;
	sd->boot.base_url = sd->base_url;
	sd->boot.cmdline = c->cmdline;
	sd->boot.interval_ms = (int)c->interval_ms;
	sd->boot.unknown_retry_s = 10;
	/* Per-node SSH host keys are kept in the state folder (boot.h). */
	snprintf(sd->path_ssh, sizeof(sd->path_ssh), "%s/ssh", c->state_dir);
	if (!c->authorized_keys) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/authorized_keys", c->state_dir);
		c->authorized_keys = strdup(p);
		if (!c->authorized_keys)
			return -ENOMEM;
	}
	sd->boot.ssh_dir = sd->path_ssh;
	sd->boot.authorized_keys = c->authorized_keys;
	if (!c->overlay_dir) {
		c->overlay_dir = strdup("/etc/snow/overlay.d");
		if (!c->overlay_dir)
			return -ENOMEM;
	}
	{
		int rc = overlay_load(c->overlay_dir, &sd->tmpls, err, errlen);
		if (rc)
			return rc;
		if (sd->tmpls.n)
			log_info("overlay: %zu templates from %s", sd->tmpls.n, c->overlay_dir);
	}
	sd->dparams.iface = c->boot_if ? c->boot_if : "none";
	sd->dparams.host_ip = sd->boot_ip;
	sd->dparams.prefix = sd->boot_prefix;
	sd->dparams.base_url = sd->base_url;
	sd->dparams.hostsfile = sd->path_hosts;
	sd->dparams.leasefile = sd->path_leases;
	sd->dparams.tftp_root = sd->path_tftp;
	sd->dparams.pidfile = sd->path_dnspid;
	sd->dnsmasq.bin = c->dnsmasq;
	sd->dnsmasq.conf = sd->path_dnsconf;
	sd->dnsmasq.logfile = sd->path_dnslog;
	sd->dnsmasq.leasefile = sd->path_leases;
	sd->dnsmasq.pidfile = sd->path_dnspid;
	return 0;
}

/*
 * Started by root, dnsmasq drops root for "nobody", and then still reads the
 * hosts file (on SIGHUP) and serves the TFTP folder: every folder above them
 * must be searchable by others.  Say so now rather than let it crash-loop.
 * (Started by another user, as the systemd unit does, it stays that user.)
 * @ret 0 or -EACCES with err naming the folder.
 */
static int snowd_check_dnsmasq_access(struct snowd *sd, char *err, size_t errlen)
{
	char path[4096], *p;
	struct stat st;

	if (!realpath(sd->cfg.state_dir, path)) {
		snprintf(err, errlen, "state-dir: %s: %s", sd->cfg.state_dir, strerror(errno));
		return -errno;
	}
	for (p = path + strlen(path); p > path; p = strrchr(path, '/')) {
		*p = '\0';
		if (stat(*path ? path : "/", &st) == 0 && !(st.st_mode & S_IXOTH)) {
			snprintf(err, errlen,
				 "state-dir: dnsmasq runs as 'nobody' and cannot reach %.200s/ "
				 "(mode %03o): chmod o+x %.200s, or pick another --state-dir",
				 *path ? path : "", (unsigned)(st.st_mode & 0777), *path ? path : "/");
			return -EACCES;
		}
	}
	return 0;
}

/*
 * Everything snowd writes is its own: files are 0600 (umask 077 from the
 * start of main), the state dir 0700, or 0711 when dnsmasq runs (it drops
 * root for 'nobody' and must reach dhcp-hosts and tftp/ by name, which it
 * can without listing the folder).  What an older snowd left looser (0644
 * WAL files hold node secrets) is tightened, with a log line.
 */
static void snowd_state_dir(struct snowd *sd)
{
	static const char *const own[] = { "snow.db", "snow.db-wal", "snow.db-shm", "admin.token",
					   "dnsmasq.conf", "dnsmasq.log", "dnsmasq.leases" };
	const char *dir = sd->cfg.state_dir;
	mode_t want = strcmp(sd->cfg.dnsmasq, "none") ? 0711 : 0700;
	struct stat st;
	char p[4400];
	size_t i;

	if (mkdir(dir, want) && errno != EEXIST)
		fatal("state-dir: %s", dir);
	if (stat(dir, &st))
		fatal("state-dir: %s", dir);
	if (!S_ISDIR(st.st_mode))
		fatalx("state-dir: %s is not a folder", dir);
	if ((st.st_mode & 07777) != want) {
		if (chmod(dir, want))
			fatal("state-dir: chmod %s", dir);
		if (st.st_mode & 07777 & ~want)
			log_info("state-dir: %s was mode %04o, now %04o: it holds node secrets", dir,
				 (unsigned)(st.st_mode & 07777), (unsigned)want);
	}
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, own[i]);
		if (lstat(p, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & 077))
			continue;
		if (chmod(p, 0600))
			fatal("state-dir: chmod %s", p);
		log_info("state-dir: %s was mode %04o, now 0600", p, (unsigned)(st.st_mode & 07777));
	}
}

/* The TFTP folder holds Debian's iPXE builds for PXE ROMs that are not iPXE. */
static int snowd_tftp_root(struct snowd *sd)
{
	static const char *const files[] = { "undionly.kpxe", "ipxe.efi", "snponly.efi" };
	char link[4300], target[256];
	size_t i;

	/* dnsmasq serves it as 'nobody'; the links lead to public files. */
	if ((mkdir(sd->path_tftp, 0755) && errno != EEXIST) || chmod(sd->path_tftp, 0755))
		return -errno;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(link, sizeof(link), "%s/%s", sd->path_tftp, files[i]);
		snprintf(target, sizeof(target), "/usr/lib/ipxe/%s", files[i]);
		unlink(link);
		if (access(target, R_OK)) {
			log_warnx("tftp: %s missing (apt-get install ipxe): PXE ROMs cannot boot",
				  target);
			continue;
		}
		if (symlink(target, link))
			return -errno;
	}
	return 0;
}

static int snowd_write_dnsmasq_conf(struct snowd *sd, const char *path, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	int rc = dnsmasq_render_conf(&sd->dparams, &b, err, errlen);

	/* dnsmasq reads it as root, before it drops to 'nobody'. */
	if (!rc && (rc = file_write_atomic(path, b.data, b.len, 0600)))
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	buf_free(&b);
	return rc;
}

/* --check-config: options, then dnsmasq's own check of the config we write. */
static int snowd_check(struct snowd *sd)
{
	char tmp[] = "/tmp/snowd-check-XXXXXX", err[512], cmd[8400];
	int fd, rc = 0;

	if (strcmp(sd->cfg.dnsmasq, "none")) {
		fd = mkstemp(tmp);
		if (fd < 0)
			fatal("mkstemp");
		close(fd);
		if (snowd_write_dnsmasq_conf(sd, tmp, err, sizeof(err))) {
			fprintf(stderr, "snowd: %s\n", err);
			rc = 1;
		} else {
			snprintf(cmd, sizeof(cmd), "'%s' --test --conf-file='%s' 2>&1", sd->cfg.dnsmasq,
				 tmp);
			if (system(cmd)) {
				fprintf(stderr, "snowd: dnsmasq rejects the generated configuration\n");
				rc = 1;
			}
		}
		unlink(tmp);
	}
	/* A database server is checked now: its URL, that it answers, and the credentials. */
	if (db_is_url(sd->path_db)) {
		struct db *db;
		char id[PEERNET_ID_LEN + 1];
		if (db_open(&db, sd->path_db, err, sizeof(err))) {
			fprintf(stderr, "snowd: %s\n", err);
			rc = 1;
		} else {
			/* And that no other live snowd serves this boot network (peernet.h). */
			if (peernet_id(sd->cfg.state_dir, 0, id) ||
			    peernet_check(db, id, sd->boot_ip, sd->boot_prefix, err, sizeof(err))) {
				fprintf(stderr, "snowd: %s\n", err);
				rc = 1;
			}
			db_close(db);
		}
	}
	if (!rc)
		printf("snowd: configuration OK (boot URL %s)\n", sd->base_url);
	return rc;
}

static void snowd_admin_token(struct snowd *sd)
{
	char token[72];
	int n = inv_token_count(&sd->inv), rc;

	if (n != 0)
		return;
	rc = inv_token_create(&sd->inv, "admin", ROLE_ADMIN, token);
	if (rc == -EEXIST) {
		/* Another snowd on the same database made it a moment ago: its folder has the file. */
		log_info("another snowd created the first admin API token");
		return;
	}
	if (rc)
		fatalx("cannot create the first admin token: %s", strcpy(token, "inventory error"));
	strcat(token, "\n");
	rc = file_write_atomic(sd->path_token, token, strlen(token), 0600);
	explicit_bzero(token, sizeof(token));
	if (rc)
		fatalx("%s: %s", sd->path_token, strerror(-rc));
	log_info("created the first admin API token in %s", sd->path_token);
}

/*
 * SIGHUP: read the config file (and the command line over it) again, apply
 * what can change while running, and name what needs a restart.
 */
static void snowd_reload(struct snowd *sd)
{
	static const char *const fixed[] = { "state-dir", "listen", "boot-if", "boot-addr", "overlay-dir",
					     "image-dir", "web-dir", "dnsmasq", "tls-cert",
					     "tls-key", "tls-listen", NULL };
	struct snowd_config n = { 0 };
	const struct conf_option *o;
	char err[512];
	int next, i;

	if (!sd->cfg.config) {
		log_info("SIGHUP: no --config file to read again");
		return;
	}
	notify_send("RELOADING=1");
	if (snowd_defaults(&n) ||
	    conf_parse_args(snowd_options, &n, sd->argc, sd->argv, &next, err, sizeof(err)) ||
	    conf_parse_file(snowd_options, &n, sd->cfg.config, NULL, NULL, err, sizeof(err)) ||
	    conf_parse_args(snowd_options, &n, sd->argc, sd->argv, &next, err, sizeof(err))) {
		log_warnx("SIGHUP: %s; nothing changed", err);
		goto out;
	}
	for (i = 0; fixed[i]; i++) {
		for (o = snowd_options; o->name && strcmp(o->name, fixed[i]); o++)
			;
		const char *a = *(char **)((char *)&sd->cfg + o->offset);
		const char *b = *(char **)((char *)&n + o->offset);
		if ((a || b) && (!a || !b || strcmp(a, b)))
			log_warnx("SIGHUP: %s changed: it takes a restart of snowd", fixed[i]);
	}
	sd->cfg.interval_ms = n.interval_ms;
	sd->cfg.offline_after_ms = n.offline_after_ms ? n.offline_after_ms : 3 * n.interval_ms + 2000;
	sd->cfg.command_timeout_s = n.command_timeout_s;
	sd->cfg.max_body = n.max_body;
	sd->cfg.verbose = n.verbose;
	sd->cfg.discovered_max = n.discovered_max;
	sd->cfg.discovery_rate = n.discovery_rate;
	sd->cfg.events_keep = n.events_keep;
	sd->cfg.events_keep_days = n.events_keep_days;
	sd->cfg.boots_keep = n.boots_keep;
	sd->cfg.boots_keep_days = n.boots_keep_days;
	sd->cfg.commands_keep = n.commands_keep;
	sd->cfg.commands_keep_days = n.commands_keep_days;
	sd->cfg.klog_rate = n.klog_rate;
	sd->cfg.klog_boot_max = n.klog_boot_max;
	sd->cfg.klog_boots_keep = n.klog_boots_keep;
	nodes_limits(sd);
	log_set_level(n.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (strcmp(n.cmdline, sd->cfg.cmdline)) {
		char *t = sd->cfg.cmdline;
		sd->cfg.cmdline = n.cmdline;
		n.cmdline = t;
	}
	sd->boot.cmdline = sd->cfg.cmdline;
	sd->boot.interval_ms = (int)sd->cfg.interval_ms;
	json_object_set_new(sd->defaults, "interval_ms", json_integer(sd->cfg.interval_ms));
	/* The admin's templates again: a bad one keeps the ones read before. */
	{
		struct overlay_set t = { 0 };
		if (overlay_load(sd->cfg.overlay_dir, &t, err, sizeof(err))) {
			log_warnx("SIGHUP: %s; the templates read before stay", err);
		} else {
			overlay_free(&sd->tmpls);
			sd->tmpls = t;
		}
	}
	/* Scripts and overlays from now on carry the new values. */
	sd->settings_gen++;
	log_info("SIGHUP: %s read again (interval %ld ms, offline after %ld ms)", sd->cfg.config,
		 sd->cfg.interval_ms, sd->cfg.offline_after_ms);
out:
	notify_send("READY=1");
	conf_free(snowd_options, &n);
}

static void snowd_signals(struct snowd *sd)
{
	int status, sig;
	pid_t pid;

	while ((sig = selfpipe_next(&sd->sig)) > 0) {
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: shutting down", sig);
			sd->quit = 1;
			break;
		case SIGHUP:
			snowd_reload(sd);
			if (dnsmasq_sync_hosts(&sd->dnsmasq, &sd->inv, sd->path_hosts, snowd_hosts_mode(sd)))
				log_warnx("dnsmasq: hosts file not updated");
			break;
		case SIGCHLD:
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				if (!dnsmasq_reaped(&sd->dnsmasq, pid, status, time(NULL)) &&
				    !bmc_reaped(sd, pid, status))
					power_reaped(sd, pid, status);
			break;
		}
	}
}

/* dnsmasq acknowledged a lease: for a known node, its first boot stage. */
static void snowd_dhcp_ack(void *ctx, const char *mac, const char *ip)
{
	struct snowd *sd = ctx;
	char canon[SNOW_MAC_STRLEN + 1];
	struct inv_node n;

	if (valid_mac(mac, canon, NULL, 0) || inv_node_get_by_mac(&sd->inv, canon, &n))
		return;
	log_debug("dhcp: %s leased %s", n.name, ip);
	nodes_stage(sd, &n, "dhcp");
}

static void snowd_loop(struct snowd *sd)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(sd->httpd, MHD_DAEMON_INFO_EPOLL_FD);
	const union MHD_DaemonInfo *dt =
		sd->httpsd ? MHD_get_daemon_info(sd->httpsd, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	int64_t next_tick = 0;
	int again = 0, i;

	if (!di || (sd->httpsd && !dt))
		fatalx("http: no epoll descriptor");
	while (!sd->quit) {
		struct pollfd p[9] = { { .fd = di->epoll_fd, .events = POLLIN },
				       { .fd = sd->sig.rfd, .events = POLLIN },
				       { .fd = sd->dnsmasq.logpipe > 0 ? sd->dnsmasq.logpipe : -1,
					 .events = POLLIN },
				       { .fd = dt ? dt->epoll_fd : -1, .events = POLLIN },
				       { .fd = power_fd(sd->power), .events = POLLIN },
				       { .fd = authq_fd(sd->authq), .events = POLLIN },
				       { .fd = klog_fd(sd->klog), .events = POLLIN },
				       { .fd = qmpev_fd(sd->qmpev), .events = POLLIN },
				       { .fd = peer_fd(sd), .events = POLLIN } };
		MHD_UNSIGNED_LONG_LONG mto;
		int timeout = again ? 0 : 1000, pto = power_timeout_ms(sd->power, clock_mono_ms());
		int64_t now;

		if (MHD_get_timeout(sd->httpd, &mto) == MHD_YES && mto < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mto;
		if (sd->httpsd && MHD_get_timeout(sd->httpsd, &mto) == MHD_YES &&
		    mto < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mto;
		if (pto >= 0 && pto < timeout)
			timeout = pto;
		if (poll(p, 9, timeout) < 0 && errno != EINTR)
			fatal("poll");
		if (p[1].revents & POLLIN)
			snowd_signals(sd);
		if (p[2].revents)
			dnsmasq_read_log(&sd->dnsmasq, snowd_dhcp_ack, sd);
		if (p[5].revents)
			authq_poll(sd->authq); /* checked passwords: their logins answer */
		if (p[6].revents)
			klog_input(sd);
		if (p[7].revents)
			qmpev_input(sd);
		/* Every turn: QMP answers in, power deadlines kept, other snowd's news read. */
		power_poll(sd);
		peer_poll(sd);
		MHD_run(sd->httpd);
		if (sd->httpsd)
			MHD_run(sd->httpsd);
		/*
		 * The pass's node requests: their writes committed at once, then
		 * their answers in another pass (a resumed connection does not
		 * wake the poll), which may bring more; the last ones resumed
		 * go out in the next turn, which then does not wait.
		 */
		for (i = 0; sd->held && i < 4; i++) {
			chan_commit(sd);
			MHD_run(sd->httpd);
			if (sd->httpsd)
				MHD_run(sd->httpsd);
		}
		again = sd->held != NULL;
		chan_commit(sd);
		now = clock_mono_ms();
		if (now >= next_tick) {
			nodes_tick(sd);
			peer_tick(sd);
			klog_crash_tick(sd);
			qmpev_tick(sd);
			bmc_tick(sd);
			if (now >= sd->next_expire) {
				int n = inv_cmd_expire(&sd->inv, (int64_t)time(NULL),
						       sd->cfg.command_timeout_s);
				if (n > 0)
					log_warnx("commands: %d timed out without a result", n);
				sd->next_expire = now + 10000;
			}
			dnsmasq_tick(&sd->dnsmasq, time(NULL));
			stream_flush(&sd->stream);
			http_tick(sd);
			next_tick = now + 500;
		}
	}
}

/* The route table as the rows of docs/api.md's generated table. */
static int snowd_print_routes(void)
{
	size_t i, n;
	const struct route *r = route_table(&n);

	for (i = 0; i < n; i++) {
		printf("| `%s %s` | %s | ", r[i].method, r[i].pattern, route_access_name(r[i].access));
		if (r[i].max_body)
			printf("%zu KiB", r[i].max_body / 1024);
		printf(" | %s |\n", r[i].doc);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct snowd sd = { 0 };
	char err[512];
	int next, rc, i;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };

	/* Before anything is opened: SQLite's -wal and -shm hold node secrets too. */
	umask(077);
	log_init("snowd", LOG_LVL_INFO);
	if ((rc = conf_early(snowd_options, snowd_cmdline_only, "snowd", argc, argv)))
		return rc < 0 ? 2 : 0;
	sd.argc = argc;
	sd.argv = argv;
	if (snowd_defaults(&sd.cfg))
		fatalx("out of memory");
	rc = conf_parse_args(snowd_options, &sd.cfg, argc, argv, &next, err, sizeof(err));
	if (rc == -ECANCELED) {
		usage(stdout);
		return 0;
	}
	if (rc)
		fatalx("%s", err);
	if (next < argc)
		fatalx("unexpected argument '%s' (try --help)", argv[next]);
	if (sd.cfg.config) {
		/* The file first, then the command line again so it wins. */
		if (conf_parse_file(snowd_options, &sd.cfg, sd.cfg.config, NULL, NULL, err,
				    sizeof(err)))
			fatalx("%s", err);
		conf_parse_args(snowd_options, &sd.cfg, argc, argv, &next, err, sizeof(err));
	}
	if (sd.cfg.print_routes) {
		conf_free(snowd_options, &sd.cfg);
		return snowd_print_routes();
	}
	if (sd.cfg.verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (snowd_configure(&sd, err, sizeof(err)))
		fatalx("%s", err);
	if (sd.cfg.check_config)
		return snowd_check(&sd);

	snowd_state_dir(&sd);
	/* Started by a user other than root, dnsmasq stays that user (no 'nobody'). */
	if (strcmp(sd.cfg.dnsmasq, "none") && geteuid() == 0 &&
	    snowd_check_dnsmasq_access(&sd, err, sizeof(err)))
		fatalx("%s", err);
	if (inv_open(&sd.inv, sd.path_db, err, sizeof(err)))
		fatalx("%s", err);
	if (peer_start(&sd, err, sizeof(err)))
		fatalx("%s", err);
	nodes_limits(&sd);
	snowd_admin_token(&sd);

	if (selfpipe_open(&sd.sig, sigs, sizeof(sigs) / sizeof(sigs[0]), SELFPIPE_RESTART))
		fatal("signals");

	sd.authq = authq_new();
	if (!sd.authq)
		fatal("login threads");
	sd.power = power_new();
	if (!sd.power)
		fatal("power");
	sd.klog = klog_new(&sd, err, sizeof(err));
	if (!sd.klog)
		fatalx("%s", err);
	if ((rc = wake_open(&sd.wake)))
		log_warnx("wake-ups: %s (commands wait for each node's next report)", strerror(-rc));
	sd.qmpev = qmpev_new();
	sd.bmc = bmc_new();
	if (!sd.qmpev || !sd.bmc)
		fatal("qmp events, bmc");
	if (http_start(&sd, &route_router, err, sizeof(err)))
		fatalx("%s", err);
	if (strcmp(sd.cfg.dnsmasq, "none")) {
		if (snowd_tftp_root(&sd))
			fatal("%s", sd.path_tftp);
		if (snowd_write_dnsmasq_conf(&sd, sd.path_dnsconf, err, sizeof(err)))
			fatalx("%s", err);
		if ((rc = dnsmasq_sync_hosts(&sd.dnsmasq, &sd.inv, sd.path_hosts, snowd_hosts_mode(&sd))))
			fatalx("%s: %s", sd.path_hosts, strerror(-rc));
		/* One a snowd killed with -9 left behind holds the boot interface. */
		dnsmasq_stop_stale(&sd.dnsmasq);
		if ((rc = dnsmasq_start(&sd.dnsmasq)))
			fatalx("dnsmasq: %s", strerror(-rc));
	}
	log_info("listening on %s%s%s; nodes boot from %s; kernel logs on udp %s; state in %s%s",
		 sd.cfg.listen, sd.httpsd ? ", HTTPS on " : "", sd.httpsd ? sd.cfg.tls_listen : "",
		 sd.base_url, sd.cfg.klog_listen, sd.cfg.state_dir,
		 db_is_url(sd.path_db) ? " (inventory in PostgreSQL)" : "");
	if ((rc = notify_send("READY=1")) < 0)
		log_warnx("systemd notify socket: %s", strerror(-rc));

	snowd_loop(&sd);
	notify_send("STOPPING=1");
	/* Node answers held for a commit go out (or fail) before the listeners close. */
	for (i = 0; i < 4 && (sd.held || sd.inv.batch); i++) {
		chan_commit(&sd);
		MHD_run(sd.httpd);
		if (sd.httpsd)
			MHD_run(sd.httpsd);
	}
	chan_commit(&sd);

	dnsmasq_stop(&sd.dnsmasq);
	authq_free(sd.authq); /* its last logins resume before MHD stops */
	sd.authq = NULL;
	http_stop(&sd);
	power_free(sd.power);
	qmpev_free(sd.qmpev);
	bmc_free(sd.bmc);
	klog_free(sd.klog);
	sd.klog = NULL;
	wake_close(&sd.wake);
	peer_free(&sd);
	nodes_rt_free(&sd);
	json_decref(sd.defaults);
	overlay_free(&sd.tmpls);
	buf_free(&sd.hosts);
	inv_close(&sd.inv);
	conf_free(snowd_options, &sd.cfg);
	selfpipe_close(&sd.sig);
	log_info("stopped");
	return 0;
}
