/*
 * Power commands and their drivers (power.h): QMP as a non-blocking state
 * machine per socket, ipmitool as a child; both with deadlines.
 */
#include "power.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bmc.h"
#include "buf.h"
#include "inv.h"
#include "snowd.h"
#include "stream.h"
#include "clock.h"
#include "fsafe.h"
#include "log.h"
#include "nodes.h"
#include "power_redfish.h"

enum power_kind { POWER_FREE = 0, POWER_QMP, POWER_IPMI };

#define QMP_PLAN_MAX 6
#define QMP_RETRY_MS 50          /* connect again this soon when the listener's backlog is full */
#define QMP_MAX_ANSWER (1u << 20)

/* One power operation under way: a slot of struct power, found by index or pid. */
struct power_op {
	enum power_kind kind;           /* POWER_FREE: the slot is unused */
	int64_t cmd_id;
	char op[16];                    /* power.on, power.off, power.cycle, power.status */
	char node[SNOW_NAME_MAX + 1];   /* for the log */
	int64_t deadline;               /* monotonic ms */
	/* qmp */
	int fd;                         /* the socket (non-blocking), or -1 */
	int connected;
	int64_t retry_at;               /* monotonic ms: connect again then */
	struct sockaddr_un sa;
	struct buf in;                  /* what QEMU sent that is not a whole line yet */
	const char *plan[QMP_PLAN_MAX]; /* the commands to send, in order (static strings) */
	int nplan, cur;                 /* cur: the command whose answer is awaited; -1: the greeting */
	/* The VM's run state at the first and the last query-status (same size). */
	char before[32], status[32];
	/* ipmi */
	pid_t pid;
	int killed;                     /* killed at the deadline */
};

struct power {
	int epfd;                       /* the QMP sockets, data.u32 = slot index; and rf's set */
	struct power_redfish *rf;       /* the redfish driver (power_redfish.h) */
	unsigned nops;
	struct power_op ops[POWER_MAX_OPS];
};

struct power *power_new(void)
{
	struct power *p = calloc(1, sizeof(*p));
	unsigned i;

	if (!p)
		return NULL;
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->epfd < 0) {
		free(p);
		return NULL;
	}
	for (i = 0; i < POWER_MAX_OPS; i++)
		p->ops[i].fd = -1;
	p->rf = power_redfish_new();
	if (!p->rf)
		goto err_close;
	/* The redfish driver's own epoll set, nested: POWER_MAX_OPS marks it. */
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = POWER_MAX_OPS };
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, power_redfish_fd(p->rf), &ev))
		goto err_rf;
	return p;
err_rf:
	power_redfish_free(p->rf);
err_close:
	close(p->epfd);
	free(p);
	return NULL;
}

static void power_slot_free(struct power *p, struct power_op *o)
{
	if (o->fd >= 0)
		close(o->fd);
	buf_free(&o->in);
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	p->nops--;
}

void power_free(struct power *p)
{
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < POWER_MAX_OPS; i++)
		if (p->ops[i].kind != POWER_FREE)
			power_slot_free(p, &p->ops[i]);
	power_redfish_free(p->rf);
	close(p->epfd);
	free(p);
}

struct power_redfish *power_rf(struct power *p)
{
	return p->rf;
}

int power_fd(const struct power *p)
{
	return p->epfd;
}

int power_timeout_ms(const struct power *p, int64_t now_ms)
{
	int64_t next = INT64_MAX;
	int rto = power_redfish_timeout_ms(p->rf, now_ms);
	unsigned i;

	if (rto >= 0)
		next = now_ms + rto;
	for (i = 0; p->nops && i < POWER_MAX_OPS; i++) {
		const struct power_op *o = &p->ops[i];
		if (o->kind == POWER_FREE || (o->kind == POWER_IPMI && o->killed))
			continue;
		if (o->deadline < next)
			next = o->deadline;
		if (o->kind == POWER_QMP && !o->connected && o->retry_at < next)
			next = o->retry_at;
	}
	if (next == INT64_MAX)
		return -1;
	return next <= now_ms ? 0 : next - now_ms > 60000 ? 60000 : (int)(next - now_ms);
}

