/*
 * snow-nic: the emulated NIC.  Runs the NIC program (nic/fw/) on the
 * emulated HAL (nic/hal/hal_emu.c) over a Linux interface, and serves a unix
 * socket where one application at a time attaches (libsnownic) and anyone
 * may ask for the status (counters, cost model) as JSON.  The same JSON is
 * written to --status-file every second for the node agent.
 *
 * Threads: main (this poll loop), the NIC CPU (nicfw_run in a loop), and
 * the HAL's three engines.
 */
#include "conf.h"
#include "fw/fw.h"
#include "hal/hal_emu.h"
#include "lib/snownic.h"
#include "log.h"
#include "selfpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CLIENTS_MAX 16
/* Posted by the self-test thread to stop the loop: above every signal number. */
#define SNIC_SELFTEST_DONE 'T'

static const int snic_signals[] = { SIGINT, SIGTERM };

struct snic_opts {
	char *config, *iface, *peers, *socket, *status_file, *rx_ring, *rx_engine;
	long node, nic_mem, threshold, credits, frag, min_frag, max_frag, ring_mb, spin_us,
		rx_timeout_ms, inline_dma;
	int flow_control, check, verbose, self_test, tx_copy, rx_copy;
};

#define O(f) offsetof(struct snic_opts, f)
static const struct conf_option snic_options[] = {
	{ "config", 'c', CONF_STR, O(config), 0, 0, "FILE", "read options from FILE (key = value)" },
	{ "iface", 'i', CONF_STR, O(iface), 0, 0, "IFACE", "the compute network interface (required)" },
	{ "node", 0, CONF_INT, O(node), 0, 65535, "ID", "this node's id (required)" },
	{ "peers", 0, CONF_STR, O(peers), 0, 0, "ID=MAC,...", "the other nodes on the compute network" },
	{ "socket", 's', CONF_STR, O(socket), 0, 0, "PATH", "unix socket for applications (/run/snow-nic.sock)" },
	{ "status-file", 0, CONF_STR, O(status_file), 0, 0, "PATH", "write the status JSON here every second" },
	{ "nic-mem", 0, CONF_INT, O(nic_mem), 1, 1024, "MIB", "NIC memory (32)" },
	{ "threshold", 0, CONF_INT, O(threshold), 0, 1024, "BYTES", "messages up to this size bypass the pipeline (256)" },
	{ "tx-copy", 0, CONF_BOOL, O(tx_copy), 0, 0, NULL, "stage payloads in NIC memory by host DMA instead of sending them from the host buffer (SNOWNIC_TX_COPY=1)" },
	{ "rx-copy", 0, CONF_BOOL, O(rx_copy), 0, 0, NULL, "copy every frame into its NIC buffer instead of lending the ring slot (SNOWNIC_RX_COPY=1)" },
	{ "flow-control", 0, CONF_BOOL, O(flow_control), 0, 0, NULL, "credit flow control (yes; --flow-control=no drops on overflow)" },
	{ "credits", 0, CONF_INT, O(credits), 0, 4096, "FRAMES", "frames granted to each peer (0: receive buffers / peers)" },
	{ "frag", 0, CONF_INT, O(frag), 0, 65535, "BYTES", "fixed fragment size (0: the cost model picks)" },
	{ "min-frag", 0, CONF_INT, O(min_frag), 64, 65535, "BYTES", "smallest fragment the model may pick (1024)" },
	{ "max-frag", 0, CONF_INT, O(max_frag), 0, 65535, "BYTES", "largest fragment (0: MTU - 40)" },
	{ "rx-ring", 0, CONF_STR, O(rx_ring), 0, 0, "v2|v3|none", "AF_PACKET receive ring version (v2); none: no ring, each frame copied from the socket straight into the posted NIC buffer by the NIC CPU" },
	{ "rx-engine", 0, CONF_STR, O(rx_engine), 0, 0, "cpu|thread", "who reads the wire's receive ring: the NIC CPU itself (no hand-off) or a receive engine thread (cpu)" },
	{ "ring-mb", 0, CONF_INT, O(ring_mb), 1, 1024, "MIB", "kernel receive ring size (16)" },
	{ "spin-us", 0, CONF_INT, O(spin_us), 0, 100000, "US", "idle engines spin this long before sleeping (0)" },
	{ "inline-dma", 0, CONF_INT, O(inline_dma), 0, 1 << 20, "BYTES", "an idle engine's job up to this size runs on the NIC CPU (16384)" },
	{ "rx-timeout-ms", 0, CONF_INT, O(rx_timeout_ms), 0, 600000, "MS", "abort a message stalled this long (2000)" },
	{ "self-test", 0, CONF_BOOL, O(self_test), 0, 0, NULL, "send messages to this node's own id (MAC loopback through the engines), check every byte, print {result, detail} and exit (0 pass, 1 fail)" },
	{ "check-config", 'n', CONF_BOOL, O(check), 0, 0, NULL, "check the configuration and exit" },
	{ "verbose", 'v', CONF_BOOL, O(verbose), 0, 0, NULL, "debug logging" },
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL },
};
#undef O

