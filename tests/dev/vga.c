/* Standard VGA (dm/hw/vga.h) and its renderer (dev/vga_render.h): the
 * register set and its read-back quirks (index masks, reserved bits, the
 * attribute flip-flop reset by input status 1, the DAC's three-byte
 * cycles and auto-increment, the CRTC protect bit, mono/colour port
 * selection, retrace toggling), the graphics controller's write modes
 * 0-3 and read modes 0-1 against hand-worked values, chain-4 and
 * odd/even addressing, the memory map select, DISPI (ID, GETCAPS,
 * enable with and without clearing, the bank window, virtual width and
 * offsets), the PCI function (ids, BAR sizing, the LFB, MMIO and ROM
 * windows, the real VGA BIOS's header read through the ROM BAR), and
 * pictures compared with reference images this file works out from first
 * principles: a text screen in a synthetic font loaded into plane 2 (the
 * ninth-dot rule, attributes, blink, cursor), mode 12h, CGA modes 4 and
 * 6, mode 13h, mode X, a split screen, VBE 32 and 16 bpp with a virtual width and offsets.
 * Then the changed-lines report, and a seeded random writer with renders
 * in between under the sanitizers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/kind.h"
#include "dev/vga_render.h"
#include "dm/hw/vga.h"
#include "mem/region.h"
#include "tests/tap.h"

#define MAX_WIN 16

struct rig {
	struct region_map ports, mmio;
	struct dev_ctx ctx;
	const struct io_ops *pci_ops;
	void *pci_opaque;
	unsigned devfn;
	struct region *win[MAX_WIN];
	unsigned win_space[MAX_WIN];
	unsigned n_win;
	int fds[DEV_MAX_FDS];
	struct vga v;
};

static int rig_claim(const struct dev_ctx *c, unsigned space, uint64_t base, uint64_t len,
		     unsigned flags, const struct io_ops *ops, void *opaque)
{
	struct rig *r = c->board;
	struct region_desc d = {.name = "vga", .kind = REGION_IO, .base = base, .size = len,
				.enabled = true, .ops = ops, .opaque = opaque};
	int rc;
	if (space == DEV_SPACE_PCI) {
		r->pci_ops = ops;
		r->pci_opaque = opaque;
		r->devfn = (unsigned)base;
		return 0;
	}
	if (r->n_win == MAX_WIN || (space != DEV_SPACE_PIO && space != DEV_SPACE_MMIO))
		return -EINVAL;
	rc = region_add(space == DEV_SPACE_PIO ? &r->ports : &r->mmio, &d, &r->win[r->n_win]);
	if (!rc)
		r->win_space[r->n_win++] = space;
	return rc;
}

static int rig_window(const struct dev_ctx *c, unsigned space, uint64_t base, unsigned op,
		      uint64_t new_base)
{
	struct rig *r = c->board;
	struct region_map *m = space == DEV_SPACE_PIO ? &r->ports : &r->mmio;
	for (unsigned i = 0; i < r->n_win; i++) {
		if (r->win_space[i] != space || r->win[i]->d.base != base)
			continue;
		if (op == DEV_WIN_MOVE)
			return region_move(m, r->win[i], new_base);
		if (op == DEV_WIN_ENABLE || op == DEV_WIN_DISABLE)
			return region_set_enabled(m, r->win[i], op == DEV_WIN_ENABLE);
		return -EINVAL;
	}
	return -ENOENT;
}

static const struct irq_line *rig_line(const struct dev_ctx *c, unsigned line)
{
	return NULL;
}

static void rig_exit(const struct dev_ctx *c, int status, const char *why)
{
}

/* A VGA made through its kind, as a board would; `rom`: host_open finds
 * the real VGA BIOS; `text`: the board's text=on of a direct kernel boot. */
static struct rig *rig_new_text(bool rom, const char *vgamem, bool text)
{
	const struct dev_kind *k = dev_kind_find("VGA");
	struct rig *r = calloc(1, sizeof(*r));
	struct dev_props p;
	struct dev_machine m = {.vram_fd = -1, .display_shm_fd = -1, .display_input_fd = -1};
	unsigned n_fds = 0;
	char err[256] = "";

	if (!k || !r || region_map_init(&r->ports, "port", 0x10000) ||
	    region_map_init(&r->mmio, "mmio", 1ull << 32))
		abort();
	dev_props_init(&p, k);
	if (vgamem && dev_prop_parse(&p, "vgamem_mb", vgamem, true, err, sizeof(err)))
		abort();
	if (text && dev_prop_parse(&p, "text", "on", false, err, sizeof(err)))
		abort();
	if (rom && k->host_open(&p, &m, r->fds, &n_fds, err, sizeof(err))) {
		tap_diag("%s", err);
		region_map_destroy(&r->ports);
		region_map_destroy(&r->mmio);
		free(r);
		return NULL;
	}
	r->ctx = (struct dev_ctx){"vga", NULL, NULL, r->fds, n_fds, r, rig_claim, rig_line,
				  rig_exit, rig_window};
	if (k->create(&r->v, &r->ctx, &p, err, sizeof(err))) {
		fprintf(stderr, "vga: %s\n", err);
		abort();
	}
	for (unsigned i = 0; i < n_fds; i++)
		close(r->fds[i]);
	return r;
}

static struct rig *rig_new(bool rom, const char *vgamem)
{
	return rig_new_text(rom, vgamem, false);
}

static void rig_free(struct rig *r)
{
	vga_fini(&r->v);
	region_map_destroy(&r->ports);
	region_map_destroy(&r->mmio);
	free(r);
}

static void outb(struct rig *r, unsigned port, uint8_t v)
{
	region_write(&r->ports, port, 1, v);
}

static void outw(struct rig *r, unsigned port, uint16_t v)
{
	region_write(&r->ports, port, 2, v);
}

static uint8_t inb(struct rig *r, unsigned port)
{
	return (uint8_t)region_read(&r->ports, port, 1);
}

static uint16_t inw(struct rig *r, unsigned port)
{
	return (uint16_t)region_read(&r->ports, port, 2);
}

static void memb(struct rig *r, uint64_t addr, uint8_t v)
{
	region_write(&r->mmio, addr, 1, v);
}

static uint8_t rdmem(struct rig *r, uint64_t addr)
{
	return (uint8_t)region_read(&r->mmio, addr, 1);
}

static uint32_t cfg_rd(struct rig *r, unsigned reg, unsigned size)
{
	return (uint32_t)r->pci_ops->read(r->pci_opaque, reg, size);
}

static void cfg_wr(struct rig *r, unsigned reg, unsigned size, uint32_t v)
{
	r->pci_ops->write(r->pci_opaque, reg, size, v);
}

static void seq(struct rig *r, unsigned i, uint8_t v)
{
	outb(r, 0x3c4, (uint8_t)i);
	outb(r, 0x3c5, v);
}

static void gcw(struct rig *r, unsigned i, uint8_t v)
{
	outb(r, 0x3ce, (uint8_t)i);
	outb(r, 0x3cf, v);
}

static void crtc(struct rig *r, unsigned i, uint8_t v)
{
	outb(r, 0x3d4, (uint8_t)i);
	outb(r, 0x3d5, v);
}

static void acw(struct rig *r, unsigned i, uint8_t v)
{
	(void)inb(r, 0x3da);
	outb(r, 0x3c0, (uint8_t)(i | VGA_AC_INDEX_PAS));
	outb(r, 0x3c0, v);
}

static uint16_t dispi_rd(struct rig *r, unsigned idx)
{
	outw(r, 0x1ce, (uint16_t)idx);
	return inw(r, 0x1cf);
}

static void dispi_wr(struct rig *r, unsigned idx, uint16_t v)
{
	outw(r, 0x1ce, (uint16_t)idx);
	outw(r, 0x1cf, v);
}

/* ---- the test's own colours: every DAC entry distinct ---- */

static uint8_t dac6(unsigned i, unsigned c)
{
	static const unsigned mul[3] = {7, 13, 29}, add[3] = {0, 5, 11};
	return (uint8_t)((i * mul[c] + add[c]) & 63);
}

static uint32_t dac_xrgb(unsigned i)
{
	uint32_t out = 0;
	for (unsigned c = 0; c < 3; c++) {
		uint32_t v = dac6(i & 0xff, c);
		out = out << 8 | (v << 2 | v >> 4);
	}
	return out;
}

