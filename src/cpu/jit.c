/* The native code generator (jit.h): runs of a block's 32-bit integer
 * instructions become host code that keeps the guest registers in host
 * registers, inlines the segment check and TLB lookup of memory accesses
 * (none for a segment flat in the block's mode), carries CF
 * in the host's own flag between ADD and ADC, and leaves the lazy flags
 * the interpreter would. Anything else goes back to the interpreter. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu/codecache.h"
#include "cpu/exec.h"
#include "cpu/jit.h"
#include "cpu/ops.h"

#if defined(__x86_64__)

#include "cpu/offsets.h"
#include "cpu/x64asm.h"

#define JIT_SIZE (32u << 20)
/* The buffer's first part holds what runs; the rest, what rarely runs
 * (the ways back to the interpreter and to the C handlers of branches):
 * kept apart, the code a chain runs through is dense in the host's
 * caches and its TLB. */
#define JIT_HOT_SIZE (20u << 20)
/* More than one block's runs can take (64 memory instructions, each with
 * its code and its way out). */
#define JIT_BLOCK_MAX (32u << 10)

struct jit {
	uint8_t *rw, *rx; /* the same pages: written here, run there */
	size_t size, used; /* used: the hot part's, from 0 */
	size_t cold_used;  /* from JIT_HOT_SIZE */
	FILE *perf_map;   /* jit_perf_map(), or NULL */
};

/* Shared anonymous pages, and a second view of them made by mremap()
 * (an old size of 0 maps the same pages again): one writable, one
 * executable. Anonymous, so that perf reads the names of the code from
 * a perf map (jit_perf_map()). */
struct jit *jit_create(void)
{
	struct jit *jit = calloc(1, sizeof(*jit));
	if (!jit)
		return NULL;
	jit->rw = mmap(NULL, JIT_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (jit->rw == MAP_FAILED)
		goto fail;
	jit->rx = mremap(jit->rw, 0, JIT_SIZE, MREMAP_MAYMOVE);
	if (jit->rx == MAP_FAILED)
		goto fail_rw;
	if (mprotect(jit->rx, JIT_SIZE, PROT_READ | PROT_EXEC) != 0)
		goto fail_rx;
	jit->size = JIT_SIZE;
	jit->cold_used = JIT_HOT_SIZE;
	return jit;
fail_rx:
	munmap(jit->rx, JIT_SIZE);
fail_rw:
	munmap(jit->rw, JIT_SIZE);
fail:
	free(jit);
	return NULL;
}

void jit_destroy(struct jit *jit)
{
	if (!jit)
		return;
	munmap(jit->rw, jit->size);
	munmap(jit->rx, jit->size);
	if (jit->perf_map)
		fclose(jit->perf_map);
	free(jit);
}

bool jit_perf_map(struct jit *jit, const char *path)
{
	if (!jit)
		return false;
	if (jit->perf_map)
		fclose(jit->perf_map);
	jit->perf_map = fopen(path, "we");
	return jit->perf_map != NULL;
}

void jit_reset(struct jit *jit)
{
	if (jit) {
		jit->used = 0;
		jit->cold_used = JIT_HOT_SIZE;
	}
}

bool jit_full(const struct jit *jit)
{
	return jit && (jit->used + JIT_BLOCK_MAX > JIT_HOT_SIZE ||
		       jit->cold_used + JIT_BLOCK_MAX > jit->size);
}

/* A compiled run's entry has the interpreter's entry of its first
 * instruction in the 8 bytes before it. */
insn_fn jit_interp_entry(const struct jit *jit, const struct insn *in)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)in->run;
	insn_fn orig;
	if (!jit || p < jit->rx + 8 || p >= jit->rx + jit->size)
		return in->run;
	memcpy(&orig, p - 8, sizeof(orig));
	return orig;
}

/* ---- what an instruction is, for the compiler ---- */

enum jkind {
	J_NONE,
	J_MOV_RR, J_MOV_RI, J_MOVZX_R, J_ALU_RR, J_ALU_RI, J_TEST_RR,
	J_INCDEC_R, J_NOT_R, J_NEG_R, J_SHIFT_RI, J_SHIFT_RCL, J_ROT_RI,
	J_IMUL_RR, J_IMUL_RRI, J_LEA, J_MUL, J_CDQ, J_CLI, J_DSHIFT_I,
	J_DSHIFT_CL,
	J_CMOV, J_SETCC, /* on the host's flags, else left to the interpreter */
	/* Any operand size (bytes and words mostly), register or memory
	 * operand (`mem`): dst_mem says which side it is. */
	J_SALU, J_SINCDEC, J_SMOV, J_MOVSX,
	J_JCC, J_JMP, J_CALL, J_RET, /* the block's last instruction */
	/* with a memory operand */
	J_LOAD, J_STORE, J_STORE_I, J_ALU_RM, J_ALU_MR, J_ALU_MI, J_UNARY_M,
	J_IMUL_RM, J_PUSH, J_POP, J_CMOV_M, J_PUSH_I, J_LEAVE, J_PUSH_M,
};

/* How an instruction treats the arithmetic flags. */
enum jflags {
	F_NONE,   /* neither reads nor writes them */
	F_WRITE,  /* writes all six, reads none */
	F_READ,   /* reads CF (ADC, SBB, INC, DEC) */
	F_DEAD,   /* MUL, IMUL: CF and OF written, the rest kept ... */
	F_KEEP,   /* ... and where that can be seen: they read the rest */
	F_UNSET,  /* written, but not as the interpreter would: compiled only
		   * where nothing sees them (SHLD, SHRD) */
};

struct jop {
	uint8_t kind, flags;
	uint8_t op;    /* ALU op, shift op (ModRM.reg), 0/1 inc/dec, ... */
	uint8_t size;  /* memory access size */
	bool zx;       /* a byte or word load zero-extended to 32 bits */
	bool mem;      /* accesses memory: the TLB may send it back */
	int8_t dst, src; /* guest registers, -1 for none */
	bool dst_hi, src_hi; /* AH..BH: the second byte of dst/src 0..3 */
	bool dst_mem, src_imm; /* sized forms: the memory side, an immediate */
	uint32_t imm;
};

static int8_t reg8(unsigned r, bool *hi)
{
	/* Outside long mode there is no REX: byte registers 4-7 are AH..BH. */
	*hi = r >= 4;
	return (int8_t)(r & 3);
}

/* Whether SS is flat in decoding mode `mode`: the stack's accesses then
 * need the TLB alone (stack32_fast()). */
static bool ss_flat(uint32_t mode)
{
	return (mode >> 16) & (1u << S_SS);
}

/* Whether the compiled code can address the memory operand of a generic
 * handler: 32-bit addressing, not RIP-relative. A segment flat in the
 * block's decoding mode adds nothing; any other has its limit checked
 * and its base added from the segment cache at run time (emit_operand()),
 * as the interpreter's mem_fast() does. */
static bool jit_mem(const struct insn *in)
{
	return in->adsize == 4 && in->base != 16;
}

/* The r/m operand of a generic entry: a register (j->dst or j->src by
 * `as_dst`), or memory the compiled code can address (jit_mem()). */
static bool rm_operand(const struct insn *in, struct jop *j, bool as_dst)
{
	if (in->mod == 3) {
		int8_t r = (int8_t)in->rm;
		bool hi = false;
		if (in->opsize == 1)
			r = reg8(in->rm, &hi);
		if (as_dst)
			j->dst = r, j->dst_hi = hi;
		else
			j->src = r, j->src_hi = hi;
		return true;
	}
	if (!jit_mem(in))
		return false;
	j->mem = true;
	j->dst_mem = as_dst;
	return true;
}

/* The ModRM.reg operand at the instruction's size. */
static int8_t reg_operand(const struct insn *in, unsigned r, bool *hi)
{
	*hi = false;
	return in->opsize == 1 ? reg8(r, hi) : (int8_t)r;
}

/* Generic entries at any size (FORM_ANY; the accumulator's 32-bit form
 * too): ALU ops, TEST, INC/DEC, MOV, MOVSX. */
static bool classify_sized(const struct insn *in, struct jop *j)
{
	const struct op_info *oi = insn_op(in);
	j->size = in->opsize;
	if (j->size != 1 && j->size != 2 && j->size != 4)
		return false;
	if (oi->alu != ALU_NONE) {
		j->kind = J_SALU, j->op = oi->alu;
		j->flags = oi->flags_in ? F_READ : F_WRITE;
		switch (oi->shape) {
		case SHAPE_AI: /* AL/AX/EAX op= imm */
			j->dst = 0, j->src_imm = true;
			j->size = in->form == FORM_FIXED ? 4 : in->opsize;
			return true;
		case SHAPE_GE:
			j->dst = reg_operand(in, in->reg, &j->dst_hi);
			return rm_operand(in, j, false);
		case SHAPE_EG:
			j->src = reg_operand(in, in->reg, &j->src_hi);
			return rm_operand(in, j, true);
		default:
			j->src_imm = true;
			return rm_operand(in, j, true);
		}
	}
	switch (in->op) {
	case OP_INC_R: case OP_DEC_R:
		if (in->opsize != 2)
			return false;
		/* fall through */
	case OP_INC_E: case OP_DEC_E:
		j->kind = J_SINCDEC, j->flags = F_READ;
		j->op = in->op == OP_DEC_E || in->op == OP_DEC_R;
		if (in->op == OP_INC_R || in->op == OP_DEC_R) {
			j->dst = (int8_t)in->reg;
			return true;
		}
		return rm_operand(in, j, true);
	case OP_MOV_EG: case OP_MOV_GE: {
		bool eg = in->op == OP_MOV_EG;
		if (in->opsize == 4)
			return false;
		j->kind = J_SMOV;
		if (eg)
			j->src = reg_operand(in, in->reg, &j->src_hi);
		else
			j->dst = reg_operand(in, in->reg, &j->dst_hi);
		return rm_operand(in, j, eg);
	}
	case OP_MOV_EI:
		j->kind = J_SMOV, j->src_imm = true;
		return rm_operand(in, j, true);
	case OP_MOV_AO: case OP_MOV_OA: /* the accumulator and a moffs */
		if (in->adsize != 4)
			return false;
		j->kind = J_SMOV, j->mem = true;
		j->dst_mem = in->op == OP_MOV_OA;
		if (j->dst_mem)
			j->src = 0;
		else
			j->dst = 0;
		return true;
	case OP_MOV_RI:
		if (in->opsize == 4)
			return false;
		j->kind = J_SMOV, j->src_imm = true;
		j->dst = reg_operand(in, in->reg, &j->dst_hi);
		return true;
	case OP_MOVSX:
		if (in->opsize != 4)
			return false;
		j->kind = J_MOVSX, j->dst = (int8_t)in->reg;
		j->size = (in->opcode & 1) ? 2 : 1; /* the source's */
		if (in->mod == 3) {
			j->src = j->size == 1 ? reg8(in->rm, &j->src_hi)
					      : (int8_t)in->rm;
			return true;
		}
		if (!jit_mem(in))
			return false;
		j->mem = true;
		return true;
	default:
		return false;
	}
}

/* A fast form at 32 bits with a register or memory operand (FORM_FIXED,
 * FORM_REG; FORM_FLAT and FORM_MEM, whose operand is memory in a flat
 * segment or in any other; LEA's FORM_MEM, which only computes the
 * offset). */