static struct power_op *power_slot(struct power *p, enum power_kind kind, int64_t cmd_id,
				   const struct inv_node *n, const char *op)
{
	unsigned i;

	for (i = 0; i < POWER_MAX_OPS; i++) {
		struct power_op *o = &p->ops[i];
		if (o->kind != POWER_FREE)
			continue;
		o->kind = kind;
		o->cmd_id = cmd_id;
		snprintf(o->op, sizeof(o->op), "%s", op);
		snprintf(o->node, sizeof(o->node), "%s", n->name);
		p->nops++;
		return o;
	}
	return NULL;
}

void power_finish(struct snowd *sd, int64_t id, const char *op, const char *node,
		  const char *driver, int ok, json_t *result, const char *error)
{
	int rc = inv_cmd_finish(&sd->inv, id, ok, result, error, (int64_t)time(NULL));
	json_t *c;

	log_info("command %lld: %s of %s by %s: %s", (long long)id, op, node, driver,
		 ok ? "done" : error);
	/* What the driver says of the power holds whether or not the command is still open. */
	if (ok)
		nodes_power_result(sd, node, op, result);
	if (ok && (!strcmp(op, "power.on") || !strcmp(op, "power.cycle")))
		bmc_sol_restart(sd, node);
	if (rc == -ENOENT) {
		/* Timed out meanwhile, or its node was removed: nothing to record. */
		log_debug("command %lld: no longer open, result dropped", (long long)id);
		return;
	}
	if (rc)
		log_warnx("command %lld: result not stored", (long long)id);
	if ((c = inv_cmd_get(&sd->inv, id)))
		stream_publish(&sd->stream, "command", c);
}

/* Record a finished operation (result borrowed), tell the stream, free the slot. */
static void power_done(struct snowd *sd, struct power_op *o, int ok, json_t *result,
		       const char *error)
{
	int64_t id = o->cmd_id;
	char op[sizeof(o->op)], node[sizeof(o->node)];
	const char *driver = o->kind == POWER_QMP ? "qmp" : "ipmi";

	memcpy(op, o->op, sizeof(op));
	memcpy(node, o->node, sizeof(node));
	power_slot_free(sd->power, o);
	power_finish(sd, id, op, node, driver, ok, result, error);
}

/* --- qmp --------------------------------------------------------------------------------- */

/* Copy text from QEMU for a message, control characters made harmless. */
static void power_clean(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < cap; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[cap ? i : 0] = '\0';
}

static const char *qmp_waiting_for(const struct power_op *o)
{
	return o->cur < 0 ? "the greeting" : o->plan[o->cur];
}

/* Send {"execute": plan[cur]}.  @ret 0 or -errno with err. */
static int qmp_send(struct power_op *o, char *err, size_t errlen)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "{\"execute\": \"%s\"}\n", o->plan[o->cur]);
	ssize_t w = send(o->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);

	/* One short line per answer: the socket buffer never holds a backlog. */
	if (w != n) {
		snprintf(err, errlen, "qmp: cannot send %s: %s", o->plan[o->cur],
			 w < 0 ? strerror(errno) : "short write");
		return -EIO;
	}
	return 0;
}

/* The commands after the first query-status, from the VM's state then. */
static void qmp_plan(struct power_op *o)
{
	int running = !strcmp(o->before, "running"), paused = !strcmp(o->before, "paused");
	int cycle = !strcmp(o->op, "power.cycle");

	if (!strcmp(o->op, "power.status"))
		return;
	if (!strcmp(o->op, "power.off")) {
		/* Stop the CPUs: a hard off that on can undo (the QEMU process stays). */
		if (!paused)
			o->plan[o->nplan++] = "stop";
	} else {
		/* On from off is a fresh boot: reset, then let the CPUs run. */
		if (cycle || !running)
			o->plan[o->nplan++] = "system_reset";
		if (!running)
			o->plan[o->nplan++] = "cont";
	}
	o->plan[o->nplan++] = "query-status";
}

