/* Decimal adjust instructions (insn_bcd.c): DAA DAS AAA AAS AAM AAD on the
 * SDM's own examples and edge cases (digit carries, the AX-wide adjustment
 * of AAA/AAS, DAS keeping the low-digit borrow, other bases through the
 * imm8 of AAM/AAD, #DE on AAM 0). The flags checked are the ones the SDM
 * defines, plus DAA's OF as P6-class hardware sets it. (All results and
 * defined flags were also compared with qemu-i386 over every AX and
 * CF/AF input when this was written.) */
#include "insn_util.h"

struct bcdcase {
	const char *name;
	uint8_t code[2];
	uint8_t len;
	uint16_t ax;
	uint32_t flags;
	uint16_t want_ax;
	uint32_t want_flags, mask;
};

#define DAAF (FL_CF | FL_AF | FL_SF | FL_ZF | FL_PF)
#define AAAF (FL_CF | FL_AF)
#define AAMF (FL_SF | FL_ZF | FL_PF)

static const struct bcdcase cases[] = {
	/* SDM DAA example: 79H + 35H = AEH, DAA -> 14H, CF = AF = 1 */
	{"daa after 79+35", {0x27}, 1, 0x00ae, 0x2, 0x0014, FL_CF | FL_AF | FL_PF, DAAF | FL_OF},
	{"daa 9a -> 00", {0x27}, 1, 0x009a, 0x2, 0x0000, FL_CF | FL_AF | FL_ZF | FL_PF, DAAF},
	{"daa 12 unchanged", {0x27}, 1, 0x0012, 0x2, 0x0012, FL_PF, DAAF},
	{"daa 7a -> 80, OF from the adjustment", {0x27}, 1, 0x007a, 0x2, 0x0080,
	 FL_AF | FL_SF | FL_OF, DAAF | FL_OF},
	{"daa with CF in", {0x27}, 1, 0x0005, 0x2 | FL_CF, 0x0065, FL_CF | FL_PF, DAAF},
	{"daa with AF in", {0x27}, 1, 0x0003, 0x2 | FL_AF, 0x0009, FL_AF | FL_PF, DAAF},
	/* SDM DAS example: 35H - 47H = EEH (CF = AF = 1), DAS -> 88H */
	{"das after 35-47", {0x2f}, 1, 0x00ee, 0x2 | FL_CF | FL_AF, 0x0088,
	 FL_CF | FL_AF | FL_SF | FL_PF, DAAF},
	{"das 05 unchanged", {0x2f}, 1, 0x0005, 0x2, 0x0005, FL_PF, DAAF},
	{"das 00 with AF: borrow of AL-6 sets CF", {0x2f}, 1, 0x0000, 0x2 | FL_AF, 0x00fa,
	 FL_CF | FL_AF | FL_SF | FL_PF, DAAF},
	{"das 9f", {0x2f}, 1, 0x009f, 0x2, 0x0039, FL_CF | FL_AF | FL_PF, DAAF},
	/* SDM AAA example: '8' + '9' = 71H with AF, AAA -> AX = 0107H */
	{"aaa after 38+39", {0x37}, 1, 0x0071, 0x2 | FL_AF, 0x0107, FL_CF | FL_AF, AAAF},
	{"aaa fa: AX + 106H carries into AH", {0x37}, 1, 0x00fa, 0x2, 0x0200,
	 FL_CF | FL_AF, AAAF},
	{"aaa 05: only the high nibble cleared", {0x37}, 1, 0x1235, 0x2, 0x1205, 0, AAAF},
	{"aas 0205 with AF", {0x3f}, 1, 0x0205, 0x2 | FL_AF, 0x000f, FL_CF | FL_AF, AAAF},
	{"aas 0100", {0x3f}, 1, 0x0100, 0x2, 0x0100, 0, AAAF},
	{"aas 000b", {0x3f}, 1, 0x000b, 0x2, 0xff05, FL_CF | FL_AF, AAAF},
	{"aam 63", {0xd4, 0x0a}, 2, 0x003f, 0x2, 0x0603, FL_PF, AAMF},
	{"aam 0", {0xd4, 0x0a}, 2, 0x1200, 0x2, 0x0000, FL_ZF | FL_PF, AAMF},
	{"aam base 16", {0xd4, 0x10}, 2, 0x00ab, 0x2, 0x0a0b, 0, AAMF},
	{"aad 0603", {0xd5, 0x0a}, 2, 0x0603, 0x2, 0x003f, FL_PF, AAMF},
	{"aad base 16", {0xd5, 0x10}, 2, 0x0a0b, 0x2, 0x00ab, FL_SF, AAMF},
	{"aad wraps to 8 bits", {0xd5, 0x0a}, 2, 0xffff, 0x2, 0x00f5, FL_SF | FL_PF, AAMF},
};

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	int vec;

	if (testbus_init(&tb, 1 << 20) != 0)
		return 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bcdcase *c = &cases[i];
		tcpu_real(&tb, &s);
		s.gpr[R_AX] = c->ax;
		s.rflags = c->flags;
		vec = tcpu_run(&tb, &s, c->code, c->len);
		tap_ok(&t, vec == -1 && AX(s) == c->want_ax &&
				   (s.rflags & c->mask) == c->want_flags,
		       "%s: ax %#06llx flags %#05llx", c->name,
		       (unsigned long long)AX(s),
		       (unsigned long long)(s.rflags & T_ARITH));
	}
	{
		static const uint8_t code[] = {0xd4, 0x00};
		tcpu_real(&tb, &s);
		s.gpr[R_AX] = 0x1234;
		vec = tcpu_run(&tb, &s, code, sizeof(code));
		tap_ok(&t, vec == EXC_DE && AX(s) == 0x1234 &&
				   t_real_fault_ip(&tb, &s) == T_CODE,
		       "aam 0: #DE at the instruction, AX intact (vec %d)", vec);
	}
	testbus_free(&tb);
	return tap_done(&t);
}
