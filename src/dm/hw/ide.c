/* An IDE channel and its ATA disks (see ide.h): the task file and the
 * device control register, selection of master and slave, PIO data
 * through the channel's buffer, requests to the block front and their
 * completion, and the ATA command set (ATA/ATAPI-6; LBA48 commands after
 * ATA8-ACS).
 *
 * PIO reads fetch up to a buffer's worth of sectors per front request
 * and hand them out a DRQ block (one sector, or the READ MULTIPLE block)
 * at a time, each with its interrupt; PIO writes collect DRQ blocks until
 * the buffer is full or the command's data is all there, then write
 * them in one request (the interrupt for a block that needs no request
 * comes at once). Deviations: an error is reported at the end of the
 * chunk it happened in, with the chunk's first sector as its address;
 * settings made by SET FEATURES and SET MULTIPLE MODE survive a software
 * reset (as QEMU's, and as every driver reprograms them anyway). */
#include "dm/hw/ide.h"

#include <errno.h>
#include <string.h>

#include "dev/kind.h"

/* Modelled latency of a front request under -icount: a fixed part and
 * about 500 MB/s. */
#define IDE_LAT_NS 100000ull
#define IDE_LAT_SECTOR_NS 1000ull

static void ide_command(struct ide_channel *ch, uint8_t cmd);

struct ide_unit *ide_sel(struct ide_channel *ch)
{
	return &ch->unit[ch->unit[0].device & ATA_DEV_DEV ? 1 : 0];
}

static bool ide_empty(const struct ide_channel *ch)
{
	return ch->unit[0].kind == IDE_ABSENT && ch->unit[1].kind == IDE_ABSENT;
}

uint8_t *ide_bounce(struct ide_channel *ch)
{
	return blkf_bounce(ch->ctrl->front) + ch->index * IDE_BOUNCE_SHARE;
}

/* The line is the selected unit's INTRQ unless nIEN masks it; a rising
 * edge sets the bus master's interrupt bit (82371SB, BMISX bit 2). */
void ide_update_irq(struct ide_channel *ch)
{
	bool level = ide_sel(ch)->intrq && !(ch->ctl & ATA_DC_NIEN);
	if (level && !ch->irq_level)
		ch->bm_status |= BM_ST_INT;
	if (level != ch->irq_level) {
		ch->irq_level = level;
		irq_set(ch->irq, level);
	}
}

void ide_raise(struct ide_channel *ch, struct ide_unit *u)
{
	u->intrq = true;
	ide_update_irq(ch);
}

static struct ide_unit *ide_active(struct ide_channel *ch)
{
	return &ch->unit[ch->active & 1];
}

void ide_finish(struct ide_channel *ch, uint8_t status, uint8_t error, bool irq)
{
	struct ide_unit *u = ide_active(ch);
	u->status = status;
	u->error = error;
	ch->phase = PH_IDLE;
	if (irq)
		ide_raise(ch, u);
}

void ide_abort(struct ide_channel *ch)
{
	ide_finish(ch, ATA_DRDY | ATA_ERR, ATA_ER_ABRT, true);
}

/* The power-on / reset signature (ATA/ATAPI-6 9.12): what tells the
 * host a disk from a packet device. An absent unit shows none. */
static void ide_signature(struct ide_unit *u)
{
	u->nsector = 1;
	u->lbal = 1;
	u->lbam = u->kind == IDE_CD ? 0x14 : u->kind == IDE_DISK ? 0x00 : 0xff;
	u->lbah = u->kind == IDE_CD ? 0xeb : u->kind == IDE_DISK ? 0x00 : 0xff;
}

/* After a reset or EXECUTE DEVICE DIAGNOSTIC: a disk is ready, a packet
 * device shows DRDY only once a command needs it. */
static void ide_unit_after_reset(struct ide_unit *u)
{
	ide_signature(u);
	u->error = u->kind == IDE_ABSENT ? 0 : 0x01; /* diagnostics passed */
	u->status = u->kind == IDE_DISK ? ATA_DRDY | ATA_DSC : 0;
	u->intrq = false;
}

void ide_channel_init(struct ide_channel *ch, struct piix3_ide *s, unsigned index,
		      const struct irq_line *irq)
{
	ch->ctrl = s;
	ch->index = index;
	ch->irq = irq;
	ch->handle = -1;
	vtimer_init(&ch->timer, ide_timer_fire, ch);
}

void ide_channel_reset(struct ide_channel *ch, bool power_on)
{
	ide_cancel_request(ch);
	for (unsigned i = 0; i < 2; i++) {
		struct ide_unit *u = &ch->unit[i];
		u->kind = u->cfg_kind;
		if (power_on) {
			/* Multiple mode on at its largest, as QEMU's disks come
			 * up (the spec leaves it to the device): Linux takes the
			 * current setting and no longer sets one itself. */
			u->mult = u->kind == IDE_DISK ? IDE_MAX_MULT : 0;
			u->xfer_mode = 0;
			u->wcache = true;
			u->heads = 16;
			u->spt = 63;
			if (u->kind == IDE_CD)
				atapi_unit_reset(u, true);
		}
		u->standby = false;
		u->feature = u->hob_feature = u->hob_nsector = 0;
		u->hob_lbal = u->hob_lbam = u->hob_lbah = 0;
		u->device = 0xa0;
		ide_unit_after_reset(u);
	}
	if (power_on) {
		ch->ctl = 0;
		ch->bm_cmd = ch->bm_status = 0;
		ch->bm_prd = 0;
	}
	ch->phase = PH_IDLE;
	ch->cmd = 0;
	ch->pos = ch->end = ch->len = 0;
	ide_update_irq(ch);
}

