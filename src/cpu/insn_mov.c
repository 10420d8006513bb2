/* Data movement: MOV, LEA, XCHG, MOVZX/MOVSX, CBW/CWDE, CWD/CDQ, CMOVcc,
 * SETcc, BSWAP, XLAT and the NOP forms. None of them touches flags. */
#include "cpu/exec.h"

FAST_HANDLER(op_mov_EG, insn_next_checked)
{
	rm_write(cpu, in, in->opsize, reg_read(cpu, in, in->reg, in->opsize));
}

FAST_HANDLER(op_mov_GE, insn_next_checked)
{
	reg_write(cpu, in, in->reg, in->opsize, rm_read(cpu, in, in->opsize));
}

/* Fast forms of MOV with 32-bit operands. */
FAST_HANDLER(op_mov_EG_r32, insn_next)
{
	cpu->s.gpr[in->rm] = (uint32_t)cpu->s.gpr[in->reg];
}

FAST_HANDLER(op_mov_GE_r32, insn_next)
{
	cpu->s.gpr[in->reg] = (uint32_t)cpu->s.gpr[in->rm];
}

FAST_LOAD(op_mov_GE_m32, 4)
{
	cpu->s.gpr[in->reg] = (uint32_t)v;
}

FAST_STORE(op_mov_EG_m32, 4)
{
	return (uint32_t)cpu->s.gpr[in->reg];
}

FAST_HANDLER(op_mov_rI_32, insn_next)
{
	cpu->s.gpr[in->reg] = (uint32_t)in->imm;
}

FAST_MEM_HANDLER(op_lea_32, insn_next)
{
	cpu->s.gpr[in->reg] = (uint32_t)ea;
}

FAST_STORE(op_mov_EI_m32, 4)
{
	return (uint32_t)in->imm;
}

FAST_HANDLER(op_mov_EI, insn_next_checked)
{
	rm_write(cpu, in, in->opsize, in->imm);
}

FAST_HANDLER(op_mov_rI, insn_next)
{
	reg_write(cpu, in, in->reg, in->opsize, in->imm);
}

/* MOV AL/eAX, moffs: the offset is an immediate of address size. */
/* The moffs forms: threaded too (they keep no RIP), so that a compiled
 * run can take them in (jit.c); Linux reaches its per-CPU variables
 * through FS with them. */
FAST_HANDLER(op_mov_AO, insn_next_checked)
{
	reg_write(cpu, in, R_AX, in->opsize,
		  mem_read(cpu, in->seg, in->imm, in->opsize));
}

FAST_HANDLER(op_mov_OA, insn_next_checked)
{
	mem_write(cpu, in->seg, in->imm, in->opsize,
		  reg_read(cpu, in, R_AX, in->opsize));
}

FAST_HANDLER(op_lea, insn_next)
{
	reg_write(cpu, in, in->reg, in->opsize, insn_ea(cpu, in));
}

/* XCHG with memory is always locked; emulated atomically per vCPU. */
void op_xchg_EG(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t r = reg_read(cpu, in, in->reg, size);
	if (in->mod == 3) {
		uint64_t m = reg_read(cpu, in, in->rm, size);
		reg_write(cpu, in, in->rm, size, r);
		reg_write(cpu, in, in->reg, size, m);
	} else {
		uint64_t ea = insn_ea(cpu, in);
		uint64_t m;
		mem_probe_write(cpu, in->seg, ea, size);
		m = mem_read(cpu, in->seg, ea, size);
		mem_write(cpu, in->seg, ea, size, r);
		reg_write(cpu, in, in->reg, size, m);
	}
}

/* 90+r: XCHG r, eAX; 90 itself is NOP (and F3 90 is PAUSE), except with
 * REX.B where it exchanges R8. */
void op_xchg_rA(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t a, r;
	if (in->reg == R_AX)
		return;
	a = reg_read(cpu, in, R_AX, size);
	r = reg_read(cpu, in, in->reg, size);
	reg_write(cpu, in, R_AX, size, r);
	reg_write(cpu, in, in->reg, size, a);
}

