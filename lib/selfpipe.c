/* The self-pipe for signals: see selfpipe.h. */
#include "selfpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/*
 * Process-wide state, as log.c's prefix: a signal handler gets nothing but
 * the signal's number, so the pipe's write end must be where it can find
 * it.  Set before any handler is installed, -1 when none is open.
 */
static int selfpipe_wfd = -1;

static void selfpipe_on_signal(int sig)
{
	unsigned char c = (unsigned char)sig;
	int e = errno;

	if (write(selfpipe_wfd, &c, 1) < 0) {
		/* Full: the loop has a wake-up waiting already. */
	}
	errno = e;
}

int selfpipe_open(struct selfpipe *sp, const int *sigs, size_t nsigs, int flags)
{
	struct sigaction sa = { .sa_handler = selfpipe_on_signal };
	int fds[2], rc;
	size_t i;

	sp->rfd = sp->wfd = -1;
	sp->nsigs = 0;
	if (!nsigs || nsigs > sizeof(sp->sigs) / sizeof(sp->sigs[0]))
		return -EINVAL;
	for (i = 0; i < nsigs; i++)
		if (sigs[i] < 1 || sigs[i] > SELFPIPE_SIG_MAX || sigs[i] == SIGKILL ||
		    sigs[i] == SIGSTOP)
			return -EINVAL;
	if (selfpipe_wfd >= 0)
		return -EBUSY;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	selfpipe_wfd = fds[1];
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = (flags & SELFPIPE_RESTART) ? SA_RESTART : 0;
	for (i = 0; i < nsigs; i++) {
		if (sigaction(sigs[i], &sa, NULL)) {
			rc = -errno;
			goto err_handlers;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	sp->rfd = fds[0];
	sp->wfd = fds[1];
	memcpy(sp->sigs, sigs, nsigs * sizeof(*sigs));
	sp->nsigs = nsigs;
	return 0;

err_handlers:
	while (i-- > 0)
		signal(sigs[i], SIG_DFL);
	selfpipe_wfd = -1;
	close(fds[0]);
	close(fds[1]);
	return rc;
}

int selfpipe_next(struct selfpipe *sp)
{
	unsigned char c;
	ssize_t n;

	if (sp->rfd < 0)
		return 0;
	do
		n = read(sp->rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? c : 0;
}

int selfpipe_post(struct selfpipe *sp, int v)
{
	unsigned char c = (unsigned char)v;

	if (v < 1 || v > 255 || sp->wfd < 0)
		return -EINVAL;
	if (write(sp->wfd, &c, 1) == 1)
		return 0;
	return errno == EAGAIN ? -EAGAIN : -errno;
}

void selfpipe_close(struct selfpipe *sp)
{
	size_t i;

	if (sp->rfd < 0)
		return;
	/* Handlers first: none may write to a closed (or reused) descriptor. */
	for (i = 0; i < sp->nsigs; i++)
		signal(sp->sigs[i], SIG_DFL);
	selfpipe_wfd = -1;
	close(sp->rfd);
	close(sp->wfd);
	sp->rfd = sp->wfd = -1;
	sp->nsigs = 0;
}
