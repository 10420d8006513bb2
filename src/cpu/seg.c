/* Segment descriptors and segment-register loads (SDM vol. 3, 3.4-3.5 and
 * 5.5-5.8; the checks of MOV/POP Sreg in vol. 2). */
#include "cpu/fault.h"
#include "cpu/flags.h"
#include "cpu/mem.h"
#include "cpu/mode.h"
#include "cpu/seg.h"

bool desc_read(struct cpu *cpu, uint16_t sel, struct desc *d)
{
	uint64_t base;
	uint32_t limit;
	uint64_t v;

	if (sel & 4) {
		if (cpu->s.ldtr.ar & AR_UNUSABLE || !(cpu->s.ldtr.ar & AR_P) ||
		    cpu->s.ldtr.selector < 4)
			return false;
		base = cpu->s.ldtr.base;
		limit = cpu->s.ldtr.limit;
	} else {
		base = cpu->s.gdtr.base;
		limit = cpu->s.gdtr.limit;
	}
	if ((uint32_t)(sel | 7) > limit)
		return false;
	v = lin_read(cpu, (base + (sel & ~7u)) & 0xffffffffull, 8, false);
	d->lo = (uint32_t)v;
	d->hi = (uint32_t)(v >> 32);
	return true;
}

void desc_write_hi(struct cpu *cpu, uint16_t sel, uint32_t hi)
{
	uint64_t base = (sel & 4) ? cpu->s.ldtr.base : cpu->s.gdtr.base;
	lin_write(cpu, (base + (sel & ~7u) + 4) & 0xffffffffull, 4, hi, false);
}

void desc_to_seg(const struct desc *d, uint16_t sel, struct x86_segment *s)
{
	uint32_t limit = (d->lo & 0xffff) | (d->hi & 0x000f0000u);
	if (d->hi & 0x00800000u)
		limit = (limit << 12) | 0xfff;
	s->selector = sel;
	s->base = (d->lo >> 16) | ((d->hi & 0xff) << 16) | (d->hi & 0xff000000u);
	s->limit = limit;
	s->ar = (d->hi >> 8) & 0xf0ff;
}

void seg_install(struct cpu *cpu, int sreg, uint16_t sel, struct desc *d)
{
	if (desc_s(d) && !(d->hi & 0x100)) {
		d->hi |= 0x100;
		desc_write_hi(cpu, sel, d->hi);
	}
	desc_to_seg(d, sel, &cpu->s.seg[sreg]);
	if (sreg == S_SS || sreg == S_CS)
		cpu_update_mode(cpu);
	else
		seg_fast_update(cpu, sreg);
}

void seg_set_null(struct cpu *cpu, int sreg, uint16_t sel)
{
	struct x86_segment *s = &cpu->s.seg[sreg];
	s->selector = sel;
	s->base = 0;
	s->limit = 0;
	s->ar = AR_UNUSABLE;
	seg_fast_update(cpu, sreg);
}

void seg_load_real(struct cpu *cpu, int sreg, uint16_t sel)
{
	struct x86_segment *s = &cpu->s.seg[sreg];
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	if (cpu_vm86(cpu)) {
		/* v86 mode loads a full 16-bit, DPL 3 data segment. */
		s->limit = 0xffff;
		s->ar = AR_P | AR_S | AR_TYPE_WRITABLE | AR_TYPE_ACCESSED |
			(3 << AR_DPL_SHIFT) |
			(sreg == S_CS ? AR_TYPE_CODE : 0);
	} else {
		/* Real mode keeps limit and attributes: big real mode. */
		s->ar &= ~(uint32_t)AR_UNUSABLE;
	}
	if (sreg == S_SS || sreg == S_CS)
		cpu_update_mode(cpu);
	else
		seg_fast_update(cpu, sreg);
}

void seg_load(struct cpu *cpu, int sreg, uint16_t sel)
{
	struct desc d;
	unsigned rpl = sel & 3, cpl = cpu->cpl;

	if (!cpu_protected(cpu)) {
		seg_load_real(cpu, sreg, sel);
		return;
	}
	if ((sel & ~3u) == 0) {
		if (sreg == S_SS && !(cpu_long64(cpu) && cpl != 3 && rpl == cpl))
			GP0(cpu);
		seg_set_null(cpu, sreg, sel);
		if (sreg == S_SS)
			cpu_update_mode(cpu);
		return;
	}
	if (!desc_read(cpu, sel, &d))
		cpu_fault(cpu, EXC_GP, sel_err(sel));
	if (sreg == S_SS) {
		if (rpl != cpl || !desc_is_data(&d) || !desc_data_writable(&d) ||
		    desc_dpl(&d) != cpl)
			cpu_fault(cpu, EXC_GP, sel_err(sel));
		if (!desc_present(&d))
			cpu_fault(cpu, EXC_SS, sel_err(sel));
	} else {
		if (!desc_s(&d) || (desc_is_code(&d) && !desc_code_readable(&d)))
			cpu_fault(cpu, EXC_GP, sel_err(sel));
		if (desc_is_data(&d) ||
		    (desc_is_code(&d) && !desc_code_conforming(&d))) {
			if (rpl > desc_dpl(&d) || cpl > desc_dpl(&d))
				cpu_fault(cpu, EXC_GP, sel_err(sel));
		}
		if (!desc_present(&d))
			cpu_fault(cpu, EXC_NP, sel_err(sel));
	}
	seg_install(cpu, sreg, sel, &d);
}

void seg_null_invalid_after_return(struct cpu *cpu)
{
	static const int regs[4] = {S_ES, S_DS, S_FS, S_GS};
	for (int i = 0; i < 4; i++) {
		struct x86_segment *s = &cpu->s.seg[regs[i]];
		unsigned dpl = (s->ar & AR_DPL_MASK) >> AR_DPL_SHIFT;
		bool conforming_code = (s->ar & AR_TYPE_CODE) &&
				       (s->ar & AR_TYPE_CONFORMING);
		if (s->ar & AR_UNUSABLE)
			continue;
		if (!conforming_code && dpl < cpu->cpl)
			seg_set_null(cpu, regs[i], 0);
	}
}
