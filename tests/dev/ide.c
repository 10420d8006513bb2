/* The PIIX3 IDE (dm/hw/piix3_ide.c, ide*.c) driven through its ports
 * and PCI config on a fake block front (tests/dev/ide_rig.h): the PCI
 * function (ids, BAR4 sizing and its window, IDE decode enable),
 * signatures after SRST, an absent slave, IDENTIFY, ATA reads and writes
 * by LBA28, LBA48 and CHS, READ/WRITE MULTIPLE, bus master DMA with PRD
 * tables crossing pages, ending early, longer than the data and made of
 * tiny entries, the ATA errors (IDNF, ABRT, UNC), nIEN and HOB, every
 * packet command with its sense data, media absent, eject and lock, the
 * -icount path (completion at a virtual time), SRST with a request in
 * flight, the kind row; then a seeded random driver under ASan: random
 * register writes, commands, packets, PRD tables and clock steps, with
 * the front checking every request and guest RAM checking every
 * range. */
#include "tests/dev/ide_rig.h"
#include "tests/tap.h"

#define P0 0x1f0
#define C0 0x3f6
#define P1 0x170
#define C1 0x376
#define US 1000ull

static const uint64_t disk_sizes[] = {8192, 4096 * 4, 64};

static uint8_t disk_byte(unsigned disk, uint64_t b)
{
	return (uint8_t)(b * 7 + (b >> 9) * 13 + disk);
}

static bool disk_matches(const uint8_t *p, unsigned disk, uint64_t sector, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++)
		if (p[i] != disk_byte(disk, sector * 512 + i))
			return false;
	return true;
}

static void settle(struct rig *r)
{
	for (unsigned i = 0; i < 1000 && blkf_poll(&r->front.f); i++)
		;
}

static uint8_t alt(struct rig *r, unsigned ctl)
{
	return inb(r, ctl);
}

static void lba28(struct rig *r, unsigned base, unsigned dev, uint8_t count, uint32_t lba,
		  uint8_t cmd)
{
	outb(r, base + 2, count);
	outb(r, base + 3, (uint8_t)lba);
	outb(r, base + 4, (uint8_t)(lba >> 8));
	outb(r, base + 5, (uint8_t)(lba >> 16));
	outb(r, base + 6, (uint8_t)(0xe0 | dev << 4 | ((lba >> 24) & 0x0f)));
	outb(r, base + 7, cmd);
}

static void lba48(struct rig *r, unsigned base, unsigned dev, uint16_t count, uint64_t lba,
		  uint8_t cmd)
{
	outb(r, base + 2, (uint8_t)(count >> 8));
	outb(r, base + 3, (uint8_t)(lba >> 24));
	outb(r, base + 4, (uint8_t)(lba >> 32));
	outb(r, base + 5, (uint8_t)(lba >> 40));
	outb(r, base + 2, (uint8_t)count);
	outb(r, base + 3, (uint8_t)lba);
	outb(r, base + 4, (uint8_t)(lba >> 8));
	outb(r, base + 5, (uint8_t)(lba >> 16));
	outb(r, base + 6, (uint8_t)(0x40 | dev << 4));
	outb(r, base + 7, cmd);
}

static void pio_in(struct rig *r, unsigned base, uint8_t *buf, size_t bytes)
{
	for (size_t i = 0; i + 1 < bytes + 1 && i < bytes; i += 2) {
		uint16_t w = inw(r, base);
		buf[i] = (uint8_t)w;
		if (i + 1 < bytes)
			buf[i + 1] = (uint8_t)(w >> 8);
	}
}

static void pio_out(struct rig *r, unsigned base, const uint8_t *buf, size_t bytes)
{
	for (size_t i = 0; i < bytes; i += 2)
		outw(r, base, (uint16_t)(buf[i] | buf[i + 1] << 8));
}

static const char *const units_std[4] = {"hd:0", "", "cd:1", ""};

static struct rig *std_rig(bool icount, bool defer)
{
	struct rig *r = rig_new(units_std, disk_sizes, 3, icount, defer, 1000000);
	rig_enable(r);
	return r;
}

/* ---- PCI ---- */

static void test_pci(struct tap *t)
{
	struct rig *r = rig_new(units_std, disk_sizes, 3, false, false, 0);

	tap_ok(t, r->pci_devfn == PCI_DEVFN(1, 1), "claims PCI 00:01.1");
	tap_ok(t, cfg_rd(r, 0, 4) == 0x70108086, "8086:7010");
	tap_ok(t, cfg_rd(r, 8, 4) >> 8 == 0x010180, "class 0101, prog-if 80h");
	tap_ok(t, cfg_rd(r, PCI_HEADER_TYPE, 1) == 0 && cfg_rd(r, PCI_STATUS, 2) == 0x0280,
	       "header type 0, status 0280h");
	tap_ok(t, r->pci_ops->read(r->pci_opaque, 0x000, 4) == 0xffffffff,
	       "function 0's cycles are not ours");
	tap_ok(t, cfg_rd(r, PCI_BAR0 + 16, 4) == 1 && cfg_rd(r, PCI_BAR0, 4) == 0,
	       "BAR4 is I/O; BAR0 is not there (compatibility mode)");
	cfg_wr(r, PCI_BAR0 + 16, 4, 0xffffffff);
	tap_ok(t, cfg_rd(r, PCI_BAR0 + 16, 4) == 0xfffffff1, "BAR4 sizes as 16 bytes");
	tap_ok(t, cfg_rd(r, 0x40, 4) == 0, "IDETIM 0 at reset");
	cfg_wr(r, 0x40, 4, 0xffffffff);
	tap_ok(t, cfg_rd(r, 0x40, 4) == 0xf3fff3ff, "IDETIM: reserved bits 11:10 read 0");
	cfg_wr(r, 0x40, 4, 0);
	cfg_wr(r, PCI_BAR0 + 16, 4, RIG_BM);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO);
	tap_ok(t, inb(r, P0 + 7) == 0xff && inb(r, C0) == 0xff,
	       "IDE decode off: the legacy ports read all-ones");
	tap_ok(t, inb(r, RIG_BM + 2) == 0, "BAR4's window appears with I/O on");
	cfg_wr(r, 0x40, 2, 0x8000);
	tap_ok(t, inb(r, P0 + 7) == 0x50 && inb(r, P1 + 7) == 0xff,
	       "IDETIM.IDE of the primary decodes the primary only");
	cfg_wr(r, PCI_COMMAND, 2, 0);
	tap_ok(t, inb(r, P0 + 7) == 0xff && inb(r, RIG_BM + 2) == 0xff,
	       "I/O space off: neither the legacy ports nor BMIBA");
	cfg_wr(r, PCI_BAR0 + 16, 4, 0xd000);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO);
	outb(r, 0xd000 + 2, BM_ST_DMA0);
	tap_ok(t, inb(r, 0xd002) == BM_ST_DMA0 && inb(r, RIG_BM + 2) == 0xff,
	       "BAR4 moved: the window follows");
	rig_free(r);
}

/* ---- reset, selection ---- */

static void test_reset(struct tap *t)
{
	struct rig *r = std_rig(false, false);

	outb(r, C0, ATA_DC_SRST | ATA_DC_NIEN);
	tap_ok(t, alt(r, C0) & ATA_BSY, "SRST: BSY while set");
	outb(r, C0, 0);
	tap_ok(t, inb(r, P0 + 2) == 1 && inb(r, P0 + 3) == 1 && inb(r, P0 + 4) == 0 &&
		   inb(r, P0 + 5) == 0 && inb(r, P0 + 1) == 1 && alt(r, C0) == 0x50,
	       "disk after SRST: signature 01/01/00/00, error 01, status 50h");
	outb(r, C1, ATA_DC_SRST);
	outb(r, C1, 0);
	tap_ok(t, inb(r, P1 + 4) == 0x14 && inb(r, P1 + 5) == 0xeb && alt(r, C1) == 0,
	       "ATAPI after SRST: signature 14h/EBh, status 0");
	outb(r, P0 + 6, 0xb0);
	tap_ok(t, inb(r, P0 + 6) == 0xb0 && alt(r, C0) == 0 && inb(r, P0 + 7) == 0 &&
		   inb(r, P0 + 1) == 0, "absent slave: device reads back, status and error 0");
	tap_ok(t, inb(r, P0 + 4) == 0xff && inb(r, P0 + 5) == 0xff,
	       "absent slave: no signature (FFh/FFh)");
	outb(r, P0 + 2, 0x55);
	outb(r, P0 + 3, 0xaa);
	tap_ok(t, inb(r, P0 + 2) == 0x55 && inb(r, P0 + 3) == 0xaa,
	       "absent slave latches register writes (as probing sees)");
	outb(r, P0 + 7, 0xec);
	tap_ok(t, inb(r, P0 + 7) == 0 && r->irq[0].rises == 0, "absent slave ignores commands");
	outb(r, P0 + 6, 0xa0);
	tap_ok(t, alt(r, C0) == 0x50, "master selected again");
	{
		/* An empty channel reads 0 everywhere. */
		const char *const none[4] = {"hd:0", "", "", ""};
		struct rig *e = rig_new(none, disk_sizes, 1, false, false, 0);
		rig_enable(e);
		tap_ok(t, inb(e, P1 + 7) == 0 && inb(e, P1 + 2) == 0 && inb(e, C1) == 0,
		       "empty channel: status and registers read 0");
		rig_free(e);
	}
	rig_free(r);
}

/* ---- IDENTIFY ---- */

static void ident(struct rig *r, unsigned base, uint8_t cmd, uint16_t *w)
{
	uint8_t b[512];
	outb(r, base + 6, 0xa0);
	outb(r, base + 7, cmd);
	pio_in(r, base, b, 512);
	for (unsigned i = 0; i < 256; i++)
		w[i] = (uint16_t)(b[2 * i] | b[2 * i + 1] << 8);
}

