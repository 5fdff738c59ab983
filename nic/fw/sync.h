/*
 * What both sides of the shared NIC memory use to wait for each other: the
 * futex call on a word of the register block, and the monotonic clock for
 * spin-then-sleep timing.  The emulated NIC (nic/hal) and the host library
 * (nic/lib) include it.
 *
 * nic_mono_ns() is not lib/clock.h's on purpose: libsnownic.a is the
 * library applications link alone (without libsnow.a), and spin-then-sleep
 * waits are timed in nanoseconds, finer than lib/clock's milliseconds and
 * microseconds.
 */
#ifndef SNOW_NIC_SYNC_H
#define SNOW_NIC_SYNC_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline long nic_futex(_Atomic uint32_t *addr, int op, uint32_t val,
			     const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static inline uint64_t nic_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