/* ---- front requests ---- */

static void ide_req_step(struct ide_channel *ch);
static void ide_pio_next_block(struct ide_channel *ch);

static void ide_req_cb(void *opaque, int status)
{
	struct ide_channel *ch = opaque;
	bool ok = status == 0 && !ch->discard;

	if (ch->req != RS_INFLIGHT)
		return;
	ch->handle = -1;
	/* What arrived arrives now, whatever happens to the command. */
	if (ch->req_kind == RQ_DMA && !ch->write)
		for (unsigned i = 0; i < ch->nseg && i < BLKF_MAX_SEGS; i++)
			dma_wrote(ch->ctrl->dma, ch->seg[i].addr, ch->seg[i].len);
	if (ok && ch->req_kind == RQ_PIO_READ)
		memcpy(ch->buf, ide_bounce(ch), (size_t)ch->req_sectors * IDE_SECTOR);
	if (ok && ch->req_kind == RQ_DMA_BOUNCE && !ch->write)
		status = ide_dma_bounce_out(ch);
	ch->req_status = status;
	if (ch->discard) {
		ch->discard = false;
		ch->req = RS_IDLE;
		ch->req_kind = RQ_NONE;
		return;
	}
	ch->req = RS_DONE;
	/* Under -icount the timer reports it, at a time the host does not
	 * decide. */
	if (!ch->ctrl->icount)
		ide_req_step(ch);
}

static void ide_try_submit(struct ide_channel *ch, enum blkf_op op, uint64_t sector)
{
	struct ide_unit *u = ide_active(ch);
	int r = -ENODEV;

	if (ch->ctrl->front)
		r = blkf_submit(ch->ctrl->front, u->disk, op, sector, ch->req_sectors,
				ch->seg, op == BLKF_FLUSH ? 0 : ch->nseg, ide_req_cb, ch);
	if (r >= 0) {
		ch->handle = r;
		ch->req = RS_INFLIGHT;
		return;
	}
	if (r == -EAGAIN)
		return; /* stays queued: retried after the next completion */
	ch->req_status = r;
	ch->req = RS_DONE;
	if (!ch->ctrl->icount)
		ide_req_step(ch);
}

/* The op and sector of a queued request, to submit it again. */
static enum blkf_op ide_req_op(const struct ide_channel *ch)
{
	if (ch->req_kind == RQ_FLUSH)
		return BLKF_FLUSH;
	return ch->write ? BLKF_WRITE : BLKF_READ;
}

void ide_submit(struct ide_channel *ch, uint8_t kind, enum blkf_op op, uint64_t sector,
		uint32_t n)
{
	struct piix3_ide *s = ch->ctrl;

	ch->req_kind = kind;
	ch->req_sectors = n;
	ch->req_status = 0;
	ch->req = RS_QUEUED;
	if (kind == RQ_PIO_READ || kind == RQ_PIO_WRITE || kind == RQ_DMA_BOUNCE) {
		ch->seg[0] = (struct blkf_seg){(uint64_t)ch->index * IDE_BOUNCE_SHARE,
					       n * IDE_SECTOR, BLKF_SEG_BOUNCE};
		ch->nseg = 1;
	}
	if (s->icount)
		vtimer_arm(s->clock, &ch->timer, vclock_now(s->clock) + IDE_LAT_NS +
				 IDE_LAT_SECTOR_NS * n);
	ide_try_submit(ch, op, sector);
}

/* The sector a queued request starts at: where the transfer is. */
static uint64_t ide_req_sector(const struct ide_channel *ch)
{
	return ch->req_kind == RQ_FLUSH ? 0 : ch->lba;
}

void ide_fail_later(struct ide_channel *ch, int status)
{
	struct piix3_ide *s = ch->ctrl;
	ch->req_status = status;
	ch->req = RS_DONE;
	vtimer_arm(s->clock, &ch->timer, vclock_now(s->clock));
}

void ide_retry_queued(struct ide_channel *ch)
{
	if (ch->req == RS_QUEUED)
		ide_try_submit(ch, ide_req_op(ch), ide_req_sector(ch));
}

void ide_timer_fire(void *opaque)
{
	struct ide_channel *ch = opaque;
	struct piix3_ide *s = ch->ctrl;
	struct ide_channel *other = &s->ch[ch->index ^ 1];

	if (ch->req == RS_QUEUED) {
		ide_retry_queued(ch);
		if (ch->req == RS_QUEUED && other->req == RS_INFLIGHT && s->front) {
			blkf_wait(s->front, other->handle);
			ide_retry_queued(ch);
		}
		if (ch->req == RS_QUEUED) {
			ch->req_status = -EIO;
			ch->req = RS_DONE;
		}
	}
	if (ch->req == RS_INFLIGHT && s->front)
		blkf_wait(s->front, ch->handle);
	if (ch->req == RS_DONE)
		ide_req_step(ch);
}

void ide_cancel_request(struct ide_channel *ch)
{
	struct piix3_ide *s = ch->ctrl;

	vtimer_cancel(s->clock, &ch->timer);
	if (ch->req == RS_INFLIGHT && s->front) {
		ch->discard = true;
		blkf_wait(s->front, ch->handle);
	}
	ch->discard = false;
	ch->req = RS_IDLE;
	ch->req_kind = RQ_NONE;
	ch->handle = -1;
}

/* ---- the task file's address ---- */

static uint32_t ide_chs_capacity(const struct ide_unit *u)
{
	return 16383u * 16u * 63u; /* what CHS can reach, whatever the geometry */
}

/* The command's first sector and count from the task file; false (with
 * the error set) when the address is impossible. */
