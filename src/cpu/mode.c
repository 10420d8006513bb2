/* The processor mode (mode.h): CPL, code and stack sizes, and the
 * segment checks the fast path makes (seg_fast, flat_segs), worked out
 * again from the architectural state whenever it changes. */
#include "cpu/mem.h"
#include "cpu/mode.h"

/* The fast path's exclusive end for an expand-up segment the access may
 * use (seg_fast.end_r/end_w). */
static void seg_fast_ends(struct seg_fast *f)
{
	bool up = f->lo == 0;
	f->end_r = up && f->ok_read ? f->hi + 1 : 0;
	f->end_w = up && f->ok_write ? f->hi + 1 : 0;
}

static void seg_fast_set(const struct cpu *cpu, const struct x86_segment *s,
			 struct seg_fast *f)
{
	if (!cpu_protected(cpu)) {
		/* Real and v86 mode: the cached limit still applies (big
		 * real mode), types are not checked. */
		f->lo = 0;
		f->hi = s->limit;
		f->ok_read = f->ok_write = 1;
		return;
	}
	if (s->ar & AR_UNUSABLE) {
		f->lo = 1;
		f->hi = 0;
		f->ok_read = f->ok_write = 0;
		return;
	}
	if (s->ar & AR_TYPE_CODE) {
		f->ok_read = (s->ar & AR_TYPE_READABLE) != 0;
		f->ok_write = 0;
		f->lo = 0;
		f->hi = s->limit;
		return;
	}
	f->ok_read = 1;
	f->ok_write = (s->ar & AR_TYPE_WRITABLE) != 0;
	if (s->ar & AR_TYPE_EXPDOWN) {
		f->lo = (uint64_t)s->limit + 1;
		f->hi = (s->ar & AR_DB) ? 0xffffffffull : 0xffff;
	} else {
		f->lo = 0;
		f->hi = s->limit;
	}
}

/* Keeps flat_segs right for `sreg`; decoded blocks depend on it, so a
 * change ends the running one. */
static void seg_flat_update(struct cpu *cpu, int sreg)
{
	const struct seg_fast *f = &cpu->sf[sreg];
	bool flat = !cpu_long64(cpu) && f->base == 0 &&
		    f->end_r == 0x100000000ull && f->end_w == 0x100000000ull;
	uint8_t m = (uint8_t)((cpu->flat_segs & ~(1u << sreg)) |
			      ((unsigned)flat << sreg));
	if (m != cpu->flat_segs) {
		cpu->flat_segs = m;
		cpu->end_block = true;
	}
}

void seg_fast_update(struct cpu *cpu, int sreg)
{
	const struct x86_segment *s = &cpu->s.seg[sreg];
	struct seg_fast *f = &cpu->sf[sreg];

	if (cpu_long64(cpu)) {
		f->lo = 0;
		f->hi = ~0ull;
		f->ok_read = f->ok_write = 1;
		/* No limits: an access wrapping the top of the address space
		 * misses the TLB compare and takes the slow path. */
		f->end_r = f->end_w = ~0ull;
	} else {
		seg_fast_set(cpu, s, f);
		seg_fast_ends(f);
	}
	f->base = s->base;
	seg_flat_update(cpu, sreg);
}

void cpu_update_mode(struct cpu *cpu)
{
	const struct x86_segment *cs = &cpu->s.seg[S_CS];
	bool lma = (cpu->s.efer & EFER_LMA) != 0;

	if (!cpu_pe(cpu))
		cpu->cpl = 0;
	else if (cpu_vm86(cpu))
		cpu->cpl = 3;
	if (lma && (cs->ar & AR_L) && cpu_protected(cpu))
		cpu->code_size = 8;
	else if (cpu_vm86(cpu))
		cpu->code_size = 2;
	else
		cpu->code_size = (cs->ar & AR_DB) ? 4 : 2;
	if (cpu->code_size == 8)
		cpu->stack_size = 8;
	else if (cpu_vm86(cpu))
		cpu->stack_size = 2;
	else
		cpu->stack_size = (cpu->s.seg[S_SS].ar & AR_DB) ? 4 : 2;
	cpu->ip_mask = size_mask(cpu->code_size);
	cpu->lin_mask = cpu->code_size == 8 ? ~0ull : 0xffffffffull;
	cpu->code_limit = cpu->code_size == 8 ? ~0ull : cs->limit;
	cpu_ac_update(cpu);
	tlb_select(cpu); /* the CPL may have changed */
	for (int i = 0; i < S_NR; i++)
		seg_fast_update(cpu, i);
	cpu->end_block = true;
}
