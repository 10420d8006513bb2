/* ACPI tables for the board (see acpi.h), written from the ACPI
 * specification: table layouts from chapter 5.2, AML encodings from
 * chapter 20 ("ACPI Machine Language Specification"), resource
 * descriptors from 6.4. */
#include "vmm/acpi.h"

#include <errno.h>
#include <string.h>

#include "dev/pci.h"
#include "lib/le.h"
#include "vmm/platform/acpi_pm.h"
#include "vmm/platform/ioapic.h"
#include "vmm/platform/lapic.h"

#define OEM_ID "V2E   "     /* 6 bytes */
#define OEM_TABLE_ID "V2E PC  " /* 8 bytes */
#define CREATOR_ID "V2E "   /* 4 bytes */
#define HDR_LEN 36

#define IOAPIC_ID 1
#define FADT_REVISION 3
#define FADT_LEN 244
#define FACS_LEN 64


/* ---- AML encoding (ACPI 6.x chapter 20) ---- */

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT '\\'
#define AML_METHOD 0x14
#define AML_LOCAL0 0x60
#define AML_ARG0 0x68
#define AML_STORE 0x70
#define AML_AND 0x7b
#define AML_OR 0x7d
#define AML_CREATE_DWORD_FIELD 0x8a
#define AML_LLESS 0x95
#define AML_IF 0xa0
#define AML_ELSE 0xa1
#define AML_RETURN 0xa4
#define AML_EXT_OP_REGION 0x80
#define AML_EXT_FIELD 0x81
#define AML_REGION_PCI_CONFIG 0x02
#define AML_DUAL_NAME 0x2e
#define AML_MULTI_NAME 0x2f

/* An AML byte stream with a fixed capacity; overflowing sets a flag
 * checked once at the end. */
struct aml {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
};

static void aml_put(struct aml *a, const void *src, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->p + a->len, src, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_put(a, &b, 1);
}

/* Starts a body that a PkgLength prefixes: four bytes are held for the
 * length until aml_close() knows it. Returns where they are. */
static size_t aml_open(struct aml *a)
{
	static const uint8_t hold[4];
	size_t at = a->len;
	aml_put(a, hold, sizeof(hold));
	return at;
}

/* Writes the PkgLength of the body opened at `at` (20.2.4: one byte up
 * to 63, else a byte count in bits 6-7 of the lead byte, its low nibble
 * and then whole bytes), in as few bytes as it takes. */
static void aml_close(struct aml *a, size_t at)
{
	size_t body, total;
	unsigned n;

	if (a->overflow)
		return;
	body = a->len - at - 4;
	for (n = 1; n <= 4; n++) {
		total = body + n;
		if ((n == 1 && total <= 0x3f) || (n > 1 && total < (1u << (4 + 8 * (n - 1)))))
			break;
	}
	if (n > 4) {
		a->overflow = true;
		return;
	}
	if (n == 1) {
		a->p[at] = (uint8_t)total;
	} else {
		a->p[at] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			a->p[at + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memmove(a->p + at + n, a->p + at + 4, body);
	a->len -= 4 - n;
}

/* A NameString: an optional root prefix and dot-separated segments of up
 * to four characters, padded with '_'. */
static void aml_namestring(struct aml *a, const char *path)
{
	const char *s = path;
	unsigned nseg = 1;

	if (*s == AML_ROOT) {
		aml_byte(a, AML_ROOT);
		s++;
	}
	for (const char *q = s; *q; q++)
		nseg += *q == '.';
	if (nseg == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (nseg > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)nseg);
	}
	while (nseg--) {
		char seg[4] = {'_', '_', '_', '_'};
		for (unsigned i = 0; *s && *s != '.'; s++, i++)
			if (i < 4)
				seg[i] = *s;
		aml_put(a, seg, 4);
		if (*s == '.')
			s++;
	}
}

static void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[8];
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		le_put16(b, (uint16_t)v);
		aml_put(a, b, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		le_put32(b, (uint32_t)v);
		aml_put(a, b, 4);
	} else {
		aml_byte(a, AML_QWORD);
		le_put64(b, v);
		aml_put(a, b, 8);
	}
}

/* Name(path, Integer) */
static void aml_name_int(struct aml *a, const char *path, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_namestring(a, path);
	aml_integer(a, v);
}

