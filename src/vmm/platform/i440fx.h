/* The Intel 440FX PCI and memory controller (PMC, 82441FX datasheet,
 * order 290549) as QEMU's `pc` machine presents it: configuration
 * mechanism #1 at 0xcf8/0xcfc for bus 0, and the host bridge function
 * 00:00.0 (8086:1237, class 0600, revision 02) with the PAM registers
 * that shadow the BIOS area below 1 MiB and SMRAM closed.
 *
 * Ports: one window at 0xcf8, 8 ports (i440fx_cf8_ops). A dword at 0xcf8
 * is CONFIG_ADDRESS (enable bit 31, bus 23:16, device 15:11, function
 * 10:8, register 7:2); 1, 2 and 4-byte accesses at 0xcfc-0xcff are
 * CONFIG_DATA. A byte at 0xcf9 is the PIIX reset control register, which
 * lives elsewhere (the `rcr` ops given at init): on a real PIIX too only
 * a dword at 0xcf8 is CONFIG_ADDRESS. Bus 0's slots are `bus`; other
 * buses read all-ones.
 *
 * PAM (0x59-0x5f): PAM0's high nibble is 0xf0000-0xfffff, PAM1-PAM6 two
 * 16 KiB segments each from 0xc0000. A segment's mode, the nibble's two
 * low bits: 0 (disabled: reads and writes go to whatever is underneath,
 * the firmware ROM's alias or nothing), 1 (read-only: reads DRAM, writes
 * dropped), 2 (write-only: treated as 0, as QEMU does: the region map
 * cannot send reads and writes of one address to different regions), 3
 * (DRAM). Each segment is two regions of the memory map over the same
 * RAM bytes, a RAM one and a ROM one, at I440FX_PAM_PRIORITY, above the
 * firmware ROM; at most one is enabled. The rest of guest RAM has no
 * region over 0xc0000-0xfffff (vm.c leaves it to the PAM segments).
 *
 * Reset: PAM all 0 when a firmware ROM is there to copy itself into the
 * shadow, else all 3 (direct kernel boot: RAM, as a firmware leaves it). */
#ifndef V2E_VMM_PLATFORM_I440FX_H
#define V2E_VMM_PLATFORM_I440FX_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/pci.h"
#include "lib/compiler.h"
#include "lib/vstate.h"
#include "mem/region.h"

#define I440FX_CONFIG_PORT 0xcf8
#define I440FX_CONFIG_LEN 8
#define I440FX_PAM0 0x59
#define I440FX_PAM_REGS 7
#define I440FX_SMRAM 0x72
#define I440FX_SMRAM_CLOSED 0x02   /* C_BASE_SEG = 010b, nothing open */
#define I440FX_PAM_SEGMENTS 13
#define I440FX_PAM_BASE 0xc0000ull
#define I440FX_PAM_SIZE 0x40000ull  /* to 1 MiB */
#define I440FX_PAM_PRIORITY 1       /* above the firmware ROM's alias */
#define I440FX_PAM_DRAM 0x3

struct i440fx {
	struct pci_fn fn;            /* 00:00.0: first, the saved state's base */
	uint32_t config_address;
	bool firmware;               /* a firmware ROM lies underneath */
	struct pci_bus *bus;
	const struct io_ops *rcr_ops; /* 0xcf9 */
	void *rcr;
	struct region_map *mem;
	struct region *pam_ram[I440FX_PAM_SEGMENTS], *pam_rom[I440FX_PAM_SEGMENTS];
};

extern const struct io_ops i440fx_cf8_ops;  /* opaque: struct i440fx */
extern const struct io_ops i440fx_slot_ops; /* slot 0's config space */
extern const struct vs_desc i440fx_state;

/* `ram` is guest RAM's bytes at 0xc0000-0xfffff (NULL: no shadow RAM,
 * the PAM registers then change nothing). Adds the PAM regions to `mem`
 * and claims slot 0 of `bus`; 0 or -errno. */
int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct region_map *mem,
		uint8_t *ram, bool firmware, const struct io_ops *rcr_ops,
		void *rcr) must_check;
void i440fx_reset(struct i440fx *h);

/* The mode of PAM segment i (0 = 0xc0000, ..., 12 = 0xf0000). */
unsigned i440fx_pam_mode(const struct i440fx *h, unsigned i);

#endif
