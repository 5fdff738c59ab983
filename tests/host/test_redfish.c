/* A BMC's answers as snowd reads them (host/redfish.c, host/bmcp.c): good, odd and hostile ones. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "redfish.h"

static int sys_parse(const char *s, struct redfish_system *sys, char *err)
{
	return redfish_parse_system(s, strlen(s), sys, err, 200);
}

static void test_system(void **state)
{
	struct redfish_system s;
	char err[200];

	(void)state;
	assert_int_equal(sys_parse("{\"PowerState\":\"Off\",\"Actions\":{\"#ComputerSystem.Reset\":{"
				   "\"target\":\"/redfish/v1/Systems/1/Actions/ComputerSystem.Reset\","
				   "\"ResetType@Redfish.AllowableValues\":[\"On\",\"ForceOff\",\"Nmi\"]}}}",
				   &s, err), 0);
	assert_string_equal(s.power_state, "Off");
	assert_string_equal(s.reset_target, "/redfish/v1/Systems/1/Actions/ComputerSystem.Reset");
	assert_int_equal(s.allowed, (1u << REDFISH_ON) | (1u << REDFISH_FORCE_OFF));
	assert_string_equal(s.action_info, "");
	/* A BMC that says nothing of power or actions: known as unknown. */
	assert_int_equal(sys_parse("{\"Id\":\"1\"}", &s, err), 0);
	assert_string_equal(s.power_state, "");
	assert_int_equal(s.allowed, 0);
	/* Hostile: a state Redfish has not, a target off the service, not JSON, not an object. */
	assert_int_equal(sys_parse("{\"PowerState\":\"On\\nInjected\"}", &s, err), -EPROTO);
	assert_non_null(strstr(err, "PowerState"));
	assert_int_equal(sys_parse("{\"Actions\":{\"#ComputerSystem.Reset\":{\"target\":"
				   "\"https://elsewhere/x\"}}}", &s, err), -EPROTO);
	assert_non_null(strstr(err, "target"));
	assert_int_equal(sys_parse("{\"PowerState\":\"On\"", &s, err), -EPROTO);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(sys_parse("[1]", &s, err), -EPROTO);
}

static void test_members_and_info(void **state)
{
	const char *c = "{\"Members\":[{\"@odata.id\":\"/redfish/v1/Systems/abc\"},{\"@odata.id\":\"x\"}]}";
	const char *info = "{\"Parameters\":[{\"Name\":\"Other\",\"AllowableValues\":[\"On\"]},"
			   "{\"Name\":\"ResetType\",\"AllowableValues\":[\"ForceRestart\",\"PowerCycle\"]}]}";
	char first[REDFISH_PATH_MAX], err[200];
	unsigned allowed;

	(void)state;
	assert_int_equal(redfish_parse_first_member(c, strlen(c), first, sizeof(first), err, 200), 0);
	assert_string_equal(first, "/redfish/v1/Systems/abc");
	c = "{\"Members\":[]}";
	assert_int_equal(redfish_parse_first_member(c, strlen(c), first, sizeof(first), err, 200), -EPROTO);
	c = "{\"Members\":[{\"@odata.id\":\"/redfish/v1/Systems/../../x\"}]}";
	assert_int_equal(redfish_parse_first_member(c, strlen(c), first, sizeof(first), err, 200), -EPROTO);
	assert_int_equal(redfish_parse_action_info(info, strlen(info), &allowed, err, 200), 0);
	assert_int_equal(allowed, (1u << REDFISH_FORCE_RESTART) | (1u << REDFISH_POWER_CYCLE));
}

static void test_paths(void **state)
{
	(void)state;
	assert_true(redfish_path_ok("/redfish/v1"));
	assert_true(redfish_path_ok("/redfish/v1/Systems/1"));
	assert_false(redfish_path_ok("/redfish/v10"));
	assert_false(redfish_path_ok("/redfish/v1/a b"));
	assert_false(redfish_path_ok("/redfish/v1/a?x=1"));
	assert_false(redfish_path_ok("/redfish/v1/.."));
	assert_false(redfish_path_ok("https://h/redfish/v1"));
	assert_false(redfish_path_ok(NULL));
}

