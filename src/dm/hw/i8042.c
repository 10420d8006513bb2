/* Intel 8042 keyboard controller and MF2 keyboard (see i8042.h).
 *
 * Sources: the IBM PC AT and PS/2 technical references' keyboard
 * controller and keyboard chapters (command set, status and command
 * bytes, output port), and what SeaBIOS (ps2port.c) and Linux (i8042.c,
 * atkbd.c, libps2.c) expect of them.
 *
 * Model: the controller takes every write at once (IBF is never seen) and
 * has one output buffer. Its own replies wait in a small queue ahead of
 * the keyboard's bytes, which wait in the keyboard's buffer until the
 * output buffer is empty and the keyboard interface is enabled; a byte
 * crosses (translated to set 1 when XLATE is set) the moment the guest
 * reads the previous one, so each byte is a new rising edge on IRQ 1.
 * The aux port has a PS/2 mouse (ps2mouse.c): 0xd4 sends it a byte, and
 * its replies and packets reach the output buffer with AUXB (and IRQ 12)
 * after the controller's and the keyboard's bytes, while the aux
 * interface is enabled.
 *
 * Not modelled (no PC software we target uses them): the 0xc1/0xc2 input
 * port polling modes, 0xe0 read test inputs, the 0xac diagnostic dump,
 * passwords (0xa4 always answers "none installed", 0xa5's bytes are
 * dropped, 0xa6 does nothing), pulses of output port bits 1-3, scancode
 * set 3 (0xf0 0x03 is refused with 0xfe, so drivers stay in set 2),
 * typematic repeat (the board's input repeats keys itself) and the
 * keyboard's timing (replies and the BAT arrive at once). */
#include "dm/hw/i8042.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/vstate.h"

/* ---- saved state ---- */

/* The controller (RAM, status, output buffer and port, pending command,
 * its reply queue), the keyboard (queue, mode) and the output levels. */
static const struct vs_field i8042_fields[] = {
	VS_BYTES(struct i8042, ram),
	VS_U8(struct i8042, status),
	VS_U8(struct i8042, obuf),
	VS_U8(struct i8042, outport),
	VS_U8(struct i8042, cmd),
	VS_BYTES(struct i8042, cq),
	VS_BYTES(struct i8042, cq_str),
	VS_MAX(struct i8042, cq_head, VS_U8, I8042_QUEUE - 1),
	VS_MAX(struct i8042, cq_len, VS_U8, I8042_QUEUE),
	VS_BOOL(struct i8042, xlate_f0),
	VS_BYTES(struct i8042, kq),
	VS_MAX(struct i8042, kq_head, VS_U8, I8042_QUEUE - 1),
	VS_MAX(struct i8042, kq_len, VS_U8, I8042_QUEUE),
	VS_U8(struct i8042, kbd_cmd),
	VS_FIELD(struct i8042, kbd_set, VS_U8, 1, 1, 2, 0),
	VS_MAX(struct i8042, kbd_leds, VS_U8, 7),
	VS_U8(struct i8042, kbd_typematic),
	VS_U8(struct i8042, kbd_last),
	VS_BOOL(struct i8042, kbd_scanning),
	VS_BOOL(struct i8042, irq1_level),
	VS_BOOL(struct i8042, irq12_level),
	VS_BOOL(struct i8042, a20_level),
	PS2M_VS_FIELDS(struct i8042, mouse, 2),
};

static int i8042_state_check(const void *obj, char *err, size_t n)
{
	const struct i8042 *k = obj;
	if (k->kbd_set < 1) {
		snprintf(err, n, "i8042: field 'kbd_set' is %u, not 1 or 2",
			 k->kbd_set);
		return -EINVAL;
	}
	return 0;
}

static int i8042_post_load(void *obj, char *err, size_t n)
{
	struct i8042 *k = obj;
	(void)err;
	(void)n;
	irq_set(&k->irq1, k->irq1_level);
	irq_set(&k->irq12, k->irq12_level);
	irq_set(&k->a20, k->a20_level);
	return 0;
}

const struct vs_desc i8042_state = {
	"i8042", 2, i8042_fields, ARRAY_SIZE(i8042_fields), i8042_state_check,
	i8042_post_load,
};

/* Keyboard replies */
#define KBD_ACK 0xfa
#define KBD_RESEND 0xfe
#define KBD_BAT_OK 0xaa
#define KBD_ECHO 0xee
#define KBD_ID0 0xab /* MF2 keyboard */
#define KBD_ID1 0x83
#define KBD_OVERRUN_SET2 0x00
#define KBD_OVERRUN_SET1 0xff
#define KBD_TYPEMATIC_DEFAULT 0x2b /* 10.9 characters/s after 500 ms */

