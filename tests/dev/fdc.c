/* The 82077AA floppy controller on a fake block front and a real 8237:
 * reset and the four SENSE INTERRUPTs, SPECIFY, RECALIBRATE, SEEK and
 * relative SEEK, READ/WRITE DATA by DMA and PIO with the data checked,
 * multi-sector and multi-track, EOT without TC, READ ID, FORMAT TRACK
 * read back, VERIFY, READ TRACK, write protect, no disk, the disk change
 * line, a wrong cylinder, invalid commands, VERSION/DUMPREG/CONFIGURE/
 * LOCK/PART ID, sizes refused, -icount completion at a virtual time, a
 * DMA channel masked until later, and a seeded random driver under the
 * sanitizers that must never reach outside the test's guest RAM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm/hw/fdc.h"
#include "dm/hw/i8237.h"
#include "tests/dev/fakefront.h"
#include "tests/dev/irqrec.h"
#include "tests/dev/test_ram.h"
#include "tests/tap.h"

#define RAM_SIZE (1u << 20)
#define S144 2880 /* sectors of a 1.44 MB image */
#define S720 1440

struct rig {
	struct vclock clk;
	struct irqrec irq;
	uint8_t *ram;             /* guest.mem */
	struct test_ram guest;
	struct dma_space dma;
	struct i8237 d;
	struct fake_front ff;
	struct fdc f;
};

/* A: 1.44 MB (disk 0), B: 720 KB read-only (disk 1). */
static struct rig *rig_new(bool icount)
{
	struct rig *g = calloc(1, sizeof(*g));
	struct irq_line l;
	char err[256];
	if (!g || !(g->ram = calloc(1, RAM_SIZE)))
		abort();
	vclock_init(&g->clk, 1000);
	irqrec_init(&g->irq, &g->clk);
	l = irqrec_line(&g->irq, FDC_IRQ);
	g->guest = (struct test_ram){g->ram, RAM_SIZE, 0};
	g->dma = (struct dma_space){test_ram_read, test_ram_write, &g->guest};
	i8237_init(&g->d, &g->dma);
	fake_front_init(&g->ff, g->ram, RAM_SIZE);
	fake_disk(&g->ff, 0, S144, false);
	fake_disk(&g->ff, 1, S720, true);
	fake_disk(&g->ff, 2, 1000, false); /* no floppy size */
	fdc_init(&g->f, &l, &g->clk, &g->ff.f, icount);
	if (fdc_drive_setup(&g->f, 0, true, 0, err, sizeof(err)) ||
	    fdc_drive_setup(&g->f, 1, true, 1, err, sizeof(err)))
		abort();
	fdc_set_dma(&g->f, &g->d);
	return g;
}

static void rig_free(struct rig *g)
{
	fdc_fini(&g->f);
	fake_front_free(&g->ff);
	free(g->ram);
	free(g);
}

static void out(struct rig *g, unsigned port, uint8_t v)
{
	if (port < 0x10)
		i8237_lo_ops.write(&g->d, port, 1, v);
	else if (port >= 0xc0 && port < 0xe0)
		i8237_hi_ops.write(&g->d, port - 0xc0, 1, v);
	else if (port >= 0x81 && port < 0x90)
		i8237_page_ops.write(&g->d, port - 0x81, 1, v);
	else if (port >= 0x3f0 && port < 0x3f6)
		fdc_ops.write(&g->f, port - 0x3f0, 1, v);
	else if (port == 0x3f7)
		fdc_dir_ops.write(&g->f, 0, 1, v);
	else
		abort();
}

static uint8_t in(struct rig *g, unsigned port)
{
	if (port < 0x10)
		return (uint8_t)i8237_lo_ops.read(&g->d, port, 1);
	if (port >= 0x3f0 && port < 0x3f6)
		return (uint8_t)fdc_ops.read(&g->f, port - 0x3f0, 1);
	if (port == 0x3f7)
		return (uint8_t)fdc_dir_ops.read(&g->f, 0, 1);
	abort();
}

/* Sends a command as SeaBIOS does: each byte when MSR says RQM, !DIO.
 * Returns false if the controller was not ready for one. */
static bool cmd(struct rig *g, const uint8_t *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if ((in(g, 0x3f4) & 0xc0) != 0x80)
			return false;
		out(g, 0x3f5, b[i]);
	}
	return true;
}

