/* The emulator engine: creation, reset, the run loop over decoded blocks
 * and the threaded dispatch that runs them, where a fault lands,
 * interrupt acceptance, single-step and debug-register traps, and state
 * transfer for V2E. Faults and their delivery are fault.c, the mode
 * mode.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/codecache.h"
#include "cpu/exec.h"
#include "cpu/jit.h"
#include "cpu/ops.h"

void cpu_model_default(struct cpu_model *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->vendor, "GenuineIntel", 13);
	m->family = 6;
	m->model = 5; /* Pentium II */
	m->stepping = 2;
	/* FPU, VME, DE, PSE, TSC, MSR, PAE, CX8, SEP, MTRR, PGE, CMOV, PAT,
	 * PSE36, MMX, FXSR, SSE, SSE2 (the APIC bit is the platform issue's
	 * to add once implemented). */
	m->features_edx = (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3) |
			  (1u << 4) | (1u << 5) | (1u << 6) | (1u << 8) |
			  (1u << 11) | (1u << 12) | (1u << 13) | (1u << 15) |
			  (1u << 16) | (1u << 17) | (1u << 23) | (1u << 24) |
			  (1u << 25) | (1u << 26);
	m->features_ecx = 0;
	snprintf(m->brand, sizeof(m->brand), "v2e x86 emulator");
}

struct cpu *cpu_create(const struct cpu_bus *bus, const struct cpu_model *m,
		       uint64_t ram_pages)
{
	struct cpu *cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return NULL;
	cpu->bus = *bus;
	if (m)
		cpu->model = *m;
	else
		cpu_model_default(&cpu->model);
	cpu->ram_pages = ram_pages;
	cpu->cc = codecache_create();
	cpu->cur_code_page = ~0ull;
	cpu->part_block = malloc(sizeof(struct block) +
				 (BLOCK_MAX_INSNS + 1) * sizeof(struct insn));
	if (!cpu->cc || !cpu->part_block) {
		codecache_destroy(cpu->cc);
		free(cpu->part_block);
		free(cpu);
		return NULL;
	}
	cpu->a20_mask = ~0ull;
	cpu->jit = jit_create();
	cpu_reset(cpu);
	return cpu;
}

void cpu_destroy(struct cpu *cpu)
{
	if (!cpu)
		return;
	codecache_destroy(cpu->cc);
	jit_destroy(cpu->jit);
	free(cpu->part_block);
	free(cpu);
}

static void seg_reset(struct x86_segment *s, uint16_t sel, uint64_t base,
		      uint32_t ar)
{
	s->selector = sel;
	s->base = base;
	s->limit = 0xffff;
	s->ar = ar;
}

void cpu_reset(struct cpu *cpu)
{
	struct x86_state *s = &cpu->s;
	memset(s, 0, sizeof(*s));
	memset(&cpu->lf, 0, sizeof(cpu->lf));
	s->rflags = FL_FIXED1;
	s->rip = 0xfff0;
	for (int i = 0; i < S_NR; i++)
		seg_reset(&s->seg[i], 0, 0, AR_P | AR_S | AR_TYPE_WRITABLE |
						    AR_TYPE_ACCESSED);
	seg_reset(&s->seg[S_CS], 0xf000, 0xffff0000ull,
		  AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_READABLE |
			  AR_TYPE_ACCESSED);
	seg_reset(&s->ldtr, 0, 0, AR_P | 0x2);
	seg_reset(&s->tr, 0, 0, AR_P | 0xb);
	s->gdtr.limit = s->idtr.limit = 0xffff;
	s->gpr[R_DX] = (cpu->model.family << 8) | (cpu->model.model << 4) |
		       cpu->model.stepping;
	s->cr0 = CR0_ET | CR0_CD | CR0_NW;
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->msr.apic_base = 0xfee00000ull | 0x900; /* BSP, enabled */
	s->msr.pat = 0x0007040600070406ull;
	/* x87 after RESET: FCW 0x0040 (SDM vol. 1, 8.1.11, table 8-7 gives
	 * FINIT's 0x037f; RESET leaves 0x0040); MXCSR's default. */
	s->fxsave[0] = 0x40;
	s->fxsave[24] = 0x80;
	s->fxsave[25] = 0x1f;
	cpu->cpl = 0;
	cpu->intr_line = 0;
	cpu->inhibit_irq = 0;
	cpu->delivering = 0;
	/* A debugger's watchpoints outlive a reset. */
	cpu->mem_checks &= MEMCHK_GDB;
	cpu_update_mode(cpu);
	tlb_select(cpu);
	tlb_flush(cpu, true);
	codecache_flush(cpu);
	if (unlikely(cpu->log_mask & CPU_LOG_RESET))
		cpu->log.reset(cpu->log.opaque, &cpu->s);
}