/* Controller replies */
#define CTL_TEST_OK 0x55
#define CTL_IFACE_OK 0x00
#define CTL_NO_PASSWORD 0xf1
/* Input port: keyboard not inhibited (bit 7), no manufacturing jumper
 * (bit 5), colour display (bit 6 clear). */
#define CTL_INPORT 0xa0

#define CTR_POWER_ON (I8042_CTR_KBDINT | I8042_CTR_XLATE)
/* Keyboard clock and data idle high, reset inactive, A20 off. */
#define OUT_POWER_ON (0xc0 | I8042_OUT_RESET)

/* The 8042's set 2 -> set 1 translation of codes 0x00-0x7f (0x00, set 2's
 * overrun, becomes set 1's 0xff). Bytes 0x80-0xff pass unchanged but for
 * 0x83 (F7) and 0x84 (Alt+SysRq). A 0xf0 prefix is swallowed and sets
 * bit 7 of the byte after it. */
static const uint8_t xlate_table[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
	0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
	0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
	0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
	0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
	0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
	0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
	0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
	0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t xlate(uint8_t b, bool brk)
{
	uint8_t v = b < 0x80 ? xlate_table[b] : b == 0x83 ? 0x41 : b == 0x84 ? 0x54 : b;
	return brk ? (uint8_t)(v | 0x80) : v;
}

/* ---- output lines ---- */

static void update_irqs(struct i8042 *k)
{
	bool full = (k->status & I8042_STR_OBF) != 0;
	bool aux = (k->status & I8042_STR_AUXB) != 0;
	bool l1 = full && !aux && (k->ram[0] & I8042_CTR_KBDINT);
	bool l12 = full && aux && (k->ram[0] & I8042_CTR_AUXINT);

	if (l1 != k->irq1_level) {
		k->irq1_level = l1;
		irq_set(&k->irq1, l1);
	}
	if (l12 != k->irq12_level) {
		k->irq12_level = l12;
		irq_set(&k->irq12, l12);
	}
}

static void write_outport(struct i8042 *k, uint8_t v)
{
	bool a20 = (v & I8042_OUT_A20) != 0;

	/* Bits 4-5 are the IRQ outputs, not latches: composed on read. */
	k->outport = (uint8_t)(v & ~(I8042_OUT_KBD_OBF | I8042_OUT_AUX_OBF));
	if (a20 != k->a20_level) {
		k->a20_level = a20;
		irq_set(&k->a20, a20);
	}
	if (!(v & I8042_OUT_RESET)) {
		/* The CPU resets; the bit reads back 1 afterwards, as the
		 * pulse is over by the time anyone can read it. */
		k->outport |= I8042_OUT_RESET;
		irq_pulse(&k->reset);
	}
}

static uint8_t read_outport(const struct i8042 *k)
{
	uint8_t v = k->outport;
	if (k->status & I8042_STR_OBF)
		v |= (k->status & I8042_STR_AUXB) ? I8042_OUT_AUX_OBF : I8042_OUT_KBD_OBF;
	return v;
}

/* ---- the output buffer and what feeds it ---- */

/* Fills an empty output buffer: controller bytes first, then the
 * keyboard's when its interface is enabled. */
static void refill(struct i8042 *k)
{
	if (!(k->status & I8042_STR_OBF) && k->cq_len) {
		unsigned i = k->cq_head % I8042_QUEUE;
		k->obuf = k->cq[i];
		k->status = (uint8_t)((k->status & ~(I8042_STR_AUXB | I8042_STR_TIMEOUT |
						    I8042_STR_PARITY)) |
				      I8042_STR_OBF | k->cq_str[i]);
		k->cq_head = (uint8_t)((i + 1) % I8042_QUEUE);
		k->cq_len--;
	}
	while (!(k->status & I8042_STR_OBF) && k->kq_len &&
	       !(k->ram[0] & I8042_CTR_KBDDIS)) {
		uint8_t b = k->kq[k->kq_head % I8042_QUEUE];
		k->kq_head = (uint8_t)((k->kq_head + 1) % I8042_QUEUE);
		k->kq_len--;
		if (k->ram[0] & I8042_CTR_XLATE) {
			if (b == 0xf0) {
				k->xlate_f0 = true;
				continue;
			}
			b = xlate(b, k->xlate_f0);
		}
		k->xlate_f0 = false;
		k->obuf = b;
		k->status = (uint8_t)((k->status & ~(I8042_STR_AUXB | I8042_STR_TIMEOUT |
						    I8042_STR_PARITY)) | I8042_STR_OBF);
	}
	if (!(k->status & I8042_STR_OBF) && !(k->ram[0] & I8042_CTR_AUXDIS)) {
		uint8_t b;
		if (ps2_mouse_pop(&k->mouse, &b)) {
			k->obuf = b;
			k->status = (uint8_t)((k->status & ~(I8042_STR_TIMEOUT | I8042_STR_PARITY)) |
					      I8042_STR_OBF | I8042_STR_AUXB);
		}
	}
	update_irqs(k);
}

/* A byte from the controller itself; `str` is AUXB/TIMEOUT for bytes
 * that appear to come from the aux port. Dropped when the queue is full
 * (a guest issuing commands without reading their replies). */
static void ctl_put(struct i8042 *k, uint8_t b, uint8_t str)
{
	unsigned i;
	if (k->cq_len >= I8042_QUEUE)
		return;
	i = (k->cq_head + k->cq_len) % I8042_QUEUE;
	k->cq[i] = b;
	k->cq_str[i] = str;
	k->cq_len++;
	refill(k);
}

static unsigned kbd_room(const struct i8042 *k)
{
	return k->kq_len < I8042_QUEUE ? I8042_QUEUE - k->kq_len : 0;
}

/* A byte from the keyboard, toward the controller. */
static void kbd_put(struct i8042 *k, uint8_t b)
{
	if (!kbd_room(k))
		return;
	k->kq[(k->kq_head + k->kq_len) % I8042_QUEUE] = b;
	k->kq_len++;
	k->kbd_last = b;
}

/* ---- the keyboard ---- */

static void kbd_defaults(struct i8042 *k)
{
	k->kbd_set = 2;
	k->kbd_leds = 0;
	k->kbd_typematic = KBD_TYPEMATIC_DEFAULT;
	k->kq_len = 0;
	k->kq_head = 0;
}

/* The parameter byte of command `cmd`. Returns false when the command
 * still wants more (the 0xfb-0xfd key lists). */
static bool kbd_param(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case 0xed: /* Set/Reset Mode Indicators */
		k->kbd_leds = v & 0x07;
		kbd_put(k, KBD_ACK);
		return true;
	case 0xf3: /* Set Typematic Rate/Delay: bit 7 must be 0 */
		if (v & 0x80) {
			kbd_put(k, KBD_RESEND);
			return true;
		}
		k->kbd_typematic = v;
		kbd_put(k, KBD_ACK);
		return true;
	case 0xf0: /* Select Alternate Scan Codes */
		if (v == 0) {
			kbd_put(k, KBD_ACK);
			kbd_put(k, k->kbd_set);
		} else if (v == 1 || v == 2) {
			k->kbd_set = v;
			kbd_put(k, KBD_ACK);
		} else {
			kbd_put(k, KBD_RESEND);
		}
		return true;
	default: /* 0xfb-0xfd: set 3 key types, meaningless in sets 1 and 2 */
		kbd_put(k, KBD_ACK);
		return false;
	}
}

