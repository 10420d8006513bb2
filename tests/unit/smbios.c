/* The SMBIOS tables: a well-formed entry point, structures that walk to
 * the end marker with their strings, and the values guests read. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "tests/tap.h"
#include "vmm/smbios.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* String number k (1-based) of the structure at p, or NULL. */
static const char *string_of(const uint8_t *p, const uint8_t *end, unsigned k)
{
	const char *s = (const char *)p + p[1];
	while (k-- > 1 && (const uint8_t *)s < end) {
		s += strlen(s) + 1;
		if (!*s)
			return NULL;
	}
	return (const uint8_t *)s < end ? s : NULL;
}

int main(void)
{
	struct tap t = {0};
	static struct smbios_blobs b;
	struct smbios_config c = {.ram_bytes = 6ull << 30, .ram_below_4g = 0xe0000000,
				  .version = "test-1"};
	const uint8_t *p, *end;
	unsigned count = 0, types[32], n_types = 0;
	size_t max = 0;
	bool walk_ok = true;
	struct guest_mem gm;

	tap_ok(&t, smbios_build(&c, &b) == 0, "the tables build");
	tap_ok(&t, !memcmp(b.anchor, "_SM_", 4) && b.anchor[5] == 31 && b.anchor[6] == 2 &&
		       b.anchor[7] == 8 && !memcmp(b.anchor + 16, "_DMI_", 5) &&
		       sum(b.anchor, 31) == 0 && sum(b.anchor + 16, 15) == 0,
	       "a 2.8 entry point with both checksums right");
	p = b.tables;
	end = b.tables + b.tables_len;
	while (p < end && walk_ok) {
		const uint8_t *q = p + p[1];
		size_t len;
		if (p[1] < 4 || q + 1 >= end) {
			walk_ok = false;
			break;
		}
		if (n_types < 32)
			types[n_types++] = p[0];
		while (q + 1 < end && (q[0] || q[1]))
			q++;
		q += 2;
		len = (size_t)(q - p);
		if (len > max)
			max = len;
		count++;
		if (p[0] == 127) {
			walk_ok = q == end;
			break;
		}
		p = q;
	}
	tap_ok(&t, walk_ok && count == (unsigned)(b.anchor[28] | b.anchor[29] << 8) &&
		       b.tables_len == (size_t)(b.anchor[22] | b.anchor[23] << 8) &&
		       max == (size_t)(b.anchor[8] | b.anchor[9] << 8),
	       "%u structures walk to the end marker; count, length, largest agree", count);
	tap_ok(&t, n_types == 9 && types[8] == 127 && types[0] == 1 && types[1] == 3 && types[2] == 4 &&
		       types[3] == 16 && types[4] == 17 && types[5] == 19 && types[6] == 19 &&
		       types[7] == 32,
	       "types 1, 3, 4, 16, 17, 19 (below and above 4 GiB), 32, 127; no 0 for firmware to add");
	p = b.tables;
	tap_ok(&t, string_of(p, end, p[4]) && !strcmp(string_of(p, end, p[4]), "v2e") &&
		       !strcmp(string_of(p, end, p[5]), "Standard PC (i440FX + PIIX, 1996)") &&
		       !strcmp(string_of(p, end, p[6]), "test-1"),
	       "system: v2e, QEMU's product name, the version");
	c.bios_info = true;
	c.ram_bytes = 128u << 20;
	c.ram_below_4g = 128u << 20;
	tap_ok(&t, smbios_build(&c, &b) == 0 && b.tables[0] == 0 && b.tables[24] == 'v',
	       "with bios_info, type 0 comes first, vendor v2e");

	tap_ok(&t, guest_mem_create(&gm, 1u << 20) == 0 && smbios_install(&c, &gm, SMBIOS_BASE) == 0,
	       "installed below 1 MiB");
	{
		uint8_t a[31];
		uint32_t at;
		tap_ok(&t, guest_mem_read(&gm, SMBIOS_BASE, a, 31) == 0 && sum(a, 31) == 0 &&
			       sum(a + 16, 15) == 0 &&
			       (at = (uint32_t)(a[24] | a[25] << 8 | a[26] << 16 | (uint32_t)a[27] << 24)) ==
				       SMBIOS_BASE + 32,
		       "the entry point names the tables after it, checksums redone");
	}
	tap_ok(&t, smbios_install(&c, &gm, SMBIOS_BASE + 4) == -EINVAL, "a misaligned base is refused");
	guest_mem_destroy(&gm);
	return tap_done(&t);
}
