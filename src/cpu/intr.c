/* Interrupt and exception delivery: the real-mode IVT and the protected-mode
 * IDT with interrupt, trap and task gates, privilege changes through the
 * TSS stacks, and exits from virtual-8086 mode (SDM vol. 3, 6.12-6.14 and
 * 20.3). */
#include "cpu/block.h"
#include "cpu/fault.h"
#include "cpu/flags.h"
#include "cpu/mem.h"
#include "cpu/mode.h"
#include "cpu/seg.h"
#include "cpu/stack.h"
#include "cpu/task.h"

static void deliver_real(struct cpu *cpu, int vector, uint64_t ret)
{
	uint64_t ent;
	uint64_t sp;
	uint16_t flags = (uint16_t)flags_get(cpu);

	if ((uint32_t)vector * 4 + 3 > cpu->s.idtr.limit)
		cpu_fault(cpu, EXC_GP, (uint32_t)vector * 8 + 2);
	ent = lin_read(cpu, cpu->s.idtr.base + (uint64_t)vector * 4, 4, false);
	sp = stack_sp(cpu);
	stack_push_at(cpu, &sp, 2, flags);
	stack_push_at(cpu, &sp, 2, cpu->s.seg[S_CS].selector);
	stack_push_at(cpu, &sp, 2, ret);
	stack_set_sp(cpu, sp);
	cpu->s.rflags &= ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF);
	seg_load_real(cpu, S_CS, (uint16_t)(ent >> 16));
	cpu->s.rip = ent & 0xffff;
}

/* TSS stack pointer for privilege level `dpl` (SDM vol. 3, 7.2.1). */
void tss_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *esp)
{
	const struct x86_segment *tr = &cpu->s.tr;
	bool tss32 = (tr->ar & AR_TYPE_MASK) == DT_TSS32_BUSY;
	unsigned off = tss32 ? 4 + 8 * dpl : 2 + 4 * dpl;
	unsigned n = tss32 ? 8 : 4;
	if (off + n - 1 > tr->limit)
		cpu_fault(cpu, EXC_TS, sel_err(tr->selector));
	if (tss32) {
		*esp = (uint32_t)lin_read(cpu, tr->base + off, 4, false);
		*ss = (uint16_t)lin_read(cpu, tr->base + off + 4, 2, false);
	} else {
		*esp = (uint16_t)lin_read(cpu, tr->base + off, 2, false);
		*ss = (uint16_t)lin_read(cpu, tr->base + off + 2, 2, false);
	}
}

/* Checks the stack segment a privilege change switches to (#TS rules of
 * the interrupt and call-gate paths). */
void check_new_ss(struct cpu *cpu, uint16_t ss, unsigned new_cpl, uint32_t ext,
		  struct desc *d)
{
	if ((ss & ~3u) == 0)
		cpu_fault(cpu, EXC_TS, ext);
	if (!desc_read(cpu, ss, d))
		cpu_fault(cpu, EXC_TS, sel_err(ss) | ext);
	if ((ss & 3) != new_cpl || desc_dpl(d) != new_cpl ||
	    !desc_is_data(d) || !desc_data_writable(d))
		cpu_fault(cpu, EXC_TS, sel_err(ss) | ext);
	if (!desc_present(d))
		cpu_fault(cpu, EXC_SS, sel_err(ss) | ext);
}