static bool ide_decode(struct ide_channel *ch, struct ide_unit *u, bool lba48,
		       uint64_t *lba, uint32_t *count)
{
	ch->chs = false;
	if (lba48) {
		*lba = (uint64_t)u->hob_lbah << 40 | (uint64_t)u->hob_lbam << 32 |
		       (uint64_t)u->hob_lbal << 24 | (uint64_t)u->lbah << 16 |
		       (uint64_t)u->lbam << 8 | u->lbal;
		*count = (uint32_t)u->hob_nsector << 8 | u->nsector;
		if (!*count)
			*count = 65536;
	} else {
		*count = u->nsector ? u->nsector : 256;
		if (u->device & ATA_DEV_LBA) {
			*lba = (uint64_t)(u->device & 0x0f) << 24 | (uint64_t)u->lbah << 16 |
			       (uint64_t)u->lbam << 8 | u->lbal;
		} else {
			unsigned cyl = (unsigned)u->lbah << 8 | u->lbam;
			unsigned head = u->device & 0x0f, sect = u->lbal;
			if (!sect || sect > u->spt || head >= u->heads)
				return false;
			*lba = ((uint64_t)cyl * u->heads + head) * u->spt + sect - 1;
			ch->chs = true;
			if (*lba >= ide_chs_capacity(u))
				return false;
		}
	}
	return *lba < u->sectors && *count <= u->sectors - *lba;
}

/* The task file's address registers at sector `lba`, in the command's
 * addressing. */
static void ide_set_lba(struct ide_channel *ch, struct ide_unit *u, uint64_t lba)
{
	if (ch->chs && u->heads && u->spt) {
		uint64_t track = lba / u->spt;
		unsigned cyl = (unsigned)(track / u->heads);
		u->lbal = (uint8_t)(lba % u->spt + 1);
		u->lbam = (uint8_t)cyl;
		u->lbah = (uint8_t)(cyl >> 8);
		u->device = (uint8_t)((u->device & 0xf0) | (track % u->heads));
		return;
	}
	u->lbal = (uint8_t)lba;
	u->lbam = (uint8_t)(lba >> 8);
	u->lbah = (uint8_t)(lba >> 16);
	if (ch->lba48) {
		u->hob_lbal = (uint8_t)(lba >> 24);
		u->hob_lbam = (uint8_t)(lba >> 32);
		u->hob_lbah = (uint8_t)(lba >> 40);
	} else {
		u->device = (uint8_t)((u->device & 0xf0) | ((lba >> 24) & 0x0f));
	}
}

/* ---- moving the data ---- */

void ide_transfer_done(struct ide_channel *ch)
{
	struct ide_unit *u = ide_active(ch);

	if (ch->atapi) {
		u->nsector = (uint8_t)((u->nsector & ~7) | ATAPI_IR_IO | ATAPI_IR_COD);
		u->sense_key = u->asc = u->ascq = 0;
		ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
		return;
	}
	if (ch->src == SRC_DISK) {
		ide_set_lba(ch, u, ch->lba);
		u->nsector = 0;
		u->hob_nsector = 0;
	}
	/* PIO data-in ends when the host has read the last block: no
	 * interrupt then (ATA/ATAPI-6 9.7). */
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, ch->dma || ch->write);
}

void ide_transfer_error(struct ide_channel *ch, int status)
{
	struct ide_unit *u = ide_active(ch);

	if (ch->atapi) {
		if (status == -EIO)
			atapi_error(ch, 0x03, 0x11, 0x00); /* unrecovered read error */
		else
			atapi_error(ch, 0x0b, 0x00, 0x00); /* aborted command */
		return;
	}
	if (ch->src == SRC_DISK)
		ide_set_lba(ch, u, ch->lba);
	ide_finish(ch, ATA_DRDY | ATA_ERR, status == -EIO ? ATA_ER_UNC : ATA_ER_ABRT, true);
}

/* An ATAPI DRQ block: at most the byte count limit, even unless it is
 * the last (ATA/ATAPI-6 9.10). */
static uint32_t atapi_block(const struct ide_channel *ch, uint32_t avail)
{
	uint32_t limit = ch->bcl;
	if (limit == 0 || limit == 0xffff)
		limit = 0xfffe;
	if (avail > limit)
		return limit & ~1u;
	return avail;
}

/* The next DRQ block of a PIO read, fetching from the disk when the
 * buffer is used up. */
static void ide_pio_next_block(struct ide_channel *ch)
{
	struct ide_unit *u = ide_active(ch);
	uint32_t avail, blk;

	if (ch->pos >= ch->len) {
		if (ch->src == SRC_DISK && ch->left) {
			uint32_t n = ch->left < IDE_BUF_BYTES / IDE_SECTOR
					     ? ch->left : IDE_BUF_BYTES / IDE_SECTOR;
			ch->phase = PH_BUSY;
			u->status = ATA_BSY | (u->status & ATA_DRDY);
			ide_submit(ch, RQ_PIO_READ, BLKF_READ, ch->lba, n);
			return;
		}
		ide_transfer_done(ch);
		return;
	}
	avail = ch->len - ch->pos;
	if (ch->atapi) {
		blk = atapi_block(ch, avail);
		u->lbam = (uint8_t)blk;
		u->lbah = (uint8_t)(blk >> 8);
		u->nsector = (uint8_t)((u->nsector & ~7) | ATAPI_IR_IO);
	} else {
		blk = ch->drq_sectors * IDE_SECTOR;
		if (blk > avail)
			blk = avail;
	}
	ch->end = ch->pos + blk;
	ch->phase = PH_PIO_IN;
	u->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	ide_raise(ch, u);
}