#define CMD(g, ...)                                                           \
	cmd(g, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* Lets the front complete, then reads the result bytes while the
 * controller offers them (RQM, DIO, CB). */
static unsigned result(struct rig *g, uint8_t *res, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 8; i++)
		fdc_poll(&g->f);
	while (n < max && (in(g, 0x3f4) & 0xd0) == 0xd0)
		res[n++] = in(g, 0x3f5);
	if (getenv("FDC_DEBUG")) {
		printf("# result:");
		for (unsigned i = 0; i < n; i++)
			printf(" %02x", res[i]);
		printf("\n");
	}
	return n;
}

static void seabios_dma(struct rig *g, uint32_t addr, uint32_t bytes, bool to_device)
{
	uint16_t end = (uint16_t)(bytes - 1);
	out(g, 0x0a, 0x06);
	out(g, 0x0c, 0);
	out(g, 0x04, (uint8_t)addr);
	out(g, 0x04, (uint8_t)(addr >> 8));
	out(g, 0x0c, 0);
	out(g, 0x05, (uint8_t)end);
	out(g, 0x05, (uint8_t)(end >> 8));
	out(g, 0x0b, to_device ? 0x4a : 0x46);
	out(g, 0x81, (uint8_t)(addr >> 16));
	out(g, 0x0a, 0x02);
}

static bool image_is(struct rig *g, unsigned disk, uint64_t lba, const uint8_t *mem,
		     unsigned sectors)
{
	return !memcmp(g->ff.disk[disk].data + lba * 512, mem, (size_t)sectors * 512);
}

static bool pattern_at(const uint8_t *mem, uint64_t lba, unsigned sectors)
{
	for (unsigned s = 0; s < sectors; s++)
		for (unsigned i = 0; i < 512; i++)
			if (mem[s * 512 + i] != fake_pattern(lba + s, i))
				return false;
	return true;
}

/* What SeaBIOS does before using the controller. */
static void bios_init(struct rig *g)
{
	uint8_t r[2];
	out(g, 0x0d, 0);
	out(g, 0xda, 0);
	out(g, 0xd6, 0xc0);
	out(g, 0xd4, 0x00);
	out(g, 0x3f2, 0x08);
	out(g, 0x3f2, 0x0c);
	for (unsigned i = 0; i < 4; i++) {
		(void)CMD(g, 0x08);
		(void)result(g, r, 2);
	}
	(void)CMD(g, 0x03, 0xaf, 0x02);
}

static bool seek(struct rig *g, unsigned unit, unsigned head, unsigned cyl)
{
	uint8_t r[2];
	return CMD(g, 0x0f, (uint8_t)(head << 2 | unit), (uint8_t)cyl) && CMD(g, 0x08) &&
	       result(g, r, 2) == 2 && r[1] == cyl;
}