void cpu_set_log(struct cpu *cpu, unsigned mask, const struct cpu_log_sink *sink)
{
	if (!sink)
		mask = 0;
	cpu->log_mask = mask;
	if (sink)
		cpu->log = *sink;
}

/* Reports a block about to run (CPU_LOG_EXEC, CPU_LOG_CPU). Reads the
 * state only: the lazy flags are worked out for CPU_LOG_CPU, which
 * changes their form, never their value. */
static void log_block_entry(struct cpu *cpu, const struct block *b,
			    unsigned n_insns)
{
	struct cpu_log_block e = {
		.cs = cpu->s.seg[S_CS].selector,
		.rip = cpu->s.rip,
		.pc = (cpu->s.seg[S_CS].base + cpu->s.rip) & cpu->lin_mask,
		.paddr = b ? b->paddr : ~0ull,
		.code_size = cpu->code_size,
		.n_insns = n_insns,
	};
	struct x86_state st;
	if (cpu->log_mask & CPU_LOG_CPU) {
		flags_get(cpu);
		st = cpu->s;
		e.state = &st;
	}
	cpu->log.block(cpu->log.opaque, cpu->log_mask & (CPU_LOG_EXEC | CPU_LOG_CPU), &e);
}


/* Instructions of the running block that completed before the current
 * one. */
static unsigned block_done(const struct cpu *cpu)
{
	return (unsigned)(cpu->cur_insn - cpu->cur_block->insns);
}

static bool runs_through_thunk(const struct insn *in)
{
	return in->run == op_thunk || in->run == op_thunk_end;
}

/* A fault inside a block: the instructions before the faulting one are
 * counted, and s.rip becomes the faulting instruction's unless its handler
 * owns RIP (a generic handler, run through a thunk, may have moved it on,
 * as a task switch does). Done before unwinding, while the block is still
 * certainly alive. */
static void block_abandon(struct cpu *cpu)
{
	const struct insn *in = cpu->cur_insn;
	if (!cpu->cur_block)
		return;
	if (!runs_through_thunk(in))
		cpu->s.rip = (cpu->cur_block_rip + in->off) & cpu->ip_mask;
	cpu->icount += block_done(cpu);
	cpu->cur_block = NULL;
}

/* ---- interrupts ---- */

static bool accept_events(struct cpu *cpu)
{
	struct x86_events *ev = &cpu->s.ev;
	if (ev->nmi_pending && !ev->nmi_masked && !cpu->inhibit_irq) {
		ev->nmi_pending = 0;
		ev->nmi_masked = 1;
		ev->halted = 0;
		cpu->delivering = 1;
		cpu->first_exc = EXC_NMI;
		intr_deliver(cpu, EXC_NMI, INTR_EXT, false, 0, cpu->s.rip);
		cpu->delivering = 0;
		return true;
	}
	if (cpu->intr_line && (cpu->s.rflags & FL_IF) && !cpu->inhibit_irq) {
		uint8_t vec = cpu->bus.intr_ack(cpu->bus.opaque);
		ev->halted = 0;
		cpu->delivering = 1;
		cpu->first_exc = 0xff;
		intr_deliver(cpu, vec, INTR_EXT, false, 0, cpu->s.rip);
		cpu->delivering = 0;
		return true;
	}
	return false;
}

/* ---- debug traps ---- */

/* Instruction breakpoints (DR7 R/W = 00) match CS:RIP before it runs. */
static bool dr_exec_hit(struct cpu *cpu)
{
	uint64_t dr7 = cpu->s.dr[7];
	uint64_t lin = cpu->s.seg[S_CS].base + cpu->s.rip;
	uint32_t hits = 0;
	if (!(dr7 & 0xff) || (cpu->s.rflags & FL_RF))
		return false;
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	for (int i = 0; i < 4; i++) {
		if (!((dr7 >> (i * 2)) & 3))
			continue;
		if (((dr7 >> (16 + i * 4)) & 3) != 0)
			continue;
		if (cpu->s.dr[i] == lin)
			hits |= 1u << i;
	}
	if (!hits)
		return false;
	cpu->s.dr[6] = (cpu->s.dr[6] & ~0xfull) | hits;
	return true;
}