/* The next DRQ block of a PIO write. */
static void ide_pio_out_block(struct ide_channel *ch, bool irq)
{
	struct ide_unit *u = ide_active(ch);
	uint64_t total = (uint64_t)ch->left * IDE_SECTOR;
	uint64_t room = total > ch->end ? total - ch->end : 0;
	uint32_t blk = ch->drq_sectors * IDE_SECTOR;

	if (blk > room)
		blk = (uint32_t)room;
	if (blk > IDE_BUF_BYTES - ch->end)
		blk = IDE_BUF_BYTES - ch->end;
	ch->end += blk;
	ch->phase = PH_PIO_OUT;
	u->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
	if (irq)
		ide_raise(ch, u);
}

/* The host wrote a whole block: more room, or write what is buffered. */
static void ide_pio_out_full(struct ide_channel *ch)
{
	struct ide_unit *u = ide_active(ch);
	uint64_t total = (uint64_t)ch->left * IDE_SECTOR;
	uint32_t next = ch->drq_sectors * IDE_SECTOR;

	if (ch->end < total && ch->end + next <= IDE_BUF_BYTES) {
		ide_pio_out_block(ch, true);
		return;
	}
	if (ch->end < IDE_SECTOR || ch->end > IDE_BUF_BYTES) {
		ide_abort(ch); /* only a state that was never a device's */
		return;
	}
	memcpy(ide_bounce(ch), ch->buf, ch->end);
	ch->phase = PH_BUSY;
	u->status = ATA_BSY | ATA_DRDY;
	ide_submit(ch, RQ_PIO_WRITE, BLKF_WRITE, ch->lba, ch->end / IDE_SECTOR);
}

void ide_transfer_start(struct ide_channel *ch)
{
	struct ide_unit *u = ide_active(ch);

	u->standby = false;
	ch->pos = ch->end = 0;
	if (ch->src == SRC_DISK)
		ch->len = 0;
	if (ch->dma) {
		ch->phase = PH_DMA;
		ch->prd_idx = ch->prd_off = 0;
		ch->prd_eot = false;
		u->status = ATA_BSY | ATA_DRDY | ATA_DSC;
		ide_dma_kick(ch);
		return;
	}
	if (ch->write) {
		/* The first block needs no interrupt: the host polls DRQ. */
		ide_pio_out_block(ch, false);
		return;
	}
	ide_pio_next_block(ch);
}

static void ide_req_step(struct ide_channel *ch)
{
	uint8_t kind = ch->req_kind;
	int status = ch->req_status;
	uint32_t n = ch->req_sectors;

	vtimer_cancel(ch->ctrl->clock, &ch->timer);
	ch->req = RS_IDLE;
	ch->req_kind = RQ_NONE;
	switch (kind) {
	case RQ_PIO_READ:
		if (status) {
			ide_transfer_error(ch, status);
			return;
		}
		ch->lba += n;
		ch->left -= n < ch->left ? n : ch->left;
		ch->pos = 0;
		ch->len = n * IDE_SECTOR;
		ide_pio_next_block(ch);
		return;
	case RQ_PIO_WRITE:
		if (status) {
			ide_transfer_error(ch, status);
			return;
		}
		ch->lba += n;
		ch->left -= n < ch->left ? n : ch->left;
		ch->pos = ch->end = 0;
		if (ch->left)
			ide_pio_out_block(ch, true);
		else
			ide_transfer_done(ch);
		return;
	case RQ_DMA:
	case RQ_DMA_BOUNCE:
		ide_dma_round_done(ch, status);
		return;
	case RQ_FLUSH:
		if (status)
			ide_finish(ch, ATA_DRDY | ATA_ERR, ATA_ER_ABRT, true);
		else
			ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
		return;
	default:
		return;
	}
}

/* ---- the data port ---- */

static uint32_t ide_data_read(struct ide_channel *ch, unsigned size)
{
	uint32_t v = 0;

	if (ch->phase != PH_PIO_IN || ch->active != (ide_sel(ch) == &ch->unit[1]))
		return size == 4 ? 0xffffffffu : 0xffff;
	for (unsigned i = 0; i < size && ch->pos < ch->end && ch->pos < IDE_BUF_BYTES; i++)
		v |= (uint32_t)ch->buf[ch->pos++] << (8 * i);
	if (ch->pos >= ch->end)
		ide_pio_next_block(ch);
	return v;
}

static void ide_data_write(struct ide_channel *ch, unsigned size, uint32_t v)
{
	if (ch->active != (ide_sel(ch) == &ch->unit[1]))
		return;
	if (ch->phase == PH_PACKET) {
		for (unsigned i = 0; i < size && ch->pos < sizeof(ch->packet); i++)
			ch->packet[ch->pos++] = (uint8_t)(v >> (8 * i));
		if (ch->pos >= sizeof(ch->packet))
			atapi_exec(ch);
		return;
	}
	if (ch->phase != PH_PIO_OUT)
		return;
	for (unsigned i = 0; i < size && ch->pos < ch->end && ch->pos < IDE_BUF_BYTES; i++)
		ch->buf[ch->pos++] = (uint8_t)(v >> (8 * i));
	if (ch->pos >= ch->end)
		ide_pio_out_full(ch);
}

/* ---- the registers ---- */

