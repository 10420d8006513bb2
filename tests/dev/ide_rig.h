/* A rig for the PIIX3 IDE in unit tests: guest RAM as a buffer behind a
 * dma_space whose callbacks check every range (and count the ones
 * outside, which the device may ask for but must never get), a port
 * space the device claims its windows in (moved as dm.c moves them), the
 * PCI function's config ops, IRQ 14/15 recorders, and a fake block front
 * with in-memory disks that checks the front contract on every request:
 * completing in poll, or (defer) only in wait, as a slow backend would. */
#ifndef V2E_TESTS_DEV_IDE_RIG_H
#define V2E_TESTS_DEV_IDE_RIG_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/kind.h"
#include "dm/hw/ide.h"
#include "mem/region.h"
#include "tests/dev/irqrec.h"

#define RIG_RAM (1u << 20)
#define RIG_DISKS 3
#define RIG_REQS 8
#define RIG_BM 0xc000

struct rig_req {
	bool used;
	unsigned disk;
	enum blkf_op op;
	uint64_t sector;
	uint32_t n;
	struct blkf_seg seg[BLKF_MAX_SEGS];
	unsigned nseg;
	blkf_done_fn *done;
	void *opaque;
};

struct rig;

struct ide_fake_front {
	struct blk_front f;
	struct rig *rig;
	uint8_t bounce[BLKF_BOUNCE_BYTES];
	struct {
		uint8_t *data;
		uint64_t sectors;
		bool ro;
	} disk[RIG_DISKS];
	unsigned n_disks;
	bool defer;             /* complete only in wait */
	unsigned cap;           /* requests the ring holds (0: RIG_REQS) */
	int64_t eio_sector;     /* a read or write touching it fails: -EIO */
	struct rig_req req[RIG_REQS];
	unsigned submits, flushes, violations, completed;
	uint64_t last_sector;
	uint32_t last_n;
	unsigned last_nseg;
};

struct rig {
	struct vclock clk;
	struct region_map ports;
	struct irqrec irq[2];
	struct irq_line line[2];
	unsigned lines_given;
	struct dma_space dma;
	uint8_t *ram;
	unsigned ram_faults;       /* ranges asked for outside RAM */
	uint64_t wrote;            /* bytes dma_wrote reported */
	struct dev_ctx ctx;
	const struct io_ops *pci_ops;
	void *pci_opaque;
	unsigned pci_devfn;
	struct region *win[8];
	unsigned n_win;
	struct ide_fake_front front;
	struct piix3_ide *ide;
};

/* ---- guest RAM ---- */

static inline int rig_ram_ok(struct rig *r, uint64_t gpa, size_t n)
{
	if (gpa >= RIG_RAM || n > RIG_RAM - gpa) {
		r->ram_faults++;
		return 0;
	}
	return 1;
}

static inline int rig_dma_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct rig *r = opaque;
	if (!rig_ram_ok(r, gpa, n))
		return -EFAULT;
	memcpy(buf, r->ram + gpa, n);
	return 0;
}

static inline int rig_dma_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct rig *r = opaque;
	if (!rig_ram_ok(r, gpa, n))
		return -EFAULT;
	memcpy(r->ram + gpa, buf, n);
	return 0;
}

static inline void rig_dma_wrote(void *opaque, uint64_t gpa, uint64_t n)
{
	struct rig *r = opaque;
	if (gpa >= RIG_RAM || n > RIG_RAM - gpa)
		r->ram_faults++;
	r->wrote += n;
}

/* ---- the fake front ---- */

static inline struct ide_fake_front *ff(struct blk_front *f)
{
	return (struct ide_fake_front *)f;
}

/* Runs request i: moves its data, then its callback. */
static inline void ff_complete(struct ide_fake_front *f, unsigned i)
{
	struct rig_req *q = &f->req[i];
	struct rig *r = f->rig;
	int status = 0;
	uint64_t off = q->sector * BLKF_SECTOR;

	if (q->op == BLKF_READ || q->op == BLKF_WRITE) {
		if (f->eio_sector >= 0 && (uint64_t)f->eio_sector >= q->sector &&
		    (uint64_t)f->eio_sector < q->sector + q->n)
			status = -EIO;
		for (unsigned k = 0; k < q->nseg && !status; k++) {
			const struct blkf_seg *s = &q->seg[k];
			uint8_t *mem;
			if (s->flags & BLKF_SEG_BOUNCE) {
				if (s->addr > BLKF_BOUNCE_BYTES || s->len > BLKF_BOUNCE_BYTES - s->addr) {
					status = -EFAULT;
					break;
				}
				mem = f->bounce + s->addr;
			} else {
				if (s->addr >= RIG_RAM || s->len > RIG_RAM - s->addr) {
					status = -EFAULT;
					break;
				}
				mem = r->ram + s->addr;
			}
			if (q->op == BLKF_READ)
				memcpy(mem, f->disk[q->disk].data + off, s->len);
			else
				memcpy(f->disk[q->disk].data + off, mem, s->len);
			off += s->len;
		}
	}
	q->used = false;
	f->completed++;
	q->done(q->opaque, status);
}

