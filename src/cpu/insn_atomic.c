/* Exchange-and-operate instructions: XADD, CMPXCHG, CMPXCHG8B (SDM vol. 2,
 * "XADD", "CMPXCHG", "CMPXCHG8B/CMPXCHG16B"). One vCPU runs them
 * atomically by construction; memory destinations are probed for writing
 * before anything is read or committed, since the processor always writes
 * the destination (CMPXCHG writes the old value back when the compare
 * fails). */
#include "cpu/exec.h"

void op_xadd(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t src = reg_read(cpu, in, in->reg, size);
	uint64_t dst, sum;
	if (in->mod == 3) {
		dst = reg_read(cpu, in, in->rm, size);
		sum = src + dst;
		/* SRC := DEST first, then DEST := sum: with one register for
		 * both, the sum wins. */
		reg_write(cpu, in, in->reg, size, dst);
		reg_write(cpu, in, in->rm, size, sum);
	} else {
		uint64_t ea = insn_ea(cpu, in);
		mem_probe_write(cpu, in->seg, ea, size);
		dst = mem_read(cpu, in->seg, ea, size);
		sum = src + dst;
		mem_write(cpu, in->seg, ea, size, sum);
		reg_write(cpu, in, in->reg, size, dst);
	}
	lf_set(cpu, LF_ADD, size, sum, dst, src, 0);
}

void op_cmpxchg(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t src = reg_read(cpu, in, in->reg, size);
	uint64_t acc = reg_read(cpu, in, R_AX, size);
	uint64_t dst;
	bool eq;
	if (in->mod == 3) {
		dst = reg_read(cpu, in, in->rm, size);
		eq = acc == dst;
		if (eq)
			reg_write(cpu, in, in->rm, size, src);
		else
			reg_write(cpu, in, R_AX, size, dst);
	} else {
		uint64_t ea = insn_ea(cpu, in);
		mem_probe_write(cpu, in->seg, ea, size);
		dst = mem_read(cpu, in->seg, ea, size);
		eq = acc == dst;
		mem_write(cpu, in->seg, ea, size, eq ? src : dst);
		if (!eq)
			reg_write(cpu, in, R_AX, size, dst);
	}
	lf_set(cpu, LF_SUB, size, acc - dst, acc, dst, 0);
}

/* 0F C7 /1. With REX.W it would be CMPXCHG16B, which CPUID does not
 * report: #UD. */
void op_cmpxchg8b(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, m, cmp;
	if (in->opsize == 8)
		UD(cpu);
	ea = insn_ea(cpu, in);
	mem_probe_write(cpu, in->seg, ea, 8);
	m = mem_read(cpu, in->seg, ea, 8);
	cmp = (cpu->s.gpr[R_AX] & 0xffffffffull) | (cpu->s.gpr[R_DX] << 32);
	if (m == cmp) {
		mem_write(cpu, in->seg, ea, 8,
			  (cpu->s.gpr[R_BX] & 0xffffffffull) |
				  (cpu->s.gpr[R_CX] << 32));
		flags_set(cpu, FL_ZF, FL_ZF);
	} else {
		mem_write(cpu, in->seg, ea, 8, m);
		reg_write(cpu, in, R_AX, 4, m);
		reg_write(cpu, in, R_DX, 4, m >> 32);
		flags_set(cpu, 0, FL_ZF);
	}
}
