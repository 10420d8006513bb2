/* Intel 82077AA floppy disk controller, PC/AT mode (see fdc.h).
 *
 * Sources: the Intel 82077AA datasheet (registers, the command set with
 * its phases, status registers ST0-ST3, drive polling after reset, the
 * ID at the end of a transfer, CONFIGURE/LOCK/DUMPREG), the IBM PC/AT
 * technical reference (DOR, DIR), and what SeaBIOS (hw/floppy.c), Linux
 * (drivers/block/floppy.c) and MS-DOS through INT 13h expect.
 *
 * Model. Images have 512-byte sectors and a fixed geometry: a command
 * whose N is not 2, or whose ID does not match the track under the head
 * (C is the drive's present cylinder, H its head), finds no data (ND,
 * with WC or BC for a wrong cylinder) as a real controller would on such
 * a disk. A READ or WRITE moves a run of consecutive sectors on one
 * track in one request; DMA transfers hand the 8237's guest-physical
 * ranges to the backend when the channel counts upwards in the right
 * direction and whole sectors fit before TC, and go through the bounce
 * area otherwise. A transfer ends at TC (normal termination) or after
 * the EOT sector of the last track (abnormal, ST1 EN, as the datasheet
 * says: PIO transfers always end so, having no TC); a track ends at
 * EOT or at its last sector, whichever comes first. VERIFY reads
 * nothing: it checks that the sectors exist. FORMAT fills the sectors the
 * ID list names (R within the track) with the filler byte; the image
 * cannot change geometry, so other IDs are dropped. The data rate (DSR,
 * CCR) must be the media's, or READ ID and data commands report a
 * missing address mark: SeaBIOS's media sense and Linux's format
 * detection rely on that, as on QEMU. MFM clear (FM) fails the same way.
 * Seeks and READ ID complete at once. With a deterministic clock a disk
 * request completes at submit + FDC_IO_NS + FDC_SECTOR_NS per sector of
 * virtual time (not a model of rotation: a fixed cost so that timing
 * does not depend on the host); without, when the backend answers.
 * In non-DMA mode INT is up while the FIFO wants servicing (a byte to
 * read, room for one), the datasheet's per-byte interrupt as a level.
 * CONFIGURE starts with implied seeks on (EIS), as QEMU's does, so that
 * software written against QEMU that skips SEEK still works.
 *
 * Not modelled: READ/WRITE DELETED DATA (no deleted marks on an image:
 * they end at once with an abnormal termination, as on QEMU), the SCAN
 * commands (invalid), FIFO thresholds and timing, motors, PS/2 and Model
 * 30 register modes, drives 2 and 3 (never present), double stepping. */
#include "dm/hw/fdc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev/kind.h"
#include "lib/compiler.h"
#include "lib/log.h"

#define FDC_IO_NS 200000ull    /* per request, with -icount */
#define FDC_SECTOR_NS 20000ull /* per sector */

enum { PH_CMD = 0, PH_EXEC, PH_RESULT, PH_RESET };
enum { OP_NONE = 0, OP_READ, OP_WRITE, OP_VERIFY, OP_READ_TRACK, OP_FORMAT };

#define FDC_PART_ID 0x41   /* what QEMU's answers */
#define FDC_VERSION 0x90   /* an enhanced controller (82077AA) */
#define CFG_POWER_ON (FDC_CFG_EIS | FDC_CFG_EFIFO)

/* ---- saved state ---- */

#define FDC_DRIVE_FIELDS(i)                                                   \
	VS_U8(struct fdc, drive[i].cyl), VS_U8(struct fdc, drive[i].last_sector), \
	VS_BOOL(struct fdc, drive[i].changed),                                \
	VS_BOOL(struct fdc, drive[i].has_disk),                               \
	VS_MAX(struct fdc, drive[i].disk, VS_U8, BLKF_MAX_DISKS - 1)

static const struct vs_field fdc_fields[] = {
	VS_U8(struct fdc, dor), VS_MAX(struct fdc, tdr, VS_U8, 3), VS_U8(struct fdc, dsr),
	VS_MAX(struct fdc, phase, VS_U8, PH_RESET),
	VS_BYTES(struct fdc, cmd),
	VS_MAX(struct fdc, cmd_len, VS_U8, 9),
	VS_MAX(struct fdc, cmd_pos, VS_U8, 9),
	VS_BYTES(struct fdc, res),
	VS_MAX(struct fdc, res_len, VS_U8, 10),
	VS_MAX(struct fdc, res_pos, VS_U8, 10),
	VS_BYTES(struct fdc, specify),
	VS_MAX(struct fdc, config, VS_U8, 0x7f),
	VS_U8(struct fdc, pretrk),
	VS_MAX(struct fdc, perp, VS_U8, 0x3f),
	VS_BOOL(struct fdc, locked),
	VS_MAX(struct fdc, pend, VS_U8, 0x0f),
	VS_BYTES(struct fdc, pend_st0),
	VS_MAX(struct fdc, busy, VS_U8, 0x0f),
	VS_BOOL(struct fdc, int_pending),
	VS_BOOL(struct fdc, irq_level),
	VS_BOOL(struct fdc, dreq_level),
	VS_MAX(struct fdc, op, VS_U8, OP_FORMAT),
	VS_MAX(struct fdc, unit, VS_U8, 3),
	VS_MAX(struct fdc, head, VS_U8, 1),
	VS_U8(struct fdc, c), VS_U8(struct fdc, h), VS_U8(struct fdc, r),
	VS_U8(struct fdc, n), VS_U8(struct fdc, eot), VS_U8(struct fdc, left),
	VS_BOOL(struct fdc, mt), VS_BOOL(struct fdc, pio),
	VS_MAX(struct fdc, xstate, VS_U8, FDC_X_PIO),
	VS_BOOL(struct fdc, direct),
	VS_MAX(struct fdc, chunk_sectors, VS_U8, 64),
	VS_MAX(struct fdc, chunk_bytes, VS_U32, FDC_BOUNCE_BYTES),
	VS_MAX(struct fdc, pio_pos, VS_U16, 1024),
	VS_MAX(struct fdc, pio_len, VS_U16, 1024),
	VS_U64(struct fdc, fmt_todo),
	VS_U8(struct fdc, fmt_fill),
	VS_BYTES(struct fdc, buf),
	VS_U64(struct fdc, io_deadline),
	FDC_DRIVE_FIELDS(0),
	FDC_DRIVE_FIELDS(1),
};

