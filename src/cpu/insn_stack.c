/* Stack instructions: PUSH/POP of registers, memory and immediates, PUSHA
 * and POPA, ENTER and LEAVE, PUSHF and POPF (with the IOPL and v86 rules
 * of SDM vol. 2 and vol. 3, 20.2.7). */
#include "cpu/exec.h"

void op_push_r(struct cpu *cpu, const struct insn *in)
{
	stack_push(cpu, in->opsize, reg_read(cpu, in, in->reg, in->opsize));
}

void op_pop_r(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = stack_pop(cpu, in->opsize);
	reg_write(cpu, in, in->reg, in->opsize, v);
}

/* Fast forms for a 32-bit operand on a 32-bit stack (SS.B set), the
 * protected-mode kernel's common case; otherwise the generic path. */
void op_push_r32(struct cpu *cpu, const struct insn *in)
{
	uint32_t sp;
	if (unlikely(cpu->stack_size != 4)) {
		op_push_r(cpu, in);
		return;
	}
	sp = (uint32_t)cpu->s.gpr[R_SP] - 4;
	mem_write(cpu, S_SS, sp, 4, (uint32_t)cpu->s.gpr[in->reg]);
	cpu->s.gpr[R_SP] = sp;
}

void op_pop_r32(struct cpu *cpu, const struct insn *in)
{
	uint32_t sp, v;
	if (unlikely(cpu->stack_size != 4)) {
		op_pop_r(cpu, in);
		return;
	}
	sp = (uint32_t)cpu->s.gpr[R_SP];
	v = (uint32_t)mem_read(cpu, S_SS, sp, 4);
	cpu->s.gpr[R_SP] = sp + 4;
	cpu->s.gpr[in->reg] = v; /* POP ESP: the popped value wins */
}

/* Their threaded entries: the access inline, anything else through the
 * handler (insn_slow()). */
void op_push_r32_t(struct cpu *cpu, const struct insn *in)
{
	uint32_t sp = (uint32_t)cpu->s.gpr[R_SP] - 4;
	uint8_t *p;
	if (likely(stack32_fast(cpu, sp, ACC_WRITE, &p))) {
		host_store(p, 4, (uint32_t)cpu->s.gpr[in->reg]);
		cpu->s.gpr[R_SP] = sp;
		insn_next(cpu, in);
		return;
	}
	insn_slow(cpu, in);
}

void op_pop_r32_t(struct cpu *cpu, const struct insn *in)
{
	uint32_t sp = (uint32_t)cpu->s.gpr[R_SP];
	uint8_t *p;
	if (likely(stack32_fast(cpu, sp, ACC_READ, &p))) {
		uint32_t v = (uint32_t)host_load(p, 4);
		cpu->s.gpr[R_SP] = sp + 4;
		cpu->s.gpr[in->reg] = v;
		insn_next(cpu, in);
		return;
	}
	insn_slow(cpu, in);
}

void op_push_I(struct cpu *cpu, const struct insn *in)
{
	stack_push(cpu, in->opsize, in->imm);
}

void op_push_E(struct cpu *cpu, const struct insn *in)
{
	stack_push(cpu, in->opsize, rm_read(cpu, in, in->opsize));
}

/* POP r/m: the address is computed with the stack pointer already
 * incremented (SDM vol. 2, POP), and nothing is committed if the store
 * faults. */
void op_pop_E(struct cpu *cpu, const struct insn *in)
{
	uint64_t old_sp = cpu->s.gpr[R_SP];
	uint64_t sp = stack_sp(cpu);
	uint64_t v = stack_pop_at(cpu, &sp, in->opsize);
	if (in->mod == 3) {
		stack_set_sp(cpu, sp);
		reg_write(cpu, in, in->rm, in->opsize, v);
		return;
	}
	stack_set_sp(cpu, sp);
	{
		uint64_t ea = insn_ea(cpu, in);
		cpu->s.gpr[R_SP] = old_sp;
		mem_write(cpu, in->seg, ea, in->opsize, v);
		stack_set_sp(cpu, sp);
	}
}

void op_pusha(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t sp = stack_sp(cpu);
	uint64_t orig_sp = cpu->s.gpr[R_SP];
	for (int r = R_AX; r <= R_DI; r++)
		stack_push_at(cpu, &sp, size, r == R_SP ? orig_sp : cpu->s.gpr[r]);
	stack_set_sp(cpu, sp);
}

