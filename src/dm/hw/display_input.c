/* display-input: keyboard and pointer events from the display process
 * (dev/display.h's datagrams) to the guest's input devices.
 *
 * Keys arrive numbered as XT scancode set 1 make codes, 0x80 | code for
 * the E0-prefixed ones. One table gives each key its set 2 make code
 * (Microsoft's Keyboard Scan Code Specification, rev. 1.3a) and its USB
 * HID usage (HID Usage Tables, keyboard page 07h). A set 2 break is F0
 * before the make code's last byte (E0 F0 xx for an E0 key); Print
 * Screen and Pause have the spec's own sequences, and Pause has no
 * break. A repeated press sends the make code again, as a real keyboard's
 * typematic repeat does; the USB keyboard reports a held key once (the
 * host repeats it). The sequences are what a keyboard sends with no
 * other key held: Ctrl+Pause's Break, Alt+Print Screen's SysRq and the
 * fake shifts around the cursor block are not produced (guests take the
 * plain codes, as they do from QEMU).
 *
 * Pointer buttons map bit by bit to the PS/2 mouse's and the tablet's
 * (both: bit 0 left, 1 right, 2 middle); dz (steps towards the user) is
 * their wheel's own sense.
 *
 * Every datagram is hostile input: its size, type, key number and
 * button bits are checked, a wrong one is dropped and counted, and
 * positions are clamped to the screen the event names (the PS/2 path to
 * DISPLAY_INPUT_POS_MAX a side). At most DISPLAY_INPUT_BATCH datagrams
 * are taken per call. When the display goes away the device stops
 * watching the socket; the guest keeps its devices. */
#include "dm/hw/display_input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/compiler.h"
#include "lib/log.h"
#include "lib/vstate.h"

/* ---- the keys ---- */

#define KEY_PRTSC 0xb7 /* E0 37 */
#define KEY_PAUSE 0xc6 /* E0 46: Pause's number in display.h */

struct key_code {
	uint8_t set2;  /* make code (after E0 for keys 0x80 and up); 0: none */
	uint8_t usage; /* HID keyboard page; 0: none */
};

