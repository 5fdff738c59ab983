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

/*
 * What the summary and the --stats line count over nodes: one process's,
 * or the workers' of --procs added up (procs.c).
 */
struct ns_counts {
	uint64_t nodes, registered, online, failed, done;
	uint64_t events, acked;      /* events made, and of them acknowledged */
	uint64_t inflight, waiting;  /* requests in flight, nodes due waiting for a slot */
	double rate;                 /* steady reports per second */
};

/* One latency sample in microseconds (a sample lost to a failed realloc only blurs the figures). */
void ns_lat_add(struct ns_lat *l, int64_t us);
/* Append n samples (another process's, --procs) to l. */
void ns_lat_append(struct ns_lat *l, const uint32_t *us, size_t n);
/* Count a failed exchange: a transport -errno in rc, else an HTTP status. */
void ns_count_error(struct nodesim *ns, int rc, int status);
/* How many nodes are in state s. */
size_t ns_count_state(const struct nodesim *ns, enum ns_state s);
/* The --stats line for the last secs seconds; starts the next second's figures. */
void ns_stats_line(struct nodesim *ns, int64_t now, double secs);
/* ns's counts at now (the rate is its steady reports over its steady time). */
void ns_counts_of(const struct nodesim *ns, int64_t now, struct ns_counts *c);
/* A --stats line: t seconds since the start, c's nodes, rate, lat's percentiles (sorts it). */
void ns_stats_print(double t, const struct ns_counts *c, double rate, struct ns_lat *lat,
		    uint64_t errors);
/* The summary at exit (stderr; with --json also one JSON line on stdout). */
void ns_summary(struct nodesim *ns);
/* The same from counters, samples (sorted here) and counts, however gathered. */
void ns_summary_print(const struct ns_conf *conf, struct ns_stats *s, const struct ns_counts *c,
		      int64_t now);

#endif
