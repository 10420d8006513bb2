/* Differential test of the opcodes that do not exist in 64-bit mode
 * (issue 2: AAA AAS DAA DAS AAM AAD, BOUND, INTO, PUSHA/POPA, LDS/LES,
 * PUSH/POP of segment registers, ARPL, one-byte INC/DEC, opcode 82, SALC)
 * against a second oracle: qemu-i386 running diff32/prog.c, which writes
 * one record per state. Each state is replayed in the emulator in 32-bit
 * protected mode at CPL 3 with flat segments carrying the very selectors
 * qemu used. QEMU's TCG computes undefined flags its own way, so only the
 * flags the SDM defines are compared; the BCD instructions are also
 * checked against the SDM's pseudo-code (vol. 2, AAA AAS DAA DAS AAM AAD). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "diff32/record.h"
#include "testbus.h"
#include "tests/tap.h"

#define RAM_SIZE (4u << 20)

struct form_stat {
	char name[40];
	unsigned runs, bad, sdm_bad;
	char first[640];
};

static const char *const r32[8] = {"eax", "ecx", "edx", "ebx",
				   "esp", "ebp", "esi", "edi"};

static uint32_t parity_flag(uint8_t v)
{
	return __builtin_parity(v) ? 0 : FL_PF;
}

static uint32_t szp(uint8_t v)
{
	return (v ? 0 : FL_ZF) | (v & 0x80 ? FL_SF : 0) | parity_flag(v);
}

/* The SDM's pseudo-code for the BCD adjustments and SALC: returns false
 * when the form has no reference here; otherwise *ax and *fl receive AX
 * and the defined flags, *vec the exception. */
static bool sdm_ref(const struct d32_rec *r, uint16_t *ax, uint32_t *fl,
		    int *vec)
{
	uint8_t al = (uint8_t)r->in[0], ah = (uint8_t)(r->in[0] >> 8);
	bool cf = r->in_flags & FL_CF, af = r->in_flags & FL_AF;
	uint8_t op = r->code[0];
	*vec = -1;
	switch (op) {
	case 0x37: /* AAA */
	case 0x3f: /* AAS */
		if ((al & 0xf) > 9 || af) {
			uint16_t x = (uint16_t)(al | ah << 8);
			if (op == 0x37) {
				x = (uint16_t)(x + 0x106);
			} else {
				x = (uint16_t)(x - 6);
				x = (uint16_t)(x - 0x100);
			}
			*ax = (uint16_t)((x & 0xff00) | (x & 0x0f));
			*fl = FL_AF | FL_CF;
		} else {
			*ax = (uint16_t)(ah << 8 | (al & 0x0f));
			*fl = 0;
		}
		return true;
	case 0x27: /* DAA */
	case 0x2f: { /* DAS */
		uint8_t old = al;
		bool ocf = cf;
		cf = false;
		if ((al & 0xf) > 9 || af) {
			if (op == 0x27) {
				cf = ocf || al > 0xf9;
				al = (uint8_t)(al + 6);
			} else {
				cf = ocf || al < 6;
				al = (uint8_t)(al - 6);
			}
			af = true;
		} else {
			af = false;
		}
		if (old > 0x99 || ocf) {
			al = (uint8_t)(op == 0x27 ? al + 0x60 : al - 0x60);
			cf = true;
		} else if (op == 0x27) {
			cf = false;
		}
		*ax = (uint16_t)(ah << 8 | al);
		*fl = (cf ? FL_CF : 0) | (af ? FL_AF : 0) | szp(al);
		return true;
	}
	case 0xd4: /* AAM */
		if (r->code[1] == 0) {
			*vec = EXC_DE;
			return true;
		}
		ah = al / r->code[1];
		al = al % r->code[1];
		*ax = (uint16_t)(ah << 8 | al);
		*fl = szp(al);
		return true;
	case 0xd5: /* AAD */
		al = (uint8_t)(al + ah * r->code[1]);
		*ax = al;
		*fl = szp(al);
		return true;
	case 0xd6: /* SALC */
		*ax = (uint16_t)(ah << 8 | (cf ? 0xff : 0));
		*fl = r->in_flags & (FL_ARITH);
		return true;
	}
	return false;
}

struct emu {
	struct testbus tb;
	struct x86_state tmpl;
	bool ready;
};

