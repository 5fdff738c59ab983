/*
 * snow-wdhold SECONDS [DEV]: /init's hold of the watchdog (docs/crash.md).
 *
 * Arms DEV (/dev/watchdog) with a timeout of SECONDS and, where the kernel
 * gives one, a pretimeout of a quarter of it (wdog_open, the agent's own
 * code), pats it once and never again: the node must reach its agent before
 * the timeout runs out.  busybox's watchdog cannot set a pretimeout, and
 * without one a hang in start-up is a bare reset that leaves no panic text;
 * with it the pretimeout governor (/init picks "panic") panics first.
 *
 * The parent returns once the device is armed and prints the holder's pid
 * on stdout; /init kills that pid with SIGKILL when the agent takes over (a
 * holder that never closes cleanly leaves the watchdog armed, and the kernel
 * pats it once as it lets go).  Exit status 1: not armed (message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/watchdog.h>

#include "wdog.h"

int main(int argc, char **argv)
{
	const char *dev = argc > 2 ? argv[2] : "/dev/watchdog";
	char err[256] = "", *end;
	int fd, pre = 0, tmo = 0, p[2];
	long s;
	pid_t pid;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: snow-wdhold SECONDS [DEVICE]\n");
		return 2;
	}
	errno = 0;
	s = strtol(argv[1], &end, 10);
	if (errno || *end || s < 1 || s > 65535) {
		fprintf(stderr, "snow-wdhold: SECONDS: '%s' is not 1..65535\n", argv[1]);
		return 2;
	}
	/* The child holds the device; the parent waits until it is armed. */
	if (pipe(p)) {
		perror("snow-wdhold: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("snow-wdhold: fork");
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		fd = wdog_open(dev, (int)s, err, sizeof(err));
		if (fd < 0) {
			fprintf(stderr, "snow-wdhold: %s\n", err);
			_exit(1);
		}
		if (err[0])
			fprintf(stderr, "snow-wdhold: %s\n", err);
		if (ioctl(fd, WDIOC_GETTIMEOUT, &tmo))
			tmo = (int)s;
		if (ioctl(fd, WDIOC_GETPRETIMEOUT, &pre))
			pre = 0;
		/*
		 * stdio goes nowhere from here: a holder keeping the caller's stdout
		 * open would hold `$(snow-wdhold ...)` forever.
		 */
		{
			int null = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (null >= 0) {
				dup2(null, 0);
				dup2(null, 1);
				dup2(null, 2);
				if (null > 2)
					close(null);
			} else {
				close(0);
				close(1);
				close(2);
			}
		}
		dprintf(p[1], "%d %d %d\n", (int)getpid(), tmo, pre);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	{
		char line[64] = "";
		ssize_t r = read(p[0], line, sizeof(line) - 1);
		int st;
		close(p[0]);
		if (r <= 0) {
			waitpid(pid, &st, 0);
			return 1;
		}
		line[r] = '\0';
		/* "PID TIMEOUT PRETIMEOUT" */
		fputs(line, stdout);
	}
	return 0;
}
