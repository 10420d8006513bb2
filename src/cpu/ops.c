/* The facts about every operation (ops.h), one row each. A new operation
 * is a row here, its slots in optable.c and its handler. */
#include "cpu/handlers.h"
#include "cpu/ops.h"

#define A FL_ARITH
/* The flags an INC or DEC, IMUL r, r/m or BT-style operation keeps. */
#define KEEP_CF FL_CF
#define BUT_CF (FL_ARITH & ~FL_CF)
#define BUT_CF_OF (FL_ARITH & ~(FL_CF | FL_OF))
#define BUT_ZF (FL_ARITH & ~FL_ZF)

/* The code generator's forms. */
#define T JIT_FORM(FORM_THUNK)
#define Y JIT_FORM(FORM_ANY)
#define X JIT_FORM(FORM_FIXED)
#define R JIT_FORM(FORM_REG)
#define M JIT_FORM(FORM_MEM)
#define L JIT_FORM(FORM_FLAT)
#define NOJIT 0

#define OP(id, fn_, in_, out_, fault_, jit_)                              \
	[OP_##id] = { .fn = fn_, .name = #id, .flags_in = (in_),          \
		      .flags_out = (out_), .fault = FAULT_##fault_,       \
		      .alu = ALU_NONE, .jit = JIT_STATED | (jit_) }
#define ALU(id, fn_, alu_, shape_, in_, fault_, jit_)                     \
	[OP_##id] = { .fn = fn_, .name = #id, .flags_in = (in_),          \
		      .flags_out = A, .fault = FAULT_##fault_,            \
		      .alu = (alu_), .shape = (shape_),                   \
		      .jit = JIT_STATED | (jit_) }
/* The eight ALU operations in their four encodings: the code generator
 * takes the 32-bit register and flat-memory forms and the generic
 * threaded entries (bytes and words); AL/AX/EAX op= imm by its 32-bit
 * form too. */
