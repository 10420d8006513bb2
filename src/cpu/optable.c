/* The opcode table: one slot per opcode of the one-byte map and the 0F map,
 * with a ModRM.reg sub-table for each group (SDM vol. 2, appendix A), each
 * naming an operation (ops.h). An instruction is added here, in ops.c and
 * in its insn_*.c file, nowhere else. */
#include <stddef.h>

#include "cpu/handlers.h"
#include "cpu/ops.h"
#include "lib/compiler.h"

#define E(op_, fl_) { .op = (op_), .flags = (fl_) }
#define G(grp_, fl_) { .op = OP_NONE, .flags = OPF_GROUP | (fl_), .group = grp_ }

#define M OPF_MODRM
#define B OPF_BYTE
#define LK OPF_LOCK
#define END OPF_END

/* The eight ALU operations, each in its six encodings. */
#define ALU_ROW(base, op)                                         \
	[base + 0] = E(OP_##op##_EG, M | B | LK),                 \
	[base + 1] = E(OP_##op##_EG, M | LK),                     \
	[base + 2] = E(OP_##op##_GE, M | B),                      \
	[base + 3] = E(OP_##op##_GE, M),                          \
	[base + 4] = E(OP_##op##_AI, B | OPF_IMM8),               \
	[base + 5] = E(OP_##op##_AI, OPF_IMMZ)

#define ALU_GROUP(name, fl)                                                 \
	static const struct op_entry name[8] = {                            \
		E(OP_ADD_EI, LK | (fl)), E(OP_OR_EI, LK | (fl)),           \
		E(OP_ADC_EI, LK | (fl)), E(OP_SBB_EI, LK | (fl)),          \
		E(OP_AND_EI, LK | (fl)), E(OP_SUB_EI, LK | (fl)),          \
		E(OP_XOR_EI, LK | (fl)), E(OP_CMP_EI, (fl)),               \
	}

ALU_GROUP(grp1_EbIb, B | OPF_IMM8);
ALU_GROUP(grp1_EvIz, OPF_IMMZ);
ALU_GROUP(grp1_EvIb, OPF_IMM8);
ALU_GROUP(grp1_EbIb_no64, B | OPF_IMM8 | OPF_NO64);

static const struct op_entry grp2_Eb1[8] = {
	E(OP_SHIFT_E1, B), E(OP_SHIFT_E1, B), E(OP_SHIFT_E1, B), E(OP_SHIFT_E1, B),
	E(OP_SHIFT_E1, B), E(OP_SHIFT_E1, B), E(OP_SHIFT_E1, B), E(OP_SHIFT_E1, B),
};
static const struct op_entry grp2_Ev1[8] = {
	E(OP_SHIFT_E1, 0), E(OP_SHIFT_E1, 0), E(OP_SHIFT_E1, 0), E(OP_SHIFT_E1, 0),
	E(OP_SHIFT_E1, 0), E(OP_SHIFT_E1, 0), E(OP_SHIFT_E1, 0), E(OP_SHIFT_E1, 0),
};
static const struct op_entry grp2_EbCL[8] = {
	E(OP_SHIFT_ECL, B), E(OP_SHIFT_ECL, B), E(OP_SHIFT_ECL, B), E(OP_SHIFT_ECL, B),
	E(OP_SHIFT_ECL, B), E(OP_SHIFT_ECL, B), E(OP_SHIFT_ECL, B), E(OP_SHIFT_ECL, B),
};
static const struct op_entry grp2_EvCL[8] = {
	E(OP_SHIFT_ECL, 0), E(OP_SHIFT_ECL, 0), E(OP_SHIFT_ECL, 0), E(OP_SHIFT_ECL, 0),
	E(OP_SHIFT_ECL, 0), E(OP_SHIFT_ECL, 0), E(OP_SHIFT_ECL, 0), E(OP_SHIFT_ECL, 0),
};
static const struct op_entry grp2_EbIb[8] = {
	E(OP_SHIFT_EI, B | OPF_IMM8U), E(OP_SHIFT_EI, B | OPF_IMM8U),
	E(OP_SHIFT_EI, B | OPF_IMM8U), E(OP_SHIFT_EI, B | OPF_IMM8U),
	E(OP_SHIFT_EI, B | OPF_IMM8U), E(OP_SHIFT_EI, B | OPF_IMM8U),
	E(OP_SHIFT_EI, B | OPF_IMM8U), E(OP_SHIFT_EI, B | OPF_IMM8U),
};
static const struct op_entry grp2_EvIb[8] = {
	E(OP_SHIFT_EI, OPF_IMM8U), E(OP_SHIFT_EI, OPF_IMM8U),
	E(OP_SHIFT_EI, OPF_IMM8U), E(OP_SHIFT_EI, OPF_IMM8U),
	E(OP_SHIFT_EI, OPF_IMM8U), E(OP_SHIFT_EI, OPF_IMM8U),
	E(OP_SHIFT_EI, OPF_IMM8U), E(OP_SHIFT_EI, OPF_IMM8U),
};

/* F6/F7: TEST NOT NEG MUL IMUL DIV IDIV (/1 is an alias of TEST). */
static const struct op_entry grp3_Eb[8] = {
	E(OP_TEST_EI, B | OPF_IMM8), E(OP_TEST_EI, B | OPF_IMM8),
	E(OP_NOT_E, B | LK), E(OP_NEG_E, B | LK),
	E(OP_MUL_E, B), E(OP_IMUL_E, B), E(OP_DIV_E, B), E(OP_IDIV_E, B),
};
static const struct op_entry grp3_Ev[8] = {
	E(OP_TEST_EI, OPF_IMMZ), E(OP_TEST_EI, OPF_IMMZ),
	E(OP_NOT_E, LK), E(OP_NEG_E, LK),
	E(OP_MUL_E, 0), E(OP_IMUL_E, 0), E(OP_DIV_E, 0), E(OP_IDIV_E, 0),
};
static const struct op_entry grp4[8] = {
	E(OP_INC_E, B | LK), E(OP_DEC_E, B | LK),
};
static const struct op_entry grp5[8] = {
	E(OP_INC_E, LK), E(OP_DEC_E, LK),
	E(OP_CALL_E, OPF_DEF64 | END), E(OP_CALL_FAR_E, OPF_MEM | END),
	E(OP_JMP_E, OPF_DEF64 | END), E(OP_JMP_FAR_E, OPF_MEM | END),
	E(OP_PUSH_E, OPF_DEF64),
};
static const struct op_entry grp1a[8] = {
	E(OP_POP_E, OPF_DEF64),
};
static const struct op_entry grp11_Eb[8] = {
	E(OP_MOV_EI, B | OPF_IMM8),
};
static const struct op_entry grp11_Ev[8] = {
	E(OP_MOV_EI, OPF_IMMZ),
};
/* 0F 00: SLDT STR LLDT LTR VERR VERW */
static const struct op_entry grp6[8] = {
	E(OP_GRP6, 0), E(OP_GRP6, 0), E(OP_GRP6, END), E(OP_GRP6, 0),
	E(OP_VERR, 0), E(OP_VERW, 0),
};
/* 0F 01: SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG */
static const struct op_entry grp7[8] = {
	E(OP_GRP7, OPF_MEM), E(OP_GRP7, OPF_MEM), E(OP_GRP7, OPF_MEM | END),
	E(OP_GRP7, OPF_MEM | END), E(OP_GRP7, 0), {0},
	E(OP_GRP7, END), E(OP_GRP7, OPF_MEM | END),
};
/* 0F BA: BT BTS BTR BTC with imm8 */
static const struct op_entry grp8[8] = {
	{0}, {0}, {0}, {0},
	E(OP_BT_EI, OPF_IMM8U), E(OP_BTS_EI, OPF_IMM8U | LK),
	E(OP_BTR_EI, OPF_IMM8U | LK), E(OP_BTC_EI, OPF_IMM8U | LK),
};
/* 0F C7: CMPXCHG8B */
static const struct op_entry grp9[8] = {
	{0}, E(OP_CMPXCHG8B, OPF_MEM | LK),
};
/* 0F AE: FXSAVE FXRSTOR LDMXCSR STMXCSR - LFENCE MFENCE SFENCE/CLFLUSH */
static const struct op_entry grp15[8] = {
	E(OP_FXSAVE, OPF_MEM), E(OP_FXRSTOR, OPF_MEM),
	E(OP_SSE_GRP15, OPF_SSE), E(OP_SSE_GRP15, OPF_SSE), {0},
	E(OP_SSE_GRP15, OPF_SSE), E(OP_SSE_GRP15, OPF_SSE),
	E(OP_SSE_GRP15, OPF_SSE),
};
/* 0F 71, 72, 73: MMX/SSE2 shifts by imm8 (PSRLDQ, PSLLDQ in 73 /3 /7) */
#define SHI E(OP_SSE_SHIMM, OPF_SSE | OPF_IMM8U | OPF_REG)
static const struct op_entry grp12[8] = { [2] = SHI, [4] = SHI, [6] = SHI };
static const struct op_entry grp13[8] = { [2] = SHI, [4] = SHI, [6] = SHI };
static const struct op_entry grp14[8] = { [2] = SHI, [3] = SHI, [6] = SHI, [7] = SHI };
#undef SHI
/* 0F 18: prefetch hints, NOPs here */
static const struct op_entry grp16[8] = {
	E(OP_NOP, OPF_MEM), E(OP_NOP, OPF_MEM), E(OP_NOP, OPF_MEM), E(OP_NOP, OPF_MEM),
	E(OP_NOP, 0), E(OP_NOP, 0), E(OP_NOP, 0), E(OP_NOP, 0),
};

#define ROW8(base, op, fl)                                                   \
	[base + 0] = E(op, fl), [base + 1] = E(op, fl), [base + 2] = E(op, fl), \
	[base + 3] = E(op, fl), [base + 4] = E(op, fl), [base + 5] = E(op, fl), \
	[base + 6] = E(op, fl), [base + 7] = E(op, fl)
#define ROW16(base, op, fl) ROW8(base, op, fl), ROW8(base + 8, op, fl)

const struct op_entry optable[2][256] = {
	[0] = {
		ALU_ROW(0x00, ADD), ALU_ROW(0x08, OR), ALU_ROW(0x10, ADC),
		ALU_ROW(0x18, SBB), ALU_ROW(0x20, AND), ALU_ROW(0x28, SUB),
		ALU_ROW(0x30, XOR), ALU_ROW(0x38, CMP),
		[0x06] = E(OP_PUSH_SREG, OPF_NO64), [0x07] = E(OP_POP_SREG, OPF_NO64 | END),
		[0x0e] = E(OP_PUSH_SREG, OPF_NO64),
		[0x16] = E(OP_PUSH_SREG, OPF_NO64), [0x17] = E(OP_POP_SREG, OPF_NO64 | END),
		[0x1e] = E(OP_PUSH_SREG, OPF_NO64), [0x1f] = E(OP_POP_SREG, OPF_NO64 | END),
		[0x27] = E(OP_DAA, OPF_NO64), [0x2f] = E(OP_DAS, OPF_NO64),
		[0x37] = E(OP_AAA, OPF_NO64), [0x3f] = E(OP_AAS, OPF_NO64),
		ROW8(0x40, OP_INC_R, OPF_REGOP), ROW8(0x48, OP_DEC_R, OPF_REGOP),
		ROW8(0x50, OP_PUSH_R, OPF_REGOP | OPF_DEF64),
		ROW8(0x58, OP_POP_R, OPF_REGOP | OPF_DEF64),
		[0x60] = E(OP_PUSHA, OPF_NO64), [0x61] = E(OP_POPA, OPF_NO64),
		[0x62] = E(OP_BOUND, M | OPF_MEM | OPF_NO64),
		[0x63] = E(OP_ARPL, M),
		[0x68] = E(OP_PUSH_I, OPF_IMMZ | OPF_DEF64),
		[0x69] = E(OP_IMUL_GEI, M | OPF_IMMZ),
		[0x6a] = E(OP_PUSH_I, OPF_IMM8 | OPF_DEF64),
		[0x6b] = E(OP_IMUL_GEI, M | OPF_IMM8),
		[0x6c] = E(OP_INS, B), [0x6d] = E(OP_INS, 0),
		[0x6e] = E(OP_OUTS, B), [0x6f] = E(OP_OUTS, 0),
		ROW16(0x70, OP_JCC, OPF_IMM8 | OPF_DEF64 | END),
		[0x80] = G(grp1_EbIb, 0), [0x81] = G(grp1_EvIz, 0),
		[0x82] = G(grp1_EbIb_no64, 0), [0x83] = G(grp1_EvIb, 0),
		[0x84] = E(OP_TEST_EG, M | B), [0x85] = E(OP_TEST_EG, M),
		[0x86] = E(OP_XCHG_EG, M | B | LK), [0x87] = E(OP_XCHG_EG, M | LK),
		[0x88] = E(OP_MOV_EG, M | B), [0x89] = E(OP_MOV_EG, M),
		[0x8a] = E(OP_MOV_GE, M | B), [0x8b] = E(OP_MOV_GE, M),
		[0x8c] = E(OP_MOV_ES, M), [0x8d] = E(OP_LEA, M | OPF_MEM),
		[0x8e] = E(OP_MOV_SE, M | END), [0x8f] = G(grp1a, 0),
		ROW8(0x90, OP_XCHG_RA, OPF_REGOP),
		[0x98] = E(OP_CBW, 0), [0x99] = E(OP_CWD, 0),
		[0x9a] = E(OP_CALL_FAR, OPF_FARPTR | OPF_NO64 | END),
		[0x9b] = E(OP_WAIT, 0),
		[0x9c] = E(OP_PUSHF, OPF_DEF64), [0x9d] = E(OP_POPF, OPF_DEF64 | END),
		[0x9e] = E(OP_SAHF, 0), [0x9f] = E(OP_LAHF, 0),
		[0xa0] = E(OP_MOV_AO, B | OPF_MOFFS), [0xa1] = E(OP_MOV_AO, OPF_MOFFS),
		[0xa2] = E(OP_MOV_OA, B | OPF_MOFFS), [0xa3] = E(OP_MOV_OA, OPF_MOFFS),
		[0xa4] = E(OP_MOVS, B), [0xa5] = E(OP_MOVS, 0),
		[0xa6] = E(OP_CMPS, B), [0xa7] = E(OP_CMPS, 0),
		[0xa8] = E(OP_TEST_AI, B | OPF_IMM8), [0xa9] = E(OP_TEST_AI, OPF_IMMZ),
		[0xaa] = E(OP_STOS, B), [0xab] = E(OP_STOS, 0),
		[0xac] = E(OP_LODS, B), [0xad] = E(OP_LODS, 0),
		[0xae] = E(OP_SCAS, B), [0xaf] = E(OP_SCAS, 0),
		ROW8(0xb0, OP_MOV_RI, OPF_REGOP | B | OPF_IMM8U),
		ROW8(0xb8, OP_MOV_RI, OPF_REGOP | OPF_IMMV),
		[0xc0] = G(grp2_EbIb, 0), [0xc1] = G(grp2_EvIb, 0),
		[0xc2] = E(OP_RET_IMM, OPF_IMM16 | OPF_DEF64 | END),
		[0xc3] = E(OP_RET, OPF_DEF64 | END),
		[0xc4] = E(OP_LXS, M | OPF_MEM | OPF_NO64 | END),
		[0xc5] = E(OP_LXS, M | OPF_MEM | OPF_NO64 | END),
		[0xc6] = G(grp11_Eb, 0), [0xc7] = G(grp11_Ev, 0),
		[0xc8] = E(OP_ENTER, OPF_ENTER | OPF_DEF64),
		[0xc9] = E(OP_LEAVE, OPF_DEF64),
		[0xca] = E(OP_RETF_IMM, OPF_IMM16 | END), [0xcb] = E(OP_RETF, END),
		[0xcc] = E(OP_INT3, END), [0xcd] = E(OP_INT, OPF_IMM8U | END),
		[0xce] = E(OP_INTO, OPF_NO64 | END), [0xcf] = E(OP_IRET, END),
		[0xd0] = G(grp2_Eb1, 0), [0xd1] = G(grp2_Ev1, 0),
		[0xd2] = G(grp2_EbCL, 0), [0xd3] = G(grp2_EvCL, 0),
		[0xd4] = E(OP_AAM, OPF_IMM8U | OPF_NO64),
		[0xd5] = E(OP_AAD, OPF_IMM8U | OPF_NO64),
		[0xd6] = E(OP_SALC, OPF_NO64),
		[0xd7] = E(OP_XLAT, 0),
		ROW8(0xd8, OP_X87, M),
		[0xe0] = E(OP_LOOPNE, OPF_IMM8 | OPF_DEF64 | END),
		[0xe1] = E(OP_LOOPE, OPF_IMM8 | OPF_DEF64 | END),
		[0xe2] = E(OP_LOOP, OPF_IMM8 | OPF_DEF64 | END),
		[0xe3] = E(OP_JCXZ, OPF_IMM8 | OPF_DEF64 | END),
		[0xe4] = E(OP_IN_I, B | OPF_IMM8U), [0xe5] = E(OP_IN_I, OPF_IMM8U),
		[0xe6] = E(OP_OUT_I, B | OPF_IMM8U), [0xe7] = E(OP_OUT_I, OPF_IMM8U),
		[0xe8] = E(OP_CALL_REL, OPF_IMMZ | OPF_DEF64 | END),
		[0xe9] = E(OP_JMP_REL, OPF_IMMZ | OPF_DEF64 | END),
		[0xea] = E(OP_JMP_FAR, OPF_FARPTR | OPF_NO64 | END),
		[0xeb] = E(OP_JMP_REL, OPF_IMM8 | OPF_DEF64 | END),
		[0xec] = E(OP_IN_DX, B), [0xed] = E(OP_IN_DX, 0),
		[0xee] = E(OP_OUT_DX, B), [0xef] = E(OP_OUT_DX, 0),
		[0xf1] = E(OP_INT1, END),
		[0xf4] = E(OP_HLT, END), [0xf5] = E(OP_CMC, 0),
		[0xf6] = G(grp3_Eb, 0), [0xf7] = G(grp3_Ev, 0),
		[0xf8] = E(OP_CLC, 0), [0xf9] = E(OP_STC, 0),
		[0xfa] = E(OP_CLI, 0), [0xfb] = E(OP_STI, END),
		[0xfc] = E(OP_CLD, 0), [0xfd] = E(OP_STD, 0),
		[0xfe] = G(grp4, 0), [0xff] = G(grp5, 0),
	},
	[1] = {
		[0x00] = G(grp6, 0), [0x01] = G(grp7, 0),
		[0x02] = E(OP_LAR, M), [0x03] = E(OP_LSL, M),
		[0x06] = E(OP_CLTS, END),
		[0x08] = E(OP_INVD, 0), [0x09] = E(OP_INVD, 0),
		[0x0b] = E(OP_UD, END),
		ROW8(0x10, OP_SSE, M | OPF_SSE),
		[0x18] = G(grp16, 0),
		[0x19] = E(OP_NOP, M), [0x1a] = E(OP_NOP, M), [0x1b] = E(OP_NOP, M),
		[0x1c] = E(OP_NOP, M), [0x1d] = E(OP_NOP, M), [0x1e] = E(OP_NOP, M),
		[0x1f] = E(OP_NOP, M),
		[0x20] = E(OP_MOV_RC, M | OPF_MODREG),
		[0x21] = E(OP_MOV_RD, M | OPF_MODREG),
		[0x22] = E(OP_MOV_CR, M | OPF_MODREG | END),
		[0x23] = E(OP_MOV_DR, M | OPF_MODREG | END),
		[0x30] = E(OP_WRMSR, END), [0x31] = E(OP_RDTSC, 0),
		[0x32] = E(OP_RDMSR, 0), [0x33] = E(OP_RDPMC, 0),
		[0x34] = E(OP_SYSENTER, END), [0x35] = E(OP_SYSEXIT, END),
		ROW8(0x28, OP_SSE, M | OPF_SSE),
		ROW16(0x40, OP_CMOV, M),
		ROW16(0x50, OP_SSE, M | OPF_SSE), ROW16(0x60, OP_SSE, M | OPF_SSE),
		[0x70] = E(OP_SSE, M | OPF_SSE | OPF_IMM8U),
		[0x71] = G(grp12, 0), [0x72] = G(grp13, 0), [0x73] = G(grp14, 0),
		[0x74] = E(OP_SSE, M | OPF_SSE), [0x75] = E(OP_SSE, M | OPF_SSE),
		[0x76] = E(OP_SSE, M | OPF_SSE), [0x77] = E(OP_SSE, OPF_SSE),
		[0x7e] = E(OP_SSE, M | OPF_SSE), [0x7f] = E(OP_SSE, M | OPF_SSE),
		ROW16(0x80, OP_JCC, OPF_IMMZ | OPF_DEF64 | END),
		ROW16(0x90, OP_SETCC, M | B),
		[0xa0] = E(OP_PUSH_SREG, OPF_DEF64), [0xa1] = E(OP_POP_SREG, OPF_DEF64),
		[0xa2] = E(OP_CPUID, 0),
		[0xa3] = E(OP_BT_EG, M),
		[0xa4] = E(OP_SHLD_I, M | OPF_IMM8U), [0xa5] = E(OP_SHLD_CL, M),
		[0xa8] = E(OP_PUSH_SREG, OPF_DEF64), [0xa9] = E(OP_POP_SREG, OPF_DEF64),
		[0xab] = E(OP_BTS_EG, M | LK),
		[0xac] = E(OP_SHRD_I, M | OPF_IMM8U), [0xad] = E(OP_SHRD_CL, M),
		[0xae] = G(grp15, 0),
		[0xaf] = E(OP_IMUL_GE, M),
		[0xb0] = E(OP_CMPXCHG, M | B | LK), [0xb1] = E(OP_CMPXCHG, M | LK),
		[0xb2] = E(OP_LXS, M | OPF_MEM | END),
		[0xb3] = E(OP_BTR_EG, M | LK),
		[0xb4] = E(OP_LXS, M | OPF_MEM), [0xb5] = E(OP_LXS, M | OPF_MEM),
		[0xb6] = E(OP_MOVZX, M), [0xb7] = E(OP_MOVZX, M),
		[0xb9] = E(OP_UD, M | END),
		[0xba] = G(grp8, 0),
		[0xbb] = E(OP_BTC_EG, M | LK),
		[0xbc] = E(OP_BSF, M), [0xbd] = E(OP_BSR, M),
		[0xbe] = E(OP_MOVSX, M), [0xbf] = E(OP_MOVSX, M),
		[0xc0] = E(OP_XADD, M | B | LK), [0xc1] = E(OP_XADD, M | LK),
		[0xc2] = E(OP_SSE, M | OPF_SSE | OPF_IMM8U),
		[0xc3] = E(OP_SSE, M | OPF_SSE),
		[0xc4] = E(OP_SSE, M | OPF_SSE | OPF_IMM8U),
		[0xc5] = E(OP_SSE, M | OPF_SSE | OPF_IMM8U),
		[0xc6] = E(OP_SSE, M | OPF_SSE | OPF_IMM8U),
		[0xc7] = G(grp9, 0),
		ROW8(0xc8, OP_BSWAP, OPF_REGOP),
		ROW16(0xd0, OP_SSE, M | OPF_SSE), ROW16(0xe0, OP_SSE, M | OPF_SSE),
		ROW16(0xf0, OP_SSE, M | OPF_SSE),
	},
};

/* One-byte opcodes that mean something else in 64-bit mode. */
const struct op_entry optable64[256] = {
	[0x63] = E(OP_MOVSXD, M),
};

/* Fast forms: for the commonest operand size and operand kind of an
 * operation, a handler without size or register/memory dispatch. Size 0
 * matches any size. The decoder swaps them in; the differential tests,
 * which run 32-bit forms, check them against the host CPU. FAST_REG: r/m
 * is a register; FAST_MEM: r/m is memory; FAST_ANY: the form has no r/m
 * operand. */
/* A fast form with its threaded entry. */
#define FT(op, size, kind, fast) { op, size, kind, fast, fast##_t, NULL, NULL, NULL }
/* ... with its threaded entry for an operand without index too. */
#define FTM(op, size, kind, fast) { op, size, kind, fast, fast##_t, fast##_tb, NULL, NULL }
/* ... and the entries for a flat segment (FAST_MEM_ENTRIES). */
#define FTMF(op, size, kind, fast) \
	{ op, size, kind, fast, fast##_t, fast##_tb, fast##_tf, fast##_tbf }
#define FAST_ALU(OP, op)                                                  \
	FT(OP_##OP##_EG, 4, FAST_REG, op_##op##_EG_r32),                  \
	FT(OP_##OP##_GE, 4, FAST_REG, op_##op##_GE_r32),                  \
	FT(OP_##OP##_EI, 4, FAST_REG, op_##op##_EI_r32),                  \
	FTMF(OP_##OP##_EG, 4, FAST_MEM, op_##op##_EG_m32),                \
	FTMF(OP_##OP##_GE, 4, FAST_MEM, op_##op##_GE_m32),                \
	FTMF(OP_##OP##_EI, 4, FAST_MEM, op_##op##_EI_m32),                \
	FT(OP_##OP##_AI, 4, FAST_ANY, op_##op##_AI_32),                   \
	FT(OP_##OP##_EG, 0, FAST_ANY, op_##op##_EG),                      \
	FT(OP_##OP##_GE, 0, FAST_ANY, op_##op##_GE),                      \
	FT(OP_##OP##_EI, 0, FAST_ANY, op_##op##_EI),                      \
	FT(OP_##OP##_AI, 0, FAST_ANY, op_##op##_AI)

const struct fast_form fast_forms[] = {
	FAST_ALU(ADD, add), FAST_ALU(OR, or), FAST_ALU(ADC, adc),
	FAST_ALU(SBB, sbb), FAST_ALU(AND, and), FAST_ALU(SUB, sub),
	FAST_ALU(XOR, xor), FAST_ALU(CMP, cmp),
	FT(OP_TEST_EG, 4, FAST_REG, op_test_EG_r32),
	FT(OP_INC_R, 4, FAST_ANY, op_inc_r32),
	FT(OP_DEC_R, 4, FAST_ANY, op_dec_r32),
	FT(OP_MOV_EG, 4, FAST_REG, op_mov_EG_r32),
	FT(OP_MOV_GE, 4, FAST_REG, op_mov_GE_r32),
	FTMF(OP_MOV_GE, 4, FAST_MEM, op_mov_GE_m32),
	FTMF(OP_MOV_EG, 4, FAST_MEM, op_mov_EG_m32),
	FT(OP_MOV_RI, 4, FAST_ANY, op_mov_rI_32),
	FTM(OP_LEA, 4, FAST_MEM, op_lea_32),
	FT(OP_PUSH_R, 4, FAST_ANY, op_push_r32),
	FT(OP_POP_R, 4, FAST_ANY, op_pop_r32),
	FT(OP_MOVZX, 4, FAST_REG, op_movzx_r32),
	FTMF(OP_MOV_GE, 2, FAST_MEM, op_mov_GE_m16),
	FTMF(OP_MOV_GE, 1, FAST_MEM, op_mov_GE_m8),
	FTMF(OP_MOV_EG, 2, FAST_MEM, op_mov_EG_m16),
	FTMF(OP_MOV_EG, 1, FAST_MEM, op_mov_EG_m8),
	/* Any size: generic handlers that keep no RIP run threaded. */
	FT(OP_MOV_EG, 0, FAST_ANY, op_mov_EG),
	FT(OP_MOV_GE, 0, FAST_ANY, op_mov_GE),
	FTMF(OP_MOV_EI, 4, FAST_MEM, op_mov_EI_m32),
	FT(OP_MOV_EI, 0, FAST_ANY, op_mov_EI),
	FT(OP_MOV_RI, 0, FAST_ANY, op_mov_rI),
	FT(OP_MOV_AO, 0, FAST_ANY, op_mov_AO),
	FT(OP_MOV_OA, 0, FAST_ANY, op_mov_OA),
	FT(OP_LEA, 0, FAST_ANY, op_lea),
	FT(OP_MOVZX, 0, FAST_ANY, op_movzx),
	FT(OP_MOVSX, 0, FAST_ANY, op_movsx),
	FT(OP_CMOV, 0, FAST_ANY, op_cmov),
	FT(OP_SETCC, 0, FAST_ANY, op_setcc),
	FT(OP_TEST_EG, 0, FAST_ANY, op_test_EG),
	FT(OP_TEST_AI, 0, FAST_ANY, op_test_AI),
	FT(OP_TEST_EI, 0, FAST_ANY, op_test_EI),
	FT(OP_INC_R, 0, FAST_ANY, op_inc_r),
	FT(OP_DEC_R, 0, FAST_ANY, op_dec_r),
	FTMF(OP_INC_E, 4, FAST_MEM, op_inc_m32),
	FTMF(OP_DEC_E, 4, FAST_MEM, op_dec_m32),
	FTMF(OP_NOT_E, 4, FAST_MEM, op_not_m32),
	FT(OP_NOT_E, 4, FAST_REG, op_not_r32),
	FT(OP_INC_E, 0, FAST_ANY, op_inc_E),
	FT(OP_DEC_E, 0, FAST_ANY, op_dec_E),
	FT(OP_NOT_E, 0, FAST_ANY, op_not_E),
	FT(OP_NEG_E, 0, FAST_ANY, op_neg_E),
	FT(OP_CALL_REL, 4, FAST_ANY, op_call_rel32),
	FT(OP_RET, 4, FAST_ANY, op_ret32),
	FT(OP_JMP_REL, 0, FAST_ANY, op_jmp_rel),
	FT(OP_SHIFT_E1, 4, FAST_REG, op_shift_E1_r32),
	FT(OP_SHIFT_ECL, 4, FAST_REG, op_shift_ECL_r32),
	FT(OP_SHIFT_EI, 4, FAST_REG, op_shift_EI_r32),
	FT(OP_SHIFT_E1, 0, FAST_ANY, op_shift_E1),
	FT(OP_SHIFT_ECL, 0, FAST_ANY, op_shift_ECL),
	FT(OP_SHIFT_EI, 0, FAST_ANY, op_shift_EI),
	FT(OP_IMUL_GE, 4, FAST_REG, op_imul_GE_r32),
	FTMF(OP_IMUL_GE, 4, FAST_MEM, op_imul_GE_m32),
	FT(OP_IMUL_GEI, 4, FAST_REG, op_imul_GEI_r32),
	FT(OP_IMUL_GE, 0, FAST_ANY, op_imul_GE),
	FT(OP_IMUL_GEI, 0, FAST_ANY, op_imul_GEI),
	{ OP_NONE, 0, 0, NULL, NULL, NULL, NULL, NULL },
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
	if (flat && tf) {
		in->run = in->index == REG_NONE ? tbf : tf;
		in->form = FORM_FLAT;
	} else {
		in->run = in->index == REG_NONE ? tb : t;
		in->form = FORM_MEM;
	}
}

/* Points an instruction at a threaded entry without a memory operand. */
static void use_form(struct insn *in, insn_fn run, enum insn_form form)
{
	in->run = run;
	in->form = (uint8_t)form;
}

void fast_form_select(struct insn *in, unsigned code, bool mem, bool flat)
{
	unsigned cc = in->opcode & 0xf;
	in->form = FORM_THUNK;
	/* Fast forms keep no RIP and use the mode's natural address size
	 * (fast_ea()). */
	if (mem && (in->base == 16 || in->adsize != (code == 8 ? 8 : 4)))
		return;
	/* Forms whose threaded entry depends on the condition or the
	 * operation, not only on the operation and size. */
	/* Relative branches take their target as an offset from the block
	 * (branch_target_prepare()), masked like RIP: only at the mode's own
	 * operand size. */
	if ((in->op == OP_JCC || in->op == OP_JMP_REL ||
	     in->op == OP_CALL_REL) && in->opsize != code)
		return;
	switch (in->op) {
	case OP_JCC:
		use_form(in, jcc_threaded[cc], FORM_FIXED);
		return;
	case OP_CMOV:
		if (in->opsize != 4)
			break;
		if (mem)
			use_mem_form(in, cmov_m32[cc].fn, cmov_m32[cc].t,
				     cmov_m32[cc].tb, cmov_m32[cc].tf,
				     cmov_m32[cc].tbf, flat);
		else
			use_form(in, cmov[cc], FORM_REG);
		return;
	case OP_MOVZX:
		if (in->opsize != 4 || !mem)
			break;
		if (in->opcode & 1)
			use_mem_form(in, op_movzxw_m32, op_movzxw_m32_t,
				     op_movzxw_m32_tb, op_movzxw_m32_tf,
				     op_movzxw_m32_tbf, flat);
		else
			use_mem_form(in, op_movzxb_m32, op_movzxb_m32_t,
				     op_movzxb_m32_tb, op_movzxb_m32_tf,
				     op_movzxb_m32_tbf, flat);
		return;
	case OP_SETCC:
		if (mem || (in->flags & INSN_REXB8))
			break;
		use_form(in, set[cc], FORM_REG);
		return;
	case OP_SHIFT_EI:
		if (mem)
			break;
		if (in->opsize == 4) {
			static const insn_fn by_op[8] = {
				[4] = op_shl_I_r32_t, [5] = op_shr_I_r32_t,
				[6] = op_shl_I_r32_t, [7] = op_sar_I_r32_t,
			};
			insn_fn run = by_op[(in->modrm >> 3) & 7];
			in->fn = op_shift_EI_r32;
			use_form(in, run ? run : op_shift_EI_r32_t, FORM_REG);
			return;
		}
		if (in->opsize == 2) {
			static const insn_fn by_op16[8] = {
				[4] = op_shl_I_r16_t, [5] = op_shr_I_r16_t,
				[6] = op_shl_I_r16_t, [7] = op_sar_I_r16_t,
			};
			insn_fn run = by_op16[(in->modrm >> 3) & 7];
			if (run)
				use_form(in, run, FORM_REG);
			else
				use_form(in, op_shift_EI_t, FORM_ANY);
			return;
		}
		break;
	default:
		break;
	}
	for (const struct fast_form *ff = fast_forms; ff->op; ff++) {
		if (ff->op == in->op &&
		    (ff->opsize == in->opsize || !ff->opsize) &&
		    (ff->kind == FAST_ANY ||
		     (ff->kind == FAST_REG) == (in->mod == 3)) &&
		    !(in->flags & INSN_REXB8 && in->opsize == 1)) {
			if (ff->threaded_b) {
				use_mem_form(in, ff->fast, ff->threaded,
					     ff->threaded_b, ff->flat,
					     ff->flat_b, flat);
			} else {
				in->fn = ff->fast;
				use_form(in, ff->threaded,
					 !ff->opsize ? FORM_ANY
					 : ff->kind == FAST_REG ? FORM_REG
								: FORM_FIXED);
			}
			return;
		}
	}
}

/* Whether a fast form can neither fault nor reach the bus: it touches
 * registers only (the generic threaded entries are left out, as are
 * generic handlers run through a thunk). */
static bool pure_fast_form(const struct insn *in, const struct op_info *oi)
{
	if (in->form < FORM_FIXED)
		return false;
	return oi->fault == FAULT_NEVER ||
	       (oi->fault == FAULT_MEM && in->form == FORM_REG);
}

/* SHL, SHR and SAR of a 32-bit register by a nonzero immediate set all
 * six flags, whatever they were (a count of 0 keeps them). */
static bool shift_writes_all(const struct insn *in)
{
	return in->op == OP_SHIFT_EI && in->form == FORM_REG &&
	       in->opsize == 4 && ((in->modrm >> 3) & 7) >= 4 &&
	       (in->imm & 0x1f);
}

/* Register fast forms with an r/m operand that set all six arithmetic
 * flags without reading any. */
static bool writes_all_flags(const struct insn *in)
{
	const struct op_info *oi = insn_op(in);
	if (shift_writes_all(in))
		return true;
	return in->form == FORM_REG && pure_fast_form(in, oi) &&
	       oi->flags_in == 0 && oi->flags_out == FL_ARITH;
}

/* Pure fast forms that neither read nor write flags. */
static bool flags_untouched(const struct insn *in)
{
	const struct op_info *oi = insn_op(in);
	return pure_fast_form(in, oi) && oi->flags_in == 0 &&
	       oi->flags_out == 0;
}

/* Forms that set only some flags and keep the rest, with their entry
 * for when those are dead (and the instruction reads no flag): it then
 * leaves every flag alone. */
static const struct {
	uint8_t op;
	insn_fn full, dead;
} partial_writers[] = {
	{ OP_IMUL_GE, op_imul_GE_r32_t, op_imul_GE_r32_nf_t },
	{ OP_IMUL_GEI, op_imul_GEI_r32_t, op_imul_GEI_r32_nf_t },
};

/* The entries of a partial writer, or of a 32-bit register rotate by an
 * immediate: with its flags (*full) and without (*dead). False for any
 * other instruction. */
static bool partial_entries(const struct insn *in, insn_fn *full,
			    insn_fn *dead)
{
	unsigned regop = (in->modrm >> 3) & 7;
	if (in->form != FORM_REG || in->opsize != 4)
		return false;
	if (in->op == OP_SHIFT_EI && regop <= 1) {
		*full = op_shift_EI_r32_t;
		*dead = regop ? op_ror_I_r32_nf_t : op_rol_I_r32_nf_t;
		return true;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(partial_writers); i++) {
		if (in->op == partial_writers[i].op) {
			*full = partial_writers[i].full;
			*dead = partial_writers[i].dead;
			return true;
		}
	}
	return false;
}

void block_drop_dead_flags(struct insn *ins, unsigned n)
{
	/* Backwards: whether the flags present after instruction i are
	 * dead. They are live out of the block. */
	bool dead = false;
	for (unsigned i = n; i-- > 0;) {
		struct insn *in = &ins[i];
		insn_fn full, nf;
		if (partial_entries(in, &full, &nf)) {
			/* Dead, it touches no flag and what it would keep
			 * flows through to the same dead end; live, it
			 * keeps flags from before, which are live too. Run
			 * again over a shortened copy, the pass also puts
			 * the flags back. */
			in->run = dead ? nf : full;
			if (dead)
				in->flags |= INSN_NOFLAGS;
			else
				in->flags &= (uint8_t)~INSN_NOFLAGS;
			continue;
		}
		if (writes_all_flags(in))
			dead = true;
		else if (!flags_untouched(in))
			dead = false;
	}
}