/* Name(path, Package() {v...}) of integers */
static void aml_name_package(struct aml *a, const char *path,
			     const uint64_t *v, unsigned n)
{
	size_t at;
	aml_byte(a, AML_NAME);
	aml_namestring(a, path);
	aml_byte(a, AML_PACKAGE);
	at = aml_open(a);
	aml_byte(a, (uint8_t)n);
	for (unsigned i = 0; i < n; i++)
		aml_integer(a, v[i]);
	aml_close(a, at);
}

/* Name(path, Buffer() {bytes}) */
static void aml_name_buffer(struct aml *a, const char *path,
			    const uint8_t *bytes, size_t n)
{
	size_t at;
	aml_byte(a, AML_NAME);
	aml_namestring(a, path);
	aml_byte(a, AML_BUFFER);
	at = aml_open(a);
	aml_integer(a, n);
	aml_put(a, bytes, n);
	aml_close(a, at);
}

/* An EISA ID such as "PNP0501", compressed into the 32-bit form _HID
 * takes: three letters of five bits, four hex digits, big-endian. */
static uint32_t eisa_id(const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t v = (uint32_t)(id[0] - 0x40) << 26 | (uint32_t)(id[1] - 0x40) << 21 |
		     (uint32_t)(id[2] - 0x40) << 16;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)(strchr(hex, id[3 + i]) - hex) << (12 - 4 * i);
	return __builtin_bswap32(v);
}

/* Resource template pieces (6.4): I/O ports with 16-bit decode, an IRQ
 * without flags (ISA: edge, active high), the end tag. */
static size_t res_io(uint8_t *p, uint16_t base, uint8_t len)
{
	p[0] = 0x47;
	p[1] = 0x01;
	le_put16(p + 2, base);
	le_put16(p + 4, base);
	p[6] = 0x01;
	p[7] = len;
	return 8;
}

static size_t res_irq(uint8_t *p, unsigned irq)
{
	p[0] = 0x22;
	le_put16(p + 1, (uint16_t)(1u << irq));
	return 3;
}

static size_t res_end(uint8_t *p)
{
	p[0] = 0x79;
	p[1] = 0x00; /* checksum 0: "treat as correct" */
	return 2;
}

/* Address space descriptors (6.4.3.5.2-3) for a bridge's windows: the
 * ranges it forwards (a producer; the minimum and maximum fixed). Type 0
 * memory, 1 I/O, 2 bus numbers. */
#define RES_MEM 0
#define RES_IO 1
#define RES_BUS 2

static size_t res_word(uint8_t *p, uint8_t type, uint8_t type_flags, uint16_t min,
		       uint16_t max)
{
	p[0] = 0x88;
	le_put16(p + 1, 13);
	p[3] = type;
	p[4] = 0x0c; /* _MIF, _MAF; positive decode; producer */
	p[5] = type_flags;
	le_put16(p + 6, 0);             /* granularity */
	le_put16(p + 8, min);
	le_put16(p + 10, max);
	le_put16(p + 12, 0);            /* translation */
	le_put16(p + 14, (uint16_t)(max - min + 1));
	return 16;
}

static size_t res_dword(uint8_t *p, uint8_t type, uint8_t type_flags, uint32_t min,
			uint32_t max)
{
	p[0] = 0x87;
	le_put16(p + 1, 23);
	p[3] = type;
	p[4] = 0x0c;
	p[5] = type_flags;
	le_put32(p + 6, 0);
	le_put32(p + 10, min);
	le_put32(p + 14, max);
	le_put32(p + 18, 0);
	le_put32(p + 22, max - min + 1);
	return 26;
}

/* Device(name) { _HID, _UID (if uid), _CRS } */
static void aml_isa_device(struct aml *a, const char *name, const char *hid,
			   unsigned uid, const uint8_t *crs, size_t crs_len)
{
	size_t at;
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	at = aml_open(a);
	aml_namestring(a, name);
	aml_name_int(a, "_HID", eisa_id(hid));
	if (uid)
		aml_name_int(a, "_UID", uid);
	aml_name_buffer(a, "_CRS", crs, crs_len);
	aml_close(a, at);
}

