/* The stack: pushes and pops through SS at the stack's address size
 * (SS.B: SP or ESP; RSP in 64-bit mode). */
#include "cpu/mem.h"
#include "cpu/stack.h"

void stack_set_sp(struct cpu *cpu, uint64_t sp)
{
	switch (cpu->stack_size) {
	case 2:
		cpu->s.gpr[R_SP] = (cpu->s.gpr[R_SP] & ~0xffffull) | (sp & 0xffff);
		break;
	case 4:
		cpu->s.gpr[R_SP] = (uint32_t)sp;
		break;
	default:
		cpu->s.gpr[R_SP] = sp;
	}
}

void stack_push_at(struct cpu *cpu, uint64_t *sp, unsigned size, uint64_t v)
{
	*sp = (*sp - size) & stack_ptr_mask(cpu);
	mem_write(cpu, S_SS, *sp, size, v);
}

uint64_t stack_pop_at(struct cpu *cpu, uint64_t *sp, unsigned size)
{
	uint64_t v = mem_read(cpu, S_SS, *sp, size);
	*sp = (*sp + size) & stack_ptr_mask(cpu);
	return v;
}

void stack_push(struct cpu *cpu, unsigned size, uint64_t v)
{
	uint64_t sp = cpu->s.gpr[R_SP] & stack_ptr_mask(cpu);
	stack_push_at(cpu, &sp, size, v);
	stack_set_sp(cpu, sp);
}

uint64_t stack_pop(struct cpu *cpu, unsigned size)
{
	uint64_t sp = cpu->s.gpr[R_SP] & stack_ptr_mask(cpu);
	uint64_t v = stack_pop_at(cpu, &sp, size);
	stack_set_sp(cpu, sp);
	return v;
}

uint64_t stack_peek(struct cpu *cpu, unsigned size, unsigned depth)
{
	uint64_t sp = (cpu->s.gpr[R_SP] + depth) & stack_ptr_mask(cpu);
	return mem_read(cpu, S_SS, sp, size);
}

void stack_adjust(struct cpu *cpu, int64_t delta)
{
	stack_set_sp(cpu, (cpu->s.gpr[R_SP] + (uint64_t)delta) &
				  stack_ptr_mask(cpu));
}

void stack_view_init(struct stack_view *v, const struct x86_segment *ss,
		     uint64_t sp, uint32_t err, bool user)
{
	bool big = (ss->ar & AR_DB) != 0;
	v->base = ss->base;
	v->mask = big ? 0xffffffffull : 0xffff;
	if (ss->ar & AR_TYPE_EXPDOWN) {
		v->lo = (uint64_t)ss->limit + 1;
		v->hi = v->mask;
	} else {
		v->lo = 0;
		v->hi = ss->limit;
	}
	v->sp = sp & v->mask;
	v->err = err;
	v->user = user;
}

void stack_view_push(struct cpu *cpu, struct stack_view *v, unsigned size,
		     uint64_t val)
{
	uint64_t sp = (v->sp - size) & v->mask;
	if (sp < v->lo || sp + size - 1 > v->hi)
		cpu_fault(cpu, EXC_SS, v->err);
	lin_write(cpu, (v->base + sp) & 0xffffffffull, size, val, v->user);
	v->sp = sp;
}
