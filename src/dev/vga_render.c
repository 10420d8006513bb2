/* The VGA renderer (see vga_render.h): the CRT controller's scan of
 * VRAM, the attribute controller's colour path and the DAC, worked out
 * line by line from the registers; and the Bochs VBE linear modes.
 *
 * Legacy modes address VRAM in the CRT controller's units (vga_regs.h):
 * a picture line starts at a counter value and each fetch reads the four
 * planes at the next one, wrapping at 64 Ki as the counter does, so a
 * legacy picture never reads past vram[256 KiB) (and every read is still
 * checked against vram_size). */
#include "dev/vga_render.h"

#include <string.h>

#define COUNTER_WRAP 0x10000u
#define FONT_MAP_BYTES 8192u   /* one character map in plane 2 */
#define GLYPH_STRIDE 32u       /* plane-2 bytes per character */

/* What the registers say, worked out once per call. */
struct geom {
	struct vga_mode m;
	/* legacy */
	uint32_t start;        /* counter value of the first line */
	uint32_t pitch;        /* counter units per character row */
	unsigned shift;        /* 0 byte, 1 word, 2 doubleword mode */
	bool cms, srs;         /* CGA / Hercules row interleave */
	unsigned scan_rows;    /* scan lines per character row */
	bool double_scan;
	uint32_t line_compare;
	unsigned dot_repeat;   /* picture dots per pixel (or text dot) */
	unsigned pan;          /* pixels skipped at the start of a line */
	bool pan_reset;        /* no panning below the line compare */
	uint32_t font[2];      /* plane-2 offsets of maps B (0) and A (1) */
};

static inline uint8_t vram_byte(const uint8_t *vram, size_t size, size_t i)
{
	return i < size ? vram[i] : 0;
}

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

uint32_t vga_render_dac(const struct vga_state *s, unsigned index)
{
	const uint8_t *p = &s->palette[(index & 0xff) * 3];
	uint32_t c[3];
	for (unsigned i = 0; i < 3; i++) {
		if (s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) {
			c[i] = p[i];
		} else {
			uint32_t v = p[i] & 0x3f;
			c[i] = v << 2 | v >> 4; /* 6 bits spread over 8 */
		}
	}
	return c[0] << 16 | c[1] << 8 | c[2];
}

/* A 4-bit attribute through the palette registers to a DAC index. */
static uint8_t ac_to_dac(const struct vga_state *s, unsigned v)
{
	unsigned p = s->ac[v & 0xf] & 0x3f;
	if (s->ac[VGA_AC_MODE] & VGA_AR10_P54S)
		p = (p & 0x0f) | (s->ac[VGA_AC_COLOR_SELECT] & 3u) << 4;
	p |= (s->ac[VGA_AC_COLOR_SELECT] & 0x0cu) << 4;
	return (uint8_t)(p & s->pel_mask);
}

