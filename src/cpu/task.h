/* Hardware task switching through TSS descriptors and task gates (SDM vol.
 * 3, chapter 7), and the TSS fields other paths read. */
#ifndef V2E_CPU_TASK_H
#define V2E_CPU_TASK_H

#include "cpu/seg.h"

enum task_reason { TASK_JMP, TASK_CALL, TASK_IRET, TASK_INT };

/* Switches to the task whose TSS descriptor `d` (selector `sel`) names.
 * `save_eip` is where the outgoing task resumes; until the commit point,
 * faults leave cpu->s.rip on the instruction (or event) that switched.
 * `ext` is the EXT bit for error codes. */
void task_switch(struct cpu *cpu, uint16_t sel, struct desc *d,
		 enum task_reason reason, uint32_t ext, uint64_t save_eip);

/* The stack for privilege level `dpl` from the current TSS. */
void tss_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *esp);
/* #TS/#SS checks on a stack segment a privilege change switches to. */
void check_new_ss(struct cpu *cpu, uint16_t ss, unsigned new_cpl, uint32_t ext,
		  struct desc *d);

#endif
