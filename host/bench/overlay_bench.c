/*
 * make bench-host: how long snowd takes to render one node's overlay (the
 * newc cpio with /etc/hostname and /etc/snow/node.conf), measured in
 * process on boot_render_overlay() itself, so HTTP and SQLite are not in
 * the figure (the HTTP fetch time is nodesim's overlay p50).  snowd caches
 * overlays until a setting changes, so this is the cost of a first boot or
 * of a boot after a change.
 * usage: overlay_bench [N]   prints "overlay_render_us MEAN P50 P99 BYTES"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const struct boot_params p = { .base_url = "http://127.0.0.1:8080",
				       .cmdline = "console=ttyS0 quiet",
				       .interval_ms = 2000,
				       .unknown_retry_s = 10 };
	long i, n = argc > 1 ? atol(argv[1]) : 100000;
	struct inv_node node = { .id = 1 };
	int64_t *t, total = 0;
	size_t bytes = 0;

	/* Effective settings like a configured node's: an env and two thresholds. */
	json_t *eff = json_pack("{s:i, s:{s:s, s:s}, s:[{s:s, s:s, s:i, s:i}, {s:s, s:s, s:i, s:i}]}",
				"interval_ms", 2000, "env", "SITE", "lab", "ROLE", "compute",
				"thresholds", "value", "hw.temp.cpu", "kind", "high", "rise", 85,
				"clear", 80, "value", "kern.mem.avail_kb", "kind", "low", "rise",
				100000, "clear", 150000);

	if (!eff || n < 1 || n > 10000000) {
		fprintf(stderr, "usage: overlay_bench [N], N in 1..10000000\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	snprintf(node.mac, sizeof(node.mac), "02:aa:bb:00:00:01");
	snprintf(node.ip, sizeof(node.ip), "127.0.0.10");
	snprintf(node.image, sizeof(node.image), "default");
	memset(node.secret, 'a', 64);
	for (i = 0; i < n; i++) {
		struct buf out = BUF_INIT;
		int64_t t0;
		/* A different name each time, as for different nodes. */
		snprintf(node.name, sizeof(node.name), "node%05ld", i % 100000);
		t0 = now_ns();
		if (boot_render_overlay(&p, &node, eff, &out)) {
			fprintf(stderr, "overlay_bench: render failed\n");
			return 1;
		}
		t[i] = now_ns() - t0;
		total += t[i];
		bytes = out.len;
		buf_free(&out);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_i64);
	printf("overlay_render_us %.3f %.3f %.3f %zu\n", (double)total / (double)n / 1000.0,
	       (double)t[n / 2] / 1000.0, (double)t[(size_t)((double)n * 0.99)] / 1000.0, bytes);
	free(t);
	json_decref(eff);
	return 0;
}