/* ---- PCI interrupt routing: _PRT and the PIIX3's link devices ----
 *
 * Each slot's INTA#-INTD# reaches one of PIRQA#-PIRQD# (pci_intx_pirq()),
 * and PIRQRC[A-D] (the PIIX3's config bytes 0x60-0x63) route those to ISA
 * IRQs. The OS sees that as four interrupt link devices (PNP0C0F) LNKA-
 * LNKD whose methods read and write those bytes through a PCI_Config
 * region of 00:01.0: _STA (routed or not), _CRS (the IRQ now), _PRS
 * (IRQs 5, 10, 11, level, active high and shared, as QEMU offers them),
 * _SRS and _DIS. The MADT says the same of IRQs 5, 10 and 11 for the
 * IOAPIC. */
#define LINK_IRQS {5, 10, 11}

/* An extended interrupt descriptor (6.4.3.6): consumer, level, active
 * high, shared, with `n` IRQs; then the end tag. */
static size_t res_link_irqs(uint8_t *p, const uint8_t *irq, unsigned n)
{
	p[0] = 0x89;
	le_put16(p + 1, (uint16_t)(2 + 4 * n));
	p[3] = 0x09;          /* consumer | shared; level and active high are 0 */
	p[4] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		le_put32(p + 5 + 4 * i, irq[i]);
	return 5 + 4 * n;
}

static void aml_method(struct aml *a, const char *name, unsigned args, size_t *at)
{
	aml_byte(a, AML_METHOD);
	*at = aml_open(a);
	aml_namestring(a, name);
	aml_byte(a, (uint8_t)args);
}

/* Device(LNKx) for PIRQ n, its routing byte called PRQn. */
static void aml_link_device(struct aml *a, unsigned n)
{
	static const uint8_t irqs[] = LINK_IRQS;
	char name[5] = "LNKA", prq[5] = "PRQ0";
	uint8_t res[64];
	size_t at, m, m2, len;

	name[3] = (char)('A' + n);
	prq[3] = (char)('0' + n);
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	at = aml_open(a);
	aml_namestring(a, name);
	aml_name_int(a, "_HID", eisa_id("PNP0C0F"));
	aml_name_int(a, "_UID", n);
	len = res_link_irqs(res, irqs, sizeof(irqs));
	len += res_end(res + len);
	aml_name_buffer(a, "_PRS", res, len);

	/* _STA: If (LLess (PRQn, 0x80)) { Return (0x0B) } Return (0x09):
	 * present and decoding when routed, present and off when not. */
	aml_method(a, "_STA", 0, &m);
	aml_byte(a, AML_IF);
	m2 = aml_open(a);
	aml_byte(a, AML_LLESS);
	aml_namestring(a, prq);
	aml_integer(a, 0x80);
	aml_byte(a, AML_RETURN);
	aml_integer(a, 0x0b);
	aml_close(a, m2);
	aml_byte(a, AML_RETURN);
	aml_integer(a, 0x09);
	aml_close(a, m);

	/* _DIS: Or (PRQn, 0x80, PRQn) */
	aml_method(a, "_DIS", 0, &m);
	aml_byte(a, AML_OR);
	aml_namestring(a, prq);
	aml_integer(a, 0x80);
	aml_namestring(a, prq);
	aml_close(a, m);

	/* _CRS: a one-IRQ template; If (LLess (PRQn, 0x80)) { Store (And
	 * (PRQn, 0x0F), PRRI) } Return (PRR0). */
	aml_method(a, "_CRS", 0x08, &m); /* serialized: it creates PRR0 */
	len = res_link_irqs(res, (const uint8_t[]){0}, 1);
	len += res_end(res + len);
	aml_name_buffer(a, "PRR0", res, len);
	aml_byte(a, AML_CREATE_DWORD_FIELD);
	aml_namestring(a, "PRR0");
	aml_integer(a, 5);
	aml_namestring(a, "PRRI");
	aml_byte(a, AML_IF);
	m2 = aml_open(a);
	aml_byte(a, AML_LLESS);
	aml_namestring(a, prq);
	aml_integer(a, 0x80);
	aml_byte(a, AML_STORE);
	aml_byte(a, AML_AND);
	aml_namestring(a, prq);
	aml_integer(a, 0x0f);
	aml_byte(a, AML_ZERO);   /* no target */
	aml_namestring(a, "PRRI");
	aml_close(a, m2);
	aml_byte(a, AML_RETURN);
	aml_namestring(a, "PRR0");
	aml_close(a, m);

	/* _SRS (1): CreateDWordField (Arg0, 5, PRRI); Store (PRRI, PRQn) */
	aml_method(a, "_SRS", 1, &m);
	aml_byte(a, AML_CREATE_DWORD_FIELD);
	aml_byte(a, AML_ARG0);
	aml_integer(a, 5);
	aml_namestring(a, "PRRI");
	aml_byte(a, AML_STORE);
	aml_namestring(a, "PRRI");
	aml_namestring(a, prq);
	aml_close(a, m);
	aml_close(a, at);
}

