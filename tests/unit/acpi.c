/* The board's ACPI tables, read back the way an OS reads them: the RSDP
 * found by a scan of the BIOS area and through boot_params, both its
 * checksums, every table's signature, length and checksum through the
 * RSDT and the XSDT, the FADT's fields, the MADT's entries, and the
 * DSDT's AML decoded by an independent reader (\_S0, \_S5, the ISA
 * devices' _HID and _CRS); the tables inside memory the e820 map
 * reserves; a buffer too small is refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "vmm/acpi.h"
#include "vmm/linux_boot.h"
#include "vmm/platform/acpi_pm.h"

#define MiB (1ull << 20)

static uint32_t r16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t r32(const uint8_t *p)
{
	return r16(p) | r16(p + 2) << 16;
}

static uint64_t r64(const uint8_t *p)
{
	return r32(p) | (uint64_t)r32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The tables as the guest sees them: an image of guest-physical memory
 * from `base`. */
struct img {
	const uint8_t *p;
	uint32_t base;
	size_t len;
};

static const uint8_t *at(const struct img *m, uint64_t addr, size_t n)
{
	if (addr < m->base || addr - m->base > m->len || n > m->len - (addr - m->base))
		return NULL;
	return m->p + (addr - m->base);
}

/* A table by address, checked: inside the image, length at least the
 * header, checksum 0. */
static const uint8_t *table(const struct img *m, uint64_t addr, const char *sig,
			    bool *ok)
{
	const uint8_t *t = at(m, addr, 36);
	if (!t || memcmp(t, sig, 4) || !at(m, addr, r32(t + 4)) || r32(t + 4) < 36 ||
	    sum(t, r32(t + 4)) != 0) {
		*ok = false;
		return NULL;
	}
	return t;
}

/* ---- an AML reader, just enough for the DSDT ---- */

struct aml_rd {
	const uint8_t *p, *end;
	bool bad;
};

