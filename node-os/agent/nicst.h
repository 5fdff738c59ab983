/*
 * The NIC offload engine as the agent sees it: snow-nic's status file
 * (docs/nic.md, rewritten every second) and /init's control file.
 *
 *   ROOT/run/snow-nic.json   status, fresh when written within NICST_FRESH_S
 *   ROOT/run/snow-nic.down   while it exists, /init keeps snow-nic stopped
 *
 * tree.c turns the counters into nic.* values; ddm.c makes the engine the
 * device nic/engine0.
 */
#ifndef SNOW_NODE_NICST_H
#define SNOW_NODE_NICST_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "instr.h"

#define NICST_STATUS "run/snow-nic.json"
#define NICST_DOWN "run/snow-nic.down"
#define NICST_FRESH_S 3

/* The counters snow-nic reports, in OID order (nic.NAME is 12.index+1). */
struct nicst_counter {
	const char *name;
	enum instr_kind kind; /* gauges go down as well as up */
	const char *unit, *desc;
};
extern const struct nicst_counter nicst_counters[];
extern const size_t nicst_ncounters;

struct nicst {
	int present;  /* the status file exists and parses */
	int fresh;    /* ... and was written within NICST_FRESH_S of now */
	long age_s;   /* now - its mtime */
	int down;     /* the control file exists */
	char iface[32];
	long pid;     /* snow-nic's, 0 when the file has none */
	long node, mtu;
	json_t *json; /* the whole status (new reference, or NULL): nicst_clear() */
};

/*
 * Read ROOT's status and control files as of now (Unix seconds).  A missing
 * or malformed status file is not an error: present stays 0.
 */
void nicst_read(const char *root, time_t now, struct nicst *s);
void nicst_clear(struct nicst *s);

#endif
