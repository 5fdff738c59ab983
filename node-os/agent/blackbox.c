#include "blackbox.h"

#include <stdint.h>
#include <string.h>

#include "jsonh.h"

int blackbox_restore(struct instr_ring *ring, const char *boot_id, json_t *j)
{
	json_int_t next, lost, first, last, total;
	json_t *evs, *e;
	const char *boot;
	uint64_t dropped, prev = 0;
	char err[256];
	size_t i;
	int n = 0;

	if (!json_is_object(j) || jsonh_get_str(j, "boot_id", 1, 64, &boot, err, sizeof(err)) ||
	    strcmp(boot, boot_id) ||
	    jsonh_get_int(j, "next_seq", 1, 1, INT64_MAX, &next, err, sizeof(err)) ||
	    jsonh_get_int(j, "lost", 1, 0, INT64_MAX, &lost, err, sizeof(err)) ||
	    jsonh_get_int(j, "lost_first", 1, 0, INT64_MAX, &first, err, sizeof(err)) ||
	    jsonh_get_int(j, "lost_last", 1, 0, INT64_MAX, &last, err, sizeof(err)) ||
	    jsonh_get_int(j, "lost_total", 1, 0, INT64_MAX, &total, err, sizeof(err)) ||
	    !json_is_array(evs = json_object_get(j, "events")))
		return -1; /* another boot's, or damaged: start afresh */
	json_array_foreach(evs, i, e) {
		struct instr_event ev;
		if (instr_event_from_json(e, &ev, err, sizeof(err)))
			continue;
		if (ev.seq <= prev) {
			json_decref(ev.attrs);
			continue;
		}
		prev = ev.seq;
		/* Keep the seq it had: push numbers it, so set next_seq first. */
		ring->next_seq = ev.seq;
		instr_ring_push_ex(ring, ev.time, ev.type, ev.severity, ev.publisher, ev.attrs);
		n++;
	}
	if ((uint64_t)next > ring->next_seq)
		ring->next_seq = (uint64_t)next;
	/* A save bigger than this ring dropped its oldest on the way: count them too. */
	dropped = ring->lost;
	if (!dropped || lost)
		ring->lost_first = (uint64_t)first;
	if (!dropped)
		ring->lost_last = (uint64_t)last;
	ring->lost = (uint64_t)lost + dropped;
	ring->lost_total = (uint64_t)total + dropped;
	return n;
}