/*
 * One line from QEMU that is not an event.  @ret 0 (more to come), 1 with
 * *result (a new reference) when the exchange is complete, or -errno with err.
 */
static int qmp_answer(struct power_op *o, json_t *v, json_t **result, char *err, size_t errlen)
{
	json_t *ret;

	if (o->cur < 0) {
		if (!json_object_get(v, "QMP")) {
			snprintf(err, errlen, "qmp: no QMP greeting (is this a QMP socket?)");
			return -EPROTO;
		}
		o->cur = 0;
		return qmp_send(o, err, errlen);
	}
	ret = json_object_get(v, "return");
	if (!ret) {
		char desc[160];
		power_clean(desc, sizeof(desc),
			    json_string_value(json_object_get(json_object_get(v, "error"), "desc")));
		snprintf(err, errlen, "qmp: %s: %s", o->plan[o->cur], desc[0] ? desc : "refused");
		return -EIO;
	}
	if (!strcmp(o->plan[o->cur], "query-status")) {
		const char *s = json_string_value(json_object_get(ret, "status"));
		power_clean(o->status, sizeof(o->status), s ? s : "unknown");
		if (!o->before[0]) {
			memcpy(o->before, o->status, sizeof(o->before));
			qmp_plan(o);
		}
	}
	if (++o->cur < o->nplan)
		return qmp_send(o, err, errlen);
	*result = json_pack("{s:s, s:s, s:s}", "driver", "qmp", "before", o->before, "status",
			    o->status);
	if (!*result) {
		snprintf(err, errlen, "qmp: out of memory");
		return -ENOMEM;
	}
	return 1;
}

/* Connect (again).  @ret 0 (connected, or to retry at retry_at) or -errno with err. */
static int qmp_connect(struct power *p, struct power_op *o, int64_t now, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(o - p->ops) };

	if (connect(o->fd, (struct sockaddr *)&o->sa, sizeof(o->sa)) && errno != EISCONN) {
		if (errno == EAGAIN || errno == EINPROGRESS || errno == EALREADY || errno == EINTR) {
			/* The listener's backlog is full (QEMU serves one client at a time). */
			o->retry_at = now + QMP_RETRY_MS;
			return 0;
		}
		snprintf(err, errlen, "qmp: cannot connect to %s: %s (is the VM running?)",
			 o->sa.sun_path, strerror(errno));
		return -errno;
	}
	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, o->fd, &ev)) {
		snprintf(err, errlen, "qmp: epoll: %s", strerror(errno));
		return -errno;
	}
	o->connected = 1;
	return 0;
}

/* Read what QEMU sent and act on each whole line; the exchange may end here. */
static void qmp_input(struct snowd *sd, struct power_op *o)
{
	char err[300];
	json_t *result = NULL;
	int eof = 0, rc = 0;

	for (;;) {
		ssize_t n;
		if (buf_reserve(&o->in, 4096)) {
			snprintf(err, sizeof(err), "qmp: out of memory");
			goto fail;
		}
		n = read(o->fd, o->in.data + o->in.len, 4096);
		if (n > 0) {
			o->in.len += (size_t)n;
			if (o->in.len > QMP_MAX_ANSWER) {
				snprintf(err, sizeof(err), "qmp: answer to %s too long",
					 qmp_waiting_for(o));
				goto fail;
			}
			continue;
		}
		if (n == 0) {
			eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			break;
		snprintf(err, sizeof(err), "qmp: read: %s", strerror(errno));
		goto fail;
	}
	while (o->in.len) {
		char *nl = memchr(o->in.data, '\n', o->in.len);
		size_t used;
		json_t *v;
		if (!nl)
			break;
		used = (size_t)(nl - o->in.data) + 1;
		v = json_loadb(o->in.data, used - 1, 0, NULL);
		memmove(o->in.data, o->in.data + used, o->in.len - used);
		o->in.len -= used;
		if (!json_is_object(v)) {
			json_decref(v);
			snprintf(err, sizeof(err), "qmp: malformed answer to %s", qmp_waiting_for(o));
			goto fail;
		}
		/* Asynchronous events (STOP, RESUME, RESET...) are not answers. */
		rc = json_object_get(v, "event") ? 0 : qmp_answer(o, v, &result, err, sizeof(err));
		json_decref(v);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			power_done(sd, o, 1, result, NULL);
			json_decref(result);
			return;
		}
	}
	if (!eof)
		return;
	snprintf(err, sizeof(err), "qmp: connection closed while waiting for %s", qmp_waiting_for(o));
fail:
	power_done(sd, o, 0, NULL, err);
}

