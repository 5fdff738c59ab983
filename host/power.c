#include "power.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "inv.h"
#include "snowd.h"
#include "stream.h"
#include "log.h"

#define QMP_TIMEOUT_MS 3000

struct qmp {
	int fd;
	struct buf in;
	long long deadline;
};

static long long power_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the next JSON line that is not an asynchronous event.  @ret new ref or NULL. */
static json_t *qmp_read(struct qmp *q, char *err, size_t errlen)
{
	for (;;) {
		char *nl = q->in.data ? memchr(q->in.data, '\n', q->in.len) : NULL;
		if (nl) {
			json_t *v = json_loadb(q->in.data, (size_t)(nl - q->in.data), 0, NULL);
			size_t used = (size_t)(nl - q->in.data) + 1;
			memmove(q->in.data, q->in.data + used, q->in.len - used);
			q->in.len -= used;
			if (v && json_object_get(v, "event")) {
				json_decref(v);
				continue;
			}
			if (!v)
				snprintf(err, errlen, "qmp: malformed answer");
			return v;
		}
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		long long left = q->deadline - power_now_ms();
		ssize_t n;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			snprintf(err, errlen, "qmp: no answer in %d ms", QMP_TIMEOUT_MS);
			return NULL;
		}
		if (buf_reserve(&q->in, 4096))
			return NULL;
		n = read(q->fd, q->in.data + q->in.len, 4096);
		if (n <= 0) {
			snprintf(err, errlen, "qmp: connection closed");
			return NULL;
		}
		q->in.len += (size_t)n;
		if (q->in.len > (1u << 20)) {
			snprintf(err, errlen, "qmp: answer too long");
			return NULL;
		}
	}
}

/* Send {"execute": cmd}; @ret the "return" member (new ref) or NULL with err. */
static json_t *qmp_exec(struct qmp *q, const char *cmd, char *err, size_t errlen)
{
	char line[128];
	json_t *a, *ret;
	int n = snprintf(line, sizeof(line), "{\"execute\": \"%s\"}\n", cmd);

	if (write(q->fd, line, (size_t)n) != n) {
		snprintf(err, errlen, "qmp: %s: %s", cmd, strerror(errno));
		return NULL;
	}
	a = qmp_read(q, err, errlen);
	if (!a)
		return NULL;
	ret = json_object_get(a, "return");
	if (!ret) {
		const char *desc = json_string_value(json_object_get(json_object_get(a, "error"), "desc"));
		snprintf(err, errlen, "qmp: %s: %s", cmd, desc ? desc : "refused");
		json_decref(a);
		return NULL;
	}
	json_incref(ret);
	json_decref(a);
	return ret;
}

static int qmp_status(struct qmp *q, char *status, size_t cap, char *err, size_t errlen)
{
	json_t *r = qmp_exec(q, "query-status", err, errlen);
	const char *s;

	if (!r)
		return -EIO;
	s = json_string_value(json_object_get(r, "status"));
	snprintf(status, cap, "%s", s ? s : "unknown");
	json_decref(r);
	return 0;
}

