/*
 * The last hour of a node's gauges, kept by snowd so a console can plot a
 * node it just opened: 30-second averages in a ring of 120 slots, float32,
 * about 10 KB per node of 20 gauges.  Counters and attributes are not kept.
 */
#ifndef SNOW_HISTORY_H
#define SNOW_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#include "report.h"

#define HISTORY_STEP_S 30
#define HISTORY_SLOTS 120

struct history;

/* A history for the gauges of schema (borrowed, may be NULL).  @ret it (free with history_free) or NULL. */
struct history *history_new(const struct report_schema *schema);
/*
 * A history for the gauges of a new schema (borrowed) that keeps old's slots
 * of the gauges both have (the others: no readings).  @ret it or NULL.
 */
struct history *history_rebase(const struct history *old, const struct report_schema *schema);
void history_free(struct history *h);
/* Add the values of a report (borrowed; none when it had none) taken at now (s). */
void history_add(struct history *h, const struct report_state *r, int64_t now);
/*
 * {"step_s": 30, "t": [slot start, ...], "values": {name: [avg or null, ...]}},
 * oldest first, the slot under way last.  @ret a new object or NULL.
 */
json_t *history_json(const struct history *h);

#endif
