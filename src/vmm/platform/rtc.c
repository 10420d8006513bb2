/* Motorola MC146818 real-time clock plus RAM (datasheet MC146818/D), with
 * the PC/AT CMOS map on top (century at 0x32, memory sizes, checksum).
 *
 * Model. The chip's time registers are not stored: the clock is a count
 * of seconds (`sec`) on a proleptic Gregorian calendar, plus the phase of
 * the divider chain (`div_origin`), from which the register bytes are
 * computed on every read in the current format (BCD or binary, 12 or 24
 * hours). Updates happen at div_origin + k seconds of virtual time; the
 * state is brought up to date lazily ("synced") whenever the guest looks
 * or changes something, so nothing runs while nobody looks. A vtimer is
 * armed only for an enabled interrupt whose flag is not already raised
 * (once IRQF is set the line stays high until register C is read, and
 * further flags are accounted lazily).
 *
 * The update is instantaneous at the second boundary; UIP reads 1 during
 * the RTC_UIP_NS before it, so a guest that reads the time while UIP is 0
 * always gets a consistent set (the datasheet's guarantee of 244 us).
 *
 * Deviations, all invisible to a guest that writes valid values:
 * - out-of-range time values (minute 75, a non-BCD digit) are normalized
 *   by carrying into the next unit rather than kept and counted weirdly;
 * - changing DM or 24/12 presents the same time in the new format (the
 *   chip would reinterpret the stored bytes);
 * - DSE (daylight saving) is stored but not applied: PC firmware and OSes
 *   keep it 0 and do DST themselves;
 * - only DV2-0 = 010 (32.768 kHz) runs; every other divider setting stops
 *   the chain, and leaving it makes the first update come 500 ms later as
 *   the datasheet says of leaving reset (11x);
 * - SQWE is stored; the SQW pin is not connected on the PC. */
#include "vmm/platform/rtc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- saved state ---- */

static void rtc_update_irq(struct rtc *r);

/* The CMOS bytes (alarms, A, B, NVRAM), the index and NMI mask, the
 * pending flags, the clock (seconds and the divider's phase, both as
 * two's complement in u64 fields) up to its sync time, and the vtimer's
 * deadline: the periodic, update and alarm interrupts share it. */
static const struct vs_field rtc_fields[] = {
	VS_BYTES(struct rtc, cmos),
	VS_MAX(struct rtc, index, VS_U8, 0x7f),
	VS_BOOL(struct rtc, nmi_masked),
	VS_MAX(struct rtc, flags, VS_U8, RTC_C_PF | RTC_C_AF | RTC_C_UF),
	VS_BOOL(struct rtc, irq_level),
	VS_MAX(struct rtc, wday_adj, VS_U8, 6),
	VS_U64(struct rtc, sec),
	VS_U64(struct rtc, sync_ns),
	VS_U64(struct rtc, div_origin),
	VS_U64(struct rtc, timer.deadline),
};

/* Far beyond any date a guest sets (about 34,000 years either way), and
 * far from where the calendar and time arithmetic would overflow. */
#define RTC_SEC_LIMIT (INT64_C(1) << 40)
#define RTC_NS_LIMIT (INT64_C(1) << 62)

static int rtc_state_check(const void *obj, char *err, size_t n)
{
	const struct rtc *r = obj;
	const char *bad = NULL;
	if (r->sec > RTC_SEC_LIMIT || r->sec < -RTC_SEC_LIMIT)
		bad = "sec";
	else if (r->div_origin > RTC_NS_LIMIT || r->div_origin < -RTC_NS_LIMIT)
		bad = "div_origin";
	else if (r->sync_ns > (uint64_t)RTC_NS_LIMIT)
		bad = "sync_ns";
	if (bad) {
		snprintf(err, n, "rtc: field '%s' is out of range", bad);
		return -EINVAL;
	}
	return 0;
}

static int rtc_post_load(void *obj, char *err, size_t n)
{
	struct rtc *r = obj;
	(void)err;
	(void)n;
	vtimer_restore(r->clock, &r->timer);
	irq_set(&r->irq, r->irq_level);
	rtc_update_irq(r);
	return 0;
}

const struct vs_desc rtc_state = {
	"rtc", 1, rtc_fields, ARRAY_SIZE(rtc_fields), rtc_state_check,
	rtc_post_load,
};

