/* Intel 440FX host bridge: configuration mechanism #1 and the PMC
 * function with PAM (see i440fx.h). */
#include "vmm/platform/i440fx.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

/* Segment i: its base, size, PAM register and nibble. */
static uint64_t seg_base(unsigned i)
{
	return i == 12 ? 0xf0000 : I440FX_PAM_BASE + 0x4000ull * i;
}

static uint64_t seg_size(unsigned i)
{
	return i == 12 ? 0x10000 : 0x4000;
}

unsigned i440fx_pam_mode(const struct i440fx *h, unsigned i)
{
	uint8_t v = i == 12 ? h->fn.cfg[I440FX_PAM0] >> 4
			    : h->fn.cfg[I440FX_PAM0 + 1 + i / 2] >> (4 * (i & 1));
	return v & 3;
}

/* The regions follow the PAM registers. Disable before enable, so the
 * RAM and ROM regions of one segment never both show. */
static void pam_apply(struct i440fx *h)
{
	for (unsigned i = 0; i < I440FX_PAM_SEGMENTS && h->pam_ram[i]; i++) {
		unsigned mode = i440fx_pam_mode(h, i);
		struct region *on = mode == 3 ? h->pam_ram[i] : mode == 1 ? h->pam_rom[i] : NULL;
		struct region *off[2] = {h->pam_ram[i], h->pam_rom[i]};
		int r = 0;
		for (unsigned k = 0; k < 2; k++)
			if (off[k] != on && off[k]->d.enabled)
				r |= region_set_enabled(h->mem, off[k], false);
		if (on && !on->d.enabled)
			r |= region_set_enabled(h->mem, on, true);
		if (r)
			log_warn("i440fx: PAM segment %#llx: the memory map refused mode %u",
				 (unsigned long long)seg_base(i), mode);
	}
}

/* ---- 00:00.0 ---- */

static uint64_t slot_read(void *opaque, uint64_t off, unsigned size)
{
	struct i440fx *h = opaque;
	if (off >> 8)
		return ~0ull; /* no functions 1-7 */
	return pci_fn_read(&h->fn, (unsigned)off, size);
}

static void slot_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct i440fx *h = opaque;
	if (off >> 8)
		return;
	pci_fn_write(&h->fn, (unsigned)off, size, (uint32_t)v);
	if (off < I440FX_PAM0 + I440FX_PAM_REGS && off + size > I440FX_PAM0)
		pam_apply(h);
}

const struct io_ops i440fx_slot_ops = {
	slot_read, slot_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- configuration mechanism #1 ---- */

#define CONFIG_ENABLE 0x80000000u
#define CONFIG_ADDRESS_MASK 0x80fffffcu /* 30:24 reserved, 1:0 read 0 */

/* The cycle CONFIG_ADDRESS selects for data port `off` (4-7): false
 * when it is not a type-0 cycle to bus 0. */
static bool config_cycle(const struct i440fx *h, uint64_t off, unsigned *dev,
			 unsigned *fn, unsigned *reg)
{
	uint32_t a = h->config_address;
	if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0)
		return false;
	*dev = (a >> 11) & 0x1f;
	*fn = (a >> 8) & 7;
	*reg = (a & 0xfc) + (unsigned)(off - 4);
	return true;
}

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
	struct i440fx *h = opaque;
	unsigned dev, fn, reg;

	if (off == 0 && size == 4)
		return h->config_address;
	if (off == 1 && size == 1 && h->rcr_ops)
		return h->rcr_ops->read(h->rcr, 0, 1);
	if (off >= 4 && config_cycle(h, off, &dev, &fn, &reg))
		return pci_bus_read(h->bus, dev, fn, reg, size);
	return ~0ull;
}

static void cf8_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct i440fx *h = opaque;
	unsigned dev, fn, reg;

	if (off == 0 && size == 4)
		h->config_address = (uint32_t)v & CONFIG_ADDRESS_MASK;
	else if (off == 1 && size == 1 && h->rcr_ops)
		h->rcr_ops->write(h->rcr, 0, 1, v);
	else if (off >= 4 && config_cycle(h, off, &dev, &fn, &reg))
		pci_bus_write(h->bus, dev, fn, reg, size, (uint32_t)v);
}

