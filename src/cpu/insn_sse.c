/* MMX, SSE and SSE2 instructions of the 0F map (Intel SDM vol. 2,
 * appendix A.3, the mandatory prefixes 66/F3/F2 choosing the form): the
 * computing forms run on the host through insn_sse_host.c, the data moves,
 * shuffles, inserts/extracts, masks and MXCSR loads and stores are here.
 * SIMD floating-point exceptions (vol. 1, 11.5): the host computes with
 * every exception masked; an exception the guest leaves unmasked then
 * takes #XM (#UD without CR4.OSXMMEXCPT) with the destination untouched,
 * the pre-computation ones (invalid, denormal, divide) hiding the
 * post-computation ones. Faults come before any state changes: operands
 * are read, alignment (#GP for 16-byte forms) and stores probed first. */
#include "cpu/sse.h"
#include "cpu/exec.h"

static unsigned pfx_index(const struct insn *in)
{
	switch (in->sse_pfx) {
	case 0x66: return 1;
	case 0xf3: return 2;
	case 0xf2: return 3;
	default: return 0;
	}
}

/* ---- memory operands ---- */

static uint64_t sse_ea(struct cpu *cpu, const struct insn *in, bool align)
{
	uint64_t ea = insn_ea(cpu, in);
	if (align && ((cpu->s.seg[in->seg].base + ea) & 15))
		GP0(cpu);
	return ea;
}

static void sse_load(struct cpu *cpu, const struct insn *in, uint8_t *b,
		     unsigned n, bool align)
{
	uint64_t ea = sse_ea(cpu, in, align), am = size_mask(in->adsize);
	for (unsigned i = 0; i < n; i += 8) {
		unsigned u = n - i < 8 ? n - i : 8;
		uint64_t v = mem_read(cpu, in->seg, (ea + i) & am, u);
		memcpy(b + i, &v, u);
	}
}

static void sse_store(struct cpu *cpu, const struct insn *in,
		      const uint8_t *b, unsigned n, bool align)
{
	uint64_t ea = sse_ea(cpu, in, align), am = size_mask(in->adsize);
	mem_probe_write(cpu, in->seg, ea, n);
	for (unsigned i = 0; i < n; i += 8) {
		unsigned u = n - i < 8 ? n - i : 8;
		uint64_t v = 0;
		memcpy(&v, b + i, u);
		mem_write(cpu, in->seg, (ea + i) & am, u, v);
	}
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* ---- SIMD floating-point exceptions ---- */

/* Whether `a op b` is inexact rounded to the form's precision with an
 * unbounded exponent: the host's x87 with precision control 24 or 53 bits
 * and its 15-bit exponent computes exactly that. */
static bool x87_inexact(long double a, long double b, unsigned op, bool p53)
{
	uint16_t cw = p53 ? 0x027f : 0x007f, sv, sw;

	switch (op) {
	case UB_SUB:
		b = -b;
		/* fall through */
	case UB_ADD:
	case UB_CVT:
		__asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\t"
				 "fldt %[b]\n\tfldt %[a]\n\t"
				 "fadd %%st(1), %%st\n\t"
				 "fstp %%st(0)\n\tfstp %%st(0)\n\t"
				 "fnstsw %[sw]\n\tfnclex\n\tfldcw %[sv]"
				 : [sv] "=m"(sv), [sw] "=m"(sw)
				 : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
				 : "st", "st(1)");
		break;
	case UB_MUL:
		__asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\t"
				 "fldt %[b]\n\tfldt %[a]\n\t"
				 "fmul %%st(1), %%st\n\t"
				 "fstp %%st(0)\n\tfstp %%st(0)\n\t"
				 "fnstsw %[sw]\n\tfnclex\n\tfldcw %[sv]"
				 : [sv] "=m"(sv), [sw] "=m"(sw)
				 : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
				 : "st", "st(1)");
		break;
	default:
		__asm__ volatile("fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\t"
				 "fldt %[b]\n\tfldt %[a]\n\t"
				 "fdiv %%st(1), %%st\n\t"
				 "fstp %%st(0)\n\tfstp %%st(0)\n\t"
				 "fnstsw %[sw]\n\tfnclex\n\tfldcw %[sv]"
				 : [sv] "=m"(sv), [sw] "=m"(sw)
				 : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)
				 : "st", "st(1)");
	}
	return sw & FSW_PE;
}

