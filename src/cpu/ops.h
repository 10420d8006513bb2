/* What each operation is, in one row per operation: its generic handler,
 * the arithmetic flags it reads and writes, whether it may fault, and what
 * the code generator does with it. The opcode table names operations, the
 * decoded record carries the operation and which form of it the decoder
 * chose, and everything that reasons about instructions (fast-form
 * selection, dead flags, fusion, the code generator) reads these facts
 * instead of recognising handlers by address, so that renaming a handler
 * or adding another operand size (long mode) changes no list but this. */
#ifndef V2E_CPU_OPS_H
#define V2E_CPU_OPS_H

#include "cpu/insn.h"
#include "cpu/state.h"

/* One id per operation of the opcode table, named after its generic
 * handler (OP_ADD_EG is op_add_EG: ADD in its E,G encoding). Fast forms
 * are forms of these, not operations of their own. */
enum op_id {
	OP_NONE, /* an empty slot: #UD */
#define OP_ALU_IDS(x) OP_##x##_EG, OP_##x##_GE, OP_##x##_EI, OP_##x##_AI
	OP_ALU_IDS(ADD), OP_ALU_IDS(OR), OP_ALU_IDS(ADC), OP_ALU_IDS(SBB),
	OP_ALU_IDS(AND), OP_ALU_IDS(SUB), OP_ALU_IDS(XOR), OP_ALU_IDS(CMP),
#undef OP_ALU_IDS
	OP_TEST_EG, OP_TEST_EI, OP_TEST_AI,
	OP_INC_R, OP_DEC_R, OP_INC_E, OP_DEC_E, OP_NOT_E, OP_NEG_E,
	OP_CMC, OP_CLC, OP_STC, OP_CLD, OP_STD, OP_SAHF, OP_LAHF, OP_SALC,
	OP_MOV_EG, OP_MOV_GE, OP_MOV_EI, OP_MOV_RI, OP_MOV_AO, OP_MOV_OA,
	OP_LEA, OP_XCHG_EG, OP_XCHG_RA, OP_NOP, OP_MOVZX, OP_MOVSX, OP_MOVSXD,
	OP_CBW, OP_CWD, OP_CMOV, OP_SETCC, OP_BSWAP, OP_XLAT,
	OP_PUSH_R, OP_POP_R, OP_PUSH_I, OP_PUSH_E, OP_POP_E, OP_PUSHA, OP_POPA,
	OP_ENTER, OP_LEAVE, OP_PUSHF, OP_POPF,
	OP_JCC, OP_JMP_REL, OP_CALL_REL, OP_JMP_E, OP_CALL_E, OP_RET,
	OP_RET_IMM, OP_LOOP, OP_LOOPE, OP_LOOPNE, OP_JCXZ,
	OP_SHIFT_E1, OP_SHIFT_ECL, OP_SHIFT_EI,
	OP_SHLD_I, OP_SHLD_CL, OP_SHRD_I, OP_SHRD_CL,
	OP_MUL_E, OP_IMUL_E, OP_DIV_E, OP_IDIV_E, OP_IMUL_GE, OP_IMUL_GEI,
	OP_BT_EG, OP_BTS_EG, OP_BTR_EG, OP_BTC_EG,
	OP_BT_EI, OP_BTS_EI, OP_BTR_EI, OP_BTC_EI, OP_BSF, OP_BSR,
	OP_DAA, OP_DAS, OP_AAA, OP_AAS, OP_AAM, OP_AAD,
	OP_MOVS, OP_CMPS, OP_STOS, OP_LODS, OP_SCAS, OP_INS, OP_OUTS,
	OP_XADD, OP_CMPXCHG, OP_CMPXCHG8B,
	OP_IN_I, OP_OUT_I, OP_IN_DX, OP_OUT_DX,
	OP_MOV_ES, OP_MOV_SE, OP_PUSH_SREG, OP_POP_SREG, OP_LXS, OP_ARPL,
	OP_LAR, OP_LSL, OP_VERR, OP_VERW,
	OP_JMP_FAR, OP_CALL_FAR, OP_JMP_FAR_E, OP_CALL_FAR_E, OP_RETF,
	OP_RETF_IMM, OP_IRET, OP_INT, OP_INT3, OP_INTO, OP_INT1, OP_BOUND,
	OP_CLI, OP_STI, OP_HLT, OP_GRP6, OP_GRP7, OP_CLTS,
	OP_MOV_RC, OP_MOV_CR, OP_MOV_RD, OP_MOV_DR, OP_INVD, OP_CPUID,
	OP_RDTSC, OP_RDMSR, OP_WRMSR, OP_RDPMC, OP_SYSENTER, OP_SYSEXIT,
	OP_X87, OP_WAIT, OP_FXSAVE, OP_FXRSTOR,
	OP_SSE, OP_SSE_SHIMM, OP_SSE_GRP15,
	OP_UD, OP_UD_NOHANDLER, OP_GP_TOO_LONG,
	OP_NR
};
_Static_assert(OP_NR <= 256, "struct insn keeps the op id in a byte");

/* Which form of its operation the decoder gave an instruction
 * (fast_form_select()), and so which threaded entry it runs. */
enum insn_form {
	FORM_THUNK, /* the generic handler through op_thunk: no threaded entry */
	FORM_ANY,   /* the generic handler's own threaded entry, any size */
	FORM_FIXED, /* a fast form at one size, without an r/m operand */
	FORM_REG,   /* ... whose r/m operand is a register */
	FORM_MEM,   /* ... whose r/m operand is memory */
	FORM_FLAT,  /* ... memory in a segment of flat_segs (the _tf entries) */
	FORM_NR
};

/* May the operation fault (or reach the bus, which is as visible)? */
enum op_fault {
	FAULT_NEVER, /* never: it touches registers only */
	FAULT_MEM,   /* only through its r/m operand when that is memory */
	FAULT_ANY,   /* whatever its operands */
};

/* The code generator's disposition (jit.c): the forms it compiles, as
 * JIT_FORM() bits, always with JIT_STATED, which says the row was
 * thought about; JIT_INTERP alone leaves every form to the interpreter.
 * A form in the mask is compiled only if its operands suit as well. */
#define JIT_FORM(f) (1u << (f))
#define JIT_STATED 0x80u
#define JIT_INTERP JIT_STATED

/* The eight ALU operations in opcode order, and TEST. */
enum { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR,
       ALU_CMP, ALU_TEST, ALU_NONE };
/* Operand shapes of the ALU operations. */
enum { SHAPE_NONE, SHAPE_EG, SHAPE_GE, SHAPE_EI, SHAPE_AI };

struct op_info {
	insn_fn fn;         /* the generic handler: every size and form */
	const char *name;
	/* Arithmetic flags (FL_ARITH bits) whose earlier value the result
	 * may depend on, read or kept; and those it may change. */
	uint16_t flags_in, flags_out;
	uint8_t fault;      /* enum op_fault */
	uint8_t alu, shape; /* ALU_* and SHAPE_*, for the ALU operations */
	uint8_t jit;        /* JIT_STATED | JIT_FORM() bits */
};

/* Indexed by enum op_id (ops.c). */
extern const struct op_info op_info[OP_NR];

static inline const struct op_info *insn_op(const struct insn *in)
{
	return &op_info[in->op];
}

#endif
