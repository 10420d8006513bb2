/* The real VGA BIOS on the VGA: SeaBIOS's vgabios-stdvga.bin runs on the
 * emulator (real mode, as a system BIOS calls it) against the device,
 * with a minimal PC around them: 640 KiB of RAM, the ROM shadowed at
 * C0000h, every interrupt vector an IRET but the ones the VGA BIOS
 * hooks, and PCI configuration mechanism 1 reaching 00:02.0. A small
 * program calls the ROM's init entry (AX = the device's bus/dev/fn, as
 * SeaBIOS passes it), sets mode 3 with INT 10h and prints a string
 * through teletype output, then sets modes 12h and 13h and draws a pixel
 * in each with INT 10h AH=0Ch, then VBE mode 112h with the LFB. The ROM
 * runs in big real mode, as SeaBIOS runs it. The renderer must show what
 * an IBM VGA would: its 8x16 font's 'H' in light grey (the default
 * palette's colour 7) on black, mode 12h's yellow, mode 13h's pixel
 * doubled, a pixel written through BAR0. Skipped when the ROM is not
 * installed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "dev/kind.h"
#include "dev/vga_render.h"
#include "dm/hw/vga.h"
#include "mem/region.h"
#include "tests/tap.h"

#define RAM_SIZE (1u << 20)
#define PROG 0x7c00
#define LFB_BAR 0xfd000000u
#define MMIO_BAR 0xfebf0000u

struct pc {
	uint8_t *ram;              /* 0-9FFFFh RAM, C0000h-FFFFFh shadow */
	struct region_map ports, mmio;
	struct vga v;
	struct dev_ctx ctx;
	const struct io_ops *cfg_ops;
	uint32_t cf8;
	struct cpu *cpu;
	unsigned stray_ports;
};

static int pc_claim(const struct dev_ctx *c, unsigned space, uint64_t base, uint64_t len,
		    unsigned flags, const struct io_ops *ops, void *opaque)
{
	struct pc *pc = c->board;
	struct region_desc d = {.name = "vga", .kind = REGION_IO, .base = base, .size = len,
				.enabled = true, .ops = ops, .opaque = opaque};
	if (space == DEV_SPACE_PCI) {
		pc->cfg_ops = base == PCI_DEVFN(2, 0) ? ops : NULL;
		return 0;
	}
	return region_add(space == DEV_SPACE_PIO ? &pc->ports : &pc->mmio, &d, NULL);
}

static int pc_window(const struct dev_ctx *c, unsigned space, uint64_t base, unsigned op,
		     uint64_t new_base)
{
	return -ENOSYS; /* the BARs are placed before anything runs */
}

static const struct irq_line *pc_line(const struct dev_ctx *c, unsigned line)
{
	return NULL;
}

static void pc_exit(const struct dev_ctx *c, int status, const char *why)
{
}

static uint8_t *pc_ram_page(void *opaque, uint64_t paddr, bool write)
{
	struct pc *pc = opaque;
	if (paddr < 0xa0000 || (paddr >= 0xc0000 && paddr < RAM_SIZE))
		return pc->ram + paddr;
	return NULL;
}

static uint64_t pc_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
	return region_read(&((struct pc *)opaque)->mmio, paddr, size);
}

static void pc_mmio_write(void *opaque, uint64_t paddr, unsigned size, uint64_t v)
{
	region_write(&((struct pc *)opaque)->mmio, paddr, size, v);
}

/* PCI configuration mechanism 1, bus 0 slot 2 function 0 only. */
static bool cfg_target(const struct pc *pc, unsigned *reg)
{
	*reg = pc->cf8 & 0xfc;
	return (pc->cf8 & 0x80000000u) && ((pc->cf8 >> 8) & 0xffff) == PCI_DEVFN(2, 0) &&
	       pc->cfg_ops;
}

static uint32_t pc_pio_in(void *opaque, uint16_t port, unsigned size)
{
	struct pc *pc = opaque;
	unsigned reg;
	if (port == 0xcf8 && size == 4)
		return pc->cf8;
	if (port >= 0xcfc && port < 0xd00) {
		if (!cfg_target(pc, &reg))
			return 0xffffffffu;
		return (uint32_t)pc->cfg_ops->read(&pc->v, reg + (port & 3), size);
	}
	if ((port >= 0x3b0 && port < 0x3e0) || (port >= 0x1ce && port < 0x1d2))
		return (uint32_t)region_read(&pc->ports, port, size);
	pc->stray_ports++;
	return 0xffffffffu;
}

