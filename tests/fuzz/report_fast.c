/*
 * Fuzz target: the steady report read without a tree (lib/report_fast.c,
 * report_fast()) against the reading it stands in for: jsonh_parse_object(),
 * the envelope as the node channel takes it, and report_check().  Whenever
 * report_fast() takes a body, jansson must take it too, and both must give
 * the same envelope and the same typed values, watermarks and parts, bit for
 * bit, and the spans it gives for "events" and "results" must read as the
 * body's arrays;
 * when it steps aside it has filled nothing.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonh.h"
#include "report.h"
#include "valid.h"

static void differ(const char *what)
{
	fprintf(stderr, "report_fast: %s differs from jansson's reading\n", what);
	abort();
}

static void same_nums(const struct report_num *a, const struct report_num *b, size_t n, int pair)
{
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		if (strcmp(a[i].name, b[i].name))
			differ("a name");
		for (k = 0; k <= pair; k++)
			if (memcmp(&a[i].v[k], &b[i].v[k], sizeof(double)) || a[i].i[k] != b[i].i[k] ||
			    a[i].integer[k] != b[i].integer[k])
				differ("a number");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_state fast, slow;
	struct report_head head;
	const char *name, *boot_id;
	json_int_t seq;
	char err[256];
	json_t *body, *res, *ev;
	int rc;

	memset(&fast, 0, sizeof(fast));
	rc = report_fast((const char *)data, size, &head, &fast);
	if (rc < 0)
		return 0;
	if (!rc) {
		static const struct report_state zero;
		if (memcmp(&fast, &zero, sizeof(zero)) || head.name[0] || head.boot_id[0] || head.seq)
			differ("a body stepped aside from, left filled,");
		return 0;
	}
	/* The channel reads the spans alone (chan.c), and the whole body if that fails. */
	res = head.results ? json_loadb(head.results, head.results_len, JSON_REJECT_DUPLICATES,
					NULL) : NULL;
	ev = head.events ? json_loadb(head.events, head.events_len, JSON_REJECT_DUPLICATES,
				      NULL) : NULL;
	body = jsonh_parse_object((const char *)data, size, err, sizeof(err));
	if (!body && ((head.results && !res) || (head.events && !ev))) {
		json_decref(res);
		json_decref(ev);
		report_state_free(&fast);
		return 0;
	}
	if (!body) {
		fprintf(stderr, "report_fast: took a body jansson refuses: %s\n", err);
		abort();
	}
	if (jsonh_get_str(body, "name", 1, SNOW_NAME_MAX, &name, err, sizeof(err)) ||
	    jsonh_get_str(body, "boot_id", 1, 39, &boot_id, err, sizeof(err)) ||
	    jsonh_get_int(body, "seq", 1, 0, INT64_MAX, &seq, err, sizeof(err))) {
		fprintf(stderr, "report_fast: took an envelope the channel refuses: %s\n", err);
		abort();
	}
	if (strcmp(name, head.name) || strcmp(boot_id, head.boot_id) || seq != head.seq)
		differ("the envelope");
	if (!head.results != !json_array_size(json_object_get(body, "results")) ||
	    !head.events != !json_array_size(json_object_get(body, "events")))
		differ("whether the report has events or results");
	if ((head.results && (!res || !json_equal(res, json_object_get(body, "results")))) ||
	    (head.events && (!ev || !json_equal(ev, json_object_get(body, "events")))))
		differ("a span of events or results");
	memset(&slow, 0, sizeof(slow));
	if (report_check(body, &slow, err, sizeof(err))) {
		/* Only for its events or results, which the channel checks on their own. */
		if ((head.events && report_check_events(ev, err, sizeof(err))) ||
		    (head.results && report_check_results(res, err, sizeof(err))))
			goto out;
		fprintf(stderr, "report_fast: took a report report_check() refuses: %s\n", err);
		abort();
	}
	if (fast.has != slow.has || fast.nvalues != slow.nvalues || fast.nwm != slow.nwm ||
	    fast.nthr || fast.ndev || fast.schema.n)
		differ("the parts");
	same_nums(fast.values, slow.values, fast.nvalues, 0);
	same_nums(fast.wm, slow.wm, fast.nwm, 1);
	if (fast.nvalues && memcmp(fast.values_by_name, slow.values_by_name,
				   fast.nvalues * sizeof(*fast.values_by_name)))
		differ("the index by name");
out:
	report_state_free(&fast);
	report_state_free(&slow);
	json_decref(res);
	json_decref(ev);
	json_decref(body);
	return 0;
}
