/* The wire frame format (nic/fw/frame.h): round trip and refusal of bad frames. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fw/frame.h"

static struct snf_hdr sample(void)
{
	struct snf_hdr h = { .dst = { 2, 0, 0, 0, 0, 2 }, .src = { 2, 0, 0, 0, 0, 1 } };

	h.type = SNF_T_DATA;
	h.flags = SNF_F_FIRST;
	h.src_node = 1;
	h.dst_node = 2;
	h.epoch = 0xdeadbeef;
	h.seq = 0xfffffffe;
	h.msg_id = 7;
	h.msg_len = 3000;
	h.offset = 0;
	h.frag_len = 1000;
	h.tag = 42;
	h.frag_size = 1000;
	return h;
}

static void test_roundtrip(void **state)
{
	uint8_t f[SNF_FRAME_HDR + 1000];
	struct snf_hdr h = sample(), g;
	char err[128];

	snf_hdr_encode(&h, f);
	assert_int_equal(f[12], 0x88);
	assert_int_equal(f[13], 0xb5);
	assert_int_equal(snf_hdr_decode(f, sizeof(f), &g, err, sizeof(err)), 0);
	assert_memory_equal(g.dst, h.dst, 6);
	assert_memory_equal(g.src, h.src, 6);
	assert_int_equal(g.seq, h.seq);
	assert_int_equal(g.epoch, h.epoch);
	assert_int_equal(g.msg_len, 3000);
	assert_int_equal(g.frag_len, 1000);
	assert_int_equal(g.tag, 42);
	assert_int_equal(g.frag_size, 1000);
	/* Ethernet padding after the payload is fine. */
	assert_int_equal(snf_hdr_decode(f, sizeof(f), &g, err, sizeof(err)), 0);
}

static void expect_bad(struct snf_hdr h, size_t len, const char *needle)
{
	uint8_t f[SNF_FRAME_HDR + 4000];
	struct snf_hdr g;
	char err[128] = "";

	snf_hdr_encode(&h, f);
	assert_int_equal(snf_hdr_decode(f, len, &g, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_refused(void **state)
{
	struct snf_hdr h = sample();
	uint8_t f[SNF_FRAME_HDR + 10];
	struct snf_hdr g;
	char err[128];

	expect_bad(h, 20, "shorter");
	expect_bad(h, SNF_FRAME_HDR + 999, "exceeds");          /* frame cut short */
	h = sample(); h.offset = 2500; h.flags = 0;
	expect_bad(h, SNF_FRAME_HDR + 1000, "beyond");
	h = sample(); h.flags = 0;                               /* offset 0 needs FIRST */
	expect_bad(h, SNF_FRAME_HDR + 1000, "first/last");
	h = sample(); h.flags = SNF_F_FIRST | SNF_F_LAST;        /* not the end */
	expect_bad(h, SNF_FRAME_HDR + 1000, "first/last");
	h = sample(); h.flags = 0x80;
	expect_bad(h, SNF_FRAME_HDR + 1000, "flags");
	h = sample(); h.type = 9;
	expect_bad(h, SNF_FRAME_HDR + 1000, "type");
	h = sample(); h.msg_len = (1u << 30) + 1;
	expect_bad(h, SNF_FRAME_HDR + 1000, "exceeds");
	h = sample(); h.type = SNF_T_CTRL; h.frag_len = 4;
	expect_bad(h, SNF_FRAME_HDR + 1000, "control");

	h = sample();
	h.frag_len = 0;
	h.msg_len = 10;
	h.flags = SNF_F_FIRST;
	expect_bad(h, SNF_FRAME_HDR + 10, "empty");

	h = sample();
	snf_hdr_encode(&h, f);
	f[12] = 0x08; f[13] = 0x00;
	assert_int_equal(snf_hdr_decode(f, sizeof(f), &g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "EtherType"));
	snf_hdr_encode(&h, f);
	f[14] = 2; /* version */
	assert_int_equal(snf_hdr_decode(f, sizeof(f), &g, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "version"));
}

static void test_ctrl(void **state)
{
	struct snf_ctrl_wire c = { 0x11223344, 5, 0x80000001u, 64, SNF_CTRL_LIMIT }, d;
	uint8_t p[SNF_CTRL_LEN];

	snf_ctrl_encode(&c, p);
	snf_ctrl_decode(p, &d);
	assert_int_equal(d.your_epoch, c.your_epoch);
	assert_int_equal(d.next_seq, 5);
	assert_int_equal(d.limit, 0x80000001u);
	assert_int_equal(d.grant, 64);
	assert_int_equal(d.flags, SNF_CTRL_LIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_ctrl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