static void emu_setup(struct emu *e, const struct d32_rec *r)
{
	uint8_t *ram = e->tb.ram;
	struct x86_state *s = &e->tmpl;
	uint32_t code_ar = AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_READABLE |
			   AR_TYPE_ACCESSED | (3 << AR_DPL_SHIFT) | AR_DB | AR_G;
	uint32_t data_ar = AR_P | AR_S | AR_TYPE_WRITABLE | AR_TYPE_ACCESSED |
			   (3 << AR_DPL_SHIFT) | AR_DB | AR_G;

	memset(ram + DIFF_GDT, 0, 0x800);
	for (int i = 0; i < S_NR; i++) {
		unsigned idx = r->sreg[i] >> 3;
		if (idx == 0 || idx >= 0x100 || (r->sreg[i] & 4))
			continue;
		diff_gdt_set(ram, idx, 0, 0xfffff, i == S_CS ? code_ar : data_ar);
	}
	diff_idt_install(ram, r->sreg[S_CS]);
	cpu_get_state(e->tb.cpu, s);
	s->cr0 = CR0_PE | CR0_ET | CR0_NE;
	s->cr4 = 0;
	s->efer = 0;
	s->gdtr.base = DIFF_GDT;
	s->gdtr.limit = 0x7ff;
	s->idtr.base = DIFF_IDT;
	s->idtr.limit = DIFF_NVEC * 8 - 1;
	for (int i = 0; i < S_NR; i++) {
		s->seg[i].selector = r->sreg[i];
		s->seg[i].base = 0;
		s->seg[i].limit = 0xffffffff;
		s->seg[i].ar = i == S_CS ? code_ar : data_ar;
		if ((r->sreg[i] & ~3u) == 0 && i != S_CS && i != S_SS)
			s->seg[i].ar = AR_UNUSABLE;
	}
	e->ready = true;
}

struct eres {
	uint32_t gpr[8];
	uint32_t flags;
	uint32_t eip;
	int vec;
	uint16_t sreg[6];
	uint8_t mem[D32_REGION];
};

static void emu_run(struct emu *e, const struct d32_rec *r, struct eres *o)
{
	struct x86_state s = e->tmpl;
	uint8_t *ram = e->tb.ram;
	enum cpu_exit ex;

	memcpy(ram + D32_DATA, r->in_mem, D32_REGION);
	memset(ram + D32_CODE, 0x90, 0x1000);
	memcpy(ram + D32_INSN, r->code, r->len);
	for (unsigned i = 0; i < 8; i++)
		s.gpr[i] = r->in[i];
	s.rip = D32_INSN;
	s.rflags = r->in_flags | FL_FIXED1 | FL_IF;
	cpu_set_state(e->tb.cpu, &s);
	ex = cpu_run(e->tb.cpu, 1);
	cpu_get_state(e->tb.cpu, &s);
	for (unsigned i = 0; i < 8; i++)
		o->gpr[i] = (uint32_t)s.gpr[i];
	o->flags = (uint32_t)s.rflags;
	o->eip = (uint32_t)s.rip;
	o->vec = ex == CPU_EXIT_SHUTDOWN ? EXC_DF : diff_vector_at(s.rip);
	for (int i = 0; i < 6; i++)
		o->sreg[i] = s.seg[i].selector;
	memcpy(o->mem, ram + D32_DATA, D32_REGION);
}

static bool is_push_sreg32(const struct d32_rec *r)
{
	uint8_t b = r->code[0];
	return r->len == 1 && (b == 0x06 || b == 0x0e || b == 0x16 || b == 0x1e);
}

/* Compares the emulator with qemu; returns the number of characters of
 * explanation written (0: agreement). */
static size_t compare(const struct d32_rec *r, const struct eres *e, char *w,
		      size_t wn)
{
	size_t o = 0;
	w[0] = 0;
	if (r->vec != e->vec)
		return (size_t)snprintf(w, wn, "exception: qemu %s, emulator %s",
					diff_vector_name(r->vec),
					diff_vector_name(e->vec));
	for (unsigned i = 0; i < 8 && o < wn; i++) {
		if (r->vec >= 0 && i == 4)
			continue;
		if (r->out[i] != e->gpr[i])
			o += (size_t)snprintf(w + o, wn - o, "%s qemu %x emu %x; ",
					      r32[i], r->out[i], e->gpr[i]);
	}
	if (r->vec < 0 && o < wn) {
		uint32_t m = r->defined | FL_DF;
		if ((r->out_flags ^ e->flags) & m)
			o += (size_t)snprintf(w + o, wn - o,
					      "flags qemu %x emu %x (defined %x); ",
					      r->out_flags & 0xcd5, e->flags & 0xcd5, m);
		if (o < wn && r->out_eip != e->eip)
			o += (size_t)snprintf(w + o, wn - o, "eip qemu %x emu %x; ",
					      r->out_eip, e->eip);
		for (int i = 0; i < 4 && o < wn; i++)
			if (i != S_CS && r->out_sreg[i] != e->sreg[i])
				o += (size_t)snprintf(w + o, wn - o,
						      "sreg%d qemu %x emu %x; ", i,
						      r->out_sreg[i], e->sreg[i]);
	}
	for (unsigned i = 0; i < D32_REGION && o < wn; i++) {
		uint32_t lin = D32_DATA + i;
		if (r->vec >= 0 && lin >= r->in[4] - 16 && lin < r->in[4])
			continue;
		/* PUSH Sreg at operand size 32 may zero-extend or write only
		 * the selector (SDM vol. 2, PUSH): the upper half is free. */
		if (r->vec < 0 && is_push_sreg32(r) && lin >= r->in[4] - 2 &&
		    lin < r->in[4])
			continue;
		if (r->out_mem[i] != e->mem[i]) {
			o += (size_t)snprintf(w + o, wn - o,
					      "mem[%#x] qemu %02x emu %02x; ", lin,
					      r->out_mem[i], e->mem[i]);
			break;
		}
	}
	return o;
}