void dr_check_data(struct cpu *cpu, uint64_t lin, unsigned size, bool write)
{
	uint64_t dr7 = cpu->s.dr[7];
	for (int i = 0; i < 4; i++) {
		unsigned rw = (dr7 >> (16 + i * 4)) & 3;
		unsigned ln = (dr7 >> (18 + i * 4)) & 3;
		uint64_t blen = ln == 0 ? 1 : ln == 1 ? 2 : ln == 3 ? 4 : 8;
		uint64_t start = cpu->s.dr[i] & ~(blen - 1);
		if (!((dr7 >> (i * 2)) & 3))
			continue;
		if (rw == 0 || rw == 2)
			continue; /* execute; I/O (CR4.DE) is checked by IN/OUT */
		if (rw == 1 && !write)
			continue;
		if (lin + size > start && lin < start + blen)
			cpu->dr_pending |= 1u << i;
	}
}

static void dr_recompute(struct cpu *cpu)
{
	uint64_t dr7 = cpu->s.dr[7];
	bool armed = false;
	for (int i = 0; i < 4; i++) {
		unsigned rw = (dr7 >> (16 + i * 4)) & 3;
		if (((dr7 >> (i * 2)) & 3) && (rw == 1 || rw == 3))
			armed = true;
	}
	cpu->mem_checks = (uint8_t)((cpu->mem_checks & ~MEMCHK_DR) |
				    (armed ? MEMCHK_DR : 0));
	tlb_select(cpu);
}

void cpu_debug_changed(struct cpu *cpu)
{
	dr_recompute(cpu);
	cpu->end_block = true;
}

/* ---- the run loop ---- */

static inline void exec_one(struct cpu *cpu, const struct insn *in)
{
	cpu->next_rip = (cpu->s.rip + in->len) & cpu->ip_mask;
	in->fn(cpu, in);
	cpu->s.rip = cpu->next_rip;
	cpu->icount++;
}

/* One instruction with everything checked around it: TF single-step,
 * instruction and data breakpoints, the interrupt shadow. */
static void step_careful(struct cpu *cpu)
{
	struct insn single;
	struct block *b;
	bool tf = (cpu->s.rflags & FL_TF) != 0;
	bool rf = (cpu->s.rflags & FL_RF) != 0;
	uint8_t shadow = cpu->inhibit_irq;

	/* An instruction breakpoint on the instruction after MOV SS or POP
	 * SS is not taken on the GenuineIntel CPUs v2e models (SDM vol. 3,
	 * 6.8.3): the shadow holds it off, and it is gone after. */
	if (!(shadow & SHADOW_MOV_SS) && dr_exec_hit(cpu))
		cpu_fault_noerr(cpu, EXC_DB);
	b = codecache_get(cpu, &single);
	if (!(shadow & SHADOW_MOV_SS))
		cpu->dr_pending = 0;
	exec_one(cpu, b ? &b->insns[0] : &single);
	/* RF and the interrupt shadow cover one instruction; one that sets
	 * them (IRET with RF, STI, MOV SS) hands them to the next. */
	if (rf)
		cpu->s.rflags &= ~(uint64_t)FL_RF;
	if (shadow)
		cpu->inhibit_irq = 0;
	/* After MOV SS or POP SS, debug traps (single-step, data
	 * breakpoints) wait for the next instruction too (SDM vol. 3,
	 * 6.8.3). */
	if (cpu->inhibit_irq & SHADOW_MOV_SS) {
		cpu->skip_tf_trap = false;
		return;
	}
	if (cpu->dr_pending || (tf && !cpu->skip_tf_trap)) {
		cpu->s.dr[6] = (cpu->s.dr[6] & ~0xfull) | cpu->dr_pending |
			       (tf ? 0x4000 : 0);
		cpu->dr_pending = 0;
		cpu->end_block = true;
		/* A trap: RIP already points past the instruction. */
		cpu->delivering = 1;
		cpu->first_exc = EXC_DB;
		intr_deliver(cpu, EXC_DB, INTR_EXC, false, 0, cpu->s.rip);
		cpu->delivering = 0;
	}
	cpu->skip_tf_trap = false;
}

/* ---- a debugger's breakpoints, watchpoints and step (cpu.h) ---- */

