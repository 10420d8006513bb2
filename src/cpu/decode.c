/* The instruction decoder: prefixes, opcode maps, ModRM/SIB, displacement
 * and immediates (SDM vol. 2, chapter 2), into a struct insn whose memory
 * operand is a uniform base + index*scale + disp. Works from a byte buffer
 * so it never faults; the caller supplies the bytes. */
#include "cpu/insn.h"
#include "cpu/mode.h"
#include "cpu/ops.h"
#include "cpu/vcpu.h"

/* Makes `in` an instruction that runs op's generic handler through its
 * thunk. */
static void insn_set_op(struct insn *in, unsigned op)
{
	in->op = (uint8_t)op;
	in->fn = op_info[op].fn;
	in->run = NULL;
	in->form = FORM_THUNK;
}

/* 16-bit addressing: ModRM.rm -> base, index (SDM vol. 2, table 2-1). */
static const uint8_t rm16_base[8] = {R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX};
static const uint8_t rm16_index[8] = {R_SI, R_DI, R_SI, R_DI, REG_NONE,
				      REG_NONE, REG_NONE, REG_NONE};

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	unsigned sh = 64 - 8 * bytes;
	return (int64_t)(v << sh) >> sh;
}

unsigned decode_insn(const struct cpu *cpu, const uint8_t *p, unsigned len,
		     struct insn *in)
{
	unsigned pos = 0, code = cpu->code_size;
	bool opsize_pfx = false, adsize_pfx = false, rep_seen = false, has_modrm;
	int seg = -1;
	uint8_t b, map = 0, last_sse = 0;
	const struct op_entry *e;
	uint32_t f;

	memset(in, 0, sizeof(*in));
	in->base = in->index = REG_NONE;

	/* Prefixes; a REX counts only right before the opcode. */
	for (;;) {
		if (pos >= len)
			return 0;
		if (pos >= 15)
			goto too_long;
		b = p[pos];
		switch (b) {
		case 0x66: opsize_pfx = true; last_sse = last_sse ? last_sse : 0x66; break;
		case 0x67: adsize_pfx = true; break;
		case 0xf0: in->flags |= INSN_LOCK; break;
		case 0xf2: in->rep = PFX_REPNE; last_sse = 0xf2; rep_seen = true; break;
		case 0xf3: in->rep = PFX_REP; last_sse = 0xf3; rep_seen = true; break;
		case 0x26: seg = S_ES; break;
		case 0x2e: seg = S_CS; break;
		case 0x36: seg = S_SS; break;
		case 0x3e: seg = S_DS; break;
		case 0x64: seg = S_FS; break;
		case 0x65: seg = S_GS; break;
		default:
			goto prefixes_done;
		}
		in->rex = 0; /* a legacy prefix after REX cancels it */
		pos++;
	}
prefixes_done:
	(void)rep_seen;
	if (code == 8 && (b & 0xf0) == 0x40) {
		in->rex = b;
		in->flags |= INSN_REXB8;
		pos++;
		if (pos >= len)
			return 0;
		b = p[pos];
	}
	pos++;
	if (b == 0x0f) {
		if (pos >= len)
			return 0;
		map = 1;
		b = p[pos++];
	}
	in->opcode = b;
	e = &optable[map][b];
	if (code == 8 && map == 0 && optable64[b].flags)
		e = &optable64[b];
	f = e->flags;

	/* Operand and address sizes. */
	if (code == 8) {
		in->adsize = adsize_pfx ? 4 : 8;
		if (in->rex & 8)
			in->opsize = 8;
		else if (f & OPF_DEF64)
			in->opsize = opsize_pfx ? 2 : 8;
		else
			in->opsize = opsize_pfx ? 2 : 4;
	} else {
		in->adsize = (code == 4) != adsize_pfx ? 4 : 2;
		in->opsize = (code == 4) != opsize_pfx ? 4 : 2;
	}
	if (adsize_pfx)
		in->flags |= INSN_ADDR_OVR;
	if (seg >= 0)
		in->flags |= INSN_SEGOVR;
	in->seg = seg >= 0 ? seg : S_DS;

