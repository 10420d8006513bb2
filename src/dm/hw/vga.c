/* Standard VGA with the Bochs VBE extension (see vga.h): the register
 * set after the IBM VGA Technical Reference and FreeVGA, the DISPI
 * interface after Bochs' vbe_display_api.txt, the PCI function as QEMU's
 * `-vga std` shows it. */
#include "dm/hw/vga.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/vstate.h"

/* Bits a register keeps: the others are reserved and read 0. */
static const uint8_t seq_mask[VGA_SEQ_REGS] = {0x03, 0x3d, 0x0f, 0x3f, 0x0e};
static const uint8_t gc_mask[VGA_GC_REGS] = {0x0f, 0x0f, 0x0f, 0x1f, 0x03,
					     0x7b, 0x0f, 0x0f, 0xff};

static uint8_t ac_mask(unsigned idx)
{
	if (idx < 0x10)
		return 0x3f;
	switch (idx) {
	case VGA_AC_MODE: return 0xef;
	case VGA_AC_OVERSCAN: return 0xff;
	case VGA_AC_PLANE_ENABLE: return 0x3f;
	default: return 0x0f; /* panning, colour select */
	}
}

static bool vbe_on(const struct vga *v)
{
	return v->s.vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

static void mark_dirty(struct vga *v, uint64_t off, uint64_t len)
{
	if (!len || off >= v->vram_size)
		return;
	if (len > v->vram_size - off)
		len = v->vram_size - off;
	for (uint64_t pg = off / VGA_PAGE; pg <= (off + len - 1) / VGA_PAGE; pg++) {
		uint64_t bit = 1ull << (pg % 64);
		v->dirty[pg / 64] |= bit;
		/* The display takes words with an exchange: OR only what it
		 * lacks, so a busy writer does not bounce its cache line. */
		if (v->shm && !(__atomic_load_n(&v->shm->dirty[pg / 64], __ATOMIC_RELAXED) & bit))
			__atomic_fetch_or(&v->shm->dirty[pg / 64], bit, __ATOMIC_RELEASE);
	}
}

/* The registers to the display's page, under its sequence lock, when
 * they differ from what it has (a palette write, a mode set, a font
 * write bumping font_gen). Reads change nothing a picture shows. */
static void publish(struct vga *v)
{
	struct display_shm *p = v->shm;
	uint32_t seq;

	if (!p || !memcmp(&p->state, &v->s, sizeof(v->s)))
		return;
	seq = __atomic_load_n(&p->state_seq, __ATOMIC_RELAXED);
	__atomic_store_n(&p->state_seq, seq | 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&p->state, &v->s, sizeof(v->s));
	__atomic_store_n(&p->state_seq, (seq | 1) + 1, __ATOMIC_RELEASE);
}

void vga_attach_display(struct vga *v, struct display_shm *shm)
{
	v->shm = shm;
	publish(v);
	mark_dirty(v, 0, v->vram_size);
}

size_t vga_dirty_fetch(struct vga *v, uint64_t *bits, size_t words)
{
	if (words > v->dirty_words)
		words = v->dirty_words;
	memcpy(bits, v->dirty, words * sizeof(*bits));
	memset(v->dirty, 0, words * sizeof(*bits));
	return words;
}

/* ---- the legacy memory window ---- */

/* The window's offset as a host address into VRAM by the memory map
 * select (GC 6), with the VBE bank when DISPI is on; false outside the
 * selected window. */
static bool mem_host(const struct vga *v, uint64_t off, uint64_t *host)
{
	switch (v->s.gc[VGA_GC_MISC] >> 2 & 3) {
	case 0:
		*host = off;
		return off < 0x20000;
	case 1:
		*host = off;
		if (vbe_on(v))
			*host += (uint64_t)v->s.vbe[VBE_DISPI_INDEX_BANK] * VBE_DISPI_BANK_SIZE;
		return off < 0x10000;
	case 2:
		*host = off - 0x10000;
		return off >= 0x10000 && off < 0x18000;
	default:
		*host = off - 0x18000;
		return off >= 0x18000 && off < 0x20000;
	}
}

static uint8_t ror8(uint8_t v, unsigned n)
{
	n &= 7;
	return n ? (uint8_t)(v >> n | v << (8 - n)) : v;
}

/* The graphics controller's data path: what each plane gets from a CPU
 * byte in the current write mode, after the logical operation and the
 * bit mask (the latches fill the masked bits). */
static void gc_planes(const struct vga *v, uint8_t val, uint8_t out[4])
{
	const uint8_t *gc = v->s.gc, *latch = v->s.latch;
	uint8_t mask = gc[VGA_GC_BIT_MASK], d[4];
	unsigned func = gc[VGA_GC_ROTATE] >> 3 & 3;

	switch (gc[VGA_GC_MODE] & 3) {
	case 0:
		val = ror8(val, gc[VGA_GC_ROTATE]);
		for (unsigned p = 0; p < 4; p++)
			d[p] = gc[VGA_GC_ENABLE_SET_RESET] >> p & 1
				       ? (gc[VGA_GC_SET_RESET] >> p & 1 ? 0xff : 0)
				       : val;
		break;
	case 1: /* the latches as they are */
		memcpy(out, latch, 4);
		return;
	case 2:
		for (unsigned p = 0; p < 4; p++)
			d[p] = val >> p & 1 ? 0xff : 0;
		break;
	default:
		mask &= ror8(val, gc[VGA_GC_ROTATE]);
		for (unsigned p = 0; p < 4; p++)
			d[p] = gc[VGA_GC_SET_RESET] >> p & 1 ? 0xff : 0;
		break;
	}
	for (unsigned p = 0; p < 4; p++) {
		uint8_t x = d[p];
		if (func == 1)
			x &= latch[p];
		else if (func == 2)
			x |= latch[p];
		else if (func == 3)
			x ^= latch[p];
		out[p] = (uint8_t)((x & mask) | (latch[p] & ~mask));
	}
}

static uint8_t mem_readb(struct vga *v, uint64_t off)
{
	const uint8_t *gc = v->s.gc;
	uint64_t host, o;
	unsigned plane;

	if (!mem_host(v, off, &host))
		return 0xff;
	if (v->s.seq[VGA_SEQ_MEMORY_MODE] & VGA_SR04_CHAIN4) {
		if (host >= v->vram_size)
			return 0xff;
		memcpy(v->s.latch, v->vram + (host & ~3ull), 4);
		return v->vram[host];
	}
	if (gc[VGA_GC_MODE] & VGA_GR05_ODD_EVEN) {
		o = host >> 1;
		plane = (gc[VGA_GC_READ_MAP] & 2) | (host & 1);
	} else {
		o = host;
		plane = gc[VGA_GC_READ_MAP] & 3;
	}
	if (4 * o + 4 > v->vram_size)
		return 0xff;
	memcpy(v->s.latch, v->vram + 4 * o, 4);
	if (gc[VGA_GC_MODE] & VGA_GR05_READ1) {
		/* Colour compare: 1 where every plane that counts holds the
		 * compare colour's bit. */
		uint8_t diff = 0;
		for (unsigned p = 0; p < 4; p++)
			if (gc[VGA_GC_DONT_CARE] >> p & 1)
				diff |= v->s.latch[p] ^ (gc[VGA_GC_COLOR_COMPARE] >> p & 1 ? 0xff : 0);
		return (uint8_t)~diff;
	}
	return v->s.latch[plane];
}

static void mem_writeb(struct vga *v, uint64_t off, uint8_t val)
{
	uint8_t map = v->s.seq[VGA_SEQ_MAP_MASK] & 0xf, planes[4];
	uint64_t host, o;

	if (!mem_host(v, off, &host))
		return;
	if (v->s.seq[VGA_SEQ_MEMORY_MODE] & VGA_SR04_CHAIN4) {
		if (host < v->vram_size && (map >> (host & 3) & 1)) {
			v->vram[host] = val;
			v->s.font_gen += (host & 3) == 2;
			mark_dirty(v, host, 1);
		}
		return;
	}
	if (!(v->s.seq[VGA_SEQ_MEMORY_MODE] & VGA_SR04_SEQUENTIAL)) {
		/* Odd/even: even addresses to planes 0 and 2, odd to 1 and 3. */
		o = host >> 1;
		map &= host & 1 ? 0xa : 0x5;
	} else {
		o = host;
	}
	if (4 * o + 4 > v->vram_size || !map)
		return;
	gc_planes(v, val, planes);
	for (unsigned p = 0; p < 4; p++)
		if (map >> p & 1)
			v->vram[4 * o + p] = planes[p];
	if (map & 4)
		v->s.font_gen++;
	mark_dirty(v, 4 * o, 4);
}

static uint64_t mem_read(void *opaque, uint64_t off, unsigned size)
{
	return mem_readb(opaque, off);
}

static void mem_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = opaque;
	uint32_t font_gen = v->s.font_gen;
	mem_writeb(v, off, (uint8_t)val);
	if (v->s.font_gen != font_gen)
		publish(v);
}