#define ALU4(ID, op, alu_, in_)                                             \
	ALU(ID##_EG, op_##op##_EG, alu_, SHAPE_EG, in_, MEM, R | L | M | Y),   \
	ALU(ID##_GE, op_##op##_GE, alu_, SHAPE_GE, in_, MEM, R | L | M | Y),   \
	ALU(ID##_EI, op_##op##_EI, alu_, SHAPE_EI, in_, MEM, R | L | M | Y),   \
	ALU(ID##_AI, op_##op##_AI, alu_, SHAPE_AI, in_, NEVER, X | Y)

const struct op_info op_info[OP_NR] = {
	ALU4(ADD, add, ALU_ADD, 0), ALU4(OR, or, ALU_OR, 0),
	ALU4(ADC, adc, ALU_ADC, FL_CF), ALU4(SBB, sbb, ALU_SBB, FL_CF),
	ALU4(AND, and, ALU_AND, 0), ALU4(SUB, sub, ALU_SUB, 0),
	ALU4(XOR, xor, ALU_XOR, 0), ALU4(CMP, cmp, ALU_CMP, 0),
	ALU(TEST_EG, op_test_EG, ALU_TEST, SHAPE_EG, 0, MEM, R | Y),
	ALU(TEST_EI, op_test_EI, ALU_TEST, SHAPE_EI, 0, MEM, Y),
	ALU(TEST_AI, op_test_AI, ALU_TEST, SHAPE_AI, 0, NEVER, Y),
	OP(INC_R, op_inc_r, KEEP_CF, BUT_CF, NEVER, X | Y),
	OP(DEC_R, op_dec_r, KEEP_CF, BUT_CF, NEVER, X | Y),
	OP(INC_E, op_inc_E, KEEP_CF, BUT_CF, MEM, L | M | Y),
	OP(DEC_E, op_dec_E, KEEP_CF, BUT_CF, MEM, L | M | Y),
	OP(NOT_E, op_not_E, 0, 0, MEM, R | L | M),
	OP(NEG_E, op_neg_E, 0, A, MEM, Y),
	OP(CMC, op_cmc, FL_CF, FL_CF, NEVER, NOJIT),
	OP(CLC, op_clc, 0, FL_CF, NEVER, NOJIT),
	OP(STC, op_stc, 0, FL_CF, NEVER, NOJIT),
	OP(CLD, op_cld, 0, 0, NEVER, NOJIT),
	OP(STD, op_std, 0, 0, NEVER, NOJIT),
	OP(SAHF, op_sahf, FL_OF, FL_ARITH & ~FL_OF, NEVER, NOJIT),
	OP(LAHF, op_lahf, A, 0, NEVER, NOJIT),
	OP(SALC, op_salc, FL_CF, 0, NEVER, NOJIT),

	OP(MOV_EG, op_mov_EG, 0, 0, MEM, R | L | M | Y),
	OP(MOV_GE, op_mov_GE, 0, 0, MEM, R | L | M | Y),
	OP(MOV_EI, op_mov_EI, 0, 0, MEM, L | M | Y),
	OP(MOV_RI, op_mov_rI, 0, 0, NEVER, X | Y),
	OP(MOV_AO, op_mov_AO, 0, 0, ANY, Y),
	OP(MOV_OA, op_mov_OA, 0, 0, ANY, Y),
	OP(LEA, op_lea, 0, 0, NEVER, M),
	OP(XCHG_EG, op_xchg_EG, 0, 0, MEM, NOJIT),
	OP(XCHG_RA, op_xchg_rA, 0, 0, NEVER, NOJIT),
	OP(NOP, op_nop, 0, 0, NEVER, NOJIT),
	OP(MOVZX, op_movzx, 0, 0, MEM, R | L | M),
	OP(MOVSX, op_movsx, 0, 0, MEM, Y),
	OP(MOVSXD, op_movsxd, 0, 0, MEM, NOJIT),
	OP(CBW, op_cbw, 0, 0, NEVER, NOJIT),
	OP(CWD, op_cwd, 0, 0, NEVER, T),
	OP(CMOV, op_cmov, A, 0, MEM, R | L | M),
	OP(SETCC, op_setcc, A, 0, MEM, R),
	OP(BSWAP, op_bswap, 0, 0, NEVER, NOJIT),
	OP(XLAT, op_xlat, 0, 0, ANY, NOJIT),

	OP(PUSH_R, op_push_r, 0, 0, ANY, X),
	OP(POP_R, op_pop_r, 0, 0, ANY, X),
	OP(PUSH_I, op_push_I, 0, 0, ANY, T),
	OP(PUSH_E, op_push_E, 0, 0, ANY, T),
	OP(POP_E, op_pop_E, 0, 0, ANY, NOJIT),
	OP(PUSHA, op_pusha, 0, 0, ANY, NOJIT),
	OP(POPA, op_popa, 0, 0, ANY, NOJIT),
	OP(ENTER, op_enter, 0, 0, ANY, NOJIT),
	OP(LEAVE, op_leave, 0, 0, ANY, T),
	OP(PUSHF, op_pushf, A, 0, ANY, NOJIT),
	OP(POPF, op_popf, 0, A, ANY, NOJIT),

	/* Branches leave the block; the code generator takes the block's
	 * closing Jcc, JMP and CALL. */
	OP(JCC, op_jcc, A, 0, ANY, X),
	OP(JMP_REL, op_jmp_rel, 0, 0, ANY, Y),
	OP(CALL_REL, op_call_rel, 0, 0, ANY, X),
	OP(JMP_E, op_jmp_E, 0, 0, ANY, NOJIT),
	OP(CALL_E, op_call_E, 0, 0, ANY, NOJIT),
	OP(RET, op_ret, 0, 0, ANY, X),
	OP(RET_IMM, op_ret_imm, 0, 0, ANY, NOJIT),
	OP(LOOP, op_loop, 0, 0, ANY, NOJIT),
	OP(LOOPE, op_loope, FL_ZF, 0, ANY, NOJIT),
	OP(LOOPNE, op_loopne, FL_ZF, 0, ANY, NOJIT),
	OP(JCXZ, op_jcxz, 0, 0, ANY, NOJIT),

	/* A count of 0 keeps every flag; RCL and RCR read CF. The code
	 * generator takes SHL, SHR and SAR of a 32-bit register by 1 or an
	 * immediate, and ROL and ROR by an immediate where their flags are
	 * dead. */
	OP(SHIFT_E1, op_shift_E1, A, A, MEM, R),
	OP(SHIFT_ECL, op_shift_ECL, A, A, MEM, R),
	OP(SHIFT_EI, op_shift_EI, A, A, MEM, R),
	OP(SHLD_I, op_shld_I, A, A, MEM, T),
	OP(SHLD_CL, op_shld_CL, A, A, MEM, T),
	OP(SHRD_I, op_shrd_I, A, A, MEM, T),
	OP(SHRD_CL, op_shrd_CL, A, A, MEM, T),

	/* MUL and IMUL write CF and OF; the byte forms all six. */
	OP(MUL_E, op_mul_E, A, A, MEM, T),
	OP(IMUL_E, op_imul_E, A, A, MEM, T),
	OP(DIV_E, op_div_E, A, A, ANY, NOJIT),
	OP(IDIV_E, op_idiv_E, A, A, ANY, NOJIT),
	OP(IMUL_GE, op_imul_GE, BUT_CF_OF, FL_CF | FL_OF, MEM, R | L | M),
	OP(IMUL_GEI, op_imul_GEI, BUT_CF_OF, FL_CF | FL_OF, MEM, R),

	OP(BT_EG, op_bt_EG, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BTS_EG, op_bts_EG, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BTR_EG, op_btr_EG, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BTC_EG, op_btc_EG, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BT_EI, op_bt_EI, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BTS_EI, op_bts_EI, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BTR_EI, op_btr_EI, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BTC_EI, op_btc_EI, BUT_CF, FL_CF, MEM, NOJIT),
	OP(BSF, op_bsf, 0, A, MEM, NOJIT),
	OP(BSR, op_bsr, 0, A, MEM, NOJIT),

	OP(DAA, op_daa, A, A, NEVER, NOJIT),
	OP(DAS, op_das, A, A, NEVER, NOJIT),
	OP(AAA, op_aaa, A, A, NEVER, NOJIT),
	OP(AAS, op_aas, A, A, NEVER, NOJIT),
	OP(AAM, op_aam, 0, A, ANY, NOJIT),
	OP(AAD, op_aad, 0, A, NEVER, NOJIT),

	/* A REP with a count of 0 keeps the flags CMPS and SCAS set. */
	OP(MOVS, op_movs, 0, 0, ANY, NOJIT),
	OP(CMPS, op_cmps, A, A, ANY, NOJIT),
	OP(STOS, op_stos, 0, 0, ANY, NOJIT),
	OP(LODS, op_lods, 0, 0, ANY, NOJIT),
	OP(SCAS, op_scas, A, A, ANY, NOJIT),
	OP(INS, op_ins, 0, 0, ANY, NOJIT),
	OP(OUTS, op_outs, 0, 0, ANY, NOJIT),

	OP(XADD, op_xadd, 0, A, MEM, NOJIT),
	OP(CMPXCHG, op_cmpxchg, 0, A, MEM, NOJIT),
	OP(CMPXCHG8B, op_cmpxchg8b, BUT_ZF, FL_ZF, ANY, NOJIT),

	OP(IN_I, op_in_I, 0, 0, ANY, NOJIT),
	OP(OUT_I, op_out_I, 0, 0, ANY, NOJIT),
	OP(IN_DX, op_in_DX, 0, 0, ANY, NOJIT),
	OP(OUT_DX, op_out_DX, 0, 0, ANY, NOJIT),

	OP(MOV_ES, op_mov_ES, 0, 0, MEM, NOJIT),
	OP(MOV_SE, op_mov_SE, 0, 0, ANY, NOJIT),
	OP(PUSH_SREG, op_push_sreg, 0, 0, ANY, NOJIT),
	OP(POP_SREG, op_pop_sreg, 0, 0, ANY, NOJIT),
	OP(LXS, op_lxs, 0, 0, ANY, NOJIT),
	OP(ARPL, op_arpl, BUT_ZF, FL_ZF, ANY, NOJIT),
	OP(LAR, op_lar, BUT_ZF, FL_ZF, ANY, NOJIT),
	OP(LSL, op_lsl, BUT_ZF, FL_ZF, ANY, NOJIT),
	OP(VERR, op_verr, BUT_ZF, FL_ZF, ANY, NOJIT),
	OP(VERW, op_verw, BUT_ZF, FL_ZF, ANY, NOJIT),

	/* Far transfers and interrupts save or load RFLAGS whole. */
	OP(JMP_FAR, op_jmp_far, A, A, ANY, NOJIT),
	OP(CALL_FAR, op_call_far, A, A, ANY, NOJIT),
	OP(JMP_FAR_E, op_jmp_far_E, A, A, ANY, NOJIT),
	OP(CALL_FAR_E, op_call_far_E, A, A, ANY, NOJIT),
	OP(RETF, op_retf, A, A, ANY, NOJIT),
	OP(RETF_IMM, op_retf_imm, A, A, ANY, NOJIT),
	OP(IRET, op_iret, A, A, ANY, NOJIT),
	OP(INT, op_int, A, A, ANY, NOJIT),
	OP(INT3, op_int3, A, A, ANY, NOJIT),
	OP(INTO, op_into, A, A, ANY, NOJIT),
	OP(INT1, op_int1, A, A, ANY, NOJIT),
	OP(BOUND, op_bound, A, A, ANY, NOJIT),

	OP(CLI, op_cli, 0, 0, ANY, T),
	OP(STI, op_sti, 0, 0, ANY, NOJIT),
	OP(HLT, op_hlt, 0, 0, ANY, NOJIT),
	OP(GRP6, op_grp6, 0, 0, ANY, NOJIT),
	OP(GRP7, op_grp7, 0, 0, ANY, NOJIT),
	OP(CLTS, op_clts, 0, 0, ANY, NOJIT),
	OP(MOV_RC, op_mov_RC, 0, 0, ANY, NOJIT),
	OP(MOV_CR, op_mov_CR, 0, 0, ANY, NOJIT),
	OP(MOV_RD, op_mov_RD, 0, 0, ANY, NOJIT),
	OP(MOV_DR, op_mov_DR, 0, 0, ANY, NOJIT),
	OP(INVD, op_invd, 0, 0, ANY, NOJIT),
	OP(CPUID, op_cpuid, 0, 0, ANY, NOJIT),
	OP(RDTSC, op_rdtsc, 0, 0, ANY, NOJIT),
	OP(RDMSR, op_rdmsr, 0, 0, ANY, NOJIT),
	OP(WRMSR, op_wrmsr, 0, 0, ANY, NOJIT),
	OP(RDPMC, op_rdpmc, 0, 0, ANY, NOJIT),
	OP(SYSENTER, op_sysenter, 0, 0, ANY, NOJIT),
	OP(SYSEXIT, op_sysexit, 0, 0, ANY, NOJIT),

	/* FCOMI, COMISS and their kin set ZF, PF and CF. */
	OP(X87, op_x87, A, A, ANY, NOJIT),
	OP(WAIT, op_wait, 0, 0, ANY, NOJIT),
	OP(FXSAVE, op_fxsave, 0, 0, ANY, NOJIT),
	OP(FXRSTOR, op_fxrstor, 0, 0, ANY, NOJIT),
	OP(SSE, op_sse, A, A, ANY, NOJIT),
	OP(SSE_SHIMM, op_sse_shimm, 0, 0, ANY, NOJIT),
	OP(SSE_GRP15, op_sse_grp15, 0, 0, ANY, NOJIT),

	OP(UD, op_ud, 0, 0, ANY, NOJIT),
	OP(UD_NOHANDLER, op_ud_nohandler, 0, 0, ANY, NOJIT),
	OP(GP_TOO_LONG, op_gp_too_long, 0, 0, ANY, NOJIT),
};
