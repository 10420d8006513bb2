/* IN and OUT (insn_io.c) and the I/O permission check: in real mode and at
 * CPL <= IOPL every port is open; at CPL > IOPL the TSS bitmap decides,
 * bit by bit over the whole access width, and bitmap bytes beyond the TSS
 * limit deny. A denied access is #GP(0) and reaches no device. */
#include "insn_util.h"

static void pm_user(struct testbus *tb, struct x86_state *s, unsigned iopl)
{
	tcpu_pm32(tb, s, 3, iopl);
}

static void deny(struct testbus *tb, unsigned port)
{
	tb->ram[T_TSS + 0x68 + port / 8] |= (uint8_t)(1u << (port % 8));
}

/* Runs `code`; returns the vector and how many accesses reached
 * unclaimed ports (every port but 0xe9/0xf4). */
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
	static const uint8_t out80[] = {0xe6, 0x80};           /* out 0x80, al */
	static const uint8_t out81[] = {0xe6, 0x81};           /* out 0x81, al */
	static const uint8_t in60[] = {0xe4, 0x60};            /* in al, 0x60 */
	static const uint8_t outdx_w[] = {0x66, 0xef};         /* out dx, ax (32-bit code) */
	static const uint8_t outdx_b[] = {0xee};               /* out dx, al */
	static const uint8_t indx_d[] = {0xed};                /* in eax, dx (32-bit code) */

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;

	/* Real mode: no checks. */
	tcpu_real(&tb, &s);
	vec = io_run(&tb, &s, out80, sizeof(out80), &n);
	tap_ok(&t, vec == -1 && n == 1, "real mode: out 0x80 reaches the bus");
	s.gpr[R_AX] = 0x1234;
	vec = io_run(&tb, &s, in60, sizeof(in60), &n);
	tap_ok(&t, vec == -1 && n == 1 && AX(s) == 0x12ff,
	       "real mode: in al, 0x60 loads AL only (ax %#llx)",
	       (unsigned long long)AX(s));
	{
		static const uint8_t code[] = {0x66, 0xed}; /* in eax, dx */
		s.gpr[R_DX] = 0x1234;
		s.gpr[R_AX] = 0;
		vec = io_run(&tb, &s, code, sizeof(code), &n);
		tap_ok(&t, vec == -1 && n == 1 && EAX(s) == 0xffffffffu,
		       "real mode: in eax, dx");
	}
	{
		static const uint8_t code[] = {0xba, 0xe9, 0x00, 0xb0, 'Z', 0xee}; /* mov dx,0xe9; mov al,'Z'; out dx,al */
		tcpu_real(&tb, &s);
		tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, tb.out_len == 1 && tb.out[0] == 'Z', "real mode: out dx, al to 0xe9");
	}

	/* CPL 3, IOPL 0: the bitmap. */
	pm_user(&tb, &s, 0);
	deny(&tb, 0x80);
	vec = io_run(&tb, &s, out80, sizeof(out80), &n);
	tap_ok(&t, vec == EXC_GP && n == 0 && s.gpr[R_SP] == 0x7000 - 24 &&
			   t_get32(&tb, s.gpr[R_SP]) == 0 &&
			   t_get32(&tb, s.gpr[R_SP] + 4) == T_CODE,
	       "cpl 3: out to a denied port is #GP(0) at the instruction (vec %d)", vec);
	pm_user(&tb, &s, 0);
	deny(&tb, 0x80);
	vec = io_run(&tb, &s, out81, sizeof(out81), &n);
	tap_ok(&t, vec == -1 && n == 1, "cpl 3: the next port is allowed");

	/* A word access needs both bits clear. */
	pm_user(&tb, &s, 0);
	deny(&tb, 0x88);
	s.gpr[R_DX] = 0x87;
	vec = io_run(&tb, &s, outdx_w, sizeof(outdx_w), &n);
	tap_ok(&t, vec == EXC_GP && n == 0, "cpl 3: out dx=0x87, ax with 0x88 denied: #GP");
	/* The fault left the handler's ring-0 state: start again. */
	pm_user(&tb, &s, 0);
	deny(&tb, 0x88);
	s.gpr[R_DX] = 0x87;
	vec = io_run(&tb, &s, outdx_b, sizeof(outdx_b), &n);
	tap_ok(&t, vec == -1 && n == 1, "cpl 3: out dx=0x87, al is allowed");
	s.gpr[R_DX] = 0x85;
	vec = io_run(&tb, &s, indx_d, sizeof(indx_d), &n);
	tap_ok(&t, vec == EXC_GP && n == 0,
	       "cpl 3: in eax, dx=0x85 covers 0x85-0x88: #GP (vec %d n %llu)", vec,
	       (unsigned long long)n);
	pm_user(&tb, &s, 0);
	deny(&tb, 0x88);
	s.gpr[R_DX] = 0x84;
	vec = io_run(&tb, &s, indx_d, sizeof(indx_d), &n);
	tap_ok(&t, vec == -1 && n == 1, "cpl 3: in eax, dx=0x84 stops at 0x87");

	/* The bitmap bytes past the TSS limit deny: the processor reads the
	 * two bytes covering the port. */
	pm_user(&tb, &s, 0);
	s.tr.limit = 0x68 + 0x3f8 / 8; /* the byte of 0x3f8 is the last one */
	s.gpr[R_DX] = 0x3f8;
	vec = io_run(&tb, &s, outdx_b, sizeof(outdx_b), &n);
	tap_ok(&t, vec == EXC_GP && n == 0,
	       "cpl 3: second bitmap byte beyond the TSS limit: #GP");
	pm_user(&tb, &s, 0);
	s.tr.limit = 0x68 + 0x3f8 / 8;
	s.gpr[R_DX] = 0x3f0;
	vec = io_run(&tb, &s, outdx_b, sizeof(outdx_b), &n);
	tap_ok(&t, vec == -1 && n == 1, "cpl 3: both bytes inside the limit: allowed");
	if (s.seg[S_CS].selector != SEL_CODE3)
		tap_diag("state is not at CPL 3 any more");
	s.tr.limit = 0x60;
	vec = io_run(&tb, &s, outdx_b, sizeof(outdx_b), &n);
	tap_ok(&t, vec == EXC_GP && n == 0, "cpl 3: TSS too short for a bitmap: #GP (vec %d n %llu)",
	       vec, (unsigned long long)n);

	/* IOPL 3 opens every port at CPL 3; CPL 0 needs no bitmap. */
	pm_user(&tb, &s, 3);
	deny(&tb, 0x80);
	vec = io_run(&tb, &s, out80, sizeof(out80), &n);
	tap_ok(&t, vec == -1 && n == 1, "cpl 3, iopl 3: denied bitmap bit ignored");
	tcpu_pm32(&tb, &s, 0, 0);
	deny(&tb, 0x80);
	vec = io_run(&tb, &s, out80, sizeof(out80), &n);
	tap_ok(&t, vec == -1 && n == 1, "cpl 0, iopl 0: allowed");

	testbus_free(&tb);
	return tap_done(&t);
}
