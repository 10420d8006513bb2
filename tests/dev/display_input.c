/* display-input: the display's input datagrams on a socketpair, through
 * the kind's create, input_fd and input, to an i8042 read as a guest
 * reads it, and to a USB keyboard and tablet (configured, their reports
 * taken from the queue). The key table against the i8042's own set 2 to
 * set 1 translation for every key; the special sequences; routing with
 * and without the USB devices; the tablet's scaling; PS/2 motion from
 * absolute positions; relative motion and the wheel; hostile datagrams,
 * a flood, the display hanging up; host_open; reset and saved state. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/kind.h"
#include "dm/hw/display_input.h"
#include "dm/hw/i8042.h"
#include "dm/hw/usb_hid.h"
#include "tests/tap.h"

struct rig {
	struct vclock clk;
	struct i8042 k;
	struct usb_hid kbd, tab;
	bool has_ps2, has_kbd, has_tab;
	bool peers_ready;     /* the board has created the peers */
	unsigned peer_calls;
	int sock[2];          /* [0] the device's end, [1] the display's */
	int fds[1];
	struct dev_ctx ctx;
	const struct dev_kind *kind;
	struct display_input_dev *d;
};

static void no_line(void *opaque, unsigned pin, bool level)
{
}

static void *rig_peer(const struct dev_ctx *c, const char *kind)
{
	struct rig *r = c->board;
	r->peer_calls++;
	if (!r->peers_ready)
		return NULL;
	if (!strcmp(kind, "i8042"))
		return r->has_ps2 ? &r->k : NULL;
	if (!strcmp(kind, "usb-kbd"))
		return r->has_kbd ? &r->kbd : NULL;
	if (!strcmp(kind, "usb-tablet"))
		return r->has_tab ? &r->tab : NULL;
	return NULL;
}

/* An i8042 (translation on, as at power-on) and, when asked, a USB
 * keyboard and tablet in the configured state; the display-input device
 * created before them, as a board listing it first would. */
static struct rig *rig_new(bool ps2, bool kbd, bool tab)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct irq_line l = {no_line, NULL, 0};
	struct dev_props p;
	char err[256] = "";

	if (!r || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, r->sock))
		abort();
	vclock_init(&r->clk, 1000);
	r->has_ps2 = ps2;
	r->has_kbd = kbd;
	r->has_tab = tab;
	i8042_init(&r->k, &l, &l, &l, &l);
	usb_hid_init(&r->kbd, USB_HID_KBD, &r->clk);
	usb_hid_init(&r->tab, USB_HID_TABLET, &r->clk);
	r->kbd.usb.state = USB_STATE_CONFIGURED;
	r->tab.usb.state = USB_STATE_CONFIGURED;
	r->fds[0] = r->sock[0];
	if (fcntl(r->sock[0], F_SETFL, O_NONBLOCK) || fcntl(r->sock[1], F_SETFL, O_NONBLOCK))
		abort();
	r->ctx = (struct dev_ctx){.id = "display-input", .clock = &r->clk, .fds = r->fds,
				  .n_fds = 1, .board = r, .peer = rig_peer};
	r->kind = dev_kind_find("display-input");
	if (!r->kind || !(r->d = calloc(1, r->kind->size)))
		abort();
	dev_props_init(&p, r->kind);
	if (r->kind->create(r->d, &r->ctx, &p, err, sizeof(err))) {
		fprintf(stderr, "display-input: %s\n", err);
		abort();
	}
	r->peers_ready = true;
	return r;
}

static void rig_free(struct rig *r)
{
	if (r->kind->destroy)
		r->kind->destroy(r->d);
	close(r->sock[0]);
	if (r->sock[1] >= 0)
		close(r->sock[1]);
	free(r->d);
	free(r);
}

/* One input round as the device model runs it: readable when poll said. */
static bool pump(struct rig *r)
{
	return r->kind->input(r->d, r->kind->input_fd(r->d) >= 0);
}

static void send_raw(struct rig *r, const void *buf, size_t n)
{
	if (send(r->sock[1], buf, n, 0) != (ssize_t)n)
		abort();
}

static void send_ev(struct rig *r, struct display_input ev)
{
	send_raw(r, &ev, sizeof(ev));
	pump(r);
}

static void key(struct rig *r, unsigned k, bool down)
{
	send_ev(r, (struct display_input){.type = DISPLAY_INPUT_KEY, .down = down,
					  .key = (uint16_t)k});
}

