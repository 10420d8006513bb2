/* A small x86-64 assembler for the native code generator (jit.c): the
 * handful of encodings it emits, into a bounded buffer. Writing past the
 * end sets `full` and writes nothing, so a caller checks once at the end. */
#ifndef V2E_CPU_X64ASM_H
#define V2E_CPU_X64ASM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum {
	RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
	R8, R9, R10, R11, R12, R13, R14, R15,
	XNONE = -1,
};

struct x64 {
	uint8_t *p, *end;
	bool full;
};

/* Encoding options. */
#define X_W 1     /* REX.W: 64-bit operand */
#define X_66 2    /* operand-size prefix: 16-bit operand */
#define X_BYTE 4  /* byte registers: SPL..DIL need a REX */

static inline void x_b(struct x64 *a, uint8_t v)
{
	if (a->p < a->end)
		*a->p++ = v;
	else
		a->full = true;
}

static inline void x_d(struct x64 *a, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		x_b(a, (uint8_t)(v >> (8 * i)));
}

static inline void x_q(struct x64 *a, uint64_t v)
{
	x_d(a, (uint32_t)v);
	x_d(a, (uint32_t)(v >> 32));
}

static inline unsigned x_hi(int r)
{
	return r < 0 ? 0 : ((unsigned)r >> 3) & 1;
}

/* Prefixes, REX and opcode (one byte, or two when above 0xff). `reg` and
 * `rm` are the registers of ModRM's two fields (rm with mod 3 only, else
 * base), `index` the SIB index. */
static inline void x_head(struct x64 *a, unsigned opt, unsigned op, int reg,
			  int index, int rm, bool rm_is_reg)
{
	uint8_t rex = (uint8_t)(0x40 | ((opt & X_W) ? 8 : 0) | x_hi(reg) << 2 |
				x_hi(index) << 1 | x_hi(rm));
	bool byte_rex = (opt & X_BYTE) &&
			((reg >= 4 && reg < 8) || (rm_is_reg && rm >= 4 && rm < 8));
	if (opt & X_66)
		x_b(a, 0x66);
	if (rex != 0x40 || byte_rex)
		x_b(a, rex);
	if (op > 0xff)
		x_b(a, (uint8_t)(op >> 8));
	x_b(a, (uint8_t)op);
}

/* op reg, rm (register operands, mod 3). */
static inline void x_rr(struct x64 *a, unsigned opt, unsigned op, int reg,
			int rm)
{
	x_head(a, opt, op, reg, XNONE, rm, true);
	x_b(a, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/* op reg, [base + index * (1 << scale) + disp]; base XNONE for an
 * absolute disp32 (with or without index). */
static inline void x_rm(struct x64 *a, unsigned opt, unsigned op, int reg,
			int base, int index, unsigned scale, int32_t disp)
{
	unsigned mod;
	x_head(a, opt, op, reg, index, base, false);
	if (base < 0) {
		x_b(a, (uint8_t)((reg & 7) << 3 | 4));
		x_b(a, (uint8_t)(scale << 6 | (index < 0 ? 4 : (index & 7)) << 3 | 5));
		x_d(a, (uint32_t)disp);
		return;
	}
	if (disp == 0 && (base & 7) != RBP)
		mod = 0;
	else if (disp >= -128 && disp <= 127)
		mod = 1;
	else
		mod = 2;
	if (index < 0 && (base & 7) != RSP) {
		x_b(a, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	} else {
		x_b(a, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
		x_b(a, (uint8_t)(scale << 6 | (index < 0 ? 4 : (index & 7)) << 3 |
				 (base & 7)));
	}
	if (mod == 1)
		x_b(a, (uint8_t)disp);
	else if (mod == 2)
		x_d(a, (uint32_t)disp);
}

/* [base + disp] */
static inline void x_mem(struct x64 *a, unsigned opt, unsigned op, int reg,
			 int base, int32_t disp)
{
	x_rm(a, opt, op, reg, base, XNONE, 0, disp);
}

/* mov r32, imm32 (zero-extends) */
static inline void x_mov_ri(struct x64 *a, int r, uint32_t imm)
{
	if (r >= 8)
		x_b(a, 0x41);
	x_b(a, (uint8_t)(0xb8 + (r & 7)));
	x_d(a, imm);
}

/* mov r64, imm64 */
static inline void x_mov_ri64(struct x64 *a, int r, uint64_t imm)
{
	x_b(a, (uint8_t)(0x48 | x_hi(r)));
	x_b(a, (uint8_t)(0xb8 + (r & 7)));
	x_q(a, imm);
}

/* Group-1 ALU op (0 add .. 7 cmp) of a register with an immediate
 * (sign-extended to 64 bits with X_W). */
static inline void x_alu_ri(struct x64 *a, unsigned opt, unsigned alu, int r,
			    uint32_t imm)
{
	int32_t s = (int32_t)imm;
	if (s >= -128 && s <= 127) {
		x_rr(a, opt, 0x83, (int)alu, r);
		x_b(a, (uint8_t)s);
	} else {
		x_rr(a, opt, 0x81, (int)alu, r);
		x_d(a, imm);
	}
}

/* Shift group (C1 /n) of r32 by an immediate. */
static inline void x_shift_ri(struct x64 *a, unsigned op, int r, uint8_t n)
{
	x_rr(a, 0, 0xc1, (int)op, r);
	x_b(a, n);
}

static inline void x_push(struct x64 *a, int r)
{
	if (r >= 8)
		x_b(a, 0x41);
	x_b(a, (uint8_t)(0x50 + (r & 7)));
}

static inline void x_pop(struct x64 *a, int r)
{
	if (r >= 8)
		x_b(a, 0x41);
	x_b(a, (uint8_t)(0x58 + (r & 7)));
}

/* jcc rel32 (cc 0..15) with a zero displacement; returns where the
 * displacement is, for x_patch(). */
static inline uint8_t *x_jcc(struct x64 *a, unsigned cc)
{
	x_b(a, 0x0f);
	x_b(a, (uint8_t)(0x80 + cc));
	x_d(a, 0);
	return a->full ? NULL : a->p - 4;
}

static inline uint8_t *x_jmp(struct x64 *a)
{
	x_b(a, 0xe9);
	x_d(a, 0);
	return a->full ? NULL : a->p - 4;
}

/* Points a rel32 at `site` to `target` (both in the same buffer). */
static inline void x_patch(uint8_t *site, const uint8_t *target)
{
	int32_t rel;
	if (!site)
		return;
	rel = (int32_t)(target - (site + 4));
	memcpy(site, &rel, 4);
}

enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A };

#endif