/* Bytes only: the router splits wider accesses, each byte going through
 * the latches as on the real bus. */
const struct io_ops vga_mem_ops = {
	mem_read, mem_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4 | IO_SIZE_8, IO_SIZE_1,
};

/* ---- the VGA ports ---- */

static bool port_ignored(const struct vga *v, unsigned port)
{
	bool color = v->s.misc & VGA_MISC_COLOR;
	return (port >= 0x3b0 && port <= 0x3bf && color) ||
	       (port >= 0x3d0 && port <= 0x3df && !color);
}

static uint8_t port_in(struct vga *v, unsigned port)
{
	struct vga_state *s = &v->s;
	uint8_t r;

	if (port_ignored(v, port))
		return 0xff;
	switch (port) {
	case 0x3c0:
		return s->ac_index;
	case 0x3c1:
		return (s->ac_index & 0x1f) < VGA_AC_REGS ? s->ac[s->ac_index & 0x1f] : 0;
	case 0x3c2:
		return 0; /* input status 0: no switch sense, no interrupt */
	case 0x3c4:
		return s->seq_index;
	case 0x3c5:
		return s->seq_index < VGA_SEQ_REGS ? s->seq[s->seq_index] : 0;
	case 0x3c6:
		return s->pel_mask;
	case 0x3c7:
		return s->dac_state;
	case 0x3c8:
		return s->dac_write_index;
	case 0x3c9:
		r = s->palette[s->dac_read_index * 3 + s->dac_sub % 3];
		if (++s->dac_sub >= 3) {
			s->dac_sub = 0;
			s->dac_read_index++;
		}
		return r;
	case 0x3ca:
		return s->feature;
	case 0x3cc:
		return s->misc;
	case 0x3ce:
		return s->gc_index;
	case 0x3cf:
		return s->gc_index < VGA_GC_REGS ? s->gc[s->gc_index] : 0;
	case 0x3b4:
	case 0x3d4:
		return s->crtc_index;
	case 0x3b5:
	case 0x3d5:
		return s->crtc_index < VGA_CRTC_REGS ? s->crtc[s->crtc_index] : 0;
	case 0x3ba:
	case 0x3da:
		/* Reading it resets the attribute flip-flop. Retrace and
		 * display-disabled toggle on each read: a guest polling for
		 * either sees it come, whatever the clock. */
		s->ac_flipflop = 0;
		s->st01 ^= VGA_ST01_V_RETRACE | VGA_ST01_DISP_OFF;
		return s->st01;
	default:
		return 0xff;
	}
}

