/* The ioreq ABI: the memory one device-model process shares with the vmm
 * (DESIGN.md, "The ioreq protocol"). Both sides map the same memfd; the
 * vmm trusts nothing the dm writes into it.
 *
 * Synchronous requests. One slot per vCPU. The vmm fills every field but
 * `state` and `data` (for reads), then stores state = READY with release
 * ordering and signals the slot's request eventfd. The dm loads state with
 * acquire ordering, moves it to INPROCESS, serves the access, writes
 * `data` (reads) and stores RESP_READY with release ordering, then signals
 * the slot's response eventfd (unless the vmm said it is spinning). The
 * vmm loads RESP_READY with acquire ordering, checks the slot against its
 * own copy of the request (any other field changed = a corrupt dm), takes
 * `data`, and stores NONE. Either side may spin briefly before it sleeps.
 *
 * Events back. Everything the dm tells the vmm outside a reply (interrupt
 * line changes, MSI messages, guest RAM it wrote, exit requests, changes
 * to its windows) goes into
 * the event ring, in order, so a line lowered and raised within one
 * access still shows the vmm an edge. Events a request causes are in the
 * ring before its RESP_READY; the vmm drains the ring after every reply,
 * at every burst's end, whenever the events eventfd fires (it sleeps) and
 * whenever `vmm_doorbell` is set (it runs). A full ring makes the dm wait
 * for the vmm, which drains it while it waits for a reply too.
 *
 * Buffered writes. Writes to ranges the dm claimed as bufferable go into
 * the buffered ring without waiting; one eventfd signal covers many. The
 * vmm drains it (waits for the dm to consume it) before any synchronous
 * request and at the end of each burst, so their effects stay ordered
 * and deterministic.
 *
 * Published reads. For a byte read with no side effect (a status
 * register that acknowledges nothing, a register only the guest writes)
 * the dm keeps the value a read would return in `pub`, by window number
 * (claim order, as IOREQ_EV_WINDOW numbers them) and port offset, and
 * refreshes it, with its timer deadline, after each batch of buffered
 * writes it applies (before it publishes the ring's read index), each
 * request it serves (before the reply) and each host event; before it
 * queues any event it withdraws them all (an interrupt's handler must not
 * read the bytes from before what raised it). The vmm may answer a byte
 * read of a PIO window from there instead of a request, while no dm
 * timer is due and every buffered write the dm has not consumed yet is
 * quiet for it: it reads the state as a request would have found it, or
 * as it was a moment before an asynchronous change. A buffered write is
 * quiet when its port's entry says so for the byte written (a register
 * whose writes change only what it reads back itself: a disk's sector
 * number, a DMA table's address) and it is not the port being read; the
 * dm publishes that rule per port with the byte, from the device's
 * state, and a quiet write never changes any port's rule. The entries
 * change under a sequence lock (`pub_seq`), so the vmm judges the writes
 * it has queued and takes the byte from one publication. A value the dm
 * wrote is only ever returned to the guest.
 *
 * Time. Each request carries the vmm's virtual clock; the dm moves its
 * own clock there before serving. The dm publishes its next timer
 * deadline; when the vmm's clock reaches it, the vmm sends a TIMER
 * request, so dm timers fire at deterministic points too.
 *
 * All fields are fixed width and little-endian (host order: both ends run
 * on the same host); no bitfields; sizes are asserted. */
#ifndef V2E_IOREQ_IOREQ_H
#define V2E_IOREQ_IOREQ_H

#include <stddef.h>
#include <stdint.h>

#define IOREQ_ABI_VERSION 7
#define IOREQ_MAX_VCPUS 8

enum ioreq_state {
	IOREQ_STATE_NONE = 0,
	IOREQ_STATE_READY = 1,      /* vmm -> dm: a request is in the slot */
	IOREQ_STATE_INPROCESS = 2,  /* dm: serving it */
	IOREQ_STATE_RESP_READY = 3, /* dm -> vmm: the answer is in the slot */
};

enum ioreq_type {
	IOREQ_TYPE_PIO = 0,
	IOREQ_TYPE_MMIO = 1,
	IOREQ_TYPE_PCI_CONFIG = 2, /* addr = IOREQ_PCI_ADDR(bus, dev, fn, reg) */
	IOREQ_TYPE_TIMER = 3,      /* no access: move the clock to now_ns */
	IOREQ_TYPE_COUNT
};

#define IOREQ_PCI_ADDR(bus, dev, fn, reg) \
	(((uint64_t)(bus) << 16) | ((uint64_t)(dev) << 11) | \
	 ((uint64_t)(fn) << 8) | (uint64_t)(reg))
