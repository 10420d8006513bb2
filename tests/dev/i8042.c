/* i8042 keyboard controller and keyboard: the SeaBIOS and Linux init
 * sequences, A20 and reset through the output port and pulse commands,
 * the output buffer and IRQ 1/12 edges, set 2 -> set 1 translation, key
 * injection, and hostile writes. */
#include <string.h>

#include "dm/hw/i8042.h"
#include "tests/tap.h"

struct line {
	int level, rises, sets;
};

static void line_set(void *opaque, unsigned pin, bool level)
{
	struct line *l = opaque;
	if (level && !l->level)
		l->rises++;
	l->level = level;
	l->sets++;
}

static struct line irq1, irq12, a20, rst;
static struct i8042 k;

static void power_on(void)
{
	struct irq_line l1 = {line_set, &irq1, 1}, l12 = {line_set, &irq12, 12};
	struct irq_line la = {line_set, &a20, 0}, lr = {line_set, &rst, 0};
	memset(&irq1, 0, sizeof(irq1));
	memset(&irq12, 0, sizeof(irq12));
	memset(&a20, 0, sizeof(a20));
	memset(&rst, 0, sizeof(rst));
	i8042_init(&k, &l1, &l12, &la, &lr);
}

static uint8_t status(void)
{
	return (uint8_t)i8042_cmd_ops.read(&k, 0, 1);
}

static void cmd(uint8_t c)
{
	i8042_cmd_ops.write(&k, 0, 1, c);
}

static void data(uint8_t v)
{
	i8042_data_ops.write(&k, 0, 1, v);
}

/* The next byte of the output buffer, or -1 when OBF is clear (what a
 * driver's wait-for-OBF loop sees as a timeout). */
static int rd(void)
{
	if (!(status() & I8042_STR_OBF))
		return -1;
	return (int)i8042_data_ops.read(&k, 0, 1);
}

/* Reads n bytes and compares them. */
static int expect(const uint8_t *want, int n)
{
	for (int i = 0; i < n; i++) {
		int b = rd();
		if (b != want[i]) {
			tap_diag("byte %d: got %d, want %#x", i, b, want[i]);
			return 0;
		}
	}
	if (rd() != -1) {
		tap_diag("extra byte");
		return 0;
	}
	return 1;
}

#define EXPECT(...) expect((const uint8_t[]){__VA_ARGS__}, \
			   (int)sizeof((const uint8_t[]){__VA_ARGS__}))

static int ctl(uint8_t c)
{
	cmd(c);
	return rd();
}

static int ctl_ctr(void)
{
	return ctl(0x20);
}

static void write_ctr(uint8_t v)
{
	cmd(0x60);
	data(v);
}

static void key(const uint8_t *sc, size_t n)
{
	i8042_key(&k, sc, n);
}

#define KEY(...) key((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_power_on(struct tap *t)
{
	power_on();
	tap_ok(t, status() == I8042_STR_INH, "power-on status: only INH (keylock off), no SYS (%#x)",
	       status());
	tap_ok(t, ctl_ctr() == 0x41, "power-on command byte KBDINT | XLATE");
	tap_ok(t, !irq1.level && !irq12.level && !a20.level && a20.sets == 1 && rst.rises == 0,
	       "lines low after power-on, A20 lowered once, no reset");
	tap_ok(t, ctl(0xd0) == 0xc1, "output port: reset inactive, A20 off, clock/data high");
	tap_ok(t, ctl(0xc0) == 0xa0, "input port: keyboard not inhibited, no jumper");
	tap_ok(t, rd() == -1 && i8042_data_ops.read(&k, 0, 1) == 0xa0,
	       "reading 0x60 with OBF clear returns the last byte again");
}

/* SeaBIOS ps2port.c: flush, controller self-test, keyboard interface
 * test, keyboard reset and BAT, disable, set 2, command byte, enable;
 * each keyboard command framed by command-byte writes that mask the
 * interrupts and enable the interface. */
static void seabios_kbd(uint8_t b)
{
	write_ctr(0x30);  /* both interfaces off, no interrupts */
	write_ctr(0x20);  /* keyboard interface on */
	data(b);
}

