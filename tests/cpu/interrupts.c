/* External events at the engine's boundary: INTR acceptance and the
 * acknowledge cycle, IF masking, the one-instruction STI shadow, HLT and
 * its wake-up, NMI delivery and NMI blocking until IRET, and the A20 gate
 * input (SDM vol. 3, 6.8 and 6.7.1; 8086 address wrap). Real-mode code
 * assembled by hand. */
#include <string.h>

#include "testbus.h"
#include "tests/tap.h"

static void real_mode_at(struct testbus *tb, uint16_t ip, bool intr_enabled)
{
	struct x86_state s;
	cpu_reset(tb->cpu);
	cpu_get_state(tb->cpu, &s);
	s.seg[S_CS].selector = 0;
	s.seg[S_CS].base = 0;
	s.rip = ip;
	s.gpr[R_SP] = 0x7000;
	if (intr_enabled)
		s.rflags |= FL_IF;
	cpu_set_state(tb->cpu, &s);
}

static void set_ivt(struct testbus *tb, int vec, uint16_t ip)
{
	tb->ram[vec * 4] = ip & 0xff;
	tb->ram[vec * 4 + 1] = ip >> 8;
	tb->ram[vec * 4 + 2] = 0;
	tb->ram[vec * 4 + 3] = 0;
}