static void crtc_write(struct vga_state *s, uint8_t val)
{
	unsigned idx = s->crtc_index;
	if (idx >= VGA_CRTC_REGS)
		return;
	/* The protect bit locks CR00-CR07 but CR07's line compare bit 8. */
	if ((s->crtc[VGA_CRTC_V_RETRACE_END] & VGA_CR11_PROTECT) && idx <= VGA_CRTC_OVERFLOW) {
		if (idx == VGA_CRTC_OVERFLOW)
			s->crtc[idx] = (uint8_t)((s->crtc[idx] & ~0x10) | (val & 0x10));
		return;
	}
	s->crtc[idx] = val;
}

static void port_out(struct vga *v, unsigned port, uint8_t val)
{
	struct vga_state *s = &v->s;

	if (port_ignored(v, port))
		return;
	switch (port) {
	case 0x3c0:
		if (!s->ac_flipflop) {
			s->ac_index = val & 0x3f;
		} else {
			unsigned idx = s->ac_index & 0x1f;
			if (idx < VGA_AC_REGS)
				s->ac[idx] = val & ac_mask(idx);
		}
		s->ac_flipflop ^= 1;
		break;
	case 0x3c2:
		s->misc = val;
		break;
	case 0x3c4:
		s->seq_index = val & 7;
		break;
	case 0x3c5:
		if (s->seq_index < VGA_SEQ_REGS)
			s->seq[s->seq_index] = val & seq_mask[s->seq_index];
		break;
	case 0x3c6:
		s->pel_mask = val;
		break;
	case 0x3c7:
		s->dac_read_index = val;
		s->dac_sub = 0;
		s->dac_state = 3;
		break;
	case 0x3c8:
		s->dac_write_index = val;
		s->dac_sub = 0;
		s->dac_state = 0;
		break;
	case 0x3c9:
		s->dac_cache[s->dac_sub % 3] =
			s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC ? val : val & 0x3f;
		if (++s->dac_sub >= 3) {
			memcpy(&s->palette[s->dac_write_index * 3], s->dac_cache, 3);
			s->dac_sub = 0;
			s->dac_write_index++;
		}
		break;
	case 0x3ce:
		s->gc_index = val & 0x0f;
		break;
	case 0x3cf:
		if (s->gc_index < VGA_GC_REGS)
			s->gc[s->gc_index] = val & gc_mask[s->gc_index];
		break;
	case 0x3b4:
	case 0x3d4:
		s->crtc_index = val & 0x1f;
		break;
	case 0x3b5:
	case 0x3d5:
		crtc_write(s, val);
		break;
	case 0x3ba:
	case 0x3da:
		s->feature = val & 0x03;
		break;
	default:
		break;
	}
}

static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
	return port_in(opaque, VGA_PORT_BASE + (unsigned)off);
}

static void port_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	port_out(opaque, VGA_PORT_BASE + (unsigned)off, (uint8_t)val);
	publish(opaque);
}

/* A word to an index port is index then data: the router splits it. */
const struct io_ops vga_port_ops = {port_read, port_write, IO_SIZE_1 | IO_SIZE_2, IO_SIZE_1};

/* ---- DISPI (Bochs VBE) ---- */

static unsigned vbe_bytes_pp(unsigned bpp)
{
	return bpp == 15 ? 2 : (bpp + 7) / 8;
}

