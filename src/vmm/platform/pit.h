/* Intel 8254 programmable interval timer at 1193182 Hz, as on the PC
 * (counters at ports 0x40-0x42, control word at 0x43), and the PC's
 * system control port B (port 0x61), which gates counter 2, reads its
 * OUT and the DRAM refresh toggle.
 *
 * Wiring for the board:
 *   pit_ops at 0x40 (4 ports), pit_port61_ops at 0x61 (1 port), both with
 *   the struct pit as opaque; counter 0's OUT drives the irq_line given to
 *   pit_init (ISA IRQ 0). Counters 0 and 1 have GATE tied high; counter
 *   2's GATE is port 0x61 bit 0.
 *
 * Time: counts are computed from the virtual clock (never ticked), and a
 * single vtimer is armed only for counter 0's next OUT transition, each
 * at the exact tick it happens (so a periodic mode never drifts and an
 * idle counter costs nothing). */
#ifndef V2E_VMM_PLATFORM_PIT_H
#define V2E_VMM_PLATFORM_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/vclock.h"
#include "lib/vstate.h"

#define PIT_HZ 1193182

/* What a counter is doing between events. */
#define PIT_IDLE 0    /* waiting for a count, a trigger or GATE */
#define PIT_RUNNING 1 /* counting from `start` */
#define PIT_PAUSED 2  /* modes 0 and 4 with GATE low: frozen at `offset` */

/* One counter. Times are in input clock ticks since the VM started: tick
 * k is the k-th CLK pulse, and a state "at tick T" is the state after it.
 * While running, p = T - start + offset counts pulses since the CE was
 * loaded (p = 0 on the loading pulse); OUT and CE are functions of p. */
struct pit_counter {
	uint8_t ctrl;       /* RW1 RW0 M2 M1 M0 BCD of the last control word */
	uint8_t mode;       /* effective mode 0-5 (6 and 7 are 2 and 3) */
	uint8_t rw;         /* 1 LSB, 2 MSB, 3 LSB then MSB */
	bool bcd;
	bool gate;
	uint8_t state;      /* PIT_IDLE, PIT_RUNNING, PIT_PAUSED */
	uint16_t cr;        /* count register: the count last written */
	uint8_t cr_lsb;     /* first byte of a two-byte count */
	bool cr_valid;      /* a count was written since the control word */
	bool write_msb;     /* write flip-flop: the next byte is the MSB */
	bool read_msb;      /* read flip-flop */
	bool count_latched;
	bool status_latched;
	uint16_t latch;     /* output latch (counter latch / read-back) */
	uint8_t status;     /* latched status byte */
	uint32_t n;         /* the count in the CE's cycle: 1-65536 (BCD 1-10000) */
	uint64_t start;     /* tick of the loading pulse */
	uint64_t offset;    /* pulses counted before `start` (mode 3 phase, pause) */
	uint64_t reload_at; /* modes 2/3: tick at which `cr` replaces n, or NEVER */
	uint64_t null_until; /* NULL COUNT reads 1 before this tick */
	uint32_t ce_idle;   /* CE while idle or before the loading pulse */
	bool out_idle;      /* OUT while idle or before the loading pulse */
};

struct pit {
	struct pit_counter c[3];
	uint8_t port61;     /* bits 0-3 as written: GATE2, SPKR data, PCK, IOCHK enables */
	bool irq0_level;    /* what IRQ 0 was last driven to */
	struct irq_line irq0;
	struct vclock *clock;
	struct vtimer timer; /* counter 0's next OUT transition */
};

/* Power-on state: counters idle (mode 0, no count, OUT low), no timer
 * armed. `irq0` is counter 0's OUT. */
void pit_init(struct pit *pit, const struct irq_line *irq0,
	      struct vclock *clock);
/* A system reset: as pit_init, keeping the wiring. */
void pit_reset(struct pit *pit);

/* OUT of counter `i` (0-2) now. */
bool pit_out(struct pit *pit, unsigned i);

extern const struct io_ops pit_ops;        /* 0x40-0x43 */
extern const struct io_ops pit_port61_ops; /* 0x61 */

/* Saved state (lib/vstate.h); a load re-arms the timer and drives IRQ 0
 * to the loaded level. */
extern const struct vs_desc pit_state;

#endif
