/*
 * Power commands (power.on/off/cycle/status) by a node's effective `power`
 * setting, and the drivers that run them:
 *   agent  soft: power.off and power.cycle become the agent's poweroff and
 *          reboot commands; power.on is impossible (the node is off).
 *   qmp    a QEMU VM's QMP socket: off stops the VM's CPUs (hard off; the
 *          QEMU process stays, so on can reset and start it), on resets and
 *          continues a stopped VM, cycle resets it.
 *   ipmi   ipmitool chassis power on/off/cycle against a BMC; the password
 *          comes from a file and reaches ipmitool in its environment (-E),
 *          never on its command line.
 *   redfish  ComputerSystem.Reset and PowerState over HTTPS with sessions,
 *          by libcurl's multi interface (power_redfish.h).
 *
 * qmp and ipmi run on the host, never on the node: their commands are `sent`
 * while the driver works and are never handed to the agent (inv_cmd.c keeps
 * power.* out of report answers).  Neither blocks snowd's one thread: a QMP
 * exchange is a non-blocking state machine on its socket, with a deadline;
 * ipmitool is a child with a deadline, reaped from SIGCHLD.  The loop
 * (snowd.c) polls power_fd(), calls power_poll() every turn and
 * power_reaped() for each child it reaps; all inventory writes happen there,
 * on the loop's thread.
 */
#ifndef SNOW_POWER_H
#define SNOW_POWER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct snowd;
struct inv_node;
struct power;
struct power_redfish;

/* A whole QMP exchange (connect to the final query-status) must end within this. */
#define POWER_QMP_DEADLINE_MS 5000
/* ipmitool is killed when it has not exited within this. */
#define POWER_IPMI_DEADLINE_MS 60000
/* Power operations under way at once (QMP and ipmitool together). */
#define POWER_MAX_OPS 64

/* @ret a new power state (freed with power_free()), or NULL (errno says why). */
struct power *power_new(void);
/*
 * Drop the power state: QMP exchanges under way are abandoned (their commands
 * stay `sent` and time out); ipmitool children are left to finish.
 */
void power_free(struct power *p);
/* The descriptor to poll for input (an epoll set of the QMP sockets). */
int power_fd(const struct power *p);
/* @ret ms until power_poll() has a deadline to keep (0: now), or -1 for none. */
int power_timeout_ms(const struct power *p, int64_t now_ms);
/*
 * Advance the QMP exchanges that can (without blocking), fail those past
 * their deadline, kill ipmitool runs past theirs.  Finished commands are
 * recorded and published.
 */
void power_poll(struct snowd *sd);

/*
 * Run or start power op (power.on/off/cycle/status) on n by its driver.
 * @ret 0 with *cmd the command's JSON (a new reference, caller decrefs),
 * -ENOTSUP (409: the driver cannot do op; err says why), or another -errno
 * (500; err says why).
 */
int power_command(struct snowd *sd, const struct inv_node *n, const char *op, json_t **cmd,
		  char *err, size_t errlen);

/*
 * Record the end of command id (op on node, by driver; result borrowed, or
 * error), log it and tell the stream.  For the drivers (power_redfish.c).
 */
void power_finish(struct snowd *sd, int64_t id, const char *op, const char *node,
		  const char *driver, int ok, json_t *result, const char *error);

/*
 * Start ipmitool against the BMC of power (a node's ipmi settings,
 * borrowed: host, user, password_file, interface, port, cipher) with args
 * (NULL-terminated) after its options.  input (NULL: /dev/null) is its
 * stdin; with input, its stderr joins its stdout on *out (non-blocking;
 * the caller closes it).  With tty, a terminal is its stdin, stdout and
 * stderr, and *out is the terminal's other end (sol activate).  The password goes in its environment, never its
 * command line.  @ret the child's pid (the caller reaps it), or -errno with
 * err (e.g. the password file cannot be read).
 */
pid_t power_ipmi_spawn(json_t *power, const char *const *args, const char *input, int tty,
		       const char *ipmitool, const char *allow_dir, int *out, char *err,
		       size_t errlen);

/* The redfish driver's state, for the BMC poller (bmc.c). */
struct power_redfish *power_rf(struct power *p);

/* Reap an ipmitool child: its command is done or failed.  @ret 1 if pid was one. */
int power_reaped(struct snowd *sd, pid_t pid, int status);

#endif
