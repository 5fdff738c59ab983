/*
 * Kernel logs by netconsole (klog.h): the socket, the files per boot, and the
 * API that serves them; crash events are klog_crash.c's, the node table
 * klog_state.c's.  Everything here runs on snowd's one thread: klog_input()
 * from the poll loop, the boot hooks from nodes.c and chan.c.
 */
#include "klog.h"
#include "klog_crash.h"
#include "klog_state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootlog.h"
#include "clock.h"
#include "http.h"
#include "inv.h"
#include "klogp.h"
#include "log.h"
#include "pstorep.h"
#include "snowd.h"
#include "valid.h"

#define KLOG_SERVE_MAX (256 * 1024) /* the API serves at most the last this many bytes of a boot */
#define KLOG_UNKNOWN_MS 5000   /* how long an address found to be no node's is remembered */
#define KLOG_READS 256         /* datagrams a call of klog_input() reads at most */

void klog_forget(struct klog *k, int64_t node_id)
{
	if (k)
		klog_node_drop(k, node_id);
}

/* --- files ------------------------------------------------------------------------------ */

static void klog_path(const struct klog *k, const char *name, const char *boot, const char *suffix,
		      char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s%s%s%s", k->dir, name, boot ? "/" : "", boot ? boot : "",
		 suffix ? suffix : "");
}

/* What goes with a boot's kernel log when it is pruned: its older half, its pstore dump (pstore.c). */
static const char *const klog_companions[] = { ".log.1", ".pstore.json", NULL };

/* Open the current boot's file (naming an early boot first).  @ret 0 or -errno. */
static int klog_open_file(struct snowd *sd, struct klog_node *kn)
{
	struct klog *k = sd->klog;
	char p[4700];
	struct stat st;
	int rc;

	if (kn->fd >= 0)
		return 0;
	if (!kn->boot[0])
		snprintf(kn->boot, sizeof(kn->boot), "early-%lld", (long long)clock_real_ms());
	klog_path(k, kn->name, NULL, NULL, p, sizeof(p));
	if (mkdir(p, 0700) && errno != EEXIST)
		return -errno;
	klog_path(k, kn->name, kn->boot, ".log", p, sizeof(p));
	kn->fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (kn->fd < 0)
		return -errno;
	kn->bytes = fstat(kn->fd, &st) ? 0 : (int64_t)st.st_size;
	/* A new boot's file: the newest --klog-boots-keep boots stay, by mtime, and this one. */
	klog_path(k, kn->name, NULL, NULL, p, sizeof(p));
	if (!kn->bytes && (rc = bootlog_prune(p, kn->boot, sd->cfg.klog_boots_keep, BOOTLOG_BY_MTIME,
					      klog_companions)) < 0)
		log_warnx("node %s: kernel logs: %s: %s", kn->name, p, strerror(-rc));
	return 0;
}

static void klog_write(struct snowd *sd, struct klog_node *kn, const char *s, size_t len)
{
	struct klog *k = sd->klog;
	char p[4700], p1[4800];

	if (klog_open_file(sd, kn)) {
		k->write_errors++;
		return;
	}
	if (kn->bytes + (int64_t)len > sd->cfg.klog_boot_max) {
		/* Rotate: the older half of a long boot goes to BOOT.log.1. */
		close(kn->fd);
		kn->fd = -1;
		klog_path(k, kn->name, kn->boot, ".log", p, sizeof(p));
		klog_path(k, kn->name, kn->boot, ".log.1", p1, sizeof(p1));
		if (rename(p, p1) || klog_open_file(sd, kn)) {
			k->write_errors++;
			return;
		}
	}
	if (write(kn->fd, s, len) != (ssize_t)len)
		k->write_errors++;
	else
		kn->bytes += (int64_t)len;
}

/* One whole line of the current boot (clean text, no newline): counted, and watched for a crash. */
static void klog_line(struct snowd *sd, struct klog_node *kn, const char *line)
{
	sd->klog->lines++;
	klog_crash_line(sd, kn, line);
}

/* --- what other modules ask (pstore.c, nodes.c) ------------------------------------------- */

const char *klog_prev_boot(struct snowd *sd, int64_t node_id)
{
	struct klog_node *kn = sd->klog ? klog_node(sd->klog, node_id, NULL) : NULL;

	return kn && kn->prev_boot[0] ? kn->prev_boot : NULL;
}

/* --- boots -------------------------------------------------------------------------------- */

