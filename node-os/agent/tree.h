/*
 * The node's sysctl tree: every value the agent reports, read from ROOT/proc
 * and ROOT/sys into a struct instr_tree (lib/instr.h).  sample.c's strict
 * readers give the first values; the readers here add the rest of what
 * ChorusOS lists and an admin looks at first (docs/agent.md has the table,
 * with OIDs).
 *
 * OIDs (relative to the Snow node-value arc) are fixed per value; values
 * that come and go with hardware take the index the kernel gives them
 * (ifindex, hwmonN) or, for filesystems, their place in proc/mounts.
 */
#ifndef SNOW_NODE_TREE_H
#define SNOW_NODE_TREE_H

#include <stddef.h>

#include "instr.h"

/*
 * Read every value into t (instr_tree_begin() first, so what could not be
 * read this round is left out of the report).  A reader that fails does
 * not stop the others.  @ret 0, or the first reader's error with err naming
 * the file (the values that could be read are set).
 */
int tree_sample(const char *root, struct instr_tree *t, char *err, size_t errlen);

/*
 * Put the nic.* values (snow-nic's counters, nicst.h) into t's schema
 * without a reading, so a node that will run snow-nic registers them before
 * its first status file exists (snowd learns the schema at registration).
 */
void tree_nic_declare(struct instr_tree *t);

/*
 * Parse a CPU list as in sys/devices/system/cpu/online ("0-3,5").
 * @ret the number of CPUs listed, or -EINVAL.  When mask is not NULL, bit i
 * is set for CPU i < 64.
 */
int tree_cpu_list(const char *s, unsigned long long *mask);

/*
 * Read a small text file ROOT/rel into buf (trailing newline removed).
 * @ret 0 or -errno.
 */
int tree_read_str(const char *root, const char *rel, char *buf, size_t cap);
/* The same for a decimal or 0x-hex integer.  @ret 0, -errno or -EINVAL. */
int tree_read_ull(const char *root, const char *rel, unsigned long long *out);

#endif
