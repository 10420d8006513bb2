/* The PIIX4's power-management function 00:01.3 (8086:7113, class 0680)
 * as QEMU's `pc` machine adds it beside the PIIX3: firmware finds the
 * ACPI PM registers through it. PMBA (0x40, bits 15:6) says where the
 * PM1 event, control and timer blocks (acpi_pm.h, at their offsets 0, 4
 * and 8) decode, and PMREGMISC bit 0 (0x80, PMIOSE) turns that decoding
 * on; until then, and after a reset, they decode nowhere. The SMBus
 * registers (SMBBA at 0x90, SMBHSTCFG at 0xd2) hold what the firmware
 * writes, but no SMBus controller answers behind them. There is no SMM:
 * DEVACTB says SMI on APM writes is already enabled, so firmware skips
 * setting SMM up.
 *
 * The function moves the board's three PM regions itself (they are the
 * vmm's own, beside the vCPU). A -kernel boot, with no firmware, gets
 * PMBA 0x600 and PMIOSE set, as SeaBIOS would leave them. */
#ifndef V2E_VMM_PLATFORM_PIIX4_PM_H
#define V2E_VMM_PLATFORM_PIIX4_PM_H

#include <stdint.h>

#include "dev/pci.h"
#include "lib/compiler.h"
#include "lib/vstate.h"
#include "mem/region.h"

#define PIIX4_PM_DEVFN PCI_DEVFN(1, 3)
#define PIIX4_PM_PMBA 0x40
#define PIIX4_PM_DEVACTB 0x58
#define PIIX4_PM_PMREGMISC 0x80
#define PIIX4_PM_SMBBA 0x90
#define PIIX4_PM_SMBHSTCFG 0xd2

struct piix4_pm {
	struct pci_fn fn;            /* first: the saved state's base */
	struct region_map *ports;
	struct region *blk[3];       /* PM1 event, PM1 control, PM timer */
	uint16_t blk_off[3];         /* their offsets from PMBA */
	uint32_t decoded;            /* where they decode now; UINT32_MAX: off */
};

extern const struct vs_desc piix4_pm_state;

/* Claims 00:01.3 on `bus` and takes charge of the three PM regions
 * (offsets off[i] from the base), which it disables until PMIOSE. */
int piix4_pm_init(struct piix4_pm *p, struct pci_bus *bus, struct region_map *ports,
		  struct region *const blk[3], const uint16_t off[3]) must_check;
void piix4_pm_reset(struct piix4_pm *p);
/* What firmware does: PMBA = base, PMIOSE on. */
void piix4_pm_enable(struct piix4_pm *p, uint16_t base);

#endif
