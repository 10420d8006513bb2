/* Port I/O protection (SDM vol. 1, 18.5 "Protected-Mode I/O"): the IOPL
 * check and the I/O permission bitmap of the 32-bit TSS, shared by IN/OUT
 * (insn_io.c) and INS/OUTS (insn_string.c). */
#ifndef V2E_CPU_IO_H
#define V2E_CPU_IO_H

#include "cpu/vcpu.h"

/* Returns if an access of `size` bytes at `port` is allowed in the current
 * mode, else raises #GP(0). */
void io_check(struct cpu *cpu, uint16_t port, unsigned size);

#endif