/*
 * Start the QMP exchange for command id (op on n; power: its settings,
 * borrowed).  @ret 0 (under way), or -errno with err (nothing under way).
 */
static int power_qmp_start(struct snowd *sd, const struct inv_node *n, int64_t id,
			   const char *op, json_t *power, char *err, size_t errlen)
{
	const char *path = json_string_value(json_object_get(power, "socket"));
	int64_t now = clock_mono_ms();
	struct power_op *o;
	int rc;

	if (!path || strlen(path) >= sizeof(o->sa.sun_path)) {
		snprintf(err, errlen, "power.socket: %s", path ? "path too long" : "not set");
		return -EINVAL;
	}
	o = power_slot(sd->power, POWER_QMP, id, n, op);
	if (!o) {
		snprintf(err, errlen, "qmp: too many power operations under way");
		return -EBUSY;
	}
	o->sa.sun_family = AF_UNIX;
	strcpy(o->sa.sun_path, path);
	o->deadline = now + POWER_QMP_DEADLINE_MS;
	o->cur = -1;
	o->plan[o->nplan++] = "qmp_capabilities";
	o->plan[o->nplan++] = "query-status";
	o->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (o->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "qmp: socket: %s", strerror(errno));
		power_slot_free(sd->power, o);
		return rc;
	}
	rc = qmp_connect(sd->power, o, now, err, errlen);
	if (rc)
		power_slot_free(sd->power, o);
	return rc;
}

void power_poll(struct snowd *sd)
{
	struct power *p = sd->power;
	struct epoll_event ev[POWER_MAX_OPS];
	char err[300];
	int64_t now;
	unsigned i;
	int n, k;

	power_redfish_poll(sd, p->rf);
	if (!p->nops)
		return;
	n = epoll_wait(p->epfd, ev, POWER_MAX_OPS, 0);
	for (k = 0; k < n; k++) {
		struct power_op *o;
		if (ev[k].data.u32 >= POWER_MAX_OPS)
			continue; /* the redfish set: polled above */
		o = &p->ops[ev[k].data.u32];
		if (o->kind == POWER_QMP && o->connected)
			qmp_input(sd, o);
	}
	now = clock_mono_ms();
	for (i = 0; p->nops && i < POWER_MAX_OPS; i++) {
		struct power_op *o = &p->ops[i];
		if (o->kind == POWER_IPMI && !o->killed && now >= o->deadline) {
			log_warnx("command %lld: ipmitool (pid %d) for %s of %s still runs after %d s: "
				  "killed", (long long)o->cmd_id, (int)o->pid, o->op, o->node,
				  POWER_IPMI_DEADLINE_MS / 1000);
			kill(o->pid, SIGKILL);
			o->killed = 1;
		}
		if (o->kind != POWER_QMP)
			continue;
		if (now >= o->deadline) {
			if (o->connected)
				snprintf(err, sizeof(err),
					 "qmp: no answer to %s within %d s (deadline passed; is the VM hung?)",
					 qmp_waiting_for(o), POWER_QMP_DEADLINE_MS / 1000);
			else
				snprintf(err, sizeof(err),
					 "qmp: %s took no connection within %d s (deadline passed)",
					 o->sa.sun_path, POWER_QMP_DEADLINE_MS / 1000);
			power_done(sd, o, 0, NULL, err);
		} else if (!o->connected && now >= o->retry_at &&
			   qmp_connect(p, o, now, err, sizeof(err))) {
			power_done(sd, o, 0, NULL, err);
		}
	}
}

