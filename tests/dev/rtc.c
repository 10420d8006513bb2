/* MC146818 RTC/CMOS: time in BCD, binary and 12-hour formats, setting the
 * clock under SET across month, year and leap-day boundaries, the UIP
 * window, update-ended / alarm / periodic interrupts at their virtual
 * times, register C, divider reset, NVRAM and its checksum, and hostile
 * accesses. */
#include "vmm/platform/rtc.h"
#include "tests/dev/irqrec.h"
#include "tests/tap.h"

#define SEC 1000000000ull

static uint8_t rd(struct rtc *r, unsigned idx)
{
	rtc_ops.write(r, 0, 1, idx);
	return (uint8_t)rtc_ops.read(r, 1, 1);
}

static void wr(struct rtc *r, unsigned idx, uint8_t v)
{
	rtc_ops.write(r, 0, 1, idx);
	rtc_ops.write(r, 1, 1, v);
}

/* Sets the date and time (BCD values) under SET, then lets it run. */
static void set_time(struct rtc *r, uint8_t cent, uint8_t yr, uint8_t mon,
		     uint8_t day, uint8_t h, uint8_t m, uint8_t s)
{
	uint8_t b = rd(r, RTC_REG_B);
	wr(r, RTC_REG_B, b | RTC_B_SET);
	wr(r, RTC_SECONDS, s);
	wr(r, RTC_MINUTES, m);
	wr(r, RTC_HOURS, h);
	wr(r, RTC_DAY_OF_MONTH, day);
	wr(r, RTC_MONTH, mon);
	wr(r, RTC_YEAR, yr);
	wr(r, RTC_CENTURY, cent);
	wr(r, RTC_REG_B, b & ~RTC_B_SET);
}

static bool date_is(struct rtc *r, uint8_t cent, uint8_t yr, uint8_t mon,
		    uint8_t day, uint8_t h, uint8_t m, uint8_t s)
{
	return rd(r, RTC_CENTURY) == cent && rd(r, RTC_YEAR) == yr &&
	       rd(r, RTC_MONTH) == mon && rd(r, RTC_DAY_OF_MONTH) == day &&
	       rd(r, RTC_HOURS) == h && rd(r, RTC_MINUTES) == m &&
	       rd(r, RTC_SECONDS) == s;
}

/* Advances to the next timer deadline; returns it (or NEVER). */
static uint64_t step(struct vclock *c)
{
	uint64_t d = vclock_next_deadline(c);
	if (d != VCLOCK_NEVER)
		vclock_advance_to(c, d);
	return d;
}

