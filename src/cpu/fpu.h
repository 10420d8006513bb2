/* The x87 FPU's state model (Intel SDM vol. 1, chapter 8): the register
 * stack, status and control words, tags, instruction and data pointers and
 * the pending-exception rules, kept directly in the architectural state's
 * FXSAVE image (state.h), so there is nothing to synchronise with other
 * engines. Arithmetic runs on the host's own x87 (fpu.c), which makes
 * results, rounding and exception flags those of the host CPU. */
#ifndef V2E_CPU_FPU_H
#define V2E_CPU_FPU_H

#include "cpu/vcpu.h"

/* Offsets in the FXSAVE image (SDM vol. 1, table 10-2, 32-bit format). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4   /* abridged: bit i set = physical register i not empty */
#define FX_FOP 6
#define FX_FIP 8
#define FX_FCS 12
#define FX_FDP 16
#define FX_FDS 20
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST0 32  /* ST(i) at FX_ST0 + 16 * i, stack order */
#define FX_XMM0 160

/* Status word */
#define FSW_IE 0x0001
#define FSW_DE 0x0002
#define FSW_ZE 0x0004
#define FSW_OE 0x0008
#define FSW_UE 0x0010
#define FSW_PE 0x0020
#define FSW_EXC 0x003f
#define FSW_SF 0x0040
#define FSW_ES 0x0080
#define FSW_C0 0x0100
#define FSW_C1 0x0200
#define FSW_C2 0x0400
#define FSW_TOP_SHIFT 11
#define FSW_TOP 0x3800
#define FSW_C3 0x4000
#define FSW_B 0x8000

#define FCW_INIT 0x037f

static inline uint16_t fx_get16(const struct cpu *cpu, unsigned off)
{
	uint16_t v;
	memcpy(&v, cpu->s.fxsave + off, 2);
	return v;
}
static inline void fx_set16(struct cpu *cpu, unsigned off, uint16_t v)
{
	memcpy(cpu->s.fxsave + off, &v, 2);
}
static inline uint32_t fx_get32(const struct cpu *cpu, unsigned off)
{
	uint32_t v;
	memcpy(&v, cpu->s.fxsave + off, 4);
	return v;
}
static inline void fx_set32(struct cpu *cpu, unsigned off, uint32_t v)
{
	memcpy(cpu->s.fxsave + off, &v, 4);
}

static inline uint16_t fpu_fcw(const struct cpu *cpu)
{
	return fx_get16(cpu, FX_FCW);
}
static inline uint16_t fpu_fsw(const struct cpu *cpu)
{
	return fx_get16(cpu, FX_FSW);
}

/* Stores a status word with ES and B recomputed from the unmasked
 * exception flags (ES summarises them; B mirrors ES since the 387), and
 * drops FERR# when the error goes away. A new TOP renames the registers:
 * the physical registers keep their contents. */
void fpu_set_fsw(struct cpu *cpu, uint16_t sw);
/* Stores the control word (reserved bits as the hardware keeps them);
 * ES follows the new masks. */
void fpu_set_fcw(struct cpu *cpu, uint16_t cw);

/* The check every waiting x87 instruction and WAIT make first (SDM vol. 1,
 * 8.6 and appendix D): a pending unmasked exception raises #MF when
 * CR0.NE=1; with CR0.NE=0 it asserts FERR# (the platform's IRQ 13) and the
 * instruction goes on as with IGNNE# asserted. */
void fpu_check_pending(struct cpu *cpu);

/* FNINIT: control, status, tags and pointers to their initial values. */
void fpu_init(struct cpu *cpu);

/* Full 2-bit tag word (FSTENV/FSAVE) computed from the abridged tags and
 * the register contents, as the hardware does. */
uint16_t fpu_full_tags(const struct cpu *cpu);
/* Abridged tags from a full tag word: only "empty" (11) survives. */
uint8_t fpu_abridge_tags(uint16_t full);

/* One instruction run on the host's x87: `img` is the guest's x87 state in
 * FXSAVE layout on entry and the result on return; `mem` the memory
 * operand (in and out); `flags` the guest's arithmetic flags for FCMOVcc
 * in and FCOMI's out. The host control word and state are restored. */
struct fpu_host {
	uint8_t img[512] __attribute__((aligned(16)));
	uint8_t mem[16];
	uint64_t ax;  /* AH: SF ZF AF PF CF in the LAHF/SAHF layout */
	uint16_t hcw;
	uint16_t held; /* pending unmasked flags kept out of the host */
};
typedef void (*fpu_host_fn)(struct fpu_host *h);
/* The host function for x87 opcode D8+op with register ModRM `modrm`
 * (0xc0-0xff), and for the memory form with ModRM.reg `reg` ([rdi]). */
fpu_host_fn fpu_host_reg(unsigned op, unsigned modrm);
fpu_host_fn fpu_host_mem(unsigned op, unsigned reg);

/* Runs `fn` on the guest state and returns the exception flags the
 * instruction raised that are unmasked; the guest state is untouched
 * until fpu_host_commit() merges the new status, tags and registers, so
 * a store may fault in between. */
unsigned fpu_host_run(struct cpu *cpu, fpu_host_fn fn, struct fpu_host *h);
void fpu_host_commit(struct cpu *cpu, const struct fpu_host *h);

#endif
