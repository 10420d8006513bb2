/* The picture (display.h): registers under the sequence lock, dirty pages
 * to lines, lines to the rectangles that really changed. A linear 32 bpp
 * mode is read by LibVNCServer in VRAM itself; every other mode is drawn
 * into `front`. Either way a redrawn line is compared with what the
 * clients last got (`front` itself, or `shadow` for VRAM), so a guest
 * that rewrites the same pixels costs no byte on the wire. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "display/display.h"

/* The VGA's frame rate in text modes (70 Hz) and its blink dividers:
 * the cursor turns every 16 frames, blinking characters every 32. */
#define VGA_FRAME_NS (1000000000ull / 70)
#define BLINK_CURSOR_FRAMES 16
#define BLINK_CHARS_FRAMES 32

int picture_init(struct dpy *d)
{
	size_t px = (size_t)VGA_RENDER_MAX_WIDTH * VGA_RENDER_MAX_HEIGHT;

	/* Whole-size surfaces once: calloc maps them lazily, so a small
	 * mode touches a small part. */
	d->front = calloc(px, 4);
	d->scratch = calloc(px, 4);
	d->shadow = calloc(px, 4);
	if (!d->front || !d->scratch || !d->shadow)
		return -ENOMEM;
	return 0;
}

/* A copy of the registers, consistent (the device's writer is between
 * two copies at most a few microseconds); false if the writer kept the
 * lock through every try (a dead or hostile peer: keep the old copy). */
static bool read_state(struct dpy *d, struct vga_state *s)
{
	for (unsigned tries = 0; tries < 1000; tries++) {
		uint32_t seq = __atomic_load_n(&d->shm->state_seq, __ATOMIC_ACQUIRE);
		if (!(seq & 1)) {
			memcpy(s, &d->shm->state, sizeof(*s));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&d->shm->state_seq, __ATOMIC_RELAXED) == seq)
				return true;
		}
		sched_yield();
	}
	return false;
}

/* Do two register sets draw the same picture from the same VRAM? Only
 * what the renderer reads counts: a guest drawing in a planar mode
 * rewrites the map mask and bit mask all the time, and polls the status
 * register, and none of that changes a pixel. */
static bool same_look(const struct vga_state *a, const struct vga_state *b)
{
	return a->vram_size == b->vram_size && !memcmp(a->vbe, b->vbe, sizeof(a->vbe)) &&
	       a->pel_mask == b->pel_mask &&
	       (a->ac_index & VGA_AC_INDEX_PAS) == (b->ac_index & VGA_AC_INDEX_PAS) &&
	       a->seq[VGA_SEQ_CLOCKING] == b->seq[VGA_SEQ_CLOCKING] &&
	       a->seq[VGA_SEQ_CHARMAP] == b->seq[VGA_SEQ_CHARMAP] &&
	       a->seq[VGA_SEQ_MEMORY_MODE] == b->seq[VGA_SEQ_MEMORY_MODE] &&
	       a->gc[VGA_GC_MODE] == b->gc[VGA_GC_MODE] && a->gc[VGA_GC_MISC] == b->gc[VGA_GC_MISC] &&
	       !memcmp(a->crtc, b->crtc, sizeof(a->crtc)) && !memcmp(a->ac, b->ac, sizeof(a->ac)) &&
	       !memcmp(a->palette, b->palette, sizeof(a->palette));
}

static void set_server_format(rfbScreenInfoPtr screen)
{
	rfbPixelFormat *f = &screen->serverFormat;

	/* XRGB, little-endian: the renderer's surfaces and VBE's 32 bpp. */
	f->bitsPerPixel = 32;
	f->depth = 24;
	f->bigEndian = 0;
	f->trueColour = 1;
	f->redMax = f->greenMax = f->blueMax = 255;
	f->redShift = 16;
	f->greenShift = 8;
	f->blueShift = 0;
}

/* A new size or a new place in VRAM: the clients get a new framebuffer
 * (a desktop-size message for those who understand it) and all of it. */
static void set_framebuffer(struct dpy *d, const struct vga_mode *m, const uint8_t *direct)
{
	uint32_t w = m->width, h = m->height;
	rfbClientPtr cl;

	if (!w || !h) {
		w = DPY_BLANK_WIDTH;
		h = DPY_BLANK_HEIGHT;
	}
	d->width = w;
	d->height = h;
	d->in_place = direct != NULL;
	d->fb = direct ? direct : (const uint8_t *)d->front;
	d->fb_pitch = direct ? m->pitch : w * 4;
	d->have_picture = true;
	if (direct) {
		for (uint32_t y = 0; y < h; y++)
			memcpy(d->shadow + (size_t)y * w * 4, direct + (size_t)y * m->pitch,
			       (size_t)w * 4);
	} else {
		struct vga_surface out = {d->front, w, h, w};
		memset(d->front, 0, (size_t)w * h * 4);
		vga_render(&d->state, d->vram, d->vram_size, d->blink, &out, NULL);
	}
	/* LibVNCServer only reads the framebuffer: no cursor is drawn
	 * into it (screen->cursor is NULL) and no client may scale it
	 * (vnc.c refuses them), so VRAM's read-only mapping serves. */
	rfbNewFramebuffer(d->screen, (char *)d->fb, (int)w, (int)h, 8, 3, 4);
	d->screen->paddedWidthInBytes = (int)d->fb_pitch;
	/* rfbNewFramebuffer chose a format of its own and set the clients'
	 * translation for it: ours again, and theirs again. */
	set_server_format(d->screen);
	for (cl = d->screen->clientHead; cl; cl = cl->next)
		if (cl->sock != RFB_INVALID_SOCKET)
			d->screen->setTranslateFunction(cl);
}