static int fdc_state_check(const void *obj, char *err, size_t n)
{
	const struct fdc *f = obj;
	const char *bad = NULL;

	if (f->cmd_pos > f->cmd_len)
		bad = "cmd_pos";
	else if (f->res_pos > f->res_len)
		bad = "res_pos";
	else if (f->pio_pos > f->pio_len)
		bad = "pio_pos";
	else if (f->phase == PH_EXEC && (f->op == OP_NONE || f->xstate == FDC_X_NONE ||
					 f->unit >= FDC_DRIVES))
		bad = "xstate";
	for (unsigned i = 0; !bad && i < FDC_DRIVES; i++)
		if (f->drive[i].has_disk != (f->drive[i].present && f->drive[i].has_disk))
			bad = "drive.has_disk";
	if (bad)
		return err_say(err, n, -EINVAL, "isa-fdc: field '%s' is impossible in this state",
			       bad);
	return 0;
}

static int fdc_post_load(void *obj, char *err, size_t n);

const struct vs_desc fdc_state = {
	"isa-fdc", 1, fdc_fields, ARRAY_SIZE(fdc_fields), fdc_state_check, fdc_post_load,
};

/* ---- geometry ---- */

int fdc_geometry_for(uint64_t sectors, struct fdc_geometry *g)
{
	static const struct fdc_geometry known[] = {
		{40, 2, 9, 1, 2},  /* 360 KB, in a 1.2 MB drive at 300 kb/s */
		{80, 2, 9, 2, 4},  /* 720 KB, in a 1.44 MB drive */
		{80, 2, 15, 0, 2}, /* 1.2 MB */
		{80, 2, 18, 0, 4}, /* 1.44 MB */
		{80, 2, 36, 3, 5}, /* 2.88 MB */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(known); i++)
		if ((uint64_t)known[i].cyls * known[i].heads * known[i].spt == sectors) {
			*g = known[i];
			return 0;
		}
	return -EINVAL;
}

/* ---- lines ---- */

/* INT leaves the chip only while DOR's DMA gate is open (AT mode). In
 * non-DMA execution it is up while the FIFO wants the host. */
static void update_irq(struct fdc *f)
{
	bool in = f->int_pending || (f->phase == PH_EXEC && f->xstate == FDC_X_PIO);
	bool level = in && (f->dor & FDC_DOR_DMAEN);
	if (level != f->irq_level) {
		f->irq_level = level;
		irq_set(&f->irq, level);
	}
}

static void raise_int(struct fdc *f)
{
	f->int_pending = true;
	update_irq(f);
}

static void lower_int(struct fdc *f)
{
	f->int_pending = false;
	update_irq(f);
}

static struct i8237 *find_dma(struct fdc *f)
{
	if (!f->dma && f->ctx && f->ctx->peer) {
		struct i8237 *d = f->ctx->peer(f->ctx, "i8237");
		if (d)
			fdc_set_dma(f, d);
	}
	return f->dma;
}

static void dma_go(struct fdc *f);

/* DRQ 2 follows a command waiting for DMA, through the same gate. */
static void update_dreq(struct fdc *f)
{
	bool level = f->phase == PH_EXEC && f->xstate == FDC_X_WAIT_DMA &&
		     (f->dor & FDC_DOR_DMAEN);
	struct i8237 *d = find_dma(f);

	f->dreq_level = level;
	if (!d)
		return;
	i8237_dreq(d, FDC_DMA_CHAN, level);
	if (level && i8237_ready(d, FDC_DMA_CHAN))
		dma_go(f);
}

static void dma_service(void *opaque)
{
	struct fdc *f = opaque;
	if (f->phase == PH_EXEC && f->xstate == FDC_X_WAIT_DMA)
		dma_go(f);
}

void fdc_set_dma(struct fdc *f, struct i8237 *dma)
{
	if (dma && i8237_attach(dma, FDC_DMA_CHAN, dma_service, f) == 0)
		f->dma = dma;
}

/* ---- phases ---- */

static void to_command(struct fdc *f)
{
	f->phase = PH_CMD;
	f->cmd_pos = 0;
	f->cmd_len = 0;
	f->res_pos = f->res_len = 0;
	f->op = OP_NONE;
	f->xstate = FDC_X_NONE;
}

static void to_result(struct fdc *f, const uint8_t *bytes, unsigned n)
{
	memcpy(f->res, bytes, n);
	f->res_len = (uint8_t)n;
	f->res_pos = 0;
	f->phase = PH_RESULT;
	f->xstate = FDC_X_NONE;
}

/* The end of a data command: ST0-ST2 and the ID of the next sector. */
static void finish(struct fdc *f, uint8_t st0, uint8_t st1, uint8_t st2)
{
	uint8_t res[7] = {(uint8_t)(st0 | f->head << 2 | f->unit), st1, st2, f->c, f->h,
			  f->r, f->n};
	to_result(f, res, 7);
	f->op = OP_NONE;
	update_dreq(f);
	raise_int(f);
}

static struct fdc_drive *cur_drive(struct fdc *f)
{
	return f->unit < FDC_DRIVES ? &f->drive[f->unit] : NULL;
}

/* ---- disk requests ---- */

static void io_done_cb(void *opaque, int status)
{
	struct fdc *f = opaque;
	f->io_done = true;
	f->io_status = status;
}

static uint8_t *bounce(struct fdc *f)
{
	return blkf_bounce(f->front) + FDC_BOUNCE_OFF;
}

static uint64_t lba_of(const struct fdc *f, const struct fdc_drive *d, uint8_t r)
{
	return ((uint64_t)d->cyl * d->geo.heads + f->head) * d->geo.spt + (r - 1u);
}

static void io_apply(struct fdc *f, int status);
static void format_write(struct fdc *f);

/* Sends the request the command's state describes (again, after a state
 * load): the run of chunk_sectors sectors from (cyl, head, r). Returns
 * 0, or a negative status for io_apply(). */
