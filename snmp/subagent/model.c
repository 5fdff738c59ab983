/* snowd's node list as the rows of SNOW-CLUSTER-MIB's tables.  See model.h. */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "valid.h"

/* A growable array of rows of one type. */
struct vec {
	void *p;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->p, cap * v->size);
		if (!p)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	memset((char *)v->p + v->n * v->size, 0, v->size);
	return (char *)v->p + v->n++ * v->size;
}

int32_t model_fixed(double v, unsigned decimals)
{
	double x = v;
	unsigned i;

	for (i = 0; i < decimals; i++)
		x *= 10.0;
	if (isnan(x))
		return 0;
	x = round(x);
	if (x >= 2147483647.0)
		return INT32_MAX;
	if (x <= -2147483648.0)
		return INT32_MIN;
	return (int32_t)x;
}

double model_unfixed(int32_t x, unsigned decimals)
{
	double v = x;
	unsigned i;

	for (i = 0; i < decimals; i++)
		v /= 10.0;
	return v;
}

void model_text(double v, char *out, size_t cap)
{
	int prec;

	for (prec = 6; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

size_t model_date(int64_t t, unsigned char *out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		memset(out, 0, 8);
		return 8;
	}
	out[0] = (unsigned char)((tm.tm_year + 1900) >> 8);
	out[1] = (unsigned char)((tm.tm_year + 1900) & 0xff);
	out[2] = (unsigned char)(tm.tm_mon + 1);
	out[3] = (unsigned char)tm.tm_mday;
	out[4] = (unsigned char)tm.tm_hour;
	out[5] = (unsigned char)tm.tm_min;
	out[6] = (unsigned char)tm.tm_sec;
	out[7] = 0;
	out[8] = '+';
	out[9] = 0;
	out[10] = 0;
	return 11;
}

size_t model_index(uint32_t node, const char *name, int kind, oid *out)
{
	size_t len = strlen(name), i, n = 0;

	if (len > MODEL_NAME_MAX)
		len = MODEL_NAME_MAX;
	out[n++] = node;
	out[n++] = len;
	for (i = 0; i < len; i++)
		out[n++] = (unsigned char)name[i];
	if (kind > 0)
		out[n++] = (oid)kind;
	return n;
}

/* A SnowName: 1..63 printable ASCII characters (the index encoding needs no more). */
static int model_name_ok(const char *s)
{
	size_t i, len = s ? strlen(s) : 0;

	if (len < 1 || len > MODEL_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

static void model_copy(char *dst, size_t cap, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, cap, "%s", s ? s : "");
}

static int64_t model_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static int model_state(const char *s)
{
	if (s && !strcmp(s, "online"))
		return MODEL_ONLINE;
	if (s && !strcmp(s, "booting"))
		return MODEL_BOOTING;
	return MODEL_OFFLINE;
}

static int model_kind(const char *s)
{
	if (!s)
		return 0;
	if (!strcmp(s, "gauge"))
		return MODEL_GAUGE;
	if (!strcmp(s, "counter"))
		return MODEL_COUNTER;
	if (!strcmp(s, "attribute"))
		return MODEL_ATTRIBUTE;
	return 0;
}

static void model_check(json_t *c, struct model_check_result *r)
{
	const char *res = json_string_value(json_object_get(c, "result"));

	r->result = !res ? MODEL_CHECK_NONE : !strcmp(res, "pass") ? MODEL_CHECK_PASS :
							    MODEL_CHECK_FAIL;
	r->time = res ? model_int(c, "time") : 0;
}

static void model_note(struct model_snap *s, char *warn, size_t warnlen, const char *fmt,
		       const char *what)
{
	if (!s->skipped++ && warn)
		snprintf(warn, warnlen, fmt, what);
}

/* The rows of one node's values, thresholds and devices. */
static int model_add_node_rows(struct model_snap *s, struct vec *values, struct vec *thrs,
			       struct vec *devs, const struct model_node *nr, json_t *n, char *warn,
			       size_t warnlen)
{
	json_t *vals = json_object_get(n, "values"), *wms = json_object_get(n, "watermarks");
	json_t *thr = json_object_get(n, "thresholds"), *e, *t;
	size_t i, j;

	json_array_foreach(json_object_get(n, "schema"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		int kind = model_kind(json_string_value(json_object_get(e, "kind")));
		json_t *r = json_object_get(vals, name ? name : ""), *wm;
		struct model_value *v;
		int k;

		if (!model_name_ok(name) || !kind) {
			model_note(s, warn, warnlen, "node %s: a schema entry with a bad name or kind",
				   nr->name);
			continue;
		}
		v = vec_push(values);
		if (!v)
			return -ENOMEM;
		v->node_id = nr->id;
		snprintf(v->name, sizeof(v->name), "%s", name);
		model_copy(v->oidstr, sizeof(v->oidstr), e, "oid");
		model_copy(v->unit, sizeof(v->unit), e, "unit");
		model_copy(v->desc, sizeof(v->desc), e, "desc");
		v->kind = kind;
		v->has_reading = json_is_number(r);
		v->v = json_number_value(r);
		v->decimals = json_is_real(r) ? MODEL_DEC_REAL : 0;
		wm = json_object_get(wms, name);
		if (kind == MODEL_GAUGE && json_is_array(wm) && json_array_size(wm) == 2 &&
		    json_is_number(json_array_get(wm, 0)) && json_is_number(json_array_get(wm, 1))) {
			v->has_wm = 1;
			v->low = json_number_value(json_array_get(wm, 0));
			v->high = json_number_value(json_array_get(wm, 1));
		} else {
			v->low = v->high = v->v;
		}
		if (kind != MODEL_GAUGE)
			continue;
		for (k = MODEL_HIGH; k <= MODEL_LOW; k++) {
			struct model_thr *tr = vec_push(thrs);
			if (!tr)
				return -ENOMEM;
			tr->node_id = nr->id;
			snprintf(tr->node, sizeof(tr->node), "%s", nr->name);
			snprintf(tr->value, sizeof(tr->value), "%s", name);
			tr->kind = k;
			tr->decimals = v->decimals;
			tr->samples = 1;
			json_array_foreach(thr, j, t) {
				const char *tv = json_string_value(json_object_get(t, "value"));
				const char *tk = json_string_value(json_object_get(t, "kind"));
				json_t *samples = json_object_get(t, "samples");
				const char *st = json_string_value(json_object_get(t, "state"));
				if (!tv || !tk || strcmp(tv, name) ||
				    strcmp(tk, k == MODEL_HIGH ? "high" : "low"))
					continue;
				tr->enabled = 1;
				tr->rise = json_number_value(json_object_get(t, "rise"));
				tr->clear = json_number_value(json_object_get(t, "clear"));
				if (json_is_integer(samples) && json_integer_value(samples) >= 1 &&
				    json_integer_value(samples) <= 1000)
					tr->samples = (unsigned)json_integer_value(samples);
				tr->raised = st && !strcmp(st, "raised");
				break;
			}
		}
	}
	json_array_foreach(json_object_get(n, "devices"), i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *avail = json_string_value(json_object_get(e, "avail"));
		const char *run = json_string_value(json_object_get(e, "run"));
		struct model_dev *d;
		json_t *op;

		if (!model_name_ok(path)) {
			model_note(s, warn, warnlen, "node %s: a device with a bad path", nr->name);
			continue;
		}
		d = vec_push(devs);
		if (!d)
			return -ENOMEM;
		d->node_id = nr->id;
		snprintf(d->node, sizeof(d->node), "%s", nr->name);
		snprintf(d->path, sizeof(d->path), "%s", path);
		model_copy(d->cls, sizeof(d->cls), e, "class");
		d->enabled = !avail || strcmp(avail, "disabled");
		d->run = run && !strcmp(run, "online")	? MODEL_ONLINE_RUN :
			 run && !strcmp(run, "offline") ? MODEL_OFFLINE_RUN :
							  MODEL_INACTIVE;
		json_array_foreach(json_object_get(e, "ops"), j, op) {
			const char *o = json_string_value(op);
			if (o && !strcmp(o, "enable"))
				d->can_enable = 1;
			if (o && !strcmp(o, "disable"))
				d->can_disable = 1;
		}
		model_check(json_object_get(e, "diag"), &d->diag);
		model_check(json_object_get(e, "audit"), &d->audit);
	}
	return 0;
}

static int model_cmp_sub(const oid *a, size_t alen, const oid *b, size_t blen)
{
	return snmp_oid_compare(a, alen, b, blen);
}

/*
 * Rows are compared through their own sub[] (at offset *off in every row
 * type), never through idx.oids: qsort moves rows, so a pointer into a row
 * is only right again once model_finish() resets it after sorting.
 */
static int model_cmp_row(const void *a, const void *b, void *off)
{
	size_t o = *(const size_t *)off;
	const netsnmp_index *x = a, *y = b;

	return model_cmp_sub((const oid *)(const void *)((const char *)a + o), x->len,
			     (const oid *)(const void *)((const char *)b + o), y->len);
}

/*
 * Fill each row's index length, sort by index, drop rows whose index
 * repeats an earlier one (a node naming a value twice), then point each
 * index at its row's sub[].
 */
static void model_finish(struct vec *v, size_t sub_off, size_t (*len_of)(const void *))
{
	size_t i, out = 0;

	if (!v->n) /* v->p is NULL: qsort_r() must not see it */
		return;
	for (i = 0; i < v->n; i++) {
		netsnmp_index *x = (netsnmp_index *)(void *)((char *)v->p + i * v->size);
		x->len = len_of(x);
	}
	qsort_r(v->p, v->n, v->size, model_cmp_row, &sub_off);
	for (i = 0; i < v->n; i++) {
		char *row = (char *)v->p + i * v->size;
		if (out && !model_cmp_row((char *)v->p + (out - 1) * v->size, row, &sub_off))
			continue;
		if (out != i)
			memcpy((char *)v->p + out * v->size, row, v->size);
		out++;
	}
	v->n = out;
	for (i = 0; i < v->n; i++) {
		netsnmp_index *x = (netsnmp_index *)(void *)((char *)v->p + i * v->size);
		x->oids = (oid *)(void *)((char *)x + sub_off);
	}
}

static size_t model_len_node(const void *r)
{
	(void)r;
	return 1;
}

static size_t model_len_value(const void *r)
{
	const struct model_value *v = r;

	return model_index(v->node_id, v->name, 0, (oid *)v->sub);
}

static size_t model_len_thr(const void *r)
{
	const struct model_thr *t = r;

	return model_index(t->node_id, t->value, t->kind, (oid *)t->sub);
}

static size_t model_len_dev(const void *r)
{
	const struct model_dev *d = r;

	return model_index(d->node_id, d->path, 0, (oid *)d->sub);
}

struct model_snap *model_snap_build(json_t *body, char *err, size_t errlen)
{
	struct vec nodes = { .size = sizeof(struct model_node) },
		   values = { .size = sizeof(struct model_value) },
		   thrs = { .size = sizeof(struct model_thr) },
		   devs = { .size = sizeof(struct model_dev) };
	json_t *arr = json_object_get(body, "nodes"), *n;
	struct model_snap *s;
	size_t i;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "nodes: missing or not an array");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	if (err && errlen)
		err[0] = '\0';
	json_array_foreach(arr, i, n) {
		json_t *id = json_object_get(n, "id");
		const char *name = json_string_value(json_object_get(n, "name"));
		const char *mac = json_string_value(json_object_get(n, "mac"));
		const char *ip = json_string_value(json_object_get(n, "ip"));
		char macs[SNOW_MAC_STRLEN + 1], msg[128];
		struct model_node *nr;
		uint32_t ipv = 0;
		unsigned m[6];

		if (!json_is_integer(id) || json_integer_value(id) < 1 ||
		    json_integer_value(id) > (json_int_t)UINT32_MAX || !model_name_ok(name)) {
			model_note(s, err, errlen, "%s: no id 1..2^32-1 or a bad name (snowd too old?)",
				   name && model_name_ok(name) ? name : "a node");
			continue;
		}
		nr = vec_push(&nodes);
		if (!nr)
			goto nomem;
		nr->id = (uint32_t)json_integer_value(id);
		nr->sub[0] = nr->id;
		snprintf(nr->name, sizeof(nr->name), "%s", name);
		if (mac && !valid_mac(mac, macs, msg, sizeof(msg)) &&
		    sscanf(macs, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6)
			for (int k = 0; k < 6; k++)
				nr->mac[k] = (unsigned char)m[k];
		if (ip && !valid_ipv4(ip, &ipv, msg, sizeof(msg))) {
			nr->ip[0] = (unsigned char)(ipv >> 24);
			nr->ip[1] = (unsigned char)(ipv >> 16);
			nr->ip[2] = (unsigned char)(ipv >> 8);
			nr->ip[3] = (unsigned char)ipv;
		}
		nr->state = model_state(json_string_value(json_object_get(n, "state")));
		model_copy(nr->image, sizeof(nr->image), n, "image");
		model_copy(nr->hostname, sizeof(nr->hostname), n, "hostname");
		nr->last_seen = model_int(n, "last_seen");
		nr->online_since = model_int(n, "online_since");
		if (model_add_node_rows(s, &values, &thrs, &devs, nr, n, err, errlen))
			goto nomem;
	}
	model_finish(&nodes, offsetof(struct model_node, sub), model_len_node);
	model_finish(&values, offsetof(struct model_value, sub), model_len_value);
	model_finish(&thrs, offsetof(struct model_thr, sub), model_len_thr);
	model_finish(&devs, offsetof(struct model_dev, sub), model_len_dev);
	s->nodes = nodes.p;
	s->nnodes = nodes.n;
	s->values = values.p;
	s->nvalues = values.n;
	s->thrs = thrs.p;
	s->nthrs = thrs.n;
	s->devs = devs.p;
	s->ndevs = devs.n;
	return s;
nomem:
	free(nodes.p);
	free(values.p);
	free(thrs.p);
	free(devs.p);
	free(s);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void model_snap_free(struct model_snap *s)
{
	if (!s)
		return;
	free(s->nodes);
	free(s->values);
	free(s->thrs);
	free(s->devs);
	free(s);
}

/* Binary search for the row with exactly this index in a sorted array. */
static const void *model_bsearch(const void *base, size_t n, size_t size, const oid *key,
				 size_t keylen)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const netsnmp_index *x = (const netsnmp_index *)(const void *)((const char *)base +
									       mid * size);
		int c = model_cmp_sub(x->oids, x->len, key, keylen);
		if (!c)
			return x;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct model_node *model_find_node(const struct model_snap *s, uint32_t id)
{
	oid key = id;

	return model_bsearch(s->nodes, s->nnodes, sizeof(*s->nodes), &key, 1);
}

const struct model_node *model_find_node_name(const struct model_snap *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nnodes; i++)
		if (!strcmp(s->nodes[i].name, name))
			return &s->nodes[i];
	return NULL;
}

const struct model_value *model_find_value(const struct model_snap *s, uint32_t node,
					   const char *name)
{
	oid key[MODEL_IDX_MAX];
	size_t len = model_index(node, name, 0, key);

	return model_bsearch(s->values, s->nvalues, sizeof(*s->values), key, len);
}

const struct model_thr *model_find_thr(const struct model_snap *s, uint32_t node,
				       const char *value, int kind)
{
	oid key[MODEL_IDX_MAX];
	size_t len = model_index(node, value, kind, key);

	return model_bsearch(s->thrs, s->nthrs, sizeof(*s->thrs), key, len);
}

const struct model_dev *model_find_dev(const struct model_snap *s, uint32_t node,
				       const char *path)
{
	oid key[MODEL_IDX_MAX];
	size_t len = model_index(node, path, 0, key);

	return model_bsearch(s->devs, s->ndevs, sizeof(*s->devs), key, len);
}