static uint8_t ide_reg_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_unit *u = ide_sel(ch);
	bool hob = ch->ctl & ATA_DC_HOB, absent = u->kind == IDE_ABSENT;

	if (ide_empty(ch))
		return 0;
	switch (reg) {
	case ATA_REG_ERROR:
		return absent ? 0 : hob ? u->hob_feature : u->error;
	case ATA_REG_NSECTOR:
		return hob ? u->hob_nsector : u->nsector;
	case ATA_REG_LBAL:
		return hob ? u->hob_lbal : u->lbal;
	case ATA_REG_LBAM:
		return hob ? u->hob_lbam : u->lbam;
	case ATA_REG_LBAH:
		return hob ? u->hob_lbah : u->lbah;
	case ATA_REG_DEVICE:
		return u->device;
	case ATA_REG_STATUS:
		if (absent)
			return 0;
		/* Reading the status acknowledges the interrupt. */
		u->intrq = false;
		ide_update_irq(ch);
		return u->status;
	default:
		return 0xff;
	}
}

/* Both units latch the task file (the host writes before selecting). */
static void ide_reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	ch->ctl &= (uint8_t)~ATA_DC_HOB;
	if (reg == ATA_REG_STATUS) {
		ide_command(ch, v);
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct ide_unit *u = &ch->unit[i];
		switch (reg) {
		case ATA_REG_ERROR:
			u->hob_feature = u->feature;
			u->feature = v;
			break;
		case ATA_REG_NSECTOR:
			u->hob_nsector = u->nsector;
			u->nsector = v;
			break;
		case ATA_REG_LBAL:
			u->hob_lbal = u->lbal;
			u->lbal = v;
			break;
		case ATA_REG_LBAM:
			u->hob_lbam = u->lbam;
			u->lbam = v;
			break;
		case ATA_REG_LBAH:
			u->hob_lbah = u->lbah;
			u->lbah = v;
			break;
		case ATA_REG_DEVICE:
			u->device = v;
			break;
		default:
			break;
		}
	}
	if (reg == ATA_REG_DEVICE)
		ide_update_irq(ch);
}

static uint64_t ide_cmd_read(void *opaque, uint64_t off, unsigned size)
{
	struct ide_channel *ch = opaque;
	uint64_t v = 0;

	if (!piix3_ide_decodes(ch->ctrl, ch->index))
		return size_mask_bytes(size);
	if (off == ATA_REG_DATA)
		return size == 1 ? 0xff : ide_data_read(ch, size);
	for (unsigned i = 0; i < size && off + i < 8; i++)
		v |= (uint64_t)ide_reg_read(ch, (unsigned)off + i) << (8 * i);
	return v;
}

static void ide_cmd_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct ide_channel *ch = opaque;

	if (!piix3_ide_decodes(ch->ctrl, ch->index))
		return;
	if (off == ATA_REG_DATA) {
		if (size > 1)
			ide_data_write(ch, size, (uint32_t)v);
		return;
	}
	for (unsigned i = 0; i < size && off + i < 8; i++)
		ide_reg_write(ch, (unsigned)off + i, (uint8_t)(v >> (8 * i)));
}

/* A byte read of the command block changes something only at the status
 * register with an interrupt pending, or with the line not yet settled
 * (the read acknowledges it); a byte of the data register reads 0xff. */
static bool ide_cmd_peek(void *opaque, uint64_t off, uint8_t *v)
{
	struct ide_channel *ch = opaque;
	const struct ide_unit *u = ide_sel(ch);

	if (!piix3_ide_decodes(ch->ctrl, ch->index) || off == ATA_REG_DATA) {
		*v = 0xff;
		return true;
	}
	if (off != ATA_REG_STATUS) {
		*v = ide_reg_read(ch, (unsigned)off); /* no side effect but there */
		return true;
	}
	if (ide_empty(ch) || u->kind == IDE_ABSENT) {
		*v = 0;
		return true;
	}
	if (u->intrq || ch->irq_level)
		return false;
	*v = u->status;
	return true;
}

/* Which command-block writes change only what their own register reads
 * back: the task file's (features, count, LBA) with HOB clear (any write
 * clears it, and HOB picks what 1-5 read), and the device register while
 * it keeps the same unit selected (the status and the interrupt line are
 * the selected unit's). Not the data register or the command. */
static bool ide_cmd_quiet(void *opaque, uint64_t off, uint8_t *mask, uint8_t *value)
{
	struct ide_channel *ch = opaque;

	*mask = *value = 0;
	if (!piix3_ide_decodes(ch->ctrl, ch->index))
		return true; /* ignored */
	if (off == ATA_REG_DATA || off == ATA_REG_STATUS || (ch->ctl & ATA_DC_HOB))
		return false;
	if (off == ATA_REG_DEVICE) {
		*mask = ATA_DEV_DEV;
		*value = ch->unit[0].device & ATA_DEV_DEV;
	}
	return true;
}

const struct io_ops ide_cmd_ops = {
	ide_cmd_read, ide_cmd_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, .peek = ide_cmd_peek, .quiet = ide_cmd_quiet,
};

/* Alternate status: the status without acknowledging anything. */
static uint64_t ide_ctl_read(void *opaque, uint64_t off, unsigned size)
{
	struct ide_channel *ch = opaque;
	struct ide_unit *u = ide_sel(ch);

	if (!piix3_ide_decodes(ch->ctrl, ch->index))
		return 0xff;
	return ide_empty(ch) || u->kind == IDE_ABSENT ? 0 : u->status;
}

/* Device control: nIEN, SRST (the reset happens while the bit is set and
 * ends when it is cleared, ATA/ATAPI-6 9.2), HOB. */
static void ide_ctl_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct ide_channel *ch = opaque;
	uint8_t old = ch->ctl;

	if (!piix3_ide_decodes(ch->ctrl, ch->index))
		return;
	ch->ctl = (uint8_t)v;
	if ((v & ATA_DC_SRST) && !(old & ATA_DC_SRST)) {
		ide_cancel_request(ch);
		ch->phase = PH_IDLE;
		for (unsigned i = 0; i < 2; i++) {
			struct ide_unit *u = &ch->unit[i];
			u->intrq = false;
			if (u->kind != IDE_ABSENT)
				u->status = ATA_BSY | ATA_DSC;
		}
	} else if (!(v & ATA_DC_SRST) && (old & ATA_DC_SRST)) {
		ide_channel_reset(ch, false);
		ch->ctl = (uint8_t)v;
	}
	ide_update_irq(ch);
}

