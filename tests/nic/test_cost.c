/* The linear cost model (nic/fw/cost.h). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fw/cost.h"

static void test_fit_exact(void **state)
{
	double x[] = { 256, 1024, 4096, 65536 }, t[4], a, b;
	unsigned i;

	for (i = 0; i < 4; i++)
		t[i] = 3000 + 0.25 * x[i];
	assert_int_equal(cost_fit(x, t, 4, &a, &b), 0);
	assert_true(fabs(a - 3000) < 1e-6);
	assert_true(fabs(b - 0.25) < 1e-9);
}

static void test_fit_refuses_one_size(void **state)
{
	double x[] = { 1024, 1024, 1024 }, t[] = { 5, 6, 7 }, a, b;

	assert_int_equal(cost_fit(x, t, 3, &a, &b), -EINVAL);
	assert_int_equal(cost_fit(x, t, 1, &a, &b), -EINVAL);
}

static void test_fit_clamps(void **state)
{
	/* Noisy points with a negative intercept: a stage never costs less than nothing. */
	double x[] = { 1000, 2000 }, t[] = { 100, 300 }, a, b;

	assert_int_equal(cost_fit(x, t, 2, &a, &b), 0);
	assert_true(a == 0);
	assert_true(b > 0);
}

static const struct snf_stage st[SNF_STAGES] = {
	{ "host-dma-tx", 2000, 0.10, 0 },
	{ "wire", 6000, 0.20, 0 },
	{ "wire-rx", 2000, 0.10, 0 },
	{ "host-dma-rx", 2000, 0.10, 0 },
};

static void test_formula(void **state)
{
	uint64_t n = 4u << 20;
	double want;
	uint32_t f;

	/* Wire is the bottleneck for any f: f* = sqrt(n a_w / (3 * 0.1)). */
	assert_int_equal(cost_bottleneck(st, SNF_STAGES, 1024), 1);
	want = sqrt((double)n * 6000 / 0.3);
	f = cost_frag(st, SNF_STAGES, n, 1024, 1u << 20);
	/* Evened out over the message and rounded to 64 bytes: within a few percent. */
	if (fabs(f - want) / want > 0.05)
		fail_msg("f = %u, want about %.0f", f, want);
}

static void test_clamps(void **state)
{
	assert_int_equal(cost_frag(st, SNF_STAGES, 100, 1024, 9000), 100);    /* one fragment */
	assert_int_equal(cost_frag(st, SNF_STAGES, 1024, 1024, 9000), 1024);
	assert_int_equal(cost_frag(st, SNF_STAGES, 64u << 20, 1024, 9000), 9000); /* frame limit */
	assert_true(cost_frag(st, SNF_STAGES, 2000, 1024, 9000) >= 1024);       /* floor */
	assert_true(cost_frag(st, SNF_STAGES, 5000, 1024, 9000) <= 5000);
}

/* The model's pick is (close to) the best fragment size the model itself knows. */
static void test_near_optimal(void **state)
{
	uint64_t sizes[] = { 8192, 65536, 1u << 20, 4u << 20 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		uint32_t f = cost_frag(st, SNF_STAGES, sizes[i], 256, 1u << 20), g;
		double tf = cost_time(st, SNF_STAGES, sizes[i], f), best = tf;
		for (g = 256; g <= (1u << 20); g += 256) {
			double tg = cost_time(st, SNF_STAGES, sizes[i], g);
			if (tg < best)
				best = tg;
		}
		if (tf > best * 1.03)
			fail_msg("n=%llu: f=%u costs %.0f ns, best %.0f ns",
				 (unsigned long long)sizes[i], f, tf, best);
	}
}

/*
 * Stages that overlap only partly: s = 0 is the plain model, s = 1 (they take
 * turns) the largest fragment, larger fragments as s grows, and the pick is
 * near the best the partly-overlapped model knows.
 */
static void test_serial(void **state)
{
	uint64_t n = 4u << 20;
	double s[] = { 0, 0.25, 0.5, 0.9 };
	uint32_t f, prev = 0, g;
	unsigned i;

	assert_int_equal(cost_frag_s(st, SNF_STAGES, n, 1024, 1u << 20, 0),
			 cost_frag(st, SNF_STAGES, n, 1024, 1u << 20));
	/* s = 1: the largest fragment, evened out over the message. */
	f = cost_frag_s(st, SNF_STAGES, n, 1024, 65000, 1);
	assert_true(f <= 65000 && (n + f - 1) / f == (n + 65000 - 1) / 65000);
	for (i = 0; i < 4; i++) {
		double tf, best;
		f = cost_frag_s(st, SNF_STAGES, n, 256, 1u << 20, s[i]);
		assert_true(f >= prev);
		prev = f;
		tf = best = cost_time_s(st, SNF_STAGES, n, f, s[i]);
		for (g = 256; g <= (1u << 20); g += 256) {
			double tg = cost_time_s(st, SNF_STAGES, n, g, s[i]);
			if (tg < best)
				best = tg;
		}
		if (tf > best * 1.03)
			fail_msg("s=%.2f: f=%u costs %.0f ns, best %.0f ns", s[i], f, tf, best);
	}
}

/* Fragments of a message come out about equal: no runt last fragment. */
static void test_even(void **state)
{
	uint32_t f = cost_frag(st, SNF_STAGES, 100000, 1024, 9000);
	uint32_t k = (100000 + f - 1) / f, last = 100000 - (k - 1) * f;

	assert_true(last > f / 2);
	assert_int_equal(f % 64, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_exact),
		cmocka_unit_test(test_fit_refuses_one_size),
		cmocka_unit_test(test_fit_clamps),
		cmocka_unit_test(test_formula),
		cmocka_unit_test(test_clamps),
		cmocka_unit_test(test_near_optimal),
		cmocka_unit_test(test_even),
		cmocka_unit_test(test_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
