/* The structure offsets the generated code (jit.c) bakes into host
 * instructions, in one place, so that a layout change cannot silently
 * make generated code read the wrong field. Offsets inside the small
 * structures the code walks (an instruction record, a block, a TLB entry,
 * a return-stack entry, the lazy flags) are written as numbers and
 * checked against offsetof: moving such a field fails the build until
 * this file, and the code generator that relies on it, are looked at.
 * Offsets into struct cpu follow the struct (its size depends on
 * state.h, the vmm's contract) and are checked to fit the 32-bit
 * displacement of a host instruction. */
#ifndef V2E_CPU_OFFSETS_H
#define V2E_CPU_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/block.h"
#include "cpu/mem.h"
#include "cpu/vcpu.h"

/* struct insn: the threaded entry a jump goes through. */
#define OFF_INSN_run 8
#define INSN_SIZE 48
/* struct block: its links and the records after it. */
#define OFF_BLOCK_link 16
#define OFF_BLOCK_link_rip 32
#define OFF_BLOCK_far 48  /* struct far_link: the block, then the RIP */
#define OFF_FAR_LINK_rip 8
#define FAR_LINK_SIZE 16
#define OFF_BLOCK_paddr 80
#define OFF_BLOCK_mode 88  /* 32 bits */
#define OFF_BLOCK_n 92   /* 16 bits */
#define OFF_BLOCK_valid 94 /* a bool */
#define OFF_BLOCK_insns 96
/* struct tlb_entry: the tag, then the host addend; 2^TLB_BITS of them. */
#define OFF_TLB_ENTRY_addend 8
#define TLB_ENTRY_SIZE 16
/* struct ras_entry: the return address, then the caller's block. */
#define OFF_RAS_ENTRY_caller 8
#define RAS_ENTRY_SIZE 16
/* struct jc_entry: the linear address, then the block; 2^JC_BITS of them. */
#define OFF_JC_ENTRY_b 16
#define JC_ENTRY_SIZE 24
/* struct lazy_flags, from cpu->lf. */
#define OFF_LF_kind 0    /* 32 bits */
#define OFF_LF_size 4    /* 32 bits */
#define OFF_LF_res 8
#define OFF_LF_a 16
#define OFF_LF_b 24
#define OFF_LF_cf 32     /* 32 bits */

_Static_assert(offsetof(struct insn, run) == OFF_INSN_run &&
	       sizeof(struct insn) == INSN_SIZE, "struct insn layout");
_Static_assert(offsetof(struct block, link) == OFF_BLOCK_link &&
	       offsetof(struct block, link_rip) == OFF_BLOCK_link_rip &&
	       offsetof(struct block, far) == OFF_BLOCK_far &&
	       offsetof(struct far_link, rip) == OFF_FAR_LINK_rip &&
	       sizeof(struct far_link) == FAR_LINK_SIZE &&
	       (OFF_BLOCK_far + FAR_LINK_SIZE * LINK_NEXT) / BLOCK_ALIGN ==
		       OFF_BLOCK_paddr / BLOCK_ALIGN &&
	       offsetof(struct block, paddr) == OFF_BLOCK_paddr &&
	       offsetof(struct block, mode) == OFF_BLOCK_mode &&
	       sizeof(((struct block *)0)->mode) == 4 &&
	       offsetof(struct block, valid) == OFF_BLOCK_valid &&
	       sizeof(((struct block *)0)->valid) == 1 &&
	       offsetof(struct block, n) == OFF_BLOCK_n &&
	       sizeof(((struct block *)0)->n) == 2 &&
	       offsetof(struct block, insns) == OFF_BLOCK_insns &&
	       offsetof(struct block, paddr) / BLOCK_ALIGN ==
		       OFF_BLOCK_insns / BLOCK_ALIGN,
	       "struct block layout");
_Static_assert(sizeof(struct tlb_entry) == TLB_ENTRY_SIZE &&
	       offsetof(struct tlb_entry, addend) == OFF_TLB_ENTRY_addend,
	       "the generated TLB lookup indexes entries of 16 bytes");
_Static_assert(sizeof(struct ras_entry) == RAS_ENTRY_SIZE &&
	       offsetof(struct ras_entry, caller) == OFF_RAS_ENTRY_caller,
	       "struct ras_entry layout");
_Static_assert(JC_BITS == 14 && sizeof(struct jc_entry) == JC_ENTRY_SIZE &&
	       offsetof(struct jc_entry, lin) == 0 &&
	       offsetof(struct jc_entry, b) == OFF_JC_ENTRY_b,
	       "the generated jump-cache lookup indexes 2^14 entries of 24 bytes");
