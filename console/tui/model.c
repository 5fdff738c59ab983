#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[TS_COUNT] = {
	[TS_ONLINE] = "online", [TS_RAISED] = "raised", [TS_BOOTING] = "booting",
	[TS_OFFLINE] = "offline", [TS_DISCOVERED] = "discovered",
};

const char *top_state_name(enum top_state s)
{
	return s < TS_COUNT ? state_names[s] : "?";
}

enum top_state top_node_state(const struct top_node *n)
{
	if (!strcmp(n->state, "online"))
		return n->raised ? TS_RAISED : TS_ONLINE;
	if (!strcmp(n->state, "booting"))
		return TS_BOOTING;
	return TS_OFFLINE;
}

static void copy_str(char *dst, size_t len, json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (s)
		snprintf(dst, len, "%s", s);
}

static void copy_int(int64_t *dst, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		*dst = json_integer_value(v);
}

static double num(json_t *values, const char *key)
{
	json_t *v = json_object_get(values, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Keep a reference to obj[key] in *slot when the message carries it. */
static void keep(json_t **slot, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return;
	json_decref(*slot);
	*slot = json_incref(v);
}

static void derive(struct top_node *n)
{
	double tot = num(n->values, "kern.mem.total_kb"), av = num(n->values, "kern.mem.avail_kb");
	size_t i;
	json_t *t;

	if (isnan(av))
		av = num(n->values, "kern.mem.free_kb");
	n->load1 = num(n->values, "vm.load.avg1");
	n->mem_pct = tot > 0 && !isnan(av) ? 100.0 * (1.0 - av / tot) : NAN;
	n->procs = num(n->values, "kern.procs.count");
	n->uptime = num(n->values, "sys.uptime_s");
	n->temp = num(n->values, "hw.temp.cpu");
	n->cpus = num(n->values, "hw.cpu.online");
	if (isnan(n->cpus))
		n->cpus = num(n->values, "kern.cpu.online");
	n->raised = 0;
	json_array_foreach(n->thresholds, i, t) {
		const char *st = json_string_value(json_object_get(t, "state"));
		if (st && !strcmp(st, "raised"))
			n->raised++;
	}
}

/* Update *slot's object with obj[key]'s members (a cut update), or keep obj[key] when there is none. */
static void merge_into(json_t **slot, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(v) && json_is_object(*slot))
		json_object_update(*slot, v);
	else
		keep(slot, obj, key);
}

/* Fill n from a node object (GET answer or update); name is set by the caller. */
static void node_apply(struct top_node *n, json_t *o, int merge)
{
	copy_str(n->hostname, sizeof(n->hostname), o, "hostname");
	copy_str(n->ip, sizeof(n->ip), o, "ip");
	copy_str(n->mac, sizeof(n->mac), o, "mac");
	copy_str(n->image, sizeof(n->image), o, "image");
	copy_str(n->state, sizeof(n->state), o, "state");
	copy_str(n->stage, sizeof(n->stage), o, "stage");
	copy_int(&n->last_seen, o, "last_seen");
	copy_int(&n->stage_time, o, "stage_time");
	copy_int(&n->online_since, o, "online_since");
	if (json_is_object(json_object_get(o, "last_crash"))) {
		json_t *c = json_object_get(o, "last_crash");
		copy_int(&n->crash_time, c, "time");
		copy_str(n->crash_panic, sizeof(n->crash_panic), c, "panic");
	}
	if (merge) {
		merge_into(&n->values, o, "values");
		merge_into(&n->watermarks, o, "watermarks");
	} else {
		keep(&n->values, o, "values");
		keep(&n->watermarks, o, "watermarks");
	}
	keep(&n->thresholds, o, "thresholds");
	keep(&n->devices, o, "devices");
	keep(&n->schema, o, "schema");
	derive(n);
}

static void node_release(struct top_node *n)
{
	json_decref(n->values);
	json_decref(n->watermarks);
	json_decref(n->thresholds);
	json_decref(n->devices);
	json_decref(n->schema);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct top_node *)a)->name, ((const struct top_node *)b)->name);
}

