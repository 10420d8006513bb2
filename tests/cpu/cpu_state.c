/* The vCPU's versioned state (cpu_vstate.c): a real-mode program using
 * the ALU with lazy flags, the stack, a string store, x87 and SSE, an
 * STI shadow with INTR asserted and an interrupt handler, is stopped
 * after every instruction count k; its state is saved and loaded into a
 * fresh CPU (given a copy of the RAM), and both run to the end. Their
 * whole states, their RAM and their port output must match. Then
 * truncated and out-of-range states are refused with the CPU unchanged. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vstate.h"
#include "testbus.h"
#include "tests/tap.h"

#define RAM (1u << 20)
#define ORG 0x1000
#define INTR_VECTOR 0x20

/* nasm -f bin, bits 16, org 0x1000:
 *	cli
 *	mov ax, 0x1234
 *	fninit
 *	fld1
 *	fldpi
 *	faddp st1, st0
 *	fstp dword [0x2100]
 *	movups xmm0, [0x2200]
 *	addps xmm0, xmm0
 *	movups [0x2210], xmm0
 *	mov cx, 20
 * l:	add [0x2000], cx
 *	imul ax, cx          ; CF for the ADC, kept lazily
 *	push ax
 *	pop dx
 *	adc bx, dx
 *	cld
 *	mov di, 0x2400
 *	stosw
 *	loop l
 *	mov word [0x80], handler
 *	mov word [0x82], 0
 *	sti                  ; INTR is high: taken after the next NOP
 *	nop
 *	nop
 *	cli
 *	mov al, 0
 *	out 0xf4, al
 * handler:
 *	mov bp, sp
 *	mov ax, [bp]         ; where it interrupted
 *	mov [0x2300], ax
 *	inc word [0x2302]
 *	iret
 */
static const uint8_t prog[] = {
	0xfa, 0xb8, 0x34, 0x12, 0xdb, 0xe3, 0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1,
	0xd9, 0x1e, 0x00, 0x21, 0x0f, 0x10, 0x06, 0x00, 0x22, 0x0f, 0x58, 0xc0,
	0x0f, 0x11, 0x06, 0x10, 0x22, 0xb9, 0x14, 0x00, 0x01, 0x0e, 0x00, 0x20,
	0x0f, 0xaf, 0xc1, 0x50, 0x5a, 0x11, 0xd3, 0xfc, 0xbf, 0x00, 0x24, 0xab,
	0xe2, 0xee, 0xc7, 0x06, 0x80, 0x00, 0x46, 0x10, 0xc7, 0x06, 0x82, 0x00,
	0x00, 0x00, 0xfb, 0x90, 0x90, 0xfa, 0xb0, 0x00, 0xe6, 0xf4, 0x89, 0xe5,
	0x8b, 0x46, 0x00, 0xa3, 0x00, 0x23, 0xff, 0x06, 0x02, 0x23, 0xcf,
};

/* A fresh machine with the program loaded and the CPU at its start. */
static int machine(struct testbus *tb)
{
	struct x86_state s;
	static const float four[4] = {1.5f, -2.0f, 3.25f, 1e10f};
	if (testbus_init(tb, RAM))
		return -1;
	memcpy(tb->ram + ORG, prog, sizeof(prog));
	memcpy(tb->ram + 0x2200, four, sizeof(four));
	tb->intr_vector = INTR_VECTOR;
	cpu_get_state(tb->cpu, &s);
	s.seg[S_CS].selector = 0;
	s.seg[S_CS].base = 0;
	s.rip = ORG;
	s.gpr[R_SP] = 0x8000;
	s.cr4 |= CR4_OSFXSR;
	cpu_set_state(tb->cpu, &s);
	cpu_set_intr(tb->cpu, true);
	return 0;
}

static bool save(struct testbus *tb, struct vs_buf *b)
{
	b->len = 0;
	return cpu_save_state(tb->cpu, b) == 0;
}

static bool same_buf(const struct vs_buf *a, const struct vs_buf *b)
{
	return a->len == b->len && !memcmp(a->data, b->data, a->len);
}

