/* The records the 32-bit oracle program (prog.c, run under qemu-i386)
 * writes and diff32.c reads: one per executed state, the same layout for
 * the i386 and x86-64 compilers (fixed-width fields, no implicit padding). */
#ifndef V2E_TESTS_CPU_DIFF32_RECORD_H
#define V2E_TESTS_CPU_DIFF32_RECORD_H

#include <stdint.h>

#define D32_DATA 0x200000u   /* data and stack, same address in the guest */
#define D32_REGION 0x100u    /* bytes compared from D32_DATA */
#define D32_STACK (D32_DATA + 0xc0u)
#define D32_CODE 0x300000u
#define D32_INSN (D32_CODE + 0x400u)
#define D32_MAGIC 0x32336964u /* "di32" */

struct d32_rec {
	uint32_t magic;
	uint32_t len;        /* instruction length */
	uint8_t code[16];
	char name[40];
	uint32_t defined;    /* arithmetic flags the SDM defines */
	uint32_t in[8];      /* eax ecx edx ebx esp ebp esi edi */
	uint32_t in_flags;
	uint32_t out[8];
	uint32_t out_flags;
	uint32_t out_eip;    /* where execution continued (no exception) */
	int32_t vec;         /* exception vector, -1 for none */
	uint16_t sreg[6];    /* es cs ss ds fs gs before */
	uint16_t out_sreg[6];
	uint8_t in_mem[D32_REGION];
	uint8_t out_mem[D32_REGION];
};

_Static_assert(sizeof(struct d32_rec) == 4 + 4 + 16 + 40 + 4 + 32 + 4 + 32 +
						 4 + 4 + 4 + 12 + 12 +
						 2 * D32_REGION,
	       "d32_rec has no padding");

#endif
