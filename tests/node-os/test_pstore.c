/*
 * The agent's pstore collection (node-os/agent/pstore.c) under a test root:
 * every regular file goes, as base64 with its time; other entries stay; a
 * record past PSTORE_RECORD_MAX goes as its end; clearing removes what was sent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "b64.h"
#include "pstore.h"

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void test_collect_clear(void **state)
{
	char root[] = "/tmp/snow-test-pstore.XXXXXX", dir[200], p[300];
	static char big[PSTORE_RECORD_MAX + 100];
	unsigned char bin[] = { 0x78, 0x9c, 0x00, 0xff };
	unsigned char *dec;
	json_t *body, *r;
	size_t i;
	int rc;

	assert_non_null(mkdtemp(root));
	/* Nothing there: no folder, then an empty one. */
	assert_null(pstore_collect(root, "b-1", &rc));
	assert_int_equal(rc, 0);
	snprintf(dir, sizeof(dir), "%s/sys", root);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/sys/fs", root);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s%s", root, PSTORE_DIR);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_null(pstore_collect(root, "b-1", &rc));
	snprintf(p, sizeof(p), "%s/dmesg-ramoops-0", dir);
	put(p, "Panic#1 Part1\nKernel panic - not syncing: test\n", 45);
	snprintf(p, sizeof(p), "%s/dmesg-ramoops-1.enc.z", dir);
	put(p, bin, sizeof(bin));
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'E';
	snprintf(p, sizeof(p), "%s/console-ramoops-0", dir);
	put(p, big, sizeof(big));
	snprintf(p, sizeof(p), "%s/subdir", dir);
	mkdir(p, 0700);

	body = pstore_collect(root, "b-1", &rc);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "boot_id")), "b-1");
	assert_int_equal(json_array_size(json_object_get(body, "records")), 3);
	json_array_foreach(json_object_get(body, "records"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		const char *data = json_string_value(json_object_get(r, "data"));
		long n;
		assert_true(json_integer_value(json_object_get(r, "time")) > 0);
		dec = malloc(strlen(data) / 4 * 3 + 1);
		n = b64_decode(data, strlen(data), dec);
		if (!strcmp(name, "dmesg-ramoops-0")) {
			assert_int_equal(n, 45);
			assert_memory_equal(dec, "Panic#1", 7);
		} else if (!strcmp(name, "dmesg-ramoops-1.enc.z")) {
			assert_int_equal(n, sizeof(bin));
			assert_memory_equal(dec, bin, sizeof(bin));
		} else {
			/* Too long: its end goes. */
			assert_string_equal(name, "console-ramoops-0");
			assert_int_equal(n, PSTORE_RECORD_MAX);
			assert_int_equal(dec[n - 1], 'E');
		}
		free(dec);
	}
	pstore_clear(root, body);
	json_decref(body);
	assert_null(pstore_collect(root, "b-1", &rc));
	assert_int_equal(rc, 0);
	snprintf(p, sizeof(p), "%s/subdir", dir);
	assert_int_equal(rmdir(p), 0); /* left alone */
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/sys/fs", root);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/sys", root);
	rmdir(dir);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
