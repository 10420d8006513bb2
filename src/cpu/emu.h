/* Internals shared by the emulator's files: the vCPU struct, the decoded
 * instruction record, the handler signature, memory access, lazy flags and
 * faults. Nothing outside src/cpu includes this. */
#ifndef V2E_CPU_EMU_H
#define V2E_CPU_EMU_H

#include <setjmp.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu/cpu.h"
#include "lib/compiler.h"

struct cpu;
struct insn;

/* One signature for every instruction. */
typedef void (*insn_fn)(struct cpu *cpu, const struct insn *in);

/* A decoded instruction: produced once, cached per guest-physical page,
 * executed many times. Operands are resolved to register numbers and a
 * uniform base + index*scale + disp memory form. */
struct insn {
	insn_fn fn;      /* the handler, run with s.rip and next_rip set */
	insn_fn run;     /* threaded entry: a fast form, or a thunk to fn */
	uint8_t len;
	uint8_t opsize;  /* 1, 2, 4 or 8 bytes (1 for byte forms) */
	uint8_t adsize;  /* 2, 4 or 8 */
	uint8_t seg;     /* segment of the memory operand (x86_sreg) */
	uint8_t mod;     /* ModRM.mod: 3 means the r/m operand is a register */
	uint8_t reg;     /* ModRM.reg with REX.R, or the opcode's register */
	uint8_t rm;      /* ModRM.rm with REX.B (register form) */
	uint8_t base;    /* memory: base register or REG_NONE */
	uint8_t index;   /* memory: index register or REG_NONE */
	uint8_t scale;   /* memory: index shift 0..3 */
	uint8_t rep;     /* 0, PFX_REP (F3) or PFX_REPNE (F2) */
	uint8_t flags;   /* INSN_* below */
	uint8_t opcode;  /* the last opcode byte */
	uint8_t modrm;   /* the raw ModRM byte */
	uint8_t rex;
	uint8_t sse_pfx; /* 0, 0x66, 0xf3 or 0xf2: the mandatory-prefix class */
	int32_t disp;
	uint8_t op;      /* enum op_id (ops.h): what the instruction does */
	uint8_t form;    /* enum insn_form (ops.h): which entry runs it */
	uint16_t off;    /* offset from the start of its block */
	/* Immediate, sign- or zero-extended as the form says; a far
	 * pointer's selector or ENTER's level above bit 32 (insn_imm2()). */
	uint64_t imm;
};

static inline uint16_t insn_imm2(const struct insn *in)
{
	return (uint16_t)(in->imm >> 32);
}

#define REG_NONE 0xff
#define PFX_REP 1
#define PFX_REPNE 2

#define INSN_LOCK 0x01   /* LOCK prefix present */
#define INSN_REXB8 0x02  /* a REX prefix: byte regs 4-7 are SPL..DIL */
#define INSN_SEGOVR 0x04 /* explicit segment override */
#define INSN_ADDR_OVR 0x08
#define INSN_END 0x10    /* the block ends after this instruction */
#define INSN_FUSED 0x20  /* run also does the next instruction (a Jcc) */
#define INSN_NOFLAGS 0x40 /* run is the entry that leaves dead flags alone */

#define MEMCHK_DR 0x01
#define MEMCHK_AC 0x02
#define MEMCHK_GDB 0x04 /* a debugger's watchpoint (cpu_set_debug()) */

/* Opcode table entries (optable.c): one static table indexed by map and
 * opcode, with ModRM.reg sub-tables for the groups. */
enum {
	OPF_MODRM = 1u << 0,
	OPF_IMM8 = 1u << 1,    /* imm8, sign-extended to operand size */
	OPF_IMM8U = 1u << 2,   /* imm8, zero-extended */
	OPF_IMM16 = 1u << 3,
	OPF_IMMZ = 1u << 4,    /* 16 or 32 by operand size (32 sign-extends in 64) */
	OPF_IMMV = 1u << 5,    /* 16, 32 or 64 by operand size (MOV r, imm) */
	OPF_MOFFS = 1u << 6,   /* address-size offset (MOV AL, moffs) */
	OPF_FARPTR = 1u << 7,  /* offset (16/32) then selector */
	OPF_ENTER = 1u << 8,   /* imm16 then imm8 */
	OPF_BYTE = 1u << 9,    /* operand size 1 */
	OPF_LOCK = 1u << 10,   /* LOCK allowed with a memory destination */
	OPF_END = 1u << 11,    /* ends a decoded block (branches, mode changes) */
	OPF_MEM = 1u << 12,    /* ModRM must name memory, else #UD */
	OPF_NO64 = 1u << 13,   /* #UD in 64-bit mode */
	OPF_DEF64 = 1u << 14,  /* operand size defaults to 64 in 64-bit mode */
	OPF_GROUP = 1u << 15,  /* entry is a group: sub-table by ModRM.reg */
	OPF_REGOP = 1u << 16,  /* register in the low 3 opcode bits */
	OPF_REG = 1u << 17,    /* ModRM must name a register, else #UD */
	OPF_SSE = 1u << 18,    /* 66/F2/F3 select the form, not the sizes */
	OPF_MODREG = 1u << 19, /* ModRM.mod ignored: r/m is always a register */
};

struct op_entry {
	uint8_t op;      /* enum op_id: its handler and facts are op_info's */
	uint32_t flags;
	const struct op_entry *group; /* 8 entries when OPF_GROUP */
};

