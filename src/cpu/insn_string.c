/* String instructions: MOVS CMPS STOS LODS SCAS INS OUTS at byte, word,
 * dword and qword size, with REP/REPE/REPNE (SDM vol. 2, each instruction
 * and "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * SI/ESI/RSI, DI/EDI/RDI and the count CX/ECX/RCX are chosen by the
 * address size. The source segment is DS unless overridden; the
 * destination is always ES. Every iteration commits its registers, so a
 * fault in the middle leaves a state from which the instruction restarts.
 * A repeated instruction runs a bounded batch of iterations per execution
 * and, if the count is not exhausted, leaves RIP on itself so that it runs
 * again after any pending interrupt, as the processor does. REP MOVS and
 * REP STOS copy whole runs that stay within one RAM page through host
 * pointers when nothing (breakpoints, limits, unmapped pages) needs the
 * per-element path; REP INS and REP OUTS hand such runs to the bus as one
 * transfer when it offers one (bus.pio_string). */
#include "cpu/exec.h"
#include "cpu/io.h"

#define STR_BATCH 1024

enum str_kind { K_MOVS, K_CMPS, K_STOS, K_LODS, K_SCAS, K_INS, K_OUTS };

struct strctx {
	unsigned size;  /* element size */
	unsigned asz;   /* address size */
	uint64_t amask;
	int64_t step;   /* +size, or -size with DF set */
	int sseg;       /* source segment (DS or the override) */
};

static inline uint64_t idx_get(const struct cpu *cpu, unsigned r,
			       const struct strctx *c)
{
	return cpu->s.gpr[r] & c->amask;
}

/* Writes SI, DI or CX at the address size: 16-bit merges, 32-bit
 * zero-extends as in long mode. */
static inline void idx_set(struct cpu *cpu, unsigned r, const struct strctx *c,
			   uint64_t v)
{
	uint64_t *p = &cpu->s.gpr[r];
	if (c->asz == 2)
		*p = (*p & ~(uint64_t)0xffff) | (v & 0xffff);
	else if (c->asz == 4)
		*p = (uint32_t)v;
	else
		*p = v;
}

static inline void idx_advance(struct cpu *cpu, unsigned r,
			       const struct strctx *c, uint64_t n)
{
	idx_set(cpu, r, c, idx_get(cpu, r, c) + (uint64_t)c->step * n);
}

/* One element through the ordinary memory path; registers are committed
 * only after every access of the element succeeded. */
static void str_step(struct cpu *cpu, const struct insn *in,
		     const struct strctx *c, enum str_kind k)
{
	unsigned size = c->size;
	uint64_t si = idx_get(cpu, R_SI, c), di = idx_get(cpu, R_DI, c);
	uint64_t a, b;
	uint16_t port = cpu->s.gpr[R_DX] & 0xffff;

	switch (k) {
	case K_MOVS:
		a = mem_read(cpu, c->sseg, si, size);
		mem_write(cpu, S_ES, di, size, a);
		idx_advance(cpu, R_SI, c, 1);
		idx_advance(cpu, R_DI, c, 1);
		break;
	case K_CMPS:
		a = mem_read(cpu, c->sseg, si, size);
		b = mem_read(cpu, S_ES, di, size);
		lf_set(cpu, LF_SUB, size, a - b, a, b, 0);
		idx_advance(cpu, R_SI, c, 1);
		idx_advance(cpu, R_DI, c, 1);
		break;
	case K_STOS:
		mem_write(cpu, S_ES, di, size, cpu->s.gpr[R_AX]);
		idx_advance(cpu, R_DI, c, 1);
		break;
	case K_LODS:
		a = mem_read(cpu, c->sseg, si, size);
		reg_write(cpu, in, R_AX, size, a);
		idx_advance(cpu, R_SI, c, 1);
		break;
	case K_SCAS:
		a = cpu->s.gpr[R_AX] & size_mask(size);
		b = mem_read(cpu, S_ES, di, size);
		lf_set(cpu, LF_SUB, size, a - b, a, b, 0);
		idx_advance(cpu, R_DI, c, 1);
		break;
	case K_INS:
		/* The store is checked before the port is read: a fault must
		 * not swallow a byte from the device. */
		mem_probe_write(cpu, S_ES, di, size);
		a = cpu->bus.pio_in(cpu->bus.opaque, port, size);
		mem_write(cpu, S_ES, di, size, a);
		idx_advance(cpu, R_DI, c, 1);
		break;
	case K_OUTS:
		a = mem_read(cpu, c->sseg, si, size);
		cpu->bus.pio_out(cpu->bus.opaque, port, size, (uint32_t)a);
		idx_advance(cpu, R_SI, c, 1);
		break;
	}
}