/* The boot under way ends: its crash, if any, is recorded; its file closed. */
static void klog_boot_end(struct snowd *sd, struct klog_node *kn)
{
	if (kn->partlen) {
		char line[KLOG_LINE + 2];
		klogp_clean(kn->part, kn->partlen, line, sizeof(line) - 1);
		strcat(line, "\n");
		klog_write(sd, kn, line, strlen(line));
		line[strlen(line) - 1] = '\0';
		klog_line(sd, kn, line);
	}
	klog_crash_boot_end(sd, kn);
	if (kn->fd >= 0)
		close(kn->fd);
	kn->fd = -1;
	memcpy(kn->prev_boot, kn->boot, sizeof(kn->prev_boot));
	kn->boot[0] = '\0';
	kn->registered = 0;
	kn->have_seq = 0;
	kn->partlen = 0;
	kn->early_sent = 0;
}

void klog_boot_start(struct snowd *sd, int64_t node_id, const char *name)
{
	struct klog_node *kn = sd->klog ? klog_node(sd->klog, node_id, NULL) : NULL;

	if (kn && kn->boot[0])
		klog_boot_end(sd, kn);
}

void klog_registered(struct snowd *sd, int64_t node_id, const char *name, const char *boot_id)
{
	struct klog *k = sd->klog;
	struct klog_node *kn = k ? klog_node(k, node_id, name) : NULL;
	char from[4700], to[4700];

	if (!kn || (kn->registered && !strcmp(kn->boot, boot_id)))
		return;
	/* The boot id names files: a node's word, so only letters, digits and '-'. */
	if (!pstorep_boot_ok(boot_id)) {
		log_warnx("node %s: boot id '%.40s' is not [A-Za-z0-9-]: its kernel log keeps the name %s",
			  name, boot_id, kn->boot[0] ? kn->boot : "early-MS");
		return;
	}
	if (kn->registered)
		klog_boot_end(sd, kn); /* another boot, and we missed its start */
	if (kn->boot[0]) {
		/* The early boot's lines are this boot's. */
		if (kn->fd >= 0)
			close(kn->fd);
		kn->fd = -1;
		klog_path(k, kn->name, kn->boot, ".log", from, sizeof(from));
		klog_path(k, kn->name, boot_id, ".log", to, sizeof(to));
		if (rename(from, to) && errno != ENOENT)
			log_warnx("klog: %s: %s", from, strerror(errno));
		klog_path(k, kn->name, kn->boot, ".log.1", from, sizeof(from));
		klog_path(k, kn->name, boot_id, ".log.1", to, sizeof(to));
		rename(from, to);
	}
	snprintf(kn->boot, sizeof(kn->boot), "%s", boot_id);
	kn->registered = 1;
}

/* --- datagrams ---------------------------------------------------------------------------- */

/* Whether addr was found to be no node's a moment ago. */
static int klog_unknown(struct klog *k, uint32_t addr, int64_t now, int add)
{
	unsigned i;

	for (i = 0; i < KLOG_UNKNOWN; i++)
		if (k->unknown[i] == addr && now - k->unknown_ms[i] < KLOG_UNKNOWN_MS)
			return 1;
	if (add) {
		k->unknown[k->unknown_next] = addr;
		k->unknown_ms[k->unknown_next] = now;
		k->unknown_next = (k->unknown_next + 1) % KLOG_UNKNOWN;
	}
	return 0;
}

/* The rate: a bucket of 2 x rate datagrams, refilled at rate a second.  @ret 1 to take it. */
static int klog_rate_ok(struct klog_node *kn, long rate, int64_t now)
{
	double burst = 2.0 * (double)rate;

	if (kn->tokens < 0)
		kn->tokens = burst;
	else
		kn->tokens += (double)(now - kn->tokens_ms) * (double)rate / 1000.0;
	if (kn->tokens > burst)
		kn->tokens = burst;
	kn->tokens_ms = now;
	if (kn->tokens < 1.0)
		return 0;
	kn->tokens -= 1.0;
	return 1;
}

/* Plain-form text: lines, or parts of one, as printk wrote them; each whole line gets prefix. */
static void klog_plain(struct snowd *sd, struct klog_node *kn, const char *text, size_t len,
		       const char *prefix)
{
	char line[KLOG_LINE + 40];
	size_t i, start, pl = strlen(prefix);

	for (i = start = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		size_t piece = i - start, room = sizeof(kn->part) - kn->partlen;
		memcpy(kn->part + kn->partlen, text + start, piece < room ? piece : room);
		kn->partlen += piece < room ? piece : room;
		start = i + 1;
		if (i == len)
			break;
		memcpy(line, prefix, pl);
		klogp_clean(kn->part, kn->partlen, line + pl, KLOG_LINE);
		kn->partlen = 0;
		{
			size_t l = strlen(line);
			line[l] = '\n';
			klog_write(sd, kn, line, l + 1);
			line[l] = '\0';
		}
		klog_line(sd, kn, line);
	}
}

