/* The vCPU as the engine keeps it: the architectural state (struct
 * x86_state) plus everything derived from it so the fast paths need no
 * recomputation (segment checks, TLB, lazy flags, the decoding mode), and
 * the engine's own bookkeeping. Laid out for the fast paths: what they
 * touch comes first, and generated code reads fields at fixed offsets
 * (offsets.h). Registers are read and written here too, at their
 * operand size. */
#ifndef V2E_CPU_VCPU_H
#define V2E_CPU_VCPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/insn.h"
#include "lib/compiler.h"

#define MEMCHK_DR 0x01
#define MEMCHK_AC 0x02
#define MEMCHK_GDB 0x04 /* a debugger's watchpoint (cpu_set_debug()) */

/* Software TLB: direct-mapped, one table per privilege class (user or
 * supervisor) and per access kind (read, write, execute), so that a copy's
 * source and destination never evict each other. A tag is the linear page
 * when that access may take the fast path; a hit is a compare and an add. */
#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID (~(uint64_t)0)
#define PHYS_CACHE_SIZE 64

struct tlb_entry {
	uint64_t tag;
	uintptr_t addend;    /* host address = linear + addend */
};

/* What the fast path does not need, beside each entry. */
struct tlb_meta {
	uint64_t paddr;      /* physical page */
	uint64_t large_mask; /* offset mask of the large page it came from */
	bool global;
};

/* Beside each direct-mapped table, entries it evicted (kernel code and
 * data 8 MiB apart share an index, and an idle Linux tick touches dozens
 * of such pairs) and translations of pages the fast path cannot use
 * (MMIO such as the local APIC), in a second direct-mapped table indexed
 * by a hash of the page's higher bits too (victim_slot()): a miss looks
 * at one slot there before walking the page tables. Flushed with the
 * TLB; entries keep the A/D bits their walk set, as the TLB's own do. */
#define TLB_VICTIMS 32
struct tlb_victim {
	uintptr_t addend;    /* fast entries: as the TLB's */
	struct tlb_meta meta;
	bool fast;           /* RAM the fast path may use: goes back into the TLB */
};

/* Lazy flags: the last flag-setting operation and its operands, with CF
 * worked out at once (one compare, and what ADC, SBB, INC, DEC and the
 * conditions want most). LF_NONE means rflags holds the arithmetic
 * flags. */
enum lf_kind {
	LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC,
	LF_SHL, LF_SHR, LF_SAR, LF_NEG,
};

struct lazy_flags {
	uint32_t kind;   /* enum lf_kind */
	uint32_t size;   /* operand size in bytes */
	uint64_t res, a, b; /* result and operands, masked to size; for
			     * shifts a is the value shifted, b the count.
			     * LOGIC keeps neither operand, INC and DEC no
			     * operand: their flags need none. */
	uint32_t cf;     /* CF, unless kind is LF_NONE, LF_ADD or LF_SUB,
			  * whose CF is one compare of res, a and b
			  * (lf_cf()) */
};

struct code_cache; /* codecache.c */
struct block;

/* Jump cache: the last block found for a linear CS:RIP, so that most block
 * lookups skip translation and hashing. Cleared whenever a translation may
 * change. */
#define JC_BITS 14
#define JC_SIZE (1u << JC_BITS)
struct jc_entry {
	uint64_t lin;
	uint32_t mode;
	struct block *b;
};

/* Segment cache derived from the descriptor cache: the valid offset range
 * and what may be done through the segment, so a check is two compares. */
struct seg_fast {
	/* The memory fast path's whole check: an access of `size` at `off`
	 * may go without further checks when off + size <= end (0 when only
	 * the full check will do: expand-down, unusable, not permitted);
	 * its linear address is base + off, which outside long mode lies
	 * above 4 GiB, where no TLB tag matches, when it should wrap. */
	uint64_t end_r, end_w, base;
	uint64_t lo, hi;
	uint8_t ok_read, ok_write;
	/* A power-of-two size: indexing the array by segment is a shift. */
	uint8_t pad[64 - 5 * sizeof(uint64_t) - 2];
};
_Static_assert(sizeof(struct seg_fast) == 64, "seg_fast is 64 bytes");

