/* System instructions (SDM vol. 2; vol. 3 chapters 2, 4, 17, 20): CLI/STI
 * with the IOPL, VME and PVI rules, HLT, the descriptor-table registers
 * (LGDT LIDT SGDT SIDT LLDT SLDT LTR STR), SMSW LMSW CLTS, MOV to and from
 * control and debug registers, INVLPG INVD WBINVD, CPUID, RDTSC, RDMSR
 * WRMSR, RDPMC, SYSENTER SYSEXIT, WAIT, and the x87 escape until the FPU
 * exists. */
#include "cpu/exec.h"
#include "cpu/seg.h"

static unsigned cur_iopl(const struct cpu *cpu)
{
	return (cpu->s.rflags & FL_IOPL) >> FL_IOPL_SHIFT;
}

/* Privileged instructions: CPL 0 in protected mode; v86 mode is CPL 3. */
static void require_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		GP0(cpu);
}

static void require_protected(struct cpu *cpu)
{
	if (!cpu_protected(cpu))
		UD(cpu);
}

/* ---- interrupt flag ---- */

void op_cli(struct cpu *cpu, const struct insn *in)
{
	unsigned iopl = cur_iopl(cpu);

	if (!cpu_pe(cpu)) {
		cpu->s.rflags &= ~(uint64_t)FL_IF;
	} else if (cpu_vm86(cpu)) {
		if (iopl == 3)
			cpu->s.rflags &= ~(uint64_t)FL_IF;
		else if (cpu->s.cr4 & CR4_VME)
			cpu->s.rflags &= ~(uint64_t)FL_VIF;
		else
			GP0(cpu);
	} else if (cpu->cpl <= iopl) {
		cpu->s.rflags &= ~(uint64_t)FL_IF;
	} else if (cpu->cpl == 3 && (cpu->s.cr4 & CR4_PVI)) {
		cpu->s.rflags &= ~(uint64_t)FL_VIF;
	} else {
		GP0(cpu);
	}
}

/* STI: interrupts stay blocked until after the next instruction, but only
 * when IF actually goes from 0 to 1. */
void op_sti(struct cpu *cpu, const struct insn *in)
{
	unsigned iopl = cur_iopl(cpu);
	bool was = (cpu->s.rflags & FL_IF) != 0;
	bool virt;

	if (!cpu_pe(cpu))
		virt = false;
	else if (cpu_vm86(cpu))
		virt = iopl < 3;
	else
		virt = cpu->cpl > iopl;
	if (virt) {
		bool can = cpu_vm86(cpu) ? (cpu->s.cr4 & CR4_VME) != 0
					 : cpu->cpl == 3 &&
						   (cpu->s.cr4 & CR4_PVI) != 0;
		if (!can || (cpu->s.rflags & FL_VIP))
			GP0(cpu);
		cpu->s.rflags |= FL_VIF;
		return;
	}
	cpu->s.rflags |= FL_IF;
	if (!was)
		cpu->inhibit_irq = SHADOW_STI;
	cpu->end_block = true;
}

void op_hlt(struct cpu *cpu, const struct insn *in)
{
	require_cpl0(cpu);
	cpu->s.ev.halted = 1;
	cpu->end_block = true;
}

/* ---- descriptor tables ---- */

/* LLDT: a null selector leaves LDTR unusable; otherwise an LDT descriptor
 * in the GDT. */
