/* The engine's basic contract: state in, a bounded run, state out; real
 * mode arithmetic, a loop, memory through DS, and lazy flags materialized
 * when the state is read back. */
#include <string.h>

#include "testbus.h"
#include "tests/tap.h"

static void real_mode_at(struct testbus *tb, uint16_t cs, uint16_t ip)
{
	struct x86_state s;
	cpu_get_state(tb->cpu, &s);
	s.seg[S_CS].selector = cs;
	s.seg[S_CS].base = (uint64_t)cs << 4;
	s.rip = ip;
	cpu_set_state(tb->cpu, &s);
}

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	static const uint8_t code[] = {
		0xb8, 0x34, 0x12,       /* mov ax, 0x1234 */
		0x05, 0x11, 0x11,       /* add ax, 0x1111 */
		0x89, 0xc3,             /* mov bx, ax */
		0x81, 0xeb, 0x45, 0x03, /* sub bx, 0x0345 */
		0xb9, 0x05, 0x00,       /* mov cx, 5 */
		0x31, 0xf6,             /* xor si, si */
		0x01, 0xce,             /* l: add si, cx */
		0xe2, 0xfc,             /* loop l */
		0x89, 0x36, 0x00, 0x20, /* mov [0x2000], si */
		0x8b, 0x3e, 0x00, 0x20, /* mov di, [0x2000] */
		0x3b, 0x3e, 0x00, 0x20, /* cmp di, [0x2000] */
		0xeb, 0xfe,             /* jmp $ */
	};

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;
	memcpy(tb.ram + 0x1000, code, sizeof(code));
	real_mode_at(&tb, 0, 0x1000);
	testbus_run(&tb, 8 + 10 + 3 + 5);
	cpu_get_state(tb.cpu, &s);
	tap_ok(&t, (s.gpr[R_AX] & 0xffff) == 0x2345, "add: ax = %#llx",
	       (unsigned long long)s.gpr[R_AX]);
	tap_ok(&t, (s.gpr[R_BX] & 0xffff) == 0x2000, "sub: bx = %#llx",
	       (unsigned long long)s.gpr[R_BX]);
	tap_ok(&t, (s.gpr[R_SI] & 0xffff) == 15, "loop sums 5..1: si = %llu",
	       (unsigned long long)s.gpr[R_SI]);
	tap_ok(&t, tb.ram[0x2000] == 15 && (s.gpr[R_DI] & 0xffff) == 15,
	       "store and load through DS");
	tap_ok(&t, (s.rflags & (FL_ZF | FL_CF)) == FL_ZF,
	       "cmp equal: ZF set, CF clear (rflags %#llx)",
	       (unsigned long long)s.rflags);
	tap_ok(&t, s.rip == 0x1000 + sizeof(code) - 2, "spins at jmp $ (ip %#llx)",
	       (unsigned long long)s.rip);
	tap_ok(&t, cpu_icount(tb.cpu) >= 26, "instructions counted: %llu",
	       (unsigned long long)cpu_icount(tb.cpu));
	testbus_free(&tb);
	return tap_done(&t);
}
