/* The vCPU's versioned state (lib/vstate.h): the architectural state of
 * state.h, field by field (the x87/MMX/SSE image split into its named
 * parts), and what the engine keeps beside it: the interrupt shadow as it
 * is live, the INTR input, the A20 gate and the step count (the TSC when
 * the bus has no clock). Everything else in struct cpu is derived (CPL,
 * the mode, segment and debug-register caches, TLB, decoded code) and is
 * rebuilt by cpu_set_state() after a load. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/fpu.h"
#include "lib/vstate.h"

struct cpu_vstate {
	struct x86_state s;
	uint64_t icount;
	bool a20;  /* the A20 gate is open */
	bool intr; /* the INTR input's level */
};

#define T struct cpu_vstate
/* A field with a name of its own: n elements of type ty at member m. */
#define F(nm, m, ty) {nm, ty, 1, VS_OFF_(T, m, vs_type_size_(ty)), 1, 0, 0}
#define FMAX(nm, m, ty, max)                                                  \
	{nm, ty, 1, VS_OFF_(T, m, vs_type_size_(ty)), 1, max, 0}
#define FA(nm, m, ty, n)                                                      \
	{nm, ty, 1, VS_OFF_(T, m, vs_type_size_(ty) * (n)), n, 0, 0}
/* Part of the FXSAVE image, at byte `off` of it. */
#define FX(nm, off, ty, n, max)                                               \
	{nm, ty, 1, offsetof(T, s.fxsave) + (off), n, max, 0}
#define SEG(nm, m)                                                            \
	F(nm ".base", m.base, VS_U64), F(nm ".limit", m.limit, VS_U32),       \
	F(nm ".selector", m.selector, VS_U16),                                \
	FMAX(nm ".ar", m.ar, VS_U32, 0x1ffff)

static const struct vs_field cpu_fields[] = {
	FA("gpr", s.gpr, VS_U64, 16),
	F("rip", s.rip, VS_U64),
	F("rflags", s.rflags, VS_U64),
	SEG("es", s.seg[S_ES]),
	SEG("cs", s.seg[S_CS]),
	SEG("ss", s.seg[S_SS]),
	SEG("ds", s.seg[S_DS]),
	SEG("fs", s.seg[S_FS]),
	SEG("gs", s.seg[S_GS]),
	SEG("tr", s.tr),
	SEG("ldtr", s.ldtr),
	F("gdtr.base", s.gdtr.base, VS_U64),
	F("gdtr.limit", s.gdtr.limit, VS_U16),
	F("idtr.base", s.idtr.base, VS_U64),
	F("idtr.limit", s.idtr.limit, VS_U16),
	FMAX("cr0", s.cr0, VS_U64, 0xffffffffu),
	F("cr2", s.cr2, VS_U64),
	F("cr3", s.cr3, VS_U64),
	FMAX("cr4", s.cr4, VS_U64, 0x3fffff),
	FMAX("cr8", s.cr8, VS_U64, 15),
	FMAX("efer", s.efer, VS_U64, EFER_NXE),
	FA("dr", s.dr, VS_U64, 8),
	F("tsc_offset", s.msr.tsc_offset, VS_U64),
	F("apic_base", s.msr.apic_base, VS_U64),
	F("sysenter_cs", s.msr.sysenter_cs, VS_U64),
	F("sysenter_esp", s.msr.sysenter_esp, VS_U64),
	F("sysenter_eip", s.msr.sysenter_eip, VS_U64),
	F("pat", s.msr.pat, VS_U64),
	F("misc_enable", s.msr.misc_enable, VS_U64),
	F("mtrr_def_type", s.msr.mtrr_def_type, VS_U64),
	FA("mtrr_fixed", s.msr.mtrr_fixed, VS_U64, 11),
	FA("mtrr_var", s.msr.mtrr_var, VS_U64, 2 * X86_MTRR_VAR),
	FMAX("exception_pending", s.ev.exception_pending, VS_U8, 1),
	FMAX("exception_vector", s.ev.exception_vector, VS_U8, 31),
	FMAX("exception_has_error", s.ev.exception_has_error, VS_U8, 1),
	F("exception_error", s.ev.exception_error, VS_U32),
	FMAX("nmi_pending", s.ev.nmi_pending, VS_U8, 1),
	FMAX("nmi_masked", s.ev.nmi_masked, VS_U8, 1),
	FMAX("interrupt_shadow", s.ev.interrupt_shadow, VS_U8,
	     SHADOW_MOV_SS | SHADOW_STI),
	FMAX("halted", s.ev.halted, VS_U8, 1),
	FMAX("shutdown", s.ev.shutdown, VS_U8, 1),
	FX("fcw", FX_FCW, VS_U16, 1, 0),
	FX("fsw", FX_FSW, VS_U16, 1, 0),
	FX("ftw", FX_FTW, VS_U8, 1, 0),
	FX("fop", FX_FOP, VS_U16, 1, 0x7ff),
	FX("fip", FX_FIP, VS_U32, 1, 0),
	FX("fcs", FX_FCS, VS_U16, 1, 0),
	FX("fdp", FX_FDP, VS_U32, 1, 0),
	FX("fds", FX_FDS, VS_U16, 1, 0),
	/* A reserved MXCSR bit would fault the host's LDMXCSR. */
	FX("mxcsr", FX_MXCSR, VS_U32, 1, 0xffff),
	FX("mxcsr_mask", FX_MXCSR_MASK, VS_U32, 1, 0xffff),
	FX("st", FX_ST0, VS_BYTES, 8 * 16, 0),
	FX("xmm", FX_XMM0, VS_BYTES, 16 * 16, 0),
	F("icount", icount, VS_U64),
	F("a20", a20, VS_BOOL),
	F("intr", intr, VS_BOOL),
};

