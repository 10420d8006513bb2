/* The DMA contract: how a device reads and writes guest RAM. A device
 * never holds a pointer into guest RAM; it asks its `struct dma_space`,
 * which checks that every byte is RAM (an address the guest chose is
 * hostile input) and, in the vmm, tells the vCPU's decoded-code cache
 * about writes. In a device-model process the same calls go to the
 * guest RAM mapping handed over at setup, and writes are reported back to
 * the vmm so it can drop stale decoded code. */
#ifndef V2E_DEV_DMA_H
#define V2E_DEV_DMA_H

#include <stddef.h>
#include <stdint.h>

struct dma_space {
	/* 0, or -EFAULT when any byte of [gpa, gpa + n) is not guest RAM
	 * (nothing is copied then). */
	int (*read)(void *opaque, uint64_t gpa, void *buf, size_t n);
	int (*write)(void *opaque, uint64_t gpa, const void *buf, size_t n);
	void *opaque;
	/* [gpa, gpa + n) of RAM was written on the device's behalf by
	 * someone else (the block backend moving a disk read into guest RAM):
	 * decoded code there is stale. NULL: nothing to tell. */
	void (*wrote)(void *opaque, uint64_t gpa, uint64_t n);
};

static inline int dma_read(const struct dma_space *d, uint64_t gpa, void *buf,
			   size_t n)
{
	return d->read(d->opaque, gpa, buf, n);
}

static inline int dma_write(const struct dma_space *d, uint64_t gpa,
			    const void *buf, size_t n)
{
	return d->write(d->opaque, gpa, buf, n);
}

/* Call after the RAM at [gpa, gpa + n) changed behind the space's back. */
static inline void dma_wrote(const struct dma_space *d, uint64_t gpa, uint64_t n)
{
	if (d->wrote)
		d->wrote(d->opaque, gpa, n);
}

#endif