#define IOREQ_PCI_REG_MASK 0xffu

enum ioreq_dir {
	IOREQ_DIR_WRITE = 0,
	IOREQ_DIR_READ = 1,
};

/* One synchronous request. For a REP string access (`count` > 1) with
 * `data_is_ptr`, `data` is the guest-physical address of the first
 * element and the dm copies straight to or from guest RAM, `size` bytes
 * per element, downwards when `df` is set; the vmm only sends ranges
 * that lie in RAM and do not cross a page. */
struct ioreq {
	uint64_t addr;
	uint64_t data;
	uint64_t now_ns;     /* the vmm's virtual clock at the access */
	uint32_t count;      /* elements, >= 1 */
	uint32_t seq;        /* the vmm's request number, never changed by the dm */
	uint8_t size;        /* 1, 2, 4 or 8 */
	uint8_t dir;         /* enum ioreq_dir */
	uint8_t df;          /* 1: elements go downwards */
	uint8_t data_is_ptr; /* 1: data is a guest-physical address */
	uint8_t type;        /* enum ioreq_type */
	uint8_t spin;        /* 1: the vmm is spinning, no response signal needed */
	uint8_t pad0;
	uint8_t state;       /* enum ioreq_state: acquire/release, see above */
	uint8_t pad1[24];
};
_Static_assert(sizeof(struct ioreq) == 64, "one cache line per slot");
_Static_assert(offsetof(struct ioreq, state) == 39, "state offset");

/* A write that needs no reply. */
struct ioreq_buffered {
	uint64_t addr;
	uint64_t data;
	uint64_t now_ns;
	uint8_t size;
	uint8_t type;        /* PIO or MMIO */
	uint8_t pad[6];
};
_Static_assert(sizeof(struct ioreq_buffered) == 32, "buffered entry size");

#define IOREQ_BUF_SLOTS 256 /* a power of two */

/* Producer: vmm (write_idx). Consumer: dm (read_idx). Free-running 32-bit
 * indices; entries [read_idx, write_idx) are valid. The vmm never trusts
 * read_idx beyond write_idx - read_idx <= IOREQ_BUF_SLOTS. */
struct ioreq_buf_ring {
	uint32_t write_idx;
	uint8_t pad0[60];
	uint32_t read_idx;
	uint8_t pad1[60];
	struct ioreq_buffered slot[IOREQ_BUF_SLOTS];
};

enum ioreq_event_type {
	IOREQ_EV_LINE = 1,  /* a = line (enum ioreq_line), b = level 0/1 */
	IOREQ_EV_MSI = 2,   /* a = address, b = data */
	IOREQ_EV_DIRTY = 3, /* a = guest-physical address, b = length: the dm wrote RAM */
	IOREQ_EV_EXIT = 4,  /* a = exit status: end the VM (isa-debug-exit, quit key) */
	IOREQ_EV_RESET = 5, /* the guest asked for a system reset */
	IOREQ_EV_WINDOW = 6, /* arg = IOREQ_WIN_ARG(op, space, flags, window),
			      * a = base (ADD, MOVE: the new one), b = length (ADD) */
};

/* A change to one of the dm's windows (a PCI BAR programmed, a VGA window
 * switched). Windows are numbered in the order the dm claimed them at
 * setup (0, 1, ...); ADD names a number not in use. space is enum
 * ctl_space (PIO or MMIO), flags CTL_CLAIM_*. The vmm applies the change
 * in order with the other events, before the vCPU's next instruction; a
 * change to a window the dm does not have, or to an impossible range,
 * cuts the dm off; one that would overlap another window is refused and
 * the window stays as it was. */
enum ioreq_window_op {
	IOREQ_WIN_ADD = 1,
	IOREQ_WIN_MOVE = 2,
	IOREQ_WIN_ENABLE = 3,
	IOREQ_WIN_DISABLE = 4,
	IOREQ_WIN_REMOVE = 5,
};
#define IOREQ_WIN_ARG(op, space, flags, window) \
	((uint32_t)(op) | (uint32_t)(space) << 8 | (uint32_t)(flags) << 16 | \
	 (uint32_t)(window) << 24)
#define IOREQ_WIN_OP(arg) ((arg) & 0xffu)
#define IOREQ_WIN_SPACE(arg) (((arg) >> 8) & 0xffu)
#define IOREQ_WIN_FLAGS(arg) (((arg) >> 16) & 0xffu)
#define IOREQ_WIN_NUMBER(arg) ((arg) >> 24)

/* Lines a dm drives. 0-15: ISA IRQs; then the board's other inputs:
 * the A20 gate, and PCI's PIRQA#-PIRQD# (asserted = 1) into the PIIX3's
 * router. */
