/* The ACPI tables of the board (ACPI specification 6.x, chapter 5), built
 * the way firmware leaves them for a kernel: RSDP, RSDT and XSDT, FADT
 * (revision 3) with its FACS and DSDT, and the MADT. Used for direct
 * kernel boot, where v2e plays the firmware.
 *
 * What they describe is the board of vm.c: one local APIC (ID 0) and one
 * I/O APIC (ID 1, GSI 0-23) with ISA IRQ 0 on GSI 2 and the SCI (IRQ 9)
 * level-triggered active high, LINT1 as NMI, the 8259A pair present; the
 * ACPI PM registers of acpi_pm.h with 0xcf9 as reset register; a DSDT
 * with \_S0 and \_S5, the PCI root bridge (PNP0A03, its bus, I/O and
 * memory windows in _CRS) and the ISA devices (RTC, keyboard controller,
 * the COM ports) under \_SB with _HID and _CRS.
 *
 * The tables sit in the BIOS area at 0xf0000, which the boot loaders'
 * memory maps reserve; the RSDP is there too, on a 16-byte boundary where
 * an RSDP scan finds it. */
#ifndef V2E_VMM_ACPI_H
#define V2E_VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"
#include "mem/guest_mem.h"

#define ACPI_TABLES_BASE 0xf0000u
#define ACPI_TABLES_MAX 0x2000u

struct acpi_config {
	bool pm_tmr_32bit;   /* the PM timer is 32 bits wide (TMR_VAL_EXT) */
	unsigned n_com;      /* COM1.. present (0-4), listed in the DSDT */
	uint32_t pci_hole_start; /* where PCI memory starts below 4 GiB (0: none) */
};

/* Builds every table into buf[cap] as the guest will see it at
 * guest-physical `base` (16-byte aligned, below 4 GiB). Returns the bytes
 * used, -ENOSPC when they do not fit, -EINVAL for a misaligned base;
 * *rsdp is the RSDP's guest-physical address. */
long acpi_build(const struct acpi_config *c, uint32_t base, uint8_t *buf,
		size_t cap, uint32_t *rsdp) must_check;

/* The same tables for firmware that places them itself (SeaBIOS through
 * fw_cfg, as QEMU hands them over): the fw_cfg files "etc/acpi/rsdp",
 * "etc/acpi/tables" (built at address 0, so every pointer field holds
 * an offset) and "etc/table-loader", whose 128-byte commands tell the
 * firmware to allocate the two (the RSDP in the F segment, where an OS
 * scans for it; the tables high), add each file's address into the
 * pointer fields, and recompute each checksum. */
#define ACPI_LOADER_FILE_LEN 56
#define ACPI_LOADER_CMD_LEN 128
#define ACPI_LOADER_MAX_CMDS 24

struct acpi_blobs {
	uint8_t rsdp[36];
	uint8_t tables[ACPI_TABLES_MAX];
	size_t tables_len;
	uint8_t loader[ACPI_LOADER_MAX_CMDS * ACPI_LOADER_CMD_LEN];
	size_t loader_len;
};

int acpi_build_blobs(const struct acpi_config *c, struct acpi_blobs *out) must_check;

/* Builds the tables at ACPI_TABLES_BASE in guest RAM. 0 or -errno. */
int acpi_install(const struct acpi_config *c, const struct guest_mem *gm,
		 uint32_t *rsdp) must_check;

#endif
