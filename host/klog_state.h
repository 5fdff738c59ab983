/*
 * What the kernel logs keep at run time: struct klog, the module's state
 * (its socket, counters, the node table), and struct klog_node, one node's
 * (its boot's file, the line in progress, the ring of recent lines, the crash
 * being gathered, its last crash).  Shared by klog.c (the logs) and
 * klog_crash.c (the crashes); klog.h and klog_crash.h are the interfaces.
 */
#ifndef SNOW_KLOG_STATE_H
#define SNOW_KLOG_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "valid.h"

#define KLOG_LINE 1024         /* a line longer than this is cut */
#define KLOG_RING_LINE 240     /* lines kept for a crash's context are cut here */
#define KLOG_CRASH_BEFORE 40   /* lines kept for a crash's context: the event carries them */
#define KLOG_UNKNOWN 64        /* addresses of no node remembered, so a flood does not query SQLite */

/* A boot's crash: none seen, being gathered (lines, more signals), recorded as an event. */
enum klog_crash { KLOG_CRASH_NONE, KLOG_CRASH_GATHERING, KLOG_CRASH_RECORDED };

struct klog_node {
	int64_t id;
	char name[SNOW_NAME_MAX + 1];
	char boot[40];              /* the file's name: the agent's boot id, or early-MS; "" before any line */
	int registered;             /* boot is the agent's id */
	int fd;                     /* BOOT.log, or -1 */
	int64_t bytes;              /* its size */
	uint64_t last_seq;          /* the kernel's last record number (extended form) */
	int have_seq;
	double tokens;              /* the rate's bucket */
	int64_t tokens_ms;
	char part[KLOG_LINE];       /* a plain-form line not ended yet */
	size_t partlen;
	char ring[KLOG_CRASH_BEFORE][KLOG_RING_LINE]; /* the last lines, for a crash's context */
	unsigned ring_next, ring_n;
	enum klog_crash crash;
	unsigned sources;           /* klog_source bits of the crash gathered */
	int early_sent;             /* /init sent this boot's early messages (klog_boot_dmesg) */
	int64_t crash_deadline;     /* monotonic ms */
	char panic[256];            /* the panic line */
	struct buf crash_text;      /* owned */
	unsigned crash_lines;
	uint64_t crashes;
	char prev_boot[40];         /* the boot before this one (pstore.c ties a dump to it) */
	int64_t last_crash;         /* Unix s of the last crash recorded (0: none known) */
	char last_crash_boot[40];
	char last_crash_panic[256];
};

struct klog {
	int fd;
	char dir[4200];             /* STATE/klog */
	struct klog_node **nodes;   /* owned, each */
	size_t n, cap;
	uint32_t unknown[KLOG_UNKNOWN]; /* addresses that are no node's, and when seen so */
	int64_t unknown_ms[KLOG_UNKNOWN];
	unsigned unknown_next;
	uint64_t packets, lines, drop_addr, drop_rate, drop_bad, crashes, write_errors;
};

/*
 * The node's entry, made (under name) when absent and name is given.  @ret
 * the entry (k's, until klog_node_drop()), or NULL: absent, or out of memory.
 */
struct klog_node *klog_node(struct klog *k, int64_t id, const char *name);
/* Remove node id's entry, if any, and free it. */
void klog_node_drop(struct klog *k, int64_t id);
/* Free an entry taken out of the table (its file closed). */
void klog_node_free(struct klog_node *kn);

#endif