static void load_dac(struct rig *r)
{
	outb(r, 0x3c8, 0);
	for (unsigned i = 0; i < 256; i++)
		for (unsigned c = 0; c < 3; c++)
			outb(r, 0x3c9, dac6(i, c));
}

/* ---- modes, from the registers up (the values a VGA BIOS's tables
 * hold for them, worked out from the register definitions) ---- */

struct regs {
	uint8_t misc, seq[5], gc[9], ac[21];
	uint8_t crtc[25];
};

static void load_regs(struct rig *r, const struct regs *m)
{
	outb(r, 0x3c2, m->misc);
	for (unsigned i = 0; i < 5; i++)
		seq(r, i, m->seq[i]);
	crtc(r, VGA_CRTC_V_RETRACE_END, 0); /* unprotect */
	for (unsigned i = 0; i < 25; i++)
		crtc(r, i, m->crtc[i]);
	for (unsigned i = 0; i < 9; i++)
		gcw(r, i, m->gc[i]);
	for (unsigned i = 0; i < 21; i++)
		acw(r, i, m->ac[i]);
}

static const uint8_t ega_palette[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
					0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f};

static void mode_text(struct regs *m)
{
	memset(m, 0, sizeof(*m));
	m->misc = 0x67;
	memcpy(m->seq, (uint8_t[]){0x03, 0x00, 0x03, 0x00, 0x02}, 5);
	m->crtc[0x01] = 79;   /* 80 columns */
	m->crtc[0x07] = 0x12; /* display end bit 8, line compare bit 8 */
	m->crtc[0x09] = 0x4f; /* 16 scan lines, line compare bit 9 */
	m->crtc[0x0a] = 13;   /* cursor lines 13-14 */
	m->crtc[0x0b] = 14;
	m->crtc[0x12] = 0x8f; /* 400 lines */
	m->crtc[0x13] = 40;
	m->crtc[0x14] = 0x1f;
	m->crtc[0x17] = 0xa3; /* word mode */
	m->crtc[0x18] = 0xff;
	memcpy(m->gc, (uint8_t[]){0, 0, 0, 0, 0, 0x10, 0x0e, 0x00, 0xff}, 9);
	memcpy(m->ac, ega_palette, 16);
	m->ac[0x10] = 0x0c;   /* line graphics, blink */
	m->ac[0x12] = 0x0f;
	m->ac[0x13] = 0x08;
}

static void mode_12h(struct regs *m)
{
	memset(m, 0, sizeof(*m));
	m->misc = 0xe3;
	memcpy(m->seq, (uint8_t[]){0x03, 0x01, 0x0f, 0x00, 0x06}, 5);
	m->crtc[0x01] = 79;
	m->crtc[0x07] = 0x12;
	m->crtc[0x09] = 0x40;
	m->crtc[0x12] = 0xdf; /* 480 lines */
	m->crtc[0x13] = 40;
	m->crtc[0x17] = 0xe3; /* byte mode */
	m->crtc[0x18] = 0xff;
	memcpy(m->gc, (uint8_t[]){0, 0, 0, 0, 0, 0x00, 0x05, 0x0f, 0xff}, 9);
	for (unsigned i = 0; i < 16; i++)
		m->ac[i] = (uint8_t)i;
	m->ac[0x10] = 0x01;
	m->ac[0x12] = 0x0f;
}

static void mode_13h(struct regs *m, bool unchained)
{
	memset(m, 0, sizeof(*m));
	m->misc = unchained ? 0xe3 : 0x63;
	memcpy(m->seq, (uint8_t[]){0x03, 0x01, 0x0f, 0x00, unchained ? 0x06 : 0x0e}, 5);
	m->crtc[0x01] = 79;
	m->crtc[0x07] = 0x12;
	m->crtc[0x09] = 0x41; /* each line twice */
	m->crtc[0x12] = unchained ? 0xdf : 0x8f;
	m->crtc[0x13] = 40;
	m->crtc[0x14] = unchained ? 0x00 : 0x40; /* doubleword mode when chained */
	m->crtc[0x17] = unchained ? 0xe3 : 0xa3;
	m->crtc[0x18] = 0xff;
	memcpy(m->gc, (uint8_t[]){0, 0, 0, 0, 0, 0x40, 0x05, 0x0f, 0xff}, 9);
	for (unsigned i = 0; i < 16; i++)
		m->ac[i] = (uint8_t)i;
	m->ac[0x10] = 0x41;
	m->ac[0x12] = 0x0f;
}

/* ---- pictures ---- */

struct pic {
	uint32_t *px;
	uint32_t w, h;
};

static uint32_t *surface_buf;
#define SURF_W VGA_RENDER_MAX_WIDTH
#define SURF_H VGA_RENDER_MAX_HEIGHT

static void render(struct rig *r, unsigned blink, struct vga_mode *m)
{
	struct vga_surface s = {surface_buf, SURF_W, SURF_H, SURF_W};
	vga_render(&r->v.s, r->v.vram, r->v.vram_size, blink, &s, m);
}

/* Compares the render with ref (w x h); reports the first difference. */
static bool same_picture(const uint32_t *ref, uint32_t w, uint32_t h, const char *what)
{
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			if (surface_buf[(size_t)y * SURF_W + x] != ref[(size_t)y * w + x]) {
				tap_diag("%s: (%u,%u) is %06x, want %06x", what, x, y,
					 surface_buf[(size_t)y * SURF_W + x], ref[(size_t)y * w + x]);
				return false;
			}
	return true;
}

/* ---- the tests ---- */

static void test_pci(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	static const uint8_t fake_rom[3000] = {0x55, 0xaa, 6, [2999] = 0x77};

	tap_ok(t, r->devfn == PCI_DEVFN(2, 0), "claims PCI 00:02.0, QEMU's slot");
	tap_ok(t, cfg_rd(r, 0, 4) == 0x11111234, "PCI ids 1234:1111");
	tap_ok(t, cfg_rd(r, 8, 4) == 0x03000002, "class 0300h, revision 2");
	tap_ok(t, cfg_rd(r, 0x2c, 4) == 0x11001af4, "subsystem 1af4:1100");
	tap_ok(t, cfg_rd(r, 0x10, 4) == 0x08, "BAR0: prefetchable 32-bit memory");
	cfg_wr(r, 0x10, 4, 0xffffffff);
	cfg_wr(r, 0x18, 4, 0xffffffff);
	tap_ok(t, cfg_rd(r, 0x10, 4) == 0xff000008, "BAR0 sizes as 16 MiB of VRAM");
	tap_ok(t, cfg_rd(r, 0x18, 4) == 0xfffff000, "BAR2 sizes as 4 KiB");
	tap_ok(t, vga_set_rom(&r->v, fake_rom, sizeof(fake_rom)) == 0, "a 3000-byte ROM");
	cfg_wr(r, PCI_ROM_ADDRESS, 4, 0xffffffff);
	tap_ok(t, cfg_rd(r, PCI_ROM_ADDRESS, 4) == 0xfffff001, "ROM BAR sizes as 4 KiB");

	cfg_wr(r, 0x10, 4, 0xe0000000);
	cfg_wr(r, 0x18, 4, 0xe1000000);
	cfg_wr(r, PCI_ROM_ADDRESS, 4, 0xe2000001);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	region_write(&r->mmio, 0xe0000000 + 0x12344, 4, 0xdeadbeef);
	tap_ok(t, !memcmp(r->v.vram + 0x12344, "\xef\xbe\xad\xde", 4),
	       "a write through BAR0 lands in VRAM");
	tap_ok(t, region_read(&r->mmio, 0xe0000000 + 0x12345, 2) == 0xadbe,
	       "and reads back at any width");
	tap_ok(t, rdmem(r, 0xe2000000) == 0x55 && rdmem(r, 0xe2000001) == 0xaa &&
		   rdmem(r, 0xe2000000 + 2999) == 0x77 && rdmem(r, 0xe2000000 + 3000) == 0,
	       "the ROM through its BAR, zeros past its image");
	cfg_wr(r, PCI_ROM_ADDRESS, 4, 0xe2000000);
	tap_ok(t, rdmem(r, 0xe2000000) == 0xff, "ROM enable bit off: nothing decodes");
	cfg_wr(r, PCI_ROM_ADDRESS, 4, 0xe3000001);
	tap_ok(t, rdmem(r, 0xe3000000) == 0x55, "the ROM moved");
	tap_ok(t, region_read(&r->mmio, 0xe1000500, 2) == VBE_DISPI_ID5 &&
		   region_read(&r->mmio, 0xe1000600, 4) == 8 &&
		   region_read(&r->mmio, 0xe1000604, 4) == 0x1e1e1e1e,
	       "BAR2: DISPI ID at 500h, QEMU's extended registers at 600h (little-endian)");
	region_write(&r->mmio, 0xe1000400 + 0x02, 1, 0x67); /* 3C2h */
	tap_ok(t, region_read(&r->mmio, 0xe1000400 + 0x0c, 1) == 0x67 && inb(r, 0x3cc) == 0x67,
	       "BAR2's 400h-41Fh are ports 3C0h-3DFh");
	region_write(&r->mmio, 0xe1000500 + 2 * VBE_DISPI_INDEX_XRES, 2, 800);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_XRES) == 800, "a DISPI write through BAR2");
	cfg_wr(r, 0x10, 4, 0xd0000000);
	region_write(&r->mmio, 0xd0000000, 1, 0x5a);
	tap_ok(t, r->v.vram[0] == 0x5a && rdmem(r, 0xe0000000) == 0xff, "BAR0 moved: its window too");
	cfg_wr(r, PCI_COMMAND, 2, 0);
	tap_ok(t, rdmem(r, 0xd0000000) == 0xff && rdmem(r, 0xe1000600) == 0xff,
	       "memory space off: the BAR windows go");
	tap_ok(t, rdmem(r, 0xa0000) == 0x5a, "the legacy window stays");
	rig_free(r);
}