static bool classify_fast(const struct insn *in, uint32_t mode, struct jop *j)
{
	const struct op_info *oi = insn_op(in);
	bool mem = in->form == FORM_FLAT || (in->form == FORM_MEM && in->op != OP_LEA);
	unsigned regop = (in->modrm >> 3) & 7;

	if (mem && !jit_mem(in))
		return false;

	if (oi->alu < ALU_TEST && oi->shape != SHAPE_AI) {
		j->op = oi->alu;
		j->flags = oi->flags_in ? F_READ : F_WRITE;
		j->size = 4;
		switch (oi->shape) {
		case SHAPE_EG:
			if (mem)
				j->kind = J_ALU_MR, j->src = (int8_t)in->reg;
			else
				j->kind = J_ALU_RR, j->dst = (int8_t)in->rm,
				j->src = (int8_t)in->reg;
			break;
		case SHAPE_GE:
			if (mem)
				j->kind = J_ALU_RM, j->dst = (int8_t)in->reg;
			else
				j->kind = J_ALU_RR, j->dst = (int8_t)in->reg,
				j->src = (int8_t)in->rm;
			break;
		default:
			if (mem)
				j->kind = J_ALU_MI;
			else
				j->kind = J_ALU_RI, j->dst = (int8_t)in->rm;
			break;
		}
		j->mem = mem;
		return true;
	}
	switch (in->op) {
	case OP_MOV_EG: case OP_MOV_GE:
		if (mem) {
			bool eg = in->op == OP_MOV_EG;
			j->kind = eg ? J_STORE : J_LOAD, j->size = in->opsize;
			if (in->opsize == 1) {
				if (eg)
					j->src = reg8(in->reg, &j->src_hi);
				else
					j->dst = reg8(in->reg, &j->dst_hi);
			} else if (eg) {
				j->src = (int8_t)in->reg;
			} else {
				j->dst = (int8_t)in->reg;
				j->zx = in->opsize == 4;
			}
			break;
		}
		j->kind = J_MOV_RR;
		if (in->op == OP_MOV_EG)
			j->dst = (int8_t)in->rm, j->src = (int8_t)in->reg;
		else
			j->dst = (int8_t)in->reg, j->src = (int8_t)in->rm;
		break;
	case OP_MOV_RI:
		j->kind = J_MOV_RI, j->dst = (int8_t)in->reg;
		break;
	case OP_MOV_EI:
		j->kind = J_STORE_I, j->size = 4;
		break;
	case OP_MOVZX:
		j->dst = (int8_t)in->reg;
		j->size = (in->opcode & 1) ? 2 : 1;
		if (mem) {
			j->kind = J_LOAD, j->zx = true;
		} else {
			j->kind = J_MOVZX_R;
			if (j->size == 1)
				j->src = reg8(in->rm, &j->src_hi);
			else
				j->src = (int8_t)in->rm;
		}
		break;
	case OP_TEST_EG:
		j->kind = J_TEST_RR, j->dst = (int8_t)in->rm, j->src = (int8_t)in->reg;
		j->flags = F_WRITE;
		break;
	case OP_INC_R: case OP_DEC_R:
		j->kind = J_INCDEC_R, j->dst = (int8_t)in->reg;
		j->op = in->op == OP_DEC_R;
		j->flags = F_READ;
		break;
	case OP_INC_E: case OP_DEC_E:
		j->kind = J_UNARY_M, j->size = 4;
		j->op = in->op == OP_DEC_E;
		j->flags = F_READ;
		break;
	case OP_NOT_E:
		if (mem)
			j->kind = J_UNARY_M, j->size = 4, j->op = 2;
		else
			j->kind = J_NOT_R, j->dst = (int8_t)in->rm;
		break;
	case OP_SHIFT_ECL:
		/* SHL, SHR, SAR by CL: a count of 0 passes the flags
		 * through, any other sets them, so the flags before it are
		 * seen exactly when those after it are (F_NONE to the
		 * liveness pass, which then keeps them stored). */
		if (in->opsize != 4 || mem || regop < 4)
			return false;
		j->kind = J_SHIFT_RCL, j->dst = (int8_t)in->rm;
		j->src = R_CX;
		j->op = (uint8_t)(regop == 6 ? 4 : regop);
		j->flags = F_NONE;
		break;
	case OP_SHIFT_E1: case OP_SHIFT_EI:
		if (in->opsize == 2 && in->op == OP_SHIFT_EI && regop >= 4) {
			/* 16-bit SHL, SHR, SAR by an immediate (the XZ
			 * decoder's probability updates). */
			j->kind = J_SHIFT_RI, j->dst = (int8_t)in->rm;
			j->size = 2;
			j->op = (uint8_t)(regop == 6 ? 4 : regop);
			j->imm = (uint32_t)(in->imm & 0x1f);
			j->flags = j->imm ? F_WRITE : F_NONE;
			break;
		}
		if (in->opsize != 4)
			return false;
		if (regop >= 4) {
			j->kind = J_SHIFT_RI, j->dst = (int8_t)in->rm;
			j->op = (uint8_t)(regop == 6 ? 4 : regop);
			j->imm = in->op == OP_SHIFT_E1 ? 1 : (uint32_t)(in->imm & 0x1f);
			j->flags = j->imm ? F_WRITE : F_NONE;
		} else if (in->op == OP_SHIFT_EI && regop <= 1 &&
			   (in->flags & INSN_NOFLAGS)) {
			/* ROL, ROR whose flags are dead. */
			j->kind = J_ROT_RI, j->dst = (int8_t)in->rm;
			j->op = (uint8_t)regop;
			j->imm = (uint32_t)(in->imm & 0x1f);
		} else {
			return false; /* rotates through the full path */
		}
		break;
	case OP_IMUL_GE:
		j->dst = (int8_t)in->reg;
		j->flags = F_DEAD;
		if (mem)
			j->kind = J_IMUL_RM, j->size = 4;
		else
			j->kind = J_IMUL_RR, j->src = (int8_t)in->rm;
		break;
	case OP_IMUL_GEI:
		j->kind = J_IMUL_RRI, j->dst = (int8_t)in->reg, j->src = (int8_t)in->rm;
		j->flags = F_DEAD;
		break;
	case OP_CMOV:
		j->op = in->opcode & 0xf;
		j->dst = (int8_t)in->reg;
		j->flags = F_READ;
		if (mem)
			j->kind = J_CMOV_M, j->size = 4;
		else
			j->kind = J_CMOV, j->src = (int8_t)in->rm;
		break;
	case OP_SETCC:
		j->kind = J_SETCC, j->op = in->opcode & 0xf;
		j->dst = reg8(in->rm, &j->dst_hi);
		j->flags = F_READ;
		break;
	case OP_PUSH_R: case OP_POP_R:
		if (!ss_flat(mode))
			return false;
		j->kind = in->op == OP_PUSH_R ? J_PUSH : J_POP;
		if (j->kind == J_PUSH)
			j->src = (int8_t)in->reg;
		else
			j->dst = (int8_t)in->reg;
		j->size = 4;
		break;
	case OP_CALL_REL:
		if (!ss_flat(mode))
			return false;
		j->kind = J_CALL;
		break;
	case OP_RET:
		if (!ss_flat(mode))
			return false;
		j->kind = J_RET;
		break;
	case OP_JCC:
		/* (A threaded Jcc: its target is prepared.) */
		j->kind = J_JCC, j->op = in->opcode & 0xf;
		j->flags = F_READ;
		break;
	case OP_LEA:
		j->kind = J_LEA, j->dst = (int8_t)in->reg;
		break;
	default:
		return false;
	}
	j->mem = j->mem || j->kind >= J_LOAD;
	return true;
}

/* Fills *j for an instruction the compiler handles; false otherwise. The
 * op table's facts (ops.c) say which forms of an operation it takes. */
static bool classify(const struct insn *in, uint32_t mode, struct jop *j)
{
	const struct op_info *oi = insn_op(in);
	memset(j, 0, sizeof(*j));
	j->dst = j->src = -1;
	j->imm = (uint32_t)in->imm;
	j->size = 4;
	if ((in->flags & INSN_LOCK) || !(oi->jit & JIT_FORM(in->form)))
		return false;

	switch (in->form) {
	case FORM_THUNK: /* MUL, IMUL, CDQ, CLI, PUSH imm, LEAVE: no fast form */
		if (in->opsize != 4)
			return false;
		if ((in->op == OP_SHLD_I || in->op == OP_SHLD_CL ||
		     in->op == OP_SHRD_I || in->op == OP_SHRD_CL) && in->mod == 3) {
			/* The host's flags would not match the interpreter's
			 * past a count of 1 (F_UNSET); a count of 0 is a
			 * no-op in both. */
			bool cl = in->op == OP_SHLD_CL || in->op == OP_SHRD_CL;
			j->kind = cl ? J_DSHIFT_CL : J_DSHIFT_I;
			j->op = in->op == OP_SHLD_I || in->op == OP_SHLD_CL;
			j->dst = (int8_t)in->rm, j->src = (int8_t)in->reg;
			j->imm = (uint32_t)(in->imm & 0x1f);
			j->flags = F_UNSET;
			return true;
		}
		/* CDQ and CLI change the host's flags, and CLI may fault:
		 * as a memory access, they see the flags before them stored. */
		if (in->op == OP_CWD) {
			j->kind = J_CDQ, j->src = R_AX, j->dst = R_DX;
			j->mem = true;
			return true;
		}
		if (in->op == OP_CLI) {
			j->kind = J_CLI;
			j->mem = true;
			return true;
		}
		if (in->op == OP_PUSH_E) {
			/* PUSH of a dword in memory. */
			if (in->mod == 3 || !jit_mem(in) || !ss_flat(mode))
				return false;
			j->kind = J_PUSH_M;
			j->mem = true;
			return true;
		}
		if (in->op == OP_PUSH_I || in->op == OP_LEAVE) {
			if (!ss_flat(mode))
				return false;
			j->kind = in->op == OP_PUSH_I ? J_PUSH_I : J_LEAVE;
			j->mem = true;
			return true;
		}
		j->kind = J_MUL, j->op = in->op == OP_IMUL_E;
		j->flags = F_DEAD;
		if (in->mod == 3) {
			j->src = (int8_t)in->rm;
			return true;
		}
		if (!jit_mem(in))
			return false;
		j->mem = true, j->size = 4;
		return true;
	case FORM_ANY:
		if (in->op == OP_NEG_E) {
			if (in->mod != 3 || in->opsize != 4)
				return false;
			j->kind = J_NEG_R, j->dst = (int8_t)in->rm;
			j->flags = F_WRITE;
			return true;
		}
		if (in->op == OP_JMP_REL) {
			j->kind = J_JMP;
			return true;
		}
		break;
	case FORM_FIXED:
		if (oi->shape == SHAPE_AI)
			break; /* the accumulator's 32-bit form, below */
		return classify_fast(in, mode, j);
	default:
		return classify_fast(in, mode, j);
	}
	if (!classify_sized(in, j))
		return false;
	j->mem = j->mem || j->kind >= J_LOAD;
	return true;
}

/* The kinds that push or pop (through ESP and SS, which must be flat
 * with SS.B set). */
static bool uses_stack(int kind)
{
	return kind == J_PUSH || kind == J_POP || kind == J_CALL ||
	       kind == J_RET || kind == J_PUSH_I || kind == J_PUSH_M ||
	       kind == J_LEAVE;
}

/* The guest registers an instruction reads or writes, as a mask. */
static unsigned regs_of(const struct insn *in, const struct jop *j)
{
	unsigned m = 0;
	if (j->dst >= 0)
		m |= 1u << j->dst;
	if (j->src >= 0)
		m |= 1u << j->src;
	if (j->kind == J_MUL)
		m |= 1u << R_AX | 1u << R_DX;
	if (uses_stack(j->kind))
		m |= 1u << R_SP;
	if (j->kind == J_LEAVE)
		m |= 1u << R_BP;
	if (j->kind == J_DSHIFT_CL)
		m |= 1u << R_CX;
	if (j->mem || j->kind == J_LEA) {
		if (in->base != REG_NONE)
			m |= 1u << in->base;
		if (in->index != REG_NONE)
			m |= 1u << in->index;
	}
	return m;
}

/* ---- the compiler ---- */

/* The offsets of the fields it uses: offsets.h. */

/* Host registers for guest registers: the caller-saved ones first, which
 * need no saving. RAX, RCX and RDX are scratch, RDI holds the vCPU. */
static const int8_t host_pool[] = {
	RSI, R8, R9, R10, R11, RBX, RBP, R12, R13, R14, R15,
};
#define CALLER_SAVED_IN_POOL 5

#define HF_CF 1
#define HF_PF 2
#define HF_ZF 4
#define HF_SF 8
#define HF_OF 16
#define HF_ALL 31

struct bail {
	uint8_t *site;   /* the rel32 of the jump to this way out */
	unsigned idx;    /* the instruction the interpreter redoes */
	uint8_t dirty_full, dirty_part;
	/* A TLB miss: the way out first asks tlb_refill_fast() for the
	 * entry and, given it, goes back to the lookup at `retry`. */
	uint8_t *retry;
	uint8_t kind, size;
};