static inline int ff_submit(struct blk_front *bf, unsigned disk, enum blkf_op op,
			    uint64_t sector, uint32_t n, const struct blkf_seg *seg,
			    unsigned nseg, blkf_done_fn *done, void *opaque)
{
	struct ide_fake_front *f = ff(bf);
	uint64_t bytes = 0;
	unsigned i;

	f->submits++;
	if (disk >= f->n_disks || nseg > BLKF_MAX_SEGS) {
		f->violations++;
		return -EINVAL;
	}
	for (unsigned k = 0; k < nseg; k++) {
		if (!seg[k].len)
			f->violations++;
		bytes += seg[k].len;
	}
	if (op == BLKF_FLUSH) {
		f->flushes++;
		if (n || nseg)
			f->violations++;
	} else if (bytes != (uint64_t)n * BLKF_SECTOR || !n || sector > f->disk[disk].sectors ||
		   n > f->disk[disk].sectors - sector) {
		/* The device checks ranges itself: any of these is its bug. */
		f->violations++;
		return -EINVAL;
	}
	{
		unsigned used = 0;
		for (unsigned k = 0; k < RIG_REQS; k++)
			used += f->req[k].used;
		if (f->cap && used >= f->cap)
			return -EAGAIN;
	}
	for (i = 0; i < RIG_REQS && f->req[i].used; i++)
		;
	if (i == RIG_REQS)
		return -EAGAIN;
	f->req[i] = (struct rig_req){true, disk, op, sector, n, {{0}}, nseg, done, opaque};
	memcpy(f->req[i].seg, seg, nseg * sizeof(*seg));
	f->last_sector = sector;
	f->last_n = n;
	f->last_nseg = nseg;
	return (int)i;
}

static inline unsigned ff_poll(struct blk_front *bf)
{
	struct ide_fake_front *f = ff(bf);
	unsigned ran = 0;
	if (f->defer)
		return 0;
	for (unsigned i = 0; i < RIG_REQS; i++)
		if (f->req[i].used) {
			ff_complete(f, i);
			ran++;
		}
	return ran;
}

static inline void ff_wait(struct blk_front *bf, int handle)
{
	struct ide_fake_front *f = ff(bf);
	if (handle < 0 || handle >= RIG_REQS || !f->req[handle].used) {
		f->violations++;
		return;
	}
	ff_complete(f, (unsigned)handle);
}

static inline int ff_fd(struct blk_front *bf)
{
	return -1;
}

static inline int ff_info(struct blk_front *bf, unsigned disk, struct blkf_disk *out)
{
	struct ide_fake_front *f = ff(bf);
	if (disk >= f->n_disks)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->sectors = f->disk[disk].sectors;
	out->read_only = f->disk[disk].ro;
	snprintf(out->serial, sizeof(out->serial), "FAKE%04u", disk);
	return 0;
}

static inline uint8_t *ff_bounce(struct blk_front *bf)
{
	return ff(bf)->bounce;
}

static inline void ff_close(struct blk_front *bf)
{
}

static const struct blk_front_ops ide_fake_front_ops = {
	ff_submit, ff_poll, ff_wait, ff_fd, ff_info, ff_bounce, ff_close,
};

/* ---- the context ---- */

static inline int rig_claim(const struct dev_ctx *c, unsigned space, uint64_t base,
			    uint64_t len, unsigned flags, const struct io_ops *ops,
			    void *opaque)
{
	struct rig *r = c->board;
	struct region_desc d = {.name = "ide", .kind = REGION_IO, .base = base, .size = len,
				.enabled = true, .ops = ops, .opaque = opaque};
	if (space == DEV_SPACE_PCI) {
		r->pci_ops = ops;
		r->pci_opaque = opaque;
		r->pci_devfn = (unsigned)base;
		return 0;
	}
	if (space != DEV_SPACE_PIO || r->n_win == 8)
		return -EINVAL;
	return region_add(&r->ports, &d, &r->win[r->n_win++]);
}

static inline const struct irq_line *rig_line(const struct dev_ctx *c, unsigned line)
{
	struct rig *r = c->board;
	if (line != DEV_LINE_ISA0 + 14 && line != DEV_LINE_ISA0 + 15)
		return NULL;
	return &r->line[line - DEV_LINE_ISA0 - 14];
}

static inline void rig_exit(const struct dev_ctx *c, int status, const char *why)
{
}

static inline int rig_window(const struct dev_ctx *c, unsigned space, uint64_t base,
			     unsigned op, uint64_t new_base)
{
	struct rig *r = c->board;
	for (unsigned i = 0; i < r->n_win; i++) {
		struct region *w = r->win[i];
		if (!w || w->d.base != base)
			continue;
		switch (op) {
		case DEV_WIN_MOVE:
			return region_move(&r->ports, w, new_base);
		case DEV_WIN_ENABLE:
		case DEV_WIN_DISABLE:
			return region_set_enabled(&r->ports, w, op == DEV_WIN_ENABLE);
		default:
			return -EINVAL;
		}
	}
	return -ENOENT;
}