/* Name(_PRT, Package() { Package() { 0xSSSSFFFF, pin, LNKx, 0 }, ... })
 * for every slot and pin. */
static void aml_prt(struct aml *a)
{
	size_t at, e;
	aml_byte(a, AML_NAME);
	aml_namestring(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	at = aml_open(a);
	aml_byte(a, 128);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			char link[5] = "LNKA";
			link[3] = (char)('A' + pci_intx_pirq(slot, pin + 1));
			aml_byte(a, AML_PACKAGE);
			e = aml_open(a);
			aml_byte(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_namestring(a, link);
			aml_integer(a, 0);
			aml_close(a, e);
		}
	}
	aml_close(a, at);
}

/* In PCI0: Device(ISA) { Name(_ADR, 0x00010000) OperationRegion(P40C,
 * PCI_Config, 0x60, 4) }. */
static void aml_pirq_region(struct aml *a)
{
	size_t at;
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_DEVICE);
	at = aml_open(a);
	aml_namestring(a, "ISA");
	aml_name_int(a, "_ADR", 0x00010000);
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_OP_REGION);
	aml_namestring(a, "P40C");
	aml_byte(a, AML_REGION_PCI_CONFIG);
	aml_integer(a, 0x60);
	aml_integer(a, 4);
	aml_close(a, at);
}

/* In \_SB, beside the link devices that use it: Field(PCI0.ISA.P40C,
 * ByteAcc, NoLock, Preserve) { PRQ0, 8, PRQ1, 8, PRQ2, 8, PRQ3, 8 }. */
static void aml_pirq_field(struct aml *a)
{
	size_t at;
	aml_byte(a, AML_EXT);
	aml_byte(a, AML_EXT_FIELD);
	at = aml_open(a);
	aml_namestring(a, "PCI0.ISA.P40C");
	aml_byte(a, 0x01);       /* ByteAcc, NoLock, Preserve */
	for (unsigned i = 0; i < 4; i++) {
		char f[5] = "PRQ0";
		f[3] = (char)('0' + i);
		aml_put(a, f, 4);
		aml_byte(a, 8);  /* bits */
	}
	aml_close(a, at);
}

