/* Guest RAM: one memfd shared by the vmm and every device model
 * (DESIGN.md), laid out the way a PC's chipset shows it: RAM below the
 * legacy VGA window at 640 KiB, the 0xC0000-0xFFFFF area as RAM (the
 * firmware shadows itself there), RAM up to the PCI hole below 4 GiB, and
 * the rest above 4 GiB. Nothing else (MMIO, the hole) is RAM. */
#ifndef V2E_MEM_GUEST_MEM_H
#define V2E_MEM_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

#define GM_VGA_START 0xa0000ull
#define GM_VGA_END 0xc0000ull
#define GM_PCI_HOLE 0xe0000000ull /* RAM below 4 GiB ends here */
#define GM_4G 0x100000000ull

struct guest_mem {
	int fd;            /* the memfd, handed to device models */
	uint8_t *host;     /* the whole memfd mapped in this process */
	uint64_t size;     /* bytes of RAM */
	uint64_t low_end;  /* guest-physical end of RAM below 4 GiB */
};

/* Creates `size` bytes of RAM (a multiple of 4 KiB). 0 or -errno. */
int guest_mem_create(struct guest_mem *gm, uint64_t size) must_check;
/* A device model's view of the same RAM: maps the memfd it was handed
 * (takes ownership of fd). 0, -EPROTO when the fd is not a sealed memfd
 * of `size` bytes, or -errno. */
int guest_mem_attach(struct guest_mem *gm, int fd, uint64_t size) must_check;
void guest_mem_destroy(struct guest_mem *gm);

/* Offset in the memfd of a guest-physical address, or -1 when the address
 * is not RAM. */
int64_t guest_mem_offset(const struct guest_mem *gm, uint64_t paddr);

/* Host address of `len` bytes of RAM at `paddr`, or NULL unless the whole
 * range is RAM in one piece. Every DMA-like access from a device model or
 * a loader goes through this check. */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t paddr, uint64_t len);

/* Copies into / out of guest RAM; -EFAULT if any byte is not RAM. */
int guest_mem_write(const struct guest_mem *gm, uint64_t paddr,
		    const void *src, uint64_t len) must_check;
int guest_mem_read(const struct guest_mem *gm, uint64_t paddr, void *dst,
		   uint64_t len) must_check;

/* The RAM ranges, as an e820-style list for loaders and firmware tables:
 * returns how many entries it wrote (at most max). */
struct gm_range {
	uint64_t start, len;
};
size_t guest_mem_ranges(const struct guest_mem *gm, struct gm_range *out,
			size_t max);

#endif