int main(void)
{
	struct tap t = {0};
	struct testbus ref, a, b;
	struct vs_buf sr = {0}, sa = {0}, sb = {0};
	uint64_t total;
	unsigned tried = 0, bad_load = 0, bad_after = 0, bad_end = 0, bad_ram = 0;
	char err[256];

	/* The reference run, start to end. */
	if (machine(&ref))
		return 1;
	testbus_run(&ref, 100000);
	total = cpu_icount(ref.cpu);
	tap_ok(&t, ref.exited && ref.exit_code == 0, "the program ends by port "
	       "0xf4 after %llu steps", (unsigned long long)total);
	tap_ok(&t, *(uint16_t *)(ref.ram + 0x2302) == 1 &&
		   *(uint16_t *)(ref.ram + 0x2300) == ORG + 0x40,
	       "the interrupt came once, after the NOP behind STI (at %#x)",
	       *(uint16_t *)(ref.ram + 0x2300));
	if (!save(&ref, &sr))
		return 1;
	tap_ok(&t, sr.len > 1000, "save (%zu bytes)", sr.len);

	/* One CPU steps through the program; at each stop its state is
	 * loaded into a fresh CPU with a copy of the RAM, which runs to the
	 * end. Every step of the loop's first rounds and of the end (STI,
	 * the interrupt, the handler), every third in between: each CPU
	 * costs its caches' allocation, and ASan makes that slow. */
	if (machine(&a))
		return 1;
	for (uint64_t k = 1; k < total; k++) {
		char e[256];
		testbus_run(&a, 1);
		if (k > 40 && k < total - 30 && k % 3)
			continue;
		tried++;
		if (machine(&b) || !save(&a, &sa))
			return 1;
		memcpy(b.ram, a.ram, RAM);
		cpu_set_intr(b.cpu, false);
		if (cpu_load_state(b.cpu, sa.data, sa.len, e, sizeof(e))) {
			if (!bad_load++)
				tap_diag("step %llu: %s", (unsigned long long)k, e);
		} else if (!save(&b, &sb) || !same_buf(&sa, &sb)) {
			bad_after++;
		}
		testbus_run(&b, 100000);
		if (!save(&b, &sb) || !same_buf(&sb, &sr) || !b.exited ||
		    b.exit_code != ref.exit_code) {
			if (!bad_end++)
				tap_diag("first difference at the end after a "
					 "load at step %llu", (unsigned long long)k);
		}
		if (memcmp(b.ram, ref.ram, RAM))
			bad_ram++;
		testbus_free(&b);
	}
	testbus_run(&a, 100000);
	tap_ok(&t, save(&a, &sa) && same_buf(&sa, &sr) && !memcmp(a.ram, ref.ram, RAM),
	       "stepping one at a time ends as the whole run did");
	testbus_free(&a);
	tap_ok(&t, bad_load == 0, "loaded at %u of the %llu stops", tried,
	       (unsigned long long)total - 1);
	tap_ok(&t, bad_after == 0, "the loaded CPU saves the same bytes");
	tap_ok(&t, bad_end == 0, "each runs on to the end state of the "
	       "uninterrupted run");
	tap_ok(&t, bad_ram == 0, "and write the same memory");

	/* Hostile states leave the CPU as it was. */
	if (machine(&b))
		return 1;
	{
		bool ok = true;
		struct vs_buf before = {0};
		(void)save(&b, &before);
		for (size_t len = 0; len < sr.len; len += 7) {
			if (cpu_load_state(b.cpu, sr.data, len, err, sizeof(err)) == 0 ||
			    !strstr(err, "cpu"))
				ok = false;
		}
		ok = ok && save(&b, &sb) && same_buf(&sb, &before);
		tap_ok(&t, ok, "truncated states refused, CPU unchanged");

		/* The last byte is the INTR bool: 2 is not a bool. */
		sr.data[sr.len - 1] = 2;
		ok = cpu_load_state(b.cpu, sr.data, sr.len, err, sizeof(err)) == -EINVAL &&
		     strstr(err, "'intr'") && save(&b, &sb) && same_buf(&sb, &before);
		tap_ok(&t, ok, "out of range refused: %s", err);
		vs_buf_free(&before);
	}
	testbus_free(&b);
	testbus_free(&ref);
	vs_buf_free(&sr);
	vs_buf_free(&sa);
	vs_buf_free(&sb);
	return tap_done(&t);
}
