/* MMX state (Intel SDM vol. 1, chapter 9; vol. 3, 2.5 on CR0 and CR4,
 * and 12.1 on the MMX/x87 aliasing): the MMX registers are the x87 physical registers'
 * mantissas, an MMX instruction switches the x87 unit to MMX mode (TOP 0,
 * all tags valid) and EMMS back (all tags empty). The checks every MMX,
 * SSE and SSE2 instruction makes before it touches anything are here too:
 * CR0.EM is #UD, CR4.OSFXSR clear is #UD for SSE/SSE2, CR0.TS is #NM, and
 * an MMX register operand first reports a pending x87 exception (#MF). */
#include "cpu/fault.h"
#include "cpu/sse.h"

void mmx_enter(struct cpu *cpu)
{
	fpu_set_fsw(cpu, (uint16_t)(fpu_fsw(cpu) & ~FSW_TOP));
	cpu->s.fxsave[FX_FTW] = 0xff;
}

void mmx_set(struct cpu *cpu, unsigned i, uint64_t v)
{
	uint8_t *p = cpu->s.fxsave + FX_ST0 + 16 * (i & 7);
	memcpy(p, &v, 8);
	p[8] = 0xff;
	p[9] = 0xff;
}

void sse_check(struct cpu *cpu, bool sse, bool mmx)
{
	if (cpu->s.cr0 & CR0_EM)
		UD(cpu);
	if (sse && !(cpu->s.cr4 & CR4_OSFXSR))
		UD(cpu);
	if (cpu->s.cr0 & CR0_TS)
		cpu_fault_noerr(cpu, EXC_NM);
	if (mmx)
		fpu_check_pending(cpu);
}
