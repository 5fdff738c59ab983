/*
 * pstore dumps from nodes (pstore.h): tie them to the boot that crashed,
 * keep them beside its kernel log, and make that boot's crash event say so.
 * Runs on snowd's one thread, from the node channel and the API.
 */
#include "pstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "buf.h"
#include "http.h"
#include "inv.h"
#include "jsonh.h"
#include "klog.h"
#include "klog_crash.h"
#include "klogp.h"
#include "log.h"
#include "nodes.h"
#include "pstorep.h"
#include "snowd.h"
#include "stream.h"

#define PSTORE_LOG_MAX 48000   /* bytes of a dump's end a crash event made from it carries */
#define PSTORE_EVENTS_SCAN 200 /* a node's newest events searched for its crash */

/* STATE/klog/NODE[/BOOT.pstore.json] */
static void pstore_path(struct snowd *sd, const char *node, const char *boot, char *out, size_t cap)
{
	if (boot)
		snprintf(out, cap, "%s/klog/%s/%s.pstore.json", sd->cfg.state_dir, node, boot);
	else
		snprintf(out, cap, "%s/klog/%s", sd->cfg.state_dir, node);
}

/* The newest time among the upload's dumps (0: none has one). */
static int64_t pstore_dump_time(const struct pstorep_upload *u)
{
	int64_t t = 0;
	size_t i;

	for (i = 0; i < u->n; i++)
		if (pstorep_is_dump(&u->rec[i]) && u->rec[i].time > t)
			t = u->rec[i].time;
	return t;
}

/*
 * Which boot crashed (pstore.h's order), into boot; *event_id gets its crash
 * event's id (0: none yet).
 */
static void pstore_which_boot(struct snowd *sd, const struct inv_node *n, const char *current,
			      int64_t t, char *boot, size_t cap, int64_t *event_id)
{
	json_t *evs, *e, *boots;
	const char *prev;
	size_t i;

	*event_id = 0;
	boot[0] = '\0';
	if (t > 0 && (evs = inv_events_list(&sd->inv, n->id, 0, -1, PSTORE_EVENTS_SCAN))) {
		int64_t best = PSTORE_MATCH_S + 1;
		/* The crash closest in time: two crashes may be minutes apart. */
		json_array_foreach(evs, i, e) {
			const char *type = json_string_value(json_object_get(e, "type"));
			const char *b = json_string_value(json_object_get(e, "boot_id"));
			int64_t d = (int64_t)json_integer_value(json_object_get(e, "time")) - t;
			if (d < 0)
				d = -d;
			if (type && b && !strcmp(type, "crash") && strcmp(b, current) && d < best &&
			    pstorep_boot_ok(b)) {
				best = d;
				snprintf(boot, cap, "%s", b);
				*event_id = json_integer_value(json_object_get(e, "id"));
			}
		}
		json_decref(evs);
		if (boot[0])
			return;
	}
	prev = klog_prev_boot(sd, n->id);
	if (prev && strcmp(prev, current) && pstorep_boot_ok(prev)) {
		snprintf(boot, cap, "%s", prev);
	} else if ((boots = inv_boot_list(&sd->inv, n->id, 4))) {
		json_array_foreach(boots, i, e) {
			const char *b = json_string_value(json_object_get(e, "boot_id"));
			if (b && strcmp(b, current) && pstorep_boot_ok(b)) {
				snprintf(boot, cap, "%s", b);
				break;
			}
		}
		json_decref(boots);
	}
	if (!boot[0])
		snprintf(boot, cap, "unknown");
	*event_id = inv_event_id(&sd->inv, n->id, boot, -1);
}

/* One record as kept and served: text as is, other bytes as base64 with a note. */
static json_t *pstore_record_json(const struct pstorep_record *r)
{
	json_t *o = json_pack("{s:s, s:I, s:I}", "name", r->name, "time", (json_int_t)r->time, "bytes",
			      (json_int_t)r->len);
	char *b64;

	if (!o)
		return NULL;
	if (r->text) {
		json_object_set_new(o, "text", json_stringn((const char *)r->data, r->len));
		return o;
	}
	b64 = malloc(B64_LEN(r->len) + 1);
	if (!b64) {
		json_decref(o);
		return NULL;
	}
	b64_encode(r->data, r->len, b64);
	json_object_set_new(o, "base64", json_string(b64));
	json_object_set_new(o, "note", json_string("not text (compressed, or corrupt): kept as raw "
						   "bytes"));
	free(b64);
	return o;
}

/*
 * Write BOOT.pstore.json: the records of an earlier upload of the same boot
 * are kept unless this one has them too.  @ret 0 or -errno.
 */
