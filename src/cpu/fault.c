/* Faults (fault.h): raising an exception from inside an instruction,
 * and delivering it with the double-fault rules (SDM vol. 3, table
 * 6-5); the handlers of encodings that only fault. */
#include "cpu/fault.h"
#include "cpu/handlers.h"

static bool vector_has_error(int v)
{
	return v == EXC_DF || v == EXC_TS || v == EXC_NP || v == EXC_SS ||
	       v == EXC_GP || v == EXC_PF || v == EXC_AC;
}

void cpu_fault(struct cpu *cpu, int vector, uint32_t error)
{
	/* cpu_run() settles the running block where it lands. */
	cpu->fault_vector = (uint8_t)vector;
	cpu->fault_error = error;
	longjmp(cpu->fault_jmp, 1);
}

void cpu_fault_noerr(struct cpu *cpu, int vector)
{
	cpu_fault(cpu, vector, 0);
}

static bool contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

void fault_deliver(struct cpu *cpu)
{
	int v = cpu->fault_vector;
	uint32_t err = cpu->fault_error;

	/* A delivery counts as a step of the budget and of the deterministic
	 * clock, so a guest looping on faults still lets time pass and
	 * cpu_run() return. */
	cpu->icount++;
	cpu->end_block = true;
	if (cpu->delivering) {
		int first = cpu->first_exc;
		if (first == EXC_DF) {
			cpu->delivering = 0;
			cpu->s.ev.shutdown = 1;
			return;
		}
		if ((contributory(first) && contributory(v)) ||
		    (first == EXC_PF && (contributory(v) || v == EXC_PF))) {
			v = EXC_DF;
			err = 0;
		}
	}
	cpu->delivering = 1;
	cpu->first_exc = (uint8_t)v;
	intr_deliver(cpu, v, INTR_EXC, vector_has_error(v), err, cpu->s.rip);
	cpu->delivering = 0;
}

void op_ud(struct cpu *cpu, const struct insn *in)
{
	UD(cpu);
}

void cpu_log_no_insn(struct cpu *cpu, const struct insn *in, unsigned opcode)
{
	struct cpu_log_note nt = {
		.item = CPU_LOG_UNIMP,
		.kind = CPU_NOTE_NO_INSN,
		.value = opcode,
		.value2 = in->sse_pfx,
		.cs = cpu->s.seg[S_CS].selector,
		.rip = cpu->s.rip,
	};
	cpu->log.note(cpu->log.opaque, &nt);
}

/* An opcode the emulator has no handler for: #UD, as for an invalid
 * one, but the model may well have it (CPU_LOG_UNIMP). */
void op_ud_nohandler(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(cpu->log_mask & CPU_LOG_UNIMP))
		cpu_log_no_insn(cpu, in, (unsigned)in->imm);
	UD(cpu);
}

void op_gp_too_long(struct cpu *cpu, const struct insn *in)
{
	GP0(cpu);
}
