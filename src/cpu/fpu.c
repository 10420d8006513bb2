/* The x87 FPU state model and its arithmetic (Intel SDM vol. 1, chapter 8).
 *
 * Every computing x87 instruction runs as the very same instruction on the
 * host's x87 (the host is x86-64): the guest's control word, status word
 * (minus pending unmasked exceptions), tags and registers are loaded with
 * FXRSTOR, the instruction runs on a host copy of its memory operand, and
 * FXSAVE reads everything back. Results, rounding in every precision and
 * rounding control, condition codes, stack faults, masked and unmasked
 * responses, denormals, NaNs and transcendentals are then the host CPU's by
 * construction. The host never traps: only non-waiting instructions
 * (FXSAVE, FNINIT) follow the one under test, so an unmasked exception it
 * raises stays pending until FNINIT clears it; the host control word is
 * restored after each instruction, so no host FPU state leaks either way. */
#include "cpu/fault.h"
#include "cpu/fpu.h"
#include "cpu/mem.h"

/* Stores the status word as is: the registers are already in the stack
 * order of its TOP. */
static void fsw_store(struct cpu *cpu, uint16_t sw)
{
	bool was = fpu_fsw(cpu) & FSW_ES;
	sw &= (uint16_t)~(FSW_ES | FSW_B);
	if (sw & ~fpu_fcw(cpu) & FSW_EXC)
		sw |= FSW_ES | FSW_B;
	fx_set16(cpu, FX_FSW, sw);
	if (was && !(sw & FSW_ES) && cpu->bus.ferr)
		cpu->bus.ferr(cpu->bus.opaque, false);
}

void fpu_set_fsw(struct cpu *cpu, uint16_t sw)
{
	unsigned old = (fpu_fsw(cpu) & FSW_TOP) >> FSW_TOP_SHIFT;
	unsigned top = (sw & FSW_TOP) >> FSW_TOP_SHIFT;

	/* The image holds ST(0)..ST(7); a new TOP renames them. */
	if (old != top) {
		uint8_t regs[128];
		memcpy(regs, cpu->s.fxsave + FX_ST0, 128);
		for (unsigned i = 0; i < 8; i++)
			memcpy(cpu->s.fxsave + FX_ST0 + 16 * i,
			       regs + 16 * ((i + top - old) & 7), 16);
	}
	fsw_store(cpu, sw);
}

void fpu_set_fcw(struct cpu *cpu, uint16_t cw)
{
	/* Bit 6 reads as one, bits 7 and 13-15 as zero (FLDCW 0xffff then
	 * FNSTCW gives 0x1f7f). */
	fx_set16(cpu, FX_FCW, (uint16_t)((cw & 0x1f3f) | 0x40));
	fpu_set_fsw(cpu, fpu_fsw(cpu));
}

void fpu_check_pending(struct cpu *cpu)
{
	if (!(fpu_fsw(cpu) & FSW_ES))
		return;
	if (cpu->s.cr0 & CR0_NE)
		cpu_fault_noerr(cpu, EXC_MF);
	if (cpu->bus.ferr)
		cpu->bus.ferr(cpu->bus.opaque, true);
}

void fpu_init(struct cpu *cpu)
{
	fx_set16(cpu, FX_FCW, FCW_INIT);
	fpu_set_fsw(cpu, 0);
	cpu->s.fxsave[FX_FTW] = 0;
	memset(cpu->s.fxsave + FX_FOP, 0, FX_MXCSR - FX_FOP);
}

/* SDM vol. 1, 8.1.7: valid 00, zero 01, special 10 (NaN, infinity,
 * denormal, unsupported), empty 11. */
uint16_t fpu_full_tags(const struct cpu *cpu)
{
	unsigned top = (fpu_fsw(cpu) & FSW_TOP) >> FSW_TOP_SHIFT;
	uint8_t ftw = cpu->s.fxsave[FX_FTW];
	uint16_t tags = 0;

	for (unsigned phys = 0; phys < 8; phys++) {
		const uint8_t *r = cpu->s.fxsave + FX_ST0 + 16 * ((phys - top) & 7);
		uint64_t mant;
		uint16_t exp;
		unsigned t;

		memcpy(&mant, r, 8);
		memcpy(&exp, r + 8, 2);
		exp &= 0x7fff;
		if (!(ftw & (1u << phys)))
			t = 3;
		else if (exp == 0x7fff)
			t = 2;
		else if (exp == 0)
			t = mant ? 2 : 1;
		else
			t = (mant >> 63) ? 0 : 2;
		tags |= (uint16_t)(t << (2 * phys));
	}
	return tags;
}

uint8_t fpu_abridge_tags(uint16_t full)
{
	uint8_t ftw = 0;
	for (unsigned i = 0; i < 8; i++)
		if (((full >> (2 * i)) & 3) != 3)
			ftw |= (uint8_t)(1u << i);
	return ftw;
}

unsigned fpu_host_run(struct cpu *cpu, fpu_host_fn fn, struct fpu_host *h)
{
	uint16_t cw = fpu_fcw(cpu);
	uint16_t sw = fpu_fsw(cpu);
	uint32_t mxcsr = __builtin_ia32_stmxcsr();
	uint16_t hsw;

	/* Unmasked exceptions already pending (CR0.NE=0 lets an instruction
	 * run past them) stay out of the host, or it would trap. */
	h->held = sw & ~cw & FSW_EXC;
	memcpy(h->img, cpu->s.fxsave, FX_XMM0);
	hsw = (uint16_t)(sw & ~(h->held | FSW_ES | FSW_B));
	memcpy(h->img + FX_FSW, &hsw, 2);
	memcpy(h->img + FX_MXCSR, &mxcsr, 4);
	fn(h);
	memcpy(&hsw, h->img + FX_FSW, 2);
	return hsw & ~cw & FSW_EXC;
}