static void test_seabios(struct tap *t)
{
	power_on();
	while (rd() != -1)
		;
	tap_ok(t, ctl(0xaa) == 0x55 && (status() & I8042_STR_SYS), "0xaa self-test: 0x55, SYS set");
	tap_ok(t, ctl(0xab) == 0x00, "0xab keyboard interface test: 0x00");
	seabios_kbd(0xff);
	tap_ok(t, EXPECT(0xfa, 0xaa), "keyboard 0xff reset: ACK then BAT 0xaa (XLATE off)");
	seabios_kbd(0xf5);
	tap_ok(t, EXPECT(0xfa), "0xf5 disable: ACK");
	seabios_kbd(0xf0);
	tap_ok(t, EXPECT(0xfa), "0xf0 select set: ACK");
	data(0x02);
	tap_ok(t, EXPECT(0xfa), "set 2: ACK");
	seabios_kbd(0xf4);
	tap_ok(t, EXPECT(0xfa), "0xf4 enable: ACK");
	write_ctr(0x61); /* AUXDIS | XLATE | KBDINT */
	tap_ok(t, ctl_ctr() == 0x61 && !irq1.level, "command byte 0x61 reads back");
	KEY(0x1c);
	tap_ok(t, irq1.level && (status() & I8042_STR_OBF) && !(status() & I8042_STR_AUXB),
	       "a key press raises IRQ 1 with OBF");
	tap_ok(t, rd() == 0x1e && !irq1.level, "A arrives translated (set 1 0x1e); reading lowers IRQ 1");
}

static void test_linux(struct tap *t)
{
	int c0, c1, rises;

	power_on();
	/* i8042_controller_check / selftest / init */
	while (rd() != -1)
		;
	tap_ok(t, ctl(0xaa) == 0x55, "Linux: selftest 0x55");
	c0 = ctl_ctr();
	c1 = ctl_ctr();
	tap_ok(t, c0 == c1 && c0 == 0x41, "two CTR reads agree (%#x)", c0);
	tap_ok(t, status() & I8042_STR_INH, "keylock inactive");
	write_ctr((uint8_t)((c0 | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT));
	/* i8042_check_aux: loop, disable/enable bit test */
	cmd(0xd3);
	data(0x5a);
	tap_ok(t, (status() & (I8042_STR_OBF | I8042_STR_AUXB)) == (I8042_STR_OBF | I8042_STR_AUXB) &&
	       rd() == 0x5a, "0xd3 aux loopback: 0x5a back with AUXB");
	cmd(0xa7);
	tap_ok(t, ctl_ctr() & I8042_CTR_AUXDIS, "0xa7 sets AUXDIS");
	cmd(0xa8);
	tap_ok(t, !(ctl_ctr() & I8042_CTR_AUXDIS), "0xa8 clears AUXDIS");
	tap_ok(t, ctl(0xa9) == 0x00, "0xa9 aux interface test: 0x00");
	/* AUX IRQ delivery test */
	write_ctr((uint8_t)(ctl_ctr() | I8042_CTR_AUXINT));
	cmd(0xd3);
	data(0xa5);
	tap_ok(t, irq12.level && irq12.rises == 1 && !irq1.level, "loopback with AUXINT raises IRQ 12 only");
	tap_ok(t, rd() == 0xa5 && !irq12.level, "reading it lowers IRQ 12");
	/* psmouse probes the aux port: a mouse answers */
	cmd(0xd4);
	data(0xf2);
	tap_ok(t, (status() & (I8042_STR_AUXB | I8042_STR_TIMEOUT)) == I8042_STR_AUXB &&
	       EXPECT(0xfa, 0x00), "0xd4 GETID to the mouse: ACK, ID 0, with AUXB");
	tap_ok(t, !(status() & (I8042_STR_TIMEOUT | I8042_STR_AUXB)), "AUXB goes with its byte");
	/* keyboard port open: interface and IRQ 1 on, then atkbd */
	write_ctr((uint8_t)((ctl_ctr() & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT));
	rises = irq1.rises;
	data(0xf2);
	tap_ok(t, irq1.level, "GETID: IRQ 1 raised for the ACK");
	tap_ok(t, EXPECT(0xfa, 0xab, 0x41), "GETID translated: 0xfa 0xab 0x41");
	tap_ok(t, irq1.rises - rises == 3 && !irq1.level, "one rising edge per byte (%d)",
	       irq1.rises - rises);
	data(0xf0);
	data(0x00);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0x41), "get scancode set: 2, translated to 0x41");
	data(0xf3);
	data(0x00);
	data(0xed);
	data(0x07);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0xfa, 0xfa) && k.kbd_leds == 7 && k.kbd_typematic == 0,
	       "SETREP and SETLEDS: ACK, ACK each");
	data(0xf4);
	tap_ok(t, EXPECT(0xfa), "enable: ACK");
}