/* A lane as a long double (exact), a denormal as zero under DAZ. */
static long double lane(const uint8_t *v, unsigned i, bool f64, bool daz)
{
	if (f64) {
		double d;
		memcpy(&d, v + 8 * i, 8);
		if (daz && d != 0 && __builtin_fabs(d) < 0x1p-1022)
			d = 0;
		return d;
	} else {
		float f;
		memcpy(&f, v + 4 * i, 4);
		if (daz && f != 0 && __builtin_fabsf(f) < 0x1p-126f)
			f = 0;
		return f;
	}
}

static bool unbounded_inexact(const struct sse_form *f,
			      const struct sse_host *in, bool daz)
{
	bool pe = false;
	for (unsigned i = 0; i < f->ub_lanes; i++) {
		long double a, b = 0;
		if (f->ub == UB_CVT) {
			a = lane(in->s, i, true, daz);
		} else {
			a = lane(in->d, i, f->ub_src64, daz);
			b = lane(in->s, i, f->ub_src64, daz);
		}
		pe |= x87_inexact(a, b, f->ub, f->ub_p53);
	}
	return pe;
}

/* Runs `fn` under the guest's MXCSR controls and applies the guest's
 * masks to what it raised (`f` NULL: no floating point); returns only if
 * the result may be committed. */