	has_modrm = (f & (OPF_MODRM | OPF_GROUP)) != 0;
	if (has_modrm) {
		uint8_t m;
		if (pos >= len)
			return 0;
		m = p[pos++];
		in->modrm = m;
		in->mod = m >> 6;
		in->reg = ((m >> 3) & 7) | ((in->rex & 4) << 1);
		in->rm = (m & 7) | ((in->rex & 1) << 3);
		if (f & OPF_GROUP) {
			e = &e->group[(m >> 3) & 7];
			f = (f & ~(uint32_t)OPF_GROUP) | e->flags;
			if ((f & OPF_DEF64) && code == 8 && !(in->rex & 8))
				in->opsize = opsize_pfx ? 2 : 8;
		}
		if (f & OPF_MODREG)
			in->mod = 3; /* MOV CR/DR: no memory form, no displacement */
		if (in->mod != 3) {
			if (in->adsize == 2) {
				unsigned rm = m & 7;
				if (in->mod == 0 && rm == 6) {
					if (pos + 2 > len)
						return 0;
					in->disp = (int16_t)rd_le(p + pos, 2);
					pos += 2;
				} else {
					in->base = rm16_base[rm];
					in->index = rm16_index[rm];
					if (seg < 0 && in->base == R_BP)
						in->seg = S_SS;
				}
				if (in->mod == 1) {
					if (pos + 1 > len)
						return 0;
					in->disp = (int8_t)p[pos++];
				} else if (in->mod == 2) {
					if (pos + 2 > len)
						return 0;
					in->disp = (int16_t)rd_le(p + pos, 2);
					pos += 2;
				}
			} else {
				unsigned rm = m & 7;
				if (rm == 4) {
					uint8_t sib;
					unsigned base, idx;
					if (pos >= len)
						return 0;
					sib = p[pos++];
					in->scale = sib >> 6;
					idx = ((sib >> 3) & 7) | ((in->rex & 2) << 2);
					base = (sib & 7) | ((in->rex & 1) << 3);
					if (idx != 4)
						in->index = idx;
					if ((sib & 7) == 5 && in->mod == 0) {
						if (pos + 4 > len)
							return 0;
						in->disp = (int32_t)rd_le(p + pos, 4);
						pos += 4;
					} else {
						in->base = base;
					}
				} else if (rm == 5 && in->mod == 0) {
					if (pos + 4 > len)
						return 0;
					in->disp = (int32_t)rd_le(p + pos, 4);
					pos += 4;
					if (code == 8)
						in->base = 16; /* RIP-relative */
				} else {
					in->base = rm | ((in->rex & 1) << 3);
				}
				if (seg < 0 && (in->base == R_SP || in->base == R_BP))
					in->seg = S_SS;
				if (in->mod == 1) {
					if (pos + 1 > len)
						return 0;
					in->disp = (int8_t)p[pos++];
				} else if (in->mod == 2) {
					if (pos + 4 > len)
						return 0;
					in->disp = (int32_t)rd_le(p + pos, 4);
					pos += 4;
				}
			}
		}
	}
	if (f & OPF_REGOP)
		in->reg = (b & 7) | ((in->rex & 1) << 3);
	if (f & OPF_BYTE)
		in->opsize = 1;
	in->sse_pfx = (f & OPF_SSE) ? last_sse : 0;

	/* Immediates. */
	{
		unsigned n = 0;
		bool sign = false;
		if (f & (OPF_IMM8 | OPF_IMM8U)) {
			n = 1;
			sign = f & OPF_IMM8;
		} else if (f & OPF_IMM16) {
			n = 2;
		} else if (f & OPF_IMMZ) {
			n = in->opsize == 2 ? 2 : (in->opsize == 1 ? 1 : 4);
			sign = true;
		} else if (f & OPF_IMMV) {
			n = in->opsize;
		} else if (f & OPF_MOFFS) {
			n = in->adsize;
		} else if (f & OPF_FARPTR) {
			n = in->opsize == 2 ? 2 : 4;
		} else if (f & OPF_ENTER) {
			n = 2;
		}
		if (n) {
			if (pos + n > len)
				return 0;
			in->imm = rd_le(p + pos, n);
			if (sign)
				in->imm = (uint64_t)sext(in->imm, n);
			pos += n;
		}
		if (f & (OPF_FARPTR | OPF_ENTER)) {
			unsigned n2 = (f & OPF_ENTER) ? 1 : 2;
			if (pos + n2 > len)
				return 0;
			in->imm |= rd_le(p + pos, n2) << 32;
			pos += n2;
		}
	}
	if (pos > 15)
		goto too_long;
	in->len = pos;
	insn_set_op(in, e->op);
	if (f & OPF_END)
		in->flags |= INSN_END;
	fast_form_select(in, code, has_modrm && in->mod != 3,
			 (cpu->flat_segs >> in->seg) & 1);

	/* Encodings that are #UD whatever the operands. */
	if (!in->fn) {
		/* Its opcode, for the report (op_ud_nohandler()). */
		in->imm = (uint64_t)map << 8 | b;
		insn_set_op(in, OP_UD_NOHANDLER);
		in->flags |= INSN_END;
	} else if (((in->flags & INSN_LOCK) && (!(f & OPF_LOCK) || in->mod == 3)) ||
		   ((f & OPF_MEM) && in->mod == 3) ||
		   ((f & OPF_REG) && in->mod != 3) ||
		   ((f & OPF_NO64) && code == 8)) {
		insn_set_op(in, OP_UD);
		in->flags |= INSN_END;
	}
	/* A form without a threaded entry leaves run NULL: the engine
	 * runs it through a thunk. */
	return pos;

too_long:
	/* More than 15 bytes: #GP(0) when executed (SDM vol. 2, 2.3.11). */
	in->len = 15;
	insn_set_op(in, OP_GP_TOO_LONG);
	in->flags |= INSN_END;
	return 15;
}
