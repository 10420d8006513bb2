/* IN and OUT, immediate and DX forms (SDM vol. 2, "IN", "OUT"), and the I/O
 * permission check they share with INS/OUTS (SDM vol. 1, 18.5). A port
 * access may change what the platform asks of the CPU (an interrupt line,
 * A20, an exit request), so each one ends the decoded block. */
#include "cpu/exec.h"
#include "cpu/io.h"
#include "cpu/seg.h"

/* In protected mode with CPL > IOPL, and always in virtual-8086 mode, every
 * bitmap bit for port..port+size-1 must be clear. The processor reads the
 * two bitmap bytes that cover the port; any of them beyond the TSS limit,
 * a 16-bit TSS (no bitmap) or a TSS too short to hold the bitmap base
 * means denied. */
void io_check(struct cpu *cpu, uint16_t port, unsigned size)
{
	const struct x86_segment *tr = &cpu->s.tr;
	unsigned iopl = (cpu->s.rflags & FL_IOPL) >> FL_IOPL_SHIFT;
	uint64_t base, off, bits;
	unsigned type = tr->ar & AR_TYPE_MASK;

	if (!cpu_pe(cpu) || (!cpu_vm86(cpu) && cpu->cpl <= iopl))
		return;
	if ((type != DT_TSS32_AVAIL && type != DT_TSS32_BUSY) ||
	    tr->limit < 0x67)
		GP0(cpu);
	base = lin_read(cpu, tr->base + 0x66, 2, false);
	off = base + (port >> 3);
	if (off + 1 > tr->limit)
		GP0(cpu);
	bits = lin_read(cpu, tr->base + off, 2, false);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		GP0(cpu);
}

/* REX.W does not widen port I/O past 32 bits. */
static inline unsigned io_size(const struct insn *in)
{
	return in->opsize == 8 ? 4 : in->opsize;
}

static void do_in(struct cpu *cpu, const struct insn *in, uint16_t port)
{
	unsigned size = io_size(in);
	uint32_t v;
	io_check(cpu, port, size);
	v = cpu->bus.pio_in(cpu->bus.opaque, port, size);
	reg_write(cpu, in, R_AX, size, v & size_mask(size));
	cpu->end_block = true;
}

static void do_out(struct cpu *cpu, const struct insn *in, uint16_t port)
{
	unsigned size = io_size(in);
	io_check(cpu, port, size);
	cpu->bus.pio_out(cpu->bus.opaque, port, size,
			 (uint32_t)(cpu->s.gpr[R_AX] & size_mask(size)));
	cpu->end_block = true;
}

void op_in_I(struct cpu *cpu, const struct insn *in)
{
	do_in(cpu, in, in->imm & 0xff);
}

void op_in_DX(struct cpu *cpu, const struct insn *in)
{
	do_in(cpu, in, cpu->s.gpr[R_DX] & 0xffff);
}

void op_out_I(struct cpu *cpu, const struct insn *in)
{
	do_out(cpu, in, in->imm & 0xff);
}

void op_out_DX(struct cpu *cpu, const struct insn *in)
{
	do_out(cpu, in, cpu->s.gpr[R_DX] & 0xffff);
}