static void test_rom_file(struct tap *t)
{
	struct rig *r = rig_new(true, NULL);
	uint16_t pcir;
	uint32_t size;

	if (!r) {
		tap_ok(t, true, "# SKIP vgabios-stdvga.bin not installed");
		return;
	}
	size = (cfg_wr(r, PCI_ROM_ADDRESS, 4, 0xffffffff), ~(cfg_rd(r, PCI_ROM_ADDRESS, 4) & ~1u) + 1);
	tap_ok(t, size == 64 << 10, "the VGA BIOS's ROM BAR is 64 KiB (%u)", size);
	cfg_wr(r, PCI_ROM_ADDRESS, 4, 0xfebc0001);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(t, rdmem(r, 0xfebc0000) == 0x55 && rdmem(r, 0xfebc0001) == 0xaa,
	       "vgabios-stdvga.bin through the ROM BAR: 55h AAh");
	tap_ok(t, rdmem(r, 0xfebc0002) * 512u <= size && rdmem(r, 0xfebc0002) > 0,
	       "its size byte (%u blocks) fits the BAR", rdmem(r, 0xfebc0002));
	pcir = (uint16_t)region_read(&r->mmio, 0xfebc0018, 2);
	tap_ok(t, pcir < size - 0x18 && region_read(&r->mmio, 0xfebc0000 + pcir, 4) == 0x52494350,
	       "a PCI data structure at %#x", pcir);
	tap_ok(t, region_read(&r->mmio, 0xfebc0000 + pcir + 4, 4) == 0x11111234 &&
		   rdmem(r, 0xfebc0000 + pcir + 0x0f) == 0x03 &&
		   rdmem(r, 0xfebc0000 + pcir + 0x0e) == 0x00,
	       "for 1234:1111, a VGA-compatible display");
	rig_free(r);
}

/* A direct kernel boot's VGA: mode 3 as the VGA BIOS leaves it, drawn
 * with the BIOS's own font, the screen blank, grey on black. */
static void test_firmware_text(struct tap *t)
{
	struct rig *r = rig_new_text(true, NULL, true);
	static const uint8_t glyph_a[16] = {0x00, 0x00, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
					    0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00};
	struct vga_mode m;
	bool ok = true;

	if (!r) {
		tap_ok(t, true, "# SKIP vgabios-stdvga.bin not installed");
		return;
	}
	render(r, VGA_BLINK_CHARS_ON, &m);
	tap_ok(t, m.kind == VGA_MODE_TEXT && m.width == 720 && m.height == 400 && m.cols == 80 &&
			  m.rows == 25 && m.char_width == 9 && m.char_height == 16,
	       "text=on: 80x25 text of 9x16 cells, 720x400 (%ux%u, kind %u)", m.width, m.height,
	       m.kind);
	for (unsigned y = 0; y < 16; y++)
		ok &= r->v.vram[4 * (32 * 'A' + y) + 2] == glyph_a[y];
	tap_ok(t, ok, "the BIOS's 8x16 'A' in plane 2, 32 bytes a glyph");
	ok = r->v.vram[0] == ' ' && r->v.vram[1] == 0x07 && r->v.vram[4 * 1999] == ' ';
	for (uint32_t i = 0; ok && i < 720u * 400u; i++)
		ok = surface_buf[(size_t)(i / 720) * SURF_W + i % 720] == 0;
	tap_ok(t, ok, "the screen: spaces in attribute 07h, all black");
	/* A character written at B8000h shows in the EGA grey of colour 7. */
	region_write(&r->mmio, 0xb8000, 1, 'A');
	render(r, VGA_BLINK_CHARS_ON, &m);
	ok = true;
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 9; x++)
			ok &= surface_buf[(size_t)y * SURF_W + x] ==
			      (x < 8 && (glyph_a[y] >> (7 - x) & 1) ? 0xaaaaaau : 0);
	tap_ok(t, ok, "an 'A' written at B8000h: the glyph in grey (AAAAAAh) on black");
	/* A reset (the guest's reboot into the kernel again) returns to it. */
	outb(r, 0x3c2, 0x00);
	r->v.vram[0] = 'x';
	dev_kind_find("VGA")->reset(&r->v);
	render(r, VGA_BLINK_CHARS_ON, &m);
	tap_ok(t, m.kind == VGA_MODE_TEXT && m.width == 720 && r->v.vram[0] == ' ',
	       "a reset comes back in the same text mode, the screen blank");
	rig_free(r);
}

