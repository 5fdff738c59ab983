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

/* Room for n rows in v at once (vec_push then never moves them).  @ret 0 or -ENOMEM. */
static int vec_reserve(struct vec *v, size_t n)
{
	void *p;

	if (n <= v->cap)
		return 0;
	p = realloc(v->p, n * v->size);
	if (!p)
		return -ENOMEM;
	v->p = p;
	v->cap = n;
	return 0;
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

static void model_note(size_t *skipped, char *warn, size_t warnlen, const char *fmt,
		       const char *what)
{
	if (!(*skipped)++ && warn)
		snprintf(warn, warnlen, fmt, what);
}

/* The rows of one node's values, thresholds and devices. */
static int model_add_node_rows(size_t *skipped, struct vec *values, struct vec *thrs,
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

		if (!model_name_ok(name) || !kind) {
			model_note(skipped, warn, warnlen, "node %s: a schema entry with a bad name or kind",
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
		if (kind == MODEL_COUNTER && json_is_integer(r) && json_integer_value(r) >= 0)
			v->count = (uint64_t)json_integer_value(r);
		wm = json_object_get(wms, name);
		if (kind == MODEL_GAUGE && json_is_array(wm) && json_array_size(wm) == 2 &&
		    json_is_number(json_array_get(wm, 0)) && json_is_number(json_array_get(wm, 1))) {
			v->has_wm = 1;
			v->low = json_number_value(json_array_get(wm, 0));
			v->high = json_number_value(json_array_get(wm, 1));
		} else {
			v->low = v->high = v->v;
		}
	}
	/* A row per threshold the node has (set by command or from its node.conf), on a gauge. */
	json_array_foreach(thr, i, t) {
		const char *tv = json_string_value(json_object_get(t, "value"));
		const char *tk = json_string_value(json_object_get(t, "kind"));
		const char *st = json_string_value(json_object_get(t, "state"));
		json_t *samples = json_object_get(t, "samples");
		const struct model_value *v = NULL;
		struct model_thr *tr;
		int k = tk && !strcmp(tk, "high") ? MODEL_HIGH : tk && !strcmp(tk, "low") ? MODEL_LOW : 0;

		for (j = 0; tv && j < values->n; j++) {
			const struct model_value *x = (const struct model_value *)values->p + j;
			if (!strcmp(x->name, tv)) {
				v = x;
				break;
			}
		}
		if (!v || v->kind != MODEL_GAUGE || !k) {
			model_note(skipped, warn, warnlen, "node %s: a threshold on no gauge of its schema",
				   nr->name);
			continue;
		}
		tr = vec_push(thrs);
		if (!tr)
			return -ENOMEM;
		tr->node_id = nr->id;
		snprintf(tr->node, sizeof(tr->node), "%s", nr->name);
		snprintf(tr->value, sizeof(tr->value), "%s", tv);
		tr->kind = k;
		tr->decimals = v->decimals;
		tr->enabled = 1;
		tr->rise = json_number_value(json_object_get(t, "rise"));
		tr->clear = json_number_value(json_object_get(t, "clear"));
		tr->samples = json_is_integer(samples) && json_integer_value(samples) >= 1 &&
					      json_integer_value(samples) <= 1000 ?
				      (unsigned)json_integer_value(samples) :
				      1;
		tr->raised = st && !strcmp(st, "raised");
	}
	json_array_foreach(json_object_get(n, "devices"), i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *avail = json_string_value(json_object_get(e, "avail"));
		const char *run = json_string_value(json_object_get(e, "run"));
		struct model_dev *d;
		json_t *op;

		if (!model_name_ok(path)) {
			model_note(skipped, warn, warnlen, "node %s: a device with a bad path", nr->name);
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

/* Rows start with their netsnmp_index, pointing into their block's arena. */
static int model_cmp_row(const void *a, const void *b)
{
	const netsnmp_index *x = a, *y = b;

	return model_cmp_sub(x->oids, x->len, y->oids, y->len);
}

/* Sort v's rows by index, dropping rows whose index repeats one (a value named twice). */
static void model_finish(struct vec *v)
{
	size_t i, out = 0;

	if (!v->n) /* v->p is NULL: qsort() must not see it */
		return;
	qsort(v->p, v->n, v->size, model_cmp_row);
	for (i = 0; i < v->n; i++) {
		char *row = (char *)v->p + i * v->size;
		if (out && !model_cmp_row((char *)v->p + (out - 1) * v->size, row))
			continue;
		if (out != i)
			memcpy((char *)v->p + out * v->size, row, v->size);
		out++;
	}
	v->n = out;
}

/* Sub-identifiers of the index of a row named name (kind > 0: a threshold's). */
static size_t model_index_len(const char *name, int kind)
{
	size_t len = strlen(name);

	return 2 + (len > MODEL_NAME_MAX ? MODEL_NAME_MAX : len) + (kind > 0);
}

/* Point row's index at the next free sub-identifiers of the arena *p. */
static void model_index_at(netsnmp_index *idx, oid **p, uint32_t node, const char *name, int kind)
{
	idx->oids = *p;
	idx->len = model_index(node, name, kind, *p);
	*p += idx->len;
}

/* The node row of n into nr.  @ret 0, or -EINVAL with warn filled. */
static int model_node_row(json_t *n, struct model_node *nr, char *warn, size_t warnlen)
{
	json_t *id = json_object_get(n, "id");
	const char *name = json_string_value(json_object_get(n, "name"));
	const char *mac = json_string_value(json_object_get(n, "mac"));
	const char *ip = json_string_value(json_object_get(n, "ip"));
	char macs[SNOW_MAC_STRLEN + 1], msg[128];
	const char *pw;
	uint32_t ipv = 0;
	unsigned m[6];

	if (!json_is_integer(id) || json_integer_value(id) < 1 ||
	    json_integer_value(id) > (json_int_t)UINT32_MAX || !model_name_ok(name)) {
		if (warn && warnlen)
			snprintf(warn, warnlen, "%s: no id 1..2^32-1 or a bad name (snowd too old?)",
				 name && model_name_ok(name) ? name : "a node");
		return -EINVAL;
	}
	nr->id = (uint32_t)json_integer_value(id);
	nr->sub[0] = nr->id;
	nr->idx.len = 1;
	nr->idx.oids = nr->sub;
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
	model_copy(nr->stage, sizeof(nr->stage), n, "stage");
	nr->last_seen = model_int(n, "last_seen");
	nr->online_since = model_int(n, "online_since");
	nr->last_crash = model_int(json_object_get(n, "last_crash"), "time");
	pw = json_string_value(json_object_get(n, "power_state"));
	nr->power = pw && !strcmp(pw, "on")  ? MODEL_POWER_ON :
		    pw && !strcmp(pw, "off") ? MODEL_POWER_OFF :
					       MODEL_POWER_UNKNOWN;
	return 0;
}

int model_block_build(json_t *n, struct model_block **out, char *warn, size_t warnlen)
{
	struct vec values = { .size = sizeof(struct model_value) },
		   thrs = { .size = sizeof(struct model_thr) },
		   devs = { .size = sizeof(struct model_dev) };
	struct model_block *b = calloc(1, sizeof(*b));
	size_t i, need = 0;
	oid *p;
	int rc;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	/* Sized once: a node's rows are as many as its schema, thresholds and devices at most. */
	rc = vec_reserve(&values, json_array_size(json_object_get(n, "schema"))) ||
		     vec_reserve(&thrs, json_array_size(json_object_get(n, "thresholds"))) ||
		     vec_reserve(&devs, json_array_size(json_object_get(n, "devices"))) ?
		     -ENOMEM :
		     model_node_row(n, &b->node, warn, warnlen);
	if (!rc)
		rc = model_add_node_rows(&b->skipped, &values, &thrs, &devs, &b->node, n, warn,
					 warnlen);
	/* Every row's index in one arena of the block, of exactly the size they need. */
	for (i = 0; !rc && i < values.n; i++)
		need += model_index_len(((struct model_value *)values.p)[i].name, 0);
	for (i = 0; !rc && i < thrs.n; i++)
		need += model_index_len(((struct model_thr *)thrs.p)[i].value, 1);
	for (i = 0; !rc && i < devs.n; i++)
		need += model_index_len(((struct model_dev *)devs.p)[i].path, 0);
	if (!rc && !(b->subs = malloc((need ? need : 1) * sizeof(oid))))
		rc = -ENOMEM;
	if (rc) {
		free(values.p);
		free(thrs.p);
		free(devs.p);
		free(b);
		return rc;
	}
	p = b->subs;
	for (i = 0; i < values.n; i++) {
		struct model_value *v = (struct model_value *)values.p + i;
		model_index_at(&v->idx, &p, v->node_id, v->name, 0);
	}
	for (i = 0; i < thrs.n; i++) {
		struct model_thr *t = (struct model_thr *)thrs.p + i;
		model_index_at(&t->idx, &p, t->node_id, t->value, t->kind);
	}
	for (i = 0; i < devs.n; i++) {
		struct model_dev *d = (struct model_dev *)devs.p + i;
		model_index_at(&d->idx, &p, d->node_id, d->path, 0);
	}
	model_finish(&values);
	model_finish(&thrs);
	model_finish(&devs);
	b->values = values.p;
	b->nvalues = values.n;
	b->thrs = thrs.p;
	b->nthrs = thrs.n;
	b->devs = devs.p;
	b->ndevs = devs.n;
	b->refs = 1;
	*out = b;
	return 0;
}

struct model_block *model_block_ref(struct model_block *b)
{
	if (b)
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
	return b;
}

void model_block_unref(struct model_block *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free(b->values);
	free(b->thrs);
	free(b->devs);
	free(b->subs);
	free(b);
}

static int model_cmp_block(const void *a, const void *b)
{
	uint32_t x = (*(struct model_block *const *)a)->node.id;
	uint32_t y = (*(struct model_block *const *)b)->node.id;

	return x < y ? -1 : x > y;
}

struct model_snap *model_snap_from(struct model_block *const *b, size_t n, size_t skipped)
{
	struct model_snap *s = calloc(1, sizeof(*s));
	size_t i, out = 0;

	if (!s || !(s->blocks = malloc((n ? n : 1) * sizeof(*s->blocks)))) {
		free(s);
		return NULL;
	}
	memcpy(s->blocks, b, n * sizeof(*b));
	qsort(s->blocks, n, sizeof(*s->blocks), model_cmp_block);
	s->skipped = skipped;
	for (i = 0; i < n; i++) {
		struct model_block *x = s->blocks[i];
		if (out && s->blocks[out - 1]->node.id == x->node.id) {
			s->skipped++;
			continue;
		}
		s->blocks[out++] = model_block_ref(x);
		s->nvalues += x->nvalues;
		s->nthrs += x->nthrs;
		s->ndevs += x->ndevs;
		s->skipped += x->skipped;
	}
	s->nblocks = s->nnodes = out;
	return s;
}

struct model_snap *model_snap_build(json_t *body, char *err, size_t errlen)
{
	json_t *arr = json_object_get(body, "nodes"), *n;
	struct model_block **b;
	struct model_snap *s = NULL;
	size_t i, nb = 0, skipped = 0;
	char why[160];

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "nodes: missing or not an array");
		return NULL;
	}
	if (err && errlen)
		err[0] = '\0';
	b = calloc(json_array_size(arr) + 1, sizeof(*b));
	if (!b)
		goto nomem;
	json_array_foreach(arr, i, n) {
		int rc;

		why[0] = '\0';
		rc = model_block_build(n, &b[nb], why, sizeof(why));
		if (rc == -ENOMEM)
			goto nomem;
		if (rc)
			skipped++;
		else
			nb++;
		if (why[0] && err && errlen && !err[0])
			snprintf(err, errlen, "%s", why);
	}
	s = model_snap_from(b, nb, skipped);
	if (!s)
		goto nomem;
	for (i = 0; i < nb; i++)
		model_block_unref(b[i]);
	free(b);
	return s;
nomem:
	for (i = 0; b && i < nb; i++)
		model_block_unref(b[i]);
	free(b);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void model_snap_free(struct model_snap *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nblocks; i++)
		model_block_unref(s->blocks[i]);
	free(s->blocks);
	free(s);
}

/* Block b's rows of table: *n rows of *size octets. */
static const void *model_block_rows(const struct model_block *b, int table, size_t *n,
				    size_t *size)
{
	switch (table) {
	case MODEL_T_NODES:
		*n = 1;
		*size = sizeof(b->node);
		return &b->node;
	case MODEL_T_VALUES:
		*n = b->nvalues;
		*size = sizeof(*b->values);
		return b->values;
	case MODEL_T_THRS:
		*n = b->nthrs;
		*size = sizeof(*b->thrs);
		return b->thrs;
	default:
		*n = b->ndevs;
		*size = sizeof(*b->devs);
		return b->devs;
	}
}

/* The first of n rows whose index is at or above key (strictly above when after). */
static size_t model_bound(const void *rows, size_t n, size_t size, const oid *key, size_t keylen,
			  int after)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const netsnmp_index *x = (const netsnmp_index *)(const void *)((const char *)rows +
									       mid * size);
		int c = model_cmp_sub(x->oids, x->len, key, keylen);
		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const void *model_row(const struct model_snap *s, int table, const oid *key, size_t keylen,
		      int after)
{
	oid id = key && keylen ? key[0] : 0;
	size_t lo = 0, hi = s->nblocks, n, size, j;

	if (!key && !after)
		return NULL;
	/* The first block whose node id is at or above the key's. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((oid)s->blocks[mid]->node.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->nblocks; lo++) {
		const struct model_block *b = s->blocks[lo];
		const char *rows = model_block_rows(b, table, &n, &size);

		if (!key || (oid)b->node.id > id) {
			/* Every row of a later node comes after the key; none is it. */
			if (!after)
				return NULL;
			if (n)
				return rows;
			continue;
		}
		j = model_bound(rows, n, size, key, keylen, after);
		if (j < n) {
			const netsnmp_index *x = (const netsnmp_index *)(const void *)(rows + j * size);
			return after || !model_cmp_sub(x->oids, x->len, key, keylen) ? x : NULL;
		}
		if (!after)
			return NULL;
	}
	return NULL;
}

const struct model_node *model_find_node(const struct model_snap *s, uint32_t id)
{
	oid key = id;

	return model_row(s, MODEL_T_NODES, &key, 1, 0);
}

const struct model_node *model_find_node_name(const struct model_snap *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nblocks; i++)
		if (!strcmp(s->blocks[i]->node.name, name))
			return &s->blocks[i]->node;
	return NULL;
}

const struct model_value *model_find_value(const struct model_snap *s, uint32_t node,
					   const char *name)
{
	oid key[MODEL_IDX_MAX];
	size_t len = model_index(node, name, 0, key);

	return model_row(s, MODEL_T_VALUES, key, len, 0);
}

const struct model_thr *model_find_thr(const struct model_snap *s, uint32_t node,
				       const char *value, int kind)
{
	oid key[MODEL_IDX_MAX];
	size_t len = model_index(node, value, kind, key);

	return model_row(s, MODEL_T_THRS, key, len, 0);
}

const struct model_dev *model_find_dev(const struct model_snap *s, uint32_t node,
				       const char *path)
{
	oid key[MODEL_IDX_MAX];
	size_t len = model_index(node, path, 0, key);

	return model_row(s, MODEL_T_DEVS, key, len, 0);
}