void op_nop(struct cpu *cpu, const struct insn *in)
{
}

/* 0F B6/B7: the source is a byte (B6) or a word (B7). */
FAST_HANDLER(op_movzx, insn_next_checked)
{
	unsigned src = (in->opcode & 1) ? 2 : 1;
	reg_write(cpu, in, in->reg, in->opsize, rm_read(cpu, in, src));
}

FAST_HANDLER(op_movzx_r32, insn_next)
{
	cpu->s.gpr[in->reg] = (in->opcode & 1) ? (uint16_t)cpu->s.gpr[in->rm]
					       : reg_read(cpu, in, in->rm, 1);
}

/* MOVZX r32 from memory, byte (0F B6) or word (0F B7) by opcode
 * (fast_form_select()). */
FAST_LOAD(op_movzxb_m32, 1)
{
	cpu->s.gpr[in->reg] = v;
}

FAST_LOAD(op_movzxw_m32, 2)
{
	cpu->s.gpr[in->reg] = v;
}

/* MOV of bytes and words with memory. */
FAST_LOAD(op_mov_GE_m8, 1)
{
	reg_write(cpu, in, in->reg, 1, v);
}

FAST_LOAD(op_mov_GE_m16, 2)
{
	reg_write(cpu, in, in->reg, 2, v);
}

FAST_STORE(op_mov_EG_m8, 1)
{
	return reg_read(cpu, in, in->reg, 1);
}

FAST_STORE(op_mov_EG_m16, 2)
{
	return reg_read(cpu, in, in->reg, 2);
}

/* CMOVcc r32 from memory, per condition: the source is read whatever the
 * condition (its faults happen either way). */
