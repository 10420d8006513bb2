/* The memory fast path and what stands behind it: a data access is a
 * segment compare, a TLB tag compare and an add, inline in the handler;
 * everything else (limits, paging, MMIO, page crossings, breakpoints,
 * faults) is the out-of-line full path in mem.c. Operands of decoded
 * instructions (effective addresses, r/m) are read and written through
 * here. */
#ifndef V2E_CPU_MEM_H
#define V2E_CPU_MEM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cpu/fault.h"
#include "cpu/vcpu.h"

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
/* After a miss: puts the entry for `lin` back from the TLB's victims
 * (struct tlb_victim), without a page walk. True if the TLB now holds it
 * for the fast path. */
bool tlb_refill(struct cpu *cpu, uint64_t lin, enum access_kind k, bool user);
/* The generated code's TLB miss (jit.c): true when the fast path will now
 * hit for this access (a victim put back, or without paging the page
 * itself, in the table tlb_data points at; `kind` an access_kind or
 * TLB_REFILL_RMW), false when the interpreter must do it (a page walk,
 * MMIO, code on the page of a write, a page-crossing access, a
 * read-modify-write whose read would go elsewhere). Never faults. */
bool tlb_refill_fast(struct cpu *cpu, uint64_t lin, unsigned kind, unsigned size);
/* tlb_refill_fast()'s kind for a read-modify-write: the write's entry,
 * then the read's, as the interpreter translates them. */
#define TLB_REFILL_RMW 3
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

#endif