static void test_reset_and_registers(struct tap *t)
{
	struct rig *g = rig_new(false);
	uint8_t r[10];
	unsigned n;
	bool ok = true;

	tap_ok(t, in(g, 0x3f4) == 0x80 && in(g, 0x3f2) == 0x0c && in(g, 0x3f7) == 0x80,
	       "power-on: MSR RQM, DOR 0x0c, disk change line set");
	out(g, 0x3f2, 0x08);
	tap_ok(t, in(g, 0x3f4) == 0x00 && !g->irq.level, "DOR reset: MSR 0, no INT");
	out(g, 0x3f2, 0x0c);
	tap_ok(t, g->irq.level && g->irq.rises == 1, "out of reset: IRQ 6 rises");
	for (unsigned i = 0; i < 4; i++) {
		ok = ok && CMD(g, 0x08) && result(g, r, 2) == 2 && r[0] == (0xc0 | i) && r[1] == 0;
		if (i == 0)
			tap_ok(t, !g->irq.level, "the first SENSE INTERRUPT lowers IRQ 6");
	}
	tap_ok(t, ok, "four SENSE INTERRUPTs: ST0 0xc0-0xc3 (polling), PCN 0");
	tap_ok(t, CMD(g, 0x08) && result(g, r, 2) == 1 && r[0] == 0x80,
	       "a fifth: invalid (0x80), one byte");
	tap_ok(t, CMD(g, 0x03, 0xaf, 0x02) && in(g, 0x3f4) == 0x80, "SPECIFY: no result phase");
	tap_ok(t, CMD(g, 0x10) && result(g, r, 2) == 1 && r[0] == 0x90, "VERSION: 0x90");
	tap_ok(t, CMD(g, 0x18) && result(g, r, 2) == 1 && r[0] == 0x41, "PART ID: 0x41");
	tap_ok(t, CMD(g, 0x13, 0x00, 0x57, 0x05) && in(g, 0x3f4) == 0x80, "CONFIGURE: no result");
	tap_ok(t, CMD(g, 0x12, 0x80 | 0x08 | 0x03) && in(g, 0x3f4) == 0x80,
	       "PERPENDICULAR MODE with OW");
	n = CMD(g, 0x0e) ? result(g, r, 10) : 0;
	tap_ok(t, n == 10 && r[4] == 0xaf && r[5] == 0x02 && r[7] == 0x0b && r[8] == 0x57 &&
		       r[9] == 0x05,
	       "DUMPREG: specify, perpendicular, configure bytes");
	tap_ok(t, CMD(g, 0x94) && result(g, r, 2) == 1 && r[0] == 0x10, "LOCK: 0x10");
	out(g, 0x3f4, 0x80); /* DSR software reset */
	for (unsigned i = 0; i < 4; i++)
		(void)(CMD(g, 0x08) && result(g, r, 2));
	n = CMD(g, 0x0e) ? result(g, r, 10) : 0;
	tap_ok(t, n == 10 && (r[7] & 0x80) && r[7] == 0x88 && r[8] == 0x57 && r[9] == 0x05,
	       "a DSR reset keeps CONFIGURE when locked, drops GAP/WGATE");
	tap_ok(t, CMD(g, 0x14) && result(g, r, 2) == 1 && r[0] == 0x00, "unlock: 0x00");
	out(g, 0x3f2, 0x08);
	out(g, 0x3f2, 0x0c);
	for (unsigned i = 0; i < 4; i++)
		(void)(CMD(g, 0x08) && result(g, r, 2));
	n = CMD(g, 0x0e) ? result(g, r, 10) : 0;
	tap_ok(t, n == 10 && r[8] == 0x60 && r[9] == 0, "unlocked, a reset restores EIS|EFIFO");
	tap_ok(t, CMD(g, 0x1f) && result(g, r, 2) == 1 && r[0] == 0x80 && in(g, 0x3f4) == 0x80,
	       "an invalid command: ST0 0x80, then the command phase");
	tap_ok(t, CMD(g, 0x25) && result(g, r, 2) == 1 && r[0] == 0x80,
	       "WRITE DATA with SK set is invalid");
	tap_ok(t, CMD(g, 0x08) && result(g, r, 2) == 1 && r[0] == 0x80,
	       "SENSE INTERRUPT with nothing pending: invalid");
	rig_free(g);
}

static void test_seeks(struct tap *t)
{
	struct rig *g = rig_new(false);
	uint8_t r[7];

	bios_init(g);
	tap_ok(t, in(g, 0x3f7) == 0x80, "disk change line still set after reset");
	tap_ok(t, CMD(g, 0x07, 0x00) && g->irq.level && (in(g, 0x3f4) & 0x01), "RECALIBRATE: "
	       "IRQ, drive 0 busy");
	tap_ok(t, CMD(g, 0x08) && result(g, r, 2) == 2 && r[0] == 0x20 && r[1] == 0 &&
		       !(in(g, 0x3f4) & 0x01),
	       "SENSE INTERRUPT: ST0 SE, PCN 0, busy cleared");
	tap_ok(t, in(g, 0x3f7) == 0x00, "a recalibrate with a disk clears the change line");
	tap_ok(t, CMD(g, 0x0f, 0x04, 5) && CMD(g, 0x08) && result(g, r, 2) == 2 &&
		       r[0] == 0x24 && r[1] == 5,
	       "SEEK head 1 to 5: ST0 0x24, PCN 5");
	tap_ok(t, CMD(g, 0x04, 0x04) && result(g, r, 1) == 1 && r[0] == 0x24,
	       "SENSE DRIVE STATUS: ready, head 1, not track 0, not protected");
	tap_ok(t, CMD(g, 0x8f, 0x00, 2) && CMD(g, 0x08) && result(g, r, 2) == 2 && r[1] == 3,
	       "RELATIVE SEEK out by 2: PCN 3");
	tap_ok(t, CMD(g, 0xcf, 0x00, 4) && CMD(g, 0x08) && result(g, r, 2) == 2 && r[1] == 7,
	       "RELATIVE SEEK in by 4: PCN 7");
	tap_ok(t, CMD(g, 0x04, 0x01) && result(g, r, 1) == 1 && r[0] == (0x20 | 0x40 | 0x10 | 1),
	       "drive B (read-only disk, track 0): WP and T0");
	out(g, 0x3f2, 0x1d); /* select B */
	tap_ok(t, in(g, 0x3f7) == 0x80, "drive B's change line is its own");
	tap_ok(t, seek(g, 1, 0, 1) && in(g, 0x3f7) == 0x00, "and a seek clears it");
	rig_free(g);
}