static void abs_ev(struct rig *r, int x, int y, unsigned w, unsigned h, uint8_t btn, int dz)
{
	send_ev(r, (struct display_input){.type = DISPLAY_INPUT_ABS, .x = x, .y = y, .width = w,
					  .height = h, .buttons = btn, .dz = (int8_t)dz});
}

static void rel_ev(struct rig *r, int x, int y, uint8_t btn, int dz)
{
	send_ev(r, (struct display_input){.type = DISPLAY_INPUT_REL, .x = x, .y = y,
					  .buttons = btn, .dz = (int8_t)dz});
}

/* Descriptors this process holds. */
static unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- the guest's side of the i8042 ---- */

static uint8_t status(struct rig *r)
{
	return (uint8_t)i8042_cmd_ops.read(&r->k, 0, 1);
}

static void cmd(struct rig *r, uint8_t c)
{
	i8042_cmd_ops.write(&r->k, 0, 1, c);
}

static void data(struct rig *r, uint8_t v)
{
	i8042_data_ops.write(&r->k, 0, 1, v);
}

/* Everything the guest can read now (at most max bytes). */
static size_t drain(struct rig *r, uint8_t *out, size_t max)
{
	size_t n = 0;
	while (status(r) & I8042_STR_OBF) {
		uint8_t b = (uint8_t)i8042_data_ops.read(&r->k, 0, 1);
		if (n < max)
			out[n] = b;
		n++;
	}
	return n;
}

static void xlate(struct rig *r, bool on)
{
	uint8_t b;
	cmd(r, 0x20);
	(void)drain(r, &b, 1);
	cmd(r, 0x60);
	data(r, on ? (uint8_t)(b | I8042_CTR_XLATE) : (uint8_t)(b & ~I8042_CTR_XLATE));
}

static bool same(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
	if (n == wn && (n == 0 || !memcmp(got, want, n)))
		return true;
	printf("# got");
	for (size_t i = 0; i < n && i < 16; i++)
		printf(" %02x", got[i]);
	printf(", want");
	for (size_t i = 0; i < wn; i++)
		printf(" %02x", want[i]);
	printf("\n");
	return false;
}

/* What the guest reads after key k goes down or up. */
static bool key_reads(struct rig *r, unsigned k, bool down, const uint8_t *want, size_t wn)
{
	uint8_t got[64];
	size_t n;
	key(r, k, down);
	n = drain(r, got, sizeof(got));
	return same(got, n, want, wn);
}

#define READS(r, k, down, ...)                                                \
	key_reads(r, k, down, (const uint8_t[]){__VA_ARGS__},                  \
		  sizeof((const uint8_t[]){__VA_ARGS__}))

/* The mouse reporting, with the IntelliMouse wheel. */
static void mouse_on(struct rig *r)
{
	static const uint8_t seq[] = {0xf3, 200, 0xf3, 100, 0xf3, 80, 0xf4};
	uint8_t junk[8];
	for (size_t i = 0; i < sizeof(seq); i++) {
		cmd(r, 0xd4);
		data(r, seq[i]);
		(void)drain(r, junk, sizeof(junk));
	}
}

struct motion {
	int dx, dy, dz; /* summed, in screen sense (dy down) */
	int buttons;    /* of the last packet, -1 without one */
	unsigned packets;
	bool bad;       /* a byte 0 without bit 3, or a delta Linux misreads */
};

static struct motion mouse_read(struct rig *r)
{
	struct motion m = {0, 0, 0, -1, 0, false};
	static uint8_t b[1 << 16]; /* a saturated move: 2^20 / 255 packets */
	size_t n = drain(r, b, sizeof(b));
	for (size_t i = 0; i + 4 <= n && i + 4 <= sizeof(b); i += 4) {
		int dx = b[i + 1] - (b[i] & 0x10 ? 256 : 0);
		int dy = b[i + 2] - (b[i] & 0x20 ? 256 : 0);
		int dz = b[i + 3] & 0x0f;
		if (!(b[i] & 0x08))
			m.bad = true;
		/* -256 is a zero byte with its sign bit: Linux's psmouse
		 * takes a zero byte for no motion whatever the sign. */
		if (dx == -256 || dy == -256)
			m.bad = true;
		m.dx += dx;
		m.dy -= dy;
		m.dz += dz >= 8 ? dz - 16 : dz;
		m.buttons = b[i] & 7;
		m.packets++;
	}
	if (n % 4)
		m.bad = true;
	return m;
}

/* Motion until the mouse has nothing left. A big move takes many
 * packets; the mouse queues them 16 bytes at a time and sends the rest
 * as the guest reads (an event of no motion would too: the loop checks
 * that nothing is left either way). */
