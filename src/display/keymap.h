/* RFB key events to PC keys: an X keysym (what a VNC client sends) to the
 * key's number in dev/display.h (XT scan code set 1, 0x80 | code for the
 * E0-prefixed keys), for a US keyboard as QEMU's en-us keymap has it. A
 * key is a place on the keyboard, not a character: 'a' and 'A' are one
 * key, '!' is the 1 key (the client sends Shift itself). */
#ifndef V2E_DISPLAY_KEYMAP_H
#define V2E_DISPLAY_KEYMAP_H

#include <stdint.h>

/* The key for keysym, or -1 when a US keyboard has none. */
int keymap_key(uint32_t keysym);

#endif
