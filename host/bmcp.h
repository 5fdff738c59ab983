/*
 * What snowd takes from a BMC's sensors and event log, whatever the BMC
 * speaks: readings named as `bmc.*` gauges and log entries with the BMC's
 * own id and time.  The Redfish readers (Thermal, Power, LogService entries)
 * are in redfish.c; ipmitool's text (`sensor` and `sel list`, run together
 * by one `exec`) is read here.  Both fill a struct bmcp_poll; nothing else
 * in snowd reads a BMC's answers.  Pure: no I/O, no clock.
 */
#ifndef SNOW_BMCP_H
#define SNOW_BMCP_H

#include <stddef.h>
#include <stdint.h>

#include "instr.h"

#define BMCP_MAX_READINGS 256 /* sensors kept per poll; more are dropped (counted) */
#define BMCP_MAX_ENTRIES 256  /* log entries kept per poll (the newest) */
#define BMCP_TEXT_MAX 199     /* a log entry's message */

/* The families of readings, each a prefix of the value's name. */
enum bmcp_family { BMCP_TEMP, BMCP_FAN, BMCP_POWER, BMCP_VOLT, BMCP_CURRENT, BMCP_OTHER };

struct bmcp_reading {
	char name[INSTR_NAME_MAX + 1]; /* bmc.temp.cpu1: checked by instr_name_check() */
	char unit[INSTR_UNIT_MAX + 1]; /* C, RPM, W, V, A, % or "" */
	double v;                      /* finite */
};

struct bmcp_entry {
	int64_t id;       /* the BMC's record id, > 0 */
	int64_t time;     /* the BMC's own time (Unix s); 0: the BMC had no absolute time */
	char when[40];    /* the BMC's time as it wrote it (printable ASCII) */
	char severity[16]; /* OK, Warning, Critical (Redfish) or "" */
	char text[BMCP_TEXT_MAX + 1]; /* printable ASCII */
};

struct bmcp_poll {
	struct bmcp_reading r[BMCP_MAX_READINGS];
	size_t nr;
	size_t dropped;   /* readings past BMCP_MAX_READINGS, or with names taken twice */
	struct bmcp_entry e[BMCP_MAX_ENTRIES];
	size_t ne;
	int has_log;      /* the answer had a log (an empty one counts) */
};

/* "temp", "fan", "power", "volt", "current", "sensor". */
const char *bmcp_family_name(enum bmcp_family f);

/*
 * Add reading v of the BMC's sensor named src (any bytes) in family f to p:
 * named bmc.FAMILY.SLUG (lower case, [a-z0-9_], cut to fit), a name already
 * taken gets _2, _3...  @ret 0, or -ENOSPC (p is full: counted in dropped),
 * -EINVAL (v not finite, or nothing of the name left).
 */
int bmcp_add_reading(struct bmcp_poll *p, enum bmcp_family f, const char *src, size_t srclen,
		     const char *unit, double v);

/*
 * Add a log entry (text and when copied with bytes outside printable ASCII
 * replaced); past BMCP_MAX_ENTRIES the lowest id goes.  @ret 0 or -EINVAL (id <= 0).
 */
int bmcp_add_entry(struct bmcp_poll *p, int64_t id, int64_t time, const char *when,
		   const char *severity, const char *text);

/*
 * ipmitool's `sensor` lines (10 fields: name | reading | unit | status |
 * thresholds...) and `sel list` lines (id in hex | date | time | sensor |
 * event | direction) in one text, as `ipmitool exec` prints them.  Lines of
 * neither shape are skipped; a sensor without a reading ("na") or discrete
 * is left out.  @ret 0, or -EPROTO with err when nothing in text was
 * either (not ipmitool's output).
 */
int bmcp_ipmi_parse(const char *text, size_t len, struct bmcp_poll *p, char *err, size_t errlen);

/*
 * Which of p's entries are new after cursor (the highest id taken before;
 * 0: none yet): those above it, oldest first, into idx (n at most).  A log
 * whose highest id is below the cursor was cleared: every entry is new.
 * @ret how many.
 */
size_t bmcp_new_entries(const struct bmcp_poll *p, int64_t cursor, size_t *idx, size_t n);

#endif
