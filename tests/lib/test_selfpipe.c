/*
 * lib/selfpipe: a raised signal comes back from the pipe as its number, in
 * order, without blocking when none waits; posted values too; both ends are
 * close-on-exec and non-blocking; bad arguments and a second open are
 * refused and change nothing; close puts the default handling back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "selfpipe.h"

static void test_raise_read_back(void **state)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2, SIGHUP };
	struct selfpipe sp;
	struct pollfd p;

	assert_int_equal(selfpipe_open(&sp, sigs, 3, SELFPIPE_RESTART), 0);
	assert_true(sp.rfd >= 0);
	/* Nothing waits: no block, 0. */
	assert_int_equal(selfpipe_next(&sp), 0);
	p = (struct pollfd){ .fd = sp.rfd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);

	/* raise() runs the handler before it returns: the process lives and the number waits. */
	assert_int_equal(raise(SIGUSR2), 0);
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(selfpipe_next(&sp), SIGUSR2);
	assert_int_equal(selfpipe_next(&sp), SIGUSR1);
	assert_int_equal(selfpipe_next(&sp), SIGHUP);
	assert_int_equal(selfpipe_next(&sp), 0);

	/* A value of the program's own, as another thread would post it. */
	assert_int_equal(selfpipe_post(&sp, 'T'), 0);
	assert_int_equal(selfpipe_next(&sp), 'T');
	assert_true('T' > SELFPIPE_SIG_MAX);
	assert_int_equal(selfpipe_post(&sp, 0), -EINVAL);
	assert_int_equal(selfpipe_post(&sp, 256), -EINVAL);
	assert_int_equal(selfpipe_next(&sp), 0);

	/* Never inherited by a child, never blocking. */
	assert_true(fcntl(sp.rfd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(sp.wfd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(sp.rfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(sp.wfd, F_GETFL) & O_NONBLOCK);
	selfpipe_close(&sp);
	assert_int_equal(sp.rfd, -1);
	selfpipe_close(&sp); /* twice is harmless */
}

/* A burst that fills the pipe is dropped, not a hang in the handler. */
static void test_full_pipe(void **state)
{
	static const int sigs[] = { SIGUSR1 };
	struct selfpipe sp;
	size_t n = 0;
	int i;

	assert_int_equal(selfpipe_open(&sp, sigs, 1, 0), 0);
	while (selfpipe_post(&sp, SIGUSR1) == 0)
		n++;
	assert_true(n >= 4096);
	assert_int_equal(selfpipe_post(&sp, SIGUSR1), -EAGAIN);
	assert_int_equal(raise(SIGUSR1), 0); /* returns: the handler did not block */
	for (i = 0; (size_t)i < n; i++)
		assert_int_equal(selfpipe_next(&sp), SIGUSR1);
	assert_int_equal(selfpipe_next(&sp), 0);
	selfpipe_close(&sp);
}

static void test_refusals(void **state)
{
	static const int ok[] = { SIGUSR1 };
	static const int kill9[] = { SIGKILL };
	static const int bad[] = { 0 };
	static const int many[17] = { SIGUSR1 };
	struct sigaction sa;
	struct selfpipe sp, sp2;

	assert_int_equal(selfpipe_open(&sp, ok, 0, 0), -EINVAL);
	assert_int_equal(sp.rfd, -1);
	assert_int_equal(selfpipe_open(&sp, bad, 1, 0), -EINVAL);
	assert_int_equal(selfpipe_open(&sp, kill9, 1, 0), -EINVAL);
	assert_int_equal(selfpipe_open(&sp, many, 17, 0), -EINVAL);
	/* None of those touched SIGUSR1's handling. */
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_DFL);

	assert_int_equal(selfpipe_open(&sp, ok, 1, 0), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_not_equal(sa.sa_handler, SIG_DFL);
	assert_int_equal(sa.sa_flags & SA_RESTART, 0);
	/* One per process: the handler has one place to write. */
	assert_int_equal(selfpipe_open(&sp2, ok, 1, 0), -EBUSY);
	assert_int_equal(sp2.rfd, -1);
	selfpipe_close(&sp2); /* a refused one closes as nothing */
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(selfpipe_next(&sp), SIGUSR1);
	selfpipe_close(&sp);
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_DFL);
	/* Closed: it can be opened again. */
	assert_int_equal(selfpipe_open(&sp, ok, 1, SELFPIPE_RESTART), 0);
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_int_not_equal(sa.sa_flags & SA_RESTART, 0);
	selfpipe_close(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raise_read_back),
		cmocka_unit_test(test_full_pipe),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
