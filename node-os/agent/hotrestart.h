/*
 * Hot restart (ChorusOS): what snow-agent keeps in its state folder so that
 * an agent restarted within the same boot loses nothing: the black box
 * (events.json, blackbox.h) and the rest of its state (agent.json,
 * persist.h), written atomically, read back and checked at start.  A file
 * that cannot be read is reported and ignored; a write that fails is
 * reported once per outage.  docs/agent.md, "Hot restart".
 */
#ifndef SNOW_NODE_HOTRESTART_H
#define SNOW_NODE_HOTRESTART_H

#include <stddef.h>

#include "agent.h"
#include "persist.h"

/* Has the agent a state folder (state_dir set and not "")? */
int agent_has_state_dir(const struct agent_state *st);

/* Save what changed since the last save (events.json, agent.json); failures reported once. */
void agent_state_save(struct agent_state *st);

/* A state file that cannot be used: a log line and an agent.state event. */
void agent_state_bad(struct agent_state *st, const char *file, const char *err);

/*
 * Take back the black box of this boot.  @ret events restored, or -1 when
 * there is none of this boot; bad gets the reason when the file is damaged
 * ("" otherwise).
 */
int agent_events_load(struct agent_state *st, char *bad, size_t badlen);

/*
 * Take back agent.json before the first sample (p zeroed by the caller,
 * released with persist_free() after agent_state_merge()).  @ret 1
 * restored, 0 none (no file, another boot's), -1 bad (reported).
 */
int agent_state_load(struct agent_state *st, struct persist_state *p);

/* Watermarks and counter bases of p into the tree, after the first sample. */
void agent_state_merge(struct agent_state *st, const struct persist_state *p);

#endif
