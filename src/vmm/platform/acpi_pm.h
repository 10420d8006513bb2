/* The ACPI fixed hardware of the PC's chipset (ACPI specification 6.x,
 * chapter 4.8 "ACPI Hardware Model"), at the I/O ports QEMU's PC uses:
 *   PM1a event block, 4 bytes (PM1_STS, PM1_EN)       at pm_base
 *   PM1a control block, 2 bytes (PM1_CNT)             at pm_base + 4
 *   PM timer, 4 bytes, 3.579545 MHz                   at pm_base + 8
 *   GPE0 block, 4 bytes (GPE0_STS, GPE0_EN)           at its own base
 * and the PIIX/ICH reset control register at port 0xcf9, which the FADT
 * names as the reset register.
 *
 * Wiring for the board:
 *   acpi_pm_evt_ops (4 ports), acpi_pm_cnt_ops (2), acpi_pm_tmr_ops (4),
 *   acpi_pm_gpe_ops (4), acpi_pm_reset_ops (1), all with the struct
 *   acpi_pm as opaque; `sci` is the SCI (ISA IRQ 9, level, active high);
 *   `power_off` sees a pulse when the guest enters S5 (SLP_EN with
 *   SLP_TYP = ACPI_PM_SLP_TYP_S5, what the DSDT's \_S5 says); `reset`
 *   sees a pulse when the guest sets RST_CPU in 0xcf9.
 *
 * There is no SMI_CMD port: the chipset is always in ACPI mode, so SCI_EN
 * reads 1 and cannot be cleared. Sleep types other than S5 are ignored
 * (the DSDT offers only \_S0 and \_S5). Nothing raises a GPE yet; the
 * block is there with its enable and write-1-to-clear status bits.
 *
 * The timer is the virtual clock at 3579545 Hz, 24 bits wide (or 32 with
 * `tmr_32bit`, the FADT's TMR_VAL_EXT); TMR_STS is set each time its top
 * bit changes, computed from the clock, with a vtimer armed only while
 * TMR_EN asks for an SCI. */
#ifndef V2E_VMM_PLATFORM_ACPI_PM_H
#define V2E_VMM_PLATFORM_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/vclock.h"
#include "lib/vstate.h"

#define ACPI_PM_BASE 0x600
#define ACPI_PM_EVT_LEN 4
#define ACPI_PM_CNT_OFF 4
#define ACPI_PM_CNT_LEN 2
#define ACPI_PM_TMR_OFF 8
#define ACPI_PM_TMR_LEN 4
#define ACPI_GPE0_BASE 0xafe0
#define ACPI_GPE0_LEN 4
#define ACPI_RESET_PORT 0xcf9
#define ACPI_RESET_VALUE 0x06 /* SYS_RST | RST_CPU */
#define ACPI_SCI_IRQ 9

#define ACPI_PM_TMR_HZ 3579545

/* SLP_TYP values this chipset decodes (the DSDT's \_S0 and \_S5). */
#define ACPI_PM_SLP_TYP_S0 0
#define ACPI_PM_SLP_TYP_S5 5

/* PM1_STS / PM1_EN */
#define ACPI_PM1_TMR 0x0001
#define ACPI_PM1_BM_STS 0x0010
#define ACPI_PM1_GBL 0x0020
#define ACPI_PM1_PWRBTN 0x0100
#define ACPI_PM1_SLPBTN 0x0200
#define ACPI_PM1_RTC 0x0400
#define ACPI_PM1_WAK_STS 0x8000
/* PM1_CNT */
#define ACPI_PM1_SCI_EN 0x0001
#define ACPI_PM1_BM_RLD 0x0002
#define ACPI_PM1_GBL_RLS 0x0004
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK 0x1c00
#define ACPI_PM1_SLP_EN 0x2000
/* 0xcf9 */
#define ACPI_RST_SYS 0x02
#define ACPI_RST_CPU 0x04
#define ACPI_RST_FULL 0x08

struct acpi_pm {
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint16_t gpe_sts, gpe_en;
	uint8_t rst_cnt;
	bool tmr_32bit;
	uint64_t tmr_epoch; /* top-bit changes counted when TMR_STS was last clear */
	bool sci_level;
	struct vtimer tmr_timer; /* next top-bit change, while TMR_EN is set */
	struct vclock *clock;
	struct irq_line sci, power_off, reset;
};

void acpi_pm_init(struct acpi_pm *pm, struct vclock *clock, bool tmr_32bit,
		  const struct irq_line *sci, const struct irq_line *power_off,
		  const struct irq_line *reset);
/* A system reset: registers to their power-on values, wiring kept. */
void acpi_pm_reset(struct acpi_pm *pm);

/* The PM timer's value now. */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);

/* Sets bits of GPE0_STS (a general-purpose event input). */
void acpi_pm_gpe_raise(struct acpi_pm *pm, uint16_t bits);

extern const struct io_ops acpi_pm_evt_ops;
extern const struct io_ops acpi_pm_cnt_ops;
extern const struct io_ops acpi_pm_tmr_ops;
extern const struct io_ops acpi_pm_gpe_ops;
extern const struct io_ops acpi_pm_reset_ops;

/* Saved state (lib/vstate.h); a load re-arms the timer and drives the
 * SCI to the loaded level. */
extern const struct vs_desc acpi_pm_state;

#endif
