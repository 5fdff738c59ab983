/*
 * The hardware watchdog (Linux /dev/watchdog; QEMU's i6300esb): the agent
 * pats it from its loop, so a node whose agent hangs resets itself.  A clean
 * stop disarms it with the magic close ('V' then close), which drivers
 * without nowayout honour.
 */
#ifndef SNOW_NODE_WDOG_H
#define SNOW_NODE_WDOG_H

#include <stddef.h>

/*
 * Open dev and set its timeout (seconds; a driver that cannot keeps its
 * own) and, where the driver has one, a pretimeout of a quarter of it.
 * @ret the fd, or -errno with err filled.
 */
int wdog_open(const char *dev, int timeout_s, char *err, size_t errlen);

/* Reset the countdown; fd < 0 does nothing. */
void wdog_pat(int fd);

/* Close fd; with disarm, magic close first so the countdown stops. */
void wdog_close(int fd, int disarm);

#endif