static const struct key_code keys[256] = {
	/* The typewriter block */
	[0x01] = {0x76, 0x29}, /* Escape */
	[0x02] = {0x16, 0x1e}, /* 1 */
	[0x03] = {0x1e, 0x1f}, /* 2 */
	[0x04] = {0x26, 0x20}, /* 3 */
	[0x05] = {0x25, 0x21}, /* 4 */
	[0x06] = {0x2e, 0x22}, /* 5 */
	[0x07] = {0x36, 0x23}, /* 6 */
	[0x08] = {0x3d, 0x24}, /* 7 */
	[0x09] = {0x3e, 0x25}, /* 8 */
	[0x0a] = {0x46, 0x26}, /* 9 */
	[0x0b] = {0x45, 0x27}, /* 0 */
	[0x0c] = {0x4e, 0x2d}, /* - */
	[0x0d] = {0x55, 0x2e}, /* = */
	[0x0e] = {0x66, 0x2a}, /* Backspace */
	[0x0f] = {0x0d, 0x2b}, /* Tab */
	[0x10] = {0x15, 0x14}, /* Q */
	[0x11] = {0x1d, 0x1a}, /* W */
	[0x12] = {0x24, 0x08}, /* E */
	[0x13] = {0x2d, 0x15}, /* R */
	[0x14] = {0x2c, 0x17}, /* T */
	[0x15] = {0x35, 0x1c}, /* Y */
	[0x16] = {0x3c, 0x18}, /* U */
	[0x17] = {0x43, 0x0c}, /* I */
	[0x18] = {0x44, 0x12}, /* O */
	[0x19] = {0x4d, 0x13}, /* P */
	[0x1a] = {0x54, 0x2f}, /* [ */
	[0x1b] = {0x5b, 0x30}, /* ] */
	[0x1c] = {0x5a, 0x28}, /* Enter */
	[0x1d] = {0x14, 0xe0}, /* Left Ctrl */
	[0x1e] = {0x1c, 0x04}, /* A */
	[0x1f] = {0x1b, 0x16}, /* S */
	[0x20] = {0x23, 0x07}, /* D */
	[0x21] = {0x2b, 0x09}, /* F */
	[0x22] = {0x34, 0x0a}, /* G */
	[0x23] = {0x33, 0x0b}, /* H */
	[0x24] = {0x3b, 0x0d}, /* J */
	[0x25] = {0x42, 0x0e}, /* K */
	[0x26] = {0x4b, 0x0f}, /* L */
	[0x27] = {0x4c, 0x33}, /* ; */
	[0x28] = {0x52, 0x34}, /* ' */
	[0x29] = {0x0e, 0x35}, /* ` */
	[0x2a] = {0x12, 0xe1}, /* Left Shift */
	[0x2b] = {0x5d, 0x31}, /* \ (the 105-key layout's # has the same codes) */
	[0x2c] = {0x1a, 0x1d}, /* Z */
	[0x2d] = {0x22, 0x1b}, /* X */
	[0x2e] = {0x21, 0x06}, /* C */
	[0x2f] = {0x2a, 0x19}, /* V */
	[0x30] = {0x32, 0x05}, /* B */
	[0x31] = {0x31, 0x11}, /* N */
	[0x32] = {0x3a, 0x10}, /* M */
	[0x33] = {0x41, 0x36}, /* , */
	[0x34] = {0x49, 0x37}, /* . */
	[0x35] = {0x4a, 0x38}, /* / */
	[0x36] = {0x59, 0xe5}, /* Right Shift */
	[0x38] = {0x11, 0xe2}, /* Left Alt */
	[0x39] = {0x29, 0x2c}, /* Space */
	[0x3a] = {0x58, 0x39}, /* Caps Lock */
	[0x56] = {0x61, 0x64}, /* the 102nd key (\ | beside Left Shift) */
	/* Function keys */
	[0x3b] = {0x05, 0x3a}, /* F1 */
	[0x3c] = {0x06, 0x3b}, /* F2 */
	[0x3d] = {0x04, 0x3c}, /* F3 */
	[0x3e] = {0x0c, 0x3d}, /* F4 */
	[0x3f] = {0x03, 0x3e}, /* F5 */
	[0x40] = {0x0b, 0x3f}, /* F6 */
	[0x41] = {0x83, 0x40}, /* F7 */
	[0x42] = {0x0a, 0x41}, /* F8 */
	[0x43] = {0x01, 0x42}, /* F9 */
	[0x44] = {0x09, 0x43}, /* F10 */
	[0x57] = {0x78, 0x44}, /* F11 */
	[0x58] = {0x07, 0x45}, /* F12 */
	[0x54] = {0x84, 0x46}, /* SysRq (Alt+Print Screen; USB: Print Screen) */
	[0x46] = {0x7e, 0x47}, /* Scroll Lock */
	/* The keypad */
	[0x45] = {0x77, 0x53}, /* Num Lock */
	[0xb5] = {0x4a, 0x54}, /* / */
	[0x37] = {0x7c, 0x55}, /* * */
	[0x4a] = {0x7b, 0x56}, /* - */
	[0x4e] = {0x79, 0x57}, /* + */
	[0x9c] = {0x5a, 0x58}, /* Enter */
	[0x4f] = {0x69, 0x59}, /* 1 End */
	[0x50] = {0x72, 0x5a}, /* 2 Down */
	[0x51] = {0x7a, 0x5b}, /* 3 PgDn */
	[0x4b] = {0x6b, 0x5c}, /* 4 Left */
	[0x4c] = {0x73, 0x5d}, /* 5 */
	[0x4d] = {0x74, 0x5e}, /* 6 Right */
	[0x47] = {0x6c, 0x5f}, /* 7 Home */
	[0x48] = {0x75, 0x60}, /* 8 Up */
	[0x49] = {0x7d, 0x61}, /* 9 PgUp */
	[0x52] = {0x70, 0x62}, /* 0 Ins */
	[0x53] = {0x71, 0x63}, /* . Del */
	[0x59] = {0x0f, 0x67}, /* = */
	[0x7e] = {0x6d, 0x85}, /* , (Brazilian) */
	/* The E0 keys: right modifiers, Windows keys, the cursor block */
	[0x9d] = {0x14, 0xe4}, /* Right Ctrl */
	[0xb8] = {0x11, 0xe6}, /* Right Alt (AltGr) */
	[0xdb] = {0x1f, 0xe3}, /* Left Windows */
	[0xdc] = {0x27, 0xe7}, /* Right Windows */
	[0xdd] = {0x2f, 0x65}, /* Menu (Application) */
	[KEY_PRTSC] = {0x7c, 0x46}, /* Print Screen: its own sequence below */
	[KEY_PAUSE] = {0, 0x48},    /* Pause: its own sequence below */
	[0xd2] = {0x70, 0x49}, /* Insert */
	[0xc7] = {0x6c, 0x4a}, /* Home */
	[0xc9] = {0x7d, 0x4b}, /* Page Up */
	[0xd3] = {0x71, 0x4c}, /* Delete */
	[0xcf] = {0x69, 0x4d}, /* End */
	[0xd1] = {0x7a, 0x4e}, /* Page Down */
	[0xcd] = {0x74, 0x4f}, /* Right */
	[0xcb] = {0x6b, 0x50}, /* Left */
	[0xd0] = {0x72, 0x51}, /* Down */
	[0xc8] = {0x75, 0x52}, /* Up */
	/* Japanese keys */
	[0x70] = {0x13, 0x88}, /* Katakana/Hiragana (International 2) */
	[0x73] = {0x51, 0x87}, /* Ro (International 1) */
	[0x79] = {0x64, 0x8a}, /* Henkan (International 4) */
	[0x7b] = {0x67, 0x8b}, /* Muhenkan (International 5) */
	[0x7d] = {0x6a, 0x89}, /* Yen (International 3) */
	/* Volume and ACPI keys (Sleep and Wake are not on page 07h) */
	[0xa0] = {0x23, 0x7f}, /* Mute */
	[0xae] = {0x21, 0x81}, /* Volume Down */
	[0xb0] = {0x32, 0x80}, /* Volume Up */
	[0xde] = {0x37, 0x66}, /* Power */
	[0xdf] = {0x3f, 0},    /* Sleep */
	[0xe3] = {0x5e, 0},    /* Wake */
};

