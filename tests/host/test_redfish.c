/* A BMC's Redfish answers as snowd reads them (host/redfish.c): good, odd and hostile ones. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system),
		cmocka_unit_test(test_members_and_info),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_token_and_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