static bool id_string(const uint16_t *w, unsigned words, const char *want)
{
	char s[64] = {0};
	for (unsigned i = 0; i < words; i++) {
		s[2 * i] = (char)(w[i] >> 8);
		s[2 * i + 1] = (char)w[i];
	}
	return !strncmp(s, want, strlen(want));
}

static bool id_checksum(const uint16_t *w)
{
	uint8_t sum = 0;
	for (unsigned i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (w[i] & 0xff) + (w[i] >> 8));
	return (w[255] & 0xff) == 0xa5 && sum == 0;
}

static void test_identify(struct tap *t)
{
	struct rig *r = std_rig(false, false);
	uint16_t w[256];
	uint8_t st;

	ident(r, P0, 0xec, w);
	st = inb(r, P0 + 7);
	tap_ok(t, st == 0x50 && r->irq[0].rises == 1, "IDENTIFY: one interrupt, status 50h after");
	tap_ok(t, w[0] == 0x0040 && w[1] == 8 && w[3] == 16 && w[6] == 63,
	       "IDENTIFY: fixed disk, 8 cylinders of 16 heads x 63 sectors (%u/%u/%u)",
	       w[1], w[3], w[6]);
	tap_ok(t, w[60] == 8192 && w[61] == 0 && w[100] == 8192 && w[101] == 0,
	       "IDENTIFY: LBA28 and LBA48 capacities");
	tap_ok(t, (w[49] & 0x0300) == 0x0300 && (w[83] & 0x0400) && (w[86] & 0x0400) &&
		   (w[83] & 0x2000) && (w[83] & 0x1000), "IDENTIFY: LBA, DMA, 48-bit, FLUSH CACHE (EXT)");
	tap_ok(t, w[47] == 0x8010 && w[59] == 0x0110, "IDENTIFY: multiple up to 16, on at 16 from power-on (as QEMU)");
	tap_ok(t, w[63] == 0x0007 && w[88] == 0x003f && w[53] == 7,
	       "IDENTIFY: MWDMA 0-2 and UDMA 0-5 supported, none selected");
	tap_ok(t, (w[93] & 0xe000) == 0x6000, "IDENTIFY: 80-conductor cable (word 93)");
	tap_ok(t, (w[82] & 0x20) && (w[85] & 0x20), "IDENTIFY: write cache supported, enabled");
	tap_ok(t, id_string(w + 27, 20, "V2E HARDDISK ") && id_string(w + 10, 10, "FAKE0000"),
	       "IDENTIFY: model and the front's serial");
	tap_ok(t, id_checksum(w), "IDENTIFY: checksum word 255");
	lba28(r, P0, 0, 0x45, 0, 0xef); /* UDMA 5 */
	outb(r, P0 + 1, 0x03);
	outb(r, P0 + 2, 0x45);
	outb(r, P0 + 7, 0xef);
	tap_ok(t, alt(r, C0) == 0x50, "SET FEATURES transfer mode UDMA5");
	ident(r, P0, 0xec, w);
	tap_ok(t, w[88] == 0x203f && w[63] == 0x0007 && id_checksum(w),
	       "IDENTIFY: UDMA 5 selected");
	outb(r, P0 + 1, 0x03);
	outb(r, P0 + 2, 0x46);
	outb(r, P0 + 7, 0xef);
	tap_ok(t, alt(r, C0) == 0x41 && inb(r, P0 + 1) == ATA_ER_ABRT, "UDMA6 aborted");
	outb(r, P0 + 1, 0x82);
	outb(r, P0 + 7, 0xef);
	ident(r, P0, 0xec, w);
	tap_ok(t, !(w[85] & 0x20), "write cache off");
	outb(r, P0 + 1, 0x05); /* APM: not supported */
	outb(r, P0 + 7, 0xef);
	tap_ok(t, alt(r, C0) == 0x41, "SET FEATURES APM aborted");
	outb(r, P0 + 2, 4);
	outb(r, P0 + 7, 0xc6);
	ident(r, P0, 0xec, w);
	tap_ok(t, w[59] == 0x0104, "SET MULTIPLE 4: word 59");
	outb(r, P0 + 2, 3);
	outb(r, P0 + 7, 0xc6);
	tap_ok(t, alt(r, C0) == 0x41, "SET MULTIPLE 3 aborted (not a power of two)");
	outb(r, P0 + 6, 0xa3); /* 4 heads */
	outb(r, P0 + 2, 32);
	outb(r, P0 + 7, 0x91);
	ident(r, P0, 0xec, w);
	tap_ok(t, w[55] == 4 && w[56] == 32 && w[54] == 64, "INITIALIZE DEVICE PARAMETERS: "
	       "current geometry 64/4/32 (%u/%u/%u)", w[54], w[55], w[56]);
	ident(r, P0, 0xa1, w);
	tap_ok(t, alt(r, C0) == 0x41, "IDENTIFY PACKET DEVICE on a disk aborts");
	ident(r, P1, 0xec, w);
	tap_ok(t, alt(r, C1) == 0x41 && inb(r, P1 + 4) == 0x14 && inb(r, P1 + 5) == 0xeb,
	       "IDENTIFY DEVICE on ATAPI aborts with the signature");
	ident(r, P1, 0xa1, w);
	tap_ok(t, w[0] == 0x85c0 && (w[49] & 0x0100) && id_string(w + 27, 20, "V2E DVD-ROM") &&
		   id_checksum(w), "IDENTIFY PACKET DEVICE: CD-ROM, removable, DMA, model");
	rig_free(r);
}

/* ---- ATA PIO ---- */

static void test_pio(struct tap *t)
{
	struct rig *r = std_rig(false, false);
	uint8_t *b = malloc(64 * 512), *d = r->front.disk[0].data;
	bool ok;

	irqrec_clear(&r->irq[0]);
	lba28(r, P0, 0, 3, 5, 0x20);
	settle(r);
	ok = true;
	for (unsigned s = 0; s < 3; s++) {
		ok = ok && (inb(r, P0 + 7) & (ATA_DRQ | ATA_BSY)) == ATA_DRQ;
		pio_in(r, P0, b + s * 512, 512);
	}
	tap_ok(t, ok && disk_matches(b, 0, 5, 3 * 512), "READ SECTORS LBA28: 3 sectors, data");
	tap_ok(t, r->irq[0].rises == 3 && alt(r, C0) == 0x50,
	       "one interrupt per sector, none after the last");
	tap_ok(t, inb(r, P0 + 3) == 8 && inb(r, P0 + 2) == 0,
	       "task file at the next sector, count 0");

	/* 40 sectors: two front requests (32 + 8). */
	r->front.submits = 0;
	lba28(r, P0, 0, 40, 100, 0x20);
	settle(r);
	for (unsigned s = 0; s < 40; s++) {
		settle(r);
		pio_in(r, P0, b + (s % 64) * 512, 512);
	}
	tap_ok(t, disk_matches(b, 0, 100, 40 * 512) && r->front.submits == 2,
	       "40 sectors in two chunks (%u requests)", r->front.submits);

	/* LBA48 write and read back. */
	for (unsigned i = 0; i < 2 * 512; i++)
		b[i] = (uint8_t)(i ^ 0x5a);
	lba48(r, P0, 0, 2, 8000, 0x34);
	tap_ok(t, (alt(r, C0) & ATA_DRQ) && r->irq[0].level == false,
	       "WRITE SECTORS EXT: DRQ without an interrupt for the first block");
	pio_out(r, P0, b, 512);
	settle(r);
	pio_out(r, P0, b + 512, 512);
	settle(r);
	tap_ok(t, alt(r, C0) == 0x50 && !memcmp(d + 8000 * 512, b, 1024),
	       "WRITE SECTORS EXT: on the disk");
	outb(r, C0, ATA_DC_HOB);
	tap_ok(t, inb(r, P0 + 3) == 0 && inb(r, P0 + 4) == 0, "HOB reads the high LBA bytes");
	outb(r, C0, 0);
	lba48(r, P0, 0, 1, 1ull << 40, 0x24);
	tap_ok(t, alt(r, C0) == 0x41 && inb(r, P0 + 1) == ATA_ER_IDNF,
	       "READ SECTORS EXT beyond the disk: IDNF");
	lba48(r, P0, 0, 2, 8000, 0x24);
	settle(r);
	pio_in(r, P0, b + 2048, 1024);
	tap_ok(t, !memcmp(b + 2048, b, 1024), "READ SECTORS EXT reads it back");

	/* CHS: cylinder 1, head 2, sector 3 = (1 * 16 + 2) * 63 + 2. */
	outb(r, P0 + 2, 1);
	outb(r, P0 + 3, 3);
	outb(r, P0 + 4, 1);
	outb(r, P0 + 5, 0);
	outb(r, P0 + 6, 0xa2);
	outb(r, P0 + 7, 0x20);
	settle(r);
	pio_in(r, P0, b, 512);
	tap_ok(t, disk_matches(b, 0, 18 * 63 + 2, 512), "READ SECTORS by CHS");
	tap_ok(t, inb(r, P0 + 3) == 4 && (inb(r, P0 + 6) & 0x0f) == 2 && inb(r, P0 + 4) == 1,
	       "CHS: the task file says the next sector in CHS");
	outb(r, P0 + 3, 0); /* sector 0 does not exist */
	outb(r, P0 + 6, 0xa0);
	outb(r, P0 + 7, 0x20);
	tap_ok(t, alt(r, C0) == 0x41 && inb(r, P0 + 1) == ATA_ER_IDNF, "CHS sector 0: IDNF");

	/* READ MULTIPLE: 10 sectors in blocks of 4, 4, 2. */
	outb(r, P0 + 2, 4);
	outb(r, P0 + 7, 0xc6);
	(void)inb(r, P0 + 7);
	irqrec_clear(&r->irq[0]);
	lba28(r, P0, 0, 10, 200, 0xc4);
	for (unsigned blk = 0; blk < 3; blk++) {
		settle(r);
		(void)inb(r, P0 + 7);
		pio_in(r, P0, b + blk * 2048, blk == 2 ? 1024 : 2048);
	}
	tap_ok(t, disk_matches(b, 0, 200, 10 * 512) && r->irq[0].rises == 3,
	       "READ MULTIPLE: 10 sectors in 3 blocks (%u interrupts)", r->irq[0].rises);
	for (unsigned i = 0; i < 10 * 512; i++)
		b[i] = (uint8_t)(i * 3);
	irqrec_clear(&r->irq[0]);
	lba28(r, P0, 0, 10, 300, 0xc5);
	for (unsigned blk = 0; blk < 3; blk++) {
		settle(r);
		(void)inb(r, P0 + 7);
		pio_out(r, P0, b + blk * 2048, blk == 2 ? 1024 : 2048);
	}
	settle(r);
	tap_ok(t, alt(r, C0) == 0x50 && !memcmp(d + 300 * 512, b, 10 * 512) &&
		   r->irq[0].rises == 3, "WRITE MULTIPLE: 10 sectors, an interrupt per block");
	outb(r, P0 + 2, 0);
	outb(r, P0 + 7, 0xc6);
	lba28(r, P0, 0, 1, 0, 0xc4);
	tap_ok(t, alt(r, C0) == 0x41, "READ MULTIPLE with multiple mode off aborts");

	/* 32-bit PIO. */
	lba28(r, P0, 0, 1, 7, 0x20);
	settle(r);
	for (unsigned i = 0; i < 128; i++) {
		uint32_t v = inl(r, P0);
		memcpy(b + 4 * i, &v, 4);
	}
	tap_ok(t, disk_matches(b, 0, 7, 512) && alt(r, C0) == 0x50, "32-bit data port");
	free(b);
	rig_free(r);
}