static void pc_pio_out(void *opaque, uint16_t port, unsigned size, uint32_t v)
{
	struct pc *pc = opaque;
	unsigned reg;
	if (port == 0xcf8 && size == 4) {
		pc->cf8 = v;
	} else if (port >= 0xcfc && port < 0xd00) {
		if (cfg_target(pc, &reg))
			pc->cfg_ops->write(&pc->v, reg + (port & 3), size, v);
	} else if ((port >= 0x3b0 && port < 0x3e0) || (port >= 0x1ce && port < 0x1d2)) {
		region_write(&pc->ports, port, size, v);
	} else {
		pc->stray_ports++; /* the BIOS's debug port 402h, the PIT, ... */
	}
}

static uint8_t pc_intr_ack(void *opaque)
{
	return 0x08;
}

/* The test programs (real mode, each at 0000:7C00, ending in HLT). */
#define MSG 0x7d00
static const uint8_t prog_text[] = {
	0xb8, 0x10, 0x00,             /* mov ax, 0010h: bus 0, device 2, fn 0 */
	0x9a, 0x03, 0x00, 0x00, 0xc0, /* call far C000:0003 (the ROM's init) */
	0xb8, 0x03, 0x00,             /* mov ax, 3 */
	0xcd, 0x10,                   /* int 10h: mode 3 */
	0xbe, 0x00, 0x7d,             /* mov si, MSG */
	0xac,                         /* next: lodsb */
	0x08, 0xc0,                   /* or al, al */
	0x74, 0x09,                   /* jz done */
	0xb4, 0x0e,                   /* mov ah, 0Eh */
	0xbb, 0x07, 0x00,             /* mov bx, 7 */
	0xcd, 0x10,                   /* int 10h: teletype */
	0xeb, 0xf2,                   /* jmp next */
	0xf4,                         /* done: hlt */
};

/* Mode `mode`, then INT 10h AH=0Ch: colour `colour` at (5, 3). */
#define PROG_PIXEL(mode, colour)                                                      \
	{                                                                              \
		0xb8, mode, 0x00,             /* mov ax, mode */                       \
		0xcd, 0x10,                   /* int 10h */                            \
		0xb8, colour, 0x0c,           /* mov ax, 0Ch << 8 | colour */          \
		0x31, 0xdb,                   /* xor bx, bx */                         \
		0xb9, 0x05, 0x00,             /* mov cx, 5 */                          \
		0xba, 0x03, 0x00,             /* mov dx, 3 */                          \
		0xcd, 0x10,                   /* int 10h */                            \
		0xf4,                         /* hlt */                                \
	}
static const uint8_t prog_12h[] = PROG_PIXEL(0x12, 0x0e);
static const uint8_t prog_13h[] = PROG_PIXEL(0x13, 0x28);

/* VBE function 02h: mode 112h (640x480, true colour) with the LFB. */
static const uint8_t prog_vbe[] = {
	0xb8, 0x02, 0x4f, /* mov ax, 4F02h */
	0xbb, 0x12, 0x41, /* mov bx, 4112h */
	0xcd, 0x10,       /* int 10h */
	0xf4,             /* hlt */
};

/* Runs a program from 0000:7C00 until it halts. */
static bool run_prog(struct pc *pc, const uint8_t *code, size_t len, uint64_t budget)
{
	struct x86_state st;
	memcpy(pc->ram + PROG, code, len);
	cpu_get_state(pc->cpu, &st);
	st.rip = PROG;
	st.ev.halted = 0;
	cpu_set_state(pc->cpu, &st);
	while (budget) {
		uint64_t step = budget < 1000000 ? budget : 1000000;
		enum cpu_exit e = cpu_run(pc->cpu, step);
		if (e == CPU_EXIT_HALT)
			return true;
		if (e != CPU_EXIT_BUDGET)
			return false;
		budget -= step;
	}
	return false;
}

static void print_state(struct pc *pc)
{
	struct x86_state st;
	cpu_get_state(pc->cpu, &st);
	uint64_t sp = st.seg[S_SS].base + (st.gpr[4] & 0xffff);
	tap_diag("stopped at %04x:%04llx, ax %04llx, stack %02x%02x %02x%02x %02x%02x",
		 st.seg[S_CS].selector, (unsigned long long)st.rip,
		 (unsigned long long)st.gpr[0] & 0xffff, pc->ram[sp + 1], pc->ram[sp],
		 pc->ram[sp + 3], pc->ram[sp + 2], pc->ram[sp + 5], pc->ram[sp + 4]);
}