int model_load(struct top_model *m, json_t *answer)
{
	json_t *arr = json_object_get(answer, "nodes"), *o;
	struct top_node *v;
	size_t i, n = 0;

	if (!json_is_array(arr))
		return -EINVAL;
	v = calloc(json_array_size(arr) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(arr, i, o) {
		const char *name = json_string_value(json_object_get(o, "name"));
		if (!name || strlen(name) >= TOP_NAME_MAX)
			continue;
		snprintf(v[n].name, sizeof(v[n].name), "%s", name);
		v[n].load1 = v[n].mem_pct = NAN;
		node_apply(&v[n], o, 0);
		{
			/* A reload keeps what the user tagged. */
			struct top_node *old = model_find(m, name);
			v[n].tagged = old ? old->tagged : 0;
		}
		n++;
	}
	qsort(v, n, sizeof(*v), by_name);
	for (i = 0; i < m->n; i++)
		node_release(&m->nodes[i]);
	free(m->nodes);
	m->nodes = v;
	m->n = n;
	m->cap = json_array_size(arr) + 1;
	m->generation++;
	return 0;
}

struct top_node *model_find(struct top_model *m, const char *name)
{
	struct top_node key;

	if (strlen(name) >= TOP_NAME_MAX || !m->n)
		return NULL;
	memcpy(key.name, name, strlen(name) + 1);
	return bsearch(&key, m->nodes, m->n, sizeof(*m->nodes), by_name);
}

int model_remove(struct top_model *m, const char *name)
{
	struct top_node *n = model_find(m, name);
	size_t i;

	if (!n)
		return -ENOENT;
	i = (size_t)(n - m->nodes);
	node_release(n);
	memmove(n, n + 1, (m->n - i - 1) * sizeof(*n));
	m->n--;
	m->generation++;
	return 0;
}

int model_node(struct top_model *m, json_t *msg)
{
	const char *name = json_string_value(json_object_get(msg, "name"));
	struct top_node *n = name ? model_find(m, name) : NULL;

	if (!n)
		return -ENOENT;
	node_apply(n, msg, 0);
	return 0;
}

size_t model_values(struct top_model *m, json_t *msg, int merge)
{
	const char *name;
	json_t *upd;
	size_t count = 0;

	json_object_foreach(msg, name, upd) {
		struct top_node *n = model_find(m, name);
		if (!n || !json_is_object(upd))
			continue;
		node_apply(n, upd, merge);
		count++;
	}
	return count;
}

void model_event(struct top_model *m, json_t *ev)
{
	struct top_event *e = &m->events[m->ev_head];
	json_t *attrs = json_object_get(ev, "attrs");
	char *a = attrs ? json_dumps(attrs, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(6)) : NULL;

	memset(e, 0, sizeof(*e));
	copy_int(&e->time, ev, "time");
	copy_str(e->node, sizeof(e->node), ev, "node");
	copy_str(e->type, sizeof(e->type), ev, "type");
	snprintf(e->text, sizeof(e->text), "%s", a && strcmp(a, "{}") ? a : "");
	free(a);
	if (!strcmp(e->type, "crash")) {
		/* The panic line first: the kernel log that comes with it would fill the text. */
		const char *panic = json_string_value(json_object_get(attrs, "panic"));
		struct top_node *n = model_find(m, e->node);
		char *src = json_dumps(json_object_get(attrs, "source"), JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(e->text, sizeof(e->text), "%s %s", panic && *panic ? panic : "(no panic text)",
			 src ? src : "");
		free(src);
		if (n && e->time >= n->crash_time) {
			n->crash_time = e->time;
			snprintf(n->crash_panic, sizeof(n->crash_panic), "%s", panic ? panic : "");
		}
	}
	m->ev_head = (m->ev_head + 1) % TOP_EVENTS;
	if (m->ev_count < TOP_EVENTS)
		m->ev_count++;
}

const struct top_event *model_event_at(const struct top_model *m, size_t i)
{
	if (i >= m->ev_count)
		return NULL;
	return &m->events[(m->ev_head + TOP_EVENTS - 1 - i) % TOP_EVENTS];
}

void model_free(struct top_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		node_release(&m->nodes[i]);
	free(m->nodes);
	memset(m, 0, sizeof(*m));
}
