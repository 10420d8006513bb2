/* ACPI fixed hardware: the PM timer's rate against the virtual clock and
 * its 24- and 32-bit wrap, TMR_STS at each top-bit change and its SCI
 * with a vtimer only while TMR_EN asks, PM1 enable bits and write-1-to-
 * clear status (word and byte writes), SCI_EN fixed, SLP_TYP/SLP_EN with
 * S5 giving the power-off pulse and other types nothing, GPE0 status and
 * enable driving the SCI, the 0xcf9 reset control, reset. */
#include "vmm/platform/acpi_pm.h"
#include "tests/tap.h"

#include <string.h>

struct env {
	struct vclock clk;
	struct acpi_pm pm;
	bool sci;
	unsigned sci_rises, power_offs, resets;
};

static void on_sci(void *opaque, unsigned pin, bool level)
{
	struct env *e = opaque;
	if (level && !e->sci)
		e->sci_rises++;
	e->sci = level;
}

static void on_off(void *opaque, unsigned pin, bool level)
{
	struct env *e = opaque;
	if (level)
		e->power_offs++;
}

static void on_reset(void *opaque, unsigned pin, bool level)
{
	struct env *e = opaque;
	if (level)
		e->resets++;
}

static void env_init(struct env *e, bool ext)
{
	struct irq_line sci = {on_sci, e, 0}, off = {on_off, e, 0}, rst = {on_reset, e, 0};
	memset(e, 0, sizeof(*e));
	vclock_init(&e->clk, 0);
	acpi_pm_init(&e->pm, &e->clk, ext, &sci, &off, &rst);
}

/* Port I/O as the guest does it, through the dispatcher's rule: wider
 * accesses split into the bytes the device implements. */
static uint32_t in(struct env *e, const struct io_ops *ops, unsigned off, unsigned size)
{
	uint32_t v = 0;
	if (ops->impl_sizes & size)
		return (uint32_t)ops->read(&e->pm, off, size);
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)(ops->read(&e->pm, off + i, 1) & 0xff) << (8 * i);
	return v;
}

static void out(struct env *e, const struct io_ops *ops, unsigned off, unsigned size,
		uint32_t v)
{
	if (ops->impl_sizes & size) {
		ops->write(&e->pm, off, size, v);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		ops->write(&e->pm, off + i, 1, (v >> (8 * i)) & 0xff);
}

static uint64_t tick_ns(uint64_t ticks)
{
	return vclock_ticks_to_ns(ticks, ACPI_PM_TMR_HZ);
}

static void test_timer(struct tap *t)
{
	struct env e;
	bool ok = true;
	uint32_t prev = 0;

	env_init(&e, false);
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0, "timer starts at 0 with the clock");
	vclock_advance_to(&e.clk, 1000000000);
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 3579545, "one second: 3579545 ticks (%u)",
	       in(&e, &acpi_pm_tmr_ops, 0, 4));
	for (uint64_t ns = 1000000000; ns < 1000100000; ns += 279) {
		uint32_t v;
		vclock_advance_to(&e.clk, ns);
		v = in(&e, &acpi_pm_tmr_ops, 0, 4);
		if (v < prev || v != (uint32_t)((unsigned __int128)ns * 3579545 / 1000000000))
			ok = false;
		prev = v;
	}
	tap_ok(t, ok, "every read is floor(ns * 3579545 Hz), monotonic");
	vclock_advance_to(&e.clk, tick_ns(0x1000000) - 1);
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0xffffff, "24 bits: 0xffffff before the wrap");
	vclock_advance_to(&e.clk, tick_ns(0x1000000));
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0, "then 0 (about 4.69 s)");
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 2) == 0 && in(&e, &acpi_pm_tmr_ops, 0, 1) == 0,
	       "narrow reads too");
	out(&e, &acpi_pm_tmr_ops, 0, 4, 0x123456);
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0, "the timer is read-only");

	env_init(&e, true);
	vclock_advance_to(&e.clk, tick_ns(0x1000000));
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0x1000000, "32 bits: no wrap at 2^24");
	vclock_advance_to(&e.clk, tick_ns(0x100000000ull) - 1);
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0xffffffffu, "0xffffffff after ~1200 s");
	vclock_advance_to(&e.clk, tick_ns(0x100000000ull));
	tap_ok(t, in(&e, &acpi_pm_tmr_ops, 0, 4) == 0, "then wraps to 0");
}