void cpu_debug_check_data(struct cpu *cpu, uint64_t lin, unsigned size,
			  bool write)
{
	for (unsigned i = 0; i < cpu->dbg.n_wp; i++) {
		const struct cpu_watch *w = &cpu->dbg.wp[i];
		bool kind_ok = w->kind == CPU_WATCH_ACCESS ||
			       (w->kind == CPU_WATCH_WRITE) == write;
		if (kind_ok && lin < w->addr + w->len && w->addr < lin + size &&
		    !cpu->dbg_watch_hit) {
			cpu->dbg_watch_hit = true;
			cpu->dbg_stop = (struct cpu_debug_stop){CPU_DEBUG_WATCH,
								w->addr, w->kind};
		}
	}
}

static bool debug_bp_at_rip(const struct cpu *cpu)
{
	uint64_t lin = (cpu->s.seg[S_CS].base + cpu->s.rip) & cpu->lin_mask;
	for (unsigned i = 0; i < cpu->dbg.n_bp; i++)
		if (cpu->dbg.bp[i] == lin)
			return true;
	return false;
}

/* After an instruction under debug_step() (or its fault): whether the
 * debugger must hear of it. */
static bool debug_after(struct cpu *cpu)
{
	cpu->dbg_in_step = false;
	if (cpu->dbg_watch_hit) {
		cpu->dbg_watch_hit = false;
		return true; /* dbg_stop is set */
	}
	if (cpu->dbg.step) {
		cpu->dbg_stop = (struct cpu_debug_stop){
			debug_bp_at_rip(cpu) ? CPU_DEBUG_BREAK : CPU_DEBUG_STEP, 0, 0};
		return true;
	}
	return false;
}

static void run_block(struct cpu *cpu, struct block *b);

/* With breakpoints only (no watchpoint, no step, nothing else needing
 * the careful path), a whole block runs when no breakpoint lies in it:
 * alone, unchained (chain_room stays 0, so neither a link nor the native
 * code's loop goes on past it), so the next block start comes back here.
 * True if it ran. */
static bool debug_run_block(struct cpu *cpu, uint64_t end)
{
	struct insn single;
	struct block *b;
	uint64_t lin, len, run_end;
	const struct insn *last;

	if (cpu->dbg.n_wp || cpu->dbg.step || cpu->inhibit_irq ||
	    (cpu->s.rflags & (FL_TF | FL_RF)) || (cpu->s.dr[7] & 0xff))
		return false;
	b = codecache_lookup(cpu);
	if (!b)
		b = codecache_get(cpu, &single);
	if (!b || b->n > end - cpu->icount)
		return false;
	last = &b->insns[b->n - 1];
	len = last->off + last->len;
	lin = (cpu->s.seg[S_CS].base + cpu->s.rip) & cpu->lin_mask;
	for (unsigned i = 0; i < cpu->dbg.n_bp; i++)
		if (cpu->dbg.bp[i] - lin < len)
			return false;
	run_end = cpu->run_end;
	cpu->run_end = cpu->icount + b->n;
	run_block(cpu, b);
	cpu->run_end = run_end;
	return true;
}

/* One instruction while a debugger has something armed: its breakpoint
 * before, the careful path (DR0-DR3, TF, the interrupt shadow) around it,
 * watchpoints and the step after (or a whole block with no breakpoint in
 * it, debug_run_block()). Returns CPU_EXIT_DEBUG, CPU_EXIT_HALT, or
 * CPU_EXIT_BUDGET to go on. */
static enum cpu_exit debug_step(struct cpu *cpu, uint64_t end)
{
	/* A step holds interrupts off, except out of a halt, where taking
	 * one is the step. */
	if ((!cpu->dbg.step || cpu->s.ev.halted) &&
	    (cpu->intr_line | cpu->s.ev.nmi_pending) && accept_events(cpu))
		cpu->dbg_resume = false; /* RIP moved to the handler */
	if (cpu->s.ev.halted)
		return CPU_EXIT_HALT;
	if (!cpu->dbg_resume && debug_bp_at_rip(cpu)) {
		cpu->dbg_stop = (struct cpu_debug_stop){CPU_DEBUG_BREAK, 0, 0};
		return CPU_EXIT_DEBUG;
	}
	if (!cpu->dbg_resume && debug_run_block(cpu, end))
		return CPU_EXIT_BUDGET;
	cpu->dbg_resume = false;
	cpu->dbg_in_step = true;
	step_careful(cpu);
	return debug_after(cpu) ? CPU_EXIT_DEBUG : CPU_EXIT_BUDGET;
}

