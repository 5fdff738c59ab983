/*
 * The linear cost model of the send pipeline (after [Tie99]): each stage
 * costs t = a + b * bytes per fragment.  With k fragments of size f for an
 * n-byte message the pipeline takes about
 *     sum_i (a_i + b_i f) + (n/f - 1) (a_B + b_B f)
 * where B is the bottleneck stage; its minimum is at
 *     f* = sqrt(n a_B / sum_{i != B} b_i).
 * When the stages overlap only partly (serial fraction s, measured), each
 * further fragment costs C = (1 - s)(a_B + b_B f) + s sum_i (a_i + b_i f), and
 *     f* = sqrt(n ((1 - s) a_B + s sum_i a_i) / ((1 - s) sum_{i != B} b_i)):
 * s = 0 is the formula above, s -> 1 the largest fragment.
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
 * The fragment size for an n-byte message, clamped to [min_frag, max_frag],
 * then evened out so the fragments of the message have about the same size
 * (rounded up to 64 bytes).  @ret the size; n itself when n <= min_frag.
 */
uint32_t cost_frag(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		   uint32_t max_frag);
/* The same with serial fraction s (0..1) of the stages (see above). */
uint32_t cost_frag_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		     uint32_t max_frag, double s);

/* The index of the bottleneck stage for fragments of f bytes. */
unsigned cost_bottleneck(const struct snf_stage *st, unsigned nst, double f);

/* The model's time (ns) to move n bytes in fragments of f bytes. */
double cost_time(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f);
/* The same with serial fraction s. */
double cost_time_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f, double s);

#endif