void fpu_host_commit(struct cpu *cpu, const struct fpu_host *h)
{
	uint16_t hsw;

	memcpy(&hsw, h->img + FX_FSW, 2);
	cpu->s.fxsave[FX_FTW] = h->img[FX_FTW];
	for (unsigned i = 0; i < 8; i++)
		memcpy(cpu->s.fxsave + FX_ST0 + 16 * i, h->img + FX_ST0 + 16 * i, 10);
	fsw_store(cpu, (uint16_t)(hsw | h->held));
}

/* ---- the host instructions ---- */

/* One function per x87 encoding: the register forms as their two bytes,
 * the memory forms with ModRM [rdi] pointing at the host copy of the
 * operand. AH carries the arithmetic flags in (SAHF, for FCMOVcc) and out
 * (LAHF, for FCOMI). */
#define HOST_FN(name, bytes)                                                  \
	static void name(struct fpu_host *h)                                  \
	{                                                                     \
		__asm__ volatile("fnstcw %[hcw]\n\t"                          \
				 "fxrstor %[img]\n\t"                         \
				 "sahf\n\t"                                   \
				 ".byte " bytes "\n\t"                        \
				 "lahf\n\t"                                   \
				 "fxsave %[img]\n\t"                          \
				 "fninit\n\t"                                 \
				 "fldcw %[hcw]"                               \
				 : [img] "+m"(h->img), [hcw] "=m"(h->hcw),    \
				   "+a"(h->ax), "+m"(h->mem)                  \
				 : "D"(h->mem)                                \
				 : "cc", "memory", "xmm0", "xmm1", "xmm2",    \
				   "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",    \
				   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
				   "xmm13", "xmm14", "xmm15");                \
	}

#define HR1(op, hi, lo) HOST_FN(host_r_##op##_##hi##lo, "0x" #op ", 0x" #hi #lo)
#define HR16(op, hi)                                                          \
	HR1(op, hi, 0) HR1(op, hi, 1) HR1(op, hi, 2) HR1(op, hi, 3)           \
	HR1(op, hi, 4) HR1(op, hi, 5) HR1(op, hi, 6) HR1(op, hi, 7)           \
	HR1(op, hi, 8) HR1(op, hi, 9) HR1(op, hi, a) HR1(op, hi, b)           \
	HR1(op, hi, c) HR1(op, hi, d) HR1(op, hi, e) HR1(op, hi, f)
#define HR64(op) HR16(op, c) HR16(op, d) HR16(op, e) HR16(op, f)
HR64(d8) HR64(d9) HR64(da) HR64(db) HR64(dc) HR64(dd) HR64(de) HR64(df)

/* ModRM mod=00 rm=111: [rdi]; reg in bits 3-5. */
#define HM1(op, reg, modrm) HOST_FN(host_m_##op##_##reg, "0x" #op ", " #modrm)
#define HM8(op)                                                               \
	HM1(op, 0, 0x07) HM1(op, 1, 0x0f) HM1(op, 2, 0x17) HM1(op, 3, 0x1f)   \
	HM1(op, 4, 0x27) HM1(op, 5, 0x2f) HM1(op, 6, 0x37) HM1(op, 7, 0x3f)
HM8(d8) HM8(d9) HM8(da) HM8(db) HM8(dc) HM8(dd) HM8(de) HM8(df)

#define TR1(op, hi, lo) [0x##hi##lo - 0xc0] = host_r_##op##_##hi##lo,
#define TR16(op, hi)                                                          \
	TR1(op, hi, 0) TR1(op, hi, 1) TR1(op, hi, 2) TR1(op, hi, 3)           \
	TR1(op, hi, 4) TR1(op, hi, 5) TR1(op, hi, 6) TR1(op, hi, 7)           \
	TR1(op, hi, 8) TR1(op, hi, 9) TR1(op, hi, a) TR1(op, hi, b)           \
	TR1(op, hi, c) TR1(op, hi, d) TR1(op, hi, e) TR1(op, hi, f)
#define TR64(op) { TR16(op, c) TR16(op, d) TR16(op, e) TR16(op, f) }

static const fpu_host_fn host_reg[8][64] = {
	TR64(d8), TR64(d9), TR64(da), TR64(db),
	TR64(dc), TR64(dd), TR64(de), TR64(df),
};

#define TM8(op)                                                               \
	{ host_m_##op##_0, host_m_##op##_1, host_m_##op##_2, host_m_##op##_3, \
	  host_m_##op##_4, host_m_##op##_5, host_m_##op##_6, host_m_##op##_7 }

static const fpu_host_fn host_mem[8][8] = {
	TM8(d8), TM8(d9), TM8(da), TM8(db), TM8(dc), TM8(dd), TM8(de), TM8(df),
};

fpu_host_fn fpu_host_reg(unsigned op, unsigned modrm)
{
	return host_reg[op & 7][(modrm - 0xc0) & 63];
}

fpu_host_fn fpu_host_mem(unsigned op, unsigned reg)
{
	return host_mem[op & 7][reg & 7];
}
