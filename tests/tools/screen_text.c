/* screen-text: reads the text off a picture of a character screen, for
 * whole-guest tests that must check what the guest shows (SeaBIOS's
 * banner, a boot loader's menu, Linux's console on a framebuffer).
 *
 *   screen-text --font ROM [--cell WxH] [--origin X,Y] PICTURE.ppm
 *
 * The font is found in ROM (a VGA BIOS image, or any file holding the
 * IBM PC 8x16 font, as the VGA BIOS and Linux's font_vga_8x16 do) by its
 * glyph for 'A'. The picture (binary PPM, P6) is cut into cells of W x H
 * pixels (9x16 for VGA text modes, 8x16 for a framebuffer console) from
 * the origin; in each cell the most common colour is the background and
 * the other pixels of the left 8 columns, top 16 rows, make the glyph,
 * which is looked up (also inverted, for the cursor's cell). Printable
 * ASCII prints as itself, a blank cell as a space, anything else as '?'.
 * One line per row of cells, trailing spaces cut. Exit 0, or 2 with a
 * message for a bad file. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GLYPH_H 16
#define MAX_SIDE 4096

static const uint8_t glyph_A[GLYPH_H] = {0x00, 0x00, 0x10, 0x38, 0x6c, 0xc6, 0xc6, 0xfe,
					 0xc6, 0xc6, 0xc6, 0xc6, 0x00, 0x00, 0x00, 0x00};

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, k;

	if (!f)
		return NULL;
	do {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
	} while (k > 0 && n < (64u << 20));
	fclose(f);
	*len = n;
	return buf;
}

/* The 256 glyphs, 16 rows each, from the file holding them. */
static int find_font(const uint8_t *rom, size_t len, const uint8_t **font)
{
	for (size_t i = 0x41 * GLYPH_H; i + GLYPH_H <= len; i++)
		if (!memcmp(rom + i, glyph_A, GLYPH_H) && i - 0x41 * GLYPH_H + 256 * GLYPH_H <= len) {
			*font = rom + i - 0x41 * GLYPH_H;
			return 0;
		}
	return -1;
}

static int ppm_number(const uint8_t *p, size_t len, size_t *at, unsigned *out)
{
	unsigned v = 0;
	bool digits = false;

	for (;;) {
		while (*at < len && (p[*at] == ' ' || p[*at] == '\n' || p[*at] == '\r' ||
				     p[*at] == '\t'))
			(*at)++;
		if (*at < len && p[*at] == '#') {
			while (*at < len && p[*at] != '\n')
				(*at)++;
			continue;
		}
		break;
	}
	while (*at < len && p[*at] >= '0' && p[*at] <= '9' && v < 100000) {
		v = v * 10 + (unsigned)(p[(*at)++] - '0');
		digits = true;
	}
	*out = v;
	return digits ? 0 : -1;
}

/* Width, height and the first pixel of a P6 picture with maxval 255. */
static int parse_ppm(const uint8_t *p, size_t len, unsigned *w, unsigned *h,
		     const uint8_t **pix)
{
	size_t at = 2;
	unsigned maxval;

	if (len < 2 || p[0] != 'P' || p[1] != '6' || ppm_number(p, len, &at, w) ||
	    ppm_number(p, len, &at, h) || ppm_number(p, len, &at, &maxval) || maxval != 255 ||
	    !*w || !*h || *w > MAX_SIDE || *h > MAX_SIDE || at >= len)
		return -1;
	at++; /* the one whitespace byte before the pixels */
	if (len - at < (size_t)*w * *h * 3)
		return -1;
	*pix = p + at;
	return 0;
}