static bool vbe_bpp_ok(unsigned bpp)
{
	return bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

static uint16_t vbe_read(struct vga *v, unsigned idx)
{
	const uint16_t *r = v->s.vbe;
	if ((r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) && idx >= VBE_DISPI_INDEX_XRES &&
	    idx <= VBE_DISPI_INDEX_BPP) {
		static const uint16_t max[] = {0, VBE_DISPI_MAX_XRES, VBE_DISPI_MAX_YRES,
					       VBE_DISPI_MAX_BPP};
		return max[idx];
	}
	if (idx < VBE_DISPI_REGS)
		return r[idx];
	if (idx == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
		return (uint16_t)(v->vram_size >> 16);
	return 0;
}

/* A virtual width for the current mode: the lines' bytes must fit VRAM
 * for yres lines. Sets VIRT_WIDTH and VIRT_HEIGHT; false if it cannot. */
static bool vbe_set_virt(struct vga *v, unsigned width)
{
	uint16_t *r = v->s.vbe;
	uint64_t line;

	if (width < r[VBE_DISPI_INDEX_XRES])
		width = r[VBE_DISPI_INDEX_XRES];
	line = (uint64_t)width * vbe_bytes_pp(r[VBE_DISPI_INDEX_BPP]);
	if (!line || line * r[VBE_DISPI_INDEX_YRES] > v->vram_size || width > 0xffff)
		return false;
	r[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)width;
	r[VBE_DISPI_INDEX_VIRT_HEIGHT] =
		(uint16_t)(v->vram_size / line > 0xffff ? 0xffff : v->vram_size / line);
	return true;
}

static void vbe_enable(struct vga *v, uint16_t val)
{
	struct vga_state *s = &v->s;
	uint16_t *r = s->vbe;
	uint16_t keep = VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC |
			VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM;

	if ((val & VBE_DISPI_ENABLED) && !vbe_on(v)) {
		if (!r[VBE_DISPI_INDEX_BPP])
			r[VBE_DISPI_INDEX_BPP] = 8; /* never written: the default */
		if (!r[VBE_DISPI_INDEX_XRES] || !r[VBE_DISPI_INDEX_YRES] ||
		    !vbe_set_virt(v, r[VBE_DISPI_INDEX_XRES]))
			return; /* no mode to show: stays off */
		r[VBE_DISPI_INDEX_X_OFFSET] = r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
		r[VBE_DISPI_INDEX_BANK] = 0;
		if (!(val & VBE_DISPI_NOCLEARMEM)) {
			memset(v->vram, 0, v->vram_size);
			v->s.font_gen++;
			mark_dirty(v, 0, v->vram_size);
		}
		/* The legacy window becomes the 64 KiB bank at A0000h,
		 * chained, as the VGA BIOS expects of a VBE mode. */
		s->gc[VGA_GC_MISC] = (uint8_t)((s->gc[VGA_GC_MISC] & ~0x0c) | 0x05);
		s->seq[VGA_SEQ_MEMORY_MODE] |= VGA_SR04_CHAIN4 | VGA_SR04_SEQUENTIAL;
		s->seq[VGA_SEQ_MAP_MASK] = 0x0f;
	}
	r[VBE_DISPI_INDEX_ENABLE] = val & keep;
}

static void vbe_write(struct vga *v, unsigned idx, uint16_t val)
{
	uint16_t *r = v->s.vbe;

	switch (idx) {
	case VBE_DISPI_INDEX_ID:
		if (val >= VBE_DISPI_ID0 && val <= VBE_DISPI_ID5)
			r[idx] = val;
		break;
	case VBE_DISPI_INDEX_XRES:
	case VBE_DISPI_INDEX_YRES:
	case VBE_DISPI_INDEX_BPP:
		/* The mode changes only while the extension is off. Any
		 * width goes, as QEMU's (Bochs wants multiples of 8): Linux
		 * sets 1366x768. */
		if (vbe_on(v))
			break;
		if (idx == VBE_DISPI_INDEX_XRES && val <= VBE_DISPI_MAX_XRES)
			r[idx] = val;
		else if (idx == VBE_DISPI_INDEX_YRES && val <= VBE_DISPI_MAX_YRES)
			r[idx] = val;
		else if (idx == VBE_DISPI_INDEX_BPP && (vbe_bpp_ok(val) || !val))
			r[idx] = val ? val : 8;
		break;
	case VBE_DISPI_INDEX_ENABLE:
		vbe_enable(v, val);
		break;
	case VBE_DISPI_INDEX_BANK:
		r[idx] = (uint16_t)(val & (v->vram_size / VBE_DISPI_BANK_SIZE - 1));
		break;
	case VBE_DISPI_INDEX_VIRT_WIDTH:
		if (vbe_on(v))
			(void)vbe_set_virt(v, val);
		else
			r[idx] = val;
		break;
	case VBE_DISPI_INDEX_X_OFFSET:
	case VBE_DISPI_INDEX_Y_OFFSET: {
		uint16_t old = r[idx];
		uint64_t bpp = vbe_bytes_pp(r[VBE_DISPI_INDEX_BPP]);
		r[idx] = val;
		/* The first pixel must stay inside VRAM. */
		if ((uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * r[VBE_DISPI_INDEX_VIRT_WIDTH] * bpp +
			    (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bpp >= v->vram_size)
			r[idx] = old;
		break;
	}
	default: /* VIRT_HEIGHT and VIDEO_MEMORY_64K are read-only */
		break;
	}
}

/* 1CEh the index, 1CFh the data, 1D0h the data again (Bochs' second
 * data port); 1D1h is claimed only so that a word at 1D0h stays whole. */
static uint64_t dispi_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	if (off == 3)
		return 0xffff;
	return off == 0 ? v->s.vbe_index : vbe_read(v, v->s.vbe_index);
}

static void dispi_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = opaque;
	if (off == 0)
		v->s.vbe_index = (uint16_t)val;
	else if (off != 3)
		vbe_write(v, v->s.vbe_index, (uint16_t)val);
	publish(v);
}

const struct io_ops vga_dispi_ops = {dispi_read, dispi_write, IO_SIZE_1 | IO_SIZE_2, IO_SIZE_2};

/* ---- BAR0: the linear framebuffer (until the vmm maps it as RAM) ---- */

static uint64_t lfb_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	if (off < v->vram_size && size <= v->vram_size - off)
		memcpy(&val, v->vram + off, size);
	return val;
}

static void lfb_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = opaque;
	if (off < v->vram_size && size <= v->vram_size - off) {
		memcpy(v->vram + off, &val, size);
		/* Fonts are in the first 256 KiB, interleaved with the rest. */
		v->s.font_gen += off < 4 * 0x10000;
		mark_dirty(v, off, size);
		publish(v);
	}
}

const struct io_ops vga_lfb_ops = {
	lfb_read, lfb_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4 | IO_SIZE_8,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4 | IO_SIZE_8,
};

/* ---- BAR2: QEMU's stdvga MMIO ---- */

#define MMIO_VGA 0x400       /* ports 3C0h-3DFh */
#define MMIO_DISPI 0x500     /* DISPI register n at 500h + 2n */
#define MMIO_QEXT 0x600      /* QEMU's extended registers */
#define QEXT_SIZE 8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1eu

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;

	if (off >= MMIO_VGA && off + size <= MMIO_VGA + 0x20) {
		for (unsigned i = 0; i < size; i++)
			val |= (uint64_t)port_in(v, 0x3c0 + (unsigned)(off - MMIO_VGA) + i) << (8 * i);
	} else if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * (VBE_DISPI_REGS + 1)) {
		unsigned idx = (unsigned)(off - MMIO_DISPI) / 2;
		val = vbe_read(v, idx) >> (8 * (off & 1));
	} else if (off == MMIO_QEXT) {
		val = QEXT_SIZE;
	} else if (off == MMIO_QEXT + 4) {
		val = QEXT_LITTLE_ENDIAN; /* a big-endian framebuffer is not offered */
	}
	return val & size_mask_bytes(size);
}

