/*
 * snowctl's parts: snowctl.c (options, the API call, most commands),
 * snowctl_node.c (the node commands) and snowctl_image.c (the image
 * commands).  One client, one struct ctl.
 */
#ifndef SNOW_SNOWCTL_H
#define SNOW_SNOWCTL_H

#include <jansson.h>
#include <stddef.h>

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
/* "12s ago", "3m ago", "never" for o's time k. */
void ctl_ago(json_t *o, const char *k, char *out, size_t cap);
/* Apply KEY=VALUE arguments to settings and patch.  @ret 0 or 2 after a message. */
int ctl_apply_sets(json_t *settings, int argc, char **argv, json_t *patch);
/* Send op (args taken) to NODE, a list, @GROUP or all, waiting for results.  @ret exit status. */
int ctl_command(struct ctl *c, const char *spec, const char *op, json_t *args);

/* snowctl_node.c */
int ctl_node_add(struct ctl *c, int argc, char **argv);
/*
 * `snowctl node VERB ...` (argv[0] is VERB): list, add, show, set, rekey, rm,
 * log.  @ret the exit status, or -1 when VERB is none of them (main goes on:
 * reboot, poweroff and power are commands).
 */
int ctl_node(struct ctl *c, int argc, char **argv);

/*
 * snowctl image add|list|rm (argv after "image").  @ret the exit status:
 * 0, 1 (error), 2 (usage), 3 (rm: the image is not registered).
 */
int ctl_image(struct ctl *c, int argc, char **argv);

#endif