/* Sets up r around the (zeroed) device `ide`: units are the four unit
 * strings, sizes the disks' sizes in sectors. */
static inline void rig_init(struct rig *r, struct piix3_ide *ide, const char *const units[4],
			    const uint64_t *sizes, unsigned n_disks, bool icount, bool defer,
			    uint64_t now)
{
	const struct dev_kind *k = dev_kind_find("piix3-ide");
	struct dev_props p;
	char err[256] = "";
	static const char *const names[4] = {"unit0", "unit1", "unit2", "unit3"};

	if (!k)
		abort();
	vclock_init(&r->clk, now);
	if (region_map_init(&r->ports, "port", 0x10000))
		abort();
	r->ram = calloc(1, RIG_RAM);
	for (unsigned i = 0; i < 2; i++) {
		irqrec_init(&r->irq[i], &r->clk);
		r->line[i] = irqrec_line(&r->irq[i], 14 + i);
	}
	r->dma = (struct dma_space){rig_dma_read, rig_dma_write, r, rig_dma_wrote};
	r->ctx = (struct dev_ctx){"ide", &r->clk, &r->dma, NULL, 0, r, rig_claim, rig_line,
				  rig_exit, rig_window, icount};
	r->front.f.ops = &ide_fake_front_ops;
	r->front.rig = r;
	r->front.defer = defer;
	r->front.eio_sector = -1;
	r->front.n_disks = n_disks;
	for (unsigned i = 0; i < n_disks; i++) {
		r->front.disk[i].sectors = sizes[i];
		r->front.disk[i].data = calloc(1, sizes[i] * BLKF_SECTOR + 1);
		for (uint64_t b = 0; b < sizes[i] * BLKF_SECTOR; b++)
			r->front.disk[i].data[b] = (uint8_t)(b * 7 + (b >> 9) * 13 + i);
	}
	dev_props_init(&p, k);
	for (unsigned i = 0; i < 4; i++)
		if (dev_prop_parse(&p, names[i], units[i], false, err, sizeof(err)))
			abort();
	r->ide = ide;
	if (piix3_ide_setup(r->ide, &r->ctx, &p, &r->front.f, err, sizeof(err))) {
		fprintf(stderr, "rig: %s\n", err);
		abort();
	}
}

static inline struct rig *rig_new(const char *const units[4], const uint64_t *sizes,
				  unsigned n_disks, bool icount, bool defer, uint64_t now)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct piix3_ide *ide = calloc(1, sizeof(*ide));
	if (!r || !ide)
		abort();
	rig_init(r, ide, units, sizes, n_disks, icount, defer, now);
	return r;
}

static inline void rig_fini(struct rig *r)
{
	for (unsigned i = 0; i < 2; i++)
		vtimer_cancel(&r->clk, &r->ide->ch[i].timer);
	for (unsigned i = 0; i < r->front.n_disks; i++)
		free(r->front.disk[i].data);
	region_map_destroy(&r->ports);
	free(r->ram);
}

static inline void rig_free(struct rig *r)
{
	rig_fini(r);
	free(r->ide);
	free(r);
}

static inline uint32_t cfg_rd(struct rig *r, unsigned reg, unsigned size)
{
	return (uint32_t)r->pci_ops->read(r->pci_opaque, 1u << 8 | reg, size);
}

static inline void cfg_wr(struct rig *r, unsigned reg, unsigned size, uint32_t v)
{
	r->pci_ops->write(r->pci_opaque, 1u << 8 | reg, size, v);
}

/* What firmware does: I/O and bus mastering on, both channels decoded,
 * BAR4 at RIG_BM. */
static inline void rig_enable(struct rig *r)
{
	cfg_wr(r, PCI_BAR0 + 16, 4, RIG_BM);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	cfg_wr(r, 0x40, 2, 0x8000);
	cfg_wr(r, 0x42, 2, 0x8000);
}

static inline uint8_t inb(struct rig *r, unsigned port)
{
	return (uint8_t)region_read(&r->ports, port, 1);
}

static inline uint16_t inw(struct rig *r, unsigned port)
{
	return (uint16_t)region_read(&r->ports, port, 2);
}

static inline uint32_t inl(struct rig *r, unsigned port)
{
	return (uint32_t)region_read(&r->ports, port, 4);
}

static inline void outb(struct rig *r, unsigned port, uint8_t v)
{
	region_write(&r->ports, port, 1, v);
}

static inline void outw(struct rig *r, unsigned port, uint16_t v)
{
	region_write(&r->ports, port, 2, v);
}

static inline void outl(struct rig *r, unsigned port, uint32_t v)
{
	region_write(&r->ports, port, 4, v);
}

#endif