static void test_registers(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	uint8_t a, b;

	outb(r, 0x3c2, 0x67);
	tap_ok(t, inb(r, 0x3cc) == 0x67, "misc output reads back at 3CCh");
	crtc(r, 0x0c, 0x12);
	tap_ok(t, (outb(r, 0x3d4, 0x0c), inb(r, 0x3d5)) == 0x12 && inb(r, 0x3b4) == 0xff,
	       "colour: the CRTC at 3D4h, 3B4h silent");
	outb(r, 0x3c2, 0x66);
	tap_ok(t, (outb(r, 0x3b4, 0x0c), inb(r, 0x3b5)) == 0x12 && inb(r, 0x3d4) == 0xff,
	       "mono (misc bit 0 clear): the CRTC at 3B4h");
	outb(r, 0x3c2, 0x67);

	outb(r, 0x3c4, 0x0a);
	tap_ok(t, inb(r, 0x3c4) == 0x02, "sequencer index keeps 3 bits");
	seq(r, 2, 0xff);
	tap_ok(t, inb(r, 0x3c5) == 0x0f, "map mask keeps 4 bits");
	outw(r, 0x3c4, 0x3d01);
	tap_ok(t, r->v.s.seq[1] == 0x3d && inb(r, 0x3c4) == 1, "a word to 3C4h: index then data");
	seq(r, 4, 0xff);
	tap_ok(t, inb(r, 0x3c5) == 0x0e, "memory mode reserved bits read 0");
	outb(r, 0x3ce, 0x35);
	tap_ok(t, inb(r, 0x3ce) == 0x05, "graphics index keeps 4 bits");
	outb(r, 0x3cf, 0xff);
	tap_ok(t, inb(r, 0x3cf) == 0x7b, "graphics mode reserved bits read 0");
	outb(r, 0x3ce, 0x0b);
	tap_ok(t, inb(r, 0x3cf) == 0, "a graphics register past 8 reads 0");

	crtc(r, 0x01, 0x4f);
	crtc(r, 0x07, 0x00);
	crtc(r, 0x11, 0x80);
	crtc(r, 0x01, 0x27);
	crtc(r, 0x07, 0xff);
	tap_ok(t, (outb(r, 0x3d4, 1), inb(r, 0x3d5)) == 0x4f &&
		   (outb(r, 0x3d4, 7), inb(r, 0x3d5)) == 0x10,
	       "CRTC protect: CR01 kept, only CR07 bit 4 written");
	crtc(r, 0x13, 0x28);
	tap_ok(t, (outb(r, 0x3d4, 0x13), inb(r, 0x3d5)) == 0x28, "CR13 is not protected");
	crtc(r, 0x11, 0x00);
	crtc(r, 0x01, 0x27);
	tap_ok(t, (outb(r, 0x3d4, 1), inb(r, 0x3d5)) == 0x27, "unprotected: CR01 written");

	(void)inb(r, 0x3da);
	outb(r, 0x3c0, 0x30);
	outb(r, 0x3c0, 0xff);
	tap_ok(t, inb(r, 0x3c0) == 0x30 && inb(r, 0x3c1) == 0xef,
	       "attribute: index with PAS, then data (mode control bit 4 reserved)");
	outb(r, 0x3c0, 0x32);
	tap_ok(t, inb(r, 0x3c0) == 0x32, "the flip-flop turned: the next byte is an index");
	outb(r, 0x3c0, 0x05);
	(void)inb(r, 0x3da);
	outb(r, 0x3c0, 0x33);
	tap_ok(t, inb(r, 0x3c0) == 0x33 && r->v.s.ac[0x12] == 0x05,
	       "reading 3DAh resets the flip-flop to index");
	outb(r, 0x3c0, 0x07);
	tap_ok(t, inb(r, 0x3c1) == 0x07, "panning written");

	a = inb(r, 0x3da);
	b = inb(r, 0x3da);
	tap_ok(t, (a ^ b) == (VGA_ST01_V_RETRACE | VGA_ST01_DISP_OFF),
	       "input status 1: retrace and display-off toggle between reads");

	outb(r, 0x3c8, 5);
	tap_ok(t, inb(r, 0x3c7) == 0, "DAC state after a write index: 0");
	outb(r, 0x3c9, 0x3f);
	outb(r, 0x3c9, 0x20);
	outb(r, 0x3c9, 0x7f);
	outb(r, 0x3c9, 1);
	outb(r, 0x3c9, 2);
	tap_ok(t, inb(r, 0x3c8) == 6, "write index moved on after three bytes");
	outb(r, 0x3c9, 3);
	tap_ok(t, inb(r, 0x3c8) == 7, "and again");
	outb(r, 0x3c7, 5);
	tap_ok(t, inb(r, 0x3c7) == 3, "DAC state after a read index: 3");
	a = inb(r, 0x3c9);
	b = inb(r, 0x3c9);
	tap_ok(t, a == 0x3f && b == 0x20 && inb(r, 0x3c9) == 0x3f,
	       "reads in the three-byte cycle: 6 bits kept");
	tap_ok(t, inb(r, 0x3c9) == 1 && inb(r, 0x3c9) == 2 && inb(r, 0x3c9) == 3,
	       "the read index auto-increments");
	outb(r, 0x3c6, 0x0f);
	tap_ok(t, inb(r, 0x3c6) == 0x0f, "PEL mask");
	outb(r, 0x3da, 0x03);
	tap_ok(t, inb(r, 0x3ca) == 0x03, "feature control written at 3DAh, read at 3CAh");
	rig_free(r);
}

/* Planar access with everything at its plain setting. */
static void planar_plain(struct rig *r)
{
	seq(r, 2, 0x0f);
	seq(r, 4, 0x06);
	gcw(r, 0, 0);
	gcw(r, 1, 0);
	gcw(r, 3, 0);
	gcw(r, 4, 0);
	gcw(r, 5, 0);
	gcw(r, 6, 0x05);
	gcw(r, 7, 0x0f);
	gcw(r, 8, 0xff);
}

static bool planes_are(struct rig *r, uint32_t off, uint8_t p0, uint8_t p1, uint8_t p2,
		       uint8_t p3)
{
	const uint8_t *v = r->v.vram + 4 * off;
	if (v[0] == p0 && v[1] == p1 && v[2] == p2 && v[3] == p3)
		return true;
	tap_diag("planes at %#x: %02x %02x %02x %02x, want %02x %02x %02x %02x", off, v[0],
		 v[1], v[2], v[3], p0, p1, p2, p3);
	return false;
}

static void test_memory(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	uint64_t bits[64];

	planar_plain(r);
	memb(r, 0xa0000, 0xa5);
	tap_ok(t, planes_are(r, 0, 0xa5, 0xa5, 0xa5, 0xa5), "write mode 0: all four planes");
	seq(r, 2, 0x02);
	memb(r, 0xa0000, 0x3c);
	tap_ok(t, planes_are(r, 0, 0xa5, 0x3c, 0xa5, 0xa5), "map mask 0010b: plane 1 only");
	seq(r, 2, 0x0f);
	gcw(r, 1, 0x05);
	gcw(r, 0, 0x04);
	memb(r, 0xa0001, 0x66);
	tap_ok(t, planes_are(r, 1, 0x00, 0x66, 0xff, 0x66),
	       "set/reset 0100b enabled on 0101b: planes 0, 2 from it, 1, 3 the data");
	gcw(r, 1, 0);
	gcw(r, 3, 0x03);
	memb(r, 0xa0002, 0x01);
	tap_ok(t, planes_are(r, 2, 0x20, 0x20, 0x20, 0x20), "rotate by 3: 01h becomes 20h");
	gcw(r, 3, 0);

	/* Latches: a read loads all four planes. */
	r->v.vram[4 * 3 + 0] = 0xf0;
	r->v.vram[4 * 3 + 1] = 0x0f;
	r->v.vram[4 * 3 + 2] = 0xcc;
	r->v.vram[4 * 3 + 3] = 0x33;
	gcw(r, 4, 2);
	tap_ok(t, rdmem(r, 0xa0003) == 0xcc, "read mode 0: the read map select's plane");
	gcw(r, 8, 0x0f);
	memb(r, 0xa0004, 0xff);
	tap_ok(t, planes_are(r, 4, 0xff, 0x0f, 0xcf, 0x3f),
	       "bit mask 0Fh: masked bits from the latches");
	gcw(r, 8, 0xff);
	gcw(r, 3, 0x08);
	memb(r, 0xa0005, 0x3c);
	tap_ok(t, planes_are(r, 5, 0x30, 0x0c, 0x0c, 0x30), "logical AND with the latches");
	gcw(r, 3, 0x10);
	memb(r, 0xa0005, 0x3c);
	tap_ok(t, planes_are(r, 5, 0xfc, 0x3f, 0xfc, 0x3f), "logical OR");
	gcw(r, 3, 0x18);
	memb(r, 0xa0005, 0x3c);
	tap_ok(t, planes_are(r, 5, 0xcc, 0x33, 0xf0, 0x0f), "logical XOR");
	gcw(r, 3, 0);

	gcw(r, 5, 0x01);
	memb(r, 0xa0006, 0x00);
	tap_ok(t, planes_are(r, 6, 0xf0, 0x0f, 0xcc, 0x33), "write mode 1: the latches copied");
	gcw(r, 5, 0x02);
	gcw(r, 8, 0xf0);
	memb(r, 0xa0007, 0x0a);
	tap_ok(t, planes_are(r, 7, 0x00, 0xff, 0x0c, 0xf3),
	       "write mode 2, colour 1010b under bit mask F0h");
	gcw(r, 5, 0x03);
	gcw(r, 8, 0x3c);
	gcw(r, 0, 0x06);
	memb(r, 0xa0008, 0xf0);
	tap_ok(t, planes_are(r, 8, 0xc0, 0x3f, 0xfc, 0x03),
	       "write mode 3: set/reset 0110b under bit mask 3Ch & data F0h");
	gcw(r, 0, 0);
	gcw(r, 8, 0xff);
	gcw(r, 5, 0x08);
	gcw(r, 2, 0x05);
	gcw(r, 7, 0x0f);
	/* Planes F0/0F/CC/33 hold pixels 5 5 9 9 6 6 10 10. */
	tap_ok(t, rdmem(r, 0xa0003) == 0xc0, "read mode 1: colour 0101b is pixels 7-6");
	gcw(r, 2, 0x09);
	tap_ok(t, rdmem(r, 0xa0003) == 0x30, "colour 1001b: pixels 5-4");
	gcw(r, 7, 0x01);
	tap_ok(t, rdmem(r, 0xa0003) == 0xf0, "only plane 0 counts: where plane 0 is 1");
	gcw(r, 7, 0x00);
	tap_ok(t, rdmem(r, 0xa0003) == 0xff, "nothing counts: all ones");
	gcw(r, 5, 0);

	seq(r, 4, 0x0e);
	memb(r, 0xa0000 + 0x103, 0x77);
	tap_ok(t, r->v.vram[0x103] == 0x77, "chain-4: host byte 103h is VRAM byte 103h (plane 3)");
	seq(r, 2, 0x07);
	memb(r, 0xa0000 + 0x107, 0x11);
	tap_ok(t, r->v.vram[0x107] != 0x11, "chain-4 honours the map mask");
	tap_ok(t, rdmem(r, 0xa0000 + 0x103) == 0x77, "chain-4 read");
	seq(r, 2, 0x03);
	seq(r, 4, 0x02);
	gcw(r, 4, 0);
	gcw(r, 5, 0x10);
	gcw(r, 6, 0x0e);
	memset(r->v.vram, 0, 64);
	memb(r, 0xb8000, 'A');
	memb(r, 0xb8001, 0x1f);
	memb(r, 0xb8002, 'B');
	tap_ok(t, r->v.vram[0] == 'A' && r->v.vram[1] == 0x1f && r->v.vram[4] == 'B',
	       "odd/even at B8000h: even bytes to plane 0, odd to plane 1, halved offsets");
	tap_ok(t, rdmem(r, 0xb8001) == 0x1f && rdmem(r, 0xb8002) == 'B', "odd/even reads");
	tap_ok(t, rdmem(r, 0xa0000) == 0xff && rdmem(r, 0xb0000) == 0xff,
	       "memory map 3: A0000h and B0000h decode nothing");
	gcw(r, 6, 0x0a);
	tap_ok(t, rdmem(r, 0xb0001) == 0x1f && rdmem(r, 0xb8000) == 0xff, "memory map 2: B0000h");
	gcw(r, 6, 0x02);
	tap_ok(t, rdmem(r, 0xa0001) == 0x1f, "memory map 0: 128 KiB from A0000h");

	vga_dirty_fetch(&r->v, bits, 64);
	seq(r, 4, 0x06);
	seq(r, 2, 0x0f);
	gcw(r, 5, 0);
	gcw(r, 6, 0x05);
	memb(r, 0xa0000 + 0x2000, 1);
	tap_ok(t, vga_dirty_fetch(&r->v, bits, 64) == 64 && bits[0] == 1ull << 8 && !bits[1],
	       "a legacy write marks its VRAM page (plane offset 2000h is byte 8000h)");
	tap_ok(t, vga_dirty_fetch(&r->v, bits, 64) && bits[0] == 0, "fetching clears the bits");
	rig_free(r);
}

