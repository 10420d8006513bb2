/* The decoded-code cache: blocks of decoded instructions keyed by the
 * guest-physical address they start at and the decoding mode, dropped when
 * their page is written. */
#ifndef V2E_CPU_CODECACHE_H
#define V2E_CPU_CODECACHE_H

#include "cpu/block.h"
#include "cpu/insn.h"
#include "cpu/mem.h"
#include "cpu/mode.h"
#include "cpu/vcpu.h"

/* Goes on from the running block into `nb` when the budget allows all of
 * it and nothing wants the run loop; otherwise leaves it to the run loop
 * as the next block. The branch ended its block: all of it is done, and
 * s.rip and cur_insn need no update until something looks (cur_insn). */
static inline __attribute__((always_inline)) void block_chain(
	struct cpu *cpu, const struct insn *in, struct block *nb,
	uint64_t target)
{
	struct block *b = cpu->cur_block;
	if (likely(nb->n <= cpu->chain_room && !cpu->exit_request)) {
		cpu->chain_room -= nb->n;
		cpu->icount += b->n;
		cpu->cur_block = nb;
		cpu->cur_block_rip = target;
		nb->insns[0].run(cpu, nb->insns);
		return;
	}
	cpu->s.rip = target;
	cpu->cur_insn = in + 1;
	cpu->next_block = nb;
}

/* A branch without a link to its target: the jump cache's block. */
void branch_unlinked(struct cpu *cpu, const struct insn *in, uint64_t target,
		     unsigned slot);

/* A near CALL ending the running block: remembers where it returns. */
static inline __attribute__((always_inline)) void ras_push(struct cpu *cpu,
							   uint64_t ret)
{
	struct ras_entry *e = &cpu->ras[cpu->ras_top++ & (RAS_SIZE - 1)];
	e->rip = ret;
	e->caller = cpu->cur_block;
}

/* Ends the running block at a near RET to `target`: the block the
 * matching CALL's block found there last time, if still right, else as
 * branch_link(). */
void branch_return(struct cpu *cpu, const struct insn *in, uint64_t target);

/* The mode bits decoding depends on: the default code size, and which
 * segments are flat (fast_form_select()). */
static inline uint32_t codecache_mode(const struct cpu *cpu)
{
	return cpu->code_size | (uint32_t)cpu->flat_segs << 16;
}

/* Ends the running block at a branch to `target`: follows the link of
 * outcome `slot`, or finds the target's block without the run loop. */
static inline __attribute__((always_inline)) void branch_link(
	struct cpu *cpu, const struct insn *in, uint64_t target, unsigned slot)
{
	struct block *b = cpu->cur_block, *nb = b->link[slot];
	if (likely(b->link_rip[slot] == target && nb)) {
		block_chain(cpu, in, nb, target);
		return;
	}
	branch_unlinked(cpu, in, target, slot);
}

/* An instruction that straddles two pages, decoded: it is not part of a
 * block (a block's code lies in one page, which is what its links and
 * its invalidation rely on), so it runs alone, but its decoding is kept,
 * by the physical address of its first byte and the physical page of the
 * rest, and dropped when either page is written. */
#define STRADDLE_SIZE 64
struct straddle {
	uint64_t paddr;  /* the first byte */
	uint64_t page2;  /* the physical page holding the rest */
	uint32_t mode;   /* codecache_mode() */
	bool valid;
	struct insn in;
};

struct code_cache {
	struct straddle straddle[STRADDLE_SIZE];
	uint8_t *code_bitmap; /* one bit per 4 KiB physical page */
	uint64_t bitmap_pages;
	struct block **hash;
	struct block **page_hash;
	uint8_t *arena;
	size_t arena_used, arena_size;
};

struct code_cache *codecache_create(void);
void codecache_destroy(struct code_cache *cc);
void codecache_flush(struct cpu *cpu);

static inline uint32_t jc_mode(const struct cpu *cpu)
{
	return cpu->code_size | (cpu->cpl == 3 ? 0x100u : 0) |
	       (uint32_t)cpu->flat_segs << 16;
}

static inline struct jc_entry *jc_slot(struct cpu *cpu, uint64_t lin)
{
	return &cpu->jc[(lin ^ (lin >> JC_BITS)) & (JC_SIZE - 1)];
}

/* The fast path of codecache_get(): the jump cache's block for CS:RIP, or
 * NULL. A hit needs the page still mapped where the block was decoded,
 * which the execute TLB entry says, so TLB flushes need not touch the jump
 * cache; and RIP within the CS limit. */
static inline struct block *codecache_lookup(struct cpu *cpu)
{
	uint64_t rip = cpu->s.rip, lin, ppage;
	const struct jc_entry *jc;
	const struct tlb_entry *te;
	struct block *b;

	if (cpu_long64(cpu)) {
		lin = cpu->s.seg[S_CS].base + rip;
	} else {
		if (unlikely(rip > cpu->s.seg[S_CS].limit))
			return NULL;
		lin = (cpu->s.seg[S_CS].base + rip) & 0xffffffffull;
	}
	jc = jc_slot(cpu, lin);
	b = jc->b;
	if (!b || jc->lin != lin || jc->mode != jc_mode(cpu) || !b->valid)
		return NULL;
	te = tlb_entry_for(cpu, lin, ACC_EXEC, cpu->cpl == 3);
	if (te->tag != (lin & ~0xfffull) &&
	    !tlb_refill(cpu, lin, ACC_EXEC, cpu->cpl == 3))
		return NULL;
	ppage = tlb_meta_for(cpu, lin, ACC_EXEC, cpu->cpl == 3)->paddr;
	if (ppage != (b->paddr & ~0xfffull))
		return NULL;
	cpu->cur_code_page = ppage;
	return b;
}

/* The block that starts at the current CS:RIP, decoding it if needed.
 * Returns NULL when the instruction there straddles a page boundary; the
 * caller then decodes it into `single` and runs it uncached. */
struct block *codecache_get(struct cpu *cpu, struct insn *single);

bool codecache_page_has_code(struct cpu *cpu, uint64_t ppage);
/* A write to guest-physical memory: drops decoded code it overwrites. */
static inline void codecache_note_write(struct cpu *cpu, uint64_t paddr,
					unsigned size);
void codecache_invalidate_page(struct cpu *cpu, uint64_t ppage);



static inline void codecache_note_write(struct cpu *cpu, uint64_t paddr,
					unsigned size)
{
	struct code_cache *cc = cpu->cc;
	uint64_t first = paddr >> 12, last = (paddr + size - 1) >> 12;
	for (uint64_t pg = first; pg <= last; pg++)
		if (pg < cc->bitmap_pages &&
		    (cc->code_bitmap[pg >> 3] & (1u << (pg & 7))))
			codecache_invalidate_page(cpu, pg << 12);
}

#endif