static struct motion mouse_read_all(struct rig *r)
{
	struct motion all = {0, 0, 0, -1, 0, false}, m;
	do {
		m = mouse_read(r);
		if (!m.packets && r->k.mouse.moved) {
			i8042_mouse(&r->k, 0, 0, 0, r->k.mouse.buttons);
			m = mouse_read(r);
		}
		all.dx += m.dx;
		all.dy += m.dy;
		all.dz += m.dz;
		all.packets += m.packets;
		all.bad |= m.bad;
		if (m.buttons >= 0)
			all.buttons = m.buttons;
	} while (m.packets && all.packets < 100000);
	return all;
}

/* The oldest queued HID report, 0 bytes when none. */
static size_t hid_pop(struct usb_hid *h, uint8_t *out)
{
	if (!h->q_len)
		return 0;
	memcpy(out, h->q[h->q_head], USB_HID_REPORT_MAX);
	h->q_head = (uint8_t)((h->q_head + 1) % USB_HID_QUEUE);
	h->q_len--;
	return USB_HID_REPORT_MAX;
}

/* ---- the tests ---- */

/* Every key with a set 2 code, pressed and released through the i8042
 * with translation on: the guest must read the key's own XT number
 * back, [E0] code then [E0] code | 80h. The translation table is the
 * i8042's, written from the 8042's, so a wrong set 2 code shows here. */
static void test_table(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	unsigned n_keys = 0, bad = 0, e0 = 0, no_usage = 0;
	bool seen[256] = {false};
	unsigned dup = 0;

	for (unsigned k = 0; k < 256; k++) {
		uint8_t seq[DISPLAY_KEY_SEQ_MAX], got[32], want[4];
		size_t n = display_key_set2(k, true, seq), wn = 0, gn;
		uint8_t u = display_key_usage(k);
		if (k == 0xb7 || k == 0xc6 || n == 0)
			continue;
		n_keys++;
		e0 += (k & 0x80) != 0;
		if (!u)
			no_usage++;
		else if (seen[u] && u != 0x46) /* PrtSc and SysRq share Print Screen */
			dup++;
		if (u)
			seen[u] = true;
		for (int down = 1; down >= 0; down--) {
			wn = 0;
			if (k & 0x80)
				want[wn++] = 0xe0;
			want[wn++] = (uint8_t)((k & 0x7f) | (down ? 0 : 0x80));
			key(r, k, down);
			gn = drain(r, got, sizeof(got));
			if (gn != wn || memcmp(got, want, wn)) {
				tap_diag("key %#x %s: read %zu bytes, first %#x", k,
					 down ? "down" : "up", gn, gn ? got[0] : 0);
				bad++;
			}
		}
	}
	tap_ok(t, bad == 0 && n_keys >= 104, "%u keys (%u E0) read back as their XT numbers "
	       "through the i8042's translation (%u wrong)", n_keys, e0, bad);
	tap_ok(t, no_usage == 2 && dup == 0,
	       "every key but Sleep and Wake has a HID usage, none twice (%u without, %u twice)",
	       no_usage, dup);
	/* A sample of the usages, from the HID Usage Tables. */
	tap_ok(t, display_key_usage(0x1e) == 0x04 && display_key_usage(0x2c) == 0x1d &&
		      display_key_usage(0x02) == 0x1e && display_key_usage(0x0b) == 0x27 &&
		      display_key_usage(0x1c) == 0x28 && display_key_usage(0x01) == 0x29 &&
		      display_key_usage(0x39) == 0x2c && display_key_usage(0x3b) == 0x3a &&
		      display_key_usage(0x58) == 0x45 && display_key_usage(0xc8) == 0x52 &&
		      display_key_usage(0x9c) == 0x58 && display_key_usage(0xb5) == 0x54 &&
		      display_key_usage(0x56) == 0x64 && display_key_usage(0xdd) == 0x65 &&
		      display_key_usage(0x1d) == 0xe0 && display_key_usage(0x2a) == 0xe1 &&
		      display_key_usage(0x38) == 0xe2 && display_key_usage(0xdb) == 0xe3 &&
		      display_key_usage(0x9d) == 0xe4 && display_key_usage(0x36) == 0xe5 &&
		      display_key_usage(0xb8) == 0xe6 && display_key_usage(0xdc) == 0xe7 &&
		      display_key_usage(0xb7) == 0x46 && display_key_usage(0xc6) == 0x48,
	       "HID usages: letters, digits, Enter, Escape, Space, F1, F12, Up, keypad "
	       "Enter and /, the 102nd key, Menu, the eight modifiers, PrtSc, Pause");
	tap_ok(t, display_key_usage(0) == 0 && display_key_usage(0x55) == 0 &&
		      display_key_usage(0x100) == 0 && display_key_usage(0xffff) == 0,
	       "no usage for keys outside the table");
	rig_free(r);
}