/* ---- errors, nIEN, misc commands ---- */

static void test_errors(struct tap *t)
{
	struct rig *r = std_rig(false, false);
	uint8_t b[512];

	lba28(r, P0, 0, 1, 8192, 0x20);
	tap_ok(t, alt(r, C0) == 0x41 && inb(r, P0 + 1) == ATA_ER_IDNF, "past the end: IDNF");
	lba28(r, P0, 0, 2, 8191, 0x20);
	tap_ok(t, inb(r, P0 + 1) == ATA_ER_IDNF, "straddling the end: IDNF");
	outb(r, P0 + 7, 0x00);
	tap_ok(t, alt(r, C0) == 0x41 && inb(r, P0 + 1) == ATA_ER_ABRT, "NOP: ABRT");
	outb(r, P0 + 7, 0xb0);
	tap_ok(t, inb(r, P0 + 1) == ATA_ER_ABRT, "SMART (not supported): ABRT");
	outb(r, P0 + 7, 0xa0);
	tap_ok(t, inb(r, P0 + 1) == ATA_ER_ABRT, "PACKET on a disk: ABRT");
	r->front.eio_sector = 50;
	lba28(r, P0, 0, 4, 48, 0x20);
	settle(r);
	tap_ok(t, alt(r, C0) == 0x41 && inb(r, P0 + 1) == ATA_ER_UNC && inb(r, P0 + 3) == 48,
	       "an I/O error of the front: UNC at the chunk's sector");
	r->front.eio_sector = -1;

	irqrec_clear(&r->irq[0]);
	outb(r, C0, ATA_DC_NIEN);
	lba28(r, P0, 0, 1, 0, 0x20);
	settle(r);
	tap_ok(t, !r->irq[0].level && (alt(r, C0) & ATA_DRQ), "nIEN: no interrupt, DRQ still");
	outb(r, C0, 0);
	tap_ok(t, r->irq[0].level, "nIEN cleared with INTRQ pending: the line rises");
	(void)inb(r, C0);
	tap_ok(t, r->irq[0].level, "alternate status does not acknowledge");
	(void)inb(r, P0 + 7);
	tap_ok(t, !r->irq[0].level, "status acknowledges");
	pio_in(r, P0, b, 512);

	outb(r, P0 + 2, 0x11);
	outb(r, P0 + 2, 0x22);
	outb(r, C0, ATA_DC_HOB);
	tap_ok(t, inb(r, P0 + 2) == 0x11, "HOB: the previous sector count");
	outb(r, P0 + 3, 0);
	tap_ok(t, inb(r, P0 + 2) == 0x22, "a register write clears HOB");

	r->front.flushes = 0;
	outb(r, P0 + 7, 0xe7);
	tap_ok(t, alt(r, C0) & ATA_BSY, "FLUSH CACHE: BSY until the front is done");
	settle(r);
	outb(r, P0 + 7, 0xea);
	settle(r);
	tap_ok(t, alt(r, C0) == 0x50 && r->front.flushes == 2, "FLUSH CACHE (EXT) flush the front");
	outb(r, P0 + 7, 0xf8);
	tap_ok(t, inb(r, P0 + 3) == 0xff && inb(r, P0 + 4) == 0x1f && inb(r, P0 + 5) == 0 &&
		   (inb(r, P0 + 6) & 0x0f) == 0, "READ NATIVE MAX ADDRESS: 8191");
	outb(r, P0 + 7, 0x27);
	outb(r, C0, ATA_DC_HOB);
	tap_ok(t, inb(r, P0 + 3) == 0, "READ NATIVE MAX ADDRESS EXT: high bytes 0");
	outb(r, C0, 0);
	tap_ok(t, inb(r, P0 + 3) == 0xff && inb(r, P0 + 4) == 0x1f, "and low bytes");
	outb(r, P0 + 7, 0xe0);
	outb(r, P0 + 7, 0xe5);
	tap_ok(t, inb(r, P0 + 2) == 0x00, "CHECK POWER MODE after STANDBY IMMEDIATE: standby");
	outb(r, P0 + 7, 0xe1);
	outb(r, P0 + 7, 0xe5);
	tap_ok(t, inb(r, P0 + 2) == 0xff, "after IDLE IMMEDIATE: active");
	lba28(r, P0, 0, 8, 10, 0x40);
	tap_ok(t, alt(r, C0) == 0x50, "READ VERIFY SECTORS");
	outb(r, P0 + 7, 0x10);
	outb(r, P0 + 7, 0x70);
	tap_ok(t, alt(r, C0) == 0x50, "RECALIBRATE, SEEK");
	outb(r, P0 + 7, 0x90);
	tap_ok(t, inb(r, P0 + 1) == 0x01 && inb(r, P0 + 4) == 0 && alt(r, C0) == 0x50,
	       "EXECUTE DEVICE DIAGNOSTIC: 01h, signature");
	{
		/* A read-only disk refuses writes. */
		r->ide->ch[0].unit[0].read_only = true;
		lba28(r, P0, 0, 1, 0, 0x30);
		tap_ok(t, alt(r, C0) == 0x41, "a write to a read-only disk aborts");
		r->ide->ch[0].unit[0].read_only = false;
	}
	tap_ok(t, r->front.violations == 0, "the front saw no malformed request");
	rig_free(r);
}

/* ---- bus master DMA ---- */

static void prd(struct rig *r, uint32_t at, unsigned i, uint32_t addr, uint32_t len, bool eot)
{
	uint8_t *e = r->ram + at + 8 * i;
	uint32_t w1 = (len & 0xffff) | (eot ? BM_PRD_EOT : 0);
	memcpy(e, &addr, 4);
	memcpy(e + 4, &w1, 4);
}

static void bm_go(struct rig *r, unsigned ch, uint32_t table, bool to_memory)
{
	unsigned base = RIG_BM + 8 * ch;
	outb(r, base + BM_STATUS, BM_ST_ERROR | BM_ST_INT);
	outl(r, base + BM_PRD, table);
	outb(r, base + BM_CMD, to_memory ? BM_CMD_READ : 0);
	outb(r, base + BM_CMD, (to_memory ? BM_CMD_READ : 0) | BM_CMD_START);
}

static void bm_stop(struct rig *r, unsigned ch)
{
	outb(r, RIG_BM + 8 * ch + BM_CMD, 0);
}

