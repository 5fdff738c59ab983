/*
 * The redfish power driver (power.h names the others): a node's BMC spoken
 * to over HTTPS by libcurl's multi interface, driven from snowd's loop and
 * never blocking it.  One command is a short chain of requests:
 *
 *   login      POST /redfish/v1/SessionService/Sessions (only without a token)
 *   systems    GET /redfish/v1/Systems (first member; once per BMC unless set)
 *   system     GET the ComputerSystem: PowerState, the Reset action
 *   actioninfo GET its @Redfish.ActionInfo when allowed values are not inline
 *   reset      POST {"ResetType": ...} to the Reset target
 *   system     GET again: the state after
 *
 * A session token is kept per BMC (URL and user) and reused by the next
 * command; a 401 on a token drops it, logs in again and repeats the request
 * once.  Each command has a deadline (power.timeout_s); commands to many BMCs
 * run at once.  The password is read from power.password_file (fsafe rules)
 * when a command starts and wiped when it ends; it is never logged.  TLS is
 * checked against power.ca_file, or a pinned public key (power.pin,
 * "sha256//BASE64"), or the system's CAs.
 */
#ifndef SNOW_POWER_REDFISH_H
#define SNOW_POWER_REDFISH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct snowd;
struct inv_node;
struct power_redfish;

/* A command's deadline unless power.timeout_s says otherwise. */
#define POWER_REDFISH_DEADLINE_S 30
/* Redfish commands under way at once. */
#define POWER_REDFISH_MAX_OPS 4096
/* Longest answer read from a BMC. */
#define POWER_REDFISH_MAX_ANSWER (1u << 20)

/* @ret a new driver state (power_redfish_free()), or NULL. */
struct power_redfish *power_redfish_new(void);
/* Abandon the commands under way (they stay `sent` and time out) and free r. */
void power_redfish_free(struct power_redfish *r);
/* An epoll descriptor: readable when a BMC connection has something to do. */
int power_redfish_fd(const struct power_redfish *r);
/* @ret ms until power_redfish_poll() has a timer or deadline to keep, or -1. */
int power_redfish_timeout_ms(const struct power_redfish *r, int64_t now_ms);
/* Move every transfer that can, fail commands past their deadline. */
void power_redfish_poll(struct snowd *sd, struct power_redfish *r);
/*
 * Start op (power.on/off/cycle/status) on node n for command id with its
 * settings power (borrowed).  @ret 0 under way, or -errno with err (nothing
 * under way: no password file, too many commands, out of memory).
 */
int power_redfish_start(struct snowd *sd, struct power_redfish *r, const struct inv_node *n,
			int64_t id, const char *op, json_t *power, char *err, size_t errlen);

/*
 * Poll the sensors (Chassis Thermal and Power) and, with want_log, the
 * system's first LogService's entries of node_id's BMC (settings power,
 * borrowed; the command's session, TLS rules and password file), within
 * timeout_s.  The end goes to bmc_polled() (bmc.h), with what was read or
 * a reason naming the BMC.  @ret 0 under way, or -errno with err.
 */
int power_redfish_poll_start(struct snowd *sd, struct power_redfish *r, int64_t node_id,
			     const char *node, json_t *power, int want_log, int timeout_s,
			     char *err, size_t errlen);

#endif