static void linear_geom(const struct vga_state *s, struct geom *g)
{
	const uint16_t *r = s->vbe;
	uint32_t bytes, virt;

	switch (r[VBE_DISPI_INDEX_BPP]) {
	case 8: g->m.kind = VGA_MODE_LINEAR8; bytes = 1; break;
	case 15: g->m.kind = VGA_MODE_LINEAR15; bytes = 2; break;
	case 16: g->m.kind = VGA_MODE_LINEAR16; bytes = 2; break;
	case 24: g->m.kind = VGA_MODE_LINEAR24; bytes = 3; break;
	case 32: g->m.kind = VGA_MODE_LINEAR32; bytes = 4; break;
	default: g->m.kind = VGA_MODE_BLANK; return;
	}
	g->m.bpp = r[VBE_DISPI_INDEX_BPP];
	g->m.width = clamp_u32(r[VBE_DISPI_INDEX_XRES], 1, VGA_RENDER_MAX_WIDTH);
	g->m.height = clamp_u32(r[VBE_DISPI_INDEX_YRES], 1, VGA_RENDER_MAX_HEIGHT);
	virt = r[VBE_DISPI_INDEX_VIRT_WIDTH] > g->m.width ? r[VBE_DISPI_INDEX_VIRT_WIDTH]
							  : g->m.width;
	g->m.pitch = virt * bytes;
	g->m.start = (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * g->m.pitch +
		     (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * bytes;
}

static void legacy_geom(const struct vga_state *s, struct geom *g)
{
	const uint8_t *cr = s->crtc;
	bool graphics = s->gc[VGA_GC_MISC] & VGA_GR06_GRAPHICS;
	unsigned dots = graphics || (s->seq[VGA_SEQ_CLOCKING] & VGA_SR01_8DOT) ? 8 : 9;
	uint32_t chars = cr[VGA_CRTC_H_DISP_END] + 1u;
	uint32_t vde = cr[VGA_CRTC_V_DISP_END] | (cr[VGA_CRTC_OVERFLOW] & 0x02u) << 7 |
		       (cr[VGA_CRTC_OVERFLOW] & 0x40u) << 3;
	unsigned map_a, map_b, cm = s->seq[VGA_SEQ_CHARMAP];

	g->dot_repeat = s->seq[VGA_SEQ_CLOCKING] & VGA_SR01_HALF_CLOCK ? 2 : 1;
	g->scan_rows = (cr[VGA_CRTC_MAX_SCAN] & 0x1fu) + 1;
	g->double_scan = cr[VGA_CRTC_MAX_SCAN] & VGA_CR09_DOUBLE_SCAN;
	g->line_compare = cr[VGA_CRTC_LINE_COMPARE] | (cr[VGA_CRTC_OVERFLOW] & 0x10u) << 4 |
			  (cr[VGA_CRTC_MAX_SCAN] & 0x40u) << 3;
	g->start = (uint32_t)cr[VGA_CRTC_START_HI] << 8 | cr[VGA_CRTC_START_LO];
	g->pitch = cr[VGA_CRTC_OFFSET] * 2u;
	g->shift = cr[VGA_CRTC_UNDERLINE] & VGA_CR14_DWORD ? 2
		   : cr[VGA_CRTC_MODE] & VGA_CR17_BYTE ? 0 : 1;
	g->cms = !(cr[VGA_CRTC_MODE] & VGA_CR17_CMS);
	g->srs = !(cr[VGA_CRTC_MODE] & VGA_CR17_SRS);
	g->pan_reset = s->ac[VGA_AC_MODE] & VGA_AR10_PAN_RESET;
	/* Maps: A from bits 5, 3-2, B from bits 4, 1-0; map n at 16 KiB *
	 * (n & 3) + 8 KiB * (n >> 2) of plane 2. */
	map_a = (cm >> 3 & 4) | (cm >> 2 & 3);
	map_b = (cm >> 2 & 4) | (cm & 3);
	g->font[1] = (map_a & 3) * 2 * FONT_MAP_BYTES + (map_a >> 2) * FONT_MAP_BYTES;
	g->font[0] = (map_b & 3) * 2 * FONT_MAP_BYTES + (map_b >> 2) * FONT_MAP_BYTES;

	g->m.width = clamp_u32(chars * dots * g->dot_repeat, 1, VGA_RENDER_MAX_WIDTH);
	g->m.height = clamp_u32(vde + 1, 1, VGA_RENDER_MAX_HEIGHT);
	if (!graphics) {
		g->m.kind = VGA_MODE_TEXT;
		g->m.cols = chars;
		g->m.char_width = dots;
		g->m.char_height = g->scan_rows;
		g->m.rows = (g->m.height + g->scan_rows * (g->double_scan ? 2 : 1) - 1) /
			    (g->scan_rows * (g->double_scan ? 2 : 1));
		return;
	}
	if (s->gc[VGA_GC_MODE] & VGA_GR05_256) {
		g->m.kind = s->seq[VGA_SEQ_MEMORY_MODE] & VGA_SR04_CHAIN4 ? VGA_MODE_CHAINED256
									   : VGA_MODE_UNCHAINED256;
		g->m.bpp = 8;
		g->dot_repeat *= 2; /* a 256-colour pixel is two dots */
		g->pan = (s->ac[VGA_AC_PANNING] & 7u) >> 1;
	} else {
		g->m.kind = s->gc[VGA_GC_MODE] & VGA_GR05_INTERLEAVE ? VGA_MODE_CGA4
			    : g->cms ? VGA_MODE_CGA2 : VGA_MODE_PLANAR4;
		g->m.bpp = g->m.kind == VGA_MODE_CGA4 ? 2 : g->m.kind == VGA_MODE_CGA2 ? 1 : 4;
		g->pan = s->ac[VGA_AC_PANNING] < 8 ? s->ac[VGA_AC_PANNING] : 0;
	}
}

static void geom_compute(const struct vga_state *s, struct geom *g)
{
	memset(g, 0, sizeof(*g));
	if (s->vbe[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) {
		linear_geom(s, g);
		return;
	}
	legacy_geom(s, g);
	if (!(s->ac_index & VGA_AC_INDEX_PAS) ||
	    (s->seq[VGA_SEQ_CLOCKING] & VGA_SR01_SCREEN_OFF))
		g->m.kind = VGA_MODE_BLANK;
}

void vga_render_mode(const struct vga_state *s, struct vga_mode *m)
{
	struct geom g;
	geom_compute(s, &g);
	*m = g.m;
}

static bool is_linear(const struct geom *g)
{
	return g->m.kind >= VGA_MODE_LINEAR8;
}

/* Where legacy picture line y starts (a counter value) and its scan line
 * within the character row; *split: below the line compare. */
static uint32_t legacy_line(const struct geom *g, uint32_t y, unsigned *scan, bool *split)
{
	uint32_t base = g->start, row, a;

	*split = y > g->line_compare;
	if (*split) {
		base = 0;
		y -= g->line_compare + 1;
	}
	if (g->double_scan)
		y >>= 1;
	row = y / g->scan_rows;
	*scan = y % g->scan_rows;
	a = base + row * g->pitch;
	/* The row scan counter replaces memory address bits 13 and 14,
	 * which are counter bits 13 - shift and 14 - shift. */
	if (g->cms)
		a = (a & ~(1u << (13 - g->shift))) | (*scan & 1u) << (13 - g->shift);
	if (g->srs)
		a = (a & ~(1u << (14 - g->shift))) | (*scan >> 1 & 1u) << (14 - g->shift);
	return a % COUNTER_WRAP;
}

/* Counter units a legacy graphics line fetches (pan included). */
static uint32_t legacy_units(const struct geom *g)
{
	uint32_t pixels = (g->m.width + g->dot_repeat - 1) / g->dot_repeat + g->pan;
	uint32_t per_unit = g->m.kind == VGA_MODE_CHAINED256 ||
			    g->m.kind == VGA_MODE_UNCHAINED256 ? 4 : 8;
	return (pixels + per_unit - 1) / per_unit;
}

static void put_dots(uint32_t *row, uint32_t width, uint32_t *x, unsigned n, uint32_t c)
{
	for (unsigned i = 0; i < n && *x < width; i++)
		row[(*x)++] = c;
}

static void draw_text_line(const struct vga_state *s, const uint8_t *vram, size_t size,
			   const struct geom *g, const uint32_t *dac, unsigned blink,
			   uint32_t y, uint32_t *row, uint32_t width)
{
	unsigned scan;
	bool split;
	uint32_t a = legacy_line(g, y, &scan, &split), x = 0;
	uint32_t cursor = (uint32_t)s->crtc[VGA_CRTC_CURSOR_HI] << 8 | s->crtc[VGA_CRTC_CURSOR_LO];
	unsigned cur_start = s->crtc[VGA_CRTC_CURSOR_START] & 0x1f;
	unsigned cur_end = s->crtc[VGA_CRTC_CURSOR_END] & 0x1f;
	bool cursor_shown = !(s->crtc[VGA_CRTC_CURSOR_START] & VGA_CR0A_CURSOR_OFF) &&
			    (blink & VGA_BLINK_CURSOR_ON) && scan >= cur_start &&
			    scan <= cur_end;
	bool blink_attr = s->ac[VGA_AC_MODE] & VGA_AR10_BLINK;
	bool line_graphics = s->ac[VGA_AC_MODE] & VGA_AR10_LINE_GRAPHICS;
	unsigned underline = s->crtc[VGA_CRTC_UNDERLINE] & 0x1f;

	for (uint32_t col = 0; col < g->m.cols && x < width; col++) {
		uint32_t k = (a + col) % COUNTER_WRAP;
		uint8_t ch = vram_byte(vram, size, 4 * (size_t)k);
		uint8_t at = vram_byte(vram, size, 4 * (size_t)k + 1);
		uint32_t font = g->font[at >> 3 & 1];
		unsigned glyph = vram_byte(vram, size,
					   4 * ((size_t)font + ch * GLYPH_STRIDE + scan) + 2);
		unsigned fg = at & 0xf, bg = at >> 4;
		bool full = false; /* every dot of the cell, the ninth too */

		if (blink_attr) {
			bg &= 7;
			if ((at & 0x80) && !(blink & VGA_BLINK_CHARS_ON))
				glyph = 0;
		}
		/* The underline appears where an attribute has foreground 1
		 * and background 0 (mode 7's underlined text). */
		if ((at & 0x77) == 0x01 && scan == underline)
			full = true;
		if (cursor_shown && k == cursor)
			full = true;
		if (full)
			glyph = 0xff;
		for (unsigned d = 0; d < g->m.char_width; d++) {
			bool on;
			if (d < 8)
				on = glyph >> (7 - d) & 1;
			else /* the ninth dot: blank but for line graphics */
				on = full || (line_graphics && ch >= 0xc0 && ch <= 0xdf && (glyph & 1));
			put_dots(row, width, &x, g->dot_repeat, dac[ac_to_dac(s, on ? fg : bg)]);
		}
	}
	while (x < width)
		row[x++] = 0;
}

static void draw_graphics_line(const struct vga_state *s, const uint8_t *vram, size_t size,
			       const struct geom *g, const uint32_t *dac, uint32_t y,
			       uint32_t *row, uint32_t width)
{
	unsigned scan, skip;
	bool split;
	uint32_t a = legacy_line(g, y, &scan, &split), x = 0, units = legacy_units(g);
	unsigned enable = s->ac[VGA_AC_PLANE_ENABLE] & 0xf;

	skip = split && g->pan_reset ? 0 : g->pan;
	for (uint32_t u = 0; u < units && x < width; u++) {
		size_t at = 4 * (size_t)((a + u) % COUNTER_WRAP);
		uint8_t p[4], pix[8];
		unsigned n;
		for (unsigned i = 0; i < 4; i++)
			p[i] = vram_byte(vram, size, at + i);
		if (g->m.kind == VGA_MODE_CHAINED256 || g->m.kind == VGA_MODE_UNCHAINED256) {
			memcpy(pix, p, 4);
			n = 4;
		} else if (g->m.kind == VGA_MODE_CGA4) {
			/* Planes 0 then 1 give two bits a pixel, four pixels
			 * a byte; planes 2 and 3 the upper two bits. */
			for (unsigned i = 0; i < 8; i++) {
				unsigned b = 6 - 2 * (i & 3), hi = i >> 2;
				pix[i] = (uint8_t)((p[hi] >> b & 3) | (p[2 + hi] >> b & 3) << 2);
			}
			n = 8;
		} else {
			for (unsigned i = 0; i < 8; i++) {
				unsigned b = 7 - i;
				pix[i] = (uint8_t)((p[0] >> b & 1) | (p[1] >> b & 1) << 1 |
						   (p[2] >> b & 1) << 2 | (p[3] >> b & 1) << 3);
			}
			n = 8;
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t c;
			if (skip) {
				skip--;
				continue;
			}
			if (n == 4)
				c = dac[pix[i] & s->pel_mask];
			else
				c = dac[ac_to_dac(s, pix[i] & enable)];
			put_dots(row, width, &x, g->dot_repeat, c);
		}
	}
	while (x < width)
		row[x++] = 0;
}

static uint32_t rgb15(unsigned v)
{
	uint32_t r = v >> 10 & 31, gr = v >> 5 & 31, b = v & 31;
	return (r << 3 | r >> 2) << 16 | (gr << 3 | gr >> 2) << 8 | (b << 3 | b >> 2);
}

static uint32_t rgb16(unsigned v)
{
	uint32_t r = v >> 11 & 31, gr = v >> 5 & 63, b = v & 31;
	return (r << 3 | r >> 2) << 16 | (gr << 2 | gr >> 4) << 8 | (b << 3 | b >> 2);
}

static unsigned linear_bytes(const struct geom *g)
{
	return g->m.bpp == 15 ? 2 : (g->m.bpp + 7) / 8;
}

/* The VRAM bytes of linear line y, or false when they are not all in VRAM. */
static bool linear_line(const struct geom *g, size_t size, uint32_t y, uint64_t *off,
			uint64_t *len)
{
	*off = g->m.start + (uint64_t)y * g->m.pitch;
	*len = (uint64_t)g->m.width * linear_bytes(g);
	return *off <= size && *len <= size - *off;
}

static void draw_linear_line(const uint8_t *vram, size_t size, const struct geom *g,
			     const uint32_t *dac, uint32_t y, uint32_t *row, uint32_t width)
{
	uint64_t off, len;
	uint32_t n = g->m.width < width ? g->m.width : width, x;
	const uint8_t *p;

	if (!linear_line(g, size, y, &off, &len)) {
		memset(row, 0, (size_t)width * 4);
		return;
	}
	p = vram + off;
	switch (g->m.kind) {
	case VGA_MODE_LINEAR8:
		for (x = 0; x < n; x++)
			row[x] = dac[p[x]];
		break;
	case VGA_MODE_LINEAR15:
		for (x = 0; x < n; x++)
			row[x] = rgb15(p[2 * x] | p[2 * x + 1] << 8);
		break;
	case VGA_MODE_LINEAR16:
		for (x = 0; x < n; x++)
			row[x] = rgb16(p[2 * x] | p[2 * x + 1] << 8);
		break;
	case VGA_MODE_LINEAR24:
		for (x = 0; x < n; x++)
			row[x] = (uint32_t)p[3 * x + 2] << 16 | p[3 * x + 1] << 8 | p[3 * x];
		break;
	default:
		for (x = 0; x < n; x++)
			row[x] = ((uint32_t)p[4 * x + 3] << 24 | (uint32_t)p[4 * x + 2] << 16 |
				  p[4 * x + 1] << 8 | p[4 * x]) & 0xffffff;
		break;
	}
	for (; x < width; x++)
		row[x] = 0;
}

void vga_render(const struct vga_state *s, const uint8_t *vram, size_t vram_size,
		unsigned blink, struct vga_surface *out, struct vga_mode *m)
{
	vga_render_lines(s, vram, vram_size, blink, NULL, out, m);
}

void vga_render_lines(const struct vga_state *s, const uint8_t *vram, size_t vram_size,
		      unsigned blink, const uint64_t *lines, struct vga_surface *out,
		      struct vga_mode *m)
{
	struct geom g;
	uint32_t dac[VGA_DAC_COLORS];
	uint32_t w, h;

	geom_compute(s, &g);
	if (m)
		*m = g.m;
	if (!out || !out->pixels)
		return;
	w = out->width < g.m.width ? out->width : g.m.width;
	h = out->height < g.m.height ? out->height : g.m.height;
	if (w > out->stride)
		w = out->stride;
	for (unsigned i = 0; i < VGA_DAC_COLORS; i++)
		dac[i] = vga_render_dac(s, i);
	for (uint32_t y = 0; y < h; y++) {
		uint32_t *row = out->pixels + (size_t)y * out->stride;
		if (lines && !(lines[y / 64] >> (y % 64) & 1))
			continue;
		if (g.m.kind == VGA_MODE_BLANK)
			memset(row, 0, (size_t)w * 4);
		else if (g.m.kind == VGA_MODE_TEXT)
			draw_text_line(s, vram, vram_size, &g, dac, blink, y, row, w);
		else if (is_linear(&g))
			draw_linear_line(vram, vram_size, &g, dac, y, row, w);
		else
			draw_graphics_line(s, vram, vram_size, &g, dac, y, row, w);
	}
}

/* Any dirty page under VRAM bytes [lo, hi)? */
static bool range_dirty(const uint64_t *dirty, size_t vram_size, uint64_t lo, uint64_t hi)
{
	uint64_t pages = vram_size / 4096;
	if (hi > vram_size)
		hi = vram_size;
	if (lo >= hi)
		return false;
	for (uint64_t pg = lo / 4096; pg <= (hi - 1) / 4096 && pg < pages; pg++)
		if (dirty[pg / 64] >> (pg % 64) & 1)
			return true;
	return false;
}

/* A run of counter units from a, wrapping: as VRAM byte ranges. */
static bool units_dirty(const uint64_t *dirty, size_t vram_size, uint32_t a, uint32_t n)
{
	if (n >= COUNTER_WRAP)
		return range_dirty(dirty, vram_size, 0, 4ull * COUNTER_WRAP);
	if (a + n <= COUNTER_WRAP)
		return range_dirty(dirty, vram_size, 4ull * a, 4ull * (a + n));
	return range_dirty(dirty, vram_size, 4ull * a, 4ull * COUNTER_WRAP) ||
	       range_dirty(dirty, vram_size, 0, 4ull * (a + n - COUNTER_WRAP));
}

unsigned vga_render_changed(const struct vga_state *s, size_t vram_size,
			    const uint64_t *dirty, uint32_t *font_gen_seen, uint64_t *lines)
{
	struct geom g;
	bool all = false;
	unsigned marked = 0;

	geom_compute(s, &g);
	memset(lines, 0, (VGA_RENDER_MAX_HEIGHT + 63) / 64 * 8);
	if (g.m.kind == VGA_MODE_BLANK)
		return 0;
	if (g.m.kind == VGA_MODE_TEXT) {
		/* A glyph is drawn from plane 2 wherever it appears: a
		 * changed font may change any line. */
		all = s->font_gen != *font_gen_seen;
		*font_gen_seen = s->font_gen;
	}
	for (uint32_t y = 0; y < g.m.height; y++) {
		bool changed = all;
		if (!changed && is_linear(&g)) {
			uint64_t off, len;
			(void)linear_line(&g, vram_size, y, &off, &len);
			changed = range_dirty(dirty, vram_size, off, off + len);
		} else if (!changed) {
			unsigned scan;
			bool split;
			uint32_t a = legacy_line(&g, y, &scan, &split);
			uint32_t n = g.m.kind == VGA_MODE_TEXT ? g.m.cols : legacy_units(&g) + 1;
			changed = units_dirty(dirty, vram_size, a, n);
		}
		if (changed) {
			lines[y / 64] |= 1ull << (y % 64);
			marked++;
		}
	}
	return marked;
}

const uint8_t *vga_render_direct(const struct vga_state *s, const uint8_t *vram,
				 size_t vram_size, struct vga_mode *m)
{
	struct geom g;
	uint64_t off, len;

	geom_compute(s, &g);
	if (m)
		*m = g.m;
	if (g.m.kind < VGA_MODE_LINEAR15 ||
	    !linear_line(&g, vram_size, g.m.height - 1, &off, &len) ||
	    !linear_line(&g, vram_size, 0, &off, &len))
		return NULL;
	return vram + g.m.start;
}
