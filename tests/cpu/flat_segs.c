/* Flat segments in decoded code: a block decoded while DS (or SS) is flat
 * uses memory forms without a segment check (cpu->flat_segs, part of the
 * decoding mode). Loading a segment that is not flat, inside the same
 * block or before a decoded block runs again, must bring the checks back:
 * limits fault, bases apply, read-only segments refuse writes; and a flat
 * segment loaded again gives the flat forms back. */
#include "insn_util.h"

/* Extra descriptors after tcpu_pm32()'s GDT (which ends with the TSS at
 * 0x28). */
#define SEL_BASED 0x30   /* data, base 0x3000, limit 4 GiB */
#define SEL_SMALL 0x38   /* data, base 0, limit 0xfff (bytes) */
#define SEL_RO 0x40      /* read-only data, base 0, limit 4 GiB */

static void pm32_with_segments(struct testbus *tb, struct x86_state *s)
{
	tcpu_pm32(tb, s, 0, 0);
	t_put32(tb, T_GDT + 0x30, 0x0000ffff);
	t_put32(tb, T_GDT + 0x34, 0x00cf9200);
	tb->ram[T_GDT + 0x32] = 0x00; /* base 15:0 = 0x3000 */
	tb->ram[T_GDT + 0x33] = 0x30;
	t_put32(tb, T_GDT + 0x38, 0x00000fff);
	t_put32(tb, T_GDT + 0x3c, 0x00409200);
	t_put32(tb, T_GDT + 0x40, 0x0000ffff);
	t_put32(tb, T_GDT + 0x44, 0x00cf9000);
	s->gdtr.limit = 0x47;
	for (unsigned a = 0x2000; a < 0x2100; a += 4)
		t_put32(tb, a, 0x11110000u + a);
	for (unsigned a = 0x5000; a < 0x5100; a += 4)
		t_put32(tb, a, 0x22220000u + a);
}

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	int vec;

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;

	{
		/* The loop's block runs first with DS flat, then after
		 * DS = a 4 KiB segment: the second MOV must fault. */
		static const uint8_t code[] = {
			0xbb, 0x00, 0x20, 0x00, 0x00, /* mov ebx, 0x2000 */
			0xb9, 0x02, 0x00, 0x00, 0x00, /* mov ecx, 2 */
			0x8b, 0x03,                   /* L: mov eax, [ebx] */
			0x66, 0xba, 0x38, 0x00,       /* mov dx, SEL_SMALL */
			0x8e, 0xda,                   /* mov ds, dx */
			0x49,                         /* dec ecx */
			0x75, 0xf5,                   /* jnz L */
		};
		pm32_with_segments(&tb, &s);
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		/* (The exception stub puts the vector in AL.) */
		tap_ok(&t, vec == EXC_GP &&
			   ((uint32_t)s.gpr[R_AX] & ~0xffu) == 0x11112000u &&
			   (uint32_t)s.gpr[R_CX] == 1,
		       "limit: a block decoded with DS flat faults beyond a small DS's limit (vec %d, eax %#x, ecx %u)",
		       vec, (unsigned)s.gpr[R_AX], (unsigned)s.gpr[R_CX]);
	}
	{
		/* Within one block: flat, based, flat again. */
		static const uint8_t code[] = {
			0x8b, 0x03,             /* mov eax, [ebx] */
			0x66, 0xba, 0x30, 0x00, /* mov dx, SEL_BASED */
			0x8e, 0xda,             /* mov ds, dx */
			0x8b, 0x33,             /* mov esi, [ebx] */
			0x66, 0xba, 0x10, 0x00, /* mov dx, SEL_DATA0 */
			0x8e, 0xda,             /* mov ds, dx */
			0x8b, 0x3b,             /* mov edi, [ebx] */
		};
		pm32_with_segments(&tb, &s);
		s.gpr[R_BX] = 0x2000;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0x11112000u &&
			   (uint32_t)s.gpr[R_SI] == 0x22225000u &&
			   (uint32_t)s.gpr[R_DI] == 0x11112000u,
		       "base: DS's base applies after a load mid-block and goes with a flat DS (vec %d, %#x %#x %#x)",
		       vec, (unsigned)s.gpr[R_AX], (unsigned)s.gpr[R_SI],
		       (unsigned)s.gpr[R_DI]);
	}
	{
		/* A read-only segment reaching 4 GiB is not flat: reads go,
		 * a read-modify-write faults and leaves memory alone (the
		 * first store puts the page in the write TLB). */
		static const uint8_t code[] = {
			0x8b, 0x03,             /* mov eax, [ebx] */
			0x89, 0x43, 0x04,       /* mov [ebx+4], eax */
			0x66, 0xba, 0x40, 0x00, /* mov dx, SEL_RO */
			0x8e, 0xda,             /* mov ds, dx */
			0x8b, 0x0b,             /* mov ecx, [ebx] */
			0x01, 0x03,             /* add [ebx], eax */
		};
		pm32_with_segments(&tb, &s);
		s.gpr[R_BX] = 0x2000;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == EXC_GP && (uint32_t)s.gpr[R_CX] == 0x11112000u &&
			   t_get32(&tb, 0x2000) == 0x11112000u,
		       "read-only: a read goes, ADD to memory faults and writes nothing (vec %d, ecx %#x, [0x2000] %#x)",
		       vec, (unsigned)s.gpr[R_CX], (unsigned)t_get32(&tb, 0x2000));
	}
	{
		/* A compare fused with its Jcc, decoded flat, then beyond a
		 * small DS's limit. */
		static const uint8_t code[] = {
			0xb9, 0x02, 0x00, 0x00, 0x00, /* mov ecx, 2 */
			0x3b, 0x03,                   /* L: cmp eax, [ebx] */
			0x74, 0x00,                   /* jz $+2 */
			0x66, 0xba, 0x38, 0x00,       /* mov dx, SEL_SMALL */
			0x8e, 0xda,                   /* mov ds, dx */
			0x49,                         /* dec ecx */
			0x75, 0xf3,                   /* jnz L */
		};
		pm32_with_segments(&tb, &s);
		s.gpr[R_BX] = 0x2000;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == EXC_GP && (uint32_t)s.gpr[R_CX] == 1,
		       "fused compare: faults beyond a small DS's limit (vec %d, ecx %u)",
		       vec, (unsigned)s.gpr[R_CX]);
	}
	{
		/* An indexed operand, then the same through a based DS. */
		static const uint8_t code[] = {
			0x8b, 0x0c, 0xb3,       /* mov ecx, [ebx+esi*4] */
			0x66, 0xba, 0x30, 0x00, /* mov dx, SEL_BASED */
			0x8e, 0xda,             /* mov ds, dx */
			0x8b, 0x14, 0xb3,       /* mov edx, [ebx+esi*4] */
		};
		pm32_with_segments(&tb, &s);
		s.gpr[R_BX] = 0x2000;
		s.gpr[R_SI] = 4;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_CX] == 0x11112010u &&
			   (uint32_t)s.gpr[R_DX] == 0x22225010u,
		       "indexed: flat then based (vec %d, %#x %#x)", vec,
		       (unsigned)s.gpr[R_CX], (unsigned)s.gpr[R_DX]);
	}
	{
		/* SS: [ebp] and PUSH/POP through a flat SS, then a based SS
		 * loaded mid-block. */
		static const uint8_t code[] = {
			0x8b, 0x45, 0x00,       /* mov eax, [ebp] */
			0x53,                   /* push ebx */
			0x5f,                   /* pop edi */
			0x66, 0xba, 0x30, 0x00, /* mov dx, SEL_BASED */
			0x8e, 0xd2,             /* mov ss, dx */
			0x90,                   /* nop (MOV SS's shadow) */
			0x8b, 0x4d, 0x00,       /* mov ecx, [ebp] */
			0x53,                   /* push ebx */
			0x8b, 0x34, 0x24,       /* mov esi, [esp] */
		};
		pm32_with_segments(&tb, &s);
		s.gpr[R_BP] = 0x2000;
		s.gpr[R_BX] = 0x12345678;
		s.gpr[R_SP] = 0x2080;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0x11112000u &&
			   (uint32_t)s.gpr[R_DI] == 0x12345678u &&
			   (uint32_t)s.gpr[R_CX] == 0x22225000u &&
			   (uint32_t)s.gpr[R_SI] == 0x12345678u &&
			   t_get32(&tb, 0x507c) == 0x12345678u,
		       "SS: flat, then based after MOV SS (vec %d, %#x %#x %#x %#x)",
		       vec, (unsigned)s.gpr[R_AX], (unsigned)s.gpr[R_DI],
		       (unsigned)s.gpr[R_CX], (unsigned)s.gpr[R_SI]);
	}
	testbus_free(&tb);
	return tap_done(&t);
}
