/* Segment-register instructions (SDM vol. 2): MOV to and from segment
 * registers, PUSH/POP Sreg, LDS LES LFS LGS LSS, and the protected-mode
 * descriptor probes ARPL, LAR, LSL, VERR and VERW. */
#include "cpu/exec.h"
#include "cpu/seg.h"

static void set_zf(struct cpu *cpu, bool zf)
{
	flags_set(cpu, zf ? FL_ZF : 0, FL_ZF);
}

/* MOV Sreg, r/m16. CS cannot be loaded this way; loading SS holds off
 * interrupts and debug traps for one instruction so that the following
 * load of (E)SP completes the stack switch first. */
void op_mov_SE(struct cpu *cpu, const struct insn *in)
{
	unsigned sreg = in->reg;
	uint16_t sel;

	if (sreg >= S_NR || sreg == S_CS)
		UD(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	seg_load(cpu, (int)sreg, sel);
	if (sreg == S_SS)
		cpu->inhibit_irq = SHADOW_MOV_SS;
	cpu->end_block = true;
}

/* MOV r/m, Sreg: a register destination gets the selector zero-extended
 * to the operand size; a memory destination is always 16 bits. */
void op_mov_ES(struct cpu *cpu, const struct insn *in)
{
	unsigned sreg = in->reg;
	uint16_t sel;

	if (sreg >= S_NR)
		UD(cpu);
	sel = cpu->s.seg[sreg].selector;
	if (in->mod == 3)
		reg_write(cpu, in, in->rm, in->opsize, sel);
	else
		mem_write(cpu, in->seg, insn_ea(cpu, in), 2, sel);
}

static int push_pop_sreg(uint8_t opcode)
{
	switch (opcode) {
	case 0x06: case 0x07: return S_ES;
	case 0x0e: return S_CS;
	case 0x16: case 0x17: return S_SS;
	case 0x1e: case 0x1f: return S_DS;
	case 0xa0: case 0xa1: return S_FS;
	default: return S_GS; /* 0F A8 / 0F A9 */
	}
}

/* PUSH Sreg: with a 32-bit operand size the stack moves by 4 but only the
 * low 16 bits are written, as P6 and later processors do. */
void op_push_sreg(struct cpu *cpu, const struct insn *in)
{
	int sreg = push_pop_sreg(in->opcode);
	uint64_t sp = (stack_sp(cpu) - in->opsize) & stack_ptr_mask(cpu);

	mem_write(cpu, S_SS, sp, 2, cpu->s.seg[sreg].selector);
	stack_set_sp(cpu, sp);
}

/* POP Sreg: the selector is loaded with its checks before the stack
 * pointer moves, so a faulting load leaves the stack as it was. */
void op_pop_sreg(struct cpu *cpu, const struct insn *in)
{
	int sreg = push_pop_sreg(in->opcode);
	uint64_t mask = stack_ptr_mask(cpu);
	uint64_t sp = stack_sp(cpu);
	uint16_t sel = (uint16_t)mem_read(cpu, S_SS, sp, 2);

	/* The whole operand must lie inside the stack segment. */
	if (in->opsize > 2)
		(void)mem_read(cpu, S_SS, sp, in->opsize);
	seg_load(cpu, sreg, sel);
	sp = (sp + in->opsize) & mask;
	/* The stack pointer moves at the old stack's address size. */
	if (mask == 0xffff)
		cpu->s.gpr[R_SP] = (cpu->s.gpr[R_SP] & ~0xffffull) | sp;
	else
		cpu->s.gpr[R_SP] = sp;
	if (sreg == S_SS)
		cpu->inhibit_irq = SHADOW_MOV_SS;
	cpu->end_block = true;
}

/* LDS LES LFS LGS LSS: a far pointer m16:16 or m16:32. */
void op_lxs(struct cpu *cpu, const struct insn *in)
{
	int sreg;
	uint64_t ea = insn_ea(cpu, in);
	uint64_t off;
	uint16_t sel;

	switch (in->opcode) {
	case 0xc4: sreg = S_ES; break;
	case 0xc5: sreg = S_DS; break;
	case 0xb2: sreg = S_SS; break;
	case 0xb4: sreg = S_FS; break;
	default: sreg = S_GS; break;
	}
	off = mem_read(cpu, in->seg, ea, in->opsize);
	sel = (uint16_t)mem_read(cpu, in->seg,
				 (ea + in->opsize) & size_mask(in->adsize), 2);
	seg_load(cpu, sreg, sel);
	reg_write(cpu, in, in->reg, in->opsize, off);
	cpu->end_block = true;
}

/* ARPL r/m16, r16: raises the RPL of the destination to the source's. */
void op_arpl(struct cpu *cpu, const struct insn *in)
{
	uint16_t dst, src;

	if (!cpu_protected(cpu))
		UD(cpu);
	dst = (uint16_t)rm_read(cpu, in, 2);
	src = (uint16_t)reg_read(cpu, in, in->reg, 2);
	if ((dst & 3) < (src & 3)) {
		rm_write(cpu, in, 2, (dst & ~3u) | (src & 3));
		set_zf(cpu, true);
	} else {
		set_zf(cpu, false);
	}
}

/* The descriptor a LAR/LSL/VERR/VERW selector names, if the selector is
 * not null and lies within its table. */
static bool probe_desc(struct cpu *cpu, uint16_t sel, struct desc *d)
{
	if ((sel & ~3u) == 0)
		return false;
	return desc_read(cpu, sel, d);
}

/* The privilege rule the four probes share: conforming code segments are
 * visible from anywhere, everything else needs DPL >= CPL and DPL >= RPL. */
static bool probe_visible(const struct cpu *cpu, uint16_t sel,
			  const struct desc *d)
{
	unsigned dpl = desc_dpl(d);
	if (desc_is_code(d) && desc_code_conforming(d))
		return true;
	return dpl >= cpu->cpl && dpl >= (sel & 3u);
}

/* LAR: code and data segments, and the system types the SDM's LAR table
 * lists as valid (TSSs, LDT, call and task gates; not interrupt or trap
 * gates). */
void op_lar(struct cpu *cpu, const struct insn *in)
{
	struct desc d;
	uint16_t sel;
	bool ok;

	if (!cpu_protected(cpu))
		UD(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	ok = probe_desc(cpu, sel, &d);
	if (ok && !desc_s(&d)) {
		switch (desc_type(&d)) {
		case DT_TSS16_AVAIL: case DT_LDT: case DT_TSS16_BUSY:
		case DT_CALLGATE16: case DT_TASKGATE: case DT_TSS32_AVAIL:
		case DT_TSS32_BUSY: case DT_CALLGATE32:
			break;
		default:
			ok = false;
		}
	}
	ok = ok && probe_visible(cpu, sel, &d);
	if (ok)
		reg_write(cpu, in, in->reg, in->opsize,
			  d.hi & (in->opsize == 2 ? 0xff00u : 0x00f0ff00u));
	set_zf(cpu, ok);
}

/* LSL: code and data segments, TSSs and LDTs (no gates: they have no
 * limit). The limit is byte-granular, G applied. */
void op_lsl(struct cpu *cpu, const struct insn *in)
{
	struct desc d;
	uint16_t sel;
	bool ok;

	if (!cpu_protected(cpu))
		UD(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	ok = probe_desc(cpu, sel, &d);
	if (ok && !desc_s(&d)) {
		switch (desc_type(&d)) {
		case DT_TSS16_AVAIL: case DT_LDT: case DT_TSS16_BUSY:
		case DT_TSS32_AVAIL: case DT_TSS32_BUSY:
			break;
		default:
			ok = false;
		}
	}
	ok = ok && probe_visible(cpu, sel, &d);
	if (ok) {
		struct x86_segment s;
		desc_to_seg(&d, sel, &s);
		reg_write(cpu, in, in->reg, in->opsize, s.limit);
	}
	set_zf(cpu, ok);
}

static void verify(struct cpu *cpu, const struct insn *in, bool write)
{
	struct desc d;
	uint16_t sel;
	bool ok;

	if (!cpu_protected(cpu))
		UD(cpu);
	sel = (uint16_t)rm_read(cpu, in, 2);
	ok = probe_desc(cpu, sel, &d) && desc_s(&d) &&
	     probe_visible(cpu, sel, &d);
	if (ok) {
		if (write)
			ok = desc_is_data(&d) && desc_data_writable(&d);
		else
			ok = desc_is_data(&d) || desc_code_readable(&d);
	}
	set_zf(cpu, ok);
}

void op_verr(struct cpu *cpu, const struct insn *in)
{
	verify(cpu, in, false);
}

void op_verw(struct cpu *cpu, const struct insn *in)
{
	verify(cpu, in, true);
}
