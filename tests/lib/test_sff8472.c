/* SFF-8472 diagnostics decoded from a synthetic EEPROM dump with known values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "sff8472.h"

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void make(uint8_t *e)
{
	memset(e, 0, SFF8472_EEPROM_LEN);
	e[92] = 0x60; /* diagnostics, internally calibrated */
	memcpy(e + 20, "ACME OPTICS     ", 16);
	memcpy(e + 40, "SFP-10G-SR      ", 16);
	memcpy(e + 68, "X123            ", 16);
	uint8_t *a2 = e + 256;
	/* Temperature: alarms 75/-5 C, warnings 70/0 C, reading 36.5 C; -2.25 C would be 0xFDC0. */
	put16(a2 + 0, 75 * 256); put16(a2 + 2, (unsigned)(uint16_t)(-5 * 256));
	put16(a2 + 4, 70 * 256); put16(a2 + 6, 0);
	put16(a2 + 96, (unsigned)(36.5 * 256));
	/* Vcc in 100 uV: 3.6/3.0 alarms, 3.5/3.1 warnings, 3.3 V. */
	put16(a2 + 8, 36000); put16(a2 + 10, 30000); put16(a2 + 12, 35000); put16(a2 + 14, 31000);
	put16(a2 + 98, 33000);
	/* Bias in 2 uA: 6.5 mA reading. */
	put16(a2 + 100, 3250);
	/* TX power in 0.1 uW: 0.5 mW; RX 0.25 mW, RX low alarm 0.01 mW. */
	put16(a2 + 102, 5000);
	put16(a2 + 104, 2500);
	put16(a2 + 34, 100);
}

static void test_decode(void **state)
{
	uint8_t e[SFF8472_EEPROM_LEN];
	struct sff8472_diag d;
	char err[128];

	make(e);
	assert_int_equal(sff8472_parse(e, sizeof(e), &d, err, sizeof(err)), 0);
	assert_string_equal(d.vendor, "ACME OPTICS");
	assert_string_equal(d.part, "SFP-10G-SR");
	assert_string_equal(d.serial, "X123");
	assert_string_equal(d.r[SFF_TEMP].name, "temp_c");
	assert_true(d.r[SFF_TEMP].value == 36.5);
	assert_true(d.r[SFF_TEMP].high_alarm == 75 && d.r[SFF_TEMP].low_alarm == -5);
	assert_true(d.r[SFF_TEMP].high_warn == 70 && d.r[SFF_TEMP].low_warn == 0);
	assert_true(d.r[SFF_VCC].value > 3.2999 && d.r[SFF_VCC].value < 3.3001);
	assert_true(d.r[SFF_VCC].low_warn > 3.0999 && d.r[SFF_VCC].low_warn < 3.1001);
	assert_true(d.r[SFF_BIAS].value > 6.4999 && d.r[SFF_BIAS].value < 6.5001);
	assert_true(d.r[SFF_TX_POWER].value > 0.4999 && d.r[SFF_TX_POWER].value < 0.5001);
	assert_true(d.r[SFF_RX_POWER].value > 0.2499 && d.r[SFF_RX_POWER].value < 0.2501);
	assert_true(d.r[SFF_RX_POWER].low_alarm > 0.00999 && d.r[SFF_RX_POWER].low_alarm < 0.01001);
	/* A negative temperature is signed. */
	put16(e + 256 + 96, 0xFDC0);
	assert_int_equal(sff8472_parse(e, sizeof(e), &d, err, sizeof(err)), 0);
	assert_true(d.r[SFF_TEMP].value == -2.25);
}

static void test_refusals(void **state)
{
	uint8_t e[SFF8472_EEPROM_LEN];
	struct sff8472_diag d;
	char err[128];

	make(e);
	assert_int_equal(sff8472_parse(e, 256, &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "256 bytes"));
	e[92] = 0x00;
	assert_int_equal(sff8472_parse(e, sizeof(e), &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no digital diagnostics"));
	e[92] = 0x50;
	assert_int_equal(sff8472_parse(e, sizeof(e), &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "externally calibrated"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