/* Marks [x0, x1) x [y0, y1) for every client. */
static void mark(struct dpy *d, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1)
{
	rfbMarkRectAsModified(d->screen, (int)x0, (int)y0, (int)x1, (int)y1);
	d->rects_sent++;
}

/* The first and one past the last pixel where two rows differ; false if
 * they are the same. */
static bool row_diff(const uint32_t *a, const uint32_t *b, uint32_t w, uint32_t *x0, uint32_t *x1)
{
	uint32_t l = 0, r = w;

	if (!memcmp(a, b, (size_t)w * 4))
		return false;
	while (l < w && a[l] == b[l])
		l++;
	while (r > l && a[r - 1] == b[r - 1])
		r--;
	*x0 = l;
	*x1 = r;
	return true;
}

/* For each marked line: `now` against `sent`; a differing span is copied
 * into `sent`, and runs of changed lines go out as one rectangle each
 * (the union of their spans), which is what a typed character or a
 * blinking cursor is. */
static void compare_lines(struct dpy *d, const uint8_t *now, size_t now_pitch, uint32_t *sent)
{
	uint32_t w = d->width, run_y = 0, run_x0 = 0, run_x1 = 0;
	bool in_run = false;

	for (uint32_t y = 0; y <= d->height; y++) {
		uint32_t x0, x1;
		bool changed = false;
		if (y < d->height && (d->lines[y / 64] >> (y % 64) & 1)) {
			const uint32_t *row = (const uint32_t *)(now + (size_t)y * now_pitch);
			uint32_t *old = sent + (size_t)y * w;
			changed = row_diff(row, old, w, &x0, &x1);
			if (changed)
				memcpy(old + x0, row + x0, (size_t)(x1 - x0) * 4);
		}
		if (changed && in_run) {
			run_x0 = x0 < run_x0 ? x0 : run_x0;
			run_x1 = x1 > run_x1 ? x1 : run_x1;
		} else if (changed) {
			in_run = true;
			run_y = y;
			run_x0 = x0;
			run_x1 = x1;
		} else if (in_run) {
			mark(d, run_x0, run_y, run_x1, y);
			in_run = false;
		}
	}
}

/* Takes the dirty words covering VRAM (the vmm and the device set bits
 * with atomic ORs; an exchange never loses one). */
static void take_dirty(struct dpy *d)
{
	size_t words = (d->vram_size / DISPLAY_PAGE + 63) / 64;

	for (size_t i = 0; i < words; i++)
		d->dirty[i] = __atomic_exchange_n(&d->shm->dirty[i], 0, __ATOMIC_ACQ_REL);
}

void picture_update(struct dpy *d, bool all)
{
	struct vga_state s;
	struct vga_mode m;
	const uint8_t *direct = NULL;
	uint32_t w, h;

	if (!read_state(d, &s))
		s = d->state;
	vga_render_mode(&s, &m);
	if (m.kind == VGA_MODE_LINEAR32)
		direct = vga_render_direct(&s, d->vram, d->vram_size, &m);
	if (!same_look(&s, &d->state))
		all = true;
	d->state = s;
	take_dirty(d);
	w = m.width && m.height ? m.width : DPY_BLANK_WIDTH;
	h = m.width && m.height ? m.height : DPY_BLANK_HEIGHT;
	if (!d->have_picture || w != d->width || h != d->height || (direct != NULL) != d->in_place ||
	    (direct && (direct != d->fb || m.pitch != d->fb_pitch))) {
		d->mode = m;
		d->font_gen_seen = s.font_gen;
		set_framebuffer(d, &m, direct);
		return;
	}
	d->mode = m;
	if (all) {
		memset(d->lines, 0xff, sizeof(d->lines));
		d->font_gen_seen = s.font_gen;
	} else if (!vga_render_changed(&s, d->vram_size, d->dirty, &d->font_gen_seen, d->lines)) {
		return;
	}
	if (d->in_place) {
		compare_lines(d, d->fb, d->fb_pitch, (uint32_t *)d->shadow);
	} else {
		struct vga_surface out = {d->scratch, w, h, w};
		vga_render_lines(&s, d->vram, d->vram_size, d->blink, d->lines, &out, NULL);
		compare_lines(d, (const uint8_t *)d->scratch, (size_t)w * 4, d->front);
	}
}

bool picture_blink(struct dpy *d, uint64_t now_ns)
{
	uint64_t frame = now_ns / VGA_FRAME_NS;
	unsigned blink = (frame / BLINK_CURSOR_FRAMES & 1 ? VGA_BLINK_CURSOR_ON : 0) |
			 (frame / BLINK_CHARS_FRAMES & 1 ? VGA_BLINK_CHARS_ON : 0);
	bool changed = blink != d->blink;

	d->blink = blink;
	if (d->mode.kind == VGA_MODE_TEXT && d->n_clients)
		d->blink_next_ns = (frame / BLINK_CURSOR_FRAMES + 1) * BLINK_CURSOR_FRAMES * VGA_FRAME_NS;
	else
		d->blink_next_ns = 0;
	return changed;
}