static int io_send(struct fdc *f)
{
	struct fdc_drive *d = cur_drive(f);
	struct blkf_seg seg[4];
	unsigned nseg = 0;
	enum blkf_op op;
	uint64_t lba;
	uint32_t nsec = f->chunk_sectors;
	int h;

	if (!d || !d->has_disk || !f->front)
		return -EIO;
	lba = lba_of(f, d, f->r);
	if (f->op == OP_FORMAT) {
		/* The first run of sectors still to fill. */
		unsigned first = (unsigned)__builtin_ctzll(f->fmt_todo), k = 0;
		while (first + k < 64 && (f->fmt_todo >> (first + k) & 1))
			k++;
		lba = lba_of(f, d, (uint8_t)(first + 1));
		nsec = k;
		f->chunk_sectors = (uint8_t)k;
		memset(bounce(f), f->fmt_fill, (size_t)k * FDC_SECTOR);
		seg[nseg++] = (struct blkf_seg){FDC_BOUNCE_OFF, k * FDC_SECTOR, BLKF_SEG_BOUNCE};
		op = BLKF_WRITE;
	} else if (f->pio) {
		op = f->op == OP_WRITE ? BLKF_WRITE : BLKF_READ;
		if (op == BLKF_WRITE)
			memcpy(bounce(f), f->buf, FDC_SECTOR);
		seg[nseg++] = (struct blkf_seg){FDC_BOUNCE_OFF, FDC_SECTOR, BLKF_SEG_BOUNCE};
	} else {
		bool to_mem = f->op != OP_WRITE;
		op = to_mem ? BLKF_READ : BLKF_WRITE;
		if (f->direct) {
			struct i8237_seg s[4];
			size_t covered;
			unsigned ns = f->dma ? i8237_segments(f->dma, FDC_DMA_CHAN, to_mem,
							      f->chunk_bytes, s, 4, &covered)
					     : 0;
			if (!ns || covered != f->chunk_bytes)
				f->direct = false; /* the guest reprogrammed it: bounce */
			for (unsigned i = 0; f->direct && i < ns; i++)
				seg[nseg++] = (struct blkf_seg){s[i].addr, s[i].len, 0};
		}
		if (!f->direct) {
			nseg = 0;
			if (!to_mem) {
				/* TC inside a sector: the rest is written as zeros. */
				memset(bounce(f), 0, (size_t)nsec * FDC_SECTOR);
				if (f->dma)
					(void)i8237_peek(f->dma, FDC_DMA_CHAN, bounce(f),
							 f->chunk_bytes, false);
			}
			seg[nseg++] = (struct blkf_seg){FDC_BOUNCE_OFF, nsec * FDC_SECTOR,
							BLKF_SEG_BOUNCE};
		}
	}
	f->io_done = false;
	h = blkf_submit(f->front, d->disk, op, lba, nsec, seg, nseg, io_done_cb, f);
	if (h < 0)
		return h;
	f->io_handle = h;
	f->io_inflight = true;
	return 0;
}

/* Submits and, with a deterministic clock, arms the completion time. */
static void io_start(struct fdc *f)
{
	int r;
	f->xstate = FDC_X_IO;
	r = io_send(f);
	if (r < 0) {
		io_apply(f, r);
		return;
	}
	if (f->icount) {
		f->io_deadline = vclock_now(f->clock) + FDC_IO_NS +
				 FDC_SECTOR_NS * f->chunk_sectors;
		vtimer_arm(f->clock, &f->io_timer, f->io_deadline);
	}
}

static void io_complete(struct fdc *f)
{
	int status = f->io_status;
	f->io_inflight = false;
	f->io_done = false;
	f->io_deadline = VCLOCK_NEVER;
	io_apply(f, status);
}

static void io_timer_fire(void *opaque)
{
	struct fdc *f = opaque;
	f->io_deadline = VCLOCK_NEVER;
	if (!f->io_inflight)
		return;
	if (!f->io_done)
		blkf_wait(f->front, f->io_handle);
	if (f->io_done)
		io_complete(f);
	else
		io_apply(f, -EIO); /* the front gave up on it */
}

void fdc_poll(struct fdc *f)
{
	if (!f->front)
		return;
	(void)blkf_poll(f->front);
	if (!f->icount && f->io_inflight && f->io_done)
		io_complete(f);
}

/* Waits out a request in flight and forgets it (reset, teardown). */
static void io_drain(struct fdc *f)
{
	if (f->io_inflight && !f->io_done && f->front)
		blkf_wait(f->front, f->io_handle);
	f->io_inflight = false;
	f->io_done = false;
	vtimer_cancel(f->clock, &f->io_timer);
	f->io_deadline = VCLOCK_NEVER;
}

/* ---- data commands ---- */

/* After a sector at (c, h, r): the ID of the next one. Returns false
 * when the transfer leaves the cylinder (the EOT sector of its last
 * track was done). A track also ends at its last sector when EOT lies
 * beyond it, as on QEMU: BIOS reads that run past a track with MT set
 * go on on the other head there. */
static bool next_id(struct fdc *f)
{
	const struct fdc_drive *d = cur_drive(f);
	if (f->r != f->eot && (!d || f->r < d->geo.spt)) {
		f->r++;
		return true;
	}
	f->r = 1;
	if (f->mt) {
		f->h ^= 1;
		if (f->head == 0 && d && d->geo.heads > 1) {
			f->head = 1;
			return true;
		}
	}
	f->c++;
	return false;
}

/* The last sector of the current track run from r on, up to EOT. */
static unsigned run_length(const struct fdc *f, const struct fdc_drive *d)
{
	unsigned last = f->r <= f->eot && f->eot < d->geo.spt ? f->eot : d->geo.spt;
	return f->r <= last ? last - f->r + 1 : 0;
}

/* Whether the sector at (c, h, r, n) is on the track under the head;
 * sets the error bits when not. */
static bool id_found(const struct fdc *f, const struct fdc_drive *d, uint8_t *st1,
		     uint8_t *st2)
{
	if (f->c != d->cyl) {
		*st1 = FDC_ST1_ND;
		*st2 = f->c == 0xff ? FDC_ST2_BC : FDC_ST2_WC;
		return false;
	}
	if (f->h != f->head || f->n != 2 || f->r < 1 || f->r > d->geo.spt) {
		*st1 = FDC_ST1_ND;
		return false;
	}
	return true;
}

/* The next sectors of a READ/WRITE/READ TRACK, or the end. */
static void xfer_next(struct fdc *f)
{
	struct fdc_drive *d = cur_drive(f);
	uint8_t st1 = 0, st2 = 0;

	if (!id_found(f, d, &st1, &st2)) {
		finish(f, FDC_ST0_ABNTERM, st1, st2);
		return;
	}
	if (f->pio) {
		f->chunk_sectors = 1;
		f->pio_pos = 0;
		f->pio_len = FDC_SECTOR;
		if (f->op == OP_WRITE) {
			f->xstate = FDC_X_PIO; /* the guest fills the sector first */
			update_irq(f);
		} else {
			io_start(f);
		}
		return;
	}
	f->xstate = FDC_X_WAIT_DMA;
	update_dreq(f);
}

/* Channel 2 is ready: as much of the track run as the count allows. */
static void dma_go(struct fdc *f)
{
	struct fdc_drive *d = cur_drive(f);
	bool to_mem;
	uint32_t bytes, residue;
	struct i8237_seg s[4];
	size_t covered;

	if (!d || !f->dma)
		return;
	if (f->op == OP_FORMAT) {
		/* The ID list, four bytes a sector. */
		bool tc;
		size_t got = i8237_transfer(f->dma, FDC_DMA_CHAN, f->buf, f->pio_len, false, &tc);
		f->pio_pos = (uint16_t)got;
		f->xstate = FDC_X_NONE;
		update_dreq(f);
		format_write(f);
		return;
	}
	to_mem = f->op != OP_WRITE;
	bytes = run_length(f, d) * FDC_SECTOR;
	residue = i8237_residue(f->dma, FDC_DMA_CHAN);
	if (bytes > residue)
		bytes = residue;
	f->chunk_bytes = bytes;
	f->chunk_sectors = (uint8_t)((bytes + FDC_SECTOR - 1) / FDC_SECTOR);
	f->direct = bytes % FDC_SECTOR == 0 &&
		    i8237_segments(f->dma, FDC_DMA_CHAN, to_mem, bytes, s, 4, &covered) &&
		    covered == bytes;
	f->dreq_level = false;
	i8237_dreq(f->dma, FDC_DMA_CHAN, false);
	io_start(f);
}

