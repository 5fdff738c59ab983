/*
 * What snowd takes from a Redfish service's answers (the BMC is outside
 * input): the first member of a collection, a ComputerSystem's PowerState and
 * Reset action, an ActionInfo's allowed reset types, the message of an error
 * answer, and the session token header.  Parsed here, once, into fixed-size
 * fields; nothing else in snowd reads a BMC's JSON.  No I/O: the driver
 * (power_redfish.c) fetches, this reads.
 */
#ifndef SNOW_REDFISH_H
#define SNOW_REDFISH_H

#include <stddef.h>
#include <stdint.h>

#include "bmcp.h"

/* Reset types Snow asks for, as a bit each in allowed masks. */
enum redfish_reset {
	REDFISH_ON = 0,
	REDFISH_FORCE_OFF,
	REDFISH_GRACEFUL_SHUTDOWN,
	REDFISH_FORCE_RESTART,
	REDFISH_POWER_CYCLE,
	REDFISH_NRESET
};

/* Longest resource path kept (a BMC's @odata.id or action target). */
#define REDFISH_PATH_MAX 256
/* Longest session token kept. */
#define REDFISH_TOKEN_MAX 512

struct redfish_system {
	char power_state[16];                /* On, Off, PoweringOn, PoweringOff; "" unknown */
	char reset_target[REDFISH_PATH_MAX]; /* the Reset action's target; "" none */
	char action_info[REDFISH_PATH_MAX];  /* its @Redfish.ActionInfo; "" none */
	unsigned allowed;                    /* 1 << redfish_reset each allowed; 0: not said */
};

/* @ret the Redfish name of a reset type ("On", "ForceOff", ...). */
const char *redfish_reset_name(enum redfish_reset r);
/* @ret the reset type named s, or -1. */
int redfish_reset_parse(const char *s);

/*
 * Whether p is a path snowd may send to a BMC: starts /redfish/v1, printable
 * ASCII without spaces, quotes, '\', '?', '#' or "..", shorter than
 * REDFISH_PATH_MAX.  @ret 1 or 0.
 */
int redfish_path_ok(const char *p);

/*
 * The @odata.id of a collection's first member (Members[0]) into first.
 * @ret 0, or -EPROTO with err naming what was wrong (not JSON, no members,
 * a path that is not one).
 */
int redfish_parse_first_member(const char *body, size_t len, char *first, size_t cap, char *err,
			       size_t errlen);

/*
 * A ComputerSystem: PowerState and the #ComputerSystem.Reset action (target,
 * inline ResetType@Redfish.AllowableValues, @Redfish.ActionInfo).  @ret 0,
 * or -EPROTO with err (not a JSON object, a PowerState that is not a known
 * state, a target that is not a path).
 */
int redfish_parse_system(const char *body, size_t len, struct redfish_system *s, char *err,
			 size_t errlen);

/*
 * An ActionInfo: the AllowableValues of its ResetType parameter as a mask
 * into *allowed.  @ret 0, or -EPROTO with err.
 */
int redfish_parse_action_info(const char *body, size_t len, unsigned *allowed, char *err,
			      size_t errlen);

/*
 * The message of a Redfish error answer (error.@Message.ExtendedInfo[0].Message,
 * else error.message) into msg, bytes outside printable ASCII replaced; "" when the
 * body says none.  Never fails.
 */
void redfish_error_message(const char *body, size_t len, char *msg, size_t cap);

/*
 * A response header line: when it is `X-Auth-Token: VALUE` (any case), the
 * value into token.  @ret 1 taken, 0 another header, -EPROTO a token that is
 * empty, too long or not visible ASCII.
 */
int redfish_header_token(const char *line, size_t len, char *token, size_t cap);

/*
 * A Chassis' Thermal resource: Temperatures[] (ReadingCelsius) as
 * bmc.temp.*, Fans[] (Reading, ReadingUnits RPM or Percent) as bmc.fan.*,
 * added to p; members without a number are skipped.  @ret 0, or -EPROTO
 * with err (not a JSON object, an array that is not one).
 */
int redfish_parse_thermal(const char *body, size_t len, struct bmcp_poll *p, char *err,
			  size_t errlen);

/*
 * A Chassis' Power resource: PowerControl[].PowerConsumedWatts as
 * bmc.power.*, Voltages[].ReadingVolts as bmc.volt.*,
 * PowerSupplies[].PowerInputWatts as bmc.power.*.  @ret 0 or -EPROTO with err.
 */
int redfish_parse_power(const char *body, size_t len, struct bmcp_poll *p, char *err,
			size_t errlen);

/*
 * A LogEntry collection: each member's Id (a decimal number: others are
 * skipped), Created (ISO 8601, the BMC's time), Severity and Message into
 * p's entries.  @ret 0 or -EPROTO with err (not an object, Members not an
 * array).
 */
int redfish_parse_log_entries(const char *body, size_t len, struct bmcp_poll *p, char *err,
			      size_t errlen);

/*
 * "2026-12-06T00:10:00Z", with "+HH:MM"/"-HH:MM" or fractions of a second.
 * @ret Unix seconds, or 0 when s is not such a time.
 */
int64_t redfish_time(const char *s);

#endif
