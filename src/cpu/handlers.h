/* Every instruction handler the opcode table (optable.c, ops.c) names.
 * One signature: void op_x(struct cpu *, const struct insn *). Each lives
 * in the insn_*.c file of its group, named in the comment above it; what
 * a handler may use to do its work is exec.h. Declarations only, so that
 * the decoder can name handlers without depending on the engine. */
#ifndef V2E_CPU_HANDLERS_H
#define V2E_CPU_HANDLERS_H

#include "cpu/insn.h"

#define H(name) void name(struct cpu *cpu, const struct insn *in)
/* A fast form and its threaded entry (FAST_HANDLER in dispatch.h). */
#define HF(name) H(name); H(name##_t)
/* ... with a memory operand (FAST_MEM_HANDLER). */
#define HM(name) H(name); H(name##_t); H(name##_tb)
/* ... that accesses it (FAST_LOAD, FAST_STORE, FAST_RMW): also the flat
 * entries. */
#define HMF(name) HM(name); H(name##_tf); H(name##_tbf)

/* insn_alu.c: ADD OR ADC SBB AND SUB XOR CMP in their four forms (E,G /
 * G,E / accumulator,imm / E,imm), TEST, INC, DEC, NOT, NEG, CMC/CLC/STC,
 * SAHF/LAHF, SALC */
