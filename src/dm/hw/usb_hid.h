/* USB HID devices on the UHCI's root ports (HID 1.11; kinds `usb-tablet`
 * and `usb-kbd`, as QEMU's -device usb-tablet and usb-kbd): full-speed
 * functions 0627:0001 with one configuration, one HID interface and an
 * interrupt IN endpoint 1 (8 bytes, polled every 10 ms).
 *
 *  - usb-tablet: absolute pointer. Its 6-byte report: buttons (bit 0
 *    left, 1 right, 2 middle), X and Y (0..7FFFh, little-endian), wheel
 *    (-127..127, positive away from the user). No boot protocol.
 *  - usb-kbd: the boot keyboard (subclass 1, protocol 1), whose report
 *    descriptor is the boot format: modifiers, a reserved byte, six key
 *    usages (all ErrorRollOver when more are down), and the LED output
 *    report (Num, Caps, Scroll, Compose, Kana).
 *
 * Class requests: GET_REPORT (input; the keyboard's LEDs as output),
 * SET_REPORT (the keyboard's LEDs), GET_IDLE/SET_IDLE (a report repeats
 * after the idle duration without change; 0: only on change; the
 * keyboard starts at 500 ms as HID 1.11 recommends, the tablet at 0),
 * GET_PROTOCOL/SET_PROTOCOL (the keyboard; the report is the same in
 * both protocols). Reports wait in a queue of USB_HID_QUEUE: the tablet
 * folds a move into the newest queued report when the buttons did not
 * change (the latest position wins), the keyboard queues each change of
 * its report; a full queue keeps its newest entry up to date. Nothing is
 * queued while the device is not configured.
 *
 * Attachment: a HID device's create finds the board's controller with
 * dev_ctx.peer(c, "piix3-usb-uhci") (the board lists it first) and takes
 * root port `port` (1 or 2; 0, the default: the first free); destroy
 * gives the port back. */
#ifndef V2E_DM_HW_USB_HID_H
#define V2E_DM_HW_USB_HID_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/vclock.h"
#include "dm/hw/usb.h"

#define USB_HID_QUEUE 16
#define USB_HID_REPORT_MAX 8
#define USB_TABLET_REPORT 6
#define USB_KBD_REPORT 8
#define USB_TABLET_MAX 0x7fff

/* Tablet buttons, as the board's input gives them (PS2M_* alike). */
#define USB_TABLET_LEFT 0x01
#define USB_TABLET_RIGHT 0x02
#define USB_TABLET_MIDDLE 0x04

/* Keyboard LEDs (the output report). */
#define USB_KBD_LED_NUM 0x01
#define USB_KBD_LED_CAPS 0x02
#define USB_KBD_LED_SCROLL 0x04

enum usb_hid_kind { USB_HID_TABLET = 1, USB_HID_KBD };

struct usb_hid {
	struct usb_dev usb;          /* first */
	/* HID class state */
	uint8_t protocol;            /* 0 boot, 1 report */
	uint8_t idle;                /* SET_IDLE duration in 4 ms units; 0: none */
	uint8_t leds;                /* the keyboard's output report */
	/* what the user holds now */
	uint16_t x, y;               /* tablet, 0..USB_TABLET_MAX */
	uint8_t buttons;             /* tablet, USB_TABLET_* */
	uint8_t keys[32];            /* keyboard: bit per usage held */
	/* reports waiting for endpoint 1 */
	uint8_t q[USB_HID_QUEUE][USB_HID_REPORT_MAX];
	uint8_t q_head, q_len;
	uint8_t cur[USB_HID_REPORT_MAX]; /* the keyboard's newest report, queued or sent */
	uint64_t last_report;        /* virtual ns a report last went out */

	/* wiring, not state */
	uint8_t kind;                /* enum usb_hid_kind */
	struct vclock *clock;
	/* counters for tests */
	unsigned dropped;            /* reports overwritten in a full queue */
};

/* The tablet's pointer at (x, y) on a screen of width x height pixels
 * (scaled to 0..7FFFh, the last pixel to 7FFFh; outside the screen
 * clamped to its edge), buttons USB_TABLET_*, dz wheel steps towards the
 * user (as ps2_mouse_event()). */
void usb_tablet_event(struct usb_hid *t, int x, int y, unsigned width, unsigned height,
		      unsigned buttons, int dz);
/* Key `usage` (HID usage page 7: 04h 'a' .. E0h-E7h the modifiers)
 * pressed or released. */
void usb_kbd_key(struct usb_hid *k, uint8_t usage, bool pressed);

/* The scaling usb_tablet_event() applies to one axis. */
uint16_t usb_tablet_scale(int pos, unsigned size);

/* A device made without a board (tests): the kind's state at reset, on
 * `clock`. */
void usb_hid_init(struct usb_hid *h, enum usb_hid_kind kind, struct vclock *clock);

extern const struct vs_desc usb_tablet_state, usb_kbd_state;

#endif