static void test_dispi(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	struct vga_mode m;

	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_ID) == VBE_DISPI_ID5, "DISPI ID B0C5h");
	dispi_wr(r, VBE_DISPI_INDEX_ID, 0xb0c2);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_ID) == 0xb0c2, "an older ID is taken");
	dispi_wr(r, VBE_DISPI_INDEX_ID, 0x1234);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_ID) == 0xb0c2, "no other");
	tap_ok(t, inw(r, 0x1ce) == VBE_DISPI_INDEX_ID, "the index reads back");
	tap_ok(t, inw(r, 0x1d0) == 0xb0c2, "1D0h is a second data port, as Bochs'");
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_VIDEO_MEMORY_64K) == 256, "16 MiB in 64 KiB units");
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_XRES) == 2560 &&
		   dispi_rd(r, VBE_DISPI_INDEX_YRES) == 1600 &&
		   dispi_rd(r, VBE_DISPI_INDEX_BPP) == 32, "GETCAPS: 2560x1600x32 at most");
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, 0);
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 1024);
	dispi_wr(r, VBE_DISPI_INDEX_YRES, 768);
	dispi_wr(r, VBE_DISPI_INDEX_BPP, 12);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_BPP) == 0, "12 bpp refused");
	dispi_wr(r, VBE_DISPI_INDEX_BPP, 32);
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 5000);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_XRES) == 1024, "an xres past the maximum refused");
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 1366);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_XRES) == 1366, "1366: not a multiple of 8, taken");
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 1024);
	memset(r->v.vram, 0xab, 4096);
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
	tap_ok(t, r->v.vram[0] == 0 && r->v.vram[4095] == 0, "enable clears VRAM");
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_VIRT_WIDTH) == 1024 &&
		   dispi_rd(r, VBE_DISPI_INDEX_VIRT_HEIGHT) == 4096,
	       "virtual 1024x4096 (16 MiB / 4 KiB lines)");
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 640);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_XRES) == 1024, "xres fixed while enabled");
	vga_render_mode(&r->v.s, &m);
	tap_ok(t, m.kind == VGA_MODE_LINEAR32 && m.width == 1024 && m.height == 768 &&
		   m.pitch == 4096, "the renderer sees 1024x768x32, pitch 4096");
	dispi_wr(r, VBE_DISPI_INDEX_BANK, 3);
	memb(r, 0xa0010, 0x42);
	tap_ok(t, r->v.vram[3 * 0x10000 + 0x10] == 0x42 && rdmem(r, 0xa0010) == 0x42,
	       "bank 3 at A0000h: VRAM 30010h");
	dispi_wr(r, VBE_DISPI_INDEX_BANK, 0x1ff);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_BANK) == 0xff, "the bank wraps at VRAM's end");
	dispi_wr(r, VBE_DISPI_INDEX_VIRT_WIDTH, 2048);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_VIRT_WIDTH) == 2048 &&
		   dispi_rd(r, VBE_DISPI_INDEX_VIRT_HEIGHT) == 2048, "virtual width 2048");
	dispi_wr(r, VBE_DISPI_INDEX_VIRT_WIDTH, 60000);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_VIRT_WIDTH) == 2048,
	       "a virtual width whose 768 lines overflow VRAM refused");
	dispi_wr(r, VBE_DISPI_INDEX_Y_OFFSET, 100);
	dispi_wr(r, VBE_DISPI_INDEX_X_OFFSET, 16);
	vga_render_mode(&r->v.s, &m);
	tap_ok(t, m.start == 100 * 8192 + 16 * 4, "offsets move the start (%llu)",
	       (unsigned long long)m.start);
	dispi_wr(r, VBE_DISPI_INDEX_Y_OFFSET, 2048);
	tap_ok(t, dispi_rd(r, VBE_DISPI_INDEX_Y_OFFSET) == 100, "an offset past VRAM refused");
	r->v.vram[5] = 9;
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, 0);
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM);
	tap_ok(t, r->v.vram[5] == 9, "NOCLEARMEM keeps VRAM");
	rig_free(r);

	r = rig_new(false, NULL);
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 640);
	dispi_wr(r, VBE_DISPI_INDEX_YRES, 480);
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED);
	tap_ok(t, (dispi_rd(r, VBE_DISPI_INDEX_ENABLE) & VBE_DISPI_ENABLED) &&
		       dispi_rd(r, VBE_DISPI_INDEX_BPP) == 8, "bpp never written: enabled at 8");
	rig_free(r);
}

/* ---- renders ---- */

static uint8_t glyph(unsigned c, unsigned line)
{
	return (uint8_t)(c ^ (line * 0x1d) ^ (c >> 3) ^ (line << 5));
}

