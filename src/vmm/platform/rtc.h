/* Motorola MC146818 real-time clock with its CMOS RAM, as the PC/AT has it
 * (ports 0x70/0x71, IRQ 8). See rtc.c for the model and its deviations.
 *
 * Port 0x70 (write): bit 7 masks NMI on the PC (stored, see
 * rtc_nmi_masked()), bits 6-0 select one of the 128 bytes; port 0x71 reads
 * and writes the selected byte. The board claims the two ports as one
 * window with rtc_ops (byte accesses; the router splits wider ones). */
#ifndef V2E_VMM_PLATFORM_RTC_H
#define V2E_VMM_PLATFORM_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/vclock.h"
#include "lib/vstate.h"

/* Register indices (MC146818 datasheet, PC CMOS map). */
#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* the PC's century byte (BCD/binary as DM says) */

/* Register A */
#define RTC_A_UIP 0x80
#define RTC_A_DV_MASK 0x70
#define RTC_A_DV_32768 0x20 /* DV2-0 = 010: the only setting that runs */
#define RTC_A_RS_MASK 0x0f
/* Register B */
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM 0x04 /* 1 = binary, 0 = BCD */
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01
/* Register C (flags line up with their enables in register B) */
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
/* Register D */
#define RTC_D_VRT 0x80

/* UIP is set this long before each update: 8 periods of 32.768 kHz. */
#define RTC_UIP_NS 244141u

/* PC CMOS map entries the board fills (rtc_cmos_set_memory). */
#define CMOS_BASE_MEM_LO 0x15
#define CMOS_BASE_MEM_HI 0x16
#define CMOS_EXT_MEM_LO 0x17
#define CMOS_EXT_MEM_HI 0x18
#define CMOS_CHECKSUM_HI 0x2e /* sum of 0x10..0x2d, big-endian */
#define CMOS_CHECKSUM_LO 0x2f
#define CMOS_EXT_MEM2_LO 0x30
#define CMOS_EXT_MEM2_HI 0x31
#define CMOS_MEM_16M_LO 0x34 /* RAM above 16 MiB, 64 KiB units */
#define CMOS_MEM_16M_HI 0x35
#define CMOS_MEM_4G_LO 0x5b /* RAM above 4 GiB, 64 KiB units, 3 bytes */
#define CMOS_MEM_4G_MID 0x5c
#define CMOS_MEM_4G_HI 0x5d

struct rtc {
	/* Raw bytes: the alarm registers, A (without UIP), B, and NVRAM
	 * 0x0e-0x7f. The time registers and the century byte are not kept
	 * here: they are views of `sec`. */
	uint8_t cmos[128];
	uint8_t index;      /* port 0x70 bits 6-0 */
	bool nmi_masked;    /* port 0x70 bit 7 */
	uint8_t flags;      /* register C PF|AF|UF, accounted up to sync_ns */
	bool irq_level;     /* IRQF, the level driven on the line */
	uint8_t wday_adj;   /* day-of-week register minus the true weekday, mod 7 */
	int64_t sec;        /* the clock's date and time, seconds since
			       1970-01-01 00:00:00 of the clock's own calendar */
	uint64_t sync_ns;   /* virtual time up to which sec and flags hold */
	int64_t div_origin; /* virtual ns at which the divider chain was at a
			       second boundary; updates at div_origin + k s */

	struct irq_line irq;
	struct vclock *clock;
	struct vtimer timer; /* armed only for an enabled interrupt */
};

/* `host_time` is the wall-clock time (seconds since the epoch, UTC) that
 * the clock shows at the clock's current virtual time; from then on only
 * the virtual clock moves it. Registers start as a PC BIOS leaves them:
 * A = 0x26 (32.768 kHz, 1024 Hz periodic rate), B = 0x02 (24-hour, BCD),
 * D = VRT. */
void rtc_init(struct rtc *r, const struct irq_line *irq, struct vclock *clock,
	      int64_t host_time);

extern const struct io_ops rtc_ops; /* ports 0x70-0x71, opaque = struct rtc */

bool rtc_nmi_masked(const struct rtc *r);

/* Saved state (lib/vstate.h); a load re-arms the timer and drives IRQ 8
 * to the loaded level. */
extern const struct vs_desc rtc_state;

/* Board access to the 128 bytes, without the guest's index register.
 * Writing 0x10..0x2d recomputes the checksum at 0x2e/0x2f. Indices below
 * 0x0e and the century byte go through the register semantics. */
void rtc_cmos_set(struct rtc *r, unsigned index, uint8_t v);
uint8_t rtc_cmos_get(struct rtc *r, unsigned index);

/* Fills the memory-size bytes BIOSes read (0x15-0x18, 0x30-0x31,
 * 0x34-0x35, 0x5b-0x5d) for `ram_bytes` of RAM laid out as guest_mem
 * does (RAM below 4 GiB ends at the PCI hole, the rest is above 4 GiB). */
void rtc_cmos_set_memory(struct rtc *r, uint64_t ram_bytes);

#endif
