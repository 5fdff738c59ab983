/*
 * The pstore upload's parser (host/pstorep.c) and lib/b64.c: RFC 4648's test
 * vectors, what is refused and why, a binary record kept as bytes, and the
 * panic line found in a ramoops dump.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "b64.h"
#include "jsonh.h"
#include "pstorep.h"

static void test_b64_vectors(void **state)
{
	const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	unsigned char out[16];
	char e[16];
	size_t i;

	for (i = 0; i < 7; i++) {
		b64_encode(plain[i], strlen(plain[i]), e);
		assert_string_equal(e, enc[i]);
		assert_int_equal(b64_decode(enc[i], strlen(enc[i]), out), (long)strlen(plain[i]));
		assert_memory_equal(out, plain[i], strlen(plain[i]));
	}
	/* Not base64: a length not a multiple of 4, a bad character, data after '=', bits in padding. */
	assert_int_equal(b64_decode("Zg=", 3, out), -1);
	assert_int_equal(b64_decode("Zm9*", 4, out), -1);
	assert_int_equal(b64_decode("Zg==Zg==", 8, out), -1);
	assert_int_equal(b64_decode("Z=g=", 4, out), -1);
	assert_int_equal(b64_decode("Zh==", 4, out), -1);
}

static int parse(const char *text, struct pstorep_upload *u, char *err)
{
	json_t *j = jsonh_parse_object(text, strlen(text), err, 200);
	int rc;

	assert_non_null(j);
	rc = pstorep_parse(j, u, err, 200);
	json_decref(j);
	return rc;
}

static void test_parse(void **state)
{
	struct pstorep_upload u;
	char err[200], panic[200];

	/* "Panic#1 Part1\n...Kernel panic - not syncing: sysrq triggered crash\n" */
	assert_int_equal(parse("{\"boot_id\": \"0b6c9a51-1f2e\", \"records\": [{\"name\": \"dmesg-ramoops-0\", "
			       "\"time\": 1764961234, \"data\": \"UGFuaWMjMSBQYXJ0MQo8MD5bMTIuNF0gS2VybmVsIHBh"
			       "bmljIC0gbm90IHN5bmNpbmc6IHN5c3JxIHRyaWdnZXJlZCBjcmFzaAo=\"}, "
			       "{\"name\": \"dmesg-ramoops-1.enc.z\", \"data\": \"eJwA//4=\"}]}",
			       &u, err),
			 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.boot_id, "0b6c9a51-1f2e");
	assert_true(u.rec[0].text);
	assert_true(pstorep_is_dump(&u.rec[0]));
	assert_int_equal(pstorep_panic(&u.rec[0], panic, sizeof(panic)), 1);
	assert_string_equal(panic, "Kernel panic - not syncing: sysrq triggered crash");
	/* Compressed or corrupt: kept as bytes, no panic line read from it. */
	assert_false(u.rec[1].text);
	assert_int_equal(u.rec[1].len, 5);
	assert_int_equal(u.rec[1].time, 0);
	assert_int_equal(pstorep_panic(&u.rec[1], panic, sizeof(panic)), 0);
	pstorep_free(&u);

	/* Each refusal names the field. */
	assert_int_equal(parse("{\"boot_id\": \"../x\", \"records\": [{\"name\": \"a\", \"data\": \"\"}]}", &u, err),
			 -22);
	assert_non_null(strstr(err, "boot_id"));
	assert_int_equal(parse("{\"boot_id\": \"b\", \"records\": []}", &u, err), -22);
	assert_non_null(strstr(err, "records"));
	assert_int_equal(parse("{\"boot_id\": \"b\", \"records\": [{\"name\": \"../etc\", \"data\": \"\"}]}", &u, err),
			 -22);
	assert_non_null(strstr(err, "records[0].name"));
	assert_int_equal(parse("{\"boot_id\": \"b\", \"records\": [{\"name\": \"a\", \"data\": \"QQ=\"}]}", &u, err),
			 -22);
	assert_non_null(strstr(err, "records[0].data"));
	assert_int_equal(parse("{\"boot_id\": \"b\", \"records\": [{\"name\": \"a\", \"data\": \"\"}, "
			       "{\"name\": \"a\", \"data\": \"\"}]}", &u, err),
			 -22);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(parse("{\"boot_id\": \"b\", \"x\": 1, \"records\": [{\"name\": \"a\", \"data\": \"\"}]}",
			       &u, err),
			 -22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