const struct io_ops i440fx_cf8_ops = {
	cf8_read, cf8_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- lifetime ---- */

void i440fx_reset(struct i440fx *h)
{
	h->config_address = 0;
	pci_fn_reset(&h->fn);
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++)
		h->fn.cfg[I440FX_PAM0 + i] = h->firmware ? 0 : h->fn.wmask[I440FX_PAM0 + i];
	h->fn.cfg[I440FX_SMRAM] = I440FX_SMRAM_CLOSED;
	pam_apply(h);
}

int i440fx_init(struct i440fx *h, struct pci_bus *bus, struct region_map *mem,
		uint8_t *ram, bool firmware, const struct io_ops *rcr_ops, void *rcr)
{
	static const struct pci_id id = {.vendor = 0x8086, .device = 0x1237,
					 .class_code = 0x060000, .revision = 0x02};
	int r;

	memset(h, 0, sizeof(*h));
	h->bus = bus;
	h->mem = mem;
	h->firmware = firmware;
	h->rcr_ops = rcr_ops;
	h->rcr = rcr;
	pci_fn_init(&h->fn, &id, NULL, NULL);
	pci_fn_writable(&h->fn, I440FX_PAM0, 1, 0x30); /* 0xf0000: high nibble */
	for (unsigned i = 1; i < I440FX_PAM_REGS; i++)
		pci_fn_writable(&h->fn, I440FX_PAM0 + i, 1, 0x33);
	for (unsigned i = 0; ram && i < I440FX_PAM_SEGMENTS; i++) {
		uint64_t at = seg_base(i) - I440FX_PAM_BASE;
		struct region_desc d = {
			.name = "pam-ram", .kind = REGION_RAM, .base = seg_base(i),
			.size = seg_size(i), .priority = I440FX_PAM_PRIORITY,
			.host = ram + at, .owner = h,
		};
		r = region_add(mem, &d, &h->pam_ram[i]);
		d.name = "pam-rom";
		d.kind = REGION_ROM;
		if (!r)
			r = region_add(mem, &d, &h->pam_rom[i]);
		if (r)
			return r;
	}
	r = pci_bus_claim(bus, PCI_DEVFN(0, 0), 1, &i440fx_slot_ops, h, "i440FX");
	if (r)
		return r;
	i440fx_reset(h);
	return 0;
}

/* ---- saved state: CONFIG_ADDRESS and the function's bytes ---- */

static const struct vs_field i440fx_fields[] = {
	VS_BYTES(struct i440fx, fn.cfg),
	VS_U32(struct i440fx, config_address),
};

static int i440fx_state_check(const void *obj, char *err, size_t n)
{
	const struct i440fx *h = obj;
	const char *bad = NULL;
	for (unsigned i = 0; i < I440FX_PAM_REGS; i++)
		if (h->fn.cfg[I440FX_PAM0 + i] & ~h->fn.wmask[I440FX_PAM0 + i])
			bad = "fn.cfg (PAM)";
	if (h->fn.cfg[I440FX_SMRAM] != I440FX_SMRAM_CLOSED)
		bad = "fn.cfg (SMRAM)";
	if (h->config_address & ~CONFIG_ADDRESS_MASK)
		bad = "config_address";
	if (bad) {
		snprintf(err, n, "i440FX: field '%s' has a value the chip cannot hold", bad);
		return -EINVAL;
	}
	return 0;
}

static int i440fx_post_load(void *obj, char *err, size_t n)
{
	struct i440fx *h = obj;
	(void)err;
	(void)n;
	pam_apply(h);
	return 0;
}

const struct vs_desc i440fx_state = {
	"i440FX", 1, i440fx_fields, ARRAY_SIZE(i440fx_fields), i440fx_state_check,
	i440fx_post_load,
};

/* ---- the kind (dev/kind.h): listed by -device help, reset by the board ---- */

#include "dev/kind.h"

static void i440fx_kind_reset(void *dev)
{
	i440fx_reset(dev);
}

DEV_KIND(i440fx) = {
	.name = "i440FX",
	.help = "PCI host bridge 00:00.0 (8086:1237): config ports 0xcf8/0xcfc, PAM shadowing",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct i440fx),
	.reset = i440fx_kind_reset,
	.state = &i440fx_state,
};
