/* The SMBIOS tables of the board (DMTF SMBIOS 2.8), as QEMU's `pc`
 * hands them to firmware through fw_cfg: "etc/smbios/smbios-tables"
 * holds the structures and "etc/smbios/smbios-anchor" the 2.x entry
 * point, whose table address and checksums the firmware fills in where
 * it places them. SeaBIOS adds its own BIOS information (type 0) when
 * the tables lack one, as it does under QEMU.
 *
 * What they say: the system (type 1: v2e's name, QEMU's product name so
 * guests that key on it see the PC they know, a UUID), the chassis (3),
 * one processor (4), the memory array, its devices and mapped ranges
 * (16, 17, 19), the boot status (32) and the end (127). */
#ifndef V2E_VMM_SMBIOS_H
#define V2E_VMM_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

#define SMBIOS_ANCHOR_LEN 31
#define SMBIOS_TABLES_MAX 2048

struct smbios_config {
	uint64_t ram_bytes;     /* all guest RAM */
	uint64_t ram_below_4g;  /* of which below 4 GiB */
	uint8_t uuid[16];       /* the system's UUID, in SMBIOS byte order */
	const char *version;    /* v2e's version string */
	/* Add the BIOS information (type 0): v2e is the firmware (-kernel);
	 * otherwise the firmware adds its own. */
	bool bios_info;
};

struct smbios_blobs {
	uint8_t anchor[SMBIOS_ANCHOR_LEN];
	uint8_t tables[SMBIOS_TABLES_MAX];
	size_t tables_len;
};

/* 0 or -ENOSPC. */
int smbios_build(const struct smbios_config *c, struct smbios_blobs *out) must_check;

/* For a boot without firmware: the entry point at `base` (16-byte
 * aligned, in the BIOS area below 1 MiB where an OS scans for it) and
 * the tables right after it, the entry point's address and checksums
 * set as firmware would. 0 or -errno. */
#define SMBIOS_BASE 0xf2000u
struct guest_mem;
int smbios_install(const struct smbios_config *c, const struct guest_mem *gm,
		   uint32_t base) must_check;

#endif