struct jcomp {
	struct x64 a;
	/* Where code that rarely runs goes (JIT_HOT_SIZE): swapped in as
	 * `a` between cold_begin() and cold_end(). */
	struct x64 cold;
	const struct block *block;
	const uint8_t *loop_head; /* after the prologue */
	struct insn *ins;
	unsigned first;        /* index of the run's first instruction */
	insn_fn first_entry;   /* its interpreter entry */
	int8_t host[8];        /* guest register -> host register */
	/* Guest registers changed so far: written whole (stored as 64 bits,
	 * zero-extended as the interpreter does) or only in part. */
	uint8_t dirty_full, dirty_part;
	int8_t saved[8];
	unsigned nsaved;
	/* The guest flags the host's flags hold (HF_*): the last host
	 * instruction to set them did the guest's own operation. */
	uint8_t hf;
	/* What cpu->lf holds: its kind (-1 unknown) and whether its size is
	 * 4. Stores that would change neither are left out. */
	int lf_kind, lf_size;
	/* At most two per instruction (a CALL checks its target and its
	 * stack slot, a memory operand in a segment with a base its limit
	 * and its TLB entry), and the SS check. */
#define BAILS_MAX (2 * BLOCK_MAX_INSNS + 1)
	struct bail bail[BAILS_MAX + 1]; /* the last: new_bail()'s spare */
	unsigned nbail;
	/* The run's direct ways on, per link slot (emit_direct()). */
	uint8_t *direct_site[2], *direct_jump[2];
};

/* Code emitted between the two goes to the cold part of the buffer. */
static void cold_begin(struct jcomp *c, struct x64 *hot)
{
	*hot = c->a;
	c->a = c->cold;
}

static void cold_end(struct jcomp *c, const struct x64 *hot)
{
	c->cold = c->a;
	c->a = *hot;
}

/* A way out to record; past BAILS_MAX (never, by the bound above) the
 * run is not compiled. */
static struct bail *new_bail(struct jcomp *c)
{
	if (c->nbail == BAILS_MAX) {
		c->a.full = true;
		return &c->bail[BAILS_MAX];
	}
	return &c->bail[c->nbail++];
}

/* A jump on host condition `cc` to a way out where the interpreter
 * redoes instruction `idx`, with the guest registers changed so far. */
static struct bail *emit_bail(struct jcomp *c, unsigned idx, int cc)
{
	struct bail *b = new_bail(c);
	b->site = x_jcc(&c->a, cc);
	b->idx = idx;
	b->dirty_full = c->dirty_full;
	b->dirty_part = c->dirty_part;
	b->retry = NULL;
	return b;
}

/* The refill a TLB miss's way out tries first (struct bail's retry): the
 * guest's registers in caller-saved host registers, the vCPU, the
 * address and the red zone (PUSH_SLOT) survive the call; the stack is
 * aligned for it whatever the run pushed. Host flags are dead here
 * (emit_tlb()). */
static void emit_refill_call(struct x64 *a, const struct bail *b)
{
	static const int8_t keep[] = {RAX, RDI, RSI, R8, R9, R10, R11};
	x_mem(a, X_W, 0x8d, RSP, RSP, -128);          /* past the red zone */
	for (unsigned i = 0; i < sizeof(keep); i++)
		x_push(a, keep[i]);
	x_rr(a, X_W, 0x8b, RCX, RSP);                 /* mov rcx, rsp */
	x_alu_ri(a, X_W, 4, RSP, (uint32_t)-16);      /* and rsp, -16 */
	x_push(a, RCX);
	x_alu_ri(a, X_W, 5, RSP, 8);                  /* sub rsp, 8 */
	x_rr(a, X_W, 0x8b, RSI, RAX);                 /* the address */
	x_mov_ri(a, RDX, b->kind);
	x_mov_ri(a, RCX, b->size);
	x_mov_ri64(a, RAX, (uint64_t)(uintptr_t)tlb_refill_fast);
	x_rr(a, 0, 0xff, 2, RAX);                     /* call rax */
	x_alu_ri(a, X_W, 0, RSP, 8);                  /* add rsp, 8 */
	x_pop(a, RSP);
	x_rr(a, 0, 0x8b, RCX, RAX);                   /* the answer: a bool, */
	for (unsigned i = sizeof(keep); i-- > 0;)
		x_pop(a, keep[i]);
	x_mem(a, X_W, 0x8d, RSP, RSP, 128);
	x_rr(a, X_BYTE, 0x84, RCX, RCX);              /* so test cl, cl */
	x_patch(x_jcc(a, CC_NE), b->retry);
}

static int H(const struct jcomp *c, int g)
{
	return c->host[g];
}

static void dirty(struct jcomp *c, int g, bool full)
{
	if (full)
		c->dirty_full |= (uint8_t)(1u << g);
	else
		c->dirty_part |= (uint8_t)(1u << g);
}

/* Stores changed guest registers. */
static void emit_store_regs(struct jcomp *c, uint8_t full, uint8_t part)
{
	for (int g = 0; g < 8; g++) {
		if (full & (1u << g))
			x_mem(&c->a, X_W, 0x89, H(c, g), RDI, GPR_OFF(g));
		else if (part & (1u << g))
			x_mem(&c->a, 0, 0x89, H(c, g), RDI, GPR_OFF(g));
	}
}

static void emit_restore_host(struct jcomp *c)
{
	for (unsigned i = c->nsaved; i-- > 0;)
		x_pop(&c->a, c->saved[i]);
}

/* Stores changed guest registers and restores the host's. */
static void emit_leave(struct jcomp *c, uint8_t full, uint8_t part)
{
	emit_store_regs(c, full, part);
	emit_restore_host(c);
}

/* Goes on at instruction `idx` through its interpreter entry. */
static void emit_goto_insn(struct jcomp *c, unsigned idx)
{
	x_mov_ri64(&c->a, RSI, (uint64_t)(uintptr_t)&c->ins[idx]);
	if (idx == c->first) {
		x_mov_ri64(&c->a, RAX, (uint64_t)(uintptr_t)c->first_entry);
		x_rr(&c->a, 0, 0xff, 4, RAX); /* jmp rax */
	} else {
		x_mem(&c->a, 0, 0xff, 4, RSI, RUN_OFF); /* jmp [rsi + run] */
	}
}

/* RAX = the 32-bit effective address of `in`'s memory operand. */
static void emit_ea(struct jcomp *c, const struct insn *in, int dst)
{
	int base = in->base != REG_NONE ? H(c, in->base) : XNONE;
	int index = in->index != REG_NONE ? H(c, in->index) : XNONE;
	/* MOV between the accumulator and a moffs: the offset is the
	 * immediate, without a ModRM. */
	if (in->op == OP_MOV_AO || in->op == OP_MOV_OA)
		x_mov_ri(&c->a, dst, (uint32_t)in->imm);
	else if (base < 0 && index < 0)
		x_mov_ri(&c->a, dst, (uint32_t)in->disp);
	else
		x_rm(&c->a, 0, 0x8d, dst, base, index, in->scale, in->disp);
}

/* A read-modify-write's translation for emit_operand() and emit_tlb():
 * the write one, but on a miss the refill also translates for the read,
 * as the interpreter's full path does (the write probed, then the read):
 * both engines leave the same TLB behind. */
#define ACC_RMW TLB_REFILL_RMW

/* The memory fast path (tlb_fast()) on the address in RAX: RAX becomes
 * the host address, or the interpreter redoes instruction `idx`.
 * Clobbers RCX, RDX and the host flags. */
static void emit_tlb(struct jcomp *c, unsigned idx, int kind, unsigned size)
{
	struct x64 *a = &c->a;
	uint8_t *lookup = a->p;
	struct bail *b;
	x_rr(a, 0, 0x8b, RCX, RAX);                   /* mov ecx, eax */
	x_shift_ri(a, 5, RCX, 12 - 4);                /* shr ecx, 8 */
	x_alu_ri(a, 0, 4, RCX, (TLB_SIZE - 1) << 4);  /* and ecx, 0x3ff0 */
	x_mem(a, X_W, 0x03, RCX, RDI,                 /* add rcx, tlb_data */
	      TLBD_OFF(kind == ACC_RMW ? ACC_WRITE : kind));
	x_mem(a, X_W, 0x8d, RDX, RAX, (int32_t)size - 1); /* lea rdx, last byte */
	x_alu_ri(a, X_W, 4, RDX, ~0xfffu);            /* and rdx, ~0xfff */
	x_mem(a, X_W, 0x3b, RDX, RCX, 0);             /* cmp rdx, [rcx] */
	/* A miss the TLB's victims answer is filled from the generated
	 * code (tlb_refill_fast()), and the run goes on compiled; the
	 * interpreter gets the rest (walks, faults, MMIO). */
	b = emit_bail(c, idx, CC_NE);
	b->retry = lookup;
	b->kind = (uint8_t)kind;
	b->size = (uint8_t)size;
	x_mem(a, X_W, 0x03, RAX, RCX, 8);             /* add rax, addend */
	c->hf = 0;
}

/* `dst` = the dword at the stack address in host register `from` (flat
 * SS), or the interpreter redoes instruction `idx`. Clobbers RAX (unless
 * it is `dst`), RCX, RDX and the host flags. */
static void emit_stack_read(struct jcomp *c, unsigned idx, int from, int dst)
{
	x_rr(&c->a, 0, 0x8b, RAX, from);
	emit_tlb(c, idx, ACC_READ, 4);
	x_mem(&c->a, 0, 0x8b, dst, RAX, 0);
}

/* The memory operand of instruction `idx`, of `size` bytes for `kind`:
 * RAX becomes its host address, or the interpreter redoes the
 * instruction. In a segment that is not flat in the block's mode, the
 * offset must lie within the segment cache's limit for the access
 * (mem_fast(): an expand-down or unusable segment has none, so every
 * access goes back), then the base is added; a sum past 4 GiB, which
 * should wrap, matches no TLB tag and goes back too. The base and limit
 * are read when the code runs: a segment load changes no generated
 * code. Clobbers RCX, RDX and the host flags. */
static void emit_operand(struct jcomp *c, unsigned idx, int kind, unsigned size)
{
	const struct insn *in = &c->ins[idx];
	struct x64 *a = &c->a;

	emit_ea(c, in, RAX);
	if (!((c->block->mode >> 16) & (1u << in->seg))) {
		int32_t sf = (int32_t)(offsetof(struct cpu, sf) +
				       in->seg * sizeof(struct seg_fast));
		int32_t end = sf + (int32_t)(kind == ACC_WRITE || kind == ACC_RMW
					     ? offsetof(struct seg_fast, end_w)
					     : offsetof(struct seg_fast, end_r));
		x_mem(a, X_W, 0x8d, RDX, RAX, (int32_t)size);  /* lea rdx, [rax + size] */
		x_mem(a, X_W, 0x3b, RDX, RDI, end);            /* cmp rdx, end */
		emit_bail(c, idx, CC_A);
		x_mem(a, X_W, 0x03, RAX, RDI,                  /* add rax, base */
		      sf + (int32_t)offsetof(struct seg_fast, base));
	}
	emit_tlb(c, idx, kind, size);
}

/* The host's CF = flag_cf() for a lazy state of a known kind. Clobbers
 * RCX. */
static void emit_cf_of_kind(struct x64 *a, int kind)
{
	switch (kind) {
	case LF_ADD: /* res < a */
		x_mem(a, X_W, 0x8b, RCX, RDI, LF_OFF(res));
		x_mem(a, X_W, 0x3b, RCX, RDI, LF_OFF(a));
		break;
	case LF_SUB: /* a < b */
		x_mem(a, X_W, 0x8b, RCX, RDI, LF_OFF(a));
		x_mem(a, X_W, 0x3b, RCX, RDI, LF_OFF(b));
		break;
	case LF_NONE:
		x_mem(a, 0, 0x0fba, 4, RDI, RFLAGS_OFF); /* bt [rflags], 0 */
		x_b(a, 0);
		break;
	default:
		x_mem(a, 0, 0x0fba, 4, RDI, LF_OFF(cf)); /* bt [lf.cf], 0 */
		x_b(a, 0);
		break;
	}
}

/* Sets the host's CF to the guest's, from the lazy flags in memory
 * (flag_cf()): by the kind the run stored, or, unknown at compile time,
 * by the kind found at run time. Clobbers RCX. */
static void emit_cf_load(struct jcomp *c)
{
	static const int kinds[3] = { LF_ADD, LF_SUB, LF_NONE };
	struct x64 *a = &c->a;
	uint8_t *next, *done[3];
	if (c->hf & HF_CF)
		return;
	c->hf = HF_CF;
	if (c->lf_kind >= 0) {
		emit_cf_of_kind(a, c->lf_kind);
		return;
	}
	x_mem(a, 0, 0x8b, RCX, RDI, LF_OFF(kind));
	for (int i = 0; i < 3; i++) {
		if (kinds[i] == LF_NONE)
			x_rr(a, 0, 0x85, RCX, RCX); /* test ecx, ecx */
		else
			x_alu_ri(a, 0, 7, RCX, (uint32_t)kinds[i]);
		next = x_jcc(a, CC_NE);
		emit_cf_of_kind(a, kinds[i]);
		done[i] = x_jmp(a);
		x_patch(next, a->p);
	}
	emit_cf_of_kind(a, LF_LOGIC); /* any kind that stores its CF */
	for (int i = 0; i < 3; i++)
		x_patch(done[i], a->p);
}