static void test_token_and_error(void **state)
{
	char tok[REDFISH_TOKEN_MAX], msg[16];
	const char *h = "x-AUTH-token:  abc123 \r\n";
	const char *e = "{\"error\":{\"message\":\"plain\",\"@Message.ExtendedInfo\":"
			"[{\"Message\":\"bad\\u0001pass\\u00e9word here\"}]}}";

	(void)state;
	assert_int_equal(redfish_header_token(h, strlen(h), tok, sizeof(tok)), 1);
	assert_string_equal(tok, "abc123");
	h = "Location: /x\r\n";
	assert_int_equal(redfish_header_token(h, strlen(h), tok, sizeof(tok)), 0);
	h = "X-Auth-Token: \r\n";
	assert_int_equal(redfish_header_token(h, strlen(h), tok, sizeof(tok)), -EPROTO);
	h = "X-Auth-Token: a\x01b\r\n";
	assert_int_equal(redfish_header_token(h, strlen(h), tok, sizeof(tok)), -EPROTO);
	redfish_error_message(e, strlen(e), msg, sizeof(msg));
	assert_string_equal(msg, "bad?pass??word "); /* ASCII only, cut to fit */
	redfish_error_message("nonsense", 8, msg, sizeof(msg));
	assert_string_equal(msg, "");
	assert_string_equal(redfish_reset_name(REDFISH_GRACEFUL_SHUTDOWN), "GracefulShutdown");
	assert_int_equal(redfish_reset_parse("PowerCycle"), REDFISH_POWER_CYCLE);
	assert_int_equal(redfish_reset_parse("Nmi"), -1);
}

static struct bmcp_poll poll_;

static const struct bmcp_reading *reading(const char *name)
{
	for (size_t i = 0; i < poll_.nr; i++)
		if (!strcmp(poll_.r[i].name, name))
			return &poll_.r[i];
	return NULL;
}