size_t display_key_set2(unsigned key, bool down, uint8_t out[DISPLAY_KEY_SEQ_MAX])
{
	static const uint8_t pause_make[] = {0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77};
	static const uint8_t prtsc_make[] = {0xe0, 0x12, 0xe0, 0x7c};
	static const uint8_t prtsc_break[] = {0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12};
	size_t n = 0;

	if (key == KEY_PAUSE) {
		if (!down)
			return 0; /* Pause sends its whole sequence at the press */
		memcpy(out, pause_make, sizeof(pause_make));
		return sizeof(pause_make);
	}
	if (key == KEY_PRTSC) {
		const uint8_t *s = down ? prtsc_make : prtsc_break;
		n = down ? sizeof(prtsc_make) : sizeof(prtsc_break);
		memcpy(out, s, n);
		return n;
	}
	if (key >= ARRAY_SIZE(keys) || !keys[key].set2)
		return 0;
	if (key & 0x80)
		out[n++] = 0xe0;
	if (!down)
		out[n++] = 0xf0;
	out[n++] = keys[key].set2;
	return n;
}

uint8_t display_key_usage(unsigned key)
{
	return key < ARRAY_SIZE(keys) ? keys[key].usage : 0;
}

/* ---- routing ---- */

/* The board may list this device before its peers: they are looked up
 * at the first event, once everything is created. */
static void wire(struct display_input_dev *d)
{
	const struct dev_ctx *c = d->ctx;
	if (d->wired)
		return;
	d->wired = true;
	if (!c || !c->peer)
		return;
	d->ps2 = c->peer(c, "i8042");
	d->kbd = c->peer(c, "usb-kbd");
	d->tablet = c->peer(c, "usb-tablet");
}