int cpu_set_debug(struct cpu *cpu, const struct cpu_debug *d)
{
	if (d->n_bp > CPU_DEBUG_MAX_BP || d->n_wp > CPU_DEBUG_MAX_WP)
		return -EINVAL;
	cpu->dbg = *d;
	cpu->dbg_armed = d->n_bp || d->n_wp || d->step;
	cpu->dbg_resume = true;
	cpu->dbg_watch_hit = false;
	cpu->mem_checks = (uint8_t)((cpu->mem_checks & ~MEMCHK_GDB) |
				    (d->n_wp ? MEMCHK_GDB : 0));
	tlb_select(cpu);
	cpu->end_block = true;
	return 0;
}

void cpu_debug_stop(const struct cpu *cpu, struct cpu_debug_stop *out)
{
	*out = cpu->dbg_stop;
}

/* ---- threaded dispatch ---- */

void insn_leave(struct cpu *cpu, const struct insn *in)
{
	cpu->s.rip = insn_next_rip(cpu, in);
	cpu->cur_insn = in + 1;
}

void insn_flags_first(struct cpu *cpu, const struct insn *in)
{
	flags_get(cpu);
	in->run(cpu, in);
}

void insn_slow(struct cpu *cpu, const struct insn *in)
{
	cpu->cur_insn = in;
	in->fn(cpu, in);
	insn_next_checked(cpu, in);
}

/* Runs a generic handler in the chain: it sees s.rip and next_rip as
 * always. */
static inline __attribute__((always_inline)) void thunk_call(
	struct cpu *cpu, const struct insn *in)
{
	uint64_t rip = (cpu->cur_block_rip + in->off) & cpu->ip_mask;
	cpu->cur_insn = in;
	cpu->s.rip = rip;
	cpu->next_rip = (rip + in->len) & cpu->ip_mask;
	in->fn(cpu, in);
}

/* A generic handler in the chain; it may end the block. */
void op_thunk(struct cpu *cpu, const struct insn *in)
{
	thunk_call(cpu, in);
	if (unlikely(cpu->end_block)) {
		cpu->s.rip = cpu->next_rip;
		cpu->cur_insn = in + 1;
		return;
	}
	insn_next(cpu, in);
}

/* The same for an instruction that ends its block (a branch). */
void op_thunk_end(struct cpu *cpu, const struct insn *in)
{
	thunk_call(cpu, in);
	cpu->s.rip = cpu->next_rip;
	cpu->cur_insn = in + 1;
}

/* `owner`'s far link `slot` when it is for `target` and still right: the
 * decoding mode (a return may come back from another one), the CS limit,
 * the page's mapping for this privilege (the execute TLB, as
 * codecache_lookup()) and the block itself; NULL otherwise. The caller
 * chains into it last thing (a tail call: a chain of calls that all
 * return at its end would outrun the host's return prediction). */
static struct block *far_link(struct cpu *cpu, const struct block *owner,
			      unsigned slot, uint64_t target)
{
	struct block *nb = owner->far[slot].b;
	uint64_t lin = (cpu->s.seg[S_CS].base + target) & cpu->lin_mask;
	bool user = cpu->cpl == 3;

	if (!nb || owner->far[slot].rip != target || !nb->valid ||
	    nb->mode != codecache_mode(cpu) || target > cpu->code_limit ||
	    (tlb_entry_for(cpu, lin, ACC_EXEC, user)->tag != (lin & ~0xfffull) &&
	     !tlb_refill(cpu, lin, ACC_EXEC, user)) ||
	    tlb_meta_for(cpu, lin, ACC_EXEC, user)->paddr !=
		    (nb->paddr & ~0xfffull))
		return NULL;
	cpu->cur_code_page = nb->paddr & ~0xfffull;
	return nb;
}

/* Ends the running block at a branch to `target` through `owner`'s link
 * `slot` (`owner` the running block, or the caller a return goes back
 * to): its far link if still right, else the jump cache's block, which
 * then becomes the link (a same-page one where `may_link` and the target
 * shares the running block's page). */