static const uint16_t com_port[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
static const uint8_t com_irq[4] = {4, 3, 4, 3};

/* The DSDT's definition block: the sleep states the chipset decodes and
 * the ISA devices. */
static void dsdt_aml(const struct acpi_config *c, struct aml *a)
{
	static const uint64_t s0[4] = {ACPI_PM_SLP_TYP_S0, ACPI_PM_SLP_TYP_S0, 0, 0};
	static const uint64_t s5[4] = {ACPI_PM_SLP_TYP_S5, ACPI_PM_SLP_TYP_S5, 0, 0};
	uint8_t crs[32], pci[128];
	size_t n, at;

	aml_name_package(a, "\\_S0", s0, 4);
	aml_name_package(a, "\\_S5", s5, 4);

	aml_byte(a, AML_SCOPE);
	at = aml_open(a);
	aml_namestring(a, "\\_SB");

	/* The PCI root bridge (the i440FX): bus 0, the configuration ports,
	 * and the windows it forwards to PCI: I/O but for those ports, the
	 * legacy VGA window, and the hole from the end of low RAM to the
	 * IOAPIC, so an OS takes the firmware's assignments inside them. */
	n = res_word(pci, RES_BUS, 0, 0x00, 0xff);
	n += res_io(pci + n, 0xcf8, 8);
	n += res_word(pci + n, RES_IO, 0x03, 0x0000, 0x0cf7);
	n += res_word(pci + n, RES_IO, 0x03, 0x0d00, 0xffff);
	n += res_dword(pci + n, RES_MEM, 0x03, 0xa0000, 0xbffff);
	if (c->pci_hole_start && c->pci_hole_start < 0xfec00000u)
		n += res_dword(pci + n, RES_MEM, 0x03, c->pci_hole_start, 0xfebfffff);
	n += res_end(pci + n);
	{
		size_t dev;
		aml_byte(a, AML_EXT);
		aml_byte(a, AML_EXT_DEVICE);
		dev = aml_open(a);
		aml_namestring(a, "PCI0");
		aml_name_int(a, "_HID", eisa_id("PNP0A03"));
		aml_name_buffer(a, "_CRS", pci, n);
		aml_prt(a);
		aml_pirq_region(a);
		aml_close(a, dev);
	}
	aml_pirq_field(a);
	for (unsigned i = 0; i < 4; i++)
		aml_link_device(a, i);

	n = res_io(crs, 0x70, 2);
	n += res_irq(crs + n, 8);
	n += res_end(crs + n);
	aml_isa_device(a, "RTC", "PNP0B00", 0, crs, n);

	n = res_io(crs, 0x60, 1);
	n += res_io(crs + n, 0x64, 1);
	n += res_irq(crs + n, 1);
	n += res_end(crs + n);
	aml_isa_device(a, "KBD", "PNP0303", 0, crs, n);

	n = res_irq(crs, 12);
	n += res_end(crs + n);
	aml_isa_device(a, "MOU", "PNP0F13", 0, crs, n);

	for (unsigned i = 0; i < c->n_com && i < 4; i++) {
		char name[5] = "COM1";
		name[3] = (char)('1' + i);
		n = res_io(crs, com_port[i], 8);
		n += res_irq(crs + n, com_irq[i]);
		n += res_end(crs + n);
		aml_isa_device(a, name, "PNP0501", i + 1, crs, n);
	}
	aml_close(a, at);
}

/* ---- tables ---- */

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le_put32(t + 4, len);
	t[8] = rev;
	t[9] = 0; /* checksum, set last */
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	le_put32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	le_put32(t + 32, 1);
}

static void seal(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 |
		       (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
	t[9] = 0;
	t[9] = table_checksum(t, len);
}

/* A Generic Address Structure in system I/O space. */
static void gas_io(uint8_t *p, uint8_t bit_width, uint8_t access, uint64_t port)
{
	p[0] = 1; /* SystemIO */
	p[1] = bit_width;
	p[2] = 0;
	p[3] = access;
	le_put64(p + 4, port);
}

/* FADT flags (5.2.9, table 5.10) */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)    /* no RTC wake status in PM1 */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)
#define BOOT_VGA_NOT_PRESENT (1u << 2)

static void build_fadt(const struct acpi_config *c, uint8_t *t, uint32_t facs,
		       uint32_t dsdt)
{
	uint16_t pm = ACPI_PM_BASE;
	uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON |
			 FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_RESET_REG_SUP;

	if (c->pm_tmr_32bit)
		flags |= FADT_TMR_VAL_EXT;
	header(t, "FACP", FADT_LEN, FADT_REVISION);
	le_put32(t + 36, facs);
	le_put32(t + 40, dsdt);
	t[45] = 0;                     /* Preferred_PM_Profile: unspecified */
	le_put16(t + 46, ACPI_SCI_IRQ);
	le_put32(t + 48, 0);              /* SMI_CMD: always in ACPI mode */
	le_put32(t + 56, pm);             /* PM1a_EVT_BLK */
	le_put32(t + 64, pm + ACPI_PM_CNT_OFF);
	le_put32(t + 76, pm + ACPI_PM_TMR_OFF);
	le_put32(t + 80, ACPI_GPE0_BASE);
	t[88] = ACPI_PM_EVT_LEN;
	t[89] = ACPI_PM_CNT_LEN;
	t[91] = ACPI_PM_TMR_LEN;
	t[92] = ACPI_GPE0_LEN;
	le_put16(t + 96, 101);            /* P_LVL2_LAT > 100: no C2 */
	le_put16(t + 98, 1001);           /* P_LVL3_LAT > 1000: no C3 */
	t[108] = 0x32;                 /* CENTURY: the RTC's century byte */
	le_put16(t + 109, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT);
	le_put32(t + 112, flags);
	gas_io(t + 116, 8, 1, ACPI_RESET_PORT);
	t[128] = ACPI_RESET_VALUE;
	/* X_FIRMWARE_CTRL stays 0: the spec wants one FACS pointer, and the
	 * 32-bit one reaches it. */
	le_put64(t + 140, dsdt);          /* X_DSDT */
	/* The X_ blocks say what the 32-bit fields say, access size left
	 * to the OS as for the legacy fields. */
	gas_io(t + 148, 8 * ACPI_PM_EVT_LEN, 0, pm);
	gas_io(t + 172, 8 * ACPI_PM_CNT_LEN, 0, pm + ACPI_PM_CNT_OFF);
	gas_io(t + 208, 8 * ACPI_PM_TMR_LEN, 0, pm + ACPI_PM_TMR_OFF);
	gas_io(t + 220, 8 * ACPI_GPE0_LEN, 0, ACPI_GPE0_BASE);
	seal(t);
}

