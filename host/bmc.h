/*
 * BMC sensors and event logs (docs/power.md): every node whose power
 * setting names a BMC (redfish or ipmi) has it polled every
 * power.sensors_s seconds (default BMC_POLL_S; 0: never), whatever state
 * the node is in: a node that is off or not booted still gets its readings.
 *
 *   redfish  the Chassis' Thermal and Power, the system's first
 *            LogService's entries (power_redfish.c, on the driver's
 *            sessions and libcurl multi handle)
 *   ipmi     one ipmitool per poll, `exec` of "sensor" and "sel list" on its
 *            stdin: one session for both (bmcp.c reads the text)
 *
 * Readings become `bmc.*` gauges in the node's tree beside the agent's: the
 * same typed report state (report.h) and schema, so the node JSON, stream,
 * history, /metrics, the SNMP value table and the consoles show them as
 * they show the agent's; snowd keeps their watermarks (since it started).
 * New log entries (id above the node's cursor, kept in the inventory with
 * them, inv_bmc.c) become `bmc.log` events of boot "bmc" with the BMC's own
 * time, each once, across restarts.  With power.sol (ipmi), snowd keeps a
 * serial-over-LAN session to the node's console and logs it (bmc_sol_log()).
 * No poll blocks the loop: at most
 * BMC_MAX_POLLS at once, each with a deadline; a failure is kept as the
 * node's bmc.error, naming the BMC and the cause, and logged when it changes.
 */
#ifndef SNOW_BMC_H
#define SNOW_BMC_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

struct snowd;
struct node_rt;
struct bmcp_poll;
struct report_schema;
struct inv_node;
struct bmc;

#define BMC_POLL_S 60     /* default seconds between two polls of one BMC */
#define BMC_MAX_POLLS 64  /* polls under way at once, all BMCs */
#define BMC_DEADLINE_S 20 /* a poll's deadline (power.timeout_s when smaller) */
#define BMC_SOL_MAX (4 << 20) /* a boot's SOL log's size before it is rotated (BOOT.log.1) */
#define BMC_SOL_RETRY_MS 5000 /* a SOL session that ended is started again after this */
#define BMC_MAX_THR 64    /* thresholds on one node's bmc.* gauges */
#define BMC_RESCAN_MS 5000 /* after a settings change, the node list is read again at most this often */

/* @ret a new poller (bmc_free()), or NULL. */
struct bmc *bmc_new(void);
/* Free b; ipmitool children are left to finish (reaped by the loop, ignored). */
void bmc_free(struct bmc *b);
/*
 * Learn which nodes have a BMC (at start, and when settings changed), start the polls that are due, read ipmitool's output, kill
 * polls past their deadline.  From the loop's tick.
 */
void bmc_tick(struct snowd *sd);
/* An ipmitool poll ended.  @ret 1 if pid was one of the poller's. */
int bmc_reaped(struct snowd *sd, pid_t pid, int status);
/*
 * A poll of node_id's BMC ended: p (borrowed; NULL on failure) holds what
 * was read, error the reason otherwise.  For power_redfish.c.
 */
void bmc_polled(struct snowd *sd, int64_t node_id, struct bmcp_poll *p, const char *error);
/*
 * Put the node's BMC readings back into rt's report state and schema after
 * its agent's report or registration replaced them (chan.c).
 */
void bmc_merge(struct snowd *sd, struct node_rt *rt);
/*
 * Add the node's bmc.* gauges to an agent's schema s (typed, replaced in
 * place) before it is set, so its history goes on.  @ret 1 when the node has
 * BMC readings (s extended), 0 when not (s unchanged).
 */
int bmc_schema_extend(struct snowd *sd, int64_t node_id, struct report_schema *s);
/*
 * Whether command op with args (borrowed) is snowd's to run on a bmc.*
 * gauge: threshold.set, threshold.clear or watermarks.reset whose value
 * starts with "bmc.".  @ret 1 or 0.
 */
int bmc_command_for(const char *op, json_t *args);
/*
 * Run such a command on n's BMC gauges at once: the thresholds are kept in
 * the inventory (they survive a restart) and checked at each poll, raising
 * and clearing as the agent's do (threshold.raise/clear events); the
 * command is recorded done.  @ret 0 with *cmd (a new reference), -EINVAL or
 * -ENOENT (400/404: err names the field), -ENOTSUP (409: no BMC polled),
 * -EIO.
 */
int bmc_command(struct snowd *sd, const struct inv_node *n, const char *op, json_t *args,
		json_t **cmd, char *err, size_t errlen);
/*
 * The file where snowd keeps the current boot of the node's serial console
 * read by IPMI serial-over-LAN (power.sol: ipmitool `sol activate` on a
 * terminal, started again when it ends): STATE/sol/NODE/BOOT.log, BOOT the
 * UTC time the boot began (20261206T033000.123Z), the last
 * --klog-boots-keep boots kept, a boot's older part in BOOT.log.1 past
 * BMC_SOL_MAX.  @ret 0 with path (the file may not exist yet), or -ENOENT
 * (no SOL).
 */
int bmc_sol_log(struct snowd *sd, int64_t node_id, char *path, size_t cap);
/*
 * The node was powered on or cycled by its BMC: its SOL log goes on in a
 * new boot's file, and a session under way starts again (a BMC whose serial
 * device went with the power, as ipmi_sim's VM does, would otherwise stay
 * silent).  For power.c.
 */
void bmc_sol_restart(struct snowd *sd, const char *node);
/*
 * Node node_id fetched its boot script: a new boot's file, unless the boot
 * under way was begun by a power command and this is its first fetch (a
 * reboot the BMC did not do, the agent's, starts here).  For nodes.c.
 */
void bmc_sol_script(struct snowd *sd, int64_t node_id);
/* Add "bmc": {driver, polled, error?, readings, cursor} to o for a node with a BMC. */
void bmc_node_json(struct snowd *sd, int64_t node_id, json_t *o);

#endif