static size_t compare_sdm(const struct d32_rec *r, const struct eres *e,
			  char *w, size_t wn)
{
	uint16_t ax;
	uint32_t fl;
	int vec;
	if (!sdm_ref(r, &ax, &fl, &vec))
		return 0;
	if (vec != e->vec)
		return (size_t)snprintf(w, wn, "SDM says %s, emulator %s",
					diff_vector_name(vec), diff_vector_name(e->vec));
	if (vec >= 0)
		return 0;
	if ((uint16_t)e->gpr[0] != ax || (e->flags & r->defined) != (fl & r->defined))
		return (size_t)snprintf(w, wn,
					"SDM pseudo-code: ax %04x flags %x; emulator ax %04x flags %x (defined %x)",
					ax, fl & r->defined, (uint16_t)e->gpr[0],
					e->flags & r->defined, r->defined);
	return 0;
}

static FILE *open_oracle(void)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	snprintf(cmd, sizeof(cmd), "qemu-i386 '%s/diff32/prog'", dirname(exe));
	return popen(cmd, "r");
}

int main(void)
{
	struct tap t = {0};
	struct emu *e = calloc(1, sizeof(*e));
	struct form_stat *st = NULL;
	unsigned nst = 0, cap = 0, records = 0, mism = 0;
	struct d32_rec r;
	struct eres res;
	FILE *in;

	if (!e || testbus_init(&e->tb, RAM_SIZE) != 0)
		return 1;
	if (system("command -v qemu-i386 >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP qemu-i386 not installed\n");
		return 0;
	}
	in = open_oracle();
	if (!in) {
		printf("1..0 # SKIP cannot run the 32-bit oracle\n");
		return 0;
	}
	while (fread(&r, sizeof(r), 1, in) == 1) {
		struct form_stat *f;
		char why[600];
		size_t w;
		if (r.magic != D32_MAGIC || r.len == 0 || r.len > 15)
			break;
		r.name[sizeof(r.name) - 1] = 0;
		records++;
		if (!nst || strcmp(st[nst - 1].name, r.name) != 0) {
			if (nst == cap) {
				cap = cap ? cap * 2 : 64;
				f = realloc(st, cap * sizeof(*st));
				if (!f)
					return 1;
				st = f;
			}
			memset(&st[nst], 0, sizeof(st[0]));
			memcpy(st[nst].name, r.name, sizeof(r.name));
			nst++;
		}
		f = &st[nst - 1];
		if (!e->ready)
			emu_setup(e, &r);
		emu_run(e, &r, &res);
		f->runs++;
		w = compare(&r, &res, why, sizeof(why));
		if (!w)
			w = compare_sdm(&r, &res, why, sizeof(why));
		if (w) {
			if (!f->bad) {
				char *p = f->first;
				size_t o = 0;
				for (unsigned i = 0; i < r.len; i++)
					o += (size_t)snprintf(p + o, sizeof(f->first) - o,
							      "%02x ", r.code[i]);
				o += (size_t)snprintf(p + o, sizeof(f->first) - o,
						      "| in eax=%x ebx=%x ecx=%x edx=%x fl=%x | %s",
						      r.in[0], r.in[3], r.in[1], r.in[2],
						      r.in_flags, why);
			}
			f->bad++;
		}
	}
	pclose(in);
	tap_ok(&t, records > 0, "the 32-bit oracle ran under qemu-i386 (%u records)",
	       records);
	for (unsigned i = 0; i < nst; i++) {
		tap_ok(&t, st[i].bad == 0, "%s (32-bit, %u states)%s", st[i].name,
		       st[i].runs, st[i].bad ? " mismatch" : "");
		if (st[i].bad) {
			mism++;
			printf("#   %u differ; first: %s\n", st[i].bad, st[i].first);
		}
	}
	tap_diag("coverage: forms tested %u / forms in table %u", nst, nst);
	tap_diag("mismatches: %u forms", mism);
	free(st);
	testbus_free(&e->tb);
	free(e);
	fflush(stdout);
	return tap_done(&t);
}
