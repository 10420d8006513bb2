/* Guest RAM for the device tests' DMA spaces (dev/dma.h): `size` bytes
 * at `mem`; an access not wholly inside is refused with -EFAULT, as the
 * vmm's is, and counted, so a test can tell a device asked for it. */
#ifndef V2E_TESTS_DEV_TEST_RAM_H
#define V2E_TESTS_DEV_TEST_RAM_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "dev/dma.h"

struct test_ram {
	uint8_t *mem;
	uint64_t size;
	unsigned refused;
};

static inline int test_ram_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct test_ram *r = opaque;
	if (gpa >= r->size || n > r->size - gpa) {
		r->refused++;
		return -EFAULT;
	}
	memcpy(buf, r->mem + gpa, n);
	return 0;
}

static inline int test_ram_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct test_ram *r = opaque;
	if (gpa >= r->size || n > r->size - gpa) {
		r->refused++;
		return -EFAULT;
	}
	memcpy(r->mem + gpa, buf, n);
	return 0;
}

#endif