/* The lazy-flag kind and size stores of lf_set(). */
static void emit_lf_kind_size(struct jcomp *c, int kind, unsigned size)
{
	if (c->lf_kind != kind) {
		x_mem(&c->a, 0, 0xc7, 0, RDI, LF_OFF(kind));
		x_d(&c->a, (uint32_t)kind);
		c->lf_kind = kind;
	}
	if (c->lf_size != (int)size) {
		x_mem(&c->a, 0, 0xc7, 0, RDI, LF_OFF(size));
		x_d(&c->a, size);
		c->lf_size = (int)size;
	}
}

static void emit_lf_kind(struct jcomp *c, int kind)
{
	emit_lf_kind_size(c, kind, 4);
}

static void emit_lf_store(struct jcomp *c, int32_t off, int r)
{
	x_mem(&c->a, X_W, 0x89, r, RDI, off);
}

/* lf.b = a 32-bit immediate, zero-extended. Clobbers RCX. */
static void emit_lf_store_imm(struct jcomp *c, int32_t off, uint32_t v)
{
	if (v < 0x80000000u) {
		x_mem(&c->a, X_W, 0xc7, 0, RDI, off);
		x_d(&c->a, v);
	} else {
		x_mov_ri(&c->a, RCX, v);
		emit_lf_store(c, off, RCX);
	}
}

/* lf.cf = the host's CF (after ADC, SBB, INC, DEC, NEG, shifts). */
static void emit_lf_cf_from_host(struct jcomp *c)
{
	x_mem(&c->a, 0, 0x0f92, 0, RDI, LF_OFF(cf)); /* setc [lf.cf] */
}

static void emit_lf_cf_zero(struct jcomp *c)
{
	x_mem(&c->a, 0, 0xc6, 0, RDI, LF_OFF(cf));
	x_b(&c->a, 0);
}

/* The lazy-flag kind of each ALU op (alu_compute()), and of TEST. */
static const int alu_lf_kind[9] = {
	LF_ADD, LF_LOGIC, LF_ADC, LF_SBB, LF_LOGIC, LF_SUB, LF_LOGIC, LF_SUB,
	LF_LOGIC,
};

/* An ALU operation `dst op= src` (src a host register, or the immediate
 * when src < 0) on host registers, with the lazy flags lf_set() leaves
 * when `live`. CMP computes its result into RCX without writing dst. */
static void emit_alu(struct jcomp *c, unsigned op, int dst, int src,
		     uint32_t imm, bool live)
{
	struct x64 *a = &c->a;
	bool arith = op == ALU_ADD || op == ALU_ADC || op == ALU_SUB ||
		     op == ALU_SBB || op == ALU_CMP;
	int res = dst;
	if (op == ALU_ADC || op == ALU_SBB)
		emit_cf_load(c);
	if (op == ALU_CMP && !live) {
		c->hf = 0;
		return;
	}
	if (live) {
		emit_lf_kind(c, alu_lf_kind[op]);
		if (arith) {
			emit_lf_store(c, LF_OFF(a), dst);
			if (src >= 0)
				emit_lf_store(c, LF_OFF(b), src);
			else
				emit_lf_store_imm(c, LF_OFF(b), imm);
		}
	}
	if (op == ALU_CMP) {
		/* SUB into a copy: the result is what the flags need. */
		x_rr(a, 0, 0x8b, RCX, dst);
		res = RCX;
		op = ALU_SUB;
	}
	if (src >= 0)
		x_rr(a, 0, 0x01 + 8 * op, src, res);
	else
		x_alu_ri(a, 0, op, res, imm);
	c->hf = HF_ALL;
	if (!live)
		return;
	if (op == ALU_ADC || op == ALU_SBB)
		emit_lf_cf_from_host(c);
	else if (!arith)
		emit_lf_cf_zero(c);
	emit_lf_store(c, LF_OFF(res), res);
}

/* INC or DEC of a host register: CF kept, captured first (incdec()). */
static void emit_incdec(struct jcomp *c, bool dec, int r, bool live)
{
	if (live) {
		emit_cf_load(c);
		emit_lf_kind(c, dec ? LF_DEC : LF_INC);
	}
	x_rr(&c->a, 0, 0xff, dec, r);
	c->hf = (uint8_t)((c->hf & HF_CF) | (HF_ALL & ~HF_CF));
	if (live) {
		emit_lf_cf_from_host(c); /* INC and DEC leave the host's CF */
		emit_lf_store(c, LF_OFF(res), r);
	}
}

/* Whether the host's flags hold what condition `cc` reads. */
static bool cond_on_host(const struct jcomp *c, unsigned cc)
{
	static const uint8_t need[8] = {
		HF_OF, HF_CF, HF_ZF, HF_CF | HF_ZF, HF_SF, HF_PF,
		HF_SF | HF_OF, HF_ZF | HF_SF | HF_OF,
	};
	return (c->hf & need[cc >> 1]) == need[cc >> 1];
}


/* Whether the chain may go on into the block in RDX (block_chain()): its
 * length, into RCX, within chain_room, and no exit asked for; else a
 * jump to one of the sites recorded in to_slow[]. */
/* block_chain()'s conditions for a block of RCX instructions: room in
 * the chain, and no exit asked for. */
static void emit_chain_checks(struct jcomp *c, uint8_t **to_slow, unsigned *k)
{
	struct x64 *a = &c->a;
	x_mem(a, X_W, 0x39, RCX, RDI, CPU_OFF(chain_room));
	to_slow[(*k)++] = x_jcc(a, 0xc); /* JL: chain_room < n */
	x_mem(a, 0, 0x83, 7, RDI, CPU_OFF(exit_request));
	x_b(a, 0);
	to_slow[(*k)++] = x_jcc(a, CC_NE);
}

static void emit_chain_room(struct jcomp *c, uint8_t **to_slow, unsigned *k)
{
	x_mem(&c->a, 0, 0x0fb7, RCX, RDX, BLOCK_OFF(n));
	emit_chain_checks(c, to_slow, k);
}

/* block_chain()'s way on into the block in RDX at the target in RAX,
 * with RCX its length, which the chain has room for. */
/* block_chain()'s bookkeeping on going into the block in RDX of RCX
 * instructions at the target in RAX. */
static void emit_chain_enter(struct jcomp *c)
{
	struct x64 *a = &c->a;
	x_mem(a, X_W, 0x29, RCX, RDI, CPU_OFF(chain_room));
	x_mem(a, X_W, 0x81, 0, RDI, CPU_OFF(icount));
	x_d(a, c->block->n);
	x_mem(a, X_W, 0x89, RDX, RDI, CPU_OFF(cur_block));
	x_mem(a, X_W, 0x89, RAX, RDI, CPU_OFF(cur_block_rip));
}

static void emit_chain_to(struct jcomp *c)
{
	struct x64 *a = &c->a;
	emit_chain_enter(c);
	x_mem(a, X_W, 0x8d, RSI, RDX, BLOCK_OFF(insns));
	x_mem(a, 0, 0xff, 4, RSI, RUN_OFF);
}

static void emit_block_ok(struct jcomp *c, bool limit_checked, uint8_t **to_slow,
			  unsigned *k);

/* far_link() for the target in RAX through the block in RCX's far link
 * `slot`, when the code runs below CPL 3 with a CS base of 0 (the linear
 * address is the target): RDX becomes the linked block, with the
 * physical page it runs from noted (cur_code_page); anything else jumps
 * to one of the sites recorded in to_slow[]. Clobbers R8 to R10. */
static void emit_far_link(struct jcomp *c, unsigned slot, bool limit_checked,
			  uint8_t **to_slow, unsigned *k)
{
	struct x64 *a = &c->a;
	x_mem(a, X_W, 0x3b, RAX, RCX,
	      BLOCK_OFF(far) + FAR_LINK_SIZE * (int32_t)slot + OFF_FAR_LINK_rip);
	to_slow[(*k)++] = x_jcc(a, CC_NE);
	x_mem(a, X_W, 0x8b, RDX, RCX, BLOCK_OFF(far) + FAR_LINK_SIZE * (int32_t)slot);
	x_rr(a, X_W, 0x85, RDX, RDX);
	to_slow[(*k)++] = x_jcc(a, CC_E);
	emit_block_ok(c, limit_checked, to_slow, k);
}

/* codecache_lookup() for the target in RAX, in the same conditions as
 * emit_far_link(): RDX becomes the jump cache's block for it, checked as
 * a far link's. Clobbers R8 to R10. */
static void emit_jc_lookup(struct jcomp *c, uint8_t **to_slow, unsigned *k)
{
	struct x64 *a = &c->a;
	x_rr(a, X_W, 0x8b, R8, RAX);
	x_shift_ri(a, 5, R8, JC_BITS);                          /* shr r8d, 14 */
	x_rr(a, 0, 0x31, RAX, R8);                              /* xor r8d, eax */
	x_alu_ri(a, 0, 4, R8, JC_SIZE - 1);
	x_rm(a, X_W, 0x8d, R8, R8, R8, 1, 0);                   /* index * 3 */
	x_rm(a, X_W, 0x3b, RAX, RDI, R8, 3, CPU_OFF(jc));       /* its lin */
	to_slow[(*k)++] = x_jcc(a, CC_NE);
	x_rm(a, X_W, 0x8b, RDX, RDI, R8, 3, CPU_OFF(jc) + OFF_JC_ENTRY_b);
	x_rr(a, X_W, 0x85, RDX, RDX);
	to_slow[(*k)++] = x_jcc(a, CC_E);
	emit_block_ok(c, true, to_slow, k);
}

/* The checks of far_link() on the block in RDX for the target in RAX:
 * valid, decoded for this mode, CS base 0 (and the limit unless
 * checked), below CPL 3, and its page mapped where it was decoded. */
static void emit_block_ok(struct jcomp *c, bool limit_checked, uint8_t **to_slow,
			  unsigned *k)
{
	struct x64 *a = &c->a;
	x_mem(a, 0, 0x80, 7, RDX, BLOCK_OFF(valid));           /* cmp byte valid, 0 */
	x_b(a, 0);
	to_slow[(*k)++] = x_jcc(a, CC_E);
	/* codecache_mode(), which must be the block's. */
	x_mem(a, 0, 0x0fb6, R8, RDI, CPU_OFF(flat_segs));
	x_shift_ri(a, 4, R8, 16);                               /* shl r8d, 16 */
	x_mem(a, 0, 0x0fb6, R9, RDI, CPU_OFF(code_size));
	x_rr(a, 0, 0x09, R9, R8);                               /* or r8d, r9d */
	x_mem(a, 0, 0x3b, R8, RDX, BLOCK_OFF(mode));
	to_slow[(*k)++] = x_jcc(a, CC_NE);
	x_mem(a, X_W, 0x83, 7, RDI, CPU_OFF(cs_base));          /* cmp cs.base, 0 */
	x_b(a, 0);
	to_slow[(*k)++] = x_jcc(a, CC_NE);
	if (!limit_checked) {
		x_mem(a, X_W, 0x3b, RAX, RDI, CPU_OFF(code_limit));
		to_slow[(*k)++] = x_jcc(a, CC_A);
	}
	x_mem(a, 0, 0x80, 7, RDI, CPU_OFF(cpl));               /* cmp byte cpl, 3 */
	x_b(a, 3);
	to_slow[(*k)++] = x_jcc(a, CC_E);
	/* The execute TLB maps the target's page where the block was
	 * decoded (its entry for the page, and that entry's physical page). */
	x_rr(a, 0, 0x8b, R8, RAX);                              /* mov r8d, eax */
	x_shift_ri(a, 5, R8, 12);                               /* shr r8d, 12 */
	x_alu_ri(a, 0, 4, R8, TLB_SIZE - 1);
	x_rr(a, 0, 0x8b, R9, R8);
	x_shift_ri(a, 4, R9, 4);                                /* index * 16 */
	x_rr(a, X_W, 0x8b, R10, RAX);
	x_alu_ri(a, X_W, 4, R10, ~0xfffu);
	x_rm(a, X_W, 0x3b, R10, RDI, R9, 0, CPU_OFF(tlb_exec));
	to_slow[(*k)++] = x_jcc(a, CC_NE);
	x_rm(a, 0, 0x8d, R9, R8, R8, 1, 0);                     /* index * 3 */
	x_mem(a, X_W, 0x8b, R10, RDX, BLOCK_OFF(paddr));
	x_alu_ri(a, X_W, 4, R10, ~0xfffu);
	x_rm(a, X_W, 0x3b, R10, RDI, R9, 3, CPU_OFF(tlb_meta_exec));
	to_slow[(*k)++] = x_jcc(a, CC_NE);
	x_mem(a, X_W, 0x89, R10, RDI, CPU_OFF(cur_code_page));
}

