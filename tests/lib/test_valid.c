/* Names, MACs and IPv4 addresses: what is accepted, what is refused and why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "valid.h"

static void test_names(void **state)
{
	char err[128];
	const char *good[] = { "a", "node1", "rack-2-n07",
			       "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc" };
	const char *bad[] = { "", "1node", "Node", "node_1", "node-", "-node", "no de",
			      "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_int_equal(valid_name(good[i], err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = '\0';
		assert_int_not_equal(valid_name(bad[i], err, sizeof(err)), 0);
		/* Every refusal names the field. */
		assert_non_null(strstr(err, "name:"));
	}
}

static void test_macs(void **state)
{
	char out[18], err[128];

	assert_int_equal(valid_mac("52:54:00:AB:cd:01", out, err, sizeof(err)), 0);
	assert_string_equal(out, "52:54:00:ab:cd:01");
	assert_int_equal(valid_mac("52-54-00-12-34-56", out, err, sizeof(err)), 0);
	assert_string_equal(out, "52:54:00:12:34:56");
	assert_int_not_equal(valid_mac("52:54:00:12:34", out, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "mac:"));
	assert_int_not_equal(valid_mac("52:54:00:12:34:5g", out, err, sizeof(err)), 0);
	assert_int_not_equal(valid_mac("52:54-00:12:34:56", out, err, sizeof(err)), 0);
	assert_int_not_equal(valid_mac("01:00:5e:00:00:01", out, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "multicast"));
	assert_int_not_equal(valid_mac("00:00:00:00:00:00", out, err, sizeof(err)), 0);
	assert_int_not_equal(valid_mac("52:54:00:12:34:567", out, err, sizeof(err)), 0);
}

static void test_ipv4(void **state)
{
	char err[128], txt[16];
	uint32_t ip;

	assert_int_equal(valid_ipv4("10.77.0.1", &ip, err, sizeof(err)), 0);
	assert_int_equal(ip, 0x0a4d0001);
	ipv4_format(ip, txt);
	assert_string_equal(txt, "10.77.0.1");
	assert_int_equal(valid_ipv4("0.0.0.0", &ip, err, sizeof(err)), 0);
	assert_int_equal(valid_ipv4("255.255.255.255", &ip, err, sizeof(err)), 0);
	assert_int_equal(ip, 0xffffffff);
	const char *bad[] = { "", "10.0.0", "10.0.0.256", "10.0.0.01", "10..0.1", "10.0.0.1.",
			      "a.b.c.d", "10.0.0.1 ", "1000.0.0.1", "10.0.0.-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		err[0] = '\0';
		assert_int_not_equal(valid_ipv4(bad[i], &ip, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "ip:"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_macs),
		cmocka_unit_test(test_ipv4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
