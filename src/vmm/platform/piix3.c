/* PIIX3 PCI-to-ISA bridge, 00:01.0: PIRQ routing (see piix3.h). */
#include "vmm/platform/piix3.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* IRQs a PIRQRC may name (82371SB datasheet, PIRQRC: 3-7, 9-12, 14, 15). */
#define PIRQ_IRQS 0xdef8u

int piix3_pirq_route(const struct piix3 *p, unsigned n)
{
	uint8_t v = p->fn.cfg[PIIX3_PIRQRC + n];
	if (n >= 4 || (v & PIIX3_PIRQ_OFF) || !(PIRQ_IRQS & (1u << (v & 0xf))))
		return -1;
	return v & 0xf;
}

/* Drives each ISA line from the PIRQs routed to it; only lines whose
 * level changes are touched, so an ISA device's line is left alone
 * while no PIRQ goes there. */
static void pirq_update(struct piix3 *p)
{
	uint16_t want = 0;
	for (unsigned n = 0; n < 4; n++) {
		int irq = piix3_pirq_route(p, n);
		if (irq >= 0 && (p->pirq_level & (1u << n)))
			want |= (uint16_t)(1u << irq);
	}
	for (unsigned irq = 0; irq < 16; irq++)
		if ((want ^ p->driven) & (1u << irq))
			irq_set(&p->isa[irq], (want >> irq) & 1);
	p->driven = want;
}

void piix3_set_pirq(struct piix3 *p, unsigned n, bool level)
{
	if (n >= 4)
		return;
	p->pirq_level = (uint8_t)((p->pirq_level & ~(1u << n)) | (unsigned)level << n);
	pirq_update(p);
}

static uint64_t slot_read(void *opaque, uint64_t off, unsigned size)
{
	struct piix3 *p = opaque;
	if (off >> 8)
		return ~0ull; /* functions 1-7 are not here */
	return pci_fn_read(&p->fn, (unsigned)off, size);
}

static void slot_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct piix3 *p = opaque;
	if (off >> 8)
		return;
	pci_fn_write(&p->fn, (unsigned)off, size, (uint32_t)v);
	if (off < PIIX3_PIRQRC + 4 && off + size > PIIX3_PIRQRC)
		pirq_update(p);
}

const struct io_ops piix3_slot_ops = {
	slot_read, slot_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* Reset values of the ISA bridge's registers (82371SB datasheet 2.2). */
static const struct {
	uint8_t reg, value, wmask;
} piix3_regs[] = {
	{0x4c, 0x4d, 0x7f}, /* IORT: ISA I/O recovery */
	{0x4e, 0x03, 0xff}, /* XBCS */
	{0x4f, 0x00, 0x00},
	{0x60, 0x80, 0x8f}, {0x61, 0x80, 0x8f}, {0x62, 0x80, 0x8f}, {0x63, 0x80, 0x8f},
	{0x69, 0x02, 0xfe}, /* TOM */
	{0x6a, 0x00, 0xff}, {0x6b, 0x00, 0xff},
	{0x70, 0x80, 0xcf}, /* MBIRQ0 */
	{0x76, 0x0c, 0x8f}, {0x77, 0x0c, 0x8f}, /* MBDMA */
	{0x78, 0x02, 0xff}, {0x79, 0x00, 0xff}, /* PCSC */
	{0xa0, 0x08, 0x1f}, /* SMICNTL */
	{0xa8, 0x0f, 0xff},
};

void piix3_reset(struct piix3 *p)
{
	pci_fn_reset(&p->fn);
	for (unsigned i = 0; i < ARRAY_SIZE(piix3_regs); i++)
		p->fn.cfg[piix3_regs[i].reg] = piix3_regs[i].value;
	pirq_update(p);
}

int piix3_init(struct piix3 *p, struct pci_bus *bus, const struct irq_line *isa)
{
	static const struct pci_id id = {.vendor = 0x8086, .device = 0x7000,
					 .class_code = 0x060100, .multi_function = true};
	memset(p, 0, sizeof(*p));
	p->isa = isa;
	pci_fn_init(&p->fn, &id, NULL, NULL);
	for (unsigned i = 0; i < ARRAY_SIZE(piix3_regs); i++)
		pci_fn_writable(&p->fn, piix3_regs[i].reg, 1, piix3_regs[i].wmask);
	piix3_reset(p);
	return pci_bus_claim(bus, PCI_DEVFN(PIIX3_SLOT, 0), 1, &piix3_slot_ops, p, "PIIX3");
}

/* ---- saved state: the function's bytes and the PIRQ levels ---- */

static const struct vs_field piix3_fields[] = {
	VS_BYTES(struct piix3, fn.cfg),
	VS_MAX(struct piix3, pirq_level, VS_U8, 15),
};

/* The lines were driven by the old levels: drive them from the new. */
static int piix3_post_load(void *obj, char *err, size_t n)
{
	(void)err;
	(void)n;
	pirq_update(obj);
	return 0;
}

const struct vs_desc piix3_state = {
	"PIIX3", 1, piix3_fields, ARRAY_SIZE(piix3_fields), NULL, piix3_post_load,
};

#include "dev/kind.h"

static void piix3_kind_reset(void *dev)
{
	piix3_reset(dev);
}

DEV_KIND(piix3) = {
	.name = "PIIX3",
	.help = "PCI-to-ISA bridge 00:01.0 (8086:7000): PIRQ A-D routing to ISA IRQs",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct piix3),
	.reset = piix3_kind_reset,
	.state = &piix3_state,
};