static bool ide_ctl_peek(void *opaque, uint64_t off, uint8_t *v)
{
	*v = (uint8_t)ide_ctl_read(opaque, off, 1);
	return true;
}

/* Device control changes other reads through SRST (the status) and HOB
 * (what 1-5 read); nIEN only moves the line. */
static bool ide_ctl_quiet(void *opaque, uint64_t off, uint8_t *mask, uint8_t *value)
{
	struct ide_channel *ch = opaque;

	*mask = *value = 0;
	if (piix3_ide_decodes(ch->ctrl, ch->index)) {
		*mask = ATA_DC_SRST | ATA_DC_HOB;
		*value = ch->ctl & *mask;
	}
	return true;
}

const struct io_ops ide_ctl_ops = {ide_ctl_read, ide_ctl_write, IO_SIZE_1, IO_SIZE_1,
				   .peek = ide_ctl_peek, .quiet = ide_ctl_quiet};

/* ---- ATA commands ---- */

static void ide_put_string(uint16_t *w, const char *s, unsigned words)
{
	size_t n = strlen(s);
	for (unsigned i = 0; i < words * 2; i++) {
		uint8_t c = i < n ? (uint8_t)s[i] : ' ';
		if (i & 1)
			w[i / 2] |= c;
		else
			w[i / 2] = (uint16_t)(c << 8);
	}
}

/* IDENTIFY (PACKET) DEVICE's data: the words in little-endian bytes,
 * checksum in word 255 (ATA/ATAPI-6 8.15.61). */
