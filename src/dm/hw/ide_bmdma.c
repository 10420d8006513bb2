/* Bus master IDE (82371SB datasheet, "Bus Master IDE Function"): per
 * channel a command register (start/stop, direction), a status register
 * (active, error, interrupt, the drives' DMA-capable bits) and the
 * address of a table of physical region descriptors (PRDs: a 32-bit
 * address, a 16-bit byte count where 0 means 64 KiB, EOT in bit 31 of
 * the second dword).
 *
 * A DMA command moves its data once the drive wants it and the guest has
 * started the bus master with bus mastering enabled in PCI, whichever
 * comes last. Disk data moves in front requests whose segments are the
 * PRD entries' guest ranges (adjacent ones merged, at most BLKF_MAX_SEGS
 * and IDE_ROUND_MAX bytes, cut to whole sectors); an entry too small to
 * make a sector in BLKF_MAX_SEGS segments goes through the bounce area
 * one sector at a time. Replies of packet commands are copied from the
 * channel's buffer. When the data has moved, the table used up to its
 * EOT entry clears ACTIVE; a longer table leaves it set (both with the
 * drive's interrupt, which sets INT). A table that ends before the data
 * clears ACTIVE with neither INT nor ERROR (the datasheet's "PRDs
 * smaller than the transfer"), and the drive ends the command with
 * ABRT and no interrupt. A table or data address outside RAM sets
 * ERROR. Every walk is bounded by the 8192 entries a table can hold. */
#include "dm/hw/ide.h"

#include <errno.h>
#include <string.h>

struct prd_cursor {
	uint32_t idx, off;
	bool eot;
};

/* The entry under the cursor: where its unused part starts, how long
 * it is. 0, 1 when the table is used up, -EFAULT when it is not RAM. */
