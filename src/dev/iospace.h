/* An address space of register windows: the I/O port space or the MMIO
 * space, in the vmm (platform core, routing to ioreq servers) and in a
 * device model (its own devices). Windows are claimed once, never
 * overlap, and dispatch applies the io_ops size rules of device.h. */
#ifndef V2E_DEV_IOSPACE_H
#define V2E_DEV_IOSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "lib/compiler.h"

struct io_window {
	uint64_t base, len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

struct iospace {
	const char *name;      /* "port" or "mmio", for messages */
	struct io_window *win; /* sorted by base */
	size_t n, cap;
	uint64_t unclaimed_reads, unclaimed_writes;
};

void iospace_init(struct iospace *s, const char *name);
void iospace_destroy(struct iospace *s);

/* Claims [base, base + len). Returns 0, -EBUSY if it overlaps a window
 * already claimed (after printing which), -EINVAL for an empty or
 * wrapping range, -ENOMEM. */
int iospace_claim(struct iospace *s, uint64_t base, uint64_t len,
		  const struct io_ops *ops, void *opaque,
		  const char *name) must_check;

/* The window holding `addr`, or NULL. */
const struct io_window *iospace_find(const struct iospace *s, uint64_t addr);

/* A guest access of 1, 2, 4 or 8 bytes. An access whose first byte no
 * window holds is unclaimed whole: it reads all-ones at its width, a
 * write is dropped, and it is counted once; it never reaches a window
 * that holds one of its other bytes. An access that starts in a window
 * but straddles out of it, or uses a size the window does not accept, is
 * handled byte by byte (unclaimed bytes as above). */
uint64_t iospace_read(struct iospace *s, uint64_t addr, unsigned size);
void iospace_write(struct iospace *s, uint64_t addr, unsigned size,
		   uint64_t value);

#endif
