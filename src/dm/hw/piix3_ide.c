/* The PIIX3's IDE function, 00:01.1 (82371SB datasheet, "PCI
 * Configuration Registers - IDE Interface"): 8086:7010, class 0101h with
 * programming interface 80h (both channels in compatibility mode, bus
 * master capable), the legacy ports 1F0h-1F7h/3F6h (IRQ 14) and
 * 170h-177h/376h (IRQ 15), the bus master registers behind BMIBA (BAR4,
 * 16 bytes of I/O), and the IDE timing registers IDETIM (40h, 42h; bit 15
 * enables a channel's legacy decode) and SIDETIM (44h).
 *
 * A channel's legacy ports answer only with PCI I/O space enabled and
 * its IDETIM.IDE set, as the datasheet says; they stay claimed and read
 * all-ones otherwise, which is what the guest would see of unclaimed
 * ports. After reset IDETIM is 0: firmware sets the decode bits; the
 * `decode` property sets them from reset for a guest booted without
 * firmware. The units and the block front are the kind's properties and
 * descriptors (see the row at the bottom). */
#include "dm/hw/ide.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dev/kind.h"
#include "lib/vstate.h"

#define PIIX3_IDETIM 0x40  /* primary; secondary at 0x42 */
#define PIIX3_SIDETIM 0x44
#define IDETIM_IDE 0x8000  /* the channel's legacy decode */
#define BMIBA_BAR 4
#define BM_SIZE 16

bool piix3_ide_decodes(const struct piix3_ide *s, unsigned ch)
{
	return (pci_cfg16(&s->fn, PCI_COMMAND) & PCI_COMMAND_IO) &&
	       (pci_cfg16(&s->fn, PIIX3_IDETIM + 2 * (ch & 1)) & IDETIM_IDE);
}

bool piix3_ide_bus_master(const struct piix3_ide *s)
{
	return pci_cfg16(&s->fn, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

/* ---- PCI ---- */

/* BAR4 moved, appeared or went: its window follows (claimed the first
 * time it decodes, then moved, enabled and disabled). */
static void piix3_ide_bar(void *opaque, struct pci_fn *f, unsigned bar, uint64_t old,
			  uint64_t now)
{
	struct piix3_ide *s = opaque;
	const struct dev_ctx *c = s->ctx;

	if (bar != BMIBA_BAR || !c)
		return;
	if (now == PCI_BAR_NONE) {
		if (s->bm_win && s->bm_win_on &&
		    c->window(c, DEV_SPACE_PIO, s->bm_win, DEV_WIN_DISABLE, 0) == 0)
			s->bm_win_on = false;
		return;
	}
	if (!s->bm_win) {
		if (c->claim(c, DEV_SPACE_PIO, now, BM_SIZE, DEV_CLAIM_BUFFERED, &ide_bm_ops,
			     s) == 0) {
			s->bm_win = now;
			s->bm_win_on = true;
		}
		return;
	}
	if (s->bm_win != now && c->window(c, DEV_SPACE_PIO, s->bm_win, DEV_WIN_MOVE, now) == 0)
		s->bm_win = now;
	if (!s->bm_win_on && s->bm_win == now &&
	    c->window(c, DEV_SPACE_PIO, s->bm_win, DEV_WIN_ENABLE, 0) == 0)
		s->bm_win_on = true;
}

/* Function 1 of the slot: offset = function << 8 | register. */
static uint64_t piix3_ide_cfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct piix3_ide *s = opaque;
	if ((off >> 8) != 1)
		return size_mask_bytes(size);
	return pci_fn_read(&s->fn, (unsigned)off & 0xff, size);
}

static void piix3_ide_cfg_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct piix3_ide *s = opaque;
	bool master = piix3_ide_bus_master(s);

	if ((off >> 8) != 1)
		return;
	pci_fn_write(&s->fn, (unsigned)off & 0xff, size, (uint32_t)v);
	if (!master && piix3_ide_bus_master(s))
		for (unsigned i = 0; i < 2; i++)
			ide_dma_kick(&s->ch[i]);
}