/* The direct way on for link `slot`, with the target in RAX: a jump
 * over it until jit_link_direct() points it in, then the block's own
 * chain checks and block_chain()'s work with the target block and its
 * length as constants written in at that time, and a jump into the
 * target's code. It reads no block's header: same-page links hold with
 * no check beyond the target (LINK_TAKEN), and this target is the
 * branch's own (a direct branch); the target block and this one drop
 * together when their page is written. */
#define DIRECT_NB 2   /* the stub's offsets: the block's address, */
#define DIRECT_N 11   /* its length */
static void emit_direct(struct jcomp *c, unsigned slot)
{
	struct x64 *a = &c->a;
	uint8_t *site = x_jmp(a), *out[2];
	unsigned k = 0;
	x_b(a, 0x48);                  /* mov rdx, imm64 */
	x_b(a, 0xba);
	x_q(a, 0);
	x_b(a, 0xb9);                  /* mov ecx, imm32 */
	x_d(a, 0);
	emit_chain_checks(c, out, &k);
	emit_chain_enter(c);
	c->direct_jump[slot] = x_jmp(a); /* rel32 0 until linked: on below */
	c->direct_site[slot] = site;
	x_patch(site, a->p);
	for (unsigned i = 0; i < k; i++)
		x_patch(out[i], a->p);
}

/* The block's way out to the block at cur_block_rip + `off` (link slot
 * `slot`): block_chain() inline when the link holds it, or its far link
 * (emit_far_link()), and the chain may go on, else `slow` for
 * instruction `idx` (branch_link() and the rest). `check_limit`: the
 * target is checked against the CS limit first. The guest registers are
 * stored already. Whether the target shares the block's page is known
 * here (a page's linear and physical offsets agree), and so which of the
 * two kinds of link chain_through() makes for it: only that one's code
 * is emitted. */
static void emit_chain(struct jcomp *c, unsigned idx, unsigned slot,
		       int32_t off, bool check_limit, insn_fn slow)
{
	struct x64 *a = &c->a, hot;
	int64_t at = (int64_t)(c->block->paddr & 0xfff) + off;
	uint8_t *to_slow[16];
	unsigned k = 0;
	x_mem(a, X_W, 0x8b, RAX, RDI, CPU_OFF(cur_block_rip));
	x_alu_ri(a, 0, 0, RAX, (uint32_t)off); /* 32-bit: the IP wraps */
	if (check_limit) {
		x_mem(a, X_W, 0x3b, RAX, RDI, CPU_OFF(code_limit));
		to_slow[k++] = x_jcc(a, CC_A);
	}
	if (at >= 0 && at < 4096) {
		emit_direct(c, slot); /* clobbers RCX and RDX on its way */
		x_mov_ri64(a, RCX, (uint64_t)(uintptr_t)c->block);
		x_mem(a, X_W, 0x3b, RAX, RCX, BLOCK_OFF(link_rip) + 8 * (int32_t)slot);
		to_slow[k++] = x_jcc(a, CC_NE);
		x_mem(a, X_W, 0x8b, RDX, RCX, BLOCK_OFF(link) + 8 * (int32_t)slot);
		x_rr(a, X_W, 0x85, RDX, RDX);
		to_slow[k++] = x_jcc(a, CC_E);
	} else {
		x_mov_ri64(a, RCX, (uint64_t)(uintptr_t)c->block);
		emit_far_link(c, slot, check_limit, to_slow, &k);
	}
	emit_chain_room(c, to_slow, &k);
	emit_chain_to(c);
	cold_begin(c, &hot);
	for (unsigned i = 0; i < k; i++)
		x_patch(to_slow[i], a->p);
	x_mov_ri64(a, RSI, (uint64_t)(uintptr_t)&c->ins[idx]);
	x_mov_ri64(a, RAX, (uint64_t)(uintptr_t)slow);
	x_rr(a, 0, 0xff, 4, RAX);
	cold_end(c, &hot);
}

/* Gives the host's flags the guest's again, from the lazy flags the run
 * stored (a load's TLB probe or a CF reload in between took them): the
 * operation redone at its size on the stored operands, for SUB (CMP),
 * ADD and the logic ops; after a shift, ZF, SF and PF of its result.
 * False for other kinds. Clobbers RCX. */
static bool emit_flags_reload(struct jcomp *c)
{
	struct x64 *a = &c->a;
	unsigned size = (unsigned)c->lf_size;
	unsigned opt = size == 2 ? X_66 : 0;
	bool byte = size == 1;
	if (c->lf_size != 1 && c->lf_size != 2 && c->lf_size != 4)
		return false;
	switch (c->lf_kind) {
	case LF_SUB:
	case LF_ADD:
		x_mem(a, opt, byte ? 0x8a : 0x8b, RCX, RDI, LF_OFF(a));
		x_mem(a, opt, (c->lf_kind == LF_SUB ? 0x3a : 0x02) + !byte,
		      RCX, RDI, LF_OFF(b));
		break;
	case LF_LOGIC:
	case LF_SHL:
	case LF_SHR:
	case LF_SAR:
		x_mem(a, opt, byte ? 0x8a : 0x8b, RCX, RDI, LF_OFF(res));
		x_rr(a, opt, byte ? 0x84 : 0x85, RCX, RCX);
		c->hf = c->lf_kind == LF_LOGIC ? HF_ALL : HF_ZF | HF_SF | HF_PF;
		return true;
	default:
		return false;
	}
	c->hf = HF_ALL;
	return true;
}

/* MUL and IMUL set CF and OF and keep SF, ZF, AF and PF: where their
 * flags can be seen, the kept ones are worked out first (as
 * imul_flags_inline() and flags_get() do) into RFLAGS, and CF and OF
 * then come from the host's multiply. Possible when the lazy state is
 * already RFLAGS or one emit_flags_reload() can redo. */
static bool mul_flags_possible(const struct jcomp *c)
{
	return c->lf_kind == LF_NONE ||
	       ((c->lf_kind == LF_SUB || c->lf_kind == LF_ADD ||
		 c->lf_kind == LF_LOGIC || c->lf_kind == LF_SHL ||
		 c->lf_kind == LF_SHR || c->lf_kind == LF_SAR) &&
		(c->lf_size == 1 || c->lf_size == 2 || c->lf_size == 4));
}

#define FL_SZAP (FL_SF | FL_ZF | FL_AF | FL_PF)

static void emit_mul_flags_begin(struct jcomp *c)
{
	struct x64 *a = &c->a;
	bool af_from_host = c->lf_kind == LF_ADD || c->lf_kind == LF_SUB;
	uint8_t need = HF_ZF | HF_SF | HF_PF;
	if (c->lf_kind == LF_NONE)
		return;
	/* The host's flags as the guest's: AF only after ADD and SUB,
	 * where it is defined; flags.c gives 0 after the logic ops and 1
	 * after shifts. Push and pop leave the stack as it was. */
	if (af_from_host ? c->hf != HF_ALL : (c->hf & need) != need)
		emit_flags_reload(c);
	x_b(a, 0x9c); /* pushfq */
	x_pop(a, RCX);
	x_alu_ri(a, 0, 4, RCX, af_from_host ? FL_SZAP : FL_SZAP & ~FL_AF);
	if (c->lf_kind != LF_LOGIC && !af_from_host)
		x_alu_ri(a, 0, 1, RCX, FL_AF);
	x_mem(a, X_W, 0x8b, RDX, RDI, RFLAGS_OFF);
	x_alu_ri(a, X_W, 4, RDX, ~(uint32_t)FL_ARITH);
	x_rr(a, X_W, 0x09, RCX, RDX);
	x_mem(a, X_W, 0x89, RDX, RDI, RFLAGS_OFF);
	x_mem(a, 0, 0xc7, 0, RDI, LF_OFF(kind));
	x_d(a, LF_NONE);
	c->lf_kind = LF_NONE;
	c->hf = 0;
}

/* After the host's multiply: RFLAGS.CF and OF = its CF (= its OF). */
static void emit_mul_flags_end(struct jcomp *c)
{
	struct x64 *a = &c->a;
	x_rr(a, 0, 0x0f92, 0, RCX);            /* setc cl */
	x_rr(a, 0, 0x0fb6, RCX, RCX);          /* movzx ecx, cl */
	x_rr(a, 0, 0x69, RCX, RCX);            /* imul ecx, ecx, CF|OF */
	x_d(a, FL_CF | FL_OF);
	x_mem(a, X_W, 0x8b, RDX, RDI, RFLAGS_OFF);
	x_alu_ri(a, X_W, 4, RDX, ~(uint32_t)(FL_CF | FL_OF));
	x_rr(a, X_W, 0x09, RCX, RDX);
	x_mem(a, X_W, 0x89, RDX, RDI, RFLAGS_OFF);
	c->hf = 0;
}

/* A branch from a run that covers its whole block back to the block's
 * start: block_chain() into the same block, without leaving the
 * generated code (the guest registers stay in host registers; the ones
 * changed are stored, so the loop head starts clean). Goes to `out`'s
 * way on when the chain may not go on. Returns the jump to patch to that
 * way. */
static uint8_t *emit_self_loop(struct jcomp *c)
{
	struct x64 *a = &c->a;
	uint8_t *out[2], *back;
	unsigned n = c->block->n;
	x_mem(a, X_W, 0x81, 7, RDI, CPU_OFF(chain_room)); /* cmp room, n */
	x_d(a, n);
	out[0] = x_jcc(a, 0xc); /* JL */
	x_mem(a, 0, 0x83, 7, RDI, CPU_OFF(exit_request));
	x_b(a, 0);
	out[1] = x_jcc(a, CC_NE);
	x_mem(a, X_W, 0x81, 5, RDI, CPU_OFF(chain_room)); /* sub room, n */
	x_d(a, n);
	x_mem(a, X_W, 0x81, 0, RDI, CPU_OFF(icount));
	x_d(a, n);
	back = x_jmp(a);
	x_patch(back, c->loop_head);
	x_patch(out[1], a->p);
	return out[0];
}

static bool is_self_loop(const struct jcomp *c, unsigned idx)
{
	return c->first == 0 && c->ins[idx].disp == 0 && c->loop_head;
}

/* CALL rel32 ending the block (op_call_rel32_t): the target within the
 * CS limit and the return address pushed (else the interpreter does the
 * whole CALL), the return stack told (ras_push()), and on into the
 * target's block. */
static void emit_call(struct jcomp *c, unsigned idx)
{
	struct x64 *a = &c->a;
	const struct insn *in = &c->ins[idx];
	int sp = H(c, R_SP);

	x_mem(a, X_W, 0x8b, RAX, RDI, CPU_OFF(cur_block_rip));
	x_alu_ri(a, 0, 0, RAX, (uint32_t)in->disp); /* 32-bit: the IP wraps */
	x_mem(a, X_W, 0x3b, RAX, RDI, CPU_OFF(code_limit));
	emit_bail(c, idx, CC_A);
	x_mem(a, 0, 0x8d, RAX, sp, -4);
	emit_tlb(c, idx, ACC_WRITE, 4);
	x_mem(a, X_W, 0x8b, RCX, RDI, CPU_OFF(cur_block_rip));
	x_alu_ri(a, 0, 0, RCX, c->ins[idx + 1].off); /* the return address */
	x_mem(a, 0, 0x89, RCX, RAX, 0);
	x_mem(a, 0, 0x8d, sp, sp, -4);
	dirty(c, R_SP, true);
	emit_leave(c, c->dirty_full, c->dirty_part);
	/* ras[ras_top++ % RAS_SIZE] = { return address, this block } */
	x_mem(a, 0, 0x8b, RAX, RDI, CPU_OFF(ras_top));
	x_mem(a, 0, 0x8d, RDX, RAX, 1);
	x_mem(a, 0, 0x89, RDX, RDI, CPU_OFF(ras_top));
	x_alu_ri(a, 0, 4, RAX, RAS_SIZE - 1);
	x_shift_ri(a, 4, RAX, 4);
	x_rm(a, X_W, 0x89, RCX, RDI, RAX, 0, CPU_OFF(ras));
	x_mov_ri64(a, RDX, (uint64_t)(uintptr_t)c->block);
	x_rm(a, X_W, 0x89, RDX, RDI, RAX, 0, CPU_OFF(ras) + OFF_RAS_ENTRY_caller);
	emit_chain(c, idx, LINK_TAKEN, in->disp, false, op_jcc_taken_t);
}

