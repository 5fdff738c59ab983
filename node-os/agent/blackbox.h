/*
 * The black box across agent restarts: /init restarts a dead agent within
 * the same boot, and the new one goes on from the events the old one saved
 * (STATE_DIR/events.json, written by hotrestart.c) with the same seq numbers, so
 * snowd sees neither a gap nor a repeat.  The file is read back here, and
 * everything in it is checked before the ring is touched.
 */
#ifndef SNOW_NODE_BLACKBOX_H
#define SNOW_NODE_BLACKBOX_H

#include <jansson.h>

#include "instr.h"

/*
 * Restore into ring (initialised and empty) the saved state j (borrowed):
 * {boot_id, next_seq, lost, lost_first, lost_last, lost_total, events:
 * [{seq, time, type, attrs}]}.  Only a save of boot_id is taken; events that
 * do not parse or whose seq is not above the one before are skipped (the ring
 * acknowledges by seq, oldest first).  @ret the number of events restored,
 * or -1 (ring untouched) when j is another boot's or its header is damaged.
 */
int blackbox_restore(struct instr_ring *ring, const char *boot_id, json_t *j);

#endif