static void test_tmr_sts(struct tap *t)
{
	struct env e;
	env_init(&e, false);
	vclock_advance_to(&e.clk, tick_ns(0x800000) - 1);
	tap_ok(t, !(in(&e, &acpi_pm_evt_ops, 0, 2) & ACPI_PM1_TMR),
	       "TMR_STS clear before bit 23 changes");
	vclock_advance_to(&e.clk, tick_ns(0x800000));
	tap_ok(t, in(&e, &acpi_pm_evt_ops, 0, 2) & ACPI_PM1_TMR, "set when it changes");
	vclock_advance_to(&e.clk, tick_ns(0x1800000));
	tap_ok(t, (in(&e, &acpi_pm_evt_ops, 0, 2) & ACPI_PM1_TMR) && !e.sci && !e.sci_rises,
	       "stays set; no SCI without TMR_EN");
	tap_ok(t, !vtimer_armed(&e.pm.tmr_timer), "no timer armed while TMR_EN is clear");
	out(&e, &acpi_pm_evt_ops, 0, 2, ACPI_PM1_TMR);
	tap_ok(t, !(in(&e, &acpi_pm_evt_ops, 0, 2) & ACPI_PM1_TMR), "write 1 clears it");
	out(&e, &acpi_pm_evt_ops, 2, 2, ACPI_PM1_TMR);
	tap_ok(t, in(&e, &acpi_pm_evt_ops, 2, 2) == ACPI_PM1_TMR &&
		  vtimer_armed(&e.pm.tmr_timer) && e.pm.tmr_timer.deadline == tick_ns(0x2000000),
	       "TMR_EN: armed for the next change of bit 23");
	vclock_advance_to(&e.clk, tick_ns(0x2000000) - 1);
	tap_ok(t, !e.sci, "no SCI before it");
	vclock_advance_to(&e.clk, tick_ns(0x2000000));
	tap_ok(t, e.sci && !vtimer_armed(&e.pm.tmr_timer),
	       "SCI at the change, no timer while the status is pending");
	out(&e, &acpi_pm_evt_ops, 0, 2, ACPI_PM1_TMR);
	tap_ok(t, !e.sci && vtimer_armed(&e.pm.tmr_timer), "clearing drops the SCI, re-arms");
	out(&e, &acpi_pm_evt_ops, 2, 2, 0);
	tap_ok(t, !vtimer_armed(&e.pm.tmr_timer), "TMR_EN off: timer cancelled");
}

