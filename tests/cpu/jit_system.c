/* System instructions the code generator compiles, CLI so far: in the
 * middle of a compiled run, what the interpreter does (IF cleared when
 * CPL <= IOPL, else #GP(0) at the CLI with the registers the run wrote
 * before it). */
#include "insn_util.h"

/* mov edx, 5; mov ebx, 6; cli; mov ecx, 7 (the fault stubs write AL) */
static const uint8_t code[] = {
	0xba, 0x05, 0x00, 0x00, 0x00,
	0xbb, 0x06, 0x00, 0x00, 0x00,
	0xfa,
	0xb9, 0x07, 0x00, 0x00, 0x00,
};
#define CLI_AT (T_CODE + 10)

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	int vec;

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;

	tcpu_pm32(&tb, &s, 0, 0);
	s.rflags |= FL_IF;
	vec = tcpu_run(&tb, &s, code, sizeof(code));
	tap_ok(&t, vec == -1 && !(s.rflags & FL_IF) && (uint32_t)s.gpr[R_DX] == 5 &&
			   (uint32_t)s.gpr[R_CX] == 7,
	       "cpl 0: CLI clears IF, the run goes on (vec %d, rflags %#llx, ecx %u)",
	       vec, (unsigned long long)s.rflags, (unsigned)s.gpr[R_CX]);

	tcpu_pm32(&tb, &s, 3, 0);
	s.rflags |= FL_IF;
	s.gpr[R_CX] = 0;
	vec = tcpu_run(&tb, &s, code, sizeof(code));
	tap_ok(&t, vec == EXC_GP && t_get32(&tb, s.gpr[R_SP]) == 0 &&
			   t_get32(&tb, s.gpr[R_SP] + 4) == CLI_AT &&
			   (t_get32(&tb, s.gpr[R_SP] + 12) & FL_IF) &&
			   (uint32_t)s.gpr[R_DX] == 5 && (uint32_t)s.gpr[R_BX] == 6 &&
			   (uint32_t)s.gpr[R_CX] == 0,
	       "cpl 3, iopl 0: #GP(0) at the CLI, IF still set, the moves before it done "
	       "(vec %d, eip %#x, edx %u, ebx %u, ecx %u)",
	       vec, t_get32(&tb, s.gpr[R_SP] + 4), (unsigned)s.gpr[R_DX],
	       (unsigned)s.gpr[R_BX], (unsigned)s.gpr[R_CX]);

	tcpu_pm32(&tb, &s, 3, 3);
	s.rflags |= FL_IF;
	vec = tcpu_run(&tb, &s, code, sizeof(code));
	tap_ok(&t, vec == -1 && !(s.rflags & FL_IF) && (uint32_t)s.gpr[R_CX] == 7,
	       "cpl 3, iopl 3: CLI clears IF (vec %d, rflags %#llx)", vec,
	       (unsigned long long)s.rflags);

	testbus_free(&tb);
	return tap_done(&t);
}