struct cpu {
	uint64_t unused0;
	/* Reads as 0 just before s.gpr[0]: a fast form's effective address
	 * reads an absent base or index (REG_NONE, -1 as a signed byte) from
	 * there without a branch (fast_ea()). */
	uint64_t zero_reg;
	struct x86_state s;
	struct lazy_flags lf;
	struct seg_fast sf[S_NR];
	uint8_t cpl;
	uint8_t code_size;  /* 2, 4 or 8: CS default operand size */
	uint8_t stack_size; /* 2 or 4 (8 in long mode): SS.B */
	uint8_t intr_line;
	uint8_t inhibit_irq; /* interrupt shadow for the next instruction */
#define SHADOW_MOV_SS 1 /* MOV/POP SS: debug traps wait too (KVM's values) */
#define SHADOW_STI 2
	uint8_t delivering; /* nesting depth of exception delivery */
	uint8_t first_exc; /* vector being delivered, for #DF rules */
	uint64_t a20_mask;
	uint64_t next_rip;  /* set before each handler; branches overwrite */
	bool end_block;     /* a handler changed something decoding relies on */
	/* A debugger armed something (cpu_set_debug()): every instruction
	 * takes debug_step(); in the padding beside end_block. */
	bool dbg_armed;
	volatile int exit_request;
	unsigned n_watch; /* words in watch[] (cpu_watch()) */
	/* Steps counted so far; the block running now adds its completed
	 * instructions only when it ends (cpu_icount_now() counts them). */
	uint64_t icount;
	struct block *cur_block;
	uint64_t cur_block_rip;
	/* Block linking (branch_link()): the block to run next without a
	 * lookup, when the chain could not go on into it at once. */
	struct block *next_block;
	/* Linked blocks run straight on from the branch (branch_link())
	 * while chain_room, the instructions the chain may still run without
	 * the run loop, holds the next block: at most the budget left
	 * (icount never passes run_end) and CHAIN_INSNS per run_block(), so
	 * the stack stays bounded where the compiler makes no tail calls.
	 * Raising an interrupt or NMI zeroes it. */
	uint64_t run_end;
	int64_t chain_room;
	/* From here to ras_top: what generated code reads at every block
	 * change and memory access besides the registers and the tables,
	 * kept next to them so that a chain touches a few neighbouring
	 * cache lines of the CPU rather than lines 64 KiB and 450 KiB away
	 * (after the TLB and the jump cache, where they were, the vmm spent
	 * a tenth more time on a disk request). */
	/* The table data accesses look up: tlb[cpl == 3][kind], or
	 * tlb_never while mem_checks is armed (tlb_select(), called by
	 * cpu_update_mode(), which follows every change of CPL, and whenever
	 * mem_checks changes). */
	const struct tlb_entry *tlb_data[3];
	uint64_t lin_mask;  /* 32-bit linear addresses outside long mode */
	struct code_cache *cc;
	uint64_t cur_code_page; /* physical page of the running block */
	uint64_t ram_pages;
	uint64_t ip_mask;   /* size_mask(code_size) */
	uint64_t code_limit; /* the CS limit branches check; ~0 in long mode */
	/* Checks every data access must go through the slow path for:
	 * MEMCHK_DR, an enabled data breakpoint in DR7; MEMCHK_AC, alignment
	 * checking (CR0.AM, EFLAGS.AC, CPL 3). Zero keeps the fast path. */
	uint8_t mem_checks;
	/* Segments (bit per x86_sreg) that are flat for data outside long
	 * mode: base 0, expand-up, readable and writable to 4 GiB. Their
	 * accesses need no segment check (a 32-bit offset cannot pass the
	 * limit, and one wrapping past 4 GiB misses every TLB tag). Part of
	 * the decoding mode: blocks use the flat fast forms for them. */
	uint8_t flat_segs;
	/* Return stack: each near CALL's return address and the block it
	 * ended, whose far[LINK_NEXT] then keeps the block at the return
	 * address for RET (branch_return()). Emptied with the code cache. */
#define RAS_SIZE 32
	struct ras_entry {
		uint64_t rip;
		struct block *caller;
	} ras[RAS_SIZE];
	unsigned ras_top;
	/* The instruction running in cur_block whenever anything can look
	 * (a fault, a bus callback, a generic handler): threaded entries that
	 * access memory or may fault store it first; pure register forms
	 * cannot be observed and skip the store. After the block, one past
	 * the last instruction that completed. */
	const struct insn *cur_insn;
	struct block *part_block; /* room for a block cut short by the budget */
	jmp_buf fault_jmp;
	struct cpu_bus bus;
	struct cpu_model model;
	/* The bus's answers for RAM pages (ram_page()), by physical page:
	 * page walks read the same few page-table pages over and over. Like
	 * the TLB's host offsets, they hold while the bus's RAM stays put;
	 * emptied with the TLB. [write?][index] */
	struct phys_cache_entry {
		uint64_t page;
		uint8_t *host;
	} phys_cache[2][PHYS_CACHE_SIZE];
	struct tlb_entry tlb[2][3][TLB_SIZE]; /* [user?][access kind][index] */
	struct tlb_meta tlb_meta[2][3][TLB_SIZE];
	struct jc_entry jc[JC_SIZE];
	uint8_t dr_pending;  /* data breakpoints hit by this instruction */
	bool skip_tf_trap;   /* the instruction itself cleared or set TF */
	uint8_t fault_vector;
	uint32_t fault_error;
	/* -d logging (cpu_set_log()): the items reported and where to. */
	unsigned log_mask;
	struct cpu_log_sink log;
	/* The native code generator (jit.c), or NULL when off. */
	struct jit *jit;
	/* A debugger's breakpoints, watchpoints and step (cpu_set_debug());
	 * at the end, away from what the fast path touches. */
	struct cpu_debug dbg;
	bool dbg_resume;   /* the next instruction skips its breakpoint check */
	bool dbg_in_step;  /* an instruction runs under debug_step() */
	bool dbg_watch_hit; /* ... and touched a watched range */
	struct cpu_debug_stop dbg_stop;
	/* The TLB's victims (translate_fill()), [user?][access kind], with
	 * their tags (linear page, or TLB_INVALID) apart. */
	uint64_t tlb_victim_tag[2][3][TLB_VICTIMS];
	struct tlb_victim tlb_victim[2][3][TLB_VICTIMS];
	/* The TLB entries filled since the last flush of the non-global
	 * ones (indices into tlb[0][0]), so that a CR3 write visits those
	 * instead of all 6,144; past TLB_FILLED_MAX, it visits all. */
#define TLB_FILLED_MAX 512
	uint16_t tlb_filled[TLB_FILLED_MAX];
	unsigned tlb_filled_n; /* TLB_FILLED_MAX + 1: more were filled */
	/* The 4 MiB regions (linear address bits 22-31) holding a large
	 * page some TLB entry came from since the last flush of the global
	 * ones, and whether one was larger than 4 MiB: INVLPG elsewhere
	 * needs to look at its own slots only (a large page is cached
	 * under each of its 4 KiB parts, at any index). */
	uint64_t tlb_large_regions[1024 / 64];
	bool tlb_large_huge;
	/* Words another process sets when it wants the run loop
	 * (cpu_watch()). */
	const volatile uint32_t *watch[CPU_MAX_WATCH];
};