static uint64_t reg(struct testbus *tb, int r)
{
	struct x86_state s;
	cpu_get_state(tb->cpu, &s);
	return s.gpr[r] & 0xffff;
}

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct x86_state s;
	enum cpu_exit r;
	/* handler for 0x20: inc bx; mov dx, cx; iret */
	static const uint8_t handler[] = {0x43, 0x89, 0xca, 0xcf};
	/* NMI handler: inc di; (spin in place until the test lets go)
	 * nop; iret */
	static const uint8_t nmi_handler[] = {0x47, 0x90, 0xcf};
	/* cli; inc cx; inc cx; inc cx; jmp $ */
	static const uint8_t masked[] = {0xfa, 0x41, 0x41, 0x41, 0xeb, 0xfe};
	/* sti; inc cx; inc cx; jmp $ */
	static const uint8_t shadow[] = {0xfb, 0x41, 0x41, 0xeb, 0xfe};
	/* sti; mov al, 1; out 0xf0, al (INTR up); inc cx; inc cx; jmp $ */
	static const uint8_t shadow_late[] = {0xfb, 0xb0, 0x01, 0xe6, 0xf0,
					      0x41, 0x41, 0xeb, 0xfe};
	/* sti; hlt; inc si; jmp $ */
	static const uint8_t halt[] = {0xfb, 0xf4, 0x46, 0xeb, 0xfe};

	if (testbus_init(&tb, 2 << 20) != 0)
		return 1;
	memcpy(tb.ram + 0x2000, handler, sizeof(handler));
	memcpy(tb.ram + 0x2100, nmi_handler, sizeof(nmi_handler));
	set_ivt(&tb, 0x20, 0x2000);
	set_ivt(&tb, 2, 0x2100);
	tb.intr_vector = 0x20;

	/* IF clear: the line stays pending, nothing is acknowledged. */
	memcpy(tb.ram + 0x1000, masked, sizeof(masked));
	real_mode_at(&tb, 0x1000, false);
	cpu_set_intr(tb.cpu, true);
	cpu_run(tb.cpu, 20);
	tap_ok(&t, reg(&tb, R_BX) == 0 && reg(&tb, R_CX) == 3,
	       "IF clear: INTR not accepted (bx %llu, cx %llu)",
	       (unsigned long long)reg(&tb, R_BX), (unsigned long long)reg(&tb, R_CX));

	/* STI: exactly one more instruction runs before the interrupt. */
	memcpy(tb.ram + 0x1000, shadow, sizeof(shadow));
	real_mode_at(&tb, 0x1000, false);
	cpu_set_intr(tb.cpu, true);
	cpu_run(tb.cpu, 20);
	tap_ok(&t, reg(&tb, R_BX) == 1, "STI then INTR: handler ran once (bx %llu)",
	       (unsigned long long)reg(&tb, R_BX));
	tap_ok(&t, reg(&tb, R_DX) == 1,
	       "the instruction after STI ran before the handler (cx at entry %llu)",
	       (unsigned long long)reg(&tb, R_DX));
	tap_ok(&t, reg(&tb, R_CX) == 2, "execution resumed after the handler (cx %llu)",
	       (unsigned long long)reg(&tb, R_CX));

	/* STI with nothing pending, INTR raised two instructions later by
	 * a device: taken right after the OUT that raised it, not later. */
	memcpy(tb.ram + 0x1000, shadow_late, sizeof(shadow_late));
	real_mode_at(&tb, 0x1000, false);
	cpu_get_state(tb.cpu, &s);
	s.gpr[R_BX] = s.gpr[R_CX] = s.gpr[R_DX] = 0;
	cpu_set_state(tb.cpu, &s);
	cpu_set_intr(tb.cpu, false);
	cpu_run(tb.cpu, 20);
	tap_ok(&t, reg(&tb, R_BX) == 1 && reg(&tb, R_DX) == 0 &&
		       reg(&tb, R_CX) == 2,
	       "INTR raised after STI: taken after the instruction that raised it "
	       "(bx %llu, cx at entry %llu, cx %llu)",
	       (unsigned long long)reg(&tb, R_BX), (unsigned long long)reg(&tb, R_DX),
	       (unsigned long long)reg(&tb, R_CX));
	/* The shadow of an STI the budget ends on is still there. */
	real_mode_at(&tb, 0x1000, false);
	cpu_set_intr(tb.cpu, false);
	cpu_run(tb.cpu, 1);
	cpu_get_state(tb.cpu, &s);
	tap_ok(&t, s.ev.interrupt_shadow == 2, "the STI shadow is kept across runs (%u)",
	       (unsigned)s.ev.interrupt_shadow);
	cpu_run(tb.cpu, 1);
	cpu_get_state(tb.cpu, &s);
	tap_ok(&t, s.ev.interrupt_shadow == 0, "and gone after the next instruction (%u)",
	       (unsigned)s.ev.interrupt_shadow);

	/* HLT stops the run; INTR wakes it after the HLT. */
	memcpy(tb.ram + 0x1000, halt, sizeof(halt));
	real_mode_at(&tb, 0x1000, false);
	cpu_set_intr(tb.cpu, false);
	r = cpu_run(tb.cpu, 20);
	tap_ok(&t, r == CPU_EXIT_HALT, "HLT with nothing pending returns CPU_EXIT_HALT");
	r = cpu_run(tb.cpu, 20);
	tap_ok(&t, r == CPU_EXIT_HALT && reg(&tb, R_SI) == 0, "and stays halted");
	cpu_set_intr(tb.cpu, true);
	cpu_run(tb.cpu, 20);
	tap_ok(&t, reg(&tb, R_BX) == 1 && reg(&tb, R_SI) == 1,
	       "INTR wakes HLT: handler, then the instruction after HLT (bx %llu si %llu)",
	       (unsigned long long)reg(&tb, R_BX), (unsigned long long)reg(&tb, R_SI));

	/* NMI ignores IF, and a second NMI waits for the handler's IRET. */
	memcpy(tb.ram + 0x1000, masked, sizeof(masked));
	real_mode_at(&tb, 0x1000, false);
	cpu_set_intr(tb.cpu, false);
	cpu_raise_nmi(tb.cpu);
	cpu_run(tb.cpu, 1); /* delivery, then inc di */
	cpu_get_state(tb.cpu, &s);
	tap_ok(&t, s.rip == 0x2101 && s.ev.nmi_masked && (s.gpr[R_DI] & 0xffff) == 1,
	       "NMI delivered with IF clear, NMIs blocked (rip %#llx)",
	       (unsigned long long)s.rip);
	cpu_raise_nmi(tb.cpu);
	cpu_run(tb.cpu, 1); /* nop: still blocked */
	cpu_get_state(tb.cpu, &s);
	tap_ok(&t, s.rip == 0x2102 && s.ev.nmi_pending,
	       "a second NMI stays pending inside the handler");
	cpu_run(tb.cpu, 1); /* iret */
	cpu_run(tb.cpu, 1); /* the pending NMI, then inc di */
	cpu_get_state(tb.cpu, &s);
	tap_ok(&t, s.rip == 0x2101 && !s.ev.nmi_pending && (s.gpr[R_DI] & 0xffff) == 2,
	       "IRET unblocks: the pending NMI is delivered (rip %#llx)",
	       (unsigned long long)s.rip);

	/* A20 masked: 0xffff:0x0010 wraps to physical 0. */
	{
		/* mov ax, 0xffff; mov ds, ax; mov byte [0x10], 0x5a; jmp $ */
		static const uint8_t wrap[] = {0xb8, 0xff, 0xff, 0x8e, 0xd8, 0xc6, 0x06,
					       0x10, 0x00, 0x5a, 0xeb, 0xfe};
		memcpy(tb.ram + 0x1000, wrap, sizeof(wrap));
		tb.ram[0] = 0;
		tb.ram[0x100000] = 0;
		real_mode_at(&tb, 0x1000, false);
		cpu_set_a20(tb.cpu, false);
		cpu_run(tb.cpu, 4);
		tap_ok(&t, tb.ram[0] == 0x5a && tb.ram[0x100000] == 0,
		       "A20 off: FFFF:0010 writes physical 0");
		tb.ram[0] = 0;
		real_mode_at(&tb, 0x1000, false);
		cpu_set_a20(tb.cpu, true);
		cpu_run(tb.cpu, 4);
		tap_ok(&t, tb.ram[0] == 0 && tb.ram[0x100000] == 0x5a,
		       "A20 on: FFFF:0010 writes 1 MiB");
	}
	testbus_free(&tb);
	return tap_done(&t);
}
