/* Threaded dispatch: the contract between the engine (cpu.c), which runs
 * a block as a chain of `run` entries, and the handlers, which do their
 * work and go on to the next entry themselves. A handler may only leave
 * the chain through these entries, and a fast form is written once
 * through the macros here, which give it its threaded entries. */
#ifndef V2E_CPU_DISPATCH_H
#define V2E_CPU_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/mem.h"
#include "cpu/vcpu.h"

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


/* ---- what handlers ask of the engine ---- */

uint64_t cpu_tsc(struct cpu *cpu);
/* DR7 or a debug register changed: re-arms the breakpoint checks. */
void cpu_debug_changed(struct cpu *cpu);

#endif