static int pstore_store(struct snowd *sd, const struct inv_node *n, const char *boot,
			const char *from_boot, const struct pstorep_upload *u)
{
	char dir[4200], p[4400], tmp[4500];
	json_t *doc, *recs, *old, *r;
	char *text;
	size_t i, j;
	int fd, rc = 0;

	pstore_path(sd, n->name, NULL, dir, sizeof(dir));
	pstore_path(sd, n->name, boot, p, sizeof(p));
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	recs = json_array();
	for (i = 0; recs && i < u->n; i++)
		json_array_append_new(recs, pstore_record_json(&u->rec[i]));
	old = json_load_file(p, 0, NULL);
	json_array_foreach(json_object_get(old, "records"), i, r) {
		const char *name = json_string_value(json_object_get(r, "name"));
		int again = 0;
		for (j = 0; name && j < u->n; j++)
			again |= !strcmp(u->rec[j].name, name);
		if (name && !again)
			json_array_append(recs, r);
	}
	json_decref(old);
	doc = json_pack("{s:s, s:s, s:s, s:I, s:o}", "node", n->name, "boot_id", boot, "sent_by_boot",
			from_boot, "received", (json_int_t)time(NULL), "records", recs);
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
	} else {
		size_t len = strlen(text);
		if (write(fd, text, len) != (ssize_t)len || fsync(fd))
			rc = -EIO;
		close(fd);
		if (!rc && rename(tmp, p))
			rc = -errno;
		if (rc)
			unlink(tmp);
	}
	free(text);
	return rc;
}

/* The names of the upload's dumps, as a new array. */
static json_t *pstore_dump_names(const struct pstorep_upload *u)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < u->n; i++)
		if (pstorep_is_dump(&u->rec[i]))
			json_array_append_new(a, json_string(u->rec[i].name));
	return a;
}

/* The crash event event_id gains the source "pstore" and the dump's names.  @ret 0 or -EIO. */
static int pstore_event_update(struct snowd *sd, int64_t event_id, const struct pstorep_upload *u,
			       const char *panic)
{
	struct db_stmt *st = inv_prepare(&sd->inv, "SELECT attrs FROM events WHERE id = ?");
	json_t *attrs = NULL, *src;
	char *text = NULL;
	size_t i;
	int rc = -EIO, has = 0;

	if (!st)
		return -EIO;
	db_bind_int64(st, 1, event_id);
	if (db_step(st) == DB_ROW && db_column_text(st, 0))
		attrs = json_loads((const char *)db_column_text(st, 0), 0, NULL);
	inv_done(&sd->inv, st);
	if (!json_is_object(attrs))
		goto out;
	src = json_object_get(attrs, "source");
	if (!json_is_array(src)) {
		src = json_array();
		json_object_set_new(attrs, "source", src);
	}
	for (i = 0; i < json_array_size(src); i++) {
		const char *s = json_string_value(json_array_get(src, i));
		has |= s && !strcmp(s, "pstore");
	}
	if (!has)
		json_array_append_new(src, json_string("pstore"));
	json_object_set_new(attrs, "pstore", pstore_dump_names(u));
	{
		const char *p = json_string_value(json_object_get(attrs, "panic"));
		if ((!p || !*p) && panic[0])
			json_object_set_new(attrs, "panic", json_string(panic));
	}
	text = jsonh_dump(attrs);
	st = text ? inv_prepare(&sd->inv, "UPDATE events SET attrs = ? WHERE id = ?") : NULL;
	if (!st)
		goto out;
	db_bind_text(st, 1, text);
	db_bind_int64(st, 2, event_id);
	rc = inv_write_step(&sd->inv, st) == DB_DONE ? 0 : -EIO;
	inv_done(&sd->inv, st);
out:
	free(text);
	json_decref(attrs);
	return rc;
}