const struct io_ops piix3_ide_cfg_ops = {
	piix3_ide_cfg_read, piix3_ide_cfg_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- the device ---- */

void piix3_ide_reset(struct piix3_ide *s)
{
	for (unsigned i = 0; i < 2; i++)
		ide_channel_reset(&s->ch[i], true);
	pci_fn_reset(&s->fn);
	if (s->decode_at_reset) {
		s->fn.cfg[PIIX3_IDETIM + 1] |= IDETIM_IDE >> 8;
		s->fn.cfg[PIIX3_IDETIM + 3] |= IDETIM_IDE >> 8;
	}
}

void piix3_ide_drain(struct piix3_ide *s)
{
	/* A completion may start the next request (the next DMA round):
	 * go on until none is in flight, bounded by what a transfer needs. */
	for (unsigned round = 0; round < 1u << 20; round++) {
		bool busy = false;
		for (unsigned i = 0; i < 2; i++) {
			struct ide_channel *ch = &s->ch[i];
			ide_retry_queued(ch);
			if (ch->req == RS_QUEUED && s->ch[i ^ 1].req != RS_INFLIGHT)
				ide_fail_later(ch, -EIO);
			if (ch->req == RS_QUEUED || ch->req == RS_INFLIGHT) {
				busy = true;
				if (ch->req == RS_INFLIGHT && s->front)
					blkf_wait(s->front, ch->handle);
			}
		}
		if (!busy)
			return;
	}
}

/* "" (nothing), "cd" (an empty drive), "hd:N" or "cd:N" (the front's
 * disk N). 0, or -EINVAL. */
static int unit_parse(const char *spec, uint8_t *kind, bool *has_disk, unsigned *disk)
{
	unsigned n = 0;
	const char *d;

	*has_disk = false;
	*disk = 0;
	if (!spec[0]) {
		*kind = IDE_ABSENT;
		return 0;
	}
	if (!strcmp(spec, "cd")) {
		*kind = IDE_CD;
		return 0;
	}
	if (!strncmp(spec, "hd:", 3))
		*kind = IDE_DISK;
	else if (!strncmp(spec, "cd:", 3))
		*kind = IDE_CD;
	else
		return -EINVAL;
	d = spec + 3;
	if (!*d || strlen(d) > 2)
		return -EINVAL;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		n = n * 10 + (unsigned)(*d - '0');
	}
	if (n >= BLKF_MAX_DISKS)
		return -EINVAL;
	*has_disk = true;
	*disk = n;
	return 0;
}

enum { P_UNIT0, P_UNIT1, P_UNIT2, P_UNIT3, P_DECODE };

static const struct dev_prop piix3_ide_props[] = {
	[P_UNIT0] = {"unit0", DEV_PROP_STR, true, 0, 0, 0, "",
		     "primary master: \"\", hd:N, cd:N (the front's disk N) or cd (empty)"},
	[P_UNIT1] = {"unit1", DEV_PROP_STR, true, 0, 0, 0, "", "primary slave (as unit0)"},
	[P_UNIT2] = {"unit2", DEV_PROP_STR, true, 0, 0, 0, "", "secondary master (as unit0)"},
	[P_UNIT3] = {"unit3", DEV_PROP_STR, true, 0, 0, 0, "", "secondary slave (as unit0)"},
	[P_DECODE] = {"decode", DEV_PROP_BOOL, true, 0, 1, 0, NULL,
		      "legacy ports decoded from reset, as firmware leaves them"},
};

static int piix3_ide_check(const struct dev_props *p, char *err, size_t n)
{
	for (unsigned i = 0; i < 4; i++) {
		uint8_t kind;
		bool has;
		unsigned disk;
		if (unit_parse(p->str[P_UNIT0 + i], &kind, &has, &disk)) {
			snprintf(err, n, "%s: unit%u=%.32s: want \"\", cd, hd:N or cd:N (N < %u)",
				 p->kind->name, i, p->str[P_UNIT0 + i], BLKF_MAX_DISKS);
			return -EINVAL;
		}
	}
	return 0;
}