/* A byte the guest sends to the keyboard. */
static void kbd_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->kbd_cmd;

	/* Commands are 0xed-0xff; anything lower is a parameter. A command
	 * arriving in place of a parameter ends the command that waited,
	 * except Resend, which asks again for the reply it missed. */
	if (cmd && v < 0xed) {
		if (kbd_param(k, cmd, v))
			k->kbd_cmd = 0;
		return;
	}
	if (v != 0xfe)
		k->kbd_cmd = 0;
	switch (v) {
	case 0xed: case 0xf0: case 0xf3: case 0xfb: case 0xfc: case 0xfd:
		k->kbd_cmd = v;
		kbd_put(k, KBD_ACK);
		break;
	case 0xee: /* Echo */
		kbd_put(k, KBD_ECHO);
		break;
	case 0xf2: /* Read ID */
		kbd_put(k, KBD_ACK);
		kbd_put(k, KBD_ID0);
		kbd_put(k, KBD_ID1);
		break;
	case 0xf4: /* Enable: clears the buffer, starts scanning */
		k->kq_len = 0;
		k->kbd_scanning = true;
		kbd_put(k, KBD_ACK);
		break;
	case 0xf5: /* Default Disable */
		kbd_defaults(k);
		k->kbd_scanning = false;
		kbd_put(k, KBD_ACK);
		break;
	case 0xf6: /* Set Default */
		kbd_defaults(k);
		kbd_put(k, KBD_ACK);
		break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa: /* set 3 all-keys modes */
		kbd_put(k, KBD_ACK);
		break;
	case 0xfe: /* Resend */
		kbd_put(k, k->kbd_last);
		break;
	case 0xff: /* Reset: ACK, then the basic assurance test passes */
		kbd_defaults(k);
		k->kbd_scanning = true;
		kbd_put(k, KBD_ACK);
		kbd_put(k, KBD_BAT_OK);
		break;
	default:
		kbd_put(k, KBD_RESEND);
		break;
	}
}