static void test_ps2_keys(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	uint8_t seq[DISPLAY_KEY_SEQ_MAX];

	/* Translation on (power-on): what a guest that never changed it reads. */
	tap_ok(t, READS(r, 0x1e, 1, 0x1e) && READS(r, 0x1e, 0, 0x9e),
	       "A: 1E, 9E with translation");
	tap_ok(t, READS(r, 0xc8, 1, 0xe0, 0x48) && READS(r, 0xc8, 0, 0xe0, 0xc8),
	       "Up: E0 48, E0 C8");
	tap_ok(t, READS(r, 0xb7, 1, 0xe0, 0x2a, 0xe0, 0x37) &&
		      READS(r, 0xb7, 0, 0xe0, 0xb7, 0xe0, 0xaa),
	       "Print Screen: E0 2A E0 37, E0 B7 E0 AA");
	tap_ok(t, READS(r, 0xc6, 1, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5),
	       "Pause: E1 1D 45 E1 9D C5");
	tap_ok(t, key_reads(r, 0xc6, 0, NULL, 0), "Pause's release sends nothing");
	tap_ok(t, READS(r, 0x1e, 1, 0x1e) && READS(r, 0x1e, 1, 0x1e) && READS(r, 0x1e, 1, 0x1e) &&
		      READS(r, 0x1e, 0, 0x9e),
	       "a held key's repeats send its make code again (typematic)");

	/* Translation off: the keyboard's own set 2. */
	xlate(r, false);
	tap_ok(t, READS(r, 0x1e, 1, 0x1c) && READS(r, 0x1e, 0, 0xf0, 0x1c),
	       "set 2: A is 1C, F0 1C");
	tap_ok(t, READS(r, 0x9c, 1, 0xe0, 0x5a) && READS(r, 0x9c, 0, 0xe0, 0xf0, 0x5a),
	       "set 2: keypad Enter is E0 5A, E0 F0 5A");
	tap_ok(t, READS(r, 0xb5, 1, 0xe0, 0x4a) && READS(r, 0xb5, 0, 0xe0, 0xf0, 0x4a),
	       "set 2: keypad / is E0 4A, E0 F0 4A");
	tap_ok(t, READS(r, 0xb7, 1, 0xe0, 0x12, 0xe0, 0x7c) &&
		      READS(r, 0xb7, 0, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12),
	       "set 2: Print Screen is E0 12 E0 7C, E0 F0 7C E0 F0 12");
	tap_ok(t, READS(r, 0xc6, 1, 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77) &&
		      key_reads(r, 0xc6, 0, NULL, 0),
	       "set 2: Pause is E1 14 77 E1 F0 14 F0 77, no break");
	tap_ok(t, READS(r, 0x41, 1, 0x83) && READS(r, 0x41, 0, 0xf0, 0x83) &&
		      READS(r, 0xdb, 1, 0xe0, 0x1f) && READS(r, 0x56, 1, 0x61),
	       "set 2: F7 83, Left Windows E0 1F, the 102nd key 61");
	tap_ok(t, display_key_set2(0x9d, false, seq) == 3 && seq[0] == 0xe0 && seq[1] == 0xf0 &&
		      seq[2] == 0x14,
	       "display_key_set2: Right Ctrl's break E0 F0 14");
	tap_ok(t, r->d->events == 26 && r->d->dropped == 0 && r->d->unrouted == 0,
	       "%llu events, none dropped", (unsigned long long)r->d->events);
	rig_free(r);
}

