/* The registers of a standard VGA with the Bochs VBE extension, as one
 * plain structure: what the device (dm/hw/vga.c) keeps and what the
 * renderer (dev/vga_render.h) reads. After the IBM VGA Technical
 * Reference and FreeVGA (sequencer, CRT controller, graphics controller,
 * attribute controller, DAC) and Bochs' vbe_display_api.txt (DISPI).
 *
 * A display process will later map a copy of it read-only, so it is a
 * shared-memory ABI (STYLE.md, principle 11): fixed-width fields, no
 * pointers, no bitfields, explicit padding, sizes checked below. Whoever
 * reads it from another process treats every field as hostile: the
 * renderer bounds all of them.
 *
 * VRAM layout (the contract between the device's write paths and the
 * renderer): the four planes are interleaved, byte `p` of plane offset
 * `o` at vram[4 * o + p]. A plane offset is an address in the CRT
 * controller's units, so the same layout serves every mode:
 *  - planar (sequential) access: host offset a is plane offset a;
 *  - odd/even (text, CGA 4-colour): host offset a is plane a & 1 at
 *    plane offset a >> 1, which the CRTC reads in word mode;
 *  - chain-4 (mode 13h): host offset a is vram[a] (plane a & 3, offset
 *    a >> 2), which the CRTC reads in doubleword mode;
 *  - VBE linear modes: the framebuffer is vram[] itself, so a chained
 *    256-colour picture and an 8 bpp VBE one are the same bytes. */
#ifndef V2E_DEV_VGA_REGS_H
#define V2E_DEV_VGA_REGS_H

#include <stddef.h>
#include <stdint.h>

#define VGA_SEQ_REGS 5
#define VGA_CRTC_REGS 25
#define VGA_GC_REGS 9
#define VGA_AC_REGS 21
#define VGA_DAC_COLORS 256

/* Miscellaneous output (0x3c2 write, 0x3cc read). */
#define VGA_MISC_COLOR 0x01      /* CRTC at 0x3d4, status at 0x3da */

/* Sequencer. */
#define VGA_SEQ_CLOCKING 1
#define VGA_SR01_8DOT 0x01       /* 8-dot characters (else 9) */
#define VGA_SR01_HALF_CLOCK 0x08 /* dot clock / 2: pixels doubled */
#define VGA_SR01_SCREEN_OFF 0x20
#define VGA_SEQ_MAP_MASK 2
#define VGA_SEQ_CHARMAP 3
#define VGA_SEQ_MEMORY_MODE 4
#define VGA_SR04_SEQUENTIAL 0x04 /* odd/even off */
#define VGA_SR04_CHAIN4 0x08

/* CRT controller. */
#define VGA_CRTC_H_DISP_END 0x01
#define VGA_CRTC_OVERFLOW 0x07
#define VGA_CRTC_PRESET_ROW 0x08
#define VGA_CRTC_MAX_SCAN 0x09
#define VGA_CR09_DOUBLE_SCAN 0x80
#define VGA_CRTC_CURSOR_START 0x0a
#define VGA_CR0A_CURSOR_OFF 0x20
#define VGA_CRTC_CURSOR_END 0x0b
#define VGA_CRTC_START_HI 0x0c
#define VGA_CRTC_START_LO 0x0d
#define VGA_CRTC_CURSOR_HI 0x0e
#define VGA_CRTC_CURSOR_LO 0x0f
#define VGA_CRTC_V_RETRACE_END 0x11
#define VGA_CR11_PROTECT 0x80    /* CR00-CR07 read-only (CR07 bit 4 not) */
#define VGA_CRTC_V_DISP_END 0x12
#define VGA_CRTC_OFFSET 0x13
#define VGA_CRTC_UNDERLINE 0x14
#define VGA_CR14_DWORD 0x40
#define VGA_CRTC_MODE 0x17
#define VGA_CR17_CMS 0x01        /* 0: row scan bit 0 is address bit 13 */
#define VGA_CR17_SRS 0x02        /* 0: row scan bit 1 is address bit 14 */
#define VGA_CR17_BYTE 0x40       /* byte mode (else word mode) */
#define VGA_CRTC_LINE_COMPARE 0x18

/* Graphics controller. */
#define VGA_GC_SET_RESET 0
#define VGA_GC_ENABLE_SET_RESET 1
#define VGA_GC_COLOR_COMPARE 2
#define VGA_GC_ROTATE 3
#define VGA_GC_READ_MAP 4
#define VGA_GC_MODE 5
#define VGA_GR05_READ1 0x08
#define VGA_GR05_ODD_EVEN 0x10
#define VGA_GR05_INTERLEAVE 0x20 /* CGA 4-colour shift register */
#define VGA_GR05_256 0x40
#define VGA_GC_MISC 6
#define VGA_GR06_GRAPHICS 0x01
#define VGA_GC_DONT_CARE 7
#define VGA_GC_BIT_MASK 8

