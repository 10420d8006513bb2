/* The opcode table: one slot per opcode of the one-byte map and the 0F map,
 * with a ModRM.reg sub-table for each group (SDM vol. 2, appendix A). An
 * instruction is added here and in its insn_*.c file, nowhere else. */
#include "cpu/handlers.h"

#define E(fn_, fl_) { .fn = fn_, .flags = (fl_) }
#define G(grp_, fl_) { .fn = NULL, .flags = OPF_GROUP | (fl_), .group = grp_ }

#define M OPF_MODRM
#define B OPF_BYTE
#define LK OPF_LOCK
#define END OPF_END

/* The eight ALU operations, each in its six encodings. */
#define ALU_ROW(base, op)                                         \
	[base + 0] = E(op_##op##_EG, M | B | LK),                 \
	[base + 1] = E(op_##op##_EG, M | LK),                     \
	[base + 2] = E(op_##op##_GE, M | B),                      \
	[base + 3] = E(op_##op##_GE, M),                          \
	[base + 4] = E(op_##op##_AI, B | OPF_IMM8),               \
	[base + 5] = E(op_##op##_AI, OPF_IMMZ)

#define ALU_GROUP(name, fl)                                                 \
	static const struct op_entry name[8] = {                            \
		E(op_add_EI, LK | (fl)), E(op_or_EI, LK | (fl)),           \
		E(op_adc_EI, LK | (fl)), E(op_sbb_EI, LK | (fl)),          \
		E(op_and_EI, LK | (fl)), E(op_sub_EI, LK | (fl)),          \
		E(op_xor_EI, LK | (fl)), E(op_cmp_EI, (fl)),               \
	}

ALU_GROUP(grp1_EbIb, B | OPF_IMM8);
ALU_GROUP(grp1_EvIz, OPF_IMMZ);
ALU_GROUP(grp1_EvIb, OPF_IMM8);
ALU_GROUP(grp1_EbIb_no64, B | OPF_IMM8 | OPF_NO64);

static const struct op_entry grp2_Eb1[8] = {
	E(op_shift_E1, B), E(op_shift_E1, B), E(op_shift_E1, B), E(op_shift_E1, B),
	E(op_shift_E1, B), E(op_shift_E1, B), E(op_shift_E1, B), E(op_shift_E1, B),
};
static const struct op_entry grp2_Ev1[8] = {
	E(op_shift_E1, 0), E(op_shift_E1, 0), E(op_shift_E1, 0), E(op_shift_E1, 0),
	E(op_shift_E1, 0), E(op_shift_E1, 0), E(op_shift_E1, 0), E(op_shift_E1, 0),
};
static const struct op_entry grp2_EbCL[8] = {
	E(op_shift_ECL, B), E(op_shift_ECL, B), E(op_shift_ECL, B), E(op_shift_ECL, B),
	E(op_shift_ECL, B), E(op_shift_ECL, B), E(op_shift_ECL, B), E(op_shift_ECL, B),
};
static const struct op_entry grp2_EvCL[8] = {
	E(op_shift_ECL, 0), E(op_shift_ECL, 0), E(op_shift_ECL, 0), E(op_shift_ECL, 0),
	E(op_shift_ECL, 0), E(op_shift_ECL, 0), E(op_shift_ECL, 0), E(op_shift_ECL, 0),
};
static const struct op_entry grp2_EbIb[8] = {
	E(op_shift_EI, B | OPF_IMM8U), E(op_shift_EI, B | OPF_IMM8U),
	E(op_shift_EI, B | OPF_IMM8U), E(op_shift_EI, B | OPF_IMM8U),
	E(op_shift_EI, B | OPF_IMM8U), E(op_shift_EI, B | OPF_IMM8U),
	E(op_shift_EI, B | OPF_IMM8U), E(op_shift_EI, B | OPF_IMM8U),
};
static const struct op_entry grp2_EvIb[8] = {
	E(op_shift_EI, OPF_IMM8U), E(op_shift_EI, OPF_IMM8U),
	E(op_shift_EI, OPF_IMM8U), E(op_shift_EI, OPF_IMM8U),
	E(op_shift_EI, OPF_IMM8U), E(op_shift_EI, OPF_IMM8U),
	E(op_shift_EI, OPF_IMM8U), E(op_shift_EI, OPF_IMM8U),
};

/* F6/F7: TEST NOT NEG MUL IMUL DIV IDIV (/1 is an alias of TEST). */
static const struct op_entry grp3_Eb[8] = {
	E(op_test_EI, B | OPF_IMM8), E(op_test_EI, B | OPF_IMM8),
	E(op_not_E, B | LK), E(op_neg_E, B | LK),
	E(op_mul_E, B), E(op_imul_E, B), E(op_div_E, B), E(op_idiv_E, B),
};
static const struct op_entry grp3_Ev[8] = {
	E(op_test_EI, OPF_IMMZ), E(op_test_EI, OPF_IMMZ),
	E(op_not_E, LK), E(op_neg_E, LK),
	E(op_mul_E, 0), E(op_imul_E, 0), E(op_div_E, 0), E(op_idiv_E, 0),
};
static const struct op_entry grp4[8] = {
	E(op_inc_E, B | LK), E(op_dec_E, B | LK),
};
static const struct op_entry grp5[8] = {
	E(op_inc_E, LK), E(op_dec_E, LK),
	E(op_call_E, OPF_DEF64 | END), E(op_call_far_E, OPF_MEM | END),
	E(op_jmp_E, OPF_DEF64 | END), E(op_jmp_far_E, OPF_MEM | END),
	E(op_push_E, OPF_DEF64),
};
static const struct op_entry grp1a[8] = {
	E(op_pop_E, OPF_DEF64),
};
static const struct op_entry grp11_Eb[8] = {
	E(op_mov_EI, B | OPF_IMM8),
};
static const struct op_entry grp11_Ev[8] = {
	E(op_mov_EI, OPF_IMMZ),
};
/* 0F 00: SLDT STR LLDT LTR VERR VERW */
static const struct op_entry grp6[8] = {
	E(op_grp6, 0), E(op_grp6, 0), E(op_grp6, END), E(op_grp6, 0),
	E(op_verr, 0), E(op_verw, 0),
};
/* 0F 01: SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG */
static const struct op_entry grp7[8] = {
	E(op_grp7, OPF_MEM), E(op_grp7, OPF_MEM), E(op_grp7, OPF_MEM | END),
	E(op_grp7, OPF_MEM | END), E(op_grp7, 0), {0},
	E(op_grp7, END), E(op_grp7, OPF_MEM | END),
};
/* 0F BA: BT BTS BTR BTC with imm8 */
static const struct op_entry grp8[8] = {
	{0}, {0}, {0}, {0},
	E(op_bt_EI, OPF_IMM8U), E(op_bts_EI, OPF_IMM8U | LK),
	E(op_btr_EI, OPF_IMM8U | LK), E(op_btc_EI, OPF_IMM8U | LK),
};
/* 0F C7: CMPXCHG8B */
static const struct op_entry grp9[8] = {
	{0}, E(op_cmpxchg8b, OPF_MEM | LK),
};
/* 0F AE: FXSAVE FXRSTOR LDMXCSR STMXCSR - LFENCE MFENCE SFENCE/CLFLUSH */
static const struct op_entry grp15[8] = {
	E(op_fxsave, OPF_MEM), E(op_fxrstor, OPF_MEM),
	E(op_sse_grp15, OPF_SSE), E(op_sse_grp15, OPF_SSE), {0},
	E(op_sse_grp15, OPF_SSE), E(op_sse_grp15, OPF_SSE),
	E(op_sse_grp15, OPF_SSE),
};
/* 0F 71, 72, 73: MMX/SSE2 shifts by imm8 (PSRLDQ, PSLLDQ in 73 /3 /7) */
#define SHI E(op_sse_shimm, OPF_SSE | OPF_IMM8U | OPF_REG)
static const struct op_entry grp12[8] = { [2] = SHI, [4] = SHI, [6] = SHI };
static const struct op_entry grp13[8] = { [2] = SHI, [4] = SHI, [6] = SHI };
static const struct op_entry grp14[8] = { [2] = SHI, [3] = SHI, [6] = SHI, [7] = SHI };
#undef SHI
/* 0F 18: prefetch hints, NOPs here */
static const struct op_entry grp16[8] = {
	E(op_nop, OPF_MEM), E(op_nop, OPF_MEM), E(op_nop, OPF_MEM), E(op_nop, OPF_MEM),
	E(op_nop, 0), E(op_nop, 0), E(op_nop, 0), E(op_nop, 0),
};

#define R8(fn, fl) [0] = E(fn, fl)
#define ROW8(base, fn, fl)                                                   \
	[base + 0] = E(fn, fl), [base + 1] = E(fn, fl), [base + 2] = E(fn, fl), \
	[base + 3] = E(fn, fl), [base + 4] = E(fn, fl), [base + 5] = E(fn, fl), \
	[base + 6] = E(fn, fl), [base + 7] = E(fn, fl)
#define ROW16(base, fn, fl) ROW8(base, fn, fl), ROW8(base + 8, fn, fl)

const struct op_entry optable[2][256] = {
	[0] = {
		ALU_ROW(0x00, add), ALU_ROW(0x08, or), ALU_ROW(0x10, adc),
		ALU_ROW(0x18, sbb), ALU_ROW(0x20, and), ALU_ROW(0x28, sub),
		ALU_ROW(0x30, xor), ALU_ROW(0x38, cmp),
		[0x06] = E(op_push_sreg, OPF_NO64), [0x07] = E(op_pop_sreg, OPF_NO64 | END),
		[0x0e] = E(op_push_sreg, OPF_NO64),
		[0x16] = E(op_push_sreg, OPF_NO64), [0x17] = E(op_pop_sreg, OPF_NO64 | END),
		[0x1e] = E(op_push_sreg, OPF_NO64), [0x1f] = E(op_pop_sreg, OPF_NO64 | END),
		[0x27] = E(op_daa, OPF_NO64), [0x2f] = E(op_das, OPF_NO64),
		[0x37] = E(op_aaa, OPF_NO64), [0x3f] = E(op_aas, OPF_NO64),
		ROW8(0x40, op_inc_r, OPF_REGOP), ROW8(0x48, op_dec_r, OPF_REGOP),
		ROW8(0x50, op_push_r, OPF_REGOP | OPF_DEF64),
		ROW8(0x58, op_pop_r, OPF_REGOP | OPF_DEF64),
		[0x60] = E(op_pusha, OPF_NO64), [0x61] = E(op_popa, OPF_NO64),
		[0x62] = E(op_bound, M | OPF_MEM | OPF_NO64),
		[0x63] = E(op_arpl, M),
		[0x68] = E(op_push_I, OPF_IMMZ | OPF_DEF64),
		[0x69] = E(op_imul_GEI, M | OPF_IMMZ),
		[0x6a] = E(op_push_I, OPF_IMM8 | OPF_DEF64),
		[0x6b] = E(op_imul_GEI, M | OPF_IMM8),
		[0x6c] = E(op_ins, B), [0x6d] = E(op_ins, 0),
		[0x6e] = E(op_outs, B), [0x6f] = E(op_outs, 0),
		ROW16(0x70, op_jcc, OPF_IMM8 | OPF_DEF64 | END),
		[0x80] = G(grp1_EbIb, 0), [0x81] = G(grp1_EvIz, 0),
		[0x82] = G(grp1_EbIb_no64, 0), [0x83] = G(grp1_EvIb, 0),
		[0x84] = E(op_test_EG, M | B), [0x85] = E(op_test_EG, M),
		[0x86] = E(op_xchg_EG, M | B | LK), [0x87] = E(op_xchg_EG, M | LK),
		[0x88] = E(op_mov_EG, M | B), [0x89] = E(op_mov_EG, M),
		[0x8a] = E(op_mov_GE, M | B), [0x8b] = E(op_mov_GE, M),
		[0x8c] = E(op_mov_ES, M), [0x8d] = E(op_lea, M | OPF_MEM),
		[0x8e] = E(op_mov_SE, M | END), [0x8f] = G(grp1a, 0),
		ROW8(0x90, op_xchg_rA, OPF_REGOP),
		[0x98] = E(op_cbw, 0), [0x99] = E(op_cwd, 0),
		[0x9a] = E(op_call_far, OPF_FARPTR | OPF_NO64 | END),
		[0x9b] = E(op_wait, 0),
		[0x9c] = E(op_pushf, OPF_DEF64), [0x9d] = E(op_popf, OPF_DEF64 | END),
		[0x9e] = E(op_sahf, 0), [0x9f] = E(op_lahf, 0),
		[0xa0] = E(op_mov_AO, B | OPF_MOFFS), [0xa1] = E(op_mov_AO, OPF_MOFFS),
		[0xa2] = E(op_mov_OA, B | OPF_MOFFS), [0xa3] = E(op_mov_OA, OPF_MOFFS),
		[0xa4] = E(op_movs, B), [0xa5] = E(op_movs, 0),
		[0xa6] = E(op_cmps, B), [0xa7] = E(op_cmps, 0),
		[0xa8] = E(op_test_AI, B | OPF_IMM8), [0xa9] = E(op_test_AI, OPF_IMMZ),
		[0xaa] = E(op_stos, B), [0xab] = E(op_stos, 0),
		[0xac] = E(op_lods, B), [0xad] = E(op_lods, 0),
		[0xae] = E(op_scas, B), [0xaf] = E(op_scas, 0),
		ROW8(0xb0, op_mov_rI, OPF_REGOP | B | OPF_IMM8U),
		ROW8(0xb8, op_mov_rI, OPF_REGOP | OPF_IMMV),
		[0xc0] = G(grp2_EbIb, 0), [0xc1] = G(grp2_EvIb, 0),
		[0xc2] = E(op_ret_imm, OPF_IMM16 | OPF_DEF64 | END),
		[0xc3] = E(op_ret, OPF_DEF64 | END),
		[0xc4] = E(op_lxs, M | OPF_MEM | OPF_NO64 | END),
		[0xc5] = E(op_lxs, M | OPF_MEM | OPF_NO64 | END),
		[0xc6] = G(grp11_Eb, 0), [0xc7] = G(grp11_Ev, 0),
		[0xc8] = E(op_enter, OPF_ENTER | OPF_DEF64),
		[0xc9] = E(op_leave, OPF_DEF64),
		[0xca] = E(op_retf_imm, OPF_IMM16 | END), [0xcb] = E(op_retf, END),
		[0xcc] = E(op_int3, END), [0xcd] = E(op_int, OPF_IMM8U | END),
		[0xce] = E(op_into, OPF_NO64 | END), [0xcf] = E(op_iret, END),
		[0xd0] = G(grp2_Eb1, 0), [0xd1] = G(grp2_Ev1, 0),
		[0xd2] = G(grp2_EbCL, 0), [0xd3] = G(grp2_EvCL, 0),
		[0xd4] = E(op_aam, OPF_IMM8U | OPF_NO64),
		[0xd5] = E(op_aad, OPF_IMM8U | OPF_NO64),
		[0xd6] = E(op_salc, OPF_NO64),
		[0xd7] = E(op_xlat, 0),
		ROW8(0xd8, op_x87, M),
		[0xe0] = E(op_loopne, OPF_IMM8 | OPF_DEF64 | END),
		[0xe1] = E(op_loope, OPF_IMM8 | OPF_DEF64 | END),
		[0xe2] = E(op_loop, OPF_IMM8 | OPF_DEF64 | END),
		[0xe3] = E(op_jcxz, OPF_IMM8 | OPF_DEF64 | END),
		[0xe4] = E(op_in_I, B | OPF_IMM8U), [0xe5] = E(op_in_I, OPF_IMM8U),
		[0xe6] = E(op_out_I, B | OPF_IMM8U), [0xe7] = E(op_out_I, OPF_IMM8U),
		[0xe8] = E(op_call_rel, OPF_IMMZ | OPF_DEF64 | END),
		[0xe9] = E(op_jmp_rel, OPF_IMMZ | OPF_DEF64 | END),
		[0xea] = E(op_jmp_far, OPF_FARPTR | OPF_NO64 | END),
		[0xeb] = E(op_jmp_rel, OPF_IMM8 | OPF_DEF64 | END),
		[0xec] = E(op_in_DX, B), [0xed] = E(op_in_DX, 0),
		[0xee] = E(op_out_DX, B), [0xef] = E(op_out_DX, 0),
		[0xf1] = E(op_int1, END),
		[0xf4] = E(op_hlt, END), [0xf5] = E(op_cmc, 0),
		[0xf6] = G(grp3_Eb, 0), [0xf7] = G(grp3_Ev, 0),
		[0xf8] = E(op_clc, 0), [0xf9] = E(op_stc, 0),
		[0xfa] = E(op_cli, 0), [0xfb] = E(op_sti, END),
		[0xfc] = E(op_cld, 0), [0xfd] = E(op_std, 0),
		[0xfe] = G(grp4, 0), [0xff] = G(grp5, 0),
	},
	[1] = {
		[0x00] = G(grp6, 0), [0x01] = G(grp7, 0),
		[0x02] = E(op_lar, M), [0x03] = E(op_lsl, M),
		[0x06] = E(op_clts, END),
		[0x08] = E(op_invd, 0), [0x09] = E(op_invd, 0),
		[0x0b] = E(op_ud, END),
		ROW8(0x10, op_sse, M | OPF_SSE),
		[0x18] = G(grp16, 0),
		[0x19] = E(op_nop, M), [0x1a] = E(op_nop, M), [0x1b] = E(op_nop, M),
		[0x1c] = E(op_nop, M), [0x1d] = E(op_nop, M), [0x1e] = E(op_nop, M),
		[0x1f] = E(op_nop, M),
		[0x20] = E(op_mov_RC, M | OPF_MODREG),
		[0x21] = E(op_mov_RD, M | OPF_MODREG),
		[0x22] = E(op_mov_CR, M | OPF_MODREG | END),
		[0x23] = E(op_mov_DR, M | OPF_MODREG | END),
		[0x30] = E(op_wrmsr, END), [0x31] = E(op_rdtsc, 0),
		[0x32] = E(op_rdmsr, 0), [0x33] = E(op_rdpmc, 0),
		[0x34] = E(op_sysenter, END), [0x35] = E(op_sysexit, END),
		ROW8(0x28, op_sse, M | OPF_SSE),
		ROW16(0x40, op_cmov, M),
		ROW16(0x50, op_sse, M | OPF_SSE), ROW16(0x60, op_sse, M | OPF_SSE),
		[0x70] = E(op_sse, M | OPF_SSE | OPF_IMM8U),
		[0x71] = G(grp12, 0), [0x72] = G(grp13, 0), [0x73] = G(grp14, 0),
		[0x74] = E(op_sse, M | OPF_SSE), [0x75] = E(op_sse, M | OPF_SSE),
		[0x76] = E(op_sse, M | OPF_SSE), [0x77] = E(op_sse, OPF_SSE),
		[0x7e] = E(op_sse, M | OPF_SSE), [0x7f] = E(op_sse, M | OPF_SSE),
		ROW16(0x80, op_jcc, OPF_IMMZ | OPF_DEF64 | END),
		ROW16(0x90, op_setcc, M | B),
		[0xa0] = E(op_push_sreg, OPF_DEF64), [0xa1] = E(op_pop_sreg, OPF_DEF64),
		[0xa2] = E(op_cpuid, 0),
		[0xa3] = E(op_bt_EG, M),
		[0xa4] = E(op_shld_I, M | OPF_IMM8U), [0xa5] = E(op_shld_CL, M),
		[0xa8] = E(op_push_sreg, OPF_DEF64), [0xa9] = E(op_pop_sreg, OPF_DEF64),
		[0xab] = E(op_bts_EG, M | LK),
		[0xac] = E(op_shrd_I, M | OPF_IMM8U), [0xad] = E(op_shrd_CL, M),
		[0xae] = G(grp15, 0),
		[0xaf] = E(op_imul_GE, M),
		[0xb0] = E(op_cmpxchg, M | B | LK), [0xb1] = E(op_cmpxchg, M | LK),
		[0xb2] = E(op_lxs, M | OPF_MEM | END),
		[0xb3] = E(op_btr_EG, M | LK),
		[0xb4] = E(op_lxs, M | OPF_MEM), [0xb5] = E(op_lxs, M | OPF_MEM),
		[0xb6] = E(op_movzx, M), [0xb7] = E(op_movzx, M),
		[0xb9] = E(op_ud, M | END),
		[0xba] = G(grp8, 0),
		[0xbb] = E(op_btc_EG, M | LK),
		[0xbc] = E(op_bsf, M), [0xbd] = E(op_bsr, M),
		[0xbe] = E(op_movsx, M), [0xbf] = E(op_movsx, M),
		[0xc0] = E(op_xadd, M | B | LK), [0xc1] = E(op_xadd, M | LK),
		[0xc2] = E(op_sse, M | OPF_SSE | OPF_IMM8U),
		[0xc3] = E(op_sse, M | OPF_SSE),
		[0xc4] = E(op_sse, M | OPF_SSE | OPF_IMM8U),
		[0xc5] = E(op_sse, M | OPF_SSE | OPF_IMM8U),
		[0xc6] = E(op_sse, M | OPF_SSE | OPF_IMM8U),
		[0xc7] = G(grp9, 0),
		ROW8(0xc8, op_bswap, OPF_REGOP),
		ROW16(0xd0, op_sse, M | OPF_SSE), ROW16(0xe0, op_sse, M | OPF_SSE),
		ROW16(0xf0, op_sse, M | OPF_SSE),
	},
};

/* One-byte opcodes that mean something else in 64-bit mode. */
const struct op_entry optable64[256] = {
	[0x63] = E(op_movsxd, M),
};

/* Fast forms: for the commonest operand size and operand kind of a
 * generic handler, a handler without size or register/memory dispatch.
 * Size 0 matches any size. The decoder swaps them in; the differential tests, which run 32-bit
 * forms, check them against the host CPU. FAST_REG: r/m is a register; FAST_MEM: r/m
 * is memory; FAST_ANY: the form has no r/m operand. */
/* A fast form with its threaded entry. */
#define FT(gen, size, kind, fast) { gen, size, kind, fast, fast##_t, NULL, NULL, NULL }
/* ... with its threaded entry for an operand without index too. */
#define FTM(gen, size, kind, fast) { gen, size, kind, fast, fast##_t, fast##_tb, NULL, NULL }
/* ... and the entries for a flat segment (FAST_MEM_ENTRIES). */
#define FTMF(gen, size, kind, fast) \
	{ gen, size, kind, fast, fast##_t, fast##_tb, fast##_tf, fast##_tbf }
#define FAST_ALU(op)                                                      \
	FT(op_##op##_EG, 4, FAST_REG, op_##op##_EG_r32),                  \
	FT(op_##op##_GE, 4, FAST_REG, op_##op##_GE_r32),                  \
	FT(op_##op##_EI, 4, FAST_REG, op_##op##_EI_r32),                  \
	FTMF(op_##op##_EG, 4, FAST_MEM, op_##op##_EG_m32),                 \
	FTMF(op_##op##_GE, 4, FAST_MEM, op_##op##_GE_m32),                 \
	FTMF(op_##op##_EI, 4, FAST_MEM, op_##op##_EI_m32),                 \
	FT(op_##op##_AI, 4, FAST_ANY, op_##op##_AI_32),                   \
	FT(op_##op##_EG, 0, FAST_ANY, op_##op##_EG),                      \
	FT(op_##op##_GE, 0, FAST_ANY, op_##op##_GE),                      \
	FT(op_##op##_EI, 0, FAST_ANY, op_##op##_EI),                      \
	FT(op_##op##_AI, 0, FAST_ANY, op_##op##_AI)

const struct fast_form fast_forms[] = {
	FAST_ALU(add), FAST_ALU(or), FAST_ALU(adc), FAST_ALU(sbb),
	FAST_ALU(and), FAST_ALU(sub), FAST_ALU(xor), FAST_ALU(cmp),
	FT(op_test_EG, 4, FAST_REG, op_test_EG_r32),
	FT(op_inc_r, 4, FAST_ANY, op_inc_r32),
	FT(op_dec_r, 4, FAST_ANY, op_dec_r32),
	FT(op_mov_EG, 4, FAST_REG, op_mov_EG_r32),
	FT(op_mov_GE, 4, FAST_REG, op_mov_GE_r32),
	FTMF(op_mov_GE, 4, FAST_MEM, op_mov_GE_m32),
	FTMF(op_mov_EG, 4, FAST_MEM, op_mov_EG_m32),
	FT(op_mov_rI, 4, FAST_ANY, op_mov_rI_32),
	FTM(op_lea, 4, FAST_MEM, op_lea_32),
	FT(op_push_r, 4, FAST_ANY, op_push_r32),
	FT(op_pop_r, 4, FAST_ANY, op_pop_r32),
	FT(op_movzx, 4, FAST_REG, op_movzx_r32),
	FTMF(op_mov_GE, 2, FAST_MEM, op_mov_GE_m16),
	FTMF(op_mov_GE, 1, FAST_MEM, op_mov_GE_m8),
	FTMF(op_mov_EG, 2, FAST_MEM, op_mov_EG_m16),
	FTMF(op_mov_EG, 1, FAST_MEM, op_mov_EG_m8),
	/* Any size: generic handlers that keep no RIP run threaded. */
	FT(op_mov_EG, 0, FAST_ANY, op_mov_EG),
	FT(op_mov_GE, 0, FAST_ANY, op_mov_GE),
	FTMF(op_mov_EI, 4, FAST_MEM, op_mov_EI_m32),
	FT(op_mov_EI, 0, FAST_ANY, op_mov_EI),
	FT(op_mov_rI, 0, FAST_ANY, op_mov_rI),
	FT(op_lea, 0, FAST_ANY, op_lea),
	FT(op_movzx, 0, FAST_ANY, op_movzx),
	FT(op_movsx, 0, FAST_ANY, op_movsx),
	FT(op_cmov, 0, FAST_ANY, op_cmov),
	FT(op_setcc, 0, FAST_ANY, op_setcc),
	FT(op_test_EG, 0, FAST_ANY, op_test_EG),
	FT(op_test_AI, 0, FAST_ANY, op_test_AI),
	FT(op_test_EI, 0, FAST_ANY, op_test_EI),
	FT(op_inc_r, 0, FAST_ANY, op_inc_r),
	FT(op_dec_r, 0, FAST_ANY, op_dec_r),
	FTMF(op_inc_E, 4, FAST_MEM, op_inc_m32),
	FTMF(op_dec_E, 4, FAST_MEM, op_dec_m32),
	FTMF(op_not_E, 4, FAST_MEM, op_not_m32),
	FT(op_not_E, 4, FAST_REG, op_not_r32),
	FT(op_inc_E, 0, FAST_ANY, op_inc_E),
	FT(op_dec_E, 0, FAST_ANY, op_dec_E),
	FT(op_not_E, 0, FAST_ANY, op_not_E),
	FT(op_neg_E, 0, FAST_ANY, op_neg_E),
	FT(op_call_rel, 4, FAST_ANY, op_call_rel32),
	FT(op_ret, 4, FAST_ANY, op_ret32),
	FT(op_jmp_rel, 0, FAST_ANY, op_jmp_rel),
	FT(op_shift_E1, 4, FAST_REG, op_shift_E1_r32),
	FT(op_shift_ECL, 4, FAST_REG, op_shift_ECL_r32),
	FT(op_shift_EI, 4, FAST_REG, op_shift_EI_r32),
	FT(op_shift_E1, 0, FAST_ANY, op_shift_E1),
	FT(op_shift_ECL, 0, FAST_ANY, op_shift_ECL),
	FT(op_shift_EI, 0, FAST_ANY, op_shift_EI),
	FT(op_imul_GE, 4, FAST_REG, op_imul_GE_r32),
	FTMF(op_imul_GE, 4, FAST_MEM, op_imul_GE_m32),
	FT(op_imul_GEI, 4, FAST_REG, op_imul_GEI_r32),
	FT(op_imul_GE, 0, FAST_ANY, op_imul_GE),
	FT(op_imul_GEI, 0, FAST_ANY, op_imul_GEI),
	{ NULL, 0, 0, NULL, NULL, NULL, NULL, NULL },
};

static const insn_fn jcc_threaded[16] = {
	op_jcc0_t, op_jcc1_t, op_jcc2_t, op_jcc3_t,
	op_jcc4_t, op_jcc5_t, op_jcc6_t, op_jcc7_t,
	op_jcc8_t, op_jcc9_t, op_jcca_t, op_jccb_t,
	op_jccc_t, op_jccd_t, op_jcce_t, op_jccf_t,
};

#define CC_TABLE(name, suffix)                                            \
	static const insn_fn name[16] = {                                 \
		op_##name##0##suffix, op_##name##1##suffix,               \
		op_##name##2##suffix, op_##name##3##suffix,               \
		op_##name##4##suffix, op_##name##5##suffix,               \
		op_##name##6##suffix, op_##name##7##suffix,               \
		op_##name##8##suffix, op_##name##9##suffix,               \
		op_##name##a##suffix, op_##name##b##suffix,               \
		op_##name##c##suffix, op_##name##d##suffix,               \
		op_##name##e##suffix, op_##name##f##suffix,               \
	}
CC_TABLE(cmov, _r32_t);
CC_TABLE(set, _r8_t);

/* Fast forms chosen by condition: the handler and its two threaded
 * entries (FAST_LOAD). */
struct cc_mem_form {
	insn_fn fn, t, tb, tf, tbf;
};
#define CMOV_M(cc)                                                        \
	{ op_cmov##cc##_m32, op_cmov##cc##_m32_t, op_cmov##cc##_m32_tb,   \
	  op_cmov##cc##_m32_tf, op_cmov##cc##_m32_tbf }
static const struct cc_mem_form cmov_m32[16] = {
	CMOV_M(0), CMOV_M(1), CMOV_M(2), CMOV_M(3), CMOV_M(4), CMOV_M(5),
	CMOV_M(6), CMOV_M(7), CMOV_M(8), CMOV_M(9), CMOV_M(a), CMOV_M(b),
	CMOV_M(c), CMOV_M(d), CMOV_M(e), CMOV_M(f),
};

/* Points an instruction at a fast form with a memory operand. */
static void use_mem_form(struct insn *in, insn_fn fn, insn_fn t, insn_fn tb,
			 insn_fn tf, insn_fn tbf, bool flat)
{
	in->fn = fn;
	if (flat && tf)
		in->run = in->index == REG_NONE ? tbf : tf;
	else
		in->run = in->index == REG_NONE ? tb : t;
}

void fast_form_select(struct insn *in, unsigned code, bool mem, bool flat)
{
	unsigned cc = in->opcode & 0xf;
	/* Fast forms keep no RIP and use the mode's natural address size
	 * (fast_ea()). */
	if (mem && (in->base == 16 || in->adsize != (code == 8 ? 8 : 4)))
		return;
	/* Forms whose threaded entry depends on the condition or the
	 * operation, not only on the handler. */
	/* Relative branches take their target as an offset from the block
	 * (branch_target_prepare()), masked like RIP: only at the mode's own
	 * operand size. */
	if ((in->fn == op_jcc || in->fn == op_jmp_rel || in->fn == op_call_rel) &&
	    in->opsize != code)
		return;
	if (in->fn == op_jcc) {
		in->run = jcc_threaded[cc];
		return;
	}
	if (in->fn == op_cmov && in->opsize == 4) {
		if (mem)
			use_mem_form(in, cmov_m32[cc].fn, cmov_m32[cc].t,
				     cmov_m32[cc].tb, cmov_m32[cc].tf,
				     cmov_m32[cc].tbf, flat);
		else
			in->run = cmov[cc];
		return;
	}
	if (in->fn == op_movzx && in->opsize == 4 && mem) {
		if (in->opcode & 1)
			use_mem_form(in, op_movzxw_m32, op_movzxw_m32_t,
				     op_movzxw_m32_tb, op_movzxw_m32_tf,
				     op_movzxw_m32_tbf, flat);
		else
			use_mem_form(in, op_movzxb_m32, op_movzxb_m32_t,
				     op_movzxb_m32_tb, op_movzxb_m32_tf,
				     op_movzxb_m32_tbf, flat);
		return;
	}
	if (in->fn == op_setcc && !mem && !(in->flags & INSN_REXB8)) {
		in->run = set[cc];
		return;
	}
	if (in->fn == op_shift_EI && in->opsize == 4 && !mem) {
		static const insn_fn by_op[8] = {
			[4] = op_shl_I_r32_t, [5] = op_shr_I_r32_t,
			[6] = op_shl_I_r32_t, [7] = op_sar_I_r32_t,
		};
		in->fn = op_shift_EI_r32;
		in->run = by_op[(in->modrm >> 3) & 7];
		if (!in->run)
			in->run = op_shift_EI_r32_t;
		return;
	}
	if (in->fn == op_shift_EI && in->opsize == 2 && !mem) {
		static const insn_fn by_op16[8] = {
			[4] = op_shl_I_r16_t, [5] = op_shr_I_r16_t,
			[6] = op_shl_I_r16_t, [7] = op_sar_I_r16_t,
		};
		in->run = by_op16[(in->modrm >> 3) & 7];
		if (!in->run)
			in->run = op_shift_EI_t;
		return;
	}
	for (const struct fast_form *ff = fast_forms; ff->generic; ff++) {
		if (ff->generic == in->fn &&
		    (ff->opsize == in->opsize || !ff->opsize) &&
		    (ff->kind == FAST_ANY ||
		     (ff->kind == FAST_REG) == (in->mod == 3)) &&
		    !(in->flags & INSN_REXB8 && in->opsize == 1)) {
			if (ff->threaded_b)
				use_mem_form(in, ff->fast, ff->threaded,
					     ff->threaded_b, ff->flat,
					     ff->flat_b, flat);
			else {
				in->fn = ff->fast;
				in->run = ff->threaded;
			}
			return;
		}
	}
}


/* Pure register forms (they cannot fault or reach the bus) that set all
 * six arithmetic flags without reading any. */
static bool writes_all_flags(const struct insn *in)
{
	static const insn_fn writers[] = {
		op_add_EG_r32_t, op_add_GE_r32_t, op_add_EI_r32_t,
		op_or_EG_r32_t, op_or_GE_r32_t, op_or_EI_r32_t,
		op_and_EG_r32_t, op_and_GE_r32_t, op_and_EI_r32_t,
		op_sub_EG_r32_t, op_sub_GE_r32_t, op_sub_EI_r32_t,
		op_xor_EG_r32_t, op_xor_GE_r32_t, op_xor_EI_r32_t,
		op_cmp_EG_r32_t, op_cmp_GE_r32_t, op_cmp_EI_r32_t,
		op_test_EG_r32_t,
	};
	if ((in->run == op_shl_I_r32_t || in->run == op_shr_I_r32_t ||
	     in->run == op_sar_I_r32_t) && (in->imm & 0x1f))
		return true;
	for (unsigned i = 0; i < ARRAY_SIZE(writers); i++)
		if (in->run == writers[i])
			return true;
	return false;
}

/* Pure register forms that neither read nor write flags. */
static bool flags_untouched(const struct insn *in)
{
	return in->run == op_mov_EG_r32_t || in->run == op_mov_GE_r32_t ||
	       in->run == op_mov_rI_32_t || in->run == op_movzx_r32_t ||
	       in->run == op_not_r32_t || in->run == op_lea_32_t ||
	       in->run == op_lea_32_tb;
}

/* Forms that set only some flags and keep the rest, with their entry
 * for when those are dead (and the instruction reads no flag): it then
 * leaves every flag alone. */
static const struct {
	insn_fn full, dead;
} partial_writers[] = {
	{ op_imul_GE_r32_t, op_imul_GE_r32_nf_t },
	{ op_imul_GEI_r32_t, op_imul_GEI_r32_nf_t },
};

/* The entry of a partial writer, or of a rotate (chosen by ModRM.reg
 * from op_shift_EI_r32_t), with its flags (dead false) or without. NULL
 * for any other instruction. */
static insn_fn partial_entry(const struct insn *in, bool dead)
{
	if (in->run == op_rol_I_r32_nf_t || in->run == op_ror_I_r32_nf_t ||
	    (in->run == op_shift_EI_r32_t && ((in->modrm >> 3) & 7) <= 1)) {
		if (!dead)
			return op_shift_EI_r32_t;
		return ((in->modrm >> 3) & 7) ? op_ror_I_r32_nf_t
					      : op_rol_I_r32_nf_t;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(partial_writers); i++)
		if (in->run == partial_writers[i].full ||
		    in->run == partial_writers[i].dead)
			return dead ? partial_writers[i].dead
				    : partial_writers[i].full;
	return NULL;
}

void block_drop_dead_flags(struct insn *ins, unsigned n)
{
	/* Backwards: whether the flags present after instruction i are
	 * dead. They are live out of the block. */
	bool dead = false;
	for (unsigned i = n; i-- > 0;) {
		struct insn *in = &ins[i];
		insn_fn partial = partial_entry(in, dead);
		if (partial) {
			/* Dead, it touches no flag and what it would keep
			 * flows through to the same dead end; live, it
			 * keeps flags from before, which are live too. Run
			 * again over a shortened copy, the pass also puts
			 * the flags back. */
			in->run = partial;
			continue;
		}
		if (writes_all_flags(in))
			dead = true;
		else if (!flags_untouched(in))
			dead = false;
	}
}
