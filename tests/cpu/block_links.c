/* Going from block to block without the run loop: links to blocks in
 * other pages (branch_unlinked()) and the return stack (branch_return())
 * keep a block found earlier; each must notice when the page it came from
 * is mapped elsewhere now, or the decoding mode changed, and run what is
 * there now. Links within a page become direct jumps in the generated
 * code (jit_link_direct()): they must still stop at the budget and be
 * gone once the page is written. */
#include <unistd.h>

#include "insn_util.h"

/* A loop calls the page at 0x5000 three times (the first decodes, the
 * second links); before the third the page is mapped to a copy that
 * returns 2 instead of 1: ESI sums what the calls returned (want 4). */
static int call_into_remapped(struct testbus *tb, struct x86_state *s,
			      const uint8_t *code, size_t len)
{
	static const uint8_t f1[] = {0xb8, 0x01, 0, 0, 0, 0xc3}; /* mov eax, 1; ret */
	static const uint8_t f2[] = {0xb8, 0x02, 0, 0, 0, 0xc3}; /* mov eax, 2; ret */
	tcpu_pm32_paged(tb, s, 256);
	memcpy(tb->ram + 0x5000, f1, sizeof(f1));
	memcpy(tb->ram + 0x6000, f2, sizeof(f2));
	return tcpu_run(tb, s, code, len);
}

/* The return stack: a routine in page 3 calls the callee `f` in page 5,
 * which in the third round maps page 3 to a copy whose code after the
 * call sets another value: ESI sums EDI after each return (want
 * 2 * 0x111 + 0x211). */
static int return_into_remapped(struct testbus *tb, struct x86_state *s,
				const uint8_t *f, size_t len)
{
	static const uint8_t code[] = {
		0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
		0x31, 0xf6,                   /* xor esi, esi */
		0xe8, 0xf4, 0x1f, 0x00, 0x00, /* L: call 0x3000 */
		0x01, 0xfe,                   /* add esi, edi */
		0x49,                         /* dec ecx */
		0x75, 0xf6,                   /* jnz L */
	};
	static const uint8_t caller[] = {
		0xe8, 0xfb, 0x1f, 0x00, 0x00, /* call 0x5000 */
		0xbf, 0x11, 0x01, 0x00, 0x00, /* mov edi, 0x111 */
		0xc3,                         /* ret */
	};
	tcpu_pm32_paged(tb, s, 256);
	memcpy(tb->ram + 0x3000, caller, sizeof(caller));
	memcpy(tb->ram + 0x4000, caller, sizeof(caller));
	tb->ram[0x4000 + 7] = 0x02; /* mov edi, 0x211 in the copy */
	memcpy(tb->ram + 0x5000, f, len);
	return tcpu_run(tb, s, code, sizeof(code));
}


