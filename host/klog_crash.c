/*
 * Crash events (klog_crash.h): a boot's crash is gathered from
 * its netconsole lines (the "Kernel panic" line, the lines before it in a
 * ring, those after it) and from signals outside the log (qmpev.c), then
 * kept as one `crash` event; each node's last crash, seeded from the events
 * at start, for its JSON and /metrics.  Runs on snowd's one thread.
 */
#include "klog_crash.h"
#include "klog_state.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "db.h"
#include "inv.h"
#include "log.h"
#include "nodes.h"
#include "snowd.h"
#include "stream.h"

#define KLOG_CRASH_MAX 48000   /* bytes of text a crash event carries at most */
#define KLOG_CRASH_LINES 160   /* lines after the first sign of the crash */

/* --- a boot's crash ----------------------------------------------------------------------- */

/* The crash gathered becomes the boot's crash event: stored, counted, published. */
static void klog_crash_record(struct snowd *sd, struct klog_node *kn)
{
	struct klog *k = sd->klog;
	const char *boot = kn->boot;
	int64_t ack, now = (int64_t)time(NULL), id;
	json_t *events, *src, *attrs;
	struct node_rt *rt;

	if (kn->crash != KLOG_CRASH_GATHERING)
		return;
	kn->crash = KLOG_CRASH_RECORDED;
	if (!boot[0]) {
		rt = nodes_rt(sd, kn->id, NULL);
		boot = rt && rt->boot_id[0] ? rt->boot_id : "unknown";
	}
	src = json_array();
	if (kn->sources & KLOG_SRC_NETCONSOLE)
		json_array_append_new(src, json_string("netconsole"));
	if (kn->sources & KLOG_SRC_PVPANIC)
		json_array_append_new(src, json_string("pvpanic"));
	if (kn->sources & KLOG_SRC_WATCHDOG)
		json_array_append_new(src, json_string("watchdog"));
	attrs = json_pack("{s:o, s:s, s:s#, s:I}", "source", src, "panic", kn->panic, "log",
			  kn->crash_text.data ? kn->crash_text.data : "", kn->crash_text.len,
			  "lines", (json_int_t)kn->crash_lines);
	events = json_pack("[{s:I, s:I, s:s, s:O}]", "seq", (json_int_t)-1, "time", (json_int_t)now,
			   "type", "crash", "attrs", attrs);
	if (!events || inv_events_store(&sd->inv, kn->id, boot, events, now, &ack)) {
		log_warnx("node %s: crash of boot %s not stored (inventory error)", kn->name, boot);
		goto out;
	}
	k->crashes++;
	kn->crashes++;
	sd->events++;
	kn->last_crash = now;
	snprintf(kn->last_crash_boot, sizeof(kn->last_crash_boot), "%s", boot);
	snprintf(kn->last_crash_panic, sizeof(kn->last_crash_panic), "%s", kn->panic);
	log_warnx("node %s: kernel crash in boot %s: %s", kn->name, boot,
		  kn->panic[0] ? kn->panic : "(no panic line received)");
	id = inv_event_id(&sd->inv, kn->id, boot, -1);
	stream_publish(&sd->stream, "event",
		       json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:O}", "id", (json_int_t)id, "node",
				 kn->name, "boot_id", boot, "seq", (json_int_t)-1, "time",
				 (json_int_t)now, "type", "crash", "attrs", attrs));
out:
	json_decref(events);
	json_decref(attrs);
	buf_free(&kn->crash_text);
}

/* The first sign of a crash: the context so far starts the text. */
static void klog_crash_begin(struct klog_node *kn, unsigned src)
{
	unsigned i, first = (kn->ring_next + KLOG_CRASH_BEFORE - kn->ring_n) % KLOG_CRASH_BEFORE;

	kn->crash = KLOG_CRASH_GATHERING;
	kn->sources = src;
	kn->crash_deadline = clock_mono_ms() + KLOG_CRASH_WAIT_MS;
	kn->crash_lines = 0;
	buf_free(&kn->crash_text);
	for (i = 0; i < kn->ring_n; i++) {
		buf_puts(&kn->crash_text, kn->ring[(first + i) % KLOG_CRASH_BEFORE]);
		buf_puts(&kn->crash_text, "\n");
	}
}

