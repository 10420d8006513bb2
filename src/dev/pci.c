/* PCI functions and bus 0's slots (see pci.h). */
#include "dev/pci.h"

#include <errno.h>
#include <string.h>

static void put16(struct pci_fn *f, unsigned reg, uint16_t v)
{
	f->cfg[reg] = (uint8_t)v;
	f->cfg[reg + 1] = (uint8_t)(v >> 8);
}

void pci_fn_writable(struct pci_fn *f, unsigned reg, unsigned len, uint32_t mask)
{
	for (unsigned i = 0; i < len && reg + i < PCI_CFG_SIZE; i++)
		f->wmask[reg + i] = (uint8_t)(mask >> (8 * i));
}

void pci_fn_init(struct pci_fn *f, const struct pci_id *id, pci_bar_fn *changed,
		 void *opaque)
{
	memset(f, 0, sizeof(*f));
	put16(f, PCI_VENDOR_ID, id->vendor);
	put16(f, PCI_DEVICE_ID, id->device);
	f->cfg[PCI_REVISION_ID] = id->revision;
	f->cfg[PCI_CLASS_PROG] = (uint8_t)id->class_code;
	f->cfg[PCI_CLASS_DEVICE] = (uint8_t)(id->class_code >> 8);
	f->cfg[PCI_CLASS_DEVICE + 1] = (uint8_t)(id->class_code >> 16);
	f->cfg[PCI_HEADER_TYPE] = id->multi_function ? PCI_HEADER_MULTI : 0;
	put16(f, PCI_SUBSYSTEM_VENDOR_ID, id->subsys_vendor);
	put16(f, PCI_SUBSYSTEM_ID, id->subsys);
	f->cfg[PCI_INTERRUPT_PIN] = id->int_pin;
	pci_fn_writable(f, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	/* Status: the error bits are write-1-to-clear (spec 6.2.3). */
	f->w1c[PCI_STATUS + 1] = 0xf9;
	pci_fn_writable(f, PCI_CACHE_LINE_SIZE, 2, 0xffff);
	pci_fn_writable(f, PCI_INTERRUPT_LINE, 1, 0xff);
	for (unsigned i = 0; i <= PCI_BAR_ROM; i++)
		f->bar[i].decoded = PCI_BAR_NONE;
	f->bar_changed = changed;
	f->opaque = opaque;
}

int pci_fn_bar(struct pci_fn *f, unsigned n, enum pci_bar_type type, uint32_t size)
{
	unsigned reg = PCI_BAR0 + 4 * n;
	uint32_t low = type == PCI_BAR_TYPE_IO ? 3 : 15;

	if (n >= PCI_BAR_COUNT || (type != PCI_BAR_TYPE_IO && type != PCI_BAR_TYPE_MEM32) ||
	    size <= low || (size & (size - 1)))
		return -EINVAL;
	f->bar[n] = (struct pci_bar){(uint8_t)type, size, PCI_BAR_NONE};
	/* The low bits say the BAR's type and are read-only; the bits below
	 * its size read 0, which is how the guest learns the size. */
	put16(f, reg, type == PCI_BAR_TYPE_IO ? PCI_BAR_IO : 0);
	put16(f, reg + 2, 0);
	pci_fn_writable(f, reg, 4, ~(size - 1) & ~low);
	return 0;
}

int pci_fn_rom(struct pci_fn *f, uint32_t size)
{
	if (size < 2048 || (size & (size - 1)))
		return -EINVAL;
	f->bar[PCI_BAR_ROM] = (struct pci_bar){PCI_BAR_TYPE_ROM, size, PCI_BAR_NONE};
	put16(f, PCI_ROM_ADDRESS, 0);
	put16(f, PCI_ROM_ADDRESS + 2, 0);
	/* Bits 10-1 are reserved and read 0 whatever the size. */
	pci_fn_writable(f, PCI_ROM_ADDRESS, 4, (~(size - 1) & ~0x7ffu) | PCI_ROM_ENABLE);
	return 0;
}

/* Where BAR n decodes, by the command register and its value. */
static uint64_t bar_decode(const struct pci_fn *f, unsigned n)
{
	const struct pci_bar *b = &f->bar[n];
	uint16_t cmd = pci_cfg16(f, PCI_COMMAND);
	uint64_t addr;

	if (b->type == PCI_BAR_TYPE_IO) {
		addr = pci_cfg32(f, PCI_BAR0 + 4 * n) & ~3u;
		if (!(cmd & PCI_COMMAND_IO) || !addr || addr + b->size > 0x10000)
			return PCI_BAR_NONE;
		return addr;
	}
	if (b->type == PCI_BAR_TYPE_MEM32 || b->type == PCI_BAR_TYPE_ROM) {
		uint32_t reg = pci_cfg32(f, n == PCI_BAR_ROM ? PCI_ROM_ADDRESS : PCI_BAR0 + 4 * n);
		if (n == PCI_BAR_ROM && !(reg & PCI_ROM_ENABLE))
			return PCI_BAR_NONE;
		addr = reg & (n == PCI_BAR_ROM ? ~0x7ffu : ~15u);
		/* The last page below 4 GiB is where a BAR sized with
		 * all-ones points: QEMU maps nothing there either. */
		if (!(cmd & PCI_COMMAND_MEMORY) || !addr || addr + b->size >= 1ull << 32)
			return PCI_BAR_NONE;
		return addr;
	}
	return PCI_BAR_NONE;
}

void pci_fn_update_bars(struct pci_fn *f)
{
	for (unsigned n = 0; n <= PCI_BAR_ROM; n++) {
		uint64_t old = f->bar[n].decoded, now = bar_decode(f, n);
		if (old == now)
			continue;
		f->bar[n].decoded = now;
		if (f->bar_changed)
			f->bar_changed(f->opaque, f, n, old, now);
	}
}

void pci_fn_reset(struct pci_fn *f)
{
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
		f->cfg[i] &= (uint8_t)~(f->wmask[i] | f->w1c[i]);
	pci_fn_update_bars(f);
}

uint32_t pci_fn_read(const struct pci_fn *f, unsigned reg, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		v |= (uint32_t)(reg + i < PCI_CFG_SIZE ? f->cfg[reg + i] : 0xff) << (8 * i);
	return v;
}

void pci_fn_write(struct pci_fn *f, unsigned reg, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size && i < 4 && reg + i < PCI_CFG_SIZE; i++) {
		unsigned r = reg + i;
		uint8_t b = (uint8_t)(v >> (8 * i));
		f->cfg[r] = (uint8_t)((f->cfg[r] & ~f->wmask[r]) | (b & f->wmask[r]));
		f->cfg[r] &= (uint8_t)~(b & f->w1c[r]);
	}
	if (reg < PCI_INTERRUPT_LINE && reg + size > PCI_COMMAND)
		pci_fn_update_bars(f);
}