#include "mem/guest_mem.h"

#define NS_PER_SEC 1000000000ll
#define RTC_HZ 32768u

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 of a Gregorian date (month 1-12, day >= 1; days
 * past the month's end carry into the following ones). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;
	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;
	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

struct rtc_tm {
	int64_t year;
	unsigned mon, mday, hour, min, sec, wday; /* wday 0 = Sunday */
};

static void rtc_breakdown(int64_t t, struct rtc_tm *tm)
{
	int64_t days = floor_div(t, 86400), sod = t - days * 86400;
	civil_from_days(days, &tm->year, &tm->mon, &tm->mday);
	tm->hour = (unsigned)(sod / 3600);
	tm->min = (unsigned)(sod / 60 % 60);
	tm->sec = (unsigned)(sod % 60);
	tm->wday = (unsigned)((days % 7 + 7 + 4) % 7); /* 1970-01-01: Thursday */
}

static int64_t rtc_compose(const struct rtc_tm *tm)
{
	unsigned mon = tm->mon < 1 ? 1 : tm->mon > 12 ? 12 : tm->mon;
	unsigned mday = tm->mday < 1 ? 1 : tm->mday;
	return days_from_civil(tm->year, mon, mday) * 86400 +
	       (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
}

/* ---- register formats ---- */

static bool rtc_binary(const struct rtc *r)
{
	return r->cmos[RTC_REG_B] & RTC_B_DM;
}

static uint8_t rtc_enc(const struct rtc *r, unsigned v)
{
	v %= 100;
	return rtc_binary(r) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

/* A written byte as a number; non-BCD digits just count as their value. */
static unsigned rtc_dec(const struct rtc *r, uint8_t v)
{
	return rtc_binary(r) ? v : (unsigned)(v >> 4) * 10 + (v & 15);
}

static uint8_t rtc_enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_enc(r, h);
	/* 12-hour: 12 AM is midnight, 12 PM noon, bit 7 = PM */
	return (uint8_t)(rtc_enc(r, h % 12 == 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0));
}

static unsigned rtc_dec_hour(const struct rtc *r, uint8_t v)
{
	unsigned h;
	if (r->cmos[RTC_REG_B] & RTC_B_24H)
		return rtc_dec(r, v);
	h = rtc_dec(r, v & 0x7f);
	if (h == 12)
		h = 0;
	return h + (v & 0x80 ? 12 : 0);
}

/* ---- the divider chain and the clock ---- */

static bool rtc_div_running(const struct rtc *r)
{
	return (r->cmos[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_32768;
}

static bool rtc_clock_running(const struct rtc *r)
{
	return rtc_div_running(r) && !(r->cmos[RTC_REG_B] & RTC_B_SET);
}

/* Nanoseconds of the divider chain at virtual time t (>= 0). */
static int64_t rtc_div_ns(const struct rtc *r, uint64_t t)
{
	int64_t d = (int64_t)t - r->div_origin;
	return d < 0 ? 0 : d;
}

/* The periodic interrupt's period in 32.768 kHz ticks, 0 when off. */
static unsigned rtc_period_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[RTC_REG_A] & RTC_A_RS_MASK;
	if (rs == 0)
		return 0;
	if (rs <= 2) /* 256 Hz and 128 Hz with a 32.768 kHz time base */
		return 1u << (rs + 6);
	return 1u << (rs - 1);
}

static int64_t rtc_periodic_count(const struct rtc *r, uint64_t t, unsigned p)
{
	return (int64_t)(vclock_ns_to_ticks((uint64_t)rtc_div_ns(r, t), RTC_HZ) / p);
}

static int64_t rtc_next_alarm(const struct rtc *r, int64_t after);

/* Accounts for everything that happened in (sync_ns, now]: updates, the
 * flags they raise, periodic ticks. Must run before any change of mode. */
static void rtc_sync(struct rtc *r)
{
	uint64_t now = vclock_now(r->clock);
	if (now <= r->sync_ns)
		return;
	if (rtc_div_running(r)) {
		unsigned p = rtc_period_ticks(r);
		if (p && rtc_periodic_count(r, now, p) != rtc_periodic_count(r, r->sync_ns, p))
			r->flags |= RTC_C_PF;
	}
	if (rtc_clock_running(r)) {
		int64_t n = rtc_div_ns(r, now) / NS_PER_SEC -
			    rtc_div_ns(r, r->sync_ns) / NS_PER_SEC;
		if (n > 0) {
			r->flags |= RTC_C_UF;
			if (rtc_next_alarm(r, r->sec) <= r->sec + n)
				r->flags |= RTC_C_AF;
			r->sec += n;
		}
	}
	r->sync_ns = now;
}

static void rtc_update_irq(struct rtc *r)
{
	bool level = (r->flags & r->cmos[RTC_REG_B] &
		      (RTC_C_PF | RTC_C_AF | RTC_C_UF)) != 0;
	if (level != r->irq_level) {
		r->irq_level = level;
		irq_set(&r->irq, level);
	}
}

/* ---- alarm ---- */

static bool rtc_alarm_match(uint8_t alarm, uint8_t value)
{
	return (alarm & 0xc0) == 0xc0 || alarm == value;
}

/* The first clock time after `after` whose seconds, minutes and hours
 * match the alarm registers, or INT64_MAX if none ever does. */
static int64_t rtc_next_alarm(const struct rtc *r, int64_t after)
{
	bool s_ok[60], m_ok[60], h_ok[24], any_s = false, any_m = false, any_h = false;
	int64_t day = floor_div(after, 86400) * 86400, sod = after - day;
	unsigned i;

	for (i = 0; i < 60; i++) {
		s_ok[i] = rtc_alarm_match(r->cmos[RTC_SECONDS_ALARM], rtc_enc(r, i));
		m_ok[i] = rtc_alarm_match(r->cmos[RTC_MINUTES_ALARM], rtc_enc(r, i));
		any_s |= s_ok[i];
		any_m |= m_ok[i];
	}
	for (i = 0; i < 24; i++) {
		h_ok[i] = rtc_alarm_match(r->cmos[RTC_HOURS_ALARM], rtc_enc_hour(r, i));
		any_h |= h_ok[i];
	}
	if (!any_s || !any_m || !any_h)
		return INT64_MAX;
	/* Today after `sod`, else tomorrow: every field has a match, so
	 * each loop below only skips what is already past. */
	for (int64_t d = 0; d < 2 * 86400; d += 86400) {
		for (unsigned h = 0; h < 24; h++) {
			if (!h_ok[h] || d + h * 3600 + 3599 <= sod)
				continue;
			for (unsigned m = 0; m < 60; m++) {
				int64_t hm = d + h * 3600 + m * 60;
				if (!m_ok[m] || hm + 59 <= sod)
					continue;
				for (unsigned s = 0; s < 60; s++)
					if (s_ok[s] && hm + s > sod)
						return day + hm + s;
			}
		}
	}
	return INT64_MAX;
}

/* ---- timer ---- */

static void rtc_rearm(struct rtc *r)
{
	uint64_t now = vclock_now(r->clock), next = VCLOCK_NEVER;
	uint8_t b = r->cmos[RTC_REG_B];

	if (!r->irq_level && rtc_div_running(r)) {
		unsigned p = rtc_period_ticks(r);
		int64_t d = rtc_div_ns(r, now);
		int64_t next_update = r->div_origin + (d / NS_PER_SEC + 1) * NS_PER_SEC;
		if ((b & RTC_B_PIE) && p) {
			uint64_t tick = (uint64_t)(rtc_periodic_count(r, now, p) + 1) * p;
			uint64_t t = (uint64_t)(r->div_origin + (int64_t)vclock_ticks_to_ns(tick, RTC_HZ));
			if (t < next)
				next = t;
		}
		if (rtc_clock_running(r) && (b & RTC_B_UIE) && (uint64_t)next_update < next)
			next = (uint64_t)next_update;
		if (rtc_clock_running(r) && (b & RTC_B_AIE)) {
			int64_t a = rtc_next_alarm(r, r->sec);
			if (a != INT64_MAX) {
				uint64_t t = (uint64_t)next_update +
					     (uint64_t)(a - r->sec - 1) * NS_PER_SEC;
				if (t < next)
					next = t;
			}
		}
	}
	if (next == VCLOCK_NEVER)
		vtimer_cancel(r->clock, &r->timer);
	else
		vtimer_arm(r->clock, &r->timer, next);
}

static void rtc_timer_fire(void *opaque)
{
	struct rtc *r = opaque;
	rtc_sync(r);
	rtc_update_irq(r);
	rtc_rearm(r);
}

/* ---- registers ---- */

static uint8_t rtc_read_reg(struct rtc *r, unsigned idx)
{
	struct rtc_tm tm;
	uint8_t v;

	rtc_sync(r);
	rtc_breakdown(r->sec, &tm);
	switch (idx) {
	case RTC_SECONDS:
		return rtc_enc(r, tm.sec);
	case RTC_MINUTES:
		return rtc_enc(r, tm.min);
	case RTC_HOURS:
		return rtc_enc_hour(r, tm.hour);
	case RTC_DAY_OF_WEEK:
		return rtc_enc(r, (tm.wday + r->wday_adj) % 7 + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_enc(r, tm.mday);
	case RTC_MONTH:
		return rtc_enc(r, tm.mon);
	case RTC_YEAR:
		return rtc_enc(r, (unsigned)(tm.year % 100));
	case RTC_CENTURY:
		return rtc_enc(r, (unsigned)(tm.year / 100 % 100));
	case RTC_REG_A:
		v = r->cmos[RTC_REG_A] & ~RTC_A_UIP;
		if (rtc_clock_running(r) &&
		    rtc_div_ns(r, r->sync_ns) % NS_PER_SEC >= NS_PER_SEC - RTC_UIP_NS)
			v |= RTC_A_UIP;
		return v;
	case RTC_REG_C:
		v = r->flags;
		if (r->irq_level)
			v |= RTC_C_IRQF;
		r->flags = 0;
		rtc_update_irq(r);
		rtc_rearm(r);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT; /* the battery is always good */
	default:
		return r->cmos[idx & 0x7f];
	}
}

static void rtc_checksum(struct rtc *r)
{
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	r->cmos[CMOS_CHECKSUM_LO] = (uint8_t)sum;
}

static void rtc_set_time_field(struct rtc *r, unsigned idx, uint8_t v)
{
	struct rtc_tm tm;
	rtc_breakdown(r->sec, &tm);
	switch (idx) {
	case RTC_SECONDS:
		tm.sec = rtc_dec(r, v);
		break;
	case RTC_MINUTES:
		tm.min = rtc_dec(r, v);
		break;
	case RTC_HOURS:
		tm.hour = rtc_dec_hour(r, v);
		break;
	case RTC_DAY_OF_WEEK:
		/* an independent counter on the chip: remember the offset */
		r->wday_adj = (uint8_t)((rtc_dec(r, v) + 6 + 7 - tm.wday) % 7);
		return;
	case RTC_DAY_OF_MONTH:
		tm.mday = rtc_dec(r, v);
		break;
	case RTC_MONTH:
		tm.mon = rtc_dec(r, v);
		break;
	case RTC_YEAR:
		tm.year = tm.year / 100 * 100 + rtc_dec(r, v);
		break;
	case RTC_CENTURY:
		tm.year = (int64_t)rtc_dec(r, v) * 100 + tm.year % 100;
		break;
	}
	{
		/* keep the day of week register where the guest left it */
		unsigned shown = (tm.wday + r->wday_adj) % 7;
		r->sec = rtc_compose(&tm);
		rtc_breakdown(r->sec, &tm);
		r->wday_adj = (uint8_t)((shown + 7 - tm.wday) % 7);
	}
}

static void rtc_write_reg(struct rtc *r, unsigned idx, uint8_t v)
{
	rtc_sync(r);
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		rtc_set_time_field(r, idx, v);
		break;
	case RTC_REG_A: {
		bool was = rtc_div_running(r);
		r->cmos[RTC_REG_A] = v & ~RTC_A_UIP;
		/* leaving reset (or any stopped setting): first update 0.5 s later */
		if (!was && rtc_div_running(r))
			r->div_origin = (int64_t)r->sync_ns - NS_PER_SEC / 2;
		break;
	}
	case RTC_REG_B:
		if (v & RTC_B_SET)
			v &= ~RTC_B_UIE; /* SET going high clears UIE */
		r->cmos[RTC_REG_B] = v;
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		r->cmos[idx & 0x7f] = v;
		break;
	}
	rtc_update_irq(r);
	rtc_rearm(r);
}

static uint64_t rtc_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *r = opaque;
	if (offset != 1)
		return 0xff; /* the index port is write-only */
	return rtc_read_reg(r, r->index);
}

static void rtc_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct rtc *r = opaque;
	if (offset == 0) {
		r->index = value & 0x7f;
		r->nmi_masked = (value & 0x80) != 0;
	} else if (offset == 1) {
		rtc_write_reg(r, r->index, (uint8_t)value);
	}
}

const struct io_ops rtc_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
	.valid_sizes = IO_SIZE_1,
	.impl_sizes = IO_SIZE_1,
};