static void test_usb_kbd(struct tap *t)
{
	struct rig *r = rig_new(true, true, false);
	uint8_t rep[USB_HID_REPORT_MAX], junk[16];
	static const uint8_t a[8] = {0, 0, 0x04}, ctrl_a[8] = {0x01, 0, 0x04},
			     ctrl[8] = {0x01}, none[8] = {0}, rwin[8] = {0x80};
	bool ok;

	key(r, 0x1d, true);  /* Left Ctrl */
	key(r, 0x1e, true);  /* A */
	key(r, 0x1e, true);  /* A again: the report does not change */
	key(r, 0x1e, false);
	key(r, 0x1d, false);
	ok = hid_pop(&r->kbd, rep) && !memcmp(rep, ctrl, 8) && hid_pop(&r->kbd, rep) &&
	     !memcmp(rep, ctrl_a, 8) && hid_pop(&r->kbd, rep) && !memcmp(rep, ctrl, 8) &&
	     hid_pop(&r->kbd, rep) && !memcmp(rep, none, 8) && !hid_pop(&r->kbd, rep);
	tap_ok(t, ok, "usb-kbd: Ctrl, Ctrl+A, Ctrl, nothing; a repeat changes no report");
	tap_ok(t, drain(r, junk, sizeof(junk)) == 0, "and the PS/2 keyboard heard nothing");
	key(r, 0xdc, true);
	key(r, 0xdc, false);
	key(r, 0x1e, true);
	ok = hid_pop(&r->kbd, rep) && !memcmp(rep, rwin, 8) && hid_pop(&r->kbd, rep) &&
	     !memcmp(rep, none, 8) && hid_pop(&r->kbd, rep) && !memcmp(rep, a, 8);
	tap_ok(t, ok, "usb-kbd: Right Windows is modifier bit 7");
	key(r, 0xdf, true); /* Sleep: not on the keyboard page */
	tap_ok(t, r->d->unrouted == 1 && !hid_pop(&r->kbd, rep) &&
		      drain(r, junk, sizeof(junk)) == 0,
	       "a key without a usage goes nowhere (counted)");
	rig_free(r);
}

static void test_tablet(struct tap *t)
{
	struct rig *r = rig_new(true, false, true);
	uint8_t rep[USB_HID_REPORT_MAX], junk[16];
	bool ok;

	mouse_on(r);
	abs_ev(r, 0, 0, 640, 480, 0, 0);
	abs_ev(r, 639, 479, 640, 480, DISPLAY_BTN_LEFT | DISPLAY_BTN_MIDDLE, 0);
	ok = hid_pop(&r->tab, rep) && rep[0] == 0 && rep[1] == 0 && rep[2] == 0 &&
	     rep[3] == 0 && rep[4] == 0 && hid_pop(&r->tab, rep) && rep[0] == 5 &&
	     rep[1] == 0xff && rep[2] == 0x7f && rep[3] == 0xff && rep[4] == 0x7f;
	tap_ok(t, ok, "usb-tablet: (0,0) and the last pixel of 640x480 are 0 and 7FFFh, "
	       "left+middle buttons 05h");
	abs_ev(r, 320, 240, 640, 480, DISPLAY_BTN_RIGHT, 2);
	ok = hid_pop(&r->tab, rep) && rep[0] == 2 &&
	     (rep[1] | rep[2] << 8) == usb_tablet_scale(320, 640) &&
	     (rep[3] | rep[4] << 8) == usb_tablet_scale(240, 480) && (int8_t)rep[5] == -2;
	tap_ok(t, ok, "usb-tablet: the middle scaled (%u, %u), right button, 2 steps towards "
	       "the user are wheel -2", rep[1] | rep[2] << 8, rep[3] | rep[4] << 8);
	abs_ev(r, INT_MIN, INT_MAX, UINT32_MAX, 0, 0, -128);
	ok = hid_pop(&r->tab, rep) && rep[1] == 0 && rep[2] == 0 && rep[3] == 0 && rep[4] == 0 &&
	     (int8_t)rep[5] == 127;
	tap_ok(t, ok, "usb-tablet: extreme coordinates and sizes clamp, wheel -128 is 127");
	tap_ok(t, drain(r, junk, sizeof(junk)) == 0, "the PS/2 mouse got no absolute event");
	rel_ev(r, 3, 4, 0, 0);
	{
		struct motion m = mouse_read_all(r);
		tap_ok(t, m.dx == 3 && m.dy == 4 && !hid_pop(&r->tab, rep),
		       "a relative event goes to the PS/2 mouse even with a tablet");
	}
	rig_free(r);
}