/* RET ending the block (op_ret32_t): the return address popped (else,
 * or past the CS limit, the interpreter does the whole RET), then
 * branch_return() inline: the return stack's top names the block the
 * matching CALL came from, whose far link for its fall-through is the
 * way on (emit_far_link()). The stack entry is taken only once all of
 * that holds and the chain may go on; anything else goes to
 * branch_return() itself with the target, as op_ret32_t would. */
static void emit_ret(struct jcomp *c, unsigned idx)
{
	struct x64 *a = &c->a, hot;
	int sp = H(c, R_SP);
	uint8_t *to_slow[32], *to_jc[2];
	unsigned k = 0;

	emit_stack_read(c, idx, sp, RAX);
	x_mem(a, X_W, 0x3b, RAX, RDI, CPU_OFF(code_limit));
	emit_bail(c, idx, CC_A);
	x_mem(a, 0, 0x8d, sp, sp, 4);
	dirty(c, R_SP, true);
	emit_leave(c, c->dirty_full, c->dirty_part);
	/* R11 = the offset of ras[(ras_top - 1) % RAS_SIZE]. */
	x_mem(a, 0, 0x8b, R11, RDI, CPU_OFF(ras_top));
	x_alu_ri(a, 0, 5, R11, 1);
	x_alu_ri(a, 0, 4, R11, RAS_SIZE - 1);
	x_shift_ri(a, 4, R11, 4);
	x_rm(a, X_W, 0x8b, RCX, RDI, R11, 0, CPU_OFF(ras) + OFF_RAS_ENTRY_caller);
	x_rr(a, X_W, 0x85, RCX, RCX);
	to_jc[0] = x_jcc(a, CC_E);
	x_rm(a, X_W, 0x3b, RAX, RDI, R11, 0, CPU_OFF(ras));
	to_jc[1] = x_jcc(a, CC_NE);
	emit_far_link(c, LINK_NEXT, true, to_slow, &k);
	emit_chain_room(c, to_slow, &k);
	x_mem(a, 0, 0xff, 1, RDI, CPU_OFF(ras_top));   /* dec ras_top */
	x_rm(a, X_W, 0xc7, 0, RDI, R11, 0, CPU_OFF(ras) + OFF_RAS_ENTRY_caller);
	x_d(a, 0);                                      /* caller = NULL */
	emit_chain_to(c);
	/* A return the stack does not know (a retpoline's, to the target
	 * it pushed; a longjmp): branch_return() would take the entry and
	 * ask the jump cache, which is done here, apart. */
	cold_begin(c, &hot);
	x_patch(to_jc[0], a->p);
	x_patch(to_jc[1], a->p);
	emit_jc_lookup(c, to_slow, &k);
	emit_chain_room(c, to_slow, &k);
	x_mem(a, 0, 0xff, 1, RDI, CPU_OFF(ras_top));   /* dec ras_top */
	emit_chain_to(c);
	for (unsigned i = 0; i < k; i++)
		x_patch(to_slow[i], a->p);
	x_rr(a, X_W, 0x8b, RDX, RAX);
	x_mov_ri64(a, RSI, (uint64_t)(uintptr_t)&c->ins[idx]);
	x_mov_ri64(a, RAX, (uint64_t)(uintptr_t)branch_return);
	x_rr(a, 0, 0xff, 4, RAX);
	cold_end(c, &hot);
}

/* A Jcc on the host's flags, when they hold what its condition needs:
 * the block ends through one of its two ways on. */
static bool emit_jcc(struct jcomp *c, unsigned idx, unsigned cc)
{
	struct x64 *a = &c->a;
	uint8_t *taken, *out;
	if (!cond_on_host(c, cc))
		return false;
	/* Stores, pops and moves leave the flags alone. */
	emit_store_regs(c, c->dirty_full, c->dirty_part);
	taken = x_jcc(a, cc);
	emit_restore_host(c);
	emit_chain(c, idx, LINK_NEXT, c->ins[idx + 1].off, false,
		   op_jcc_not_taken_t);
	x_patch(taken, a->p);
	if (is_self_loop(c, idx)) {
		out = emit_self_loop(c);
		x_patch(out, a->p);
	}
	emit_restore_host(c);
	emit_chain(c, idx, LINK_TAKEN, c->ins[idx].disp, true, op_jcc_taken_t);
	return true;
}

/* ---- operands of any size, through RDX and RCX ---- */

/* Zero-extending load of `size` bytes at [RAX] into `tmp`. */
static void emit_load_sized(struct jcomp *c, int tmp, unsigned size)
{
	static const unsigned op_of[5] = { 0, 0x0fb6, 0x0fb7, 0, 0x8b };
	x_mem(&c->a, 0, op_of[size], tmp, RAX, 0);
}

/* Store of the low `size` bytes of `tmp` (RDX or RCX) at [RAX]. */
static void emit_store_sized(struct jcomp *c, int tmp, unsigned size)
{
	if (size == 1)
		x_mem(&c->a, 0, 0x88, tmp, RAX, 0);
	else
		x_mem(&c->a, size == 2 ? X_66 : 0, 0x89, tmp, RAX, 0);
}

/* `tmp` = guest register g at `size` (AH..BH when hi), zero-extended. */
static void emit_get(struct jcomp *c, int g, bool hi, unsigned size, int tmp)
{
	struct x64 *a = &c->a;
	if (size == 4) {
		x_rr(a, 0, 0x8b, tmp, H(c, g));
	} else if (size == 2) {
		x_rr(a, 0, 0x0fb7, tmp, H(c, g));
	} else if (!hi) {
		x_rr(a, X_BYTE, 0x0fb6, tmp, H(c, g));
	} else {
		x_rr(a, 0, 0x8b, tmp, H(c, g));
		x_shift_ri(a, 5, tmp, 8);
		x_rr(a, X_BYTE, 0x0fb6, tmp, tmp);
		c->hf = 0;
	}
}

/* Guest register g at `size` = the low bytes of `tmp` (8- and 16-bit
 * writes merge; a 32-bit write zero-extends). */
static void emit_put(struct jcomp *c, int g, bool hi, unsigned size, int tmp)
{
	struct x64 *a = &c->a;
	if (size == 4) {
		x_rr(a, 0, 0x8b, H(c, g), tmp);
		dirty(c, g, true);
		return;
	}
	if (size == 2) {
		x_rr(a, X_66, 0x89, tmp, H(c, g));
	} else if (!hi) {
		x_rr(a, X_BYTE, 0x88, tmp, H(c, g));
	} else {
		x_rr(a, 0, 0x0fb6, tmp, tmp);
		x_shift_ri(a, 4, tmp, 8);
		x_alu_ri(a, 0, 4, H(c, g), 0xffff00ffu);
		x_rr(a, 0, 0x09, tmp, H(c, g));
		c->hf = 0;
	}
	dirty(c, g, false);
}

/* Where CMOVcc from memory keeps its condition during the TLB lookup:
 * the red zone below RSP. */
#define CMOV_SLOT (-24)
/* Where PUSH from memory keeps the value during the stack's lookup. */
#define PUSH_SLOT (-32)

/* An ALU op or TEST at any size: dst (register or memory) op= src
 * (register, memory or immediate), worked in EDX (a) and ECX (b). */
static void emit_salu(struct jcomp *c, unsigned idx, const struct jop *j,
		      bool live)
{
	struct x64 *a = &c->a;
	unsigned op = j->op, size = j->size, hop;
	bool writes = op != ALU_CMP && op != ALU_TEST;
	bool arith = op == ALU_ADD || op == ALU_ADC || op == ALU_SUB ||
		     op == ALU_SBB || op == ALU_CMP;

	if (j->mem) {
		/* A read-modify-write goes through the write translation
		 * alone, as the interpreter's (alu_rm()). */
		emit_operand(c, idx, j->dst_mem && writes ? ACC_RMW : ACC_READ,
			 size);
	}
	if (!live && !writes) {
		c->hf = 0;
		return;
	}
	if (j->dst_mem)
		emit_load_sized(c, RDX, size);
	else
		emit_get(c, j->dst, j->dst_hi, size, RDX);
	if (j->src_imm)
		x_mov_ri(a, RCX, (uint32_t)(j->imm & size_mask(size)));
	else if (j->mem && !j->dst_mem)
		emit_load_sized(c, RCX, size);
	else
		emit_get(c, j->src, j->src_hi, size, RCX);
	if ((op == ALU_ADC || op == ALU_SBB) && !(c->hf & HF_CF)) {
		x_push(a, RCX); /* pushes and pops leave the flags alone */
		emit_cf_load(c);
		x_pop(a, RCX);
	}
	if (live) {
		emit_lf_kind_size(c, alu_lf_kind[op], size);
		if (arith) {
			emit_lf_store(c, LF_OFF(a), RDX);
			emit_lf_store(c, LF_OFF(b), RCX);
		}
	}
	hop = op == ALU_CMP ? ALU_SUB : op == ALU_TEST ? ALU_AND : op;
	if (size == 1)
		x_rr(a, 0, 8 * hop, RCX, RDX);
	else
		x_rr(a, size == 2 ? X_66 : 0, 0x01 + 8 * hop, RCX, RDX);
	c->hf = HF_ALL;
	if (live) {
		if (op == ALU_ADC || op == ALU_SBB)
			emit_lf_cf_from_host(c);
		else if (!arith)
			emit_lf_cf_zero(c);
		emit_lf_store(c, LF_OFF(res), RDX);
	}
	if (!writes)
		return;
	if (j->dst_mem)
		emit_store_sized(c, RDX, size);
	else
		emit_put(c, j->dst, j->dst_hi, size, RDX);
}

/* INC or DEC at any size, of a register or memory (incdec()). */
static void emit_sincdec(struct jcomp *c, unsigned idx, const struct jop *j,
			 bool live)
{
	struct x64 *a = &c->a;
	unsigned size = j->size;
	if (j->mem) {
		emit_operand(c, idx, ACC_RMW, size);
		emit_load_sized(c, RDX, size);
	} else {
		emit_get(c, j->dst, j->dst_hi, size, RDX);
	}
	if (live) {
		emit_cf_load(c);
		emit_lf_kind_size(c, j->op ? LF_DEC : LF_INC, size);
	}
	if (size == 1)
		x_rr(a, 0, 0xfe, j->op, RDX);
	else
		x_rr(a, size == 2 ? X_66 : 0, 0xff, j->op, RDX);
	c->hf = (uint8_t)((c->hf & HF_CF) | (HF_ALL & ~HF_CF));
	if (live) {
		emit_lf_cf_from_host(c);
		/* The result zero-extended, as lf_set() masks it. */
		if (size != 4)
			x_rr(a, 0, size == 1 ? 0x0fb6 : 0x0fb7, RCX, RDX);
		emit_lf_store(c, LF_OFF(res), size != 4 ? RCX : RDX);
	}
	if (j->mem)
		emit_store_sized(c, RDX, size);
	else
		emit_put(c, j->dst, j->dst_hi, size, RDX);
}

/* MOV at any size between registers, memory and an immediate. */
static void emit_smov(struct jcomp *c, unsigned idx, const struct jop *j)
{
	unsigned size = j->size;
	if (j->mem) {
		emit_operand(c, idx, j->dst_mem ? ACC_WRITE : ACC_READ, size);
	}
	if (j->src_imm)
		x_mov_ri(&c->a, RDX, (uint32_t)(j->imm & size_mask(size)));
	else if (j->mem && !j->dst_mem)
		emit_load_sized(c, RDX, size);
	else
		emit_get(c, j->src, j->src_hi, size, RDX);
	if (j->dst_mem)
		emit_store_sized(c, RDX, size);
	else
		emit_put(c, j->dst, j->dst_hi, size, RDX);
}

