/*
 * Commands for nodes, as the API takes them: the op names and the shape of
 * each op's args (docs/protocol.md, "Commands").  Checked here, once, before
 * anything is queued, so a malformed command never reaches a node.  The
 * agent's ops are checked by the agent's own rules (lib/instr.h,
 * instr_cmd_rules[]): what an agent would refuse, the API refuses.  The
 * host-only ops (power.on, power.off, power.cycle, power.status) are rules
 * of this file, checked the same way.
 */
#ifndef SNOW_CMD_H
#define SNOW_CMD_H

#include <jansson.h>
#include <stddef.h>

/*
 * Check op and args (borrowed; NULL for a command without any).
 * @ret 0, or -EINVAL with err naming the field ("op: ...", "args.rise: ...").
 */
int cmd_check(const char *op, json_t *args, char *err, size_t errlen);

#endif
