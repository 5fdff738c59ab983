/* The netconsole datagram (host/klogp.c): both forms, fragments, bad headers, cleaning. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "klogp.h"

static int parse(const char *s, struct klogp_msg *m)
{
	return klogp_parse(s, strlen(s), m);
}

static void test_extended(void **state)
{
	struct klogp_msg m;

	(void)state;
	assert_int_equal(parse("0,1240,5679000,-;Kernel panic - not syncing: sysrq triggered crash\n"
			       " SUBSYSTEM=tty\n DEVICE=c4:64\n", &m), 0);
	assert_true(m.ext);
	assert_int_equal(m.level, 0);
	assert_int_equal(m.seq, 1240);
	assert_int_equal(m.usec, 5679000);
	assert_false(m.frag);
	assert_int_equal(m.text_len, strlen("Kernel panic - not syncing: sysrq triggered crash"));
	assert_memory_equal(m.text, "Kernel panic", 12);
	/* Facility bits above the level are dropped. */
	assert_int_equal(parse("14,1,2,-;user says hi\n", &m), 0);
	assert_int_equal(m.level, 6);
}

static void test_fragment(void **state)
{
	struct klogp_msg m;

	(void)state;
	assert_int_equal(parse("6,7,8,-,ncfrag=1000/1010;0123456789", &m), 0);
	assert_true(m.frag);
	assert_int_equal(m.frag_off, 1000);
	assert_int_equal(m.frag_len, 1010);
	/* Text past the record's length, or an offset past it: refused. */
	assert_int_equal(parse("6,7,8,-,ncfrag=1005/1010;0123456789", &m), -EINVAL);
	assert_int_equal(parse("6,7,8,-,ncfrag=20/10;x", &m), -EINVAL);
	assert_int_equal(parse("6,7,8,-,ncfrag=1/x;x", &m), -EINVAL);
}

static void test_plain_and_bad(void **state)
{
	struct klogp_msg m;

	(void)state;
	/* Digits and commas without the whole header are a plain line. */
	assert_int_equal(parse("[    1.234] 3,2 things;\n", &m), 0);
	assert_false(m.ext);
	assert_int_equal(m.text_len, strlen("[    1.234] 3,2 things;\n"));
	assert_int_equal(parse("6,99999999999999999999999,1,-;seq too big\n", &m), 0);
	assert_false(m.ext);
	assert_int_equal(parse("1024,1,1,-;level too big\n", &m), -EINVAL);
	assert_int_equal(klogp_parse("x", 0, &m), -EINVAL);
}

static void test_clean(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(klogp_clean("caf\xc3\xa9\x01\x7f\xff\tx\n", 11, out, sizeof(out)), 11);
	assert_string_equal(out, "caf\xc3\xa9??\?\tx\n");
	/* A multi-byte character that does not fit is not cut in half. */
	assert_int_equal(klogp_clean("ab\xc3\xa9", 4, out, 4), 3);
	assert_string_equal(out, "ab?");
	/* Overlong and surrogate forms are not UTF-8. */
	klogp_clean("\xe0\x80\x80\xed\xa0\x80", 6, out, sizeof(out));
	assert_string_equal(out, "??????");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extended),
		cmocka_unit_test(test_fragment),
		cmocka_unit_test(test_plain_and_bad),
		cmocka_unit_test(test_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