/* map 0: one-byte opcodes; map 1: 0F xx. */
extern const struct op_entry optable[2][256];
/* One-byte opcodes whose 64-bit-mode meaning replaces map 0's. */
extern const struct op_entry optable64[256];

enum { FAST_ANY, FAST_REG, FAST_MEM };
struct fast_form {
	uint8_t op;     /* enum op_id */
	uint8_t opsize;
	uint8_t kind; /* FAST_ANY, FAST_REG or FAST_MEM */
	insn_fn fast;
	insn_fn threaded; /* its threaded entry (FAST_HANDLER), or NULL */
	insn_fn threaded_b; /* the same for a memory operand without index */
	/* threaded and threaded_b for a segment in flat_segs, or NULL */
	insn_fn flat, flat_b;
};
/* Specialised handlers the decoder substitutes (optable.c); NULL-ended. */
extern const struct fast_form fast_forms[];
/* For a relative branch with a threaded entry, at `off` in its block:
 * puts its target's offset from the block's start in `disp`, or sends it
 * through its thunk when that offset does not fit (insn_branch.c). */
void branch_target_prepare(struct insn *in);

/* Fuses a compare and the Jcc after it, the last two instructions of a
 * block: `cmp`'s threaded entry does both (INSN_FUSED). Leaves them alone
 * unless the pair has a fused form (insn_branch.c). */
void insn_fuse_jcc(struct insn *cmp, const struct insn *jcc);

/* Over a decoded block: where the arithmetic flags an instruction sets
 * are overwritten before anything can see them (a reader, a fault, the
 * block's end), swaps in a threaded entry that leaves them alone, if the
 * form has one, and the full entry elsewhere, so that a block cut short
 * is redone with its new end (optable.c). */
void block_drop_dead_flags(struct insn *ins, unsigned n);

/* Swaps in the fast form of a decoded instruction and its threaded entry
 * (run), if it has one; run stays NULL otherwise. `code` is the decoding
 * mode's default size (2, 4 or 8); `mem`, whether ModRM names memory;
 * `flat`, whether its segment is one of flat_segs. */
void fast_form_select(struct insn *in, unsigned code, bool mem, bool flat);

/* ---- the vCPU ---- */

/* Software TLB: direct-mapped, one table per privilege class (user or
 * supervisor) and per access kind (read, write, execute), so that a copy's
 * source and destination never evict each other. A tag is the linear page
 * when that access may take the fast path; a hit is a compare and an add. */
#define TLB_BITS 8
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
	/* The table data accesses look up: tlb[cpl == 3][kind], or
	 * tlb_never while mem_checks is armed (tlb_select(), called by
	 * cpu_update_mode(), which follows every change of CPL, and whenever
	 * mem_checks changes). */
	const struct tlb_entry *tlb_data[3];
	uint64_t lin_mask;  /* 32-bit linear addresses outside long mode */
	struct code_cache *cc;
	uint64_t ram_pages;
	uint64_t ip_mask;   /* size_mask(code_size) */
	uint64_t code_limit; /* the CS limit branches check; ~0 in long mode */
	struct jc_entry jc[JC_SIZE];
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
	uint8_t dr_pending;  /* data breakpoints hit by this instruction */
	bool skip_tf_trap;   /* the instruction itself cleared or set TF */
	uint8_t fault_vector;
	uint32_t fault_error;
	/* Return stack: each near CALL's return address and the block it
	 * ended, whose far[LINK_NEXT] then keeps the block at the return
	 * address for RET (branch_return()). Emptied with the code cache. */
#define RAS_SIZE 32
	struct ras_entry {
		uint64_t rip;
		struct block *caller;
	} ras[RAS_SIZE];
	unsigned ras_top;
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
};

/* ---- faults: unwind to the instruction boundary ---- */

/* Raises an exception from inside an instruction: the instruction has no
 * effect beyond what it already committed, and cpu_run() delivers it. */
__attribute__((noreturn)) void cpu_fault(struct cpu *cpu, int vector,
					 uint32_t error);
__attribute__((noreturn)) void cpu_fault_noerr(struct cpu *cpu, int vector);
#define UD(cpu) cpu_fault_noerr(cpu, EXC_UD)
#define GP0(cpu) cpu_fault(cpu, EXC_GP, 0)

/* Delivers an interrupt or exception through the IVT/IDT (intr.c).
 * `kind`: INTR_EXT (hardware, NMI), INTR_SOFT (INT n: DPL checked),
 * INTR_SOFT_EXC (INT3, INTO: DPL checked, not IOPL-sensitive), INTR_EXC
 * (exception; error code pushed when has_err). `return_rip` is the EIP
 * pushed (or saved in the TSS); a fault during delivery still reports
 * cpu->s.rip, the instruction or boundary the event belongs to. */
enum intr_kind { INTR_EXT, INTR_SOFT, INTR_EXC, INTR_SOFT_EXC };

/* CPU_LOG_UNIMP: `in` (opcode `opcode`, 0x0fXX in the two-byte map) has
 * no implementation here and raises #UD. Call with the bit set only. */
void cpu_log_no_insn(struct cpu *cpu, const struct insn *in, unsigned opcode);
void intr_deliver(struct cpu *cpu, int vector, enum intr_kind kind,
		  bool has_err, uint32_t error, uint64_t return_rip);