/* Host pointer to the element at sreg:off if a run of up to *n elements
 * from it (in the direction of c->step) can be accessed directly: within
 * the segment limit without offset wrap-around, within one page, and that
 * page in the TLB for this access. *n is lowered to the run that
 * qualifies. NULL when even the first element needs the slow path. */
static uint8_t *str_span(struct cpu *cpu, const struct strctx *c, int sreg,
			 uint64_t off, uint64_t *n, bool write)
{
	const struct seg_fast *f = &cpu->sf[sreg];
	uint8_t *host;
	uint64_t size = c->size, lin, pgoff, k = *n, lim;
	bool down = c->step < 0;

	if (!(write ? f->ok_write : f->ok_read))
		return NULL;
	if (off + size - 1 > c->amask || off < f->lo || off + size - 1 > f->hi)
		return NULL;
	lin = cpu->s.seg[sreg].base + off;
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	pgoff = lin & 0xfff;
	if (pgoff + size > 4096)
		return NULL;
	if (down) {
		lim = (off - f->lo) / size + 1;
		if (lim < k)
			k = lim;
		lim = pgoff / size + 1;
	} else {
		lim = (f->hi - (off + size - 1)) / size + 1;
		if (lim < k)
			k = lim;
		lim = (c->amask - off - (size - 1)) / size + 1;
		if (lim < k)
			k = lim;
		lim = (4096 - pgoff) / size;
	}
	if (lim < k)
		k = lim;
	host = tlb_host_ptr(cpu, lin, write ? ACC_WRITE : ACC_READ);
	if (host)
		*n = k;
	return host;
}

/* n elements of `size` bytes, each the low bytes of v. A kernel clears
 * pages and buffers with REP STOSD of zero: when all the element's bytes
 * are equal it is one memset; otherwise stores of the element's width
 * (fixed-size memcpy is one store; a variable size would be a call per
 * element). */
static void fill(uint8_t *p, uint64_t v, unsigned size, uint64_t n)
{
	uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;

	if (((v & 0xff) * 0x0101010101010101ull & mask) == (v & mask)) {
		memset(p, (int)(v & 0xff), n * size);
		return;
	}
	for (uint64_t i = 0; i < n; i++, p += size) {
		if (size == 2) {
			uint16_t x = (uint16_t)v;
			memcpy(p, &x, 2);
		} else if (size == 4) {
			uint32_t x = (uint32_t)v;
			memcpy(p, &x, 4);
		} else {
			memcpy(p, &v, 8);
		}
	}
}

/* Copies or fills up to `max` elements directly; returns how many (0 when
 * the slow path must take the next element). */
static uint64_t str_fast(struct cpu *cpu, const struct strctx *c,
			 enum str_kind k, uint64_t max)
{
	uint64_t n = max, size = c->size;
	uint8_t *dp, *sp = NULL;
	bool down = c->step < 0;

	if (cpu->mem_checks)
		return 0;
	if (k == K_MOVS) {
		sp = str_span(cpu, c, c->sseg, idx_get(cpu, R_SI, c), &n, false);
		if (!sp)
			return 0;
	}
	dp = str_span(cpu, c, S_ES, idx_get(cpu, R_DI, c), &n, true);
	if (!dp || !n)
		return 0;
	if (k == K_STOS) {
		fill(down ? dp - (n - 1) * size : dp, cpu->s.gpr[R_AX], size, n);
	} else {
		uint8_t *slo = down ? sp - (n - 1) * size : sp;
		uint8_t *dlo = down ? dp - (n - 1) * size : dp;
		uint64_t len = n * size;
		/* Element order only matters when the destination lies ahead
		 * of the source in the direction of the copy, inside it. */
		bool ahead = down ? (dlo < slo && dlo + len > slo)
				  : (dlo > slo && dlo < slo + len);
		if (!ahead) {
			memmove(dlo, slo, len);
		} else if (!down) {
			for (uint64_t i = 0; i < n; i++)
				memmove(dp + i * size, sp + i * size, size);
		} else {
			for (uint64_t i = 0; i < n; i++)
				memmove(dp - i * size, sp - i * size, size);
		}
		idx_advance(cpu, R_SI, c, n);
	}
	idx_advance(cpu, R_DI, c, n);
	return n;
}

