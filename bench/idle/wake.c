/* The host's own cost of an idle guest's timer: a thread that sleeps
 * and wakes HZ times a second and does nothing else, the floor under any
 * VMM's idle figure on this host (a wake-up's price depends on the
 * kernel and, under a hypervisor, on the host's host). Prints the share
 * of one core it used, from its own schedstat.
 *
 * usage: wake HZ SECONDS */
#define _GNU_SOURCE
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/clock.h"

static double run_ns(void)
{
	unsigned long long ns = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	if (!f || fscanf(f, "%llu", &ns) != 1) {
		fprintf(stderr, "wake: cannot read /proc/thread-self/schedstat\n");
		exit(1);
	}
	fclose(f);
	return (double)ns;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: wake HZ SECONDS\n");
		return 2;
	}
	double hz = atof(argv[1]), secs = atof(argv[2]);
	if (hz <= 0 || hz > 100000 || secs <= 0) {
		fprintf(stderr, "wake: HZ in (0, 100000], SECONDS > 0\n");
		return 2;
	}
	long period = (long)(1e9 / hz);
	/* The same sleep a halted vCPU takes: ppoll with a timeout. */
	struct timespec ts = {period / 1000000000, period % 1000000000};
	double t0 = mono_s(), c0 = run_ns();
	while (mono_s() - t0 < secs)
		ppoll(NULL, 0, &ts, NULL);
	printf("%.3f\n", 100.0 * (run_ns() - c0) / 1e9 / (mono_s() - t0));
	return 0;
}
