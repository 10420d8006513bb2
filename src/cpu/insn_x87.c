/* x87 instructions (Intel SDM vol. 2, D8-DF "escape" opcodes and appendix
 * A.4; vol. 1 chapter 8): every register and memory form, the CR0.EM/MP/TS
 * rules (#NM, vol. 3 table 2-2), the waiting/non-waiting split and the
 * FPU instruction, data and opcode pointers; FSTENV/FLDENV and FSAVE/FRSTOR
 * in their 16- and 32-bit, real- and protected-mode layouts (vol. 1,
 * figures 8-9 to 8-12), FXSAVE/FXRSTOR (0F AE /0 /1) and WAIT. Computing
 * forms run on the host's x87 through fpu.c; this file decides what each
 * encoding is, moves its memory operand, and keeps the bookkeeping. */
#include "cpu/fpu.h"
#include "cpu/exec.h"

/* What a memory form does with its operand. */
enum mkind {
	MK_UD,      /* reserved encoding */
	MK_LOAD,    /* host instruction reading `size` bytes */
	MK_STORE,   /* host instruction writing `size` bytes */
	MK_FISTTP,  /* SSE3's: #UD unless CPUID reports SSE3 */
	MK_FLDENV, MK_FLDCW, MK_FSTENV, MK_FSTCW, MK_FRSTOR, MK_FSAVE,
	MK_FSTSW,
};

struct mform {
	uint8_t kind, size;
};

#define LD(n) { MK_LOAD, n }
#define ST(n) { MK_STORE, n }
static const struct mform mforms[8][8] = {
	/* D8: FADD FMUL FCOM FCOMP FSUB FSUBR FDIV FDIVR m32fp */
	{ LD(4), LD(4), LD(4), LD(4), LD(4), LD(4), LD(4), LD(4) },
	/* D9: FLD m32fp, -, FST, FSTP, FLDENV, FLDCW, FNSTENV, FNSTCW */
	{ LD(4), { MK_UD, 0 }, ST(4), ST(4), { MK_FLDENV, 0 },
	  { MK_FLDCW, 2 }, { MK_FSTENV, 0 }, { MK_FSTCW, 2 } },
	/* DA: arithmetic with m32int */
	{ LD(4), LD(4), LD(4), LD(4), LD(4), LD(4), LD(4), LD(4) },
	/* DB: FILD m32int, FISTTP, FIST, FISTP, -, FLD m80fp, -, FSTP m80fp */
	{ LD(4), { MK_FISTTP, 4 }, ST(4), ST(4), { MK_UD, 0 }, LD(10),
	  { MK_UD, 0 }, ST(10) },
	/* DC: arithmetic with m64fp */
	{ LD(8), LD(8), LD(8), LD(8), LD(8), LD(8), LD(8), LD(8) },
	/* DD: FLD m64fp, FISTTP, FST, FSTP, FRSTOR, -, FNSAVE, FNSTSW */
	{ LD(8), { MK_FISTTP, 8 }, ST(8), ST(8), { MK_FRSTOR, 0 },
	  { MK_UD, 0 }, { MK_FSAVE, 0 }, { MK_FSTSW, 2 } },
	/* DE: arithmetic with m16int */
	{ LD(2), LD(2), LD(2), LD(2), LD(2), LD(2), LD(2), LD(2) },
	/* DF: FILD m16int, FISTTP, FIST, FISTP, FBLD, FILD m64int, FBSTP,
	 * FISTP m64int */
	{ LD(2), { MK_FISTTP, 2 }, ST(2), ST(2), LD(10), LD(8), ST(10), ST(8) },
};
#undef LD
#undef ST

/* What a register form (ModRM 0xc0-0xff) is. */
enum rkind {
	RK_UD, RK_HOST, RK_FCMOV, RK_FCOMI, RK_FNCLEX, RK_FNINIT, RK_FNSTSW_AX,
	RK_NOP_NOWAIT, /* 8087/287 FNENI FNDISI FNSETPM: ignored since the 387 */
};

