/* The 32-bit oracle of the differential test: built with -m32 and run
 * under qemu-i386 (these hosts cannot run 32-bit code natively), it
 * executes the opcodes that do not exist in 64-bit mode (AAA AAS DAA DAS
 * AAM AAD, BOUND, INTO, PUSHA/POPA, LDS/LES, PUSH/POP of segment
 * registers, ARPL, one-byte INC/DEC, opcode 82, SALC) from fixed-seed
 * states and writes one record per state (record.h) to stdout.
 *
 * The instruction sits in a stub at a fixed address that loads all GPRs
 * and EFLAGS, runs it, and stores everything back through SS (DS may have
 * just been reloaded). Exceptions arrive as signals. */
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../diff.h"
#include "record.h"

#define CTX 0x201000u
#define NSTATES 200

struct hctx {
	uint32_t in[8];
	uint32_t in_flags;
	uint32_t out[8];
	uint32_t out_flags;
	uint32_t host_esp;
	uint32_t taken;
	uint16_t out_sreg[6];
	uint16_t save_ds, save_es;
	uint32_t fault_gpr[8];
	int trapno;
	sigjmp_buf jb;
};

enum {
	FX_MEM = 1 << 0,   /* [ebp + disp8] operand: EBP = D32_DATA */
	FX_BOUND = 1 << 1, /* bounds pair in memory, index near it */
	FX_LXS = 1 << 2,   /* far pointer in memory with a loadable selector */
	FX_SEGSTK = 1 << 3, /* stack top is a loadable selector */
	FX_IMM = 1 << 4,   /* last byte is a random immediate */
	FX_AAMD = 1 << 5,  /* immediate is 10 more often than not */
	FX_BCD = 1 << 6,   /* AL/AH biased towards BCD digits */
};

struct form {
	const char *name;
	uint8_t code[8];
	uint8_t len;
	uint32_t defined;
	uint32_t fix;
};

#define ARITH32 (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

