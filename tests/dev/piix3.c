/* The chipset's PCI functions: PIIX3 PIRQ routing onto ISA lines (bit 7
 * disables, reserved IRQs route nothing, shared lines OR, rerouting moves
 * the level), its reset values; the i440FX's ids, config mechanism #1
 * (dword CONFIG_ADDRESS only, 0xcf9 passed on, other buses all-ones) and
 * PAM regions following the registers. */
#include <stdlib.h>

#include "tests/dev/irqrec.h"
#include "tests/tap.h"
#include "vmm/platform/i440fx.h"
#include "vmm/platform/piix3.h"

static uint8_t rcr_value = 0x5a;
static uint64_t rcr_read(void *opaque, uint64_t off, unsigned size)
{
	return rcr_value;
}
static void rcr_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	rcr_value = (uint8_t)v;
}
static const struct io_ops rcr_ops = {rcr_read, rcr_write, IO_SIZE_1, IO_SIZE_1};

int main(void)
{
	struct tap t = {0};
	struct irqrec rec[16] = {{0}};
	struct irq_line isa[16];
	struct pci_bus bus = {0};
	struct piix3 p;
	struct i440fx h;
	struct region_map mem;
	uint8_t *ram = calloc(1, I440FX_PAM_SIZE);

	for (unsigned i = 0; i < 16; i++)
		isa[i] = irqrec_line(&rec[i], i);
	tap_ok(&t, piix3_init(&p, &bus, isa) == 0, "PIIX3 in slot 1");
	tap_ok(&t, pci_bus_read(&bus, 1, 0, 0, 4) == 0x70008086 &&
		   pci_bus_read(&bus, 1, 0, 0x08, 4) >> 8 == 0x060100 &&
		   pci_bus_read(&bus, 1, 0, 0x0e, 1) == 0x80, "8086:7000, ISA bridge, multi-function");
	tap_ok(&t, pci_bus_read(&bus, 1, 0, 0x60, 4) == 0x80808080, "PIRQs unrouted at reset");
	piix3_set_pirq(&p, 0, true);
	tap_ok(&t, rec[11].calls == 0, "an unrouted PIRQ drives nothing");
	pci_bus_write(&bus, 1, 0, 0x60, 1, 11);
	tap_ok(&t, rec[11].level && piix3_pirq_route(&p, 0) == 11, "PIRQA to IRQ 11 drives it");
	pci_bus_write(&bus, 1, 0, 0x61, 1, 11);
	piix3_set_pirq(&p, 1, true);
	piix3_set_pirq(&p, 0, false);
	tap_ok(&t, rec[11].level, "PIRQA and PIRQB share IRQ 11: still high while B is");
	piix3_set_pirq(&p, 1, false);
	tap_ok(&t, !rec[11].level, "both low: the line falls");
	piix3_set_pirq(&p, 2, true);
	pci_bus_write(&bus, 1, 0, 0x62, 1, 10);
	tap_ok(&t, rec[10].level, "PIRQC to IRQ 10");
	pci_bus_write(&bus, 1, 0, 0x62, 1, 5);
	tap_ok(&t, !rec[10].level && rec[5].level, "rerouted: 10 falls, 5 rises");
	pci_bus_write(&bus, 1, 0, 0x62, 1, 0x85);
	tap_ok(&t, !rec[5].level, "bit 7 disables the route");
	pci_bus_write(&bus, 1, 0, 0x62, 1, 2);
	tap_ok(&t, !rec[2].level && piix3_pirq_route(&p, 2) == -1, "IRQ 2 is reserved");
	pci_bus_write(&bus, 1, 0, 0x62, 1, 0xff);
	tap_ok(&t, pci_bus_read(&bus, 1, 0, 0x62, 1) == 0x8f, "PIRQRC's bits 6:4 are reserved");
	pci_bus_write(&bus, 1, 0, 0x62, 1, 9);
	piix3_reset(&p);
	tap_ok(&t, !rec[9].level && pci_bus_read(&bus, 1, 0, 0x62, 1) == 0x80 &&
		   pci_bus_read(&bus, 1, 0, 0x4c, 1) == 0x4d, "reset: routes off, line low, IORT 0x4d");
	tap_ok(&t, pci_bus_read(&bus, 1, 3, 0, 4) == 0xffffffff, "no function 3");

	tap_ok(&t, region_map_init(&mem, "mmio", 0) == 0, "memory map");
	tap_ok(&t, i440fx_init(&h, &bus, &mem, ram, true, &rcr_ops, NULL) == 0, "i440FX in slot 0");
	tap_ok(&t, pci_bus_read(&bus, 0, 0, 0, 4) == 0x12378086 &&
		   pci_bus_read(&bus, 0, 0, 8, 4) == 0x06000002, "8086:1237, host bridge, rev 02");
	tap_ok(&t, pci_bus_read(&bus, 0, 0, 0x72, 1) == I440FX_SMRAM_CLOSED, "SMRAM closed");
	tap_ok(&t, i440fx_pam_mode(&h, 12) == 0 && region_read(&mem, 0xf0000, 4) == 0xffffffff,
	       "with firmware, PAM is 0 at reset: 0xf0000 shows what is underneath");
	pci_bus_write(&bus, 0, 0, 0x59, 1, 0xff);
	tap_ok(&t, pci_bus_read(&bus, 0, 0, 0x59, 1) == 0x30, "PAM0: only the high nibble's modes");
	region_write(&mem, 0xf0010, 4, 0xcafe);
	tap_ok(&t, ram[0x30010] == 0xfe && region_read(&mem, 0xf0010, 4) == 0xcafe, "mode 3: DRAM");
	pci_bus_write(&bus, 0, 0, 0x59, 1, 0x10);
	region_write(&mem, 0xf0010, 4, 0);
	tap_ok(&t, region_read(&mem, 0xf0010, 4) == 0xcafe, "mode 1: reads DRAM, writes dropped");
	pci_bus_write(&bus, 0, 0, 0x59, 1, 0x20);
	tap_ok(&t, region_read(&mem, 0xf0010, 4) == 0xffffffff, "mode 2: as mode 0 (QEMU's choice)");
	pci_bus_write(&bus, 0, 0, 0x5a, 2, 0x0330);
	tap_ok(&t, i440fx_pam_mode(&h, 0) == 0 && i440fx_pam_mode(&h, 1) == 3 &&
		   i440fx_pam_mode(&h, 2) == 3 && region_read(&mem, 0xc4000, 1) == 0 &&
		   region_read(&mem, 0xc0000, 1) == 0xff, "PAM1-2 by word: 16 KiB segments");

	tap_ok(&t, i440fx_cf8_ops.read(&h, 1, 1) == 0x5a, "a byte at 0xcf9 is reset control");
	i440fx_cf8_ops.write(&h, 0, 2, 0x8000);
	tap_ok(&t, i440fx_cf8_ops.read(&h, 0, 4) == 0, "a word at 0xcf8 is not CONFIG_ADDRESS");
	i440fx_cf8_ops.write(&h, 0, 4, 0xffffffff);
	tap_ok(&t, i440fx_cf8_ops.read(&h, 0, 4) == 0x80fffffc, "reserved CONFIG_ADDRESS bits read 0");
	i440fx_cf8_ops.write(&h, 0, 4, 0x80000008);
	tap_ok(&t, i440fx_cf8_ops.read(&h, 6, 2) == 0x0600 && i440fx_cf8_ops.read(&h, 4, 1) == 2,
	       "CONFIG_DATA at 0xcfe and 0xcfc");
	i440fx_cf8_ops.write(&h, 0, 4, 0x80010000);
	tap_ok(&t, (uint32_t)i440fx_cf8_ops.read(&h, 4, 4) == 0xffffffff, "bus 1 reads all-ones");

	i440fx_reset(&h);
	tap_ok(&t, i440fx_pam_mode(&h, 1) == 0, "reset: PAM 0 again");
	region_map_destroy(&mem);
	free(ram);
	return tap_done(&t);
}
