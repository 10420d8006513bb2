/* ACPI fixed hardware: PM1 event and control, the PM timer, GPE0 and the
 * reset control register (see acpi_pm.h). Registers are handled a byte at
 * a time (the dispatcher splits wider accesses), so write-1-to-clear bits
 * of one byte never touch the other's. */
#include "vmm/platform/acpi_pm.h"

#include "lib/vstate.h"

/* ---- saved state ---- */

static void update_sci(struct acpi_pm *pm);

/* Status, enable and control registers, the reset register, the timer's
 * status epoch and its vtimer's deadline, and the SCI level. Not state:
 * tmr_32bit (the board's choice, in the FADT the guest read). */
static const struct vs_field acpi_pm_fields[] = {
	VS_U16(struct acpi_pm, pm1_sts),
	VS_U16(struct acpi_pm, pm1_en),
	VS_U16(struct acpi_pm, pm1_cnt),
	VS_U16(struct acpi_pm, gpe_sts),
	VS_U16(struct acpi_pm, gpe_en),
	VS_MAX(struct acpi_pm, rst_cnt, VS_U8, ACPI_RST_SYS | ACPI_RST_FULL),
	VS_U64(struct acpi_pm, tmr_epoch),
	VS_BOOL(struct acpi_pm, sci_level),
	VS_U64(struct acpi_pm, tmr_timer.deadline),
};

static int acpi_pm_post_load(void *obj, char *err, size_t n)
{
	struct acpi_pm *pm = obj;
	(void)err;
	(void)n;
	vtimer_restore(pm->clock, &pm->tmr_timer);
	irq_set(&pm->sci, pm->sci_level);
	update_sci(pm);
	return 0;
}

const struct vs_desc acpi_pm_state = {
	"acpi_pm", 1, acpi_pm_fields, ARRAY_SIZE(acpi_pm_fields), NULL,
	acpi_pm_post_load,
};

#include <string.h>

/* PM1 status bits that raise an SCI when enabled. */
#define PM1_SCI_SOURCES (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | \
			 ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define PM1_STS_BITS (PM1_SCI_SOURCES | ACPI_PM1_BM_STS | ACPI_PM1_WAK_STS)
#define PM1_EN_BITS PM1_SCI_SOURCES
/* BM_RLD and SLP_TYP keep what is written; GBL_RLS and SLP_EN are
 * write-only; SCI_EN is fixed at 1. */
#define PM1_CNT_STORED (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

static uint64_t tmr_ticks(const struct acpi_pm *pm)
{
	return vclock_ns_to_ticks(vclock_now(pm->clock), ACPI_PM_TMR_HZ);
}

static unsigned tmr_top_shift(const struct acpi_pm *pm)
{
	return pm->tmr_32bit ? 31 : 23;
}

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	uint64_t t = tmr_ticks(pm);
	return pm->tmr_32bit ? (uint32_t)t : (uint32_t)(t & 0xffffff);
}

/* How many times the timer's top bit has changed by now. */
static uint64_t tmr_flips(const struct acpi_pm *pm)
{
	return tmr_ticks(pm) >> tmr_top_shift(pm);
}

static uint16_t pm1_sts(const struct acpi_pm *pm)
{
	uint16_t s = pm->pm1_sts;
	if (tmr_flips(pm) != pm->tmr_epoch)
		s |= ACPI_PM1_TMR;
	return s;
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->pm1_cnt & ACPI_PM1_SCI_EN) &&
		     ((pm1_sts(pm) & pm->pm1_en & PM1_SCI_SOURCES) ||
		      (pm->gpe_sts & pm->gpe_en));
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(&pm->sci, level);
	}
}

/* The timer only needs a vtimer while its overflow may raise an SCI and
 * has not yet. */
static void tmr_arm(struct acpi_pm *pm)
{
	uint64_t next;
	if (!(pm->pm1_en & ACPI_PM1_TMR) || (pm1_sts(pm) & ACPI_PM1_TMR)) {
		vtimer_cancel(pm->clock, &pm->tmr_timer);
		return;
	}
	next = (tmr_flips(pm) + 1) << tmr_top_shift(pm);
	vtimer_arm(pm->clock, &pm->tmr_timer, vclock_ticks_to_ns(next, ACPI_PM_TMR_HZ));
}

static void tmr_fire(void *opaque)
{
	struct acpi_pm *pm = opaque;
	update_sci(pm);
	tmr_arm(pm);
}

/* ---- PM1 event block: PM1_STS (bytes 0-1), PM1_EN (bytes 2-3) ---- */

static uint64_t evt_read(void *opaque, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint16_t r = off < 2 ? pm1_sts(pm) : pm->pm1_en;
	return (r >> (8 * (off & 1))) & 0xff;
}

static void evt_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct acpi_pm *pm = opaque;
	unsigned sh = 8 * (off & 1);
	uint16_t bits = (uint16_t)((v & 0xff) << sh), lane = (uint16_t)(0xff << sh);

	if (off < 2) {
		bits &= PM1_STS_BITS;
		if (bits & ACPI_PM1_TMR)
			pm->tmr_epoch = tmr_flips(pm);
		pm->pm1_sts &= ~bits;
	} else {
		pm->pm1_en = (uint16_t)((pm->pm1_en & ~lane) | (bits & PM1_EN_BITS));
	}
	update_sci(pm);
	tmr_arm(pm);
}

