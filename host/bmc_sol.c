/* Serial-over-LAN sessions of IPMI BMCs, logged per node (bmc.h, bmc_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bmc_int.h"
#include "bootlog.h"
#include "clock.h"
#include "inv.h"
#include "log.h"
#include "power.h"

/* The node's folder of SOL logs, STATE/sol/NODE.  @ret 0, or -ENAMETOOLONG. */
static int bmc_sol_dir(const struct snowd *sd, const char *node, char *path, size_t cap)
{
	int n = snprintf(path, cap, "%s/sol/%s", sd->cfg.state_dir, node);

	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

/* What goes with a boot's SOL log when it is pruned: its older half. */
static const char *const bmc_sol_companions[] = { ".log.1", NULL };

static void bmc_sol_write(struct snowd *sd, struct bmc_node *bn, const char *data, size_t len);

/* bn's SOL log goes on in a new boot's file, which starts with a line saying why. */
static void bmc_sol_new_boot(struct snowd *sd, struct bmc_node *bn, const char *why)
{
	int64_t ms = clock_real_ms();
	time_t t = (time_t)(ms / 1000);
	char stamp[24], line[500];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(bn->sol_boot, sizeof(bn->sol_boot), "%s.%03dZ", stamp, (int)(ms % 1000));
	snprintf(line, sizeof(line), "--- snowd: boot of %s begun at %lld (%s) ---\n", bn->name,
		 (long long)t, why);
	bmc_sol_write(sd, bn, line, strlen(line));
}

/*
 * The current boot's log, into path: the boot bn knows, else (snowd started)
 * the newest kept, else a new one.  @ret 0, or -ENAMETOOLONG.
 */
static int bmc_sol_path(struct snowd *sd, struct bmc_node *bn, char *path, size_t cap)
{
	char dir[4200];
	int n;

	if (bmc_sol_dir(sd, bn->name, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	if (!bn->sol_boot[0])
		bootlog_newest(dir, bn->sol_boot, sizeof(bn->sol_boot));
	if (!bn->sol_boot[0])
		bmc_sol_new_boot(sd, bn, "the first serial-over-LAN session");
	n = snprintf(path, cap, "%s/%s.log", dir, bn->sol_boot);
	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

/* Append len bytes to the current boot's SOL log; past BMC_SOL_MAX the old half goes to BOOT.log.1. */
static void bmc_sol_write(struct snowd *sd, struct bmc_node *bn, const char *data, size_t len)
{
	char dir[4200], path[4300], old[4310];
	struct stat st;
	int fd, fresh, rc;

	if (bmc_sol_path(sd, bn, path, sizeof(path)) || bmc_sol_dir(sd, bn->name, dir, sizeof(dir)))
		return;
	if (!stat(path, &st) && st.st_size > BMC_SOL_MAX) {
		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		snprintf(old, sizeof(old), "%s/sol", sd->cfg.state_dir);
		mkdir(old, 0750);
		mkdir(dir, 0750);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	}
	if (fd < 0)
		return;
	fresh = !fstat(fd, &st) && st.st_size == 0;
	if (write(fd, data, len) != (ssize_t)len)
		log_debug("node %s: SOL log: short write", bn->name);
	close(fd);
	/* A new boot's file: the newest --klog-boots-keep boots stay, by name, and this one. */
	if (fresh && (rc = bootlog_prune(dir, bn->sol_boot, sd->cfg.klog_boots_keep, BOOTLOG_BY_NAME,
					  bmc_sol_companions)) < 0)
		log_warnx("node %s: SOL logs: %s: %s", bn->name, dir, strerror(-rc));
}

/* What the SOL terminal has, into the log. */
void bmc_sol_drain(struct snowd *sd, struct bmc_node *bn)
{
	char chunk[8192];
	ssize_t n;
	int rounds = 0;

	while (bn->sol_fd >= 0 && rounds++ < 16 && (n = read(bn->sol_fd, chunk, sizeof(chunk))) > 0)
		bmc_sol_write(sd, bn, chunk, (size_t)n);
}

/* Start bn's next SOL step: deactivate a stale session, or activate one on a terminal. */
void bmc_sol_start(struct snowd *sd, struct bmc_node *bn)
{
	static const char *const deact[] = { "sol", "deactivate", NULL };
	static const char *const act[] = { "sol", "activate", NULL };
	int activate = bn->sol_phase == 2, fd = -1;
	char err[300], line[400];
	pid_t pid;

	pid = power_ipmi_spawn(bn->power, activate ? act : deact, NULL, activate, sd->cfg.ipmitool,
			       sd->cfg.allow_dir, &fd, err, sizeof(err));
	if (pid < 0) {
		log_warnx("node %s: bmc: %s: serial-over-LAN: %s", bn->name, bn->where, err);
		bn->sol_next_ms = clock_mono_ms() + BMC_SOL_RETRY_MS;
		bn->sol_phase = 0;
		return;
	}
	bn->sol_pid = pid;
	if (!activate) {
		close(fd); /* what deactivate says is of no use */
		bn->sol_phase = 1;
		return;
	}
	bn->sol_fd = fd;
	bn->sol_phase = 3;
	snprintf(line, sizeof(line), "\n--- snowd: serial-over-LAN session to %s started at %lld ---\n",
		 bn->where, (long long)time(NULL));
	bmc_sol_write(sd, bn, line, strlen(line));
	log_info("node %s: serial-over-LAN to %s", bn->name, bn->where);
}

/* A SOL ipmitool of bn ended. */
void bmc_sol_reaped(struct snowd *sd, struct bmc_node *bn, int status)
{
	bn->sol_pid = 0;
	if (bn->sol_phase == 1) {
		bn->sol_phase = 2; /* activate at the next tick */
		bn->sol_next_ms = 0;
		return;
	}
	bmc_sol_drain(sd, bn);
	if (bn->sol_fd >= 0)
		close(bn->sol_fd);
	bn->sol_fd = -1;
	bn->sol_phase = 0;
	bn->sol_next_ms = clock_mono_ms() + BMC_SOL_RETRY_MS;
	log_info("node %s: serial-over-LAN ended (ipmitool %s %d), again in %d s", bn->name,
		 WIFEXITED(status) ? "exited with" : "killed by",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), BMC_SOL_RETRY_MS / 1000);
}

int bmc_sol_log(struct snowd *sd, int64_t node_id, char *path, size_t cap)
{
	struct bmc_node *bn = bmc_find(sd->bmc, node_id);
	char dir[4200];
	int n;

	if (!bn || !bn->sol)
		return -ENOENT;
	if (bmc_sol_dir(sd, bn->name, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	if (!bn->sol_boot[0])
		bootlog_newest(dir, bn->sol_boot, sizeof(bn->sol_boot));
	/* Nothing kept yet: a name that is not there (the API says nothing was read). */
	n = snprintf(path, cap, "%s/%s.log", dir, bn->sol_boot[0] ? bn->sol_boot : "none");
	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

void bmc_sol_restart(struct snowd *sd, const char *node)
{
	struct inv_node n;
	struct bmc_node *bn;

	if (inv_node_get(&sd->inv, node, &n) || !(bn = bmc_find(sd->bmc, n.id)))
		return;
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (!bn->sol)
		return;
	bmc_sol_drain(sd, bn); /* what the old boot said stays with it */
	bmc_sol_new_boot(sd, bn, "powered on by its BMC");
	bn->sol_fresh = 1;
	if (bn->sol_phase != 3 || bn->sol_pid <= 0)
		return;
	log_info("node %s: powered on: serial-over-LAN started again", bn->name);
	kill(bn->sol_pid, SIGKILL); /* reaped: started again BMC_SOL_RETRY_MS later */
}

void bmc_sol_script(struct snowd *sd, int64_t node_id)
{
	struct bmc_node *bn = sd->bmc ? bmc_find(sd->bmc, node_id) : NULL;

	if (!bn || !bn->sol)
		return;
	if (bn->sol_fresh) {
		bn->sol_fresh = 0; /* the boot the BMC began reached its script */
		return;
	}
	bmc_sol_drain(sd, bn);
	bmc_sol_new_boot(sd, bn, "it fetched its boot script");
}

void bmc_sol_end_all(struct bmc *b)
{
	struct timespec nap = { .tv_nsec = 20 * 1000 * 1000 };
	size_t i, left = 0, asked;
	int round, status;

	/* ipmitool's escape "~." (after a line's end) ends the session: the BMC closes it. */
	for (i = 0; b && i < b->nn; i++) {
		struct bmc_node *bn = &b->n[i];
		if (bn->sol_phase == 3 && bn->sol_pid > 0 && bn->sol_fd >= 0 &&
		    write(bn->sol_fd, "\r~.", 3) == 3)
			left++;
	}
	asked = left;
	for (round = 0; left && round < 50; round++) {
		nanosleep(&nap, NULL);
		for (i = 0; i < b->nn; i++) {
			struct bmc_node *bn = &b->n[i];
			if (bn->sol_phase == 3 && bn->sol_pid > 0 &&
			    waitpid(bn->sol_pid, &status, WNOHANG) == bn->sol_pid) {
				bn->sol_pid = 0;
				left--;
			}
		}
	}
	if (asked)
		log_info("bmc: %zu of %zu serial-over-LAN sessions ended by ipmitool's escape",
			 asked - left, asked);
}