static void test_ps2_abs(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	struct motion m;

	mouse_on(r);
	abs_ev(r, 100, 100, 800, 600, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, m.packets == 0, "PS/2 from absolute: the first position moves nothing");
	abs_ev(r, 130, 90, 800, 600, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, !m.bad && m.dx == 30 && m.dy == -10 && m.packets == 1,
	       "then (130, 90): one packet of +30, -10 (%d, %d)", m.dx, m.dy);
	abs_ev(r, 130, 90, 800, 600, DISPLAY_BTN_LEFT | DISPLAY_BTN_RIGHT, 0);
	m = mouse_read_all(r);
	tap_ok(t, m.dx == 0 && m.dy == 0 && m.buttons == 3, "buttons alone: a packet, left+right");
	abs_ev(r, 130, 90, 800, 600, 0, -3);
	m = mouse_read_all(r);
	tap_ok(t, m.dz == -3 && m.buttons == 0, "the wheel: -3 (%d)", m.dz);
	abs_ev(r, 5000, -5000, 800, 600, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, m.dx == 799 - 130 && m.dy == -90,
	       "outside the screen: clamped to its edge (%d, %d)", m.dx, m.dy);
	abs_ev(r, INT_MAX, INT_MAX, UINT32_MAX, UINT32_MAX, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, !m.bad && m.dx == (int)DISPLAY_INPUT_POS_MAX - 799 &&
		      m.dy == (int)DISPLAY_INPUT_POS_MAX,
	       "a huge screen is bounded at %u a side (%d, %d in %u packets)",
	       DISPLAY_INPUT_POS_MAX, m.dx, m.dy, m.packets);
	abs_ev(r, 10, 10, 0, 0, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, m.dx == -(int)DISPLAY_INPUT_POS_MAX && m.dy == -(int)DISPLAY_INPUT_POS_MAX,
	       "a 0x0 screen has its one pixel at 0, 0");

	r->kind->reset(r->d);
	abs_ev(r, 400, 300, 800, 600, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, m.packets == 0, "after reset the first position moves nothing again");
	abs_ev(r, 401, 302, 800, 600, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, m.dx == 1 && m.dy == 2, "and the next moves from it");
	rig_free(r);
}

static void test_rel(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	struct motion m;

	mouse_on(r);
	rel_ev(r, 5, -7, DISPLAY_BTN_MIDDLE, 2);
	m = mouse_read_all(r);
	tap_ok(t, !m.bad && m.dx == 5 && m.dy == -7 && m.dz == 2 && m.buttons == 4,
	       "relative: +5, -7, wheel 2, middle button");
	rel_ev(r, 1000, -1000, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, !m.bad && m.dx == 1000 && m.dy == -1000 && m.packets == 4,
	       "a big move arrives whole, in packets of at most 255 (%u)", m.packets);
	rel_ev(r, -1000, 1000, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, !m.bad && m.dx == -1000 && m.dy == 1000 && m.packets == 4,
	       "left and down too, no packet at -256 (%d, %d in %u)", m.dx, m.dy, m.packets);
	rel_ev(r, INT_MAX, INT_MIN, 0, 0);
	m = mouse_read_all(r);
	tap_ok(t, !m.bad && m.dx == 1 << 20 && m.dy == -(1 << 20),
	       "INT_MAX and INT_MIN saturate in the mouse (%d, %d)", m.dx, m.dy);
	rig_free(r);
}

static void test_hostile(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	struct display_input ev = {.type = DISPLAY_INPUT_KEY, .down = 1, .key = 0x1e};
	uint8_t big[100] = {DISPLAY_INPUT_KEY, 1, 0x1e, 0}, junk[64];
	static const uint16_t bad_keys[] = {0, 0x55, 0x5a, 0x80, 0xff, 0x100, 0x1e1e, 0xffff};
	static const uint8_t bad_types[] = {0, 4, 0x7f, 0x80, 0xff};
	unsigned n = 0, fds_before = open_fds();

	send_raw(r, &ev, 10); n++;
	send_raw(r, big, sizeof(big)); n++;
	send_raw(r, big, sizeof(ev) + 1); n++;
	send_raw(r, big, 0); n++;
	for (size_t i = 0; i < sizeof(bad_types); i++) {
		struct display_input e = ev;
		e.type = bad_types[i];
		send_raw(r, &e, sizeof(e)); n++;
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		struct display_input e = ev;
		e.key = bad_keys[i];
		send_raw(r, &e, sizeof(e)); n++;
	}
	{
		struct display_input e = ev;
		e.down = 2;
		send_raw(r, &e, sizeof(e)); n++;
		e = (struct display_input){.type = DISPLAY_INPUT_REL, .x = 1, .buttons = 0x08};
		send_raw(r, &e, sizeof(e)); n++;
		e.type = DISPLAY_INPUT_ABS;
		e.buttons = 0x80;
		send_raw(r, &e, sizeof(e)); n++;
	}
	{
		/* A good event carrying a descriptor: the kernel closes what
		 * no control buffer takes, the datagram is dropped. */
		int fd = dup(0);
		char cbuf[CMSG_SPACE(sizeof(int))] = {0};
		struct iovec iov = {&ev, sizeof(ev)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf)};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		if (sendmsg(r->sock[1], &msg, 0) != (ssize_t)sizeof(ev))
			abort();
		close(fd);
		n++;
	}
	pump(r);
	tap_ok(t, r->d->dropped == n && r->d->events == 0 && drain(r, junk, sizeof(junk)) == 0,
	       "%u malformed datagrams (short, long, empty, unknown types and keys, "
	       "down 2, unknown buttons, a descriptor): dropped and counted (%llu), the guest sees nothing",
	       n, (unsigned long long)r->d->dropped);
	tap_ok(t, open_fds() == fds_before, "the descriptor sent along was not kept");
	tap_ok(t, r->kind->input_fd(r->d) == r->sock[0], "and the socket is still watched");
	send_ev(r, ev);
	tap_ok(t, drain(r, junk, sizeof(junk)) == 1 && junk[0] == 0x1e,
	       "a good datagram after them works");
	rig_free(r);
}

