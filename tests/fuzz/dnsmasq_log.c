/*
 * Fuzz target: dnsmasq's log as snowd reads it (host/dnsmasq.c,
 * dnsmasq_log_feed(): lines cut across reads, DHCPACK lines parsed).  The
 * first byte sets the size of the reads the rest arrives in (1..256).  The
 * acks reported must be exactly those of a plain reference: each whole line
 * (ended by '\n', shorter than the 1 kB snowd keeps) that has " DHCPACK(",
 * then ')' and two words; the MAC then goes through valid_mac() as snowd's
 * handler does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dnsmasq.h"
#include "valid.h"

static void fz_ack(void *ctx, const char *mac, const char *ip)
{
	char canon[SNOW_MAC_STRLEN + 1];

	valid_mac(mac, canon, NULL, 0);
	buf_printf(ctx, "%s %s\n", mac, ip);
}

/* The reference: every whole line, parsed alone. */
static void fz_expect(const uint8_t *d, size_t n, size_t max_line, struct buf *out)
{
	const uint8_t *nl;

	/* A line as long as max_line is dropped: a shorter one fits here, no malloc per line. */
	char line[4096], ip[16], mac[18];

	if (max_line > sizeof(line))
		abort();
	while ((nl = memchr(d, '\n', n))) {
		size_t len = (size_t)(nl - d);
		const char *p = NULL;
		if (len < max_line) {
			memcpy(line, d, len);
			line[len] = '\0';
			p = strstr(line, " DHCPACK(");
		}
		if (p && (p = strchr(p, ')')) && sscanf(p + 1, " %15s %17s", ip, mac) == 2)
			fz_ack(out, mac, ip);
		n -= len + 1;
		d = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsmasq_child c;
	struct buf got = BUF_INIT, want = BUF_INIT;
	size_t step, off;

	if (!size)
		return 0;
	step = (size_t)data[0] + 1;
	memset(&c, 0, sizeof(c));
	c.logpipe = c.logfile_fd = -1;
	for (off = 1; off < size; off += step)
		dnsmasq_log_feed(&c, (const char *)data + off, size - off < step ? size - off : step,
				 fz_ack, &got);
	fz_expect(data + 1, size - 1, sizeof(c.partial), &want);
	if (got.len != want.len || (got.len && memcmp(got.data, want.data, got.len))) {
		fprintf(stderr, "dnsmasq: reads of %zu bytes gave acks:\n%s-- where the lines have:\n%s",
			step, got.data ? got.data : "", want.data ? want.data : "");
		abort();
	}
	buf_free(&got);
	buf_free(&want);
	return 0;
}
