/* SMBIOS structures (DMTF DSP0134 3.x, which keeps the 2.8 layouts):
 * each a formatted area (type, length, handle, fields) followed by its
 * strings, each NUL-terminated, the set ended by one more NUL. */
#include "vmm/smbios.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/le.h"
#include "mem/guest_mem.h"

struct writer {
	uint8_t *buf;
	size_t len, cap;
	uint16_t count, max_struct;
	uint16_t handle;
	size_t start;      /* the structure being written */
	uint8_t n_strings; /* strings it has */
	int err;
};

static uint8_t *w_put(struct writer *w, size_t n)
{
	uint8_t *p;
	if (w->err || n > w->cap - w->len) {
		w->err = -ENOSPC;
		return NULL;
	}
	p = w->buf + w->len;
	memset(p, 0, n);
	w->len += n;
	return p;
}




/* A structure's formatted area of `len` bytes (header included). */
static uint8_t *begin(struct writer *w, uint8_t type, uint8_t len)
{
	uint8_t *p;
	w->start = w->len;
	w->n_strings = 0;
	p = w_put(w, len);
	if (!p)
		return NULL;
	p[0] = type;
	p[1] = len;
	le_put16(p + 2, w->handle++);
	return p;
}

/* Appends a string and stores its number at the formatted area's `field`
 * (0 for an empty string, as the standard says). */
static void str(struct writer *w, size_t field, const char *s)
{
	size_t n = strlen(s);
	uint8_t *p;
	if (w->err)
		return;
	if (!n) {
		w->buf[w->start + field] = 0;
		return;
	}
	p = w_put(w, n + 1);
	if (!p)
		return;
	memcpy(p, s, n);
	w->buf[w->start + field] = ++w->n_strings;
}

static void end(struct writer *w)
{
	/* No strings: two NULs; else the set's closing NUL. */
	w_put(w, w->n_strings ? 1 : 2);
	if (w->err)
		return;
	w->count++;
	if (w->len - w->start > w->max_struct)
		w->max_struct = (uint16_t)(w->len - w->start);
}


#define PRODUCT "Standard PC (i440FX + PIIX, 1996)"