static int prd_peek(struct ide_channel *ch, struct prd_cursor *c, uint64_t *addr,
		    uint32_t *avail, uint32_t *entry_len, bool *eot)
{
	while (!c->eot && c->idx < IDE_PRD_MAX) {
		uint8_t e[8];
		uint32_t count, len;
		if (dma_read(ch->ctrl->dma, (uint64_t)ch->bm_prd + 8ull * c->idx, e, sizeof(e)))
			return -EFAULT;
		count = (uint32_t)(e[4] | e[5] << 8) & 0xfffe;
		len = count ? count : 0x10000;
		*eot = e[7] & 0x80;
		if (c->off < len) {
			*addr = ((uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
				 (uint32_t)e[3] << 24) & ~1u;
			*addr += c->off;
			*avail = len - c->off;
			*entry_len = len;
			return 0;
		}
		/* The guest shortened an entry under us: it is used up. */
		c->eot = *eot;
		c->idx++;
		c->off = 0;
	}
	return 1;
}

static void prd_advance(struct prd_cursor *c, uint32_t take, uint32_t entry_len, bool eot)
{
	c->off += take;
	if (c->off >= entry_len) {
		c->eot = eot;
		c->idx++;
		c->off = 0;
	}
}

static struct prd_cursor prd_cursor(const struct ide_channel *ch)
{
	return (struct prd_cursor){ch->prd_idx, ch->prd_off, ch->prd_eot};
}

static void prd_commit(struct ide_channel *ch, const struct prd_cursor *c)
{
	ch->prd_idx = c->idx;
	ch->prd_off = c->off;
	ch->prd_eot = c->eot;
}

/* A table or data address that is not RAM: the bus master's error. */
static void bm_bus_error(struct ide_channel *ch)
{
	ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
	ide_transfer_error(ch, -EFAULT);
}

/* The table ended before the data did. */
static void bm_short(struct ide_channel *ch)
{
	ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	ide_finish(ch, ATA_DRDY | ATA_ERR, ATA_ER_ABRT, false);
}

static void bm_complete(struct ide_channel *ch)
{
	if (ch->prd_eot)
		ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	ide_transfer_done(ch);
}

/* A packet command's reply, from the buffer to the PRD's ranges. */
static void bm_from_buf(struct ide_channel *ch)
{
	struct prd_cursor c = prd_cursor(ch);
	uint32_t done = 0, len = ch->len < IDE_BUF_BYTES ? ch->len : IDE_BUF_BYTES;

	while (done < len) {
		uint64_t addr;
		uint32_t avail, elen, take;
		bool eot;
		int r = prd_peek(ch, &c, &addr, &avail, &elen, &eot);
		if (r < 0) {
			bm_bus_error(ch);
			return;
		}
		if (r > 0) {
			prd_commit(ch, &c);
			bm_short(ch);
			return;
		}
		take = avail < len - done ? avail : len - done;
		if (dma_write(ch->ctrl->dma, addr, ch->buf + done, take)) {
			bm_bus_error(ch);
			return;
		}
		done += take;
		prd_advance(&c, take, elen, eot);
	}
	prd_commit(ch, &c);
	bm_complete(ch);
}

/* One sector through the bounce share, for tables whose entries are too
 * small to make a sector in BLKF_MAX_SEGS segments. */
static void bm_bounce_round(struct ide_channel *ch)
{
	struct prd_cursor c = prd_cursor(ch);
	uint32_t total = 0;

	ch->npieces = 0;
	while (total < IDE_SECTOR) {
		uint64_t addr;
		uint32_t avail, elen, take;
		bool eot;
		int r = prd_peek(ch, &c, &addr, &avail, &elen, &eot);
		if (r < 0) {
			bm_bus_error(ch);
			return;
		}
		if (r > 0 || ch->npieces == IDE_PIECES) {
			prd_commit(ch, &c);
			bm_short(ch);
			return;
		}
		take = avail < IDE_SECTOR - total ? avail : IDE_SECTOR - total;
		ch->piece[ch->npieces++] = (struct blkf_seg){addr, take, 0};
		total += take;
		prd_advance(&c, take, elen, eot);
	}
	if (ch->write) {
		uint8_t *b = ide_bounce(ch);
		for (unsigned i = 0; i < ch->npieces; i++) {
			if (dma_read(ch->ctrl->dma, ch->piece[i].addr, b, ch->piece[i].len)) {
				bm_bus_error(ch);
				return;
			}
			b += ch->piece[i].len;
		}
	}
	prd_commit(ch, &c);
	ide_submit(ch, RQ_DMA_BOUNCE, ch->write ? BLKF_WRITE : BLKF_READ, ch->lba, 1);
}

int ide_dma_bounce_out(struct ide_channel *ch)
{
	const uint8_t *b = ide_bounce(ch);
	for (unsigned i = 0; i < ch->npieces && i < IDE_PIECES; i++) {
		if (dma_write(ch->ctrl->dma, ch->piece[i].addr, b, ch->piece[i].len))
			return -EFAULT;
		b += ch->piece[i].len;
	}
	return 0;
}

/* The cursor `bytes` further on (the round cut to whole sectors). */
static void prd_skip(struct ide_channel *ch, struct prd_cursor *c, uint32_t bytes)
{
	while (bytes) {
		uint64_t addr;
		uint32_t avail, elen, take;
		bool eot;
		if (prd_peek(ch, c, &addr, &avail, &elen, &eot))
			return;
		take = avail < bytes ? avail : bytes;
		prd_advance(c, take, elen, eot);
		bytes -= take;
	}
}

/* The next request of a disk transfer, straight between the image and
 * the PRD's guest ranges. */
static void bm_round(struct ide_channel *ch)
{
	struct prd_cursor start = prd_cursor(ch), c = start;
	uint64_t max = (uint64_t)ch->left * IDE_SECTOR;
	uint32_t total = 0, bytes;
	unsigned nseg = 0;
	bool used_up = false;

	if (max > IDE_ROUND_MAX)
		max = IDE_ROUND_MAX;
	while (total < max) {
		uint64_t addr;
		uint32_t avail, elen, take;
		bool eot, merge;
		int r = prd_peek(ch, &c, &addr, &avail, &elen, &eot);
		if (r < 0) {
			bm_bus_error(ch);
			return;
		}
		if (r > 0) {
			used_up = true;
			break;
		}
		take = avail < max - total ? avail : (uint32_t)(max - total);
		merge = nseg && ch->seg[nseg - 1].addr + ch->seg[nseg - 1].len == addr;
		if (!merge && nseg == BLKF_MAX_SEGS)
			break;
		if (merge)
			ch->seg[nseg - 1].len += take;
		else
			ch->seg[nseg++] = (struct blkf_seg){addr, take, 0};
		total += take;
		prd_advance(&c, take, elen, eot);
	}
	bytes = total & ~(IDE_SECTOR - 1);
	if (!bytes) {
		if (used_up) {
			prd_commit(ch, &c);
			bm_short(ch);
		} else {
			bm_bounce_round(ch);
		}
		return;
	}
	if (bytes < total) {
		/* Give the part sector back: trim the tail, and find where
		 * in the table the kept bytes end. */
		uint32_t extra = total - bytes;
		while (extra && nseg) {
			struct blkf_seg *s = &ch->seg[nseg - 1];
			if (s->len > extra) {
				s->len -= extra;
				extra = 0;
			} else {
				extra -= s->len;
				nseg--;
			}
		}
		c = start;
		prd_skip(ch, &c, bytes);
	}
	ch->nseg = nseg;
	prd_commit(ch, &c);
	ide_submit(ch, RQ_DMA, ch->write ? BLKF_WRITE : BLKF_READ, ch->lba,
		   bytes / IDE_SECTOR);
}

void ide_dma_kick(struct ide_channel *ch)
{
	if (ch->phase != PH_DMA || !(ch->bm_cmd & BM_CMD_START) ||
	    !piix3_ide_bus_master(ch->ctrl) || ch->req != RS_IDLE)
		return;
	if (ch->src == SRC_BUF) {
		bm_from_buf(ch);
		return;
	}
	if (!ch->left) {
		bm_complete(ch);
		return;
	}
	bm_round(ch);
}

void ide_dma_round_done(struct ide_channel *ch, int status)
{
	uint32_t n = ch->req_kind == RQ_DMA_BOUNCE ? 1 : ch->req_sectors;

	if (status == -EFAULT) {
		bm_bus_error(ch);
		return;
	}
	if (status) {
		ide_transfer_error(ch, status);
		return;
	}
	ch->lba += n;
	ch->left -= n < ch->left ? n : ch->left;
	if (!ch->left) {
		bm_complete(ch);
		return;
	}
	/* Stopped meanwhile: the drive waits for the bus master. */
	ide_dma_kick(ch);
}

/* ---- the registers (BAR4: 8 bytes per channel) ---- */

static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
	struct piix3_ide *s = opaque;
	struct ide_channel *ch = &s->ch[(off >> 3) & 1];
	unsigned reg = off & 7;

	switch (reg) {
	case BM_CMD:
		return ch->bm_cmd;
	case BM_STATUS:
		return ch->bm_status;
	case BM_PRD:
	case BM_PRD + 1:
	case BM_PRD + 2:
	case BM_PRD + 3:
		return (ch->bm_prd >> (8 * (reg - BM_PRD))) & 0xff;
	default:
		return 0;
	}
}