/* ---- bus 0 ---- */

static bool fns_ok(unsigned devfn, unsigned nfns)
{
	return devfn < PCI_SLOTS * PCI_FNS && nfns >= 1 && (devfn & 7) + nfns <= PCI_FNS;
}

const char *pci_bus_owner(const struct pci_bus *b, unsigned devfn, unsigned nfns)
{
	if (!fns_ok(devfn, nfns))
		return NULL;
	for (unsigned i = devfn; i < devfn + nfns; i++)
		if (b->fn[i].ops)
			return b->fn[i].owner;
	return NULL;
}

int pci_bus_claim(struct pci_bus *b, unsigned devfn, unsigned nfns,
		  const struct io_ops *ops, void *opaque, const char *owner)
{
	if (!fns_ok(devfn, nfns) || !ops)
		return -EINVAL;
	for (unsigned i = devfn; i < devfn + nfns; i++)
		if (b->fn[i].ops)
			return -EBUSY;
	for (unsigned i = devfn; i < devfn + nfns; i++)
		b->fn[i] = (struct pci_slot){ops, opaque, owner};
	return 0;
}

void pci_bus_release(struct pci_bus *b, unsigned devfn, unsigned nfns)
{
	if (!fns_ok(devfn, nfns))
		return;
	for (unsigned i = devfn; i < devfn + nfns; i++)
		b->fn[i] = (struct pci_slot){0};
}

static bool cycle_ok(unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
	return dev < PCI_SLOTS && fn < PCI_FNS && (size == 1 || size == 2 || size == 4) &&
	       reg + size <= PCI_CFG_SIZE;
}

uint32_t pci_bus_read(struct pci_bus *b, unsigned dev, unsigned fn, unsigned reg,
		      unsigned size)
{
	const struct pci_slot *s;
	uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;

	if (!cycle_ok(dev, fn, reg, size) || !(s = &b->fn[PCI_DEVFN(dev, fn)])->ops)
		return ones;
	return (uint32_t)s->ops->read(s->opaque, (uint64_t)fn << 8 | reg, size) & ones;
}

void pci_bus_write(struct pci_bus *b, unsigned dev, unsigned fn, unsigned reg,
		   unsigned size, uint32_t v)
{
	const struct pci_slot *s;
	if (!cycle_ok(dev, fn, reg, size) || !(s = &b->fn[PCI_DEVFN(dev, fn)])->ops)
		return;
	s->ops->write(s->opaque, (uint64_t)fn << 8 | reg, size, v);
}