/* MADT entry types */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_PCAT_COMPAT 1u
/* MPS INTI flags: polarity bits 0-1, trigger mode bits 2-3 */
#define INTI_ACTIVE_HIGH 0x1
#define INTI_LEVEL 0xc

static size_t build_madt(uint8_t *t)
{
	size_t n = HDR_LEN;

	le_put32(t + n, LAPIC_BASE);
	le_put32(t + n + 4, MADT_PCAT_COMPAT);
	n += 8;

	t[n] = MADT_LAPIC;
	t[n + 1] = 8;
	t[n + 2] = 0;          /* ACPI processor UID */
	t[n + 3] = 0;          /* APIC ID */
	le_put32(t + n + 4, 1);   /* enabled */
	n += 8;

	t[n] = MADT_IOAPIC;
	t[n + 1] = 12;
	t[n + 2] = IOAPIC_ID;
	t[n + 3] = 0;
	le_put32(t + n + 4, IOAPIC_BASE);
	le_put32(t + n + 8, 0);   /* GSI base */
	n += 12;

	/* The PIT's IRQ 0 is wired to pin 2 (pin 0 carries the 8259A's
	 * ExtINT on a PC), with the bus's own polarity and trigger. */
	t[n] = MADT_ISO;
	t[n + 1] = 10;
	t[n + 2] = 0;          /* ISA */
	t[n + 3] = 0;
	le_put32(t + n + 4, 2);
	le_put16(t + n + 8, 0);
	n += 10;

	/* The SCI, and the IRQs the PCI links route to (LINK_IRQS): level-
	 * triggered, active high, as ACPI and the links' _PRS have them. */
	{
		static const uint8_t level_irqs[] = {ACPI_SCI_IRQ, 5, 10, 11};
		for (unsigned i = 0; i < sizeof(level_irqs); i++) {
			t[n] = MADT_ISO;
			t[n + 1] = 10;
			t[n + 2] = 0;
			t[n + 3] = level_irqs[i];
			le_put32(t + n + 4, level_irqs[i]);
			le_put16(t + n + 8, INTI_ACTIVE_HIGH | INTI_LEVEL);
			n += 10;
		}
	}

	t[n] = MADT_LAPIC_NMI;
	t[n + 1] = 6;
	t[n + 2] = 0xff;       /* every processor */
	le_put16(t + n + 3, 0);   /* conforms to the bus: edge, high */
	t[n + 5] = 1;          /* LINT1 */
	n += 6;

	header(t, "APIC", (uint32_t)n, 1);
	seal(t);
	return n;
}

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