static uint8_t a_byte(struct aml_rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

/* PkgLength: returns where the package ends. */
static const uint8_t *a_pkglen(struct aml_rd *r)
{
	const uint8_t *start = r->p;
	uint8_t lead = a_byte(r);
	unsigned follow = lead >> 6;
	size_t len = follow ? lead & 0xf : lead & 0x3f;
	for (unsigned i = 0; i < follow; i++)
		len |= (size_t)a_byte(r) << (4 + 8 * i);
	if (len > (size_t)(r->end - start)) {
		r->bad = true;
		return r->end;
	}
	return start + len;
}

/* A NameString as text: "\_SB_.COM1". */
static void a_name(struct aml_rd *r, char *out, size_t cap)
{
	size_t n = 0;
	unsigned segs = 1;
	uint8_t c = a_byte(r);
	if (c == '\\') {
		if (n + 1 < cap)
			out[n++] = '\\';
		c = a_byte(r);
	}
	if (c == 0x2e) {
		segs = 2;
	} else if (c == 0x2f) {
		segs = a_byte(r);
	} else {
		r->p--;
	}
	for (unsigned s = 0; s < segs && !r->bad; s++) {
		if (s && n + 1 < cap)
			out[n++] = '.';
		for (unsigned i = 0; i < 4; i++) {
			c = a_byte(r);
			if (n + 1 < cap)
				out[n++] = (char)c;
		}
	}
	out[n] = 0;
}

static uint64_t a_int(struct aml_rd *r)
{
	uint8_t op = a_byte(r);
	uint64_t v = 0;
	unsigned n;
	switch (op) {
	case 0x00:
		return 0;
	case 0x01:
		return 1;
	case 0xff:
		return ~0ull;
	case 0x0a:
		n = 1;
		break;
	case 0x0b:
		n = 2;
		break;
	case 0x0c:
		n = 4;
		break;
	case 0x0e:
		n = 8;
		break;
	default:
		r->bad = true;
		return 0;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)a_byte(r) << (8 * i);
	return v;
}

/* What the reader finds: named integers, packages, buffers, with their
 * full paths. */
#define MAXN 128
struct found {
	char path[64];
	int kind; /* 'I' integer, 'P' package, 'B' buffer */
	uint64_t v[8];
	unsigned n;
	uint8_t buf[160];
	size_t blen;
};

struct prt_entry {
	uint64_t addr, pin, source_index;
	char source[16];
};

struct aml_out {
	struct found f[MAXN];
	unsigned n;
	unsigned devices;
	struct prt_entry prt[160];
	unsigned n_prt;
};

static void a_termlist(struct aml_rd *r, const uint8_t *end, const char *scope,
		       struct aml_out *o);

static void a_object(struct aml_rd *r, const char *path, struct aml_out *o)
{
	struct found *f = o->n < MAXN ? &o->f[o->n++] : NULL;
	uint8_t op = *r->p;
	const uint8_t *end;
	struct found dummy;

	if (!f)
		f = &dummy;
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	if (op == 0x12) {
		r->p++;
		end = a_pkglen(r);
		f->kind = 'P';
		f->n = a_byte(r);
		for (unsigned i = 0; i < f->n && r->p < end && !r->bad; i++) {
			if (*r->p == 0x12) {
				/* a routing entry: {address, pin, source, index} */
				const uint8_t *e;
				struct prt_entry pe = {0};
				r->p++;
				e = a_pkglen(r);
				if (a_byte(r) != 4)
					r->bad = true;
				pe.addr = a_int(r);
				pe.pin = a_int(r);
				a_name(r, pe.source, sizeof(pe.source));
				pe.source_index = a_int(r);
				if (r->p != e)
					r->bad = true;
				if (o->n_prt < 160)
					o->prt[o->n_prt++] = pe;
			} else if (i < 8) {
				f->v[i] = a_int(r);
			} else {
				(void)a_int(r);
			}
		}
		if (r->p != end)
			r->bad = true;
	} else if (op == 0x11) {
		r->p++;
		end = a_pkglen(r);
		f->kind = 'B';
		f->blen = (size_t)a_int(r);
		if (f->blen > sizeof(f->buf) || f->blen != (size_t)(end - r->p)) {
			r->bad = true;
			r->p = end;
			return;
		}
		memcpy(f->buf, r->p, f->blen);
		r->p = end;
	} else {
		f->kind = 'I';
		f->v[0] = a_int(r);
	}
}

static void join(char *out, size_t cap, const char *scope, const char *name)
{
	if (name[0] == '\\')
		snprintf(out, cap, "%s", name);
	else
		snprintf(out, cap, "%s%s%s", scope, scope[1] ? "." : "", name);
}

static void a_termlist(struct aml_rd *r, const uint8_t *end, const char *scope,
		       struct aml_out *o)
{
	char name[48], path[64];
	const uint8_t *saved_end = r->end;
	r->end = end;
	while (r->p < end && !r->bad) {
		uint8_t op = a_byte(r);
		if (op == 0x08) { /* Name */
			a_name(r, name, sizeof(name));
			join(path, sizeof(path), scope, name);
			a_object(r, path, o);
		} else if (op == 0x10) { /* Scope */
			const uint8_t *e = a_pkglen(r);
			a_name(r, name, sizeof(name));
			join(path, sizeof(path), scope, name);
			a_termlist(r, e, path, o);
			r->end = end;
		} else if (op == 0x14) { /* Method: its name and flags; the body is
					  * the OS's to run, not this reader's */
			const uint8_t *e = a_pkglen(r);
			struct found *f = o->n < MAXN ? &o->f[o->n++] : NULL;
			a_name(r, name, sizeof(name));
			join(path, sizeof(path), scope, name);
			if (f) {
				memset(f, 0, sizeof(*f));
				snprintf(f->path, sizeof(f->path), "%s", path);
				f->kind = 'M';
				f->v[0] = a_byte(r);
			}
			r->p = e;
		} else if (op == 0x5b && r->p < end && *r->p == 0x80) { /* OperationRegion */
			struct found *f = o->n < MAXN ? &o->f[o->n++] : NULL;
			r->p++;
			a_name(r, name, sizeof(name));
			join(path, sizeof(path), scope, name);
			if (f) {
				memset(f, 0, sizeof(*f));
				snprintf(f->path, sizeof(f->path), "%s", path);
				f->kind = 'R';
				f->v[0] = a_byte(r);
				f->v[1] = a_int(r);
				f->v[2] = a_int(r);
			}
		} else if (op == 0x5b && r->p < end && *r->p == 0x81) { /* Field */
			const uint8_t *e;
			char region[48];
			uint64_t bit = 0;
			r->p++;
			e = a_pkglen(r);
			a_name(r, region, sizeof(region));
			(void)a_byte(r); /* flags */
			while (r->p < e && !r->bad) {
				struct found *f = o->n < MAXN ? &o->f[o->n++] : NULL;
				char seg[5] = {0};
				uint8_t lead;
				uint64_t bits;
				for (unsigned i = 0; i < 4; i++)
					seg[i] = (char)a_byte(r);
				/* the width, in a PkgLength's encoding */
				lead = a_byte(r);
				bits = lead >> 6 ? lead & 0xf : lead & 0x3f;
				for (unsigned i = 0; i < (unsigned)(lead >> 6); i++)
					bits |= (uint64_t)a_byte(r) << (4 + 8 * i);
				join(path, sizeof(path), scope, seg);
				if (f) {
					memset(f, 0, sizeof(*f));
					snprintf(f->path, sizeof(f->path), "%s", path);
					snprintf((char *)f->buf, sizeof(f->buf), "%s", region);
					f->kind = 'F';
					f->v[0] = bit;
					f->v[1] = bits;
				}
				bit += bits;
			}
			r->p = e;
		} else if (op == 0x5b && r->p < end && *r->p == 0x82) { /* Device */
			const uint8_t *e;
			r->p++;
			e = a_pkglen(r);
			a_name(r, name, sizeof(name));
			join(path, sizeof(path), scope, name);
			o->devices++;
			a_termlist(r, e, path, o);
			r->end = end;
		} else {
			r->bad = true;
		}
	}
	r->end = saved_end;
}

static const struct found *lookup(const struct aml_out *o, const char *path)
{
	for (unsigned i = 0; i < o->n; i++)
		if (!strcmp(o->f[i].path, path))
			return &o->f[i];
	return NULL;
}

/* The I/O base and IRQ a _CRS buffer describes (one of each expected;
 * io2 gets a second I/O range). */
static bool crs_decode(const struct found *f, unsigned *io, unsigned *iolen,
		       unsigned *io2, int *irq)
{
	size_t i = 0;
	bool end = false;
	*io = *iolen = *io2 = 0;
	*irq = -1;
	while (f && i < f->blen && !end) {
		uint8_t tag = f->buf[i];
		size_t len = tag & 7;
		if (tag & 0x80)
			return false; /* only small descriptors expected */
		switch (tag >> 3) {
		case 0x08: /* I/O port */
			if (len != 7 || r16(f->buf + i + 2) != r16(f->buf + i + 4))
				return false;
			if (*iolen)
				*io2 = r16(f->buf + i + 2);
			else {
				*io = r16(f->buf + i + 2);
				*iolen = f->buf[i + 7];
			}
			break;
		case 0x04: /* IRQ */
			if (len < 2 || !r16(f->buf + i + 1))
				return false;
			*irq = __builtin_ctz(r16(f->buf + i + 1));
			break;
		case 0x0f: /* end tag */
			end = true;
			break;
		default:
			return false;
		}
		i += 1 + len;
	}
	return end && i == f->blen;
}

/* The root bridge's _CRS: the bus range, the configuration ports, and
 * each window (a word or dword address space descriptor: its type and
 * [min, max], with the length matching) in the order v2e writes them. */
static bool pci_crs_ok(const struct found *f, uint32_t hole)
{
	static const struct {
		uint8_t tag, type;
		uint32_t min, max;
	} want[] = {
		{0x88, 2, 0, 0xff},          {0x47, 0, 0xcf8, 8},
		{0x88, 1, 0, 0xcf7},         {0x88, 1, 0xd00, 0xffff},
		{0x87, 0, 0xa0000, 0xbffff}, {0x87, 0, 0, 0xfebfffff},
	};
	size_t i = 0;
	if (!f || f->kind != 'B')
		return false;
	for (unsigned k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		const uint8_t *d = f->buf + i;
		uint32_t min = k == 5 ? hole : want[k].min;
		if (i + 8 > f->blen || d[0] != want[k].tag)
			return false;
		if (d[0] == 0x47) {
			if (r16(d + 2) != min || r16(d + 4) != min || d[7] != want[k].max)
				return false;
			i += 8;
		} else if (d[0] == 0x88) {
			if (i + 16 > f->blen || r16(d + 1) != 13 || d[3] != want[k].type ||
			    r16(d + 8) != min || r16(d + 10) != want[k].max ||
			    r16(d + 14) != (uint16_t)(want[k].max - min + 1))
				return false;
			i += 16;
		} else {
			if (i + 26 > f->blen || r16(d + 1) != 23 || d[3] != want[k].type ||
			    r32(d + 10) != min || r32(d + 14) != want[k].max ||
			    r32(d + 22) != want[k].max - min + 1)
				return false;
			i += 26;
		}
	}
	return i + 2 == f->blen && f->buf[i] == 0x79;
}

static void test_tables(struct tap *t, unsigned n_com)
{
	static uint8_t buf[ACPI_TABLES_MAX];
	struct acpi_config c = {.pm_tmr_32bit = false, .n_com = n_com,
				.pci_hole_start = 0x8000000};
	uint32_t rsdp = 0;
	long len = acpi_build(&c, ACPI_TABLES_BASE, buf, sizeof(buf), &rsdp);
	struct img m = {buf, ACPI_TABLES_BASE, len > 0 ? (size_t)len : 0};
	const uint8_t *p, *rsdt, *xsdt, *fadt = NULL, *madt = NULL, *dsdt, *facs;
	bool ok = true;
	unsigned n_rsdt, n_xsdt;

	tap_ok(t, len > 0 && len <= ACPI_TABLES_MAX, "tables built (%ld bytes)", len);
	p = at(&m, rsdp, 36);
	tap_ok(t, p && !(rsdp & 15) && !memcmp(p, "RSD PTR ", 8),
	       "RSDP at %#x, 16-byte aligned, signature", rsdp);
	if (!p)
		return;
	tap_ok(t, sum(p, 20) == 0 && sum(p, 36) == 0 && p[15] == 2 && r32(p + 20) == 36,
	       "RSDP: both checksums, revision 2, length 36");

	rsdt = table(&m, r32(p + 16), "RSDT", &ok);
	xsdt = table(&m, r64(p + 24), "XSDT", &ok);
	tap_ok(t, ok, "RSDT and XSDT: signature, length, checksum");
	if (!ok)
		return;
	n_rsdt = (r32(rsdt + 4) - 36) / 4;
	n_xsdt = (r32(xsdt + 4) - 36) / 8;
	tap_ok(t, n_rsdt == n_xsdt && n_rsdt == 2 && (r32(rsdt + 4) - 36) % 4 == 0 &&
		  (r32(xsdt + 4) - 36) % 8 == 0,
	       "two entries in each (%u, %u)", n_rsdt, n_xsdt);
	for (unsigned i = 0; i < n_rsdt; i++) {
		uint32_t a = r32(rsdt + 36 + 4 * i);
		const uint8_t *e = at(&m, a, 4);
		if (r64(xsdt + 36 + 8 * i) != a || !e)
			ok = false;
		else if (!memcmp(e, "FACP", 4))
			fadt = table(&m, a, "FACP", &ok);
		else if (!memcmp(e, "APIC", 4))
			madt = table(&m, a, "APIC", &ok);
		else
			ok = false;
	}
	tap_ok(t, ok && fadt && madt, "RSDT and XSDT agree: FACP and APIC, checksums good");
	if (!fadt || !madt)
		return;

	/* FADT */
	tap_ok(t, r32(fadt + 4) == 244 && fadt[8] == 3, "FADT revision 3, 244 bytes");
	tap_ok(t, r16(fadt + 46) == 9 && r32(fadt + 48) == 0 && fadt[52] == 0 && fadt[53] == 0,
	       "SCI_INT 9, no SMI_CMD (always in ACPI mode)");
	tap_ok(t, r32(fadt + 56) == 0x600 && r32(fadt + 60) == 0 && r32(fadt + 64) == 0x604 &&
		  r32(fadt + 68) == 0 && r32(fadt + 72) == 0 && r32(fadt + 76) == 0x608 &&
		  r32(fadt + 80) == 0xafe0 && r32(fadt + 84) == 0,
	       "PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608, GPE0 0xafe0, no b blocks");
	tap_ok(t, fadt[88] == 4 && fadt[89] == 2 && fadt[90] == 0 && fadt[91] == 4 &&
		  fadt[92] == 4 && fadt[93] == 0,
	       "block lengths 4, 2, 0, 4, 4, 0");
	tap_ok(t, r16(fadt + 96) > 100 && r16(fadt + 98) > 1000,
	       "no C2 or C3 (latencies %u, %u)", r16(fadt + 96), r16(fadt + 98));
	tap_ok(t, (r32(fadt + 112) & (1u << 10)) && !(r32(fadt + 112) & (1u << 8)),
	       "flags: RESET_REG_SUP, 24-bit timer (%#x)", r32(fadt + 112));
	tap_ok(t, fadt[116] == 1 && fadt[117] == 8 && fadt[118] == 0 && fadt[119] == 1 &&
		  r64(fadt + 120) == 0xcf9 && fadt[128] == 6,
	       "reset register: SystemIO 0xcf9, 8 bits, byte access, value 6");
	tap_ok(t, (r16(fadt + 109) & 3) == 3, "IA-PC boot flags: legacy devices, 8042");
	tap_ok(t, fadt[108] == 0x32, "CENTURY is CMOS 0x32");
	{
		static const unsigned x[4][3] = {{148, 0x600, 32}, {172, 0x604, 16},
						 {208, 0x608, 32}, {220, 0xafe0, 32}};
		bool xok = true;
		for (unsigned i = 0; i < 4; i++) {
			const uint8_t *g = fadt + x[i][0];
			if (g[0] != 1 || r64(g + 4) != x[i][1] || g[1] != x[i][2] || g[2] != 0)
				xok = false;
		}
		tap_ok(t, xok && r64(fadt + 160) == 0 && r64(fadt + 184) == 0 &&
			  r64(fadt + 196) == 0 && r64(fadt + 232) == 0,
		       "X_ blocks: SystemIO, same ports, bit widths = 8 x lengths");
	}
	facs = at(&m, r32(fadt + 36), 64);
	tap_ok(t, facs && !(r32(fadt + 36) & 63) && !memcmp(facs, "FACS", 4) &&
		  r32(facs + 4) == 64 && r64(fadt + 132) == 0,
	       "FACS: 64-byte aligned, 64 bytes, one pointer to it");
	dsdt = table(&m, r32(fadt + 40), "DSDT", &ok);
	tap_ok(t, dsdt && r64(fadt + 140) == r32(fadt + 40), "DSDT by both pointers, checksum");

	/* MADT */
	{
		size_t l = r32(madt + 4), i = 44;
		unsigned n_lapic = 0, n_ioapic = 0, n_nmi = 0, n_iso = 0;
		unsigned n_level = 0;
		bool iso0 = false, lapic_ok = false, ioapic_ok = false,
		     nmi_ok = false, walk = true;
		tap_ok(t, r32(madt + 36) == 0xfee00000 && (r32(madt + 40) & 1),
		       "MADT: LAPIC at 0xfee00000, PCAT_COMPAT");
		while (i + 2 <= l) {
			const uint8_t *e = madt + i;
			if (e[1] < 2 || i + e[1] > l) {
				walk = false;
				break;
			}
			switch (e[0]) {
			case 0:
				n_lapic++;
				lapic_ok = e[1] == 8 && e[3] == 0 && (r32(e + 4) & 1);
				break;
			case 1:
				n_ioapic++;
				ioapic_ok = e[1] == 12 && e[2] == 1 && r32(e + 4) == 0xfec00000 &&
					    r32(e + 8) == 0;
				break;
			case 2:
				n_iso++;
				if (e[1] == 10 && e[2] == 0 && e[3] == 0 && r32(e + 4) == 2 &&
				    r16(e + 8) == 0)
					iso0 = true;
				if (e[1] == 10 && e[2] == 0 && (e[3] == 9 || e[3] == 5 || e[3] == 10 ||
								 e[3] == 11) &&
				    r32(e + 4) == e[3] && r16(e + 8) == 0xd)
					n_level++;
				break;
			case 4:
				n_nmi++;
				nmi_ok = e[1] == 6 && e[2] == 0xff && e[5] == 1;
				break;
			default:
				walk = false;
			}
			i += e[1];
		}
		tap_ok(t, walk && i == l, "MADT entries fill the table exactly");
		tap_ok(t, n_lapic == 1 && lapic_ok, "one enabled LAPIC, ID 0");
		tap_ok(t, n_ioapic == 1 && ioapic_ok, "one IOAPIC, ID 1, 0xfec00000, GSI base 0");
		tap_ok(t, n_iso == 5 && iso0 && n_level == 4,
		       "overrides: IRQ 0 -> GSI 2 (bus default); IRQ 9 (SCI) and 5, 10, 11 "
		       "(the PCI links') level, active high");
		tap_ok(t, n_nmi == 1 && nmi_ok, "LAPIC NMI on LINT1 of every processor");
	}

	/* DSDT */
	if (dsdt) {
		struct aml_rd r = {dsdt + 36, dsdt + r32(dsdt + 4), false};
		static struct aml_out o;
		const struct found *s5, *s0;
		unsigned io, iolen, io2;
		int irq;
		bool dev_ok = true;

		memset(&o, 0, sizeof(o));
		a_termlist(&r, r.end, "\\", &o);
		tap_ok(t, !r.bad && r.p == r.end, "DSDT AML decodes to its end");
		s5 = lookup(&o, "\\_S5_");
		s0 = lookup(&o, "\\_S0_");
		tap_ok(t, s5 && s5->kind == 'P' && s5->n == 4 &&
			  s5->v[0] == ACPI_PM_SLP_TYP_S5 && s5->v[1] == ACPI_PM_SLP_TYP_S5 &&
			  s5->v[2] == 0 && s5->v[3] == 0,
		       "\\_S5 = Package {5, 5, 0, 0}: the SLP_TYP PM1_CNT decodes as S5");
		tap_ok(t, s0 && s0->kind == 'P' && s0->n == 4 && s0->v[0] == 0,
		       "\\_S0 = Package {0, 0, 0, 0}");
		tap_ok(t, o.devices == 9 + n_com, "%u devices under \\_SB (%u)", 9 + n_com,
		       o.devices);
		{
			bool prt_ok = o.n_prt == 128;
			for (unsigned i = 0; i < o.n_prt && prt_ok; i++) {
				const struct prt_entry *e = &o.prt[i];
				unsigned slot = (unsigned)(e->addr >> 16);
				char want[8] = "LNKA";
				want[3] = (char)('A' + ((slot + e->pin - 1) & 3));
				prt_ok = (e->addr & 0xffff) == 0xffff && slot < 32 && e->pin < 4 &&
					 !strcmp(e->source, want) && e->source_index == 0;
			}
			tap_ok(t, prt_ok, "_PRT: 32 slots x 4 pins, each to LNKA-D rotated by slot "
					  "as the PIIX3 wires them (%u entries)", o.n_prt);
		}
		{
			const struct found *adr = lookup(&o, "\\_SB_.PCI0.ISA_._ADR");
			const struct found *rg = lookup(&o, "\\_SB_.PCI0.ISA_.P40C");
			bool fields = true;
			for (unsigned i = 0; i < 4; i++) {
				char path[32];
				const struct found *f;
				snprintf(path, sizeof(path), "\\_SB_.PRQ%u", i);
				f = lookup(&o, path);
				fields = fields && f && f->kind == 'F' && f->v[0] == 8 * i &&
					 f->v[1] == 8 && !strcmp((const char *)f->buf, "PCI0.ISA_.P40C");
			}
			tap_ok(t, adr && adr->v[0] == 0x10000 && rg && rg->kind == 'R' &&
				       rg->v[0] == 2 && rg->v[1] == 0x60 && rg->v[2] == 4 && fields,
			       "PIRQRC A-D as PRQ0-3: bytes of a PCI_Config region at 0x60 of 00:01.0");
		}
		{
			bool links = true;
			for (unsigned i = 0; i < 4; i++) {
				static const char *const methods[] = {"_STA", "_DIS", "_CRS", "_SRS"};
				char base[32], path[48];
				const struct found *h, *u, *prs;
				snprintf(base, sizeof(base), "\\_SB_.LNK%c", 'A' + i);
				snprintf(path, sizeof(path), "%s._HID", base);
				h = lookup(&o, path);
				snprintf(path, sizeof(path), "%s._UID", base);
				u = lookup(&o, path);
				snprintf(path, sizeof(path), "%s._PRS", base);
				prs = lookup(&o, path);
				links = links && h && h->v[0] == 0x0f0cd041 && u && u->v[0] == i && prs &&
					prs->blen == 19 && prs->buf[0] == 0x89 && prs->buf[3] == 0x09 &&
					prs->buf[4] == 3 && r32(prs->buf + 5) == 5 &&
					r32(prs->buf + 9) == 10 && r32(prs->buf + 13) == 11;
				for (unsigned k = 0; k < 4; k++) {
					const struct found *f;
					snprintf(path, sizeof(path), "%s.%s", base, methods[k]);
					f = lookup(&o, path);
					links = links && f && f->kind == 'M' &&
						(f->v[0] & 7) == (k == 3 ? 1u : 0u);
				}
			}
			tap_ok(t, links, "LNKA-D: PNP0C0F, _UID 0-3, _PRS IRQs 5, 10, 11 (level, "
					 "active high, shared), _STA, _DIS, _CRS, _SRS");
		}
		{
			const struct found *h = lookup(&o, "\\_SB_.PCI0._HID");
			tap_ok(t, h && h->v[0] == 0x030ad041 &&
				  pci_crs_ok(lookup(&o, "\\_SB_.PCI0._CRS"), 0x8000000),
			       "PCI0 PNP0A03: bus 0-0xff, 0xcf8/8, I/O and memory windows "
			       "(the hole from the end of low RAM to 0xfebfffff)");
		}
		{
			const struct found *h = lookup(&o, "\\_SB_.RTC_._HID");
			crs_decode(lookup(&o, "\\_SB_.RTC_._CRS"), &io, &iolen, &io2, &irq);
			if (!h || h->v[0] != 0x000bd041 || io != 0x70 || iolen != 2 || irq != 8)
				dev_ok = false;
			h = lookup(&o, "\\_SB_.KBD_._HID");
			crs_decode(lookup(&o, "\\_SB_.KBD_._CRS"), &io, &iolen, &io2, &irq);
			if (!h || h->v[0] != 0x0303d041 || io != 0x60 || io2 != 0x64 || irq != 1)
				dev_ok = false;
			h = lookup(&o, "\\_SB_.MOU_._HID");
			crs_decode(lookup(&o, "\\_SB_.MOU_._CRS"), &io, &iolen, &io2, &irq);
			if (!h || h->v[0] != 0x130fd041 || irq != 12)
				dev_ok = false;
		}
		tap_ok(t, dev_ok, "RTC PNP0B00 0x70/IRQ 8, KBD PNP0303 0x60+0x64/IRQ 1, "
				  "MOU PNP0F13 IRQ 12");
		for (unsigned i = 0; i < n_com; i++) {
			static const unsigned port[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
			static const int cirq[4] = {4, 3, 4, 3};
			char path[64];
			const struct found *h, *u;
			snprintf(path, sizeof(path), "\\_SB_.COM%u._HID", i + 1);
			h = lookup(&o, path);
			snprintf(path, sizeof(path), "\\_SB_.COM%u._UID", i + 1);
			u = lookup(&o, path);
			snprintf(path, sizeof(path), "\\_SB_.COM%u._CRS", i + 1);
			if (!crs_decode(lookup(&o, path), &io, &iolen, &io2, &irq) || !h ||
			    h->v[0] != 0x0105d041 || !u || u->v[0] != i + 1 ||
			    io != port[i] || iolen != 8 || irq != cirq[i])
				dev_ok = false;
		}
		tap_ok(t, dev_ok, "COM1-COM%u: PNP0501, _UID, ports and IRQs", n_com);
	}
}

/* A minimal bzImage (protocol 2.15) for the loader. */
#define SETUP_LEN ((4 + 1) * 512)
#define PM_LEN 0x1000
static void make_bzimage(uint8_t *img)
{
	memset(img, 0, SETUP_LEN + PM_LEN);
	img[0x1f1] = 4;
	img[0x1f4] = (PM_LEN / 16) & 0xff;
	img[0x1f5] = (PM_LEN / 16) >> 8;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;
	img[0x207] = 0x02;
	img[0x211] = 0x01;
	img[0x238] = 0xff; /* cmdline_size */
	img[0x262] = 0x80; /* init_size 8 MiB */
}

static void test_in_ram(struct tap *t)
{
	struct guest_mem gm;
	static uint8_t img[SETUP_LEN + PM_LEN];
	struct linux_entry le;
	struct acpi_config c = {false, 1};
	char err[256];
	uint32_t rsdp = 0;
	uint8_t e820[128 * 20], bp_rsdp[8], n_e820 = 0, area[0x20000];
	bool in_reserved = false, found = false;
	long len;

	if (guest_mem_create(&gm, 64 * MiB) < 0) {
		tap_ok(t, 0, "guest RAM");
		return;
	}
	make_bzimage(img);
	tap_ok(t, linux_boot_load(&gm, img, sizeof(img), NULL, 0, "", &le, err, sizeof(err)) == 0,
	       "a bzImage loads (%s)", err);
	tap_ok(t, acpi_install(&c, &gm, &rsdp) == 0 && linux_boot_set_acpi_rsdp(&gm, rsdp) == 0,
	       "tables installed, boot_params told");
	len = acpi_build(&c, ACPI_TABLES_BASE, area, sizeof(area), &rsdp);
	if (guest_mem_read(&gm, LINUX_BOOT_PARAMS_ADDR + 0x70, bp_rsdp, 8) < 0 ||
	    guest_mem_read(&gm, LINUX_BOOT_PARAMS_ADDR + 0x1e8, &n_e820, 1) < 0 ||
	    guest_mem_read(&gm, LINUX_BOOT_PARAMS_ADDR + 0x2d0, e820, sizeof(e820)) < 0 ||
	    guest_mem_read(&gm, 0xe0000, area, sizeof(area)) < 0) {
		tap_ok(t, 0, "reading guest RAM");
		guest_mem_destroy(&gm);
		return;
	}
	tap_ok(t, r64(bp_rsdp) == rsdp, "boot_params.acpi_rsdp_addr = %#llx",
	       (unsigned long long)r64(bp_rsdp));
	for (unsigned i = 0; i < n_e820 && i < 128; i++) {
		const uint8_t *e = e820 + 20 * i;
		if (r32(e + 16) == 2 && r64(e) <= ACPI_TABLES_BASE &&
		    r64(e) + r64(e + 8) >= ACPI_TABLES_BASE + (uint64_t)len)
			in_reserved = true;
	}
	tap_ok(t, len > 0 && in_reserved, "the tables lie in an e820 reserved range");
	/* An OS without boot_params scans 0xe0000-0xfffff on 16-byte
	 * boundaries for a checksummed RSDP. */
	for (size_t off = 0; off + 20 <= sizeof(area); off += 16) {
		if (!memcmp(area + off, "RSD PTR ", 8) && sum(area + off, 20) == 0) {
			found = 0xe0000 + off == rsdp;
			break;
		}
	}
	tap_ok(t, found, "the BIOS-area scan finds the same RSDP first");
	guest_mem_destroy(&gm);
}

/* Runs etc/table-loader as SeaBIOS's romfile loader does, with the tables
 * placed at `tables_at` and the RSDP at `rsdp_at`, into one address space
 * `mem` (based at 0): the result must be what acpi_build() makes for a
 * firmware-less boot at the same place, byte for byte. */
static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_loader(struct tap *t)
{
	static struct acpi_blobs b;
	static uint8_t want[ACPI_TABLES_MAX], mem[0x100000];
	const uint32_t tables_at = 0x7fe0000 & 0xfffff, rsdp_at = 0xf5a30 & 0xfffff;
	struct acpi_config c = {.n_com = 2};
	uint32_t rsdp, allocs = 0, pointers = 0, sums = 0;
	bool known = true, sums_ok = true;
	long n;

	tap_ok(t, acpi_build_blobs(&c, &b) == 0 && b.loader_len % ACPI_LOADER_CMD_LEN == 0 &&
		       b.tables_len > 0, "the loader's blobs build");
	memcpy(mem + tables_at, b.tables, b.tables_len);
	memcpy(mem + rsdp_at, b.rsdp, sizeof(b.rsdp));
	for (size_t at = 0; at < b.loader_len; at += ACPI_LOADER_CMD_LEN) {
		const uint8_t *cmd = b.loader + at;
		const char *f = (const char *)cmd + 4;
		uint32_t base = !strcmp(f, "etc/acpi/rsdp") ? rsdp_at : tables_at;
		switch (le32(cmd)) {
		case 1:
			allocs++;
			known &= (!strcmp(f, "etc/acpi/rsdp") && cmd[64] == 2) ||
				 (!strcmp(f, "etc/acpi/tables") && cmd[64] == 1);
			break;
		case 2: {
			const char *src = (const char *)cmd + 60;
			uint32_t off = le32(cmd + 116), size = cmd[120];
			uint64_t v = 0;
			uint32_t src_at = !strcmp(src, "etc/acpi/rsdp") ? rsdp_at : tables_at;
			pointers++;
			for (unsigned i = 0; i < size; i++)
				v |= (uint64_t)mem[base + off + i] << (8 * i);
			v += src_at;
			for (unsigned i = 0; i < size; i++)
				mem[base + off + i] = (uint8_t)(v >> (8 * i));
			break;
		}
		case 3: {
			uint32_t off = le32(cmd + 60), start = le32(cmd + 64), len = le32(cmd + 68);
			uint8_t sum = 0;
			sums++;
			for (uint32_t i = 0; i < len; i++)
				sum = (uint8_t)(sum + mem[base + start + i]);
			mem[base + off] = (uint8_t)(mem[base + off] - sum);
			sum = 0;
			for (uint32_t i = 0; i < len; i++)
				sum = (uint8_t)(sum + mem[base + start + i]);
			sums_ok &= sum == 0;
			break;
		}
		default:
			known = false;
		}
	}
	tap_ok(t, known && allocs == 2 && pointers == 9 && sums == 7 && sums_ok,
	       "two allocations (RSDP in the F segment, tables high), 9 pointers, 7 checksums "
	       "(%u %u %u %d %d)", allocs, pointers, sums, known, sums_ok);
	n = acpi_build(&c, tables_at, want, sizeof(want), &rsdp);
	tap_ok(t, n == (long)b.tables_len && rsdp == tables_at &&
		       !memcmp(mem + rsdp_at, want, 36) &&
		       !memcmp(mem + tables_at + 36, want + 36, b.tables_len - 36),
	       "the loaded tables equal those of a -kernel boot at the same address");
}

int main(void)
{
	struct tap t = {0};
	uint8_t small[256];
	uint32_t rsdp;

	test_tables(&t, 1);
	test_tables(&t, 4);
	test_in_ram(&t);
	test_loader(&t);
	tap_ok(&t, acpi_build(&(struct acpi_config){false, 4}, ACPI_TABLES_BASE, small,
			      sizeof(small), &rsdp) == -ENOSPC,
	       "a buffer too small: -ENOSPC");
	{
		static uint8_t mid[0x2c0];
		tap_ok(&t, acpi_build(&(struct acpi_config){false, 4}, ACPI_TABLES_BASE, mid,
				      sizeof(mid), &rsdp) == -ENOSPC,
		       "a DSDT that does not fit: -ENOSPC");
	}
	tap_ok(&t, acpi_build(&(struct acpi_config){false, 1}, ACPI_TABLES_BASE + 8, small,
			      sizeof(small), &rsdp) == -EINVAL,
	       "a base off 16-byte alignment: -EINVAL");
	return tap_done(&t);
}
