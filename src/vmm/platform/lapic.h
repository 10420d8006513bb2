/* The local APIC of the one vCPU, in xAPIC mode (Intel SDM vol. 3A,
 * chapter 11 "Advanced Programmable Interrupt Controller"), as the
 * integrated APIC of a P6-class CPU with version 0x14 and six LVT
 * entries (timer, thermal, performance counters, LINT0, LINT1, error).
 *
 * Wiring for the board:
 *   lapic_ops at 0xfee00000 (4 KiB of MMIO) with the struct lapic as
 *   opaque; `intr` is the CPU's INTR input; `nmi` sees a pulse for each
 *   NMI (LINT1 in NMI mode, an NMI message); the CPU's acknowledge cycle
 *   is lapic_intack(); the 8259A's INT output is the irq_line
 *   {lapic_set_lint, lapic, 0} and the board's NMI source would be pin 1;
 *   an IOAPIC sends its messages with lapic_deliver() and hears EOIs of
 *   level-triggered vectors through `eoi`; ExtINT vectors (virtual-wire
 *   mode) are fetched from the 8259A through `extint_ack`.
 *
 * Power-on state: as firmware leaves the boot processor for a kernel, in
 * virtual-wire mode (MP specification 3.6.2.2): LINT0 unmasked in ExtINT
 * mode, LINT1 unmasked in NMI mode, other LVT entries masked, the APIC
 * software-disabled (SVR 0xff). So pre-APIC code sees the 8259A as if
 * wired to INTR. The ExtINT path works while the APIC is software-
 * disabled, as QEMU's and KVM's do; a software disable masks every LVT.
 *
 * The timer counts at the APIC bus clock, 1 GHz of virtual time (one
 * count per nanosecond before the divider), in one-shot and periodic
 * modes; TSC-deadline mode is not offered. Counts are computed from the
 * virtual clock, and one vtimer is armed only while an unmasked timer
 * has an interrupt ahead.
 *
 * Not modelled (nothing on a one-CPU PC uses them): the APIC base MSR's
 * global disable and relocation, INIT/SIPI/SMI messages (ignored), focus
 * processor checking, EOI-broadcast suppression, the thermal and
 * performance-counter sources (their LVT entries are storage only). */
#ifndef V2E_VMM_PLATFORM_LAPIC_H
#define V2E_VMM_PLATFORM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/vclock.h"
#include "lib/vstate.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_SIZE 0x1000u

/* Register offsets in the 4 KiB window. */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_APR 0x090
#define LAPIC_PPR 0x0a0
#define LAPIC_EOI 0x0b0
#define LAPIC_RRD 0x0c0
#define LAPIC_LDR 0x0d0
#define LAPIC_DFR 0x0e0
#define LAPIC_SVR 0x0f0
#define LAPIC_ISR 0x100  /* 8 registers, 16 bytes apart */
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380 /* initial count */
#define LAPIC_TIMER_CCR 0x390 /* current count */
#define LAPIC_TIMER_DCR 0x3e0 /* divide configuration */

/* The version register: version 0x14 (integrated xAPIC), max LVT 5. */
#define LAPIC_VERSION_VALUE 0x00050014u

/* SVR */
#define LAPIC_SVR_ENABLE 0x100u
/* LVT and ICR fields */
#define LAPIC_LVT_MASKED 0x10000u
#define LAPIC_LVT_PERIODIC 0x20000u /* timer mode */
#define LAPIC_LVT_LEVEL 0x8000u     /* trigger mode */
#define LAPIC_LVT_REMOTE_IRR 0x4000u
#define LAPIC_LVT_ACTIVE_LOW 0x2000u
#define LAPIC_ICR_LOGICAL 0x800u
#define LAPIC_ICR_ASSERT 0x4000u
/* ESR bits */
#define LAPIC_ESR_SEND_ILLEGAL 0x20u
#define LAPIC_ESR_RECV_ILLEGAL 0x40u
#define LAPIC_ESR_ILLEGAL_REG 0x80u

/* Delivery modes (LVT, ICR, IOAPIC redirection entries, messages). */
#define APIC_DM_FIXED 0
#define APIC_DM_LOWEST 1
#define APIC_DM_SMI 2
#define APIC_DM_NMI 4
#define APIC_DM_INIT 5
#define APIC_DM_STARTUP 6
#define APIC_DM_EXTINT 7

/* An interrupt message on the APIC bus: from an IOAPIC redirection entry
 * (and later MSI). */
struct apic_msg {
	uint8_t vector;
	uint8_t mode;  /* APIC_DM_* */
	uint8_t dest;  /* APIC ID (physical) or logical destination */
	bool logical;
	bool level;    /* level-triggered: the vector's EOI goes back */
};

#define LAPIC_NR_LVT 6

struct lapic {
	uint32_t id;        /* APIC ID in bits 24-31 */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending; /* ESR as read; errors since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LAPIC_NR_LVT];
	uint32_t irr[8], isr[8], tmr[8]; /* 256-bit vectors, 32 bits a word */
	bool lint_level[2]; /* LINT0/LINT1 input levels */
	bool extint_pending; /* an ExtINT message waits for acknowledge */
	bool intr_level;     /* what INTR was last driven to */
	/* Timer: counting since `timer_start` (ns) from `timer_icr`, one
	 * count per 2^div_shift ns; a one-shot count stops at 0. */
	uint32_t timer_icr, timer_dcr;
	unsigned div_shift;
	bool timer_running;
	uint64_t timer_start;
	uint64_t timer_last_fire; /* when it last raised its vector, */
	bool timer_fired;         /* if it did since the count was loaded */
	struct vtimer timer;
	struct tick_grid tick; /* one-shot deadlines: marks the guest's tick */
	struct vclock *clock;
	struct irq_line intr, nmi;
	void (*eoi)(void *opaque, uint8_t vector);
	void *eoi_opaque;
	uint8_t (*extint_ack)(void *opaque);
	void *extint_opaque;
};

/* Power-on state (see above) for APIC ID `id`. `eoi` may be NULL (no
 * IOAPIC); `extint_ack` answers ExtINT acknowledges (the 8259A's INTA;
 * NULL answers the spurious vector). */
void lapic_init(struct lapic *l, uint8_t id, struct vclock *clock,
		const struct irq_line *intr, const struct irq_line *nmi,
		void (*eoi)(void *opaque, uint8_t vector), void *eoi_opaque,
		uint8_t (*extint_ack)(void *opaque), void *extint_opaque);
/* INIT/RESET: the power-on state again, keeping wiring and input levels. */
void lapic_reset(struct lapic *l);

/* irq_line set_level for LINT0 (pin 0) and LINT1 (pin 1). */
void lapic_set_lint(void *lapic, unsigned pin, bool level);

/* A message from the APIC bus; ignored unless it is addressed here. */
void lapic_deliver(struct lapic *l, const struct apic_msg *m);

/* The CPU's interrupt acknowledge: the highest deliverable vector moves
 * from IRR to ISR; else an ExtINT vector from the 8259A; else the
 * spurious vector (SVR bits 0-7), which changes nothing. */
uint8_t lapic_intack(struct lapic *l);

/* The processor priority (PPR), and INTR as last driven. */
uint32_t lapic_ppr(const struct lapic *l);
static inline bool lapic_intr(const struct lapic *l)
{
	return l->intr_level;
}

extern const struct io_ops lapic_ops;

/* Saved state (lib/vstate.h); a load re-arms the timer and drives INTR
 * to the loaded level. */
extern const struct vs_desc lapic_state;

#endif