/* After a PIO sector: the next one, or the end of the cylinder. */
static void pio_sector_done(struct fdc *f)
{
	if (next_id(f))
		xfer_next(f);
	else
		finish(f, FDC_ST0_ABNTERM, FDC_ST1_EN, 0);
}

/* A request came back (or failed to go). */
static void io_apply(struct fdc *f, int status)
{
	bool tc = false, more = true;

	if (f->phase != PH_EXEC || f->xstate != FDC_X_IO)
		return; /* a reset abandoned the command */
	if (status == -EFAULT && f->direct && !f->pio) {
		/* Guest addresses that are not all RAM: the 8237 copies
		 * what it can through the bounce area. */
		f->direct = false;
		io_start(f);
		return;
	}
	if (status < 0) {
		if (status == -EROFS)
			finish(f, FDC_ST0_ABNTERM, FDC_ST1_NW, 0);
		else
			finish(f, FDC_ST0_ABNTERM, FDC_ST1_DE, FDC_ST2_DD);
		return;
	}
	if (f->op == OP_FORMAT) {
		unsigned first = (unsigned)__builtin_ctzll(f->fmt_todo);
		uint64_t run = f->chunk_sectors >= 64 ? ~0ull : (1ull << f->chunk_sectors) - 1;
		f->fmt_todo &= ~(run << first);
		if (f->fmt_todo)
			io_start(f);
		else
			finish(f, 0, 0, 0);
		return;
	}
	if (f->pio) {
		if (f->op == OP_WRITE) {
			pio_sector_done(f);
		} else {
			memcpy(f->buf, bounce(f), FDC_SECTOR);
			f->pio_pos = 0;
			f->pio_len = FDC_SECTOR;
			f->xstate = FDC_X_PIO;
			update_irq(f);
		}
		return;
	}
	if (!f->dma) {
		finish(f, FDC_ST0_ABNTERM, 0, 0);
		return;
	}
	if (f->op == OP_WRITE)
		tc = i8237_advance(f->dma, FDC_DMA_CHAN, f->chunk_bytes, false);
	else if (f->direct)
		tc = i8237_advance(f->dma, FDC_DMA_CHAN, f->chunk_bytes, true);
	else
		(void)i8237_transfer(f->dma, FDC_DMA_CHAN, bounce(f), f->chunk_bytes, true, &tc);
	for (unsigned i = 0; i < f->chunk_sectors && more; i++)
		more = next_id(f);
	if (tc)
		finish(f, 0, 0, 0);
	else if (!more)
		finish(f, FDC_ST0_ABNTERM, FDC_ST1_EN, 0);
	else
		xfer_next(f);
}

/* FORMAT has its ID list (pio_pos bytes of it): fill the sectors named. */
static void format_write(struct fdc *f)
{
	const struct fdc_drive *d = cur_drive(f);

	f->fmt_todo = 0;
	for (unsigned i = 0; i + 4 <= f->pio_pos; i += 4) {
		uint8_t r = f->buf[i + 2];
		f->c = f->buf[i];
		f->h = f->buf[i + 1];
		f->r = r;
		if (d && r >= 1 && r <= d->geo.spt && r <= 64)
			f->fmt_todo |= 1ull << (r - 1);
	}
	f->phase = PH_EXEC;
	if (!f->fmt_todo) {
		finish(f, 0, 0, 0);
		return;
	}
	io_start(f);
}

/* VERIFY: the sectors are there (a disk image has no CRC errors). */
static void verify_run(struct fdc *f, bool ec)
{
	const struct fdc_drive *d = cur_drive(f);

	for (unsigned i = 0; i < 2 * 256; i++) {
		uint8_t st1 = 0, st2 = 0;
		if (ec && f->left == 0) {
			finish(f, 0, 0, 0);
			return;
		}
		if (!id_found(f, d, &st1, &st2)) {
			finish(f, FDC_ST0_ABNTERM, st1, st2);
			return;
		}
		if (ec)
			f->left--;
		if (!next_id(f)) {
			/* EC: the count ran past the cylinder; without EC
			 * the EOT sector is where VERIFY ends well. */
			if (ec && f->left)
				finish(f, FDC_ST0_ABNTERM, FDC_ST1_EN, 0);
			else
				finish(f, 0, 0, 0);
			return;
		}
	}
	finish(f, FDC_ST0_ABNTERM, FDC_ST1_ND, 0);
}

/* Common checks of the commands that read or write the media. Returns
 * the drive, or NULL having finished the command with the error. */
static struct fdc_drive *media_check(struct fdc *f, bool mfm, bool write)
{
	struct fdc_drive *d = cur_drive(f);
	if (!d || !d->present || !d->has_disk) {
		finish(f, FDC_ST0_ABNTERM | FDC_ST0_NR, 0, 0);
		return NULL;
	}
	if (!mfm || (f->dsr & FDC_DSR_RATE) != d->geo.rate || d->cyl >= d->geo.cyls ||
	    f->head >= d->geo.heads) {
		finish(f, FDC_ST0_ABNTERM, FDC_ST1_MA, 0);
		return NULL;
	}
	if (write && d->read_only) {
		finish(f, FDC_ST0_ABNTERM, FDC_ST1_NW, 0);
		return NULL;
	}
	return d;
}

static void select_unit(struct fdc *f)
{
	f->unit = f->cmd[1] & 3;
	f->head = (f->cmd[1] >> 2) & 1;
}

/* The head moves to cylinder `cyl`; a disk in the drive sees the step
 * and the change line drops. */
static void seek_to(struct fdc_drive *d, uint8_t cyl)
{
	d->cyl = cyl;
	if (d->has_disk)
		d->changed = false;
}

