/*
 * make bench-host: what one node report costs snowd's CPU before SQLite and
 * HTTP, measured in process on the code the node channel runs, both ways a
 * report is read: through jansson's tree (jsonh_parse_object(), then
 * report_check() into typed structs, the tree freed) and by report_fast()
 * straight into the same structs (the steady report's shape).  Each kept
 * (report_state_take) and freed.  The body is snow-nodesim's steady report,
 * what bench-host's ingest sends: at 10,000 reports/s one core has 100 us
 * for each, all in.  Thread CPU time per loop of N, medians of repeats,
 * the two ways interleaved, so other load on the machine moves them alike.
 * usage: report_bench [N [REPEATS]]
 * prints "report_us tree T fast F ratio R bytes B" (medians, us per report)
 */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonh.h"
#include "report.h"
#include "sim.h"

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return v[n / 2];
}

/* One report read and kept, through the tree (fast 0) or not.  @ret 0 or -1. */
static int read_one(const char *text, size_t len, int fast, struct report_state *kept)
{
	struct report_state rep;
	struct report_head head;
	char err[256];
	json_t *body;

	memset(&rep, 0, sizeof(rep));
	if (fast) {
		if (report_fast(text, len, &head, &rep) != 1)
			return -1;
	} else {
		body = jsonh_parse_object(text, len, err, sizeof(err));
		if (!body || report_check(body, &rep, err, sizeof(err))) {
			fprintf(stderr, "report_bench: the report is refused: %s\n", body ? err : "JSON");
			json_decref(body);
			return -1;
		}
		json_decref(body);
	}
	report_state_take(kept, &rep);
	report_state_free(&rep);
	return 0;
}

int main(int argc, char **argv)
{
	long i, n = argc > 1 ? atol(argv[1]) : 20000;
	int r, reps = argc > 2 ? atoi(argv[2]) : 7;
	int64_t t[2][64];
	struct report_state kept;
	struct sim_node node;
	json_t *body, *ans;
	char *text;
	size_t len;

	if (n < 1 || n > 10000000 || reps < 1 || reps > 64) {
		fprintf(stderr, "usage: report_bench [N [REPEATS]], N in 1..10000000, REPEATS 1..64\n");
		return 2;
	}
	/* A booted node, its first report answered, a few steps in: its steady report. */
	if (sim_node_init(&node, "m00001", "02:aa:bb:00:00:01", 1) || sim_boot(&node, 1000)) {
		fprintf(stderr, "report_bench: cannot set up a simulated node\n");
		return 1;
	}
	body = sim_report_body(&node, 1);
	ans = json_pack("{s:I, s:[]}", "ack_events", (json_int_t)1000000, "commands");
	if (!body || !ans) {
		fprintf(stderr, "report_bench: out of memory\n");
		return 1;
	}
	sim_report_answered(&node, ans, 1000);
	json_decref(ans);
	json_decref(body);
	for (i = 0; i < 5; i++)
		sim_step(&node, 1.0, 1001 + i);
	body = sim_report_body(&node, 0);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		fprintf(stderr, "report_bench: cannot build a report\n");
		return 1;
	}
	len = strlen(text);
	memset(&kept, 0, sizeof(kept));
	for (r = 0; r < reps; r++) {
		int w;
		for (w = 0; w < 2; w++) {
			int fast = (r + w) % 2; /* alternate which goes first */
			int64_t t0 = cpu_ns();
			for (i = 0; i < n; i++)
				if (read_one(text, len, fast, &kept)) {
					fprintf(stderr, "report_bench: %s read refused the steady report\n",
						fast ? "the fast" : "the tree");
					return 1;
				}
			t[fast][r] = (cpu_ns() - t0) / n;
		}
	}
	{
		int64_t tree = median(t[0], reps), fast = median(t[1], reps);
		printf("report_us tree %.1f fast %.1f ratio %.2f bytes %zu\n", tree / 1e3, fast / 1e3,
		       fast ? (double)tree / (double)fast : 0.0, len);
	}
	report_state_free(&kept);
	sim_node_free(&node);
	free(text);
	return 0;
}