static uint8_t ps2_buttons(uint8_t b)
{
	return (uint8_t)((b & DISPLAY_BTN_LEFT ? PS2M_LEFT : 0) |
			 (b & DISPLAY_BTN_RIGHT ? PS2M_RIGHT : 0) |
			 (b & DISPLAY_BTN_MIDDLE ? PS2M_MIDDLE : 0));
}

static unsigned tablet_buttons(uint8_t b)
{
	return (b & DISPLAY_BTN_LEFT ? USB_TABLET_LEFT : 0u) |
	       (b & DISPLAY_BTN_RIGHT ? USB_TABLET_RIGHT : 0u) |
	       (b & DISPLAY_BTN_MIDDLE ? USB_TABLET_MIDDLE : 0u);
}

/* A position on an axis of `size` pixels, clamped to the screen (and to
 * DISPLAY_INPUT_POS_MAX). */
static uint32_t clamp_pos(int32_t v, uint32_t size)
{
	uint32_t max = size == 0 ? 0 : size - 1;
	if (max > DISPLAY_INPUT_POS_MAX)
		max = DISPLAY_INPUT_POS_MAX;
	if (v < 0)
		return 0;
	return (uint32_t)v > max ? max : (uint32_t)v;
}

static void route_key(struct display_input_dev *d, const struct display_input *ev)
{
	uint8_t seq[DISPLAY_KEY_SEQ_MAX];
	size_t n;

	if (d->kbd) {
		uint8_t usage = display_key_usage(ev->key);
		if (!usage) {
			d->unrouted++;
			return;
		}
		usb_kbd_key(d->kbd, usage, ev->down);
		return;
	}
	if (!d->ps2) {
		d->unrouted++;
		return;
	}
	n = display_key_set2(ev->key, ev->down, seq);
	if (n)
		i8042_key(d->ps2, seq, n);
}

static void route_abs(struct display_input_dev *d, const struct display_input *ev)
{
	uint32_t x, y;
	int dx = 0, dy = 0;

	if (d->tablet) {
		usb_tablet_event(d->tablet, ev->x, ev->y, ev->width, ev->height,
				 tablet_buttons(ev->buttons), ev->dz);
		return;
	}
	if (!d->ps2) {
		d->unrouted++;
		return;
	}
	x = clamp_pos(ev->x, ev->width);
	y = clamp_pos(ev->y, ev->height);
	if (d->abs_valid) {
		dx = (int)x - (int)d->abs_x;
		dy = (int)y - (int)d->abs_y;
	}
	d->abs_x = x;
	d->abs_y = y;
	d->abs_valid = true;
	i8042_mouse(d->ps2, dx, dy, ev->dz, ps2_buttons(ev->buttons));
}

static void route_rel(struct display_input_dev *d, const struct display_input *ev)
{
	if (!d->ps2) {
		d->unrouted++;
		return;
	}
	/* ps2_mouse_event() saturates what it sums. */
	i8042_mouse(d->ps2, ev->x, ev->y, ev->dz, ps2_buttons(ev->buttons));
}

static bool event_ok(const struct display_input *ev)
{
	const uint8_t btn = DISPLAY_BTN_LEFT | DISPLAY_BTN_RIGHT | DISPLAY_BTN_MIDDLE;
	switch (ev->type) {
	case DISPLAY_INPUT_KEY:
		return ev->down <= 1 && ev->key < ARRAY_SIZE(keys) &&
		       (keys[ev->key].set2 || keys[ev->key].usage);
	case DISPLAY_INPUT_ABS:
	case DISPLAY_INPUT_REL:
		return !(ev->buttons & ~btn);
	default:
		return false;
	}
}

void display_input_event(struct display_input_dev *d, const struct display_input *ev)
{
	if (!event_ok(ev)) {
		d->dropped++;
		return;
	}
	wire(d);
	d->events++;
	switch (ev->type) {
	case DISPLAY_INPUT_KEY:
		route_key(d, ev);
		break;
	case DISPLAY_INPUT_ABS:
		route_abs(d, ev);
		break;
	default:
		route_rel(d, ev);
		break;
	}
}

