/* The device contract (STYLE.md, principles 2 and 3): a device is
 * callbacks on an address range with the access sizes it accepts, and an
 * interrupt line is an object it raises and lowers. The same device code
 * runs in the vmm (platform core), in a device-model process behind an
 * ioreq server, or called directly (in-process transport): it never knows
 * which. */
#ifndef V2E_DEV_DEVICE_H
#define V2E_DEV_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

/* Access sizes as a bit mask: bit n set = 2^n bytes allowed. */
#define IO_SIZE_1 0x1
#define IO_SIZE_2 0x2
#define IO_SIZE_4 0x4
#define IO_SIZE_8 0x8

static inline uint64_t size_mask_bytes(unsigned size)
{
	return size >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (size * 8)) - 1;
}

/* One register window (I/O ports or MMIO). `offset` is relative to the
 * window's base. The dispatcher (mem/region.c), not the device, splits a
 * guest access wider than `impl_sizes` into narrower ones and widens a
 * narrower one, so callbacks only ever see sizes they implement. An access
 * whose size is not in `valid_sizes` is split into byte accesses when
 * bytes are valid (as the ISA bus does for 8-bit devices), and otherwise
 * answered as unclaimed (reads all-ones, writes dropped). */
struct io_ops {
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, unsigned size,
		      uint64_t value);
	uint8_t valid_sizes;
	uint8_t impl_sizes;
	/* Optional: REP INS (in) or REP OUTS of `count` elements of `size`
	 * bytes between the window at `offset` and guest RAM at `paddr` (one
	 * page, downwards when `down`) as one transfer, for a window behind
	 * which a round trip is dear (a device model's). Returns the elements
	 * done; 0 leaves every element to read/write. */
	uint32_t (*string)(void *opaque, uint64_t offset, unsigned size, bool in,
			   uint64_t paddr, uint32_t count, bool down);
	/* Optional: whether a byte read at `offset` would now change nothing
	 * (no interrupt acknowledged, no data consumed, no dependence on the
	 * clock), and if so the byte in *value. A device model publishes
	 * such bytes, so that the vmm answers those reads without a round
	 * trip (ioreq.h, "Published reads"). */
	bool (*peek)(void *opaque, uint64_t offset, uint8_t *value);
	/* Optional: whether a byte write at `offset` of a b with
	 * (b & *mask) == *value would change what a read returns (or does:
	 * an interrupt acknowledged) at no other port of the device model,
	 * now and after other such writes or the device's own changes
	 * meanwhile (a completion), and leave this answer for every port as
	 * it is. The vmm
	 * answers published reads of other ports while such a write is
	 * still on its way to the device model (ioreq.h, "Published
	 * reads"). */
	bool (*quiet)(void *opaque, uint64_t offset, uint8_t *mask, uint8_t *value);
};

/* An interrupt line: a device drives its level; whoever wired the board
 * decides what listens (a PIC pin, an IOAPIC pin, the CPU's INTR input,
 * or an ioreq message to the vmm). Edge-triggered inputs see a rising
 * edge as a raise after a lower. */
struct irq_line {
	void (*set_level)(void *opaque, unsigned pin, bool level);
	void *opaque;
	unsigned pin;
};

static inline void irq_set(const struct irq_line *l, bool level)
{
	if (l->set_level)
		l->set_level(l->opaque, l->pin, level);
}

static inline void irq_raise(const struct irq_line *l)
{
	irq_set(l, true);
}

static inline void irq_lower(const struct irq_line *l)
{
	irq_set(l, false);
}

/* A pulse: what an edge-triggered source such as the PIT's OUT in mode 2
 * looks like to a listener that only sees levels. */
static inline void irq_pulse(const struct irq_line *l)
{
	irq_set(l, true);
	irq_set(l, false);
}

#endif