bool rtc_nmi_masked(const struct rtc *r)
{
	return r->nmi_masked;
}

void rtc_cmos_set(struct rtc *r, unsigned index, uint8_t v)
{
	if (index >= 128)
		return;
	if (index < 0x0e || index == RTC_CENTURY) {
		rtc_write_reg(r, index, v);
		return;
	}
	r->cmos[index] = v;
	if (index >= 0x10 && index <= 0x2d)
		rtc_checksum(r);
}

uint8_t rtc_cmos_get(struct rtc *r, unsigned index)
{
	if (index >= 128)
		return 0xff;
	if (index < 0x0e || index == RTC_CENTURY)
		return index == RTC_REG_C ? (uint8_t)(r->flags | (r->irq_level ? RTC_C_IRQF : 0))
					  : rtc_read_reg(r, index);
	return r->cmos[index];
}

static void rtc_cmos_set16(struct rtc *r, unsigned lo, uint64_t v)
{
	rtc_cmos_set(r, lo, (uint8_t)v);
	rtc_cmos_set(r, lo + 1, (uint8_t)(v >> 8));
}

void rtc_cmos_set_memory(struct rtc *r, uint64_t ram_bytes)
{
	uint64_t low = ram_bytes < GM_PCI_HOLE ? ram_bytes : GM_PCI_HOLE;
	uint64_t high = ram_bytes - low;
	uint64_t base = (low < 640 * 1024 ? low : 640 * 1024) / 1024;
	uint64_t ext = low > (1 << 20) ? (low - (1 << 20)) / 1024 : 0;
	uint64_t above16 = low > (16 << 20) ? (low - (16 << 20)) / 65536 : 0;

	if (ext > 0xffff)
		ext = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	high /= 65536;
	if (high > 0xffffff)
		high = 0xffffff;
	rtc_cmos_set16(r, CMOS_BASE_MEM_LO, base);
	rtc_cmos_set16(r, CMOS_EXT_MEM_LO, ext);
	rtc_cmos_set16(r, CMOS_EXT_MEM2_LO, ext);
	rtc_cmos_set16(r, CMOS_MEM_16M_LO, above16);
	rtc_cmos_set(r, CMOS_MEM_4G_LO, (uint8_t)high);
	rtc_cmos_set(r, CMOS_MEM_4G_MID, (uint8_t)(high >> 8));
	rtc_cmos_set(r, CMOS_MEM_4G_HI, (uint8_t)(high >> 16));
}

void rtc_init(struct rtc *r, const struct irq_line *irq, struct vclock *clock,
	      int64_t host_time)
{
	memset(r, 0, sizeof(*r));
	r->irq = *irq;
	r->clock = clock;
	vtimer_init(&r->timer, rtc_timer_fire, r);
	r->cmos[RTC_REG_A] = RTC_A_DV_32768 | 0x06;
	r->cmos[RTC_REG_B] = RTC_B_24H;
	r->sec = host_time;
	r->sync_ns = vclock_now(clock);
	r->div_origin = (int64_t)r->sync_ns;
	rtc_checksum(r);
	irq_lower(&r->irq);
}

/* ---- the kind (dev/kind.h) ----
 * The vmm's board creates and wires the platform core itself (their
 * links to each other and to the vCPU are not board lines); the row
 * names the device for -device help and gives the board its reset. */

#include "dev/kind.h"

DEV_KIND(rtc) = {
	.name = "mc146818rtc",
	.help = "MC146818 real-time clock and CMOS memory (0x70; IRQ 8)",
	.where = DEV_IN_VMM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct rtc),
	.state = &rtc_state,
};
