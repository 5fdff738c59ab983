/* The schedule of snow-nodesim: see sched.h. */
#include "sched.h"

#include <stddef.h>
#include <stdint.h>

#include "log.h"

/* ---- schedule: a min-heap on due_ms, then a FIFO of due nodes ------------------- */

static void ns_heap_swap(struct nodesim *ns, size_t a, size_t b)
{
	struct ns_node *t = ns->heap[a];

	ns->heap[a] = ns->heap[b];
	ns->heap[b] = t;
	ns->heap[a]->heap_idx = a;
	ns->heap[b]->heap_idx = b;
}

static void ns_heap_up(struct nodesim *ns, size_t i)
{
	while (i && ns->heap[(i - 1) / 2]->due_ms > ns->heap[i]->due_ms) {
		ns_heap_swap(ns, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void ns_heap_down(struct nodesim *ns, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < ns->nheap && ns->heap[l]->due_ms < ns->heap[m]->due_ms)
			m = l;
		if (r < ns->nheap && ns->heap[r]->due_ms < ns->heap[m]->due_ms)
			m = r;
		if (m == i)
			return;
		ns_heap_swap(ns, i, m);
		i = m;
	}
}

struct ns_node *ns_heap_pop(struct nodesim *ns)
{
	struct ns_node *top = ns->heap[0];

	ns->nheap--;
	if (ns->nheap) {
		ns->heap[0] = ns->heap[ns->nheap];
		ns->heap[0]->heap_idx = 0;
		ns_heap_down(ns, 0);
	}
	top->heap_idx = SIZE_MAX;
	return top;
}

/* Run node's next step at due (monotonic ms). */
void ns_schedule(struct nodesim *ns, struct ns_node *n, int64_t due)
{
	n->due_ms = due;
	if (n->heap_idx != SIZE_MAX) {
		ns_heap_up(ns, n->heap_idx);
		ns_heap_down(ns, n->heap_idx);
		return;
	}
	n->heap_idx = ns->nheap;
	ns->heap[ns->nheap++] = n;
	ns_heap_up(ns, n->heap_idx);
}


/* The next report, spread by +-5% so nodes that started together drift apart. */
void ns_schedule_report(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	double j = 0.95 + 0.1 * sim_rand(&n->sim);

	ns_schedule(ns, n, now + (int64_t)((double)n->interval_ms * j));
}

/* After a failure: 1 s doubling to 10 s, with jitter so a crowd does not return at once. */
void ns_schedule_retry(struct nodesim *ns, struct ns_node *n, int64_t now)
{
	long b = NS_BACKOFF_FIRST_MS;
	unsigned i;

	n->fails++;
	for (i = 1; i < n->fails && b < NS_BACKOFF_MAX_MS; i++)
		b *= 2;
	if (b > NS_BACKOFF_MAX_MS)
		b = NS_BACKOFF_MAX_MS;
	if (ns->conf.once && n->fails >= NS_ONCE_TRIES) {
		log_warnx("%s: giving up after %u attempts", n->sim.name, n->fails);
		n->state = NS_FAILED;
		return;
	}
	ns_schedule(ns, n, now + (int64_t)((double)b * (0.5 + sim_rand(&n->sim))));
}
