/* Register-window dispatch (the I/O windows of a region map, as a port
 * space): claims and overlaps, the size rules (split, widen, byte-wise for
 * unaccepted sizes), unclaimed accesses, straddles. */
#include "mem/region.h"
#include <errno.h>
#include "tests/tap.h"

struct regs {
	uint8_t b[16];
	unsigned calls, last_size;
};

static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
	struct regs *r = opaque;
	uint64_t v = 0;
	r->calls++;
	r->last_size = size;
	for (unsigned i = 0; i < size && off + i < 16; i++)
		v |= (uint64_t)r->b[off + i] << (8 * i);
	return v;
}

static void regs_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct regs *r = opaque;
	r->calls++;
	r->last_size = size;
	for (unsigned i = 0; i < size && off + i < 16; i++)
		r->b[off + i] = (uint8_t)(v >> (8 * i));
}

static const struct io_ops bytes_only = {
	regs_read, regs_write, IO_SIZE_1, IO_SIZE_1,
};
static const struct io_ops dword_impl = {
	regs_read, regs_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_4,
};
static const struct io_ops words_only = {
	regs_read, regs_write, IO_SIZE_2, IO_SIZE_2,
};

int main(void)
{
	struct tap t = {0};
	struct region_map s;
	struct regs a = {0}, b = {0}, c = {0};
	uint64_t v;

	if (region_map_init(&s, "port", 0x10000) < 0)
		return 1;
	tap_ok(&t, region_claim(&s, 0x20, 2, &bytes_only, &a, "a") == 0, "claim a");
	tap_ok(&t, region_claim(&s, 0x40, 8, &dword_impl, &b, "b") == 0, "claim b");
	tap_ok(&t, region_claim(&s, 0x10, 4, &words_only, &c, "c") == 0, "claim c before a");
	tap_ok(&t, region_claim(&s, 0x21, 1, &bytes_only, &a, "x") == -EBUSY,
	       "an overlapping claim is refused");
	tap_ok(&t, region_claim(&s, 0x3f, 2, &bytes_only, &a, "x") == -EBUSY,
	       "overlapping the start of a window is refused");
	tap_ok(&t, region_claim(&s, 0, 0, &bytes_only, &a, "x") == -EINVAL,
	       "an empty range is refused");

	region_write(&s, 0x20, 2, 0xbbaa);
	tap_ok(&t, a.b[0] == 0xaa && a.b[1] == 0xbb && a.last_size == 1,
	       "a word to a byte device becomes two byte cycles");
	b.calls = 0;
	region_write(&s, 0x41, 1, 0x5a);
	tap_ok(&t, b.b[1] == 0x5a && b.calls == 2 && b.last_size == 4,
	       "a byte to a dword-implemented window is read, merged, written");
	v = region_read(&s, 0x42, 2);
	tap_ok(&t, v == 0 && b.last_size == 4, "a word read is widened to a dword");
	region_write(&s, 0x40, 8, 0x1122334455667788ull);
	tap_ok(&t, b.b[0] == 0x88 && b.b[3] == 0x55 && b.b[4] == 0x44 &&
		       b.b[7] == 0x11 && b.last_size == 4,
	       "a qword the window does not accept goes byte by byte (each widened)");
	v = region_read(&s, 0x80, 4);
	tap_ok(&t, v == 0xffffffffu && s.unclaimed_reads == 1,
	       "an unclaimed read is all-ones at its width, counted once");
	region_write(&s, 0x80, 1, 0);
	tap_ok(&t, s.unclaimed_writes == 1, "unclaimed writes are counted");
	a.calls = 0;
	v = region_read(&s, 0x1f, 2);
	tap_ok(&t, v == 0xffff && a.calls == 0,
	       "a word read at an unclaimed port is ignored whole, not split onto "
	       "the next port's device (%#llx, %u calls)", (unsigned long long)v, a.calls);
	region_write(&s, 0x1e, 4, 0x11223344);
	tap_ok(&t, a.calls == 0 && a.b[0] == 0xaa && a.b[1] == 0xbb && s.unclaimed_writes == 2,
	       "so is a dword write (out dx, eax at 0xcf8 never reaches 0xcf9)");
	v = region_read(&s, 0x21, 2);
	tap_ok(&t, v == 0xffbb, "a read straddling out of a window: its byte, then all-ones (%#llx)",
	       (unsigned long long)v);
	c.calls = 0;
	v = region_read(&s, 0x10, 1);
	tap_ok(&t, v == 0xff && c.calls == 0,
	       "a byte read of a word-only window is unclaimed");
	tap_ok(&t, region_find(&s, 0x47) && !region_find(&s, 0x48), "find at the edges");
	region_map_destroy(&s);
	return tap_done(&t);
}