static void klog_datagram(struct snowd *sd, const char *buf, size_t len, uint32_t addr)
{
	struct klog *k = sd->klog;
	int64_t now = clock_mono_ms();
	char ip[INET_ADDRSTRLEN], line[KLOG_LINE + 40];
	struct klog_node *kn;
	struct klogp_msg m;
	struct inv_node n;
	struct in_addr a = { .s_addr = addr };

	k->packets++;
	if (klog_unknown(k, addr, now, 0)) {
		k->drop_addr++;
		return;
	}
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	if (inv_node_get_by_ip(&sd->inv, ip, &n)) {
		klog_unknown(k, addr, now, 1);
		k->drop_addr++;
		return;
	}
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	kn = klog_node(k, n.id, n.name);
	if (!kn)
		return;
	if (!klog_rate_ok(kn, sd->cfg.klog_rate, now)) {
		k->drop_rate++;
		return;
	}
	if (klogp_parse(buf, len, &m)) {
		k->drop_bad++;
		return;
	}
	if (m.ext) {
		/* Record numbers start over: a new kernel (whose start we did not see). */
		if (kn->have_seq && m.seq + 1 < kn->last_seq && kn->boot[0])
			klog_boot_end(sd, kn);
		kn->have_seq = 1;
		kn->last_seq = m.seq;
		if (m.frag && m.frag_off) {
			/* A long record's later part: on the line of its first. */
			klogp_clean(m.text, m.text_len, line, KLOG_LINE);
		} else {
			int h = snprintf(line, sizeof(line), "[%5llu.%06llu] ",
					 (unsigned long long)(m.usec / 1000000),
					 (unsigned long long)(m.usec % 1000000));
			klogp_clean(m.text, m.text_len, line + h, KLOG_LINE);
		}
		if (!m.frag || m.frag_off + m.text_len >= m.frag_len) {
			size_t l = strlen(line);
			line[l] = '\n';
			klog_write(sd, kn, line, l + 1);
			line[l] = '\0';
			klog_line(sd, kn, line);
		} else {
			klog_write(sd, kn, line, strlen(line));
		}
		return;
	}
	klog_plain(sd, kn, m.text, m.text_len, "");
}

void klog_input(struct snowd *sd)
{
	struct klog *k = sd->klog;
	char buf[KLOGP_MAX + 1];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t r;
	int i;

	if (!k || k->fd < 0)
		return;
	for (i = 0; i < KLOG_READS; i++) {
		fl = sizeof(from);
		r = recvfrom(k->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from,
			     &fl);
		if (r < 0)
			return;
		if (fl < sizeof(from) || from.sin_family != AF_INET) {
			k->drop_bad++;
			continue;
		}
		klog_datagram(sd, buf, (size_t)r > KLOGP_MAX ? KLOGP_MAX : (size_t)r, from.sin_addr.s_addr);
	}
}

void klog_target_refresh(struct snowd *sd)
{
	char mp[300], mac[32] = "", canon[SNOW_MAC_STRLEN + 1];
	FILE *f;

	sd->boot.klog_mac = NULL; /* broadcast, unless the MAC is known */
	if (!sd->cfg.boot_if)
		return;
	snprintf(mp, sizeof(mp), "/sys/class/net/%s/address", sd->cfg.boot_if);
	if ((f = fopen(mp, "r"))) {
		if (fgets(mac, sizeof(mac), f))
			mac[strcspn(mac, "\n")] = '\0';
		fclose(f);
	}
	if (!valid_mac(mac, canon, NULL, 0)) {
		snprintf(sd->klog_mac, sizeof(sd->klog_mac), "%s", canon);
		sd->boot.klog_mac = sd->klog_mac;
	}
}

/* --- set-up ------------------------------------------------------------------------------- */

struct klog *klog_new(struct snowd *sd, char *err, size_t errlen)
{
	const char *listen = sd->cfg.klog_listen;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct klog *k = calloc(1, sizeof(*k));
	char addr[64], *colon;
	long port;