void op_popa(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t sp = stack_sp(cpu);
	uint64_t v[8];
	for (int r = R_DI; r >= R_AX; r--)
		v[r] = stack_pop_at(cpu, &sp, size);
	for (int r = R_AX; r <= R_DI; r++)
		if (r != R_SP)
			reg_write(cpu, in, r, size, v[r]);
	stack_set_sp(cpu, sp);
}

/* ENTER imm16, imm8: builds a stack frame with `level` display entries. */
void op_enter(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	unsigned level = insn_imm2(in) & 31;
	uint64_t frame_size = in->imm & 0xffff;
	uint64_t sp = stack_sp(cpu);
	uint64_t bp = cpu->s.gpr[R_BP] & stack_ptr_mask(cpu);
	uint64_t frame;

	stack_push_at(cpu, &sp, size, cpu->s.gpr[R_BP]);
	frame = sp;
	if (level > 0) {
		for (unsigned i = 1; i < level; i++) {
			bp = (bp - size) & stack_ptr_mask(cpu);
			stack_push_at(cpu, &sp, size, mem_read(cpu, S_SS, bp, size));
		}
		stack_push_at(cpu, &sp, size, frame);
	}
	sp = (sp - frame_size) & stack_ptr_mask(cpu);
	/* The final stack pointer must be writable (#SS otherwise). */
	if (frame_size)
		mem_probe_write(cpu, S_SS, sp, 1);
	reg_write(cpu, in, R_BP, size, frame);
	stack_set_sp(cpu, sp);
}

void op_leave(struct cpu *cpu, const struct insn *in)
{
	uint64_t sp = cpu->s.gpr[R_BP] & stack_ptr_mask(cpu);
	uint64_t v = stack_pop_at(cpu, &sp, in->opsize);
	stack_set_sp(cpu, sp);
	reg_write(cpu, in, R_BP, in->opsize, v);
}

/* PUSHF: in v86 mode with IOPL < 3 it faults (unless CR4.VME, where the
 * 16-bit form pushes VIF as IF). VM and RF are never pushed as set. */
void op_pushf(struct cpu *cpu, const struct insn *in)
{
	uint64_t fl = flags_get(cpu);
	if (cpu_vm86(cpu) && ((fl & FL_IOPL) >> FL_IOPL_SHIFT) < 3) {
		if (!(cpu->s.cr4 & CR4_VME) || in->opsize != 2)
			GP0(cpu);
		fl = (fl & ~(uint64_t)FL_IF) | ((fl & FL_VIF) ? FL_IF : 0) |
		     FL_IOPL;
	}
	stack_push(cpu, in->opsize, fl & ~(uint64_t)(FL_VM | FL_RF));
}

/* POPF: which bits change depends on CPL, IOPL and mode (SDM vol. 2,
 * POPF, "Operation"). */
void op_popf(struct cpu *cpu, const struct insn *in)
{
	uint64_t fl = flags_get(cpu);
	unsigned iopl = (fl & FL_IOPL) >> FL_IOPL_SHIFT;
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
	uint64_t v;

	if (cpu_vm86(cpu) && iopl < 3) {
		if (!(cpu->s.cr4 & CR4_VME) || in->opsize != 2)
			GP0(cpu);
		v = stack_peek(cpu, 2, 0);
		if (((v & FL_IF) && (fl & FL_VIP)) || (v & FL_TF))
			GP0(cpu);
		stack_pop(cpu, 2);
		mask = FL_ARITH | FL_DF | FL_NT;
		fl = (fl & ~(uint64_t)FL_VIF) | ((v & FL_IF) ? FL_VIF : 0);
		flags_set(cpu, fl, FL_VIF);
		flags_set(cpu, v, mask);
		cpu->end_block = true;
		return;
	}
	v = stack_pop(cpu, in->opsize);
	if (!cpu_pe(cpu) || cpu->cpl == 0)
		mask |= FL_IOPL | FL_IF;
	else if (cpu->cpl <= iopl)
		mask |= FL_IF;
	if (cpu_vm86(cpu))
		mask = (mask | FL_IF) & ~(uint64_t)FL_IOPL;
	if (in->opsize == 2)
		mask &= 0xffff;
	flags_set(cpu, v, mask);
	cpu->end_block = true;
}
