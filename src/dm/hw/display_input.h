/* display-input: the device model's end of the display's input socket
 * (dev/display.h). It reads the keyboard and pointer events a display
 * process takes from its VNC clients, one struct display_input per
 * datagram, and hands each to the device that is the guest's keyboard or
 * pointer, as QEMU's input layer routes to its default handlers:
 *
 *  - keys to the USB keyboard (usb-kbd, HID usages) when the board has
 *    one, else to the PS/2 keyboard on the i8042 (set 2 sequences);
 *  - absolute pointer events to the USB tablet (usb-tablet) when there
 *    is one, else to the PS/2 mouse as motion from the previous absolute
 *    position;
 *  - relative pointer events to the PS/2 mouse.
 *
 * See display_input.c for the tables and the limits. */
#ifndef V2E_DM_HW_DISPLAY_INPUT_H
#define V2E_DM_HW_DISPLAY_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/display.h"
#include "dev/kind.h"
#include "dm/hw/i8042.h"
#include "dm/hw/usb_hid.h"

/* Datagrams taken per input() call: a display that floods cannot hold
 * the device model away from the guest's requests for long. */
#define DISPLAY_INPUT_BATCH 64
/* The longest set 2 sequence of one key event (Pause's make). */
#define DISPLAY_KEY_SEQ_MAX 8
/* Absolute positions are kept on a screen of at most this many pixels a
 * side (more than any VGA mode), so relative motion fits an int. */
#define DISPLAY_INPUT_POS_MAX 0xffffu

struct display_input_dev {
	/* Saved state: the last absolute position given to the PS/2
	 * mouse (valid: one was), from which the next one's motion is. */
	uint32_t abs_x, abs_y;
	bool abs_valid;

	/* Wiring, not state */
	const struct dev_ctx *ctx;
	int fd;                  /* the socket; -1 once the display hung up */
	bool wired;              /* peers looked up since create */
	struct i8042 *ps2;
	struct usb_hid *kbd, *tablet;
	/* Counters, for tests and diagnostics */
	uint64_t events;         /* datagrams taken and handled */
	uint64_t dropped;        /* wrong size, unknown type, key or value */
	uint64_t unrouted;       /* well-formed, but no device takes it */
	bool hung_up;
};

/* The set 2 sequence of key `key` (display.h's numbering) pressed
 * (`down`, again for a repeat) or released, into out; its length, 0 when
 * the key has no code or sends nothing (Pause's release). */
size_t display_key_set2(unsigned key, bool down, uint8_t out[DISPLAY_KEY_SEQ_MAX]);
/* The key's HID usage (keyboard page 07h), 0 when it has none. */
uint8_t display_key_usage(unsigned key);

/* Handles one event as if it had arrived on the socket (the peers are
 * looked up at the first one). */
void display_input_event(struct display_input_dev *d, const struct display_input *ev);

extern const struct vs_desc display_input_state;

#endif
