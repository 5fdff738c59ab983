/*
 * Fuzz target: a node's history and its rebase onto a new schema
 * (host/history.c), fed what nodes report, parsed as snowd parses it
 * (lib/report.c: what it refuses never reaches a history).  The input is JSON:
 *   {"a": SCHEMA, "b": SCHEMA, "r": [[TIME, {NAME: NUMBER}], ...], "r2": [...]}
 * a history of schema a takes reports r, is rebased onto schema b, and takes
 * r2.  Checks: every column is as long as the time row; a rebase keeps the
 * columns of the gauges both schemas have, and the new ones start empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "report.h"

#define FZ_CHECK(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "history: " __VA_ARGS__);                                  \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fz_feed(struct history *h, json_t *reports)
{
	json_t *r;
	size_t i;

	json_array_foreach(reports, i, r) {
		json_t *t = json_array_get(r, 0);
		json_t *body = json_pack("{s:O}", "values", json_array_get(r, 1));
		struct report_state rep;
		char err[256];
		memset(&rep, 0, sizeof(rep));
		if (body && json_is_integer(t) && !report_check(body, &rep, err, sizeof(err)))
			history_add(h, &rep, json_integer_value(t));
		report_state_free(&rep);
		json_decref(body);
	}
}

/* Every column as long as t.  @ret the JSON (a new reference). */
static json_t *fz_json(const struct history *h)
{
	json_t *j = history_json(h), *col;
	size_t nt = json_array_size(json_object_get(j, "t"));
	const char *k;

	FZ_CHECK(j, "no JSON");
	json_object_foreach(json_object_get(j, "values"), k, col)
		FZ_CHECK(json_array_size(col) == nt, "column '%s' has %zu of %zu readings: %s", k,
			 json_array_size(col), nt, json_dumps(col, JSON_COMPACT));
	return j;
}

/* A plain walk of the JSON, not report_schema_find(): the check must not share the code. */
static int fz_is_gauge(json_t *schema, const char *name)
{
	json_t *e;
	size_t i;

	json_array_foreach(schema, i, e) {
		const char *kind = json_string_value(json_object_get(e, "kind"));
		const char *n = json_string_value(json_object_get(e, "name"));
		if (kind && n && !strcmp(kind, "gauge") && !strcmp(n, name))
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL), *b;
	json_t *before, *after, *col, *v;
	struct report_schema sa, sb;
	struct history *h, *h2;
	const char *k;
	char err[256];
	size_t i;

	if (!in)
		return 0;
	b = json_object_get(in, "b");
	if (report_schema_parse(json_object_get(in, "a"), &sa, err, sizeof(err))) {
		json_decref(in);
		return 0;
	}
	if (report_schema_parse(b, &sb, err, sizeof(err))) {
		report_schema_free(&sa);
		json_decref(in);
		return 0;
	}
	h = history_new(&sa);
	FZ_CHECK(h, "history_new failed");
	fz_feed(h, json_object_get(in, "r"));
	before = fz_json(h);
	h2 = history_rebase(h, &sb);
	FZ_CHECK(h2, "history_rebase failed");
	after = fz_json(h2);
	FZ_CHECK(json_equal(json_object_get(before, "t"), json_object_get(after, "t")),
		 "the times changed in a rebase");
	json_object_foreach(json_object_get(after, "values"), k, col) {
		json_t *old = json_object_get(json_object_get(before, "values"), k);
		FZ_CHECK(fz_is_gauge(b, k), "'%s' is not a gauge of the new schema", k);
		if (old) {
			FZ_CHECK(json_equal(old, col), "'%s' changed in a rebase: %s -> %s", k,
				 json_dumps(old, JSON_COMPACT), json_dumps(col, JSON_COMPACT));
		} else {
			json_array_foreach(col, i, v)
				FZ_CHECK(json_is_null(v), "new '%s' has readings", k);
		}
	}
	json_decref(before);
	json_decref(after);
	fz_feed(h2, json_object_get(in, "r2"));
	json_decref(fz_json(h2));
	history_free(h);
	history_free(h2);
	report_schema_free(&sa);
	report_schema_free(&sb);
	json_decref(in);
	return 0;
}