static const struct form forms[] = {
	{"daa", {0x27}, 1, FL_CF | FL_AF | FL_SF | FL_ZF | FL_PF, FX_BCD},
	{"das", {0x2f}, 1, FL_CF | FL_AF | FL_SF | FL_ZF | FL_PF, FX_BCD},
	{"aaa", {0x37}, 1, FL_CF | FL_AF, FX_BCD},
	{"aas", {0x3f}, 1, FL_CF | FL_AF, FX_BCD},
	{"aam Ib", {0xd4, 0x0a}, 2, FL_SF | FL_ZF | FL_PF, FX_IMM | FX_AAMD},
	{"aad Ib", {0xd5, 0x0a}, 2, FL_SF | FL_ZF | FL_PF, FX_IMM | FX_AAMD | FX_BCD},
	{"salc", {0xd6}, 1, ARITH32, 0},
	{"inc eax", {0x40}, 1, ARITH32, 0},
	{"inc ecx", {0x41}, 1, ARITH32, 0},
	{"inc edx", {0x42}, 1, ARITH32, 0},
	{"inc ebx", {0x43}, 1, ARITH32, 0},
	{"inc esp", {0x44}, 1, ARITH32, 0},
	{"inc ebp", {0x45}, 1, ARITH32, 0},
	{"inc esi", {0x46}, 1, ARITH32, 0},
	{"inc edi", {0x47}, 1, ARITH32, 0},
	{"dec eax", {0x48}, 1, ARITH32, 0},
	{"dec ecx", {0x49}, 1, ARITH32, 0},
	{"dec edx", {0x4a}, 1, ARITH32, 0},
	{"dec ebx", {0x4b}, 1, ARITH32, 0},
	{"dec esp", {0x4c}, 1, ARITH32, 0},
	{"dec ebp", {0x4d}, 1, ARITH32, 0},
	{"dec esi", {0x4e}, 1, ARITH32, 0},
	{"dec edi", {0x4f}, 1, ARITH32, 0},
	{"inc ax", {0x66, 0x40}, 2, ARITH32, 0},
	{"inc bx", {0x66, 0x43}, 2, ARITH32, 0},
	{"inc di", {0x66, 0x47}, 2, ARITH32, 0},
	{"dec cx", {0x66, 0x49}, 2, ARITH32, 0},
	{"dec dx", {0x66, 0x4a}, 2, ARITH32, 0},
	{"dec si", {0x66, 0x4e}, 2, ARITH32, 0},
	{"pushad", {0x60}, 1, ARITH32, 0},
	{"popad", {0x61}, 1, ARITH32, 0},
	{"pushaw", {0x66, 0x60}, 2, ARITH32, 0},
	{"popaw", {0x66, 0x61}, 2, ARITH32, 0},
	{"bound r32,m", {0x62, 0x45, 0x10}, 3, ARITH32, FX_MEM | FX_BOUND},
	{"bound r16,m", {0x66, 0x62, 0x5d, 0x20}, 4, ARITH32, FX_MEM | FX_BOUND},
	{"into", {0xce}, 1, ARITH32, 0},
	{"les r32,m", {0xc4, 0x45, 0x10}, 3, ARITH32, FX_MEM | FX_LXS},
	{"lds r32,m", {0xc5, 0x75, 0x18}, 3, ARITH32, FX_MEM | FX_LXS},
	{"les r16,m", {0x66, 0xc4, 0x4d, 0x20}, 4, ARITH32, FX_MEM | FX_LXS},
	{"lds r16,m", {0x66, 0xc5, 0x7d, 0x28}, 4, ARITH32, FX_MEM | FX_LXS},
	{"push es", {0x06}, 1, ARITH32, 0},
	{"push cs", {0x0e}, 1, ARITH32, 0},
	{"push ss", {0x16}, 1, ARITH32, 0},
	{"push ds", {0x1e}, 1, ARITH32, 0},
	{"push es o16", {0x66, 0x06}, 2, ARITH32, 0},
	{"push ds o16", {0x66, 0x1e}, 2, ARITH32, 0},
	{"pop es", {0x07}, 1, ARITH32, FX_SEGSTK},
	{"pop ss", {0x17}, 1, ARITH32, FX_SEGSTK},
	{"pop ds", {0x1f}, 1, ARITH32, FX_SEGSTK},
	{"pop es o16", {0x66, 0x07}, 2, ARITH32, FX_SEGSTK},
	{"pop ds o16", {0x66, 0x1f}, 2, ARITH32, FX_SEGSTK},
	{"arpl reg", {0x63, 0xc8}, 2, FL_ZF | ARITH32, 0},
	{"arpl reg2", {0x63, 0xf3}, 2, FL_ZF | ARITH32, 0},
	{"arpl mem", {0x63, 0x55, 0x08}, 3, ARITH32, FX_MEM},
	{"add Eb,Ib (82) reg", {0x82, 0xc1, 0}, 3, ARITH32, FX_IMM},
	{"or Eb,Ib (82) reg", {0x82, 0xca, 0}, 3, ARITH32 & ~FL_AF, FX_IMM},
	{"adc Eb,Ib (82) reg", {0x82, 0xd4, 0}, 3, ARITH32, FX_IMM},
	{"sbb Eb,Ib (82) reg", {0x82, 0xdb, 0}, 3, ARITH32, FX_IMM},
	{"and Eb,Ib (82) reg", {0x82, 0xe0, 0}, 3, ARITH32 & ~FL_AF, FX_IMM},
	{"sub Eb,Ib (82) reg", {0x82, 0xe9, 0}, 3, ARITH32, FX_IMM},
	{"xor Eb,Ib (82) reg", {0x82, 0xf7, 0}, 3, ARITH32 & ~FL_AF, FX_IMM},
	{"cmp Eb,Ib (82) reg", {0x82, 0xfe, 0}, 3, ARITH32, FX_IMM},
	{"add Eb,Ib (82) mem", {0x82, 0x45, 0x04, 0}, 4, ARITH32, FX_MEM | FX_IMM},
	{"sub Eb,Ib (82) mem", {0x82, 0x6d, 0x05, 0}, 4, ARITH32, FX_MEM | FX_IMM},
	{"cmp Eb,Ib (82) mem", {0x82, 0x7d, 0x06, 0}, 4, ARITH32, FX_MEM | FX_IMM},
	{"adc Eb,Ib (82) mem", {0x82, 0x55, 0x07, 0}, 4, ARITH32, FX_MEM | FX_IMM},
};

