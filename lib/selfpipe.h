/*
 * Signals into a program's own poll loop, the self-pipe way (as dnsmasq):
 * the handler only writes the signal's number to a non-blocking pipe, and
 * the loop, woken by the pipe's read end, reads the numbers back and does
 * the work outside signal context.  One per process (a handler can reach
 * nothing but a static), for the daemon's main thread.
 *
 *   static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
 *   struct selfpipe sp;
 *   if (selfpipe_open(&sp, sigs, 3, SELFPIPE_RESTART))
 *           fatal(...);
 *   ... poll sp.rfd (or epoll it, or net-snmp's register_readfd) for input ...
 *   while ((sig = selfpipe_next(&sp)) > 0)
 *           switch (sig) { case SIGHUP: reload(); break; default: quit = 1; }
 *   ...
 *   selfpipe_close(&sp);
 *
 * Both ends are O_CLOEXEC and O_NONBLOCK: a child does not inherit them, a
 * burst of signals that fills the pipe is not a hang (the loop has a wake-up
 * pending anyway; repeats of one signal may be folded), and reading an
 * empty pipe returns at once.  selfpipe_open() also ignores SIGPIPE, as
 * every program here wants (a write to a closed socket is an EPIPE, not a
 * death).
 */
#ifndef SNOW_SELFPIPE_H
#define SNOW_SELFPIPE_H

#include <stddef.h>

/* Flags of selfpipe_open(). */
#define SELFPIPE_RESTART 1 /* SA_RESTART: interrupted system calls resume instead of EINTR */

/* Values above this are the program's own (selfpipe_post()), never a signal. */
#define SELFPIPE_SIG_MAX 64

struct selfpipe {
	int rfd;            /* poll this for POLLIN (EPOLLIN); -1 when closed */
	int wfd;            /* what the handler writes to */
	int sigs[16];       /* the signals given to selfpipe_open(), restored by close */
	size_t nsigs;
};

/*
 * Create the pipe and install a handler for each of the nsigs signals in
 * sigs (at most 16, each 1..SELFPIPE_SIG_MAX; SIGKILL and SIGSTOP cannot
 * be caught).  flags: 0 or SELFPIPE_RESTART.  @ret 0; -EINVAL (no signals,
 * too many, or one out of range), -EBUSY (one is open already in this
 * process), or -errno of pipe2()/sigaction(), and then nothing changed.
 */
int selfpipe_open(struct selfpipe *sp, const int *sigs, size_t nsigs, int flags);

/*
 * The next number waiting, oldest first: a signal, or a selfpipe_post()
 * value.  Never blocks.  @ret it (1..255), or 0 when none is waiting.
 */
int selfpipe_next(struct selfpipe *sp);

/*
 * Wake the loop as a signal would, with value v (1..255), from any thread;
 * a value above SELFPIPE_SIG_MAX tells the loop it is not a signal (e.g.
 * "a worker finished").  @ret 0, -EINVAL, or -EAGAIN (the pipe is full: a
 * wake-up is pending anyway).
 */
int selfpipe_post(struct selfpipe *sp, int v);

/* Put the signals' default handling back and close the pipe (safe twice). */
void selfpipe_close(struct selfpipe *sp);

#endif