static void test_time(struct tap *t)
{
	struct vclock c;
	struct irqrec q = {0};
	struct irq_line line = {irqrec_set, &q, 8};
	struct rtc r;

	vclock_init(&c, 0);
	rtc_init(&r, &line, &c, 1709164798); /* 2024-02-28 23:59:58 UTC, Wed */
	tap_ok(t, rd(&r, RTC_REG_A) == 0x26 && rd(&r, RTC_REG_B) == 0x02 &&
		       rd(&r, RTC_REG_D) == 0x80,
	       "reset values A=26 B=02 D=80");
	tap_ok(t, date_is(&r, 0x20, 0x24, 0x02, 0x28, 0x23, 0x59, 0x58),
	       "host time at init, BCD");
	tap_ok(t, rd(&r, RTC_DAY_OF_WEEK) == 4, "Wednesday is day 4");
	tap_ok(t, vclock_next_deadline(&c) == VCLOCK_NEVER,
	       "no interrupt enabled: no timer armed");
	vclock_advance_to(&c, 2 * SEC);
	tap_ok(t, date_is(&r, 0x20, 0x24, 0x02, 0x29, 0x00, 0x00, 0x00) &&
		       rd(&r, RTC_DAY_OF_WEEK) == 5,
	       "advanced by virtual time into the leap day, Thursday");
	vclock_advance_to(&c, 2 * SEC + 86400 * SEC);
	tap_ok(t, date_is(&r, 0x20, 0x24, 0x03, 0x01, 0x00, 0x00, 0x00),
	       "a day later: March 1st");

	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_DM);
	tap_ok(t, rd(&r, RTC_MONTH) == 3 && rd(&r, RTC_YEAR) == 24 &&
		       rd(&r, RTC_CENTURY) == 20,
	       "binary mode (DM=1)");
	wr(&r, RTC_HOURS, 13);
	wr(&r, RTC_MINUTES, 45);
	tap_ok(t, rd(&r, RTC_HOURS) == 13 && rd(&r, RTC_MINUTES) == 45,
	       "binary writes read back");
	wr(&r, RTC_REG_B, 0); /* BCD, 12-hour */
	tap_ok(t, rd(&r, RTC_HOURS) == 0x81, "12-hour mode: 13:45 is 1 PM (0x81)");
	wr(&r, RTC_HOURS, 0x12); /* 12 AM = midnight */
	wr(&r, RTC_REG_B, RTC_B_24H);
	tap_ok(t, rd(&r, RTC_HOURS) == 0x00, "12 AM written in 12-hour mode is 00 h");
	wr(&r, RTC_REG_B, 0);
	wr(&r, RTC_HOURS, 0x92); /* 12 PM = noon */
	wr(&r, RTC_REG_B, RTC_B_24H);
	tap_ok(t, rd(&r, RTC_HOURS) == 0x12, "12 PM written in 12-hour mode is 12 h");

	/* SET stops updates; the time written under SET is what runs. */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_SET);
	wr(&r, RTC_SECONDS, 0x59);
	wr(&r, RTC_MINUTES, 0x59);
	wr(&r, RTC_HOURS, 0x23);
	wr(&r, RTC_DAY_OF_MONTH, 0x31);
	wr(&r, RTC_MONTH, 0x12);
	wr(&r, RTC_YEAR, 0x99);
	wr(&r, RTC_CENTURY, 0x19);
	vclock_advance_to(&c, vclock_now(&c) + 5 * SEC);
	tap_ok(t, date_is(&r, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59),
	       "SET inhibits updates (5 s passed)");
	wr(&r, RTC_REG_B, RTC_B_24H);
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	tap_ok(t, date_is(&r, 0x20, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00),
	       "1999-12-31 23:59:59 + 1 s = 2000-01-01, century follows");

	set_time(&r, 0x20, 0x00, 0x02, 0x28, 0x23, 0x59, 0x59);
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	tap_ok(t, date_is(&r, 0x20, 0x00, 0x02, 0x29, 0x00, 0x00, 0x00),
	       "2000 is a leap year");
	set_time(&r, 0x21, 0x00, 0x02, 0x28, 0x23, 0x59, 0x59);
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	tap_ok(t, date_is(&r, 0x21, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00),
	       "2100 is not");
	set_time(&r, 0x20, 0x23, 0x04, 0x30, 0x23, 0x59, 0x59);
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	tap_ok(t, date_is(&r, 0x20, 0x23, 0x05, 0x01, 0x00, 0x00, 0x00),
	       "April has 30 days");
	wr(&r, RTC_DAY_OF_WEEK, 2);
	vclock_advance_to(&c, vclock_now(&c) + 86400 * SEC);
	tap_ok(t, rd(&r, RTC_DAY_OF_WEEK) == 3, "day of week counts on from what was written");
	vclock_advance_to(&c, vclock_now(&c) + 5 * 86400 * SEC);
	tap_ok(t, rd(&r, RTC_DAY_OF_WEEK) == 1, "and wraps from 7 to 1");
}