static void deliver_protected(struct cpu *cpu, int vector, enum intr_kind kind,
			      bool has_err, uint32_t error, uint64_t ret)
{
	uint32_t ext = (kind == INTR_EXT || kind == INTR_EXC) ? 1 : 0;
	uint32_t gate_err = (uint32_t)vector * 8 + 2 + ext;
	struct desc g, cs;
	uint64_t v;
	unsigned type, dpl, gate_size;
	uint16_t csel;
	uint32_t offset;
	bool from_v86 = cpu_vm86(cpu);
	uint64_t old_flags = flags_get(cpu);
	struct x86_segment old_cs = cpu->s.seg[S_CS], old_ss = cpu->s.seg[S_SS];
	uint64_t old_sp = cpu->s.gpr[R_SP];
	struct stack_view ps;
	unsigned new_cpl;
	struct x86_segment new_ss_cache;
	bool stack_switch;

	if ((uint32_t)vector * 8 + 7 > cpu->s.idtr.limit)
		cpu_fault(cpu, EXC_GP, gate_err);
	v = lin_read(cpu, cpu->s.idtr.base + (uint64_t)vector * 8, 8, false);
	g.lo = (uint32_t)v;
	g.hi = (uint32_t)(v >> 32);
	type = desc_type(&g);
	if (desc_s(&g) ||
	    !(type == DT_TASKGATE || type == DT_INTGATE16 ||
	      type == DT_TRAPGATE16 || type == DT_INTGATE32 ||
	      type == DT_TRAPGATE32))
		cpu_fault(cpu, EXC_GP, gate_err);
	if ((kind == INTR_SOFT || kind == INTR_SOFT_EXC) && desc_dpl(&g) < cpu->cpl)
		cpu_fault(cpu, EXC_GP, gate_err);
	if (!desc_present(&g))
		cpu_fault(cpu, EXC_NP, gate_err);

	if (type == DT_TASKGATE) {
		struct desc tss;
		uint16_t tsel = gate_selector(&g);
		if ((tsel & 4) || !desc_read(cpu, tsel, &tss))
			cpu_fault(cpu, EXC_GP, sel_err(tsel) | ext);
		task_switch(cpu, tsel, &tss, TASK_INT, ext, ret);
		if (has_err) {
			unsigned sz = (cpu->s.tr.ar & AR_TYPE_MASK) == DT_TSS32_BUSY ? 4 : 2;
			stack_push(cpu, sz, error);
		}
		return;
	}

	gate_size = (type & 8) ? 4 : 2;
	csel = gate_selector(&g);
	offset = gate_offset(&g);
	if (gate_size == 2)
		offset &= 0xffff;
	if ((csel & ~3u) == 0)
		cpu_fault(cpu, EXC_GP, ext);
	if (!desc_read(cpu, csel, &cs))
		cpu_fault(cpu, EXC_GP, sel_err(csel) | ext);
	dpl = desc_dpl(&cs);
	if (!desc_is_code(&cs) || dpl > cpu->cpl)
		cpu_fault(cpu, EXC_GP, sel_err(csel) | ext);
	if (!desc_present(&cs))
		cpu_fault(cpu, EXC_NP, sel_err(csel) | ext);

	stack_switch = !desc_code_conforming(&cs) && dpl < cpu->cpl;
	if (from_v86 && (!stack_switch || dpl != 0))
		cpu_fault(cpu, EXC_GP, sel_err(csel) | ext);
	new_cpl = stack_switch ? dpl : cpu->cpl;

	if (stack_switch) {
		uint16_t nss;
		uint32_t nesp;
		struct desc ssd;
		tss_stack(cpu, dpl, &nss, &nesp);
		check_new_ss(cpu, nss, dpl, ext, &ssd);
		desc_to_seg(&ssd, nss, &new_ss_cache);
		stack_view_init(&ps, &new_ss_cache, nesp, sel_err(nss) | ext,
				new_cpl == 3);
		if (from_v86) {
			stack_view_push(cpu, &ps, gate_size, cpu->s.seg[S_GS].selector);
			stack_view_push(cpu, &ps, gate_size, cpu->s.seg[S_FS].selector);
			stack_view_push(cpu, &ps, gate_size, cpu->s.seg[S_DS].selector);
			stack_view_push(cpu, &ps, gate_size, cpu->s.seg[S_ES].selector);
		}
		stack_view_push(cpu, &ps, gate_size, old_ss.selector);
		stack_view_push(cpu, &ps, gate_size, old_sp);
	} else {
		stack_view_init(&ps, &old_ss, old_sp, 0, new_cpl == 3);
	}
	stack_view_push(cpu, &ps, gate_size, old_flags);
	stack_view_push(cpu, &ps, gate_size, old_cs.selector);
	stack_view_push(cpu, &ps, gate_size, ret);
	if (has_err)
		stack_view_push(cpu, &ps, gate_size, error);
	{
		struct x86_segment ncs;
		desc_to_seg(&cs, csel, &ncs);
		if (offset > ncs.limit)
			cpu_fault(cpu, EXC_GP, 0);
	}

	/* Everything that can fault has been done: commit. */
	if (stack_switch) {
		struct desc ssd;
		uint16_t nss = (uint16_t)new_ss_cache.selector;
		desc_read(cpu, nss, &ssd);
		if (!(ssd.hi & 0x100)) {
			ssd.hi |= 0x100;
			desc_write_hi(cpu, nss, ssd.hi);
		}
		cpu->s.seg[S_SS] = new_ss_cache;
		cpu->s.seg[S_SS].ar |= AR_TYPE_ACCESSED;
		if (from_v86) {
			seg_set_null(cpu, S_ES, 0);
			seg_set_null(cpu, S_DS, 0);
			seg_set_null(cpu, S_FS, 0);
			seg_set_null(cpu, S_GS, 0);
		}
	}
	if (!(cs.hi & 0x100)) {
		cs.hi |= 0x100;
		desc_write_hi(cpu, csel, cs.hi);
	}
	desc_to_seg(&cs, (uint16_t)((csel & ~3u) | new_cpl), &cpu->s.seg[S_CS]);
	cpu->cpl = (uint8_t)new_cpl;
	cpu->s.rflags &= ~(uint64_t)(FL_TF | FL_NT | FL_VM | FL_RF);
	if (!(type & 1))
		cpu->s.rflags &= ~(uint64_t)FL_IF;
	cpu_update_mode(cpu);
	stack_set_sp(cpu, ps.sp);
	cpu->s.rip = offset;
}