int main(void)
{
	struct tap t = {0};
	const struct dev_kind *k = dev_kind_find("VGA");
	struct pc *pc = calloc(1, sizeof(*pc));
	struct cpu_model model;
	struct cpu_bus bus = {0};
	struct dev_props p;
	struct dev_machine m = {.vram_fd = -1, .display_shm_fd = -1, .display_input_fd = -1};
	struct x86_state st;
	int fds[DEV_MAX_FDS];
	unsigned n_fds = 0;
	char err[256] = "";
	uint32_t *pix = calloc((size_t)VGA_RENDER_MAX_WIDTH * VGA_RENDER_MAX_HEIGHT, 4);
	struct vga_surface surf = {pix, VGA_RENDER_MAX_WIDTH, VGA_RENDER_MAX_HEIGHT,
				   VGA_RENDER_MAX_WIDTH};
	struct vga_mode vm;
	/* The IBM VGA's 8x16 'H', and its default palette's colour 7. */
	static const uint8_t glyph_h[16] = {0x00, 0x00, 0xc6, 0xc6, 0xc6, 0xc6, 0xfe, 0xc6,
					    0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00};
	const uint32_t grey = 0xaaaaaa, yellow = 0xffff55;
	bool ok;

	if (!k || !pc || !pix || !(pc->ram = calloc(1, RAM_SIZE)) ||
	    region_map_init(&pc->ports, "port", 0x10000) ||
	    region_map_init(&pc->mmio, "mmio", 1ull << 32))
		abort();
	dev_props_init(&p, k);
	if (k->host_open(&p, &m, fds, &n_fds, err, sizeof(err))) {
		tap_ok(&t, true, "# SKIP %s", err);
		return tap_done(&t);
	}
	pc->ctx = (struct dev_ctx){"vga", NULL, NULL, fds, n_fds, pc, pc_claim, pc_line,
				   pc_exit, pc_window};
	if (k->create(&pc->v, &pc->ctx, &p, err, sizeof(err))) {
		tap_ok(&t, false, "create: %s", err);
		return tap_done(&t);
	}
	close(fds[0]);
	/* What the system BIOS did first: BARs placed, decoding on, the ROM
	 * copied to C0000h, interrupt vectors at an IRET. */
	pc->cfg_ops->write(&pc->v, 0x10, 4, LFB_BAR);
	pc->cfg_ops->write(&pc->v, 0x18, 4, MMIO_BAR);
	pc->cfg_ops->write(&pc->v, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	memcpy(pc->ram + 0xc0000, pc->v.rom, pc->v.rom_len);
	pc->ram[0xf0000] = 0xcf; /* iret */
	for (unsigned v = 0; v < 256; v++) {
		pc->ram[4 * v + 2] = 0x00;
		pc->ram[4 * v + 3] = 0xf0;
	}
	pc->ram[0x413] = 0x80; /* BDA: 640 KiB of base memory */
	pc->ram[0x414] = 0x02;
	memcpy(pc->ram + MSG, "Hello", 6);

	bus = (struct cpu_bus){pc, pc_ram_page, pc_mmio_read, pc_mmio_write, pc_pio_in,
			       pc_pio_out, NULL, pc_intr_ack};
	cpu_model_default(&model);
	pc->cpu = cpu_create(&bus, &model, RAM_SIZE / 4096);
	if (!pc->cpu)
		abort();
	cpu_reset(pc->cpu);
	cpu_set_a20(pc->cpu, true);
	cpu_get_state(pc->cpu, &st);
	/* Big real mode, as SeaBIOS calls option ROMs (farcall16big): the
	 * VGA BIOS uses 32-bit addresses. */
	for (unsigned s = 0; s < S_NR; s++) {
		st.seg[s].selector = 0;
		st.seg[s].base = 0;
		if (s != S_CS)
			st.seg[s].limit = 0xffffffffu;
	}
	st.gpr[4] = 0x7000; /* sp */
	cpu_set_state(pc->cpu, &st);

	ok = run_prog(pc, prog_text, sizeof(prog_text), 50000000);
	if (!ok)
		print_state(pc);
	tap_ok(&t, ok, "the VGA BIOS initialised, set mode 3 and printed (%llu instructions)",
	       (unsigned long long)cpu_icount(pc->cpu));
	vga_render(&pc->v.s, pc->v.vram, pc->v.vram_size, VGA_BLINK_CHARS_ON, &surf, &vm);
	tap_ok(&t, vm.kind == VGA_MODE_TEXT && vm.width == 720 && vm.height == 400 &&
		       vm.cols == 80 && vm.rows == 25,
	       "mode 3 renders as 80x25 text, 720x400 (%ux%u, kind %u)", vm.width, vm.height,
	       vm.kind);
	ok = pc->v.vram[0] == 'H' && pc->v.vram[1] == 0x07 && pc->v.vram[4 * 4] == 'o';
	tap_ok(&t, ok, "\"Hello\" in plane 0, attribute 07h in plane 1");
	ok = true;
	for (unsigned y = 0; y < 16 && ok; y++)
		for (unsigned x = 0; x < 9 && ok; x++) {
			bool on = x < 8 && (glyph_h[y] >> (7 - x) & 1);
			uint32_t got = pix[(size_t)y * VGA_RENDER_MAX_WIDTH + x];
			ok = got == (on ? grey : 0);
			if (!ok)
				tap_diag("(%u,%u): %06x", x, y, got);
		}
	tap_ok(&t, ok, "the first cell is the IBM font's 'H', light grey on black");
	tap_ok(&t, (pc->v.s.crtc[VGA_CRTC_CURSOR_HI] << 8 | pc->v.s.crtc[VGA_CRTC_CURSOR_LO]) == 5,
	       "the cursor after the fifth character");

	ok = run_prog(pc, prog_12h, sizeof(prog_12h), 50000000);
	if (!ok)
		print_state(pc);
	tap_ok(&t, ok, "mode 12h set and a pixel written through INT 10h");
	vga_render(&pc->v.s, pc->v.vram, pc->v.vram_size, 0, &surf, &vm);
	tap_ok(&t, vm.kind == VGA_MODE_PLANAR4 && vm.width == 640 && vm.height == 480,
	       "mode 12h renders as 640x480 planar (%ux%u, kind %u)", vm.width, vm.height,
	       vm.kind);
	tap_ok(&t, pix[3 * VGA_RENDER_MAX_WIDTH + 5] == yellow &&
		       pix[3 * VGA_RENDER_MAX_WIDTH + 4] == 0 &&
		       pix[4 * VGA_RENDER_MAX_WIDTH + 5] == 0,
	       "the pixel at (5, 3) is colour 14, yellow, and alone (%06x)",
	       pix[3 * VGA_RENDER_MAX_WIDTH + 5]);

	ok = run_prog(pc, prog_13h, sizeof(prog_13h), 50000000);
	if (!ok)
		print_state(pc);
	vga_render(&pc->v.s, pc->v.vram, pc->v.vram_size, 0, &surf, &vm);
	tap_ok(&t, ok && vm.kind == VGA_MODE_CHAINED256 && vm.width == 640 && vm.height == 400,
	       "mode 13h through INT 10h renders chained, 640x400 (%ux%u, kind %u)", vm.width,
	       vm.height, vm.kind);
	{
		uint32_t c = vga_render_dac(&pc->v.s, 0x28);
		ok = pc->v.vram[3 * 320 + 5] == 0x28 && c != 0;
		for (unsigned dy = 0; dy < 2; dy++)
			for (unsigned dx = 0; dx < 2; dx++)
				ok = ok && pix[(6 + dy) * VGA_RENDER_MAX_WIDTH + 10 + dx] == c;
		tap_ok(&t, ok && pix[6 * VGA_RENDER_MAX_WIDTH + 12] != c,
		       "its pixel (5, 3), colour 28h, is byte 965 and a 2x2 block at (10, 6)");
	}

	ok = run_prog(pc, prog_vbe, sizeof(prog_vbe), 50000000);
	cpu_get_state(pc->cpu, &st);
	tap_ok(&t, ok && (st.gpr[0] & 0xffff) == 0x004f, "VBE set mode 4112h: AX = 004Fh (%04llx)",
	       (unsigned long long)st.gpr[0] & 0xffff);
	tap_ok(&t, (pc->v.s.vbe[VBE_DISPI_INDEX_ENABLE] & (VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED)) ==
			   (VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED) &&
		       pc->v.s.vbe[VBE_DISPI_INDEX_XRES] == 640 &&
		       pc->v.s.vbe[VBE_DISPI_INDEX_YRES] == 480,
	       "DISPI: enabled with the LFB, 640x480 at %u bpp", pc->v.s.vbe[VBE_DISPI_INDEX_BPP]);
	region_write(&pc->mmio, LFB_BAR, 4, 0x00332211);
	vga_render(&pc->v.s, pc->v.vram, pc->v.vram_size, 0, &surf, &vm);
	tap_ok(&t, (vm.kind == VGA_MODE_LINEAR32 || vm.kind == VGA_MODE_LINEAR24) &&
		       vm.width == 640 && vm.height == 480 && pix[0] == 0x332211 && pix[1] == 0,
	       "a pixel written through BAR0 shows at (0, 0)");
	tap_diag("%u accesses to ports outside the VGA", pc->stray_ports);

	cpu_destroy(pc->cpu);
	vga_fini(&pc->v);
	region_map_destroy(&pc->ports);
	region_map_destroy(&pc->mmio);
	free(pc->ram);
	free(pc);
	free(pix);
	return tap_done(&t);
}
