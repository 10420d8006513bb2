/* Intel 8259A programmable interrupt controller: the PC's cascaded pair
 * (master at ports 0x20-0x21, slave at 0xa0-0xa1 on the master's IR2) and
 * the PIIX/ICH edge/level control registers (ELCR, ports 0x4d0-0x4d1).
 *
 * Wiring for the board:
 *   pic_master_ops at 0x20 (2 ports), pic_slave_ops at 0xa0 (2 ports),
 *   pic_elcr_ops at 0x4d0 (2 ports), all with the struct pic as opaque;
 *   a device's interrupt is the irq_line {pic_set_irq, pic, irq} for ISA
 *   IRQ 0-15 (IRQ 2 is the cascade and ignores devices: ISA's IRQ2 pin
 *   is IRQ 9 on a PC);
 *   the CPU's INTR input is the irq_line given to pic_init (driven only
 *   when its level changes); when the CPU takes the interrupt it calls
 *   pic_intack() for the vector.
 *
 * Deviation from the silicon: an edge-triggered request stays latched in
 * IRR after its input falls (until acknowledged or ICW1), because
 * device.h defines a pulse as a raise followed at once by a lower. A
 * request that goes away before INTA (a level input lowered, a request
 * masked, or a slave that no longer asks) gives the spurious IR7/IR15.
 * Not modelled, as no PC guest relies on them: the 8080/8085 mode (UPM = 0
 * and ICW1's ADI and A7-A5 are ignored: vectors are always 8086-style),
 * buffered mode (stored only) and the slave's ID check on the cascade
 * lines (the one slave answers for the master's IR2). */
#ifndef V2E_VMM_PLATFORM_PIC_H
#define V2E_VMM_PLATFORM_PIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "lib/vstate.h"

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IR 2

/* One 8259A. */
struct pic_chip {
	uint8_t irr;   /* interrupt request register */
	uint8_t isr;   /* in-service register */
	uint8_t imr;   /* interrupt mask register (OCW1) */
	uint8_t lines; /* levels of the IR inputs */
	uint8_t elcr;  /* 1 = level-triggered input (PIIX ELCR) */
	uint8_t elcr_mask; /* ELCR bits that exist (IRQ 0, 1, 2, 8, 13 fixed 0) */
	uint8_t vector_base; /* ICW2 T7-T3 */
	uint8_t icw3;  /* master: inputs with a slave; slave: its ID */
	uint8_t init_step; /* 0 ready, else the ICW expected next (2-4) */
	uint8_t lowest; /* IR with the lowest priority (rotation) */
	bool ltim;     /* ICW1: level-triggered mode for every input */
	bool sngl;     /* ICW1: single (no cascade) */
	bool ic4;      /* ICW1: ICW4 follows */
	bool upm;      /* ICW4: 8086 mode (vectors are the same either way) */
	bool aeoi;     /* ICW4: automatic EOI */
	bool buf, ms;  /* ICW4: buffered mode, master/slave (stored only) */
	bool sfnm;     /* ICW4: special fully nested mode */
	bool rotate_aeoi; /* OCW2: rotate in automatic EOI mode */
	bool read_isr; /* OCW3 RR/RIS: port 0 reads ISR instead of IRR */
	bool poll;     /* OCW3 P: the next read is a poll */
	bool smm;      /* OCW3: special mask mode */
};

struct pic {
	struct pic_chip chip[2]; /* PIC_MASTER, PIC_SLAVE */
	bool intr_level;         /* what INTR was last driven to */
	struct irq_line intr;
};

/* Power-on state: every input masked, vectors 0 until the guest's ICWs,
 * slave wired on IR2. `intr` is the CPU's INTR input. */
void pic_init(struct pic *pic, const struct irq_line *intr);
/* A system reset: as pic_init, keeping the wiring and the input levels. */
void pic_reset(struct pic *pic);

/* irq_line set_level for ISA IRQ `irq` (0-15; others are ignored). */
void pic_set_irq(void *pic, unsigned irq, bool level);

/* The CPU's interrupt acknowledge cycle: the vector of the highest
 * request (ISR/IRR updated, AEOI and the cascade handled), or the
 * spurious vector (IR7 of the chip that had nothing) when no request is
 * left. */
uint8_t pic_intack(struct pic *pic);

/* True when INTR is asserted (the level last driven). */
static inline bool pic_intr(const struct pic *pic)
{
	return pic->intr_level;
}

extern const struct io_ops pic_master_ops;
extern const struct io_ops pic_slave_ops;
extern const struct io_ops pic_elcr_ops;

/* Saved state (lib/vstate.h): both chips and the input levels; a load
 * drives INTR to the loaded level. */
extern const struct vs_desc pic_state;

#endif