	if (!k) {
		snprintf(err, errlen, "klog: out of memory");
		return NULL;
	}
	k->fd = -1;
	snprintf(k->dir, sizeof(k->dir), "%s/klog", sd->cfg.state_dir);
	if (mkdir(k->dir, 0700) && errno != EEXIST) {
		snprintf(err, errlen, "klog: %s: %s", k->dir, strerror(errno));
		goto err;
	}
	sd->klog = k; /* klog_crash_seed() fills its table */
	klog_crash_seed(sd);
	sd->klog = NULL;
	if (!strcmp(listen, "none"))
		return k;
	snprintf(addr, sizeof(addr), "%s", listen);
	colon = strrchr(addr, ':');
	port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (!colon || port < 1 || port > 65535 || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(err, errlen, "klog-listen: '%s' is not ADDR:PORT (or none)", listen);
		goto err;
	}
	*colon = '\0';
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "klog-listen: '%s' is not an IPv4 address", addr);
		goto err;
	}
	sa.sin_port = htons((uint16_t)port);
	k->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (k->fd >= 0) {
		/* A panic or a boot sends its lines at once: room for them while the loop is busy. */
		int size = 4 << 20;
		if (setsockopt(k->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
			setsockopt(k->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	if (k->fd < 0 || bind(k->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "klog-listen: %s: %s", listen, strerror(errno));
		goto err;
	}
	return k;
err:
	klog_free(k);
	return NULL;
}

void klog_free(struct klog *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		klog_node_free(k->nodes[i]);
	free(k->nodes);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

int klog_fd(const struct klog *k)
{
	return k ? k->fd : -1;
}

int klog_metrics(const struct klog *k, struct buf *b)
{
	size_t i;
	int rc;

	if (!k)
		return 0;
	rc = buf_printf(b,
			"# HELP snowd_klog_datagrams_total Netconsole datagrams received.\n"
			"# TYPE snowd_klog_datagrams_total counter\nsnowd_klog_datagrams_total %llu\n"
			"# HELP snowd_klog_lines_total Kernel log lines kept.\n"
			"# TYPE snowd_klog_lines_total counter\nsnowd_klog_lines_total %llu\n"
			"# HELP snowd_klog_dropped_total Netconsole datagrams dropped: from an address "
			"that is no node's, over the node's rate, malformed.\n"
			"# TYPE snowd_klog_dropped_total counter\n"
			"snowd_klog_dropped_total{reason=\"address\"} %llu\n"
			"snowd_klog_dropped_total{reason=\"rate\"} %llu\n"
			"snowd_klog_dropped_total{reason=\"malformed\"} %llu\n"
			"# HELP snowd_klog_write_errors_total Kernel log lines not written to disk.\n"
			"# TYPE snowd_klog_write_errors_total counter\nsnowd_klog_write_errors_total %llu\n"
			"# HELP snowd_crashes_total Node kernel crashes recorded.\n"
			"# TYPE snowd_crashes_total counter\nsnowd_crashes_total %llu\n"
			"# HELP snow_node_crashes_total Kernel crashes recorded of each node since snowd "
			"started.\n# TYPE snow_node_crashes_total counter\n",
			(unsigned long long)k->packets, (unsigned long long)k->lines,
			(unsigned long long)k->drop_addr, (unsigned long long)k->drop_rate,
			(unsigned long long)k->drop_bad, (unsigned long long)k->write_errors,
			(unsigned long long)k->crashes);
	for (i = 0; !rc && i < k->n; i++)
		if (k->nodes[i]->crashes) /* names are checked names: no escaping needed */
			rc = buf_printf(b, "snow_node_crashes_total{node=\"%s\"} %llu\n",
					k->nodes[i]->name, (unsigned long long)k->nodes[i]->crashes);
	if (!rc)
		rc = buf_printf(b, "# HELP snow_node_last_crash_timestamp_seconds When the node's last "
				   "kernel crash was recorded (kept across snowd restarts).\n"
				   "# TYPE snow_node_last_crash_timestamp_seconds gauge\n");
	for (i = 0; !rc && i < k->n; i++)
		if (k->nodes[i]->last_crash)
			rc = buf_printf(b, "snow_node_last_crash_timestamp_seconds{node=\"%s\"} %lld\n",
					k->nodes[i]->name, (long long)k->nodes[i]->last_crash);
	return rc;
}

/* --- the API ------------------------------------------------------------------------------ */

/* Append the last max bytes of path to b.  @ret bytes the file had, or -errno. */
static int64_t klog_read_tail(const char *path, int64_t max, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char chunk[16384];
	struct stat st;
	ssize_t r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		close(fd);
		return -EIO;
	}
	if (st.st_size > max)
		lseek(fd, st.st_size - max, SEEK_SET);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(b, chunk, (size_t)r);
	close(fd);
	return (int64_t)st.st_size;
}

enum MHD_Result klog_api_get(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	const char *boot = h->param[1];
	struct klog_node *kn;
	struct buf b = BUF_INIT;
	char p[4700], p1[4800], id[40];
	int64_t main_sz, old_sz, total;
	struct inv_node n;
	json_t *o;
	enum MHD_Result ret;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	if (!strcmp(boot, "current")) {
		kn = sd->klog ? klog_node(sd->klog, n.id, NULL) : NULL;
		if (!kn || !kn->boot[0])
			return http_error(h, MHD_HTTP_NOT_FOUND,
					  "boot: no kernel log of %s's current boot (has it sent any?)", n.name);
		boot = kn->boot;
	}
	snprintf(id, sizeof(id), "%s", boot);
	if (!sd->klog)
		return http_error(h, MHD_HTTP_NOT_FOUND, "boot: no kernel logs kept");
	klog_path(sd->klog, n.name, id, ".log", p, sizeof(p));
	klog_path(sd->klog, n.name, id, ".log.1", p1, sizeof(p1));
	/* The part in BOOT.log.1 first, when the last KLOG_SERVE_MAX bytes reach into it. */
	{
		struct stat st;
		int64_t cur = stat(p, &st) ? -1 : (int64_t)st.st_size;
		if (cur < 0)
			return http_error(h, MHD_HTTP_NOT_FOUND, "boot: no kernel log of boot %s of %s", id,
					  n.name);
		old_sz = cur < KLOG_SERVE_MAX ? klog_read_tail(p1, KLOG_SERVE_MAX - cur, &b) : -ENOENT;
		main_sz = klog_read_tail(p, KLOG_SERVE_MAX, &b);
	}
	if (main_sz < 0) {
		buf_free(&b);
		return http_error(h, MHD_HTTP_NOT_FOUND, "boot: no kernel log of boot %s of %s", id, n.name);
	}
	total = main_sz + (old_sz > 0 ? old_sz : 0);
	/* Files hold clean lines (klogp_clean), but one may have been cut mid-character. */
	o = json_pack("{s:s, s:s, s:s%, s:I, s:b}", "node", n.name, "boot_id", id, "log",
		      b.data ? b.data : "", b.len, "bytes", (json_int_t)total, "truncated",
		      (int64_t)b.len < total);
	if (!o) {
		char *clean = malloc(b.len + 1);
		if (clean) {
			klogp_clean(b.data ? b.data : "", b.len, clean, b.len + 1);
			o = json_pack("{s:s, s:s, s:s, s:I, s:b}", "node", n.name, "boot_id", id, "log",
				      clean, (json_int_t)total, "truncated", (int64_t)b.len < total);
			free(clean);
		}
	}
	buf_free(&b);
	return o ? http_json(h, MHD_HTTP_OK, o) :
		   http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
}

enum MHD_Result klog_boot_dmesg(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	char mac[SNOW_MAC_STRLEN + 1];
	struct klog_node *kn;
	struct inv_node n;
	int rc;

	if (valid_mac(h->param[0], mac, NULL, 0))
		return http_error(h, MHD_HTTP_NOT_FOUND, "mac: not a MAC");
	rc = inv_node_get_by_mac(&sd->inv, mac, &n);
	if (rc)
		return rc == -ENOENT ? http_error(h, MHD_HTTP_NOT_FOUND, "mac: %s is not a node", mac) :
				       http_error(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "inventory error");
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (strcmp(h->client_ip, n.ip))
		return http_error(h, MHD_HTTP_FORBIDDEN, "dmesg: only %s may send its kernel log", n.ip);
	kn = sd->klog ? klog_node(sd->klog, n.id, n.name) : NULL;
	if (!kn)
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "dmesg: kernel logs are not kept");
	if (kn->early_sent)
		return http_error(h, MHD_HTTP_CONFLICT, "dmesg: this boot's early messages came already");
	kn->early_sent = 1;
	klog_plain(sd, kn, h->body.data ? h->body.data : "", h->body.len, "early: ");
	if (kn->partlen)
		klog_plain(sd, kn, "\n", 1, "early: ");
	return http_json(h, MHD_HTTP_OK, json_pack("{s:I}", "bytes", (json_int_t)h->body.len));
}