static void chain_through(struct cpu *cpu, const struct insn *in,
			  struct block *owner, unsigned slot, uint64_t target,
			  bool may_link)
{
	struct block *nb = far_link(cpu, owner, slot, target);

	if (nb) {
		block_chain(cpu, in, nb, target);
		return;
	}
	cpu->s.rip = target;
	cpu->cur_insn = in + 1;
	/* codecache_lookup() checks what a same-page link need not: the
	 * target page's mapping, the decoding mode and the CS limit. Not
	 * decoded yet, the target is linked the next time round. */
	nb = codecache_lookup(cpu);
	if (!nb)
		return;
	if (may_link &&
	    (((cpu->s.seg[S_CS].base + target) ^
	      (cpu->s.seg[S_CS].base + cpu->cur_block_rip)) &
	     cpu->lin_mask) < 4096 &&
	    !((nb->paddr ^ owner->paddr) & ~0xfffull)) {
		owner->link[slot] = nb;
		owner->link_rip[slot] = target;
		jit_link_direct(cpu->jit, owner, slot, nb);
	} else {
		owner->far[slot] = (struct far_link){nb, target};
	}
	block_chain(cpu, in, nb, target);
}

void branch_unlinked(struct cpu *cpu, const struct insn *in, uint64_t target,
		     unsigned slot)
{
	chain_through(cpu, in, cpu->cur_block, slot, target, true);
}

void branch_return(struct cpu *cpu, const struct insn *in, uint64_t target)
{
	struct ras_entry *e = &cpu->ras[--cpu->ras_top & (RAS_SIZE - 1)];
	struct block *caller = e->caller;

	if (!caller || e->rip != target) {
		/* A return the stack does not know (a longjmp, a retpoline,
		 * an overflow): the block's own link, or the jump cache. */
		branch_link(cpu, in, target, LINK_TAKEN);
		return;
	}
	e->caller = NULL;
	/* The caller's fall-through: a far link whatever the page, as the
	 * caller is not the running block. */
	chain_through(cpu, in, caller, LINK_NEXT, target, false);
}

/* After the last instruction of a block that does not end in a branch. */
void op_block_tail(struct cpu *cpu, const struct insn *in)
{
	cpu->cur_insn = in;
	cpu->s.rip = (cpu->cur_block_rip + in->off) & cpu->ip_mask;
}

/* Instructions one run_block() may chain through linked blocks. */
#define CHAIN_INSNS 4096

/* Runs a block's chain; the step count is added once at the end (a fault
 * in between settles it in block_abandon(), where cpu_run() lands). */
static inline void run_block(struct cpu *cpu, struct block *b)
{
	cpu->cur_block = b;
	cpu->cur_block_rip = cpu->s.rip;
	cpu->cur_insn = b->insns;
	cpu->next_block = NULL;
	cpu->end_block = false;
	{
		uint64_t left = cpu->run_end - cpu->icount;
		cpu->chain_room = (int64_t)(left < CHAIN_INSNS ? left : CHAIN_INSNS) -
				  b->n;
	}
	/* Logging each block: no chaining (a negative room stops every
	 * chain, here and in the generated code), so each one comes back
	 * here. The budget and the step count are the same either way. */
	if (unlikely(cpu->log_mask & (CPU_LOG_EXEC | CPU_LOG_CPU))) {
		log_block_entry(cpu, b, b->n);
		cpu->chain_room = -1;
	}
	b->insns[0].run(cpu, b->insns);
	/* The chain may have gone on into linked blocks (branch_link()). */
	cpu->icount += (uint64_t)(cpu->cur_insn - cpu->cur_block->insns);
	cpu->cur_block = NULL;
}

/* Runs `b` and the blocks its branches go on to, as long as the budget
 * allows a whole block and nothing asks for the run loop's attention. A
 * near branch changes nothing the run loop checks (mode, CPL, interrupt
 * shadow, TF), and goes on only to a block right for the current mode and
 * mapping (a same-page link, a checked far link, or the jump cache);
 * anything that changes those ends its block some other way. */
static bool watch_rang(const struct cpu *cpu)
{
	for (unsigned i = 0; i < cpu->n_watch; i++)
		if (*cpu->watch[i])
			return true;
	return false;
}

static void run_linked(struct cpu *cpu, struct block *b, uint64_t end)
{
	for (;;) {
		run_block(cpu, b);
		/* After the block, not before: progress whatever the words. */
		if (unlikely(cpu->n_watch) && watch_rang(cpu)) {
			cpu->exit_request = 1;
			return;
		}
		b = cpu->next_block;
		if (!b)
			return;
		if (unlikely(b->n > end - cpu->icount ||
			     (cpu->intr_line | cpu->s.ev.nmi_pending |
			      cpu->exit_request)))
			return;
	}
}

/* The first `n` instructions of `b` only (the budget ends inside it): a
 * copy whose tail entry follows the n-th. */