long acpi_build(const struct acpi_config *c, uint32_t base, uint8_t *buf,
		size_t cap, uint32_t *rsdp)
{
	/* Fixed places for the fixed-size tables; the DSDT last. */
	const size_t o_rsdp = 0, o_facs = 0x40, o_rsdt = 0x80, o_xsdt = 0xc0,
		     o_fadt = 0x100, o_madt = o_fadt + align16(FADT_LEN);
	size_t o_dsdt, madt_len, end;
	struct aml a;
	uint8_t *t;

	if (base & 15)
		return -EINVAL;
	if (cap < o_madt + 256)
		return -ENOSPC;
	memset(buf, 0, cap);

	madt_len = build_madt(buf + o_madt);
	o_dsdt = align16(o_madt + madt_len);
	a = (struct aml){buf + o_dsdt + HDR_LEN, 0, cap - o_dsdt - HDR_LEN, false};
	dsdt_aml(c, &a);
	if (a.overflow)
		return -ENOSPC;
	header(buf + o_dsdt, "DSDT", (uint32_t)(HDR_LEN + a.len), 2);
	seal(buf + o_dsdt);
	end = o_dsdt + HDR_LEN + a.len;

	t = buf + o_facs;
	memcpy(t, "FACS", 4);
	le_put32(t + 4, FACS_LEN);
	t[32] = 1; /* version: ACPI 2.0 layout */

	build_fadt(c, buf + o_fadt, base + (uint32_t)o_facs, base + (uint32_t)o_dsdt);

	t = buf + o_rsdt;
	header(t, "RSDT", HDR_LEN + 2 * 4, 1);
	le_put32(t + HDR_LEN, base + (uint32_t)o_fadt);
	le_put32(t + HDR_LEN + 4, base + (uint32_t)o_madt);
	seal(t);

	t = buf + o_xsdt;
	header(t, "XSDT", HDR_LEN + 2 * 8, 1);
	le_put64(t + HDR_LEN, base + o_fadt);
	le_put64(t + HDR_LEN + 8, base + o_madt);
	seal(t);

	t = buf + o_rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2; /* revision: ACPI 2.0+, with the XSDT */
	le_put32(t + 16, base + (uint32_t)o_rsdt);
	le_put32(t + 20, 36);
	le_put64(t + 24, base + o_xsdt);
	t[8] = table_checksum(t, 20);
	t[32] = table_checksum(t, 36);

	*rsdp = base + (uint32_t)o_rsdp;
	return (long)end;
}

/* ---- the firmware's table loader (QEMU's etc/table-loader) ---- */

enum { LOADER_ALLOCATE = 1, LOADER_ADD_POINTER = 2, LOADER_ADD_CHECKSUM = 3 };
enum { LOADER_ZONE_HIGH = 1, LOADER_ZONE_FSEG = 2 };

#define FILE_RSDP "etc/acpi/rsdp"
#define FILE_TABLES "etc/acpi/tables"

static uint8_t *loader_cmd(struct acpi_blobs *b, uint32_t type)
{
	uint8_t *p = b->loader + b->loader_len;
	if (b->loader_len + ACPI_LOADER_CMD_LEN > sizeof(b->loader))
		return NULL;
	b->loader_len += ACPI_LOADER_CMD_LEN;
	memset(p, 0, ACPI_LOADER_CMD_LEN);
	le_put32(p, type);
	return p;
}

static int loader_allocate(struct acpi_blobs *b, const char *file, uint32_t align,
			   uint8_t zone)
{
	uint8_t *p = loader_cmd(b, LOADER_ALLOCATE);
	if (!p)
		return -ENOSPC;
	memcpy(p + 4, file, strlen(file));
	le_put32(p + 4 + ACPI_LOADER_FILE_LEN, align);
	p[8 + ACPI_LOADER_FILE_LEN] = zone;
	return 0;
}

/* dest's `size`-byte field at `offset` gets src's address added. */
static int loader_pointer(struct acpi_blobs *b, const char *dest, const char *src,
			  uint32_t offset, uint8_t size)
{
	uint8_t *p = loader_cmd(b, LOADER_ADD_POINTER);
	if (!p)
		return -ENOSPC;
	memcpy(p + 4, dest, strlen(dest));
	memcpy(p + 4 + ACPI_LOADER_FILE_LEN, src, strlen(src));
	le_put32(p + 4 + 2 * ACPI_LOADER_FILE_LEN, offset);
	p[8 + 2 * ACPI_LOADER_FILE_LEN] = size;
	return 0;
}