static uint32_t pixel(const uint8_t *pix, unsigned w, unsigned x, unsigned y)
{
	const uint8_t *q = pix + ((size_t)y * w + x) * 3;
	return (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
}

/* The character a cell shows: printable ASCII, ' ' or '?'. */
static char read_cell(const uint8_t *pix, unsigned w, unsigned x0, unsigned y0, unsigned cw,
		      unsigned ch, const uint8_t *font)
{
	uint32_t colour[8 * GLYPH_H + 16], bg = 0;
	unsigned count[8 * GLYPH_H + 16], n = 0, best = 0;
	uint8_t rows[GLYPH_H];
	bool blank = true;

	/* The background: the most common colour of the whole cell. */
	for (unsigned y = 0; y < ch; y++)
		for (unsigned x = 0; x < cw; x++) {
			uint32_t c = pixel(pix, w, x0 + x, y0 + y);
			unsigned i;
			for (i = 0; i < n && colour[i] != c; i++)
				;
			if (i == n) {
				if (n == sizeof(count) / sizeof(count[0]))
					continue;
				colour[n] = c;
				count[n++] = 0;
			}
			if (++count[i] > best) {
				best = count[i];
				bg = c;
			}
		}
	for (unsigned y = 0; y < GLYPH_H; y++) {
		rows[y] = 0;
		for (unsigned x = 0; x < 8; x++)
			if (y < ch && x < cw && pixel(pix, w, x0 + x, y0 + y) != bg)
				rows[y] |= (uint8_t)(0x80 >> x);
		blank &= rows[y] == 0;
	}
	if (blank)
		return ' ';
	/* Printable ASCII first: several codes share a picture. */
	for (int inv = 0; inv < 2; inv++)
		for (unsigned c = 0x20; c < 0x7f; c++) {
			unsigned y;
			for (y = 0; y < GLYPH_H; y++)
				if ((uint8_t)(font[c * GLYPH_H + y] ^ (inv ? 0xff : 0)) != rows[y])
					break;
			if (y == GLYPH_H)
				return (char)c;
		}
	return '?';
}

int main(int argc, char **argv)
{
	const char *font_path = NULL, *pic_path = NULL;
	unsigned cw = 9, ch = 16, ox = 0, oy = 0, w, h;
	const uint8_t *font, *pix;
	uint8_t *rom, *pic;
	size_t rom_len, pic_len;
	char line[MAX_SIDE / 8 + 2];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--font") && i + 1 < argc)
			font_path = argv[++i];
		else if (!strcmp(argv[i], "--cell") && i + 1 < argc &&
			 sscanf(argv[++i], "%ux%u", &cw, &ch) == 2)
			;
		else if (!strcmp(argv[i], "--origin") && i + 1 < argc &&
			 sscanf(argv[++i], "%u,%u", &ox, &oy) == 2)
			;
		else if (argv[i][0] != '-' && !pic_path)
			pic_path = argv[i];
		else {
			fprintf(stderr, "usage: screen-text --font ROM [--cell WxH] [--origin X,Y] "
				"PICTURE.ppm\n");
			return 2;
		}
	}
	if (!font_path || !pic_path || cw < 8 || cw > 16 || ch < GLYPH_H || ch > 32) {
		fprintf(stderr, "screen-text: give --font and a picture; cells 8-16 x 16-32\n");
		return 2;
	}
	rom = read_file(font_path, &rom_len);
	if (!rom || find_font(rom, rom_len, &font)) {
		fprintf(stderr, "screen-text: %s: no 8x16 PC font in it\n", font_path);
		return 2;
	}
	pic = read_file(pic_path, &pic_len);
	if (!pic || parse_ppm(pic, pic_len, &w, &h, &pix)) {
		fprintf(stderr, "screen-text: %s: not a binary PPM (P6, maxval 255)\n", pic_path);
		return 2;
	}
	for (unsigned y = oy; y + ch <= h; y += ch) {
		size_t n = 0;
		for (unsigned x = ox; x + cw <= w && n < sizeof(line) - 2; x += cw)
			line[n++] = read_cell(pix, w, x, y, cw, ch, font);
		while (n && line[n - 1] == ' ')
			n--;
		line[n] = 0;
		puts(line);
	}
	free(rom);
	free(pic);
	return 0;
}
