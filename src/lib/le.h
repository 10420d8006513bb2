/* Little-endian fields in byte buffers (firmware tables, device
 * registers), written without caring for the host's alignment, and the
 * 8-bit checksum firmware tables use (ACPI, SMBIOS). */
#ifndef V2E_LIB_LE_H
#define V2E_LIB_LE_H

#include <stddef.h>
#include <stdint.h>

static inline void le_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
	le_put16(p, (uint16_t)v);
	le_put16(p + 2, (uint16_t)(v >> 16));
}

static inline void le_put64(uint8_t *p, uint64_t v)
{
	le_put32(p, (uint32_t)v);
	le_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t le_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The byte that makes the n bytes at p sum to zero with it. */
static inline uint8_t table_checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;
	while (n--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

#endif