void i8042_key(struct i8042 *k, const uint8_t *sc, size_t n)
{
	uint8_t out[I8042_QUEUE];
	size_t m = 0;
	bool brk = false, overrun = false;

	if (!k->kbd_scanning || n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = sc[i];
		if (k->kbd_set == 1) {
			/* The keyboard itself in set 1: the same mapping
			 * the controller's translation uses. */
			if (b == 0xf0) {
				brk = true;
				continue;
			}
			b = xlate(b, brk);
			brk = false;
		}
		if (m == sizeof(out)) {
			overrun = true; /* longer than any key's sequence */
			break;
		}
		out[m++] = b;
	}
	/* One slot stays free for the overrun code. */
	if (!overrun && m < kbd_room(k)) {
		for (size_t i = 0; i < m; i++)
			kbd_put(k, out[i]);
	} else if (kbd_room(k)) {
		uint8_t code = k->kbd_set == 1 ? KBD_OVERRUN_SET1 : KBD_OVERRUN_SET2;
		/* One overrun code for a run of lost keys. */
		if (!k->kq_len || k->kq[(k->kq_head + k->kq_len - 1) % I8042_QUEUE] != code)
			kbd_put(k, code);
	}
	refill(k);
}

void i8042_mouse(struct i8042 *k, int dx, int dy, int dz, uint8_t buttons)
{
	ps2_mouse_event(&k->mouse, dx, dy, dz, buttons);
	refill(k);
}

/* ---- the controller ---- */

static void ctl_command(struct i8042 *k, uint8_t c)
{
	k->cmd = 0; /* a new command abandons one that waited for data */
	if (c >= 0x20 && c <= 0x3f) { /* read RAM; 0x20 = command byte */
		ctl_put(k, k->ram[c & 0x1f], 0);
		return;
	}
	if ((c >= 0x60 && c <= 0x7f) || (c >= 0xd1 && c <= 0xd4) || c == 0xa5) {
		k->cmd = c; /* the data byte follows at 0x60 */
		return;
	}
	if (c >= 0xf0) { /* pulse output port bits 0-3 where c has a 0 */
		if (!(c & I8042_OUT_RESET))
			irq_pulse(&k->reset);
		return;
	}
	switch (c) {
	case 0xa4: /* test password installed */
		ctl_put(k, CTL_NO_PASSWORD, 0);
		break;
	case 0xa7: /* disable aux interface */
		k->ram[0] |= I8042_CTR_AUXDIS;
		break;
	case 0xa8:
		k->ram[0] &= (uint8_t)~I8042_CTR_AUXDIS;
		refill(k);
		break;
	case 0xa9: /* aux interface test: the lines are fine */
		ctl_put(k, CTL_IFACE_OK, 0);
		break;
	case 0xaa: /* self-test */
		k->status |= I8042_STR_SYS;
		ctl_put(k, CTL_TEST_OK, 0);
		break;
	case 0xab: /* keyboard interface test */
		ctl_put(k, CTL_IFACE_OK, 0);
		break;
	case 0xad: /* disable keyboard interface */
		k->ram[0] |= I8042_CTR_KBDDIS;
		break;
	case 0xae:
		k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
		refill(k);
		break;
	case 0xc0: /* read input port */
		ctl_put(k, CTL_INPORT, 0);
		break;
	case 0xd0: /* read output port */
		ctl_put(k, read_outport(k), 0);
		break;
	default: /* 0xa6, unassigned or not modelled: ignored */
		break;
	}
}