/* ---- the socket ---- */

/* recvmsg() gave 0: the display closed its end (or shut it down for
 * writing), or sent an empty datagram. */
static bool peer_gone(int fd)
{
	struct pollfd p = {fd, POLLIN | POLLRDHUP, 0};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL));
}

static void hang_up(struct display_input_dev *d)
{
	/* The board closes the descriptor; we only stop watching it. */
	d->fd = -1;
	d->hung_up = true;
}

static int display_input_fd(void *dev)
{
	struct display_input_dev *d = dev;
	return d->fd;
}

/* Datagrams waiting, up to DISPLAY_INPUT_BATCH of them. recvmsg() because
 * the device model's seccomp list has it (recv() is recvfrom()). */
static bool display_input_input(void *dev, bool readable)
{
	struct display_input_dev *d = dev;

	if (!readable || d->fd < 0)
		return false;
	for (unsigned i = 0; i < DISPLAY_INPUT_BATCH; i++) {
		struct display_input ev;
		struct iovec iov = {&ev, sizeof(ev)};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t got = recvmsg(d->fd, &msg, MSG_DONTWAIT);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				hang_up(d); /* ECONNRESET and the like */
			break;
		}
		if (got == 0 && peer_gone(d->fd)) {
			hang_up(d);
			break;
		}
		if ((size_t)got != sizeof(ev) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
			d->dropped++;
			continue;
		}
		display_input_event(d, &ev);
	}
	return true;
}

/* ---- the kind (dev/kind.h) ---- */

/* In the vmm: our own descriptor of the display's input socket. */
static int display_input_host_open(struct dev_props *p, const struct dev_machine *m, int *fds,
				   unsigned *n_fds, char *err, size_t n)
{
	int fd, fl;

	if (m->display_input_fd < 0)
		return err_say(err, n, -ENODEV, "display-input: the machine has no display "
			       "(no input socket to read)");
	if (*n_fds >= DEV_MAX_FDS)
		return err_say(err, n, -EMFILE, "display-input: too many descriptors");
	fd = fcntl(m->display_input_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return err_say(err, n, -errno, "display-input: input socket: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int r = -errno;
		close(fd);
		return err_say(err, n, r, "display-input: input socket: %s", strerror(-r));
	}
	fds[(*n_fds)++] = fd;
	return 0;
}

static int display_input_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
				char *err, size_t n)
{
	struct display_input_dev *d = dev;

	if (c->n_fds < 1)
		return err_say(err, n, -EINVAL, "display-input %s: no input socket", c->id);
	d->ctx = c;
	d->fd = c->fds[0];
	return 0;
}

static void display_input_reset(void *dev)
{
	struct display_input_dev *d = dev;
	d->abs_x = d->abs_y = 0;
	d->abs_valid = false;
}

static const struct vs_field display_input_fields[] = {
	VS_MAX(struct display_input_dev, abs_x, VS_U32, DISPLAY_INPUT_POS_MAX),
	VS_MAX(struct display_input_dev, abs_y, VS_U32, DISPLAY_INPUT_POS_MAX),
	VS_BOOL(struct display_input_dev, abs_valid),
};

const struct vs_desc display_input_state = {
	.name = "display-input",
	.version = 1,
	.fields = display_input_fields,
	.n_fields = ARRAY_SIZE(display_input_fields),
};

DEV_KIND(display_input) = {
	.name = "display-input",
	.help = "the display's keyboard and pointer events to the i8042, usb-kbd and usb-tablet",
	.where = DEV_IN_DM,
	.category = DEV_CAT_INPUT,
	.unique = true,
	.size = sizeof(struct display_input_dev),
	.host_open = display_input_host_open,
	.create = display_input_create,
	.reset = display_input_reset,
	.input_fd = display_input_fd,
	.input = display_input_input,
	.state = &display_input_state,
};
