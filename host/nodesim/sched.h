/*
 * snow-nodesim's schedule: nodes wait for their next step in a min-heap on
 * due_ms (monotonic milliseconds); the loop (main.c) pops the due ones into
 * its FIFO.  Calls nothing of nodesim but sim.c's random numbers.
 */
#ifndef SNOW_NODESIM_SCHED_H
#define SNOW_NODESIM_SCHED_H

#include <stdint.h>

#include "nodesim.h"

/* Run node's next step at due (monotonic ms); moves it when already waiting. */
void ns_schedule(struct nodesim *ns, struct ns_node *n, int64_t due);
/* Take the node due first out of the heap (the heap must not be empty). */
struct ns_node *ns_heap_pop(struct nodesim *ns);
/* The next report an interval from now, spread by +-5%. */
void ns_schedule_report(struct nodesim *ns, struct ns_node *n, int64_t now);
/*
 * After a failure: 1 s doubling to 10 s, with jitter.  With --once, a node
 * that failed NS_ONCE_TRIES times is NS_FAILED instead (not scheduled).
 */
void ns_schedule_retry(struct nodesim *ns, struct ns_node *n, int64_t now);

#endif
