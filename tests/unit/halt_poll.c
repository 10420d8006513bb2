/* The halt-poll window's rule (vmm/halt_poll.h): how it opens, widens,
 * stops at its cap, holds when the poll caught the wake-up, and closes
 * for an idle guest's long halts. */
#include "vmm/halt_poll.h"

#include "tests/tap.h"

int main(void)
{
	struct tap t = {0};
	uint64_t w = 0;
	unsigned halts;

	w = halt_poll_window(0, 30000, false);
	tap_ok(&t, w == 0, "a short halt something else ended opens nothing");
	w = halt_poll_window(0, 30000, true);
	tap_ok(&t, w == HALT_POLL_START_NS, "a dm's answer 30 us after the halt opens it (%llu)",
	       (unsigned long long)w);
	w = halt_poll_window(w, 30000, true);
	w = halt_poll_window(w, 30000, true);
	tap_ok(&t, w == 4 * HALT_POLL_START_NS, "it doubles while it misses (%llu)",
	       (unsigned long long)w);
	tap_ok(&t, halt_poll_window(w, 30000, true) == w,
	       "a wake-up the poll caught keeps it");
	for (unsigned i = 0; i < 10; i++)
		w = halt_poll_window(w, HALT_POLL_MAX_NS - 1, true);
	tap_ok(&t, w == HALT_POLL_MAX_NS, "it stops at its cap (%llu)", (unsigned long long)w);
	tap_ok(&t, halt_poll_window(w, HALT_POLL_MAX_NS, true) == w,
	       "a halt as long as the cap, caught, keeps it");
	tap_ok(&t, halt_poll_window(w, 4000000, true) == w / 2,
	       "a dm's answer after the cap halves it");
	for (halts = 0; w && halts < 100; halts++)
		w = halt_poll_window(w, 4000000, false);
	tap_ok(&t, w == 0 && halts <= 5,
	       "an idle guest's 4 ms ticks close it within 5 halts (%u)", halts);
	return tap_done(&t);
}
