/* Hardware task switch (SDM vol. 3, 7.3): save the outgoing task into its
 * TSS, load the incoming one, with the busy-bit, NT and back-link rules of
 * JMP, CALL, interrupts and IRET. Errors after the commit point are raised
 * in the context of the new task, as the SDM specifies. */
#include "cpu/fault.h"
#include "cpu/flags.h"
#include "cpu/mem.h"
#include "cpu/mode.h"
#include "cpu/task.h"

static void tss_w(struct cpu *cpu, uint64_t base, unsigned off, unsigned size,
		  uint64_t v)
{
	lin_write(cpu, (base + off) & 0xffffffffull, size, v, false);
}

static uint64_t tss_r(struct cpu *cpu, uint64_t base, unsigned off,
		      unsigned size)
{
	return lin_read(cpu, (base + off) & 0xffffffffull, size, false);
}

/* Loads a segment register of the new task; faults are #TS(selector). */
static void task_load_seg(struct cpu *cpu, int sreg, uint16_t sel)
{
	struct desc d;
	unsigned cpl = cpu->cpl, rpl = sel & 3;

	if (cpu_vm86(cpu)) {
		seg_load_real(cpu, sreg, sel);
		return;
	}
	if ((sel & ~3u) == 0) {
		if (sreg == S_SS || sreg == S_CS)
			cpu_fault(cpu, EXC_TS, 0);
		seg_set_null(cpu, sreg, sel);
		return;
	}
	if (!desc_read(cpu, sel, &d))
		cpu_fault(cpu, EXC_TS, sel_err(sel));
	if (sreg == S_CS) {
		if (!desc_is_code(&d))
			cpu_fault(cpu, EXC_TS, sel_err(sel));
		if (desc_code_conforming(&d) ? desc_dpl(&d) > rpl
					     : desc_dpl(&d) != rpl)
			cpu_fault(cpu, EXC_TS, sel_err(sel));
		if (!desc_present(&d))
			cpu_fault(cpu, EXC_NP, sel_err(sel));
	} else if (sreg == S_SS) {
		if (!desc_is_data(&d) || !desc_data_writable(&d) ||
		    rpl != cpl || desc_dpl(&d) != cpl)
			cpu_fault(cpu, EXC_TS, sel_err(sel));
		if (!desc_present(&d))
			cpu_fault(cpu, EXC_SS, sel_err(sel));
	} else {
		if (!desc_s(&d) || (desc_is_code(&d) && !desc_code_readable(&d)))
			cpu_fault(cpu, EXC_TS, sel_err(sel));
		if ((desc_is_data(&d) || !desc_code_conforming(&d)) &&
		    (rpl > desc_dpl(&d) || cpl > desc_dpl(&d)))
			cpu_fault(cpu, EXC_TS, sel_err(sel));
		if (!desc_present(&d))
			cpu_fault(cpu, EXC_NP, sel_err(sel));
	}
	seg_install(cpu, sreg, sel, &d);
}

void task_switch(struct cpu *cpu, uint16_t sel, struct desc *d,
		 enum task_reason reason, uint32_t ext, uint64_t save_eip)
{
	unsigned type = desc_type(d);
	bool new32, old32;
	struct x86_segment ntr;
	uint64_t ob = cpu->s.tr.base, nb;
	uint32_t min_limit;
	uint64_t flags = flags_get(cpu);
	uint32_t eip, nflags, cr3 = 0;
	uint32_t regs[8];
	uint16_t segs[S_NR], ldt;
	uint16_t old_sel = cpu->s.tr.selector;

	/* Checks on the new TSS descriptor. */
	if (reason == TASK_IRET) {
		if (type != DT_TSS16_BUSY && type != DT_TSS32_BUSY)
			cpu_fault(cpu, EXC_TS, sel_err(sel) | ext);
	} else if (desc_s(d) || (type != DT_TSS16_AVAIL && type != DT_TSS32_AVAIL)) {
		cpu_fault(cpu, EXC_GP, sel_err(sel) | ext);
	}
	if (!desc_present(d))
		cpu_fault(cpu, EXC_NP, sel_err(sel) | ext);
	new32 = (type & 8) != 0;
	desc_to_seg(d, sel, &ntr);
	min_limit = new32 ? 0x67 : 0x2b;
	if (ntr.limit < min_limit)
		cpu_fault(cpu, EXC_TS, sel_err(sel) | ext);
	nb = ntr.base;
	old32 = (cpu->s.tr.ar & AR_TYPE_MASK) == DT_TSS32_BUSY;