static void test_a20_reset(struct tap *t)
{
	power_on();
	cmd(0xd1);
	data(0xdf);
	tap_ok(t, a20.level && rst.rises == 0, "0xd1 0xdf: A20 on, no reset");
	tap_ok(t, (ctl(0xd0) & 0x03) == 0x03, "0xd0 reads A20 and reset-inactive back");
	cmd(0xd1);
	data(0xdf);
	tap_ok(t, a20.sets == 2, "same value again: no new A20 edge");
	cmd(0xd1);
	data(0xdd);
	tap_ok(t, !a20.level && rst.rises == 0, "0xd1 0xdd: A20 off");
	cmd(0xd1);
	data(0xfe);
	tap_ok(t, rst.rises == 1 && !rst.level && a20.level, "0xd1 with bit 0 clear: one reset pulse; A20 follows bit 1");
	tap_ok(t, ctl(0xd0) & I8042_OUT_RESET, "the reset bit reads 1 after the pulse");
	cmd(0xfe);
	tap_ok(t, rst.rises == 2 && !rst.level, "0xfe pulses reset");
	cmd(0xf0);
	tap_ok(t, rst.rises == 3, "0xf0 pulses bit 0 too");
	cmd(0xff);
	cmd(0xfd);
	cmd(0xf1);
	tap_ok(t, rst.rises == 3 && rd() == -1, "0xff, 0xfd, 0xf1 leave bit 0 alone, answer nothing");
	cmd(0xd1);
	cmd(0x20);
	tap_ok(t, rst.rises == 3 && rd() == 0x41, "a command in place of 0xd1's data abandons it");
	data(0xf2);
	tap_ok(t, rst.rises == 3 && EXPECT(0xfa, 0xab, 0x41), "the next data byte goes to the keyboard");
}

static void test_obf_irq(struct tap *t)
{
	power_on();
	KEY(0x1c);
	KEY(0xf0, 0x1c);
	tap_ok(t, irq1.level && irq1.rises == 1, "IRQ 1 high while OBF");
	tap_ok(t, rd() == 0x1e && irq1.level && irq1.rises == 2,
	       "reading lowers it, the next byte raises it again (an edge)");
	tap_ok(t, rd() == 0x9e && !irq1.level, "break code 0xf0 0x1c -> 0x9e, then IRQ 1 low");
	write_ctr(0x40);
	KEY(0x1c);
	tap_ok(t, !irq1.level && (status() & I8042_STR_OBF), "KBDINT clear: OBF without IRQ 1");
	write_ctr(0x41);
	tap_ok(t, irq1.level, "setting KBDINT with OBF raises IRQ 1");
	rd();
	cmd(0xad);
	KEY(0x1c);
	tap_ok(t, !(status() & I8042_STR_OBF) && !irq1.level && (ctl_ctr() & I8042_CTR_KBDDIS),
	       "0xad: keys wait in the keyboard");
	cmd(0xae);
	tap_ok(t, irq1.level && rd() == 0x1e, "0xae: the waiting key arrives");
	cmd(0xad);
	data(0xee);
	tap_ok(t, rd() == 0xee && !(ctl_ctr() & I8042_CTR_KBDDIS),
	       "sending to the keyboard enables its interface; 0xee echo");
	cmd(0x20);
	tap_ok(t, (status() & I8042_STR_A2) != 0, "A2 set after a write to 0x64");
	rd();
	data(0xee);
	tap_ok(t, !(status() & I8042_STR_A2), "A2 clear after a write to 0x60");
	rd();
	/* controller replies go ahead of waiting keyboard bytes */
	KEY(0xe0, 0x75);
	cmd(0x20);
	tap_ok(t, EXPECT(0xe0, 0x41, 0x48), "a controller reply waits behind the byte in the buffer, ahead of the rest");
}