/* Thermal and Power: readings named bmc.FAMILY.SLUG with units; nulls and odd members skipped. */
static void test_sensors(void **state)
{
	static const char thermal[] =
		"{\"Temperatures\":[{\"Name\":\"CPU1 Temp\",\"ReadingCelsius\":45.5},"
		"{\"Name\":\"Inlet\",\"ReadingCelsius\":null},{\"Name\":\"CPU1--Temp\",\"ReadingCelsius\":46},"
		"{\"ReadingCelsius\":\"hot\"},{\"Name\":\"!!!\",\"ReadingCelsius\":1}],"
		"\"Fans\":[{\"Name\":\"Fan 1\",\"Reading\":3000,\"ReadingUnits\":\"RPM\"},"
		"{\"MemberId\":\"7\",\"Reading\":40,\"ReadingUnits\":\"Percent\"}]}";
	static const char power[] =
		"{\"PowerControl\":[{\"Name\":\"System Power Control\",\"PowerConsumedWatts\":230}],"
		"\"Voltages\":[{\"Name\":\"P12V\",\"ReadingVolts\":12.1}]}";
	char err[200];

	memset(&poll_, 0, sizeof(poll_));
	assert_int_equal(redfish_parse_thermal(thermal, strlen(thermal), &poll_, err, sizeof(err)), 0);
	assert_int_equal(redfish_parse_power(power, strlen(power), &poll_, err, sizeof(err)), 0);
	assert_int_equal(poll_.nr, 6);
	assert_true(reading("bmc.temp.cpu1_temp")->v == 45.5);
	assert_string_equal(reading("bmc.temp.cpu1_temp")->unit, "C");
	/* Another sensor with the same slug gets _2, not the first one's place. */
	assert_true(reading("bmc.temp.cpu1_temp_2")->v == 46);
	assert_string_equal(reading("bmc.fan.fan_1")->unit, "RPM");
	assert_string_equal(reading("bmc.fan.7")->unit, "%");
	assert_true(reading("bmc.power.system_power_control")->v == 230);
	assert_string_equal(reading("bmc.volt.p12v")->unit, "V");
	assert_int_equal(redfish_parse_thermal("{\"Fans\":{}}", 11, &poll_, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "Fans: not an array");
	assert_int_equal(redfish_parse_power("[1]", 3, &poll_, err, sizeof(err)), -EPROTO);
	assert_int_equal(redfish_parse_thermal("{\"Temp", 6, &poll_, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "not JSON"));
}

/* LogService entries: numeric ids, the BMC's own time (any offset), printable text. */
static void test_log(void **state)
{
	static const char entries[] =
		"{\"Members\":[{\"Id\":\"2\",\"Created\":\"2026-12-06T01:10:00+01:00\","
		"\"Severity\":\"Critical\",\"Message\":\"Fan\\u0007 failed\"},"
		"{\"Id\":\"1\",\"Created\":\"2026-12-06T00:00:00Z\",\"Message\":\"x\"},"
		"{\"Id\":\"abc\"},{\"Id\":\"-3\"},{\"Id\":\"5\",\"Created\":\"yesterday\"}]}";
	size_t idx[8];
	char err[200];

	assert_true(redfish_time("1970-01-01T00:00:00Z") == 0);
	assert_true(redfish_time("2026-12-06T00:10:00Z") == 1796515800);
	assert_true(redfish_time("2026-12-06T01:10:00.123+01:00") == 1796515800);
	assert_true(redfish_time("2026-12-06T00:10:00") == 0);
	assert_true(redfish_time("2026-13-06T00:10:00Z") == 0);
	memset(&poll_, 0, sizeof(poll_));
	assert_int_equal(redfish_parse_log_entries(entries, strlen(entries), &poll_, err, sizeof(err)), 0);
	assert_int_equal(poll_.ne, 3);
	assert_true(poll_.has_log);
	assert_true(poll_.e[0].id == 2 && poll_.e[0].time == 1796515800);
	assert_string_equal(poll_.e[0].text, "Fan? failed");
	assert_string_equal(poll_.e[0].severity, "Critical");
	assert_true(poll_.e[2].id == 5 && poll_.e[2].time == 0);
	/* New after cursor 1: 2 then 5, oldest first; after 9 (a cleared log): all three. */
	assert_int_equal(bmcp_new_entries(&poll_, 1, idx, 8), 2);
	assert_true(poll_.e[idx[0]].id == 2 && poll_.e[idx[1]].id == 5);
	assert_int_equal(bmcp_new_entries(&poll_, 9, idx, 8), 3);
	assert_true(poll_.e[idx[0]].id == 1);
	assert_int_equal(redfish_parse_log_entries("{\"Members\":3}", 13, &poll_, err, sizeof(err)), -EPROTO);
}

/* ipmitool's sensor and sel list lines, as one exec prints them. */
static void test_ipmi(void **state)
{
	static const char out[] =
		"CPU_Temp         | 45.000     | degrees C  | ok    | na        | na        | na        | na        | na        | na        \n"
		"Fan_1            | 3000.000   | RPM        | ok    | na | na | na | na | na | na\n"
		"Watchdog         | 0x0        | discrete   | 0x0080| na | na | na | na | na | na\n"
		"Missing          | na         | Volts      | na    | na | na | na | na | na | na\n"
		"   1 |  Pre-Init  |0000045635| Temperature #0x01 | Upper Critical going high | Asserted\n"
		"   a | 12/06/2026 | 00:10:00 | Fan #0x02 | Lower Non-critical going low | Deasserted\n"
		"Error: something else\n";
	char err[200];

	memset(&poll_, 0, sizeof(poll_));
	assert_int_equal(bmcp_ipmi_parse(out, strlen(out), &poll_, err, sizeof(err)), 0);
	assert_int_equal(poll_.nr, 2);
	assert_true(reading("bmc.temp.cpu_temp")->v == 45);
	assert_string_equal(reading("bmc.fan.fan_1")->unit, "RPM");
	assert_int_equal(poll_.ne, 2);
	assert_true(poll_.e[0].id == 1 && poll_.e[0].time == 0);
	assert_string_equal(poll_.e[0].when, "Pre-Init +45635 s");
	assert_string_equal(poll_.e[0].text, "Temperature #0x01: Upper Critical going high (Asserted)");
	assert_true(poll_.e[1].id == 10 && poll_.e[1].time == 1796515800);
	memset(&poll_, 0, sizeof(poll_));
	assert_int_equal(bmcp_ipmi_parse("SEL has no entries", 18, &poll_, err, sizeof(err)), 0);
	assert_true(poll_.has_log && !poll_.ne);
	assert_int_equal(bmcp_ipmi_parse("Error: Unable to establish IPMI v2 / RMCP+ session\n", 51,
					 &poll_, err, sizeof(err)), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system),
		cmocka_unit_test(test_members_and_info),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_token_and_error),
		cmocka_unit_test(test_sensors),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_ipmi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