static bool piix3_ide_has_disks(const struct dev_props *p)
{
	for (unsigned i = 0; i < 4; i++) {
		uint8_t kind;
		bool has = false;
		unsigned disk;
		if (!unit_parse(p->str[P_UNIT0 + i], &kind, &has, &disk) && has)
			return true;
	}
	return false;
}

int piix3_ide_setup(struct piix3_ide *s, const struct dev_ctx *c, const struct dev_props *p,
		    struct blk_front *front, char *err, size_t n)
{
	static const struct pci_id id = {.vendor = 0x8086, .device = 0x7010,
					 .class_code = 0x010180};
	static const uint16_t cmd_base[2] = {0x1f0, 0x170}, ctl_base[2] = {0x3f6, 0x376};
	int r;

	if (piix3_ide_check(p, err, n))
		return -EINVAL;
	s->ctx = c;
	s->clock = c->clock;
	s->dma = c->dma;
	s->front = front;
	s->icount = c->icount;
	s->decode_at_reset = p->num[P_DECODE] != 0;
	for (unsigned i = 0; i < 2; i++) {
		const struct irq_line *irq = c->line(c, DEV_LINE_ISA0 + 14 + i);
		if (!irq) {
			snprintf(err, n, "%s: no IRQ %u", c->id, 14 + i);
			return -ENODEV;
		}
		ide_channel_init(&s->ch[i], s, i, irq);
		for (unsigned j = 0; j < 2; j++) {
			struct ide_unit *u = &s->ch[i].unit[j];
			struct blkf_disk d = {0};
			(void)unit_parse(p->str[P_UNIT0 + 2 * i + j], &u->cfg_kind, &u->has_disk,
					 &u->disk);
			if (!u->has_disk)
				continue;
			r = front ? blkf_info(front, u->disk, &d) : -ENODEV;
			if (r < 0) {
				snprintf(err, n, "%s: unit%u: no disk %u behind the block front",
					 c->id, 2 * i + j, u->disk);
				return r;
			}
			u->sectors = d.sectors;
			u->read_only = d.read_only || u->cfg_kind == IDE_CD;
			memcpy(u->serial, d.serial, sizeof(u->serial));
			u->serial[sizeof(u->serial) - 1] = 0;
		}
	}
	pci_fn_init(&s->fn, &id, piix3_ide_bar, s);
	/* Status: fast back-to-back capable, medium DEVSEL timing. */
	s->fn.cfg[PCI_STATUS] = 0x80;
	s->fn.cfg[PCI_STATUS + 1] = 0x02;
	r = pci_fn_bar(&s->fn, BMIBA_BAR, PCI_BAR_TYPE_IO, BM_SIZE);
	if (r)
		return r;
	pci_fn_writable(&s->fn, PIIX3_IDETIM, 2, 0xf3ff);
	pci_fn_writable(&s->fn, PIIX3_IDETIM + 2, 2, 0xf3ff);
	pci_fn_writable(&s->fn, PIIX3_SIDETIM, 1, 0xff);
	piix3_ide_reset(s);
	r = c->claim(c, DEV_SPACE_PCI, PCI_DEVFN(1, 1), 1, 0, &piix3_ide_cfg_ops, s);
	for (unsigned i = 0; i < 2 && !r; i++) {
		/* Writes need no reply (DEV_CLAIM_BUFFERED): they reach the
		 * device in order, before any read that follows, so a
		 * command's set-up costs the guest no round trips; what it
		 * raises comes as events, as every completion does. */
		r = c->claim(c, DEV_SPACE_PIO, cmd_base[i], 8, DEV_CLAIM_BUFFERED, &ide_cmd_ops,
			     &s->ch[i]);
		if (!r)
			r = c->claim(c, DEV_SPACE_PIO, ctl_base[i], 1, DEV_CLAIM_BUFFERED,
				     &ide_ctl_ops, &s->ch[i]);
	}
	if (r)
		snprintf(err, n, "%s: PCI function 00:01.1 or the IDE ports refused", c->id);
	return r;
}

/* Attaches the block front from the descriptors the vmm handed over
 * (the board closes its own after destroy: the front gets duplicates). */