static void test_translation(struct tap *t)
{
	power_on();
	KEY(0xe0, 0x75);
	KEY(0xe0, 0xf0, 0x75);
	tap_ok(t, EXPECT(0xe0, 0x48, 0xe0, 0xc8), "Up: e0 75 / e0 f0 75 -> e0 48 / e0 c8");
	KEY(0x83);
	KEY(0xf0, 0x83);
	tap_ok(t, EXPECT(0x41, 0xc1), "F7 (set 2 0x83) -> 0x41 / 0xc1");
	KEY(0x76);
	KEY(0x5a);
	KEY(0x29);
	tap_ok(t, EXPECT(0x01, 0x1c, 0x39), "Esc, Enter, Space -> 01 1c 39");
	KEY(0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77);
	tap_ok(t, EXPECT(0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5), "Pause: e1 1d 45 e1 9d c5");
	write_ctr(0x01);
	KEY(0xf0, 0x1c);
	tap_ok(t, EXPECT(0xf0, 0x1c), "XLATE clear: set 2 bytes pass unchanged");
	data(0xf2);
	tap_ok(t, EXPECT(0xfa, 0xab, 0x83), "GETID untranslated: 0xfa 0xab 0x83");
	data(0xf0);
	data(0x01);
	data(0xf0);
	data(0x00);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0xfa, 0xfa, 0x01), "keyboard in set 1: reads back 1");
	KEY(0x1c);
	KEY(0xf0, 0x1c);
	KEY(0xe0, 0xf0, 0x75);
	tap_ok(t, EXPECT(0x1e, 0x9e, 0xe0, 0xc8), "keyboard in set 1 sends set 1 codes itself");
	data(0xf0);
	data(0x03);
	tap_ok(t, EXPECT(0xfa, 0xfe) && k.kbd_set == 1, "set 3 refused with 0xfe");
	data(0xff);
	tap_ok(t, EXPECT(0xfa, 0xaa) && k.kbd_set == 2, "reset returns to set 2");
}

static void test_keyboard(struct tap *t)
{
	power_on();
	write_ctr(0x01); /* untranslated, to see raw replies */
	data(0xee);
	tap_ok(t, EXPECT(0xee), "echo");
	data(0x01);
	tap_ok(t, EXPECT(0xfe), "unknown command: 0xfe");
	data(0xef);
	data(0xf1);
	tap_ok(t, EXPECT(0xfe, 0xfe), "0xef, 0xf1 unassigned: 0xfe");
	data(0xf2);
	rd();
	rd();
	rd();
	data(0xfe);
	tap_ok(t, EXPECT(0x83), "0xfe resend: the last byte again");
	data(0xf3);
	data(0x80);
	tap_ok(t, EXPECT(0xfa, 0xfe) && k.kbd_typematic == 0x2b, "typematic with bit 7 set: 0xfe");
	data(0xed);
	data(0xf2);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0xab, 0x83) && k.kbd_cmd == 0,
	       "a command in place of the LED byte runs as a command");
	data(0xed);
	data(0x78);
	tap_ok(t, EXPECT(0xfa, 0xfa) && k.kbd_leds == 0x00, "LED byte: bits 0-2 only");
	data(0xf5);
	tap_ok(t, EXPECT(0xfa), "0xf5: ACK");
	KEY(0x1c);
	tap_ok(t, rd() == -1, "keys dropped while the keyboard is disabled");
	data(0xf4);
	KEY(0x1c);
	tap_ok(t, EXPECT(0xfa, 0x1c), "0xf4 enables scanning again");
	data(0xfb);
	data(0x1c);
	data(0x1b);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0xfa) && k.kbd_cmd == 0xfb, "set 3 key lists: ACK each key code");
	data(0xf4);
	tap_ok(t, EXPECT(0xfa) && k.kbd_cmd == 0, "until a command");
	KEY(0x1c);
	data(0xf4);
	tap_ok(t, EXPECT(0x1c, 0xfa), "0xf4 clears the keyboard's buffer, not the controller's");
	data(0xf7);
	tap_ok(t, EXPECT(0xfa), "set 3 all-keys command: ACK");
}

static void test_injection(struct tap *t)
{
	int n = 0, b, last = -1;

	power_on();
	cmd(0xad); /* hold everything in the keyboard */
	for (int i = 0; i < 40; i++)
		KEY(0x1c);
	tap_ok(t, k.kq_len == I8042_QUEUE, "keyboard buffer fills to %d", I8042_QUEUE);
	cmd(0xae);
	while ((b = rd()) != -1) {
		n++;
		if (b != 0x1e)
			last = b;
	}
	tap_ok(t, n == I8042_QUEUE && last == 0xff, "15 keys then one overrun code (translated 0xff) (%d, %#x)",
	       n, last);
	uint8_t big[64];
	memset(big, 0x1c, sizeof(big));
	key(big, sizeof(big));
	tap_ok(t, rd() == 0xff && rd() == -1, "a sequence longer than the buffer: an overrun code only");
	key(big, 0);
	key(NULL, 0);
	tap_ok(t, rd() == -1, "empty key events do nothing");
}