static unsigned put_ld(uint8_t *p, unsigned r, uint32_t addr)
{
	p[0] = 0x8b;
	p[1] = (uint8_t)(0x05 | (r << 3));
	memcpy(p + 2, &addr, 4);
	return 6;
}

/* Stores go through SS: the instruction may have reloaded DS or ES. */
static unsigned put_st(uint8_t *p, uint8_t op, unsigned r, uint32_t addr)
{
	p[0] = 0x36;
	p[1] = op;
	p[2] = (uint8_t)(0x05 | (r << 3));
	memcpy(p + 3, &addr, 4);
	return 7;
}

static unsigned put_movi(uint8_t *p, uint32_t addr, uint32_t v)
{
	p[0] = 0x36;
	p[1] = 0xc7;
	p[2] = 0x05;
	memcpy(p + 3, &addr, 4);
	memcpy(p + 7, &v, 4);
	return 11;
}

/* Label A is the fall-through, label B 13 bytes on. */
static void stub_emit(uint8_t *code, const uint8_t *insn, unsigned len)
{
	struct hctx *h = (struct hctx *)CTX;
	uint8_t *p = code;
	uint32_t a;

	memset(code, 0x90, 4096);
	*p++ = 0x53;
	*p++ = 0x56;
	*p++ = 0x57;
	*p++ = 0x55;
	p += put_st(p, 0x89, 4, (uint32_t)&h->host_esp);
	p += put_st(p, 0x8c, 3, (uint32_t)&h->save_ds);
	p += put_st(p, 0x8c, 0, (uint32_t)&h->save_es);
	a = (uint32_t)&h->in_flags;
	*p++ = 0xbc;
	memcpy(p, &a, 4);
	p += 4;
	*p++ = 0x9d;
	for (unsigned r = 0; r < 8; r++)
		if (r != 4)
			p += put_ld(p, r, (uint32_t)&h->in[r]);
	p += put_ld(p, 4, (uint32_t)&h->in[4]);

	p = code + (D32_INSN - D32_CODE);
	memcpy(p, insn, len);
	p += len;
	p += put_movi(p, (uint32_t)&h->taken, 0);
	*p++ = 0xeb;
	*p++ = 11;
	p += put_movi(p, (uint32_t)&h->taken, 1);
	for (unsigned r = 0; r < 8; r++)
		p += put_st(p, 0x89, r, (uint32_t)&h->out[r]);
	for (unsigned s = 0; s < 6; s++)
		p += put_st(p, 0x8c, s, (uint32_t)&h->out_sreg[s]);
	a = (uint32_t)&h->out_flags + 4;
	*p++ = 0xbc;
	memcpy(p, &a, 4);
	p += 4;
	*p++ = 0x9c;
	/* mov ds, ss:[save_ds]; mov es, ss:[save_es]; mov esp, ss:[host_esp] */
	p += put_st(p, 0x8e, 3, (uint32_t)&h->save_ds);
	p += put_st(p, 0x8e, 0, (uint32_t)&h->save_es);
	p += put_st(p, 0x8b, 4, (uint32_t)&h->host_esp);
	*p++ = 0xfc;
	*p++ = 0x5d;
	*p++ = 0x5f;
	*p++ = 0x5e;
	*p++ = 0x5b;
	*p++ = 0xc3;
}