static void mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = opaque;

	if (off >= MMIO_VGA && off + size <= MMIO_VGA + 0x20) {
		for (unsigned i = 0; i < size; i++)
			port_out(v, 0x3c0 + (unsigned)(off - MMIO_VGA) + i, (uint8_t)(val >> (8 * i)));
	} else if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * (VBE_DISPI_REGS + 1) &&
		   size == 2 && !(off & 1)) {
		vbe_write(v, (unsigned)(off - MMIO_DISPI) / 2, (uint16_t)val);
	}
	publish(v);
}

const struct io_ops vga_mmio_ops = {
	mmio_read, mmio_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- the expansion ROM ---- */

static uint64_t rom_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	for (unsigned i = 0; i < size; i++)
		if (off + i < v->rom_len)
			val |= (uint64_t)v->rom[off + i] << (8 * i);
	return val;
}

static void rom_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
}

const struct io_ops vga_rom_ops = {
	rom_read, rom_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- PCI ---- */

static uint64_t cfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	return off >> 8 ? ~0ull : pci_fn_read(&v->fn, (unsigned)off, size);
}

static void cfg_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = opaque;
	if (!(off >> 8))
		pci_fn_write(&v->fn, (unsigned)off, size, (uint32_t)val);
}

const struct io_ops vga_cfg_ops = {
	cfg_read, cfg_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* A BAR moved, appeared or went: its MMIO window follows, claimed the
 * first time it decodes, then moved, enabled and disabled. */
static void vga_bar(void *opaque, struct pci_fn *f, unsigned bar, uint64_t old, uint64_t now)
{
	struct vga *v = opaque;
	const struct dev_ctx *c = v->ctx;
	const struct io_ops *ops = bar == VGA_LFB_BAR ? &vga_lfb_ops
				   : bar == VGA_MMIO_BAR ? &vga_mmio_ops : &vga_rom_ops;

	if (!c || bar > PCI_BAR_ROM)
		return;
	if (now == PCI_BAR_NONE) {
		if (v->win[bar] && v->win_on[bar] &&
		    c->window(c, DEV_SPACE_MMIO, v->win[bar], DEV_WIN_DISABLE, 0) == 0)
			v->win_on[bar] = false;
		return;
	}
	if (!v->win[bar]) {
		/* Shared VRAM: the vmm maps it there as RAM, so the guest's
		 * framebuffer stores never become requests. */
		unsigned flags = bar == VGA_LFB_BAR && v->vram_shared ? DEV_CLAIM_VRAM : 0;
		if (c->claim(c, DEV_SPACE_MMIO, now, f->bar[bar].size, flags, ops, v) == 0) {
			v->win[bar] = now;
			v->win_on[bar] = true;
		}
		return;
	}
	if (v->win[bar] != now &&
	    c->window(c, DEV_SPACE_MMIO, v->win[bar], DEV_WIN_MOVE, now) == 0)
		v->win[bar] = now;
	if (!v->win_on[bar] && v->win[bar] == now &&
	    c->window(c, DEV_SPACE_MMIO, v->win[bar], DEV_WIN_ENABLE, 0) == 0)
		v->win_on[bar] = true;
}

/* ---- life cycle ---- */

static void regs_power_on(struct vga *v)
{
	uint32_t size = v->s.vram_size, font_gen = v->s.font_gen;
	memset(&v->s, 0, sizeof(v->s));
	v->s.vram_size = size;
	v->s.font_gen = font_gen + 1;
	v->s.pel_mask = 0xff;
	v->s.vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
}

void vga_reset(struct vga *v)
{
	regs_power_on(v);
	pci_fn_reset(&v->fn);
	publish(v);
}

int vga_init(struct vga *v, size_t vram_size)
{
	static const struct pci_id id = {
		.vendor = VGA_PCI_VENDOR, .device = VGA_PCI_DEVICE, .class_code = 0x030000,
		.revision = 2, .subsys_vendor = 0x1af4, .subsys = 0x1100,
	};
	void *mem;

	if (vram_size < (1u << 20) || vram_size > (256u << 20) || (vram_size & (vram_size - 1)))
		return -EINVAL;
	mem = mmap(NULL, vram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	v->dirty_words = (vram_size / VGA_PAGE + 63) / 64;
	v->dirty = calloc(v->dirty_words, sizeof(*v->dirty));
	if (!v->dirty) {
		munmap(mem, vram_size);
		return -ENOMEM;
	}
	v->vram = mem;
	v->vram_size = vram_size;
	v->vram_mapped = true;
	v->s.vram_size = (uint32_t)vram_size;
	regs_power_on(v);
	pci_fn_init(&v->fn, &id, vga_bar, v);
	if (pci_fn_bar(&v->fn, VGA_LFB_BAR, PCI_BAR_TYPE_MEM32, (uint32_t)vram_size) ||
	    pci_fn_bar(&v->fn, VGA_MMIO_BAR, PCI_BAR_TYPE_MEM32, VGA_MMIO_SIZE)) {
		vga_fini(v);
		return -EINVAL;
	}
	/* BAR0 is prefetchable (bit 3, read-only): a framebuffer. */
	v->fn.cfg[PCI_BAR0 + 4 * VGA_LFB_BAR] |= 0x08;
	return 0;
}

void vga_fini(struct vga *v)
{
	if (v->shm)
		munmap(v->shm, sizeof(*v->shm));
	v->shm = NULL;
	if (v->vram_mapped && v->vram)
		munmap(v->vram, v->vram_size);
	v->vram = NULL;
	v->vram_mapped = false;
	free(v->dirty);
	v->dirty = NULL;
	free(v->rom);
	v->rom = NULL;
	v->rom_len = 0;
}

int vga_attach_vram(struct vga *v, uint8_t *vram, size_t size)
{
	if (!vram || size != v->vram_size || ((uintptr_t)vram % VGA_PAGE))
		return -EINVAL;
	memcpy(vram, v->vram, size);
	v->s.font_gen++;
	if (v->vram_mapped)
		munmap(v->vram, v->vram_size);
	v->vram = vram;
	v->vram_mapped = false;
	mark_dirty(v, 0, size);
	return 0;
}

int vga_set_rom(struct vga *v, const uint8_t *rom, size_t len)
{
	uint32_t bar = 2048;
	uint8_t *copy;

	if (!len || len > VGA_ROM_MAX)
		return -EINVAL;
	while (bar < len)
		bar <<= 1;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, rom, len);
	if (pci_fn_rom(&v->fn, bar)) {
		free(copy);
		return -EINVAL;
	}
	free(v->rom);
	v->rom = copy;
	v->rom_len = (uint32_t)len;
	return 0;
}

/* ---- the firmware's text mode, for a direct kernel boot ---- */

/* Mode 3 as the IBM VGA's BIOS programs it (80x25 characters of 9x16
 * dots, 720x400, colour, B8000h): the register values are the IBM VGA
 * Technical Reference's parameter table for that mode. */
static const uint8_t mode3_seq[VGA_SEQ_REGS] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_crtc[VGA_CRTC_REGS] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
	0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gc[VGA_GC_REGS] = {0x00, 0x00, 0x00, 0x00, 0x00,
					      0x10, 0x0e, 0x00, 0xff};
static const uint8_t mode3_ac[VGA_AC_REGS] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};