/* A display that floods: each call takes at most DISPLAY_INPUT_BATCH. */
static void test_flood(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	struct display_input ev = {.type = DISPLAY_INPUT_REL, .x = 1};
	unsigned sent = 0, queued = 0, calls = 0, worst = 0;
	uint64_t before;
	uint8_t junk[64];

	mouse_on(r);
	while (sent < 5000) {
		/* Fill the socket as far as it takes. */
		while (sent < 5000 && send(r->sock[1], &ev, sizeof(ev), 0) == (ssize_t)sizeof(ev)) {
			sent++;
			queued++;
		}
		before = r->d->events;
		pump(r);
		calls++;
		if (r->d->events - before > worst)
			worst = (unsigned)(r->d->events - before);
		queued -= (unsigned)(r->d->events - before);
		(void)drain(r, junk, sizeof(junk)); /* the guest reads some */
	}
	while (queued && calls < 10000) {
		before = r->d->events;
		pump(r);
		calls++;
		queued -= (unsigned)(r->d->events - before);
	}
	tap_ok(t, r->d->events == 5000 && worst == DISPLAY_INPUT_BATCH && calls >= 5000 / 64,
	       "5000 datagrams: all taken, at most %u a call (%u calls)", worst, calls);
	{
		struct motion m = mouse_read_all(r);
		tap_ok(t, !m.bad, "the mouse's packets stay whole (%u after the flood)", m.packets);
	}
	/* Keys too: the keyboard's buffer overflows, the controller says so. */
	for (unsigned i = 0; i < 200; i++) {
		struct display_input k = {.type = DISPLAY_INPUT_KEY, .down = 1, .key = 0xc6};
		if (send(r->sock[1], &k, sizeof(k), 0) != (ssize_t)sizeof(k))
			break;
	}
	while (pump(r) && r->d->events < 5200)
		;
	{
		size_t n = drain(r, junk, sizeof(junk));
		tap_ok(t, n > 0 && n <= I8042_QUEUE + 1,
		       "200 Pause presses: the keyboard keeps %zu bytes, no more", n);
	}
	rig_free(r);
}

static void test_hangup(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	struct display_input ev = {.type = DISPLAY_INPUT_KEY, .down = 1, .key = 0x1e};
	uint8_t junk[16];

	send_raw(r, &ev, sizeof(ev));
	close(r->sock[1]);
	r->sock[1] = -1;
	tap_ok(t, pump(r), "the display closed: input() served the socket");
	tap_ok(t, drain(r, junk, sizeof(junk)) == 1 && junk[0] == 0x1e,
	       "what it sent before closing still arrives");
	tap_ok(t, r->d->hung_up && r->kind->input_fd(r->d) == -1,
	       "then the socket is no longer watched");
	tap_ok(t, !r->kind->input(r->d, true) && !r->kind->input(r->d, false),
	       "and input() has nothing to do");
	rig_free(r);

	r = rig_new(true, false, false);
	send_raw(r, &ev, 0); /* an empty datagram is not an end */
	pump(r);
	tap_ok(t, !r->d->hung_up && r->d->dropped == 1 && r->kind->input_fd(r->d) >= 0,
	       "an empty datagram is dropped, not taken for a hang-up");
	shutdown(r->sock[1], SHUT_WR);
	pump(r);
	tap_ok(t, r->d->hung_up && r->kind->input_fd(r->d) == -1,
	       "a display that shut its sending side down is let go");
	rig_free(r);
}