/* CPU_LOG_INT: one report per delivery, before it (a fault while
 * delivering is reported as the next one). */
static void log_intr(struct cpu *cpu, int vector, enum intr_kind kind,
		     bool has_err, uint32_t error, uint64_t return_rip)
{
	struct cpu_log_intr e = {
		.vector = (uint8_t)vector,
		.kind = kind == INTR_EXT ? CPU_INTR_HW
			: kind == INTR_EXC ? CPU_INTR_EXC : CPU_INTR_SOFT,
		.has_error = has_err,
		.error = error,
		.cpl = cpu->cpl,
		.cs = cpu->s.seg[S_CS].selector,
		.ss = cpu->s.seg[S_SS].selector,
		.rip = return_rip,
		.pc = (cpu->s.seg[S_CS].base + return_rip) & cpu->lin_mask,
		.sp = cpu->s.gpr[R_SP],
		.cr2 = cpu->s.cr2,
		.icount = cpu_icount_now(cpu),
	};
	cpu->log.intr(cpu->log.opaque, &e);
}

void intr_deliver(struct cpu *cpu, int vector, enum intr_kind kind,
		  bool has_err, uint32_t error, uint64_t return_rip)
{
	if (unlikely(cpu->log_mask & CPU_LOG_INT))
		log_intr(cpu, vector, kind, has_err, error, return_rip);
	flags_get(cpu);
	if (!cpu_pe(cpu))
		deliver_real(cpu, vector, return_rip);
	else
		deliver_protected(cpu, vector, kind, has_err, error, return_rip);
	cpu->next_rip = cpu->s.rip;
	cpu->end_block = true;
	cpu->s.ev.halted = 0;
	if (kind == INTR_SOFT || kind == INTR_SOFT_EXC)
		cpu->skip_tf_trap = true;
}
