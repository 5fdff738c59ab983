/* dnsmasq's log as snowd reads it: DHCPACK lines, cut across reads or too long. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "dnsmasq.h"

static void on_ack(void *ctx, const char *mac, const char *ip)
{
	buf_printf(ctx, "%s %s\n", mac, ip);
}

static void feed(struct dnsmasq_child *c, const char *s, struct buf *acks)
{
	dnsmasq_log_feed(c, s, strlen(s), on_ack, acks);
}

static void test_line_across_reads(void **state)
{
	struct dnsmasq_child c = { .logpipe = -1 };
	struct buf acks = BUF_INIT;

	(void)state;
	feed(&c, "dnsmasq-dhcp[1]: 7 DHCPDISCOVER(br0) 52:54:00:4d:00:01\ndnsmasq-dhcp[1]: 7 DHCP", &acks);
	assert_null(acks.data);
	feed(&c, "ACK(br0) 10.77.0.11 52:54:", &acks);
	feed(&c, "00:4d:00:01 node1\n", &acks);
	assert_string_equal(acks.data, "52:54:00:4d:00:01 10.77.0.11\n");
	buf_free(&acks);
}

/*
 * A line longer than snowd keeps, cut across reads: its head used to stay
 * and be read with the tail of the line (found by tests/fuzz/dnsmasq_log.c),
 * so text far into a line (a client's name, say) could pass for an ack.
 */
static void test_long_line_dropped_whole(void **state)
{
	struct dnsmasq_child c = { .logpipe = -1 };
	struct buf acks = BUF_INIT;
	char chunk[1000];

	(void)state;
	memset(chunk, 'x', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\0';
	feed(&c, "dnsmasq-dhcp[1]: 9 DHCPINFORM(br0) ", &acks);
	feed(&c, chunk, &acks);
	feed(&c, chunk, &acks);
	feed(&c, " DHCPACK(br0) 10.77.0.66 52:54:00:66:66:66\n", &acks);
	assert_null(acks.data);
	/* The next line is read again. */
	feed(&c, "dnsmasq-dhcp[1]: 10 DHCPACK(br0) 10.77.0.12 52:54:00:4d:00:02 node2\n", &acks);
	assert_string_equal(acks.data, "52:54:00:4d:00:02 10.77.0.12\n");
	buf_free(&acks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_across_reads),
		cmocka_unit_test(test_long_line_dropped_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