static enum rkind reg_kind(unsigned op, unsigned modrm)
{
	unsigned r = modrm - 0xc0;
	switch (op) {
	case 0xd8: case 0xdc:
		return RK_HOST;
	case 0xd9:
		if (r < 0x10)   /* FLD, FXCH */
			return RK_HOST;
		if (r == 0x10)  /* FNOP */
			return RK_HOST;
		if (r < 0x18)
			return RK_UD;
		if (r < 0x20)   /* FSTP1 (alias of DD D8+i) */
			return RK_HOST;
		switch (modrm) {
		case 0xe2: case 0xe3: case 0xe6: case 0xe7: case 0xef:
			return RK_UD;
		}
		return RK_HOST;
	case 0xda:
		if (r < 0x20)   /* FCMOVB FCMOVE FCMOVBE FCMOVU */
			return RK_FCMOV;
		return modrm == 0xe9 ? RK_HOST : RK_UD; /* FUCOMPP */
	case 0xdb:
		if (r < 0x20)   /* FCMOVNB FCMOVNE FCMOVNBE FCMOVNU */
			return RK_FCMOV;
		switch (modrm) {
		case 0xe0: case 0xe1: case 0xe4:
			return RK_NOP_NOWAIT;
		case 0xe2:
			return RK_FNCLEX;
		case 0xe3:
			return RK_FNINIT;
		}
		if (r >= 0x28 && r < 0x38) /* FUCOMI FCOMI */
			return RK_FCOMI;
		return RK_UD;
	case 0xdd:
		/* FFREE, FXCH4, FST, FSTP, FUCOM, FUCOMP */
		return r < 0x30 ? RK_HOST : RK_UD;
	case 0xde:
		if (r >= 0x18 && r < 0x20)
			return modrm == 0xd9 ? RK_HOST : RK_UD; /* FCOMPP */
		return RK_HOST;
	default: /* 0xdf */
		if (r < 0x20)   /* FFREEP, FXCH7, FSTP8, FSTP9 */
			return RK_HOST;
		if (modrm == 0xe0)
			return RK_FNSTSW_AX;
		if (r >= 0x28 && r < 0x38) /* FUCOMIP FCOMIP */
			return RK_FCOMI;
		return RK_UD;
	}
}

/* ---- CR0 rules and pointers ---- */

/* SDM vol. 3, table 2-2: EM or TS makes every escape opcode #NM (the OS
 * emulates the FPU, or switches its state lazily). */
static void check_nm(struct cpu *cpu)
{
	if (cpu->s.cr0 & (CR0_EM | CR0_TS))
		cpu_fault_noerr(cpu, EXC_NM);
}

/* FIP, FCS and FOP name the last non-control instruction; FDP and FDS its
 * memory operand when it had one (SDM vol. 1, 8.1.8 and 8.1.9). */
static void note_insn(struct cpu *cpu, const struct insn *in, bool mem,
		      uint64_t ea)
{
	fx_set32(cpu, FX_FIP, (uint32_t)cpu->s.rip);
	fx_set16(cpu, FX_FCS, cpu->s.seg[S_CS].selector);
	fx_set16(cpu, FX_FOP, (uint16_t)(((in->opcode & 7) << 8) | in->modrm));
	if (mem) {
		fx_set32(cpu, FX_FDP, (uint32_t)ea);
		fx_set16(cpu, FX_FDS, cpu->s.seg[in->seg].selector);
	}
}

/* ---- memory helpers ---- */

/* Moves `n` bytes in units of `unit` (the alignment #AC checks: the
 * operand size, 8 for m80, the environment's word size) and a tail. */
static void mem_read_bytes(struct cpu *cpu, int seg, uint64_t off, uint8_t *b,
			   unsigned n, unsigned unit, uint64_t amask)
{
	unsigned i = 0;
	for (; i + unit <= n; i += unit) {
		uint64_t v = mem_read(cpu, seg, (off + i) & amask, unit);
		memcpy(b + i, &v, unit);
	}
	for (; i + 2 <= n; i += 2) {
		uint16_t v = (uint16_t)mem_read(cpu, seg, (off + i) & amask, 2);
		memcpy(b + i, &v, 2);
	}
	for (; i < n; i++)
		b[i] = (uint8_t)mem_read(cpu, seg, (off + i) & amask, 1);
}

