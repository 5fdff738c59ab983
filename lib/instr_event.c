/* The black box: events, their ring and their JSON (instr.h). */
#include "instr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instr_priv.h"
#include "jsonh.h"

/* ---- events ---------------------------------------------------------------- */

static const char *const instr_severity_names[] = {
	[INSTR_SEV_NONE] = "",		 [INSTR_SEV_DEBUG] = "debug",
	[INSTR_SEV_INFO] = "info",	 [INSTR_SEV_NOTICE] = "notice",
	[INSTR_SEV_WARNING] = "warning", [INSTR_SEV_ERROR] = "error",
	[INSTR_SEV_CRITICAL] = "critical",
};

const char *instr_severity_name(enum instr_severity s)
{
	return (unsigned)s < ARRAY_LEN(instr_severity_names) ? instr_severity_names[s] : "";
}

int instr_severity_parse(const char *s, enum instr_severity *sev)
{
	int i;

	if (!s || !*s)
		return -EINVAL;
	i = instr_lookup(instr_severity_names, ARRAY_LEN(instr_severity_names), s);
	if (i < 0)
		return i;
	*sev = (enum instr_severity)i;
	return 0;
}

enum instr_severity instr_severity_of(const char *type)
{
	if (!strcmp(type, INSTR_EV_THR_RAISE) || !strcmp(type, INSTR_EV_EVENTS_LOST))
		return INSTR_SEV_WARNING;
	if (!strcmp(type, INSTR_EV_STATE))
		return INSTR_SEV_ERROR;
	return INSTR_SEV_INFO;
}

int instr_publisher_check(const char *s, char *err, size_t errlen)
{
	size_t i, len = s ? strlen(s) : 0;

	if (!len || len > INSTR_PUBLISHER_MAX) {
		snprintf(err, errlen, "publisher: must be 1..%d characters", INSTR_PUBLISHER_MAX);
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.')) {
			snprintf(err, errlen, "publisher: only [a-z0-9_.-] may be used");
			return -EINVAL;
		}
	return 0;
}

int instr_ring_init(struct instr_ring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	if (!cap)
		return -EINVAL;
	r->ev = calloc(cap, sizeof(*r->ev));
	if (!r->ev)
		return -ENOMEM;
	r->cap = cap;
	r->next_seq = 1;
	return 0;
}

void instr_ring_free(struct instr_ring *r)
{
	size_t i;

	for (i = 0; r->ev && i < r->cap; i++)
		json_decref(r->ev[i].attrs);
	free(r->ev);
	memset(r, 0, sizeof(*r));
}

static struct instr_event *instr_ring_slot(const struct instr_ring *r, size_t i)
{
	return &r->ev[(r->head + i) % r->cap];
}

/* Drop the oldest event. */
static void instr_ring_pop(struct instr_ring *r)
{
	struct instr_event *e = instr_ring_slot(r, 0);

	json_decref(e->attrs);
	memset(e, 0, sizeof(*e));
	r->head = (r->head + 1) % r->cap;
	r->len--;
}

/* Append to a ring known to have room; attrs stolen. */
static uint64_t instr_ring_put(struct instr_ring *r, int64_t time, const char *type,
			       enum instr_severity sev, const char *publisher, json_t *attrs)
{
	struct instr_event *e;

	if (!attrs)
		attrs = json_object();
	if (!attrs)
		return 0;
	e = instr_ring_slot(r, r->len);
	e->seq = r->next_seq++;
	e->time = time;
	snprintf(e->type, sizeof(e->type), "%s", type);
	e->severity = (unsigned)sev < INSTR_SEV_COUNT ? sev : INSTR_SEV_NONE;
	snprintf(e->publisher, sizeof(e->publisher), "%s", publisher ? publisher : r->publisher);
	e->attrs = attrs;
	r->len++;
	return e->seq;
}

/* Record pending drops as one events.lost event, when there is room. */
static void instr_ring_flush_lost(struct instr_ring *r, int64_t now)
{
	json_t *a;

	if (!r->lost || r->len == r->cap)
		return;
	a = json_pack("{s:I, s:I, s:I}", "count", (json_int_t)r->lost, "first_seq",
		      (json_int_t)r->lost_first, "last_seq", (json_int_t)r->lost_last);
	if (!a)
		return; /* try again at the next push or ack */
	if (instr_ring_put(r, now, INSTR_EV_EVENTS_LOST, instr_severity_of(INSTR_EV_EVENTS_LOST),
			   NULL, a))
		r->lost = 0;
}