/* The board may create this device before its peers, or have none. */
static void test_peers(struct tap *t)
{
	struct rig *r = rig_new(true, false, false);
	struct dev_props p;
	char err[128] = "";
	uint8_t junk[16];
	int rc;

	tap_ok(t, r->peer_calls == 0 && r->d->ps2 == NULL,
	       "create does not depend on the peers being there yet");
	key(r, 0x1e, true);
	tap_ok(t, r->d->ps2 == &r->k && drain(r, junk, sizeof(junk)) == 1,
	       "they are found at the first event");
	key(r, 0x1e, false);
	tap_ok(t, r->peer_calls == 3, "and looked up once (%u calls)", r->peer_calls);
	rig_free(r);

	r = rig_new(false, false, false);
	key(r, 0x1e, true);
	abs_ev(r, 1, 1, 10, 10, 0, 0);
	rel_ev(r, 1, 1, 0, 0);
	tap_ok(t, r->d->unrouted == 3 && r->d->events == 3,
	       "a board without input devices: events counted as unrouted");
	rig_free(r);

	r = rig_new(true, false, false);
	r->ctx.peer = NULL;
	r->d->wired = false;
	key(r, 0x1e, true);
	tap_ok(t, r->d->unrouted == 1, "a board without peers: the same");
	dev_props_init(&p, r->kind);
	r->ctx.n_fds = 0;
	rc = r->kind->create(r->d, &r->ctx, &p, err, sizeof(err));
	tap_ok(t, rc < 0 && strstr(err, "display-input"), "create without a socket: %s", err);
	rig_free(r);
}

static void test_host_open(struct tap *t)
{
	const struct dev_kind *k = dev_kind_find("display-input");
	struct dev_machine m = {.vram_fd = -1, .display_shm_fd = -1, .display_input_fd = -1};
	struct dev_props p;
	int fds[DEV_MAX_FDS], sv[2];
	unsigned n = 0;
	char err[256] = "";
	int rc;

	tap_ok(t, k && k->where == DEV_IN_DM && k->category == DEV_CAT_INPUT && !k->user &&
		      k->unique && k->state == &display_input_state,
	       "the kind: in a device model, input, not for -device, one per machine");
	dev_props_init(&p, k);
	rc = k->host_open(&p, &m, fds, &n, err, sizeof(err));
	tap_ok(t, rc == -ENODEV && n == 0 && strstr(err, "no display"),
	       "host_open without a display: %s", err);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		abort();
	m.display_input_fd = sv[0];
	rc = k->host_open(&p, &m, fds, &n, err, sizeof(err));
	tap_ok(t, rc == 0 && n == 1 && fds[0] != sv[0] &&
		      (fcntl(fds[0], F_GETFL) & O_NONBLOCK) &&
		      (fcntl(fds[0], F_GETFD) & FD_CLOEXEC),
	       "host_open: a descriptor of its own, non-blocking, close-on-exec");
	if (n)
		close(fds[0]);
	close(sv[0]);
	close(sv[1]);
}

static void test_state(struct tap *t)
{
	struct rig *a = rig_new(true, false, false), *b = rig_new(true, false, false);
	struct vs_buf s = {0};
	char err[256] = "";
	struct motion m;
	int rc;

	mouse_on(a);
	mouse_on(b);
	abs_ev(a, 200, 150, 800, 600, 0, 0);
	rc = vs_save(&display_input_state, a->d, &s);
	if (rc == 0)
		rc = vs_load(&display_input_state, b->d, b->kind->size, s.data, s.len, err,
			     sizeof(err));
	tap_ok(t, rc == 0, "state saved and loaded (%zu bytes) %s", s.len, err);
	abs_ev(b, 210, 140, 800, 600, 0, 0);
	m = mouse_read_all(b);
	tap_ok(t, m.dx == 10 && m.dy == -10, "the loaded device moves from the saved position");
	s.data[s.len - 1] = 2; /* abs_valid, the last field */
	rc = vs_load(&display_input_state, b->d, b->kind->size, s.data, s.len, err, sizeof(err));
	tap_ok(t, rc < 0, "a bad state is refused: %s", err);
	vs_buf_free(&s);
	rig_free(a);
	rig_free(b);
}

int main(void)
{
	struct tap t = {0};
	test_table(&t);
	test_ps2_keys(&t);
	test_usb_kbd(&t);
	test_tablet(&t);
	test_ps2_abs(&t);
	test_rel(&t);
	test_hostile(&t);
	test_flood(&t);
	test_hangup(&t);
	test_peers(&t);
	test_host_open(&t);
	test_state(&t);
	return tap_done(&t);
}
