/* The processor mode (real, protected, v86, long; CPL; code and stack
 * sizes) as the fast paths see it: derived fields of struct cpu that
 * must be recomputed, through cpu_update_mode(), after anything that
 * changes what they derive from. */
#ifndef V2E_CPU_MODE_H
#define V2E_CPU_MODE_H

#include <stdbool.h>

#include "cpu/vcpu.h"

static inline bool cpu_pe(const struct cpu *cpu)
{
	return cpu->s.cr0 & CR0_PE;
}
static inline bool cpu_vm86(const struct cpu *cpu)
{
	return cpu->s.rflags & FL_VM;
}
static inline bool cpu_long64(const struct cpu *cpu)
{
	return cpu->code_size == 8;
}
static inline bool cpu_protected(const struct cpu *cpu)
{
	return cpu_pe(cpu) && !cpu_vm86(cpu);
}

/* Recomputes cpl, code_size, stack_size and seg_fast after a change of
 * CR0, EFER, RFLAGS.VM or a segment register. */
void cpu_update_mode(struct cpu *cpu);
void seg_fast_update(struct cpu *cpu, int sreg);

#endif
