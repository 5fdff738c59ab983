/*
 * A node's report and schema as snowd reads them (lib/report.c): any bytes
 * that parse as JSON go through report_check and report_schema_parse.
 * Besides crashes: a report that is accepted is accepted again unchanged
 * (the check is a pure function of the body, after its one normalisation),
 * and what it keeps typed, serialized again, is accepted and gives the same
 * JSON: what snowd shows of a report is what it took in.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"

/* A serialized part must parse (rc 0) and serialize again to the same JSON (a == b). */
static void fz_same(const char *what, json_t *a, json_t *b, int rc)
{
	if (rc || !a || !b || !json_equal(a, b)) {
		char *x = a ? json_dumps(a, JSON_COMPACT) : NULL, *y = b ? json_dumps(b, JSON_COMPACT) : NULL;
		fprintf(stderr, "%s does not survive its round trip (rc %d): %s -> %s\n", what, rc,
			x ? x : "(null)", y ? y : "(null)");
		abort();
	}
}

/* What was kept of an accepted report, as snowd shows it, is a report snowd takes unchanged. */
static void fz_round_trip(const struct report_state *r)
{
	json_t *body = json_object(), *again;
	struct report_state r2;
	char err[256];
	int rc;

	if (r->has & REPORT_VALUES)
		json_object_set_new(body, "values", report_values_json(r));
	if (r->has & REPORT_WATERMARKS)
		json_object_set_new(body, "watermarks", report_watermarks_json(r));
	if (r->has & REPORT_THRESHOLDS)
		json_object_set_new(body, "thresholds", report_thresholds_json(r));
	if (r->has & REPORT_DEVICES)
		json_object_set_new(body, "devices", report_devices_json(r));
	memset(&r2, 0, sizeof(r2));
	rc = report_check(body, &r2, err, sizeof(err));
	again = json_object();
	if (!rc) {
		if (r2.has & REPORT_VALUES)
			json_object_set_new(again, "values", report_values_json(&r2));
		if (r2.has & REPORT_WATERMARKS)
			json_object_set_new(again, "watermarks", report_watermarks_json(&r2));
		if (r2.has & REPORT_THRESHOLDS)
			json_object_set_new(again, "thresholds", report_thresholds_json(&r2));
		if (r2.has & REPORT_DEVICES)
			json_object_set_new(again, "devices", report_devices_json(&r2));
	}
	fz_same("a report", body, again, rc);
	report_state_free(&r2);
	json_decref(body);
	json_decref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], err2[256];
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	int rc, rc2;

	if (!body)
		return 0;
	if (json_is_object(body)) {
		struct report_state r;
		memset(&r, 0, sizeof(r));
		rc = report_check(body, &r, err, sizeof(err));
		rc2 = report_check(body, NULL, err2, sizeof(err2));
		if (rc != rc2 || (rc && strcmp(err, err2))) {
			fprintf(stderr, "report_check not stable: %d '%s' then %d '%s'\n", rc, err, rc2,
				err2);
			abort();
		}
		if (rc && !strchr(err, ':')) {
			fprintf(stderr, "a refusal that names no field: '%s'\n", err);
			abort();
		}
		if (!rc)
			fz_round_trip(&r);
		report_state_free(&r);
	}
	if (json_is_array(body)) {
		struct report_schema s;
		if (!report_schema_parse(body, &s, err, sizeof(err))) {
			json_t *again = report_schema_json(&s);
			struct report_schema s2;
			fz_same("schema", again, again, report_schema_parse(again, &s2, err, sizeof(err)));
			report_schema_free(&s2);
			json_decref(again);
		}
		report_schema_free(&s);
	}
	json_decref(body);
	return 0;
}