static void test_pm1(struct tap *t)
{
	struct env e;
	env_init(&e, false);
	tap_ok(t, in(&e, &acpi_pm_cnt_ops, 0, 2) == ACPI_PM1_SCI_EN,
	       "PM1_CNT: SCI_EN set at power-on (no SMI_CMD)");
	out(&e, &acpi_pm_cnt_ops, 0, 2, 0);
	tap_ok(t, in(&e, &acpi_pm_cnt_ops, 0, 2) == ACPI_PM1_SCI_EN, "and cannot be cleared");
	out(&e, &acpi_pm_evt_ops, 2, 2, 0xffff);
	tap_ok(t, in(&e, &acpi_pm_evt_ops, 2, 2) == 0x0721,
	       "PM1_EN: TMR, GBL, PWRBTN, SLPBTN, RTC enables (%#x)",
	       in(&e, &acpi_pm_evt_ops, 2, 2));
	out(&e, &acpi_pm_evt_ops, 3, 1, 0);
	tap_ok(t, in(&e, &acpi_pm_evt_ops, 2, 2) == 0x0021, "a byte write changes its byte only");
	out(&e, &acpi_pm_evt_ops, 2, 2, 0);
	e.pm.pm1_sts = ACPI_PM1_PWRBTN | ACPI_PM1_WAK_STS | ACPI_PM1_GBL;
	out(&e, &acpi_pm_evt_ops, 1, 1, ACPI_PM1_PWRBTN >> 8);
	tap_ok(t, in(&e, &acpi_pm_evt_ops, 0, 2) == (ACPI_PM1_WAK_STS | ACPI_PM1_GBL),
	       "write-1-to-clear: only the bit written clears");
	out(&e, &acpi_pm_evt_ops, 0, 2, 0);
	tap_ok(t, in(&e, &acpi_pm_evt_ops, 0, 2) == (ACPI_PM1_WAK_STS | ACPI_PM1_GBL),
	       "writing 0 clears nothing");
	out(&e, &acpi_pm_evt_ops, 2, 2, ACPI_PM1_GBL);
	tap_ok(t, e.sci, "GBL_STS with GBL_EN: SCI");
	out(&e, &acpi_pm_evt_ops, 0, 4, (uint32_t)ACPI_PM1_GBL << 16 | 0xffff);
	tap_ok(t, !e.sci && in(&e, &acpi_pm_evt_ops, 0, 2) == 0 &&
		  in(&e, &acpi_pm_evt_ops, 2, 2) == ACPI_PM1_GBL,
	       "a dword write clears the status word and sets the enables");

	/* Sleep */
	out(&e, &acpi_pm_cnt_ops, 0, 2, 5 << ACPI_PM1_SLP_TYP_SHIFT);
	tap_ok(t, e.power_offs == 0 &&
		  in(&e, &acpi_pm_cnt_ops, 0, 2) == (ACPI_PM1_SCI_EN | 5 << ACPI_PM1_SLP_TYP_SHIFT),
	       "SLP_TYP alone: stored, nothing happens");
	out(&e, &acpi_pm_cnt_ops, 0, 2, 0 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
	tap_ok(t, e.power_offs == 0 && !(in(&e, &acpi_pm_cnt_ops, 0, 2) & ACPI_PM1_SLP_EN),
	       "SLP_EN with SLP_TYP 0 (S0): no power-off, SLP_EN reads 0");
	out(&e, &acpi_pm_cnt_ops, 0, 2, 3 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
	tap_ok(t, e.power_offs == 0, "an unoffered sleep type: nothing");
	out(&e, &acpi_pm_cnt_ops, 0, 2,
	    ACPI_PM_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
	tap_ok(t, e.power_offs == 1, "SLP_EN with SLP_TYP 5 (S5): power-off");
	out(&e, &acpi_pm_cnt_ops, 1, 1, (ACPI_PM_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN) >> 8);
	tap_ok(t, e.power_offs == 2, "the same as a byte write to the high byte");
}

static void test_gpe_reset(struct tap *t)
{
	struct env e;
	env_init(&e, false);
	acpi_pm_gpe_raise(&e.pm, 0x0104);
	tap_ok(t, in(&e, &acpi_pm_gpe_ops, 0, 2) == 0x0104 && !e.sci,
	       "GPE0_STS set, no SCI while disabled");
	out(&e, &acpi_pm_gpe_ops, 3, 1, 0x01);
	tap_ok(t, in(&e, &acpi_pm_gpe_ops, 2, 2) == 0x0100 && e.sci, "GPE8 enabled: SCI");
	out(&e, &acpi_pm_gpe_ops, 1, 1, 0x01);
	tap_ok(t, in(&e, &acpi_pm_gpe_ops, 0, 2) == 0x0004 && !e.sci,
	       "write-1-to-clear GPE8: SCI drops, GPE2 stays");

	tap_ok(t, in(&e, &acpi_pm_reset_ops, 0, 1) == 0, "0xcf9 reads 0 at power-on");
	out(&e, &acpi_pm_reset_ops, 0, 1, ACPI_RST_SYS);
	tap_ok(t, e.resets == 0 && in(&e, &acpi_pm_reset_ops, 0, 1) == ACPI_RST_SYS,
	       "SYS_RST alone: stored, no reset");
	out(&e, &acpi_pm_reset_ops, 0, 1, ACPI_RESET_VALUE);
	tap_ok(t, e.resets == 1 && in(&e, &acpi_pm_reset_ops, 0, 1) == ACPI_RST_SYS,
	       "value 6 (the FADT's): reset; RST_CPU reads 0");

	e.pm.pm1_en = ACPI_PM1_GBL;
	acpi_pm_reset(&e.pm);
	tap_ok(t, in(&e, &acpi_pm_gpe_ops, 0, 4) == 0 && in(&e, &acpi_pm_evt_ops, 0, 4) == 0 &&
		  in(&e, &acpi_pm_cnt_ops, 0, 2) == ACPI_PM1_SCI_EN &&
		  in(&e, &acpi_pm_reset_ops, 0, 1) == 0 && !e.sci,
	       "reset: every register at its power-on value");
}

int main(void)
{
	struct tap t = {0};
	test_timer(&t);
	test_tmr_sts(&t);
	test_pm1(&t);
	test_gpe_reset(&t);
	return tap_done(&t);
}
