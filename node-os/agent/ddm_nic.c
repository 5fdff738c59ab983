/* The agent's DDM: the NIC offload engine (snow-nic) as a device (ddm.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ddm_priv.h"
#include "nicst.h"
#include "tree.h"

/* snow-nic --self-test: calibration plus four messages (env->tick pats the watchdog meanwhile). */
#define DDM_NIC_DIAG_MS 15000
#define DDM_NIC_STOP_MS 3000  /* offline: how long snow-nic gets to exit */
#define DDM_NIC_START_MS 6000 /* online: how long to wait for a fresh status */

/*
 * The NIC offload engine: present when snow-nic's status or control file
 * exists or the node has a compute identity.  Online while the status is
 * fresh, offline while the control file holds it stopped, else inactive
 * (starting, or dead and being restarted by /init).
 */
static void ddm_nic_scan(const struct ddm_class_ops *cls, const struct ddm_scan_ctx *sc)
{
	const struct ddm_env *env = sc->env;
	struct instr_dev *dev;
	struct nicst s;
	json_t *c, *v;
	const char *k;

	nicst_read(env->root, time(NULL), &s);
	if (!s.present && !s.down && !(env->nic_mac && *env->nic_mac))
		return;
	dev = ddm_add(sc->l, cls, "nic/%s", "engine0");
	if (!dev) {
		nicst_clear(&s);
		return;
	}
	dev->run = s.down ? INSTR_OFFLINE : s.fresh ? INSTR_ONLINE : INSTR_INACTIVE;
	ddm_cannot(dev, INSTR_OP_SHUTDOWN,
		   "/init supervises snow-nic and would restart it: take it offline instead");
	if (s.present) {
		json_object_set_new(dev->stats, "iface", json_string(s.iface));
		ddm_stat_num(dev->stats, "node", (double)s.node);
		ddm_stat_num(dev->stats, "mtu", (double)s.mtu);
		ddm_stat_num(dev->stats, "pid", (double)s.pid);
		ddm_stat_num(dev->stats, "status_age_s", (double)s.age_s);
		v = json_object_get(s.json, "attached_pid");
		json_object_set(dev->stats, "attached_pid", v ? v : json_null());
		c = json_object_get(s.json, "counters");
		json_object_foreach(c, k, v)
			if (json_is_integer(v))
				json_object_set(dev->stats, k, v);
	}
	nicst_clear(&s);
}

/* ---- scan and events ------------------------------------------------------- */

/* Engine audit: the status is fresh and the compute link has carrier. */
static void ddm_nic_audit(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char rel[160];
	unsigned long long carrier;
	struct nicst s;

	nicst_read(env->root, time(NULL), &s);
	if (!s.present)
		ddm_check_set(c, 0, env->now, "no status from snow-nic (%s)", NICST_STATUS);
	else if (!s.fresh)
		ddm_check_set(c, 0, env->now, "status is %ld s old: snow-nic is not running",
			      s.age_s);
	else if (!s.iface[0])
		ddm_check_set(c, 0, env->now, "status names no interface");
	else {
		snprintf(rel, sizeof(rel), "sys/class/net/%s/carrier", s.iface);
		if (tree_read_ull(env->root, rel, &carrier))
			ddm_check_set(c, 0, env->now, "%s: carrier unreadable", s.iface);
		else
			ddm_check_set(c, carrier == 1, env->now,
				      "status %ld s old, node %ld, %s MTU %ld, carrier %s", s.age_s,
				      s.node, s.iface, s.mtu, carrier == 1 ? "up" : "down");
	}
	nicst_clear(&s);
}

/*
 * Engine diag: `snow-nic --self-test` on the compute interface (the engine
 * is offline, so it has the interface to itself): messages of every size
 * class to the node's own id, every byte checked.  Its last output line is
 * {"result", "detail"}; a timeout kills it.
 */