/* ---- modes ---- */

static inline bool cpu_pe(const struct cpu *cpu)
{
	return cpu->s.cr0 & CR0_PE;
}
static inline bool cpu_vm86(const struct cpu *cpu)
{
	return cpu->s.rflags & FL_VM;
}
static inline bool cpu_long64(const struct cpu *cpu)
{
	return cpu->code_size == 8;
}
static inline bool cpu_protected(const struct cpu *cpu)
{
	return cpu_pe(cpu) && !cpu_vm86(cpu);
}

/* Recomputes cpl, code_size, stack_size and seg_fast after a change of
 * CR0, EFER, RFLAGS.VM or a segment register. */
void cpu_update_mode(struct cpu *cpu);
void seg_fast_update(struct cpu *cpu, int sreg);

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

/* ---- memory (mem.c) ---- */

enum access_kind { ACC_READ, ACC_WRITE, ACC_EXEC };

/* Linear-address accesses with paging and the TLB. `user` selects the
 * privilege the page walk checks (CPL 3 data accesses; implicit system
 * accesses such as descriptor-table reads pass false). */
uint64_t lin_read(struct cpu *cpu, uint64_t lin, unsigned size, bool user);
void lin_write(struct cpu *cpu, uint64_t lin, unsigned size, uint64_t v,
	       bool user);
/* Translates for an access or faults (#PF): returns the physical address. */
uint64_t lin_translate(struct cpu *cpu, uint64_t lin, enum access_kind k,
		       bool user);
/* Host pointer for a code fetch of the page holding `lin` (filling the
 * TLB), or NULL if that page is not RAM (fetch goes byte by byte). */
const uint8_t *lin_fetch_page(struct cpu *cpu, uint64_t lin,
			      uint64_t *paddr);

void tlb_flush(struct cpu *cpu, bool include_global);
static inline void jump_cache_clear(struct cpu *cpu)
{
	memset(cpu->jc, 0, sizeof(cpu->jc));
}

static inline __attribute__((always_inline)) struct tlb_entry *tlb_entry_for(struct cpu *cpu, uint64_t lin,
					      int kind, bool user)
{
	return &cpu->tlb[user][kind][(lin >> 12) & (TLB_SIZE - 1)];
}

static inline __attribute__((always_inline)) struct tlb_meta *tlb_meta_for(struct cpu *cpu, uint64_t lin,
					    int kind, bool user)
{
	return &cpu->tlb_meta[user][kind][(lin >> 12) & (TLB_SIZE - 1)];
}

/* Host address of `lin` if the TLB already allows this access through the
 * fast path (and no breakpoint or alignment check applies), NULL
 * otherwise. */
static inline uint8_t *tlb_host_ptr(struct cpu *cpu, uint64_t lin, int kind)
{
	const struct tlb_entry *e = tlb_entry_for(cpu, lin, kind, cpu->cpl == 3);
	if (e->tag != (lin & ~(uint64_t)0xfff) || cpu->mem_checks)
		return NULL;
	return (uint8_t *)(uintptr_t)(lin + e->addend);
}
void tlb_flush_page(struct cpu *cpu, uint64_t lin);
/* Forces writes to a physical page back through the slow path (the page
 * now holds decoded code). */
void tlb_drop_writes_to(struct cpu *cpu, uint64_t paddr_page);

/* Physical-address accesses (page walks, DMA-like emulator accesses). */
uint64_t phys_read(struct cpu *cpu, uint64_t paddr, unsigned size);
void phys_write(struct cpu *cpu, uint64_t paddr, unsigned size, uint64_t v);

/* Segment:offset -> linear, with the limit and type checks of the current
 * mode: #GP(0), or #SS(0) for SS. */
static inline uint64_t seg_linear(struct cpu *cpu, int sreg, uint64_t off,
				  unsigned size, bool write)
{
	const struct seg_fast *f = &cpu->sf[sreg];
	if (unlikely(off < f->lo || off + (size - 1) > f->hi ||
		     !(write ? f->ok_write : f->ok_read)))
		cpu_fault(cpu, sreg == S_SS ? EXC_SS : EXC_GP, 0);
	return cpu->s.seg[sreg].base + off;
}

void dr_check_data(struct cpu *cpu, uint64_t lin, unsigned size, bool write);
/* A debugger's watchpoints (MEMCHK_GDB). */
void cpu_debug_check_data(struct cpu *cpu, uint64_t lin, unsigned size,
			  bool write);

/* Points tlb_data at the tables the fast path may use at this CPL: none
 * while mem_checks is armed. */
void tlb_select(struct cpu *cpu);

/* Alignment checking is armed at CPL 3 with CR0.AM and EFLAGS.AC (SDM vol.
 * 3, 6.15 "#AC"); recomputed whenever one of the three changes. */
static inline void cpu_ac_update(struct cpu *cpu)
{
	bool ac = (cpu->s.cr0 & CR0_AM) && (cpu->s.rflags & FL_AC) &&
		  cpu->cpl == 3;
	uint8_t m = (uint8_t)((cpu->mem_checks & ~MEMCHK_AC) |
			      (ac ? MEMCHK_AC : 0));
	if (m != cpu->mem_checks) {
		cpu->mem_checks = m;
		tlb_select(cpu);
	}
}