	/* Read the whole new state first, so a fault here changes nothing
	 * (page faults on the new TSS come before the commit point). */
	if (new32) {
		if (cpu->s.cr0 & CR0_PG)
			cr3 = (uint32_t)tss_r(cpu, nb, 0x1c, 4);
		eip = (uint32_t)tss_r(cpu, nb, 0x20, 4);
		nflags = (uint32_t)tss_r(cpu, nb, 0x24, 4);
		for (int i = 0; i < 8; i++)
			regs[i] = (uint32_t)tss_r(cpu, nb, 0x28 + 4 * i, 4);
		for (int i = 0; i < S_NR; i++)
			segs[i] = (uint16_t)tss_r(cpu, nb, 0x48 + 4 * i, 2);
		ldt = (uint16_t)tss_r(cpu, nb, 0x60, 2);
	} else {
		eip = (uint16_t)tss_r(cpu, nb, 0x0e, 2);
		nflags = (uint16_t)tss_r(cpu, nb, 0x10, 2);
		for (int i = 0; i < 8; i++)
			regs[i] = 0xffff0000u | (uint16_t)tss_r(cpu, nb, 0x12 + 2 * i, 2);
		for (int i = 0; i < 4; i++)
			segs[i] = (uint16_t)tss_r(cpu, nb, 0x22 + 2 * i, 2);
		segs[S_FS] = segs[S_GS] = 0;
		ldt = (uint16_t)tss_r(cpu, nb, 0x2a, 2);
	}

	/* Save the outgoing task. */
	if (reason == TASK_IRET)
		flags &= ~(uint64_t)FL_NT;
	if (old32) {
		tss_w(cpu, ob, 0x20, 4, save_eip);
		tss_w(cpu, ob, 0x24, 4, flags);
		for (int i = 0; i < 8; i++)
			tss_w(cpu, ob, 0x28 + 4 * i, 4, cpu->s.gpr[i]);
		for (int i = 0; i < S_NR; i++)
			tss_w(cpu, ob, 0x48 + 4 * i, 2, cpu->s.seg[i].selector);
	} else {
		tss_w(cpu, ob, 0x0e, 2, save_eip);
		tss_w(cpu, ob, 0x10, 2, flags);
		for (int i = 0; i < 8; i++)
			tss_w(cpu, ob, 0x12 + 2 * i, 2, cpu->s.gpr[i]);
		for (int i = 0; i < 4; i++)
			tss_w(cpu, ob, 0x22 + 2 * i, 2, cpu->s.seg[i].selector);
	}
	if (reason == TASK_JMP || reason == TASK_IRET) {
		struct desc od;
		if (desc_read(cpu, old_sel, &od)) {
			od.hi &= ~0x200u; /* busy -> available */
			desc_write_hi(cpu, old_sel, od.hi);
		}
	}
	if (reason == TASK_CALL || reason == TASK_INT) {
		nflags |= FL_NT;
		tss_w(cpu, nb, 0, 2, old_sel);
	}
	if (reason != TASK_IRET) {
		d->hi |= 0x200; /* available -> busy */
		desc_write_hi(cpu, sel, d->hi);
	}

	/* Commit point: from here faults belong to the new task. */
	ntr.ar |= 0x2;
	cpu->s.tr = ntr;
	cpu->s.cr0 |= CR0_TS;
	if (new32 && (cpu->s.cr0 & CR0_PG)) {
		cpu->s.cr3 = cr3;
		tlb_flush(cpu, false);
	}
	for (int i = 0; i < 8; i++)
		cpu->s.gpr[i] = new32 ? regs[i] : ((cpu->s.gpr[i] & ~0xffffull) | (regs[i] & 0xffff));
	if (!new32)
		nflags = (uint32_t)((flags & ~0xffffull) | (nflags & 0xffff));
	flags_set(cpu, nflags | FL_FIXED1, ~0ull);
	cpu->s.rip = eip;
	/* Selectors first, with null descriptors, so a fault leaves the
	 * registers in a defined state. */
	for (int i = 0; i < S_NR; i++)
		cpu->s.seg[i].selector = segs[i];
	cpu->s.ldtr.selector = ldt;
	if (nflags & FL_VM) {
		cpu->cpl = 3;
		cpu_update_mode(cpu);
		for (int i = 0; i < S_NR; i++)
			seg_load_real(cpu, i, segs[i]);
	} else {
		struct desc ld;
		cpu->cpl = segs[S_CS] & 3;
		cpu_update_mode(cpu);
		if ((ldt & ~3u) == 0) {
			cpu->s.ldtr.ar = AR_UNUSABLE;
		} else {
			if ((ldt & 4) || !desc_read(cpu, ldt, &ld) ||
			    desc_s(&ld) || desc_type(&ld) != DT_LDT)
				cpu_fault(cpu, EXC_TS, sel_err(ldt));
			if (!desc_present(&ld))
				cpu_fault(cpu, EXC_TS, sel_err(ldt));
			desc_to_seg(&ld, ldt, &cpu->s.ldtr);
		}
		task_load_seg(cpu, S_CS, segs[S_CS]);
		task_load_seg(cpu, S_SS, segs[S_SS]);
		task_load_seg(cpu, S_DS, segs[S_DS]);
		task_load_seg(cpu, S_ES, segs[S_ES]);
		task_load_seg(cpu, S_FS, segs[S_FS]);
		task_load_seg(cpu, S_GS, segs[S_GS]);
	}
	cpu_update_mode(cpu);
	cpu->next_rip = cpu->s.rip;
	cpu->end_block = true;
	if (cpu->s.rip > cpu->s.seg[S_CS].limit)
		cpu_fault(cpu, EXC_GP, 0);
}