int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	int vec;
	/* A doorbell the CPU watches from the test below on (cpu_watch()). */
	uint32_t bell = 0;

	/* A chain that ignores its budget never comes back: fail, not hang. */
	alarm(60);
	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;

	{
		/* The call alone in its block. */
		static const uint8_t code[] = {
			0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
			0x31, 0xf6,                   /* xor esi, esi */
			0xe8, 0xf4, 0x3f, 0x00, 0x00, /* L: call 0x5000 */
			0x01, 0xc6,                   /* add esi, eax */
			0x83, 0xf9, 0x02,             /* cmp ecx, 2 */
			0x75, 0x11,                   /* jne skip */
			0xc7, 0x05, 0x14, 0x10, 0x02, 0x00, /* mov dword [PTE 5], */
			0x03, 0x60, 0x00, 0x00,       /*   0x6003 */
			0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00, /* invlpg [0x5000] */
			0x49,                         /* skip: dec ecx */
			0x75, 0xe0,                   /* jnz L */
		};
		vec = call_into_remapped(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 4,
		       "call to another page: runs the page mapped there now (vec %d, esi %u, want 4)",
		       vec, (unsigned)s.gpr[R_SI]);
	}
	{
		/* The callee's RET alone in its block, after a Jcc. */
		static const uint8_t f[] = {
			0x83, 0xf9, 0x01,             /* cmp ecx, 1 */
			0x75, 0x11,                   /* jne r */
			0xc7, 0x05, 0x0c, 0x10, 0x02, 0x00, /* mov dword [PTE 3], */
			0x03, 0x40, 0x00, 0x00,       /*   0x4003 */
			0x0f, 0x01, 0x3d, 0x00, 0x30, 0x00, 0x00, /* invlpg [0x3000] */
			0xc3,                         /* r: ret */
		};
		vec = return_into_remapped(&tb, &s, f, sizeof(f));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 2 * 0x111 + 0x211,
		       "return into a page mapped elsewhere since the call (vec %d, esi %#x, want %#x)",
		       vec, (unsigned)s.gpr[R_SI], 2 * 0x111 + 0x211);
	}
	{
		/* The return stack across a change of decoding mode: the
		 * third time round, the callee makes DS a 4 KiB segment, and
		 * the load after the return must be checked against it. */
		static const uint8_t code[] = {
			0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
			0xe8, 0x07, 0x00, 0x00, 0x00, /* L: call f */
			0x8b, 0x03,                   /* mov eax, [ebx] */
			0x49,                         /* dec ecx */
			0x75, 0xf6,                   /* jnz L */
			0xeb, 0x0c,                   /* jmp done */
			0x83, 0xf9, 0x01,             /* f: cmp ecx, 1 */
			0x75, 0x06,                   /* jne r */
			0x66, 0xba, 0x30, 0x00,       /* mov dx, 0x30 */
			0x8e, 0xda,                   /* mov ds, dx */
			0xc3,                         /* r: ret */
		};
		tcpu_pm32(&tb, &s, 0, 0);
		/* 0x30: data, base 0, limit 0xfff bytes. */
		t_put32(&tb, T_GDT + 0x30, 0x00000fff);
		t_put32(&tb, T_GDT + 0x34, 0x00409200);
		s.gdtr.limit = 0x37;
		s.gpr[R_BX] = 0x2000;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == EXC_GP && (uint32_t)s.gpr[R_CX] == 1,
		       "return after a segment load: the block there is decoded for the new mode (vec %d, ecx %u)",
		       vec, (unsigned)s.gpr[R_CX]);
	}
	{
		/* As the first, with the call after another instruction in
		 * its compiled run: the second round follows the far link
		 * from generated code, the third must see the page mapped
		 * elsewhere. */
		static const uint8_t code[] = {
			0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
			0x31, 0xf6,                   /* xor esi, esi */
			0x31, 0xc0,                   /* L: xor eax, eax */
			0xe8, 0xf2, 0x3f, 0x00, 0x00, /* call 0x5000 */
			0x01, 0xc6,                   /* add esi, eax */
			0x83, 0xf9, 0x02,             /* cmp ecx, 2 */
			0x75, 0x11,                   /* jne skip */
			0xc7, 0x05, 0x14, 0x10, 0x02, 0x00, /* mov dword [PTE 5], */
			0x03, 0x60, 0x00, 0x00,       /*   0x6003 */
			0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00, /* invlpg [0x5000] */
			0x49,                         /* skip: dec ecx */
			0x75, 0xde,                   /* jnz L */
		};
		vec = call_into_remapped(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 4,
		       "compiled call to another page: runs the page mapped there now (vec %d, esi %u, want 4)",
		       vec, (unsigned)s.gpr[R_SI]);
	}
	{
		/* A compiled call into another page after a segment load:
		 * the callee's block, decoded with DS flat, must not run
		 * once DS has a 4 KiB limit; decoded again, its load faults. */
		static const uint8_t code[] = {
			0xb9, 0x02, 0x00, 0x00, 0x00, /* mov ecx, 2 */
			0x31, 0xc0,                   /* L: xor eax, eax */
			0xe8, 0xf4, 0x3f, 0x00, 0x00, /* call 0x5000 */
			0x66, 0xba, 0x30, 0x00,       /* mov dx, 0x30 */
			0x8e, 0xda,                   /* mov ds, dx */
			0x49,                         /* dec ecx */
			0x75, 0xf0,                   /* jnz L */
		};
		static const uint8_t g[] = {0x8b, 0x03, 0xc3}; /* mov eax, [ebx]; ret */
		tcpu_pm32(&tb, &s, 0, 0);
		t_put32(&tb, T_GDT + 0x30, 0x00000fff);
		t_put32(&tb, T_GDT + 0x34, 0x00409200);
		s.gdtr.limit = 0x37;
		s.gpr[R_BX] = 0x2000;
		memcpy(tb.ram + 0x5000, g, sizeof(g));
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == EXC_GP && (uint32_t)s.gpr[R_CX] == 1,
		       "compiled call after a segment load: the callee is decoded for the new mode (vec %d, ecx %u)",
		       vec, (unsigned)s.gpr[R_CX]);
	}
	{
		/* As the second, with the callee's RET after another
		 * instruction in its compiled run. */
		static const uint8_t f[] = {
			0x83, 0xf9, 0x01,             /* cmp ecx, 1 */
			0x75, 0x11,                   /* jne r */
			0xc7, 0x05, 0x0c, 0x10, 0x02, 0x00, /* mov dword [PTE 3], */
			0x03, 0x40, 0x00, 0x00,       /*   0x4003 */
			0x0f, 0x01, 0x3d, 0x00, 0x30, 0x00, 0x00, /* invlpg [0x3000] */
			0x31, 0xc0,                   /* r: xor eax, eax */
			0xc3,                         /* ret */
		};
		vec = return_into_remapped(&tb, &s, f, sizeof(f));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 2 * 0x111 + 0x211,
		       "compiled return into a page mapped elsewhere since the call (vec %d, esi %#x, want %#x)",
		       vec, (unsigned)s.gpr[R_SI], 2 * 0x111 + 0x211);
	}
	{
		/* A compiled return the return stack did not see coming: the
		 * callee returns twice to the call's fall-through, whose
		 * block the calling block then links, and the third time to
		 * an address it pushed itself, past it. */
		static const uint8_t code[] = {
			0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
			0x31, 0xf6,                   /* xor esi, esi */
			0xe8, 0xf4, 0x3f, 0x00, 0x00, /* L: call 0x5000 */
			0x83, 0xc6, 0x01,             /* add esi, 1 */
			0x83, 0xc6, 0x10,             /* X: add esi, 0x10 */
			0x49,                         /* dec ecx */
			0x75, 0xf2,                   /* jnz L */
		};
		static const uint8_t f[] = {
			0x83, 0xf9, 0x01,             /* cmp ecx, 1 */
			0x75, 0x07,                   /* jne n */
			0xb8, 0x0f, 0x10, 0x00, 0x00, /* mov eax, X */
			0x50,                         /* push eax */
			0xc3,                         /* ret */
			0x31, 0xc0,                   /* n: xor eax, eax */
			0xc3,                         /* ret */
		};
		tcpu_pm32(&tb, &s, 0, 0);
		memcpy(tb.ram + 0x5000, f, sizeof(f));
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 0x32,
		       "compiled return to an address the call did not push (vec %d, esi %#x, want 0x32)",
		       vec, (unsigned)s.gpr[R_SI]);
	}
	{
		/* Two blocks of one page jumping to each other for ever:
		 * once linked, the generated code goes from one to the other
		 * directly, and must still end the run at its budget, after
		 * whole blocks. */
		static const uint8_t code[] = {
			0x40,                         /* L: inc eax */
			0xeb, 0x01,                   /* jmp M */
			0x90,                         /* nop */
			0x43,                         /* M: inc ebx */
			0xeb, 0xf9,                   /* jmp L */
		};
		enum cpu_exit ex;
		uint64_t ic;
		tcpu_pm32(&tb, &s, 0, 0);
		memcpy(tb.ram + T_CODE, code, sizeof(code));
		s.rip = T_CODE;
		s.gpr[R_AX] = s.gpr[R_BX] = 0;
		cpu_set_state(tb.cpu, &s);
		tb.exited = 0;
		ic = cpu_icount(tb.cpu);
		ex = testbus_run(&tb, 100000);
		cpu_get_state(tb.cpu, &s);
		tap_ok(&t, ex == CPU_EXIT_BUDGET && cpu_icount(tb.cpu) - ic == 100000 &&
			   (uint32_t)s.gpr[R_AX] == 25000 && (uint32_t)s.gpr[R_BX] == 25000 &&
			   s.rip == T_CODE,
		       "a loop of two linked blocks in one page ends at the budget (%llu insns, eax %u, ebx %u)",
		       (unsigned long long)(cpu_icount(tb.cpu) - ic), (unsigned)s.gpr[R_AX],
		       (unsigned)s.gpr[R_BX]);
	}
	tap_ok(&t, cpu_watch(tb.cpu, &bell), "a word to watch is taken");
	for (int jit = 0; jit <= 1; jit++) {
		/* The same loop with a watched word (cpu_watch(), a device
		 * model's doorbell): left at 0 it changes nothing; once set,
		 * the run returns within a chain's few thousand instructions,
		 * having run at least one block each time, so a word that
		 * stays set slows the guest but cannot stop it. */
		static const uint8_t code[] = {
			0x40, 0xeb, 0x01, 0x90, /* L: inc eax; jmp M; nop */
			0x43, 0xeb, 0xf9,       /* M: inc ebx; jmp L */
		};
		enum cpu_exit ex[3];
		uint64_t ic[4];
		cpu_set_jit(tb.cpu, jit);
		tcpu_pm32(&tb, &s, 0, 0);
		memcpy(tb.ram + T_CODE, code, sizeof(code));
		s.rip = T_CODE;
		cpu_set_state(tb.cpu, &s);
		bell = 0;
		ic[0] = cpu_icount(tb.cpu);
		ex[0] = cpu_run(tb.cpu, 100000);
		ic[1] = cpu_icount(tb.cpu);
		bell = 1;
		ex[1] = cpu_run(tb.cpu, 100000);
		ic[2] = cpu_icount(tb.cpu);
		ex[2] = cpu_run(tb.cpu, 100000);
		ic[3] = cpu_icount(tb.cpu);
		bell = 0;
		tap_ok(&t, ex[0] == CPU_EXIT_BUDGET && ic[1] - ic[0] == 100000,
		       "%s: a watched word at 0 leaves the run to its budget (%llu insns)",
		       jit ? "compiled" : "interpreted", (unsigned long long)(ic[1] - ic[0]));
		tap_ok(&t, ex[1] == CPU_EXIT_REQUEST && ex[2] == CPU_EXIT_REQUEST &&
			   ic[2] > ic[1] && ic[2] - ic[1] <= 5000 && ic[3] > ic[2] &&
			   ic[3] - ic[2] <= 5000,
		       "%s: a set word ends each run soon, after some progress (%llu, %llu insns)",
		       jit ? "compiled" : "interpreted", (unsigned long long)(ic[2] - ic[1]),
		       (unsigned long long)(ic[3] - ic[2]));
	}
	{
		unsigned taken = 1; /* bell, above */
		while (cpu_watch(tb.cpu, &bell))
			taken++;
		tap_ok(&t, taken == CPU_MAX_WATCH, "at most CPU_MAX_WATCH words are watched (%u)",
		       taken);
	}
	{
		/* A block jumps to the next one in its page, linked (and so
		 * direct) from the second round; in the fourth, the loop
		 * writes the target's immediate: the fifth must run the new
		 * code (ESI: four times 1, then 0x10). */
		static const uint8_t code[] = {
			0xb9, 0x05, 0x00, 0x00, 0x00, /* mov ecx, 5 */
			0x31, 0xf6,                   /* xor esi, esi */
			0x31, 0xc0,                   /* L: xor eax, eax */
			0xeb, 0x00,                   /* jmp B */
			0x83, 0xc6, 0x01,             /* B: add esi, 1 */
			0x83, 0xf9, 0x02,             /* cmp ecx, 2 */
			0x75, 0x07,                   /* jne skip */
			0xc6, 0x05, 0x0d, 0x10, 0x00, 0x00, /* mov byte [B + 2 = 0x100d], */
			0x10,                         /*   0x10 */
			0x49,                         /* skip: dec ecx */
			0x75, 0xea,                   /* jnz L */
		};
		tcpu_pm32(&tb, &s, 0, 0);
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 0x14,
		       "a direct link into a block of a page written since runs the new code (vec %d, esi %#x, want 0x14)",
		       vec, (unsigned)s.gpr[R_SI]);
	}
	{
		/* A retpoline: the thunk's RET goes where EAX says, which the
		 * return stack never knows; the generated code finds the
		 * block in the jump cache, still checked against the TLB.
		 * Two targets by turns in page 5, which the fifth round maps
		 * to a copy whose first target returns 2 (want 0x34). */
		static const uint8_t code[] = {
			0xb9, 0x06, 0x00, 0x00, 0x00, /* mov ecx, 6 */
			0x31, 0xf6,                   /* xor esi, esi */
			0x83, 0xf9, 0x02,             /* L: cmp ecx, 2 */
			0x75, 0x11,                   /* jne M */
			0xc7, 0x05, 0x14, 0x10, 0x02, 0x00, /* mov dword [PTE 5], */
			0x03, 0x60, 0x00, 0x00,       /*   0x6003 */
			0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00, /* invlpg [0x5000] */
			0xb8, 0x00, 0x50, 0x00, 0x00, /* M: mov eax, 0x5000 */
			0xf6, 0xc1, 0x01,             /* test cl, 1 */
			0x74, 0x05,                   /* jz A */
			0xb8, 0x10, 0x50, 0x00, 0x00, /* mov eax, 0x5010 */
			0xe8, 0x07, 0x00, 0x00, 0x00, /* A: call thunk */
			0x01, 0xc6,                   /* add esi, eax */
			0x49,                         /* dec ecx */
			0x75, 0xd1,                   /* jnz L */
			0xeb, 0x10,                   /* jmp done */
			0xe8, 0x07, 0x00, 0x00, 0x00, /* thunk: call T1 */
			0xf3, 0x90,                   /* T2: pause */
			0x0f, 0xae, 0xe8,             /* lfence */
			0xeb, 0xf9,                   /* jmp T2 */
			0x89, 0x04, 0x24,             /* T1: mov [esp], eax */
			0xc3,                         /* ret */
		};                                    /* done: */
		static const uint8_t f[] = {0xb8, 0x01, 0, 0, 0, 0xc3}; /* mov eax, 1; ret */
		static const uint8_t g[] = {0xb8, 0x10, 0, 0, 0, 0xc3}; /* mov eax, 0x10; ret */
		tcpu_pm32_paged(&tb, &s, 256);
		memcpy(tb.ram + 0x5000, f, sizeof(f));
		memcpy(tb.ram + 0x5010, g, sizeof(g));
		memcpy(tb.ram + 0x6000, f, sizeof(f));
		tb.ram[0x6001] = 0x02;
		memcpy(tb.ram + 0x6010, g, sizeof(g));
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_SI] == 0x34,
		       "returns the return stack does not know go by the jump cache, mapping checked (vec %d, esi %#x, want 0x34)",
		       vec, (unsigned)s.gpr[R_SI]);
	}
	testbus_free(&tb);
	return tap_done(&t);
}
