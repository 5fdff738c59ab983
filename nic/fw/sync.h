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
 *
 * nic_prefault() touches every page of a shared mapping once.  On this VM
 * the first touch of a page costs ~17 us (the hypervisor backs guest memory
 * lazily; MAP_POPULATE and MADV_POPULATE_WRITE do not avoid it), so a 64 KiB
 * copy into untouched memory took ~400 us instead of ~3: the calibration's
 * receive stage, which copies into receive buffers not used before, read it
 * as 2 ns per byte.  NIC memory on a real NIC is there when powered on.
 */
#ifndef SNOW_NIC_SYNC_H
#define SNOW_NIC_SYNC_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>
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

/*
 * Touch each 4 KiB page of p..p+len: write a zero when write (memory nobody
 * uses yet, e.g. a fresh memfd), else read it (memory another side may be
 * writing).
 */
static inline void nic_prefault(void *p, size_t len, int write)
{
	volatile uint8_t *b = p;
	size_t o;

	for (o = 0; o < len; o += 4096) {
		if (write)
			b[o] = 0;
		else
			(void)b[o];
	}
}

#endif
