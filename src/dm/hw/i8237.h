/* The PC's two cascaded Intel 8237A DMA controllers and their page
 * registers (the ISA bus's DMA), and the contract an ISA device in the
 * same device model codes against.
 *
 * Ports: the first 8237 (channels 0-3, bytes) at 0x00-0x0f, the second
 * (channels 4-7, words; channel 4 is the cascade from the first) at
 * 0xc0-0xdf with its registers on even ports (A0 not decoded, so odd
 * ports alias them), the page registers (address bits 16-23) at
 * 0x81-0x8f: 0x87/0x83/0x81/0x82 for channels 0-3, 0x8f/0x8b/0x89/0x8a
 * for 4-7, the rest scratch bytes that read back. 0x80 is the POST
 * port's: the page window goes around it.
 *
 * A device finds the controller with dev_ctx.peer(c, "i8237"), takes its
 * channel with i8237_attach() and raises DREQ while it has data to move.
 * A channel can be served (i8237_ready()) when its DREQ is up, its mask
 * bit clear, the controller enabled and, for channels 0-3, the cascade
 * channel 4 unmasked; the device then moves bytes at the channel's
 * current address, in the direction, order and mode the guest
 * programmed, until terminal count (TC). When a guest write makes a
 * requesting channel ready, the controller calls the device's service
 * callback (inside that port write). Addresses wrap inside the page's
 * 64 KiB block (128 KiB for the word channels, whose page bit 0 is not
 * used), as on the board, never carrying into the page register.
 *
 * Two ways to move data:
 *  - i8237_transfer(): the controller copies between a buffer and guest
 *    RAM (dev_ctx.dma) in the channel's mode: increment or decrement,
 *    verify (no memory cycle), auto-init reloading at TC;
 *  - i8237_segments() + i8237_advance(): the guest-physical ranges the
 *    next bytes map to, for another process to move (the block backend
 *    writing a disk read straight into guest RAM), and afterwards the
 *    registers advanced as if the controller had moved them, RAM written
 *    reported with dma_wrote(). Only for increment mode in the direction
 *    asked; otherwise the device falls back to i8237_transfer().
 * A transfer in the wrong direction for the mode (the guest programmed a
 * memory read while the device writes) moves nothing but counts, as
 * verify does: the bus would carry garbage, never a host fault. */
#ifndef V2E_DM_HW_I8237_H
#define V2E_DM_HW_I8237_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/dma.h"
#include "lib/vstate.h"

#define I8237_CHANNELS 8
#define I8237_CASCADE 4 /* channel 4: the first controller's requests */

/* Mode register (port 0x0b / 0xd6). */
#define I8237_MODE_CHAN 0x03
#define I8237_MODE_XFER 0x0c   /* transfer type: */
#define I8237_XFER_VERIFY 0x00 /*   no memory cycle */
#define I8237_XFER_WRITE 0x04  /*   device -> memory */
#define I8237_XFER_READ 0x08   /*   memory -> device */
#define I8237_MODE_AUTOINIT 0x10
#define I8237_MODE_DEC 0x20    /* addresses count down */
#define I8237_MODE_MODE 0xc0   /* demand, single, block, cascade */
#define I8237_MODE_CASCADE 0xc0

#define I8237_CMD_DISABLE 0x04 /* command register: controller disabled */

struct i8237_chan {
	uint16_t base_addr, base_count; /* as written; auto-init reloads them */
	uint16_t addr, count;           /* current: count is units left - 1 */
	uint8_t mode;                   /* bits 2-7 of the mode register */
};

struct i8237_chip {
	struct i8237_chan ch[4];
	uint8_t command;
	uint8_t status;  /* bits 0-3 TC reached (cleared by a read) */
	uint8_t mask;    /* bits 0-3 */
	uint8_t request; /* bits 0-3: software requests (request register) */
	uint8_t temp;    /* the temporary register (memory-to-memory only) */
	bool flip_flop;  /* the next address/count byte is the high one */
};

typedef void i8237_service_fn(void *opaque);

struct i8237 {
	/* ---- saved state (i8237_state) ---- */
	struct i8237_chip chip[2]; /* [0]: channels 0-3, [1]: channels 4-7 */
	uint8_t page[16];          /* 0x80-0x8f; [0] unused (the POST port) */
	uint8_t dreq;              /* bit per channel: a device requests */
	/* ---- wiring ---- */
	const struct dma_space *dma;
	struct {
		i8237_service_fn *service;
		void *opaque;
	} client[I8237_CHANNELS];
};

/* One guest-physical range of a transfer. */
struct i8237_seg {
	uint64_t addr;
	uint32_t len;
};

/* Power-on state (master clear: every channel masked). */
void i8237_init(struct i8237 *d, const struct dma_space *dma);
void i8237_reset(struct i8237 *d);

/* The windows: 16 ports at 0x00, 32 at 0xc0, 15 at 0x81. */
extern const struct io_ops i8237_lo_ops, i8237_hi_ops, i8237_page_ops;
#define I8237_LO_BASE 0x00
#define I8237_LO_LEN 16
#define I8237_HI_BASE 0xc0
#define I8237_HI_LEN 32
#define I8237_PAGE_BASE 0x81
#define I8237_PAGE_LEN 15

/* ---- for ISA devices ---- */

/* Takes channel `chan` (not 4): `service` is called when a guest write
 * makes the channel ready while the device holds DREQ. -EINVAL for the
 * cascade channel or one out of range, -EBUSY when taken. */
int i8237_attach(struct i8237 *d, unsigned chan, i8237_service_fn *service,
		 void *opaque);
/* The device's DREQ for the channel (shown in the status register's
 * request bits). Raising it never calls back: check i8237_ready(). */
void i8237_dreq(struct i8237 *d, unsigned chan, bool level);
bool i8237_ready(const struct i8237 *d, unsigned chan);
/* Bytes the channel moves before TC (1 to 64 KiB, 2 to 128 KiB). */
uint32_t i8237_residue(const struct i8237 *d, unsigned chan);

/* Moves up to len bytes between buf and guest RAM at the current address
 * (to_memory: the device writes memory), advancing the registers, and
 * stops at TC; *tc says whether it was reached. A word channel moves
 * whole words (len rounded down to even). Guest addresses that are not
 * RAM read as 0xff and drop writes. Returns the bytes moved (counted in
 * verify and wrong-direction modes too). */
size_t i8237_transfer(struct i8237 *d, unsigned chan, void *buf, size_t len,
		      bool to_memory, bool *tc);
/* Like i8237_transfer() but leaves the registers as they are: the data a
 * later i8237_advance() accounts for (a write to disk read from RAM
 * before the disk has it). */
size_t i8237_peek(struct i8237 *d, unsigned chan, void *buf, size_t len,
		  bool to_memory);
/* The guest-physical ranges of the next len bytes (at most max ranges;
 * stops at TC and at the block's wrap): how many ranges, with *covered
 * the bytes they hold. 0 when the channel cannot hand out ranges
 * (decrement, verify or the other direction). Changes nothing. */
unsigned i8237_segments(const struct i8237 *d, unsigned chan, bool to_memory,
			size_t len, struct i8237_seg *seg, unsigned max,
			size_t *covered);
/* Accounts for n bytes moved by someone else from the current address
 * on (after i8237_segments() or i8237_peek()): registers advanced, TC and
 * auto-init as a transfer would, RAM written reported (to_memory).
 * Returns whether TC was reached. */
bool i8237_advance(struct i8237 *d, unsigned chan, size_t n, bool to_memory);

extern const struct vs_desc i8237_state;

#endif
