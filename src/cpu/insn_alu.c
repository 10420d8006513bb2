/* Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP, TEST, INC,
 * DEC, NOT, NEG, and the flag instructions CMC CLC STC CLD STD SAHF LAHF
 * SALC. Results leave lazy flags behind (flags.c). */
#include "cpu/exec.h"

enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

/* Computes dst OP src at `size` and records the flags. */
static inline __attribute__((always_inline)) uint64_t alu_compute(struct cpu *cpu, enum alu_op op,
				   unsigned size, uint64_t a, uint64_t b)
{
	uint64_t r;
	uint32_t c;
	switch (op) {
	case ALU_ADD:
		r = a + b;
		lf_set(cpu, LF_ADD, size, r, a, b, 0);
		return r;
	case ALU_ADC:
		c = flag_cf(cpu);
		r = a + b + c;
		lf_set(cpu, LF_ADC, size, r, a, b, c);
		return r;
	case ALU_SBB:
		c = flag_cf(cpu);
		r = a - b - c;
		lf_set(cpu, LF_SBB, size, r, a, b, c);
		return r;
	case ALU_SUB:
	case ALU_CMP:
		r = a - b;
		lf_set(cpu, LF_SUB, size, r, a, b, 0);
		return r;
	case ALU_OR:
		r = a | b;
		break;
	case ALU_AND:
		r = a & b;
		break;
	default:
		r = a ^ b;
		break;
	}
	lf_set(cpu, LF_LOGIC, size, r, 0, 0, 0);
	return r;
}

/* Memory destinations are read-modify-write: one write translation
 * serves both accesses when the fast path has it (as FAST_RMW and the
 * native code do); otherwise the write is probed before the read. CMP
 * never writes. */
static inline __attribute__((always_inline)) void alu_rm(struct cpu *cpu, const struct insn *in,
			  enum alu_op op, uint64_t src)
{
	unsigned size = in->opsize;
	if (in->mod == 3) {
		uint64_t a = reg_read(cpu, in, in->rm, size);
		uint64_t r = alu_compute(cpu, op, size, a, src);
		if (op != ALU_CMP)
			reg_write(cpu, in, in->rm, size, r);
	} else {
		uint64_t ea = insn_ea(cpu, in);
		uint64_t a, r;
		uint8_t *p;
		if (op != ALU_CMP &&
		    mem_fast(cpu, in->seg, ea, size, ACC_WRITE, &p)) {
			host_store(p, size, alu_compute(cpu, op, size,
							host_load(p, size), src));
			return;
		}
		if (op != ALU_CMP)
			mem_probe_write(cpu, in->seg, ea, size);
		a = mem_read(cpu, in->seg, ea, size);
		r = alu_compute(cpu, op, size, a, src);
		if (op != ALU_CMP)
			mem_write(cpu, in->seg, ea, size, r);
	}
}

