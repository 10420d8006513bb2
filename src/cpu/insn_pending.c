/* Transitional: handlers still being written raise #UD. Removed once
 * every handler exists. */
#include "cpu/handlers.h"

void op_pending(struct cpu *cpu, const struct insn *in);
void op_pending(struct cpu *cpu, const struct insn *in)
{
	UD(cpu);
}

