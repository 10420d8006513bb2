/* Far control transfers and software interrupts (SDM vol. 2: JMP, CALL,
 * RET, IRET, INT n/INTO/INT3/INT1, BOUND; vol. 3, 5.8 call gates, 7.3 task
 * switching, 20.3 virtual-8086 interrupts). Every check that can fault
 * runs before any architectural state is written. */
#include "cpu/exec.h"
#include "cpu/seg.h"
#include "cpu/task.h"

/* Sets the stack pointer for a stack of the given address size. */
static void set_sp_sized(struct cpu *cpu, uint64_t sp, bool big)
{
	if (big)
		cpu->s.gpr[R_SP] = (uint32_t)sp;
	else
		cpu->s.gpr[R_SP] = (cpu->s.gpr[R_SP] & ~0xffffull) | (sp & 0xffff);
}

/* Reads from the current stack at `sp + off` (stack address size). */
static uint64_t stack_read(struct cpu *cpu, uint64_t sp, uint64_t off,
			   unsigned size)
{
	return mem_read(cpu, S_SS, (sp + off) & stack_ptr_mask(cpu), size);
}

/* Installs CS at privilege `cpl` and jumps. The descriptor's limit has
 * been checked by the caller. */
static void load_cs(struct cpu *cpu, uint16_t sel, struct desc *d,
		    unsigned cpl, uint64_t eip)
{
	cpu->cpl = (uint8_t)cpl;
	seg_install(cpu, S_CS, (uint16_t)((sel & ~3u) | cpl), d);
	cpu->next_rip = eip;
	cpu->end_block = true;
}

static uint32_t desc_limit(const struct desc *d)
{
	struct x86_segment s;
	desc_to_seg(d, 0, &s);
	return s.limit;
}

/* ---- real and virtual-8086 mode ---- */

static void far_real(struct cpu *cpu, uint16_t sel, uint64_t eip)
{
	if (eip > cpu->s.seg[S_CS].limit)
		GP0(cpu);
	seg_load_real(cpu, S_CS, sel);
	cpu->next_rip = eip;
	cpu->end_block = true;
}

/* ---- protected mode: checks shared by JMP and CALL ---- */

/* The code-segment rules of a direct far JMP/CALL (SDM vol. 3, 5.8.1). */
static void check_direct_code(struct cpu *cpu, uint16_t sel,
			      const struct desc *d)
{
	unsigned dpl = desc_dpl(d), rpl = sel & 3;
	if (desc_code_conforming(d)) {
		if (dpl > cpu->cpl)
			cpu_fault(cpu, EXC_GP, sel_err(sel));
	} else {
		if (rpl > cpu->cpl || dpl != cpu->cpl)
			cpu_fault(cpu, EXC_GP, sel_err(sel));
	}
	if (!desc_present(d))
		cpu_fault(cpu, EXC_NP, sel_err(sel));
}

/* The outgoing task resumes after this instruction; task_switch() checks
 * the new TSS before it commits anything, so its faults belong to this
 * instruction. */
static void switch_task(struct cpu *cpu, uint16_t tsel, struct desc *tss,
			enum task_reason reason)
{
	task_switch(cpu, tsel, tss, reason, 0, cpu->next_rip);
}

/* A task gate or TSS named by JMP/CALL: the switch itself checks the TSS
 * type, presence and limit. */
static void far_task(struct cpu *cpu, uint16_t sel, struct desc *d,
		     enum task_reason reason)
{
	unsigned type = desc_type(d);
	struct desc tss;
	uint16_t tsel = sel;

	if (desc_dpl(d) < cpu->cpl || desc_dpl(d) < (sel & 3u))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (type == DT_TASKGATE) {
		if (!desc_present(d))
			cpu_fault(cpu, EXC_NP, sel_err(sel));
		tsel = gate_selector(d);
		if ((tsel & 4) || !desc_read(cpu, tsel, &tss))
			cpu_fault(cpu, EXC_GP, sel_err(tsel));
		if (desc_s(&tss) || (desc_type(&tss) != DT_TSS16_AVAIL &&
				     desc_type(&tss) != DT_TSS32_AVAIL))
			cpu_fault(cpu, EXC_GP, sel_err(tsel));
		if (!desc_present(&tss))
			cpu_fault(cpu, EXC_NP, sel_err(tsel));
	} else {
		if (sel & 4)
			cpu_fault(cpu, EXC_GP, sel_err(sel));
		tss = *d;
	}
	switch_task(cpu, tsel, &tss, reason);
}