static void start_data(struct fdc *f, uint8_t op)
{
	uint8_t c0 = f->cmd[0];
	struct fdc_drive *d;

	select_unit(f);
	f->c = f->cmd[2];
	f->h = f->cmd[3];
	f->r = f->cmd[4];
	f->n = f->cmd[5];
	f->eot = f->cmd[6];
	f->left = f->cmd[8];
	f->mt = (c0 & 0x80) && op != OP_READ_TRACK;
	f->pio = f->specify[1] & 1;
	f->op = op;
	f->phase = PH_EXEC;
	d = cur_drive(f);
	if (d && d->present && d->has_disk && (f->config & FDC_CFG_EIS))
		seek_to(d, f->c);
	d = media_check(f, c0 & 0x40, op == OP_WRITE);
	if (!d)
		return;
	if (op == OP_READ_TRACK)
		f->r = 1; /* from the index hole on */
	if (op == OP_VERIFY) {
		verify_run(f, f->cmd[1] & 0x80);
		return;
	}
	xfer_next(f);
}

static void cmd_read(struct fdc *f)
{
	start_data(f, OP_READ);
}

static void cmd_write(struct fdc *f)
{
	start_data(f, OP_WRITE);
}

static void cmd_read_track(struct fdc *f)
{
	start_data(f, OP_READ_TRACK);
}

static void cmd_verify(struct fdc *f)
{
	start_data(f, OP_VERIFY);
}

/* Images carry no deleted-data marks (see the top). */
static void cmd_deleted(struct fdc *f)
{
	select_unit(f);
	f->c = f->cmd[2];
	f->h = f->cmd[3];
	f->r = f->cmd[4];
	f->n = f->cmd[5];
	finish(f, FDC_ST0_ABNTERM, 0, 0);
}

static void cmd_read_id(struct fdc *f)
{
	struct fdc_drive *d;
	select_unit(f);
	d = cur_drive(f);
	f->c = d ? d->cyl : 0;
	f->h = f->head;
	f->r = 1;
	f->n = 2;
	d = media_check(f, f->cmd[0] & 0x40, false);
	if (!d)
		return;
	/* The disk turns: the next sector's ID passes the head. */
	d->last_sector = (uint8_t)(d->last_sector % d->geo.spt + 1);
	f->r = d->last_sector;
	finish(f, 0, 0, 0);
}

static void cmd_format(struct fdc *f)
{
	struct fdc_drive *d;
	uint8_t sc = f->cmd[3];

	select_unit(f);
	d = cur_drive(f);
	f->c = d ? d->cyl : 0;
	f->h = f->head;
	f->r = 1;
	f->n = f->cmd[2];
	f->op = OP_FORMAT;
	f->phase = PH_EXEC;
	f->pio = f->specify[1] & 1;
	d = media_check(f, f->cmd[0] & 0x40, true);
	if (!d)
		return;
	f->fmt_fill = f->cmd[5];
	f->pio_pos = 0;
	f->pio_len = (uint16_t)(4u * sc);
	if (!sc) {
		finish(f, 0, 0, 0);
		return;
	}
	f->xstate = f->pio ? FDC_X_PIO : FDC_X_WAIT_DMA;
	update_irq(f);
	update_dreq(f);
}

static void seek_status(struct fdc *f, unsigned unit, uint8_t st0)
{
	f->pend |= (uint8_t)(1u << unit);
	f->pend_st0[unit] = st0;
	f->busy |= (uint8_t)(1u << unit);
	to_command(f);
	raise_int(f);
}

static void cmd_recalibrate(struct fdc *f)
{
	unsigned unit = f->cmd[1] & 3;
	struct fdc_drive *d = unit < FDC_DRIVES ? &f->drive[unit] : NULL;
	if (!d || !d->present) {
		/* No drive: track 0 never shows up. */
		if (d)
			d->cyl = 0;
		seek_status(f, unit, (uint8_t)(FDC_ST0_ABNTERM | FDC_ST0_SE | FDC_ST0_EC | unit));
		return;
	}
	seek_to(d, 0);
	seek_status(f, unit, (uint8_t)(FDC_ST0_SE | unit));
}

static void cmd_seek(struct fdc *f)
{
	unsigned unit = f->cmd[1] & 3, head = (f->cmd[1] >> 2) & 1;
	struct fdc_drive *d = unit < FDC_DRIVES ? &f->drive[unit] : NULL;
	unsigned to = f->cmd[2];

	if (d && (f->cmd[0] & 0x80)) { /* relative: by NCN, in or out */
		unsigned at = d->cyl;
		if (f->cmd[0] & 0x40)
			to = at + to > 255 ? 255 : at + to;
		else
			to = at > to ? at - to : 0;
	}
	if (d) {
		d->cyl = (uint8_t)to;
		if (d->present)
			seek_to(d, (uint8_t)to);
	}
	seek_status(f, unit, (uint8_t)(FDC_ST0_SE | head << 2 | unit));
}

static void cmd_sense_int(struct fdc *f)
{
	uint8_t res[2];
	lower_int(f);
	if (!f->pend) {
		res[0] = FDC_ST0_INVCMD;
		to_result(f, res, 1);
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		uint8_t bit = (uint8_t)(1u << i);
		if (!(f->pend & bit))
			continue;
		f->pend &= (uint8_t)~bit;
		f->busy &= (uint8_t)~bit;
		res[0] = f->pend_st0[i];
		res[1] = i < FDC_DRIVES ? f->drive[i].cyl : 0;
		break;
	}
	to_result(f, res, 2);
}

static void cmd_specify(struct fdc *f)
{
	f->specify[0] = f->cmd[1];
	f->specify[1] = f->cmd[2];
	to_command(f);
}

static void cmd_sense_drive(struct fdc *f)
{
	unsigned unit = f->cmd[1] & 3;
	const struct fdc_drive *d = unit < FDC_DRIVES ? &f->drive[unit] : NULL;
	uint8_t st3 = (uint8_t)(FDC_ST3_RDY | (f->cmd[1] & (FDC_ST3_HD | 3)));
	if (d && d->present) {
		if (d->cyl == 0)
			st3 |= FDC_ST3_T0;
		if (!d->has_disk || d->read_only)
			st3 |= FDC_ST3_WP; /* no disk: the sensor sees no tab */
	}
	to_result(f, &st3, 1);
}

static void cmd_configure(struct fdc *f)
{
	f->config = f->cmd[2] & 0x7f;
	f->pretrk = f->cmd[3];
	to_command(f);
}

static void cmd_version(struct fdc *f)
{
	uint8_t v = FDC_VERSION;
	to_result(f, &v, 1);
}

static void cmd_dumpreg(struct fdc *f)
{
	uint8_t res[10] = {f->drive[0].cyl, f->drive[1].cyl, 0, 0, f->specify[0],
			   f->specify[1], f->eot,
			   (uint8_t)((f->locked ? 0x80 : 0) | (f->perp & 0x3f)),
			   f->config, f->pretrk};
	to_result(f, res, 10);
}

static void cmd_perpendicular(struct fdc *f)
{
	uint8_t v = f->cmd[1];
	/* OW (bit 7): the drive bits D0-D3 change only with it. */
	f->perp = (uint8_t)(((v & 0x80) ? (v & 0x3c) : (f->perp & 0x3c)) | (v & 0x03));
	to_command(f);
}