/* --- ipmi -------------------------------------------------------------------------------- */

pid_t power_ipmi_spawn(json_t *power, const char *const *args, const char *input, int tty,
		       const char *ipmitool, const char *allow_dir, int *out, char *err,
		       size_t errlen)
{
	char slave[64];
	const char *host = json_string_value(json_object_get(power, "host"));
	const char *user = json_string_value(json_object_get(power, "user"));
	const char *pwfile = json_string_value(json_object_get(power, "password_file"));
	const char *iface = json_string_value(json_object_get(power, "interface"));
	/* A BMC on another port than 623 (ipmi_sim beside others on one host). */
	json_int_t port = json_integer_value(json_object_get(power, "port"));
	/* -C: a cipher suite the BMC offers (ipmi_sim has 3, not ipmitool's default 17). */
	json_int_t cipher = json_object_get(power, "cipher") ?
				    json_integer_value(json_object_get(power, "cipher")) : -1;
	char portbuf[24], cipherbuf[24];
	const char *argv[20];
	int argc = 0;
	char password[256];
	ssize_t n;
	int pipefd[2], infd[2] = { -1, -1 };
	pid_t pid;
	int fd;

	fd = fsafe_open(allow_dir, pwfile, "power.password_file", err, errlen);
	if (fd < 0)
		return fd;
	n = read(fd, password, sizeof(password) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "power.password_file: %s is empty", pwfile);
		return -EINVAL;
	}
	password[n] = '\0';
	password[strcspn(password, "\r\n")] = '\0';
	/* A terminal (sol activate wants one): its master end stands for the pipe's read end. */
	if (tty) {
		pipefd[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		pipefd[1] = -1;
		if (pipefd[0] < 0 || grantpt(pipefd[0]) || unlockpt(pipefd[0]) ||
		    ptsname_r(pipefd[0], slave, sizeof(slave)) ||
		    fcntl(pipefd[0], F_SETFL, O_NONBLOCK)) {
			if (pipefd[0] >= 0)
				close(pipefd[0]);
			explicit_bzero(password, sizeof(password));
			snprintf(err, errlen, "ipmi: terminal: %s", strerror(errno));
			return -EIO;
		}
		input = NULL;
	} else if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK)) {
		/* ipmitool's few lines of output ("Chassis Power is on") fit the pipe: read at exit. */
		explicit_bzero(password, sizeof(password));
		snprintf(err, errlen, "ipmi: pipe: %s", strerror(errno));
		return -errno;
	}
	/* The commands for `exec /dev/stdin`: a few lines, within the pipe's buffer. */
	if (input && (pipe2(infd, O_CLOEXEC) ||
		      write(infd[1], input, strlen(input)) != (ssize_t)strlen(input))) {
		if (infd[0] >= 0) {
			close(infd[0]);
			close(infd[1]);
		}
		close(pipefd[0]);
		close(pipefd[1]);
		explicit_bzero(password, sizeof(password));
		snprintf(err, errlen, "ipmi: input pipe: %s", strerror(errno));
		return -EIO;
	}
	if (input)
		close(infd[1]);
	pid = fork();
	if (pid < 0) {
		if (input)
			close(infd[0]);
		close(pipefd[0]);
		if (pipefd[1] >= 0)
			close(pipefd[1]);
		explicit_bzero(password, sizeof(password));
		snprintf(err, errlen, "ipmi: fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDWR);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (tty) {
			/* Its own session, the terminal its controlling one. */
			int s;
			setsid();
			s = open(slave, O_RDWR);
			if (s < 0)
				_exit(126);
			dup2(s, 0);
			dup2(s, 1);
			dup2(s, 2);
		} else {
			if (input)
				dup2(infd[0], 0);
			else if (devnull >= 0)
				dup2(devnull, 0);
			dup2(pipefd[1], 1); /* dup2 clears close-on-exec on the copy */
			if (input)
				dup2(pipefd[1], 2); /* a poll's reason for failing is in its output */
		}
		/* -E: ipmitool takes the password from IPMI_PASSWORD. */
		setenv("IPMI_PASSWORD", password, 1);
		argv[argc++] = ipmitool;
		argv[argc++] = "-I";
		argv[argc++] = iface ? iface : "lanplus";
		argv[argc++] = "-H";
		argv[argc++] = host;
		if (port > 0) {
			snprintf(portbuf, sizeof(portbuf), "%lld", (long long)port);
			argv[argc++] = "-p";
			argv[argc++] = portbuf;
		}
		if (cipher >= 0) {
			snprintf(cipherbuf, sizeof(cipherbuf), "%lld", (long long)cipher);
			argv[argc++] = "-C";
			argv[argc++] = cipherbuf;
		}
		argv[argc++] = "-U";
		argv[argc++] = user;
		argv[argc++] = "-E";
		for (int i = 0; args[i] && argc < 19; i++)
			argv[argc++] = args[i];
		argv[argc] = NULL;
		execvp(ipmitool, (char *const *)argv);
		fprintf(stderr, "ipmi: exec %s: %s\n", ipmitool, strerror(errno));
		_exit(127);
	}
	explicit_bzero(password, sizeof(password));
	if (input)
		close(infd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	*out = pipefd[0];
	return pid;
}