struct snic_client {
	int fd;
	pid_t pid;
};

/* The daemon's one state struct. */
struct snic_state {
	struct snic_opts o;
	struct nicfw_config cfg;
	struct nic_hal *hal;
	struct nicfw *fw;
	pthread_t fw_thread;
	_Atomic int stop_fw;
	int listen_fd;
	struct selfpipe sig; /* SIGINT, SIGTERM, and SNIC_SELFTEST_DONE */
	struct snic_client clients[CLIENTS_MAX];
	int attached; /* index in clients, or -1 */
	pthread_t test_thread;
	int test_rc; /* --self-test: 0 pass, 1 fail */
};

/* Parse "ID=MAC,ID=MAC".  @ret 0 or -EINVAL with err naming the entry. */
static int parse_peers(const char *s, struct nicfw_config *cfg, char *err, size_t errlen)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int rc = 0;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cfg->npeers = 0;
	for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		unsigned m[6], id;
		char tail;
		struct nicfw_peer_cfg *p;

		if (cfg->npeers >= NICFW_PEERS_MAX) {
			snprintf(err, errlen, "peers: more than %d", NICFW_PEERS_MAX);
			rc = -EINVAL;
			break;
		}
		if (sscanf(tok, "%u=%x:%x:%x:%x:%x:%x%c", &id, &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5], &tail) != 7 ||
		    id > 65535 || m[0] > 255 || m[1] > 255 || m[2] > 255 || m[3] > 255 ||
		    m[4] > 255 || m[5] > 255) {
			snprintf(err, errlen, "peers: '%s' is not ID=xx:xx:xx:xx:xx:xx", tok);
			rc = -EINVAL;
			break;
		}
		p = &cfg->peers[cfg->npeers++];
		p->id = (uint16_t)id;
		for (int i = 0; i < 6; i++)
			p->mac[i] = (uint8_t)m[i];
	}
	free(copy);
	return rc;
}

/* Options into the NIC program's config.  @ret 0 or -EINVAL with err. */
static int snic_config(struct snic_state *st, char *err, size_t errlen)
{
	struct snic_opts *o = &st->o;
	struct nicfw_config *c = &st->cfg;
	int rc;

	if (!o->iface || !*o->iface) {
		snprintf(err, errlen, "iface: required");
		return -EINVAL;
	}
	if (o->node < 0) {
		snprintf(err, errlen, "node: required");
		return -EINVAL;
	}
	if (strcmp(o->rx_engine, "cpu") && strcmp(o->rx_engine, "thread")) {
		snprintf(err, errlen, "rx-engine: '%s' is not cpu or thread", o->rx_engine);
		return -EINVAL;
	}
	if (strcmp(o->rx_ring, "v2") && strcmp(o->rx_ring, "v3") && strcmp(o->rx_ring, "none")) {
		snprintf(err, errlen, "rx-ring: '%s' is not v2, v3 or none", o->rx_ring);
		return -EINVAL;
	}
	if (o->frag && o->frag < SNF_FRAG_MIN) {
		snprintf(err, errlen, "frag: %ld is below %u", o->frag, SNF_FRAG_MIN);
		return -EINVAL;
	}
	nicfw_config_defaults(c);
	c->node_id = (uint16_t)o->node;
	if (o->peers && (rc = parse_peers(o->peers, c, err, errlen)))
		return rc;
	c->threshold = (uint32_t)o->threshold;
	c->flow_control = o->flow_control;
	c->credits = (uint32_t)o->credits;
	c->fixed_frag = (uint32_t)o->frag;
	c->min_frag = (uint32_t)o->min_frag;
	c->max_frag = (uint32_t)o->max_frag;
	c->rx_timeout_ms = (uint32_t)o->rx_timeout_ms;
	if (getrandom(&c->epoch, sizeof(c->epoch), 0) != sizeof(c->epoch) || !c->epoch)
		c->epoch = (uint32_t)getpid() * 2654435761u | 1;
	return nicfw_config_check(c, err, errlen);
}

