/*
 * snowctl's pieces shared by its files (snowctl.c: main and node commands;
 * snowctl_image.c: image commands).
 */
#ifndef SNOW_SNOWCTL_H
#define SNOW_SNOWCTL_H

#include <jansson.h>

#include "httpc.h"

struct ctl {
	struct http_url url;
	char token[160];
	int json;
	int no_wait;
	int timeout_s;
	int status; /* the HTTP status of the last ctl_call(), 0 when none came */
};

/*
 * Call the API; on success *out gets the parsed answer (caller decrefs).
 * @ret 0, or 1 after printing the error (from snowd's {"error": ...}).
 */
int ctl_call(struct ctl *c, const char *method, const char *path, json_t *body, json_t **out);
void ctl_print_json(json_t *v);
/* o's string k, or "-" (borrowed from o). */
const char *ctl_str(json_t *o, const char *k);

/*
 * snowctl image add|list|rm (argv after "image").  @ret the exit status:
 * 0, 1 (error), 2 (usage), 3 (rm: the image is not registered).
 */
int ctl_image(struct ctl *c, int argc, char **argv);

#endif