static int piix3_ide_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			    char *err, size_t n)
{
	struct piix3_ide *s = dev;
	struct blk_front *front = NULL;
	int r;

	if (piix3_ide_check(p, err, n))
		return -EINVAL;
	if (piix3_ide_has_disks(p)) {
		int fds[3];
		if (c->n_fds != 3) {
			snprintf(err, n, "%s: the disks need the block front's 3 descriptors "
				 "(%u given)", c->id, c->n_fds);
			return -EINVAL;
		}
		for (unsigned i = 0; i < 3; i++) {
			fds[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 3);
			if (fds[i] < 0) {
				r = -errno;
				while (i--)
					close(fds[i]);
				snprintf(err, n, "%s: %s", c->id, strerror(-r));
				return r;
			}
		}
		/* blkf_attach takes the duplicates, whatever it returns. */
		r = blkf_attach(fds, 3, &front, err, n);
		if (r < 0)
			return r;
	}
	s->front = front;
	return piix3_ide_setup(s, c, p, front, err, n);
}

static void piix3_ide_destroy(void *dev)
{
	struct piix3_ide *s = dev;

	for (unsigned i = 0; i < 2 && s->clock; i++)
		vtimer_cancel(s->clock, &s->ch[i].timer);
	/* Waits for what is in flight without running callbacks. */
	if (s->front)
		blkf_close(s->front);
	s->front = NULL;
}

static void piix3_ide_kind_reset(void *dev)
{
	piix3_ide_reset(dev);
}

static int piix3_ide_input_fd(void *dev)
{
	struct piix3_ide *s = dev;
	return s->front ? blkf_fd(s->front) : -1;
}

static bool piix3_ide_input(void *dev, bool readable)
{
	struct piix3_ide *s = dev;

	if (!s->front)
		return false;
	if (readable)
		blkf_poll(s->front);
	/* A completion frees a slot in the ring for a request held back. */
	for (unsigned i = 0; i < 2; i++)
		ide_retry_queued(&s->ch[i]);
	return readable;
}

static bool piix3_ide_ready(void *dev)
{
	struct piix3_ide *s = dev;
	return s->front && blkf_ready(s->front);
}

static bool piix3_ide_waiting(void *dev)
{
	struct piix3_ide *s = dev;
	return s->front && blkf_waiting(s->front);
}

static void piix3_ide_quiesce(void *dev)
{
	piix3_ide_drain(dev);
}

/* ---- saved state ---- */

/* Every register of both channels and four units, the command running
 * with its PIO buffer and position, sense data and tray, the bus master
 * registers with the PRD position, the request's result and the timer
 * that reports it (-icount), and the PCI configuration. A request in
 * flight is not state: the board drains (piix3_ide_drain) before it
 * saves; one saved in flight anyway loads as failed with -EIO. */
#define UNIT_FIELDS(c, u)                                                     \
	VS_MAX(struct piix3_ide, ch[c].unit[u].kind, VS_U8, IDE_CD),          \
	VS_U8(struct piix3_ide, ch[c].unit[u].status),                        \
	VS_U8(struct piix3_ide, ch[c].unit[u].error),                         \
	VS_U8(struct piix3_ide, ch[c].unit[u].feature),                       \
	VS_U8(struct piix3_ide, ch[c].unit[u].nsector),                       \
	VS_U8(struct piix3_ide, ch[c].unit[u].lbal),                          \
	VS_U8(struct piix3_ide, ch[c].unit[u].lbam),                          \
	VS_U8(struct piix3_ide, ch[c].unit[u].lbah),                          \
	VS_U8(struct piix3_ide, ch[c].unit[u].hob_feature),                   \
	VS_U8(struct piix3_ide, ch[c].unit[u].hob_nsector),                   \
	VS_U8(struct piix3_ide, ch[c].unit[u].hob_lbal),                      \
	VS_U8(struct piix3_ide, ch[c].unit[u].hob_lbam),                      \
	VS_U8(struct piix3_ide, ch[c].unit[u].hob_lbah),                      \
	VS_U8(struct piix3_ide, ch[c].unit[u].device),                        \
	VS_BOOL(struct piix3_ide, ch[c].unit[u].intrq),                       \
	VS_MAX(struct piix3_ide, ch[c].unit[u].mult, VS_U8, IDE_MAX_MULT),    \
	VS_U8(struct piix3_ide, ch[c].unit[u].xfer_mode),                     \
	VS_BOOL(struct piix3_ide, ch[c].unit[u].wcache),                      \
	VS_BOOL(struct piix3_ide, ch[c].unit[u].standby),                     \
	VS_U8(struct piix3_ide, ch[c].unit[u].heads),                         \
	VS_U8(struct piix3_ide, ch[c].unit[u].spt),                           \
	VS_MAX(struct piix3_ide, ch[c].unit[u].sense_key, VS_U8, 15),         \
	VS_U8(struct piix3_ide, ch[c].unit[u].asc),                           \
	VS_U8(struct piix3_ide, ch[c].unit[u].ascq),                          \
	VS_BOOL(struct piix3_ide, ch[c].unit[u].tray_open),                   \
	VS_BOOL(struct piix3_ide, ch[c].unit[u].locked),                      \
	VS_BOOL(struct piix3_ide, ch[c].unit[u].ua),                          \
	VS_MAX(struct piix3_ide, ch[c].unit[u].media_event, VS_U8, 15)

