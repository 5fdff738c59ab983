/*
 * Fuzz target: a datagram a program on the node sends to the agent's event
 * socket (node-os/agent/post.c post_parse()).  Checks what it takes: the
 * type is "app." and a value-name form within INSTR_TYPE_MAX, the severity
 * a real one, the publisher well formed and not the agent's, attrs an object
 * within POST_ATTRS_MAX; and that the event written back as a datagram
 * ({type without "app.", severity, publisher, attrs}) parses to the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "post.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct post_event e, f;
	char err[256], inner[128];
	json_t *j;
	char *text;

	if (post_parse((const char *)data, size, &e, err, sizeof(err))) {
		if (e.attrs || !err[0])
			abort();
		return 0;
	}
	if (strncmp(e.type, POST_PREFIX, 4) || strlen(e.type) > INSTR_TYPE_MAX ||
	    instr_name_check(e.type + 4, inner, sizeof(inner)) ||
	    e.severity <= INSTR_SEV_NONE || e.severity >= INSTR_SEV_COUNT ||
	    instr_publisher_check(e.publisher, inner, sizeof(inner)) ||
	    !strncmp(e.publisher, "snow-agent", 10) || !json_is_object(e.attrs) ||
	    json_object_size(e.attrs) > POST_ATTRS_MAX)
		abort();
	j = json_pack("{s:s, s:s, s:s, s:O}", "type", e.type + 4, "severity",
		      instr_severity_name(e.severity), "publisher", e.publisher, "attrs", e.attrs);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (text && strlen(text) <= POST_MSG_MAX) {
		if (post_parse(text, strlen(text), &f, err, sizeof(err))) {
			fprintf(stderr, "an accepted event written back is refused: %s\n", err);
			abort();
		}
		if (strcmp(e.type, f.type) || e.severity != f.severity ||
		    strcmp(e.publisher, f.publisher) || !json_equal(e.attrs, f.attrs))
			abort();
		json_decref(f.attrs);
	}
	free(text);
	json_decref(j);
	json_decref(e.attrs);
	return 0;
}