static void lldt(struct cpu *cpu, uint16_t sel)
{
	struct desc d;

	if ((sel & ~3u) == 0) {
		cpu->s.ldtr.selector = sel;
		cpu->s.ldtr.base = 0;
		cpu->s.ldtr.limit = 0;
		cpu->s.ldtr.ar = AR_UNUSABLE;
		return;
	}
	if ((sel & 4) || !desc_read(cpu, sel, &d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (desc_s(&d) || desc_type(&d) != DT_LDT)
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (!desc_present(&d))
		cpu_fault(cpu, EXC_NP, sel_err(sel));
	desc_to_seg(&d, sel, &cpu->s.ldtr);
}

/* LTR: an available TSS in the GDT, which becomes busy. */
static void ltr(struct cpu *cpu, uint16_t sel)
{
	struct desc d;
	unsigned type;

	if ((sel & ~3u) == 0)
		GP0(cpu);
	if ((sel & 4) || !desc_read(cpu, sel, &d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	type = desc_type(&d);
	if (desc_s(&d) || (type != DT_TSS16_AVAIL && type != DT_TSS32_AVAIL))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (!desc_present(&d))
		cpu_fault(cpu, EXC_NP, sel_err(sel));
	d.hi |= 0x200;
	desc_write_hi(cpu, sel, d.hi);
	desc_to_seg(&d, sel, &cpu->s.tr);
}

/* SLDT/STR: a register destination gets the selector zero-extended to
 * the operand size, memory always 16 bits. */
static void store_selector(struct cpu *cpu, const struct insn *in, uint16_t v)
{
	if (in->mod == 3)
		reg_write(cpu, in, in->rm, in->opsize, v);
	else
		mem_write(cpu, in->seg, insn_ea(cpu, in), 2, v);
}

/* 0F 00 /0-/3: SLDT STR LLDT LTR (VERR and VERW live in insn_seg.c). */
void op_grp6(struct cpu *cpu, const struct insn *in)
{
	unsigned op = (in->modrm >> 3) & 7;

	require_protected(cpu);
	switch (op) {
	case 0:
		store_selector(cpu, in, cpu->s.ldtr.selector);
		break;
	case 1:
		store_selector(cpu, in, cpu->s.tr.selector);
		break;
	case 2:
		require_cpl0(cpu);
		lldt(cpu, (uint16_t)rm_read(cpu, in, 2));
		cpu->end_block = true;
		break;
	case 3:
		require_cpl0(cpu);
		ltr(cpu, (uint16_t)rm_read(cpu, in, 2));
		break;
	default:
		UD(cpu);
	}
}

/* SGDT/SIDT store the 16-bit limit and the full 32-bit base whatever the
 * operand size (the current SDM; the 80286 zeroed the top byte). Both
 * parts are probed before either is written. */
static void store_dtable(struct cpu *cpu, const struct insn *in,
			 const struct x86_dtable *t)
{
	uint64_t ea = insn_ea(cpu, in);
	uint64_t ea2 = (ea + 2) & size_mask(in->adsize);
	mem_probe_write(cpu, in->seg, ea, 2);
	mem_probe_write(cpu, in->seg, ea2, 4);
	mem_write(cpu, in->seg, ea, 2, t->limit);
	mem_write(cpu, in->seg, ea2, 4, (uint32_t)t->base);
}

static void load_dtable(struct cpu *cpu, const struct insn *in,
			struct x86_dtable *t)
{
	uint64_t ea = insn_ea(cpu, in);
	uint16_t limit;
	uint32_t base;

	require_cpl0(cpu);
	limit = (uint16_t)mem_read(cpu, in->seg, ea, 2);
	base = (uint32_t)mem_read(cpu, in->seg, (ea + 2) & size_mask(in->adsize), 4);
	if (in->opsize == 2)
		base &= 0xffffff;
	t->limit = limit;
	t->base = base;
}

/* 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG. */
void op_grp7(struct cpu *cpu, const struct insn *in)
{
	unsigned op = (in->modrm >> 3) & 7;

	switch (op) {
	case 0:
		store_dtable(cpu, in, &cpu->s.gdtr);
		break;
	case 1:
		store_dtable(cpu, in, &cpu->s.idtr);
		break;
	case 2:
		load_dtable(cpu, in, &cpu->s.gdtr);
		break;
	case 3:
		load_dtable(cpu, in, &cpu->s.idtr);
		break;
	case 4:
		/* SMSW to a 32-bit register: P6 and later store all of
		 * CR0, which the SDM leaves undefined above bit 15. */
		if (in->mod == 3)
			reg_write(cpu, in, in->rm, in->opsize, (uint32_t)cpu->s.cr0);
		else
			mem_write(cpu, in->seg, insn_ea(cpu, in), 2, cpu->s.cr0);
		break;
	case 6: {
		/* LMSW: only PE MP EM TS; PE can be set but not cleared. */
		uint16_t v;
		require_cpl0(cpu);
		v = (uint16_t)rm_read(cpu, in, 2);
		cpu->s.cr0 = (cpu->s.cr0 & ~0xfull) | (v & 0xf) |
			     (cpu->s.cr0 & CR0_PE);
		cpu_update_mode(cpu);
		break;
	}
	case 7:
		require_cpl0(cpu);
		tlb_flush_page(cpu, (cpu->s.seg[in->seg].base + insn_ea(cpu, in)) &
					    0xffffffffull);
		cpu->end_block = true;
		break;
	default:
		UD(cpu);
	}
}

void op_clts(struct cpu *cpu, const struct insn *in)
{
	require_cpl0(cpu);
	cpu->s.cr0 &= ~(uint64_t)CR0_TS;
}

/* ---- control registers ---- */

#define CR0_WRITABLE (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | \
		      CR0_AM | CR0_NW | CR0_CD | CR0_PG)

/* The CR4 bits this model accepts: exactly what CPUID.1:EDX reports. */
static uint64_t cr4_allowed(const struct cpu *cpu)
{
	uint32_t f = cpu->model.features_edx;
	uint64_t ok = CR4_PCE;
	if (f & (1u << 1))
		ok |= CR4_VME | CR4_PVI;
	if (f & (1u << 2))
		ok |= CR4_DE;
	if (f & (1u << 3))
		ok |= CR4_PSE;
	if (f & (1u << 4))
		ok |= CR4_TSD;
	if (f & (1u << 6))
		ok |= CR4_PAE;
	if (f & (1u << 7))
		ok |= CR4_MCE;
	if (f & (1u << 13))
		ok |= CR4_PGE;
	if (f & (1u << 24))
		ok |= CR4_OSFXSR;
	if (f & (1u << 25))
		ok |= CR4_OSXMMEXCPT;
	return ok;
}

/* MOV r32, CRn (0F 20): the ModRM mod field is ignored, rm is the GPR. */
void op_mov_RC(struct cpu *cpu, const struct insn *in)
{
	uint64_t v;

	switch (in->reg) {
	case 0: v = cpu->s.cr0; break;
	case 2: v = cpu->s.cr2; break;
	case 3: v = cpu->s.cr3; break;
	case 4: v = cpu->s.cr4; break;
	default: UD(cpu);
	}
	require_cpl0(cpu);
	reg_write(cpu, in, in->rm, cpu_long64(cpu) ? 8 : 4, v);
}

void op_mov_CR(struct cpu *cpu, const struct insn *in)
{
	uint64_t v, old;

	if (in->reg != 0 && in->reg != 2 && in->reg != 3 && in->reg != 4)
		UD(cpu);
	require_cpl0(cpu);
	v = cpu->s.gpr[in->rm];
	if (!cpu_long64(cpu))
		v &= 0xffffffffull;
	switch (in->reg) {
	case 0:
		/* Reserved bits are ignored; ET is fixed at 1 on a P6. */
		v = (v & CR0_WRITABLE) | CR0_ET;
		if ((v & CR0_PG) && !(v & CR0_PE))
			GP0(cpu);
		if ((v & CR0_NW) && !(v & CR0_CD))
			GP0(cpu);
		old = cpu->s.cr0;
		cpu->s.cr0 = v;
		if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
			tlb_flush(cpu, true);
		break;
	case 2:
		cpu->s.cr2 = v;
		break;
	case 3:
		cpu->s.cr3 = v;
		tlb_flush(cpu, false);
		break;
	case 4:
		if (v & ~cr4_allowed(cpu))
			GP0(cpu);
		old = cpu->s.cr4;
		cpu->s.cr4 = v;
		if ((old ^ v) & (CR4_PSE | CR4_PAE | CR4_PGE))
			tlb_flush(cpu, true);
		break;
	}
	cpu_update_mode(cpu);
	cpu->end_block = true;
}

/* ---- debug registers ---- */

/* The register a MOV DR names, after the CPL, DR4/DR5 and DR7.GD checks
 * (in that order, SDM vol. 2, MOV DR "Protected Mode Exceptions"). */
static unsigned dr_index(struct cpu *cpu, const struct insn *in)
{
	unsigned r = in->reg & 7;

	require_cpl0(cpu);
	if (r == 4 || r == 5) {
		if (cpu->s.cr4 & CR4_DE)
			UD(cpu);
		r += 2;
	}
	if (cpu->s.dr[7] & 0x2000) {
		/* General detect: a fault, with BD set and GD cleared so
		 * that the handler itself can use the registers. */
		cpu->s.dr[6] |= 0x2000;
		cpu->s.dr[7] &= ~0x2000ull;
		cpu_fault_noerr(cpu, EXC_DB);
	}
	return r;
}

void op_mov_RD(struct cpu *cpu, const struct insn *in)
{
	unsigned r = dr_index(cpu, in);
	reg_write(cpu, in, in->rm, cpu_long64(cpu) ? 8 : 4, cpu->s.dr[r]);
}

void op_mov_DR(struct cpu *cpu, const struct insn *in)
{
	unsigned r = dr_index(cpu, in);
	uint64_t v = cpu->s.gpr[in->rm];

	if (!cpu_long64(cpu))
		v &= 0xffffffffull;
	if (r == 6)
		v = (v & 0xe00full) | 0xffff0ff0ull;
	else if (r == 7)
		v = (v & ~0xd800ull) | 0x400;
	cpu->s.dr[r] = v;
	cpu_debug_changed(cpu);
}

void op_invd(struct cpu *cpu, const struct insn *in)
{
	require_cpl0(cpu);
}

/* ---- CPUID ---- */

#define CPUID_MAX_BASIC 2u
#define CPUID_MAX_EXT 0x80000004u

static uint32_t str4(const char *s)
{
	return (uint32_t)(uint8_t)s[0] | (uint32_t)(uint8_t)s[1] << 8 |
	       (uint32_t)(uint8_t)s[2] << 16 | (uint32_t)(uint8_t)s[3] << 24;
}

void op_cpuid(struct cpu *cpu, const struct insn *in)
{
	const struct cpu_model *m = &cpu->model;
	uint32_t leaf = (uint32_t)cpu->s.gpr[R_AX];
	uint32_t r[4] = {0, 0, 0, 0}; /* eax ebx ecx edx */

	/* Beyond either range, Intel returns the highest basic leaf. */
	if ((leaf > CPUID_MAX_BASIC && leaf < 0x80000000u) || leaf > CPUID_MAX_EXT) {
		if (unlikely(cpu->log_mask & CPU_LOG_UNIMP)) {
			struct cpu_log_note nt = {
				.item = CPU_LOG_UNIMP, .kind = CPU_NOTE_CPUID,
				.value = leaf, .value2 = (uint32_t)cpu->s.gpr[R_CX],
				.cs = cpu->s.seg[S_CS].selector, .rip = cpu->s.rip,
			};
			cpu->log.note(cpu->log.opaque, &nt);
		}
		leaf = CPUID_MAX_BASIC;
	}
	switch (leaf) {
	case 0:
		r[0] = CPUID_MAX_BASIC;
		r[1] = str4(m->vendor);
		r[3] = str4(m->vendor + 4);
		r[2] = str4(m->vendor + 8);
		break;
	case 1:
		r[0] = ((m->family > 0xf ? 0xf : m->family) << 8) |
		       ((m->model & 0xf) << 4) | (m->stepping & 0xf) |
		       ((m->model >> 4) & 0xf) << 16 |
		       (m->family > 0xf ? (m->family - 0xf) & 0xff : 0) << 20;
		r[1] = 0; /* brand index 0, APIC id 0 */
		r[2] = m->features_ecx;
		r[3] = m->features_edx;
		break;
	case 2:
		/* A Pentium II's cache and TLB descriptors. */
		r[0] = 0x03020101;
		r[3] = 0x0c040843;
		break;
	case 0x80000000u:
		r[0] = CPUID_MAX_EXT;
		break;
	case 0x80000001u:
		r[3] = m->ext_features_edx;
		break;
	default: {
		unsigned base = (leaf - 0x80000002u) * 16;
		for (int i = 0; i < 4; i++)
			r[i] = str4(m->brand + base + 4 * i);
		break;
	}
	}
	cpu->s.gpr[R_AX] = r[0];
	cpu->s.gpr[R_BX] = r[1];
	cpu->s.gpr[R_CX] = r[2];
	cpu->s.gpr[R_DX] = r[3];
}

/* ---- time stamp and performance counters ---- */

void op_rdtsc(struct cpu *cpu, const struct insn *in)
{
	uint64_t t;
	if ((cpu->s.cr4 & CR4_TSD) && cpu->cpl != 0)
		GP0(cpu);
	t = cpu_tsc(cpu);
	cpu->s.gpr[R_AX] = (uint32_t)t;
	cpu->s.gpr[R_DX] = (uint32_t)(t >> 32);
}

/* RDPMC: a P6 has two 40-bit counters; this model counts nothing. */
void op_rdpmc(struct cpu *cpu, const struct insn *in)
{
	if (cpu->cpl != 0 && !(cpu->s.cr4 & CR4_PCE))
		GP0(cpu);
	if ((uint32_t)cpu->s.gpr[R_CX] > 1)
		GP0(cpu);
	cpu->s.gpr[R_AX] = 0;
	cpu->s.gpr[R_DX] = 0;
}

/* ---- model-specific registers ---- */

/* Memory types a PAT entry or MTRR may hold: UC WC WT WP WB (PAT also
 * UC-, 7). */
static bool mtrr_type_ok(unsigned t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool bytes_are_types(uint64_t v, bool pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (v >> (8 * i)) & 0xff;
		if (!mtrr_type_ok(t) && !(pat && t == 7))
			return false;
	}
	return true;
}

/* Read-only identification MSRs every P6 has, which Linux reads on any
 * Intel family-6 CPU: the platform id and the microcode revision (0 here;
 * writing it only asks the CPU to refresh it). */
#define MSR_IA32_PLATFORM_ID 0x17
#define MSR_IA32_BIOS_SIGN_ID 0x8b

/* Physical address bits above the 36 this model reports are reserved. */
#define PHYS_RSVD 0xfffffff000000000ull

static int fixed_mtrr_index(uint32_t msr)
{
	if (msr == MSR_MTRR_FIX64K)
		return 0;
	if (msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000)
		return 1 + (int)(msr - MSR_MTRR_FIX16K_80000);
	if (msr >= MSR_MTRR_FIX4K_C0000 && msr < MSR_MTRR_FIX4K_C0000 + 8)
		return 3 + (int)(msr - MSR_MTRR_FIX4K_C0000);
	return -1;
}

/* Returns false for an MSR this model does not have. */
static bool msr_read(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	struct x86_msrs *m = &cpu->s.msr;
	int fi = fixed_mtrr_index(msr);

	if (fi >= 0) {
		*v = m->mtrr_fixed[fi];
		return true;
	}
	if (msr >= MSR_MTRR_PHYSBASE0 && msr < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_VAR) {
		*v = m->mtrr_var[msr - MSR_MTRR_PHYSBASE0];
		return true;
	}
	switch (msr) {
	case MSR_IA32_TSC: *v = cpu_tsc(cpu); return true;
	case MSR_IA32_APICBASE: *v = m->apic_base; return true;
	case MSR_IA32_SYSENTER_CS: *v = m->sysenter_cs; return true;
	case MSR_IA32_SYSENTER_ESP: *v = m->sysenter_esp; return true;
	case MSR_IA32_SYSENTER_EIP: *v = m->sysenter_eip; return true;
	case MSR_IA32_PAT: *v = m->pat; return true;
	case MSR_IA32_MISC_ENABLE: *v = m->misc_enable; return true;
	case MSR_MTRRCAP: *v = 0x500 | X86_MTRR_VAR; return true; /* WC, FIX */
	case MSR_MTRR_DEF_TYPE: *v = m->mtrr_def_type; return true;
	case MSR_EFER: *v = cpu->s.efer; return true;
	case MSR_IA32_PLATFORM_ID: *v = 0; return true;
	case MSR_IA32_BIOS_SIGN_ID: *v = 0; return true;
	default: return false;
	}
}

/* Returns false when the MSR does not exist or the value is invalid
 * (both #GP(0)). */
static bool msr_write(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	struct x86_msrs *m = &cpu->s.msr;
	int fi = fixed_mtrr_index(msr);

	if (fi >= 0) {
		if (!bytes_are_types(v, false))
			return false;
		m->mtrr_fixed[fi] = v;
		return true;
	}
	if (msr >= MSR_MTRR_PHYSBASE0 && msr < MSR_MTRR_PHYSBASE0 + 2 * X86_MTRR_VAR) {
		unsigned i = msr - MSR_MTRR_PHYSBASE0;
		if (i & 1) {
			if (v & (PHYS_RSVD | 0x7ffull))
				return false;
		} else if ((v & (PHYS_RSVD | 0xf00ull)) ||
			   !mtrr_type_ok(v & 0xff)) {
			return false;
		}
		m->mtrr_var[i] = v;
		return true;
	}
	switch (msr) {
	case MSR_IA32_TSC:
		m->tsc_offset += v - cpu_tsc(cpu);
		return true;
	case MSR_IA32_APICBASE:
		/* BSP (bit 8) is read-only; enable (11) and the base. */
		if (v & (PHYS_RSVD | 0x6ffull))
			return false;
		m->apic_base = (v & ~0x100ull) | (m->apic_base & 0x100);
		return true;
	case MSR_IA32_SYSENTER_CS: m->sysenter_cs = v & 0xffff; return true;
	case MSR_IA32_SYSENTER_ESP: m->sysenter_esp = v; return true;
	case MSR_IA32_SYSENTER_EIP: m->sysenter_eip = v; return true;
	case MSR_IA32_PAT:
		if (!bytes_are_types(v, true))
			return false;
		m->pat = v;
		return true;
	case MSR_IA32_MISC_ENABLE: m->misc_enable = v; return true;
	case MSR_MTRR_DEF_TYPE:
		if ((v & ~0xcffull) || !mtrr_type_ok(v & 0xff))
			return false;
		m->mtrr_def_type = v;
		return true;
	case MSR_EFER:
		/* Only what CPUID reports: NXE with NX; long mode and
		 * SYSCALL are not implemented. */
		if (v & ~(uint64_t)((cpu->model.ext_features_edx & (1u << 20))
					    ? EFER_NXE : 0))
			return false;
		if ((cpu->s.efer ^ v) & EFER_NXE)
			tlb_flush(cpu, true);
		cpu->s.efer = v;
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		return true;
	default:
		return false;
	}
}

/* An MSR access that raises #GP: a guest error, and one the emulator
 * may be at fault for (an MSR the model should have). */
static void log_msr(struct cpu *cpu, enum cpu_log_note_kind kind, uint64_t v)
{
	struct cpu_log_note nt = {
		.item = CPU_LOG_GUEST | CPU_LOG_UNIMP,
		.kind = kind,
		.value = (uint32_t)cpu->s.gpr[R_CX],
		.value2 = v,
		.cs = cpu->s.seg[S_CS].selector,
		.rip = cpu->s.rip,
	};
	cpu->log.note(cpu->log.opaque, &nt);
}

void op_rdmsr(struct cpu *cpu, const struct insn *in)
{
	uint64_t v;
	require_cpl0(cpu);
	if (!msr_read(cpu, (uint32_t)cpu->s.gpr[R_CX], &v)) {
		if (unlikely(cpu->log_mask & (CPU_LOG_GUEST | CPU_LOG_UNIMP)))
			log_msr(cpu, CPU_NOTE_RDMSR, 0);
		GP0(cpu);
	}
	cpu->s.gpr[R_AX] = (uint32_t)v;
	cpu->s.gpr[R_DX] = (uint32_t)(v >> 32);
}

void op_wrmsr(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = (uint32_t)cpu->s.gpr[R_AX] |
		     (uint64_t)(uint32_t)cpu->s.gpr[R_DX] << 32;
	require_cpl0(cpu);
	if (!msr_write(cpu, (uint32_t)cpu->s.gpr[R_CX], v)) {
		if (unlikely(cpu->log_mask & (CPU_LOG_GUEST | CPU_LOG_UNIMP)))
			log_msr(cpu, CPU_NOTE_WRMSR, v);
		GP0(cpu);
	}
	cpu->end_block = true;
}

/* ---- SYSENTER / SYSEXIT ---- */

/* The flat segments SYSENTER and SYSEXIT load without reading the GDT. */
static void flat_seg(struct x86_segment *s, uint16_t sel, bool code,
		     unsigned dpl)
{
	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->ar = AR_P | AR_S | AR_DB | AR_G | AR_TYPE_ACCESSED |
		(code ? AR_TYPE_CODE | AR_TYPE_READABLE : AR_TYPE_WRITABLE) |
		(dpl << AR_DPL_SHIFT);
}

void op_sysenter(struct cpu *cpu, const struct insn *in)
{
	uint16_t cs = (uint16_t)cpu->s.msr.sysenter_cs;

	if (!cpu_pe(cpu) || (cs & 0xfffc) == 0)
		GP0(cpu);
	flags_get(cpu);
	cpu->s.rflags &= ~(uint64_t)(FL_VM | FL_IF | FL_RF);
	cpu->cpl = 0;
	flat_seg(&cpu->s.seg[S_CS], cs & 0xfffc, true, 0);
	flat_seg(&cpu->s.seg[S_SS], (uint16_t)((cs & 0xfffc) + 8), false, 0);
	cpu->s.gpr[R_SP] = (uint32_t)cpu->s.msr.sysenter_esp;
	cpu->next_rip = (uint32_t)cpu->s.msr.sysenter_eip;
	cpu_update_mode(cpu);
}

void op_sysexit(struct cpu *cpu, const struct insn *in)
{
	uint16_t cs = (uint16_t)cpu->s.msr.sysenter_cs;

	if (!cpu_pe(cpu) || (cs & 0xfffc) == 0 || cpu->cpl != 0 ||
	    cpu_vm86(cpu))
		GP0(cpu);
	cpu->cpl = 3;
	flat_seg(&cpu->s.seg[S_CS], (uint16_t)(((cs & 0xfffc) + 16) | 3), true, 3);
	flat_seg(&cpu->s.seg[S_SS], (uint16_t)(((cs & 0xfffc) + 24) | 3), false, 3);
	cpu->s.gpr[R_SP] = (uint32_t)cpu->s.gpr[R_CX];
	cpu->next_rip = (uint32_t)cpu->s.gpr[R_DX];
	cpu_update_mode(cpu);
}