/* A crash event of source pstore for boot, when netconsole and pvpanic saw none.  @ret 0 or -EIO. */
static int pstore_event_new(struct snowd *sd, const struct inv_node *n, const char *boot,
			    const struct pstorep_upload *u, const char *panic, int64_t t)
{
	const struct pstorep_record *dump = NULL;
	json_t *attrs, *events;
	int64_t ack, now = (int64_t)time(NULL), id;
	char *log;
	size_t i, off = 0, lines = 0;

	for (i = 0; i < u->n; i++)
		if (pstorep_is_dump(&u->rec[i]) && u->rec[i].text &&
		    (!dump || strstr((const char *)u->rec[i].data, "Kernel panic")))
			dump = &u->rec[i];
	if (dump && dump->len > PSTORE_LOG_MAX)
		off = dump->len - PSTORE_LOG_MAX;
	log = malloc((dump ? dump->len - off : 0) + 1);
	if (!log)
		return -ENOMEM;
	klogp_clean(dump ? (const char *)dump->data + off : "", dump ? dump->len - off : 0, log,
		    (dump ? dump->len - off : 0) + 1);
	for (i = 0; log[i]; i++)
		lines += log[i] == '\n';
	attrs = json_pack("{s:[s], s:s, s:s, s:I, s:o}", "source", "pstore", "panic", panic, "log",
			  log, "lines", (json_int_t)lines, "pstore", pstore_dump_names(u));
	free(log);
	events = attrs ? json_pack("[{s:I, s:I, s:s, s:O}]", "seq", (json_int_t)-1, "time",
				   (json_int_t)(t > 0 ? t : now), "type", "crash", "attrs", attrs) : NULL;
	if (!events || inv_events_store(&sd->inv, n->id, boot, events, now, &ack)) {
		json_decref(events);
		json_decref(attrs);
		return -EIO;
	}
	sd->events++;
	klog_crash_noted(sd, n->id, n->name, t > 0 ? t : now, boot, panic);
	id = inv_event_id(&sd->inv, n->id, boot, -1);
	stream_publish(&sd->stream, "event",
		       json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:O}", "id", (json_int_t)id, "node",
				 n->name, "boot_id", boot, "seq", (json_int_t)-1, "time",
				 (json_int_t)(t > 0 ? t : now), "type", "crash", "attrs", attrs));
	json_decref(events);
	json_decref(attrs);
	return 0;
}

enum MHD_Result pstore_chan_post(struct http_ctx *h, struct inv_node *n, json_t *body)
{
	struct snowd *sd = h->sd;
	struct pstorep_upload u;
	struct node_rt *rt = nodes_rt(sd, n->id, NULL);
	char err[256], boot[PSTOREP_BOOT_MAX + 1], panic[256] = "";
	int64_t event_id, t;
	json_t *names;
	size_t i;
	int rc, dump = 0;

	rc = pstorep_parse(body, &u, err, sizeof(err));
	if (rc)
		return http_error(h, rc == -EINVAL ? MHD_HTTP_BAD_REQUEST :
						     MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err);
	if (!rt || strcmp(rt->boot_id, u.boot_id)) {
		pstorep_free(&u);
		return http_error(h, MHD_HTTP_CONFLICT, "boot_id: not the boot %s registered", n->name);
	}
	t = pstore_dump_time(&u);
	pstore_which_boot(sd, n, u.boot_id, t, boot, sizeof(boot), &event_id);
	for (i = 0; i < u.n; i++)
		if (pstorep_is_dump(&u.rec[i])) {
			char p[256];
			dump = 1;
			if (pstorep_panic(&u.rec[i], p, sizeof(p)) || !panic[0])
				snprintf(panic, sizeof(panic), "%s", p);
		}
	rc = pstore_store(sd, n, boot, u.boot_id, &u);
	if (rc) {
		pstorep_free(&u);
		log_warnx("node %s: pstore dump of boot %s not kept: %s", n->name, boot, strerror(-rc));
		return http_error(h, MHD_HTTP_SERVICE_UNAVAILABLE, "pstore: not kept: try again later");
	}
	if (dump) {
		rc = event_id > 0 ? pstore_event_update(sd, event_id, &u, panic) :
				    pstore_event_new(sd, n, boot, &u, panic, t);
		if (rc)
			log_warnx("node %s: crash event of boot %s not updated from pstore", n->name,
				  boot);
	}
	log_warnx("node %s: pstore from boot %s: %zu record(s)%s%s%s", n->name, boot, u.n,
		  dump ? ", a dump: " : "", dump ? (panic[0] ? panic : "(no panic line)") : "",
		  dump && event_id <= 0 ? " (new crash event)" : "");
	names = json_array();
	for (i = 0; names && i < u.n; i++)
		json_array_append_new(names, json_string(u.rec[i].name));
	pstorep_free(&u);
	return http_json(h, MHD_HTTP_OK, json_pack("{s:s, s:o}", "boot_id", boot, "stored", names));
}

enum MHD_Result pstore_api_get(struct http_ctx *h)
{
	struct snowd *sd = h->sd;
	struct inv_node n;
	char p[4400];
	json_t *doc;
	enum MHD_Result ret;

	if (http_node(h, h->param[0], &n, &ret))
		return ret;
	if (!pstorep_boot_ok(h->param[1]))
		return http_error(h, MHD_HTTP_NOT_FOUND, "boot: '%s' is not a boot id", h->param[1]);
	pstore_path(sd, n.name, h->param[1], p, sizeof(p));
	doc = json_load_file(p, 0, NULL);
	if (!doc)
		return http_error(h, MHD_HTTP_NOT_FOUND, "boot: no pstore dump of boot %s of %s",
				  h->param[1], n.name);
	return http_json(h, MHD_HTTP_OK, doc);
}
