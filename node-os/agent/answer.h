/*
 * The host's answer to a register or a report, as the agent reads it before
 * it applies anything (docs/protocol.md).  Reading touches no state: the
 * agent applies what agent_answer_read() kept (link.c), and the fuzz target
 * tests/fuzz/agent_answer.c reads answers through the same function.
 */
#ifndef SNOW_AGENT_ANSWER_H
#define SNOW_AGENT_ANSWER_H

#include <jansson.h>

enum agent_answer_kind {
	AGENT_ANSWER_REGISTER, /* rekey, interval_ms */
	AGENT_ANSWER_REPORT,   /* rekey, ack_events, commands */
};

/* What an answer asks of the agent; every field borrowed from the answer or plain. */
struct agent_answer {
	const char *rekey;    /* the node's new secret (64 lowercase hex digits), or NULL */
	json_int_t ack;       /* the highest event seq the host stored; 0: none */
	long interval_ms;     /* the report interval from now on; 0: unchanged */
	json_t *commands;     /* the commands, a JSON array borrowed from the answer, or NULL */
};

/*
 * Read reply (borrowed; NULL: an answer without JSON) as the answer to a
 * request of kind into a.  A malformed field is logged and left out (a
 * register answer's interval_ms; a rekey, ack_events or commands), the rest
 * is kept.  A command in a->commands is still to be parsed
 * (instr_cmd_parse(), by agent_command()).
 * @ret 0, or -EINVAL when a report's ack_events or commands was malformed.
 */
int agent_answer_read(json_t *reply, enum agent_answer_kind kind, struct agent_answer *a);

#endif