/* Start ipmitool for command id.  @ret 0 (under way), or -errno with err (nothing started). */
static int power_ipmi_start(struct snowd *sd, const struct inv_node *n, int64_t id,
			    const char *op, json_t *power, char *err, size_t errlen)
{
	struct power_op *o = power_slot(sd->power, POWER_IPMI, id, n, op);
	pid_t pid;

	if (!o) {
		snprintf(err, errlen, "ipmi: too many power operations under way");
		return -EBUSY;
	}
	const char *what = !strcmp(op, "power.on") ? "on" : !strcmp(op, "power.off") ? "off" :
			   !strcmp(op, "power.cycle") ? "cycle" : "status";
	const char *args[] = { "chassis", "power", what, NULL };

	pid = power_ipmi_spawn(power, args, NULL, 0, sd->cfg.ipmitool, sd->cfg.allow_dir, &o->fd, err,
			       errlen);
	if (pid < 0) {
		power_slot_free(sd->power, o);
		return (int)pid;
	}
	o->pid = pid;
	o->deadline = clock_mono_ms() + POWER_IPMI_DEADLINE_MS;
	return 0;
}

/*
 * What an ipmitool that exited 0 said on fd: the chassis state when it said
 * one ("Chassis Power is on"), else its first line.  @ret a new reference, or
 * NULL.
 */
static json_t *power_ipmi_result(int fd)
{
	char out[512], line[128];
	ssize_t n = fd >= 0 ? read(fd, out, sizeof(out) - 1) : -1;
	const char *is;

	if (n < 0)
		n = 0;
	out[n] = '\0';
	if ((is = strstr(out, "Chassis Power is ")))
		return json_pack("{s:s, s:s}", "driver", "ipmi", "status",
				 !strncmp(is + 17, "on", 2) ? "On" : !strncmp(is + 17, "off", 3) ? "Off" :
								     "unknown");
	out[strcspn(out, "\r\n")] = '\0';
	power_clean(line, sizeof(line), out);
	return json_pack("{s:s, s:s}", "driver", "ipmi", "said", line);
}