/* Reads the code segment a call gate names and checks it: `*cs` receives
 * its descriptor. */
static void gate_target(struct cpu *cpu, const struct desc *g,
			struct desc *cs)
{
	uint16_t csel = gate_selector(g);
	if ((csel & ~3u) == 0)
		GP0(cpu);
	if (!desc_read(cpu, csel, cs))
		cpu_fault(cpu, EXC_GP, sel_err(csel));
	if (!desc_is_code(cs) || desc_dpl(cs) > cpu->cpl)
		cpu_fault(cpu, EXC_GP, sel_err(csel));
	if (!desc_present(cs))
		cpu_fault(cpu, EXC_NP, sel_err(csel));
}

static uint32_t gate_eip(const struct desc *g)
{
	uint32_t off = gate_offset(g);
	return desc_type(g) == DT_CALLGATE16 ? off & 0xffff : off;
}

static void jmp_far_prot(struct cpu *cpu, uint16_t sel, uint64_t eip)
{
	struct desc d, cs;

	if ((sel & ~3u) == 0)
		GP0(cpu);
	if (!desc_read(cpu, sel, &d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (desc_is_code(&d)) {
		check_direct_code(cpu, sel, &d);
		if (eip > desc_limit(&d))
			GP0(cpu);
		load_cs(cpu, sel, &d, cpu->cpl, eip);
		return;
	}
	if (desc_s(&d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	switch (desc_type(&d)) {
	case DT_CALLGATE16:
	case DT_CALLGATE32: {
		uint16_t csel = gate_selector(&d);
		uint32_t target;
		if (desc_dpl(&d) < cpu->cpl || desc_dpl(&d) < (sel & 3u))
			cpu_fault(cpu, EXC_GP, sel_err(sel));
		if (!desc_present(&d))
			cpu_fault(cpu, EXC_NP, sel_err(sel));
		gate_target(cpu, &d, &cs);
		/* JMP never changes privilege: nonconforming targets must
		 * be at CPL already. */
		if (!desc_code_conforming(&cs) && desc_dpl(&cs) != cpu->cpl)
			cpu_fault(cpu, EXC_GP, sel_err(csel));
		target = gate_eip(&d);
		if (target > desc_limit(&cs))
			GP0(cpu);
		load_cs(cpu, csel, &cs, cpu->cpl, target);
		return;
	}
	case DT_TASKGATE:
	case DT_TSS16_AVAIL:
	case DT_TSS32_AVAIL:
		far_task(cpu, sel, &d, TASK_JMP);
		return;
	default:
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	}
}

/* CALL through a call gate (SDM vol. 3, 5.8.5): to a more privileged
 * nonconforming segment it switches to the TSS stack of the target level,
 * copies the gate's parameter count from the old stack and pushes the
 * old SS:ESP and CS:EIP. */
static void call_gate(struct cpu *cpu, uint16_t sel, struct desc *g)
{
	struct desc cs;
	uint16_t csel = gate_selector(g);
	unsigned gsize = (desc_type(g) & 8) ? 4 : 2;
	uint32_t target = gate_eip(g);
	unsigned dpl;

	if (desc_dpl(g) < cpu->cpl || desc_dpl(g) < (sel & 3u))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (!desc_present(g))
		cpu_fault(cpu, EXC_NP, sel_err(sel));
	gate_target(cpu, g, &cs);
	dpl = desc_dpl(&cs);

	if (!desc_code_conforming(&cs) && dpl < cpu->cpl) {
		uint16_t nss;
		uint32_t nesp;
		struct desc ssd;
		struct x86_segment ncache;
		struct stack_view fs;
		unsigned nparam = gate_param_count(g);
		uint64_t old_sp = stack_sp(cpu);
		uint64_t params[32];

		tss_stack(cpu, dpl, &nss, &nesp);
		check_new_ss(cpu, nss, dpl, 0, &ssd);
		desc_to_seg(&ssd, nss, &ncache);
		/* The parameters are read before anything is pushed, from
		 * the caller's stack (#SS(0) if they are not there). */
		for (unsigned i = 0; i < nparam; i++)
			params[i] = stack_read(cpu, old_sp, (uint64_t)i * gsize,
					       gsize);
		stack_view_init(&fs, &ncache, nesp, sel_err(nss), false);
		stack_view_push(cpu, &fs, gsize, cpu->s.seg[S_SS].selector);
		stack_view_push(cpu, &fs, gsize, cpu->s.gpr[R_SP]);
		for (unsigned i = nparam; i-- > 0;)
			stack_view_push(cpu, &fs, gsize, params[i]);
		stack_view_push(cpu, &fs, gsize, cpu->s.seg[S_CS].selector);
		stack_view_push(cpu, &fs, gsize, cpu->next_rip);
		if (target > desc_limit(&cs))
			GP0(cpu);
		/* Accessed bits first (they may fault), then commit: the new
		 * stack, then the new code segment. */
		if (!(cs.hi & 0x100)) {
			cs.hi |= 0x100;
			desc_write_hi(cpu, csel, cs.hi);
		}
		if (!(ssd.hi & 0x100)) {
			ssd.hi |= 0x100;
			desc_write_hi(cpu, nss, ssd.hi);
		}
		ncache.ar |= AR_TYPE_ACCESSED;
		cpu->s.seg[S_SS] = ncache;
		set_sp_sized(cpu, fs.sp, (ncache.ar & AR_DB) != 0);
		load_cs(cpu, csel, &cs, dpl, target);
		return;
	}

	/* Same privilege. */
	{
		uint64_t sp = stack_sp(cpu);
		if (target > desc_limit(&cs))
			GP0(cpu);
		stack_push_at(cpu, &sp, gsize, cpu->s.seg[S_CS].selector);
		stack_push_at(cpu, &sp, gsize, cpu->next_rip);
		stack_set_sp(cpu, sp);
		load_cs(cpu, csel, &cs, cpu->cpl, target);
	}
}

static void call_far_prot(struct cpu *cpu, uint16_t sel, uint64_t eip,
			  unsigned opsize)
{
	struct desc d;

	if ((sel & ~3u) == 0)
		GP0(cpu);
	if (!desc_read(cpu, sel, &d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (desc_is_code(&d)) {
		uint64_t sp = stack_sp(cpu);
		check_direct_code(cpu, sel, &d);
		stack_push_at(cpu, &sp, opsize, cpu->s.seg[S_CS].selector);
		stack_push_at(cpu, &sp, opsize, cpu->next_rip);
		if (eip > desc_limit(&d))
			GP0(cpu);
		stack_set_sp(cpu, sp);
		load_cs(cpu, sel, &d, cpu->cpl, eip);
		return;
	}
	if (desc_s(&d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	switch (desc_type(&d)) {
	case DT_CALLGATE16:
	case DT_CALLGATE32:
		call_gate(cpu, sel, &d);
		return;
	case DT_TASKGATE:
	case DT_TSS16_AVAIL:
	case DT_TSS32_AVAIL:
		far_task(cpu, sel, &d, TASK_CALL);
		return;
	default:
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	}
}

static void jmp_far(struct cpu *cpu, uint16_t sel, uint64_t eip)
{
	if (cpu_protected(cpu))
		jmp_far_prot(cpu, sel, eip);
	else
		far_real(cpu, sel, eip);
}

static void call_far(struct cpu *cpu, uint16_t sel, uint64_t eip,
		     unsigned opsize)
{
	if (cpu_protected(cpu)) {
		call_far_prot(cpu, sel, eip, opsize);
		return;
	}
	{
		uint64_t sp = stack_sp(cpu);
		if (eip > cpu->s.seg[S_CS].limit)
			GP0(cpu);
		stack_push_at(cpu, &sp, opsize, cpu->s.seg[S_CS].selector);
		stack_push_at(cpu, &sp, opsize, cpu->next_rip);
		stack_set_sp(cpu, sp);
		far_real(cpu, sel, eip);
	}
}

void op_jmp_far(struct cpu *cpu, const struct insn *in)
{
	jmp_far(cpu, insn_imm2(in), in->imm & size_mask(in->opsize));
}

void op_call_far(struct cpu *cpu, const struct insn *in)
{
	call_far(cpu, insn_imm2(in), in->imm & size_mask(in->opsize), in->opsize);
}

/* The m16:16 / m16:32 operand of an indirect far JMP/CALL. */
static void read_farptr(struct cpu *cpu, const struct insn *in,
			uint16_t *sel, uint64_t *off)
{
	uint64_t ea = insn_ea(cpu, in);
	*off = mem_read(cpu, in->seg, ea, in->opsize);
	*sel = (uint16_t)mem_read(cpu, in->seg,
				  (ea + in->opsize) & size_mask(in->adsize), 2);
}

void op_jmp_far_E(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t off;
	read_farptr(cpu, in, &sel, &off);
	jmp_far(cpu, sel, off);
}

void op_call_far_E(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t off;
	read_farptr(cpu, in, &sel, &off);
	call_far(cpu, sel, off, in->opsize);
}

/* ---- returns ---- */

/* The checks on the code segment a RETF/IRET returns to (SDM vol. 2,
 * RET "Operation", protected mode). */
static void check_return_cs(struct cpu *cpu, uint16_t rsel, struct desc *d)
{
	unsigned rpl = rsel & 3;
	if ((rsel & ~3u) == 0)
		GP0(cpu);
	if (!desc_read(cpu, rsel, d))
		cpu_fault(cpu, EXC_GP, sel_err(rsel));
	if (!desc_is_code(d) || rpl < cpu->cpl)
		cpu_fault(cpu, EXC_GP, sel_err(rsel));
	if (desc_code_conforming(d) ? desc_dpl(d) > rpl : desc_dpl(d) != rpl)
		cpu_fault(cpu, EXC_GP, sel_err(rsel));
	if (!desc_present(d))
		cpu_fault(cpu, EXC_NP, sel_err(rsel));
}

/* The checks on the stack segment of a return to an outer level. */
static void check_return_ss(struct cpu *cpu, uint16_t ssel, unsigned rpl,
			    struct desc *d)
{
	if ((ssel & ~3u) == 0)
		GP0(cpu);
	if (!desc_read(cpu, ssel, d))
		cpu_fault(cpu, EXC_GP, sel_err(ssel));
	if ((ssel & 3) != rpl || !desc_is_data(d) || !desc_data_writable(d) ||
	    desc_dpl(d) != rpl)
		cpu_fault(cpu, EXC_GP, sel_err(ssel));
	if (!desc_present(d))
		cpu_fault(cpu, EXC_SS, sel_err(ssel));
}

/* Loads SS:ESP of the outer level after CS has been loaded (CPL already
 * lowered), then adds the immediate of RETF imm16. */
static void load_outer_stack(struct cpu *cpu, uint16_t ssel, struct desc *d,
			     uint64_t esp, unsigned opsize, uint64_t imm)
{
	/* The new stack's B bit decides between SP and ESP; a 16-bit
	 * return into a 32-bit stack zero-extends the popped SP. */
	seg_install(cpu, S_SS, ssel, d);
	set_sp_sized(cpu, (esp & size_mask(opsize)) + imm,
		     (cpu->s.seg[S_SS].ar & AR_DB) != 0);
}

static void retf(struct cpu *cpu, const struct insn *in, uint64_t imm)
{
	unsigned os = in->opsize;
	uint64_t sp = stack_sp(cpu);
	uint64_t eip = stack_read(cpu, sp, 0, os) & size_mask(os);
	uint16_t rsel = (uint16_t)stack_read(cpu, sp, os, os);
	struct desc cs, ss;

	if (!cpu_protected(cpu)) {
		if (eip > cpu->s.seg[S_CS].limit)
			GP0(cpu);
		stack_set_sp(cpu, sp + 2 * os + imm);
		far_real(cpu, rsel, eip);
		return;
	}
	check_return_cs(cpu, rsel, &cs);
	if ((rsel & 3u) == cpu->cpl) {
		if (eip > desc_limit(&cs))
			GP0(cpu);
		stack_set_sp(cpu, sp + 2 * os + imm);
		load_cs(cpu, rsel, &cs, cpu->cpl, eip);
		return;
	}
	{
		unsigned rpl = rsel & 3;
		uint64_t esp = stack_read(cpu, sp, 2 * os + imm, os);
		uint16_t ssel = (uint16_t)stack_read(cpu, sp, 3 * os + imm, os);
		check_return_ss(cpu, ssel, rpl, &ss);
		if (eip > desc_limit(&cs))
			GP0(cpu);
		load_cs(cpu, rsel, &cs, rpl, eip);
		load_outer_stack(cpu, ssel, &ss, esp, os, imm);
		seg_null_invalid_after_return(cpu);
	}
}

void op_retf(struct cpu *cpu, const struct insn *in)
{
	retf(cpu, in, 0);
}

void op_retf_imm(struct cpu *cpu, const struct insn *in)
{
	retf(cpu, in, in->imm & 0xffff);
}

/* IRET from protected mode back into virtual-8086 mode (CPL 0, popped
 * EFLAGS.VM set): the segment registers come from the stack too. */
static void iret_to_v86(struct cpu *cpu, uint64_t sp, uint64_t eip,
			uint16_t csel, uint32_t fl)
{
	uint32_t esp = (uint32_t)stack_read(cpu, sp, 12, 4);
	uint16_t ss = (uint16_t)stack_read(cpu, sp, 16, 4);
	uint16_t es = (uint16_t)stack_read(cpu, sp, 20, 4);
	uint16_t ds = (uint16_t)stack_read(cpu, sp, 24, 4);
	uint16_t fs = (uint16_t)stack_read(cpu, sp, 28, 4);
	uint16_t gs = (uint16_t)stack_read(cpu, sp, 32, 4);

	flags_set(cpu, fl | FL_FIXED1, ~0ull);
	cpu->cpl = 3;
	cpu_update_mode(cpu);
	seg_load_real(cpu, S_CS, csel);
	seg_load_real(cpu, S_SS, ss);
	seg_load_real(cpu, S_ES, es);
	seg_load_real(cpu, S_DS, ds);
	seg_load_real(cpu, S_FS, fs);
	seg_load_real(cpu, S_GS, gs);
	cpu->s.gpr[R_SP] = esp;
	cpu->next_rip = eip & 0xffff;
	cpu->end_block = true;
}

/* The EFLAGS bits IRET may change in protected mode, by privilege. */
static uint64_t iret_flag_mask(const struct cpu *cpu, unsigned opsize)
{
	unsigned iopl = (cpu->s.rflags & FL_IOPL) >> FL_IOPL_SHIFT;
	uint64_t m = FL_ARITH | FL_TF | FL_DF | FL_NT;
	if (opsize >= 4)
		m |= FL_RF | FL_AC | FL_ID;
	if (cpu->cpl <= iopl)
		m |= FL_IF;
	if (cpu->cpl == 0) {
		m |= FL_IOPL;
		if (opsize >= 4)
			m |= FL_VIF | FL_VIP;
	}
	return m;
}

static void iret_task(struct cpu *cpu)
{
	struct desc d;
	uint16_t link;

	link = (uint16_t)lin_read(cpu, cpu->s.tr.base, 2, false);
	if ((link & 4) || (link & ~3u) == 0 || !desc_read(cpu, link, &d))
		cpu_fault(cpu, EXC_TS, sel_err(link));
	if (desc_s(&d) || (desc_type(&d) != DT_TSS16_BUSY &&
			   desc_type(&d) != DT_TSS32_BUSY))
		cpu_fault(cpu, EXC_TS, sel_err(link));
	switch_task(cpu, link, &d, TASK_IRET);
}

static void iret_prot(struct cpu *cpu, const struct insn *in)
{
	unsigned os = in->opsize;
	uint64_t sp = stack_sp(cpu);
	uint64_t eip, fl;
	uint16_t rsel;
	struct desc cs, ss;
	uint64_t mask;

	if (cpu->s.rflags & FL_NT) {
		iret_task(cpu);
		return;
	}
	eip = stack_read(cpu, sp, 0, os) & size_mask(os);
	rsel = (uint16_t)stack_read(cpu, sp, os, os);
	fl = stack_read(cpu, sp, 2 * os, os);
	if (os == 4 && (fl & FL_VM) && cpu->cpl == 0) {
		iret_to_v86(cpu, sp, eip, rsel, (uint32_t)fl);
		return;
	}
	check_return_cs(cpu, rsel, &cs);
	mask = iret_flag_mask(cpu, os);
	if (os == 2)
		mask &= 0xffff;
	if ((rsel & 3u) == cpu->cpl) {
		if (eip > desc_limit(&cs))
			GP0(cpu);
		stack_set_sp(cpu, sp + 3 * os);
		flags_set(cpu, fl, mask);
		load_cs(cpu, rsel, &cs, cpu->cpl, eip);
		return;
	}
	{
		unsigned rpl = rsel & 3;
		uint64_t esp = stack_read(cpu, sp, 3 * os, os);
		uint16_t ssel = (uint16_t)stack_read(cpu, sp, 4 * os, os);
		check_return_ss(cpu, ssel, rpl, &ss);
		if (eip > desc_limit(&cs))
			GP0(cpu);
		flags_set(cpu, fl, mask);
		load_cs(cpu, rsel, &cs, rpl, eip);
		load_outer_stack(cpu, ssel, &ss, esp, os, 0);
		seg_null_invalid_after_return(cpu);
	}
}

/* IRET in virtual-8086 mode (SDM vol. 3, 20.2.7 and 20.4): IOPL 3 returns
 * within v86 mode; below that only CR4.VME's 16-bit form, which moves IF
 * into VIF. */
static void iret_v86(struct cpu *cpu, const struct insn *in)
{
	unsigned os = in->opsize;
	uint64_t fl_now = flags_get(cpu);
	unsigned iopl = (fl_now & FL_IOPL) >> FL_IOPL_SHIFT;
	uint64_t sp = stack_sp(cpu);
	uint64_t eip, fl;
	uint16_t csel;

	if (iopl < 3 && (!(cpu->s.cr4 & CR4_VME) || os != 2))
		GP0(cpu);
	eip = stack_read(cpu, sp, 0, os) & size_mask(os);
	csel = (uint16_t)stack_read(cpu, sp, os, os);
	fl = stack_read(cpu, sp, 2 * os, os);
	if (eip > 0xffff)
		GP0(cpu);
	if (iopl < 3) {
		if (((fl & FL_IF) && (fl_now & FL_VIP)) || (fl & FL_TF))
			GP0(cpu);
		flags_set(cpu, fl, FL_ARITH | FL_DF | FL_NT);
		flags_set(cpu, (fl & FL_IF) ? FL_VIF : 0, FL_VIF);
	} else {
		uint64_t m = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_IF;
		if (os == 4)
			m |= FL_RF | FL_AC | FL_ID;
		flags_set(cpu, fl, m);
	}
	stack_set_sp(cpu, sp + 3 * os);
	far_real(cpu, csel, eip);
}

void op_iret(struct cpu *cpu, const struct insn *in)
{
	cpu->s.ev.nmi_masked = 0;
	if (!cpu_pe(cpu)) {
		unsigned os = in->opsize;
		uint64_t sp = stack_sp(cpu);
		uint64_t eip = stack_read(cpu, sp, 0, os) & size_mask(os);
		uint16_t csel = (uint16_t)stack_read(cpu, sp, os, os);
		uint64_t fl = stack_read(cpu, sp, 2 * os, os);
		/* Reserved bits and VM, VIF, VIP keep their values. */
		uint64_t m = os == 4 ? 0x257fd5ull : 0x7fd5ull;
		if (eip > cpu->s.seg[S_CS].limit)
			GP0(cpu);
		stack_set_sp(cpu, sp + 3 * os);
		flags_set(cpu, fl, m);
		far_real(cpu, csel, eip);
	} else if (cpu_vm86(cpu)) {
		iret_v86(cpu, in);
	} else {
		iret_prot(cpu, in);
	}
	cpu->end_block = true;
}

/* ---- software interrupts ---- */

/* CR4.VME interrupt redirection (SDM vol. 3, 20.3.3, methods 4 and 5): a
 * clear bit in the TSS's redirection bitmap sends INT n to the v86
 * program's own IVT handler. Returns false when the bit is set. */
static bool v86_redirect(struct cpu *cpu, uint8_t vec)
{
	const struct x86_segment *tr = &cpu->s.tr;
	uint64_t fl = flags_get(cpu);
	unsigned iopl = (fl & FL_IOPL) >> FL_IOPL_SHIFT;
	uint32_t iomap, byte_off;
	uint8_t bits;
	uint32_t ent;
	uint64_t sp;
	uint16_t pushed;

	if ((tr->ar & AR_TYPE_MASK) != DT_TSS32_BUSY || tr->limit < 0x67)
		GP0(cpu);
	iomap = (uint32_t)lin_read(cpu, tr->base + 0x66, 2, false);
	if (iomap < 32)
		GP0(cpu);
	byte_off = iomap - 32 + vec / 8;
	if (byte_off > tr->limit)
		GP0(cpu);
	bits = (uint8_t)lin_read(cpu, tr->base + byte_off, 1, false);
	if (bits & (1u << (vec & 7)))
		return false;
	/* The v86 handler: the real-mode IVT at linear 0, through paging. */
	ent = (uint32_t)lin_read(cpu, (uint64_t)vec * 4, 4, true);
	pushed = (uint16_t)fl;
	if (iopl < 3)
		pushed = (uint16_t)((pushed & ~FL_IF) | ((fl & FL_VIF) ? FL_IF : 0) |
				    FL_IOPL);
	sp = stack_sp(cpu);
	stack_push_at(cpu, &sp, 2, pushed);
	stack_push_at(cpu, &sp, 2, cpu->s.seg[S_CS].selector);
	stack_push_at(cpu, &sp, 2, cpu->next_rip);
	stack_set_sp(cpu, sp);
	if (iopl < 3)
		cpu->s.rflags &= ~(uint64_t)(FL_VIF | FL_TF);
	else
		cpu->s.rflags &= ~(uint64_t)(FL_IF | FL_TF);
	cpu->s.rflags &= ~(uint64_t)(FL_RF | FL_AC);
	seg_load_real(cpu, S_CS, (uint16_t)(ent >> 16));
	cpu->next_rip = ent & 0xffff;
	cpu->skip_tf_trap = true;
	cpu->end_block = true;
	return true;
}

/* A software interrupt returns after the instruction; faults on the gate
 * or while pushing the frame report the instruction itself. */
static void soft_int(struct cpu *cpu, uint8_t vec, enum intr_kind kind)
{
	intr_deliver(cpu, vec, kind, false, 0, cpu->next_rip);
}

void op_int(struct cpu *cpu, const struct insn *in)
{
	uint8_t vec = (uint8_t)in->imm;

	if (cpu_vm86(cpu)) {
		unsigned iopl = (flags_get(cpu) & FL_IOPL) >> FL_IOPL_SHIFT;
		if (cpu->s.cr4 & CR4_VME) {
			if (v86_redirect(cpu, vec))
				return;
			if (iopl < 3)
				GP0(cpu);
		} else if (iopl < 3) {
			GP0(cpu);
		}
	}
	soft_int(cpu, vec, INTR_SOFT);
}

/* INT3 and INTO are not IOPL-sensitive in v86 mode: they always reach the
 * protected-mode handler (SDM vol. 3, 20.3.1). */
void op_int3(struct cpu *cpu, const struct insn *in)
{
	soft_int(cpu, EXC_BP, INTR_SOFT_EXC);
}

void op_into(struct cpu *cpu, const struct insn *in)
{
	if (!flag_of(cpu))
		return;
	soft_int(cpu, EXC_OF, INTR_SOFT_EXC);
}

/* INT1 (ICEBP): a #DB trap that is not checked against the gate's DPL. */
void op_int1(struct cpu *cpu, const struct insn *in)
{
	soft_int(cpu, EXC_DB, INTR_EXC);
}

/* BOUND r, m16&16 / m32&32: #BR is a fault, so RIP stays on BOUND. */
void op_bound(struct cpu *cpu, const struct insn *in)
{
	unsigned os = in->opsize;
	uint64_t ea = insn_ea(cpu, in);
	unsigned sh = 64 - 8 * os;
	int64_t idx = (int64_t)(reg_read(cpu, in, in->reg, os) << sh) >> sh;
	int64_t lo = (int64_t)(mem_read(cpu, in->seg, ea, os) << sh) >> sh;
	int64_t hi = (int64_t)(mem_read(cpu, in->seg,
					(ea + os) & size_mask(in->adsize), os)
			       << sh) >> sh;
	if (idx < lo || idx > hi)
		cpu_fault_noerr(cpu, EXC_BR);
}
