#include "cost.h"

#include <errno.h>
#include <math.h>
#include <string.h>

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

/* Sum of squared residuals of points x, t (n) around the line a + b x. */
static double cost_sse(const double *x, const double *t, unsigned n, double a, double b)
{
	double e, sum = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		e = t[i] - (a + b * x[i]);
		sum += e * e;
	}
	return sum;
}

int cost_fit_stage(const double *x, const double *t, unsigned n, struct snf_stage *st)
{
	double a, b, as, bs, al, bl, sse, best;
	unsigned j;
	int rc;

	rc = cost_fit(x, t, n, &a, &b);
	if (rc)
		return rc;
	st->a_ns = a;
	st->b_ns = b;
	st->a_small_ns = st->b_small_ns = 0;
	st->small_max = 0;
	best = cost_sse(x, t, n, a, b) / 4;
	for (j = 2; j + 2 <= n; j++) {
		if (cost_fit(x, t, j, &as, &bs) || cost_fit(x + j, t + j, n - j, &al, &bl))
			continue;
		/* A split explains a step up above the small fragments, not noise. */
		if (as + bs * x[j - 1] >= al + bl * x[j - 1])
			continue;
		sse = cost_sse(x, t, j, as, bs) + cost_sse(x + j, t + j, n - j, al, bl);
		if (sse < best) {
			best = sse;
			st->a_ns = al;
			st->b_ns = bl;
			st->a_small_ns = as;
			st->b_small_ns = bs;
			st->small_max = (uint32_t)x[j - 1];
		}
	}
	return 0;
}

double cost_stage_ns(const struct snf_stage *st, double f)
{
	if (f <= st->small_max)
		return st->a_small_ns + st->b_small_ns * f;
	return st->a_ns + st->b_ns * f;
}

unsigned cost_bottleneck(const struct snf_stage *st, unsigned nst, double f)
{
	unsigned i, best = 0;

	for (i = 1; i < nst; i++)
		if (cost_stage_ns(&st[i], f) > cost_stage_ns(&st[best], f))
			best = i;
	return best;
}

double cost_frag_ns(const struct snf_stage *st, unsigned nst, double f, double s)
{
	double sum = 0;
	unsigned i;

	for (i = 0; i < nst; i++)
		sum += cost_stage_ns(&st[i], f);
	return (1 - s) * cost_stage_ns(&st[cost_bottleneck(st, nst, f)], f) + s * sum;
}

double cost_time(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f)
{
	return cost_time_s(st, nst, n, f, 0);
}

double cost_time_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f, double s)
{
	uint64_t full, rest;

	if (!f || f >= n)
		return cost_frag_ns(st, nst, (double)n, s);
	full = n / f;
	rest = n - full * f;
	return (double)full * cost_frag_ns(st, nst, f, s) +
	       (rest ? cost_frag_ns(st, nst, (double)rest, s) : 0);
}

double cost_fill_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t f, double s)
{
	double f1 = !f || f > n ? (double)n : f, sum = 0;
	unsigned i;

	for (i = 0; i < nst; i++)
		sum += cost_stage_ns(&st[i], f1);
	return sum - cost_frag_ns(st, nst, f1, s);
}

uint32_t cost_frag(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		   uint32_t max_frag)
{
	return cost_frag_s(st, nst, n, min_frag, max_frag, 0);
}

/* The fewest fragments of at most lim bytes, evened out and rounded up to 64 bytes. */
static uint64_t even_frag(uint64_t n, uint64_t lim)
{
	uint64_t k, f;

	if (n <= lim || lim < 64)
		return n <= lim ? n : lim;
	for (k = (n + lim - 1) / lim;; k++) {
		f = ((n + k - 1) / k + 63) & ~(uint64_t)63;
		if (f <= lim)
			return f;
	}
}

uint32_t cost_frag_s(const struct snf_stage *st, unsigned nst, uint64_t n, uint32_t min_frag,
		     uint32_t max_frag, double s)
{
	uint64_t cand[2 + 2 * SNF_STAGES], f, pick = 0;
	double key[3], best[3] = { 0 };
	unsigned i, j, nc = 0;

	if (n <= min_frag)
		return (uint32_t)n;
	if (max_frag < min_frag)
		max_frag = min_frag;
	cand[nc++] = even_frag(n, max_frag);
	cand[nc++] = n < max_frag ? n : max_frag;
	for (i = 0; i < nst && i < SNF_STAGES; i++)
		if (st[i].small_max >= min_frag && st[i].small_max < max_frag) {
			cand[nc++] = even_frag(n, st[i].small_max & ~63u);
			cand[nc++] = st[i].small_max & ~63u;
		}
	for (i = 0; i < nc; i++) {
		f = cand[i] < min_frag ? min_frag : cand[i] > max_frag ? max_frag : cand[i];
		/*
		 * The busy-pipeline time; between layouts equal in it (the same
		 * bytes through the same bottleneck line), the one that costs all
		 * stages less (what any imperfect overlap shows), then the one
		 * that fills the pipeline sooner.
		 */
		key[0] = cost_time_s(st, nst, n, (uint32_t)f, s);
		key[1] = cost_time_s(st, nst, n, (uint32_t)f, 1);
		key[2] = cost_fill_s(st, nst, n, (uint32_t)f, s);
		for (j = 0; pick && j < 3; j++)
			if (key[j] < best[j] * (1 - 1e-9) || key[j] > best[j] * (1 + 1e-9))
				break;
		if (!pick || (j < 3 && key[j] < best[j])) {
			pick = f;
			memcpy(best, key, sizeof(best));
		}
	}
	return (uint32_t)(pick < n ? pick : n);
}
