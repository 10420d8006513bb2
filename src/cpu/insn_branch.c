/* Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPE/LOOPNE, JCXZ.
 * A target beyond the code segment limit is #GP(0) before anything is
 * committed (SDM vol. 2, JMP/CALL/RET "Operation"). */
#include "cpu/codecache.h"
#include "cpu/exec.h"
#include "cpu/ops.h"

/* Sets the branch target, truncated to the operand size, after the limit
 * check of the current mode. */
static inline void branch_to(struct cpu *cpu, unsigned opsize, uint64_t target)
{
	target &= size_mask(opsize);
	if (!cpu_long64(cpu) && target > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	cpu->next_rip = target;
}

void op_jcc(struct cpu *cpu, const struct insn *in)
{
	if (cond_eval(cpu, in->opcode & 0xf))
		branch_to(cpu, in->opsize, cpu->next_rip + in->imm);
}

void op_jmp_rel(struct cpu *cpu, const struct insn *in)
{
	branch_to(cpu, in->opsize, cpu->next_rip + in->imm);
}

void op_call_rel(struct cpu *cpu, const struct insn *in)
{
	uint64_t ret = cpu->next_rip;
	uint64_t target = (ret + in->imm) & size_mask(in->opsize);
	if (!cpu_long64(cpu) && target > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	stack_push(cpu, in->opsize, ret);
	cpu->next_rip = target;
}

/* Fast forms: 32-bit CALL rel32 and RET on a 32-bit stack. */
void op_call_rel32(struct cpu *cpu, const struct insn *in)
{
	uint32_t ret = (uint32_t)cpu->next_rip, target, sp;
	if (unlikely(cpu->stack_size != 4)) {
		op_call_rel(cpu, in);
		return;
	}
	target = ret + (uint32_t)in->imm;
	if (target > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	sp = (uint32_t)cpu->s.gpr[R_SP] - 4;
	mem_write(cpu, S_SS, sp, 4, ret);
	cpu->s.gpr[R_SP] = sp;
	cpu->next_rip = target;
}

void op_ret32(struct cpu *cpu, const struct insn *in)
{
	uint32_t sp, target;
	if (unlikely(cpu->stack_size != 4)) {
		op_ret(cpu, in);
		return;
	}
	sp = (uint32_t)cpu->s.gpr[R_SP];
	target = (uint32_t)mem_read(cpu, S_SS, sp, 4);
	if (target > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	cpu->s.gpr[R_SP] = sp + 4;
	cpu->next_rip = target;
}

void op_jmp_E(struct cpu *cpu, const struct insn *in)
{
	branch_to(cpu, in->opsize, rm_read(cpu, in, in->opsize));
}

void op_call_E(struct cpu *cpu, const struct insn *in)
{
	uint64_t target = rm_read(cpu, in, in->opsize) & size_mask(in->opsize);
	if (!cpu_long64(cpu) && target > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	stack_push(cpu, in->opsize, cpu->next_rip);
	cpu->next_rip = target;
}

static void ret_near(struct cpu *cpu, const struct insn *in, uint64_t extra)
{
	uint64_t sp = stack_sp(cpu);
	uint64_t target = stack_pop_at(cpu, &sp, in->opsize);
	if (!cpu_long64(cpu) && target > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	stack_set_sp(cpu, sp + extra);
	cpu->next_rip = target;
}

void op_ret(struct cpu *cpu, const struct insn *in)
{
	ret_near(cpu, in, 0);
}

void op_ret_imm(struct cpu *cpu, const struct insn *in)
{
	ret_near(cpu, in, in->imm & 0xffff);
}

/* LOOP family: the counter is CX, ECX or RCX by address size. */
static inline uint64_t count_dec(struct cpu *cpu, const struct insn *in)
{
	uint64_t c = (cpu->s.gpr[R_CX] - 1) & size_mask(in->adsize);
	reg_write(cpu, in, R_CX, in->adsize, c);
	return c;
}

void op_loop(struct cpu *cpu, const struct insn *in)
{
	if (count_dec(cpu, in))
		branch_to(cpu, in->opsize, cpu->next_rip + in->imm);
}

void op_loope(struct cpu *cpu, const struct insn *in)
{
	if (count_dec(cpu, in) && flag_zf(cpu))
		branch_to(cpu, in->opsize, cpu->next_rip + in->imm);
}

void op_loopne(struct cpu *cpu, const struct insn *in)
{
	if (count_dec(cpu, in) && !flag_zf(cpu))
		branch_to(cpu, in->opsize, cpu->next_rip + in->imm);
}

void op_jcxz(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->s.gpr[R_CX] & size_mask(in->adsize)) == 0)
		branch_to(cpu, in->opsize, cpu->next_rip + in->imm);
}

/* Threaded entries of the near branches: they end the chain with s.rip at
 * the target or the fall-through. One Jcc per condition, so that the
 * condition folds to a compare of the lazy flags. */
static inline __attribute__((always_inline)) void jcc_t(struct cpu *cpu,
							const struct insn *in,
							unsigned cc)
{
	int c = cond_try(cpu, cc);
	if (unlikely(c < 0)) {
		op_thunk_end(cpu, in);
		return;
	}
	if (c) {
		uint64_t target = insn_branch_target(cpu, in);
		if (target > cpu->code_limit) {
			cpu->cur_insn = in;
			GP0(cpu);
		}
		branch_link(cpu, in, target, LINK_TAKEN);
		return;
	}
	branch_link(cpu, in, insn_next_rip(cpu, in), LINK_NEXT);
}

#define JCC_T(cc)                                                         \
	void op_jcc##cc##_t(struct cpu *cpu, const struct insn *in)     \
	{                                                                 \
		jcc_t(cpu, in, 0x##cc);                                   \
	}
JCC_T(0) JCC_T(1) JCC_T(2) JCC_T(3) JCC_T(4) JCC_T(5) JCC_T(6) JCC_T(7)
JCC_T(8) JCC_T(9) JCC_T(a) JCC_T(b) JCC_T(c) JCC_T(d) JCC_T(e) JCC_T(f)

void op_jmp_rel_t(struct cpu *cpu, const struct insn *in)
{
	uint64_t target = insn_branch_target(cpu, in);
	if (target > cpu->code_limit) {
		cpu->cur_insn = in;
		GP0(cpu);
	}
	branch_link(cpu, in, target, LINK_TAKEN);
}

/* CALL and RET on a 32-bit stack with the stack access inline; anything
 * else (another stack size, a fault, MMIO) through the handler. */
void op_call_rel32_t(struct cpu *cpu, const struct insn *in)
{
	uint32_t ret = (uint32_t)insn_next_rip(cpu, in);
	uint32_t target = (uint32_t)insn_branch_target(cpu, in);
	uint32_t sp = (uint32_t)cpu->s.gpr[R_SP] - 4;
	uint8_t *p;
	if (likely(target <= cpu->code_limit &&
		   stack32_fast(cpu, sp, ACC_WRITE, &p))) {
		host_store(p, 4, ret);
		cpu->s.gpr[R_SP] = sp;
		ras_push(cpu, ret);
		branch_link(cpu, in, target, LINK_TAKEN);
		return;
	}
	op_thunk_end(cpu, in);
}

void op_ret32_t(struct cpu *cpu, const struct insn *in)
{
	uint32_t sp = (uint32_t)cpu->s.gpr[R_SP], target;
	uint8_t *p;
	if (likely(stack32_fast(cpu, sp, ACC_READ, &p))) {
		target = (uint32_t)host_load(p, 4);
		if (likely(target <= cpu->code_limit)) {
			cpu->s.gpr[R_SP] = sp + 4;
			branch_return(cpu, in, target);
			return;
		}
	}
	op_thunk_end(cpu, in);
}

/* Compare and branch fused: CMP r32,r32, CMP r32,imm or TEST r32,r32 and
 * the Jcc after it as one threaded entry. The flags are still recorded
 * for whatever reads them later; the condition comes straight from the
 * operands. `in` is the compare, in + 1 the Jcc. */
static inline __attribute__((always_inline)) bool cond_sub32(
	uint32_t a, uint32_t b, unsigned cc)
{
	uint32_t r = a - b;
	bool t;
	switch (cc >> 1) {
	case 0: t = ((a ^ b) & (a ^ r)) >> 31; break;
	case 1: t = a < b; break;
	case 2: t = a == b; break;
	case 3: t = a <= b; break;
	case 4: t = (int32_t)r < 0; break;
	case 5: t = !__builtin_parity(r & 0xff); break;
	case 6: t = (int32_t)a < (int32_t)b; break;
	default: t = (int32_t)a <= (int32_t)b; break;
	}
	return t ^ (cc & 1);
}

static inline __attribute__((always_inline)) bool cond_logic32(uint32_t r,
							       unsigned cc)
{
	bool t;
	switch (cc >> 1) {
	case 0: case 1: t = false; break;
	case 2: case 3: t = r == 0; break;
	case 4: case 6: t = (int32_t)r < 0; break;
	case 5: t = !__builtin_parity(r & 0xff); break;
	default: t = r == 0 || (int32_t)r < 0; break;
	}
	return t ^ (cc & 1);
}

static inline __attribute__((always_inline)) void fused_branch(
	struct cpu *cpu, const struct insn *j, bool taken)
{
	if (taken) {
		uint64_t target = insn_branch_target(cpu, j);
		if (target > cpu->code_limit) {
			cpu->cur_insn = j;
			GP0(cpu);
		}
		branch_link(cpu, j, target, LINK_TAKEN);
		return;
	}
	branch_link(cpu, j, insn_next_rip(cpu, j), LINK_NEXT);
}

void op_jcc_taken_t(struct cpu *cpu, const struct insn *in)
{
	fused_branch(cpu, in, true);
}

void op_jcc_not_taken_t(struct cpu *cpu, const struct insn *in)
{
	fused_branch(cpu, in, false);
}

/* CMP with a memory operand and the Jcc after it: `a - b`, the operands
 * read once the access is known to go through (p). */
#define FUSED_CMP_MEM(name, ea_of, flat, cc, a_expr, b_expr)              \
	static void name(struct cpu *cpu, const struct insn *in)          \
	{                                                                 \
		uint64_t ea = ea_of(cpu, in);                             \
		uint8_t *p;                                               \
		if (likely(mem_fast_as(cpu, in->seg, ea, 4, ACC_READ, &p, flat))) { \
			uint32_t a = (uint32_t)(a_expr);                  \
			uint32_t b = (uint32_t)(b_expr);                  \
			lf_set(cpu, LF_SUB, 4, a - b, a, b, 0);           \
			fused_branch(cpu, in + 1, cond_sub32(a, b, cc));  \
			return;                                           \
		}                                                         \
		insn_slow(cpu, in);                                       \
	}

#define FUSED(cc)                                                         \
	static void op_cmpEG_j##cc(struct cpu *cpu, const struct insn *in) \
	{                                                                 \
		uint32_t a = (uint32_t)cpu->s.gpr[in->rm];                \
		uint32_t b = (uint32_t)cpu->s.gpr[in->reg];               \
		lf_set(cpu, LF_SUB, 4, a - b, a, b, 0);                   \
		fused_branch(cpu, in + 1, cond_sub32(a, b, 0x##cc));      \
	}                                                                 \
	static void op_cmpEI_j##cc(struct cpu *cpu, const struct insn *in) \
	{                                                                 \
		uint32_t a = (uint32_t)cpu->s.gpr[in->rm];                \
		uint32_t b = (uint32_t)in->imm;                           \
		lf_set(cpu, LF_SUB, 4, a - b, a, b, 0);                   \
		fused_branch(cpu, in + 1, cond_sub32(a, b, 0x##cc));      \
	}                                                                 \
	static void op_testEG_j##cc(struct cpu *cpu, const struct insn *in) \
	{                                                                 \
		uint32_t r = (uint32_t)(cpu->s.gpr[in->rm] & cpu->s.gpr[in->reg]); \
		lf_set(cpu, LF_LOGIC, 4, r, 0, 0, 0);                     \
		fused_branch(cpu, in + 1, cond_logic32(r, 0x##cc));       \
	}                                                                 \
	FUSED_CMP_MEM(op_cmpGEm_j##cc, fast_ea, false, 0x##cc,          \
		      cpu->s.gpr[in->reg], host_load(p, 4))               \
	FUSED_CMP_MEM(op_cmpGEmf_j##cc, flat_ea, true, 0x##cc,          \
		      cpu->s.gpr[in->reg], host_load(p, 4))               \
	FUSED_CMP_MEM(op_cmpEGm_j##cc, fast_ea, false, 0x##cc,          \
		      host_load(p, 4), cpu->s.gpr[in->reg])               \
	FUSED_CMP_MEM(op_cmpEGmf_j##cc, flat_ea, true, 0x##cc,          \
		      host_load(p, 4), cpu->s.gpr[in->reg])               \
	static void op_dec_j##cc(struct cpu *cpu, const struct insn *in)  \
	{                                                                 \
		uint32_t a = (uint32_t)cpu->s.gpr[in->reg];               \
		lf_set(cpu, LF_DEC, 4, a - 1, a, 1, flag_cf(cpu));        \
		cpu->s.gpr[in->reg] = (uint32_t)(a - 1);                  \
		fused_branch(cpu, in + 1, cond_try(cpu, 0x##cc) > 0);     \
	}                                                                 \
	static void op_addEI_j##cc(struct cpu *cpu, const struct insn *in) \
	{                                                                 \
		uint32_t a = (uint32_t)cpu->s.gpr[in->rm];                \
		uint32_t b = (uint32_t)in->imm;                           \
		lf_set(cpu, LF_ADD, 4, a + b, a, b, 0);                   \
		cpu->s.gpr[in->rm] = (uint32_t)(a + b);                   \
		fused_branch(cpu, in + 1, cond_try(cpu, 0x##cc) > 0);     \
	}
FUSED(0) FUSED(1) FUSED(2) FUSED(3) FUSED(4) FUSED(5) FUSED(6) FUSED(7)
FUSED(8) FUSED(9) FUSED(a) FUSED(b) FUSED(c) FUSED(d) FUSED(e) FUSED(f)

#define FUSED_ROW(op)                                                     \
	{ op##_j0, op##_j1, op##_j2, op##_j3, op##_j4, op##_j5, op##_j6,  \
	  op##_j7, op##_j8, op##_j9, op##_ja, op##_jb, op##_jc, op##_jd,  \
	  op##_je, op##_jf }

void insn_fuse_jcc(struct insn *cmp, const struct insn *jcc)
{
	/* The compares that have fused forms, by operation and form. */
	static const struct {
		uint8_t op, form;
		insn_fn fused[16];
	} pairs[] = {
		{ OP_CMP_EG, FORM_REG, FUSED_ROW(op_cmpEG) },
		{ OP_CMP_EI, FORM_REG, FUSED_ROW(op_cmpEI) },
		{ OP_TEST_EG, FORM_REG, FUSED_ROW(op_testEG) },
		{ OP_CMP_GE, FORM_MEM, FUSED_ROW(op_cmpGEm) },
		{ OP_CMP_EG, FORM_MEM, FUSED_ROW(op_cmpEGm) },
		{ OP_CMP_GE, FORM_FLAT, FUSED_ROW(op_cmpGEmf) },
		{ OP_CMP_EG, FORM_FLAT, FUSED_ROW(op_cmpEGmf) },
		{ OP_DEC_R, FORM_FIXED, FUSED_ROW(op_dec) },
		{ OP_ADD_EI, FORM_REG, FUSED_ROW(op_addEI) },
	};
	unsigned cc = jcc->opcode & 0xf;
	/* The fused forms take the Jcc's target from branch_target_prepare(). */
	if (jcc->op != OP_JCC || jcc->form == FORM_THUNK)
		return;
	/* After DEC and ADD, OF and the signed conditions need flag_of():
	 * those pairs stay apart (cond_try() would give -1). */
	if ((cmp->op == OP_DEC_R || cmp->op == OP_ADD_EI) &&
	    (cc >> 1 == 0 || cc >> 1 >= 6))
		return;
	for (unsigned i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (cmp->op == pairs[i].op && cmp->form == pairs[i].form) {
			cmp->run = pairs[i].fused[jcc->opcode & 0xf];
			cmp->flags |= INSN_FUSED;
			return;
		}
	}
}

void branch_target_prepare(struct insn *in)
{
	int64_t t;
	/* The relative branches with a threaded entry (fast_form_select()). */
	if (in->form == FORM_THUNK ||
	    (in->op != OP_JCC && in->op != OP_JMP_REL && in->op != OP_CALL_REL))
		return;
	/* Offsets within 32 bits wrap with the mode's IP mask; beyond, only
	 * 64-bit targets are meant and the thunk computes them. */
	t = (int64_t)in->off + in->len + (int64_t)in->imm;
	if (t != (int32_t)t) {
		in->run = op_thunk_end;
		in->form = FORM_THUNK;
		return;
	}
	in->disp = (int32_t)t;
}
