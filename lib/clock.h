/*
 * Millisecond clocks, one copy for every program: monotonic time for
 * timers and deadlines (never jumps), realtime for what is shown or stored.
 */
#ifndef SNOW_CLOCK_H
#define SNOW_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_mono_ms(void);
/* CLOCK_MONOTONIC in microseconds. */
int64_t clock_mono_us(void);
/* CLOCK_REALTIME (Unix time) in milliseconds. */
int64_t clock_real_ms(void);
/* CLOCK_REALTIME in microseconds (request nonces). */
int64_t clock_real_us(void);

#endif