static bool rec_is_bound(const struct hctx *h)
{
	const uint8_t *c = (const uint8_t *)D32_INSN;
	(void)h;
	return c[0] == 0x62 || (c[0] == 0x66 && c[1] == 0x62);
}

static void on_signal(int sig, siginfo_t *si, void *uc_)
{
	struct hctx *h = (struct hctx *)CTX;
	ucontext_t *uc = uc_;
	static const int map[8] = {REG_EAX, REG_ECX, REG_EDX, REG_EBX,
				   REG_ESP, REG_EBP, REG_ESI, REG_EDI};
	int trap = (int)uc->uc_mcontext.gregs[REG_TRAPNO];
	(void)si;
	/* Trust the trap number where it is consistent with the signal. */
	if (sig == SIGFPE)
		trap = EXC_DE;
	else if (sig == SIGILL)
		trap = EXC_UD;
	else if (sig == SIGSEGV && trap != EXC_OF && trap != EXC_BR &&
		 trap != EXC_GP && trap != EXC_PF && trap != EXC_SS &&
		 trap != EXC_NP)
		trap = EXC_GP;
	/* qemu-user reports #BR as a plain SIGSEGV; with its memory operand
	 * in the mapped buffer, BOUND can raise nothing else. */
	if (sig == SIGSEGV && (rec_is_bound(h)))
		trap = EXC_BR;
	h->trapno = trap;
	for (unsigned i = 0; i < 8; i++)
		h->fault_gpr[i] = (uint32_t)uc->uc_mcontext.gregs[map[i]];
	siglongjmp(h->jb, 1);
}