void klog_crash_line(struct snowd *sd, struct klog_node *kn, const char *line)
{
	const char *p;

	if (kn->crash == KLOG_CRASH_NONE && (p = strstr(line, "Kernel panic - not syncing"))) {
		klog_crash_begin(kn, KLOG_SRC_NETCONSOLE);
		snprintf(kn->panic, sizeof(kn->panic), "%s", p);
	} else if (kn->crash == KLOG_CRASH_GATHERING && !(kn->sources & KLOG_SRC_NETCONSOLE) &&
		   (p = strstr(line, "Kernel panic - not syncing"))) {
		kn->sources |= KLOG_SRC_NETCONSOLE;
		snprintf(kn->panic, sizeof(kn->panic), "%s", p);
	}
	if (kn->crash == KLOG_CRASH_GATHERING) {
		if (kn->crash_text.len + strlen(line) + 1 <= KLOG_CRASH_MAX &&
		    kn->crash_lines < KLOG_CRASH_LINES) {
			buf_puts(&kn->crash_text, line);
			buf_puts(&kn->crash_text, "\n");
			kn->crash_lines++;
		}
		if (strstr(line, "---[ end Kernel panic"))
			klog_crash_record(sd, kn);
	}
	snprintf(kn->ring[kn->ring_next], KLOG_RING_LINE, "%s", line);
	kn->ring_next = (kn->ring_next + 1) % KLOG_CRASH_BEFORE;
	if (kn->ring_n < KLOG_CRASH_BEFORE)
		kn->ring_n++;
}

void klog_crash_signal(struct snowd *sd, int64_t node_id, const char *name, unsigned src)
{
	struct klog_node *kn = sd->klog ? klog_node(sd->klog, node_id, name) : NULL;

	if (!kn)
		return;
	if (kn->crash == KLOG_CRASH_NONE)
		klog_crash_begin(kn, src);
	else if (kn->crash == KLOG_CRASH_GATHERING)
		kn->sources |= src;
	else
		log_info("node %s: another crash signal (%u) in boot %s", name, src, kn->boot);
}

void klog_crash_boot_end(struct snowd *sd, struct klog_node *kn)
{
	klog_crash_record(sd, kn);
	kn->ring_n = kn->ring_next = 0;
	kn->crash = KLOG_CRASH_NONE;
	kn->sources = 0;
	kn->panic[0] = '\0';
}

/* --- each node's last crash (pstore.c, nodes.c, klog_new()) -------------------------------- */

void klog_crash_noted(struct snowd *sd, int64_t node_id, const char *name, int64_t t,
		      const char *boot, const char *panic)
{
	struct klog_node *kn = sd->klog ? klog_node(sd->klog, node_id, name) : NULL;

	if (!kn)
		return;
	sd->klog->crashes++;
	kn->crashes++;
	if (t >= kn->last_crash) {
		kn->last_crash = t;
		snprintf(kn->last_crash_boot, sizeof(kn->last_crash_boot), "%s", boot);
		snprintf(kn->last_crash_panic, sizeof(kn->last_crash_panic), "%s", panic ? panic : "");
	}
}

void klog_crash_json(struct snowd *sd, int64_t node_id, json_t *o)
{
	struct klog_node *kn = sd->klog ? klog_node(sd->klog, node_id, NULL) : NULL;

	if (!kn || !kn->last_crash)
		return;
	json_object_set_new(o, "last_crash",
			    json_pack("{s:I, s:s, s:s}", "time", (json_int_t)kn->last_crash,
				      "boot_id", kn->last_crash_boot, "panic", kn->last_crash_panic));
}

/*
 * Each node's last crash, from the events kept: so last_crash and its metric
 * survive a restart of snowd (the crash counters count from the start).
 */
void klog_crash_seed(struct snowd *sd)
{
	struct db_stmt *st = inv_prepare(&sd->inv,
				       "SELECT e.node_id, n.name, e.time, e.boot_id, e.attrs FROM events e "
				       "JOIN nodes n ON n.id = e.node_id WHERE e.type = 'crash' AND NOT EXISTS "
				       "(SELECT 1 FROM events f WHERE f.node_id = e.node_id AND "
				       "f.type = 'crash' AND (f.time > e.time OR (f.time = e.time AND f.id > e.id)))");
	struct klog_node *kn;

	if (!st)
		return;
	while (db_step(st) == DB_ROW) {
		const char *name = (const char *)db_column_text(st, 1);
		const char *boot = (const char *)db_column_text(st, 3);
		const char *attrs = (const char *)db_column_text(st, 4);
		json_t *a = attrs ? json_loads(attrs, 0, NULL) : NULL;
		const char *panic = json_string_value(json_object_get(a, "panic"));
		if (name && (kn = klog_node(sd->klog, db_column_int64(st, 0), name))) {
			kn->last_crash = db_column_int64(st, 2);
			snprintf(kn->last_crash_boot, sizeof(kn->last_crash_boot), "%s", boot ? boot : "");
			snprintf(kn->last_crash_panic, sizeof(kn->last_crash_panic), "%s",
				 panic ? panic : "");
		}
		json_decref(a);
	}
	inv_done(&sd->inv, st);
}

void klog_crash_tick(struct snowd *sd)
{
	struct klog *k = sd->klog;
	int64_t now = clock_mono_ms();
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		if (k->nodes[i]->crash == KLOG_CRASH_GATHERING && now >= k->nodes[i]->crash_deadline)
			klog_crash_record(sd, k->nodes[i]);
}
