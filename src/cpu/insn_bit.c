/* Bit tests and scans: BT BTS BTR BTC (register and imm8 forms), BSF, BSR
 * (SDM vol. 2, "BT", "BTS", "BTR", "BTC", "BSF", "BSR").
 *
 * With a register bit offset and a memory operand the offset is a signed
 * displacement from the bit base: the operand-size unit at
 * EA + (offset DIV width) * (width / 8) is accessed. The imm8 form and
 * register operands take the offset modulo the width. BT* change CF only
 * (the other flags are undefined; hardware keeps them). BSF/BSR leave the
 * destination unchanged and set ZF on a zero source; hardware clears CF,
 * OF, SF and AF and sets PF from the result, and so does this. */
#include "cpu/exec.h"

enum bt_op { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

static inline unsigned width_log2(unsigned size)
{
	return size == 2 ? 4 : size == 4 ? 5 : 6;
}

static inline void set_cf(struct cpu *cpu, bool cf)
{
	uint64_t fl = flags_get(cpu) & ~(uint64_t)FL_CF;
	cpu->s.rflags = fl | (cf ? FL_CF : 0);
}

static inline uint64_t bt_apply(enum bt_op op, uint64_t v, uint64_t bit)
{
	switch (op) {
	case BT_SET:
		return v | bit;
	case BT_RESET:
		return v & ~bit;
	case BT_COMPLEMENT:
		return v ^ bit;
	default:
		return v;
	}
}

/* `offset` is the bit offset at operand size; `from_reg` selects the
 * signed-displacement addressing of the register form. */
static void bt_common(struct cpu *cpu, const struct insn *in, enum bt_op op,
		      uint64_t offset, bool from_reg)
{
	unsigned size = in->opsize;
	unsigned lg = width_log2(size);
	uint64_t bit = (uint64_t)1 << (offset & ((1u << lg) - 1));
	uint64_t v, ea;

	if (in->mod == 3) {
		v = reg_read(cpu, in, in->rm, size);
		if (op != BT_TEST)
			reg_write(cpu, in, in->rm, size, bt_apply(op, v, bit));
		set_cf(cpu, v & bit);
		return;
	}
	ea = insn_ea(cpu, in);
	if (from_reg) {
		unsigned sh = 64 - size * 8;
		int64_t soff = (int64_t)(offset << sh) >> sh;
		ea = (ea + (uint64_t)((soff >> lg) * (int64_t)size)) &
		     size_mask(in->adsize);
	}
	if (op != BT_TEST)
		mem_probe_write(cpu, in->seg, ea, size);
	v = mem_read(cpu, in->seg, ea, size);
	if (op != BT_TEST)
		mem_write(cpu, in->seg, ea, size, bt_apply(op, v, bit));
	set_cf(cpu, v & bit);
}

#define BT_HANDLERS(name, op)                                                 \
	void op_##name##_EG(struct cpu *cpu, const struct insn *in)           \
	{                                                                     \
		bt_common(cpu, in, op, reg_read(cpu, in, in->reg, in->opsize), \
			  true);                                              \
	}                                                                     \
	void op_##name##_EI(struct cpu *cpu, const struct insn *in)           \
	{                                                                     \
		bt_common(cpu, in, op, in->imm & 0xff, false);                \
	}

BT_HANDLERS(bt, BT_TEST)
BT_HANDLERS(bts, BT_SET)
BT_HANDLERS(btr, BT_RESET)
BT_HANDLERS(btc, BT_COMPLEMENT)

static void scan_flags(struct cpu *cpu, bool zero, uint64_t idx)
{
	uint64_t f = 0;
	if (zero)
		f = FL_ZF | FL_PF;
	else if (!__builtin_parity((unsigned)(idx & 0xff)))
		f = FL_PF;
	cpu->s.rflags = (cpu->s.rflags & ~(uint64_t)FL_ARITH) | f;
	cpu->lf.kind = LF_NONE;
}

void op_bsf(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->opsize);
	uint64_t idx = 0;
	if (v) {
		idx = (uint64_t)__builtin_ctzll(v);
		reg_write(cpu, in, in->reg, in->opsize, idx);
	}
	scan_flags(cpu, v == 0, idx);
}

void op_bsr(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = rm_read(cpu, in, in->opsize);
	uint64_t idx = 0;
	if (v) {
		idx = 63 - (uint64_t)__builtin_clzll(v);
		reg_write(cpu, in, in->reg, in->opsize, idx);
	}
	scan_flags(cpu, v == 0, idx);
}