static void run_block_part(struct cpu *cpu, const struct block *b, unsigned n)
{
	struct block *part = cpu->part_block;
	memcpy(part, b, sizeof(*b));
	memcpy(part->insns, b->insns, n * sizeof(struct insn));
	part->n = (uint16_t)n;
	/* Compiled runs would go on past the copy's end. */
	for (unsigned i = 0; i < n; i++)
		part->insns[i].run = jit_interp_entry(cpu->jit, &part->insns[i]);
	/* A compare fused with the Jcc left out runs alone. */
	if (part->insns[n - 1].flags & INSN_FUSED) {
		part->insns[n - 1].run = op_thunk;
		part->insns[n - 1].form = FORM_THUNK;
		part->insns[n - 1].flags &= (uint8_t)~INSN_FUSED;
	}
	/* The flags are live where the copy ends. */
	block_drop_dead_flags(part->insns, n);
	memset(&part->insns[n], 0, sizeof(struct insn));
	part->insns[n].run = op_block_tail;
	part->insns[n].off = b->insns[n].off;
	run_block(cpu, part);
}

static enum cpu_exit run_loop(struct cpu *cpu, uint64_t end)
{
	struct insn single;

	cpu->run_end = end;
	while (cpu->icount < end) {
		struct block *b;
		unsigned n;

		if (unlikely(cpu->exit_request)) {
			cpu->exit_request = 0;
			return CPU_EXIT_REQUEST;
		}
		/* One test for both: a debugger's checks cost the fast path
		 * nothing while disarmed. */
		if (unlikely(cpu->s.ev.shutdown | cpu->dbg_armed)) {
			enum cpu_exit r;
			if (cpu->s.ev.shutdown)
				return CPU_EXIT_SHUTDOWN;
			r = debug_step(cpu, end);
			if (r != CPU_EXIT_BUDGET)
				return r;
			continue;
		}
		if (unlikely(cpu->intr_line | cpu->s.ev.nmi_pending))
			accept_events(cpu);
		if (unlikely(cpu->s.ev.halted))
			return CPU_EXIT_HALT;
		if (unlikely(cpu->inhibit_irq || (cpu->s.rflags & (FL_TF | FL_RF)) ||
			     (cpu->s.dr[7] & 0xff))) {
			/* A shadow (STI, MOV SS) holds off only what is
			 * pending now and the debug traps: with neither, the
			 * next instruction runs in a block like any other, and
			 * an interrupt raised while it runs is taken at the
			 * block's end, after it. Linux enables interrupts some
			 * twenty times a disk request. */
			bool careful = (cpu->s.rflags & (FL_TF | FL_RF)) ||
				       (cpu->s.dr[7] & 0xff) || cpu->intr_line ||
				       cpu->s.ev.nmi_pending;
			if (careful) {
				if (unlikely(cpu->log_mask & (CPU_LOG_EXEC | CPU_LOG_CPU)))
					log_block_entry(cpu, NULL, 1);
				step_careful(cpu);
				continue;
			}
			cpu->inhibit_irq = 0;
		}
		b = codecache_lookup(cpu);
		if (!b)
			b = codecache_get(cpu, &single);
		if (!b) {
			if (unlikely(cpu->log_mask & (CPU_LOG_EXEC | CPU_LOG_CPU)))
				log_block_entry(cpu, NULL, 1);
			exec_one(cpu, &single);
			continue;
		}
		/* The budget is a promise (cpu.h): never run past it, even
		 * inside a block. */
		n = b->n;
		if (likely(n <= end - cpu->icount))
			run_linked(cpu, b, end);
		else
			run_block_part(cpu, b, (unsigned)(end - cpu->icount));
	}
	return CPU_EXIT_BUDGET;
}

enum cpu_exit cpu_run(struct cpu *cpu, uint64_t max_insns)
{
	uint64_t end = cpu->icount + max_insns;

	if (setjmp(cpu->fault_jmp)) {
		/* Nothing ran since cpu_fault(): the block is as it was. */
		block_abandon(cpu);
		fault_deliver(cpu);
		if (cpu->s.ev.shutdown)
			return CPU_EXIT_SHUTDOWN;
		/* A step that faulted ends in the handler. */
		if (cpu->dbg_in_step && debug_after(cpu))
			return CPU_EXIT_DEBUG;
	}
	if (cpu->s.ev.shutdown)
		return CPU_EXIT_SHUTDOWN;
	if (cpu->s.ev.halted) {
		bool wake = cpu->s.ev.nmi_pending ||
			    (cpu->intr_line && (cpu->s.rflags & FL_IF));
		if (!wake)
			return CPU_EXIT_HALT;
	}
	return run_loop(cpu, end);
}

