/*
 * node-os/agent/blackbox.c: a restarted agent takes back the events its
 * predecessor saved in the same boot, with their seqs; another boot's save
 * or a damaged header is ignored; events out of order are skipped (the ring
 * acknowledges oldest first by seq); a save larger than the ring counts what
 * did not fit as lost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "blackbox.h"

static json_t *save(const char *boot, const char *events)
{
	char text[2048];
	json_t *j;

	snprintf(text, sizeof(text),
		 "{\"boot_id\": \"%s\", \"next_seq\": 10, \"lost\": 0, \"lost_first\": 0,"
		 " \"lost_last\": 0, \"lost_total\": 3, \"events\": [%s]}",
		 boot, events);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

/* "seq,seq,..." of what the ring holds */
static const char *seqs(const struct instr_ring *r)
{
	static char out[256];
	size_t i;

	out[0] = '\0';
	for (i = 0; i < r->len; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%llu", i ? "," : "",
			 (unsigned long long)instr_ring_at(r, i)->seq);
	return out;
}

static void test_restore(void **state)
{
	struct instr_ring r;
	json_t *j;

	assert_int_equal(instr_ring_init(&r, 8), 0);
	j = save("b1", "{\"seq\": 3, \"time\": 1, \"type\": \"boot\", \"attrs\": {\"k\": 1}},"
		       "{\"seq\": 5, \"time\": 2, \"type\": \"agent.start\"}");
	assert_int_equal(blackbox_restore(&r, "b1", j), 2);
	assert_string_equal(seqs(&r), "3,5");
	assert_int_equal(r.next_seq, 10);
	assert_int_equal(r.lost_total, 3);
	assert_int_equal(json_integer_value(json_object_get(instr_ring_at(&r, 0)->attrs, "k")), 1);
	json_decref(j);
	instr_ring_free(&r);
}

static void test_other_boot_or_damaged(void **state)
{
	struct instr_ring r;
	json_t *j;

	assert_int_equal(instr_ring_init(&r, 8), 0);
	j = save("b0", "{\"seq\": 3, \"time\": 1, \"type\": \"boot\"}");
	assert_int_equal(blackbox_restore(&r, "b1", j), -1);
	json_object_set_new(j, "boot_id", json_string("b1"));
	json_object_set_new(j, "next_seq", json_integer(-1));
	assert_int_equal(blackbox_restore(&r, "b1", j), -1);
	json_decref(j);
	j = json_array();
	assert_int_equal(blackbox_restore(&r, "b1", j), -1);
	json_decref(j);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.next_seq, 1);
	instr_ring_free(&r);
}

/* Out of order or repeated seqs, and events that do not parse: skipped. */
static void test_out_of_order_skipped(void **state)
{
	struct instr_ring r;
	json_t *j;

	assert_int_equal(instr_ring_init(&r, 8), 0);
	j = save("b1", "{\"seq\": 5, \"time\": 1, \"type\": \"a\"},"
		       "{\"seq\": 3, \"time\": 1, \"type\": \"b\"},"
		       "{\"seq\": 5, \"time\": 1, \"type\": \"c\"},"
		       "{\"seq\": 6, \"time\": 1},"
		       "{\"seq\": 7, \"time\": 1, \"type\": \"d\"}");
	assert_int_equal(blackbox_restore(&r, "b1", j), 2);
	assert_string_equal(seqs(&r), "5,7");
	/* acknowledging 5 leaves 7: the ring stays in order */
	assert_int_equal(instr_ring_ack(&r, 5, 0), 1);
	assert_string_equal(seqs(&r), "7");
	json_decref(j);
	instr_ring_free(&r);
}

/* Four events into a ring of two: the two oldest are counted lost. */
static void test_more_than_fits(void **state)
{
	struct instr_ring r;
	json_t *j;

	assert_int_equal(instr_ring_init(&r, 2), 0);
	j = save("b1", "{\"seq\": 1, \"time\": 1, \"type\": \"a\"},"
		       "{\"seq\": 2, \"time\": 1, \"type\": \"b\"},"
		       "{\"seq\": 3, \"time\": 1, \"type\": \"c\"},"
		       "{\"seq\": 4, \"time\": 1, \"type\": \"d\"}");
	assert_int_equal(blackbox_restore(&r, "b1", j), 4);
	assert_string_equal(seqs(&r), "3,4");
	assert_int_equal(r.lost, 2);
	assert_int_equal(r.lost_first, 1);
	assert_int_equal(r.lost_last, 2);
	assert_int_equal(r.lost_total, 5);
	json_decref(j);
	instr_ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_other_boot_or_damaged),
		cmocka_unit_test(test_out_of_order_skipped),
		cmocka_unit_test(test_more_than_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
