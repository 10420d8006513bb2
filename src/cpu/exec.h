/* What an instruction handler may use: the vCPU and its registers, the
 * mode, memory and stack accesses, lazy flags, faults, and the threaded
 * dispatch through which it goes on to the next instruction. The
 * handlers (insn_*.c) and the engine that runs them include it; the
 * services they call need only their own headers. */
#ifndef V2E_CPU_EXEC_H
#define V2E_CPU_EXEC_H

#include "cpu/dispatch.h"
#include "cpu/fault.h"
#include "cpu/flags.h"
#include "cpu/handlers.h"
#include "cpu/insn.h"
#include "cpu/mem.h"
#include "cpu/mode.h"
#include "cpu/stack.h"
#include "cpu/vcpu.h"

#endif