const struct io_ops acpi_pm_evt_ops = {
	evt_read, evt_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1,
};

/* ---- PM1 control block ---- */

static uint64_t cnt_read(void *opaque, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	return (pm->pm1_cnt >> (8 * (off & 1))) & 0xff;
}

static void cnt_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct acpi_pm *pm = opaque;
	unsigned sh = 8 * (off & 1);
	uint16_t w = (uint16_t)((v & 0xff) << sh), lane = (uint16_t)(0xff << sh);
	unsigned typ;

	pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & ~(lane & PM1_CNT_STORED)) |
				 (w & PM1_CNT_STORED));
	/* SLP_TYP and SLP_EN share the high byte: one write carries both. */
	if (w & ACPI_PM1_SLP_EN) {
		typ = (pm->pm1_cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
		if (typ == ACPI_PM_SLP_TYP_S5)
			irq_pulse(&pm->power_off);
		/* Other sleep states are not offered: the write returns
		 * at once, as from a wake. */
	}
}

const struct io_ops acpi_pm_cnt_ops = {
	cnt_read, cnt_write, IO_SIZE_1 | IO_SIZE_2, IO_SIZE_1,
};

/* ---- PM timer ---- */

static uint64_t tmr_read(void *opaque, uint64_t off, unsigned size)
{
	return acpi_pm_timer(opaque);
}

static void tmr_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	/* read-only */
}

const struct io_ops acpi_pm_tmr_ops = {
	tmr_read, tmr_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_4,
};

/* ---- GPE0 block: GPE0_STS (bytes 0-1), GPE0_EN (bytes 2-3) ---- */

static uint64_t gpe_read(void *opaque, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint16_t r = off < 2 ? pm->gpe_sts : pm->gpe_en;
	return (r >> (8 * (off & 1))) & 0xff;
}

static void gpe_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct acpi_pm *pm = opaque;
	unsigned sh = 8 * (off & 1);
	uint16_t bits = (uint16_t)((v & 0xff) << sh), lane = (uint16_t)(0xff << sh);

	if (off < 2)
		pm->gpe_sts &= ~bits;
	else
		pm->gpe_en = (uint16_t)((pm->gpe_en & ~lane) | bits);
	update_sci(pm);
}

const struct io_ops acpi_pm_gpe_ops = {
	gpe_read, gpe_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1,
};

void acpi_pm_gpe_raise(struct acpi_pm *pm, uint16_t bits)
{
	pm->gpe_sts |= bits;
	update_sci(pm);
}

/* ---- reset control register (0xcf9) ---- */

static uint64_t rst_read(void *opaque, uint64_t off, unsigned size)
{
	struct acpi_pm *pm = opaque;
	return pm->rst_cnt;
}

static void rst_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct acpi_pm *pm = opaque;
	/* RST_CPU reads 0 (it is a trigger); SYS_RST and FULL_RST say which
	 * reset, and every kind resets the whole VM here. */
	pm->rst_cnt = (uint8_t)(v & (ACPI_RST_SYS | ACPI_RST_FULL));
	if (v & ACPI_RST_CPU)
		irq_pulse(&pm->reset);
}

const struct io_ops acpi_pm_reset_ops = {
	rst_read, rst_write, IO_SIZE_1, IO_SIZE_1,
};

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->pm1_sts = 0;
	pm->pm1_en = 0;
	pm->pm1_cnt = ACPI_PM1_SCI_EN;
	pm->gpe_sts = 0;
	pm->gpe_en = 0;
	pm->rst_cnt = 0;
	pm->tmr_epoch = tmr_flips(pm);
	vtimer_cancel(pm->clock, &pm->tmr_timer);
	update_sci(pm);
}

void acpi_pm_init(struct acpi_pm *pm, struct vclock *clock, bool tmr_32bit,
		  const struct irq_line *sci, const struct irq_line *power_off,
		  const struct irq_line *reset)
{
	memset(pm, 0, sizeof(*pm));
	pm->clock = clock;
	pm->tmr_32bit = tmr_32bit;
	pm->sci = *sci;
	pm->power_off = *power_off;
	pm->reset = *reset;
	vtimer_init(&pm->tmr_timer, tmr_fire, pm);
	acpi_pm_reset(pm);
}

/* ---- the kind (dev/kind.h) ----
 * The vmm's board creates and wires the platform core itself (their
 * links to each other and to the vCPU are not board lines); the row
 * names the device for -device help and gives the board its reset. */

#include "dev/kind.h"

static void acpi_pm_kind_reset(void *dev)
{
	acpi_pm_reset(dev);
}

DEV_KIND(acpi_pm) = {
	.name = "acpi-pm",
	.help = "ACPI fixed hardware: PM1 blocks, PM timer, GPE0, SCI on IRQ 9, 0xcf9 reset",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct acpi_pm),
	.reset = acpi_pm_kind_reset,
	.state = &acpi_pm_state,
};