static void test_ram_and_queue(struct tap *t)
{
	power_on();
	cmd(0x7f);
	data(0x5a);
	tap_ok(t, ctl(0x3f) == 0x5a && ctl_ctr() == 0x41, "RAM byte 31 written and read; command byte unchanged");
	tap_ok(t, ctl(0xa4) == 0xf1, "0xa4: no password installed");
	cmd(0xa5);
	data(0x12);
	data(0x34);
	data(0x00);
	data(0xee);
	tap_ok(t, EXPECT(0xee), "0xa5 drops the password up to its 0, then data goes to the keyboard");
	for (int i = 0; i < 100; i++)
		cmd(0x20);
	tap_ok(t, k.cq_len <= I8042_QUEUE, "unread replies stay bounded");
	int n = 0;
	while (rd() != -1)
		n++;
	tap_ok(t, n == I8042_QUEUE + 1, "buffer plus queue of replies (%d)", n);
	write_ctr(0x45);
	tap_ok(t, status() & I8042_STR_SYS, "SYS follows the command byte");
	write_ctr(0x41);
	tap_ok(t, !(status() & I8042_STR_SYS), "and clears with it");
}

static void test_hostile(struct tap *t)
{
	uint32_t x = 12345;
	int ok = 1;

	power_on();
	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		uint8_t v = (uint8_t)(x >> 16);
		switch ((x >> 8) & 7) {
		case 0: case 1:
			i8042_cmd_ops.write(&k, (x >> 4) & 3, 1, v);
			break;
		case 2: case 3:
			i8042_data_ops.write(&k, (x >> 4) & 3, 1, (uint64_t)v << 8 | v);
			break;
		case 4:
			i8042_data_ops.read(&k, 0, 1);
			break;
		case 5:
			i8042_cmd_ops.read(&k, 0, 1);
			break;
		case 6: {
			uint8_t sc[20];
			for (unsigned j = 0; j < sizeof(sc); j++)
				sc[j] = (uint8_t)(x >> j);
			key(sc, (x >> 3) % sizeof(sc));
			break;
		}
		default:
			if (v == 0x42)
				power_on();
			break;
		}
		if (k.kq_len > I8042_QUEUE || k.cq_len > I8042_QUEUE ||
		    (k.status & I8042_STR_IBF) || k.irq1_level != irq1.level ||
		    k.irq12_level != irq12.level || rst.level || (irq1.level && irq12.level))
			ok = 0;
	}
	tap_ok(t, ok, "200000 random accesses: queues bounded, lines consistent, reset only pulsed");
	power_on();
	tap_ok(t, ctl(0xaa) == 0x55 && ctl_ctr() == 0x41, "after power-on again the controller works");
}

/* To the mouse through 0xd4. */
static void aux(uint8_t v)
{
	cmd(0xd4);
	data(v);
}

