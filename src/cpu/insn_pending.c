/* Transitional: handlers still being written raise #UD. Removed once
 * every handler exists. */
#include "cpu/handlers.h"

void op_pending(struct cpu *cpu, const struct insn *in);
void op_pending(struct cpu *cpu, const struct insn *in)
{
	UD(cpu);
}

void op_cmps(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
void op_ins(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
void op_lods(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
void op_movs(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
void op_outs(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
void op_scas(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
void op_stos(struct cpu *cpu, const struct insn *in) __attribute__((weak, alias("op_pending")));