static void test_dma(struct tap *t)
{
	struct rig *g = rig_new(false);
	uint8_t r[7];
	unsigned n, guest_before;

	bios_init(g);
	(void)seek(g, 0, 0, 2);
	/* READ 3 sectors: C2 H1 R4..6, as SeaBIOS with EOT = last. */
	seabios_dma(g, 0x10000, 3 * 512, false);
	guest_before = g->ff.guest_segs;
	tap_ok(t, CMD(g, 0xe6, 0x04, 2, 1, 4, 2, 6, 0x1b, 0xff) && (in(g, 0x3f4) & 0xb0) == 0x10,
	       "READ DATA by DMA: in execution, RQM clear");
	n = result(g, r, 7);
	tap_ok(t, n == 7 && r[0] == 0x04 && r[1] == 0 && r[2] == 0 && r[3] == 3 && r[4] == 0 &&
		       r[5] == 1 && r[6] == 2,
	       "normal termination at TC on the EOT sector of head 1 (MT): next ID C3 H0 R1");
	tap_ok(t, pattern_at(g->ram + 0x10000, (2 * 2 + 1) * 18 + 3, 3) &&
		       g->ram[0x10000 + 3 * 512] == 0,
	       "the three sectors in guest RAM, nothing beyond");
	tap_ok(t, g->ff.guest_segs > guest_before, "straight into guest RAM (8237 segments)");
	tap_ok(t, (in(g, 0x08) & 0x04) && !g->irq.level && g->irq.rises >= 1,
	       "the 8237 saw TC; IRQ 6 raised and lowered by the result");

	/* Multi-track: R17-18 on head 0, then R1-2 on head 1. */
	seabios_dma(g, 0x20000, 4 * 512, false);
	(void)CMD(g, 0xe6, 0x00, 2, 0, 17, 2, 18, 0x1b, 0xff);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && r[0] == 0x04 && r[3] == 2 && r[4] == 1 && r[5] == 3,
	       "multi-track: ends on head 1 at R3");
	tap_ok(t, pattern_at(g->ram + 0x20000, 2 * 36 + 16, 4), "with the four sectors in order");

	/* EOT before TC: ST1 EN. */
	seabios_dma(g, 0x30000, 10 * 512, false);
	(void)CMD(g, 0x66, 0x00, 2, 0, 17, 2, 18, 0x1b, 0xff);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && r[0] == 0x40 && r[1] == 0x80 && r[3] == 3 && r[4] == 0 && r[5] == 1,
	       "EOT without TC: ABNTERM, end of cylinder, next ID C3 R1");

	/* EOT beyond the track, MT: the track ends at R18, head 1 goes on. */
	seabios_dma(g, 0x38000, 3 * 512, false);
	(void)CMD(g, 0xe6, 0x00, 2, 0, 17, 2, 19, 0x1b, 0xff);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && (r[0] & 0xc0) == 0 && r[4] == 1 && r[5] == 2 &&
		       pattern_at(g->ram + 0x38000, 2 * 36 + 16, 3),
	       "EOT past the last sector with MT: R17, R18, then head 1 R1");

	/* A DMA range that wraps the 64 KiB block goes through the bounce. */
	seabios_dma(g, 0x4ff00, 2 * 512, false);
	(void)CMD(g, 0xe6, 0x00, 2, 0, 1, 2, 2, 0x1b, 0xff);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && (r[0] & 0xc0) == 0 && pattern_at(g->ram + 0x4ff00, 2 * 36, 0) &&
		       !memcmp(g->ram + 0x4ff00, g->ff.disk[0].data + 2 * 36 * 512, 256) &&
		       !memcmp(g->ram + 0x40000, g->ff.disk[0].data + 2 * 36 * 512 + 256, 768),
	       "a transfer across the 64 KiB block wraps as the 8237 does");

	/* WRITE 2 sectors from RAM, then compare the image. */
	for (unsigned i = 0; i < 1024; i++)
		g->ram[0x50000 + i] = (uint8_t)(i ^ 0x5a);
	seabios_dma(g, 0x50000, 1024, true);
	(void)CMD(g, 0xc5, 0x00, 2, 0, 7, 2, 8, 0x1b, 0xff);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && (r[0] & 0xc0) == 0 && r[4] == 1 && r[5] == 1 &&
		       image_is(g, 0, 2 * 36 + 6, g->ram + 0x50000, 2),
	       "WRITE DATA by DMA: the image holds the two sectors");

	/* Channel masked: the command waits for it. */
	seabios_dma(g, 0x60000, 512, false);
	out(g, 0x0a, 0x06);
	(void)CMD(g, 0xe6, 0x00, 2, 0, 1, 2, 1, 0x1b, 0xff);
	tap_ok(t, result(g, r, 7) == 0 && (in(g, 0x3f4) & 0x90) == 0x10,
	       "DMA channel masked: the command waits in execution");
	out(g, 0x0a, 0x02);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && (r[0] & 0xc0) == 0 && pattern_at(g->ram + 0x60000, 2 * 36, 1),
	       "unmasked: the 8237 calls the controller and it completes");

	/* READ TRACK from sector 1, VERIFY. */
	seabios_dma(g, 0x70000, 3 * 512, false);
	(void)CMD(g, 0x42, 0x00, 2, 0, 9, 2, 3, 0x1b, 0xff);
	n = result(g, r, 7);
	tap_ok(t, n == 7 && r[0] == 0 && pattern_at(g->ram + 0x70000, 2 * 36, 3),
	       "READ TRACK: from the first sector on, whatever R says");
	tap_ok(t, CMD(g, 0xf6, 0x80, 2, 0, 4, 2, 18, 0x1b, 3) && result(g, r, 7) == 7 &&
		       r[0] == 0 && r[5] == 7,
	       "VERIFY with EC, SC 3: normal, next R7");
	tap_ok(t, CMD(g, 0x56, 0x00, 2, 0, 4, 2, 18, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[0] == 0 && r[3] == 3,
	       "VERIFY without EC: to EOT, normal");
	tap_ok(t, g->guest.refused == 0 && g->ff.faults == 0, "no access outside guest RAM");
	rig_free(g);
}