#define ALU_HANDLERS(name, op)                                                \
	FAST_HANDLER(op_##name##_EG, insn_next_checked)                      \
	{                                                                     \
		alu_rm(cpu, in, op, reg_read(cpu, in, in->reg, in->opsize));  \
	}                                                                     \
	FAST_HANDLER(op_##name##_GE, insn_next_checked)                      \
	{                                                                     \
		uint64_t b = rm_read(cpu, in, in->opsize);                    \
		uint64_t a = reg_read(cpu, in, in->reg, in->opsize);          \
		uint64_t r = alu_compute(cpu, op, in->opsize, a, b);          \
		if (op != ALU_CMP)                                            \
			reg_write(cpu, in, in->reg, in->opsize, r);           \
	}                                                                     \
	FAST_HANDLER(op_##name##_AI, insn_next)                              \
	{                                                                     \
		uint64_t a = reg_read(cpu, in, R_AX, in->opsize);             \
		uint64_t r = alu_compute(cpu, op, in->opsize, a, in->imm);    \
		if (op != ALU_CMP)                                            \
			reg_write(cpu, in, R_AX, in->opsize, r);              \
	}                                                                     \
	FAST_HANDLER(op_##name##_EI, insn_next_checked)                      \
	{                                                                     \
		alu_rm(cpu, in, op, in->imm);                                 \
	}

/* Fast forms: 32-bit operands in registers, no size or operand dispatch. */
#define ALU_FAST_HANDLERS(name, op)                                           \
	/* Register numbers read before the flag stores, which could alias \
	 * the record's bytes as far as the compiler knows. */              \
	FAST_HANDLER(op_##name##_EG_r32, insn_next)                          \
	{                                                                     \
		unsigned rm = in->rm, reg = in->reg;                          \
		uint64_t r = alu_compute(cpu, op, 4, (uint32_t)cpu->s.gpr[rm], \
					 (uint32_t)cpu->s.gpr[reg]);          \
		if (op != ALU_CMP)                                            \
			cpu->s.gpr[rm] = (uint32_t)r;                         \
	}                                                                     \
	FAST_HANDLER(op_##name##_GE_r32, insn_next)                          \
	{                                                                     \
		unsigned rm = in->rm, reg = in->reg;                          \
		uint64_t r = alu_compute(cpu, op, 4, (uint32_t)cpu->s.gpr[reg], \
					 (uint32_t)cpu->s.gpr[rm]);           \
		if (op != ALU_CMP)                                            \
			cpu->s.gpr[reg] = (uint32_t)r;                        \
	}                                                                     \
	FAST_HANDLER(op_##name##_EI_r32, insn_next)                          \
	{                                                                     \
		unsigned rm = in->rm;                                         \
		uint64_t r = alu_compute(cpu, op, 4, (uint32_t)cpu->s.gpr[rm], \
					 (uint32_t)in->imm);                  \
		if (op != ALU_CMP)                                            \
			cpu->s.gpr[rm] = (uint32_t)r;                         \
	}

/* Fast forms with a 32-bit memory operand. A destination is written
 * through the write translation, which implies the read (FAST_RMW); CMP
 * only reads. */
#define ALU_FAST_MEM_DEST(name, op)                                           \
	FAST_RMW(op_##name##_EG_m32, 4)                                       \
	{                                                                     \
		return alu_compute(cpu, op, 4, (uint32_t)a,                   \
				   (uint32_t)cpu->s.gpr[in->reg]);            \
	}                                                                     \
	FAST_RMW(op_##name##_EI_m32, 4)                                       \
	{                                                                     \
		return alu_compute(cpu, op, 4, (uint32_t)a, (uint32_t)in->imm); \
	}

#define ALU_FAST_MEM_HANDLERS(name, op)                                       \
	FAST_LOAD(op_##name##_GE_m32, 4)                                      \
	{                                                                     \
		unsigned reg = in->reg;                                       \
		uint64_t r = alu_compute(cpu, op, 4, (uint32_t)cpu->s.gpr[reg], \
					 (uint32_t)v);                        \
		if (op != ALU_CMP)                                            \
			cpu->s.gpr[reg] = (uint32_t)r;                        \
	}                                                                     \
	FAST_HANDLER(op_##name##_AI_32, insn_next)                           \
	{                                                                     \
		uint64_t r = alu_compute(cpu, op, 4, (uint32_t)cpu->s.gpr[R_AX], \
					 (uint32_t)in->imm);                  \
		if (op != ALU_CMP)                                            \
			cpu->s.gpr[R_AX] = (uint32_t)r;                       \
	}

ALU_FAST_MEM_HANDLERS(add, ALU_ADD)
ALU_FAST_MEM_HANDLERS(or, ALU_OR)
ALU_FAST_MEM_HANDLERS(adc, ALU_ADC)
ALU_FAST_MEM_HANDLERS(sbb, ALU_SBB)
ALU_FAST_MEM_HANDLERS(and, ALU_AND)
ALU_FAST_MEM_HANDLERS(sub, ALU_SUB)
ALU_FAST_MEM_HANDLERS(xor, ALU_XOR)
ALU_FAST_MEM_HANDLERS(cmp, ALU_CMP)
ALU_FAST_MEM_DEST(add, ALU_ADD)
ALU_FAST_MEM_DEST(or, ALU_OR)
ALU_FAST_MEM_DEST(adc, ALU_ADC)
ALU_FAST_MEM_DEST(sbb, ALU_SBB)
ALU_FAST_MEM_DEST(and, ALU_AND)
ALU_FAST_MEM_DEST(sub, ALU_SUB)
ALU_FAST_MEM_DEST(xor, ALU_XOR)

/* CMP with a memory destination only reads it. */
FAST_LOAD(op_cmp_EG_m32, 4)
{
	alu_compute(cpu, ALU_CMP, 4, (uint32_t)v, (uint32_t)cpu->s.gpr[in->reg]);
}

FAST_LOAD(op_cmp_EI_m32, 4)
{
	alu_compute(cpu, ALU_CMP, 4, (uint32_t)v, (uint32_t)in->imm);
}

ALU_FAST_HANDLERS(add, ALU_ADD)
ALU_FAST_HANDLERS(or, ALU_OR)
ALU_FAST_HANDLERS(adc, ALU_ADC)
ALU_FAST_HANDLERS(sbb, ALU_SBB)
ALU_FAST_HANDLERS(and, ALU_AND)
ALU_FAST_HANDLERS(sub, ALU_SUB)
ALU_FAST_HANDLERS(xor, ALU_XOR)
ALU_FAST_HANDLERS(cmp, ALU_CMP)

ALU_HANDLERS(add, ALU_ADD)
ALU_HANDLERS(or, ALU_OR)
ALU_HANDLERS(adc, ALU_ADC)
ALU_HANDLERS(sbb, ALU_SBB)
ALU_HANDLERS(and, ALU_AND)
ALU_HANDLERS(sub, ALU_SUB)
ALU_HANDLERS(xor, ALU_XOR)
ALU_HANDLERS(cmp, ALU_CMP)

static inline void test_flags(struct cpu *cpu, unsigned size, uint64_t r)
{
	lf_set(cpu, LF_LOGIC, size, r, 0, 0, 0);
}

FAST_HANDLER(op_test_EG, insn_next_checked)
{
	test_flags(cpu, in->opsize, rm_read(cpu, in, in->opsize) &
					    reg_read(cpu, in, in->reg, in->opsize));
}

FAST_HANDLER(op_test_EG_r32, insn_next)
{
	test_flags(cpu, 4, (uint32_t)(cpu->s.gpr[in->rm] & cpu->s.gpr[in->reg]));
}

FAST_HANDLER(op_test_AI, insn_next)
{
	test_flags(cpu, in->opsize, reg_read(cpu, in, R_AX, in->opsize) & in->imm);
}

FAST_HANDLER(op_test_EI, insn_next_checked)
{
	test_flags(cpu, in->opsize, rm_read(cpu, in, in->opsize) & in->imm);
}

/* INC and DEC keep CF: it is captured before the new lazy state. */
static inline __attribute__((always_inline)) uint64_t incdec(struct cpu *cpu, unsigned size, uint64_t a, bool dec)
{
	uint32_t cf = flag_cf(cpu);
	uint64_t r = dec ? a - 1 : a + 1;
	lf_set(cpu, dec ? LF_DEC : LF_INC, size, r, a, 1, cf);
	return r;
}

FAST_HANDLER(op_inc_r, insn_next)
{
	reg_write(cpu, in, in->reg, in->opsize,
		  incdec(cpu, in->opsize, reg_read(cpu, in, in->reg, in->opsize), false));
}

FAST_HANDLER(op_dec_r, insn_next)
{
	reg_write(cpu, in, in->reg, in->opsize,
		  incdec(cpu, in->opsize, reg_read(cpu, in, in->reg, in->opsize), true));
}

FAST_HANDLER(op_inc_r32, insn_next)
{
	unsigned reg = in->reg;
	cpu->s.gpr[reg] = (uint32_t)incdec(cpu, 4, (uint32_t)cpu->s.gpr[reg], false);
}

FAST_HANDLER(op_dec_r32, insn_next)
{
	unsigned reg = in->reg;
	cpu->s.gpr[reg] = (uint32_t)incdec(cpu, 4, (uint32_t)cpu->s.gpr[reg], true);
}

/* Read-modify-write of the r/m operand with a unary operation (memory:
 * as alu_rm()). */
#define RMW_UNARY(cpu, in, expr_of_a)                                          \
	do {                                                                   \
		unsigned size_ = (in)->opsize;                                 \
		uint8_t *p_;                                                   \
		if ((in)->mod == 3) {                                          \
			uint64_t a = reg_read(cpu, in, (in)->rm, size_);       \
			reg_write(cpu, in, (in)->rm, size_, (expr_of_a));      \
		} else if (mem_fast(cpu, (in)->seg, insn_ea(cpu, in), size_,   \
				    ACC_WRITE, &p_)) {                         \
			uint64_t a = host_load(p_, size_);                     \
			host_store(p_, size_, (expr_of_a));                    \
		} else {                                                       \
			uint64_t ea_ = insn_ea(cpu, in);                       \
			uint64_t a;                                            \
			mem_probe_write(cpu, (in)->seg, ea_, size_);           \
			a = mem_read(cpu, (in)->seg, ea_, size_);              \
			mem_write(cpu, (in)->seg, ea_, size_, (expr_of_a));    \
		}                                                              \
	} while (0)

FAST_HANDLER(op_inc_E, insn_next_checked)
{
	RMW_UNARY(cpu, in, incdec(cpu, size_, a, false));
}

FAST_HANDLER(op_dec_E, insn_next_checked)
{
	RMW_UNARY(cpu, in, incdec(cpu, size_, a, true));
}

/* INC, DEC, NOT and NEG of a 32-bit memory operand. */
FAST_RMW(op_inc_m32, 4)
{
	return (uint32_t)incdec(cpu, 4, a, false);
}

FAST_RMW(op_dec_m32, 4)
{
	return (uint32_t)incdec(cpu, 4, a, true);
}

FAST_RMW(op_not_m32, 4)
{
	return (uint32_t)~a;
}

FAST_HANDLER(op_not_r32, insn_next)
{
	cpu->s.gpr[in->rm] = (uint32_t)~cpu->s.gpr[in->rm];
}

FAST_HANDLER(op_not_E, insn_next_checked)
{
	RMW_UNARY(cpu, in, ~a);
}

static uint64_t neg(struct cpu *cpu, unsigned size, uint64_t a)
{
	uint64_t r = -a;
	lf_set(cpu, LF_NEG, size, r, a, 0, 0);
	return r;
}

FAST_HANDLER(op_neg_E, insn_next_checked)
{
	RMW_UNARY(cpu, in, neg(cpu, size_, a));
}

void op_cmc(struct cpu *cpu, const struct insn *in)
{
	flags_set(cpu, flags_get(cpu) ^ FL_CF, FL_CF);
}

void op_clc(struct cpu *cpu, const struct insn *in)
{
	flags_set(cpu, 0, FL_CF);
}

void op_stc(struct cpu *cpu, const struct insn *in)
{
	flags_set(cpu, FL_CF, FL_CF);
}

void op_cld(struct cpu *cpu, const struct insn *in)
{
	cpu->s.rflags &= ~(uint64_t)FL_DF;
}

void op_std(struct cpu *cpu, const struct insn *in)
{
	cpu->s.rflags |= FL_DF;
}

void op_sahf(struct cpu *cpu, const struct insn *in)
{
	uint64_t ah = (cpu->s.gpr[R_AX] >> 8) & 0xff;
	flags_set(cpu, ah, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF);
}

void op_lahf(struct cpu *cpu, const struct insn *in)
{
	uint64_t fl = flags_get(cpu);
	uint64_t ah = (fl & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF)) | FL_FIXED1;
	cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~0xff00ull) | (ah << 8);
}

/* SALC (D6): AL = CF ? 0xff : 0; undocumented but present on every
 * 32-bit Intel CPU. */
void op_salc(struct cpu *cpu, const struct insn *in)
{
	cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~0xffull) | (flag_cf(cpu) ? 0xff : 0);
}
