/* Faults: an instruction that cannot complete raises an exception and
 * unwinds (longjmp) to the instruction boundary, so handlers never
 * return errors and commit nothing before their last check. Delivery
 * through the IVT or IDT, with the double-fault rules, is a service the
 * run loop calls; it knows nothing of blocks. */
#ifndef V2E_CPU_FAULT_H
#define V2E_CPU_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/vcpu.h"

/* Raises an exception from inside an instruction: the instruction has no
 * effect beyond what it already committed, and cpu_run() delivers it. */
__attribute__((noreturn)) void cpu_fault(struct cpu *cpu, int vector,
					 uint32_t error);
__attribute__((noreturn)) void cpu_fault_noerr(struct cpu *cpu, int vector);
#define UD(cpu) cpu_fault_noerr(cpu, EXC_UD)
#define GP0(cpu) cpu_fault(cpu, EXC_GP, 0)

/* Delivers an interrupt or exception through the IVT/IDT (intr.c).
 * `kind`: INTR_EXT (hardware, NMI), INTR_SOFT (INT n: DPL checked),
 * INTR_SOFT_EXC (INT3, INTO: DPL checked, not IOPL-sensitive), INTR_EXC
 * (exception; error code pushed when has_err). `return_rip` is the EIP
 * pushed (or saved in the TSS); a fault during delivery still reports
 * cpu->s.rip, the instruction or boundary the event belongs to. */
enum intr_kind { INTR_EXT, INTR_SOFT, INTR_EXC, INTR_SOFT_EXC };

/* CPU_LOG_UNIMP: `in` (opcode `opcode`, 0x0fXX in the two-byte map) has
 * no implementation here and raises #UD. Call with the bit set only. */
void cpu_log_no_insn(struct cpu *cpu, const struct insn *in, unsigned opcode);
void intr_deliver(struct cpu *cpu, int vector, enum intr_kind kind,
		  bool has_err, uint32_t error, uint64_t return_rip);

/* Delivers the exception cpu_fault() recorded, applying the double-fault
 * rules (SDM vol. 3, table 6-5) when it happened while delivering
 * another; a fault while delivering #DF is a shutdown (fault.c). */
void fault_deliver(struct cpu *cpu);

#endif