#define CMOV_M32(cc)                                                      \
	void op_cmov##cc##_m32(struct cpu *cpu, const struct insn *in)    \
	{                                                                 \
		uint32_t v = (uint32_t)mem_read(cpu, in->seg,             \
						fast_ea(cpu, in), 4);     \
		uint32_t r = (uint32_t)cpu->s.gpr[in->reg];               \
		if (cond_eval_fast(cpu, 0x##cc))                          \
			r = v;                                            \
		cpu->s.gpr[in->reg] = r;                                  \
	}                                                                 \
	FAST_MEM_ENTRIES(op_cmov##cc##_m32,                               \
		int c_ = cond_try(cpu, 0x##cc);                           \
		if (likely(c_ >= 0 &&                                     \
			   mem_fast_as(cpu, in->seg, ea, 4, ACC_READ, &p, flat_))) { \
			uint32_t v_ = (uint32_t)host_load(p, 4);          \
			if (!c_)                                          \
				v_ = (uint32_t)cpu->s.gpr[in->reg];       \
			cpu->s.gpr[in->reg] = v_;                         \
			insn_next(cpu, in);                               \
			return;                                           \
		})
CMOV_M32(0) CMOV_M32(1) CMOV_M32(2) CMOV_M32(3) CMOV_M32(4) CMOV_M32(5)
CMOV_M32(6) CMOV_M32(7) CMOV_M32(8) CMOV_M32(9) CMOV_M32(a) CMOV_M32(b)
CMOV_M32(c) CMOV_M32(d) CMOV_M32(e) CMOV_M32(f)

/* MOVSXD (63 in 64-bit mode): sign-extends a dword; without REX.W it is
 * a plain 32-bit move. */
void op_movsxd(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, 4);
	reg_write(cpu, in, in->reg, in->opsize,
		  (uint64_t)(int64_t)(int32_t)v);
}

FAST_HANDLER(op_movsx, insn_next_checked)
{
	unsigned src = (in->opcode & 1) ? 2 : 1;
	uint64_t v = rm_read(cpu, in, src);
	int64_t s = src == 1 ? (int64_t)(int8_t)v : (int64_t)(int16_t)v;
	reg_write(cpu, in, in->reg, in->opsize, (uint64_t)s);
}

/* CBW / CWDE / CDQE: sign-extend the lower half of the accumulator. */
void op_cbw(struct cpu *cpu, const struct insn *in)
{
	uint64_t a = cpu->s.gpr[R_AX];
	switch (in->opsize) {
	case 2: reg_write(cpu, in, R_AX, 2, (uint64_t)(int64_t)(int8_t)a); break;
	case 4: reg_write(cpu, in, R_AX, 4, (uint64_t)(int64_t)(int16_t)a); break;
	default: reg_write(cpu, in, R_AX, 8, (uint64_t)(int64_t)(int32_t)a); break;
	}
}

/* CWD / CDQ / CQO: the accumulator's sign fills DX/EDX/RDX. */
void op_cwd(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->opsize;
	uint64_t a = reg_read(cpu, in, R_AX, size);
	bool neg = (a >> (size * 8 - 1)) & 1;
	reg_write(cpu, in, R_DX, size, neg ? ~0ull : 0);
}

/* CMOVcc reads its source even when the condition is false (a memory
 * operand can fault either way), and a 32-bit destination is
 * zero-extended in 64-bit mode regardless. */
FAST_HANDLER(op_cmov, insn_next_checked)
{
	uint64_t v = rm_read(cpu, in, in->opsize);
	if (cond_eval(cpu, in->opcode & 0xf))
		reg_write(cpu, in, in->reg, in->opsize, v);
	else if (in->opsize == 4)
		reg_write(cpu, in, in->reg, 4, reg_read(cpu, in, in->reg, 4));
}

/* CMOVcc and SETcc with register operands, one threaded entry per
 * condition (chosen by fast_form_select()). */
#define CC_FORMS(cc)                                                      \
	void op_cmov##cc##_r32_t(struct cpu *cpu, const struct insn *in) \
	{                                                                 \
		uint32_t v = (uint32_t)cpu->s.gpr[in->reg];               \
		int c = cond_try(cpu, 0x##cc);                            \
		if (unlikely(c < 0)) {                                    \
			op_thunk(cpu, in);                                \
			return;                                           \
		}                                                         \
		if (c)                                                    \
			v = (uint32_t)cpu->s.gpr[in->rm];                 \
		cpu->s.gpr[in->reg] = v;                                  \
		insn_next(cpu, in);                                       \
	}                                                                 \
	void op_set##cc##_r8_t(struct cpu *cpu, const struct insn *in)   \
	{                                                                 \
		int c = cond_try(cpu, 0x##cc);                            \
		if (unlikely(c < 0)) {                                    \
			op_thunk(cpu, in);                                \
			return;                                           \
		}                                                         \
		reg_write(cpu, in, in->rm, 1, (uint64_t)c);               \
		insn_next(cpu, in);                                       \
	}
CC_FORMS(0) CC_FORMS(1) CC_FORMS(2) CC_FORMS(3) CC_FORMS(4) CC_FORMS(5)
CC_FORMS(6) CC_FORMS(7) CC_FORMS(8) CC_FORMS(9) CC_FORMS(a) CC_FORMS(b)
CC_FORMS(c) CC_FORMS(d) CC_FORMS(e) CC_FORMS(f)

FAST_HANDLER(op_setcc, insn_next_checked)
{
	rm_write(cpu, in, 1, cond_eval(cpu, in->opcode & 0xf));
}

/* BSWAP: with a 16-bit operand the result is undefined; real CPUs clear
 * the low word, which is what we do. */
void op_bswap(struct cpu *cpu, const struct insn *in)
{
	switch (in->opsize) {
	case 2:
		reg_write(cpu, in, in->reg, 2, 0);
		break;
	case 4:
		reg_write(cpu, in, in->reg, 4,
			  __builtin_bswap32((uint32_t)cpu->s.gpr[in->reg]));
		break;
	default:
		cpu->s.gpr[in->reg] = __builtin_bswap64(cpu->s.gpr[in->reg]);
	}
}

/* XLAT: AL = [seg:(e)BX + AL] at the address size. */
void op_xlat(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = (cpu->s.gpr[R_BX] + (cpu->s.gpr[R_AX] & 0xff)) &
		      size_mask(in->adsize);
	reg_write(cpu, in, R_AX, 1, mem_read(cpu, in->seg, ea, 1));
}