/* Attribute controller. */
#define VGA_AC_MODE 0x10
#define VGA_AR10_LINE_GRAPHICS 0x04
#define VGA_AR10_BLINK 0x08
#define VGA_AR10_PAN_RESET 0x20   /* panning off below the line compare */
#define VGA_AR10_P54S 0x80
#define VGA_AC_OVERSCAN 0x11
#define VGA_AC_PLANE_ENABLE 0x12
#define VGA_AC_PANNING 0x13
#define VGA_AC_COLOR_SELECT 0x14
#define VGA_AC_INDEX_PAS 0x20     /* palette address source: screen on */

/* Input status 1 (0x3ba/0x3da). */
#define VGA_ST01_DISP_OFF 0x01
#define VGA_ST01_V_RETRACE 0x08

/* Bochs VBE (DISPI) registers, by index. */
enum {
	VBE_DISPI_INDEX_ID = 0,
	VBE_DISPI_INDEX_XRES,
	VBE_DISPI_INDEX_YRES,
	VBE_DISPI_INDEX_BPP,
	VBE_DISPI_INDEX_ENABLE,
	VBE_DISPI_INDEX_BANK,
	VBE_DISPI_INDEX_VIRT_WIDTH,
	VBE_DISPI_INDEX_VIRT_HEIGHT,
	VBE_DISPI_INDEX_X_OFFSET,
	VBE_DISPI_INDEX_Y_OFFSET,
	VBE_DISPI_REGS,                    /* kept in vga_state.vbe */
	VBE_DISPI_INDEX_VIDEO_MEMORY_64K = VBE_DISPI_REGS, /* computed */
};
#define VBE_DISPI_ID0 0xb0c0
#define VBE_DISPI_ID5 0xb0c5
#define VBE_DISPI_ENABLED 0x01
#define VBE_DISPI_GETCAPS 0x02
#define VBE_DISPI_8BIT_DAC 0x20
#define VBE_DISPI_LFB_ENABLED 0x40
#define VBE_DISPI_NOCLEARMEM 0x80
#define VBE_DISPI_MAX_XRES 2560
#define VBE_DISPI_MAX_YRES 1600
#define VBE_DISPI_MAX_BPP 32
#define VBE_DISPI_BANK_SIZE 0x10000

struct vga_state {
	uint32_t vram_size;       /* bytes of VRAM: a power of two */
	/* Bumped by every write that may reach plane 2 (fonts): a display
	 * keeps the value it last drew with (vga_render_changed()). Not
	 * a register, and not saved. */
	uint32_t font_gen;
	uint16_t vbe_index;       /* DISPI index (0x1ce) */
	uint16_t vbe[VBE_DISPI_REGS]; /* DISPI registers, by index */
	uint8_t misc;             /* miscellaneous output */
	uint8_t feature;          /* feature control */
	uint8_t st01;             /* input status 1's toggling bits */
	uint8_t seq_index;
	uint8_t crtc_index;
	uint8_t gc_index;
	uint8_t ac_index;         /* index and the PAS bit */
	uint8_t ac_flipflop;      /* 0: 0x3c0 takes an index next, 1: data */
	uint8_t dac_read_index;   /* the entry 0x3c9 reads next */
	uint8_t dac_write_index;  /* the entry 0x3c9 writes next */
	uint8_t dac_sub;          /* 0-2: red, green or blue next */
	uint8_t dac_state;        /* 0x3c7 reads it: 0 writing, 3 reading */
	uint8_t pel_mask;         /* 0x3c6 */
	uint8_t dac_cache[3];     /* a colour being written */
	uint8_t latch[4];         /* the four planes' latches */
	uint8_t seq[VGA_SEQ_REGS];
	uint8_t crtc[VGA_CRTC_REGS];
	uint8_t gc[VGA_GC_REGS];
	uint8_t ac[VGA_AC_REGS];
	/* 6-bit values (8-bit ones while DISPI's 8BIT_DAC is on) */
	uint8_t palette[VGA_DAC_COLORS * 3];
	uint8_t pad[2];
};

_Static_assert(offsetof(struct vga_state, vbe) == 10, "vga_state: vbe");
_Static_assert(offsetof(struct vga_state, misc) == 30, "vga_state: misc");
_Static_assert(offsetof(struct vga_state, seq) == 50, "vga_state: seq");
_Static_assert(offsetof(struct vga_state, palette) == 110, "vga_state: palette");
_Static_assert(sizeof(struct vga_state) == 880, "vga_state: size");

#endif