static void test_text(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	struct regs m;
	struct vga_mode vm;
	uint8_t ch[2000], at[2000];
	uint32_t *ref = malloc(720 * 400 * 4);
	bool ok;

	mode_text(&m);
	load_regs(r, &m);
	crtc(r, 0x0e, 0);
	crtc(r, 0x0f, 82); /* row 1, column 2 */
	load_dac(r);
	/* The font into plane 2 as a BIOS loads it: sequential, map 2. */
	seq(r, 2, 0x04);
	seq(r, 4, 0x06);
	gcw(r, 4, 2);
	gcw(r, 5, 0x00);
	gcw(r, 6, 0x04);
	for (unsigned c = 0; c < 256; c++)
		for (unsigned l = 0; l < 32; l++)
			memb(r, 0xa0000 + c * 32 + l, l < 16 ? glyph(c, l) : 0);
	seq(r, 2, 0x03);
	seq(r, 4, 0x02);
	gcw(r, 4, 0);
	gcw(r, 5, 0x10);
	gcw(r, 6, 0x0e);
	for (unsigned i = 0; i < 2000; i++) {
		ch[i] = (uint8_t)(i * 7 + 3);
		at[i] = (uint8_t)(i * 11 + (i >> 4));
		memb(r, 0xb8000 + 2 * i, ch[i]);
		memb(r, 0xb8000 + 2 * i + 1, at[i]);
	}
	for (unsigned phase = 0; phase < 4; phase++) {
		bool cursor_on = phase & 1, chars_on = phase & 2;
		for (unsigned y = 0; y < 400; y++)
			for (unsigned x = 0; x < 720; x++) {
				unsigned i = y / 16 * 80 + x / 9, line = y % 16, dot = x % 9;
				unsigned fg = at[i] & 15, bg = at[i] >> 4 & 7, g = glyph(ch[i], line);
				bool on;
				if ((at[i] & 0x80) && !chars_on)
					g = 0;
				if (i == 82 && cursor_on && line >= 13 && line <= 14)
					on = true;
				else if (dot < 8)
					on = g >> (7 - dot) & 1;
				else
					on = ch[i] >= 0xc0 && ch[i] <= 0xdf && (g & 1);
				ref[y * 720 + x] = dac_xrgb(ega_palette[on ? fg : bg]);
			}
		render(r, (cursor_on ? VGA_BLINK_CURSOR_ON : 0) | (chars_on ? VGA_BLINK_CHARS_ON : 0),
		       &vm);
		ok = vm.kind == VGA_MODE_TEXT && vm.width == 720 && vm.height == 400 &&
		     vm.cols == 80 && vm.rows == 25 && vm.char_width == 9 && vm.char_height == 16;
		tap_ok(t, ok && same_picture(ref, 720, 400, "text"),
		       "text 80x25, 9x16 cells: glyphs, ninth dots, attributes (cursor %s, "
		       "blinking characters %s)", cursor_on ? "on" : "off", chars_on ? "on" : "off");
	}
	/* Character map select 04h: map A (attribute bit 3 set) is map 1,
	 * 16 KiB into plane 2, holding the font inverted; map B stays 0. */
	seq(r, 2, 0x04);
	seq(r, 4, 0x06);
	gcw(r, 4, 2);
	gcw(r, 5, 0x00);
	gcw(r, 6, 0x04);
	for (unsigned c = 0; c < 256; c++)
		for (unsigned l = 0; l < 16; l++)
			memb(r, 0xa0000 + 0x4000 + c * 32 + l, (uint8_t)~glyph(c, l));
	seq(r, 2, 0x03);
	seq(r, 4, 0x02);
	gcw(r, 4, 0);
	gcw(r, 5, 0x10);
	gcw(r, 6, 0x0e);
	seq(r, 3, 0x04);
	render(r, VGA_BLINK_CHARS_ON, &vm);
	ok = true;
	for (unsigned y = 16; ok && y < 32; y++)
		for (unsigned x = 0; ok && x < 720; x++) {
			unsigned i = 80 + x / 9, dot = x % 9, line = y % 16;
			unsigned g = at[i] & 8 ? (uint8_t)~glyph(ch[i], line) : glyph(ch[i], line);
			bool on = dot < 8 ? g >> (7 - dot) & 1
					  : ch[i] >= 0xc0 && ch[i] <= 0xdf && (g & 1);
			ok = surface_buf[y * SURF_W + x] ==
			     dac_xrgb(ega_palette[on ? at[i] & 15 : at[i] >> 4 & 7]);
		}
	tap_ok(t, ok, "character map select: attribute bit 3 picks map A at 16 KiB");
	seq(r, 3, 0x00);

	/* 8-dot cells: no ninth column. */
	seq(r, 1, 0x01);
	render(r, VGA_BLINK_CHARS_ON, &vm);
	ok = vm.width == 640;
	for (unsigned x = 0; ok && x < 640; x++) {
		unsigned i = x / 8, dot = x % 8, g = glyph(ch[i], 0);
		ok = surface_buf[x] == dac_xrgb(ega_palette[g >> (7 - dot) & 1 ? at[i] & 15
										  : at[i] >> 4 & 7]);
	}
	tap_ok(t, ok, "8-dot cells: 640 wide, the first line right");
	/* Blink off: the background's intensity bit shows. */
	acw(r, 0x10, 0x04);
	render(r, VGA_BLINK_CHARS_ON, &vm);
	{
		unsigned i = 0;
		while (i < 80 && !(at[i] & 0x80))
			i++;
		ok = i < 80;
		for (unsigned dot = 0; ok && dot < 8; dot++) {
			unsigned g = glyph(ch[i], 0);
			ok = surface_buf[i * 8 + dot] ==
			     dac_xrgb(ega_palette[g >> (7 - dot) & 1 ? at[i] & 15 : at[i] >> 4]);
		}
		tap_ok(t, ok, "blink off: bit 7 is background intensity");
	}
	/* Screen off, then PAS clear: blank. */
	seq(r, 1, 0x21);
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_BLANK && surface_buf[0] == 0, "screen off: blank");
	seq(r, 1, 0x01);
	(void)inb(r, 0x3da);
	outb(r, 0x3c0, 0x00);
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_BLANK, "palette address source clear: blank");
	free(ref);
	rig_free(r);
}

/* Mode 12h pixels of the test's own: a pattern, written plane by plane
 * through the window, a few through write mode 2. */
static uint8_t pix12(unsigned x, unsigned y)
{
	return (uint8_t)((x / 3 + y / 5 + (x * y >> 7)) & 15);
}

static void fill_12h(struct rig *r, uint8_t *pix)
{
	for (unsigned y = 0; y < 480; y++)
		for (unsigned x = 0; x < 640; x++)
			pix[y * 640 + x] = pix12(x, y);
	for (unsigned p = 0; p < 4; p++) {
		seq(r, 2, (uint8_t)(1 << p));
		for (unsigned off = 0; off < 480 * 80; off++) {
			uint8_t b = 0;
			for (unsigned i = 0; i < 8; i++)
				b |= (uint8_t)((pix[off * 8 + i] >> p & 1) << (7 - i));
			memb(r, 0xa0000 + off, b);
		}
	}
	seq(r, 2, 0x0f);
	gcw(r, 5, 0x02);
	for (unsigned k = 0; k < 64; k++) {
		unsigned x = (k * 97) % 640, y = (k * 53) % 480;
		uint8_t c = (uint8_t)(k & 15);
		gcw(r, 8, (uint8_t)(0x80 >> (x & 7)));
		(void)rdmem(r, 0xa0000 + y * 80 + x / 8);
		memb(r, 0xa0000 + y * 80 + x / 8, c);
		pix[y * 640 + x] = c;
	}
	gcw(r, 5, 0);
	gcw(r, 8, 0xff);
}

static void test_12h(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	struct regs m;
	struct vga_mode vm;
	uint8_t *pix = malloc(640 * 480);
	uint32_t *ref = malloc(640 * 480 * 4);

	mode_12h(&m);
	load_regs(r, &m);
	load_dac(r);
	fill_12h(r, pix);
	for (unsigned i = 0; i < 640 * 480; i++)
		ref[i] = dac_xrgb(pix[i]);
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_PLANAR4 && vm.width == 640 && vm.height == 480 &&
		       same_picture(ref, 640, 480, "12h"),
	       "mode 12h: 640x480 in 16 colours from four planes");

	/* Split screen: start at line 100, line compare 199. */
	crtc(r, 0x0c, (8000 >> 8) & 0xff);
	crtc(r, 0x0d, 8000 & 0xff);
	crtc(r, 0x18, 199);
	crtc(r, 0x07, 0x02);
	crtc(r, 0x09, 0x00);
	for (unsigned y = 0; y < 480; y++)
		for (unsigned x = 0; x < 640; x++) {
			unsigned src = y <= 199 ? y + 100 : y - 200;
			ref[y * 640 + x] = src < 480 ? dac_xrgb(pix[src * 640 + x]) : 0;
		}
	render(r, 0, &vm);
	tap_ok(t, same_picture(ref, 640, 480, "split"),
	       "split screen: start address at line 100, line compare 199 restarts at 0");
	crtc(r, 0x0c, 0);
	crtc(r, 0x0d, 0);
	crtc(r, 0x18, 0xff);
	crtc(r, 0x07, 0x12);
	crtc(r, 0x09, 0x40);

	/* Pixel panning: three pixels to the left, below the line compare
	 * too unless the attribute mode says otherwise. */
	acw(r, 0x13, 3);
	for (unsigned y = 0; y < 480; y++)
		for (unsigned x = 0; x < 640; x++)
			ref[y * 640 + x] = dac_xrgb(x + 3 < 640 ? pix[y * 640 + x + 3]
						    : pix[(y + 1) * 640 % (480 * 640) + x + 3 - 640]);
	render(r, 0, &vm);
	tap_ok(t, same_picture(ref, 640, 479, "panning"),
	       "pixel panning 3: the picture moves three pixels left");
	acw(r, 0x13, 0);

	/* Palette registers and the colour plane enable. */
	acw(r, 0x12, 0x01);
	for (unsigned i = 0; i < 640 * 480; i++)
		ref[i] = dac_xrgb(pix[i] & 1);
	render(r, 0, &vm);
	tap_ok(t, same_picture(ref, 640, 480, "plane enable"), "colour plane enable 0001b");
	acw(r, 0x12, 0x0f);
	acw(r, 0x05, 0x2a);
	acw(r, 0x14, 0x0c);
	for (unsigned i = 0; i < 640 * 480; i++)
		ref[i] = dac_xrgb((pix[i] == 5 ? 0x2a : pix[i]) | 0xc0);
	render(r, 0, &vm);
	tap_ok(t, same_picture(ref, 640, 480, "palette"),
	       "a palette register and colour select bits 7-6");
	free(pix);
	free(ref);
	rig_free(r);
}