/* The 8x16 font in the VGA BIOS image, found by its 'A' (the IBM PC's
 * glyph); NULL when the image has none. */
static const uint8_t *rom_font(const struct vga *v)
{
	static const uint8_t glyph_a[16] = {0x00, 0x00, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
					    0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00};
	for (uint32_t i = 0x41 * 16; v->rom && i + 16 <= v->rom_len; i++)
		if (!memcmp(v->rom + i, glyph_a, 16) && i - 0x41 * 16 + 256 * 16 <= v->rom_len)
			return v->rom + i - 0x41 * 16;
	return NULL;
}

/* What a PC's firmware leaves behind for a kernel that was not booted by
 * it (v2e's -kernel): mode 3 set, the font in plane 2, the EGA colours
 * in the DAC, the screen blank (grey on black), the cursor at the top
 * left. The guest sees the same as after the VGA BIOS's INT 10h AX=3. */
static void firmware_text_mode(struct vga *v)
{
	const uint8_t *font = rom_font(v);
	struct vga_state *s = &v->s;

	if (!font || v->vram_size < 4 * 0x10000)
		return;
	s->misc = 0x67;
	memcpy(s->seq, mode3_seq, sizeof(mode3_seq));
	memcpy(s->crtc, mode3_crtc, sizeof(mode3_crtc));
	memcpy(s->gc, mode3_gc, sizeof(mode3_gc));
	memcpy(s->ac, mode3_ac, sizeof(mode3_ac));
	s->ac_index = 0x20; /* PAS set: the palette is not being written */
	/* The 64 EGA colours: bits 0-2 blue, green, red at 2/3, bits 3-5
	 * the same at 1/3 of the 6-bit range. */
	for (unsigned i = 0; i < 64; i++) {
		s->palette[3 * i + 0] = (uint8_t)((i >> 2 & 1) * 0x2a + (i >> 5 & 1) * 0x15);
		s->palette[3 * i + 1] = (uint8_t)((i >> 1 & 1) * 0x2a + (i >> 4 & 1) * 0x15);
		s->palette[3 * i + 2] = (uint8_t)((i & 1) * 0x2a + (i >> 3 & 1) * 0x15);
	}
	/* Plane 2: 256 glyphs, 32 bytes apart; planes 0 and 1: spaces in
	 * attribute 07h (layout: vga_regs.h). */
	for (unsigned c = 0; c < 256; c++)
		for (unsigned r = 0; r < 32; r++)
			v->vram[4 * (32 * c + r) + 2] = r < 16 ? font[16 * c + r] : 0;
	for (unsigned i = 0; i < 0x8000; i++) {
		v->vram[4 * i + 0] = ' ';
		v->vram[4 * i + 1] = 0x07;
	}
	s->font_gen++;
	mark_dirty(v, 0, 4 * 0x10000);
	publish(v);
}

/* ---- the kind (dev/kind.h) ---- */

enum { P_ADDR, P_VGAMEM_MB, P_ROMFILE, P_ROM, P_VRAM, P_DISPLAY, P_TEXT };

static const struct dev_prop vga_props[] = {
	[P_ADDR] = {"addr", DEV_PROP_NUM, false, 0, 31, 2, NULL, "its slot on bus 0"},
	[P_VGAMEM_MB] = {"vgamem_mb", DEV_PROP_NUM, false, 1, 256, 16, NULL,
			 "MiB of video memory, a power of two"},
	[P_ROMFILE] = {"romfile", DEV_PROP_STR, false, 0, 0, 0, "vgabios-stdvga.bin",
		       "the VGA BIOS (a name is looked for in /usr/share/seabios and "
		       "/usr/share/qemu; empty: none)"},
	[P_ROM] = {"rom", DEV_PROP_BOOL, true, 0, 1, 0, NULL, "a ROM descriptor follows"},
	[P_VRAM] = {"vram", DEV_PROP_BOOL, true, 0, 1, 0, NULL, "VRAM's memfd follows"},
	[P_DISPLAY] = {"display", DEV_PROP_BOOL, true, 0, 1, 0, NULL,
		       "the display's shared page follows"},
	[P_TEXT] = {"text", DEV_PROP_BOOL, true, 0, 1, 0, NULL,
		    "at power-on, the text mode a VGA BIOS leaves (direct kernel boot)"},
};