static void ddm_nic_diag(const struct ddm_env *env, const char *name, struct instr_check *c)
{
	char iface[64], sock[4096], out[8192], *line, *p;
	const char *bin = env->nic_bin && *env->nic_bin ? env->nic_bin : "snow-nic";
	const char *argv[12];
	long long t0 = (long long)clock_mono_ms(), left;
	size_t len = 0;
	int pfd[2], status = 0, n = 0, timed_out = 0;
	json_t *j = NULL;
	pid_t pid;

	ddm_if_by_mac(env, env->nic_mac, iface, sizeof(iface));
	if (!iface[0]) {
		ddm_check_set(c, 0, env->now, "no interface has the compute MAC %s",
			      env->nic_mac && *env->nic_mac ? env->nic_mac : "(SNOW_NIC_MAC unset)");
		return;
	}
	if (!env->nic_id || !*env->nic_id) {
		ddm_check_set(c, 0, env->now, "SNOW_NIC_ID is not set");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/run/snow-nic-diag.sock", env->root);
	argv[n++] = bin;
	argv[n++] = "-i";
	argv[n++] = iface;
	argv[n++] = "--node";
	argv[n++] = env->nic_id;
	if (env->nic_peers && *env->nic_peers) {
		argv[n++] = "--peers";
		argv[n++] = env->nic_peers;
	}
	argv[n++] = "-s";
	argv[n++] = sock;
	argv[n++] = "--self-test";
	argv[n] = NULL;
	if (pipe2(pfd, O_CLOEXEC)) {
		ddm_check_set(c, 0, env->now, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		ddm_check_set(c, 0, env->now, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(bin, (char *const *)argv);
		dprintf(1, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		struct pollfd q = { pfd[0], POLLIN, 0 };
		ssize_t r;
		int pr;

		left = DDM_NIC_DIAG_MS - ((long long)clock_mono_ms() - t0);
		if (left <= 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		pr = poll(&q, 1, (int)(left > DDM_TICK_MS ? DDM_TICK_MS : left));
		ddm_tick(env);
		if (pr < 0 && errno != EINTR)
			break;
		if (pr <= 0 || !q.revents)
			continue;
		if (len + 1 >= sizeof(out)) { /* keep the tail: the verdict is last */
			memmove(out, out + sizeof(out) / 2, len - sizeof(out) / 2);
			len -= sizeof(out) / 2;
		}
		r = read(pfd[0], out + len, sizeof(out) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(pfd[0]);
	out[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/*
	 * The verdict is the last {"result": ...} object.  Its log lines share
	 * the pipe and come from other threads, so it may sit mid-line.
	 */
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	line = NULL;
	for (p = out; (p = strstr(p, "{\"result\"")); p++)
		line = p;
	if (line)
		j = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	if (timed_out) {
		ddm_check_set(c, 0, env->now, "self-test on %s did not finish in %d s (killed)",
			      iface, DDM_NIC_DIAG_MS / 1000);
	} else if (j && json_is_string(json_object_get(j, "result"))) {
		const char *res = json_string_value(json_object_get(j, "result"));
		const char *det = json_string_value(json_object_get(j, "detail"));
		int pass = !strcmp(res, "pass") && WIFEXITED(status) && !WEXITSTATUS(status);
		ddm_check_set(c, pass, env->now, "%s (%lld ms)", det ? det : res,
			      (long long)clock_mono_ms() - t0);
	} else {
		p = strrchr(out, '\n');
		ddm_check_set(c, 0, env->now, "self-test on %s exited with status %d: %.300s",
			      iface, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			      p ? p + 1 : out[0] ? out : "no output");
	}
	json_decref(j);
}

/* Is ROOT/proc/PID a snow-nic (a status file may name a pid reused since)? */
static int ddm_pid_is_snow_nic(const struct ddm_env *env, long pid)
{
	char rel[64], comm[32];

	snprintf(rel, sizeof(rel), "proc/%ld/comm", pid);
	return !tree_read_str(env->root, rel, comm, sizeof(comm)) && !strcmp(comm, "snow-nic");
}

/*
 * Engine offline: the control file first (so /init does not start it again),
 * then SIGTERM to the pid in the status file and a wait for it to go; /init
 * also stops a snow-nic it finds running under the control file.  The status
 * file goes, so that online waits for a new one.  Online removes the control
 * file and, on a real node, waits for the restarted engine's first status.
 * @ret 0 or -errno with err.
 */
static int ddm_nic_set(const struct ddm_env *env, int up, char *err, size_t errlen)
{
	char path[4096];
	struct nicst s;
	long long t0 = (long long)clock_mono_ms();
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", env->root, NICST_DOWN);
	if (up) {
		if (unlink(path) && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		while (!env->root[0] && (long long)clock_mono_ms() - t0 < DDM_NIC_START_MS) {
			nicst_read(env->root, time(NULL), &s);
			rc = s.fresh;
			nicst_clear(&s);
			if (rc)
				break;
			usleep(200000);
			ddm_tick(env);
		}
		return 0;
	}
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -errno;
		}
		dprintf(fd, "offline by snow-agent\n");
		close(fd);
	}
	nicst_read(env->root, time(NULL), &s);
	if (s.pid > 0 && ddm_pid_is_snow_nic(env, s.pid) && kill((pid_t)s.pid, SIGTERM) == 0) {
		while (ddm_pid_is_snow_nic(env, s.pid) && (long long)clock_mono_ms() - t0 < DDM_NIC_STOP_MS)
		{
			usleep(50000);
			ddm_tick(env);
		}
		if (ddm_pid_is_snow_nic(env, s.pid))
			kill((pid_t)s.pid, SIGKILL);
	}
	nicst_clear(&s);
	snprintf(path, sizeof(path), "%s/%s", env->root, NICST_STATUS);
	unlink(path);
	return 0;
}

static int ddm_nic_set_run(struct ddm *d, const struct ddm_env *env, const struct instr_dev *dev,
			   const char *name, enum instr_op op, char *err, size_t errlen)
{
	return ddm_nic_set(env, op == INSTR_OP_ONLINE, err, errlen);
}

const struct ddm_class_ops ddm_nic_class = {
	.name = "nic-engine",
	.scan = ddm_nic_scan,
	.set_run = ddm_nic_set_run,
	.diag = ddm_nic_diag,
	.audit = ddm_nic_audit,
};