/* CGA modes 4 and 6: 200 lines, even ones at B8000h, odd ones 2000h
 * further, scan-doubled to 400; mode 4's pixels are two bits, four to a
 * byte, through palette registers 0-3. */
static uint8_t pix_cga(unsigned x, unsigned y, unsigned bits)
{
	return (uint8_t)((x / 5 + y / 3 + (x ^ y)) & ((1u << bits) - 1));
}

static void test_cga(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	struct regs m;
	struct vga_mode vm;
	uint32_t *ref = malloc(640 * 400 * 4);
	static const uint8_t cga_pal[4] = {0x00, 0x13, 0x15, 0x17};

	memset(&m, 0, sizeof(m));
	m.misc = 0x63;
	memcpy(m.seq, (uint8_t[]){0x03, 0x09, 0x03, 0x00, 0x02}, 5); /* half clock, odd/even */
	m.crtc[0x01] = 39;
	m.crtc[0x07] = 0x12;
	m.crtc[0x09] = 0xc1; /* double scan, two scan lines a row */
	m.crtc[0x12] = 0x8f;
	m.crtc[0x13] = 20;
	m.crtc[0x17] = 0xa2; /* word mode, row scan bit 0 as address bit 13 */
	m.crtc[0x18] = 0xff;
	memcpy(m.gc, (uint8_t[]){0, 0, 0, 0, 0, 0x30, 0x0f, 0x00, 0xff}, 9);
	memcpy(m.ac, cga_pal, 4);
	m.ac[0x10] = 0x01;
	m.ac[0x12] = 0x03;
	load_regs(r, &m);
	load_dac(r);
	for (unsigned y = 0; y < 200; y++)
		for (unsigned xb = 0; xb < 80; xb++) {
			uint8_t b = 0;
			for (unsigned i = 0; i < 4; i++)
				b |= (uint8_t)(pix_cga(xb * 4 + i, y, 2) << (6 - 2 * i));
			memb(r, 0xb8000 + (y & 1) * 0x2000 + (y >> 1) * 80 + xb, b);
		}
	for (unsigned y = 0; y < 400; y++)
		for (unsigned x = 0; x < 640; x++)
			ref[y * 640 + x] = dac_xrgb(cga_pal[pix_cga(x / 2, y / 2, 2)]);
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_CGA4 && vm.width == 640 && vm.height == 400 &&
		       same_picture(ref, 640, 400, "mode 4"),
	       "CGA mode 4: 320x200 in 4 colours, odd lines 2000h on, doubled to 640x400");

	memcpy(m.seq, (uint8_t[]){0x03, 0x01, 0x01, 0x00, 0x06}, 5); /* plane 0, sequential */
	m.crtc[0x01] = 79;
	m.crtc[0x13] = 40;
	m.crtc[0x17] = 0xc2; /* byte mode */
	m.gc[5] = 0x00;
	m.gc[6] = 0x0d;
	m.ac[1] = 0x3f;
	m.ac[0x12] = 0x01;
	load_regs(r, &m);
	for (unsigned y = 0; y < 200; y++)
		for (unsigned xb = 0; xb < 80; xb++) {
			uint8_t b = 0;
			for (unsigned i = 0; i < 8; i++)
				b |= (uint8_t)(pix_cga(xb * 8 + i, y, 1) << (7 - i));
			memb(r, 0xb8000 + (y & 1) * 0x2000 + (y >> 1) * 80 + xb, b);
		}
	for (unsigned y = 0; y < 400; y++)
		for (unsigned x = 0; x < 640; x++)
			ref[y * 640 + x] = dac_xrgb(pix_cga(x, y / 2, 1) ? 0x3f : 0x00);
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_CGA2 && vm.width == 640 && vm.height == 400 &&
		       same_picture(ref, 640, 400, "mode 6"),
	       "CGA mode 6: 640x200 in 2 colours from plane 0, doubled to 640x400");
	free(ref);
	rig_free(r);
}

static uint8_t pix256(unsigned x, unsigned y)
{
	return (uint8_t)(x * 3 + y * 7 + (x ^ y));
}

static void test_256(struct tap *t, bool unchained)
{
	struct rig *r = rig_new(false, NULL);
	struct regs m;
	struct vga_mode vm;
	unsigned h = unchained ? 240 : 200;
	uint32_t *ref = malloc(640 * 480 * 4);

	mode_13h(&m, unchained);
	load_regs(r, &m);
	load_dac(r);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < 320; x++) {
			if (unchained) {
				seq(r, 2, (uint8_t)(1 << (x & 3)));
				memb(r, 0xa0000 + y * 80 + x / 4, pix256(x, y));
			} else {
				memb(r, 0xa0000 + y * 320 + x, pix256(x, y));
			}
		}
	for (unsigned y = 0; y < 2 * h; y++)
		for (unsigned x = 0; x < 640; x++)
			ref[y * 640 + x] = dac_xrgb(pix256(x / 2, y / 2));
	render(r, 0, &vm);
	tap_ok(t, vm.kind == (unchained ? VGA_MODE_UNCHAINED256 : VGA_MODE_CHAINED256) &&
		       vm.width == 640 && vm.height == 2 * h &&
		       same_picture(ref, 640, 2 * h, unchained ? "mode X" : "13h"),
	       "%s: 320x%u in 256 colours, shown doubled as 640x%u", unchained ? "mode X" : "mode 13h",
	       h, 2 * h);
	if (!unchained) {
		/* The same bytes are VBE's 8 bpp linear picture. */
		dispi_wr(r, VBE_DISPI_INDEX_XRES, 320);
		dispi_wr(r, VBE_DISPI_INDEX_YRES, 200);
		dispi_wr(r, VBE_DISPI_INDEX_BPP, 8);
		dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM);
		for (unsigned y = 0; y < 200; y++)
			for (unsigned x = 0; x < 320; x++)
				ref[y * 320 + x] = dac_xrgb(pix256(x, y));
		render(r, 0, &vm);
		tap_ok(t, vm.kind == VGA_MODE_LINEAR8 && same_picture(ref, 320, 200, "vbe8"),
		       "VBE 320x200x8 shows mode 13h's bytes through the DAC");
	}
	free(ref);
	rig_free(r);
}