static void ctl_data(struct i8042 *k, uint8_t v)
{
	uint8_t c = k->cmd;

	k->cmd = 0;
	if (c >= 0x60 && c <= 0x7f) {
		k->ram[c & 0x1f] = v;
		if (c == 0x60) {
			k->status = (uint8_t)((k->status & ~I8042_STR_SYS) |
					      (v & I8042_CTR_SYS));
			refill(k); /* interrupts or the keyboard may be enabled now */
		}
		return;
	}
	switch (c) {
	case 0xa5: /* password bytes up to a 0: dropped */
		if (v)
			k->cmd = c;
		break;
	case 0xd1:
		write_outport(k, v);
		break;
	case 0xd2: /* as if from the keyboard (untranslated) */
		ctl_put(k, v, 0);
		break;
	case 0xd3: /* as if from the aux device */
		ctl_put(k, v, I8042_STR_AUXB);
		break;
	case 0xd4: /* to the aux device */
		ps2_mouse_write(&k->mouse, v);
		refill(k);
		break;
	default:
		/* To the keyboard; sending it data enables its interface
		 * again, as the AT controller does. */
		k->ram[0] &= (uint8_t)~I8042_CTR_KBDDIS;
		kbd_write(k, v);
		refill(k);
		break;
	}
}

static uint64_t i8042_data_read(void *opaque, uint64_t off, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = k->obuf;

	if (k->status & I8042_STR_OBF) {
		k->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUXB |
					I8042_STR_TIMEOUT | I8042_STR_PARITY);
		update_irqs(k); /* the line drops ... */
		refill(k);      /* ... and rises again for the next byte */
	}
	return v;
}

static void i8042_data_write(void *opaque, uint64_t off, unsigned size,
			     uint64_t v)
{
	struct i8042 *k = opaque;
	k->status &= (uint8_t)~I8042_STR_A2;
	ctl_data(k, (uint8_t)v);
}

static uint64_t i8042_cmd_read(void *opaque, uint64_t off, unsigned size)
{
	struct i8042 *k = opaque;
	return k->status | I8042_STR_INH;
}

static void i8042_cmd_write(void *opaque, uint64_t off, unsigned size,
			    uint64_t v)
{
	struct i8042 *k = opaque;
	k->status |= I8042_STR_A2;
	ctl_command(k, (uint8_t)v);
}

void i8042_init(struct i8042 *k, const struct irq_line *irq1,
		const struct irq_line *irq12, const struct irq_line *a20,
		const struct irq_line *reset)
{
	memset(k, 0, sizeof(*k));
	k->irq1 = *irq1;
	k->irq12 = *irq12;
	k->a20 = *a20;
	k->reset = *reset;
	k->ram[0] = CTR_POWER_ON;
	k->outport = OUT_POWER_ON;
	kbd_defaults(k);
	k->kbd_scanning = true;
	ps2_mouse_reset(&k->mouse);
	irq_lower(&k->irq1);
	irq_lower(&k->irq12);
	irq_lower(&k->a20);
}

const struct io_ops i8042_data_ops = {
	i8042_data_read, i8042_data_write, IO_SIZE_1, IO_SIZE_1,
};

const struct io_ops i8042_cmd_ops = {
	i8042_cmd_read, i8042_cmd_write, IO_SIZE_1, IO_SIZE_1,
};

/* ---- the kind (dev/kind.h) ---- */

#include <errno.h>

#include "dev/kind.h"

static int i8042_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			char *err, size_t n)
{
	const struct irq_line *irq1 = c->line(c, DEV_LINE_ISA0 + 1);
	const struct irq_line *irq12 = c->line(c, DEV_LINE_ISA0 + 12);
	const struct irq_line *a20 = c->line(c, DEV_LINE_A20);
	const struct irq_line *reset = c->line(c, DEV_LINE_RESET);
	int r;
	if (!irq1 || !irq12 || !a20 || !reset)
		return -ENODEV;
	i8042_init(dev, irq1, irq12, a20, reset);
	r = c->claim(c, DEV_SPACE_PIO, 0x60, 1, 0, &i8042_data_ops, dev);
	if (!r)
		r = c->claim(c, DEV_SPACE_PIO, 0x64, 1, 0, &i8042_cmd_ops, dev);
	return r;
}

static void i8042_reset(void *dev)
{
	struct i8042 *k = dev;
	struct irq_line irq1 = k->irq1, irq12 = k->irq12, a20 = k->a20, reset = k->reset;
	i8042_init(k, &irq1, &irq12, &a20, &reset);
}

DEV_KIND(i8042) = {
	.name = "i8042",
	.help = "8042 keyboard controller with a PS/2 keyboard and mouse (0x60, 0x64; IRQ 1, 12)",
	.where = DEV_IN_DM,
	.category = DEV_CAT_INPUT,
	.size = sizeof(struct i8042),
	.create = i8042_create,
	.reset = i8042_reset,
	.state = &i8042_state,
};