/* REP INS / REP OUTS as one transfer through the bus (a device model
 * copies straight to or from guest RAM): the run that stays within one
 * RAM page and the segment, as for MOVS. Returns the elements done. */
static uint64_t str_io_fast(struct cpu *cpu, const struct strctx *c,
			    enum str_kind k, uint64_t max)
{
	bool in = k == K_INS;
	int sreg = in ? S_ES : c->sseg;
	unsigned idx = in ? R_DI : R_SI;
	uint64_t n = max, off, lin, paddr;
	uint32_t done;

	if (!cpu->bus.pio_string)
		return 0;
	off = idx_get(cpu, idx, c);
	if (!str_span(cpu, c, sreg, off, &n, in) || !n)
		return 0;
	lin = cpu->s.seg[sreg].base + off;
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	paddr = lin_translate(cpu, lin, in ? ACC_WRITE : ACC_READ, cpu->cpl == 3);
	done = cpu->bus.pio_string(cpu->bus.opaque, cpu->s.gpr[R_DX] & 0xffff,
				   c->size, in, paddr, (uint32_t)n, c->step < 0);
	if (done > n)
		done = (uint32_t)n;
	idx_advance(cpu, idx, c, done);
	return done;
}

static void str_run(struct cpu *cpu, const struct insn *in, enum str_kind k)
{
	struct strctx c;
	uint64_t count, budget;
	bool io = k == K_INS || k == K_OUTS;
	bool cond = k == K_CMPS || k == K_SCAS;

	c.size = in->opsize;
	if (io && c.size == 8)
		c.size = 4;
	c.asz = in->adsize;
	c.amask = size_mask(in->adsize);
	c.step = (cpu->s.rflags & FL_DF) ? -(int64_t)c.size : (int64_t)c.size;
	c.sseg = in->seg;

	if (!in->rep) {
		if (io) {
			io_check(cpu, cpu->s.gpr[R_DX] & 0xffff, c.size);
			cpu->end_block = true;
		}
		str_step(cpu, in, &c, k);
		return;
	}
	count = cpu->s.gpr[R_CX] & c.amask;
	if (!count)
		return;
	if (io) {
		io_check(cpu, cpu->s.gpr[R_DX] & 0xffff, c.size);
		cpu->end_block = true;
	}
	/* Single-stepping traps after every iteration. */
	budget = (cpu->s.rflags & FL_TF) ? 1 : STR_BATCH;
	while (budget) {
		if (k == K_MOVS || k == K_STOS || io) {
			uint64_t n = io ? str_io_fast(cpu, &c, k, count < budget ? count : budget)
					: str_fast(cpu, &c, k, count < budget ? count : budget);
			if (n) {
				count -= n;
				budget -= n;
				idx_set(cpu, R_CX, &c, count);
				if (!count)
					return;
				continue;
			}
		}
		str_step(cpu, in, &c, k);
		count--;
		budget--;
		idx_set(cpu, R_CX, &c, count);
		if (!count)
			return;
		/* REPE stops on ZF = 0, REPNE on ZF = 1. */
		if (cond && (in->rep == PFX_REP) != flag_zf(cpu))
			return;
		/* A data breakpoint traps after the iteration that hit it. */
		if (cpu->dr_pending)
			break;
	}
	cpu->next_rip = cpu->s.rip;
	cpu->end_block = true;
}

void op_movs(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_MOVS);
}

void op_cmps(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_CMPS);
}

void op_stos(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_STOS);
}

void op_lods(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_LODS);
}

void op_scas(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_SCAS);
}

void op_ins(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_INS);
}

void op_outs(struct cpu *cpu, const struct insn *in)
{
	str_run(cpu, in, K_OUTS);
}