static void test_vbe(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	struct vga_mode vm;
	uint32_t *ref = malloc(640 * 480 * 4);
	const uint8_t *direct;
	uint32_t *fb = (uint32_t *)r->v.vram;

	dispi_wr(r, VBE_DISPI_INDEX_XRES, 640);
	dispi_wr(r, VBE_DISPI_INDEX_YRES, 480);
	dispi_wr(r, VBE_DISPI_INDEX_BPP, 32);
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
	for (unsigned i = 0; i < 1024 * 1024; i++)
		fb[i] = i * 2654435761u;
	cfg_wr(r, 0x10, 4, 0xe0000000);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	region_write(&r->mmio, 0xe0000000 + 4 * (7 * 640 + 9), 4, 0xff123456);
	for (unsigned i = 0; i < 640 * 480; i++)
		ref[i] = fb[i] & 0xffffff;
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_LINEAR32 && vm.width == 640 && vm.height == 480 &&
		       ref[7 * 640 + 9] == 0x123456 && same_picture(ref, 640, 480, "vbe32"),
	       "VBE 640x480x32 through the LFB");
	dispi_wr(r, VBE_DISPI_INDEX_VIRT_WIDTH, 1024);
	dispi_wr(r, VBE_DISPI_INDEX_X_OFFSET, 8);
	dispi_wr(r, VBE_DISPI_INDEX_Y_OFFSET, 3);
	for (unsigned y = 0; y < 480; y++)
		for (unsigned x = 0; x < 640; x++)
			ref[y * 640 + x] = fb[(y + 3) * 1024 + x + 8] & 0xffffff;
	render(r, 0, &vm);
	tap_ok(t, same_picture(ref, 640, 480, "vbe32 panned"),
	       "virtual width 1024, offsets (8, 3): the picture pans");
	direct = vga_render_direct(&r->v.s, r->v.vram, r->v.vram_size, &vm);
	tap_ok(t, direct == r->v.vram + 4 * (3 * 1024 + 8) && vm.pitch == 4096,
	       "direct: a pointer into VRAM and its pitch, no copy");
	tap_ok(t, !vga_render_direct(&r->v.s, r->v.vram, 1u << 20, &vm),
	       "direct refused when the picture passes the VRAM given");

	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, 0);
	dispi_wr(r, VBE_DISPI_INDEX_XRES, 320);
	dispi_wr(r, VBE_DISPI_INDEX_YRES, 200);
	dispi_wr(r, VBE_DISPI_INDEX_BPP, 16);
	dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM);
	for (unsigned i = 0; i < 320 * 200; i++) {
		uint16_t v = (uint16_t)(r->v.vram[2 * i] | r->v.vram[2 * i + 1] << 8);
		uint32_t rr = v >> 11, gg = v >> 5 & 63, bb = v & 31;
		/* Each field's high bits repeated into the low ones. */
		ref[i] = (rr << 3 | rr >> 2) << 16 | (gg << 2 | gg >> 4) << 8 | (bb << 3 | bb >> 2);
	}
	render(r, 0, &vm);
	tap_ok(t, vm.kind == VGA_MODE_LINEAR16 && same_picture(ref, 320, 200, "vbe16"),
	       "VBE 320x200x16: 5-6-5 spread to 8 bits a channel");

	/* Changed lines: a fresh bitmap, one pixel written. */
	{
		uint64_t dirty[64], lines[(VGA_RENDER_MAX_HEIGHT + 63) / 64];
		uint32_t font_gen = 0;
		unsigned n;
		dispi_wr(r, VBE_DISPI_INDEX_ENABLE, 0);
		dispi_wr(r, VBE_DISPI_INDEX_XRES, 640);
		dispi_wr(r, VBE_DISPI_INDEX_YRES, 480);
		dispi_wr(r, VBE_DISPI_INDEX_BPP, 32);
		dispi_wr(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM);
		vga_dirty_fetch(&r->v, dirty, 64);
		region_write(&r->mmio, 0xe0000000 + 4 * (100 * 640 + 600), 4, 1);
		vga_dirty_fetch(&r->v, dirty, 64);
		n = vga_render_changed(&r->v.s, r->v.vram_size, dirty, &font_gen, lines);
		tap_ok(t, (lines[100 / 64] >> (100 % 64) & 1) && !(lines[0] & 1) && n >= 1 &&
			       n <= 3, "a pixel on line 100: %u lines changed, 100 among them", n);
		memset(dirty, 0, sizeof(dirty));
		tap_ok(t, vga_render_changed(&r->v.s, r->v.vram_size, dirty, &font_gen, lines) == 0,
		       "nothing dirty: nothing changed");
	}
	free(ref);
	rig_free(r);
}

static void test_changed_text(struct tap *t)
{
	struct rig *r = rig_new(false, NULL);
	struct regs m;
	uint64_t dirty[64], lines[(VGA_RENDER_MAX_HEIGHT + 63) / 64];
	uint32_t font_gen = r->v.s.font_gen;
	unsigned n;

	mode_text(&m);
	load_regs(r, &m);
	vga_dirty_fetch(&r->v, dirty, 64);
	memb(r, 0xb8000 + 2 * (24 * 80), 'x');
	vga_dirty_fetch(&r->v, dirty, 64);
	n = vga_render_changed(&r->v.s, r->v.vram_size, dirty, &font_gen, lines);
	/* A 4 KiB page holds 1024 cells: the last 13 rows share it. */
	tap_ok(t, (lines[399 / 64] >> (399 % 64) & 1) && !(lines[0] & 1) && n >= 16 && n <= 14 * 16,
	       "text: a character on the last row marks the rows sharing its page (%u lines)", n);
	seq(r, 2, 0x04);
	seq(r, 4, 0x06);
	gcw(r, 5, 0);
	gcw(r, 6, 0x04);
	memb(r, 0xa0000 + 0x41 * 32 + 3, 0xff);
	vga_dirty_fetch(&r->v, dirty, 64);
	seq(r, 2, 0x03);
	seq(r, 4, 0x02);
	gcw(r, 5, 0x10);
	gcw(r, 6, 0x0e);
	n = vga_render_changed(&r->v.s, r->v.vram_size, dirty, &font_gen, lines);
	tap_ok(t, n == 400, "a font byte changed: every line (%u)", n);
	n = vga_render_changed(&r->v.s, r->v.vram_size, dirty, &font_gen, lines);
	tap_ok(t, n == 0, "the font seen: only the dirty pages' lines, none (plane offset 823h "
	       "is in page 2, under no cell) (%u)", n);
	rig_free(r);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random(struct tap *t)
{
	struct rig *r = rig_new(false, "1");
	uint64_t dirty[8], lines[(VGA_RENDER_MAX_HEIGHT + 63) / 64];
	uint32_t font_gen = 0;
	unsigned renders = 0, steps = 30000;
	struct vga_mode vm;

	cfg_wr(r, 0x10, 4, 0xe0000000);
	cfg_wr(r, 0x18, 4, 0xe1000000);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	for (unsigned i = 0; i < steps; i++) {
		uint64_t x = rnd();
		switch (x % 10) {
		case 0:
		case 1:
			outb(r, 0x3b0 + (unsigned)(x >> 8) % 0x30, (uint8_t)(x >> 16));
			break;
		case 2:
			(void)inb(r, 0x3b0 + (unsigned)(x >> 8) % 0x30);
			break;
		case 3:
			memb(r, 0xa0000 + (x >> 8) % 0x20000, (uint8_t)(x >> 32));
			break;
		case 4:
			(void)rdmem(r, 0xa0000 + (x >> 8) % 0x20000);
			break;
		case 5: {
			static const uint16_t sane[] = {0, 8, 15, 16, 24, 32, 320, 640, 1024,
							2560, 1600, 0xffff, 0x41, 0xc1, 0x03};
			dispi_wr(r, (unsigned)(x >> 8) % 12,
				 x >> 20 & 1 ? sane[(x >> 24) % 15] : (uint16_t)(x >> 32));
			break;
		}
		case 6:
			region_write(&r->mmio, 0xe0000000 + (x >> 8) % (2u << 20), 4,
				     (uint32_t)(x >> 32));
			break;
		case 7:
			region_write(&r->mmio, 0xe1000000 + (x >> 8) % 0x1000, 1 << (x >> 40) % 3,
				     x >> 16);
			break;
		case 8:
			(void)inw(r, 0x1ce + (unsigned)(x >> 8) % 4);
			break;
		default:
			crtc(r, (unsigned)(x >> 8) % 25, (uint8_t)(x >> 16));
			break;
		}
		if (i % 600 == 599) {
			render(r, (unsigned)x >> 3 & 3, &vm);
			vga_dirty_fetch(&r->v, dirty, 8);
			(void)vga_render_changed(&r->v.s, r->v.vram_size, dirty, &font_gen, lines);
			(void)vga_render_direct(&r->v.s, r->v.vram, r->v.vram_size, &vm);
			/* A caller mapping less than the device has. */
			{
				struct vga_surface s = {surface_buf, 800, 600, 801};
				vga_render(&r->v.s, r->v.vram, 4096, 3, &s, &vm);
			}
			renders++;
		}
	}
	tap_ok(t, renders == steps / 600,
	       "%u random register, memory, DISPI and BAR writes with %u renders: no fault",
	       steps, renders);
	rig_free(r);
}

int main(void)
{
	struct tap t = {0};
	surface_buf = calloc((size_t)SURF_W * SURF_H, 4);
	if (!surface_buf)
		abort();
	test_pci(&t);
	test_rom_file(&t);
	test_firmware_text(&t);
	test_registers(&t);
	test_memory(&t);
	test_dispi(&t);
	test_text(&t);
	test_12h(&t);
	test_cga(&t);
	test_256(&t, false);
	test_256(&t, true);
	test_vbe(&t);
	test_changed_text(&t);
	test_random(&t);
	free(surface_buf);
	return tap_done(&t);
}