static void cmd_lock(struct fdc *f)
{
	uint8_t v;
	f->locked = (f->cmd[0] & 0x80) != 0;
	v = (uint8_t)(f->locked ? 0x10 : 0);
	to_result(f, &v, 1);
}

static void cmd_part_id(struct fdc *f)
{
	uint8_t v = FDC_PART_ID;
	to_result(f, &v, 1);
}

/* The command set: the first byte under `mask` equals `value` (the bits
 * outside are MT, MFM, SK or a direction); `len` bytes with it. */
struct fdc_cmd {
	uint8_t value, mask, len;
	void (*run)(struct fdc *f);
};

static const struct fdc_cmd fdc_cmds[] = {
	{0x06, 0x1f, 9, cmd_read},          /* READ DATA */
	{0x0c, 0x1f, 9, cmd_deleted},       /* READ DELETED DATA */
	{0x05, 0x3f, 9, cmd_write},         /* WRITE DATA */
	{0x09, 0x3f, 9, cmd_deleted},       /* WRITE DELETED DATA */
	{0x02, 0xbf, 9, cmd_read_track},    /* READ TRACK */
	{0x16, 0x1f, 9, cmd_verify},        /* VERIFY */
	{0x0a, 0xbf, 2, cmd_read_id},       /* READ ID */
	{0x0d, 0xbf, 6, cmd_format},        /* FORMAT TRACK */
	{0x07, 0xff, 2, cmd_recalibrate},   /* RECALIBRATE */
	{0x08, 0xff, 1, cmd_sense_int},     /* SENSE INTERRUPT STATUS */
	{0x0f, 0xff, 3, cmd_seek},          /* SEEK */
	{0x8f, 0xbf, 3, cmd_seek},          /* RELATIVE SEEK */
	{0x03, 0xff, 3, cmd_specify},       /* SPECIFY */
	{0x04, 0xff, 2, cmd_sense_drive},   /* SENSE DRIVE STATUS */
	{0x13, 0xff, 4, cmd_configure},     /* CONFIGURE */
	{0x10, 0xff, 1, cmd_version},       /* VERSION */
	{0x0e, 0xff, 1, cmd_dumpreg},       /* DUMPREG */
	{0x12, 0xff, 2, cmd_perpendicular}, /* PERPENDICULAR MODE */
	{0x14, 0x7f, 1, cmd_lock},          /* LOCK */
	{0x18, 0xff, 1, cmd_part_id},       /* PART ID */
};

static const struct fdc_cmd *cmd_find(uint8_t b)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fdc_cmds); i++)
		if ((b & fdc_cmds[i].mask) == fdc_cmds[i].value)
			return &fdc_cmds[i];
	return NULL;
}

/* ---- the FIFO ---- */

static bool reading_op(const struct fdc *f)
{
	return f->op == OP_READ || f->op == OP_READ_TRACK;
}

static uint8_t fifo_read(struct fdc *f)
{
	uint8_t v;
	if (f->phase == PH_RESULT) {
		v = f->res[f->res_pos++];
		if (f->res_pos == 1)
			lower_int(f);
		if (f->res_pos >= f->res_len)
			to_command(f);
		return v;
	}
	if (f->phase == PH_EXEC && f->xstate == FDC_X_PIO && reading_op(f) &&
	    f->pio_pos < f->pio_len) {
		v = f->buf[f->pio_pos++];
		if (f->pio_pos == f->pio_len)
			pio_sector_done(f);
		update_irq(f);
		return v;
	}
	return 0; /* nothing to read: the datasheet leaves it undefined */
}

static void fifo_write(struct fdc *f, uint8_t v)
{
	const struct fdc_cmd *c;

	if (f->phase == PH_EXEC && f->xstate == FDC_X_PIO && !reading_op(f) &&
	    f->pio_pos < f->pio_len) {
		f->buf[f->pio_pos++] = v;
		if (f->pio_pos == f->pio_len) {
			if (f->op == OP_FORMAT) {
				f->xstate = FDC_X_NONE;
				format_write(f);
			} else {
				io_start(f);
			}
		}
		update_irq(f);
		return;
	}
	if (f->phase != PH_CMD)
		return; /* RQM or DIO says not now */
	if (f->cmd_pos == 0) {
		c = cmd_find(v);
		if (!c) {
			uint8_t st0 = FDC_ST0_INVCMD;
			to_result(f, &st0, 1);
			return;
		}
		f->cmd_len = c->len;
	}
	f->cmd[f->cmd_pos++] = v;
	if (f->cmd_pos < f->cmd_len)
		return;
	c = cmd_find(f->cmd[0]);
	if (c)
		c->run(f);
}

static uint8_t msr(const struct fdc *f)
{
	uint8_t m = f->busy;
	switch (f->phase) {
	case PH_CMD:
		return (uint8_t)(m | FDC_MSR_RQM | (f->cmd_pos ? FDC_MSR_CB : 0));
	case PH_RESULT:
		return (uint8_t)(m | FDC_MSR_RQM | FDC_MSR_DIO | FDC_MSR_CB);
	case PH_EXEC:
		m |= FDC_MSR_CB;
		if (f->pio) {
			m |= FDC_MSR_NDMA;
			if (f->xstate == FDC_X_PIO)
				m |= FDC_MSR_RQM;
			if (reading_op(f))
				m |= FDC_MSR_DIO;
		}
		return m;
	default:
		return 0; /* in reset */
	}
}

/* ---- resets ---- */

/* What a DOR or DSR reset clears: the command, interrupts, the present
 * cylinders; CONFIGURE's values unless LOCKed, PERPENDICULAR's GAP and
 * WGATE. SPECIFY and the data rate stay. */
static void controller_reset(struct fdc *f)
{
	io_drain(f);
	to_command(f);
	f->pend = 0;
	f->busy = 0;
	f->int_pending = false;
	if (!f->locked) {
		f->config = CFG_POWER_ON;
		f->pretrk = 0;
	}
	f->perp &= 0x3c;
	for (unsigned i = 0; i < FDC_DRIVES; i++)
		f->drive[i].cyl = 0;
	update_dreq(f);
	update_irq(f);
}

/* Out of reset: the controller polls the four drives and reports a
 * ready change for each (four SENSE INTERRUPTs drain them). */
static void reset_done(struct fdc *f)
{
	f->phase = PH_CMD;
	for (unsigned i = 0; i < 4; i++)
		f->pend_st0[i] = (uint8_t)(FDC_ST0_POLL | i);
	f->pend = 0x0f;
	raise_int(f);
}

