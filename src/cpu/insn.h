/* The decoded record and the decoder: an instruction's bytes become a
 * struct insn once, and from then on only the record is read, so the
 * decoder owns every encoding question (prefixes, ModRM, immediates, the
 * opcode table) and nothing that runs an instruction looks at its bytes.
 * What the operation is and what may be done with it is ops.h. */
#ifndef V2E_CPU_INSN_H
#define V2E_CPU_INSN_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;
struct insn;

/* One signature for every instruction. */
typedef void (*insn_fn)(struct cpu *cpu, const struct insn *in);

/* A decoded instruction: produced once, cached per guest-physical page,
 * executed many times. Operands are resolved to register numbers and a
 * uniform base + index*scale + disp memory form. */
struct insn {
	insn_fn fn;      /* the handler, run with s.rip and next_rip set */
	insn_fn run;     /* threaded entry: a fast form, or a thunk to fn */
	uint8_t len;
	uint8_t opsize;  /* 1, 2, 4 or 8 bytes (1 for byte forms) */
	uint8_t adsize;  /* 2, 4 or 8 */
	uint8_t seg;     /* segment of the memory operand (x86_sreg) */
	uint8_t mod;     /* ModRM.mod: 3 means the r/m operand is a register */
	uint8_t reg;     /* ModRM.reg with REX.R, or the opcode's register */
	uint8_t rm;      /* ModRM.rm with REX.B (register form) */
	uint8_t base;    /* memory: base register or REG_NONE */
	uint8_t index;   /* memory: index register or REG_NONE */
	uint8_t scale;   /* memory: index shift 0..3 */
	uint8_t rep;     /* 0, PFX_REP (F3) or PFX_REPNE (F2) */
	uint8_t flags;   /* INSN_* below */
	uint8_t opcode;  /* the last opcode byte */
	uint8_t modrm;   /* the raw ModRM byte */
	uint8_t rex;
	uint8_t sse_pfx; /* 0, 0x66, 0xf3 or 0xf2: the mandatory-prefix class */
	int32_t disp;
	uint8_t op;      /* enum op_id (ops.h): what the instruction does */
	uint8_t form;    /* enum insn_form (ops.h): which entry runs it */
	uint16_t off;    /* offset from the start of its block */
	/* Immediate, sign- or zero-extended as the form says; a far
	 * pointer's selector or ENTER's level above bit 32 (insn_imm2()). */
	uint64_t imm;
};

static inline uint16_t insn_imm2(const struct insn *in)
{
	return (uint16_t)(in->imm >> 32);
}

#define REG_NONE 0xff
#define PFX_REP 1
#define PFX_REPNE 2

#define INSN_LOCK 0x01   /* LOCK prefix present */
#define INSN_REXB8 0x02  /* a REX prefix: byte regs 4-7 are SPL..DIL */
#define INSN_SEGOVR 0x04 /* explicit segment override */
#define INSN_ADDR_OVR 0x08
#define INSN_END 0x10    /* the block ends after this instruction */
#define INSN_FUSED 0x20  /* run also does the next instruction (a Jcc) */
#define INSN_NOFLAGS 0x40 /* run is the entry that leaves dead flags alone */

/* Opcode table entries (optable.c): one static table indexed by map and
 * opcode, with ModRM.reg sub-tables for the groups. */