#define RFLAGS_DEFINED 0x3f7fd7u /* every flag bit the architecture has */

static int cpu_state_check(const void *obj, char *err, size_t n)
{
	const struct cpu_vstate *v = obj;
	if (v->s.rflags & ~(uint64_t)RFLAGS_DEFINED) {
		snprintf(err, n, "cpu: field 'rflags' has reserved bits set");
		return -EINVAL;
	}
	if (v->s.efer & ~(uint64_t)EFER_NXE) {
		snprintf(err, n, "cpu: field 'efer' asks for long mode or "
			 "SYSCALL, which this CPU lacks");
		return -EINVAL;
	}
	return 0;
}

static const struct vs_desc cpu_state_desc = {
	"cpu", 1, cpu_fields, ARRAY_SIZE(cpu_fields), cpu_state_check, NULL,
};

static void cpu_vstate_get(struct cpu *cpu, struct cpu_vstate *v)
{
	memset(v, 0, sizeof(*v));
	cpu_get_state(cpu, &v->s);
	v->icount = cpu_icount(cpu);
	v->a20 = cpu->a20_mask == ~0ull;
	v->intr = cpu->intr_line != 0;
}

int cpu_save_state(struct cpu *cpu, struct vs_buf *b)
{
	struct cpu_vstate v;
	cpu_vstate_get(cpu, &v);
	return vs_save(&cpu_state_desc, &v, b);
}

int cpu_load_state(struct cpu *cpu, const void *data, size_t len, char *err,
		   size_t n)
{
	struct cpu_vstate v;
	int rc;

	cpu_vstate_get(cpu, &v);
	rc = vs_load(&cpu_state_desc, &v, sizeof(v), data, len, err, n);
	if (rc)
		return rc;
	/* cpu_set_state() recomputes CPL, the mode, the segment and debug
	 * caches and drops the TLB and decoded code; the A20 change drops
	 * the TLB again if it moved. */
	cpu_set_state(cpu, &v.s);
	cpu_set_a20(cpu, v.a20);
	cpu_set_intr(cpu, v.intr);
	cpu->icount = v.icount;
	return 0;
}
