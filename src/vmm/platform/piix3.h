/* The Intel 82371SB PIIX3's PCI-to-ISA bridge, function 00:01.0
 * (8086:7000, class 0601, multi-function), as QEMU's `pc` presents it:
 * PIRQRC[A-D] at 0x60-0x63 route the four PCI interrupt lines PIRQA#-
 * PIRQD# to ISA IRQs (bits 3:0 the IRQ, bit 7 set: not routed; IRQs 0,
 * 1, 2, 8 and 13 are reserved and route nothing). A routed line drives
 * the board's ISA line of that number (into the 8259A and the IOAPIC);
 * the ELCR that makes it level-triggered on the 8259A is pic.c's, at
 * 0x4d0. PCI lines are active-low wired-OR on the bus: here a level 1
 * is "asserted", and several PIRQs routed to one IRQ OR together.
 *
 * Not modelled: an ISA device and a PCI line on one IRQ (the last
 * writer's level wins on the line), the other ISA-bridge registers
 * beyond their reset values, functions 1-3 (IDE, USB, power
 * management). */
#ifndef V2E_VMM_PLATFORM_PIIX3_H
#define V2E_VMM_PLATFORM_PIIX3_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/pci.h"
#include "lib/compiler.h"
#include "lib/vstate.h"

#define PIIX3_PIRQRC 0x60
#define PIIX3_PIRQ_OFF 0x80
#define PIIX3_SLOT 1

struct piix3 {
	struct pci_fn fn;          /* first: the saved state's base */
	uint8_t pirq_level;        /* bit n: PIRQ n asserted */
	uint16_t driven;           /* ISA IRQs driven high from PIRQs */
	const struct irq_line *isa; /* the board's 16 ISA lines */
};

extern const struct io_ops piix3_slot_ops;  /* slot 1's config space */
extern const struct vs_desc piix3_state;

/* Claims slot 1 of `bus`; 0 or -errno. */
int piix3_init(struct piix3 *p, struct pci_bus *bus, const struct irq_line *isa) must_check;
void piix3_reset(struct piix3 *p);
/* PIRQ n (0-3: A-D) asserted or not. */
void piix3_set_pirq(struct piix3 *p, unsigned n, bool level);
/* The ISA IRQ PIRQ n reaches, or -1. */
int piix3_pirq_route(const struct piix3 *p, unsigned n);

#endif