static void test_dma(struct tap *t)
{
	struct rig *r = std_rig(false, false);
	uint8_t *d = r->front.disk[0].data;
	uint8_t bmst;

	/* 4 sectors: 1 KiB crossing the page at 0x11000, then 1 KiB. */
	prd(r, 0x1000, 0, 0x10e00, 0x400, false);
	prd(r, 0x1000, 1, 0x30000, 0x400, true);
	irqrec_clear(&r->irq[0]);
	lba28(r, P0, 0, 4, 16, 0xc8);
	tap_ok(t, alt(r, C0) & ATA_BSY, "READ DMA: BSY while the bus master is stopped");
	bm_go(r, 0, 0x1000, true);
	settle(r);
	bmst = inb(r, RIG_BM + 2);
	tap_ok(t, disk_matches(r->ram + 0x10e00, 0, 16, 1024) &&
		   disk_matches(r->ram + 0x30000, 0, 18, 1024), "READ DMA: data across pages");
	tap_ok(t, bmst == BM_ST_INT && r->irq[0].level && alt(r, C0) == 0x50,
	       "READ DMA: table used up, ACTIVE clear, INT, interrupt (BM status %02x)", bmst);
	tap_ok(t, r->front.last_nseg == 2 && r->wrote == 2048,
	       "one request with the PRD ranges as segments; dma_wrote for 2 KiB");
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* Adjacent entries merge into one segment. */
	prd(r, 0x1000, 0, 0x40000, 0x200, false);
	prd(r, 0x1000, 1, 0x40200, 0x200, true);
	lba28(r, P0, 0, 2, 40, 0xc8);
	bm_go(r, 0, 0x1000, true);
	settle(r);
	tap_ok(t, r->front.last_nseg == 1 && disk_matches(r->ram + 0x40000, 0, 40, 1024),
	       "adjacent PRD entries: one segment");
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* Linux's fullest table (128 scattered entries, LIBATA_MAX_PRD) is
	 * one request; one entry more makes a second round. */
	for (unsigned extra = 0; extra < 2; extra++) {
		unsigned n = 128 + extra, before = r->front.submits;
		bool data = true;
		for (unsigned i = 0; i < n; i++)
			prd(r, 0x2000, i, 0x80000 + 0x400 * i, 0x200, i == n - 1);
		lba28(r, P0, 0, (uint8_t)n, 100, 0xc8);
		bm_go(r, 0, 0x2000, true);
		settle(r);
		for (unsigned i = 0; i < n; i++)
			data = data && disk_matches(r->ram + 0x80000 + 0x400 * i, 0, 100 + i, 512);
		tap_ok(t, data && r->front.submits - before == 1 + extra &&
			   alt(r, C0) == 0x50,
		       "%u scattered PRD entries: %u request(s), the data in place",
		       n, r->front.submits - before);
		bm_stop(r, 0);
		(void)inb(r, P0 + 7);
	}

	/* WRITE DMA EXT, started before the command. */
	for (unsigned i = 0; i < 1536; i++)
		r->ram[0x50000 + i] = (uint8_t)(i * 11);
	prd(r, 0x1000, 0, 0x50000, 0x600, true);
	bm_go(r, 0, 0x1000, false);
	lba48(r, P0, 0, 3, 500, 0x35);
	settle(r);
	tap_ok(t, !memcmp(d + 500 * 512, r->ram + 0x50000, 1536) && alt(r, C0) == 0x50 &&
		   inb(r, RIG_BM + 2) == BM_ST_INT, "WRITE DMA EXT, bus master started first");
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* The table ends early: 1 KiB for 4 sectors. */
	prd(r, 0x1000, 0, 0x60000, 0x400, true);
	irqrec_clear(&r->irq[0]);
	lba28(r, P0, 0, 4, 0, 0xc8);
	bm_go(r, 0, 0x1000, true);
	settle(r);
	bmst = inb(r, RIG_BM + 2);
	tap_ok(t, (bmst & 7) == 0 && !r->irq[0].level && (alt(r, C0) & ATA_ERR) &&
		   disk_matches(r->ram + 0x60000, 0, 0, 1024),
	       "PRD table too short: ACTIVE, INT and ERROR clear, no interrupt, drive ERR "
	       "(BM %02x, drive %02x)", bmst, alt(r, C0));
	bm_stop(r, 0);

	/* Longer than the transfer. */
	prd(r, 0x1000, 0, 0x60000, 0x1000, false);
	prd(r, 0x1000, 1, 0x70000, 0x1000, true);
	lba28(r, P0, 0, 2, 0, 0xc8);
	bm_go(r, 0, 0x1000, true);
	settle(r);
	bmst = inb(r, RIG_BM + 2);
	tap_ok(t, bmst == (BM_ST_INT | BM_ST_ACTIVE) && alt(r, C0) == 0x50,
	       "PRD table longer: ACTIVE stays, INT set (BM %02x)", bmst);
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* Entries too small for a sector in 64 segments: bounced. */
	for (unsigned i = 0; i < 128; i++)
		prd(r, 0x2000, i, 0x80000 + 16 * i, 4, i == 127);
	lba28(r, P0, 0, 1, 77, 0xc8);
	bm_go(r, 0, 0x2000, true);
	settle(r);
	{
		bool ok = true;
		for (unsigned i = 0; i < 128; i++)
			ok = ok && disk_matches(r->ram + 0x80000 + 16 * i, 0, 77, 0) &&
			     r->ram[0x80000 + 16 * i] == disk_byte(0, 77 * 512 + 4 * i) &&
			     r->ram[0x80000 + 16 * i + 3] == disk_byte(0, 77 * 512 + 4 * i + 3);
		tap_ok(t, ok && inb(r, RIG_BM + 2) == BM_ST_INT && alt(r, C0) == 0x50,
		       "128 entries of 4 bytes: one sector through the bounce area");
	}
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* A table outside RAM: the bus master's error. */
	lba28(r, P0, 0, 1, 0, 0xc8);
	bm_go(r, 0, 0xfff00000, true);
	settle(r);
	bmst = inb(r, RIG_BM + 2);
	tap_ok(t, (bmst & (BM_ST_ERROR | BM_ST_ACTIVE)) == BM_ST_ERROR && (alt(r, C0) & ATA_ERR),
	       "PRD table outside RAM: ERROR, the command aborts");
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);
	/* Data outside RAM: the front refuses, ERROR. */
	prd(r, 0x1000, 0, 0xfffff000, 0x200, true);
	lba28(r, P0, 0, 1, 0, 0xc8);
	bm_go(r, 0, 0x1000, true);
	settle(r);
	tap_ok(t, (inb(r, RIG_BM + 2) & BM_ST_ERROR) && (alt(r, C0) & ATA_ERR),
	       "data outside RAM: ERROR");
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* Tiny entries for a write: gathered into the bounce area. */
	for (unsigned i = 0; i < 128; i++) {
		prd(r, 0x2000, i, 0x88000 + 16 * i, 4, i == 127);
		memset(r->ram + 0x88000 + 16 * i, (int)i, 4);
	}
	lba28(r, P0, 0, 1, 90, 0xca);
	bm_go(r, 0, 0x2000, false);
	settle(r);
	{
		bool ok = alt(r, C0) == 0x50;
		for (unsigned i = 0; i < 512; i++)
			ok = ok && d[90 * 512 + i] == i / 4;
		tap_ok(t, ok, "WRITE DMA from 4-byte entries: through the bounce area");
	}
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* 2 MiB from 32 entries of 64 KiB (count 0): two requests of 1 MiB. */
	for (unsigned i = 0; i < 32; i++)
		prd(r, 0x3000, i, 0x40000, 0, i == 31);
	r->front.submits = 0;
	lba48(r, P0, 0, 4096, 0, 0x25);
	bm_go(r, 0, 0x3000, true);
	settle(r);
	tap_ok(t, alt(r, C0) == 0x50 && r->front.submits == 2 && r->front.last_n == 2048 &&
		   disk_matches(r->ram + 0x40000, 0, 31 * 128, 65536) &&
		   inb(r, RIG_BM + 2) == BM_ST_INT,
	       "READ DMA EXT of 2 MiB: count 0 is 64 KiB, requests of at most 1 MiB (%u)",
	       r->front.submits);
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* Stopped mid-transfer: the drive waits, a restart goes on. */
	r->front.defer = true;
	prd(r, 0x3000, 0, 0x40000, 0, false);
	prd(r, 0x3000, 1, 0x50000, 0, false);
	for (unsigned i = 2; i < 32; i++)
		prd(r, 0x3000, i, 0x40000, 0, i == 31);
	lba48(r, P0, 0, 4096, 0, 0x25);
	bm_go(r, 0, 0x3000, true);
	bm_stop(r, 0);
	ff_wait(&r->front.f, r->ide->ch[0].handle);
	tap_ok(t, (alt(r, C0) & ATA_BSY) && r->ide->ch[0].req == RS_IDLE &&
		   r->ide->ch[0].left == 4096 - 2048, "bus master stopped: the drive waits");
	r->front.defer = false;
	bm_go(r, 0, 0x3000, true);
	settle(r);
	tap_ok(t, alt(r, C0) == 0x50 && r->ide->ch[0].left == 0 &&
		   (inb(r, RIG_BM + 2) & (BM_ST_INT | BM_ST_ACTIVE)) == (BM_ST_INT | BM_ST_ACTIVE),
	       "restarted: the rest from the table's top (ACTIVE: table longer than the rest)");
	bm_stop(r, 0);
	(void)inb(r, P0 + 7);

	/* Bus mastering off in PCI: nothing moves until it is on. */
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO);
	prd(r, 0x1000, 0, 0x90000, 0x200, true);
	memset(r->ram + 0x90000, 0, 512);
	lba28(r, P0, 0, 1, 3, 0xc8);
	bm_go(r, 0, 0x1000, true);
	settle(r);
	tap_ok(t, (alt(r, C0) & ATA_BSY) && r->ram[0x90000] == 0,
	       "without PCI bus mastering the transfer waits");
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	settle(r);
	tap_ok(t, alt(r, C0) == 0x50 && disk_matches(r->ram + 0x90000, 0, 3, 512),
	       "and runs once it is on");
	bm_stop(r, 0);
	tap_ok(t, r->front.violations == 0 && r->ram_faults >= 1,
	       "the front saw no malformed request; RAM refused what was outside");
	rig_free(r);
}

/* ---- ATAPI ---- */

struct pkt_result {
	uint8_t status, error, ireason;
	uint32_t bytes;
	uint8_t data[4096];
};

/* A packet command by PIO with byte count limit `bcl`, its data read
 * DRQ block by DRQ block. */
