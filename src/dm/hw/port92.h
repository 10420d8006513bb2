/* System control port A (port 0x92, "fast A20 and init", as on the PS/2
 * and every PC chipset since): bit 1 drives the A20 gate, a 0->1 write of
 * bit 0 pulses the CPU's reset. Both leave the chip as lines, so the
 * device knows nothing of the CPU or the board. */
#ifndef V2E_DM_HW_PORT92_H
#define V2E_DM_HW_PORT92_H

#include <stdint.h>

#include "dev/device.h"
#include "lib/vstate.h"

struct port92 {
	uint8_t value;           /* bits 0-1 as last written */
	struct irq_line a20;     /* level: A20 enabled */
	struct irq_line reset;   /* pulsed on a 0->1 write of bit 0 */
};

/* A20 starts disabled, as after a PC's power-on. */
void port92_init(struct port92 *p, const struct irq_line *a20,
		 const struct irq_line *reset);

extern const struct io_ops port92_ops; /* 1 port, opaque = struct port92 */

/* Saved state (lib/vstate.h); a load drives A20 to the loaded level. */
extern const struct vs_desc port92_state;

#endif
