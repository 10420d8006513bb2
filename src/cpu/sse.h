/* MMX, SSE and SSE2 (Intel SDM vol. 1, chapters 9-11): the register
 * files live in the FXSAVE image of the architectural state (XMM0-15 at
 * FX_XMM0, MXCSR at FX_MXCSR; MM0-7 are the mantissas of the x87 physical
 * registers). Every computing instruction runs as the very same
 * instruction on the host (insn_sse_host.c), on host copies of its
 * operands, with the guest's MXCSR controls and every exception masked, so
 * results, DAZ/FTZ, rounding and exception flags are the host CPU's by
 * construction; the guest's masks are applied afterwards (insn_sse.c). */
#ifndef V2E_CPU_SSE_H
#define V2E_CPU_SSE_H

#include "cpu/fpu.h"

/* MXCSR (SDM vol. 1, 10.2.3) */
#define MXCSR_IE 0x0001
#define MXCSR_DE 0x0002
#define MXCSR_ZE 0x0004
#define MXCSR_OE 0x0008
#define MXCSR_UE 0x0010
#define MXCSR_PE 0x0020
#define MXCSR_FLAGS 0x003f
#define MXCSR_DAZ 0x0040
#define MXCSR_MASKS 0x1f80
#define MXCSR_UM 0x0800
#define MXCSR_FTZ 0x8000
#define MXCSR_DEFAULT 0x1f80
#define MXCSR_VALID 0xffffu /* the bits LDMXCSR accepts (MXCSR_MASK) */

/* One instruction on the host: `d` is the destination register's value
 * (XMM or MM) in and out, `s` the source operand (register contents or
 * the memory operand, 16-aligned like the host's own aligned forms need),
 * `mxcsr` the control on entry and the raised flags on return, `r` a
 * general-register result (conversions to integers) or, in AH, the
 * arithmetic flags COMISS/UCOMISS set. */
struct sse_host {
	uint8_t d[16] __attribute__((aligned(16)));
	uint8_t s[16] __attribute__((aligned(16)));
	uint32_t mxcsr;
	uint64_t r;
};
typedef void (*sse_host_fn)(struct sse_host *h);

/* What a 0F-map opcode does under one mandatory prefix. */
enum sse_kind {
	SK_UD,  /* no such instruction */
	SK_XX,  /* XMM = op(XMM, XMM/m) */
	SK_MM,  /* MM = op(MM, MM/m) */
	SK_XM,  /* XMM = op(XMM, MM/m64): CVTPI2PS/PD */
	SK_XR,  /* XMM = op(XMM, r/m32 or r/m64): CVTSI2SS/SD */
	SK_MX,  /* MM = op(XMM/m): CVT(T)PS2PI, CVT(T)PD2PI */
	SK_RX,  /* r32/r64 = op(XMM/m): CVT(T)SS2SI, CVT(T)SD2SI */
	SK_FX,  /* EFLAGS = op(XMM, XMM/m): COMIS*, UCOMIS* */
	SK_CMP, /* XMM = cmp(XMM, XMM/m, imm8): CMPPS/PD/SS/SD */
	SK_C,   /* moves, shuffles and the like, done in C */
};

struct sse_form {
	sse_host_fn fn;
	sse_host_fn fn64; /* SK_XR/SK_RX with REX.W */
	uint8_t kind;
	uint8_t msize;    /* memory operand bytes */
	uint8_t align;    /* memory operand must be 16-aligned (#GP) */
	uint8_t fp;       /* SIMD floating point: MXCSR flags and #XM */
	/* Forms that can overflow or underflow: the operation and its lanes,
	 * to recompute inexactness with an unbounded exponent, which is what
	 * PE reports when OE or UE is unmasked. */
	uint8_t ub;       /* UB_* */
	uint8_t ub_lanes;
	uint8_t ub_src64; /* lanes are doubles */
	uint8_t ub_p53;   /* result precision: double (else single) */
};
enum { UB_NONE, UB_ADD, UB_SUB, UB_MUL, UB_DIV, UB_CVT };

/* pfx: 0 none, 1 66, 2 F3, 3 F2. */
const struct sse_form *sse_form_for(unsigned opcode, unsigned pfx);
/* CMPPS (pfx 0), CMPPD (1), CMPSS (2), CMPSD (3) with predicate imm & 7. */
sse_host_fn sse_host_cmp(unsigned pfx, unsigned imm);
/* The shifts by register of 0F D1-F3 for the immediate forms (0F 71-73):
 * op is the register form's opcode; xmm selects the 66 form. */
sse_host_fn sse_host_shift(unsigned op, bool xmm);

/* ---- MMX state (insn_mmx.c) ---- */

/* Physical x87 register i, i.e. MMi, whatever TOP is. */
static inline uint64_t mmx_get(const struct cpu *cpu, unsigned i)
{
	unsigned top = (fpu_fsw(cpu) & FSW_TOP) >> FSW_TOP_SHIFT;
	uint64_t v;
	memcpy(&v, cpu->s.fxsave + FX_ST0 + 16 * ((i - top) & 7), 8);
	return v;
}
/* The switch to MMX mode every MMX instruction but EMMS makes (SDM vol. 1,
 * 9.5.1): TOP = 0 and every tag valid. */
void mmx_enter(struct cpu *cpu);
/* Writes MMi (after mmx_enter): the exponent and sign become all ones. */
void mmx_set(struct cpu *cpu, unsigned i, uint64_t v);
/* The CR0/CR4 checks and pending x87 exception before an instruction:
 * `sse` for the SSE/SSE2 instructions (CR4.OSFXSR gates them), `mmx` when
 * an MMX register is an operand (#MF for a pending x87 exception). */
void sse_check(struct cpu *cpu, bool sse, bool mmx);

static inline uint8_t *xmm_ptr(struct cpu *cpu, unsigned i)
{
	return cpu->s.fxsave + FX_XMM0 + 16 * (i & 15);
}
static inline uint32_t sse_mxcsr(const struct cpu *cpu)
{
	return fx_get32(cpu, FX_MXCSR);
}

#endif