static uint16_t sreg_now(int i)
{
	uint16_t v = 0;
	switch (i) {
	case 0: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

static void make_state(const struct form *f, struct diff_rng *r,
		       struct d32_rec *rec)
{
	memcpy(rec->code, f->code, f->len);
	rec->len = f->len;
	for (unsigned i = 0; i < 8; i++)
		rec->in[i] = (uint32_t)diff_value(r);
	for (unsigned i = 0; i < D32_REGION; i += 4) {
		uint32_t v = (uint32_t)diff_value(r);
		memcpy(rec->in_mem + i, &v, 4);
	}
	rec->in[4] = D32_STACK;
	rec->in_flags = (uint32_t)diff_rand(r) & ARITH32;
	if (f->fix & FX_MEM)
		rec->in[5] = D32_DATA;
	if (f->fix & FX_IMM) {
		uint8_t imm = (uint8_t)diff_value(r);
		if ((f->fix & FX_AAMD) && diff_below(r, 2))
			imm = 10;
		rec->code[f->len - 1] = imm;
	}
	if ((f->fix & FX_BCD) && diff_below(r, 2)) {
		uint32_t lo = (uint32_t)(diff_below(r, 10) << 4 | diff_below(r, 10));
		if (diff_below(r, 4) == 0)
			lo = (uint32_t)diff_below(r, 256);
		rec->in[0] = (rec->in[0] & ~0xffffu) |
			     (uint32_t)(diff_below(r, 10) << 8) | lo;
	}
	if (f->fix & FX_BOUND) {
		/* bound r, [ebp+disp]: pair at the displacement, index in
		 * ModRM.reg near the bounds. */
		unsigned disp = rec->code[f->len - 1];
		unsigned reg = (rec->code[f->len - 2] >> 3) & 7;
		bool o16 = rec->code[0] == 0x66;
		int32_t lo = (int32_t)diff_value(r) >> (diff_below(r, 2) ? 20 : 0);
		int32_t hi = lo + (int32_t)diff_below(r, 100);
		int32_t idx = lo + (int32_t)diff_below(r, 120) - 10;
		if (o16) {
			int16_t l16 = (int16_t)lo, h16 = (int16_t)hi;
			memcpy(rec->in_mem + disp, &l16, 2);
			memcpy(rec->in_mem + disp + 2, &h16, 2);
		} else {
			memcpy(rec->in_mem + disp, &lo, 4);
			memcpy(rec->in_mem + disp + 4, &hi, 4);
		}
		rec->in[reg] = (rec->in[reg] & (o16 ? 0xffff0000u : 0)) |
			       ((uint32_t)idx & (o16 ? 0xffff : 0xffffffffu));
	}
	if (f->fix & FX_LXS) {
		unsigned disp = rec->code[f->len - 1];
		bool o16 = rec->code[0] == 0x66;
		uint16_t sel = diff_below(r, 4) ? rec->sreg[3] : 0;
		memcpy(rec->in_mem + disp + (o16 ? 2 : 4), &sel, 2);
	}
	if (f->fix & FX_SEGSTK) {
		uint16_t sel = rec->sreg[3];
		if (f->code[f->len - 1] != 0x17 && diff_below(r, 4) == 0)
			sel = 0;
		memcpy(rec->in_mem + (D32_STACK - D32_DATA), &sel, 2);
	}
}

/* Runs one state; its own function so that nothing live in the caller's
 * loops is clobbered by the siglongjmp. */
static void run_one(struct hctx *h, uint8_t *code, uint8_t *data,
		    struct d32_rec *rec)
{
	void (*fn)(void) = (void (*)(void))D32_CODE;
	stub_emit(code, rec->code, rec->len);
	memcpy(h->in, rec->in, sizeof(h->in));
	h->in_flags = rec->in_flags | FL_FIXED1;
	memcpy(data, rec->in_mem, D32_REGION);
	h->taken = 2;
	if (sigsetjmp(h->jb, 1) == 0) {
		fn();
		memcpy(rec->out, h->out, sizeof(rec->out));
		rec->out_flags = h->out_flags;
		memcpy(rec->out_sreg, h->out_sreg, sizeof(rec->out_sreg));
		rec->out_eip = D32_INSN + rec->len + (h->taken == 1 ? 13 : 0);
		rec->vec = -1;
	} else {
		memcpy(rec->out, h->fault_gpr, sizeof(rec->out));
		for (int i = 0; i < 6; i++)
			rec->out_sreg[i] = rec->sreg[i];
		rec->vec = h->trapno;
	}
	memcpy(rec->out_mem, data, D32_REGION);
}

int main(void)
{
	struct hctx *h;
	uint8_t *code, *data;
	struct sigaction sa;
	stack_t ss;
	struct d32_rec rec;

	data = mmap((void *)D32_DATA, 0x2000, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	code = mmap((void *)D32_CODE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (data != (void *)D32_DATA || code != (void *)D32_CODE)
		return 1;
	h = (struct hctx *)CTX;
	ss.ss_sp = malloc(1 << 16);
	ss.ss_size = 1 << 16;
	ss.ss_flags = 0;
	if (!ss.ss_sp || sigaltstack(&ss, NULL))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGTRAP, &sa, NULL);

	for (unsigned fi = 0; fi < sizeof(forms) / sizeof(forms[0]); fi++) {
		const struct form *f = &forms[fi];
		struct diff_rng r = {0x3232000ull + fi * 0x10001ull};
		for (unsigned n = 0; n < NSTATES; n++) {
			memset(&rec, 0, sizeof(rec));
			rec.magic = D32_MAGIC;
			snprintf(rec.name, sizeof(rec.name), "%s", f->name);
			rec.defined = f->defined;
			for (int i = 0; i < 6; i++)
				rec.sreg[i] = sreg_now(i);
			make_state(f, &r, &rec);
			run_one(h, code, data, &rec);
			if (fwrite(&rec, sizeof(rec), 1, stdout) != 1)
				return 1;
		}
	}
	return fflush(stdout) != 0;
}