/* The caller has probed the whole range. */
static void mem_write_bytes(struct cpu *cpu, int seg, uint64_t off,
			    const uint8_t *b, unsigned n, unsigned unit,
			    uint64_t amask)
{
	unsigned i = 0;
	for (; i + unit <= n; i += unit) {
		uint64_t v = 0;
		memcpy(&v, b + i, unit);
		mem_write(cpu, seg, (off + i) & amask, unit, v);
	}
	for (; i + 2 <= n; i += 2) {
		uint16_t v;
		memcpy(&v, b + i, 2);
		mem_write(cpu, seg, (off + i) & amask, 2, v);
	}
	for (; i < n; i++)
		mem_write(cpu, seg, (off + i) & amask, 1, b[i]);
}

static void put16(uint8_t *b, unsigned off, uint32_t v)
{
	uint16_t w = (uint16_t)v;
	memcpy(b + off, &w, 2);
}
static void put32(uint8_t *b, unsigned off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}
static uint16_t get16(const uint8_t *b, unsigned off)
{
	uint16_t v;
	memcpy(&v, b + off, 2);
	return v;
}
static uint32_t get32(const uint8_t *b, unsigned off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

/* ---- FSTENV / FLDENV / FSAVE / FRSTOR ---- */

static unsigned env_size(const struct insn *in)
{
	return in->opsize == 2 ? 14 : 28;
}

/* Real-address and virtual-8086 mode use the layouts with linear
 * (20-bit, or 32-bit for the 32-bit layout) pointers and FOP. */
static bool env_real(const struct cpu *cpu)
{
	return !cpu_protected(cpu);
}

static void env_build(struct cpu *cpu, const struct insn *in, uint8_t *b)
{
	uint16_t cw = fpu_fcw(cpu), sw = fpu_fsw(cpu), tw = fpu_full_tags(cpu);
	uint32_t fip = fx_get32(cpu, FX_FIP), fdp = fx_get32(cpu, FX_FDP);
	uint16_t fcs = fx_get16(cpu, FX_FCS), fds = fx_get16(cpu, FX_FDS);
	uint32_t fop = fx_get16(cpu, FX_FOP) & 0x7ff;

	if (env_real(cpu)) {
		uint32_t lip = fip + ((uint32_t)fcs << 4);
		uint32_t ldp = fdp + ((uint32_t)fds << 4);
		if (in->opsize == 2) {
			put16(b, 0, cw);
			put16(b, 2, sw);
			put16(b, 4, tw);
			put16(b, 6, lip);
			put16(b, 8, ((lip >> 16) & 0xf) << 12 | fop);
			put16(b, 10, ldp);
			put16(b, 12, ((ldp >> 16) & 0xf) << 12);
		} else {
			put32(b, 0, 0xffff0000u | cw);
			put32(b, 4, 0xffff0000u | sw);
			put32(b, 8, 0xffff0000u | tw);
			put32(b, 12, 0xffff0000u | (lip & 0xffff));
			put32(b, 16, ((lip >> 16) << 12) | fop);
			put32(b, 20, 0xffff0000u | (ldp & 0xffff));
			put32(b, 24, (ldp >> 16) << 12);
		}
		return;
	}
	if (in->opsize == 2) {
		put16(b, 0, cw);
		put16(b, 2, sw);
		put16(b, 4, tw);
		put16(b, 6, fip);
		put16(b, 8, fcs);
		put16(b, 10, fdp);
		put16(b, 12, fds);
	} else {
		put32(b, 0, 0xffff0000u | cw);
		put32(b, 4, 0xffff0000u | sw);
		put32(b, 8, 0xffff0000u | tw);
		put32(b, 12, fip);
		put32(b, 16, fcs | (fop << 16));
		put32(b, 20, fdp);
		put32(b, 24, 0xffff0000u | fds);
	}
}

/* Loads an environment image: tags only say empty or not (the rest is
 * recomputed from the registers when stored). */
static void env_load(struct cpu *cpu, const struct insn *in, const uint8_t *b)
{
	uint16_t cw, sw, tw, fcs = 0, fds = 0, fop;
	uint32_t fip, fdp;

	if (in->opsize == 2) {
		cw = get16(b, 0);
		sw = get16(b, 2);
		tw = get16(b, 4);
	} else {
		cw = get16(b, 0);
		sw = get16(b, 4);
		tw = get16(b, 8);
	}
	if (env_real(cpu)) {
		if (in->opsize == 2) {
			fip = get16(b, 6) | (uint32_t)(get16(b, 8) >> 12) << 16;
			fop = get16(b, 8) & 0x7ff;
			fdp = get16(b, 10) | (uint32_t)(get16(b, 12) >> 12) << 16;
		} else {
			fip = get16(b, 12) | ((get32(b, 16) >> 12) & 0xffff) << 16;
			fop = get32(b, 16) & 0x7ff;
			fdp = get16(b, 20) | ((get32(b, 24) >> 12) & 0xffff) << 16;
		}
	} else if (in->opsize == 2) {
		fip = get16(b, 6);
		fcs = get16(b, 8);
		fdp = get16(b, 10);
		fds = get16(b, 12);
		fop = 0;
	} else {
		fip = get32(b, 12);
		fcs = get16(b, 16);
		fop = (get32(b, 16) >> 16) & 0x7ff;
		fdp = get32(b, 20);
		fds = get16(b, 24);
	}
	cpu->s.fxsave[FX_FTW] = fpu_abridge_tags(tw);
	fx_set16(cpu, FX_FCW, (uint16_t)((cw & 0x1f3f) | 0x40));
	fx_set32(cpu, FX_FIP, fip);
	fx_set16(cpu, FX_FCS, fcs);
	fx_set16(cpu, FX_FOP, fop);
	fx_set32(cpu, FX_FDP, fdp);
	fx_set16(cpu, FX_FDS, fds);
	fpu_set_fsw(cpu, sw);
}

static void do_fstenv(struct cpu *cpu, const struct insn *in, uint64_t ea,
		      bool save)
{
	uint8_t b[108];
	unsigned n = env_size(in);
	uint64_t amask = size_mask(in->adsize);

	env_build(cpu, in, b);
	if (save) {
		for (unsigned i = 0; i < 8; i++)
			memcpy(b + n + 10 * i, cpu->s.fxsave + FX_ST0 + 16 * i, 10);
		n += 80;
	}
	mem_probe_write(cpu, in->seg, ea, n);
	mem_write_bytes(cpu, in->seg, ea, b, n, in->opsize == 2 ? 2 : 4, amask);
	if (save)
		fpu_init(cpu);
	else /* FNSTENV masks every exception after storing (ES follows) */
		fpu_set_fcw(cpu, (uint16_t)(fpu_fcw(cpu) | FSW_EXC));
}

static void do_fldenv(struct cpu *cpu, const struct insn *in, uint64_t ea,
		      bool restore)
{
	uint8_t b[108];
	unsigned n = env_size(in) + (restore ? 80 : 0);

	mem_read_bytes(cpu, in->seg, ea, b, n, in->opsize == 2 ? 2 : 4,
		       size_mask(in->adsize));
	env_load(cpu, in, b);
	if (restore) {
		for (unsigned i = 0; i < 8; i++) {
			uint8_t *r = cpu->s.fxsave + FX_ST0 + 16 * i;
			memcpy(r, b + env_size(in) + 10 * i, 10);
			memset(r + 10, 0, 6);
		}
	}
}

/* ---- the escape opcodes ---- */

static void x87_mem(struct cpu *cpu, const struct insn *in)
{
	const struct mform *f = &mforms[in->opcode & 7][in->reg & 7];
	uint64_t ea = insn_ea(cpu, in);
	uint64_t amask = size_mask(in->adsize);
	struct fpu_host h;
	unsigned raised;

	switch (f->kind) {
	case MK_UD:
		UD(cpu);
	case MK_FISTTP:
		if (!(cpu->model.features_ecx & 1))
			UD(cpu);
		break;
	case MK_FSTCW:
		mem_write(cpu, in->seg, ea, 2, fpu_fcw(cpu));
		return;
	case MK_FSTSW:
		mem_write(cpu, in->seg, ea, 2, fpu_fsw(cpu));
		return;
	case MK_FSTENV:
		do_fstenv(cpu, in, ea, false);
		return;
	case MK_FSAVE:
		do_fstenv(cpu, in, ea, true);
		return;
	default:
		break;
	}
	fpu_check_pending(cpu);
	switch (f->kind) {
	case MK_FLDCW:
		fpu_set_fcw(cpu, (uint16_t)mem_read(cpu, in->seg, ea, 2));
		return;
	case MK_FLDENV:
		do_fldenv(cpu, in, ea, false);
		return;
	case MK_FRSTOR:
		do_fldenv(cpu, in, ea, true);
		return;
	case MK_LOAD:
		mem_read_bytes(cpu, in->seg, ea, h.mem, f->size,
			       f->size > 8 ? 8 : f->size, amask);
		break;
	default: /* MK_STORE, MK_FISTTP */
		mem_probe_write(cpu, in->seg, ea, f->size);
		break;
	}
	h.ax = 0;
	raised = fpu_host_run(cpu, fpu_host_mem(in->opcode, in->reg), &h);
	/* An unmasked invalid-operation, denormal, overflow or underflow
	 * leaves the destination untouched (SDM vol. 1, 4.9.2 and 8.5). The
	 * store goes first: #AC may still fault it. */
	if (f->kind != MK_LOAD && !(raised & (FSW_EXC & ~FSW_PE)))
		mem_write_bytes(cpu, in->seg, ea, h.mem, f->size,
				f->size > 8 ? 8 : f->size, amask);
	fpu_host_commit(cpu, &h);
	note_insn(cpu, in, true, ea);
}

static void x87_reg(struct cpu *cpu, const struct insn *in)
{
	unsigned op = in->opcode, modrm = in->modrm;
	enum rkind k = reg_kind(op, modrm);
	struct fpu_host h;

	switch (k) {
	case RK_UD:
		UD(cpu);
	case RK_FNCLEX:
		fpu_set_fsw(cpu, fpu_fsw(cpu) & (uint16_t)~(FSW_EXC | FSW_SF));
		return;
	case RK_FNINIT:
		fpu_init(cpu);
		return;
	case RK_FNSTSW_AX:
		reg_write(cpu, in, R_AX, 2, fpu_fsw(cpu));
		return;
	case RK_NOP_NOWAIT:
		return;
	default:
		break;
	}
	fpu_check_pending(cpu);
	h.ax = 0;
	if (k == RK_FCMOV) {
		uint64_t fl = flags_get(cpu);
		h.ax = (fl & (FL_CF | FL_PF | FL_ZF)) << 8;
	}
	fpu_host_run(cpu, fpu_host_reg(op, modrm), &h);
	fpu_host_commit(cpu, &h);
	if (k == RK_FCOMI) {
		/* ZF PF CF from the compare; OF SF AF cleared. */
		flags_set(cpu, (h.ax >> 8) & (FL_CF | FL_PF | FL_ZF), FL_ARITH);
	}
	note_insn(cpu, in, false, 0);
}

void op_x87(struct cpu *cpu, const struct insn *in)
{
	check_nm(cpu);
	if (in->mod == 3)
		x87_reg(cpu, in);
	else
		x87_mem(cpu, in);
}

/* WAIT/FWAIT: #NM only when both MP and TS are set (vol. 3 table 2-2);
 * otherwise it delivers a pending x87 exception. */
void op_wait(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->s.cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		cpu_fault_noerr(cpu, EXC_NM);
	fpu_check_pending(cpu);
}

/* ---- FXSAVE / FXRSTOR (SDM vol. 2, and vol. 1 table 10-2) ---- */

#define MXCSR_MASK_MODEL 0xffffu /* with DAZ (SSE2) */

static unsigned fx_len(const struct cpu *cpu)
{
	if (!(cpu->s.cr4 & CR4_OSFXSR))
		return FX_XMM0;
	return cpu_long64(cpu) ? FX_XMM0 + 16 * 16 : FX_XMM0 + 8 * 16;
}

static uint64_t fx_check(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea;
	if (!(cpu->model.features_edx & (1u << 24)))
		UD(cpu);
	check_nm(cpu);
	ea = insn_ea(cpu, in);
	if ((cpu->s.seg[in->seg].base + ea) & 15)
		GP0(cpu);
	return ea;
}

void op_fxsave(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = fx_check(cpu, in);
	unsigned n = fx_len(cpu);
	uint8_t b[512];

	memcpy(b, cpu->s.fxsave, n);
	b[FX_FTW + 1] = 0;
	put32(b, FX_MXCSR_MASK, MXCSR_MASK_MODEL);
	if (in->rex & 8) {
		/* FXSAVE64: 64-bit FIP and FDP, no selectors */
		uint64_t fip = fx_get32(cpu, FX_FIP), fdp = fx_get32(cpu, FX_FDP);
		memcpy(b + FX_FIP, &fip, 8);
		memcpy(b + FX_FDP, &fdp, 8);
	} else {
		put16(b, FX_FCS + 2, 0);
		put16(b, FX_FDS + 2, 0);
	}
	for (unsigned i = 0; i < 8; i++)
		memset(b + FX_ST0 + 16 * i + 10, 0, 6);
	mem_probe_write(cpu, in->seg, ea, n);
	mem_write_bytes(cpu, in->seg, ea, b, n, 8, size_mask(in->adsize));
}

void op_fxrstor(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = fx_check(cpu, in);
	unsigned n = fx_len(cpu);
	uint8_t b[512];
	uint32_t mxcsr;

	mem_read_bytes(cpu, in->seg, ea, b, n, 8, size_mask(in->adsize));
	mxcsr = get32(b, FX_MXCSR);
	if ((cpu->s.cr4 & CR4_OSFXSR) && (mxcsr & ~MXCSR_MASK_MODEL))
		GP0(cpu);
	if (in->rex & 8) {
		put16(b, FX_FCS, 0);
		put16(b, FX_FDS, 0);
	}
	fpu_set_fsw(cpu, get16(b, FX_FSW));
	for (unsigned i = 0; i < 8; i++) {
		memcpy(cpu->s.fxsave + FX_ST0 + 16 * i, b + FX_ST0 + 16 * i, 10);
		memset(cpu->s.fxsave + FX_ST0 + 16 * i + 10, 0, 6);
	}
	cpu->s.fxsave[FX_FTW] = b[FX_FTW];
	fx_set16(cpu, FX_FOP, get16(b, FX_FOP) & 0x7ff);
	fx_set32(cpu, FX_FIP, get32(b, FX_FIP));
	fx_set16(cpu, FX_FCS, get16(b, FX_FCS));
	fx_set32(cpu, FX_FDP, get32(b, FX_FDP));
	fx_set16(cpu, FX_FDS, get16(b, FX_FDS));
	fx_set16(cpu, FX_FCW, (uint16_t)((get16(b, FX_FCW) & 0x1f3f) | 0x40));
	if (cpu->s.cr4 & CR4_OSFXSR) {
		fx_set32(cpu, FX_MXCSR, mxcsr);
		memcpy(cpu->s.fxsave + FX_XMM0, b + FX_XMM0, n - FX_XMM0);
	}
	/* ES follows the new masks */
	fpu_set_fsw(cpu, fpu_fsw(cpu));
}