_Static_assert(offsetof(struct lazy_flags, kind) == OFF_LF_kind &&
	       offsetof(struct lazy_flags, size) == OFF_LF_size &&
	       offsetof(struct lazy_flags, res) == OFF_LF_res &&
	       offsetof(struct lazy_flags, a) == OFF_LF_a &&
	       offsetof(struct lazy_flags, b) == OFF_LF_b &&
	       offsetof(struct lazy_flags, cf) == OFF_LF_cf,
	       "struct lazy_flags layout");
_Static_assert(sizeof(((struct cpu *)0)->s.gpr[0]) == 8,
	       "guest registers are 8 bytes apart");
_Static_assert(offsetof(struct cpu, s.gpr) ==
		       offsetof(struct cpu, zero_reg) + sizeof(uint64_t),
	       "fast_ea() reads zero_reg as gpr[-1]");

/* Fields of struct cpu the generated code reads or writes. */
#define OFF_CPU_gpr offsetof(struct cpu, s.gpr)
#define OFF_CPU_rflags offsetof(struct cpu, s.rflags)
#define OFF_CPU_lf offsetof(struct cpu, lf)
#define OFF_CPU_stack_size offsetof(struct cpu, stack_size)       /* 8 bits */
#define OFF_CPU_exit_request offsetof(struct cpu, exit_request)   /* 32 bits */
#define OFF_CPU_icount offsetof(struct cpu, icount)
#define OFF_CPU_cur_block offsetof(struct cpu, cur_block)
#define OFF_CPU_cur_block_rip offsetof(struct cpu, cur_block_rip)
#define OFF_CPU_chain_room offsetof(struct cpu, chain_room)
#define OFF_CPU_tlb_data offsetof(struct cpu, tlb_data)
#define OFF_CPU_code_limit offsetof(struct cpu, code_limit)
#define OFF_CPU_ras offsetof(struct cpu, ras)
#define OFF_CPU_ras_top offsetof(struct cpu, ras_top)            /* 32 bits */
#define OFF_CPU_jc offsetof(struct cpu, jc)
#define OFF_CPU_cpl offsetof(struct cpu, cpl)                    /* 8 bits */
#define OFF_CPU_code_size offsetof(struct cpu, code_size)        /* 8 bits */
#define OFF_CPU_flat_segs offsetof(struct cpu, flat_segs)        /* 8 bits */
#define OFF_CPU_cur_code_page offsetof(struct cpu, cur_code_page)
#define OFF_CPU_cs_base offsetof(struct cpu, s.seg[S_CS].base)
/* The supervisor's execute TLB (far links followed below CPL 3): its
 * entries, and the physical page of each (struct tlb_meta, 24 bytes). */
#define OFF_CPU_tlb_exec offsetof(struct cpu, tlb[0][ACC_EXEC])
#define OFF_CPU_tlb_meta_exec offsetof(struct cpu, tlb_meta[0][ACC_EXEC])
#define TLB_META_SIZE 24

_Static_assert(sizeof(((struct cpu *)0)->stack_size) == 1 &&
	       sizeof(((struct cpu *)0)->exit_request) == 4 &&
	       sizeof(((struct cpu *)0)->ras_top) == 4 &&
	       sizeof(((struct cpu *)0)->chain_room) == 8 &&
	       sizeof(((struct cpu *)0)->icount) == 8 &&
	       sizeof(((struct cpu *)0)->cpl) == 1 &&
	       sizeof(((struct cpu *)0)->s.seg[0].base) == 8 &&
	       sizeof(((struct cpu *)0)->code_size) == 1 &&
	       sizeof(((struct cpu *)0)->flat_segs) == 1 &&
	       sizeof(struct tlb_meta) == TLB_META_SIZE &&
	       offsetof(struct tlb_meta, paddr) == 0,
	       "the sizes the generated code accesses these fields at");
/* Every field above is reached as [rdi + disp32]. */
_Static_assert(sizeof(struct cpu) <= INT32_MAX,
	       "struct cpu fits a 32-bit displacement");

/* As displacements: cpu fields, and fields of a block or a record. */
#define CPU_OFF(f) ((int32_t)OFF_CPU_##f)
#define GPR_OFF(g) ((int32_t)(OFF_CPU_gpr + 8 * (unsigned)(g)))
#define LF_OFF(f) ((int32_t)(OFF_CPU_lf + OFF_LF_##f))
#define RFLAGS_OFF CPU_OFF(rflags)
#define TLBD_OFF(k) ((int32_t)(OFF_CPU_tlb_data + 8 * (k)))
#define BLOCK_OFF(f) ((int32_t)OFF_BLOCK_##f)
#define RUN_OFF ((int32_t)OFF_INSN_run)

#endif
