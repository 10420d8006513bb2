/* A decoded block's layout: the unit the engine runs and the code cache
 * keeps. Only data, so that the services that must know how far the
 * running block has got (a fault, the step count) need not depend on
 * the engine that runs it. */
#ifndef V2E_CPU_BLOCK_H
#define V2E_CPU_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/insn.h"
#include "cpu/vcpu.h"

#define BLOCK_MAX_INSNS 64

/* Links: a branch whose target lies in the same linear page as its block
 * starts may go straight to the target's block. The page, and so its
 * mapping, is the one the running block came from, and a write to it drops
 * both blocks at once: a link needs no check beyond the target RIP. Slot 0
 * is the branch taken, 1 the fall-through. */
#define LINK_TAKEN 0
#define LINK_NEXT 1

/* Blocks start on a 64-byte boundary, and what going into a block reads
 * (its address, mode and validity for a far link or the jump cache, its
 * length and first entry) shares the second cache line: an idle guest's
 * timer tick goes through some 500 blocks, with caches gone cold since
 * the last tick. */
#define BLOCK_ALIGN 64

struct block {
	struct block *hash_next;
	struct block *page_next;
	struct block *link[2];
	uint64_t link_rip[2];
	/* The same for a target in another page, whose mapping is checked
	 * each time (branch_unlinked()): the block and the RIP side by side,
	 * so that a return, through its caller's far[LINK_NEXT], reads the
	 * caller's second cache line only. */
	struct far_link {
		struct block *b;
		uint64_t rip;
	} far[2];
	uint64_t paddr;
	uint32_t mode;
	uint16_t n;
	bool valid;
	struct insn insns[];
};

/* Where a block's generated code can go straight on into the block a
 * same-page link names (jit_link_direct()): per link slot, the offsets in
 * the code buffer of the jump that skips the direct way while there is
 * none, and of that way's jump into the target's code; 0 where the
 * block's branch has no compiled way out for the slot. It follows the
 * block's tail record, outside the lines that entering a block reads. */
struct block_direct {
	uint32_t site[2];
	uint32_t jump[2];
};

static inline struct block_direct *block_direct(struct block *b)
{
	return (struct block_direct *)(void *)&b->insns[b->n + 1];
}

/* icount including the instructions of the running block completed before
 * the current one. */
static inline uint64_t cpu_icount_now(const struct cpu *cpu)
{
	return cpu->icount +
	       (cpu->cur_block ? (unsigned)(cpu->cur_insn - cpu->cur_block->insns)
			       : 0);
}

#endif
