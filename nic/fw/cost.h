/*
 * The cost model of the send pipeline (after [Tie99]).  Each stage costs
 * t_i(f) = a_i + b_i f for a fragment of f bytes, with a second line for
 * small fragments where the stage takes them another way (snf_stage).  In a
 * pipeline that is busy with the messages before it, a fragment adds
 *     C(f) = (1 - s) max_i t_i(f) + s sum_i t_i(f)
 * s the measured serial fraction (0: the bottleneck hides the other stages,
 * 1: they take turns), and an n-byte message in fragments of f bytes, the
 * last one the remainder, costs the sum of C over its fragments.  The
 * first fragment of a burst also fills the pipeline (sum_i t_i - C): [Tie99]
 * minimises the two together, f* = sqrt(n a_B / sum_{i != B} b_i); measured
 * on the emulated NIC, streams of messages follow the busy-pipeline cost (the
 * fill is paid once per burst, not per message), so the model minimises that.
 * Between layouts that cost the same there (the same bytes through the same
 * bottleneck line) it takes the one that costs all stages less (s = 1), then
 * the one with the smaller fill.
 */
#ifndef SNOW_NIC_COST_H
#define SNOW_NIC_COST_H

#include "abi.h"

#include <stdint.h>

/*
 * Least-squares fit of t = a + b * x over n points.  a is clamped at 0 and b
 * at a tiny positive value: a stage never costs less than nothing.
 * @ret 0, or -EINVAL with fewer than two distinct sizes.
 */
int cost_fit(const double *x, const double *t, unsigned n, double *a, double *b);

/*
 * Fit a stage's timings t at sizes x (ascending): one line, or two when a
 * split after some size (two points at least on each side) explains the
 * points at least four times better than one line and the small side is the
 * cheaper one at its largest size; the split is then small_max.  Sets a_ns,
 * b_ns, a_small_ns, b_small_ns and small_max of *st.  @ret as cost_fit().
 */
int cost_fit_stage(const double *x, const double *t, unsigned n, struct snf_stage *st);

/* Stage st's time (ns) for one fragment of f bytes. */
double cost_stage_ns(const struct snf_stage *st, double f);

/* The index of the bottleneck stage for fragments of f bytes. */
unsigned cost_bottleneck(const struct snf_stage *st, unsigned nst, double f);

/* C(f) above: what one fragment of f bytes adds to a busy pipeline (ns). */
double cost_frag_ns(const struct snf_stage *st, unsigned nst, double f, double s);

/* The model's time (ns) for n bytes in fragments of f bytes (s = 0, and with s). */
double cost_time(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f);
double cost_time_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f, double s);

/* What the first fragment (f bytes, at most n) adds when the pipeline is empty (ns). */
double cost_fill_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f, double s);

/*
 * The fragment size for an n-byte message, in [min_frag, max_frag]: the
 * cheapest of a few layouts (the largest fragments with the remainder last,
 * the fewest fragments evened out, and the same at each stage's small_max).
 * A fragment within one stage's line costs its
 * a once more per fragment, so within a line fewer fragments are cheaper and
 * only those layouts can win.  Ties as above.  @ret the size; n itself when
 * n <= min_frag.
 */
uint32_t cost_frag(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		   uint32_t max_frag);
uint32_t cost_frag_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		     uint32_t max_frag, double s);

#endif
