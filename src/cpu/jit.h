/* The native code generator: straight-line runs of a decoded block's
 * instructions compiled to host (x86-64) code.
 *
 * A compiled run is one more threaded entry: it replaces the `run` of the
 * run's first instruction, does the work of every instruction of the run
 * with the guest registers in host registers, and goes on to the next
 * instruction's entry as any threaded entry does. It covers 32-bit
 * integer instructions on registers and on memory with 32-bit addressing
 * (in a flat segment, or with the segment's base and limit from the
 * segment cache when it runs: Linux's per-CPU FS); whatever
 * it cannot finish at once (a TLB miss, a page crossing, a store into
 * decoded code, a fault to come) it hands back to the interpreter at that
 * instruction, with everything before it committed, so the slow paths,
 * faults and self-modifying code stay the interpreter's. Lazy flags are
 * left exactly as the interpreter leaves them, except where nothing can
 * see them.
 *
 * Code lives in one region, mapped twice (written through one view,
 * executed through the other: never writable and executable at once),
 * and is emptied with the code cache (codecache_flush()). */
#ifndef V2E_CPU_JIT_H
#define V2E_CPU_JIT_H

#include <stdbool.h>

#include "cpu/insn.h"

struct block;
struct jit;

/* NULL when the host cannot run generated code (not x86-64, or no
 * memory for it): the interpreter then runs everything. */
struct jit *jit_create(void);
void jit_destroy(struct jit *jit);
/* Forgets all generated code (the blocks it belonged to are gone). */
void jit_reset(struct jit *jit);
/* Whether the region may not hold another block's code: the code cache
 * is emptied first (arena_alloc()). */
bool jit_full(const struct jit *jit);

/* Writes a line per compiled run to `path` in the format of perf's
 * /tmp/perf-PID.map (start, size, "v2e:PADDR+INDEX": the block's guest-
 * physical address and the run's first instruction), so that `perf
 * report` names generated code. False if the file cannot be opened. */
bool jit_perf_map(struct jit *jit, const char *path);

/* Compiles the runs of a new block that are worth it. Returns the index
 * one past the last instruction compiled (0 for none). */
unsigned jit_compile_block(struct cpu *cpu, struct block *b);

/* `owner`'s link `slot` now names `nb`, a block of the same page: the
 * branch's generated code, if it has a direct way on, goes straight into
 * nb's, if nb's first instruction is compiled. */
void jit_link_direct(struct jit *jit, struct block *owner, unsigned slot,
		     const struct block *nb);

/* The interpreter's own threaded entry of `in`, whose run may be a
 * compiled run's entry (a copy of a block cut short must not run past
 * its end). */
insn_fn jit_interp_entry(const struct jit *jit, const struct insn *in);

#endif
