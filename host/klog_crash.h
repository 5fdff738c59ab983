/*
 * Crash events (docs/crash.md).  A panic is kept as one `crash` event of the
 * node and the boot that crashed (seq -1): from the "Kernel panic" line in
 * its kernel log (klog.c hands every line here), or a QEMU GUEST_PANICKED or
 * WATCHDOG event (qmpev.c), collected for up to KLOG_CRASH_WAIT_MS more so
 * it holds the panic text, the lines before it and those after it.  Each
 * node's last crash, seeded from the events kept when snowd starts, goes
 * into its JSON and /metrics.
 */
#ifndef SNOW_KLOG_CRASH_H
#define SNOW_KLOG_CRASH_H

#include <jansson.h>
#include <stdint.h>

struct snowd;
struct klog_node;

/* After the first sign of a crash, lines are gathered this long (or to the panic's end marker). */
#define KLOG_CRASH_WAIT_MS 3000

/* Where a crash came from: bits of the event's "source" list. */
enum klog_source { KLOG_SRC_NETCONSOLE = 1, KLOG_SRC_PVPANIC = 2, KLOG_SRC_WATCHDOG = 4 };

/* A crash signal from outside the log (qmpev.c): src is one klog_source. */
void klog_crash_signal(struct snowd *sd, int64_t node_id, const char *name, unsigned src);
/* A crash recorded elsewhere (pstore.c): counted, and the node's last crash if newest. */
void klog_crash_noted(struct snowd *sd, int64_t node_id, const char *name, int64_t t,
		      const char *boot, const char *panic);
/* Add "last_crash": {time, boot_id, panic} to a node's JSON o when one is known. */
void klog_crash_json(struct snowd *sd, int64_t node_id, json_t *o);
/* Crashes whose gathering time ran out are recorded. */
void klog_crash_tick(struct snowd *sd);

/* klog.c's hooks.  A whole line of kn's current boot (clean text, no newline): watched for a crash. */
void klog_crash_line(struct snowd *sd, struct klog_node *kn, const char *line);
/* kn's boot ends: the crash gathered, if any, is recorded; the next boot starts with none. */
void klog_crash_boot_end(struct snowd *sd, struct klog_node *kn);
/* Each node's last crash from the events kept (at start: klog_new(), with sd->klog set). */
void klog_crash_seed(struct snowd *sd);

#endif
