/* Stack accesses (stack.c): pushes and pops at the stack's address size,
 * and stacks that are not yet SS:SP, so that multi-part operations can
 * fault halfway and commit nothing. */
#ifndef V2E_CPU_STACK_H
#define V2E_CPU_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/vcpu.h"

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

#endif