uint64_t instr_ring_push(struct instr_ring *r, int64_t time, const char *type, json_t *attrs)
{
	return instr_ring_push_ex(r, time, type, instr_severity_of(type), NULL, attrs);
}

uint64_t instr_ring_push_ex(struct instr_ring *r, int64_t time, const char *type,
			    enum instr_severity sev, const char *publisher, json_t *attrs)
{
	instr_ring_flush_lost(r, time);
	if (r->len == r->cap) {
		uint64_t seq = instr_ring_slot(r, 0)->seq;
		if (!r->lost)
			r->lost_first = seq;
		r->lost_last = seq;
		r->lost++;
		r->lost_total++;
		instr_ring_pop(r);
	}
	return instr_ring_put(r, time, type, sev, publisher, attrs);
}

size_t instr_ring_ack(struct instr_ring *r, uint64_t seq, int64_t now)
{
	size_t n = 0;

	while (r->len && instr_ring_slot(r, 0)->seq <= seq) {
		instr_ring_pop(r);
		n++;
	}
	instr_ring_flush_lost(r, now);
	return n;
}

const struct instr_event *instr_ring_at(const struct instr_ring *r, size_t i)
{
	return i < r->len ? instr_ring_slot(r, i) : NULL;
}

json_t *instr_event_to_json(const struct instr_event *e)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:O}", "seq", (json_int_t)e->seq, "time",
			      (json_int_t)e->time, "type", e->type, "attrs", e->attrs);

	if (j && e->severity != INSTR_SEV_NONE &&
	    json_object_set_new(j, "severity", json_string(instr_severity_name(e->severity))))
		goto err_j;
	if (j && e->publisher[0] &&
	    json_object_set_new(j, "publisher", json_string(e->publisher)))
		goto err_j;
	return j;

err_j:
	json_decref(j);
	return NULL;
}

json_t *instr_ring_json(const struct instr_ring *r, size_t max)
{
	json_t *a = json_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < r->len && i < max; i++) {
		if (json_array_append_new(a, instr_event_to_json(instr_ring_slot(r, i)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int instr_event_from_json(json_t *j, struct instr_event *e, char *err, size_t errlen)
{
	static const char *const keys[] = { "seq", "time", "type", "severity", "publisher", "attrs",
					    NULL };
	enum instr_severity sev = INSTR_SEV_NONE;
	json_int_t seq, time;
	const char *type, *sevs, *publisher;
	json_t *attrs;
	int rc;

	if (!json_is_object(j)) {
		snprintf(err, errlen, "events: each event must be an object");
		return -EINVAL;
	}
	if ((rc = jsonh_only_keys(j, keys, err, errlen)) ||
	    (rc = jsonh_get_int(j, "seq", 1, 1, INT64_MAX, &seq, err, errlen)) ||
	    (rc = jsonh_get_int(j, "time", 1, 0, INT64_MAX, &time, err, errlen)) ||
	    (rc = jsonh_get_str(j, "type", 1, INSTR_TYPE_MAX, &type, err, errlen)) ||
	    (rc = jsonh_get_str(j, "severity", 0, 16, &sevs, err, errlen)) ||
	    (rc = jsonh_get_str(j, "publisher", 0, INSTR_PUBLISHER_MAX, &publisher, err, errlen)))
		return rc;
	if (sevs && instr_severity_parse(sevs, &sev)) {
		snprintf(err, errlen,
			 "severity: must be debug, info, notice, warning, error or critical");
		return -EINVAL;
	}
	if (publisher && (rc = instr_publisher_check(publisher, err, errlen)))
		return rc;
	attrs = json_object_get(j, "attrs");
	if (attrs && !json_is_object(attrs)) {
		snprintf(err, errlen, "attrs: must be an object");
		return -EINVAL;
	}
	e->seq = (uint64_t)seq;
	e->time = (int64_t)time;
	snprintf(e->type, sizeof(e->type), "%s", type);
	e->severity = sev;
	snprintf(e->publisher, sizeof(e->publisher), "%s", publisher ? publisher : "");
	e->attrs = attrs ? json_incref(attrs) : json_object();
	if (!e->attrs) {
		snprintf(err, errlen, "attrs: out of memory");
		return -ENOMEM;
	}
	return 0;
}