/* ---- status ------------------------------------------------------------- */

/* @ret a new reference the caller json_decref()s. */
static json_t *snic_status(struct snic_state *st)
{
	const struct snf_ctl *ctl = nicfw_ctl(st->fw);
	static const uint32_t sizes[] = { 1024, 4096, 16384, 65536, 262144, 1048576, 4194304 };
	json_t *j = json_object(), *counters = json_object(), *stages = json_array(),
	       *frag = json_object(), *peers = json_array();
	struct hal_link link;
	char mac[32], key[16];
	unsigned i;

	st->hal->ops->link(st->hal, &link);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", link.mac[0], link.mac[1],
		 link.mac[2], link.mac[3], link.mac[4], link.mac[5]);
#define CNT_JSON(n)                                                                                \
	json_object_set_new(counters, #n,                                                          \
			    json_integer((json_int_t)atomic_load_explicit(&ctl->counters.n,        \
									  memory_order_relaxed)));
	SNF_COUNTERS(CNT_JSON)
#undef CNT_JSON
	for (i = 0; i < SNF_STAGES; i++)
		json_array_append_new(stages, json_pack("{s:s, s:f, s:f, s:f, s:i, s:f, s:f}", "name",
							ctl->stages[i].name, "a_ns", ctl->stages[i].a_ns,
							"b_ns_per_byte", ctl->stages[i].b_ns, "mb_s",
							ctl->stages[i].mbps, "small_max",
							(int)ctl->stages[i].small_max, "a_small_ns",
							ctl->stages[i].a_small_ns, "b_small_ns_per_byte",
							ctl->stages[i].b_small_ns));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(key, sizeof(key), "%u", sizes[i]);
		json_object_set_new(frag, key, json_integer(nicfw_frag_for(st->fw, sizes[i])));
	}
	for (i = 0; i < st->cfg.npeers; i++) {
		const uint8_t *m = st->cfg.peers[i].mac;
		char pm[32];
		snprintf(pm, sizeof(pm), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
			 m[4], m[5]);
		json_array_append_new(peers, json_pack("{s:i, s:s}", "node", st->cfg.peers[i].id,
						       "mac", pm));
	}
	json_object_set_new(j, "node", json_integer(ctl->node_id));
	json_object_set_new(j, "iface", json_string(st->o.iface));
	json_object_set_new(j, "mac", json_string(mac));
	json_object_set_new(j, "mtu", json_integer(ctl->mtu));
	json_object_set_new(j, "state", json_string("online"));
	json_object_set_new(j, "pid", json_integer(getpid()));
	json_object_set_new(j, "attached_pid", st->attached >= 0
						     ? json_integer(st->clients[st->attached].pid)
						     : json_null());
	json_object_set_new(j, "flow_control", json_boolean(ctl->flow_control));
	json_object_set_new(j, "threshold", json_integer(ctl->threshold));
	json_object_set_new(j, "credits", json_integer(ctl->credits));
	json_object_set_new(j, "max_frag", json_integer(ctl->max_frag));
	json_object_set_new(j, "fixed_frag", json_integer(ctl->fixed_frag));
	json_object_set_new(j, "serial_pm", json_integer(ctl->serial_pm));
	json_object_set_new(j, "tx_buffers", json_integer(ctl->tx_slots));
	json_object_set_new(j, "rx_buffers", json_integer(ctl->rx_slots));
	json_object_set_new(j, "epoch", json_integer(st->cfg.epoch));
	json_object_set_new(j, "peers", peers);
	json_object_set_new(j, "stages", stages);
	json_object_set_new(j, "frag_for", frag);
	json_object_set_new(j, "counters", counters);
	return j;
}

