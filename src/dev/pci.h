/* PCI functions and bus 0's slots, after the PCI Local Bus Specification
 * 3.0, chapter 6 (configuration space). A function is its 256-byte
 * type-0 header and device-specific space with a write mask and a
 * write-1-to-clear mask per byte; its BARs (I/O or 32-bit memory, sizes
 * a power of two) decode where the guest put them once the command
 * register enables their space, and a callback tells the device when a
 * BAR's decoded window appears, moves or goes (so it can move its
 * window: dev_ctx.window). Devices keep device-specific registers in the
 * same bytes and look at them after pci_fn_write().
 *
 * A bus is 32 slots of 8 functions. Whoever claims a run of functions
 * (a whole device, or one function of it: the PIIX3's IDE in a device
 * model beside its ISA bridge in the vmm) answers their config cycles
 * through an io_ops (offset = function << 8 | register, 1, 2 or 4 bytes
 * inside one function's 256) that the host bridge calls: a vmm-resident
 * function, or a device model's forwarder. */
#ifndef V2E_DEV_PCI_H
#define V2E_DEV_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "lib/compiler.h"

/* Configuration header registers (type 0). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x08 /* INTx requested (read-only) */
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_MULTI 0x80
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30    /* expansion ROM base address (spec 6.2.5.2) */
#define PCI_ROM_ENABLE 0x1      /* its address decode enable */
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_BAR_IO 0x1          /* bit 0 of an I/O BAR */
#define PCI_BAR_COUNT 6
#define PCI_BAR_ROM PCI_BAR_COUNT /* the expansion ROM, as the callback names it */
#define PCI_BAR_NONE UINT64_MAX /* a BAR that decodes nothing */

#define PCI_SLOTS 32
#define PCI_FNS 8
#define PCI_DEVFN(slot, fn) ((unsigned)(slot) << 3 | (unsigned)(fn))
#define PCI_CFG_SIZE 256

enum pci_bar_type { PCI_BAR_UNUSED = 0, PCI_BAR_TYPE_IO, PCI_BAR_TYPE_MEM32, PCI_BAR_TYPE_ROM };

struct pci_id {
	uint16_t vendor, device;
	uint32_t class_code;    /* base class << 16 | sub-class << 8 | prog-if */
	uint8_t revision;
	uint16_t subsys_vendor, subsys;
	bool multi_function;    /* the header type's bit 7 (function 0) */
	uint8_t int_pin;        /* 0: none, 1-4: INTA#-INTD# */
};

struct pci_fn;
/* BAR `bar` now decodes at `addr` (PCI_BAR_NONE: nowhere), having decoded
 * at `old` before. */
typedef void pci_bar_fn(void *opaque, struct pci_fn *f, unsigned bar, uint64_t old,
			uint64_t addr);

struct pci_fn {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* bits the guest may write */
	uint8_t w1c[PCI_CFG_SIZE];    /* bits a 1 clears (status) */
	struct pci_bar {
		uint8_t type;         /* enum pci_bar_type */
		uint32_t size;
		uint64_t decoded;     /* where it decodes now, or PCI_BAR_NONE */
	} bar[PCI_BAR_COUNT + 1];    /* and the expansion ROM (PCI_BAR_ROM) */
	pci_bar_fn *bar_changed;      /* optional */
	void *opaque;
};

/* The header from `id`: command, status and BARs clear, everything
 * read-only but the command register, the cache line size, the latency
 * timer and the interrupt line (the device opens more with
 * pci_fn_writable()). */
void pci_fn_init(struct pci_fn *f, const struct pci_id *id, pci_bar_fn *changed,
		 void *opaque);
/* BAR n of `size` bytes (a power of two; I/O at least 4, memory at least
 * 16). 0, or -EINVAL. */
int pci_fn_bar(struct pci_fn *f, unsigned n, enum pci_bar_type type,
	       uint32_t size) must_check;
/* An expansion ROM of `size` bytes (a power of two, at least 2 KiB): its
 * base address register at 0x30 sizes like a memory BAR, and the ROM
 * decodes (callback bar PCI_BAR_ROM) while its enable bit and the
 * command register's memory space are both on. 0, or -EINVAL. */
int pci_fn_rom(struct pci_fn *f, uint32_t size) must_check;
/* Lets the guest write `mask` bits of the `len` bytes from `reg`
 * (device-specific registers). */
void pci_fn_writable(struct pci_fn *f, unsigned reg, unsigned len, uint32_t mask);
/* Power-on state: every writable and write-1-to-clear bit 0, BARs
 * decoding nothing (the callback hears of windows that go). */
void pci_fn_reset(struct pci_fn *f);

/* A configuration access of 1, 2 or 4 bytes at `reg` (bytes past 255
 * read all-ones and drop writes). */
uint32_t pci_fn_read(const struct pci_fn *f, unsigned reg, unsigned size);
void pci_fn_write(struct pci_fn *f, unsigned reg, unsigned size, uint32_t v);

/* The BARs' decoded windows follow the command register and the BARs
 * (pci_fn_write() calls it; after a state load too). */
void pci_fn_update_bars(struct pci_fn *f);

static inline uint16_t pci_cfg16(const struct pci_fn *f, unsigned reg)
{
	return (uint16_t)(f->cfg[reg] | f->cfg[reg + 1] << 8);
}

static inline uint32_t pci_cfg32(const struct pci_fn *f, unsigned reg)
{
	return (uint32_t)pci_cfg16(f, reg) | (uint32_t)pci_cfg16(f, reg + 2) << 16;
}

/* The PIRQ (0-3: A-D) that INTx pin `pin` (1-4: INTA#-INTD#) of a
 * function in `slot` reaches on the PIIX's bus, as QEMU's pc wires it:
 * the pins rotate by slot, so slot 1's INTA# is PIRQA#. */
static inline unsigned pci_intx_pirq(unsigned slot, unsigned pin)
{
	return (slot + pin - 2) & 3;
}

/* ---- bus 0 ---- */

struct pci_bus {
	struct pci_slot {
		const struct io_ops *ops; /* config space: off = fn << 8 | reg */
		void *opaque;
		const char *owner;        /* for messages */
	} fn[PCI_SLOTS * PCI_FNS];        /* by PCI_DEVFN() */
};

/* Functions devfn .. devfn + nfns - 1 (in one slot) to whoever answers
 * their config cycles. 0, -EINVAL (impossible), -EBUSY (one is taken:
 * pci_bus_owner() says by whom). */
int pci_bus_claim(struct pci_bus *b, unsigned devfn, unsigned nfns,
		  const struct io_ops *ops, void *opaque, const char *owner) must_check;
/* Who has any of the functions devfn .. devfn + nfns - 1, or NULL. */
const char *pci_bus_owner(const struct pci_bus *b, unsigned devfn, unsigned nfns);
/* Gives the functions up (their cycles read all-ones again). */
void pci_bus_release(struct pci_bus *b, unsigned devfn, unsigned nfns);
/* A config cycle to bus 0: all-ones from an empty slot (writes dropped).
 * `size` bytes at `reg` must lie in one function's 256. */
uint32_t pci_bus_read(struct pci_bus *b, unsigned dev, unsigned fn, unsigned reg,
		      unsigned size);
void pci_bus_write(struct pci_bus *b, unsigned dev, unsigned fn, unsigned reg,
		   unsigned size, uint32_t v);

#endif