static void test_pio(struct tap *t)
{
	struct rig *g = rig_new(false);
	uint8_t r[7], data[1024];
	unsigned n, ok = 1;

	bios_init(g);
	(void)CMD(g, 0x03, 0xaf, 0x03); /* ND: non-DMA */
	(void)seek(g, 0, 0, 4);
	(void)CMD(g, 0xe6, 0x04, 4, 1, 2, 2, 3, 0x1b, 0xff);
	fdc_poll(&g->f);
	tap_ok(t, in(g, 0x3f4) == 0xf0 && g->irq.level,
	       "PIO read: MSR RQM|DIO|NDMA|CB and INT up while data waits");
	for (unsigned i = 0; i < 1024 && ok; i++) {
		for (unsigned k = 0; k < 4 && (in(g, 0x3f4) & 0xa0) != 0xa0; k++)
			fdc_poll(&g->f);
		ok = (in(g, 0x3f4) & 0xe0) == 0xe0;
		data[i] = in(g, 0x3f5);
	}
	n = result(g, r, 7);
	tap_ok(t, ok && pattern_at(data, (4 * 2 + 1) * 18 + 1, 2), "two sectors read byte by byte");
	tap_ok(t, n == 7 && r[0] == 0x44 && r[1] == 0x80 && r[3] == 5 && r[5] == 1,
	       "PIO ends at EOT: ABNTERM with EN, next ID C5 R1");

	(void)CMD(g, 0x45, 0x00, 4, 0, 1, 2, 2, 0x1b, 0xff); /* no MT */
	tap_ok(t, (in(g, 0x3f4) & 0xf0) == 0xb0 && g->irq.level,
	       "PIO write: MSR RQM|NDMA|CB, DIO clear");
	for (unsigned i = 0; i < 1024; i++) {
		for (unsigned k = 0; k < 4 && (in(g, 0x3f4) & 0xa0) != 0xa0; k++)
			fdc_poll(&g->f);
		out(g, 0x3f5, (uint8_t)(i * 3));
		data[i] = (uint8_t)(i * 3);
	}
	n = result(g, r, 7);
	tap_ok(t, n == 7 && r[1] == 0x80 && image_is(g, 0, 4 * 36, data, 2),
	       "two sectors written byte by byte reach the image");
	rig_free(g);
}