void cpu_set_jit(struct cpu *cpu, bool on)
{
	if (on == (cpu->jit != NULL))
		return;
	/* Decoded blocks may point into the generated code. */
	codecache_flush(cpu);
	if (on) {
		cpu->jit = jit_create();
	} else {
		jit_destroy(cpu->jit);
		cpu->jit = NULL;
	}
}

bool cpu_jit_perf_map(struct cpu *cpu, const char *path)
{
	return jit_perf_map(cpu->jit, path);
}

void cpu_request_exit(struct cpu *cpu)
{
	__atomic_store_n(&cpu->exit_request, 1, __ATOMIC_RELEASE);
}

bool cpu_watch(struct cpu *cpu, const volatile uint32_t *word)
{
	if (cpu->n_watch >= CPU_MAX_WATCH)
		return false;
	cpu->watch[cpu->n_watch++] = word;
	return true;
}

void cpu_set_intr(struct cpu *cpu, bool level)
{
	cpu->intr_line = level;
	if (level)
		cpu->chain_room = 0; /* back to the run loop at the next branch */
}

void cpu_raise_nmi(struct cpu *cpu)
{
	cpu->s.ev.nmi_pending = 1;
	cpu->chain_room = 0;
}

void cpu_set_a20(struct cpu *cpu, bool enabled)
{
	uint64_t mask = enabled ? ~0ull : ~(1ull << 20);
	if (mask != cpu->a20_mask) {
		cpu->a20_mask = mask;
		tlb_flush(cpu, true);
		cpu->end_block = true;
	}
}

void cpu_get_state(struct cpu *cpu, struct x86_state *out)
{
	flags_get(cpu);
	*out = cpu->s;
	/* The live shadow (STI, MOV SS): an engine taking the vCPU over
	 * must hold interrupts off for the same next instruction. */
	out->ev.interrupt_shadow = cpu->inhibit_irq;
	/* From a bus callback in the middle of a block: RIP is worked out
	 * from the running instruction. */
	if (cpu->cur_block && !runs_through_thunk(cpu->cur_insn))
		out->rip = (cpu->cur_block_rip + cpu->cur_insn->off) &
			   cpu->ip_mask;
}

void cpu_set_state(struct cpu *cpu, const struct x86_state *in)
{
	cpu->s = *in;
	cpu->s.rflags |= FL_FIXED1;
	cpu->lf.kind = LF_NONE;
	/* CPL is SS.DPL outside real and v86 mode (KVM's convention). */
	cpu->cpl = (uint8_t)((cpu->s.seg[S_SS].ar & AR_DPL_MASK) >> AR_DPL_SHIFT);
	cpu->inhibit_irq = cpu->s.ev.interrupt_shadow;
	cpu_update_mode(cpu);
	dr_recompute(cpu);
	tlb_flush(cpu, true);
	codecache_flush(cpu);
}

void cpu_log_where(const struct cpu *cpu, uint16_t *cs, uint64_t *rip)
{
	*cs = cpu->s.seg[S_CS].selector;
	*rip = cpu->s.rip;
	if (cpu->cur_block && !runs_through_thunk(cpu->cur_insn))
		*rip = (cpu->cur_block_rip + cpu->cur_insn->off) & cpu->ip_mask;
}

uint64_t cpu_icount(const struct cpu *cpu)
{
	return cpu_icount_now(cpu);
}

uint64_t cpu_tsc(struct cpu *cpu)
{
	uint64_t now = cpu->bus.tsc_now ? cpu->bus.tsc_now(cpu->bus.opaque)
					: cpu_icount_now(cpu);
	return now + cpu->s.msr.tsc_offset;
}

void cpu_invalidate_code(struct cpu *cpu, uint64_t paddr, uint64_t len)
{
	uint64_t first, last;
	if (!len)
		return;
	first = paddr >> 12;
	last = (paddr + len - 1) >> 12;
	for (uint64_t pg = first; pg <= last; pg++)
		if (codecache_page_has_code(cpu, pg << 12))
			codecache_invalidate_page(cpu, pg << 12);
}

void cpu_flush_tlb(struct cpu *cpu)
{
	tlb_flush(cpu, true);
	cpu->end_block = true;
}