static void sse_run(struct cpu *cpu, sse_host_fn fn, struct sse_host *h,
		    const struct sse_form *f)
{
	uint32_t mx = sse_mxcsr(cpu);
	uint32_t ctl = (mx & ~(uint32_t)MXCSR_FLAGS) | MXCSR_MASKS;
	uint32_t raised, unm;
	struct sse_host in;

	/* FTZ only acts on masked underflow. */
	if (!(mx & MXCSR_UM))
		ctl &= ~(uint32_t)MXCSR_FTZ;
	if (f)
		in = *h;
	h->mxcsr = ctl;
	fn(h);
	if (!f)
		return;
	raised = h->mxcsr & MXCSR_FLAGS;
	/* Unmasked underflow is any tiny result, exact or not; masked it
	 * needs inexactness too. With FTZ the host flags tininess alone. */
	if (!(mx & MXCSR_UM) && !(raised & MXCSR_UE)) {
		struct sse_host again = in;
		again.mxcsr = ctl | MXCSR_FTZ;
		fn(&again);
		raised |= again.mxcsr & MXCSR_UE;
	}
	unm = raised & ~(mx >> 7) & MXCSR_FLAGS;
	if (unm) {
		uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
		if (unm & pre) {
			raised &= pre;
		} else if ((unm & (MXCSR_OE | MXCSR_UE)) && f->ub) {
			raised &= ~(uint32_t)MXCSR_PE;
			if (unbounded_inexact(f, &in, mx & MXCSR_DAZ))
				raised |= MXCSR_PE;
		}
		fx_set32(cpu, FX_MXCSR, mx | raised);
		cpu_fault_noerr(cpu, (cpu->s.cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD);
	}
	fx_set32(cpu, FX_MXCSR, mx | raised);
}

/* ---- the computing forms ---- */

static void sse_compute(struct cpu *cpu, const struct insn *in,
			const struct sse_form *f, unsigned p)
{
	unsigned k = f->kind;
	bool w = in->rex & 8;
	bool mm_dst = k == SK_MM || k == SK_MX;
	bool mm_src = (k == SK_MM || k == SK_XM) && in->mod == 3;
	struct sse_host h;
	sse_host_fn fn = w && f->fn64 ? f->fn64 : f->fn;

	sse_check(cpu, k != SK_MM, mm_dst || mm_src);
	memset(&h, 0, sizeof(h));
	if (k == SK_CMP)
		fn = sse_host_cmp(p, (unsigned)in->imm);
	if (mm_dst) {
		uint64_t v = mmx_get(cpu, in->reg & 7);
		memcpy(h.d, &v, 8);
	} else if (k != SK_RX) {
		memcpy(h.d, xmm_ptr(cpu, in->reg), 16);
	}
	if (in->mod == 3) {
		if (k == SK_MM || k == SK_XM) {
			uint64_t v = mmx_get(cpu, in->rm & 7);
			memcpy(h.s, &v, 8);
		} else if (k == SK_XR) {
			uint64_t v = reg_read(cpu, in, in->rm, w ? 8 : 4);
			memcpy(h.s, &v, 8);
		} else {
			memcpy(h.s, xmm_ptr(cpu, in->rm), 16);
		}
	} else {
		sse_load(cpu, in, h.s, k == SK_XR && w ? 8 : f->msize, f->align);
	}
	/* The switch to MMX mode happens even when #XM follows. */
	if (mm_dst || mm_src)
		mmx_enter(cpu);
	sse_run(cpu, fn, &h, f->fp ? f : NULL);
	switch (k) {
	case SK_MM:
	case SK_MX:
		mmx_set(cpu, in->reg & 7, get64(h.d));
		break;
	case SK_RX:
		reg_write(cpu, in, in->reg, w ? 8 : 4, h.r);
		break;
	case SK_FX:
		flags_set(cpu, (h.r >> 8) & (FL_CF | FL_PF | FL_ZF), FL_ARITH);
		break;
	default:
		memcpy(xmm_ptr(cpu, in->reg), h.d, 16);
	}
}

/* ---- moves, shuffles, inserts and extracts ---- */

#define K(op, p) ((op) << 2 | (p))

/* The 128-bit source of a register or memory form. */
static void src128(struct cpu *cpu, const struct insn *in, uint8_t *b,
		   bool align)
{
	if (in->mod == 3)
		memcpy(b, xmm_ptr(cpu, in->rm), 16);
	else
		sse_load(cpu, in, b, 16, align);
}

static uint64_t src_mm(struct cpu *cpu, const struct insn *in)
{
	uint8_t b[8];
	if (in->mod == 3)
		return mmx_get(cpu, in->rm & 7);
	sse_load(cpu, in, b, 8, false);
	return get64(b);
}

static void need_mem(struct cpu *cpu, const struct insn *in)
{
	if (in->mod == 3)
		UD(cpu);
}

static void need_reg(struct cpu *cpu, const struct insn *in)
{
	if (in->mod != 3)
		UD(cpu);
}

/* XMM moves: loads (full, scalar, halves) and stores. */
static bool sse_moves(struct cpu *cpu, const struct insn *in, unsigned p)
{
	uint8_t *x = xmm_ptr(cpu, in->reg);
	uint8_t b[16];
	bool mem = in->mod != 3;

	switch (K(in->opcode, p)) {
	case K(0x10, 0): case K(0x10, 1): case K(0x6f, 2):
	case K(0x28, 0): case K(0x28, 1): case K(0x6f, 1):
		sse_check(cpu, true, false);
		src128(cpu, in, b, in->opcode == 0x28 || (p == 1 && in->opcode == 0x6f));
		memcpy(x, b, 16);
		return true;
	case K(0x10, 2): case K(0x10, 3): case K(0x7e, 2): {
		unsigned n = p == 2 && in->opcode == 0x10 ? 4 : 8;
		sse_check(cpu, true, false);
		if (mem || in->opcode == 0x7e) {
			memset(b, 0, 16);
			if (mem)
				sse_load(cpu, in, b, n, false);
			else
				memcpy(b, xmm_ptr(cpu, in->rm), 8);
			memcpy(x, b, 16);
		} else {
			memmove(x, xmm_ptr(cpu, in->rm), n);
		}
		return true;
	}
	case K(0x2b, 0): case K(0x2b, 1): case K(0xe7, 1):
		need_mem(cpu, in);
		/* fall through */
	case K(0x11, 0): case K(0x11, 1): case K(0x29, 0): case K(0x29, 1):
	case K(0x7f, 1): case K(0x7f, 2):
		sse_check(cpu, true, false);
		if (mem)
			sse_store(cpu, in, x, 16,
				  !(in->opcode == 0x11 || (in->opcode == 0x7f && p == 2)));
		else
			memcpy(xmm_ptr(cpu, in->rm), x, 16);
		return true;
	case K(0x11, 2): case K(0x11, 3): case K(0xd6, 1): {
		unsigned n = in->opcode == 0x11 && p == 2 ? 4 : 8;
		sse_check(cpu, true, false);
		if (mem) {
			sse_store(cpu, in, x, n, false);
		} else if (in->opcode == 0xd6) {
			memcpy(b, x, 8);
			memset(b + 8, 0, 8);
			memcpy(xmm_ptr(cpu, in->rm), b, 16);
		} else {
			memmove(xmm_ptr(cpu, in->rm), x, n);
		}
		return true;
	}
	case K(0x12, 0): case K(0x12, 1): case K(0x16, 0): case K(0x16, 1): {
		unsigned half = in->opcode == 0x16 ? 8 : 0;
		if (p == 1)
			need_mem(cpu, in);
		sse_check(cpu, true, false);
		if (mem)
			sse_load(cpu, in, b, 8, false);
		else /* MOVHLPS, MOVLHPS */
			memcpy(b, xmm_ptr(cpu, in->rm) + (half ? 0 : 8), 8);
		memcpy(x + half, b, 8);
		return true;
	}
	case K(0x13, 0): case K(0x13, 1): case K(0x17, 0): case K(0x17, 1):
		need_mem(cpu, in);
		sse_check(cpu, true, false);
		sse_store(cpu, in, x + (in->opcode == 0x17 ? 8 : 0), 8, false);
		return true;
	case K(0x50, 0): case K(0x50, 1): {
		const uint8_t *s = xmm_ptr(cpu, in->rm);
		unsigned m = 0, step = p ? 8 : 4;
		need_reg(cpu, in);
		sse_check(cpu, true, false);
		for (unsigned i = 0; i < 16 / step; i++)
			m |= (unsigned)(s[step * i + step - 1] >> 7) << i;
		reg_write(cpu, in, in->reg, 4, m);
		return true;
	}
	case K(0x6e, 1): {
		unsigned n = in->rex & 8 ? 8 : 4;
		uint64_t v;
		sse_check(cpu, true, false);
		v = rm_read(cpu, in, n);
		memset(b, 0, 16);
		memcpy(b, &v, n);
		memcpy(x, b, 16);
		return true;
	}
	case K(0x7e, 1):
		sse_check(cpu, true, false);
		rm_write(cpu, in, in->rex & 8 ? 8 : 4, get64(x));
		return true;
	}
	return false;
}

/* MMX moves and the MMX<->XMM moves. */
static bool mmx_moves(struct cpu *cpu, const struct insn *in, unsigned p)
{
	unsigned n = in->rex & 8 ? 8 : 4;
	uint64_t v;
	uint8_t b[16];

	switch (K(in->opcode, p)) {
	case K(0x6e, 0):
		sse_check(cpu, false, true);
		v = rm_read(cpu, in, n);
		mmx_enter(cpu);
		mmx_set(cpu, in->reg & 7, v);
		return true;
	case K(0x6f, 0):
		sse_check(cpu, false, true);
		v = src_mm(cpu, in);
		mmx_enter(cpu);
		mmx_set(cpu, in->reg & 7, v);
		return true;
	case K(0x7e, 0):
		sse_check(cpu, false, true);
		rm_write(cpu, in, n, mmx_get(cpu, in->reg & 7));
		mmx_enter(cpu);
		return true;
	case K(0xe7, 0):
		need_mem(cpu, in);
		/* fall through */
	case K(0x7f, 0):
		sse_check(cpu, false, true);
		v = mmx_get(cpu, in->reg & 7);
		if (in->mod != 3) {
			memcpy(b, &v, 8);
			sse_store(cpu, in, b, 8, false);
		}
		mmx_enter(cpu);
		if (in->mod == 3)
			mmx_set(cpu, in->rm & 7, v);
		return true;
	case K(0xd6, 2): /* MOVQ2DQ */
		need_reg(cpu, in);
		sse_check(cpu, true, true);
		v = mmx_get(cpu, in->rm & 7);
		mmx_enter(cpu);
		memset(b, 0, 16);
		memcpy(b, &v, 8);
		memcpy(xmm_ptr(cpu, in->reg), b, 16);
		return true;
	case K(0xd6, 3): /* MOVDQ2Q */
		need_reg(cpu, in);
		sse_check(cpu, true, true);
		v = get64(xmm_ptr(cpu, in->rm));
		mmx_enter(cpu);
		mmx_set(cpu, in->reg & 7, v);
		return true;
	case K(0x77, 0): /* EMMS: TOP 0 as well, as the host does */
		sse_check(cpu, false, true);
		mmx_enter(cpu);
		cpu->s.fxsave[FX_FTW] = 0;
		return true;
	}
	return false;
}

static void shuffle_words(uint8_t *d, const uint8_t *s, unsigned imm)
{
	for (unsigned i = 0; i < 4; i++)
		memcpy(d + 2 * i, s + 2 * ((imm >> (2 * i)) & 3), 2);
}

/* Shuffles, word inserts and extracts, byte masks, masked stores. */
static bool sse_shuffles(struct cpu *cpu, const struct insn *in, unsigned p)
{
	unsigned imm = (unsigned)in->imm & 0xff;
	uint8_t s[16], d[16];
	uint64_t v;

	switch (K(in->opcode, p)) {
	case K(0x70, 0): /* PSHUFW */
		sse_check(cpu, false, true);
		v = src_mm(cpu, in);
		memcpy(s, &v, 8);
		shuffle_words(d, s, imm);
		mmx_enter(cpu);
		mmx_set(cpu, in->reg & 7, get64(d));
		return true;
	case K(0x70, 1): case K(0x70, 2): case K(0x70, 3):
		sse_check(cpu, true, false);
		src128(cpu, in, s, true);
		memcpy(d, s, 16);
		if (p == 1) { /* PSHUFD */
			for (unsigned i = 0; i < 4; i++)
				memcpy(d + 4 * i, s + 4 * ((imm >> (2 * i)) & 3), 4);
		} else { /* PSHUFHW, PSHUFLW */
			unsigned half = p == 2 ? 8 : 0;
			shuffle_words(d + half, s + half, imm);
		}
		memcpy(xmm_ptr(cpu, in->reg), d, 16);
		return true;
	case K(0xc6, 0): case K(0xc6, 1): {
		uint8_t *x = xmm_ptr(cpu, in->reg);
		sse_check(cpu, true, false);
		src128(cpu, in, s, true);
		if (p == 0) { /* SHUFPS */
			memcpy(d, x + 4 * (imm & 3), 4);
			memcpy(d + 4, x + 4 * ((imm >> 2) & 3), 4);
			memcpy(d + 8, s + 4 * ((imm >> 4) & 3), 4);
			memcpy(d + 12, s + 4 * (imm >> 6), 4);
		} else { /* SHUFPD */
			memcpy(d, x + 8 * (imm & 1), 8);
			memcpy(d + 8, s + 8 * ((imm >> 1) & 1), 8);
		}
		memcpy(x, d, 16);
		return true;
	}
	case K(0xc4, 0): case K(0xc4, 1): { /* PINSRW */
		uint16_t w;
		sse_check(cpu, p != 0, p == 0);
		w = (uint16_t)(in->mod == 3 ? reg_read(cpu, in, in->rm, 4)
					    : mem_read(cpu, in->seg, insn_ea(cpu, in), 2));
		if (p == 0) {
			v = mmx_get(cpu, in->reg & 7);
			memcpy(d, &v, 8);
			memcpy(d + 2 * (imm & 3), &w, 2);
			mmx_enter(cpu);
			mmx_set(cpu, in->reg & 7, get64(d));
		} else {
			memcpy(xmm_ptr(cpu, in->reg) + 2 * (imm & 7), &w, 2);
		}
		return true;
	}
	case K(0xc5, 0): case K(0xc5, 1): { /* PEXTRW */
		uint16_t w;
		need_reg(cpu, in);
		sse_check(cpu, p != 0, p == 0);
		if (p == 0) {
			v = mmx_get(cpu, in->rm & 7);
			memcpy(s, &v, 8);
			memcpy(&w, s + 2 * (imm & 3), 2);
			mmx_enter(cpu);
		} else {
			memcpy(&w, xmm_ptr(cpu, in->rm) + 2 * (imm & 7), 2);
		}
		reg_write(cpu, in, in->reg, 4, w);
		return true;
	}
	case K(0xd7, 0): case K(0xd7, 1): { /* PMOVMSKB */
		unsigned n = p ? 16 : 8, m = 0;
		need_reg(cpu, in);
		sse_check(cpu, p != 0, p == 0);
		if (p == 0) {
			v = mmx_get(cpu, in->rm & 7);
			memcpy(s, &v, 8);
			mmx_enter(cpu);
		} else {
			memcpy(s, xmm_ptr(cpu, in->rm), 16);
		}
		for (unsigned i = 0; i < n; i++)
			m |= (unsigned)(s[i] >> 7) << i;
		reg_write(cpu, in, in->reg, 4, m);
		return true;
	}
	case K(0xf7, 0): case K(0xf7, 1): { /* MASKMOVQ, MASKMOVDQU */
		unsigned n = p ? 16 : 8;
		uint64_t di = cpu->s.gpr[R_DI] & size_mask(in->adsize);
		bool any = false;
		need_reg(cpu, in);
		sse_check(cpu, p != 0, p == 0);
		if (p == 0) {
			v = mmx_get(cpu, in->reg & 7);
			memcpy(d, &v, 8);
			v = mmx_get(cpu, in->rm & 7);
			memcpy(s, &v, 8);
		} else {
			memcpy(d, xmm_ptr(cpu, in->reg), 16);
			memcpy(s, xmm_ptr(cpu, in->rm), 16);
		}
		for (unsigned i = 0; i < n; i++)
			any |= s[i] >> 7;
		if (any)
			mem_probe_write(cpu, in->seg, di, n);
		for (unsigned i = 0; i < n; i++)
			if (s[i] & 0x80)
				mem_write(cpu, in->seg,
					  (di + i) & size_mask(in->adsize), 1, d[i]);
		if (p == 0)
			mmx_enter(cpu);
		return true;
	}
	case K(0xc3, 0): /* MOVNTI: a plain store, no SIMD state */
		need_mem(cpu, in);
		rm_write(cpu, in, in->rex & 8 ? 8 : 4,
			 reg_read(cpu, in, in->reg, in->rex & 8 ? 8 : 4));
		return true;
	}
	return false;
}

void op_sse(struct cpu *cpu, const struct insn *in)
{
	unsigned p = pfx_index(in);
	const struct sse_form *f = sse_form_for(in->opcode, p);

	switch (f->kind) {
	case SK_UD:
		UD(cpu);
	case SK_C:
		if (!sse_moves(cpu, in, p) && !mmx_moves(cpu, in, p) &&
		    !sse_shuffles(cpu, in, p)) {
			/* The table has the opcode, the C forms not this
			 * one: perhaps invalid, perhaps missing. */
			if (unlikely(cpu->log_mask & CPU_LOG_UNIMP))
				cpu_log_no_insn(cpu, in, 0x0f00u | in->opcode);
			UD(cpu);
		}
		return;
	default:
		sse_compute(cpu, in, f, p);
	}
}

/* 0F 71-73: shifts by an immediate count (the count works as the
 * register forms' 64-bit count), PSRLDQ and PSLLDQ. */
void op_sse_shimm(struct cpu *cpu, const struct insn *in)
{
	unsigned p = pfx_index(in), r = (in->modrm >> 3) & 7;
	unsigned imm = (unsigned)in->imm & 0xff;
	static const uint8_t regop[3][8] = {
		{ [2] = 0xd1, [4] = 0xe1, [6] = 0xf1 },
		{ [2] = 0xd2, [4] = 0xe2, [6] = 0xf2 },
		{ [2] = 0xd3, [6] = 0xf3 },
	};
	struct sse_host h;

	if (p > 1)
		UD(cpu);
	if (in->opcode == 0x73 && (r == 3 || r == 7)) {
		uint8_t *x = xmm_ptr(cpu, in->rm), b[16] = {0};
		unsigned n = imm > 16 ? 16 : imm;
		if (p != 1)
			UD(cpu);
		sse_check(cpu, true, false);
		if (r == 3) /* PSRLDQ */
			memcpy(b, x + n, 16 - n);
		else /* PSLLDQ */
			memcpy(b + n, x, 16 - n);
		memcpy(x, b, 16);
		return;
	}
	if (!regop[(in->opcode - 0x71) % 3][r])
		UD(cpu);
	sse_check(cpu, p != 0, p == 0);
	memset(&h, 0, sizeof(h));
	h.s[0] = (uint8_t)imm;
	if (p == 0) {
		uint64_t v = mmx_get(cpu, in->rm & 7);
		memcpy(h.d, &v, 8);
	} else {
		memcpy(h.d, xmm_ptr(cpu, in->rm), 16);
	}
	sse_run(cpu, sse_host_shift(regop[(in->opcode - 0x71) % 3][r], p != 0),
		&h, NULL);
	if (p == 0) {
		mmx_enter(cpu);
		mmx_set(cpu, in->rm & 7, get64(h.d));
	} else {
		memcpy(xmm_ptr(cpu, in->rm), h.d, 16);
	}
}

/* 0F AE /2 /3 /5 /6 /7: LDMXCSR, STMXCSR, LFENCE, MFENCE, SFENCE and
 * CLFLUSH (the fences order nothing in a one-CPU interpreter). */
void op_sse_grp15(struct cpu *cpu, const struct insn *in)
{
	unsigned r = (in->modrm >> 3) & 7;
	uint64_t ea;
	uint32_t v;

	if (in->sse_pfx)
		UD(cpu);
	switch (r) {
	case 2:
		need_mem(cpu, in);
		sse_check(cpu, true, false);
		v = (uint32_t)mem_read(cpu, in->seg, insn_ea(cpu, in), 4);
		if (v & ~MXCSR_VALID)
			GP0(cpu);
		fx_set32(cpu, FX_MXCSR, v);
		return;
	case 3:
		need_mem(cpu, in);
		sse_check(cpu, true, false);
		mem_write(cpu, in->seg, insn_ea(cpu, in), 4, sse_mxcsr(cpu));
		return;
	case 5:
	case 6:
		need_reg(cpu, in);
		return;
	case 7:
		if (in->mod == 3)
			return;
		/* CLFLUSH faults as a byte read would */
		ea = insn_ea(cpu, in);
		(void)mem_read(cpu, in->seg, ea, 1);
		return;
	default:
		UD(cpu);
	}
}