static int vga_check(const struct dev_props *p, char *err, size_t n)
{
	uint64_t mb = p->num[P_VGAMEM_MB];
	if (mb & (mb - 1))
		return err_say(err, n, -EINVAL, "%s: vgamem_mb=%llu is not a power of two",
			       p->kind->name, (unsigned long long)mb);
	return 0;
}

/* The VGA BIOS, by path or by name in the firmware folders. */
static int open_rom(struct dev_props *p, const char *name, int *fds, unsigned *n_fds,
		    char *err, size_t n)
{
	static const char *const dirs[] = {"/usr/share/seabios", "/usr/share/qemu"};
	char path[DEV_STR_MAX + 32];
	int fd = -1;

	if (strchr(name, '/')) {
		fd = open(name, O_RDONLY | O_CLOEXEC);
	} else {
		for (size_t i = 0; fd < 0 && i < ARRAY_SIZE(dirs); i++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
	}
	if (fd < 0)
		return err_say(err, n, -ENOENT, "%s: romfile %s: not found%s", p->kind->name, name,
			       strchr(name, '/') ? "" : " in /usr/share/seabios or /usr/share/qemu");
	fds[(*n_fds)++] = fd;
	p->num[P_ROM] = 1;
	return 0;
}

static int vga_host_open(struct dev_props *p, const struct dev_machine *m, int *fds,
			 unsigned *n_fds, char *err, size_t n)
{
	const char *name = p->str[P_ROMFILE];
	int fd, r;

	p->num[P_ROM] = p->num[P_VRAM] = p->num[P_DISPLAY] = 0;
	p->given |= 1u << P_ROM | 1u << P_VRAM | 1u << P_DISPLAY;
	if (name[0] && (r = open_rom(p, name, fds, n_fds, err, n)))
		return r;
	/* The board's VRAM and the display's page (dev/display.h), when
	 * it has them: the descriptors are dup'ed, the board keeps its own. */
	if (m->vram_fd >= 0) {
		struct stat st;
		if (fstat(m->vram_fd, &st) || (uint64_t)st.st_size != p->num[P_VGAMEM_MB] << 20)
			return err_say(err, n, -EINVAL, "%s: the board's VRAM is not %llu MiB",
				       p->kind->name, (unsigned long long)p->num[P_VGAMEM_MB]);
		if ((fd = fcntl(m->vram_fd, F_DUPFD_CLOEXEC, 0)) < 0)
			return err_say(err, n, -errno, "%s: VRAM: %s", p->kind->name,
				       strerror(errno));
		fds[(*n_fds)++] = fd;
		p->num[P_VRAM] = 1;
	}
	if (m->display_shm_fd >= 0 && p->num[P_VRAM]) {
		if ((fd = fcntl(m->display_shm_fd, F_DUPFD_CLOEXEC, 0)) < 0)
			return err_say(err, n, -errno, "%s: display page: %s", p->kind->name,
				       strerror(errno));
		fds[(*n_fds)++] = fd;
		p->num[P_DISPLAY] = 1;
	}
	return 0;
}

/* The ROM image from its descriptor, at most VGA_ROM_MAX bytes. */
static int load_rom(struct vga *v, int fd, const char *id, char *err, size_t n)
{
	uint8_t *buf = malloc(VGA_ROM_MAX + 1);
	size_t got = 0;
	int r;

	if (!buf)
		return err_say(err, n, -ENOMEM, "%s: no memory for the ROM", id);
	while (got <= VGA_ROM_MAX) {
		ssize_t k = pread(fd, buf + got, VGA_ROM_MAX + 1 - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	r = got > VGA_ROM_MAX || !got ? -EINVAL : vga_set_rom(v, buf, got);
	free(buf);
	if (r)
		return err_say(err, n, r, "%s: the option ROM is empty or over %u KiB", id,
			       VGA_ROM_MAX >> 10);
	return 0;
}

/* VRAM on the board's memfd, and the display's page when there is one
 * (descriptors from host_open, from *k on). The page is checked: it
 * came through the vmm, but a wrong size would let the device write
 * past it. */
static int map_shared(struct vga *v, const struct dev_ctx *c, const struct dev_props *p,
		      unsigned *k, char *err, size_t n)
{
	struct display_shm *shm;
	void *mem;
	int r;

	if (c->n_fds <= *k)
		return err_say(err, n, -EINVAL, "%s: no VRAM descriptor", c->id);
	mem = mmap(NULL, v->vram_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fds[(*k)++], 0);
	if (mem == MAP_FAILED)
		return err_say(err, n, -errno, "%s: mapping VRAM: %s", c->id, strerror(errno));
	r = vga_attach_vram(v, mem, v->vram_size);
	if (r) {
		munmap(mem, v->vram_size);
		return err_say(err, n, r, "%s: VRAM refused", c->id);
	}
	v->vram_mapped = true;
	v->vram_shared = true;
	if (!p->num[P_DISPLAY])
		return 0;
	if (c->n_fds <= *k)
		return err_say(err, n, -EINVAL, "%s: no display page descriptor", c->id);
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED, c->fds[(*k)++], 0);
	if (shm == MAP_FAILED)
		return err_say(err, n, -errno, "%s: mapping the display page: %s", c->id,
			       strerror(errno));
	if (shm->magic != DISPLAY_SHM_MAGIC || shm->version != DISPLAY_SHM_VERSION ||
	    shm->vram_size != v->vram_size) {
		munmap(shm, sizeof(*shm));
		return err_say(err, n, -EINVAL, "%s: the display page is not for this VRAM",
			       c->id);
	}
	vga_attach_display(v, shm);
	return 0;
}

static int vga_create(void *dev, const struct dev_ctx *c, const struct dev_props *p, char *err,
		      size_t n)
{
	struct vga *v = dev;
	unsigned slot = (unsigned)p->num[P_ADDR], k = 0;
	int r = vga_init(v, (size_t)p->num[P_VGAMEM_MB] << 20);

	if (r)
		return err_say(err, n, r, "%s: %llu MiB of VRAM refused", c->id,
			       (unsigned long long)p->num[P_VGAMEM_MB]);
	if (p->num[P_ROM] && c->n_fds > k && (r = load_rom(v, c->fds[k++], c->id, err, n)))
		goto fail;
	if (p->num[P_VRAM] && (r = map_shared(v, c, p, &k, err, n)))
		goto fail;
	v->text_at_reset = p->num[P_TEXT] != 0;
	if (v->text_at_reset)
		firmware_text_mode(v);
	v->ctx = c;
	r = c->claim(c, DEV_SPACE_PCI, PCI_DEVFN(slot, 0), 1, 0, &vga_cfg_ops, v);
	if (!r)
		r = c->claim(c, DEV_SPACE_PIO, VGA_PORT_BASE, VGA_PORT_LEN, 0, &vga_port_ops, v);
	if (!r)
		r = c->claim(c, DEV_SPACE_PIO, VGA_DISPI_BASE, VGA_DISPI_LEN, 0, &vga_dispi_ops, v);
	if (!r)
		r = c->claim(c, DEV_SPACE_MMIO, VGA_MEM_BASE, VGA_MEM_LEN, 0, &vga_mem_ops, v);
	if (r) {
		err_say(err, n, r, "%s: PCI slot %u, the VGA ports or the A0000h window refused",
			c->id, slot);
		goto fail;
	}
	return 0;
fail:
	v->ctx = NULL;
	vga_fini(v);
	return r;
}

static void vga_kind_reset(void *dev)
{
	struct vga *v = dev;
	vga_reset(v);
	if (v->text_at_reset)
		firmware_text_mode(v);
}

static void vga_destroy(void *dev)
{
	vga_fini(dev);
}

static int vga_state_check(const void *obj, char *err, size_t n)
{
	const struct vga *v = obj;
	const uint16_t *r = v->s.vbe;
	if (r[VBE_DISPI_INDEX_XRES] > VBE_DISPI_MAX_XRES ||
	    r[VBE_DISPI_INDEX_YRES] > VBE_DISPI_MAX_YRES ||
	    (r[VBE_DISPI_INDEX_BPP] && !vbe_bpp_ok(r[VBE_DISPI_INDEX_BPP])) ||
	    r[VBE_DISPI_INDEX_BANK] >= v->vram_size / VBE_DISPI_BANK_SIZE)
		return err_say(err, n, -EINVAL, "VGA: field 'vbe' holds an impossible mode");
	return 0;
}

static int vga_post_load(void *obj, char *err, size_t n)
{
	struct vga *v = obj;
	pci_fn_update_bars(&v->fn);
	publish(v);
	return 0;
}

static const struct vs_field vga_fields[] = {
	VS_U16(struct vga, s.vbe_index),
	VS_ARRAY(struct vga, s.vbe, VS_U16, VBE_DISPI_REGS),
	VS_U8(struct vga, s.misc),
	VS_U8(struct vga, s.feature),
	VS_U8(struct vga, s.st01),
	VS_MAX(struct vga, s.seq_index, VS_U8, 7),
	VS_MAX(struct vga, s.crtc_index, VS_U8, 0x1f),
	VS_MAX(struct vga, s.gc_index, VS_U8, 0x0f),
	VS_MAX(struct vga, s.ac_index, VS_U8, 0x3f),
	VS_MAX(struct vga, s.ac_flipflop, VS_U8, 1),
	VS_U8(struct vga, s.dac_read_index),
	VS_U8(struct vga, s.dac_write_index),
	VS_MAX(struct vga, s.dac_sub, VS_U8, 2),
	VS_MAX(struct vga, s.dac_state, VS_U8, 3),
	VS_U8(struct vga, s.pel_mask),
	VS_ARRAY(struct vga, s.dac_cache, VS_U8, 3),
	VS_ARRAY(struct vga, s.latch, VS_U8, 4),
	VS_ARRAY(struct vga, s.seq, VS_U8, VGA_SEQ_REGS),
	VS_ARRAY(struct vga, s.crtc, VS_U8, VGA_CRTC_REGS),
	VS_ARRAY(struct vga, s.gc, VS_U8, VGA_GC_REGS),
	VS_ARRAY(struct vga, s.ac, VS_U8, VGA_AC_REGS),
	VS_BYTES(struct vga, s.palette),
	VS_BYTES(struct vga, fn.cfg),
};

/* VRAM is not here: it is the board's, saved with guest memory (vga.h). */
const struct vs_desc vga_state_desc = {
	.name = "VGA",
	.version = 1,
	.fields = vga_fields,
	.n_fields = ARRAY_SIZE(vga_fields),
	.check = vga_state_check,
	.post_load = vga_post_load,
};

DEV_KIND(vga) = {
	.name = "VGA",
	.help = "standard VGA with Bochs VBE (PCI 1234:1111, QEMU's -vga std)",
	.where = DEV_IN_DM,
	.category = DEV_CAT_DISPLAY,
	.user = false,
	.unique = true,
	DEV_PROPS(vga_props),
	.size = sizeof(struct vga),
	.check = vga_check,
	.host_open = vga_host_open,
	.create = vga_create,
	.reset = vga_kind_reset,
	.destroy = vga_destroy,
	.state = &vga_state_desc,
};
