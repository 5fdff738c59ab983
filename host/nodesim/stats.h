/*
 * snow-nodesim's figures: error counters by kind, latency samples kept
 * whole (exact percentiles), the --stats line every second and the summary
 * at exit (text on stderr, --json on stdout).
 */
#ifndef SNOW_NODESIM_STATS_H
#define SNOW_NODESIM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "nodesim.h"

/* One latency sample in microseconds (a sample lost to a failed realloc only blurs the figures). */
void ns_lat_add(struct ns_lat *l, int64_t us);
/* Count a failed exchange: a transport -errno in rc, else an HTTP status. */
void ns_count_error(struct nodesim *ns, int rc, int status);
/* How many nodes are in state s. */
size_t ns_count_state(const struct nodesim *ns, enum ns_state s);
/* The --stats line for the last secs seconds; starts the next second's figures. */
void ns_stats_line(struct nodesim *ns, int64_t now, double secs);
/* The summary at exit (stderr; with --json also one JSON line on stdout). */
void ns_summary(struct nodesim *ns);

#endif
