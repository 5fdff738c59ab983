#include "cost.h"

#include <errno.h>
#include <math.h>

int cost_fit(const double *x, const double *t, unsigned n, double *a, double *b)
{
	double sx = 0, st = 0, sxx = 0, sxt = 0, den;
	unsigned i;

	for (i = 0; i < n; i++) {
		sx += x[i];
		st += t[i];
		sxx += x[i] * x[i];
		sxt += x[i] * t[i];
	}
	den = n * sxx - sx * sx;
	/* Relative test: identical sizes give den == 0 up to rounding. */
	if (n < 2 || den <= 1e-9 * n * sxx)
		return -EINVAL;
	*b = (n * sxt - sx * st) / den;
	*a = (st - *b * sx) / n;
	if (*b < 1e-6)
		*b = 1e-6;
	if (*a < 0)
		*a = 0;
	return 0;
}

unsigned cost_bottleneck(const struct snf_stage *st, unsigned nst, double f)
{
	unsigned i, best = 0;

	for (i = 1; i < nst; i++)
		if (st[i].a_ns + st[i].b_ns * f > st[best].a_ns + st[best].b_ns * f)
			best = i;
	return best;
}

double cost_time(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f)
{
	return cost_time_s(st, nst, n, f, 0);
}

double cost_time_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f, double s)
{
	uint64_t k = f ? (n + f - 1) / f : 1;
	unsigned i, bn;
	double t = 0;

	if (!k)
		k = 1;
	bn = cost_bottleneck(st, nst, f);
	for (i = 0; i < nst; i++)
		t += st[i].a_ns + st[i].b_ns * f;
	return t + (double)(k - 1) * ((1 - s) * (st[bn].a_ns + st[bn].b_ns * f) + s * t);
}

uint32_t cost_frag(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		   uint32_t max_frag)
{
	return cost_frag_s(st, nst, n, min_frag, max_frag, 0);
}

uint32_t cost_frag_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		     uint32_t max_frag, double s)
{
	double f = max_frag, others, suma;
	unsigned i, it, bn;
	uint64_t k, fr;

	if (n <= min_frag)
		return (uint32_t)n;
	/*
	 * Which stage is the bottleneck depends on f, and f on the bottleneck:
	 * start from the largest fragment and iterate; it settles in a step or
	 * two because the a terms only matter for small f.
	 */
	for (it = 0; it < 4; it++) {
		bn = cost_bottleneck(st, nst, f);
		others = suma = 0;
		for (i = 0; i < nst; i++) {
			suma += st[i].a_ns;
			if (i != bn)
				others += st[i].b_ns;
		}
		others *= 1 - s;
		f = others > 0 ? sqrt((double)n * ((1 - s) * st[bn].a_ns + s * suma) / others) :
				 max_frag;
		if (f < min_frag)
			f = min_frag;
		if (f > max_frag)
			f = max_frag;
	}
	if (f >= (double)n)
		return n > max_frag ? max_frag : (uint32_t)n;
	k = (n + (uint64_t)f - 1) / (uint64_t)f;
	fr = (n + k - 1) / k;
	fr = (fr + 63) & ~(uint64_t)63;
	if (fr > max_frag)
		fr = max_frag;
	if (fr < min_frag)
		fr = min_frag;
	return (uint32_t)fr;
}