static void packet(struct rig *r, const uint8_t cdb[12], uint16_t bcl, struct pkt_result *o)
{
	memset(o, 0, sizeof(*o));
	outb(r, P1 + 6, 0xa0);
	outb(r, P1 + 1, 0);
	outb(r, P1 + 4, (uint8_t)bcl);
	outb(r, P1 + 5, (uint8_t)(bcl >> 8));
	outb(r, P1 + 7, 0xa0);
	for (unsigned i = 0; i < 12; i += 2)
		outw(r, P1, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
	for (unsigned blocks = 0; blocks < 1000; blocks++) {
		uint8_t st;
		uint32_t n;
		settle(r);
		st = inb(r, P1 + 7);
		if (!(st & ATA_DRQ))
			break;
		n = (uint32_t)inb(r, P1 + 4) | (uint32_t)inb(r, P1 + 5) << 8;
		for (uint32_t i = 0; i < n; i += 2) {
			uint16_t w = inw(r, P1);
			if (o->bytes + 1 < sizeof(o->data)) {
				o->data[o->bytes] = (uint8_t)w;
				o->data[o->bytes + 1] = (uint8_t)(w >> 8);
			}
			o->bytes += i + 1 < n ? 2 : 1;
		}
	}
	o->status = inb(r, C1);
	o->error = inb(r, P1 + 1);
	o->ireason = inb(r, P1 + 2) & 3;
}

static void sense(struct rig *r, uint8_t *key, uint8_t *asc, uint8_t *ascq)
{
	static const uint8_t rs[12] = {0x03, 0, 0, 0, 18};
	struct pkt_result o;
	packet(r, rs, 18, &o);
	*key = o.data[2] & 0x0f;
	*asc = o.data[12];
	*ascq = o.data[13];
}

static bool check_sense(struct rig *r, const struct pkt_result *o, uint8_t key, uint8_t asc,
			uint8_t ascq)
{
	uint8_t k, a, q;
	if (!(o->status & ATA_ERR) || o->error >> 4 != key)
		return false;
	sense(r, &k, &a, &q);
	return k == key && a == asc && q == ascq;
}

static void test_atapi(struct tap *t)
{
	struct rig *r = std_rig(false, false);
	struct pkt_result o;
	uint32_t blocks = 4096;

	{
		static const uint8_t c[12] = {0x00};
		packet(r, c, 0, &o);
		tap_ok(t, o.status == 0x50 && o.ireason == 3 && o.bytes == 0,
		       "TEST UNIT READY: good, interrupt reason I/O+C/D");
	}
	{
		static const uint8_t c[12] = {0x12, 0, 0, 0, 36};
		packet(r, c, 0x1000, &o);
		tap_ok(t, o.bytes == 36 && o.data[0] == 0x05 && o.data[1] == 0x80 &&
			   !memcmp(o.data + 16, "V2E DVD-ROM", 11), "INQUIRY");
	}
	{
		static const uint8_t c[12] = {0x12, 1, 0x80, 0, 36};
		packet(r, c, 0x1000, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x24, 0), "INQUIRY EVPD: ILLEGAL REQUEST 24h");
	}
	{
		static const uint8_t c[12] = {0x25};
		packet(r, c, 8, &o);
		tap_ok(t, o.bytes == 8 && o.data[2] == 0x0f && o.data[3] == 0xff &&
			   o.data[6] == 0x08 && o.data[7] == 0, "READ CAPACITY: 4095, 2048");
	}
	{
		static const uint8_t c[12] = {0x28, 0, 0, 0, 0, 3, 0, 0, 2};
		packet(r, c, 2048, &o);
		tap_ok(t, o.bytes == 4096 && disk_matches(o.data, 1, 12, 4096) && o.status == 0x50,
		       "READ(10) by PIO, DRQ blocks of 2048");
	}
	{
		/* A byte count limit smaller than a block: blocks of 1000. */
		static const uint8_t c[12] = {0x28, 0, 0, 0, 0, 1, 0, 0, 1};
		packet(r, c, 1000, &o);
		tap_ok(t, o.bytes == 2048 && disk_matches(o.data, 1, 4, 2048),
		       "READ(10) with byte count limit 1000");
	}
	{
		static const uint8_t c[12] = {0x28, 0, 0, 0, 0x0f, 0xff, 0, 0, 2};
		packet(r, c, 2048, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x21, 0), "READ(10) past the end: LBA OUT OF RANGE");
	}
	{
		/* READ(12) by DMA. */
		static const uint8_t c[12] = {0xa8, 0, 0, 0, 0, 10, 0, 0, 0, 3};
		prd(r, 0x1000, 0, 0x20000, 0x1000, false);
		prd(r, 0x1000, 1, 0x21000, 0x2000, true);
		bm_go(r, 1, 0x1000, true);
		outb(r, P1 + 6, 0xa0);
		outb(r, P1 + 1, 1); /* DMA */
		outb(r, P1 + 7, 0xa0);
		for (unsigned i = 0; i < 12; i += 2)
			outw(r, P1, (uint16_t)(c[i] | c[i + 1] << 8));
		settle(r);
		tap_ok(t, disk_matches(r->ram + 0x20000, 1, 40, 6144) && alt(r, C1) == 0x50 &&
			   (inb(r, P1 + 2) & 3) == 3 && (inb(r, RIG_BM + 8 + 2) & BM_ST_INT),
		       "READ(12) by DMA");
		bm_stop(r, 1);
		(void)inb(r, P1 + 7);
	}
	{
		/* INQUIRY by DMA: from the buffer. */
		static const uint8_t c[12] = {0x12, 0, 0, 0, 36};
		prd(r, 0x1000, 0, 0x22000, 0x200, true);
		bm_go(r, 1, 0x1000, true);
		outb(r, P1 + 1, 1);
		outb(r, P1 + 7, 0xa0);
		for (unsigned i = 0; i < 12; i += 2)
			outw(r, P1, (uint16_t)(c[i] | c[i + 1] << 8));
		tap_ok(t, r->ram[0x22000] == 0x05 && alt(r, C1) == 0x50 &&
			   (inb(r, RIG_BM + 10) & (BM_ST_INT | BM_ST_ACTIVE)) ==
				   (BM_ST_INT | BM_ST_ACTIVE), "INQUIRY by DMA (table longer)");
		bm_stop(r, 1);
		(void)inb(r, P1 + 7);
	}
	{
		static const uint8_t c[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100};
		packet(r, c, 100, &o);
		tap_ok(t, o.bytes == 20 && o.data[1] == 18 && o.data[6] == 1 && o.data[14] == 0xaa &&
			   o.data[16] == 0 && o.data[18] == 0x10 && o.data[19] == 0,
		       "READ TOC format 0, LBA: track 1 and lead-out at 4096");
	}
	{
		static const uint8_t c[12] = {0x43, 2, 0, 0, 0, 0, 0, 0, 100};
		packet(r, c, 100, &o);
		uint32_t lo = blocks + 150;
		tap_ok(t, o.bytes == 20 && o.data[9] == 0 && o.data[10] == 2 && o.data[11] == 0 &&
			   o.data[17] == lo / 4500 && o.data[18] == lo / 75 % 60 &&
			   o.data[19] == lo % 75, "READ TOC format 0, MSF: 00:02:00 and the lead-out");
	}
	{
		static const uint8_t c[12] = {0x43, 0, 1, 0, 0, 0, 0, 0, 100};
		packet(r, c, 100, &o);
		tap_ok(t, o.bytes == 12 && o.data[1] == 10 && o.data[6] == 1, "READ TOC format 1");
	}
	{
		static const uint8_t c[12] = {0x43, 2, 2, 0, 0, 0, 0, 0, 100};
		packet(r, c, 100, &o);
		tap_ok(t, o.bytes == 48 && o.data[7] == 0xa0 && o.data[18] == 0xa1 &&
			   o.data[29] == 0xa2 && o.data[40] == 1, "READ TOC format 2: A0, A1, A2, 1");
	}
	{
		static const uint8_t c[12] = {0x43, 0, 5, 0, 0, 0, 0, 0, 100};
		packet(r, c, 100, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x24, 0), "READ TOC format 5: INVALID FIELD");
	}
	{
		static const uint8_t c[12] = {0x46, 0, 0, 0, 0, 0, 0, 1, 0};
		packet(r, c, 256, &o);
		tap_ok(t, o.data[6] == 0 && o.data[7] == 0x08 && o.data[8] == 0 && o.data[9] == 0 &&
			   o.data[12] == 0 && o.data[13] == 0x10 && o.data[16] == 0 &&
			   o.data[17] == 0x08 && (o.data[18] & 1),
		       "GET CONFIGURATION: profiles DVD-ROM, CD-ROM; CD-ROM current");
	}
	{
		static const uint8_t c[12] = {0x46, 2, 0, 0x1e, 0, 0, 0, 0, 64};
		packet(r, c, 64, &o);
		tap_ok(t, o.bytes == 16 && o.data[9] == 0x1e, "GET CONFIGURATION RT=2: one feature "
		       "(%u bytes, %02x)", o.bytes, o.data[9]);
	}
	{
		static const uint8_t c[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 64};
		packet(r, c, 64, &o);
		tap_ok(t, o.bytes == 30 && o.data[1] == 28 && o.data[8] == 0x2a && o.data[9] == 0x14 &&
			   (o.data[14] & 0x09) == 0x09, "MODE SENSE(10) page 2Ah: capabilities");
	}
	{
		static const uint8_t c[12] = {0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255};
		packet(r, c, 255, &o);
		tap_ok(t, o.bytes == 8 + 12 + 8 + 22 && o.data[8] == 0x01 && o.data[20] == 0x0d &&
			   o.data[28] == 0x2a, "MODE SENSE(10) all pages");
	}
	{
		static const uint8_t c[12] = {0x1a, 0, 0x01, 0, 255};
		packet(r, c, 255, &o);
		tap_ok(t, o.bytes == 16 && o.data[0] == 15 && o.data[4] == 0x01, "MODE SENSE(6)");
	}
	{
		static const uint8_t c[12] = {0x5a, 0, 0x05, 0, 0, 0, 0, 0, 64};
		packet(r, c, 64, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x24, 0), "MODE SENSE unknown page: INVALID FIELD");
	}
	{
		static const uint8_t c[12] = {0x5a, 0, 0xea, 0, 0, 0, 0, 0, 64};
		packet(r, c, 64, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x39, 0), "MODE SENSE saved values: 39h");
	}
	{
		static const uint8_t c[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
		packet(r, c, 8, &o);
		tap_ok(t, o.bytes == 8 && o.data[2] == 4 && o.data[4] == 0 && o.data[5] == 2,
		       "GET EVENT STATUS NOTIFICATION: no event, medium present");
	}
	{
		static const uint8_t c[12] = {0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8};
		packet(r, c, 8, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x24, 0), "GESN not polled: INVALID FIELD");
	}
	{
		static const uint8_t c[12] = {0x51, 0, 0, 0, 0, 0, 0, 0, 34};
		packet(r, c, 34, &o);
		tap_ok(t, o.bytes == 34 && o.data[2] == 0x0e, "READ DISC INFORMATION");
	}
	{
		static const uint8_t c[12] = {0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8};
		packet(r, c, 8, &o);
		tap_ok(t, o.bytes == 8 && o.data[1] == 0, "MECHANISM STATUS");
	}
	{
		static const uint8_t c[12] = {0xbb, 0, 0xff, 0xff};
		packet(r, c, 0, &o);
		tap_ok(t, o.status == 0x50, "SET CD SPEED");
	}
	{
		static const uint8_t c[12] = {0xbe, 0, 0, 0, 0, 7, 0, 0, 1, 0x10};
		packet(r, c, 4096, &o);
		tap_ok(t, o.bytes == 2048 && disk_matches(o.data, 1, 28, 2048), "READ CD: user data");
	}
	{
		static const uint8_t c[12] = {0xbe, 0, 0, 0, 0, 7, 0, 0, 1, 0xf8};
		packet(r, c, 4096, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x24, 0), "READ CD raw: INVALID FIELD");
	}
	{
		static const uint8_t c[12] = {0xff};
		packet(r, c, 0, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x20, 0) && o.ireason == 3,
		       "unknown opcode: INVALID COMMAND OPERATION CODE");
	}
	{
		uint8_t k, a, q;
		sense(r, &k, &a, &q);
		tap_ok(t, k == 0 && a == 0, "REQUEST SENSE consumed the sense");
	}
	/* Lock, eject, load. */
	{
		static const uint8_t lock[12] = {0x1e, 0, 0, 0, 1}, unlock[12] = {0x1e},
				     eject[12] = {0x1b, 0, 0, 0, 2}, load[12] = {0x1b, 0, 0, 0, 3},
				     tur[12] = {0x00}, gesn[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
		packet(r, lock, 0, &o);
		packet(r, eject, 0, &o);
		tap_ok(t, check_sense(r, &o, 5, 0x53, 2), "eject while locked: MEDIUM REMOVAL PREVENTED");
		packet(r, unlock, 0, &o);
		packet(r, eject, 0, &o);
		tap_ok(t, o.status == 0x50, "eject when unlocked");
		packet(r, tur, 0, &o);
		tap_ok(t, check_sense(r, &o, 2, 0x3a, 2), "tray open: NOT READY, MEDIUM NOT PRESENT");
		packet(r, gesn, 8, &o);
		tap_ok(t, o.data[4] == 3 && o.data[5] == 1, "GESN: media removal, tray open");
		packet(r, load, 0, &o);
		packet(r, tur, 0, &o);
		tap_ok(t, check_sense(r, &o, 6, 0x28, 0), "after a load: UNIT ATTENTION, medium changed");
		packet(r, tur, 0, &o);
		tap_ok(t, o.status == 0x50, "then ready");
		packet(r, gesn, 8, &o);
		tap_ok(t, o.data[4] == 2 && o.data[5] == 2, "GESN: new media");
	}
	{
		/* DEVICE RESET while idle: signature, no interrupt. */
		irqrec_clear(&r->irq[1]);
		outb(r, P1 + 7, 0x08);
		tap_ok(t, inb(r, P1 + 4) == 0x14 && inb(r, P1 + 5) == 0xeb && r->irq[1].rises == 0,
		       "DEVICE RESET: signature, no interrupt");
	}
	{
		static const uint8_t c[12] = {0x28, 0, 0, 0, 0, 2, 0, 0, 1};
		r->front.eio_sector = 9;
		packet(r, c, 2048, &o);
		r->front.eio_sector = -1;
		tap_ok(t, check_sense(r, &o, 3, 0x11, 0), "a front I/O error: MEDIUM ERROR 11h");
	}
	{
		/* A table too short for a packet command's reply. */
		static const uint8_t c[12] = {0x12, 0, 0, 0, 36};
		prd(r, 0x1000, 0, 0x22000, 0x10, true);
		bm_go(r, 1, 0x1000, true);
		outb(r, P1 + 1, 1);
		outb(r, P1 + 7, 0xa0);
		for (unsigned i = 0; i < 12; i += 2)
			outw(r, P1, (uint16_t)(c[i] | c[i + 1] << 8));
		tap_ok(t, (inb(r, RIG_BM + 10) & 7) == 0 && (alt(r, C1) & ATA_ERR),
		       "INQUIRY by DMA into a 16-byte table: ends early");
		bm_stop(r, 1);
	}
	tap_ok(t, r->front.violations == 0, "the front saw no malformed request");
	rig_free(r);

	{
		/* An empty drive. */
		const char *const u[4] = {"", "", "cd", ""};
		static const uint8_t tur[12] = {0x00}, cap[12] = {0x25},
				     cfg[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 64};
		struct rig *e = rig_new(u, disk_sizes, 0, false, false, 0);
		rig_enable(e);
		packet(e, tur, 0, &o);
		tap_ok(t, check_sense(e, &o, 2, 0x3a, 1), "empty drive: MEDIUM NOT PRESENT, tray closed");
		packet(e, cap, 8, &o);
		tap_ok(t, check_sense(e, &o, 2, 0x3a, 1), "READ CAPACITY without a medium");
		packet(e, cfg, 64, &o);
		tap_ok(t, o.status == 0x50 && o.data[6] == 0 && o.data[7] == 0,
		       "GET CONFIGURATION without a medium: no current profile");
		rig_free(e);
	}
}