#define ALU_FORMS(op) HF(op_##op##_EG); HF(op_##op##_GE); HF(op_##op##_AI); HF(op_##op##_EI)
ALU_FORMS(add); ALU_FORMS(or); ALU_FORMS(adc); ALU_FORMS(sbb);
ALU_FORMS(and); ALU_FORMS(sub); ALU_FORMS(xor); ALU_FORMS(cmp);
#undef ALU_FORMS
HF(op_test_EG); HF(op_test_AI); HF(op_test_EI);
/* Fast forms (see fast_forms in optable.c): 32-bit register operands. */
#define ALU_FAST(op) HF(op_##op##_EG_r32); HF(op_##op##_GE_r32); HF(op_##op##_EI_r32); \
	HMF(op_##op##_EG_m32); HMF(op_##op##_GE_m32); HMF(op_##op##_EI_m32); HF(op_##op##_AI_32)
ALU_FAST(add); ALU_FAST(or); ALU_FAST(adc); ALU_FAST(sbb);
ALU_FAST(and); ALU_FAST(sub); ALU_FAST(xor); ALU_FAST(cmp);
#undef ALU_FAST
HF(op_test_EG_r32); HF(op_inc_r32); HF(op_dec_r32);
HF(op_inc_r); HF(op_dec_r); HF(op_inc_E); HF(op_dec_E);
HF(op_not_E); HF(op_neg_E);
HMF(op_inc_m32); HMF(op_dec_m32); HMF(op_not_m32); HF(op_not_r32);
H(op_cmc); H(op_clc); H(op_stc); H(op_cld); H(op_std);
H(op_sahf); H(op_lahf); H(op_salc);

/* insn_mov.c: MOV forms, LEA, XCHG, MOVZX/MOVSX/MOVSXD, CBW/CWD, CMOVcc, SETcc,
 * BSWAP, XLAT, NOP forms */
HF(op_mov_EG); HF(op_mov_GE); HF(op_mov_EI); HF(op_mov_rI);
HF(op_mov_AO); HF(op_mov_OA); HF(op_lea); H(op_xchg_EG); H(op_xchg_rA);
H(op_nop); HF(op_movzx); HF(op_movsx); H(op_cbw); H(op_cwd);
HF(op_cmov); HF(op_setcc); H(op_bswap); H(op_xlat); H(op_movsxd);
HF(op_movzx_r32); HMF(op_movzxb_m32); HMF(op_movzxw_m32); HMF(op_mov_EI_m32);
HMF(op_mov_GE_m8); HMF(op_mov_GE_m16); HMF(op_mov_EG_m8); HMF(op_mov_EG_m16);
#define CC_FORMS(cc) H(op_cmov##cc##_r32_t); H(op_set##cc##_r8_t); HMF(op_cmov##cc##_m32)
CC_FORMS(0); CC_FORMS(1); CC_FORMS(2); CC_FORMS(3); CC_FORMS(4); CC_FORMS(5);
CC_FORMS(6); CC_FORMS(7); CC_FORMS(8); CC_FORMS(9); CC_FORMS(a); CC_FORMS(b);
CC_FORMS(c); CC_FORMS(d); CC_FORMS(e); CC_FORMS(f);
#undef CC_FORMS
HF(op_mov_EG_r32); HF(op_mov_GE_r32); HMF(op_mov_GE_m32); HMF(op_mov_EG_m32);
HF(op_mov_rI_32); HM(op_lea_32);

/* insn_stack.c: PUSH/POP of registers, memory and immediates, PUSHA/POPA,
 * ENTER/LEAVE, PUSHF/POPF */
H(op_push_r); H(op_pop_r); H(op_push_I); H(op_push_E); H(op_pop_E);
H(op_pusha); H(op_popa); H(op_enter); H(op_leave);
HF(op_push_r32); HF(op_pop_r32);
H(op_pushf); H(op_popf);

/* insn_branch.c: near branches: Jcc, JMP, CALL, RET, LOOPcc, JCXZ */
H(op_jcc); H(op_jmp_rel); H(op_call_rel); H(op_jmp_E); H(op_call_E);
H(op_ret); H(op_ret_imm); H(op_loop); H(op_loope); H(op_loopne); H(op_jcxz);
H(op_call_rel32); H(op_ret32); H(op_call_rel32_t); H(op_ret32_t);
H(op_jmp_rel_t);
H(op_jcc0_t); H(op_jcc1_t); H(op_jcc2_t); H(op_jcc3_t);
H(op_jcc4_t); H(op_jcc5_t); H(op_jcc6_t); H(op_jcc7_t);
H(op_jcc8_t); H(op_jcc9_t); H(op_jcca_t); H(op_jccb_t);
H(op_jccc_t); H(op_jccd_t); H(op_jcce_t); H(op_jccf_t);
/* A Jcc whose condition compiled code decided (jit.c): its two ways on. */
H(op_jcc_taken_t); H(op_jcc_not_taken_t);

/* insn_shift.c: ROL ROR RCL RCR SHL SHR SAL SAR (by 1, CL, imm8), SHLD, SHRD */
HF(op_shift_E1); HF(op_shift_ECL); HF(op_shift_EI);
HF(op_shift_E1_r32); HF(op_shift_ECL_r32); HF(op_shift_EI_r32);
H(op_rol_I_r32_nf_t); H(op_ror_I_r32_nf_t);
H(op_shl_I_r32_t); H(op_shr_I_r32_t); H(op_sar_I_r32_t);
H(op_shl_I_r16_t); H(op_shr_I_r16_t); H(op_sar_I_r16_t);
H(op_shld_I); H(op_shld_CL); H(op_shrd_I); H(op_shrd_CL);

/* insn_muldiv.c: MUL IMUL DIV IDIV, IMUL two- and three-operand */
H(op_mul_E); H(op_imul_E); H(op_div_E); H(op_idiv_E);
HF(op_imul_GE); HF(op_imul_GEI);
HF(op_imul_GE_r32); HMF(op_imul_GE_m32); HF(op_imul_GEI_r32);
H(op_imul_GE_r32_nf_t); H(op_imul_GEI_r32_nf_t);

/* insn_bit.c: BT BTS BTR BTC (register and imm8 forms), BSF, BSR */
H(op_bt_EG); H(op_bts_EG); H(op_btr_EG); H(op_btc_EG);
H(op_bt_EI); H(op_bts_EI); H(op_btr_EI); H(op_btc_EI);
H(op_bsf); H(op_bsr);

/* insn_bcd.c: DAA DAS AAA AAS AAM AAD */
H(op_daa); H(op_das); H(op_aaa); H(op_aas); H(op_aam); H(op_aad);

/* insn_string.c: MOVS CMPS STOS LODS SCAS INS OUTS with REP prefixes */
H(op_movs); H(op_cmps); H(op_stos); H(op_lods); H(op_scas);
H(op_ins); H(op_outs);

/* insn_atomic.c: XADD, CMPXCHG, CMPXCHG8B */
H(op_xadd); H(op_cmpxchg); H(op_cmpxchg8b);

/* insn_io.c: IN/OUT with the I/O permission checks */
H(op_in_I); H(op_out_I); H(op_in_DX); H(op_out_DX);

/* insn_seg.c: segment registers: MOV Sreg, PUSH/POP Sreg, LDS LES LFS LGS
 * LSS, ARPL, LAR, LSL, VERR, VERW */
H(op_mov_ES); H(op_mov_SE); H(op_push_sreg); H(op_pop_sreg);
H(op_lxs); H(op_arpl); H(op_lar); H(op_lsl); H(op_verr); H(op_verw);

/* insn_far.c: far control transfers and interrupts: JMP/CALL far (direct
 * and indirect, through call gates and task gates), RETF, IRET, INT n,
 * INT3, INTO, INT1, BOUND */
H(op_jmp_far); H(op_call_far); H(op_jmp_far_E); H(op_call_far_E);
H(op_retf); H(op_retf_imm); H(op_iret); H(op_int); H(op_int3);
H(op_into); H(op_int1); H(op_bound);

/* insn_system.c: flags and system instructions: CLI STI HLT, descriptor
 * tables (LGDT LIDT SGDT SIDT LLDT SLDT LTR STR), SMSW LMSW CLTS, MOV
 * CR/DR, INVLPG INVD WBINVD, CPUID, RDTSC, RDMSR WRMSR, RDPMC, SYSENTER
 * SYSEXIT, UD2 */
H(op_cli); H(op_sti); H(op_hlt); H(op_grp6); H(op_grp7); H(op_clts);
H(op_mov_RC); H(op_mov_CR); H(op_mov_RD); H(op_mov_DR);
H(op_invd); H(op_cpuid); H(op_rdtsc); H(op_rdmsr); H(op_wrmsr);
H(op_rdpmc); H(op_sysenter); H(op_sysexit);

/* insn_x87.c: the x87 escape opcodes D8-DF, WAIT, FXSAVE/FXRSTOR */
H(op_x87); H(op_wait); H(op_fxsave); H(op_fxrstor);

/* insn_sse.c: MMX, SSE and SSE2, the 0F-map forms chosen by the mandatory
 * prefixes (computing forms run on the host, insn_sse_host.c; MMX state in
 * insn_mmx.c); 0F 71-73 shifts by immediate; 0F AE LDMXCSR STMXCSR LFENCE
 * MFENCE SFENCE CLFLUSH */
H(op_sse); H(op_sse_shimm); H(op_sse_grp15);

/* cpu.c / decode.c */
H(op_ud); H(op_ud_nohandler); H(op_gp_too_long);

#undef H
#endif
