/* Lazy arithmetic flags (flags.c): an operation records its kind,
 * operands and result, and a flag is worked out only when something
 * reads it, inline for the common conditions. Whoever reads or writes
 * RFLAGS whole goes through flags_get() and flags_set(). */
#ifndef V2E_CPU_FLAGS_H
#define V2E_CPU_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/vcpu.h"

/* Records a flag-setting operation. `aux` is the carry-in of ADC/SBB and
 * the CF that INC/DEC keep. Inlined with a constant kind, only that kind's
 * stores and CF rule remain. */
static inline __attribute__((always_inline)) void lf_set(
	struct cpu *cpu, enum lf_kind kind, unsigned size, uint64_t res,
	uint64_t a, uint64_t b, uint32_t aux)
{
	uint64_t m = size_mask(size);
	unsigned width = size * 8;
	bool cf;
	res &= m;
	a &= m;
	b &= m;
	switch (kind) {
	case LF_ADD: cf = res < a; break;
	case LF_ADC: cf = aux ? res <= a : res < a; break;
	case LF_SUB: cf = a < b; break;
	case LF_SBB: cf = aux ? a <= b : a < b; break;
	case LF_INC: case LF_DEC: cf = aux; break;
	case LF_NEG: cf = a != 0; break;
	case LF_SHL: cf = b <= width ? (a >> (width - b)) & 1 : 0; break;
	case LF_SHR: cf = b <= width ? (a >> (b - 1)) & 1 : 0; break;
	case LF_SAR:
		cf = b >= width ? (a >> (width - 1)) & 1 : (a >> (b - 1)) & 1;
		break;
	default: cf = false; break;
	}
	cpu->lf.kind = kind;
	cpu->lf.size = size;
	cpu->lf.res = res;
	if (kind != LF_LOGIC && kind != LF_INC && kind != LF_DEC) {
		cpu->lf.a = a;
		cpu->lf.b = b;
	}
	if (kind != LF_ADD && kind != LF_SUB)
		cpu->lf.cf = cf;
}

/* CF of a lazy state other than LF_NONE. */
static inline __attribute__((always_inline)) bool lf_cf(const struct lazy_flags *f)
{
	if (f->kind == LF_SUB)
		return f->a < f->b;
	if (f->kind == LF_ADD)
		return f->res < f->a;
	return f->cf;
}

static inline __attribute__((always_inline)) bool flag_cf(const struct cpu *cpu)
{
	return cpu->lf.kind == LF_NONE ? (cpu->s.rflags & FL_CF) != 0
				       : lf_cf(&cpu->lf);
}
bool flag_of(const struct cpu *cpu);
bool flag_af(const struct cpu *cpu);
bool flag_pf(const struct cpu *cpu);
static inline __attribute__((always_inline)) bool flag_zf(const struct cpu *cpu)
{
	return cpu->lf.kind == LF_NONE ? (cpu->s.rflags & FL_ZF) != 0
				       : cpu->lf.res == 0;
}
static inline __attribute__((always_inline)) bool flag_sf(const struct cpu *cpu)
{
	return cpu->lf.kind == LF_NONE
		       ? (cpu->s.rflags & FL_SF) != 0
		       : (cpu->lf.res >> (cpu->lf.size * 8 - 1)) & 1;
}
/* Materializes the arithmetic flags into rflags and returns it. */
uint64_t flags_get(struct cpu *cpu);
/* Sets rflags (all bits given by `mask` from `v`); arithmetic flags stop
 * being lazy. Does no privilege checks and no mode update. */
void flags_set(struct cpu *cpu, uint64_t v, uint64_t mask);
/* Evaluates condition code 0..15 (the low nibble of Jcc/SETcc/CMOVcc). */
bool cond_eval(const struct cpu *cpu, unsigned cc);

/* The condition from the lazy state when that takes no call, inline for
 * a constant `cc`: 0 or 1, or -1 when only cond_eval() can tell (OF, or
 * a signed condition, after an operation other than SUB or a logic one).
 * Fast forms go to their full path on -1, so they need no stack frame. */
static inline __attribute__((always_inline)) int cond_try(
	const struct cpu *cpu, unsigned cc)
{
	const struct lazy_flags *f = &cpu->lf;
	unsigned sh;
	bool r, sf;
	if (f->kind == LF_NONE) {
		uint64_t fl = cpu->s.rflags;
		bool of = (fl & FL_OF) != 0, zf = (fl & FL_ZF) != 0;
		sf = (fl & FL_SF) != 0;
		switch (cc >> 1) {
		case 0: r = of; break;
		case 1: r = (fl & FL_CF) != 0; break;
		case 2: r = zf; break;
		case 3: r = (fl & FL_CF) || zf; break;
		case 4: r = sf; break;
		case 5: r = (fl & FL_PF) != 0; break;
		case 6: r = sf != of; break;
		default: r = zf || sf != of; break;
		}
		return r ^ (cc & 1);
	}
	sh = 64 - f->size * 8;
	sf = (int64_t)(f->res << sh) < 0;
	switch (cc >> 1) {
	case 0:
		if (f->kind == LF_SUB)
			r = (int64_t)(((f->a ^ f->b) & (f->a ^ f->res)) << sh) < 0;
		else if (f->kind == LF_LOGIC)
			r = false;
		else
			return -1;
		break;
	case 1: r = lf_cf(f); break;
	case 2: r = f->res == 0; break;
	case 3: r = lf_cf(f) || f->res == 0; break;
	case 4: r = sf; break;
	case 5: r = !__builtin_parity((unsigned)(f->res & 0xff)); break;
	default:
		if (f->kind == LF_SUB)
			r = (int64_t)(f->a << sh) < (int64_t)(f->b << sh);
		else if (f->kind == LF_LOGIC)
			r = sf;
		else
			return -1;
		if (cc >> 1 == 7)
			r = r || f->res == 0;
		break;
	}
	return r ^ (cc & 1);
}

/* cond_try(), or cond_eval() when it cannot tell. */
static inline __attribute__((always_inline)) bool cond_eval_fast(
	const struct cpu *cpu, unsigned cc)
{
	int c = cond_try(cpu, cc);
	return c >= 0 ? c : cond_eval(cpu, cc);
}

#endif