int power_reaped(struct snowd *sd, pid_t pid, int status)
{
	struct power *p = sd->power;
	unsigned i;

	for (i = 0; p && p->nops && i < POWER_MAX_OPS; i++) {
		struct power_op *o = &p->ops[i];
		int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		json_t *result;
		char why[96];
		if (o->kind != POWER_IPMI || o->pid != pid)
			continue;
		if (o->killed)
			snprintf(why, sizeof(why), "ipmitool: no exit within %d s (deadline passed), killed",
				 POWER_IPMI_DEADLINE_MS / 1000);
		else
			snprintf(why, sizeof(why), "ipmitool %s %d",
				 WIFEXITED(status) ? "exited with" : "killed by",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		result = ok ? power_ipmi_result(o->fd) : NULL;
		power_done(sd, o, ok, result, ok ? NULL : why);
		json_decref(result);
		return 1;
	}
	return 0;
}

/* --- commands ---------------------------------------------------------------------------- */

int power_command(struct snowd *sd, const struct inv_node *n, const char *op, json_t **cmd,
		  char *err, size_t errlen)
{
	json_t *eff, *power, *none;
	const char *driver, *queued = op;
	int64_t id, now = (int64_t)time(NULL);
	int rc;

	*cmd = NULL;
	if (strcmp(op, "power.on") && strcmp(op, "power.off") && strcmp(op, "power.cycle") &&
	    strcmp(op, "power.status")) {
		snprintf(err, errlen, "op: '%.32s' is not a power operation", op);
		return -EINVAL;
	}
	eff = nodes_effective(sd, n, NULL);
	if (!eff) {
		snprintf(err, errlen, "inventory error");
		return -EIO;
	}
	power = json_object_get(eff, "power");
	driver = json_string_value(json_object_get(power, "driver"));
	if (!driver || !strcmp(driver, "agent")) {
		/* Soft: the agent's own commands, delivered to the node in a report answer. */
		driver = "agent";
		queued = !strcmp(op, "power.off")   ? "poweroff" :
			 !strcmp(op, "power.cycle") ? "reboot" :
						      NULL;
		if (!queued) {
			snprintf(err, errlen, "op: %s needs a power driver (set power to qmp, ipmi or "
					      "redfish); "
					      "the agent can only switch its node off or reboot it", op);
			rc = -ENOTSUP;
			goto out;
		}
	} else if (strcmp(driver, "qmp") && strcmp(driver, "ipmi") && strcmp(driver, "redfish")) {
		snprintf(err, errlen, "power.driver: '%.16s' is not agent, qmp, ipmi or redfish",
			 driver);
		rc = -ENOTSUP;
		goto out;
	}
	none = json_object();
	rc = none ? inv_cmd_add(&sd->inv, n->id, queued, none, now, &id) : -ENOMEM;
	json_decref(none);
	if (rc) {
		snprintf(err, errlen, "inventory error");
		rc = -EIO;
		goto out;
	}
	nodes_cmd_queued(sd, n->id);
	if (strcmp(driver, "agent")) {
		char why[300];
		rc = !strcmp(driver, "qmp")  ? power_qmp_start(sd, n, id, op, power, why, sizeof(why)) :
		     !strcmp(driver, "ipmi") ? power_ipmi_start(sd, n, id, op, power, why, sizeof(why)) :
					       power_redfish_start(sd, sd->power->rf, n, id, op, power,
								   why, sizeof(why));
		/* Under way: sent (to the driver) until its result arrives. */
		if (!rc && inv_cmd_mark_sent(&sd->inv, id, now))
			log_warnx("command %lld: not marked sent", (long long)id);
		if (rc) {
			/* The driver could not start: the command failed, and says why. */
			inv_cmd_finish(&sd->inv, id, 0, NULL, why, now);
			log_info("command %lld: %s of %s by %s: %s", (long long)id, op, n->name, driver,
				 why);
		}
	}
	*cmd = inv_cmd_get(&sd->inv, id);
	if (!*cmd) {
		snprintf(err, errlen, "inventory error");
		rc = -EIO;
		goto out;
	}
	stream_publish(&sd->stream, "command", json_incref(*cmd));
	rc = 0;
out:
	json_decref(eff);
	return rc;
}