/* ---- -icount, SRST in flight ---- */

static void test_async(struct tap *t)
{
	struct rig *r = std_rig(true, true);
	uint8_t b[1024];
	uint64_t t0 = vclock_now(&r->clk), due;

	irqrec_clear(&r->irq[0]);
	lba28(r, P0, 0, 2, 9, 0x20);
	due = vclock_next_deadline(&r->clk);
	tap_ok(t, due == t0 + 100 * US + 2 * US, "-icount: the completion is due at submit + "
	       "100 us + 1 us a sector (%llu ns)", (unsigned long long)(due - t0));
	blkf_poll(&r->front.f);
	vclock_advance_to(&r->clk, due - 1);
	tap_ok(t, (alt(r, C0) & ATA_BSY) && !r->irq[0].level, "BSY until then");
	vclock_advance_to(&r->clk, due);
	tap_ok(t, (alt(r, C0) & ATA_DRQ) && r->irq[0].level && r->irq[0].ev[0].at == due,
	       "at the deadline: waited for the front, DRQ, interrupt at that time");
	pio_in(r, P0, b, 1024);
	tap_ok(t, disk_matches(b, 0, 9, 1024), "and the data");
	{
		/* Completed early by the front: still reported at the deadline. */
		r->front.defer = false;
		irqrec_clear(&r->irq[0]);
		(void)inb(r, P0 + 7);
		lba28(r, P0, 0, 1, 1, 0x20);
		due = vclock_next_deadline(&r->clk);
		settle(r);
		tap_ok(t, (alt(r, C0) & ATA_BSY), "-icount: a completion before the deadline waits");
		vclock_advance_to(&r->clk, due);
		tap_ok(t, r->irq[0].rises == 1 && r->irq[0].ev[r->irq[0].n - 1].at == due,
		       "and is reported at it");
		pio_in(r, P0, b, 512);
	}
	rig_free(r);

	/* SRST with a request in flight: it is waited for and dropped. */
	r = std_rig(false, true);
	memset(r->ide->ch[0].buf, 0xee, 512);
	lba28(r, P0, 0, 4, 60, 0x20);
	tap_ok(t, r->ide->ch[0].req == RS_INFLIGHT, "a read in flight");
	outb(r, C0, ATA_DC_SRST);
	outb(r, C0, 0);
	tap_ok(t, r->ide->ch[0].req == RS_IDLE && r->front.completed == 1 &&
		   r->ide->ch[0].buf[0] == 0xee && alt(r, C0) == 0x50,
	       "SRST: the request waited for, its data dropped, the drive ready");
	lba28(r, P0, 0, 1, 61, 0x20);
	{
		unsigned subs = r->front.submits;
		outb(r, P0 + 7, 0xec);
		outb(r, P0 + 7, 0x20);
		tap_ok(t, (alt(r, C0) & ATA_BSY) && r->front.submits == subs &&
			   r->ide->ch[0].cmd == 0x20, "commands while BSY are ignored");
	}
	ff_wait(&r->front.f, r->ide->ch[0].handle);
	pio_in(r, P0, b, 512);
	tap_ok(t, disk_matches(b, 0, 61, 512), "the next command reads its own data");
	/* A DMA read in flight when the guest resets. */
	prd(r, 0x1000, 0, 0x30000, 0x200, true);
	memset(r->ram + 0x30000, 0, 512);
	r->wrote = 0;
	lba28(r, P0, 0, 1, 62, 0xc8);
	bm_go(r, 0, 0x1000, true);
	outb(r, C0, ATA_DC_SRST);
	outb(r, C0, 0);
	tap_ok(t, r->wrote == 512 && alt(r, C0) == 0x50 && r->ide->ch[0].phase == PH_IDLE,
	       "SRST during DMA: the backend's write to RAM is still reported (dma_wrote)");
	bm_stop(r, 0);
	tap_ok(t, r->front.violations == 0, "the front saw no malformed request");
	rig_free(r);

	/* A full ring: the second channel's request waits for a slot. */
	for (unsigned icount = 0; icount < 2; icount++) {
		const struct dev_kind *k = dev_kind_find("piix3-ide");
		static const uint8_t rd[12] = {0x28, 0, 0, 0, 0, 1, 0, 0, 1};
		r = std_rig(icount, true);
		r->front.cap = 1;
		lba28(r, P0, 0, 1, 5, 0x20);
		outb(r, P1 + 4, 0);
		outb(r, P1 + 5, 8);
		outb(r, P1 + 7, 0xa0);
		for (unsigned i = 0; i < 12; i += 2)
			outw(r, P1, (uint16_t)(rd[i] | rd[i + 1] << 8));
		tap_ok(t, r->ide->ch[1].req == RS_QUEUED, "%s: ring full: the request is queued",
		       icount ? "-icount" : "real time");
		if (icount) {
			vclock_advance_to(&r->clk, vclock_now(&r->clk) + 1000000);
		} else {
			ff_wait(&r->front.f, r->ide->ch[0].handle);
			(void)k->input(r->ide, true);
			ff_wait(&r->front.f, r->ide->ch[1].handle);
		}
		pio_in(r, P0, b, 512);
		tap_ok(t, disk_matches(b, 0, 5, 512) && (alt(r, C1) & ATA_DRQ) &&
			   inb(r, P1 + 4) == 0 && inb(r, P1 + 5) == 8,
		       "%s: submitted once a slot is free, both complete",
		       icount ? "-icount" : "real time");
		/* Drain with one in flight and one queued. */
		rig_enable(r);
		(void)inb(r, P1 + 7);
		for (unsigned i = 0; i < 1024; i++)
			(void)inw(r, P1);
		lba28(r, P0, 0, 1, 6, 0x20);
		outb(r, P1 + 7, 0xa0);
		for (unsigned i = 0; i < 12; i += 2)
			outw(r, P1, (uint16_t)(rd[i] | rd[i + 1] << 8));
		k->quiesce(r->ide);
		tap_ok(t, r->ide->ch[0].req != RS_INFLIGHT && r->ide->ch[1].req != RS_INFLIGHT &&
			   r->ide->ch[0].req != RS_QUEUED && r->ide->ch[1].req != RS_QUEUED,
		       "%s: quiesce leaves nothing in flight or queued",
		       icount ? "-icount" : "real time");
		rig_free(r);
	}
}

