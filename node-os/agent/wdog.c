#include "wdog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int wdog_open(const char *dev, int timeout_s, char *err, size_t errlen)
{
	int fd, t = timeout_s, rc;

	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dev, strerror(errno));
		return rc;
	}
	/* A plain file (tests) takes no ioctl: it is still patted by writes. */
	if (ioctl(fd, WDIOC_SETTIMEOUT, &t) && errno != ENOTTY)
		snprintf(err, errlen, "%s: cannot set the timeout: %s", dev, strerror(errno));
	/*
	 * Two stages where the watchdog has a pretimeout (Linux 6.0 and later
	 * give every driver one in software): a quarter of the timeout before the
	 * reset, the pretimeout governor (/init picks "panic") panics, so a hang
	 * leaves its panic text with snowd by netconsole.  The agent pats every
	 * third of the timeout: the pretimeout fires only after two missed pats.
	 */
	{
		/*
		 * Not asked through WDIOC_GETSUPPORT: that reports the driver's own
		 * flags, and a pretimeout the core gives in software (i6300esb's) is
		 * not among them.  EOPNOTSUPP: no pretimeout at all; ENOTTY: a file.
		 */
		int pre = t / 4 > 0 ? t / 4 : 1;
		if (ioctl(fd, WDIOC_SETPRETIMEOUT, &pre) && errno != EOPNOTSUPP && errno != ENOTTY &&
		    errno != EINVAL)
			snprintf(err, errlen, "%s: cannot set the pretimeout: %s", dev, strerror(errno));
	}
	wdog_pat(fd);
	return fd;
}

void wdog_pat(int fd)
{
	if (fd < 0)
		return;
	/* Any write pats; the ioctl alone would not reach a plain file in tests. */
	if (write(fd, "\0", 1) != 1) {
		/* Nothing to do: the next pat tries again, and a hung node resets. */
	}
}

void wdog_close(int fd, int disarm)
{
	if (fd < 0)
		return;
	if (disarm && write(fd, "V", 1) != 1) {
		/* Not disarmed: the node will reset when the timeout runs out. */
	}
	close(fd);
}
