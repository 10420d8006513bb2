/* The VGA renderer: from the registers (dev/vga_regs.h) and VRAM to the
 * current mode's geometry and a picture in a caller's 32-bit XRGB
 * surface. A library with no device and no process behind it: the device
 * model's tests link it, and so will the display process, which maps the
 * registers and VRAM read-only. Everything it reads may be hostile (the
 * guest chose it): every geometry is clamped and no read leaves VRAM.
 *
 * Pictures are the displayed raster: a 256-colour pixel or one of a
 * half-clock mode spans two dots, so mode 13h is 640x400 as a monitor
 * shows it (its 320x200 pixels doubled both ways), and the text modes
 * are the character cells' dots (720x400 for mode 3). VBE modes are
 * their xres x yres. */
#ifndef V2E_DEV_VGA_RENDER_H
#define V2E_DEV_VGA_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/vga_regs.h"

#define VGA_RENDER_MAX_WIDTH 2560
#define VGA_RENDER_MAX_HEIGHT 1600

enum vga_mode_kind {
	VGA_MODE_BLANK = 0,     /* screen off, or nothing sensible to show */
	VGA_MODE_TEXT,
	VGA_MODE_CGA2,          /* one plane, CGA row interleave (mode 6) */
	VGA_MODE_CGA4,          /* CGA 4-colour shift mode (modes 4, 5) */
	VGA_MODE_PLANAR4,       /* 16 colours from four planes (0Dh-12h) */
	VGA_MODE_CHAINED256,    /* mode 13h */
	VGA_MODE_UNCHAINED256,  /* "mode X" */
	VGA_MODE_LINEAR8,       /* VBE, through the DAC */
	VGA_MODE_LINEAR15,      /* VBE, x:1 r:5 g:5 b:5 */
	VGA_MODE_LINEAR16,      /* VBE, r:5 g:6 b:5 */
	VGA_MODE_LINEAR24,      /* VBE, bytes b, g, r */
	VGA_MODE_LINEAR32,      /* VBE, little-endian XRGB: the surface's own */
};

struct vga_mode {
	uint8_t kind;           /* enum vga_mode_kind */
	uint32_t width, height; /* the picture, at most the maxima above */
	/* Text: character cells and their size in dots. */
	uint32_t cols, rows, char_width, char_height;
	/* Linear modes: where the picture's first pixel is in VRAM and the
	 * bytes from one line to the next. */
	uint64_t start;
	uint32_t pitch;
	uint32_t bpp;
};

/* The caller's picture: width x height pixels, `stride` pixels apart. */
struct vga_surface {
	uint32_t *pixels;
	uint32_t width, height, stride;
};

/* Blink phase, chosen by the display from its clock (a VGA blinks the
 * cursor every 16 frames and blinking characters every 32). */
#define VGA_BLINK_CURSOR_ON 0x1
#define VGA_BLINK_CHARS_ON 0x2

/* The mode the registers describe (whatever VRAM holds). */
void vga_render_mode(const struct vga_state *s, struct vga_mode *m);

/* Draws the picture into out, clipped to its size (lines and columns
 * beyond the surface are left alone; lines of the picture whose VRAM is
 * beyond vram_size are black). Fills *m when m is not NULL. */
void vga_render(const struct vga_state *s, const uint8_t *vram, size_t vram_size,
		unsigned blink, struct vga_surface *out, struct vga_mode *m);

/* vga_render() for the lines marked in `lines` (a bit per picture line,
 * as vga_render_changed() gives them; NULL: all): a display redraws only
 * what the dirty log says may have changed. */
void vga_render_lines(const struct vga_state *s, const uint8_t *vram, size_t vram_size,
		      unsigned blink, const uint64_t *lines, struct vga_surface *out,
		      struct vga_mode *m);

/* Which lines of the picture may have changed since the dirty pages were
 * last fetched: `dirty` has a bit per 4 KiB page of VRAM (vram_size /
 * 4096 bits), `lines` gets a bit per picture line (at least
 * VGA_RENDER_MAX_HEIGHT bits). Conservative: a line reading any dirty
 * page is marked. In text modes the font shares its pages with the
 * characters (the planes are interleaved), so a font change is told
 * apart by s->font_gen instead: when it differs from *font_gen_seen
 * every line is marked, and *font_gen_seen takes the new value.
 * Register changes are not in the bitmap: a display that sees the
 * registers change redraws everything. Returns how many lines are
 * marked. */
unsigned vga_render_changed(const struct vga_state *s, size_t vram_size,
			    const uint64_t *dirty, uint32_t *font_gen_seen, uint64_t *lines);

/* For a linear mode a client can take as it is (15, 16, 24 or 32 bpp,
 * the whole picture inside VRAM): the picture's first byte in VRAM and
 * its pitch, so it is read in place, never copied. NULL otherwise. */
const uint8_t *vga_render_direct(const struct vga_state *s, const uint8_t *vram,
				 size_t vram_size, struct vga_mode *m);

/* A DAC entry as XRGB (6-bit or, with 8BIT_DAC, 8-bit components). */
uint32_t vga_render_dac(const struct vga_state *s, unsigned index);

#endif