static void test_uip_and_divider(struct tap *t)
{
	struct vclock c;
	struct irqrec q = {0};
	struct irq_line line = {irqrec_set, &q, 8};
	struct rtc r;

	vclock_init(&c, 1000);
	rtc_init(&r, &line, &c, 0);
	vclock_advance_to(&c, 1000 + SEC - RTC_UIP_NS - 1);
	tap_ok(t, !(rd(&r, RTC_REG_A) & RTC_A_UIP), "UIP clear before the window");
	vclock_advance_to(&c, 1000 + SEC - RTC_UIP_NS);
	tap_ok(t, (rd(&r, RTC_REG_A) & RTC_A_UIP) && rd(&r, RTC_SECONDS) == 0,
	       "UIP set 244 us before the update, old time still readable");
	vclock_advance_to(&c, 1000 + SEC - 1);
	tap_ok(t, (rd(&r, RTC_REG_A) & RTC_A_UIP) && rd(&r, RTC_SECONDS) == 0,
	       "UIP still set 1 ns before");
	vclock_advance_to(&c, 1000 + SEC);
	tap_ok(t, !(rd(&r, RTC_REG_A) & RTC_A_UIP) && rd(&r, RTC_SECONDS) == 1,
	       "at the update: UIP clear, seconds advanced");
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_SET);
	vclock_advance_to(&c, 1000 + 2 * SEC - 1000);
	tap_ok(t, !(rd(&r, RTC_REG_A) & RTC_A_UIP), "no UIP under SET");
	wr(&r, RTC_REG_B, RTC_B_24H);

	/* Divider reset stops the clock; leaving it, the first update
	 * comes half a second later. */
	wr(&r, RTC_REG_A, 0x70);
	vclock_advance_to(&c, vclock_now(&c) + 10 * SEC);
	tap_ok(t, rd(&r, RTC_SECONDS) == 1 && !(rd(&r, RTC_REG_A) & RTC_A_UIP),
	       "divider in reset: clock stopped");
	rd(&r, RTC_REG_C); /* the UF of the last update */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	tap_ok(t, vclock_next_deadline(&c) == VCLOCK_NEVER,
	       "UIE with the divider in reset arms nothing");
	{
		uint64_t t0 = vclock_now(&c);
		wr(&r, RTC_REG_A, 0x20); /* RS = 0: no PF in register C */
		tap_ok(t, vclock_next_deadline(&c) == t0 + SEC / 2,
		       "divider released: first update 500 ms later");
		vclock_advance_to(&c, t0 + SEC / 2 - 1);
		tap_ok(t, rd(&r, RTC_SECONDS) == 1 && !q.level, "not before");
		vclock_advance_to(&c, t0 + SEC / 2);
		tap_ok(t, rd(&r, RTC_SECONDS) == 2 && q.level, "update-ended at 500 ms");
		tap_ok(t, rd(&r, RTC_REG_C) == (RTC_C_IRQF | RTC_C_UF) && !q.level,
		       "reading C returns IRQF|UF, clears it and lowers IRQ 8");
		tap_ok(t, rd(&r, RTC_REG_C) == 0, "C reads 0 the second time");
		wr(&r, RTC_REG_A, 0x16); /* DV = 001: not our time base */
		vclock_advance_to(&c, t0 + 5 * SEC);
		tap_ok(t, rd(&r, RTC_SECONDS) == 2 && !q.level,
		       "any divider setting but 010 stops the clock");
	}
}

