/* String instructions (insn_string.c): MOVS CMPS STOS LODS SCAS INS OUTS
 * with and without REP/REPE/REPNE, forward and backward, 16- and 32-bit
 * addressing, segment overrides of the source only, REP with a zero
 * count, overlapping moves (element order shows through), counts beyond
 * one execution's batch and across pages (the direct-copy path), a fault
 * in the middle leaving ECX/ESI/EDI at the faulting element, and the I/O
 * permission check of INS/OUTS. */
#include "insn_util.h"

static void pattern(struct testbus *tb, uint32_t at, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		tb->ram[at + i] = (uint8_t)(seed + i * 7);
}

static bool same_pattern(struct testbus *tb, uint32_t at, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (tb->ram[at + i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

static void pm_user(struct testbus *tb, struct x86_state *s, unsigned iopl)
{
	tcpu_pm32(tb, s, 3, iopl);
}

static void deny(struct testbus *tb, unsigned port)
{
	tb->ram[T_TSS + 0x68 + port / 8] |= (uint8_t)(1u << (port % 8));
}

static int io_run(struct testbus *tb, struct x86_state *s, const uint8_t *code,
		  size_t len, uint64_t *accesses)
{
	uint64_t before = tb->unclaimed_io;
	int vec = tcpu_run(tb, s, code, len);
	*accesses = tb->unclaimed_io - before;
	return vec;
}

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	uint64_t n;
	int vec;

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;

	{
		static const uint8_t code[] = {0xf3, 0xa4}; /* rep movsb */
		tcpu_real(&tb, &s);
		pattern(&tb, 0x2000, 16, 1);
		memset(tb.ram + 0x3000, 0, 16);
		s.gpr[R_SI] = 0x2000;
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 5;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && same_pattern(&tb, 0x3000, 5, 1) &&
				   tb.ram[0x3005] == 0 && (s.gpr[R_CX] & 0xffff) == 0 &&
				   s.gpr[R_SI] == 0x2005 && s.gpr[R_DI] == 0x3005,
		       "rep movsb: 5 bytes, SI/DI advanced, CX 0");
		s.gpr[R_CX] = 0xabcd0000; /* CX = 0, upper ECX bits set */
		s.gpr[R_SI] = 0x2000;
		s.gpr[R_DI] = 0x3100;
		tb.ram[0x3100] = 0x5a;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && tb.ram[0x3100] == 0x5a &&
				   s.gpr[R_SI] == 0x2000 && s.gpr[R_DI] == 0x3100 &&
				   s.gpr[R_CX] == 0xabcd0000,
		       "rep movsb with CX = 0 (16-bit addressing): nothing happens");
	}
	{
		static const uint8_t code[] = {0xf3, 0xa6}; /* repe cmpsb */
		tcpu_real(&tb, &s);
		s.gpr[R_CX] = 0;
		s.rflags = 0x2 | FL_ZF | FL_CF;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (s.rflags & T_ARITH) == (FL_ZF | FL_CF),
		       "repe cmpsb with CX = 0: flags unchanged");
	}
	{
		static const uint8_t code[] = {0xfd, 0xf3, 0xa5, 0xfc}; /* std; rep movsw; cld */
		tcpu_real(&tb, &s);
		pattern(&tb, 0x2000, 16, 3);
		memset(tb.ram + 0x3000, 0, 16);
		s.gpr[R_SI] = 0x2006;
		s.gpr[R_DI] = 0x3006;
		s.gpr[R_CX] = 4;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && same_pattern(&tb, 0x3000, 8, 3) &&
				   tb.ram[0x3008] == 0 && s.gpr[R_SI] == 0x1ffe &&
				   s.gpr[R_DI] == 0x2ffe && (s.gpr[R_CX] & 0xffff) == 0,
		       "std; rep movsw: 4 words downwards, SI/DI end 2 below");
	}
	{
		/* Overlap, destination one byte ahead: each byte copied is read
		 * again, so the first byte fills the range. */
		static const uint8_t code[] = {0xf3, 0xa4};
		tcpu_real(&tb, &s);
		pattern(&tb, 0x2000, 200, 9);
		s.gpr[R_SI] = 0x2000;
		s.gpr[R_DI] = 0x2001;
		s.gpr[R_CX] = 150;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		{
			bool fill = true;
			for (unsigned i = 0; i <= 150; i++)
				fill &= tb.ram[0x2000 + i] == 9;
			tap_ok(&t, vec == -1 && fill && tb.ram[0x2000 + 151] == (uint8_t)(9 + 151 * 7),
			       "rep movsb with DI = SI + 1 replicates the first byte");
		}
	}
	{
		/* Overlap, destination two bytes below: a correct shift down. */
		static const uint8_t code[] = {0x66, 0xf3, 0xa5}; /* rep movsd */
		tcpu_real(&tb, &s);
		pattern(&tb, 0x2000, 400, 5);
		s.gpr[R_SI] = 0x2002;
		s.gpr[R_DI] = 0x2000;
		s.gpr[R_CX] = 50;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		{
			bool ok = true;
			for (unsigned i = 0; i < 200; i++)
				ok &= tb.ram[0x2000 + i] == (uint8_t)(5 + (i + 2) * 7);
			tap_ok(&t, vec == -1 && ok, "rep movsd with DI = SI - 2 shifts down");
		}
	}
	{
		/* Backwards with the destination one byte below (ahead in the
		 * direction of the copy): the last byte fills the range. */
		static const uint8_t code[] = {0xfd, 0xf3, 0xa4, 0xfc};
		tcpu_pm32(&tb, &s, 0, 0);
		pattern(&tb, 0x20000, 300, 11);
		s.gpr[R_SI] = 0x20000 + 200;
		s.gpr[R_DI] = 0x20000 + 199;
		s.gpr[R_CX] = 100;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		{
			bool fill = true;
			for (unsigned i = 100; i < 200; i++)
				fill &= tb.ram[0x20000 + i] == (uint8_t)(11 + 200 * 7);
			tap_ok(&t, vec == -1 && fill && tb.ram[0x20000 + 99] == (uint8_t)(11 + 99 * 7) &&
					   s.gpr[R_DI] == 0x20000 + 99 && s.gpr[R_SI] == 0x20000 + 100,
			       "std; rep movsb with DI = SI - 1 replicates the last byte");
		}
	}
	{
		/* 32-bit code: 5000 dwords across pages, more than one batch. */
		static const uint8_t code[] = {0xf3, 0xa5}; /* rep movsd */
		tcpu_pm32(&tb, &s, 0, 0);
		pattern(&tb, 0x20123, 20000, 77);
		s.gpr[R_SI] = 0x20123;
		s.gpr[R_DI] = 0x40000;
		s.gpr[R_CX] = 5000;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && same_pattern(&tb, 0x40000, 20000, 77) &&
				   s.gpr[R_CX] == 0 && s.gpr[R_SI] == 0x20123 + 20000 &&
				   s.gpr[R_DI] == 0x40000 + 20000,
		       "rep movsd: 5000 dwords across pages and batches");
	}
	{
		static const uint8_t code[] = {0xf3, 0xab}; /* rep stosd */
		tcpu_pm32(&tb, &s, 0, 0);
		memset(tb.ram + 0x50000, 0, 0x4000);
		s.gpr[R_AX] = 0xdeadbeef;
		s.gpr[R_DI] = 0x50002;
		s.gpr[R_CX] = 3000;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		{
			bool ok = true;
			for (unsigned i = 0; i < 3000; i++)
				ok &= t_get32(&tb, 0x50002 + i * 4) == 0xdeadbeef;
			tap_ok(&t, vec == -1 && ok && t_get32(&tb, 0x50002 + 12000) == 0 &&
					   tb.ram[0x50001] == 0 && s.gpr[R_CX] == 0 &&
					   s.gpr[R_DI] == 0x50002 + 12000,
			       "rep stosd: 3000 dwords, unaligned, across pages");
		}
	}
	{
		/* The word's two bytes are equal (one memset); EAX's upper
		 * half is not part of the element. */
		static const uint8_t code[] = {0xf3, 0x66, 0xab}; /* rep stosw */
		tcpu_pm32(&tb, &s, 0, 0);
		memset(tb.ram + 0x50000, 0, 0x4000);
		s.gpr[R_AX] = 0x12344545;
		s.gpr[R_DI] = 0x50ffe;
		s.gpr[R_CX] = 2049;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		{
			bool ok = true;
			for (unsigned i = 0; i < 4098; i++)
				ok &= tb.ram[0x50ffe + i] == 0x45;
			tap_ok(&t, vec == -1 && ok && tb.ram[0x50ffd] == 0 &&
					   tb.ram[0x50ffe + 4098] == 0 && s.gpr[R_DI] == 0x50ffe + 4098,
			       "rep stosw: equal bytes fill, across a page, EAX's high half unused");
		}
	}
	{
		static const uint8_t code[] = {0xfd, 0xf3, 0xab, 0xfc}; /* std; rep stosd; cld */
		tcpu_pm32(&tb, &s, 0, 0);
		memset(tb.ram + 0x50000, 0, 0x4000);
		s.gpr[R_AX] = 0x01020304;
		s.gpr[R_DI] = 0x51008;
		s.gpr[R_CX] = 1030;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		{
			bool ok = true;
			for (unsigned i = 0; i < 1030; i++)
				ok &= t_get32(&tb, 0x51008 - i * 4) == 0x01020304;
			tap_ok(&t, vec == -1 && ok && t_get32(&tb, 0x51008 + 4) == 0 &&
					   t_get32(&tb, 0x51008 - 1030 * 4) == 0 &&
					   s.gpr[R_DI] == 0x51008 - 1030 * 4 && s.gpr[R_CX] == 0,
			       "std; rep stosd: 1030 dwords of unequal bytes downwards across a page");
		}
	}
	{
		static const uint8_t code[] = {0xfd, 0xf3, 0xaa, 0xfc}; /* std; rep stosb; cld */
		tcpu_real(&tb, &s);
		memset(tb.ram + 0x4000, 0, 0x20);
		s.gpr[R_AX] = 0x77;
		s.gpr[R_DI] = 0x4010;
		s.gpr[R_CX] = 16;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && tb.ram[0x4000] == 0 && tb.ram[0x4001] == 0x77 &&
				   tb.ram[0x4010] == 0x77 && tb.ram[0x4011] == 0 &&
				   s.gpr[R_DI] == 0x4000,
		       "std; rep stosb: 16 bytes downwards");
	}
	{
		static const uint8_t code[] = {0xf3, 0xa6}; /* repe cmpsb */
		tcpu_real(&tb, &s);
		memcpy(tb.ram + 0x2000, "abcdefgh", 8);
		memcpy(tb.ram + 0x3000, "abcXefgh", 8);
		s.gpr[R_SI] = 0x2000;
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 8;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (s.gpr[R_CX] & 0xffff) == 4 && s.gpr[R_SI] == 0x2004 &&
				   s.gpr[R_DI] == 0x3004 && !(s.rflags & FL_ZF) &&
				   !(s.rflags & FL_CF) && !(s.rflags & FL_SF),
		       "repe cmpsb stops after the mismatch, flags of 'd' - 'X'");
		memcpy(tb.ram + 0x3000, "abcdefgh", 8);
		s.gpr[R_SI] = 0x2000;
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 8;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (s.gpr[R_CX] & 0xffff) == 0 && (s.rflags & FL_ZF),
		       "repe cmpsb over equal strings runs out with ZF set");
	}
	{
		static const uint8_t code[] = {0xf2, 0xae}; /* repne scasb */
		tcpu_real(&tb, &s);
		memcpy(tb.ram + 0x3000, "hello, world", 12);
		s.gpr[R_AX] = ',';
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 12;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (s.gpr[R_CX] & 0xffff) == 6 && s.gpr[R_DI] == 0x3006 &&
				   (s.rflags & FL_ZF),
		       "repne scasb finds ',' (cx %llu)", (unsigned long long)(s.gpr[R_CX] & 0xffff));
		s.gpr[R_AX] = '!';
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 12;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (s.gpr[R_CX] & 0xffff) == 0 && !(s.rflags & FL_ZF),
		       "repne scasb without a match runs out with ZF clear");
	}
	{
		/* lodsw from DS (base 0x10000) and with an ES: override (base 0) */
		static const uint8_t plain[] = {0xad};
		static const uint8_t es_ovr[] = {0x26, 0xad};
		tcpu_real(&tb, &s);
		s.seg[S_DS].selector = 0x1000;
		s.seg[S_DS].base = 0x10000;
		t_put32(&tb, 0x12000, 0x1111);
		t_put32(&tb, 0x02000, 0x2222);
		s.gpr[R_SI] = 0x2000;
		vec = tcpu_run(&tb, &s, plain, sizeof(plain));
		tap_ok(&t, vec == -1 && AX(s) == 0x1111 && s.gpr[R_SI] == 0x2002,
		       "lodsw reads DS:SI");
		s.gpr[R_SI] = 0x2000;
		vec = tcpu_run(&tb, &s, es_ovr, sizeof(es_ovr));
		tap_ok(&t, vec == -1 && AX(s) == 0x2222, "es: lodsw reads ES:SI");
	}
	{
		/* fs: rep movsb: source FS (base 0x20000), destination still
		 * ES (base 0) whatever the prefix. */
		static const uint8_t code[] = {0x64, 0xf3, 0xa4};
		tcpu_real(&tb, &s);
		s.seg[S_FS].selector = 0x2000;
		s.seg[S_FS].base = 0x20000;
		s.seg[S_DS].base = 0x30000;
		pattern(&tb, 0x20100, 8, 40);
		memset(tb.ram + 0x3100, 0, 8);
		memset(tb.ram + 0x23100, 0, 8);
		s.gpr[R_SI] = 0x100;
		s.gpr[R_DI] = 0x3100;
		s.gpr[R_CX] = 8;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && same_pattern(&tb, 0x3100, 8, 40) &&
				   tb.ram[0x23100] == 0,
		       "fs: rep movsb copies FS:SI to ES:DI");
	}
	{
		/* 16-bit SI wraps at 64 KiB without a fault for bytes. */
		static const uint8_t code[] = {0xf3, 0xa4};
		tcpu_real(&tb, &s);
		tb.ram[0xfffe] = 1;
		tb.ram[0xffff] = 2;
		tb.ram[0x0000] = 3;
		tb.ram[0x0001] = 4;
		s.gpr[R_SI] = 0xfffe;
		s.gpr[R_DI] = 0x3200;
		s.gpr[R_CX] = 4;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && tb.ram[0x3200] == 1 && tb.ram[0x3201] == 2 &&
				   tb.ram[0x3202] == 3 && tb.ram[0x3203] == 4 &&
				   s.gpr[R_SI] == 0x0002,
		       "rep movsb: SI wraps from 0xffff to 0");
	}
	{
		/* a32 rep movsd in real mode: ESI runs past the 64 KiB limit
		 * after four dwords: #GP with the registers at that element. */
		static const uint8_t code[] = {0x67, 0x66, 0xf3, 0xa5};
		tcpu_real(&tb, &s);
		pattern(&tb, 0xfff0, 16, 50);
		memset(tb.ram + 0x3000, 0, 64);
		s.gpr[R_SI] = 0xfff0;
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 10;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == EXC_GP && s.gpr[R_CX] == 6 && s.gpr[R_SI] == 0x10000 &&
				   s.gpr[R_DI] == 0x3010 && same_pattern(&tb, 0x3000, 16, 50) &&
				   t_get32(&tb, 0x3010) == 0 && t_real_fault_ip(&tb, &s) == T_CODE,
		       "a32 rep movsd faulting mid-way: #GP at the instruction, ECX 6, "
		       "ESI 0x10000, EDI 0x3010 (vec %d ecx %llu esi %#llx edi %#llx)",
		       vec, (unsigned long long)s.gpr[R_CX], (unsigned long long)s.gpr[R_SI],
		       (unsigned long long)s.gpr[R_DI]);
	}
	{
		/* The same string resumed from the fault state, with a larger
		 * limit, finishes the job. */
		static const uint8_t code[] = {0x67, 0x66, 0xf3, 0xa5};
		tcpu_real(&tb, &s);
		pattern(&tb, 0xfff0, 40, 50);
		memset(tb.ram + 0x3000, 0, 64);
		s.gpr[R_SI] = 0xfff0;
		s.gpr[R_DI] = 0x3000;
		s.gpr[R_CX] = 10;
		tcpu_run(&tb, &s, code, sizeof(code));
		tcpu_real(&tb, &s);
		s.seg[S_DS].limit = 0xfffff;
		s.gpr[R_SI] = 0x10000;
		s.gpr[R_DI] = 0x3010;
		s.gpr[R_CX] = 6;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && same_pattern(&tb, 0x3000, 40, 50) && s.gpr[R_CX] == 0,
		       "... and restarting from that state completes the copy");
	}
	{
		static const uint8_t code[] = {0xf3, 0x6c}; /* rep insb */
		tcpu_real(&tb, &s);
		memset(tb.ram + 0x3300, 0, 8);
		s.gpr[R_DX] = 0x60;
		s.gpr[R_DI] = 0x3300;
		s.gpr[R_CX] = 3;
		vec = io_run(&tb, &s, code, sizeof(code), &n);
		tap_ok(&t, vec == -1 && n == 3 && tb.ram[0x3302] == 0xff && tb.ram[0x3303] == 0 &&
				   s.gpr[R_DI] == 0x3303,
		       "rep insb: three port reads stored at ES:DI");
	}
	{
		static const uint8_t code[] = {0xba, 0xe9, 0x00, 0xf3, 0x6e}; /* mov dx, 0xe9; rep outsb */
		tcpu_real(&tb, &s);
		memcpy(tb.ram + 0x2000, "hi!", 3);
		s.gpr[R_SI] = 0x2000;
		s.gpr[R_CX] = 3;
		tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, tb.out_len == 3 && memcmp(tb.out, "hi!", 3) == 0 &&
				   s.gpr[R_SI] == 0x2003,
		       "rep outsb: three bytes out of DS:SI to port 0xe9");
	}
	/* INS/OUTS use the same check, before any iteration. */
	{
		static const uint8_t code[] = {0xf3, 0x6e}; /* rep outsb */
		pm_user(&tb, &s, 0);
		deny(&tb, 0x80);
		s.gpr[R_DX] = 0x80;
		s.gpr[R_CX] = 4;
		s.gpr[R_SI] = 0x2000;
		vec = io_run(&tb, &s, code, sizeof(code), &n);
		tap_ok(&t, vec == EXC_GP && n == 0 && s.gpr[R_CX] == 4 &&
				   s.gpr[R_SI] == 0x2000,
		       "cpl 3: rep outsb to a denied port: #GP, ECX/ESI intact");
	}
	{
		static const uint8_t code[] = {0xf3, 0x6d}; /* rep insd */
		pm_user(&tb, &s, 0);
		deny(&tb, 0x83);
		s.gpr[R_DX] = 0x80;
		s.gpr[R_CX] = 2;
		s.gpr[R_DI] = 0x2000;
		vec = io_run(&tb, &s, code, sizeof(code), &n);
		tap_ok(&t, vec == EXC_GP && n == 0 && s.gpr[R_CX] == 2,
		       "cpl 3: rep insd over a denied port: #GP");
	}
	testbus_free(&tb);
	return tap_done(&t);
}