/* ---- the kind ---- */

static int null_claim(const struct dev_ctx *c, unsigned space, uint64_t base, uint64_t len,
		      unsigned flags, const struct io_ops *ops, void *opaque)
{
	return 0;
}

static void test_kind(struct tap *t)
{
	const struct dev_kind *k = dev_kind_find("piix3-ide");
	struct rig *r = std_rig(false, false);
	struct dev_props p;
	char err[256] = "";
	void *dev;

	tap_ok(t, k && k->where == DEV_IN_DM && !k->user && k->unique && k->state &&
		   k->quiesce && k->category == DEV_CAT_STORAGE,
	       "piix3-ide: in a device model, not -device, one per machine, with state");
	dev_props_init(&p, k);
	tap_ok(t, dev_prop_parse(&p, "unit0", "hd:0", true, err, sizeof(err)) != 0,
	       "units are internal properties");
	tap_ok(t, dev_prop_parse(&p, "unit0", "hd:9", false, err, sizeof(err)) == 0 &&
		   k->check(&p, err, sizeof(err)) == -EINVAL, "unit0=hd:9 refused: %s", err);
	tap_ok(t, dev_prop_parse(&p, "unit0", "zip:1", false, err, sizeof(err)) == 0 &&
		   k->check(&p, err, sizeof(err)) == -EINVAL, "unit0=zip:1 refused");
	if (dev_prop_parse(&p, "unit0", "hd:0", false, err, sizeof(err)))
		abort();
	dev = calloc(1, k->size);
	r->ctx.claim = null_claim;
	err[0] = 0;
	tap_ok(t, k->create(dev, &r->ctx, &p, err, sizeof(err)) == -EINVAL && strstr(err, "3"),
	       "a disk without the front's descriptors: %s", err);
	k->destroy(dev);
	free(dev);
	if (dev_prop_parse(&p, "unit0", "cd", false, err, sizeof(err)))
		abort();
	dev = calloc(1, k->size);
	tap_ok(t, k->create(dev, &r->ctx, &p, err, sizeof(err)) == 0 && k->input_fd(dev) == -1,
	       "an empty CD drive needs no front");
	k->destroy(dev);
	free(dev);
	rig_free(r);
}

/* ---- the random driver ---- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const uint8_t fuzz_cmds[] = {
	0x00, 0x08, 0x10, 0x20, 0x21, 0x24, 0x25, 0x27, 0x29, 0x30, 0x31, 0x34, 0x35, 0x39,
	0x40, 0x42, 0x70, 0x90, 0x91, 0xa0, 0xa1, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xe0, 0xe1,
	0xe5, 0xe7, 0xea, 0xec, 0xef, 0xf8, 0xb0, 0xff,
};
static const uint8_t fuzz_packets[] = {
	0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x2b, 0x43, 0x46, 0x4a, 0x51,
	0x5a, 0xa8, 0xbb, 0xbd, 0xbe, 0x55, 0xad,
};

static void fuzz_step(struct rig *r)
{
	unsigned chn = rnd() & 1, base = chn ? P1 : P0, ctl = chn ? C1 : C0;
	unsigned op = (unsigned)(rnd() % 100);

	if (op < 25) {
		unsigned reg = 1 + (unsigned)(rnd() % 6);
		uint8_t v = (uint8_t)rnd();
		if (reg >= 3 && reg <= 5 && rnd() % 2)
			v &= 0x0f; /* small addresses hit the disks */
		outb(r, base + reg, v);
	} else if (op < 32) {
		outb(r, base + 7, fuzz_cmds[rnd() % sizeof(fuzz_cmds)]);
	} else if (op < 40) {
		/* A command that moves data: a small count near the start. */
		static const uint8_t data_cmds[] = {0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35,
						    0x39, 0xc4, 0xc5, 0xc8, 0xca, 0xa0, 0xec};
		unsigned dev = (unsigned)(rnd() & 1);
		outb(r, base + 1, (uint8_t)(rnd() % 4 ? rnd() & 1 : rnd()));
		outb(r, base + 2, (uint8_t)(rnd() % 3));
		outb(r, base + 3, (uint8_t)(rnd() % 64));
		outb(r, base + 2, (uint8_t)(rnd() % 70));
		outb(r, base + 3, (uint8_t)(rnd() % 64));
		outb(r, base + 4, (uint8_t)(rnd() % 4 ? rnd() % 16 : rnd()));
		outb(r, base + 5, (uint8_t)(rnd() % 4 ? 0 : rnd()));
		outb(r, base + 6, (uint8_t)(0xe0 | dev << 4 | (rnd() % 8 ? 0 : rnd() & 0x1f)));
		outb(r, base + 7, data_cmds[rnd() % sizeof(data_cmds)]);
	} else if (op < 48) {
		unsigned n = (unsigned)(rnd() % 700);
		for (unsigned i = 0; i < n; i++)
			(void)(rnd() % 8 ? inw(r, base) : inl(r, base));
	} else if (op < 58) {
		unsigned n = (unsigned)(rnd() % 600);
		if (rnd() % 2) { /* a packet that means something */
			uint8_t cdb[12];
			for (unsigned i = 0; i < 12; i++)
				cdb[i] = (uint8_t)(rnd() % 4 ? rnd() % 8 : rnd());
			cdb[0] = fuzz_packets[rnd() % sizeof(fuzz_packets)];
			for (unsigned i = 0; i < 12; i += 2)
				outw(r, base, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
		}
		for (unsigned i = 0; i < n; i++)
			outw(r, base, (uint16_t)rnd());
	} else if (op < 68) {
		/* A random PRD table: entries in RAM, across it, outside. */
		uint32_t table = (uint32_t)(rnd() % (RIG_RAM / 8)) * 8;
		unsigned n = 1 + (unsigned)(rnd() % 20);
		if (rnd() % 16 == 0)
			table = (uint32_t)rnd() & ~3u;
		for (unsigned i = 0; i < n && table + 8 * i + 8 <= RIG_RAM; i++) {
			uint32_t addr = (uint32_t)(rnd() % RIG_RAM);
			if (rnd() % 10 == 0)
				addr = (uint32_t)rnd();
			prd(r, table, i, addr, (uint32_t)rnd() % (rnd() % 2 ? 0x10000 : 0x400),
			    i + 1 == n && rnd() % 4);
		}
		bm_go(r, chn, table, rnd() % 2);
	} else if (op < 71) {
		outb(r, RIG_BM + 8 * chn + (unsigned)(rnd() % 8), (uint8_t)rnd());
	} else if (op < 75) {
		/* Mostly a pulse of SRST, sometimes held across other steps. */
		uint8_t v = (uint8_t)(rnd() % 8 ? 0 : ATA_DC_SRST);
		if (rnd() % 3 == 0)
			v |= ATA_DC_NIEN;
		if (rnd() % 4 == 0)
			v |= ATA_DC_HOB;
		if (rnd() % 2)
			outb(r, ctl, v | ATA_DC_SRST);
		outb(r, ctl, v);
	} else if (op < 77) {
		static const unsigned regs[] = {PCI_COMMAND, 0x40, 0x42, 0x44, PCI_BAR0 + 16};
		unsigned reg = regs[rnd() % 5];
		uint32_t v = (uint32_t)rnd();
		if (reg == PCI_COMMAND && rnd() % 4)
			v |= PCI_COMMAND_IO;
		if (reg == 0x40 || reg == 0x42)
			v |= rnd() % 8 ? 0x8000 : 0;
		if (reg == PCI_BAR0 + 16)
			v = rnd() % 8 ? RIG_BM : (uint32_t)rnd();
		cfg_wr(r, reg, reg == PCI_BAR0 + 16 ? 4 : 2, v);
		if (rnd() % 2)
			rig_enable(r);
	} else if (op < 88) {
		if (r->front.defer) {
			for (unsigned i = 0; i < RIG_REQS; i++)
				if (r->front.req[i].used && rnd() % 2)
					ff_wait(&r->front.f, (int)i);
		} else {
			blkf_poll(&r->front.f);
		}
	} else if (op < 96) {
		(void)inb(r, base + 1 + (unsigned)(rnd() % 7));
		(void)inb(r, ctl);
	} else if (op < 99) {
		vclock_advance_to(&r->clk, vclock_now(&r->clk) + rnd() % (300 * US));
	} else {
		piix3_ide_reset(r->ide);
		rig_enable(r);
	}
}

