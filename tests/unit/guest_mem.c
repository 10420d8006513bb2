/* Guest RAM layout: the VGA hole, the PCI hole, RAM above 4 GiB, range
 * checks on every pointer handed out, and the memfd's fixed size. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tests/tap.h"
#include "mem/guest_mem.h"

int main(void)
{
	struct tap t = {0};
	struct guest_mem gm;
	struct gm_range r[4];
	uint8_t buf[8192];
	size_t n;

	tap_ok(&t, guest_mem_create(&gm, 4095) == -EINVAL, "size must be whole pages");
	tap_ok(&t, guest_mem_create(&gm, 64ull << 20) == 0, "64 MiB");
	tap_ok(&t, guest_mem_offset(&gm, 0x9ffff) == 0x9ffff &&
		       guest_mem_offset(&gm, 0xa0000) < 0 &&
		       guest_mem_offset(&gm, 0xbffff) < 0 &&
		       guest_mem_offset(&gm, 0xc0000) == 0xc0000,
	       "the VGA window is not RAM");
	tap_ok(&t, guest_mem_offset(&gm, (64ull << 20) - 1) >= 0 &&
		       guest_mem_offset(&gm, 64ull << 20) < 0,
	       "RAM ends at its size");
	tap_ok(&t, guest_mem_ptr(&gm, 0x9f000, 0x2000) == NULL,
	       "a range into the VGA hole is refused");
	tap_ok(&t, guest_mem_ptr(&gm, ~0ull - 4, 16) == NULL, "a wrapping range is refused");
	tap_ok(&t, guest_mem_write(&gm, 0x1000, "hello", 5) == 0 &&
		       guest_mem_read(&gm, 0x1000, buf, 5) == 0 && !memcmp(buf, "hello", 5),
	       "write then read back");
	tap_ok(&t, guest_mem_write(&gm, 0x9f000, buf, sizeof(buf)) == -EFAULT,
	       "a copy across the hole fails");
	n = guest_mem_ranges(&gm, r, 4);
	tap_ok(&t, n == 2 && r[0].len == 0xa0000 && r[1].start == 0xc0000 &&
		       r[1].start + r[1].len == 64ull << 20,
	       "two RAM ranges below 4 GiB");
	tap_ok(&t, ftruncate(gm.fd, 4096) < 0, "the memfd cannot be shrunk (sealed)");
	guest_mem_destroy(&gm);

	tap_ok(&t, guest_mem_create(&gm, 0x100000000ull) == 0, "4 GiB (sparse)");
	tap_ok(&t, gm.low_end == GM_PCI_HOLE &&
		       guest_mem_offset(&gm, GM_PCI_HOLE) < 0 &&
		       guest_mem_offset(&gm, GM_4G) == (int64_t)GM_PCI_HOLE &&
		       guest_mem_offset(&gm, GM_4G + (GM_4G - GM_PCI_HOLE) - 1) ==
			       (int64_t)(0x100000000ull - 1) &&
		       guest_mem_offset(&gm, GM_4G + (GM_4G - GM_PCI_HOLE)) < 0,
	       "RAM above the PCI hole continues at 4 GiB");
	n = guest_mem_ranges(&gm, r, 4);
	tap_ok(&t, n == 3 && r[2].start == GM_4G && r[2].len == GM_4G - GM_PCI_HOLE,
	       "three ranges with RAM above 4 GiB");
	guest_mem_destroy(&gm);
	return tap_done(&t);
}
