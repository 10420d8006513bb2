/* The PIIX3's USB host controller, PCI function 00:01.2 as QEMU's pc
 * machine has it with -usb (kind `piix3-usb-uhci`): Intel's Universal
 * Host Controller Interface, Design Guide revision 1.1, with the PIIX3's
 * PCI registers (82371SB datasheet: SBRN at 60h, USBLEGSUP at C0h).
 * 8086:7020, class 0C0300h (USB, UHCI), interrupt pin INTD# (QEMU's
 * value), which slot 1 of QEMU's pc wiring takes to PIRQD#; the I/O
 * registers behind BAR4 (32 bytes); two root ports.
 *
 * Registers (offsets in the BAR): USBCMD 00h, USBSTS 02h, USBINTR 04h,
 * FRNUM 06h, FRBASEADD 08h (dword), SOFMOD 0Ch (byte), PORTSC1 10h,
 * PORTSC2 12h; every other offset reads 0 (so that a driver counting
 * ports by PORTSC's always-one bit 7 finds two). Any size from a byte
 * to a dword is taken at any offset: a write touches only the bytes it
 * covers, and write-one-to-clear bits only where it writes ones.
 *
 * The schedule: while USBCMD.RS is set and the controller is not halted,
 * a frame lasts 1 ms of virtual time; at the end of each frame the
 * controller walks the frame list entry FRNUM selects (FRBASEADD + 4 *
 * (FRNUM & 3FFh)): transfer descriptors and queue heads, depth first
 * where a TD's Vf bit says so, executing each active TD against the
 * device whose address it names on an enabled port, writing back its
 * status and actual length, then FRNUM counts on. IOC and short packets
 * (with SPD) set USBINT, failures (stall, babble, the error counter
 * running out on timeouts) USBERRINT, a guest-physical address outside
 * RAM (or bus mastering off) Host System Error and a malformed TD (an
 * unknown PID, a length above 1280) Host Controller Process Error, both
 * halting the controller. Isochronous TDs are retired untouched (no
 * isochronous device exists here).
 *
 * Every guest value is bounded: a frame looks at most UHCI_FRAME_ELEMENTS
 * TDs and QHs and moves at most UHCI_FRAME_BYTES, and stops at a queue
 * head it has already visited in the frame when no TD completed since
 * (Linux's bandwidth-reclamation loop, or a hostile cycle). A queue head
 * in a queue's element link is not followed (no driver nests them).
 *
 * Cost: a stopped controller (RS clear: firmware done, a guest without a
 * USB driver, a suspended bus) has no timer at all. A running one walks
 * every frame, but does not wake for each: the frames are worked out
 * when the timer fires or when the guest touches a register (so FRNUM,
 * USBSTS and the TDs always agree with virtual time), and after
 * UHCI_IDLE_FRAMES frames in which nothing completed (only NAKs: a HID
 * endpoint polled with nothing to say) the timer fires every
 * UHCI_IDLE_BATCH frames, walking those frames at once: 62 wake-ups a
 * second instead of 1000 for an idle guest with a tablet. New input
 * (usb_dev_wakeup()) or a register write ends the batching at once; a TD
 * the guest queues without touching a register waits at most a batch.
 * A walk of an idle frame costs a few guest-RAM reads (the frame list
 * entry, each QH, the TD at each queue's head) and no writes. */
#ifndef V2E_DM_HW_UHCI_H
#define V2E_DM_HW_UHCI_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/dma.h"
#include "dev/pci.h"
#include "dev/vclock.h"
#include "dm/hw/usb.h"
#include "lib/vstate.h"

#define UHCI_PORTS 2
#define UHCI_IO_SIZE 32
#define UHCI_BAR 4
#define UHCI_SLOT 1
#define UHCI_FN 2
#define UHCI_INT_PIN 4        /* INTD# */

#define UHCI_FRAME_NS 1000000ull
#define UHCI_FRAME_ELEMENTS 256 /* TDs and QHs looked at in one frame */
#define UHCI_FRAME_BYTES 1280   /* data moved in one frame (12 Mb/s, less overhead) */
#define UHCI_LOOP_QHS 32        /* queue heads remembered in a frame, for loops */
#define UHCI_CATCHUP_MAX 64     /* frames walked in one go; older ones are lost */
#define UHCI_IDLE_FRAMES 32     /* frames without completions before batching */
#define UHCI_IDLE_BATCH 16      /* frames a timer tick covers when idle */
#define UHCI_FRAME_START_MAX (1ull << 62) /* a saved frame start beyond: refused */

/* PCI configuration registers of the function. */
#define UHCI_SBRN 0x60          /* serial bus release number: 10h, USB 1.0/1.1 */
#define UHCI_LEGSUP 0xc0        /* legacy support (keyboard/mouse SMI emulation) */
#define UHCI_LEGSUP_DEFAULT 0x2000 /* USBPIRQDEN: the interrupt goes to PIRQD# */
#define UHCI_LEGSUP_RW 0x20bf
#define UHCI_LEGSUP_RWC 0x8f00