static void test_fuzz(struct tap *t, bool icount, bool defer, uint64_t seed)
{
	const char *const u[4] = {"hd:0", "cd:2", "cd:1", "hd:2"};
	struct rig *r = rig_new(u, disk_sizes, 3, icount, defer, 0);
	unsigned max_inflight = 0;

	rng_state = seed;
	rig_enable(r);
	for (unsigned i = 0; i < 40000; i++) {
		unsigned used = 0;
		fuzz_step(r);
		for (unsigned k = 0; k < RIG_REQS; k++)
			used += r->front.req[k].used;
		if (used > max_inflight)
			max_inflight = used;
	}
	/* Drain: nothing left in flight after the board's quiesce. */
	piix3_ide_drain(r->ide);
	vclock_advance_to(&r->clk, vclock_now(&r->clk) + 1000000000ull);
	{
		unsigned used = 0;
		for (unsigned k = 0; k < RIG_REQS; k++)
			used += r->front.req[k].used;
		tap_ok(t, r->front.violations == 0 && max_inflight <= 2 && used == 0,
		       "random driver (icount %d, deferred %d, seed %llx): %u requests, "
		       "no malformed one, at most %u in flight, none after draining; "
		       "%u ranges outside RAM refused",
		       icount, defer, (unsigned long long)seed, r->front.submits, max_inflight,
		       r->ram_faults);
	}
	rig_free(r);
}

/* The ops of the window holding `port`, its opaque and the port's offset
 * in it; NULL when no window does. */
static const struct io_ops *port_ops(struct rig *r, unsigned port, void **opaque,
				     uint64_t *off)
{
	const struct region_flat *f = region_find(&r->ports, port);

	if (!f)
		return NULL;
	*opaque = f->r->d.opaque;
	*off = f->off + (port - f->start);
	return f->r->d.ops;
}

/* The byte a read of `port` would return, if reading it changes nothing
 * (io_ops.peek, what a device model publishes); -1 otherwise. */
static int peek(struct rig *r, unsigned port)
{
	void *o;
	uint64_t off;
	const struct io_ops *ops = port_ops(r, port, &o, &off);
	uint8_t v;

	if (!ops || !ops->peek || !ops->peek(o, off, &v))
		return -1;
	return v;
}

static void test_peek(struct tap *t)
{
	struct rig *r = std_rig(false, false);
	bool same = true;
	int st;

	prd(r, 0x1000, 0, 0x10000, 0x200, true);
	lba28(r, P0, 0, 1, 16, 0xc8);
	tap_ok(t, (peek(r, P0 + 7) & ATA_BSY) && peek(r, P0 + 7) == peek(r, C0) &&
		   peek(r, C0) == alt(r, C0),
	       "published: status and alternate status while the command waits for the bus "
	       "master (%d, %d)", peek(r, P0 + 7), peek(r, C0));
	bm_go(r, 0, 0x1000, true);
	settle(r);
	tap_ok(t, r->irq[0].level && peek(r, P0 + 7) == -1 && peek(r, C0) == 0x50 &&
		   peek(r, RIG_BM + 2) == BM_ST_INT && peek(r, RIG_BM) == inb(r, RIG_BM),
	       "published: not the status with the interrupt pending; the alternate status and "
	       "the bus master's registers are (%d, %d, %d)", peek(r, P0 + 7), peek(r, C0),
	       peek(r, RIG_BM + 2));
	tap_ok(t, r->irq[0].level, "published: peeking acknowledged nothing");
	bm_stop(r, 0);
	st = inb(r, P0 + 7);
	tap_ok(t, !r->irq[0].level && peek(r, P0 + 7) == st && st == 0x50,
	       "published: the status again once read (%d, read %#x)", peek(r, P0 + 7), st);
	for (unsigned reg = 1; reg < 7; reg++)
		same = same && peek(r, P0 + reg) == inb(r, P0 + reg);
	tap_ok(t, same && peek(r, P0) == 0xff,
	       "published: the task file as read; a byte of the data register reads ffh");
	rig_free(r);
}

/* A port's quiet rule (io_ops.quiet): mask << 8 | value, or -1. */
static int quiet_rule(struct rig *r, unsigned port)
{
	void *o;
	uint64_t off;
	const struct io_ops *ops = port_ops(r, port, &o, &off);
	uint8_t mask, value;

	if (!ops || !ops->quiet || !ops->quiet(o, off, &mask, &value))
		return -1;
	return mask << 8 | value;
}

static const unsigned quiet_ports[] = {
	P0 + 1, P0 + 2, P0 + 3, P0 + 4, P0 + 5, P0 + 6, P0 + 7, C0,
	RIG_BM, RIG_BM + 2, RIG_BM + 4, RIG_BM + 5, RIG_BM + 6, RIG_BM + 7,
};
#define N_QUIET_PORTS (sizeof(quiet_ports) / sizeof(quiet_ports[0]))

/* States the rules are checked in: 0 idle, 1 a DMA read waiting for the
 * bus master, 2 its transfer under way, 3 done with the interrupt
 * pending, 4 HOB set, 5 the slave selected. */
static struct rig *quiet_state(unsigned k)
{
	struct rig *r = std_rig(false, true);

	if (k >= 1 && k <= 3) {
		prd(r, 0x1000, 0, 0x10000, 0x200, true);
		lba28(r, P0, 0, 1, 16, 0xc8);
	}
	if (k >= 2 && k <= 3)
		bm_go(r, 0, 0x1000, true);
	if (k == 3)
		settle(r);
	if (k == 4)
		outb(r, C0, ATA_DC_HOB);
	if (k == 5)
		outb(r, P0 + 6, 0xf0);
	return r;
}

/* What a vmm can see at every port: the published byte and the rule. */
static void quiet_snapshot(struct rig *r, int *out)
{
	for (unsigned i = 0; i < N_QUIET_PORTS; i++) {
		out[2 * i] = peek(r, quiet_ports[i]);
		out[2 * i + 1] = quiet_rule(r, quiet_ports[i]);
	}
}

static void test_quiet(struct tap *t)
{
	static const uint8_t tries[] = {0x00, 0xff, 0x5a, 0xa5};
	struct rig *r = quiet_state(0);
	unsigned writes = 0, broken = 0;
	char where[128] = "";

	tap_ok(t, quiet_rule(r, P0 + 2) == 0 && quiet_rule(r, P0 + 6) == 0x1000 &&
		   quiet_rule(r, P0 + 7) == -1 && quiet_rule(r, P0) == -1 &&
		   quiet_rule(r, C0) == 0x8400 && quiet_rule(r, RIG_BM) == 0x0100 &&
		   quiet_rule(r, RIG_BM + 2) == 0 && quiet_rule(r, RIG_BM + 4) == 0,
	       "quiet: the task file, the same unit, a stopped engine's start bit cleared; "
	       "never the command or the data");
	rig_free(r);
	r = quiet_state(4);
	tap_ok(t, quiet_rule(r, P0 + 2) == -1 && quiet_rule(r, P0 + 6) == -1 &&
		   quiet_rule(r, C0) == 0x8480,
	       "quiet: with HOB set no task file write (it clears HOB), control keeping HOB");
	rig_free(r);
	r = quiet_state(2);
	tap_ok(t, quiet_rule(r, RIG_BM) == 0x0101 && quiet_rule(r, RIG_BM + 8) == 0x0100,
	       "quiet: while the engine runs, keeping the start bit (%#x)",
	       quiet_rule(r, RIG_BM));
	rig_free(r);
	r = quiet_state(5);
	tap_ok(t, quiet_rule(r, P0 + 6) == 0x1010, "quiet: the device register keeping the slave");
	rig_free(r);

	/* The promise itself: every write a rule allows, one after another
	 * in each state, leaves every other port's published byte, and every
	 * rule, as they were. */
	for (unsigned k = 0; k <= 5; k++) {
		r = quiet_state(k);
		for (unsigned j = 0; j < sizeof(tries); j++) {
			for (unsigned i = 0; i < N_QUIET_PORTS; i++) {
				int before[2 * N_QUIET_PORTS], after[2 * N_QUIET_PORTS];
				int rule = quiet_rule(r, quiet_ports[i]);
				uint8_t b;
				if (rule < 0)
					continue;
				b = (uint8_t)((tries[j] & ~(rule >> 8)) | (rule & 0xff));
				quiet_snapshot(r, before);
				outb(r, quiet_ports[i], b);
				quiet_snapshot(r, after);
				writes++;
				for (unsigned n = 0; n < 2 * N_QUIET_PORTS; n++) {
					if (before[n] == after[n] || n == 2 * i)
						continue;
					if (!broken++)
						snprintf(where, sizeof(where),
							 "state %u, %#x <- %#x changed %#x's %s (%d -> %d)",
							 k, quiet_ports[i], b, quiet_ports[n / 2],
							 n % 2 ? "rule" : "byte", before[n], after[n]);
				}
			}
		}
		rig_free(r);
	}
	tap_ok(t, writes > 150 && broken == 0,
	       "quiet: %u writes the rules allow changed no other port's byte or rule %s",
	       writes, where);
}

int main(void)
{
	struct tap t = {0};

	test_pci(&t);
	test_reset(&t);
	test_identify(&t);
	test_pio(&t);
	test_errors(&t);
	test_dma(&t);
	test_peek(&t);
	test_quiet(&t);
	test_atapi(&t);
	test_async(&t);
	test_kind(&t);
	test_fuzz(&t, false, false, 0x1234567887654321ull);
	test_fuzz(&t, false, true, 0x0badc0ffee15900dull);
	test_fuzz(&t, true, true, 0x5eed5eed5eed5eedull);
	test_fuzz(&t, true, false, 0x0123456789abcdefull);
	return tap_done(&t);
}