/* ---- registers ---- */

static inline __attribute__((always_inline)) uint64_t size_mask(unsigned size)
{
	/* A load, not a branch: this is on every operand's path. */
	static const uint64_t masks[16] = {
		[1] = 0xff, [2] = 0xffff, [4] = 0xffffffffull, [8] = ~(uint64_t)0,
	};
	return masks[size & 15];
}

/* Reads a general register at an operand size; byte registers 4-7 are
 * AH..BH unless a REX prefix is present. */
static inline __attribute__((always_inline)) uint64_t reg_read(const struct cpu *cpu, const struct insn *in,
				unsigned r, unsigned size)
{
	if (size == 1) {
		if (r >= 4 && r < 8 && !(in->flags & INSN_REXB8))
			return (cpu->s.gpr[r - 4] >> 8) & 0xff;
		return cpu->s.gpr[r] & 0xff;
	}
	return cpu->s.gpr[r] & size_mask(size);
}

/* Writes a register: 8- and 16-bit writes merge, 32-bit writes
 * zero-extend to 64 bits as in long mode (harmless outside it). */
static inline __attribute__((always_inline)) void reg_write(struct cpu *cpu, const struct insn *in,
			     unsigned r, unsigned size, uint64_t v)
{
	uint64_t *p;
	switch (size) {
	case 1:
		if (r >= 4 && r < 8 && !(in->flags & INSN_REXB8)) {
			p = &cpu->s.gpr[r - 4];
			*p = (*p & ~(uint64_t)0xff00) | ((v & 0xff) << 8);
		} else {
			p = &cpu->s.gpr[r];
			*p = (*p & ~(uint64_t)0xff) | (v & 0xff);
		}
		break;
	case 2:
		p = &cpu->s.gpr[r];
		*p = (*p & ~(uint64_t)0xffff) | (v & 0xffff);
		break;
	case 4:
		cpu->s.gpr[r] = (uint32_t)v;
		break;
	default:
		cpu->s.gpr[r] = v;
	}
}

#endif
