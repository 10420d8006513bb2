/* What the kernel loaders (multiboot.c, linux_boot.c) share: little-endian
 * fields of an image, a one-line error into the caller's buffer, and
 * copies into guest RAM that fail with a reason instead of reaching
 * outside it. */
#ifndef V2E_VMM_LOADER_H
#define V2E_VMM_LOADER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/state.h"
#include "mem/guest_mem.h"

static inline uint16_t ld_rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t ld_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t ld_rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline void ld_wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void ld_wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void ld_wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Flat 4 GiB 32-bit segments, as both boot protocols hand over: CS with
 * selector `cs`, every data segment with `ds`. */
static inline void ld_flat_segments(struct x86_state *s, uint16_t cs, uint16_t ds)
{
	for (int i = 0; i < S_NR; i++) {
		s->seg[i].base = 0;
		s->seg[i].limit = 0xffffffff;
		s->seg[i].selector = ds;
		s->seg[i].ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_WRITABLE |
			       AR_TYPE_ACCESSED;
	}
	s->seg[S_CS].selector = cs;
	s->seg[S_CS].ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_CODE |
			  AR_TYPE_READABLE | AR_TYPE_ACCESSED;
}

/* Formats the reason into err[n] and returns `code`. */
int ld_fail(char *err, size_t n, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Copies n bytes to guest-physical paddr; -EFAULT with a reason naming
 * `what` unless every byte is RAM. */
int ld_copy_in(const struct guest_mem *gm, uint64_t paddr, const void *src,
	       uint64_t n, char *err, size_t errlen, const char *what);

#endif