static void test_mouse(struct tap *t)
{
	power_on();
	write_ctr(I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_XLATE);
	aux(0xff);
	tap_ok(t, (status() & I8042_STR_AUXB) && EXPECT(0xfa, 0xaa, 0x00),
	       "mouse reset: ACK, self-test passed, ID 0");
	aux(0xe9);
	tap_ok(t, EXPECT(0xfa, 0x00, 0x02, 100), "status: stream, off, 1:1; resolution 2; 100/s");
	i8042_mouse(&k, 5, 5, 0, 0);
	tap_ok(t, rd() == -1, "no packets before reporting is on");
	/* psmouse's IntelliMouse probe */
	aux(0xf3); aux(200); aux(0xf3); aux(100); aux(0xf3); aux(80);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa), "sample rates 200, 100, 80 acknowledged");
	aux(0xf2);
	tap_ok(t, EXPECT(0xfa, 0x03), "then the device ID is 3: the wheel is on");
	aux(0xe8); aux(3); aux(0xe6);
	tap_ok(t, EXPECT(0xfa, 0xfa, 0xfa), "resolution 3, scaling 1:1");
	aux(0xf4);
	tap_ok(t, rd() == 0xfa, "enable reporting: ACK");
	/* the motion held while reporting was off went with the enable */
	tap_ok(t, EXPECT(0x08 | 0x20, 5, (uint8_t)-5, 0), "the held motion comes as one packet (down is Y negative)");
	irq12.rises = 0;
	i8042_mouse(&k, -3, 10, 2, PS2M_LEFT | PS2M_MIDDLE);
	tap_ok(t, irq12.level, "a packet raises IRQ 12");
	tap_ok(t, EXPECT(0x08 | 0x01 | 0x04 | 0x10 | 0x20, (uint8_t)-3, (uint8_t)-10, 2),
	       "buttons, X left, Y down (negative), wheel 2 in the fourth byte");
	tap_ok(t, irq12.rises == 4, "one IRQ 12 edge per byte (%d)", irq12.rises);
	i8042_mouse(&k, 600, 0, 0, 0);
	tap_ok(t, EXPECT(0x08, 255, 0, 0, 0x08, 255, 0, 0, 0x08, 90, 0, 0),
	       "a long move comes in packets of at most 255, nothing lost");
	/* keyboard bytes and mouse bytes in one stream, each with its flag */
	i8042_key(&k, (const uint8_t[]){0x1c}, 1);
	i8042_mouse(&k, 1, 0, 0, 0);
	tap_ok(t, !(status() & I8042_STR_AUXB) && rd() == 0x1e && (status() & I8042_STR_AUXB) &&
	       EXPECT(0x08, 1, 0, 0), "a key before a packet: AUXB only on the mouse's bytes");
	/* the aux interface disabled holds the mouse's bytes back */
	cmd(0xa7);
	i8042_mouse(&k, 2, 0, 0, 0);
	tap_ok(t, rd() == -1, "AUXDIS holds packets back");
	cmd(0xa8);
	tap_ok(t, EXPECT(0x08, 2, 0, 0), "and enabling the interface lets them through");
	/* remote mode: packets only for Read Data */
	aux(0xf0);
	tap_ok(t, rd() == 0xfa, "remote mode: ACK");
	i8042_mouse(&k, 7, 0, 0, 0);
	tap_ok(t, rd() == -1, "remote mode sends nothing by itself");
	aux(0xeb);
	tap_ok(t, EXPECT(0xfa, 0x08, 7, 0, 0), "Read Data: ACK and the packet");
	aux(0xea);
	tap_ok(t, rd() == 0xfa, "back to stream mode");
	/* wrap mode echoes */
	aux(0xee); aux(0x12); aux(0xe9); aux(0xec);
	tap_ok(t, EXPECT(0xfa, 0x12, 0xe9, 0xfa), "wrap mode echoes until Reset Wrap Mode");
	/* bad parameters and unknown commands */
	aux(0xf3); aux(33);
	tap_ok(t, EXPECT(0xfa, 0xfe), "a sample rate of 33: Resend");
	aux(0xe8); aux(9);
	tap_ok(t, EXPECT(0xfa, 0xfe), "a resolution of 9: Resend");
	aux(0x55);
	tap_ok(t, EXPECT(0xfe), "an unknown command: Resend");
	/* a guest that never reads: the queue is bounded, motion sums */
	for (int i = 0; i < 1000; i++)
		i8042_mouse(&k, 1000000, -1000000, 100, 7);
	{
		/* What did not fit streams out as the guest reads: the
		 * saturated sum, 2^20 in packets of 255, then nothing. */
		unsigned queued = k.mouse.q_len, n = 0;
		while (rd() != -1 && n < 100000)
			n++;
		/* (the first byte already sits in the controller's buffer;
		 * four packets went before the sum saturated) */
		tap_ok(t, queued > 0 && queued < PS2M_QUEUE && n % 4 == 0 &&
			       n / 4 == ((1u << 20) + 254) / 255 + 4,
		       "a flood is bounded (%u bytes queued, %u read in all)", queued, n);
	}
	/* reset drops the wheel */
	aux(0xff);
	tap_ok(t, EXPECT(0xfa, 0xaa, 0x00), "reset again");
	aux(0xf2);
	tap_ok(t, EXPECT(0xfa, 0x00), "the ID is 0 again after reset");
}

int main(void)
{
	struct tap t = {0};
	test_power_on(&t);
	test_seabios(&t);
	test_linux(&t);
	test_a20_reset(&t);
	test_obf_irq(&t);
	test_translation(&t);
	test_keyboard(&t);
	test_injection(&t);
	test_ram_and_queue(&t);
	test_hostile(&t);
	test_mouse(&t);
	return tap_done(&t);
}