static void bm_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct piix3_ide *s = opaque;
	struct ide_channel *ch = &s->ch[(off >> 3) & 1];
	unsigned reg = off & 7;
	uint8_t b = (uint8_t)v;

	switch (reg) {
	case BM_CMD: {
		uint8_t old = ch->bm_cmd, now = b & (BM_CMD_START | BM_CMD_READ);
		/* The direction must not change while the engine is active. */
		if (ch->bm_status & BM_ST_ACTIVE)
			now = (uint8_t)((now & BM_CMD_START) | (old & BM_CMD_READ));
		ch->bm_cmd = now;
		if ((old & BM_CMD_START) && !(now & BM_CMD_START)) {
			ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		} else if (!(old & BM_CMD_START) && (now & BM_CMD_START)) {
			/* The engine starts at the top of the table. */
			ch->bm_status |= BM_ST_ACTIVE;
			ch->prd_idx = ch->prd_off = 0;
			ch->prd_eot = false;
			ide_dma_kick(ch);
		}
		break;
	}
	case BM_STATUS:
		ch->bm_status = (uint8_t)((ch->bm_status & ~(BM_ST_DMA0 | BM_ST_DMA1) &
					   ~(b & (BM_ST_ERROR | BM_ST_INT))) |
					  (b & (BM_ST_DMA0 | BM_ST_DMA1)));
		break;
	case BM_PRD:
	case BM_PRD + 1:
	case BM_PRD + 2:
	case BM_PRD + 3: {
		unsigned sh = 8 * (reg - BM_PRD);
		ch->bm_prd = (ch->bm_prd & ~(0xffu << sh)) | (uint32_t)b << sh;
		ch->bm_prd &= ~3u; /* dword aligned */
		break;
	}
	default:
		break;
	}
}

/* Nothing in the bus master's registers changes when read. */
static bool bm_peek(void *opaque, uint64_t off, uint8_t *v)
{
	*v = (uint8_t)bm_read(opaque, off, 1);
	return true;
}

/* Only the command register's start bit reaches other registers: a
 * start begins a transfer, a stop ends an active one (the status's
 * active bit). So a write that clears it is quiet unless the engine is
 * active, and one that keeps it set is quiet while it is; the status
 * (write-one-to-clear) and the table's address change only themselves. */
static bool bm_quiet(void *opaque, uint64_t off, uint8_t *mask, uint8_t *value)
{
	struct piix3_ide *s = opaque;
	const struct ide_channel *ch = &s->ch[(off >> 3) & 1];

	*mask = *value = 0;
	if ((off & 7) == BM_CMD) {
		*mask = BM_CMD_START;
		if ((ch->bm_cmd & BM_CMD_START) && (ch->bm_status & BM_ST_ACTIVE))
			*value = BM_CMD_START;
	}
	return true;
}

const struct io_ops ide_bm_ops = {bm_read, bm_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
				  IO_SIZE_1, .peek = bm_peek, .quiet = bm_quiet};
