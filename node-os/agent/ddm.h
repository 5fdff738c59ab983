/*
 * The DDM device tree on Linux: CPUs, memory blocks, network interfaces,
 * block devices, PCI functions and hwmon sensors found under ROOT/sys, with
 * the ChorusOS availability/run states and operations (lib/instr.h has the
 * state rules; this file knows what each kind of device can really do).
 *
 *   class   path            online/offline              diag          audit
 *   cpu     cpu/cpuN        sysfs cpuN/online           -             runs on it
 *   memory  memory/memoryN  sysfs memoryN/state         -             state
 *   net     net/IF          IFF_UP via sysfs IF/flags   -             carrier
 *   block   block/X         marked (not when mounted)   read test     size
 *   pci     pci/ADDR        shutdown/online: unbind/probe -           config space
 *   sensor  hwmon/hwmonN    -                           -             inputs
 *   nic-engine nic/engine0  /init's control file        self-test     status fresh, carrier
 *
 * Each class is a `const struct ddm_class_ops` in ddm.c (scan, set_run,
 * diag, audit), the rows above.  Availability (enable/disable) is the
 * agent's own lock: Linux has none; a disabled device refuses online.  State changes, whether from an operation
 * or seen in sysfs, become device.state events.
 */
#ifndef SNOW_NODE_DDM_H
#define SNOW_NODE_DDM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "instr.h"

/* What the agent remembers about a device across scans. */
struct ddm_mark {
	char path[INSTR_PATH_MAX + 1];
	int disabled;
	int offline; /* run state kept by the agent (block devices) */
	struct instr_check diag, audit;
};

/* Where ddm looks and whom it tells. */
struct ddm_env {
	const char *root;        /* "" for / */
	const char *service_mac; /* the NIC the agent talks through (never taken down) */
	int64_t now;             /* Unix seconds, for diag/audit times and events */
	/*
	 * The NIC offload engine (snow-nic, nicst.h): the node's compute identity
	 * from its environment (SNOW_NIC_MAC, SNOW_NIC_ID, SNOW_NIC_PEERS; NULL or
	 * "" when unset) and the program diag runs as `BIN -i IF --node ID
	 * [--peers P] -s ROOT/run/snow-nic-diag.sock --self-test`.
	 */
	const char *nic_mac, *nic_id, *nic_peers, *nic_bin;
	/* Called for each event; attrs is stolen. */
	void (*emit)(void *ctx, const char *type, json_t *attrs);
	/*
	 * Called at least every half second during an operation that waits
	 * (the NIC self-test, the engine's stop and start, a block read test),
	 * so the agent can pat its watchdog; NULL for none.
	 */
	void (*tick)(void *ctx);
	void *ctx;
};

struct ddm {
	struct instr_dev *dev; /* the last scan, owned */
	size_t n;
	struct ddm_mark *marks; /* owned */
	size_t nmarks, capmarks;
	int scanned;
};

/*
 * Rescan the device tree; compare with the previous scan and emit a
 * device.state event (attrs {path, class, avail, run, was_avail, was_run,
 * cause}) for each change, added or removed device (not on the first scan).
 * @ret 0 or -ENOMEM.
 */
int ddm_scan(struct ddm *d, const struct ddm_env *env, const char *cause);

/* The device at path (borrowed from the last scan) or NULL. */
struct instr_dev *ddm_find(struct ddm *d, const char *path);

/*
 * Run op on the device at path: refused (with the reason in err, nothing
 * changed) by the state rules, by what the device cannot do, or when the
 * kernel says no; then rescan so the change is an event.  *result gets a new
 * reference (the caller's) describing what was done, e.g. {"run": "offline"}
 * or {"result": "pass", "detail": ...} for diag/audit.
 * @ret 0, -ENOENT (no such device), -EPERM (refused) or -errno from sysfs.
 */
int ddm_op(struct ddm *d, const struct ddm_env *env, const char *path, enum instr_op op,
	   json_t **result, char *err, size_t errlen);

/* [device, ...] as docs/protocol.md shows: new reference or NULL. */
json_t *ddm_json(const struct ddm *d);

void ddm_free(struct ddm *d);

#endif