static void dor_write(struct fdc *f, uint8_t v)
{
	uint8_t old = f->dor;
	f->dor = v;
	if ((old & FDC_DOR_NRESET) && !(v & FDC_DOR_NRESET)) {
		controller_reset(f);
		f->phase = PH_RESET;
	} else if (!(old & FDC_DOR_NRESET) && (v & FDC_DOR_NRESET)) {
		reset_done(f);
	}
	update_irq(f);
	update_dreq(f);
}

static void power_on(struct fdc *f)
{
	io_drain(f);
	f->dor = FDC_DOR_NRESET | FDC_DOR_DMAEN;
	f->tdr = 0;
	f->dsr = 0;
	memset(f->specify, 0, sizeof(f->specify));
	f->config = CFG_POWER_ON;
	f->pretrk = 0;
	f->perp = 0;
	f->locked = false;
	f->eot = 0;
	to_command(f);
	f->pend = 0;
	f->busy = 0;
	f->int_pending = false;
	for (unsigned i = 0; i < FDC_DRIVES; i++) {
		f->drive[i].cyl = 0;
		f->drive[i].last_sector = 0;
		f->drive[i].changed = true;
	}
	update_dreq(f);
	update_irq(f);
}

/* ---- the registers ---- */

static uint64_t fdc_read(void *opaque, uint64_t off, unsigned size)
{
	struct fdc *f = opaque;
	switch (off) {
	case FDC_SRA: /* PS/2 status A as QEMU shows it: INT, no second drive */
		return (f->int_pending ? 0x80 : 0) | (f->drive[1].present ? 0 : 0x40);
	case FDC_SRB:
		return 0xc0 | (f->dor & 0x10 ? 0x01 : 0) | (f->dor & 0x20 ? 0x02 : 0) |
		       (f->dor & 0x01 ? 0x20 : 0);
	case FDC_DOR:
		return f->dor;
	case FDC_TDR:
		return f->tdr;
	case FDC_MSR:
		return msr(f);
	case FDC_FIFO:
		return fifo_read(f);
	default:
		return 0xff;
	}
}

static void fdc_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct fdc *f = opaque;
	uint8_t v = (uint8_t)value;
	switch (off) {
	case FDC_DOR:
		dor_write(f, v);
		break;
	case FDC_TDR:
		f->tdr = v & 3;
		break;
	case FDC_DSR:
		f->dsr = v & 0x7f;
		if ((v & FDC_DSR_RESET) && f->phase != PH_RESET) {
			controller_reset(f);
			reset_done(f);
		}
		break;
	case FDC_FIFO:
		fifo_write(f, v);
		break;
	}
}

static uint64_t dir_read(void *opaque, uint64_t off, unsigned size)
{
	struct fdc *f = opaque;
	unsigned sel = f->dor & FDC_DOR_SEL;
	/* Bits 0-6 belong to the hard disk controller on an AT. */
	if (sel < FDC_DRIVES && f->drive[sel].present && f->drive[sel].changed)
		return FDC_DIR_DSKCHG;
	return 0;
}

static void ccr_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct fdc *f = opaque;
	f->dsr = (uint8_t)((f->dsr & ~FDC_DSR_RATE) | (value & FDC_DSR_RATE));
}

const struct io_ops fdc_ops = {fdc_read, fdc_write, IO_SIZE_1, IO_SIZE_1};
const struct io_ops fdc_dir_ops = {dir_read, ccr_write, IO_SIZE_1, IO_SIZE_1};

/* ---- setup ---- */

void fdc_init(struct fdc *f, const struct irq_line *irq, struct vclock *clock,
	      struct blk_front *front, bool icount)
{
	memset(f, 0, sizeof(*f));
	f->irq = *irq;
	f->clock = clock;
	f->front = front;
	f->icount = icount;
	vtimer_init(&f->io_timer, io_timer_fire, f);
	f->io_deadline = VCLOCK_NEVER;
	power_on(f);
	irq_lower(&f->irq);
}

void fdc_reset(struct fdc *f)
{
	power_on(f);
}

void fdc_fini(struct fdc *f)
{
	if (!f->clock)
		return; /* never initialised */
	io_drain(f);
	if (f->dma && f->dreq_level)
		i8237_dreq(f->dma, FDC_DMA_CHAN, false);
	if (f->front)
		blkf_close(f->front);
	f->front = NULL;
}

static int disk_geometry(struct fdc *f, unsigned unit, int disk, struct fdc_drive *d,
			 char *err, size_t n)
{
	struct blkf_disk info;
	int r;

	if (!f->front)
		return err_say(err, n, -ENODEV, "isa-fdc: drive %c: no block front for disk %d",
			       'A' + unit, disk);
	r = blkf_info(f->front, (unsigned)disk, &info);
	if (r < 0)
		return err_say(err, n, r, "isa-fdc: drive %c: the block front has no disk %d",
			       'A' + unit, disk);
	if (fdc_geometry_for(info.sectors, &d->geo) < 0)
		return err_say(err, n, -EINVAL,
			       "isa-fdc: drive %c: a floppy image of %llu bytes; the sizes "
			       "accepted are " FDC_SIZES_ACCEPTED,
			       'A' + unit, (unsigned long long)info.sectors * BLKF_SECTOR);
	d->read_only = info.read_only;
	return 0;
}

int fdc_drive_setup(struct fdc *f, unsigned unit, bool present, int disk, char *err,
		    size_t n)
{
	struct fdc_drive *d;
	if (unit >= FDC_DRIVES || disk >= (int)BLKF_MAX_DISKS || (!present && disk >= 0))
		return err_say(err, n, -EINVAL, "isa-fdc: drive %u, disk %d", unit, disk);
	d = &f->drive[unit];
	d->present = present;
	d->has_disk = false;
	d->disk = 0;
	fdc_geometry_for(2880, &d->geo); /* an empty drive is a 1.44 MB one */
	if (disk >= 0) {
		int r = disk_geometry(f, unit, disk, d, err, n);
		if (r < 0)
			return r;
		d->has_disk = true;
		d->disk = (uint8_t)disk;
	}
	d->changed = true;
	return 0;
}

int fdc_change_media(struct fdc *f, unsigned unit, int disk, char *err, size_t n)
{
	struct fdc_drive *d;
	if (unit >= FDC_DRIVES || !f->drive[unit].present || disk >= (int)BLKF_MAX_DISKS)
		return err_say(err, n, -ENODEV, "isa-fdc: no drive %u", unit);
	d = &f->drive[unit];
	if (disk >= 0) {
		struct fdc_drive next = *d;
		int r = disk_geometry(f, unit, disk, &next, err, n);
		if (r < 0)
			return r;
		next.has_disk = true;
		next.disk = (uint8_t)disk;
		*d = next;
	} else {
		d->has_disk = false;
	}
	d->changed = true;
	return 0;
}