int smbios_build(const struct smbios_config *c, struct smbios_blobs *out)
{
	struct writer w = {out->tables, 0, sizeof(out->tables), 0, 0, 0x100, 0, 0, 0};
	uint64_t mib = (c->ram_bytes + (1u << 20) - 1) >> 20;
	uint64_t above = c->ram_bytes - c->ram_below_4g;
	uint16_t array_handle;
	uint8_t *p, *a = out->anchor;

	memset(out, 0, sizeof(*out));

	/* Type 0, BIOS information (2.4 layout, 24 bytes). */
	if (c->bios_info) {
		if ((p = begin(&w, 0, 24))) {
			str(&w, 4, "v2e");
			str(&w, 5, c->version);
			le_put16(p + 6, 0xe800);  /* where the BIOS would start: none */
			str(&w, 8, "01/01/2026");
			p[10] = 0x08;          /* characteristics not supported */
			p[0x13] = 0x10;        /* a virtual machine */
			p[0x14] = 0;
			p[0x15] = 1;
			p[0x16] = p[0x17] = 0xff; /* no embedded controller */
		}
		end(&w);
	}

	/* Type 1, system information (2.4 layout, 27 bytes). */
	if ((p = begin(&w, 1, 27))) {
		str(&w, 4, "v2e");
		str(&w, 5, PRODUCT);
		str(&w, 6, c->version);
		str(&w, 7, "");
		memcpy(p + 8, c->uuid, 16);
		p[24] = 6;            /* wake-up type: power switch */
		str(&w, 25, "");
		str(&w, 26, "");
	}
	end(&w);

	/* Type 3, chassis (2.7 layout without contained elements, 22 bytes). */
	if ((p = begin(&w, 3, 22))) {
		str(&w, 4, "v2e");
		p[5] = 0x01;          /* other */
		str(&w, 6, c->version);
		str(&w, 7, "");
		str(&w, 8, "");
		p[9] = p[10] = p[11] = 0x03; /* boot-up, power, thermal: safe */
		p[12] = 0x02;         /* security: unknown */
		str(&w, 21, "");
	}
	end(&w);

	/* Type 4, processor (2.6 layout, 42 bytes). */
	if ((p = begin(&w, 4, 42))) {
		str(&w, 4, "CPU 0");
		p[5] = 0x03;          /* central processor */
		p[6] = 0x01;          /* family: other */
		str(&w, 7, "v2e");
		str(&w, 16, c->version);
		le_put16(p + 20, 2000);  /* max and current speed, MHz (QEMU's) */
		le_put16(p + 22, 2000);
		p[24] = 0x41;         /* populated, enabled */
		p[25] = 0x01;         /* upgrade: other */
		le_put16(p + 26, 0xffff); /* no cache structures */
		le_put16(p + 28, 0xffff);
		le_put16(p + 30, 0xffff);
		str(&w, 32, "");
		str(&w, 33, "");
		str(&w, 34, "");
		p[35] = p[36] = p[37] = 1; /* cores, enabled, threads */
		le_put16(p + 38, 0x0002);     /* characteristics: unknown */
		le_put16(p + 40, 0x0001);     /* family 2: other */
	}
	end(&w);

	/* Type 16, the physical memory array (2.7 layout, 23 bytes). */
	array_handle = w.handle;
	if ((p = begin(&w, 16, 23))) {
		p[4] = 0x01;          /* location: other */
		p[5] = 0x03;          /* use: system memory */
		p[6] = 0x06;          /* error correction: multi-bit ECC (QEMU's) */
		if (mib * 1024 < 0x80000000ull) {
			le_put32(p + 7, (uint32_t)(mib * 1024)); /* KiB */
		} else {
			le_put32(p + 7, 0x80000000u);
			le_put64(p + 15, mib << 20);
		}
		le_put16(p + 11, 0xfffe); /* no error information */
		le_put16(p + 13, 1);      /* one device */
	}
	end(&w);

	/* Type 17, the memory device (2.8 layout, 40 bytes). */
	if ((p = begin(&w, 17, 40))) {
		le_put16(p + 4, array_handle);
		le_put16(p + 6, 0xfffe);
		le_put16(p + 8, 0xffff);  /* widths unknown */
		le_put16(p + 10, 0xffff);
		if (mib < 0x7fff) {
			le_put16(p + 12, (uint16_t)mib);
		} else {
			le_put16(p + 12, 0x7fff);
			le_put32(p + 28, (uint32_t)mib);
		}
		p[14] = 0x09;          /* form factor: DIMM */
		str(&w, 16, "DIMM 0");
		str(&w, 17, "");
		p[18] = 0x07;          /* type: RAM */
		le_put16(p + 19, 0x0002); /* detail: other */
		str(&w, 23, "v2e");
		str(&w, 24, "");
		str(&w, 25, "");
		str(&w, 26, "");
	}
	end(&w);

	/* Type 19, the array's mapped ranges (2.7 layout, 31 bytes): RAM
	 * below the PCI hole and above 4 GiB. */
	for (unsigned i = 0; i < 2; i++) {
		uint64_t start = i ? 1ull << 32 : 0, len = i ? above : c->ram_below_4g;
		if (!len)
			continue;
		if ((p = begin(&w, 19, 31))) {
			uint64_t end_kib = (start + len) / 1024 - 1;
			if (end_kib < 0xffffffffull) {
				le_put32(p + 4, (uint32_t)(start / 1024));
				le_put32(p + 8, (uint32_t)end_kib);
			} else {
				le_put32(p + 4, 0xffffffffu);
				le_put32(p + 8, 0xffffffffu);
				le_put64(p + 15, start);
				le_put64(p + 23, start + len - 1);
			}
			le_put16(p + 12, array_handle);
			p[14] = 1;     /* partition width */
		}
		end(&w);
	}

	/* Type 32, system boot: no errors. */
	if ((p = begin(&w, 32, 11)))
		p[10] = 0;
	end(&w);

	begin(&w, 127, 4);
	end(&w);
	if (w.err)
		return w.err;
	out->tables_len = w.len;

	/* The 2.8 entry point; firmware puts the table address in. */
	memcpy(a, "_SM_", 4);
	a[5] = SMBIOS_ANCHOR_LEN;
	a[6] = 2;
	a[7] = 8;
	le_put16(a + 8, w.max_struct);
	memcpy(a + 16, "_DMI_", 5);
	le_put16(a + 22, (uint16_t)w.len);
	le_put16(a + 28, w.count);
	a[30] = 0x28;
	a[21] = table_checksum(a + 16, 15);
	a[4] = table_checksum(a, SMBIOS_ANCHOR_LEN);
	return 0;
}

int smbios_install(const struct smbios_config *c, const struct guest_mem *gm, uint32_t base)
{
	struct smbios_blobs *b = malloc(sizeof(*b));
	uint32_t tables = base + 32;
	int r;

	if (!b)
		return -ENOMEM;
	r = (base & 15) ? -EINVAL : smbios_build(c, b);
	if (!r) {
		le_put32(b->anchor + 24, tables);
		b->anchor[21] = 0;
		b->anchor[21] = table_checksum(b->anchor + 16, 15);
		b->anchor[4] = 0;
		b->anchor[4] = table_checksum(b->anchor, SMBIOS_ANCHOR_LEN);
		r = guest_mem_write(gm, base, b->anchor, SMBIOS_ANCHOR_LEN);
	}
	if (!r)
		r = guest_mem_write(gm, tables, b->tables, b->tables_len);
	free(b);
	return r;
}
