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
#include "clock.h"
#include "inv.h"
#include "log.h"
#include "power.h"

/* The node's serial-over-LAN log: STATE/sol/NODE.log.  @ret 0, or -ENAMETOOLONG. */
static int bmc_sol_path(const struct snowd *sd, const char *node, char *path, size_t cap)
{
	int n = snprintf(path, cap, "%s/sol/%s.log", sd->cfg.state_dir, node);

	return n > 0 && (size_t)n < cap ? 0 : -ENAMETOOLONG;
}

/* Append len bytes to the node's SOL log; past BMC_SOL_MAX the old half goes to NODE.log.1. */
static void bmc_sol_write(struct snowd *sd, struct bmc_node *bn, const char *data, size_t len)
{
	char path[4200], old[4210];
	struct stat st;
	int fd;

	if (bmc_sol_path(sd, bn->name, path, sizeof(path)))
		return;
	if (!stat(path, &st) && st.st_size > BMC_SOL_MAX) {
		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(old, sizeof(old), "%s/sol", sd->cfg.state_dir);
		mkdir(old, 0750);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	}
	if (fd < 0)
		return;
	if (write(fd, data, len) != (ssize_t)len)
		log_debug("node %s: SOL log: short write", bn->name);
	close(fd);
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

	if (!bn || !bn->sol)
		return -ENOENT;
	return bmc_sol_path(sd, bn->name, path, cap);
}


void bmc_sol_restart(struct snowd *sd, const char *node)
{
	struct inv_node n;
	struct bmc_node *bn;

	if (inv_node_get(&sd->inv, node, &n) || !(bn = bmc_find(sd->bmc, n.id)))
		return;
	explicit_bzero(n.secret, sizeof(n.secret));
	explicit_bzero(n.old_secret, sizeof(n.old_secret));
	if (!bn->sol || bn->sol_phase != 3 || bn->sol_pid <= 0)
		return;
	log_info("node %s: powered on: serial-over-LAN started again", bn->name);
	kill(bn->sol_pid, SIGKILL); /* reaped: started again BMC_SOL_RETRY_MS later */
}
