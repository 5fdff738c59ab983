/*
 * snowtop's picture of the cluster: the nodes from GET /api/v1/nodes kept
 * current by the stream's node/values/event/command messages.  Nodes sit in
 * an array sorted by name (bsearch for the thousand updates a message
 * brings); the list panel sorts its own index array for display.
 */
#ifndef SNOW_TOP_MODEL_H
#define SNOW_TOP_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define TOP_NAME_MAX 64
#define TOP_EVENTS 256

enum top_state { TS_ONLINE, TS_RAISED, TS_BOOTING, TS_OFFLINE, TS_DISCOVERED, TS_COUNT };

struct top_node {
	char name[TOP_NAME_MAX];
	char hostname[TOP_NAME_MAX];
	char ip[48];
	char mac[24];
	char image[TOP_NAME_MAX];
	char state[16];  /* as snowd says: online|booting|offline */
	char stage[32];
	int64_t last_seen, stage_time, online_since;
	/* Key gauges, NAN when the node does not report them. */
	double load1, mem_pct, procs, uptime, temp, cpus;
	int raised;      /* thresholds raised */
	int64_t crash_time;     /* the last kernel crash (the API's last_crash), 0: none known */
	char crash_panic[120];
	int tagged;      /* picked with Space in snowtop's list */
	/* What the node page shows: references owned by this node (json_decref). */
	json_t *values, *watermarks, *thresholds, *devices, *schema;
};

struct top_event {
	int64_t time;
	char node[TOP_NAME_MAX];
	char type[32];
	char text[200];
};

struct top_model {
	struct top_node *nodes; /* sorted by name */
	size_t n, cap;
	struct top_event events[TOP_EVENTS]; /* ring, newest at (head - 1) */
	size_t ev_head, ev_count;
	uint64_t generation;    /* bumped when nodes are added or removed */
	int64_t last_values_ms;
};

enum top_state top_node_state(const struct top_node *n);
const char *top_state_name(enum top_state s);

/* Replace every node from a GET /api/v1/nodes answer ({"nodes": [...]}).  @ret 0 or -EINVAL. */
int model_load(struct top_model *m, json_t *answer);
/* A node left the inventory: drop it.  @ret 0, or -ENOENT when it was not there. */
int model_remove(struct top_model *m, const char *name);
/* Look a node up by name.  @ret it or NULL. */
struct top_node *model_find(struct top_model *m, const char *name);
/* A "node" message.  @ret 0, or -ENOENT for a node not known (reload the list). */
int model_node(struct top_model *m, json_t *msg);
/*
 * A "values" message: {NAME: {values, watermarks, thresholds?, devices?, last_seen}}.
 * merge: the values and watermarks are a cut (a filtered stream) and update
 * what the node has; otherwise they replace it.  @ret nodes updated.
 */
size_t model_values(struct top_model *m, json_t *msg, int merge);
/* An "event" message (or one from GET /api/v1/events), newest last. */
void model_event(struct top_model *m, json_t *ev);
/* The i-th newest event (0 = newest), or NULL. */
const struct top_event *model_event_at(const struct top_model *m, size_t i);
void model_free(struct top_model *m);

#endif
