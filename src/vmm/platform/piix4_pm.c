/* PIIX4 function 3, power management (82371AB datasheet, section 3.4:
 * PMBA, PMREGMISC, SMBBA, SMBHSTCFG), as QEMU's `pc` presents it. */
#include "vmm/platform/piix4_pm.h"

#include <string.h>

#include "lib/compiler.h"
#include "lib/log.h"

#define PMIOSE 0x01
#define DECODE_OFF UINT32_MAX

/* The PM blocks follow PMBA and PMIOSE. A base that would overlap other
 * ports leaves the blocks where they were, with a warning: the guest
 * asked for something this board cannot give. */
static void update(struct piix4_pm *p)
{
	uint32_t want = DECODE_OFF;
	if (p->fn.cfg[PIIX4_PM_PMREGMISC] & PMIOSE)
		want = pci_cfg32(&p->fn, PIIX4_PM_PMBA) & 0xffc0;
	if (want == p->decoded)
		return;
	for (unsigned i = 0; i < 3; i++) {
		int r = 0;
		if (want == DECODE_OFF) {
			r = region_set_enabled(p->ports, p->blk[i], false);
		} else {
			r = region_move(p->ports, p->blk[i], want + p->blk_off[i]);
			if (!r)
				r = region_set_enabled(p->ports, p->blk[i], true);
		}
		if (r) {
			log_warn("PIIX4 PM: PM block at %#x refused (%d); left where it was",
				 want, r);
			return;
		}
	}
	p->decoded = want;
}

static uint64_t pm_cfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct piix4_pm *p = opaque;
	if ((off >> 8) != 3)
		return ~0ull;
	return pci_fn_read(&p->fn, off & 0xff, size);
}

static void pm_cfg_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct piix4_pm *p = opaque;
	if ((off >> 8) != 3)
		return;
	pci_fn_write(&p->fn, off & 0xff, size, (uint32_t)v);
	update(p);
}

static const struct io_ops pm_cfg_ops = {
	pm_cfg_read, pm_cfg_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

void piix4_pm_reset(struct piix4_pm *p)
{
	pci_fn_reset(&p->fn);
	/* bit 0 of each base register: "I/O space", hard-wired */
	p->fn.cfg[PIIX4_PM_PMBA] = 0x01;
	p->fn.cfg[PIIX4_PM_SMBBA] = 0x01;
	/* DEVACTB's APMC_EN (bit 25) already set: the board has no SMM, and
	 * firmware that finds it set takes SMM as set up (QEMU does the
	 * same without SMM) instead of waiting for an SMI that never comes. */
	p->fn.cfg[PIIX4_PM_DEVACTB + 3] = 0x02;
	update(p);
}

int piix4_pm_init(struct piix4_pm *p, struct pci_bus *bus, struct region_map *ports,
		  struct region *const blk[3], const uint16_t off[3])
{
	static const struct pci_id id = {.vendor = 0x8086, .device = 0x7113,
					 .class_code = 0x068000, .revision = 0x03,
					 .int_pin = 1};
	memset(p, 0, sizeof(*p));
	p->ports = ports;
	/* Decoding as at power-on, so the first update() turns it off. */
	p->decoded = 0;
	for (unsigned i = 0; i < 3; i++) {
		p->blk[i] = blk[i];
		p->blk_off[i] = off[i];
	}
	pci_fn_init(&p->fn, &id, NULL, NULL);
	pci_fn_writable(&p->fn, PIIX4_PM_PMBA, 2, 0xffc0);
	pci_fn_writable(&p->fn, PIIX4_PM_PMREGMISC, 1, PMIOSE);
	pci_fn_writable(&p->fn, PIIX4_PM_SMBBA, 2, 0xfff0);
	pci_fn_writable(&p->fn, PIIX4_PM_SMBHSTCFG, 1, 0x0f);
	p->decoded = (uint32_t)blk[0]->d.base - off[0];
	piix4_pm_reset(p);
	return pci_bus_claim(bus, PIIX4_PM_DEVFN, 1, &pm_cfg_ops, p, "PIIX4-PM");
}

void piix4_pm_enable(struct piix4_pm *p, uint16_t base)
{
	pci_fn_write(&p->fn, PIIX4_PM_PMBA, 4, base);
	pci_fn_write(&p->fn, PIIX4_PM_PMREGMISC, 1, PMIOSE);
	update(p);
}

/* ---- saved state: the function's bytes; the blocks follow them ---- */

static const struct vs_field piix4_pm_fields[] = {
	VS_BYTES(struct piix4_pm, fn.cfg),
};

static int piix4_pm_post_load(void *obj, char *err, size_t n)
{
	(void)err;
	(void)n;
	update(obj);
	return 0;
}

const struct vs_desc piix4_pm_state = {
	"PIIX4-PM", 1, piix4_pm_fields, ARRAY_SIZE(piix4_pm_fields), NULL, piix4_pm_post_load,
};

#include "dev/kind.h"

static void piix4_pm_kind_reset(void *dev)
{
	piix4_pm_reset(dev);
}

DEV_KIND(piix4_pm) = {
	.name = "PIIX4_PM",
	.help = "power management 00:01.3 (8086:7113): where the ACPI PM registers decode",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct piix4_pm),
	.reset = piix4_pm_kind_reset,
	.state = &piix4_pm_state,
};
