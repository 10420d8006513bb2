/* The I/O APIC (Intel 82093AA datasheet; the version 0x20 register set of
 * the ICH family, with the EOI register): 24 redirection entries turning
 * interrupt pin levels into APIC messages.
 *
 * Wiring for the board:
 *   ioapic_ops at 0xfec00000 (4 KiB of MMIO: IOREGSEL at 0x00, IOWIN at
 *   0x10, EOI at 0x40) with the struct ioapic as opaque; pin n is the
 *   irq_line {ioapic_set_irq, ioapic, n} (on a PC: ISA IRQ 0 on pin 2,
 *   ISA IRQ n on pin n otherwise); messages go out through `deliver`;
 *   the local APIC's EOI broadcast of a level-triggered vector arrives
 *   through ioapic_eoi().
 *
 * Input levels are what the devices drive (high = asserted for an
 * active-high entry; an active-low entry asserts on a low level). An edge
 * that arrives while its entry is masked is lost, as the datasheet says;
 * a level-triggered input is sent when unmasked while still asserted.
 * Delivery is immediate, so the delivery status bit always reads idle. */
#ifndef V2E_VMM_PLATFORM_IOAPIC_H
#define V2E_VMM_PLATFORM_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "lib/vstate.h"
#include "vmm/platform/lapic.h"

#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_SIZE 0x1000u
#define IOAPIC_PINS 24

/* MMIO offsets */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_EOI 0x40

/* Register indices (IOREGSEL) */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10 /* 2 registers per pin: low, high */

/* Version 0x20, maximum redirection entry 23. */
#define IOAPIC_VERSION_VALUE (0x20u | ((IOAPIC_PINS - 1u) << 16))

/* Redirection entry fields */
#define IOAPIC_RTE_LOGICAL (1ull << 11)
#define IOAPIC_RTE_ACTIVE_LOW (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define IOAPIC_RTE_LEVEL (1ull << 15)
#define IOAPIC_RTE_MASKED (1ull << 16)

struct ioapic {
	uint32_t id;        /* bits 24-27 */
	uint8_t regsel;
	uint32_t lines;     /* input levels as driven, bit per pin */
	uint64_t rte[IOAPIC_PINS];
	void (*deliver)(void *opaque, const struct apic_msg *m);
	void *opaque;
};

/* Power-on state: every entry masked, edge, active high. */
void ioapic_init(struct ioapic *io, uint8_t id,
		 void (*deliver)(void *opaque, const struct apic_msg *m),
		 void *opaque);
/* A system reset: as ioapic_init, keeping the wiring and input levels. */
void ioapic_reset(struct ioapic *io);

/* irq_line set_level for pin 0-23 (others are ignored). */
void ioapic_set_irq(void *ioapic, unsigned pin, bool level);

/* The EOI of `vector`: clears Remote IRR of the level-triggered entries
 * with that vector and sends again those still asserted. */
void ioapic_eoi(void *ioapic, uint8_t vector);

extern const struct io_ops ioapic_ops;

/* Saved state (lib/vstate.h): entries, input levels, registers. */
extern const struct vs_desc ioapic_state;

#endif