int power_qmp(const char *socket_path, const char *op, json_t **result, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct qmp q = { .fd = -1, .in = BUF_INIT, .deadline = power_now_ms() + QMP_TIMEOUT_MS };
	char before[32], after[32];
	json_t *g, *r;
	int rc = -EIO;

	*result = NULL;
	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "power.socket: path too long");
		return -EINVAL;
	}
	strcpy(sa.sun_path, socket_path);
	q.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q.fd < 0 || connect(q.fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "qmp: cannot connect to %s: %s (is the VM running?)", socket_path,
			 strerror(errno));
		goto out;
	}
	/* The greeting, then capabilities negotiation, as QMP requires. */
	g = qmp_read(&q, err, errlen);
	if (!g)
		goto out;
	json_decref(g);
	if (!(r = qmp_exec(&q, "qmp_capabilities", err, errlen)))
		goto out;
	json_decref(r);
	if (qmp_status(&q, before, sizeof(before), err, errlen))
		goto out;
	if (!strcmp(op, "power.off")) {
		if (strcmp(before, "paused") && !(r = qmp_exec(&q, "stop", err, errlen)))
			goto out;
		if (strcmp(before, "paused"))
			json_decref(r);
	} else if (!strcmp(op, "power.on") || !strcmp(op, "power.cycle")) {
		/* On from off is a fresh boot: reset, then let the CPUs run. */
		if (!strcmp(op, "power.cycle") || strcmp(before, "running")) {
			if (!(r = qmp_exec(&q, "system_reset", err, errlen)))
				goto out;
			json_decref(r);
		}
		if (strcmp(before, "running")) {
			if (!(r = qmp_exec(&q, "cont", err, errlen)))
				goto out;
			json_decref(r);
		}
	} else if (strcmp(op, "power.status")) {
		snprintf(err, errlen, "op: '%s' is not a power operation", op);
		rc = -EINVAL;
		goto out;
	}
	if (qmp_status(&q, after, sizeof(after), err, errlen))
		goto out;
	*result = json_pack("{s:s, s:s, s:s}", "driver", "qmp", "before", before, "status", after);
	rc = 0;
out:
	if (q.fd >= 0)
		close(q.fd);
	buf_free(&q.in);
	return rc;
}

pid_t power_ipmi_start(json_t *power, const char *op, const char *ipmitool, char *err,
		       size_t errlen)
{
	const char *host = json_string_value(json_object_get(power, "host"));
	const char *user = json_string_value(json_object_get(power, "user"));
	const char *pwfile = json_string_value(json_object_get(power, "password_file"));
	const char *iface = json_string_value(json_object_get(power, "interface"));
	const char *what = !strcmp(op, "power.on") ? "on" : !strcmp(op, "power.off") ? "off" :
			   !strcmp(op, "power.cycle") ? "cycle" : "status";
	char password[256];
	ssize_t n;
	pid_t pid;
	int fd;

	fd = open(pwfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "power.password_file: %s: %s", pwfile, strerror(errno));
		return -errno;
	}
	n = read(fd, password, sizeof(password) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "power.password_file: %s is empty", pwfile);
		return -EINVAL;
	}
	password[n] = '\0';
	password[strcspn(password, "\r\n")] = '\0';
	pid = fork();
	if (pid < 0) {
		explicit_bzero(password, sizeof(password));
		snprintf(err, errlen, "ipmi: fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDWR);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (devnull >= 0)
			dup2(devnull, 0);
		/* -E: ipmitool takes the password from IPMI_PASSWORD. */
		setenv("IPMI_PASSWORD", password, 1);
		execlp(ipmitool, ipmitool, "-I", iface ? iface : "lanplus", "-H", host, "-U", user,
		       "-E", "chassis", "power", what, (char *)NULL);
		fprintf(stderr, "ipmi: exec %s: %s\n", ipmitool, strerror(errno));
		_exit(127);
	}
	explicit_bzero(password, sizeof(password));
	return pid;
}

int power_reaped(struct snowd *sd, pid_t pid, int status)
{
	unsigned i;

	for (i = 0; i < sd->npower; i++) {
		if (sd->power_children[i].pid != pid)
			continue;
		int64_t id = sd->power_children[i].cmd_id;
		int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		char why[96];
		json_t *c;
		snprintf(why, sizeof(why), "ipmitool %s %d", WIFEXITED(status) ? "exited with" : "killed by",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		inv_cmd_finish(&sd->inv, id, ok, NULL, ok ? NULL : why, (int64_t)time(NULL));
		log_info("command %lld: ipmi %s", (long long)id, ok ? "done" : why);
		if ((c = inv_cmd_get(&sd->inv, id)))
			stream_publish(&sd->stream, "command", c);
		sd->power_children[i] = sd->power_children[--sd->npower];
		return 1;
	}
	return 0;
}
