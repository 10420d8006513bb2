/* Decimal adjust: DAA DAS AAA AAS AAM AAD (SDM vol. 2, each instruction's
 * "Operation" and "Flags Affected"). All are #UD in 64-bit mode, which the
 * opcode table handles.
 *
 * Undefined flags follow P6-class Intel hardware: DAA/DAS set OF from the
 * signed overflow of the whole adjustment applied to AL; AAA/AAS clear OF
 * and SF and set ZF and PF from the final AL; AAM sets SF/ZF/PF from AL
 * and clears OF, AF and CF; AAD's flags are those of the 8-bit addition
 * AL + AH * imm8 that forms the result. */
#include "cpu/exec.h"

static inline uint64_t szp8(uint8_t v)
{
	uint64_t f = 0;
	if (v == 0)
		f |= FL_ZF;
	if (v & 0x80)
		f |= FL_SF;
	if (!__builtin_parity(v))
		f |= FL_PF;
	return f;
}

static inline void flags_put(struct cpu *cpu, uint64_t arith)
{
	cpu->s.rflags = (cpu->s.rflags & ~(uint64_t)FL_ARITH) | arith;
	cpu->lf.kind = LF_NONE;
}

static inline void set_al(struct cpu *cpu, uint8_t al)
{
	cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~(uint64_t)0xff) | al;
}

static inline void set_ax(struct cpu *cpu, uint16_t ax)
{
	cpu->s.gpr[R_AX] = (cpu->s.gpr[R_AX] & ~(uint64_t)0xffff) | ax;
}

/* DAA and DAS share the decisions; only the direction differs. */
static void decimal_adjust(struct cpu *cpu, bool sub)
{
	uint8_t old_al = cpu->s.gpr[R_AX] & 0xff, al = old_al, adj = 0;
	bool old_cf = flag_cf(cpu), af = flag_af(cpu), cf = false;
	uint8_t res;

	if ((old_al & 0x0f) > 9 || af) {
		adj = 0x06;
		af = true;
		/* DAS keeps the borrow of AL - 6 (its SDM pseudo-code has no
		 * ELSE CF := 0 for the high digit, unlike DAA's). */
		if (sub && old_al < 6)
			cf = true;
	}
	if (old_al > 0x99 || old_cf) {
		adj |= 0x60;
		cf = true;
	}
	res = sub ? (uint8_t)(al - adj) : (uint8_t)(al + adj);
	set_al(cpu, res);
	{
		/* Signed overflow of old_al +/- adj as one 8-bit operation. */
		bool of = sub ? ((old_al ^ adj) & (old_al ^ res) & 0x80) != 0
			      : (~(old_al ^ adj) & (old_al ^ res) & 0x80) != 0;
		flags_put(cpu, szp8(res) | (af ? FL_AF : 0) | (cf ? FL_CF : 0) |
				       (of ? FL_OF : 0));
	}
}

void op_daa(struct cpu *cpu, const struct insn *in)
{
	decimal_adjust(cpu, false);
}

void op_das(struct cpu *cpu, const struct insn *in)
{
	decimal_adjust(cpu, true);
}

/* AAA/AAS adjust AX as a whole (current SDM: AX + 106H / AX - 6, AH - 1),
 * so a carry out of AL reaches AH. */
static void ascii_adjust(struct cpu *cpu, bool sub)
{
	uint16_t ax = cpu->s.gpr[R_AX] & 0xffff;
	bool adjust = (ax & 0x0f) > 9 || flag_af(cpu);
	uint8_t al;
	if (adjust)
		ax = sub ? (uint16_t)(ax - 6 - 0x100) : (uint16_t)(ax + 0x106);
	al = ax & 0x0f;
	set_ax(cpu, (uint16_t)((ax & 0xff00) | al));
	flags_put(cpu, (szp8(al) & (FL_ZF | FL_PF)) |
			       (adjust ? FL_AF | FL_CF : 0));
}

void op_aaa(struct cpu *cpu, const struct insn *in)
{
	ascii_adjust(cpu, false);
}

void op_aas(struct cpu *cpu, const struct insn *in)
{
	ascii_adjust(cpu, true);
}

void op_aam(struct cpu *cpu, const struct insn *in)
{
	uint8_t base = in->imm & 0xff;
	uint8_t al = cpu->s.gpr[R_AX] & 0xff;
	uint8_t q, r;
	if (base == 0)
		cpu_fault_noerr(cpu, EXC_DE);
	q = al / base;
	r = al % base;
	set_ax(cpu, (uint16_t)((q << 8) | r));
	flags_put(cpu, szp8(r));
}

void op_aad(struct cpu *cpu, const struct insn *in)
{
	uint8_t base = in->imm & 0xff;
	uint8_t al = cpu->s.gpr[R_AX] & 0xff;
	uint8_t ah = (cpu->s.gpr[R_AX] >> 8) & 0xff;
	uint8_t b = (uint8_t)(ah * base);
	uint8_t res = (uint8_t)(al + b);
	uint64_t f = szp8(res);
	if (res < al)
		f |= FL_CF;
	if ((al ^ b ^ res) & 0x10)
		f |= FL_AF;
	if (~(al ^ b) & (al ^ res) & 0x80)
		f |= FL_OF;
	set_ax(cpu, res);
	flags_put(cpu, f);
}