static int fdc_post_load(void *obj, char *err, size_t n)
{
	struct fdc *f = obj;
	uint64_t deadline = f->io_deadline;

	for (unsigned i = 0; i < FDC_DRIVES; i++) {
		struct fdc_drive *d = &f->drive[i];
		if (d->has_disk) {
			int r = disk_geometry(f, i, d->disk, d, err, n);
			if (r < 0) {
				d->has_disk = false;
				return r;
			}
		}
	}
	/* A request of the instance before the load is not this state's. */
	if (f->io_inflight && !f->io_done && f->front)
		blkf_wait(f->front, f->io_handle);
	f->io_inflight = f->io_done = false;
	vtimer_cancel(f->clock, &f->io_timer);
	irq_set(&f->irq, f->irq_level);
	if (find_dma(f))
		i8237_dreq(f->dma, FDC_DMA_CHAN, f->dreq_level);
	f->io_deadline = VCLOCK_NEVER;
	if (f->phase == PH_EXEC && f->xstate == FDC_X_IO) {
		/* The request the state is waiting for is sent again: it
		 * reads or writes the same sectors from the same place. */
		int r = io_send(f);
		if (r < 0) {
			io_apply(f, r);
		} else if (f->icount) {
			f->io_deadline = deadline != VCLOCK_NEVER ? deadline : vclock_now(f->clock);
			f->io_timer.deadline = f->io_deadline;
			vtimer_restore(f->clock, &f->io_timer);
		}
	}
	return 0;
}

/* ---- the kind (dev/kind.h) ---- */

enum { P_DRIVE0, P_DRIVE1 };

static const struct dev_prop fdc_props[] = {
	[P_DRIVE0] = {"drive0", DEV_PROP_STR, true, 0, 0, 0, "",
		      "A: \"\" no drive, \"empty\" a drive without a disk, \"fd:N\" the front's disk N"},
	[P_DRIVE1] = {"drive1", DEV_PROP_STR, true, 0, 0, 0, "", "B:, as drive0"},
};

/* "" / "empty" / "fd:N" -> present, disk (-1: none). */
static int parse_drive(const char *s, bool *present, int *disk)
{
	*present = *s != 0;
	*disk = -1;
	if (!*s || !strcmp(s, "empty"))
		return 0;
	if (!strncmp(s, "fd:", 3) && s[3] >= '0' && s[3] < '0' + (int)BLKF_MAX_DISKS && !s[4]) {
		*disk = s[3] - '0';
		return 0;
	}
	return -EINVAL;
}

static int fdc_check(const struct dev_props *p, char *err, size_t n)
{
	bool present[2];
	int disk[2];
	for (unsigned i = 0; i < 2; i++)
		if (parse_drive(p->str[P_DRIVE0 + i], &present[i], &disk[i]) < 0)
			return err_say(err, n, -EINVAL,
				       "isa-fdc: drive%u='%s': want \"\", \"empty\" or \"fd:N\"",
				       i, p->str[P_DRIVE0 + i]);
	if (disk[0] >= 0 && disk[0] == disk[1])
		return err_say(err, n, -EINVAL, "isa-fdc: disk fd:%d in both drives", disk[0]);
	return 0;
}

/* The front's three descriptors. The board keeps dev_ctx.fds and closes
 * them after destroy, and blkf_attach() takes what it is given (closing
 * it, also on failure): it gets duplicates. */
static int attach_front(const struct dev_ctx *c, struct blk_front **out, char *err, size_t n)
{
	int dup_fds[3];
	unsigned k;

	if (c->n_fds != 3)
		return err_say(err, n, -EINVAL,
			       "isa-fdc %s: a disk needs the block front's 3 descriptors, not %u",
			       c->id, c->n_fds);
	for (k = 0; k < 3; k++) {
		dup_fds[k] = fcntl(c->fds[k], F_DUPFD_CLOEXEC, 3);
		if (dup_fds[k] < 0) {
			int e = errno;
			while (k-- > 0)
				close(dup_fds[k]);
			return err_say(err, n, -e, "isa-fdc %s: dup: %s", c->id, strerror(e));
		}
	}
	return blkf_attach(dup_fds, 3, out, err, n);
}

static int fdc_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		      char *err, size_t n)
{
	struct fdc *f = dev;
	const struct irq_line *irq = c->line(c, DEV_LINE_ISA0 + FDC_IRQ);
	struct blk_front *front = NULL;
	bool present[2];
	int disk[2], r;

	if (!irq)
		return -ENODEV;
	r = fdc_check(p, err, n);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < 2; i++)
		(void)parse_drive(p->str[P_DRIVE0 + i], &present[i], &disk[i]);
	if (disk[0] >= 0 || disk[1] >= 0) {
		r = attach_front(c, &front, err, n);
		if (r < 0)
			return r;
	}
	fdc_init(f, irq, c->clock, front, c->icount);
	f->ctx = c;
	for (unsigned i = 0; i < 2 && r == 0; i++)
		r = fdc_drive_setup(f, i, present[i], disk[i], err, n);
	(void)find_dma(f); /* or at first use, if the 8237 comes later */
	if (r == 0)
		r = c->claim(c, DEV_SPACE_PIO, FDC_BASE, FDC_LEN, 0, &fdc_ops, f);
	if (r == 0)
		r = c->claim(c, DEV_SPACE_PIO, FDC_DIR_PORT, 1, 0, &fdc_dir_ops, f);
	return r;
}

static void fdc_kind_reset(void *dev)
{
	fdc_reset(dev);
}

static void fdc_destroy(void *dev)
{
	fdc_fini(dev);
}

static int fdc_input_fd(void *dev)
{
	struct fdc *f = dev;
	return f->front ? blkf_fd(f->front) : -1;
}

static bool fdc_input(void *dev, bool readable)
{
	fdc_poll(dev);
	return readable;
}

static bool fdc_ready(void *dev)
{
	struct fdc *f = dev;
	return f->front && blkf_ready(f->front);
}

static bool fdc_waiting(void *dev)
{
	struct fdc *f = dev;
	return f->front && blkf_waiting(f->front);
}

DEV_KIND(isa_fdc) = {
	.name = "isa-fdc",
	.help = "82077AA floppy disk controller (0x3f0, IRQ 6, DMA 2) with drives A: and B:",
	.where = DEV_IN_DM,
	.category = DEV_CAT_STORAGE,
	DEV_PROPS(fdc_props),
	.size = sizeof(struct fdc),
	.check = fdc_check,
	.create = fdc_create,
	.reset = fdc_kind_reset,
	.destroy = fdc_destroy,
	.input_fd = fdc_input_fd,
	.input = fdc_input,
	.ready = fdc_ready,
	.waiting = fdc_waiting,
	.state = &fdc_state,
};
