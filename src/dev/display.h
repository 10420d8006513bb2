/* The display's contract: what the VGA device (in a device model), the
 * vmm and the display process (`v2e-display`, the display-only device
 * model that serves VNC) share. Three things cross between them:
 *
 *  - VRAM: a memfd of `vram_size` bytes the vmm creates. The VGA device
 *    maps it read-write and works in it; the vmm maps it into the guest
 *    as BAR0 (guest RAM, logged for dirty pages); the display maps it
 *    read-only through a read-only descriptor and reads pictures in place.
 *  - The shared page (struct display_shm, on its own memfd): the VGA
 *    registers the device publishes under a sequence lock, and the dirty
 *    bitmap of VRAM that the device (its own writes) and the vmm (the
 *    guest's writes through BAR0) set and the display takes.
 *  - Input (struct display_input, datagrams on a SOCK_SEQPACKET pair)
 *    from the display to the device model that has the keyboard and the
 *    pointers; and a kick (an eventfd, vmm to display) saying that bits
 *    or registers changed while a client watches.
 *
 * Every peer is untrusted by the others: a display may scribble on the
 * shared page (it is the page's only reader, so it only harms its own
 * pictures), the registers it reads are the guest's choice (the renderer
 * clamps them), and input events are guest input (any value is one a
 * user could type). The fields are fixed-width, with no pointers; shared
 * words are accessed with the __atomic builtins. */
#ifndef V2E_DEV_DISPLAY_H
#define V2E_DEV_DISPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "dev/vga_regs.h"

#define DISPLAY_SHM_MAGIC 0x44453256u   /* "V2ED" */
#define DISPLAY_SHM_VERSION 1u
#define DISPLAY_PAGE 4096u              /* one dirty bit's worth of VRAM */
#define DISPLAY_VRAM_MAX (256u << 20)
#define DISPLAY_DIRTY_WORDS (DISPLAY_VRAM_MAX / DISPLAY_PAGE / 64)

struct display_shm {
	uint32_t magic;          /* DISPLAY_SHM_MAGIC, written by the vmm */
	uint32_t version;        /* DISPLAY_SHM_VERSION */
	uint64_t vram_size;      /* bytes of VRAM (a power of two, 1-256 MiB) */
	/* Sequence lock over `state`: the device makes it odd, copies the
	 * registers in, makes it even again (release order); a reader
	 * copies `state` out and retries while seq was odd or changed. */
	uint32_t state_seq;
	/* Set by the display while a client wants pictures; the vmm looks
	 * at it before logging and kicking (nobody watching costs nothing). */
	uint32_t watching;
	struct vga_state state;
	uint8_t pad[8];
	/* Bit n: VRAM page n was written since the display last took the
	 * word (atomic OR to set, atomic exchange with 0 to take). */
	uint64_t dirty[DISPLAY_DIRTY_WORDS];
};

_Static_assert(offsetof(struct display_shm, state) == 24, "display_shm: state");
_Static_assert(offsetof(struct display_shm, dirty) % 8 == 0, "display_shm: dirty");

/* Input, one event per datagram. Keys are numbered as PC XT scancode
 * set 1 make codes (QEMU's keymap numbers): 0x01-0x7f the plain keys,
 * 0x80 | code the E0-prefixed ones (Right Ctrl 0x9d, Up 0xc8), 0xc6
 * Pause. Pointer buttons are DISPLAY_BTN_*. */
enum display_input_type {
	DISPLAY_INPUT_KEY = 1,   /* key, down */
	DISPLAY_INPUT_ABS = 2,   /* x, y on a width x height screen, buttons, dz */
	DISPLAY_INPUT_REL = 3,   /* x, y motion, buttons, dz */
};
#define DISPLAY_BTN_LEFT 0x1
#define DISPLAY_BTN_RIGHT 0x2
#define DISPLAY_BTN_MIDDLE 0x4

struct display_input {
	uint8_t type;            /* enum display_input_type */
	uint8_t down;            /* KEY: 1 pressed (again: repeat), 0 released */
	uint16_t key;            /* KEY: the scancode number above */
	uint8_t buttons;         /* ABS, REL: DISPLAY_BTN_* held */
	int8_t dz;               /* ABS, REL: wheel steps, positive towards the user */
	uint16_t pad;
	int32_t x, y;            /* ABS: the pixel; REL: the motion (right, down) */
	uint32_t width, height;  /* ABS: the screen the pixel is on */
};

_Static_assert(sizeof(struct display_input) == 24, "display_input: size");

#endif
