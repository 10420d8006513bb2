/* The facts about operations (src/cpu/ops.c) are complete: every operation
 * the opcode table names has its row, and every form the decoder can give
 * an instruction (fast_form_select(), tried here on every operation at
 * every size, operand kind, ModRM.reg and condition) belongs to an
 * operation whose row states what the code generator does with it, so a
 * fast form cannot be added, or renamed, past the code generator
 * unnoticed. The table claims no form the decoder never makes. */
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/ops.h"
#include "tests/tap.h"

/* The forms fast_form_select() gives an instruction of `op`. */
static unsigned reachable_forms(unsigned op)
{
	static const unsigned codes[] = { 2, 4 };
	static const unsigned sizes[] = { 1, 2, 4 };
	unsigned forms = 0;
	for (unsigned c = 0; c < 2; c++)
	for (unsigned s = 0; s < 3; s++)
	for (unsigned kind = 0; kind < 4; kind++) /* reg, mem, flat, no index */
	for (unsigned regop = 0; regop < 8; regop++)
	for (unsigned cc = 0; cc < 16; cc++) {
		struct insn in;
		bool mem = kind != 0;
		memset(&in, 0, sizeof(in));
		in.op = (uint8_t)op;
		in.fn = op_info[op].fn;
		in.opsize = (uint8_t)sizes[s];
		in.adsize = 4;
		in.mod = mem ? 0 : 3;
		in.reg = (uint8_t)regop;
		in.rm = 1;
		in.modrm = (uint8_t)(in.mod << 6 | regop << 3 | 1);
		in.opcode = (uint8_t)(0x40 | cc);
		in.base = mem ? 3 : REG_NONE;
		in.index = kind == 3 || !mem ? REG_NONE : 6;
		in.seg = S_DS;
		in.imm = 1;
		fast_form_select(&in, codes[c], mem, kind == 2);
		forms |= 1u << in.form;
	}
	return forms;
}

static bool table_names(const struct op_entry *t, unsigned n, unsigned op)
{
	for (unsigned i = 0; i < n; i++) {
		if (t[i].op == op)
			return true;
		if ((t[i].flags & OPF_GROUP) && table_names(t[i].group, 8, op))
			return true;
	}
	return false;
}

int main(void)
{
	struct tap t = {0};
	unsigned missing = 0, unstated = 0, stale = 0, unnamed = 0, bad = 0;

	for (unsigned op = 1; op < OP_NR; op++) {
		const struct op_info *oi = &op_info[op];
		unsigned forms, claimed;
		if (!oi->fn || !oi->name) {
			tap_diag("operation %u has no row in ops.c", op);
			missing++;
			continue;
		}
		if (!(oi->jit & JIT_STATED)) {
			tap_diag("%s: no code generator disposition", oi->name);
			unstated++;
		}
		if ((oi->flags_in | oi->flags_out) & ~FL_ARITH ||
		    oi->fault > FAULT_ANY) {
			tap_diag("%s: flags or fault out of range", oi->name);
			bad++;
		}
		forms = reachable_forms(op);
		claimed = oi->jit & ~JIT_STATED;
		if (claimed & ~forms) {
			tap_diag("%s: the code generator claims forms 0x%x the "
				 "decoder never makes (it makes 0x%x)",
				 oi->name, claimed & ~forms, forms);
			stale++;
		}
		if (op < OP_UD && !table_names(optable[0], 256, op) &&
		    !table_names(optable[1], 256, op) &&
		    !table_names(optable64, 256, op)) {
			tap_diag("%s: in no slot of the opcode table", oi->name);
			unnamed++;
		}
	}
	tap_ok(&t, missing == 0, "every operation has its row of facts");
	tap_ok(&t, unstated == 0,
	       "every operation states what the code generator does with it");
	tap_ok(&t, stale == 0,
	       "the code generator claims only forms the decoder makes");
	tap_ok(&t, unnamed == 0, "every operation has an opcode");
	tap_ok(&t, bad == 0, "the flags and fault facts are well formed");

	/* Each fast form belongs to an operation with a stated row. */
	{
		unsigned orphans = 0, n = 0;
		for (const struct fast_form *ff = fast_forms; ff->op; ff++, n++) {
			if (ff->op >= OP_NR ||
			    !(op_info[ff->op].jit & JIT_STATED)) {
				tap_diag("fast form %u: operation %u has no "
					 "stated row", n, ff->op);
				orphans++;
			}
		}
		tap_ok(&t, n > 0 && orphans == 0,
		       "each of the %u fast forms belongs to a stated operation",
		       n);
	}

	/* What the dead-flags pass and the code generator rely on. */
	tap_ok(&t, op_info[OP_ADD_EG].flags_out == FL_ARITH &&
		   op_info[OP_ADD_EG].flags_in == 0 &&
		   op_info[OP_ADC_EG].flags_in == FL_CF &&
		   op_info[OP_MOV_EG].flags_out == 0 &&
		   op_info[OP_LEA].fault == FAULT_NEVER &&
		   op_info[OP_PUSH_R].fault == FAULT_ANY,
	       "the ALU, MOV, LEA and PUSH facts");
	return tap_done(&t);
}