void ide_identify_store(struct ide_channel *ch, uint16_t *id)
{
	uint8_t sum = 0;
	id[255] = 0xa5;
	for (unsigned i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	sum = (uint8_t)(sum + 0xa5);
	id[255] = (uint16_t)(0xa5 | (uint8_t)-sum << 8);
	for (unsigned i = 0; i < 256; i++) {
		ch->buf[2 * i] = (uint8_t)id[i];
		ch->buf[2 * i + 1] = (uint8_t)(id[i] >> 8);
	}
	ch->src = SRC_BUF;
	ch->len = 512;
	ch->dma = ch->write = ch->atapi = false;
	ch->drq_sectors = 1;
}

/* The words both kinds share: strings, modes, word 93's cable bit. */
void ide_identify_common(struct ide_channel *ch, struct ide_unit *u, uint16_t *id,
			 const char *model)
{
	char serial[21];
	unsigned unit = (unsigned)(u - ch->unit);

	memcpy(serial, u->serial, sizeof(serial));
	serial[20] = 0;
	if (!serial[0])
		memcpy(serial, "V2E00000000000000000", 21);
	ide_put_string(id + 10, serial, 10);
	ide_put_string(id + 23, "1.0", 4);
	ide_put_string(id + 27, model, 20);
	id[53] = 0x0006; /* words 64-70 and 88 valid */
	id[63] = 0x0007 | ((u->xfer_mode >> 3) == 4 ? 1u << (8 + (u->xfer_mode & 7)) : 0);
	id[64] = 0x0003; /* PIO 3 and 4 */
	id[65] = id[66] = id[67] = id[68] = 120;
	id[88] = 0x003f | ((u->xfer_mode >> 3) == 8 ? 1u << (8 + (u->xfer_mode & 7)) : 0);
	/* Word 93: hardware reset result with an 80-conductor cable
	 * detected (bit 13), so hosts allow UDMA modes above 2. */
	id[93] = unit == 0 ? 0x600b : 0x6b00;
}

static void ata_identify(struct ide_channel *ch, struct ide_unit *u)
{
	uint16_t id[256] = {0};
	uint64_t lba28 = u->sectors < 0x0fffffff ? u->sectors : 0x0fffffff;
	uint64_t cyls = u->sectors / (16 * 63), cur_cyls;

	if (cyls > 16383)
		cyls = 16383;
	cur_cyls = u->heads && u->spt ? u->sectors / ((uint64_t)u->heads * u->spt) : 0;
	if (cur_cyls > 65535)
		cur_cyls = 65535;
	ide_identify_common(ch, u, id, "V2E HARDDISK");
	id[0] = 0x0040;           /* fixed device */
	id[1] = (uint16_t)cyls;
	id[3] = 16;
	id[6] = 63;
	id[20] = 3;               /* buffer type (obsolete), as disks still say */
	id[21] = 512;
	id[47] = 0x8000 | IDE_MAX_MULT;
	id[48] = 1;               /* 32-bit PIO data */
	id[49] = 0x0f00;          /* IORDY, IORDY disable, LBA, DMA */
	id[50] = 0x4000;
	id[51] = id[52] = 0x0200;
	id[53] = 0x0007;          /* words 54-58 too */
	id[54] = (uint16_t)cur_cyls;
	id[55] = u->heads;
	id[56] = u->spt;
	{
		uint32_t cap = (uint32_t)(cur_cyls * u->heads * u->spt);
		id[57] = (uint16_t)cap;
		id[58] = (uint16_t)(cap >> 16);
	}
	id[59] = u->mult ? 0x0100 | u->mult : 0;
	id[60] = (uint16_t)lba28;
	id[61] = (uint16_t)(lba28 >> 16);
	id[80] = 0x00f0;          /* ATA/ATAPI-4 to -7 */
	id[82] = 0x4068;          /* NOP, look-ahead, write cache, power management */
	id[83] = 0x7400;          /* FLUSH CACHE (EXT), 48-bit addresses */
	id[84] = 0x4000;
	id[85] = 0x4048 | (u->wcache ? 0x0020 : 0);
	id[86] = 0x3400;
	id[87] = 0x4000;
	id[100] = (uint16_t)u->sectors;
	id[101] = (uint16_t)(u->sectors >> 16);
	id[102] = (uint16_t)(u->sectors >> 32);
	id[103] = (uint16_t)(u->sectors >> 48);
	ide_identify_store(ch, id);
	ide_transfer_start(ch);
}

/* An ATAPI device answers IDENTIFY DEVICE by aborting with its
 * signature in the registers, which is how hosts find it. */
static void cmd_identify(struct ide_channel *ch, struct ide_unit *u)
{
	if (u->kind == IDE_CD) {
		ide_signature(u);
		ide_abort(ch);
		return;
	}
	ata_identify(ch, u);
}

static void cmd_identify_packet(struct ide_channel *ch, struct ide_unit *u)
{
	atapi_identify(ch, u);
}

static void ata_rw(struct ide_channel *ch, struct ide_unit *u, bool write, bool dma,
		   bool lba48, bool multiple)
{
	uint64_t lba;
	uint32_t count;

	if (multiple && !u->mult) {
		ide_abort(ch);
		return;
	}
	ch->lba48 = lba48;
	if (!ide_decode(ch, u, lba48, &lba, &count)) {
		ide_finish(ch, ATA_DRDY | ATA_ERR, ATA_ER_IDNF, true);
		return;
	}
	if (write && u->read_only) {
		ide_abort(ch);
		return;
	}
	ch->src = SRC_DISK;
	ch->lba = lba;
	ch->left = count;
	ch->write = write;
	ch->dma = dma;
	ch->atapi = false;
	ch->drq_sectors = multiple ? u->mult : 1;
	ide_transfer_start(ch);
}

static void cmd_read(struct ide_channel *ch, struct ide_unit *u)
{
	ata_rw(ch, u, false, false, ch->cmd == 0x24, false);
}

static void cmd_write(struct ide_channel *ch, struct ide_unit *u)
{
	ata_rw(ch, u, true, false, ch->cmd == 0x34, false);
}

static void cmd_read_multiple(struct ide_channel *ch, struct ide_unit *u)
{
	ata_rw(ch, u, false, false, ch->cmd == 0x29, true);
}

static void cmd_write_multiple(struct ide_channel *ch, struct ide_unit *u)
{
	ata_rw(ch, u, true, false, ch->cmd == 0x39, true);
}

static void cmd_read_dma(struct ide_channel *ch, struct ide_unit *u)
{
	ata_rw(ch, u, false, true, ch->cmd == 0x25, false);
}

static void cmd_write_dma(struct ide_channel *ch, struct ide_unit *u)
{
	ata_rw(ch, u, true, true, ch->cmd == 0x35, false);
}

static void cmd_verify(struct ide_channel *ch, struct ide_unit *u)
{
	uint64_t lba;
	uint32_t count;

	ch->lba48 = ch->cmd == 0x42;
	if (!ide_decode(ch, u, ch->lba48, &lba, &count)) {
		ide_finish(ch, ATA_DRDY | ATA_ERR, ATA_ER_IDNF, true);
		return;
	}
	ide_set_lba(ch, u, lba + count - 1);
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_ok(struct ide_channel *ch, struct ide_unit *u)
{
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_standby(struct ide_channel *ch, struct ide_unit *u)
{
	u->standby = true;
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_idle(struct ide_channel *ch, struct ide_unit *u)
{
	u->standby = false;
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_check_power(struct ide_channel *ch, struct ide_unit *u)
{
	u->nsector = u->standby ? 0x00 : 0xff;
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_flush(struct ide_channel *ch, struct ide_unit *u)
{
	ch->phase = PH_BUSY;
	ch->atapi = false;
	u->status = ATA_BSY | ATA_DRDY;
	ide_submit(ch, RQ_FLUSH, BLKF_FLUSH, 0, 0);
}

static void cmd_set_multiple(struct ide_channel *ch, struct ide_unit *u)
{
	unsigned n = u->nsector;
	if (n > IDE_MAX_MULT || (n & (n - 1))) {
		ide_abort(ch);
		return;
	}
	u->mult = (uint8_t)n;
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_init_params(struct ide_channel *ch, struct ide_unit *u)
{
	if (!u->nsector) {
		ide_abort(ch);
		return;
	}
	u->spt = u->nsector;
	u->heads = (uint8_t)((u->device & 0x0f) + 1);
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

static void cmd_native_max(struct ide_channel *ch, struct ide_unit *u)
{
	uint64_t max = u->sectors ? u->sectors - 1 : 0;

	ch->chs = false;
	ch->lba48 = ch->cmd == 0x27;
	if (!ch->lba48 && max > 0x0fffffff)
		max = 0x0fffffff;
	ide_set_lba(ch, u, max);
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

/* SET FEATURES: the transfer mode, write cache and look-ahead; what a
 * disk without the feature does for the rest: abort. */
static void cmd_set_features(struct ide_channel *ch, struct ide_unit *u)
{
	bool disk = u->kind == IDE_DISK;

	switch (u->feature) {
	case 0x03: {
		unsigned mode = u->nsector, type = mode >> 3, n = mode & 7;
		bool ok = (type == 0 && n <= 1) || (type == 1 && n <= 4) ||
			  (type == 4 && n <= 2) || (type == 8 && n <= 5);
		if (!ok) {
			ide_abort(ch);
			return;
		}
		u->xfer_mode = (uint8_t)mode;
		break;
	}
	case 0x02:
	case 0x82:
		if (!disk) {
			ide_abort(ch);
			return;
		}
		u->wcache = u->feature == 0x02;
		break;
	case 0x55:
	case 0xaa:
	case 0x66:
	case 0xcc:
		break;
	default:
		ide_abort(ch);
		return;
	}
	ide_finish(ch, ATA_DRDY | ATA_DSC, 0, true);
}

/* EXECUTE DEVICE DIAGNOSTIC runs on both devices whichever is selected. */
static void cmd_diagnostic(struct ide_channel *ch, struct ide_unit *u)
{
	for (unsigned i = 0; i < 2; i++)
		if (ch->unit[i].kind != IDE_ABSENT)
			ide_unit_after_reset(&ch->unit[i]);
	ch->phase = PH_IDLE;
	if (ide_sel(ch)->kind != IDE_ABSENT)
		ide_raise(ch, ide_sel(ch));
}

/* DEVICE RESET: a packet device's own reset (no interrupt). */
static void cmd_device_reset(struct ide_channel *ch, struct ide_unit *u)
{
	ide_cancel_request(ch);
	ide_unit_after_reset(u);
	ch->phase = PH_IDLE;
	ide_update_irq(ch);
}

static void cmd_packet(struct ide_channel *ch, struct ide_unit *u)
{
	atapi_packet_start(ch);
}

#define ON_DISK 0x1
#define ON_CD 0x2

struct ata_cmd {
	void (*run)(struct ide_channel *ch, struct ide_unit *u);
	uint8_t on;
};

static const struct ata_cmd ata_cmds[256] = {
	[0x08] = {cmd_device_reset, ON_CD},
	[0x10 ... 0x1f] = {cmd_ok, ON_DISK},           /* RECALIBRATE */
	[0x20] = {cmd_read, ON_DISK},
	[0x21] = {cmd_read, ON_DISK},
	[0x24] = {cmd_read, ON_DISK},
	[0x25] = {cmd_read_dma, ON_DISK},
	[0x27] = {cmd_native_max, ON_DISK},
	[0x29] = {cmd_read_multiple, ON_DISK},
	[0x30] = {cmd_write, ON_DISK},
	[0x31] = {cmd_write, ON_DISK},
	[0x34] = {cmd_write, ON_DISK},
	[0x35] = {cmd_write_dma, ON_DISK},
	[0x39] = {cmd_write_multiple, ON_DISK},
	[0x40] = {cmd_verify, ON_DISK},
	[0x41] = {cmd_verify, ON_DISK},
	[0x42] = {cmd_verify, ON_DISK},
	[0x70 ... 0x7f] = {cmd_ok, ON_DISK},           /* SEEK */
	[0x90] = {cmd_diagnostic, ON_DISK | ON_CD},
	[0x91] = {cmd_init_params, ON_DISK},
	[0xa0] = {cmd_packet, ON_CD},
	[0xa1] = {cmd_identify_packet, ON_CD},
	[0xc4] = {cmd_read_multiple, ON_DISK},
	[0xc5] = {cmd_write_multiple, ON_DISK},
	[0xc6] = {cmd_set_multiple, ON_DISK},
	[0xc8] = {cmd_read_dma, ON_DISK},
	[0xc9] = {cmd_read_dma, ON_DISK},
	[0xca] = {cmd_write_dma, ON_DISK},
	[0xcb] = {cmd_write_dma, ON_DISK},
	[0xe0] = {cmd_standby, ON_DISK | ON_CD},       /* STANDBY IMMEDIATE */
	[0xe1] = {cmd_idle, ON_DISK | ON_CD},          /* IDLE IMMEDIATE */
	[0xe2] = {cmd_standby, ON_DISK},
	[0xe3] = {cmd_idle, ON_DISK},
	[0xe5] = {cmd_check_power, ON_DISK | ON_CD},
	[0xe6] = {cmd_standby, ON_DISK | ON_CD},       /* SLEEP */
	[0xe7] = {cmd_flush, ON_DISK},
	[0xea] = {cmd_flush, ON_DISK},
	[0xec] = {cmd_identify, ON_DISK | ON_CD},
	[0xef] = {cmd_set_features, ON_DISK | ON_CD},
	[0xf8] = {cmd_native_max, ON_DISK},
};

/* A command for the selected unit. A unit that is not there ignores it;
 * one that is busy, or whose channel runs a command for the other unit,
 * takes only DEVICE RESET (ATA/ATAPI-6 9.1). */
static void ide_command(struct ide_channel *ch, uint8_t cmd)
{
	struct ide_unit *u = ide_sel(ch);
	unsigned unit = u == &ch->unit[1];
	const struct ata_cmd *c = &ata_cmds[cmd];
	uint8_t on = u->kind == IDE_DISK ? ON_DISK : ON_CD;

	if (u->kind == IDE_ABSENT || (ch->ctl & ATA_DC_SRST))
		return;
	if ((u->status & (ATA_BSY | ATA_DRQ)) || (ch->phase != PH_IDLE && ch->active != unit)) {
		if (cmd == 0x08 && u->kind == IDE_CD && ch->active == unit)
			cmd_device_reset(ch, u);
		return;
	}
	u->intrq = false;
	ide_update_irq(ch);
	ch->cmd = cmd;
	ch->active = (uint8_t)unit;
	ch->atapi = false;
	ch->dma = ch->write = false;
	if (!c->run || !(c->on & on)) {
		ide_abort(ch);
		return;
	}
	c->run(ch, u);
}
