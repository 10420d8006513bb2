/* The host's monotonic clock in nanoseconds, for timeouts, spin limits
 * and the real-time mode's virtual clock. */
#ifndef V2E_LIB_CLOCK_H
#define V2E_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The same in seconds, for tools that time things for a person. */
static inline double mono_s(void)
{
	return (double)mono_ns() / 1e9;
}

#endif