static inline bool cpu_user_access(const struct cpu *cpu)
{
	return cpu->cpl == 3;
}

/* Unaligned little-endian loads and stores of guest RAM; constant sizes
 * so each becomes one move. */
static inline __attribute__((always_inline)) uint64_t host_load(const uint8_t *p, unsigned size)
{
	uint16_t w;
	uint32_t d;
	uint64_t q;
	switch (size) {
	case 1: return *p;
	case 2: memcpy(&w, p, 2); return w;
	case 4: memcpy(&d, p, 4); return d;
	default: memcpy(&q, p, 8); return q;
	}
}

static inline __attribute__((always_inline)) void host_store(uint8_t *p, unsigned size, uint64_t v)
{
	uint16_t w = (uint16_t)v;
	uint32_t d = (uint32_t)v;
	switch (size) {
	case 1: *p = (uint8_t)v; break;
	case 2: memcpy(p, &w, 2); break;
	case 4: memcpy(p, &d, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

/* The fast path of every data access: the segment check as one compare
 * (seg_fast.end_*), the TLB of the current privilege and access kind, and
 * one tag compare on the page of the access's last byte, which also sends
 * page-crossing accesses to the slow path. On success *host is where the
 * access goes; otherwise the full path must decide. */
/* The TLB half of the fast path: the entry for linear `lin` in the table
 * of this privilege and access kind, hit when its tag is the page of the
 * access's last byte (a page-crossing access misses). */
static inline __attribute__((always_inline)) bool tlb_fast(struct cpu *cpu, uint64_t lin,
			    unsigned size, int kind, uint8_t **host)
{
	/* The entry's byte offset straight from the address: one shift and
	 * one mask. */
	const struct tlb_entry *e = (const struct tlb_entry *)(const void *)
		((const char *)cpu->tlb_data[kind] +
		 ((lin >> (12 - 4)) & ((TLB_SIZE - 1) << 4)));
	_Static_assert(sizeof(struct tlb_entry) == 16, "tlb_entry is 16 bytes");
	if (unlikely(e->tag != ((lin + size - 1) & ~(uint64_t)0xfff)))
		return false;
	*host = (uint8_t *)(uintptr_t)(lin + e->addend);
	return true;
}

static inline __attribute__((always_inline)) bool mem_fast(struct cpu *cpu, int sreg, uint64_t off,
			    unsigned size, int kind, uint8_t **host)
{
	const struct seg_fast *f = &cpu->sf[sreg];
	if (unlikely(off + size > (kind == ACC_WRITE ? f->end_w : f->end_r)))
		return false;
	return tlb_fast(cpu, f->base + off, size, kind, host);
}

/* mem_fast() for a segment in flat_segs: `lin` is the 32-bit offset,
 * which is the linear address; only the TLB decides (an access wrapping
 * past 4 GiB misses every tag). */
static inline __attribute__((always_inline)) bool mem_fast_flat(struct cpu *cpu, uint32_t lin,
				 unsigned size, int kind, uint8_t **host)
{
	return tlb_fast(cpu, lin, size, kind, host);
}

/* One of the two, chosen by a constant `flat` (threaded entries). */
static inline __attribute__((always_inline)) bool mem_fast_as(struct cpu *cpu, int sreg, uint64_t off,
			       unsigned size, int kind, uint8_t **host, bool flat)
{
	if (flat)
		return mem_fast_flat(cpu, (uint32_t)off, size, kind, host);
	return mem_fast(cpu, sreg, off, size, kind, host);
}

/* The fast path of a 32-bit stack slot at `sp` (SS.B set): the threaded
 * PUSH, POP, CALL and RET; anything else takes their full path. */
static inline __attribute__((always_inline)) bool stack32_fast(struct cpu *cpu, uint32_t sp,
				int kind, uint8_t **host)
{
	return cpu->stack_size == 4 && mem_fast(cpu, S_SS, sp, 4, kind, host);
}

/* The full paths (mem.c): segment checks, page walk, MMIO, faults. */
uint64_t mem_read_slow(struct cpu *cpu, int sreg, uint64_t off, unsigned size);
void mem_write_slow(struct cpu *cpu, int sreg, uint64_t off, unsigned size,
		    uint64_t v);

static inline __attribute__((always_inline)) uint64_t mem_read(struct cpu *cpu, int sreg, uint64_t off,
				unsigned size)
{
	uint8_t *p;
	if (likely(mem_fast(cpu, sreg, off, size, ACC_READ, &p)))
		return host_load(p, size);
	return mem_read_slow(cpu, sreg, off, size);
}

static inline __attribute__((always_inline)) void mem_write(struct cpu *cpu, int sreg, uint64_t off,
			     unsigned size, uint64_t v)
{
	uint8_t *p;
	if (likely(mem_fast(cpu, sreg, off, size, ACC_WRITE, &p))) {
		host_store(p, size, v);
		return;
	}
	mem_write_slow(cpu, sreg, off, size, v);
}

/* Checks that a write of `size` at seg:off would succeed (segment and page
 * permissions) without writing: read-modify-write instructions and
 * multi-part stores probe first so a fault leaves memory untouched. */
void mem_probe_write(struct cpu *cpu, int sreg, uint64_t off, unsigned size);

/* ---- operands ---- */

/* Effective address of the ModRM memory operand (offset in in->seg). */
static inline __attribute__((always_inline)) uint64_t insn_ea(const struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = (uint64_t)(int64_t)in->disp;
	if (in->base != REG_NONE)
		ea += in->base == 16 ? cpu->next_rip : cpu->s.gpr[in->base];
	if (in->index != REG_NONE)
		ea += cpu->s.gpr[in->index] << in->scale;
	return ea & size_mask(in->adsize);
}

/* The general registers as an array whose index -1 (REG_NONE as a signed
 * byte) reads zero_reg: fast forms read an absent base or index without a
 * branch. */
static inline __attribute__((always_inline)) const uint64_t *gpr_or_zero(const struct cpu *cpu)
{
	return (const uint64_t *)(const void *)
		((const char *)cpu + offsetof(struct cpu, s.gpr));
}

/* insn_ea() for fast forms, without branches. Fast forms with a memory
 * operand exist only for the mode's natural address size (32 bits, or 64
 * in long mode), so lin_mask is the address-size mask; and never for
 * RIP-relative operands. */
static inline __attribute__((always_inline)) uint64_t fast_ea(const struct cpu *cpu, const struct insn *in)
{
	const uint64_t *g = gpr_or_zero(cpu);
	return ((uint64_t)(int64_t)in->disp + g[(int8_t)in->base] +
		(g[(int8_t)in->index] << in->scale)) & cpu->lin_mask;
}

/* The same without an index register (fast_form.threaded_b). */
static inline __attribute__((always_inline)) uint64_t fast_ea_b(const struct cpu *cpu, const struct insn *in)
{
	const uint64_t *g = gpr_or_zero(cpu);
	return ((uint64_t)(int64_t)in->disp + g[(int8_t)in->base]) &
	       cpu->lin_mask;
}

/* fast_ea() and fast_ea_b() for 32-bit addressing outside long mode,
 * in 32-bit arithmetic (the flat forms). */
static inline __attribute__((always_inline)) uint32_t flat_ea(const struct cpu *cpu, const struct insn *in)
{
	const uint64_t *g = gpr_or_zero(cpu);
	return (uint32_t)in->disp + (uint32_t)g[(int8_t)in->base] +
	       ((uint32_t)g[(int8_t)in->index] << in->scale);
}

static inline __attribute__((always_inline)) uint32_t flat_ea_b(const struct cpu *cpu, const struct insn *in)
{
	const uint64_t *g = gpr_or_zero(cpu);
	return (uint32_t)in->disp + (uint32_t)g[(int8_t)in->base];
}

/* The r/m operand at a given size: register or memory. */
static inline __attribute__((always_inline)) uint64_t rm_read(struct cpu *cpu, const struct insn *in,
			       unsigned size)
{
	if (in->mod == 3)
		return reg_read(cpu, in, in->rm, size);
	return mem_read(cpu, in->seg, insn_ea(cpu, in), size);
}

static inline __attribute__((always_inline)) void rm_write(struct cpu *cpu, const struct insn *in,
			    unsigned size, uint64_t v)
{
	if (in->mod == 3)
		reg_write(cpu, in, in->rm, size, v);
	else
		mem_write(cpu, in->seg, insn_ea(cpu, in), size, v);
}

/* ---- stack (stack.c) ---- */

void stack_push(struct cpu *cpu, unsigned size, uint64_t v);
/* Multi-part pushes and pops work on a local copy of the stack pointer so
 * that a fault in the middle commits nothing; stack_set_sp() commits. */
void stack_push_at(struct cpu *cpu, uint64_t *sp, unsigned size, uint64_t v);
uint64_t stack_pop_at(struct cpu *cpu, uint64_t *sp, unsigned size);
void stack_set_sp(struct cpu *cpu, uint64_t sp);
/* A stack that is not (yet) SS:SP, such as the inner stack of a privilege
 * change, checked against its own descriptor cache: #SS(err) beyond its
 * limits. Nothing is committed; the caller installs SS and SP after. */
struct stack_view {
	uint64_t base, lo, hi, mask, sp;
	uint32_t err;
	bool user;
};
void stack_view_init(struct stack_view *v, const struct x86_segment *ss,
		     uint64_t sp, uint32_t err, bool user);
void stack_view_push(struct cpu *cpu, struct stack_view *v, unsigned size,
		     uint64_t val);

static inline uint64_t stack_sp(const struct cpu *cpu)
{
	return cpu->s.gpr[R_SP] & size_mask(cpu->stack_size);
}
uint64_t stack_pop(struct cpu *cpu, unsigned size);
/* Reads the value `depth` bytes above the stack pointer without popping. */
uint64_t stack_peek(struct cpu *cpu, unsigned size, unsigned depth);
/* Moves the stack pointer by `delta` at the stack's address size. */
void stack_adjust(struct cpu *cpu, int64_t delta);
static inline uint64_t stack_ptr_mask(const struct cpu *cpu)
{
	return size_mask(cpu->stack_size);
}

/* ---- lazy flags (flags.c) ---- */

/* Records a flag-setting operation. `aux` is the carry-in of ADC/SBB and
 * the CF that INC/DEC keep. Inlined with a constant kind, only that kind's
 * stores and CF rule remain. */
static inline __attribute__((always_inline)) void lf_set(
	struct cpu *cpu, enum lf_kind kind, unsigned size, uint64_t res,
	uint64_t a, uint64_t b, uint32_t aux)
{
	uint64_t m = size_mask(size);
	unsigned width = size * 8;
	bool cf;
	res &= m;
	a &= m;
	b &= m;
	switch (kind) {
	case LF_ADD: cf = res < a; break;
	case LF_ADC: cf = aux ? res <= a : res < a; break;
	case LF_SUB: cf = a < b; break;
	case LF_SBB: cf = aux ? a <= b : a < b; break;
	case LF_INC: case LF_DEC: cf = aux; break;
	case LF_NEG: cf = a != 0; break;
	case LF_SHL: cf = b <= width ? (a >> (width - b)) & 1 : 0; break;
	case LF_SHR: cf = b <= width ? (a >> (b - 1)) & 1 : 0; break;
	case LF_SAR:
		cf = b >= width ? (a >> (width - 1)) & 1 : (a >> (b - 1)) & 1;
		break;
	default: cf = false; break;
	}
	cpu->lf.kind = kind;
	cpu->lf.size = size;
	cpu->lf.res = res;
	if (kind != LF_LOGIC && kind != LF_INC && kind != LF_DEC) {
		cpu->lf.a = a;
		cpu->lf.b = b;
	}
	if (kind != LF_ADD && kind != LF_SUB)
		cpu->lf.cf = cf;
}

/* CF of a lazy state other than LF_NONE. */
static inline __attribute__((always_inline)) bool lf_cf(const struct lazy_flags *f)
{
	if (f->kind == LF_SUB)
		return f->a < f->b;
	if (f->kind == LF_ADD)
		return f->res < f->a;
	return f->cf;
}

static inline __attribute__((always_inline)) bool flag_cf(const struct cpu *cpu)
{
	return cpu->lf.kind == LF_NONE ? (cpu->s.rflags & FL_CF) != 0
				       : lf_cf(&cpu->lf);
}
bool flag_of(const struct cpu *cpu);
bool flag_af(const struct cpu *cpu);
bool flag_pf(const struct cpu *cpu);
static inline __attribute__((always_inline)) bool flag_zf(const struct cpu *cpu)
{
	return cpu->lf.kind == LF_NONE ? (cpu->s.rflags & FL_ZF) != 0
				       : cpu->lf.res == 0;
}
static inline __attribute__((always_inline)) bool flag_sf(const struct cpu *cpu)
{
	return cpu->lf.kind == LF_NONE
		       ? (cpu->s.rflags & FL_SF) != 0
		       : (cpu->lf.res >> (cpu->lf.size * 8 - 1)) & 1;
}
/* Materializes the arithmetic flags into rflags and returns it. */
uint64_t flags_get(struct cpu *cpu);
/* Sets rflags (all bits given by `mask` from `v`); arithmetic flags stop
 * being lazy. Does no privilege checks and no mode update. */
void flags_set(struct cpu *cpu, uint64_t v, uint64_t mask);
/* Evaluates condition code 0..15 (the low nibble of Jcc/SETcc/CMOVcc). */
bool cond_eval(const struct cpu *cpu, unsigned cc);

/* The condition from the lazy state when that takes no call, inline for
 * a constant `cc`: 0 or 1, or -1 when only cond_eval() can tell (OF, or
 * a signed condition, after an operation other than SUB or a logic one).
 * Fast forms go to their full path on -1, so they need no stack frame. */
static inline __attribute__((always_inline)) int cond_try(
	const struct cpu *cpu, unsigned cc)
{
	const struct lazy_flags *f = &cpu->lf;
	unsigned sh;
	bool r, sf;
	if (f->kind == LF_NONE) {
		uint64_t fl = cpu->s.rflags;
		bool of = (fl & FL_OF) != 0, zf = (fl & FL_ZF) != 0;
		sf = (fl & FL_SF) != 0;
		switch (cc >> 1) {
		case 0: r = of; break;
		case 1: r = (fl & FL_CF) != 0; break;
		case 2: r = zf; break;
		case 3: r = (fl & FL_CF) || zf; break;
		case 4: r = sf; break;
		case 5: r = (fl & FL_PF) != 0; break;
		case 6: r = sf != of; break;
		default: r = zf || sf != of; break;
		}
		return r ^ (cc & 1);
	}
	sh = 64 - f->size * 8;
	sf = (int64_t)(f->res << sh) < 0;
	switch (cc >> 1) {
	case 0:
		if (f->kind == LF_SUB)
			r = (int64_t)(((f->a ^ f->b) & (f->a ^ f->res)) << sh) < 0;
		else if (f->kind == LF_LOGIC)
			r = false;
		else
			return -1;
		break;
	case 1: r = lf_cf(f); break;
	case 2: r = f->res == 0; break;
	case 3: r = lf_cf(f) || f->res == 0; break;
	case 4: r = sf; break;
	case 5: r = !__builtin_parity((unsigned)(f->res & 0xff)); break;
	default:
		if (f->kind == LF_SUB)
			r = (int64_t)(f->a << sh) < (int64_t)(f->b << sh);
		else if (f->kind == LF_LOGIC)
			r = sf;
		else
			return -1;
		if (cc >> 1 == 7)
			r = r || f->res == 0;
		break;
	}
	return r ^ (cc & 1);
}

/* cond_try(), or cond_eval() when it cannot tell. */
static inline __attribute__((always_inline)) bool cond_eval_fast(
	const struct cpu *cpu, unsigned cc)
{
	int c = cond_try(cpu, cc);
	return c >= 0 ? c : cond_eval(cpu, cc);
}

/* Materialises the flags, then runs `in` again: the way out of a fast
 * form that needs them in rflags (IMUL), kept out of line so the form
 * needs no stack frame. */
void insn_flags_first(struct cpu *cpu, const struct insn *in);

/* ---- threaded dispatch (cpu.c) ----
 *
 * A block runs as a chain: each instruction's `run` entry does its work
 * and jumps straight to the next one's, with no loop in between. The chain
 * leaves at the block's end (a branch, a handler that sets end_block, or
 * the tail entry after the last instruction) with s.rip set and cur_insn
 * one past the last completed instruction. Fast forms keep no RIP while
 * they run: an instruction's RIP is the block's start plus its `off`,
 * worked out only when something needs it (a fault, a generic handler,
 * which runs through a thunk that sets s.rip and next_rip first). */
void op_thunk(struct cpu *cpu, const struct insn *in);
void op_thunk_end(struct cpu *cpu, const struct insn *in);
void op_block_tail(struct cpu *cpu, const struct insn *in);
/* Leaves the chain after `in` completed (end_block was set). */
void insn_leave(struct cpu *cpu, const struct insn *in);

/* RIP of the instruction after `in`, for fast forms that need it: the
 * next record's offset (the block's tail entry follows the last). */
static inline __attribute__((always_inline)) uint64_t insn_next_rip(const struct cpu *cpu,
				     const struct insn *in)
{
	return (cpu->cur_block_rip + in[1].off) & cpu->ip_mask;
}

/* The target of a relative branch's threaded entry: codecache_get() puts
 * its offset from the block's start in `disp` (branch_target_prepare()),
 * and such entries exist only for the mode's own operand size. */
static inline __attribute__((always_inline)) uint64_t insn_branch_target(const struct cpu *cpu,
					  const struct insn *in)
{
	return (cpu->cur_block_rip + (uint64_t)(int64_t)in->disp) &
	       cpu->ip_mask;
}

static inline __attribute__((always_inline)) void insn_next(struct cpu *cpu, const struct insn *in)
{
	const struct insn *n = in + 1;
	n->run(cpu, n);
}

/* For fast forms that access memory: a slow path may have run a device
 * callback or dropped the running block's code, which sets end_block. */
static inline __attribute__((always_inline)) void insn_next_checked(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(cpu->end_block)) {
		insn_leave(cpu, in);
		return;
	}
	insn_next(cpu, in);
}

/* The slow path of a threaded fast form: the whole instruction again
 * through its handler (fn), then on as after any memory access. It
 * records the instruction in cur_insn first: a fast path that hits RAM
 * through the TLB can neither fault nor reach the bus, so it need not. */
void insn_slow(struct cpu *cpu, const struct insn *in);

/* Fast forms with one memory access of a constant size, written as the
 * operation alone: the threaded entries do the access inline and go on
 * at once (a fast access can end nothing), and leave anything else to
 * insn_slow(). `name` itself is the form's handler (fn), the full path.
 *
 * FAST_LOAD: `void name_op(cpu, in, uint64_t v)` consumes the value read.
 * FAST_STORE: `uint64_t name_val(cpu, in)` gives the value to write.
 * FAST_RMW: `uint64_t name_op(cpu, in, uint64_t a)` maps the old value to
 * the new (the write is probed before the read on the full path). */
#define FAST_MEM_ENTRY(entry, ea_of, is_flat, fast_body)                   \
	void entry(struct cpu *cpu, const struct insn *in)                  \
	{                                                                   \
		const bool flat_ = is_flat;                                 \
		uint64_t ea = ea_of(cpu, in);                               \
		uint8_t *p;                                                 \
		fast_body                                                   \
		insn_slow(cpu, in);                                         \
	}
/* Four threaded entries: _t and _tb (without index), and _tf and _tbf
 * for a segment in flat_segs. The body tests the access with
 * mem_fast_as(..., flat_). */
#define FAST_MEM_ENTRIES(name, fast_body)                                 \
	FAST_MEM_ENTRY(name##_t, fast_ea, false, fast_body)                 \
	FAST_MEM_ENTRY(name##_tb, fast_ea_b, false, fast_body)              \
	FAST_MEM_ENTRY(name##_tf, flat_ea, true, fast_body)                 \
	FAST_MEM_ENTRY(name##_tbf, flat_ea_b, true, fast_body)

#define FAST_LOAD(name, size)                                             \
	static inline __attribute__((always_inline)) void name##_op(      \
		struct cpu *cpu, const struct insn *in, uint64_t v);        \
	void name(struct cpu *cpu, const struct insn *in)                   \
	{                                                                   \
		name##_op(cpu, in,                                          \
			  mem_read(cpu, in->seg, fast_ea(cpu, in), size));  \
	}                                                                   \
	FAST_MEM_ENTRIES(name,                                              \
		if (likely(mem_fast_as(cpu, in->seg, ea, size, ACC_READ, &p, flat_))) { \
			name##_op(cpu, in, host_load(p, size));             \
			insn_next(cpu, in);                                 \
			return;                                             \
		})                                                          \
	static inline __attribute__((always_inline)) void name##_op(      \
		struct cpu *cpu, const struct insn *in, uint64_t v)

#define FAST_STORE(name, size)                                            \
	static inline __attribute__((always_inline)) uint64_t name##_val( \
		struct cpu *cpu, const struct insn *in);                    \
	void name(struct cpu *cpu, const struct insn *in)                   \
	{                                                                   \
		mem_write(cpu, in->seg, fast_ea(cpu, in), size,             \
			  name##_val(cpu, in));                             \
	}                                                                   \
	FAST_MEM_ENTRIES(name,                                              \
		if (likely(mem_fast_as(cpu, in->seg, ea, size, ACC_WRITE, &p, flat_))) { \
			host_store(p, size, name##_val(cpu, in));           \
			insn_next(cpu, in);                                 \
			return;                                             \
		})                                                          \
	static inline __attribute__((always_inline)) uint64_t name##_val( \
		struct cpu *cpu, const struct insn *in)

#define FAST_RMW(name, size)                                              \
	static inline __attribute__((always_inline)) uint64_t name##_op(  \
		struct cpu *cpu, const struct insn *in, uint64_t a);        \
	void name(struct cpu *cpu, const struct insn *in)                   \
	{                                                                   \
		uint64_t ea = fast_ea(cpu, in), a;                          \
		mem_probe_write(cpu, in->seg, ea, size);                    \
		a = mem_read(cpu, in->seg, ea, size);                       \
		mem_write(cpu, in->seg, ea, size, name##_op(cpu, in, a));   \
	}                                                                   \
	FAST_MEM_ENTRIES(name,                                              \
		if (likely(mem_fast_as(cpu, in->seg, ea, size, ACC_WRITE, &p, flat_))) { \
			host_store(p, size,                                 \
				   name##_op(cpu, in, host_load(p, size))); \
			insn_next(cpu, in);                                 \
			return;                                             \
		})                                                          \
	static inline __attribute__((always_inline)) uint64_t name##_op(  \
		struct cpu *cpu, const struct insn *in, uint64_t a)

/* What a threaded entry does first: forms that go on with
 * insn_next_checked touch memory and so may fault or reach the bus, and
 * record themselves as the running instruction; pure register forms
 * (insn_next) do not. */
#define FAST_ENTER_insn_next(cpu, in) ((void)0)
#define FAST_ENTER_insn_next_checked(cpu, in) ((cpu)->cur_insn = (in))

/* Defines a fast form with a memory operand whose effective address the
 * body receives as `ea`: FAST_HANDLER's two handlers, and name_tb, the
 * threaded entry for an operand without index (fast_ea_b()). */
#define FAST_MEM_HANDLER(name, next)                                      \
	static inline __attribute__((always_inline)) void name##_body(    \
		struct cpu *cpu, const struct insn *in, uint64_t ea);       \
	void name(struct cpu *cpu, const struct insn *in)                   \
	{                                                                   \
		name##_body(cpu, in, fast_ea(cpu, in));                     \
	}                                                                   \
	void name##_t(struct cpu *cpu, const struct insn *in)               \
	{                                                                   \
		FAST_ENTER_##next(cpu, in);                                 \
		name##_body(cpu, in, fast_ea(cpu, in));                     \
		next(cpu, in);                                              \
	}                                                                   \
	void name##_tb(struct cpu *cpu, const struct insn *in)              \
	{                                                                   \
		FAST_ENTER_##next(cpu, in);                                 \
		name##_body(cpu, in, fast_ea_b(cpu, in));                   \
		next(cpu, in);                                              \
	}                                                                   \
	static inline __attribute__((always_inline)) void name##_body(    \
		struct cpu *cpu, const struct insn *in, uint64_t ea)

/* Defines a fast form once as two handlers: `name`, run like any handler
 * (s.rip and next_rip set, returns), and `name_t`, its threaded entry,
 * which goes on with `next`: insn_next for a form that only reads and
 * writes registers (it can neither fault nor reach the bus),
 * insn_next_checked otherwise. The body must not read RIP. */
#define FAST_HANDLER(name, next)                                          \
	static inline __attribute__((always_inline)) void name##_body(    \
		struct cpu *cpu, const struct insn *in);                    \
	void name(struct cpu *cpu, const struct insn *in)                   \
	{                                                                   \
		name##_body(cpu, in);                                       \
	}                                                                   \
	void name##_t(struct cpu *cpu, const struct insn *in)               \
	{                                                                   \
		FAST_ENTER_##next(cpu, in);                                 \
		name##_body(cpu, in);                                       \
		next(cpu, in);                                              \
	}                                                                   \
	static inline __attribute__((always_inline)) void name##_body(    \
		struct cpu *cpu, const struct insn *in)

/* ---- misc ---- */

uint64_t cpu_tsc(struct cpu *cpu);
/* icount including the instructions of the running block completed before
 * the current one. */
uint64_t cpu_icount_now(const struct cpu *cpu);
/* DR7 or a debug register changed: re-arms the breakpoint checks. */
void cpu_debug_changed(struct cpu *cpu);
/* Loads a segment register with the protection checks of the current mode
 * (seg.c). `sreg` S_CS is not loaded through here. */
void seg_load(struct cpu *cpu, int sreg, uint16_t sel);
/* Real/v86-mode load: base = sel << 4, limit and attributes kept. */
void seg_load_real(struct cpu *cpu, int sreg, uint16_t sel);

#endif