static void test_interrupts(struct tap *t)
{
	struct vclock c;
	struct irqrec q = {0};
	struct irq_line line = {irqrec_set, &q, 8};
	struct rtc r;
	uint64_t d;

	vclock_init(&c, 0);
	rtc_init(&r, &line, &c, 1709164798); /* 23:59:58 */
	wr(&r, RTC_REG_A, 0x20); /* no periodic flag until tested below */

	/* update-ended: every second while UIE stays set and C is read */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	d = step(&c);
	tap_ok(t, d == SEC && q.level && q.rises == 1, "UF at 1 s raises IRQ 8");
	d = step(&c);
	tap_ok(t, d == VCLOCK_NEVER, "IRQF set: no timer until C is read");
	vclock_advance_to(&c, 3 * SEC + 5);
	tap_ok(t, rd(&r, RTC_REG_C) == 0xb0 && !q.level,
	       "C read clears and lowers (AF too: alarm registers 0 matched midnight)");
	tap_ok(t, step(&c) == 4 * SEC && q.level && q.rises == 2, "next UF at 4 s");
	rd(&r, RTC_REG_C);

	/* setting SET clears UIE */
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
	tap_ok(t, rd(&r, RTC_REG_B) == (RTC_B_24H | RTC_B_SET), "SET clears UIE");
	wr(&r, RTC_REG_B, RTC_B_24H);

	/* flags are set even with interrupts disabled (polled), no IRQ */
	vclock_advance_to(&c, 6 * SEC + 10);
	tap_ok(t, rd(&r, RTC_REG_C) == RTC_C_UF && q.rises == 2,
	       "UF polled without UIE: flag without IRQF or IRQ");

	/* alarm: 00:00:10 (time now 00:00:04 after 6 s from 23:59:58) */
	wr(&r, RTC_SECONDS_ALARM, 0x10);
	wr(&r, RTC_MINUTES_ALARM, 0x00);
	wr(&r, RTC_HOURS_ALARM, 0x00);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	d = step(&c);
	tap_ok(t, d == 12 * SEC && q.level && rd(&r, RTC_SECONDS) == 0x10,
	       "alarm at 00:00:10 fires at its update (t=12 s)");
	tap_ok(t, rd(&r, RTC_REG_C) == (RTC_C_IRQF | RTC_C_AF | RTC_C_UF),
	       "C = IRQF|AF|UF");
	d = step(&c);
	tap_ok(t, d == 12 * SEC + 86400 * SEC, "exact alarm: next one a day later");
	rd(&r, RTC_REG_C);
	/* don't-care hours and minutes: every minute at :30 */
	wr(&r, RTC_HOURS_ALARM, 0xc0);
	wr(&r, RTC_MINUTES_ALARM, 0xff);
	wr(&r, RTC_SECONDS_ALARM, 0x30);
	d = step(&c);
	tap_ok(t, rd(&r, RTC_SECONDS) == 0x30 && q.level &&
		       (d - 12 * SEC - 86400 * SEC) % (60 * SEC) == 20 * SEC,
	       "don't-care minutes and hours: next :30");
	rd(&r, RTC_REG_C);
	d = step(&c);
	tap_ok(t, rd(&r, RTC_SECONDS) == 0x30 && rd(&r, RTC_MINUTES) == 0x01,
	       "and again a minute later");
	rd(&r, RTC_REG_C);
	wr(&r, RTC_SECONDS_ALARM, 0xff);
	d = vclock_now(&c);
	tap_ok(t, step(&c) == d - d % SEC + SEC, "all don't-care: every second");
	rd(&r, RTC_REG_C);
	wr(&r, RTC_SECONDS_ALARM, 0x7a); /* not a BCD value: never matches */
	tap_ok(t, vclock_next_deadline(&c) == VCLOCK_NEVER,
	       "an alarm that never matches arms nothing");
	/* 12-hour alarm matches the PM bit */
	wr(&r, RTC_REG_B, RTC_B_SET);
	wr(&r, RTC_HOURS, 0x81); /* 1 PM */
	wr(&r, RTC_MINUTES, 0x00);
	wr(&r, RTC_SECONDS, 0x00);
	wr(&r, RTC_HOURS_ALARM, 0x81);
	wr(&r, RTC_MINUTES_ALARM, 0x00);
	wr(&r, RTC_SECONDS_ALARM, 0x02);
	rd(&r, RTC_REG_C);
	d = vclock_now(&c);
	wr(&r, RTC_REG_B, RTC_B_AIE);
	tap_ok(t, step(&c) == d - d % SEC + 2 * SEC && rd(&r, RTC_HOURS) == 0x81 &&
		       rd(&r, RTC_SECONDS) == 0x02,
	       "12-hour alarm at 1:00:02 PM");
	rd(&r, RTC_REG_C);
	wr(&r, RTC_REG_B, RTC_B_24H);
	tap_ok(t, vclock_next_deadline(&c) == VCLOCK_NEVER, "all disabled: idle");

	/* periodic interrupts: RS 3..15 = 8192 Hz .. 2 Hz, 1 = 256 Hz, 2 = 128 Hz */
	{
		static const unsigned hz[16] = {0, 256, 128, 8192, 4096, 2048, 1024,
						512, 256, 128, 64, 32, 16, 8, 4, 2};
		bool ok = true;
		for (unsigned rs = 1; rs < 16; rs++) {
			uint64_t first, last = 0;
			wr(&r, RTC_REG_A, (uint8_t)(0x20 | rs));
			wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
			rd(&r, RTC_REG_C);
			first = step(&c);
			for (int i = 0; i < 8; i++) {
				if (!q.level || (rd(&r, RTC_REG_C) & (RTC_C_IRQF | RTC_C_PF)) !=
						(RTC_C_IRQF | RTC_C_PF))
					ok = false;
				last = step(&c);
			}
			/* 8 periods in ns, within the rounding of 1 ns per tick */
			uint64_t want = 8 * SEC / hz[rs];
			if (last - first + 1 < want || last - first > want + 1)
				ok = false;
			if (rs == 6 && (want != 7812500))
				ok = false;
			rd(&r, RTC_REG_C);
			wr(&r, RTC_REG_B, RTC_B_24H);
		}
		tap_ok(t, ok, "periodic rates 256, 128, 8192 .. 2 Hz at their virtual times");
	}
	wr(&r, RTC_REG_A, 0x26);
	rd(&r, RTC_REG_C);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	d = vclock_now(&c);
	{
		uint64_t first = step(&c);
		rd(&r, RTC_REG_C);
		uint64_t second = step(&c);
		tap_ok(t, second - first == 976562 || second - first == 976563,
		       "default rate 1024 Hz (%llu ns)",
		       (unsigned long long)(second - first));
	}
	wr(&r, RTC_REG_A, 0x20);
	rd(&r, RTC_REG_C);
	tap_ok(t, vclock_next_deadline(&c) == VCLOCK_NEVER, "RS=0: no periodic interrupt");
	wr(&r, RTC_REG_A, 0x26);
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	tap_ok(t, (rd(&r, RTC_REG_C) & RTC_C_PF) && !q.level,
	       "C read before IRQ line is lowered again");
	wr(&r, RTC_REG_B, RTC_B_24H);
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	tap_ok(t, rd(&r, RTC_REG_C) == (RTC_C_PF | RTC_C_UF),
	       "PF polled with PIE off");
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	tap_ok(t, !q.level, "enabling PIE with PF clear keeps the line low");
	vclock_advance_to(&c, vclock_now(&c) + SEC);
	wr(&r, RTC_REG_B, RTC_B_24H);
	rd(&r, RTC_REG_C);
	vclock_advance_to(&c, vclock_now(&c) + SEC / 100);
	wr(&r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	tap_ok(t, q.level, "enabling PIE with PF already set raises IRQF at once");
	rd(&r, RTC_REG_C);
	wr(&r, RTC_REG_B, RTC_B_24H);
}

static void test_nvram(struct tap *t)
{
	struct vclock c;
	struct irq_line line = {0};
	struct rtc r;
	unsigned sum = 0;

	vclock_init(&c, 0);
	rtc_init(&r, &line, &c, 0);
	wr(&r, 0x40, 0xa5);
	wr(&r, 0x7f, 0x5a);
	tap_ok(t, rd(&r, 0x40) == 0xa5 && rd(&r, 0x7f) == 0x5a, "NVRAM stores bytes");

	rtc_cmos_set_memory(&r, 128ull << 20);
	tap_ok(t, rd(&r, 0x15) == 0x80 && rd(&r, 0x16) == 0x02, "base memory 640 KiB");
	tap_ok(t, (rd(&r, 0x17) | rd(&r, 0x18) << 8) == 0xffff &&
		       (rd(&r, 0x30) | rd(&r, 0x31) << 8) == 0xffff,
	       "extended memory capped at 0xffff KiB");
	tap_ok(t, (rd(&r, 0x34) | rd(&r, 0x35) << 8) == (112u << 20) / 65536,
	       "memory above 16 MiB in 64 KiB units");
	tap_ok(t, rd(&r, 0x5b) == 0 && rd(&r, 0x5c) == 0 && rd(&r, 0x5d) == 0,
	       "nothing above 4 GiB");
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += rd(&r, i);
	tap_ok(t, (unsigned)(rd(&r, 0x2e) << 8 | rd(&r, 0x2f)) == sum, "checksum over 0x10-0x2d");
	rtc_cmos_set(&r, 0x10, 0x40);
	sum += 0x40;
	tap_ok(t, (unsigned)(rd(&r, 0x2e) << 8 | rd(&r, 0x2f)) == sum, "checksum follows rtc_cmos_set");

	rtc_cmos_set_memory(&r, 6ull << 30); /* 3.5 GiB low, 2.5 GiB high */
	tap_ok(t, (rd(&r, 0x34) | rd(&r, 0x35) << 8) == (0xe0000000u - (16u << 20)) / 65536,
	       "6 GiB: below 4 GiB ends at the PCI hole");
	tap_ok(t, (rd(&r, 0x5b) | rd(&r, 0x5c) << 8 | (unsigned)rd(&r, 0x5d) << 16) ==
		       ((6ull << 30) - 0xe0000000ull) / 65536,
	       "6 GiB: above 4 GiB in 64 KiB units (0x5b-0x5d)");
	rtc_cmos_set_memory(&r, 512 * 1024);
	tap_ok(t, (rd(&r, 0x15) | rd(&r, 0x16) << 8) == 512 && rd(&r, 0x17) == 0 &&
		       rd(&r, 0x34) == 0,
	       "512 KiB guest: base 512, no extended memory");
	rtc_cmos_set(&r, 0x200, 1); /* out of range: ignored */
	tap_ok(t, rtc_cmos_get(&r, 0x200) == 0xff, "board indices past 127 ignored");
}

static void test_hostile(struct tap *t)
{
	struct vclock c;
	struct irqrec q = {0};
	struct irq_line line = {irqrec_set, &q, 8};
	struct rtc r;
	bool ok = true;

	vclock_init(&c, 0);
	rtc_init(&r, &line, &c, 1709164798);
	rtc_ops.write(&r, 0, 1, 0x8d);
	tap_ok(t, rtc_nmi_masked(&r) && r.index == 0x0d, "index bit 7 masks NMI");
	tap_ok(t, rtc_ops.read(&r, 1, 1) == 0x80, "and the low bits select the register");
	rtc_ops.write(&r, 0, 1, 0x0d);
	tap_ok(t, !rtc_nmi_masked(&r), "NMI unmasked again");
	rtc_ops.write(&r, 0, 1, 0xff);
	rtc_ops.write(&r, 1, 1, 0x33);
	tap_ok(t, r.index == 0x7f && rd(&r, 0x7f) == 0x33, "index 0xff selects 0x7f");
	tap_ok(t, rtc_ops.read(&r, 0, 1) == 0xff, "index port reads all-ones");
	rtc_ops.write(&r, 7, 1, 0x12);
	tap_ok(t, rtc_ops.read(&r, 5, 1) == 0xff, "offsets past the window ignored");
	wr(&r, RTC_REG_D, 0);
	wr(&r, RTC_REG_C, 0xff);
	tap_ok(t, rd(&r, RTC_REG_D) == 0x80 && rd(&r, RTC_REG_C) == 0 && !q.level,
	       "C and D are read-only");
	wr(&r, RTC_REG_A, 0xff);
	tap_ok(t, rd(&r, RTC_REG_A) == 0x7f, "UIP is read-only");

	/* every value into every register, the clock moving in between */
	for (unsigned i = 0; i < 128; i++) {
		for (unsigned v = 0; v < 256; v += 7) {
			wr(&r, i, (uint8_t)v);
			vclock_advance_to(&c, vclock_now(&c) + 123456789);
			(void)rd(&r, (i * 13 + v) & 0x7f);
		}
	}
	wr(&r, RTC_REG_B, 0xff);
	wr(&r, RTC_REG_A, 0x23);
	vclock_advance_to(&c, vclock_now(&c) + 10 * SEC);
	for (unsigned i = 0; i < 14; i++)
		(void)rd(&r, i);
	wr(&r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	set_time(&r, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99);
	vclock_advance_to(&c, vclock_now(&c) + 3 * SEC);
	for (unsigned i = 0; i < 10; i++) {
		uint8_t v = rd(&r, i);
		if ((v & 0x0f) > 9 && i != RTC_SECONDS_ALARM && i != RTC_MINUTES_ALARM &&
		    i != RTC_HOURS_ALARM)
			ok = false;
	}
	tap_ok(t, ok, "out-of-range BCD writes are normalized into valid BCD times");
	rtc_cmos_set_memory(&r, ~0ull);
	tap_ok(t, rd(&r, 0x5b) == 0xff && rd(&r, 0x5c) == 0xff && rd(&r, 0x5d) == 0xff,
	       "absurd RAM size saturates the 4 GiB bytes");
}

int main(void)
{
	struct tap t = {0};
	test_time(&t);
	test_uip_and_divider(&t);
	test_interrupts(&t);
	test_nvram(&t);
	test_hostile(&t);
	return tap_done(&t);
}
