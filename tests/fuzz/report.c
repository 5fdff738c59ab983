/*
 * A node's report and schema as snowd reads them (lib/report.c): any bytes
 * that parse as JSON go through report_check and report_check_schema.
 * Besides crashes: a report that is accepted is accepted again unchanged
 * (the check is a pure function of the body, after its one normalisation).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], err2[256];
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	int rc, rc2;

	if (!body)
		return 0;
	if (json_is_object(body)) {
		rc = report_check(body, err, sizeof(err));
		rc2 = report_check(body, err2, sizeof(err2));
		if (rc != rc2 || (rc && strcmp(err, err2))) {
			fprintf(stderr, "report_check not stable: %d '%s' then %d '%s'\n", rc, err, rc2,
				err2);
			abort();
		}
		if (rc && !strchr(err, ':')) {
			fprintf(stderr, "a refusal that names no field: '%s'\n", err);
			abort();
		}
	}
	report_check_schema(json_is_array(body) ? body : NULL, err, sizeof(err));
	json_decref(body);
	return 0;
}