/* I/O registers. */
#define UHCI_USBCMD 0x00
#define UHCI_USBSTS 0x02
#define UHCI_USBINTR 0x04
#define UHCI_FRNUM 0x06
#define UHCI_FRBASEADD 0x08
#define UHCI_SOFMOD 0x0c
#define UHCI_PORTSC1 0x10

#define UHCI_CMD_RS 0x0001
#define UHCI_CMD_HCRESET 0x0002
#define UHCI_CMD_GRESET 0x0004
#define UHCI_CMD_EGSM 0x0008
#define UHCI_CMD_FGR 0x0010
#define UHCI_CMD_SWDBG 0x0020
#define UHCI_CMD_CF 0x0040
#define UHCI_CMD_MAXP 0x0080

#define UHCI_STS_USBINT 0x0001
#define UHCI_STS_ERRINT 0x0002
#define UHCI_STS_RD 0x0004
#define UHCI_STS_HSE 0x0008
#define UHCI_STS_HCPE 0x0010
#define UHCI_STS_HCH 0x0020
#define UHCI_STS_W1C 0x001f

#define UHCI_INTR_TOCRC 0x0001
#define UHCI_INTR_RESUME 0x0002
#define UHCI_INTR_IOC 0x0004
#define UHCI_INTR_SPD 0x0008

#define UHCI_PORT_CCS 0x0001
#define UHCI_PORT_CSC 0x0002
#define UHCI_PORT_PED 0x0004
#define UHCI_PORT_PEDC 0x0008
#define UHCI_PORT_DPLUS 0x0010  /* line status: D+ (J on a full-speed idle bus) */
#define UHCI_PORT_DMINUS 0x0020
#define UHCI_PORT_RD 0x0040
#define UHCI_PORT_ONE 0x0080    /* reserved, always reads 1 */
#define UHCI_PORT_LSDA 0x0100
#define UHCI_PORT_PR 0x0200
#define UHCI_PORT_SUSP 0x1000
#define UHCI_PORT_RW (UHCI_PORT_PED | UHCI_PORT_RD | UHCI_PORT_PR | UHCI_PORT_SUSP)
#define UHCI_PORT_W1C (UHCI_PORT_CSC | UHCI_PORT_PEDC)

/* Link pointers (frame list entries, QH and TD links). */
#define UHCI_LINK_T 0x1         /* terminate */
#define UHCI_LINK_Q 0x2         /* points at a QH */
#define UHCI_LINK_VF 0x4        /* TD link: depth first */
#define UHCI_LINK_ADDR 0xfffffff0u

/* TD control and status (dword 1). */
#define UHCI_TD_ACTLEN 0x000007ffu
#define UHCI_TD_BITSTUFF (1u << 17)
#define UHCI_TD_CRC_TIMEOUT (1u << 18)
#define UHCI_TD_NAK (1u << 19)
#define UHCI_TD_BABBLE (1u << 20)
#define UHCI_TD_DBUF (1u << 21)
#define UHCI_TD_STALLED (1u << 22)
#define UHCI_TD_ACTIVE (1u << 23)
#define UHCI_TD_IOC (1u << 24)
#define UHCI_TD_IOS (1u << 25)
#define UHCI_TD_LS (1u << 26)
#define UHCI_TD_CERR_SHIFT 27
#define UHCI_TD_CERR (3u << 27)
#define UHCI_TD_SPD (1u << 29)

/* Why USBINT is set, for USBINTR's IOC and SPD enables. */
#define UHCI_CAUSE_IOC 0x1
#define UHCI_CAUSE_SPD 0x2

struct uhci {
	struct pci_fn fn;           /* first: the saved state's base */
	/* registers */
	uint16_t cmd, sts, intr, frnum;
	uint32_t frbase;
	uint8_t sofmod;
	uint16_t portsc[UHCI_PORTS];
	uint8_t cause;              /* UHCI_CAUSE_*, while USBINT is set */
	/* the schedule, while running */
	uint64_t frame_start;       /* virtual ns at which frame `frnum` began */
	uint16_t idle_frames;       /* frames in a row in which nothing completed */
	struct vtimer timer;

	/* wiring, not state */
	const struct dev_ctx *ctx;
	struct vclock *clock;
	const struct dma_space *dma;
	const struct irq_line *irq;
	struct usb_dev *dev[UHCI_PORTS];
	uint64_t win;               /* where BAR4's window is (0: not claimed yet) */
	bool win_on;
	/* counters for tests and measurements */
	uint64_t frames_walked, timer_fires, dma_reads;
};

extern const struct io_ops uhci_io_ops;
extern const struct vs_desc uhci_state;

/* Attaches a device to root port `port` (1 or 2; 0: the first free one):
 * the port shows a connection (CCS, CSC). The port number, or -EBUSY
 * (taken, or none free), -EINVAL. */
int uhci_attach(struct uhci *u, unsigned port, struct usb_dev *d);
/* The device goes (its port shows the disconnection). */
void uhci_detach(struct uhci *u, struct usb_dev *d);
/* Brings the schedule to the clock's time (frames due are walked). */
void uhci_catch_up(struct uhci *u);

#endif