static void test_read_id_format(struct tap *t)
{
	struct rig *g = rig_new(false);
	uint8_t r[7], ids[18 * 4], sector[512];
	unsigned n;

	bios_init(g);
	(void)seek(g, 0, 0, 3);
	tap_ok(t, CMD(g, 0x4a, 0x00) && result(g, r, 7) == 7 && r[0] == 0 && r[3] == 3 &&
		       r[5] == 1 && r[6] == 2,
	       "READ ID: C3 H0 R1 N2");
	tap_ok(t, CMD(g, 0x4a, 0x00) && result(g, r, 7) == 7 && r[5] == 2,
	       "the next READ ID sees the next sector pass");
	out(g, 0x3f7, 0x02); /* 250 kb/s: not 1.44 MB media */
	tap_ok(t, CMD(g, 0x4a, 0x00) && result(g, r, 7) == 7 && r[0] == 0x40 && r[1] == 0x01,
	       "READ ID at the wrong data rate: missing address mark");
	tap_ok(t, CMD(g, 0x4a, 0x01) && result(g, r, 7) == 7 && r[0] == 0x01,
	       "but the 720 KB disk in B: is read at 250 kb/s");
	out(g, 0x3f7, 0x00);
	tap_ok(t, CMD(g, 0x0a, 0x00) && result(g, r, 7) == 7 && r[0] == 0x40 && r[1] == 0x01,
	       "FM (MFM clear): missing address mark");

	for (unsigned i = 0; i < 18; i++) {
		ids[4 * i] = 3;
		ids[4 * i + 1] = 1;
		ids[4 * i + 2] = (uint8_t)(1 + (i * 5) % 18); /* interleaved */
		ids[4 * i + 3] = 2;
	}
	memcpy(g->ram + 0x8000, ids, sizeof(ids));
	seabios_dma(g, 0x8000, sizeof(ids), true);
	tap_ok(t, CMD(g, 0x4d, 0x04, 2, 18, 0x6c, 0xf6) && result(g, r, 7) == 7 && r[0] == 0x04,
	       "FORMAT TRACK C3 H1 by DMA, interleaved IDs");
	memset(sector, 0xf6, sizeof(sector));
	n = 0;
	for (unsigned s = 0; s < 18; s++)
		n += image_is(g, 0, (3 * 2 + 1) * 18 + s, sector, 1);
	tap_ok(t, n == 18 && pattern_at(g->ff.disk[0].data + (3 * 2) * 18 * 512, 3 * 2 * 18, 18),
	       "the track is filler bytes, head 0's is untouched");
	seabios_dma(g, 0x9000, 512, false);
	tap_ok(t, CMD(g, 0xe6, 0x04, 3, 1, 5, 2, 5, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[0] == 0x04 && g->ram[0x9000] == 0xf6 && g->ram[0x91ff] == 0xf6,
	       "and reads back as such");

	(void)CMD(g, 0x03, 0xaf, 0x03);
	tap_ok(t, CMD(g, 0x4d, 0x00, 2, 2, 0x6c, 0x11) && (in(g, 0x3f4) & 0xe0) == 0xa0,
	       "FORMAT by PIO: the controller wants the IDs");
	for (unsigned i = 0; i < 8; i++)
		out(g, 0x3f5, (uint8_t)(i == 2 ? 4 : i == 6 ? 5 : 0));
	memset(sector, 0x11, sizeof(sector));
	tap_ok(t, result(g, r, 7) == 7 && r[0] == 0 && image_is(g, 0, 3 * 36 + 3, sector, 1) &&
		       image_is(g, 0, 3 * 36 + 4, sector, 1) &&
		       pattern_at(g->ff.disk[0].data + (3 * 36 + 5) * 512, 3 * 36 + 5, 1),
	       "two IDs (R4, R5): those two sectors filled, the next kept");
	rig_free(g);
}

static void test_errors(struct tap *t)
{
	struct rig *g = rig_new(false);
	uint8_t r[7];
	char err[256];

	bios_init(g);
	out(g, 0x3f7, 0x02);
	(void)seek(g, 1, 0, 0);
	seabios_dma(g, 0x1000, 512, true);
	tap_ok(t, CMD(g, 0xc5, 0x01, 0, 0, 1, 2, 1, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[0] == 0x41 && r[1] == 0x02,
	       "WRITE to the read-only disk: ABNTERM, not writable");
	out(g, 0x3f7, 0x00);
	out(g, 0x3f2, 0x1d);
	tap_ok(t, fdc_change_media(&g->f, 0, -1, err, sizeof(err)) == 0 && in(g, 0x3f7) == 0,
	       "eject A: (B: selected: no change seen there)");
	out(g, 0x3f2, 0x1c);
	tap_ok(t, in(g, 0x3f7) == 0x80, "A: shows the change");
	tap_ok(t, seek(g, 0, 0, 1) && in(g, 0x3f7) == 0x80, "a seek without a disk keeps it");
	tap_ok(t, CMD(g, 0xe6, 0x00, 1, 0, 1, 2, 1, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[0] == 0x48,
	       "READ with no disk: ABNTERM, not ready");
	tap_ok(t, CMD(g, 0x04, 0x00) && result(g, r, 1) == 1 && (r[0] & 0x40),
	       "no disk reads as write-protected");
	tap_ok(t, fdc_change_media(&g->f, 0, 0, err, sizeof(err)) == 0 && in(g, 0x3f7) == 0x80 &&
		       seek(g, 0, 0, 2) && in(g, 0x3f7) == 0x00,
	       "insert: the line stays up until a seek");
	tap_ok(t, fdc_change_media(&g->f, 0, 2, err, sizeof(err)) < 0 && strstr(err, "512000") &&
		       strstr(err, "1474560") && strstr(err, "drive A"),
	       "a 512000-byte image is refused: %s", err);
	tap_ok(t, fdc_drive_setup(&g->f, 1, false, 0, err, sizeof(err)) < 0,
	       "a disk in an absent drive is refused");
	(void)CMD(g, 0x13, 0x00, 0x20, 0x00); /* implied seek off */
	seabios_dma(g, 0x1000, 512, false);
	tap_ok(t, CMD(g, 0xe6, 0x00, 9, 0, 1, 2, 1, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[0] == 0x40 && r[1] == 0x04 && r[2] == 0x10,
	       "C9 while the head is on 2: no data, wrong cylinder");
	tap_ok(t, CMD(g, 0xe6, 0x00, 2, 0, 19, 2, 19, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[0] == 0x40 && r[1] == 0x04,
	       "R19 on an 18-sector track: no data");
	tap_ok(t, CMD(g, 0xe6, 0x00, 2, 0, 1, 3, 1, 0x1b, 0xff) && result(g, r, 7) == 7 &&
		       r[1] == 0x04,
	       "N3 on a 512-byte-sector disk: no data");
	tap_ok(t, CMD(g, 0x07, 0x02) && CMD(g, 0x08) && result(g, r, 2) == 2 && r[0] == 0x72,
	       "RECALIBRATE of a drive that is not there: equipment check");
	tap_ok(t, CMD(g, 0x46, 0x00, 2, 0, 1, 2, 1, 0x1b, 0xff) == true &&
		       (result(g, r, 7), true) && CMD(g, 0x4c, 0x00, 2, 0, 1, 2, 1, 0x1b, 0xff) &&
		       result(g, r, 7) == 7 && r[0] == 0x40,
	       "READ DELETED DATA: ends at once, abnormally");
	rig_free(g);
}

static void test_icount(struct tap *t)
{
	struct rig *g = rig_new(true);
	uint8_t r[7];
	uint64_t t0;

	bios_init(g);
	(void)seek(g, 0, 0, 1);
	seabios_dma(g, 0x2000, 2 * 512, false);
	g->ff.hold = true; /* the backend answers late */
	irqrec_clear(&g->irq);
	t0 = vclock_now(&g->clk);
	(void)CMD(g, 0xe6, 0x00, 1, 0, 1, 2, 2, 0x1b, 0xff);
	fdc_poll(&g->f);
	tap_ok(t, !g->irq.level && (in(g, 0x3f4) & 0x80) == 0,
	       "-icount: nothing before the modelled time");
	vclock_advance_to(&g->clk, t0 + 200000 + 2 * 20000 - 1);
	tap_ok(t, !g->irq.level, "not a nanosecond early");
	vclock_advance_to(&g->clk, t0 + 1000000);
	tap_ok(t, g->irq.level && g->irq.n >= 1 && g->irq.ev[0].at == t0 + 240000 &&
		       g->ff.waits == 1,
	       "IRQ 6 at submit + 240 us exactly, the front waited for");
	tap_ok(t, result(g, r, 7) == 7 && (r[0] & 0xc0) == 0 && pattern_at(g->ram + 0x2000, 36, 2),
	       "with the data");
	rig_free(g);
}

/* Random port writes and DMA setups: no fault, no access outside RAM. */
static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random(struct tap *t)
{
	for (unsigned round = 0; round < 4; round++) {
		struct rig *g = rig_new(round & 1);
		unsigned results = 0;
		bios_init(g);
		for (unsigned step = 0; step < 20000; step++) {
			unsigned k = (unsigned)(rnd() % 16);
			if (k < 6) {
				/* A plausible command start, then random bytes. */
				static const uint8_t ops[] = {0xe6, 0xc5, 0x4a, 0x4d, 0x0f, 0x07,
							      0x08, 0x03, 0x42, 0xf6, 0x13, 0x8f,
							      0x0e, 0x94, 0x12, 0x04};
				if (rnd() % 2) {
					/* A whole data command, plausible values,
					 * after the last one's result, as a driver. */
					uint8_t r[10];
					results += result(g, r, 10);
					static const uint8_t data_ops[] = {0xe6, 0x66, 0xc5, 0x45,
									   0x42, 0xf6, 0x4d};
					uint8_t op = data_ops[rnd() % sizeof(data_ops)];
					unsigned len = op == 0x4d ? 6 : 9;
					uint8_t b[9] = {op, (uint8_t)(rnd() % 8),
							(uint8_t)(rnd() % 82), (uint8_t)(rnd() % 2),
							(uint8_t)(rnd() % 38), (uint8_t)(1 + rnd() % 3),
							(uint8_t)(rnd() % 38), 0x1b, (uint8_t)rnd()};
					if (rnd() % 4) { /* mostly a sector that exists */
						b[1] &= 5;
						b[3] = (uint8_t)(b[1] >> 2);
						b[4] = (uint8_t)(1 + rnd() % 18);
						b[5] = 2;
						b[6] = (uint8_t)(b[4] + rnd() % 4);
					}
					if (op == 0x4d)
						b[2] = 2;
					for (unsigned i = 0; i < len; i++)
						out(g, 0x3f5, b[i]);
				} else {
					out(g, 0x3f5, ops[rnd() % sizeof(ops)]);
					for (unsigned i = (unsigned)(rnd() % 9); i > 0; i--)
						out(g, 0x3f5, (uint8_t)(rnd() % 4 ? rnd() % 20 : rnd()));
				}
			} else if (k < 9) {
				static const uint16_t ports[] = {0x3f0, 0x3f1, 0x3f2, 0x3f3,
								 0x3f4, 0x3f5, 0x3f7};
				unsigned p = ports[rnd() % ARRAY_SIZE(ports)];
				uint8_t v = (uint8_t)rnd();
				if (p == 0x3f2 && rnd() % 4)
					v |= 0x0c; /* mostly out of reset */
				if (rnd() % 2)
					out(g, p, v);
				else
					results += (in(g, p), 1);
			} else if (k < 11) {
				seabios_dma(g, (uint32_t)(rnd() % 4 ? rnd() % 0x110000 : rnd() % 0x1000000),
					    (uint32_t)(1 + rnd() % 0x4000), rnd() & 1);
				if (rnd() % 4 == 0)
					out(g, 0x0b, (uint8_t)(rnd() & 0xfe) | 2);
			} else if (k < 13) {
				uint8_t r[10]; /* a driver reading what it is offered */
				results += result(g, r, 10);
			} else if (k < 14) {
				fdc_poll(&g->f);
			} else if (k == 14) {
				vclock_advance_to(&g->clk, vclock_now(&g->clk) + rnd() % 1000000);
			} else {
				char err[128];
				(void)fdc_change_media(&g->f, (unsigned)(rnd() % 2),
						       (int)(rnd() % 4) - 1, err, sizeof(err));
			}
		}
		/* Still a controller: a reset brings it back to VERSION. */
		{
			uint8_t r[2];
			unsigned submitted = g->ff.submitted;
			vclock_advance_to(&g->clk, vclock_now(&g->clk) + 10000000);
			fdc_poll(&g->f);
			out(g, 0x3f2, 0x08);
			out(g, 0x3f2, 0x0c);
			for (unsigned i = 0; i < 4; i++)
				(void)(CMD(g, 0x08) && result(g, r, 2));
			tap_ok(t, CMD(g, 0x10) && result(g, r, 2) == 1 && r[0] == 0x90,
			       "random round %u (%s): 20000 steps, %u disk requests, %u RAM "
			       "accesses and %u front segments outside RAM refused (%u bytes "
			       "read); the controller still answers",
			       round, round & 1 ? "-icount" : "real time", submitted,
			       g->guest.refused, g->ff.faults, results);
		}
		rig_free(g);
	}
}

int main(void)
{
	struct tap t = {0};
	test_reset_and_registers(&t);
	test_seeks(&t);
	test_dma(&t);
	test_pio(&t);
	test_read_id_format(&t);
	test_errors(&t);
	test_icount(&t);
	test_random(&t);
	return tap_done(&t);
}