static void snic_write_status(struct snic_state *st)
{
	char tmp[4096];
	json_t *j;
	int rc;

	if (!st->o.status_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", st->o.status_file);
	j = snic_status(st);
	rc = json_dump_file(j, tmp, JSON_COMPACT);
	json_decref(j);
	if (rc || rename(tmp, st->o.status_file) < 0)
		log_warn("status file %s", st->o.status_file);
}

/* ---- the control socket ---------------------------------------------------- */

/* Send j (consumed) with up to two descriptors (-1: none) to a client.  @ret 0 or -errno. */
static int snic_reply(int fd, json_t *j, int pass_fd, int pass_fd2)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	char *text = json_dumps(j, JSON_COMPACT);
	struct iovec iov;
	struct msghdr msg = { 0 };
	int rc = 0;

	json_decref(j);
	if (!text)
		return -ENOMEM;
	iov.iov_base = text;
	iov.iov_len = strlen(text);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (pass_fd >= 0) {
		struct cmsghdr *cm;
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((pass_fd2 >= 0 ? 2 : 1) * sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
		if (pass_fd2 >= 0)
			memcpy(CMSG_DATA(cm) + sizeof(int), &pass_fd2, sizeof(int));
		msg.msg_controllen = CMSG_SPACE((pass_fd2 >= 0 ? 2 : 1) * sizeof(int));
	}
	if (sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		rc = -errno;
	free(text);
	return rc;
}

static json_t *snic_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *snic_error(int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:i}", "ok", 0, "error", msg, "errno", err);
}

static void snic_detach(struct snic_state *st)
{
	int rc = hal_emu_host_detach(st->hal, 5000);

	if (rc)
		log_warnx("application (pid %d) detach: the NIC did not finish its DMA: %s",
			  st->clients[st->attached].pid, strerror(-rc));
	else
		log_info("application (pid %d) detached", st->clients[st->attached].pid);
	st->attached = -1;
	snic_write_status(st);
}

/* One request from client i; fd is a descriptor that came with it, or -1. */
static void snic_request(struct snic_state *st, int i, const char *text, size_t len, int fd)
{
	static const char *const keys[] = { "op", "mem", "pid", NULL };
	struct snic_client *cl = &st->clients[i];
	json_t *req, *reply = NULL;
	json_error_t jerr;
	const char *op;
	int rc, nicfd = -1;

	req = json_loadb(text, len, 0, &jerr);
	if (!req || !json_is_object(req)) {
		reply = snic_error(EINVAL, "request: not a JSON object: %s", jerr.text);
		goto out;
	}
	op = json_string_value(json_object_get(req, "op"));
	{
		const char *k;
		json_t *v;
		json_object_foreach(req, k, v) {
			unsigned n;
			for (n = 0; keys[n] && strcmp(keys[n], k); n++)
				;
			if (!keys[n]) {
				reply = snic_error(EINVAL, "request: unknown key '%s'", k);
				goto out;
			}
			(void)v;
		}
	}
	if (!op) {
		reply = snic_error(EINVAL, "op: missing");
	} else if (!strcmp(op, "status")) {
		reply = snic_status(st);
		json_object_set_new(reply, "ok", json_true());
	} else if (!strcmp(op, "attach")) {
		json_int_t mem = json_integer_value(json_object_get(req, "mem"));
		json_int_t pid = json_integer_value(json_object_get(req, "pid"));
		struct stat sb;
		size_t barsz;

		if (st->attached >= 0) {
			reply = snic_error(EBUSY, "busy: the application of pid %d is attached",
					   st->clients[st->attached].pid);
		} else if (fd < 0) {
			reply = snic_error(EINVAL, "attach: no memory descriptor came with it");
		} else if (mem < 4096 || mem > ((json_int_t)1 << 40) || mem % 4096) {
			reply = snic_error(EINVAL, "mem: %lld is not a page multiple in 4 KiB..1 TiB",
					   (long long)mem);
		} else if (fstat(fd, &sb) < 0 || sb.st_size < mem) {
			reply = snic_error(EINVAL, "mem: the descriptor holds %lld bytes, not %lld",
					   (long long)sb.st_size, (long long)mem);
		} else if ((rc = hal_emu_host_attach(st->hal, fd, (size_t)mem))) {
			reply = snic_error(-rc, "attach: %s", strerror(-rc));
		} else {
			st->attached = i;
			cl->pid = (pid_t)pid;
			nicfd = hal_emu_memfd(st->hal, &barsz);
			reply = json_pack("{s:b, s:I}", "ok", 1, "nic_mem", (json_int_t)barsz);
			log_info("application (pid %d) attached with %lld bytes", cl->pid,
				 (long long)mem);
			snic_write_status(st);
		}
	} else {
		reply = snic_error(EINVAL, "op: unknown '%s' (attach, status)", op);
	}
out:
	json_decref(req);
	if (fd >= 0)
		close(fd); /* the HAL keeps its own mapping */
	if (snic_reply(cl->fd, reply, nicfd, nicfd >= 0 ? hal_emu_kickfd(st->hal) : -1) < 0)
		log_warn("reply to client");
}

static void snic_client_close(struct snic_state *st, int i)
{
	if (st->attached == i)
		snic_detach(st);
	close(st->clients[i].fd);
	st->clients[i].fd = -1;
}

static void snic_client_read(struct snic_state *st, int i)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char text[4096];
	struct iovec iov = { text, sizeof(text) };
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	int fd = -1;
	ssize_t n;

	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	n = recvmsg(st->clients[i].fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (n <= 0) {
		if (fd >= 0)
			close(fd);
		snic_client_close(st, i);
		return;
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (fd >= 0)
			close(fd);
		snic_reply(st->clients[i].fd, snic_error(EMSGSIZE, "request: too long"), -1, -1);
		return;
	}
	snic_request(st, i, text, (size_t)n, fd);
}

static int snic_listen(struct snic_state *st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;

	if (strlen(st->o.socket) >= sizeof(sa.sun_path)) {
		log_warnx("socket: '%s' is too long", st->o.socket);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, st->o.socket);
	/* A socket left by a crashed snow-nic: a live one would answer connect(). */
	if (lstat(st->o.socket, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			log_warnx("socket %s: another snow-nic is listening", st->o.socket);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(st->o.socket);
	}
	st->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (st->listen_fd < 0 || bind(st->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(st->listen_fd, 8) < 0) {
		log_warn("socket %s", st->o.socket);
		return -errno;
	}
	return 0;
}

static void *snic_fw_thread(void *arg)
{
	struct snic_state *st = arg;

	while (!atomic_load(&st->stop_fw))
		nicfw_run(st->fw, 50);
	return NULL;
}

static int snic_loop(struct snic_state *st)
{
	struct pollfd pfd[CLIENTS_MAX + 2];
	int map[CLIENTS_MAX + 2];
	time_t last_status = 0;

	for (;;) {
		int n = 0, i, k;

		pfd[n] = (struct pollfd){ st->sig.rfd, POLLIN, 0 };
		map[n++] = -2;
		pfd[n] = (struct pollfd){ st->listen_fd, POLLIN, 0 };
		map[n++] = -1;
		for (i = 0; i < CLIENTS_MAX; i++)
			if (st->clients[i].fd >= 0) {
				pfd[n] = (struct pollfd){ st->clients[i].fd, POLLIN, 0 };
				map[n++] = i;
			}
		if (poll(pfd, (nfds_t)n, 1000) < 0 && errno != EINTR) {
			log_warn("poll");
			return -errno;
		}
		if (time(NULL) != last_status) {
			last_status = time(NULL);
			snic_write_status(st);
		}
		for (k = 0; k < n; k++) {
			if (!pfd[k].revents)
				continue;
			if (map[k] == -2) {
				int c = selfpipe_next(&st->sig);
				if (c > 0 && c != SNIC_SELFTEST_DONE)
					log_info("signal %d: stopping", c);
				return 0;
			}
			if (map[k] == -1) {
				int fd = accept4(st->listen_fd, NULL, NULL, SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				for (i = 0; i < CLIENTS_MAX && st->clients[i].fd >= 0; i++)
					;
				if (i == CLIENTS_MAX) {
					snic_reply(fd, snic_error(EMFILE, "too many connections"), -1, -1);
					close(fd);
					continue;
				}
				st->clients[i].fd = fd;
				st->clients[i].pid = 0;
				continue;
			}
			snic_client_read(st, map[k]);
		}
	}
}

/* ---- --self-test ------------------------------------------------------------ */

#define SELFTEST_MEM (1u << 20)

/* The byte at offset i of a test message of seed k: never constant, never 0-periodic. */
static uint8_t selftest_byte(uint32_t k, uint32_t i)
{
	return (uint8_t)((i * 2654435761u + k * 40503u) >> 13);
}

/*
 * One message of len bytes to this node's own id and back: a receive buffer
 * in the upper half of registered memory, the send from the lower half.
 * @ret 0, or -errno with err saying what went wrong (offset of the first bad
 * byte, a completion status, a timeout).
 */
static int selftest_one(struct snownic *h, uint16_t self, uint32_t len, uint32_t k, char *err,
			size_t errlen)
{
	size_t size;
	uint8_t *mem = snownic_mem(h, &size), *tx = mem, *rx = mem + size / 2;
	struct snownic_send s = { .buf = tx, .len = len, .peer = self, .tag = k, .cookie = k };
	struct snownic_comp c[4];
	int sent = 0, got = 0, n, i, rc, waits = 0;
	uint32_t x;

	for (x = 0; x < len; x++)
		tx[x] = selftest_byte(k, x);
	memset(rx, 0xa5, len + 64 < size / 2 ? len + 64 : size / 2);
	if ((rc = snownic_post_recv(h, rx, (uint32_t)(size / 2), k)) ||
	    (rc = snownic_send(h, &s))) {
		snprintf(err, errlen, "%u B: queueing: %s", len, strerror(-rc));
		return rc;
	}
	while (!sent || !got) {
		n = snownic_wait(h, c, 4, 1000);
		if (n < 0) {
			snprintf(err, errlen, "%u B: %s", len, strerror(-n));
			return n;
		}
		if (n == 0 && ++waits >= 5) {
			snprintf(err, errlen, "%u B: no %s completion within 5 s", len,
				 sent ? "receive" : "send");
			return -ETIMEDOUT;
		}
		for (i = 0; i < n; i++) {
			if (c[i].status) {
				snprintf(err, errlen, "%u B: completion type %d status %s", len,
					 c[i].type, strerror(-c[i].status));
				return c[i].status;
			}
			if (c[i].type == SNOWNIC_SENT)
				sent = 1;
			else if (c[i].type == SNOWNIC_RECEIVED) {
				if (c[i].len != len || c[i].peer != self || c[i].tag != k) {
					snprintf(err, errlen,
						 "%u B: received len %u from %u tag %u, want %u from %u tag %u",
						 len, c[i].len, c[i].peer, c[i].tag, len, self, k);
					return -EPROTO;
				}
				got = 1;
			} else {
				snprintf(err, errlen, "%u B: lost %u frames", len, c[i].len);
				return -EIO;
			}
		}
	}
	for (x = 0; x < len; x++)
		if (rx[x] != selftest_byte(k, x)) {
			snprintf(err, errlen, "%u B: byte %u is 0x%02x, sent 0x%02x", len, x, rx[x],
				 selftest_byte(k, x));
			return -EIO;
		}
	return 0;
}

/*
 * Attach like an application, send one message of each size class (empty,
 * bypass, one fragment, several fragments) to the node's own id, check every
 * byte, print the result as one JSON line and stop the daemon.
 */
static void *snic_selftest_thread(void *arg)
{
	struct snic_state *st = arg;
	const struct snf_ctl *ctl = nicfw_ctl(st->fw);
	uint32_t sizes[] = { 0, 100, 4000, 3 * ctl->max_frag + 17 };
	char err[256] = "", detail[512];
	struct snownic *h = NULL;
	unsigned long long bytes = 0;
	unsigned i, frags_before = 0;
	int rc;
	json_t *j;

	rc = snownic_open(st->o.socket, SELFTEST_MEM, &h, err, sizeof(err));
	if (!rc) {
		frags_before = (unsigned)atomic_load(&ctl->counters.frags_tx);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && !rc; i++) {
			if (sizes[i] > SELFTEST_MEM / 2 - 64)
				sizes[i] = SELFTEST_MEM / 2 - 64;
			rc = selftest_one(h, (uint16_t)st->cfg.node_id, sizes[i], i + 1, err,
					  sizeof(err));
			bytes += sizes[i];
		}
	}
	if (!rc)
		snprintf(detail, sizeof(detail),
			 "node %u on %s (MTU %u): 4 messages (0, 100, 4000, %u B) to its own id, "
			 "%llu bytes checked, %u fragments through the engines",
			 st->cfg.node_id, st->o.iface, ctl->mtu, sizes[3], bytes,
			 (unsigned)atomic_load(&ctl->counters.frags_tx) - frags_before);
	else
		snprintf(detail, sizeof(detail), "node %u on %s: %s", st->cfg.node_id, st->o.iface,
			 err);
	if (h)
		snownic_close(h);
	st->test_rc = rc ? 1 : 0;
	j = json_pack("{s:s, s:s}", "result", rc ? "fail" : "pass", "detail", detail);
	if (j) {
		json_dumpf(j, stdout, JSON_COMPACT);
		json_decref(j);
	}
	printf("\n");
	fflush(stdout);
	/* Stop the poll loop as a signal would. */
	selfpipe_post(&st->sig, SNIC_SELFTEST_DONE);
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: snow-nic --iface IFACE --node ID [--peers ID=MAC,...] [options]\n"
		   "The emulated NIC offload engine of a Snow node (docs/nic.md).\n");
	conf_usage(f, snic_options);
}

int main(int argc, char **argv)
{
	struct snic_state st = { 0 };
	struct hal_emu_params hp = { 0 };
	char err[512];
	int rc, next, i;

	log_init("snow-nic", LOG_LVL_INFO);
	if ((rc = conf_early(snic_options, NULL, "snow-nic", argc, argv)))
		return rc < 0 ? 2 : 0;
	st.o.node = -1;
	st.o.nic_mem = 32;
	st.o.threshold = 256;
	st.o.flow_control = 1;
	st.o.min_frag = 1024;
	st.o.ring_mb = 16;
	st.o.spin_us = 0;
	st.o.inline_dma = 16384;
	st.o.rx_timeout_ms = 2000;
	st.listen_fd = -1;
	st.attached = -1;
	for (i = 0; i < CLIENTS_MAX; i++)
		st.clients[i].fd = -1;

	rc = conf_parse_args(snic_options, &st.o, argc, argv, &next, err, sizeof(err));
	if (rc == -ECANCELED) {
		usage(stdout);
		return 0;
	}
	if (!rc && next < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'", argv[next]);
		rc = -EINVAL;
	}
	/* The file first, then the command line again so that it wins. */
	if (!rc && st.o.config) {
		rc = conf_parse_file(snic_options, &st.o, st.o.config, NULL, NULL, err, sizeof(err));
		if (!rc)
			rc = conf_parse_args(snic_options, &st.o, argc, argv, &next, err, sizeof(err));
	}
	if (!rc && !st.o.socket && !(st.o.socket = strdup("/run/snow-nic.sock")))
		rc = -ENOMEM;
	if (!rc && !st.o.rx_ring && !(st.o.rx_ring = strdup("v2")))
		rc = -ENOMEM;
	if (!rc && !st.o.rx_engine && !(st.o.rx_engine = strdup("cpu")))
		rc = -ENOMEM;
	if (!rc)
		rc = snic_config(&st, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "snow-nic: %s\n", err);
		conf_free(snic_options, &st.o);
		return 2;
	}
	if (st.o.check) {
		printf("snow-nic: configuration ok (node %u, %u peers, iface %s)\n",
		       st.cfg.node_id, st.cfg.npeers, st.o.iface);
		conf_free(snic_options, &st.o);
		return 0;
	}
	if (st.o.verbose)
		log_set_level(LOG_LVL_DEBUG);

	hp.ifname = st.o.iface;
	hp.nicmem = (size_t)st.o.nic_mem << 20;
	hp.rx_v3 = !strcmp(st.o.rx_ring, "v3");
	hp.rx_cpu = !strcmp(st.o.rx_engine, "cpu");
	hp.rx_direct = !strcmp(st.o.rx_ring, "none");
	hp.tx_copy = st.o.tx_copy || (getenv("SNOWNIC_TX_COPY") && atoi(getenv("SNOWNIC_TX_COPY")));
	hp.rx_copy = st.o.rx_copy || (getenv("SNOWNIC_RX_COPY") && atoi(getenv("SNOWNIC_RX_COPY")));
	hp.ring_bytes = (size_t)st.o.ring_mb << 20;
	hp.spin_ns = (uint32_t)st.o.spin_us * 1000u;
	hp.inline_bytes = (uint32_t)st.o.inline_dma;
	rc = hal_emu_create(&hp, &st.hal, err, sizeof(err));
	if (rc) {
		log_warnx("%s", err);
		goto err_opts;
	}
	rc = nicfw_create(st.hal, &st.cfg, &st.fw, err, sizeof(err));
	if (rc) {
		log_warnx("%s", err);
		goto err_hal;
	}
	{
		const struct snf_ctl *c = nicfw_ctl(st.fw);
		log_info("node %u on %s: MTU %u, %u send / %u receive buffers, credits %u%s, threshold %u",
			 c->node_id, st.o.iface, c->mtu, c->tx_slots, c->rx_slots, c->credits,
			 c->flow_control ? "" : " (flow control off)", c->threshold);
		for (i = 0; i < SNF_STAGES; i++) {
			const struct snf_stage *sg = &c->stages[i];

			if (!sg->a_ns && !sg->b_ns)
				log_info("stage %-12s not in the pipeline (the wire engine gathers)",
					 sg->name);
			else if (sg->small_max)
				log_info("stage %-12s a %8.0f ns  b %.4f ns/B  alone %7.0f MB/s; up to %u B: "
					 "a %.0f ns  b %.4f ns/B", sg->name, sg->a_ns, sg->b_ns, sg->mbps,
					 sg->small_max, sg->a_small_ns, sg->b_small_ns);
			else
				log_info("stage %-12s a %8.0f ns  b %.4f ns/B  alone %7.0f MB/s",
					 sg->name, sg->a_ns, sg->b_ns, sg->mbps);
		}
		log_info("sending stages overlap: serial %u/1000 (0: a perfect pipeline)", c->serial_pm);
	}
	rc = selfpipe_open(&st.sig, snic_signals, 2, SELFPIPE_RESTART);
	if (rc) {
		log_warnx("signals: %s", strerror(-rc));
		goto err_fw;
	}
	rc = snic_listen(&st);
	if (rc)
		goto err_pipe;
	if (pthread_create(&st.fw_thread, NULL, snic_fw_thread, &st)) {
		rc = -EAGAIN;
		log_warnx("cannot start the NIC CPU thread");
		goto err_listen;
	}
	pthread_setname_np(st.fw_thread, "nic-cpu");
	log_info("listening on %s", st.o.socket);
	if (st.o.self_test &&
	    pthread_create(&st.test_thread, NULL, snic_selftest_thread, &st)) {
		rc = -EAGAIN;
		log_warnx("cannot start the self-test thread");
		atomic_store(&st.stop_fw, 1);
		pthread_join(st.fw_thread, NULL);
		goto err_listen;
	}
	rc = snic_loop(&st);
	if (st.o.self_test) {
		pthread_join(st.test_thread, NULL);
		if (!rc)
			rc = st.test_rc;
	}
	for (i = 0; i < CLIENTS_MAX; i++)
		if (st.clients[i].fd >= 0)
			snic_client_close(&st, i);
	atomic_store(&st.stop_fw, 1);
	pthread_join(st.fw_thread, NULL);
err_listen:
	close(st.listen_fd);
	unlink(st.o.socket);
err_pipe:
	selfpipe_close(&st.sig);
err_fw:
	nicfw_destroy(st.fw);
err_hal:
	hal_emu_destroy(st.hal);
err_opts:
	conf_free(snic_options, &st.o);
	return rc ? 1 : 0;
}