enum ioreq_line {
	IOREQ_LINE_ISA0 = 0,
	IOREQ_LINE_A20 = 16,
	IOREQ_LINE_PIRQA = 17, /* .. PIRQD = 20 */
	IOREQ_LINE_COUNT = 21,
};

struct ioreq_event {
	uint32_t type;
	uint32_t arg;        /* IOREQ_EV_WINDOW's; 0 for the others */
	uint64_t a, b;
};
_Static_assert(sizeof(struct ioreq_event) == 24, "event size");

#define IOREQ_EV_SLOTS 1024 /* a power of two */

/* Producer: dm (write_idx). Consumer: vmm (read_idx). */
struct ioreq_ev_ring {
	uint32_t write_idx;
	uint8_t pad0[60];
	uint32_t read_idx;
	uint8_t pad1[60];
	struct ioreq_event slot[IOREQ_EV_SLOTS];
};

#define IOREQ_NEVER UINT64_MAX

/* Published reads: windows 0..IOREQ_PUB_WINDOWS-1, their first
 * IOREQ_PUB_PORTS ports; each entry written whole (32 bits):
 * - IOREQ_PUB_VALID and the low byte: what a byte read returns now
 *   (without it: ask the dm);
 * - IOREQ_PUB_QUIET and a mask and value (IOREQ_PUB_QMASK/QVALUE): a
 *   buffered byte write here of b with (b & mask) == value changes what a
 *   read returns (or does) at no other port of the dm, and changes no
 *   port's rule. 0: no promise. */
#define IOREQ_PUB_WINDOWS 64
#define IOREQ_PUB_PORTS 16
#define IOREQ_PUB_VALID 0x100u
#define IOREQ_PUB_QUIET 0x200u
#define IOREQ_PUB_QRULE(mask, value) \
	(IOREQ_PUB_QUIET | (uint32_t)(mask) << 16 | (uint32_t)(value) << 24)
#define IOREQ_PUB_QMASK(e) (((e) >> 16) & 0xffu)
#define IOREQ_PUB_QVALUE(e) ((e) >> 24)

/* The whole shared area, one per dm process. */
struct ioreq_shared {
	uint32_t abi_version;
	uint32_t n_vcpus;
	uint8_t pad0[56];
	/* vmm -> dm */
	uint64_t vmm_now_ns;       /* the clock as of the vmm's last burst end */
	uint8_t pad1[56];
	/* dm -> vmm */
	uint64_t dm_deadline_ns;   /* the dm's next timer, IOREQ_NEVER if none */
	/* Non-zero while the dm sleeps in poll(): only then do the vmm's
	 * requests and buffered writes need a signal. The dm sets it, then
	 * looks at the slots and the ring once more before sleeping; the vmm
	 * publishes its request, then reads this (both sequentially
	 * consistent), so one of them always sees the other. Each sleep has
	 * its own number, so the vmm signals once per sleep, not once per
	 * write it makes before the dm is up (eventfds keep the count). A
	 * dm that lies here only slows itself down: the vmm's timeout still
	 * holds. */
	uint32_t dm_sleeping;
	/* vmm -> dm: 1 while the vmm sleeps until an event comes (a halted
	 * vCPU) or its buffered writes are served. Only then do events and
	 * served writes need the events eventfd: a running vmm drains the
	 * ring at every burst's end and while it waits for an answer.
	 * The same handshake as dm_sleeping, the other way round; a dm that
	 * ignores it only delays its own events until the vmm's next
	 * deadline. */
	uint32_t vmm_waiting;
	/* dm -> vmm: set while the vmm runs and something it reads outside
	 * a reply is new (an event queued, an earlier timer deadline). An
	 * emulated vCPU looks at it between blocks and ends its burst, so an
	 * interrupt reaches a busy guest within a few thousand instructions
	 * rather than at the burst's end; the vmm clears it before draining
	 * the ring. A dm that sets it for nothing costs the guest exits. */
	uint32_t vmm_doorbell;
	uint8_t pad2[44];
	struct ioreq slot[IOREQ_MAX_VCPUS];
	struct ioreq_buf_ring buf;
	struct ioreq_ev_ring ev;
	/* dm -> vmm: odd while the dm rewrites `pub`, bumped again after */
	uint32_t pub_seq;
	uint8_t pad3[60];
	uint32_t pub[IOREQ_PUB_WINDOWS][IOREQ_PUB_PORTS];
};

#define IOREQ_SHARED_SIZE 65536
_Static_assert(sizeof(struct ioreq_shared) <= IOREQ_SHARED_SIZE,
	       "shared area fits its memfd");

#endif
