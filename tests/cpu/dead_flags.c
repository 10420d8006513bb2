/* Flags nothing can see are not computed (block_drop_dead_flags()): a
 * rotate or an IMUL whose CF and OF a later instruction overwrites runs
 * without them. Wherever they can be seen (a Jcc, the block's end, a budget that
 * ends the run between the two) they must be right. */
#include "insn_util.h"

#define ROR_EAX_4 0xc1, 0xc8, 0x04 /* ror eax, 4 */
#define ROL_EAX_4 0xc1, 0xc0, 0x04 /* rol eax, 4 */

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	int vec;

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;

	{
		/* Dead: XOR overwrites every flag. */
		static const uint8_t code[] = {ROR_EAX_4, 0x31, 0xdb /* xor ebx, ebx */};
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 0x12345678;
		s.gpr[R_BX] = 5;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0x81234567u &&
			   (s.rflags & (FL_CF | FL_OF | FL_ZF)) == FL_ZF,
		       "ROR then XOR: the rotate's value, XOR's flags (eax %#x, flags %#x)",
		       (unsigned)s.gpr[R_AX], (unsigned)s.rflags);
	}
	{
		/* Live at the block's end, past register moves. */
		static const uint8_t code[] = {ROR_EAX_4, 0x89, 0xd1 /* mov ecx, edx */};
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 0x12345678;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0x81234567u &&
			   (s.rflags & (FL_CF | FL_OF)) == (FL_CF | FL_OF),
		       "ROR at the end: CF and OF set (flags %#x)", (unsigned)s.rflags);
	}
	{
		/* Live: a Jcc reads CF. ROL 0x12345678 by 4: CF = 1. */
		static const uint8_t code[] = {
			ROL_EAX_4,
			0x72, 0x05,                   /* jc +5 */
			0xb9, 0x01, 0x00, 0x00, 0x00, /* mov ecx, 1 */
			0x31, 0xdb,                   /* xor ebx, ebx */
		};
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 0x12345678;
		s.gpr[R_CX] = 7;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 0x23456781u &&
			   (uint32_t)s.gpr[R_CX] == 7,
		       "ROL then JC: the branch sees CF (eax %#x, ecx %u)",
		       (unsigned)s.gpr[R_AX], (unsigned)s.gpr[R_CX]);
	}
	{
		/* A budget of one instruction ends the run after the rotate
		 * of a block decoded (and run once) with its flags dead. */
		static const uint8_t code[] = {ROR_EAX_4, 0x31, 0xdb, 0x31, 0xdb};
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 0x12345678;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 0x12345678;
		s.rip = T_CODE;
		cpu_set_state(tb.cpu, &s);
		tb.exited = 0;
		testbus_run(&tb, 1);
		cpu_get_state(tb.cpu, &s);
		tap_ok(&t, vec == -1 && s.rip == T_CODE + 3 &&
			   (uint32_t)s.gpr[R_AX] == 0x81234567u &&
			   (s.rflags & (FL_CF | FL_OF)) == (FL_CF | FL_OF),
		       "budget ends after the rotate: its CF and OF are there (rip %#llx, flags %#x)",
		       (unsigned long long)s.rip, (unsigned)s.rflags);
	}
	{
		/* Live to the block's end through two IMULs, which keep
		 * ADD's ZF. */
		static const uint8_t code[] = {
			0x01, 0xd2,       /* add edx, edx */
			0x0f, 0xaf, 0xc1, /* imul eax, ecx */
			0x0f, 0xaf, 0xc1, /* imul eax, ecx */
		};
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_DX] = 0x80000000u;
		s.gpr[R_AX] = 3;
		s.gpr[R_CX] = 5;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 75 &&
			   (s.rflags & (FL_CF | FL_OF | FL_ZF)) == FL_ZF,
		       "ADD, IMUL, IMUL at the end: IMUL's CF and OF, ADD's ZF (eax %u, flags %#x)",
		       (unsigned)s.gpr[R_AX], (unsigned)s.rflags);
	}
	{
		/* Dead IMULs; then the same block cut after the first,
		 * which overflows. */
		static const uint8_t code[] = {
			0x0f, 0xaf, 0xc1, /* imul eax, ecx */
			0x0f, 0xaf, 0xc1, /* imul eax, ecx */
			0x31, 0xdb,       /* xor ebx, ebx */
		};
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 3;
		s.gpr[R_CX] = 5;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == -1 && (uint32_t)s.gpr[R_AX] == 75 &&
			   (s.rflags & (FL_CF | FL_OF | FL_ZF)) == FL_ZF,
		       "IMUL, IMUL, XOR: the products, XOR's flags (eax %u, flags %#x)",
		       (unsigned)s.gpr[R_AX], (unsigned)s.rflags);
		tcpu_pm32(&tb, &s, 0, 0);
		s.gpr[R_AX] = 0x10000;
		s.gpr[R_CX] = 0x10000;
		s.rip = T_CODE;
		cpu_set_state(tb.cpu, &s);
		tb.exited = 0;
		testbus_run(&tb, 1);
		cpu_get_state(tb.cpu, &s);
		tap_ok(&t, s.rip == T_CODE + 3 && (uint32_t)s.gpr[R_AX] == 0 &&
			   (s.rflags & (FL_CF | FL_OF)) == (FL_CF | FL_OF),
		       "budget ends after an overflowing IMUL: CF and OF set (rip %#llx, flags %#x)",
		       (unsigned long long)s.rip, (unsigned)s.rflags);
	}
	testbus_free(&tb);
	return tap_done(&t);
}
