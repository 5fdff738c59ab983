/*
 * Power drivers, chosen by a node's effective `power` setting:
 *   agent  soft: power.off and power.cycle become the agent's poweroff and
 *          reboot commands; power.on is impossible (the node is off).
 *   qmp    a QEMU VM's QMP socket: off stops the VM's CPUs (hard off; the
 *          QEMU process stays, so on can reset and start it), on resets and
 *          continues a stopped VM, cycle resets it.
 *   ipmi   ipmitool chassis power on/off/cycle against a BMC; the password
 *          comes from a file and reaches ipmitool in its environment (-E),
 *          never on its command line.  Runs as a child; the result arrives
 *          when it exits.
 */
#ifndef SNOW_POWER_H
#define SNOW_POWER_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Run a QMP command sequence for op ("power.on", "power.off", "power.cycle",
 * "power.status") on socket.  @ret 0 with *result a new JSON object
 * ({"status": "running"|"paused"|...}), or -errno with err saying why.
 */
int power_qmp(const char *socket, const char *op, json_t **result, char *err, size_t errlen);

/*
 * Start ipmitool for op with the node's power settings (borrowed).
 * @ret the child's pid, or -errno with err filled (e.g. the password file
 * cannot be read).
 */
pid_t power_ipmi_start(json_t *power, const char *op, const char *ipmitool, char *err,
		       size_t errlen);

struct snowd;

/* Reap an ipmitool child: its command is done or failed.  @ret 1 if pid was one. */
int power_reaped(struct snowd *sd, pid_t pid, int status);

#endif