#define CHANNEL_FIELDS(c)                                                     \
	UNIT_FIELDS(c, 0), UNIT_FIELDS(c, 1),                                 \
	VS_U8(struct piix3_ide, ch[c].ctl),                                   \
	VS_BOOL(struct piix3_ide, ch[c].irq_level),                           \
	VS_U8(struct piix3_ide, ch[c].cmd),                                   \
	VS_MAX(struct piix3_ide, ch[c].active, VS_U8, 1),                     \
	VS_MAX(struct piix3_ide, ch[c].phase, VS_U8, PH_COUNT - 1),           \
	VS_MAX(struct piix3_ide, ch[c].src, VS_U8, SRC_COUNT - 1),            \
	VS_BOOL(struct piix3_ide, ch[c].atapi),                               \
	VS_BOOL(struct piix3_ide, ch[c].dma),                                 \
	VS_BOOL(struct piix3_ide, ch[c].write),                               \
	VS_BOOL(struct piix3_ide, ch[c].chs),                                 \
	VS_BOOL(struct piix3_ide, ch[c].lba48),                               \
	VS_U64(struct piix3_ide, ch[c].lba),                                  \
	VS_U32(struct piix3_ide, ch[c].left),                                 \
	VS_MAX(struct piix3_ide, ch[c].drq_sectors, VS_U32, IDE_MAX_MULT),    \
	VS_U16(struct piix3_ide, ch[c].bcl),                                  \
	VS_MAX(struct piix3_ide, ch[c].pos, VS_U32, IDE_BUF_BYTES),           \
	VS_MAX(struct piix3_ide, ch[c].end, VS_U32, IDE_BUF_BYTES),           \
	VS_MAX(struct piix3_ide, ch[c].len, VS_U32, IDE_BUF_BYTES),           \
	VS_BYTES(struct piix3_ide, ch[c].packet),                             \
	VS_BYTES(struct piix3_ide, ch[c].buf),                                \
	VS_MAX(struct piix3_ide, ch[c].req, VS_U8, RS_COUNT - 1),             \
	VS_MAX(struct piix3_ide, ch[c].req_kind, VS_U8, RQ_COUNT - 1),        \
	VS_U32(struct piix3_ide, ch[c].req_status),                           \
	VS_MAX(struct piix3_ide, ch[c].req_sectors, VS_U32, IDE_ROUND_MAX / IDE_SECTOR), \
	VS_U64(struct piix3_ide, ch[c].timer.deadline),                       \
	VS_MAX(struct piix3_ide, ch[c].bm_cmd, VS_U8, BM_CMD_START | BM_CMD_READ), \
	VS_MAX(struct piix3_ide, ch[c].bm_status, VS_U8,                      \
	       BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INT | BM_ST_DMA0 | BM_ST_DMA1), \
	VS_U32(struct piix3_ide, ch[c].bm_prd),                               \
	VS_MAX(struct piix3_ide, ch[c].prd_idx, VS_U32, IDE_PRD_MAX),         \
	VS_MAX(struct piix3_ide, ch[c].prd_off, VS_U32, 0x10000),             \
	VS_BOOL(struct piix3_ide, ch[c].prd_eot)