/* MOVSX r32 from a byte or a word (j->size) of a register or memory. */
static void emit_movsx(struct jcomp *c, unsigned idx, const struct jop *j)
{
	unsigned op = j->size == 1 ? 0x0fbe : 0x0fbf;
	if (j->mem) {
		emit_operand(c, idx, ACC_READ, j->size);
		x_mem(&c->a, 0, op, RDX, RAX, 0);
	} else {
		emit_get(c, j->src, j->src_hi, j->size, RDX);
		x_rr(&c->a, 0, op, RDX, RDX);
	}
	emit_put(c, j->dst, false, 4, RDX);
}

static bool compile_insn(struct jcomp *c, unsigned idx, const struct jop *j,
			 bool live)
{
	struct x64 *a = &c->a;
	const struct insn *in = &c->ins[idx];
	int d = j->dst >= 0 ? H(c, j->dst) : XNONE;
	int s = j->src >= 0 ? H(c, j->src) : XNONE;

	if (j->flags == F_KEEP)
		emit_mul_flags_begin(c);
	switch (j->kind) {
	case J_MOV_RR:
		x_rr(a, 0, 0x8b, d, s);
		break;
	case J_MOV_RI:
		x_mov_ri(a, d, j->imm);
		break;
	case J_MOVZX_R:
		emit_get(c, j->src, j->src_hi, j->size, d);
		break;
	case J_ALU_RR:
		emit_alu(c, j->op, d, s, 0, live);
		break;
	case J_ALU_RI:
		emit_alu(c, j->op, d, -1, j->imm, live);
		break;
	case J_TEST_RR:
		if (live) {
			emit_lf_kind(c, LF_LOGIC);
			x_rr(a, 0, 0x8b, RCX, d);
			x_rr(a, 0, 0x21, s, RCX);
			emit_lf_cf_zero(c);
			emit_lf_store(c, LF_OFF(res), RCX);
			c->hf = HF_ALL;
		} else {
			c->hf = 0;
		}
		return true;
	case J_INCDEC_R:
		emit_incdec(c, j->op, d, live);
		break;
	case J_NOT_R:
		x_rr(a, 0, 0xf7, 2, d);
		break;
	case J_NEG_R:
		if (live) {
			emit_lf_kind(c, LF_NEG);
			emit_lf_store(c, LF_OFF(a), d);
			emit_lf_store_imm(c, LF_OFF(b), 0);
		}
		x_rr(a, 0, 0xf7, 3, d);
		c->hf = HF_ALL;
		if (live) {
			emit_lf_cf_from_host(c);
			emit_lf_store(c, LF_OFF(res), d);
		}
		break;
	case J_SHIFT_RI: {
		/* A word shifts in the host register's low word, the rest
		 * stays; its lazy flags are those of the zero-extended word. */
		bool word = j->size == 2;
		int v = word ? RDX : d; /* the operand as lf holds it */
		if (!j->imm)
			break; /* no flags; the register is zero-extended */
		if (live) {
			emit_lf_kind_size(c, j->op == 4 ? LF_SHL : j->op == 5 ? LF_SHR
								 : LF_SAR, j->size);
			if (word)
				x_rr(a, 0, 0x0fb7, RDX, d);
			emit_lf_store(c, LF_OFF(a), v);
			emit_lf_store_imm(c, LF_OFF(b), j->imm);
		}
		x_rr(a, word ? X_66 : 0, 0xc1, j->op, d);
		x_b(a, (uint8_t)j->imm);
		/* OF is defined for a count of 1 only; the host's flags are
		 * a word's after a word. */
		c->hf = word ? 0 : (uint8_t)(HF_ALL & ~(j->imm == 1 ? 0 : HF_OF));
		if (live) {
			emit_lf_cf_from_host(c);
			if (word)
				x_rr(a, 0, 0x0fb7, RDX, d);
			emit_lf_store(c, LF_OFF(res), v);
		}
		break;
	}
	case J_DSHIFT_I:
		x_rr(a, 0, j->op ? 0x0fa4 : 0x0fac, s, d);
		x_b(a, (uint8_t)j->imm);
		c->hf = 0;
		break;
	case J_DSHIFT_CL:
		x_rr(a, 0, 0x8b, RCX, H(c, R_CX));
		x_rr(a, 0, j->op ? 0x0fa5 : 0x0fad, s, d);
		c->hf = 0;
		break;
	case J_CDQ:
		x_rr(a, 0, 0x8b, d, s);
		x_shift_ri(a, 7, d, 31); /* sar edx, 31 */
		c->hf = 0;
		break;
	case J_CLI:
		/* 32-bit code runs in protected mode outside v86: IF clears
		 * when CPL <= IOPL; else the interpreter's #GP (or VIF). */
		x_mem(a, 0, 0x8b, RCX, RDI, RFLAGS_OFF);
		x_shift_ri(a, 5, RCX, FL_IOPL_SHIFT);
		x_alu_ri(a, 0, 4, RCX, 3);
		x_mem(a, 0, 0x0fb6, RDX, RDI, CPU_OFF(cpl));
		x_rr(a, 0, 0x3b, RDX, RCX);                      /* cmp edx, ecx */
		emit_bail(c, idx, CC_A);
		x_mem(a, X_W, 0x81, 4, RDI, RFLAGS_OFF);          /* and [rflags], ~IF */
		x_d(a, ~(uint32_t)FL_IF);
		c->hf = 0;
		break;
	case J_SHIFT_RCL: {
		uint8_t *none;
		x_rr(a, 0, 0x8b, RCX, s);
		x_alu_ri(a, 0, 4, RCX, 0x1f);
		none = x_jcc(a, CC_E);
		if (live) {
			emit_lf_kind(c, j->op == 4 ? LF_SHL : j->op == 5 ? LF_SHR
							  : LF_SAR);
			emit_lf_store(c, LF_OFF(a), d);
			emit_lf_store(c, LF_OFF(b), RCX);
		}
		x_rr(a, 0, 0xd3, j->op, d);
		if (live) {
			emit_lf_cf_from_host(c);
			emit_lf_store(c, LF_OFF(res), d);
		}
		x_patch(none, a->p);
		/* Either way on: the host's flags and the lazy kind known on
		 * one only. */
		c->hf = 0;
		c->lf_kind = -1;
		c->lf_size = -1;
		break;
	}
	case J_ROT_RI:
		if (j->imm) {
			x_shift_ri(a, j->op, d, (uint8_t)j->imm);
			c->hf = 0;
		}
		break;
	case J_IMUL_RR:
		x_rr(a, 0, 0x0faf, d, s);
		break;
	case J_IMUL_RRI:
		x_rr(a, 0, 0x69, d, s);
		x_d(a, j->imm);
		break;
	case J_LEA:
		emit_ea(c, in, d);
		break;
	case J_MUL:
		if (j->mem) {
			emit_operand(c, idx, ACC_READ, 4);
			x_mem(a, 0, 0x8b, RCX, RAX, 0);
			s = RCX;
		}
		x_rr(a, 0, 0x8b, RAX, H(c, R_AX));
		x_rr(a, 0, 0xf7, 4 + j->op, s);
		x_rr(a, 0, 0x8b, H(c, R_AX), RAX);
		x_rr(a, 0, 0x8b, H(c, R_DX), RDX);
		dirty(c, R_AX, true);
		dirty(c, R_DX, true);
		break;
	case J_LOAD:
		emit_operand(c, idx, ACC_READ, j->size);
		if (j->zx) {
			emit_load_sized(c, d, j->size);
		} else if (j->size == 2) {
			x_mem(a, X_66, 0x8b, d, RAX, 0);
		} else if (!j->dst_hi) {
			x_mem(a, X_BYTE, 0x8a, d, RAX, 0);
		} else {
			emit_load_sized(c, RDX, 1);
			emit_put(c, j->dst, true, 1, RDX);
			return true;
		}
		dirty(c, j->dst, j->zx);
		return true;
	case J_STORE:
		emit_operand(c, idx, ACC_WRITE, j->size);
		if (j->size == 4) {
			x_mem(a, 0, 0x89, s, RAX, 0);
		} else if (j->size == 2) {
			x_mem(a, X_66, 0x89, s, RAX, 0);
		} else if (!j->src_hi) {
			x_mem(a, X_BYTE, 0x88, s, RAX, 0);
		} else {
			emit_get(c, j->src, true, 1, RDX);
			emit_store_sized(c, RDX, 1);
		}
		return true;
	case J_STORE_I:
		emit_operand(c, idx, ACC_WRITE, 4);
		x_mem(a, 0, 0xc7, 0, RAX, 0);
		x_d(a, j->imm);
		return true;
	case J_ALU_RM:
		emit_operand(c, idx, ACC_READ, 4);
		x_mem(a, 0, 0x8b, RDX, RAX, 0);
		emit_alu(c, j->op, d, RDX, 0, live);
		break;
	case J_ALU_MR:
	case J_ALU_MI:
		emit_operand(c, idx, j->op == ALU_CMP ? ACC_READ : ACC_RMW, 4);
		x_mem(a, 0, 0x8b, RDX, RAX, 0);
		if (j->op == ALU_CMP && !live) {
			c->hf = 0;
			return true;
		}
		/* CMP of memory: the result goes nowhere, RDX is a copy. */
		emit_alu(c, j->op == ALU_CMP ? ALU_SUB : j->op, RDX,
			 j->kind == J_ALU_MR ? s : -1, j->imm, live);
		if (j->op != ALU_CMP)
			x_mem(a, 0, 0x89, RDX, RAX, 0);
		return true;
	case J_UNARY_M:
		emit_operand(c, idx, ACC_RMW, 4);
		x_mem(a, 0, 0x8b, RDX, RAX, 0);
		if (j->op == 2)
			x_rr(a, 0, 0xf7, 2, RDX);
		else
			emit_incdec(c, j->op, RDX, live);
		x_mem(a, 0, 0x89, RDX, RAX, 0);
		return true;
	case J_CMOV:
		/* A 32-bit CMOV zero-extends its destination either way. */
		x_rr(a, 0, 0x0f40 + j->op, d, s);
		break;
	case J_SETCC:
		if (!j->dst_hi) {
			x_rr(a, X_BYTE, 0x0f90 + j->op, 0, d);
			dirty(c, j->dst, false);
		} else {
			x_rr(a, 0, 0x0f90 + j->op, 0, RDX);
			emit_put(c, j->dst, true, 1, RDX);
		}
		return true;
	case J_PUSH:
		x_mem(a, 0, 0x8d, RAX, H(c, R_SP), -4);
		emit_tlb(c, idx, ACC_WRITE, 4);
		x_mem(a, 0, 0x89, s, RAX, 0);
		x_mem(a, 0, 0x8d, H(c, R_SP), H(c, R_SP), -4);
		dirty(c, R_SP, true);
		return true;
	case J_PUSH_I:
		x_mem(a, 0, 0x8d, RAX, H(c, R_SP), -4);
		emit_tlb(c, idx, ACC_WRITE, 4);
		x_mem(a, 0, 0xc7, 0, RAX, 0);
		x_d(a, (uint32_t)in->imm);
		x_mem(a, 0, 0x8d, H(c, R_SP), H(c, R_SP), -4);
		dirty(c, R_SP, true);
		return true;
	case J_PUSH_M:
		/* The source read first (at the ESP before the push), kept
		 * in the red zone while the stack slot is looked up; either
		 * lookup's way out has committed nothing. */
		emit_operand(c, idx, ACC_READ, 4);
		x_mem(a, 0, 0x8b, RDX, RAX, 0);
		x_mem(a, 0, 0x89, RDX, RSP, PUSH_SLOT);
		x_mem(a, 0, 0x8d, RAX, H(c, R_SP), -4);
		emit_tlb(c, idx, ACC_WRITE, 4);
		x_mem(a, 0, 0x8b, RDX, RSP, PUSH_SLOT);
		x_mem(a, 0, 0x89, RDX, RAX, 0);
		x_mem(a, 0, 0x8d, H(c, R_SP), H(c, R_SP), -4);
		dirty(c, R_SP, true);
		return true;
	case J_LEAVE:
		/* ESP = EBP + 4 and EBP = [EBP], nothing before the load. */
		emit_stack_read(c, idx, H(c, R_BP), RDX);
		x_mem(a, 0, 0x8d, H(c, R_SP), H(c, R_BP), 4);
		x_rr(a, 0, 0x8b, H(c, R_BP), RDX);
		dirty(c, R_SP, true);
		dirty(c, R_BP, true);
		return true;
	case J_POP:
		emit_stack_read(c, idx, H(c, R_SP), RDX);
		x_mem(a, 0, 0x8d, H(c, R_SP), H(c, R_SP), 4);
		x_rr(a, 0, 0x8b, d, RDX); /* POP ESP: the popped value wins */
		dirty(c, R_SP, true);
		dirty(c, j->dst, true);
		return true;
	case J_SALU:
		emit_salu(c, idx, j, live);
		return true;
	case J_SINCDEC:
		emit_sincdec(c, idx, j, live);
		return true;
	case J_SMOV:
		emit_smov(c, idx, j);
		return true;
	case J_MOVSX:
		emit_movsx(c, idx, j);
		return true;
	case J_CMOV_M:
		/* The source is read whatever the condition; the condition
		 * waits in the red zone while the TLB lookup uses the
		 * flags. */
		x_mem(a, 0, 0x0f90 + j->op, 0, RSP, CMOV_SLOT);
		emit_operand(c, idx, ACC_READ, 4);
		x_mem(a, 0, 0x8b, RDX, RAX, 0);
		x_mem(a, 0, 0x80, 7, RSP, CMOV_SLOT);
		x_b(a, 0);
		x_rr(a, 0, 0x0f45, d, RDX); /* CMOVNE: zero-extends either way */
		c->hf = 0;
		break;
	case J_IMUL_RM:
		emit_operand(c, idx, ACC_READ, 4);
		x_mem(a, 0, 0x0faf, d, RAX, 0);
		break;
	default:
		return false;
	}
	if (j->flags == F_DEAD || j->flags == F_KEEP) {
		/* A multiply, last to set the host's flags. */
		if (j->flags == F_KEEP)
			emit_mul_flags_end(c);
		c->hf = 0;
	}
	/* Register results: what the instruction wrote. */
	if (j->dst >= 0 && !(j->kind == J_ALU_RR && j->op == ALU_CMP) &&
	    !(j->kind == J_ALU_RI && j->op == ALU_CMP) &&
	    !(j->kind == J_ALU_RM && j->op == ALU_CMP))
		dirty(c, j->dst, true);
	return true;
}

