/*
 * Readiness for systemd (Type=notify): the sd_notify protocol, one datagram
 * of "KEY=VALUE" lines to the unix socket named by $NOTIFY_SOCKET.
 *
 * Written here rather than linked from libsystemd: the protocol is one
 * sendto(), and the daemon then needs no library (nor its compression and
 * crypto dependencies) beyond what it already has, in its sanitizer builds too.
 */
#ifndef SNOW_NOTIFY_H
#define SNOW_NOTIFY_H

/*
 * Send state (e.g. "READY=1", "RELOADING=1", "STOPPING=1") when
 * $NOTIFY_SOCKET is set.  @ret 1 sent, 0 no socket to send to, or a negative
 * errno (a daemon logs it and carries on).
 */
int notify_send(const char *state);

#endif