static const struct vs_field piix3_ide_fields[] = {
	VS_BYTES(struct piix3_ide, fn.cfg),
	CHANNEL_FIELDS(0),
	CHANNEL_FIELDS(1),
};

static int piix3_ide_state_check(const void *obj, char *err, size_t n)
{
	const struct piix3_ide *s = obj;

	for (unsigned i = 0; i < 2; i++) {
		const struct ide_channel *ch = &s->ch[i];
		const char *bad = NULL;
		for (unsigned j = 0; j < 2; j++) {
			if (ch->unit[j].kind != ch->unit[j].cfg_kind)
				bad = "unit.kind (another drive here)";
			if (ch->unit[j].kind == IDE_DISK && (!ch->unit[j].heads || !ch->unit[j].spt))
				bad = "unit.heads";
		}
		if (ch->pos > ch->end)
			bad = "pos";
		else if (ch->phase == PH_PIO_IN && ch->end > ch->len)
			bad = "end";
		else if (ch->phase == PH_PACKET && ch->end > sizeof(ch->packet))
			bad = "end";
		else if ((ch->phase == PH_PIO_IN || ch->phase == PH_PIO_OUT) && !ch->atapi &&
			 !ch->drq_sectors)
			bad = "drq_sectors";
		else if (ch->phase == PH_PIO_OUT && ch->end > (uint64_t)ch->left * IDE_SECTOR)
			bad = "end";
		else if ((ch->req_kind == RQ_PIO_READ || ch->req_kind == RQ_PIO_WRITE) &&
			 ch->req_sectors > IDE_BUF_BYTES / IDE_SECTOR)
			bad = "req_sectors";
		if (bad) {
			snprintf(err, n, "piix3-ide: channel %u: field '%s' impossible", i, bad);
			return -EINVAL;
		}
	}
	return 0;
}

static int piix3_ide_post_load(void *obj, char *err, size_t n)
{
	struct piix3_ide *s = obj;

	pci_fn_update_bars(&s->fn);
	for (unsigned i = 0; i < 2; i++) {
		struct ide_channel *ch = &s->ch[i];
		ch->handle = -1;
		ch->discard = false;
		vtimer_restore(s->clock, &ch->timer);
		if (ch->req == RS_INFLIGHT || ch->req == RS_QUEUED)
			ide_fail_later(ch, -EIO);
		else if (ch->req == RS_DONE && !vtimer_armed(&ch->timer))
			vtimer_arm(s->clock, &ch->timer, vclock_now(s->clock));
		irq_set(ch->irq, ch->irq_level);
	}
	return 0;
}

const struct vs_desc piix3_ide_state = {
	.name = "piix3-ide",
	.version = 1,
	.fields = piix3_ide_fields,
	.n_fields = ARRAY_SIZE(piix3_ide_fields),
	.check = piix3_ide_state_check,
	.post_load = piix3_ide_post_load,
};

DEV_KIND(piix3_ide) = {
	.name = "piix3-ide",
	.help = "PIIX3 IDE (00:01.1): two channels of ATA disks and ATAPI CD-ROMs",
	.where = DEV_IN_DM,
	.category = DEV_CAT_STORAGE,
	.user = false,
	.unique = true,
	DEV_PROPS(piix3_ide_props),
	.size = sizeof(struct piix3_ide),
	.check = piix3_ide_check,
	.create = piix3_ide_create,
	.reset = piix3_ide_kind_reset,
	.destroy = piix3_ide_destroy,
	.input_fd = piix3_ide_input_fd,
	.input = piix3_ide_input,
	.ready = piix3_ide_ready,
	.waiting = piix3_ide_waiting,
	.quiesce = piix3_ide_quiesce,
	.state = &piix3_ide_state,
};