/* The byte at `offset` is fixed so that [start, start + len) sums to 0. */
static int loader_checksum(struct acpi_blobs *b, const char *file, uint32_t offset,
			   uint32_t start, uint32_t len)
{
	uint8_t *p = loader_cmd(b, LOADER_ADD_CHECKSUM);
	if (!p)
		return -ENOSPC;
	memcpy(p + 4, file, strlen(file));
	le_put32(p + 4 + ACPI_LOADER_FILE_LEN, offset);
	le_put32(p + 8 + ACPI_LOADER_FILE_LEN, start);
	le_put32(p + 12 + ACPI_LOADER_FILE_LEN, len);
	return 0;
}


int acpi_build_blobs(const struct acpi_config *c, struct acpi_blobs *out)
{
	uint8_t *buf = out->tables;
	uint32_t rsdp, o_rsdt, o_xsdt, o_fadt, o_madt, o_dsdt;
	long len;
	int r = 0;

	memset(out, 0, sizeof(*out));
	/* At address 0 every pointer in the tables is its target's offset. */
	len = acpi_build(c, 0, buf, sizeof(out->tables), &rsdp);
	if (len < 0)
		return (int)len;
	out->tables_len = (size_t)len;
	memcpy(out->rsdp, buf + rsdp, sizeof(out->rsdp));
	memset(buf + rsdp, 0, sizeof(out->rsdp)); /* one RSDP: the F-segment one */
	o_rsdt = le_get32(out->rsdp + 16);
	o_xsdt = le_get32(out->rsdp + 24);
	o_fadt = le_get32(buf + o_rsdt + HDR_LEN);
	o_madt = le_get32(buf + o_rsdt + HDR_LEN + 4);
	o_dsdt = le_get32(buf + o_fadt + 40);

	r = loader_allocate(out, FILE_TABLES, 64, LOADER_ZONE_HIGH);
	r = r ? r : loader_allocate(out, FILE_RSDP, 16, LOADER_ZONE_FSEG);
	r = r ? r : loader_pointer(out, FILE_TABLES, FILE_TABLES, o_fadt + 36, 4); /* FACS */
	r = r ? r : loader_pointer(out, FILE_TABLES, FILE_TABLES, o_fadt + 40, 4); /* DSDT */
	r = r ? r : loader_pointer(out, FILE_TABLES, FILE_TABLES, o_fadt + 140, 8); /* X_DSDT */
	r = r ? r : loader_checksum(out, FILE_TABLES, o_fadt + 9, o_fadt, le_get32(buf + o_fadt + 4));
	r = r ? r : loader_checksum(out, FILE_TABLES, o_madt + 9, o_madt, le_get32(buf + o_madt + 4));
	r = r ? r : loader_checksum(out, FILE_TABLES, o_dsdt + 9, o_dsdt, le_get32(buf + o_dsdt + 4));
	for (unsigned i = 0; i < 2 && !r; i++)
		r = loader_pointer(out, FILE_TABLES, FILE_TABLES, o_rsdt + HDR_LEN + 4 * i, 4);
	r = r ? r : loader_checksum(out, FILE_TABLES, o_rsdt + 9, o_rsdt, le_get32(buf + o_rsdt + 4));
	for (unsigned i = 0; i < 2 && !r; i++)
		r = loader_pointer(out, FILE_TABLES, FILE_TABLES, o_xsdt + HDR_LEN + 8 * i, 8);
	r = r ? r : loader_checksum(out, FILE_TABLES, o_xsdt + 9, o_xsdt, le_get32(buf + o_xsdt + 4));
	r = r ? r : loader_pointer(out, FILE_RSDP, FILE_TABLES, 16, 4);
	r = r ? r : loader_pointer(out, FILE_RSDP, FILE_TABLES, 24, 8);
	/* The 20-byte checksum first: the extended one covers its byte. */
	r = r ? r : loader_checksum(out, FILE_RSDP, 8, 0, 20);
	r = r ? r : loader_checksum(out, FILE_RSDP, 32, 0, 36);
	return r;
}

int acpi_install(const struct acpi_config *c, const struct guest_mem *gm,
		 uint32_t *rsdp)
{
	uint8_t buf[ACPI_TABLES_MAX];
	long n = acpi_build(c, ACPI_TABLES_BASE, buf, sizeof(buf), rsdp);
	if (n < 0)
		return (int)n;
	return guest_mem_write(gm, ACPI_TABLES_BASE, buf, (uint64_t)n);
}
