/*
 * Fuzz target: the agent's saved black box (STATE_DIR/events.json) as a
 * restarted agent reads it back (node-os/agent/blackbox.c), into a small ring
 * so that a long save also overflows it.  Checks the ring it leaves: no more
 * than its capacity, seqs strictly increasing and below next_seq; and that
 * saving that ring the way hotrestart.c does and restoring it again gives the
 * same events.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blackbox.h"

#define FZ_BOOT "b"

static json_t *fz_save(const struct instr_ring *r)
{
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "boot_id", FZ_BOOT, "next_seq",
			 (json_int_t)r->next_seq, "lost", (json_int_t)r->lost, "lost_first",
			 (json_int_t)r->lost_first, "lost_last", (json_int_t)r->lost_last,
			 "lost_total", (json_int_t)r->lost_total, "events",
			 instr_ring_json(r, r->cap));
}

static void fz_check(const struct instr_ring *r)
{
	uint64_t prev = 0;
	size_t i;

	if (r->len > r->cap)
		abort();
	for (i = 0; i < r->len; i++) {
		const struct instr_event *e = instr_ring_at(r, i);
		if (!e || e->seq <= prev || e->seq >= r->next_seq || !json_is_object(e->attrs))
			abort();
		prev = e->seq;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct instr_ring r, again;
	json_t *j, *saved;
	size_t i;
	int n;

	if (size > 1 << 16)
		return 0;
	j = json_loadb((const char *)data, size, 0, NULL);
	if (!j)
		return 0;
	if (instr_ring_init(&r, 8)) {
		json_decref(j);
		return 0;
	}
	n = blackbox_restore(&r, FZ_BOOT, j);
	json_decref(j);
	if (n < -1 || (n < 0 && r.len))
		abort();
	fz_check(&r);
	if (n >= 0 && r.next_seq <= INT64_MAX && !instr_ring_init(&again, 8)) {
		saved = fz_save(&r);
		if (saved && blackbox_restore(&again, FZ_BOOT, saved) < 0)
			abort();
		json_decref(saved);
		if (saved) {
			if (again.len != r.len || again.next_seq != r.next_seq)
				abort();
			for (i = 0; i < r.len; i++)
				if (instr_ring_at(&again, i)->seq != instr_ring_at(&r, i)->seq)
					abort();
		}
		instr_ring_free(&again);
	}
	instr_ring_ack(&r, r.next_seq ? r.next_seq - 1 : 0, 0);
	fz_check(&r);
	instr_ring_free(&r);
	return 0;
}
