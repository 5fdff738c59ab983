/*
 * snow-nodesim --procs N: the nodes split across N worker processes, for a
 * load one thread cannot make (an HMAC and a report's text per request) and
 * a descriptor budget per process.  Options, snowd's node list and the
 * nodes' set-up happen once, in the parent; then each worker, forked, takes
 * a contiguous share of the nodes (and of --concurrency and --events-rate)
 * and runs main.c's loop on it with its own epoll set, slots and wake-up
 * socket (each node registers its worker's port).  A worker sends its
 * --stats second and its summary (counters and every latency sample) up a
 * pipe; the parent prints one --stats line per second once every worker's
 * is in, and one summary over all of them: counts added up, percentiles
 * over the samples of all, the steady rate the sum of the workers' rates.
 *
 * SIGINT/SIGTERM to the parent stop every worker (each sends its summary).
 * A worker that dies, or ends without its summary, is reported, the others
 * are stopped, and the parent exits 1 after the summary of the rest.  Each
 * worker has PR_SET_PDEATHSIG SIGKILL, and the parent waits for every one.
 */
#ifndef SNOW_NODESIM_PROCS_H
#define SNOW_NODESIM_PROCS_H

#include <stddef.h>

#include "nodesim.h"

/* Run one process's loop on ns->nodes (main.c's ns_run).  @ret 0 or -errno, err filled. */
typedef int (*ns_run_fn)(struct nodesim *ns, char *err, size_t errlen);

/*
 * Fork ns->conf.procs workers (fewer when there are fewer nodes), each
 * calling run on its share and never returning; gather and print their
 * figures as ns_summary() does.  ns's nodes set up, ns->sig open, nothing
 * run yet.  @ret the exit status: 0, or 1 (a worker failed or died, a
 * --once node failed, or a fork failed).
 */
int ns_procs_run(struct nodesim *ns, ns_run_fn run);

#endif