/* Compiles instructions [first, end) of `ins`; `live[i]`: whether the
 * flags after instruction i can be seen. Returns the entry, or NULL, and
 * in *stop the first instruction it leaves to the interpreter: a
 * condition the host's flags do not hold ends the run early. */
static insn_fn compile_run(struct jit *jit, const struct block *block,
			   struct insn *ins, unsigned first,
			   unsigned end, const struct jop *ops,
			   const bool *live, unsigned *stop,
			   struct block_direct *direct)
{
	struct jcomp *c = calloc(1, sizeof(*c));
	struct x64 hot;
	uint8_t *start, *entry, *cold;
	insn_fn fn = NULL, orig = ins[first].run;
	unsigned used = 0, n = 0, i;
	bool ended = false, stack = false;

	*stop = end;
	if (!c)
		return NULL;
	start = jit->rw + jit->used;
	c->a.p = start;
	c->a.end = jit->rw + JIT_HOT_SIZE;
	cold = jit->rw + jit->cold_used;
	c->cold = (struct x64){cold, jit->rw + jit->size, false};
	c->block = block;
	c->ins = ins;
	c->first = first;
	c->first_entry = orig;
	c->lf_kind = -1;
	c->lf_size = -1;

	/* The entry is 16-byte aligned, the interpreter's entry before it. */
	while (((uintptr_t)(c->a.p + 8) & 15) != 0)
		x_b(&c->a, 0xcc);
	x_q(&c->a, (uint64_t)(uintptr_t)orig);
	if (c->a.full)
		goto out;
	entry = c->a.p;

	for (i = first; i < end; i++) {
		used |= regs_of(&ins[i], &ops[i]);
		stack |= uses_stack(ops[i].kind);
	}
	for (int g = 0; g < 8; g++) {
		c->host[g] = XNONE;
		if (!(used & (1u << g)))
			continue;
		c->host[g] = host_pool[n];
		if (n >= CALLER_SAVED_IN_POOL)
			c->saved[c->nsaved++] = host_pool[n];
		n++;
	}
	for (unsigned k = 0; k < c->nsaved; k++)
		x_push(&c->a, c->saved[k]);
	for (int g = 0; g < 8; g++)
		if (used & (1u << g))
			x_mem(&c->a, 0, 0x8b, H(c, g), RDI, GPR_OFF(g));

	if (stack) {
		/* Nothing in a run changes SS: one check of SS.B for all
		 * its pushes and pops (stack32_fast()). */
		x_mem(&c->a, 0, 0x80, 7, RDI,
		      CPU_OFF(stack_size));
		x_b(&c->a, 4);
		emit_bail(c, first, CC_NE);
	}

	/* Where a loop back to the block's start goes on (is_self_loop()). */
	c->loop_head = c->a.p;
	for (i = first; i < end; i++) {
		const struct jop *j = &ops[i];
		if ((j->kind == J_JCC || j->kind == J_CMOV ||
		     j->kind == J_CMOV_M || j->kind == J_SETCC) &&
		    !cond_on_host(c, j->op))
			emit_flags_reload(c);
		if (j->kind == J_JCC && emit_jcc(c, i, j->op)) {
			ended = true;
			i++;
			break;
		}
		if (j->kind == J_CALL) {
			emit_call(c, i);
			ended = true;
			i++;
			break;
		}
		if (j->kind == J_RET) {
			emit_ret(c, i);
			ended = true;
			i++;
			break;
		}
		if (j->kind == J_JMP) {
			emit_store_regs(c, c->dirty_full, c->dirty_part);
			if (is_self_loop(c, i)) {
				/* Two statements: the way out is where the loop's
				 * code ends, known only once it is emitted. */
				uint8_t *out = emit_self_loop(c);
				x_patch(out, c->a.p);
			}
			emit_restore_host(c);
			emit_chain(c, i, LINK_TAKEN, ins[i].disp, true,
				   op_jmp_rel_t);
			ended = true;
			i++;
			break;
		}
		if (j->kind == J_JCC ||
		    ((j->kind == J_CMOV || j->kind == J_CMOV_M ||
		      j->kind == J_SETCC) && !cond_on_host(c, j->op)) ||
		    (j->flags == F_KEEP && live[i] && !mul_flags_possible(c)))
			break;
		if (!compile_insn(c, i, j, live[i]))
			goto out;
	}
	if (i == first) {
		/* Its first instruction is the interpreter's: the rest may
		 * still make a run. */
		*stop = first;
		goto out;
	}
	if (!ended) {
		emit_leave(c, c->dirty_full, c->dirty_part);
		emit_goto_insn(c, i);
	}
	cold_begin(c, &hot);
	for (unsigned k = 0; k < c->nbail; k++) {
		const struct bail *b = &c->bail[k];
		x_patch(b->site, c->a.p);
		if (b->retry)
			emit_refill_call(&c->a, b);
		emit_leave(c, b->dirty_full, b->dirty_part);
		emit_goto_insn(c, b->idx);
	}
	cold_end(c, &hot);
	if (c->a.full || c->cold.full)
		goto out;
	jit->cold_used = (size_t)(c->cold.p - jit->rw);
	if (jit->perf_map && c->cold.p > cold)
		fprintf(jit->perf_map, "%lx %lx v2e:%llx+%u.cold\n",
			(unsigned long)(uintptr_t)(jit->rx + (cold - jit->rw)),
			(unsigned long)(c->cold.p - cold),
			(unsigned long long)block->paddr, first);
	jit->used = (size_t)(c->a.p - jit->rw);
	fn = (insn_fn)(uintptr_t)(jit->rx + (entry - jit->rw));
	*stop = i;
	for (unsigned sl = 0; sl < 2; sl++) {
		if (!c->direct_site[sl])
			continue;
		direct->site[sl] = (uint32_t)(c->direct_site[sl] - jit->rw);
		direct->jump[sl] = (uint32_t)(c->direct_jump[sl] - jit->rw);
	}
	if (jit->perf_map)
		fprintf(jit->perf_map, "%lx %lx v2e:%llx+%u\n",
			(unsigned long)(uintptr_t)fn,
			(unsigned long)(c->a.p - entry),
			(unsigned long long)block->paddr, first);
out:
	free(c);
	return fn;
}

/* A run must be this long to be worth its way in and out; a CALL or a
 * RET alone is worth it (run_worth()). */
#define RUN_MIN 2

/* Whether instructions [i, end) make a run worth compiling: a CALL or
 * RET alone too, as its generated code follows the far links and the
 * return stack without the interpreter's handler and its calls. */
static bool run_worth(const struct jop *ops, unsigned i, unsigned end)
{
	return end - i >= RUN_MIN ||
	       (end - i == 1 && (ops[i].kind == J_CALL || ops[i].kind == J_RET));
}

unsigned jit_compile_block(struct cpu *cpu, struct block *b)
{
	struct jit *jit = cpu->jit;
	unsigned last_end = 0;
	struct jop ops[BLOCK_MAX_INSNS];
	bool ok[BLOCK_MAX_INSNS], live[BLOCK_MAX_INSNS];
	bool live_after = true;
	unsigned n = b->n;

	if (!jit || (b->mode & 0xff) != 4 || jit_full(jit))
		return 0;
	for (unsigned i = 0; i < n; i++)
		ok[i] = !(b->insns[i].flags & INSN_FUSED) &&
			classify(&b->insns[i], b->mode, &ops[i]);
	/* Backwards: whether the flags after each instruction can be seen.
	 * They can at the block's end, by anything not compiled, and by a
	 * memory access (the interpreter may redo it, and it may fault);
	 * MUL and IMUL compile only where they need not set them. */
	for (unsigned i = n; i-- > 0;) {
		live[i] = live_after;
		if (ok[i] && ops[i].flags == F_UNSET && live_after)
			ok[i] = false;
		if (ok[i] && ops[i].flags == F_DEAD && live_after)
			ops[i].flags = F_KEEP;
		if (!ok[i] || ops[i].mem || ops[i].flags == F_READ ||
		    ops[i].flags == F_KEEP)
			live_after = true;
		else if (ops[i].flags == F_WRITE || ops[i].flags == F_UNSET)
			live_after = false;
	}
	for (unsigned i = 0; i < n;) {
		unsigned end = i;
		insn_fn fn;
		while (end < n && ok[end])
			end++;
		if (run_worth(ops, i, end)) {
			unsigned stop;
			fn = compile_run(jit, b, b->insns, i, end, ops, live,
					 &stop, block_direct(b));
			if (fn) {
				b->insns[i].run = fn;
				last_end = stop;
			}
			if (stop < end) {
				/* The interpreter runs that one; on after it. */
				i = stop + 1;
				continue;
			}
		}
		i = end > i ? end : i + 1;
	}
	return last_end;
}

void jit_link_direct(struct jit *jit, struct block *owner, unsigned slot,
		     const struct block *nb)
{
	const struct block_direct *d = block_direct(owner);
	const uint8_t *entry = (const uint8_t *)(uintptr_t)nb->insns[0].run;
	uint8_t *site, *stub;
	uint64_t to = (uint64_t)(uintptr_t)nb;
	uint32_t n = nb->n;

	if (!jit || !d->site[slot] || entry < jit->rx ||
	    entry >= jit->rx + jit->used)
		return;
	site = jit->rw + d->site[slot];
	stub = site + 4;
	memcpy(stub + DIRECT_NB, &to, 8);
	memcpy(stub + DIRECT_N, &n, 4);
	x_patch(jit->rw + d->jump[slot], jit->rw + (entry - jit->rx));
	x_patch(site, stub);
}

#else /* not an x86-64 host: the interpreter runs everything */

struct jit *jit_create(void)
{
	return NULL;
}

void jit_destroy(struct jit *jit)
{
	(void)jit;
}

void jit_reset(struct jit *jit)
{
	(void)jit;
}

bool jit_full(const struct jit *jit)
{
	(void)jit;
	return false;
}

unsigned jit_compile_block(struct cpu *cpu, struct block *b)
{
	(void)cpu;
	(void)b;
	return 0;
}

bool jit_perf_map(struct jit *jit, const char *path)
{
	(void)jit;
	(void)path;
	return false;
}

insn_fn jit_interp_entry(const struct jit *jit, const struct insn *in)
{
	(void)jit;
	return in->run;
}

void jit_link_direct(struct jit *jit, struct block *owner, unsigned slot,
		     const struct block *nb)
{
	(void)jit;
	(void)owner;
	(void)slot;
	(void)nb;
}

#endif
