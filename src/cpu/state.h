/* The architectural state of one x86 vCPU.
 *
 * This is the contract between execution engines (DESIGN.md, "Engines and
 * V2E"): any engine loads it, runs, and stores it back, so that another
 * engine can continue from it. Every field maps one to one onto what KVM's
 * GET/SET_REGS, SREGS, FPU/XSAVE, MSRS and VCPU_EVENTS carry. Arithmetic
 * flags are always materialized in rflags here; the emulator keeps them lazy
 * only inside a run. */
#ifndef V2E_CPU_STATE_H
#define V2E_CPU_STATE_H

#include <stdint.h>

enum x86_gpr {
	R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI,
	R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15,
};

enum x86_sreg { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NR };

/* Segment access rights in the VMX "access rights" layout, which is also
 * descriptor bits 40-55 shifted down by 8: kvm_segment's fields unpack it. */
#define AR_TYPE_MASK 0x000f
#define AR_TYPE_ACCESSED 0x0001
#define AR_TYPE_WRITABLE 0x0002 /* data */
#define AR_TYPE_READABLE 0x0002 /* code */
#define AR_TYPE_EXPDOWN 0x0004  /* data */
#define AR_TYPE_CONFORMING 0x0004 /* code */
#define AR_TYPE_CODE 0x0008
#define AR_S 0x0010 /* code/data rather than system */
#define AR_DPL_SHIFT 5
#define AR_DPL_MASK 0x0060
#define AR_P 0x0080
#define AR_AVL 0x1000
#define AR_L 0x2000
#define AR_DB 0x4000
#define AR_G 0x8000
#define AR_UNUSABLE 0x10000

struct x86_segment {
	uint64_t base;
	uint32_t limit; /* byte granular, G already applied */
	uint16_t selector;
	uint16_t pad;
	uint32_t ar;
};

struct x86_dtable {
	uint64_t base;
	uint16_t limit;
};

/* RFLAGS */
#define FL_CF 0x0001
#define FL_FIXED1 0x0002
#define FL_PF 0x0004
#define FL_AF 0x0010
#define FL_ZF 0x0040
#define FL_SF 0x0080
#define FL_TF 0x0100
#define FL_IF 0x0200
#define FL_DF 0x0400
#define FL_OF 0x0800
#define FL_IOPL 0x3000
#define FL_IOPL_SHIFT 12
#define FL_NT 0x4000
#define FL_RF 0x10000
#define FL_VM 0x20000
#define FL_AC 0x40000
#define FL_VIF 0x80000
#define FL_VIP 0x100000
#define FL_ID 0x200000
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* CR0 */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

/* CR4 */
#define CR4_VME 0x0001
#define CR4_PVI 0x0002
#define CR4_TSD 0x0004
#define CR4_DE 0x0008
#define CR4_PSE 0x0010
#define CR4_PAE 0x0020
#define CR4_MCE 0x0040
#define CR4_PGE 0x0080
#define CR4_PCE 0x0100
#define CR4_OSFXSR 0x0200
#define CR4_OSXMMEXCPT 0x0400

/* EFER */
#define EFER_SCE 0x0001
#define EFER_LME 0x0100
#define EFER_LMA 0x0400
#define EFER_NXE 0x0800

/* Exception vectors */
enum x86_vector {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4,
	EXC_BR = 5, EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10,
	EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16,
	EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* MSRs kept in the state (indices as in the SDM) */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_APICBASE 0x1b
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_PAT 0x277
#define MSR_MTRRCAP 0xfe
#define MSR_MTRR_PHYSBASE0 0x200
#define MSR_MTRR_FIX64K 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080

#define X86_MTRR_VAR 8

struct x86_msrs {
	uint64_t tsc_offset; /* guest TSC = virtual clock ticks + tsc_offset */
	uint64_t apic_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t pat;
	uint64_t misc_enable;
	uint64_t mtrr_def_type;
	uint64_t mtrr_fixed[11];
	uint64_t mtrr_var[2 * X86_MTRR_VAR]; /* base, mask pairs */
};

/* Events not yet delivered, as KVM's kvm_vcpu_events carries them. */
struct x86_events {
	uint8_t exception_pending;
	uint8_t exception_vector;
	uint8_t exception_has_error;
	uint8_t nmi_pending;
	uint32_t exception_error;
	uint8_t nmi_masked;      /* inside an NMI handler until IRET */
	uint8_t interrupt_shadow; /* after STI or MOV/POP SS */
	uint8_t halted;
	uint8_t shutdown;         /* triple fault happened */
};

struct x86_state {
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;
	struct x86_segment seg[S_NR];
	struct x86_segment tr, ldtr;
	struct x86_dtable gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer;
	uint64_t dr[8]; /* dr4/dr5 are never stored: they alias dr6/dr7 */
	struct x86_msrs msr;
	struct x86_events ev;
	/* x87/MMX/SSE state in FXSAVE layout, which KVM's kvm_fpu and the
	 * legacy area of its xsave both unpack. */
	uint8_t fxsave[512] __attribute__((aligned(16)));
};

#endif
