/* What the engine keeps between runs of the same code must follow the
 * guest's changes: an instruction that straddles two pages is decoded
 * once (counted through the in_asm log) and again after a write to either
 * page or a new mapping of its second page; TLB entries that lost their
 * slot to a page 4 MiB away (the TLB's victims: 1,024 entries) and translations of pages
 * that are not RAM still give way to a changed page table after INVLPG or
 * a CR3 load. */
#include "insn_util.h"

#define STRADDLE 0x2ffe /* mov eax, imm32: two bytes in page 2, three in 3 */

static unsigned decodes; /* blocks decoded at STRADDLE */

static void count_block(void *opaque, unsigned item, const struct cpu_log_block *b)
{
	(void)opaque;
	if (item == CPU_LOG_IN_ASM && b->pc == STRADDLE)
		decodes++;
}

int main(void)
{
	static const struct cpu_log_sink sink = {.block = count_block};
	static const uint8_t routine[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3}; /* mov eax, 1; ret */
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	int vec;

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;
	cpu_set_log(tb.cpu, CPU_LOG_IN_ASM, &sink);

	{
		/* Six calls; after the third a store patches the immediate
		 * in page 2, after the fifth one in page 3. */
		static const uint8_t code[] = {
			0xb9, 0x06, 0x00, 0x00, 0x00, /* mov ecx, 6 */
			0x31, 0xf6,                   /* xor esi, esi */
			0xe8, 0xf2, 0x1f, 0x00, 0x00, /* L: call 0x2ffe */
			0x01, 0xc6,                   /* add esi, eax */
			0x83, 0xf9, 0x04,             /* cmp ecx, 4 */
			0x75, 0x07,                   /* jne a */
			0xc6, 0x05, 0xff, 0x2f, 0x00, 0x00, 0x10, /* mov byte [0x2fff], 0x10 */
			0x83, 0xf9, 0x02,             /* a: cmp ecx, 2 */
			0x75, 0x07,                   /* jne b */
			0xc6, 0x05, 0x01, 0x30, 0x00, 0x00, 0x20, /* mov byte [0x3001], 0x20 */
			0x49,                         /* b: dec ecx */
			0x75, 0xde,                   /* jnz L */
		};
		tcpu_pm32_paged(&tb, &s, 512);
		memcpy(tb.ram + STRADDLE, routine, sizeof(routine));
		decodes = 0;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 0x200033,
		       "a straddling instruction sees writes to either page (vec %d, esi %#x, want 0x200033)",
		       vec, (unsigned)s.gpr[R_SI]);
		tap_ok(&t, decodes == 3,
		       "it is decoded once, then again after each write (%u decodes, want 3)",
		       decodes);
	}
	{
		/* Four calls; after the second, page 3 is mapped to page 4,
		 * whose copy of the immediate's high bytes differs. */
		static const uint8_t code[] = {
			0xb9, 0x04, 0x00, 0x00, 0x00, /* mov ecx, 4 */
			0x31, 0xf6,                   /* xor esi, esi */
			0xe8, 0xf2, 0x1f, 0x00, 0x00, /* L: call 0x2ffe */
			0x01, 0xc6,                   /* add esi, eax */
			0x83, 0xf9, 0x03,             /* cmp ecx, 3 */
			0x75, 0x11,                   /* jne b */
			0xc7, 0x05, 0x0c, 0x10, 0x02, 0x00, /* mov dword [PTE 3], */
			0x03, 0x40, 0x00, 0x00,       /*   0x4003 */
			0x0f, 0x01, 0x3d, 0x00, 0x30, 0x00, 0x00, /* invlpg [0x3000] */
			0x49,                         /* b: dec ecx */
			0x75, 0xe0,                   /* jnz L */
		};
		tcpu_pm32_paged(&tb, &s, 512);
		memcpy(tb.ram + STRADDLE, routine, sizeof(routine));
		memcpy(tb.ram + 0x4000, tb.ram + 0x3000, 16);
		tb.ram[0x4001] = 0x30; /* the immediate becomes 0x00300001 */
		decodes = 0;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 2 + 2 * 0x300001,
		       "a straddling instruction follows its second page to a new mapping (vec %d, esi %#x, want %#x)",
		       vec, (unsigned)s.gpr[R_SI], 2 + 2 * 0x300001);
		tap_ok(&t, decodes == 2, "decoded once per mapping (%u decodes, want 2)",
		       decodes);
	}
	cpu_set_log(tb.cpu, 0, NULL);
	{
		/* Loads from 0x5000 and 0x405000 (one slot of the 1,024-entry
		 * TLB; a second page table at 0x22000 maps the page again)
		 * take turns; then 0x405000 is mapped to page 6 and the loads
		 * must see it, whichever of the two held the slot: after
		 * INVLPG, then after a CR3 load. */
		static const uint8_t code[] = {
			0x8b, 0x05, 0x00, 0x50, 0x00, 0x00, /* mov eax, [0x5000] */
			0x8b, 0x1d, 0x00, 0x50, 0x40, 0x00, /* mov ebx, [0x405000] */
			0x8b, 0x05, 0x00, 0x50, 0x00, 0x00, /* mov eax, [0x5000] */
			0xc7, 0x05, 0x14, 0x20, 0x02, 0x00, /* mov dword [PTE 0x405], */
			0x03, 0x60, 0x00, 0x00,       /*   0x6003 */
			0x0f, 0x01, 0x3d, 0x00, 0x50, 0x40, 0x00, /* invlpg [0x405000] */
			0x8b, 0x15, 0x00, 0x50, 0x40, 0x00, /* mov edx, [0x405000] */
			0x8b, 0x05, 0x00, 0x50, 0x00, 0x00, /* mov eax, [0x5000] */
			0xc7, 0x05, 0x14, 0x20, 0x02, 0x00, /* mov dword [PTE 0x405], */
			0x03, 0x70, 0x00, 0x00,       /*   0x7003 */
			0x0f, 0x20, 0xd8,             /* mov eax, cr3 */
			0x0f, 0x22, 0xd8,             /* mov cr3, eax */
			0x8b, 0x05, 0x00, 0x50, 0x00, 0x00, /* mov eax, [0x5000] */
			0x8b, 0x35, 0x00, 0x50, 0x40, 0x00, /* mov esi, [0x405000] */
		};
		tcpu_pm32_paged(&tb, &s, 512);
		t_put32(&tb, T_PDIR + 4, 0x22000 | 3);
		t_put32(&tb, 0x22000 + 5 * 4, 0x5003);
		t_put32(&tb, 0x5000, 0x55);
		t_put32(&tb, 0x6000, 0x66);
		t_put32(&tb, 0x7000, 0x77);
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_BX] == 0x55 &&
			   (uint32_t)s.gpr[R_DX] == 0x66 && (uint32_t)s.gpr[R_SI] == 0x77 &&
			   (uint32_t)s.gpr[R_AX] == 0x55,
		       "TLB entries that lost their slot follow INVLPG and CR3 loads (vec %d, ebx %#x edx %#x esi %#x eax %#x)",
		       vec, (unsigned)s.gpr[R_BX], (unsigned)s.gpr[R_DX],
		       (unsigned)s.gpr[R_SI], (unsigned)s.gpr[R_AX]);
	}
	{
		/* The same for a page that is not RAM (linear 0x5000 mapped
		 * past the end of RAM, where reads give all ones): its
		 * translation is kept, and must go when the mapping does. */
		static const uint8_t code[] = {
			0x8b, 0x05, 0x00, 0x50, 0x00, 0x00, /* mov eax, [0x5000] */
			0x8b, 0x1d, 0x00, 0x50, 0x00, 0x00, /* mov ebx, [0x5000] */
			0xc7, 0x05, 0x14, 0x10, 0x02, 0x00, /* mov dword [PTE 5], */
			0x03, 0x60, 0x00, 0x00,       /*   0x6003 */
			0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00, /* invlpg [0x5000] */
			0x8b, 0x15, 0x00, 0x50, 0x00, 0x00, /* mov edx, [0x5000] */
		};
		tcpu_pm32_paged(&tb, &s, 512);
		t_put32(&tb, T_PTAB + 5 * 4, 0x40000003); /* 1 GiB: nothing there */
		t_put32(&tb, 0x6000, 0x66);
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0xffffffffu &&
			   (uint32_t)s.gpr[R_BX] == 0xffffffffu &&
			   (uint32_t)s.gpr[R_DX] == 0x66,
		       "a page that is not RAM: its kept translation follows INVLPG (vec %d, eax %#x ebx %#x edx %#x)",
		       vec, (unsigned)s.gpr[R_AX], (unsigned)s.gpr[R_BX],
		       (unsigned)s.gpr[R_DX]);
	}
	{
		/* A 4 MiB page (PSE) at linear 4 MiB, cached as two of its
		 * 4 KiB parts in two TLB slots; INVLPG of one part must drop
		 * the other too once the page is mapped elsewhere (physical
		 * 4 MiB: nothing there). */
		static const uint8_t code[] = {
			0x8b, 0x05, 0x00, 0x50, 0x40, 0x00, /* mov eax, [0x405000] */
			0x8b, 0x1d, 0x00, 0x70, 0x40, 0x00, /* mov ebx, [0x407000] */
			0xc7, 0x05, 0x04, 0x00, 0x02, 0x00, /* mov dword [PDE 1], */
			0x83, 0x00, 0x40, 0x00,       /*   4 MiB, PS */
			0x0f, 0x01, 0x3d, 0x00, 0x70, 0x40, 0x00, /* invlpg [0x407000] */
			0x8b, 0x15, 0x00, 0x50, 0x40, 0x00, /* mov edx, [0x405000] */
		};
		tcpu_pm32_paged(&tb, &s, 512);
		t_put32(&tb, T_PDIR + 4, 0x83); /* physical 0, 4 MiB */
		s.cr4 |= CR4_PSE;
		t_put32(&tb, 0x5000, 0x55);
		t_put32(&tb, 0x7000, 0x77);
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0x55 &&
			   (uint32_t)s.gpr[R_BX] == 0x77 &&
			   (uint32_t)s.gpr[R_DX] == 0xffffffffu,
		       "INVLPG of one part of a large page drops its other parts (vec %d, eax %#x ebx %#x edx %#x)",
		       vec, (unsigned)s.gpr[R_AX], (unsigned)s.gpr[R_BX],
		       (unsigned)s.gpr[R_DX]);
	}
	testbus_free(&tb);
	return tap_done(&t);
}
