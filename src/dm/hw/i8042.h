/* Intel 8042 keyboard controller (the PC/AT and PS/2 "KBC", as chipsets
 * still emulate it) with an MF2 PS/2 keyboard behind it and an empty
 * auxiliary (mouse) port holding a PS/2 IntelliMouse (ps2mouse.h): the
 * controller as SeaBIOS and Linux's i8042, atkbd and psmouse drivers
 * drive it. See i8042.c for the model and its limits.
 *
 * Two windows of one port each: data at 0x60 (i8042_data_ops) and
 * status/command at 0x64 (i8042_cmd_ops); byte accesses only. Outputs are
 * lines: IRQ 1 and IRQ 12 (high while the output buffer holds a byte from
 * that port and the command byte enables its interrupt; every new byte is
 * a fresh rising edge), the A20 gate (level, output port bit 1) and the
 * CPU reset (pulsed by output port bit 0 going low or a pulse command). */
#ifndef V2E_DM_HW_I8042_H
#define V2E_DM_HW_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "dm/hw/ps2mouse.h"
#include "lib/vstate.h"

/* Status register (read at 0x64) */
#define I8042_STR_OBF 0x01     /* output buffer full */
#define I8042_STR_IBF 0x02     /* input buffer full (never: writes are taken at once) */
#define I8042_STR_SYS 0x04     /* system flag */
#define I8042_STR_A2 0x08      /* last write was to 0x64 (command), else 0x60 (data) */
#define I8042_STR_INH 0x10     /* 1 = keyboard not inhibited (keylock off) */
#define I8042_STR_AUXB 0x20    /* the output buffer byte came from the aux port */
#define I8042_STR_TIMEOUT 0x40 /* the byte reports a transmit/receive timeout */
#define I8042_STR_PARITY 0x80  /* the byte arrived with a parity error */

/* Command byte (controller RAM byte 0) */
#define I8042_CTR_KBDINT 0x01     /* IRQ 1 on keyboard data */
#define I8042_CTR_AUXINT 0x02     /* IRQ 12 on aux data */
#define I8042_CTR_SYS 0x04        /* copied to the status register's SYS */
#define I8042_CTR_IGNKEYLOCK 0x08 /* no effect: the keylock is never on */
#define I8042_CTR_KBDDIS 0x10     /* keyboard interface disabled (clock held low) */
#define I8042_CTR_AUXDIS 0x20     /* aux interface disabled */
#define I8042_CTR_XLATE 0x40      /* translate keyboard bytes from set 2 to set 1 */

/* Output port (0xd0 reads it, 0xd1 writes it) */
#define I8042_OUT_RESET 0x01 /* 0 = CPU reset asserted */
#define I8042_OUT_A20 0x02   /* A20 gate */
#define I8042_OUT_KBD_OBF 0x10 /* read only: output buffer full from the keyboard */
#define I8042_OUT_AUX_OBF 0x20 /* read only: output buffer full from the aux port */

/* Bytes the keyboard queues ahead of the controller: more than the
 * longest scancode sequence (Pause, 8 bytes) plus a command's reply. */
#define I8042_QUEUE 16

struct i8042 {
	/* The controller */
	uint8_t ram[32];      /* internal RAM; ram[0] is the command byte */
	uint8_t status;       /* OBF, SYS, A2, AUXB, TIMEOUT, PARITY */
	uint8_t obuf;         /* output buffer; keeps its byte after a read */
	uint8_t outport;      /* output port bits 0-3 and 6-7 as last written */
	uint8_t cmd;          /* command waiting for its data byte at 0x60, or 0 */
	/* Bytes the controller itself puts out (command replies, the 0xd2/
	 * 0xd3 loopbacks, the aux port's timeouts), ahead of the keyboard's,
	 * each with the status bits it comes with (AUXB, TIMEOUT). */
	uint8_t cq[I8042_QUEUE], cq_str[I8042_QUEUE];
	uint8_t cq_head, cq_len;
	bool xlate_f0;        /* translation saw a 0xf0 break prefix */
	/* The keyboard */
	uint8_t kq[I8042_QUEUE]; /* bytes waiting to cross to the controller */
	uint8_t kq_head, kq_len;
	uint8_t kbd_cmd;      /* command waiting for its parameter byte, or 0 */
	uint8_t kbd_set;      /* scancode set: 1 or 2 */
	uint8_t kbd_leds;     /* bit 0 Scroll, 1 Num, 2 Caps Lock */
	uint8_t kbd_typematic;
	uint8_t kbd_last;     /* last byte sent, for 0xfe Resend */
	bool kbd_scanning;    /* 0xf4 enable / 0xf5 disable */
	/* The mouse on the aux port; its bytes follow the keyboard's */
	struct ps2_mouse mouse;
	/* Output line levels as last driven */
	bool irq1_level, irq12_level, a20_level;
	struct irq_line irq1, irq12, a20, reset;
};

/* Power-on state: command byte KBDINT | XLATE (0x41: IRQ 1 and set 1
 * codes, what software expects from a controller it has not programmed),
 * SYS clear, A20 off (lowered), reset inactive, keyboard scanning in set 2.
 * Also the state after a system reset. */
void i8042_init(struct i8042 *k, const struct irq_line *irq1,
		const struct irq_line *irq12, const struct irq_line *a20,
		const struct irq_line *reset);

/* A key event from the board's input (VNC, a terminal): one whole set 2
 * sequence such as {0x1c} (A pressed), {0xf0, 0x1c} (released) or {0xe0,
 * 0x75} (Up). The keyboard sends it in its current set (the controller
 * translates it when XLATE is set); dropped while the keyboard is
 * disabled (0xf5); an overrun code when its buffer cannot take it. */
void i8042_key(struct i8042 *k, const uint8_t *set2_scancode, size_t n);

/* Mouse motion from the board's input (ps2_mouse_event()'s units). */
void i8042_mouse(struct i8042 *k, int dx, int dy, int dz, uint8_t buttons);

extern const struct io_ops i8042_data_ops; /* 1 port (0x60), opaque = struct i8042 */
extern const struct io_ops i8042_cmd_ops;  /* 1 port (0x64), opaque = struct i8042 */

/* Saved state (lib/vstate.h); a load drives IRQ 1, IRQ 12 and A20 to the
 * loaded levels. */
extern const struct vs_desc i8042_state;

#endif
