/* A debugger's view of the engine (cpu.h, for the GDB stub): breakpoints
 * kept out of guest memory, resuming from one, a step that holds
 * interrupts off, write and read watchpoints, a breakpoint in a hot block
 * (native code and links must not run past it), and memory read and
 * written through the page tables without accessed/dirty bits, faults or
 * device accesses. Real-mode and paged code assembled by hand. */
#include <errno.h>
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

static struct x86_state state(struct testbus *tb)
{
	struct x86_state s;
	cpu_get_state(tb->cpu, &s);
	return s;
}

static enum cpu_exit run_with(struct testbus *tb, const struct cpu_debug *d, uint64_t n)
{
	if (cpu_set_debug(tb->cpu, d) < 0)
		return (enum cpu_exit)-1;
	return cpu_run(tb->cpu, n);
}

int main(void)
{
	struct tap t = {0};
	struct testbus tb;
	struct cpu_debug d;
	struct cpu_debug_stop why;
	struct x86_state s;
	enum cpu_exit r;
	uint64_t pa, ic;
	uint8_t buf[8];
	/* inc cx; inc cx; mov [0x3000], cx; inc cx; jmp $ */
	static const uint8_t prog[] = {0x41, 0x41, 0x89, 0x0e, 0x00, 0x30, 0x41, 0xeb, 0xfe};
	/* handler for 0x20: inc bx; iret */
	static const uint8_t handler[] = {0x43, 0xcf};
	/* A hot loop: inc ax; inc dx; cmp ax, 0x1000; jne 0x1100 (at 0x1100) */
	static const uint8_t loop[] = {0x40, 0x42, 0x3d, 0x00, 0x10, 0x75, 0xf9, 0xeb, 0xfe};

	if (testbus_init(&tb, 4 << 20) != 0)
		return 1;
	memcpy(tb.ram + 0x1000, prog, sizeof(prog));
	memcpy(tb.ram + 0x1100, loop, sizeof(loop));
	memcpy(tb.ram + 0x2000, handler, sizeof(handler));
	tb.ram[0x20 * 4 + 1] = 0x20; /* IVT 0x20 -> 0000:2000 */
	tb.intr_vector = 0x20;

	real_mode_at(&tb, 0x1000, false);
	memset(&d, 0, sizeof(d));
	d.bp[d.n_bp++] = 0x1001;
	r = run_with(&tb, &d, 100);
	s = state(&tb);
	cpu_debug_stop(tb.cpu, &why);
	tap_ok(&t, r == CPU_EXIT_DEBUG && why.reason == CPU_DEBUG_BREAK && s.rip == 0x1001 &&
		       (s.gpr[R_CX] & 0xffff) == 1,
	       "a breakpoint stops before its instruction (rip %#llx)", (unsigned long long)s.rip);
	tap_ok(&t, tb.ram[0x1001] == 0x41, "nothing was written into guest memory");
	r = run_with(&tb, &d, 100);
	s = state(&tb);
	tap_ok(&t, r == CPU_EXIT_BUDGET && (s.gpr[R_CX] & 0xffff) == 3,
	       "resuming runs the instruction at the breakpoint (exit %d, cx %llu)", r,
	       (unsigned long long)(s.gpr[R_CX] & 0xffff));

	real_mode_at(&tb, 0x1000, true);
	cpu_set_intr(tb.cpu, true);
	memset(&d, 0, sizeof(d));
	d.step = true;
	ic = cpu_icount(tb.cpu);
	r = run_with(&tb, &d, 100);
	s = state(&tb);
	cpu_debug_stop(tb.cpu, &why);
	tap_ok(&t, r == CPU_EXIT_DEBUG && why.reason == CPU_DEBUG_STEP && s.rip == 0x1001 &&
		       cpu_icount(tb.cpu) == ic + 1 && (s.gpr[R_BX] & 0xffff) == 0,
	       "a step runs one instruction, the pending interrupt held off (rip %#llx, bx %llu)",
	       (unsigned long long)s.rip, (unsigned long long)(s.gpr[R_BX] & 0xffff));
	memset(&d, 0, sizeof(d));
	r = run_with(&tb, &d, 3);
	cpu_set_intr(tb.cpu, false);
	s = state(&tb);
	tap_ok(&t, (s.gpr[R_BX] & 0xffff) == 1, "without the step the interrupt is taken");

	real_mode_at(&tb, 0x1000, false);
	memset(&d, 0, sizeof(d));
	d.wp[d.n_wp++] = (struct cpu_watch){0x3001, 1, CPU_WATCH_READ};
	d.wp[d.n_wp++] = (struct cpu_watch){0x3000, 2, CPU_WATCH_WRITE};
	r = run_with(&tb, &d, 100);
	s = state(&tb);
	cpu_debug_stop(tb.cpu, &why);
	tap_ok(&t, r == CPU_EXIT_DEBUG && why.reason == CPU_DEBUG_WATCH && why.addr == 0x3000 &&
		       why.kind == CPU_WATCH_WRITE && s.rip == 0x1006 && tb.ram[0x3000] == 2,
	       "a write watchpoint stops after the writing instruction; a read one ignores it "
	       "(rip %#llx)", (unsigned long long)s.rip);

	/* A breakpoint inside a loop that ran hot: the compiled loop and its
	 * links must not run past it. */
	real_mode_at(&tb, 0x1100, false);
	s = state(&tb);
	s.gpr[R_DX] = 0; /* reset left the CPU signature there */
	cpu_set_state(tb.cpu, &s);
	memset(&d, 0, sizeof(d));
	r = run_with(&tb, &d, 0x800 * 4);
	d.bp[d.n_bp++] = 0x1101;
	r = run_with(&tb, &d, 1000000);
	s = state(&tb);
	tap_ok(&t, r == CPU_EXIT_DEBUG && s.rip == 0x1101 &&
		       (s.gpr[R_AX] & 0xffff) == (s.gpr[R_DX] & 0xffff) + 1,
	       "a breakpoint in a hot loop stops it between inc ax and inc dx (exit %d, rip "
	       "%#llx, ax %#llx, dx %#llx)", r, (unsigned long long)s.rip,
	       (unsigned long long)(s.gpr[R_AX] & 0xffff), (unsigned long long)(s.gpr[R_DX] & 0xffff));
	memset(&d, 0, sizeof(d));
	d.bp[d.n_bp++] = 0x1107;
	r = run_with(&tb, &d, 1000000);
	s = state(&tb);
	tap_ok(&t, r == CPU_EXIT_DEBUG && s.rip == 0x1107 && (s.gpr[R_AX] & 0xffff) == 0x1000,
	       "then to the loop's end, every block between unchained");
	memset(&d, 0, sizeof(d));
	cpu_set_debug(tb.cpu, &d);

	/* Paging: 4 KiB pages, PDE at 0x10000, page table at 0x11000; linear
	 * 0x400000 -> 0x5000 (A and D clear), 0x401000 not present,
	 * 0x402000 -> beyond RAM (MMIO, never touched). */
	memset(tb.ram + 0x10000, 0, 0x2000);
	tb.ram[0x10000 + 4 * 1] = 0x03; /* PDE 1 -> 0x11000, P W */
	tb.ram[0x10000 + 4 * 1 + 1] = 0x10;
	tb.ram[0x10000 + 4 * 1 + 2] = 0x01;
	memcpy(tb.ram + 0x11000, "\x03\x50\x00\x00", 4);             /* PTE 0 -> 0x5000 */
	memcpy(tb.ram + 0x11000 + 8, "\x03\x00\x00\xf0", 4);         /* PTE 2 -> 0xf0000000 */
	memcpy(tb.ram + 0x5000, "v2e!", 4);
	cpu_get_state(tb.cpu, &s);
	s.cr0 |= CR0_PE | CR0_PG;
	s.cr3 = 0x10000;
	cpu_set_state(tb.cpu, &s);
	r = (enum cpu_exit)cpu_debug_translate(tb.cpu, 0x400123, &pa);
	tap_ok(&t, r == 0 && pa == 0x5123,
	       "translate through the page tables (%#llx)", (unsigned long long)pa);
	tap_ok(&t, cpu_debug_rw(tb.cpu, 0x400000, buf, 4, false) == 0 && !memcmp(buf, "v2e!", 4),
	       "read by virtual address");
	tap_ok(&t, !(tb.ram[0x10004] & 0x20) && !(tb.ram[0x11000] & 0x60),
	       "no accessed or dirty bit set (PDE %#x, PTE %#x)", tb.ram[0x10004], tb.ram[0x11000]);
	tap_ok(&t, cpu_debug_rw(tb.cpu, 0x400002, "E!", 2, true) == 0 &&
		       !memcmp(tb.ram + 0x5000, "v2E!", 4) && !(tb.ram[0x11000] & 0x60),
	       "write by virtual address, still no dirty bit");
	s = state(&tb);
	tap_ok(&t, cpu_debug_rw(tb.cpu, 0x401000, buf, 1, false) == -EFAULT &&
		       cpu_debug_rw(tb.cpu, 0x400ffe, buf, 4, false) == -EFAULT &&
		       state(&tb).cr2 == s.cr2,
	       "a page not present (alone or as the second page) is -EFAULT, no #PF raised");
	tap_ok(&t, cpu_debug_rw(tb.cpu, 0x402000, buf, 4, false) == -EFAULT &&
		       tb.unclaimed_io == 0,
	       "a page outside RAM is -EFAULT, no device access");
	tap_ok(&t, cpu_set_debug(tb.cpu, &(struct cpu_debug){.n_bp = CPU_DEBUG_MAX_BP + 1}) < 0,
	       "too many breakpoints refused");

	testbus_free(&tb);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