enum {
	OPF_MODRM = 1u << 0,
	OPF_IMM8 = 1u << 1,    /* imm8, sign-extended to operand size */
	OPF_IMM8U = 1u << 2,   /* imm8, zero-extended */
	OPF_IMM16 = 1u << 3,
	OPF_IMMZ = 1u << 4,    /* 16 or 32 by operand size (32 sign-extends in 64) */
	OPF_IMMV = 1u << 5,    /* 16, 32 or 64 by operand size (MOV r, imm) */
	OPF_MOFFS = 1u << 6,   /* address-size offset (MOV AL, moffs) */
	OPF_FARPTR = 1u << 7,  /* offset (16/32) then selector */
	OPF_ENTER = 1u << 8,   /* imm16 then imm8 */
	OPF_BYTE = 1u << 9,    /* operand size 1 */
	OPF_LOCK = 1u << 10,   /* LOCK allowed with a memory destination */
	OPF_END = 1u << 11,    /* ends a decoded block (branches, mode changes) */
	OPF_MEM = 1u << 12,    /* ModRM must name memory, else #UD */
	OPF_NO64 = 1u << 13,   /* #UD in 64-bit mode */
	OPF_DEF64 = 1u << 14,  /* operand size defaults to 64 in 64-bit mode */
	OPF_GROUP = 1u << 15,  /* entry is a group: sub-table by ModRM.reg */
	OPF_REGOP = 1u << 16,  /* register in the low 3 opcode bits */
	OPF_REG = 1u << 17,    /* ModRM must name a register, else #UD */
	OPF_SSE = 1u << 18,    /* 66/F2/F3 select the form, not the sizes */
	OPF_MODREG = 1u << 19, /* ModRM.mod ignored: r/m is always a register */
};

struct op_entry {
	uint8_t op;      /* enum op_id: its handler and facts are op_info's */
	uint32_t flags;
	const struct op_entry *group; /* 8 entries when OPF_GROUP */
};

/* map 0: one-byte opcodes; map 1: 0F xx. */
extern const struct op_entry optable[2][256];
/* One-byte opcodes whose 64-bit-mode meaning replaces map 0's. */
extern const struct op_entry optable64[256];

enum { FAST_ANY, FAST_REG, FAST_MEM };
struct fast_form {
	uint8_t op;     /* enum op_id */
	uint8_t opsize;
	uint8_t kind; /* FAST_ANY, FAST_REG or FAST_MEM */
	insn_fn fast;
	insn_fn threaded; /* its threaded entry (FAST_HANDLER), or NULL */
	insn_fn threaded_b; /* the same for a memory operand without index */
	/* threaded and threaded_b for a segment in flat_segs, or NULL */
	insn_fn flat, flat_b;
};
/* Specialised handlers the decoder substitutes (optable.c); NULL-ended. */
extern const struct fast_form fast_forms[];
/* For a relative branch with a threaded entry, at `off` in its block:
 * puts its target's offset from the block's start in `disp`, or sends it
 * through its thunk when that offset does not fit (insn_branch.c). */
void branch_target_prepare(struct insn *in);

/* Fuses a compare and the Jcc after it, the last two instructions of a
 * block: `cmp`'s threaded entry does both (INSN_FUSED). Leaves them alone
 * unless the pair has a fused form (insn_branch.c). */
void insn_fuse_jcc(struct insn *cmp, const struct insn *jcc);

/* Over a decoded block: where the arithmetic flags an instruction sets
 * are overwritten before anything can see them (a reader, a fault, the
 * block's end), swaps in a threaded entry that leaves them alone, if the
 * form has one, and the full entry elsewhere, so that a block cut short
 * is redone with its new end (optable.c). */
void block_drop_dead_flags(struct insn *ins, unsigned n);

/* Swaps in the fast form of a decoded instruction and its threaded entry
 * (run), if it has one; run stays NULL otherwise. `code` is the decoding
 * mode's default size (2, 4 or 8); `mem`, whether ModRM names memory;
 * `flat`, whether its segment is one of flat_segs. */
void fast_form_select(struct insn *in, unsigned code, bool mem, bool flat);


/* Decodes one instruction from `len` bytes at `p` in the current mode
 * (decode.c). Returns its length, or 0 if more bytes than `len` are
 * needed. Invalid encodings decode to a handler that raises #UD. A
 * FORM_THUNK instruction comes back with run NULL, for the engine to
 * fill in. */
unsigned decode_insn(const struct cpu *cpu, const uint8_t *p, unsigned len,
		     struct insn *in);

#endif
