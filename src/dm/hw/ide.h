/* The PIIX3's IDE function (00:01.1) and the drives behind it: the parts
 * ide.c (task file, PIO, requests to the block front, the ATA command
 * set), ide_atapi.c (packet commands), ide_bmdma.c (bus master IDE with
 * its PRD tables) and piix3_ide.c (the PCI function, the windows, the
 * kind, the saved state) share. Internal to those files and their tests.
 *
 * Sources: ATA/ATAPI-6 (T13 1410D) for the task file, the protocols and
 * the ATA commands, ATA8-ACS for the 48-bit ones; MMC-3 and SPC-3 for
 * the packet commands; the Intel 82371SB (PIIX3) datasheet for the PCI
 * registers and the bus master. Behaviour checked against what SeaBIOS,
 * Linux's libata (ata_piix, libata-sff) and Windows' atapi.sys expect.
 *
 * Model. Each channel holds two units (master, slave) with their own
 * task file; a unit that is not there latches register writes like the
 * other but reads status 0 and ignores commands (how QEMU and Linux's
 * probing see an absent slave). One command runs per channel at a time.
 * Data moves through the block front (blkif/front.h): PIO data through
 * the channel's buffer, filled from or drained to the front's bounce
 * area (each channel owns half of it), DMA straight between the disk
 * image and the guest RAM its PRD entries name. Requests are
 * asynchronous: the command shows BSY until the front completes; with a
 * deterministic clock a virtual timer decides when the completion
 * reaches the guest (front.h, "Determinism"). */
#ifndef V2E_DM_HW_IDE_H
#define V2E_DM_HW_IDE_H

#include <stdbool.h>
#include <stdint.h>

#include "blkif/front.h"
#include "dev/device.h"
#include "dev/dma.h"
#include "dev/pci.h"
#include "dev/vclock.h"

struct dev_ctx;
struct dev_props;

#define IDE_SECTOR 512u
#define ATAPI_BLOCK 2048u          /* a CD block: 4 front sectors */
#define IDE_BUF_BYTES 16384u       /* a channel's PIO buffer */
#define IDE_MAX_MULT 16u           /* READ/WRITE MULTIPLE's largest block */
#define IDE_PRD_MAX 8192u          /* entries in a 64 KiB PRD table */
#define IDE_ROUND_MAX (1u << 20)   /* bytes of one DMA request to the front */
#define IDE_PIECES 256u            /* guest pieces of one bounced DMA sector */
#define IDE_BOUNCE_SHARE (BLKF_BOUNCE_BYTES / 2)

/* Task file registers, as offsets from 0x1f0 / 0x170. */
enum {
	ATA_REG_DATA = 0, ATA_REG_ERROR = 1, ATA_REG_NSECTOR = 2, ATA_REG_LBAL = 3,
	ATA_REG_LBAM = 4, ATA_REG_LBAH = 5, ATA_REG_DEVICE = 6, ATA_REG_STATUS = 7,
};

#define ATA_BSY 0x80
#define ATA_DRDY 0x40
#define ATA_DF 0x20
#define ATA_DSC 0x10
#define ATA_DRQ 0x08
#define ATA_ERR 0x01

#define ATA_ER_UNC 0x40
#define ATA_ER_IDNF 0x10
#define ATA_ER_ABRT 0x04

#define ATA_DC_NIEN 0x02
#define ATA_DC_SRST 0x04
#define ATA_DC_HOB 0x80

#define ATA_DEV_DEV 0x10
#define ATA_DEV_LBA 0x40

/* ATAPI interrupt reason, in the sector count register. */
#define ATAPI_IR_COD 0x01
#define ATAPI_IR_IO 0x02

/* Bus master IDE registers, per channel at BAR4 + 8 * channel. */
#define BM_CMD 0
#define BM_STATUS 2
#define BM_PRD 4
#define BM_CMD_START 0x01
#define BM_CMD_READ 0x08  /* the bus master writes memory (a device read) */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR 0x02
#define BM_ST_INT 0x04
#define BM_ST_DMA0 0x20
#define BM_ST_DMA1 0x40
#define BM_PRD_EOT 0x80000000u

enum ide_unit_kind { IDE_ABSENT = 0, IDE_DISK = 1, IDE_CD = 2 };

/* What the data port or the bus master is doing for the command. */
enum ide_phase {
	PH_IDLE = 0,
	PH_BUSY,     /* waiting for the front (BSY) */
	PH_PIO_IN,   /* the host reads buf[pos, end) */
	PH_PIO_OUT,  /* the host writes buf[pos, end) */
	PH_PACKET,   /* the host writes the 12-byte packet */
	PH_DMA,      /* the bus master moves the data when started */
	PH_COUNT
};

/* Where the command's data lives. */
enum ide_src {
	SRC_BUF = 0,  /* built in buf, len bytes (IDENTIFY, ATAPI replies) */
	SRC_DISK,     /* `left` front sectors at `lba` */
	SRC_COUNT
};

/* What the front request in flight was for. */
enum ide_req_kind {
	RQ_NONE = 0,
	RQ_PIO_READ,   /* a chunk into the bounce share, then into buf */
	RQ_PIO_WRITE,  /* buf's blocks written from the bounce share */
	RQ_DMA,        /* a DMA round straight to or from guest RAM */
	RQ_DMA_BOUNCE, /* a DMA sector through the bounce share */
	RQ_FLUSH,
	RQ_COUNT
};

/* The request's life. */
enum ide_req_state {
	RS_IDLE = 0,
	RS_DONE,      /* completed; -icount: waiting for the timer */
	RS_INFLIGHT,  /* submitted */
	RS_QUEUED,    /* the front's ring was full: submitted later */
	RS_COUNT
};

struct ide_unit {
	/* saved */
	uint8_t kind;                 /* enum ide_unit_kind: refused on mismatch */
	uint8_t status, error;
	uint8_t feature, nsector, lbal, lbam, lbah;
	uint8_t hob_feature, hob_nsector, hob_lbal, hob_lbam, hob_lbah;
	uint8_t device;
	bool intrq;                   /* the unit's INTRQ output */
	uint8_t mult;                 /* SET MULTIPLE MODE (0: off) */
	uint8_t xfer_mode;            /* SET FEATURES 03h's value */
	bool wcache;
	bool standby;
	uint8_t heads, spt;           /* INITIALIZE DEVICE PARAMETERS */
	uint8_t sense_key, asc, ascq; /* ATAPI */
	bool tray_open, locked, ua;
	uint8_t media_event;          /* GET EVENT STATUS NOTIFICATION, media */

	/* configuration (not state) */
	uint8_t cfg_kind;
	bool has_disk;                /* a disk (or a CD's medium) behind it */
	unsigned disk;                /* the front's disk number */
	uint64_t sectors;             /* front sectors */
	bool read_only;
	char serial[21];
};

struct piix3_ide;

struct ide_channel {
	/* saved */
	struct ide_unit unit[2];
	uint8_t ctl;                  /* device control as last written */
	bool irq_level;               /* the ISA line as driven */
	uint8_t cmd;                  /* the command running (phase != idle) */
	uint8_t active;               /* its unit */
	uint8_t phase;                /* enum ide_phase */
	uint8_t src;                  /* enum ide_src */
	bool atapi;                   /* a PACKET command's data */
	bool dma;                     /* the data moves by bus master */
	bool write;                   /* host to device */
	bool chs;                     /* addressed by CHS: report back so */
	bool lba48;
	uint64_t lba;                 /* next front sector to move */
	uint32_t left;                /* front sectors still to move */
	uint32_t drq_sectors;         /* ATA: sectors a DRQ block holds */
	uint16_t bcl;                 /* ATAPI: byte count limit */
	uint32_t pos, end, len;       /* buf: host position, block end, valid */
	uint8_t packet[12];
	uint8_t buf[IDE_BUF_BYTES];
	/* the front request */
	uint8_t req;                  /* enum ide_req_state */
	uint8_t req_kind;             /* enum ide_req_kind */
	int32_t req_status;
	uint32_t req_sectors;
	struct vtimer timer;          /* -icount: the completion's time */
	/* bus master */
	uint8_t bm_cmd, bm_status;
	uint32_t bm_prd;              /* the table's address */
	uint32_t prd_idx, prd_off;    /* where the transfer is in it */
	bool prd_eot;                 /* the EOT entry is used up */

	/* not state */
	struct piix3_ide *ctrl;
	unsigned index;
	const struct irq_line *irq;
	int handle;                   /* the request's, for blkf_wait */
	bool discard;                 /* a reset waits for it: drop it */
	struct blkf_seg seg[BLKF_MAX_SEGS]; /* the request's segments */
	unsigned nseg;
	struct blkf_seg piece[IDE_PIECES]; /* guest pieces of a bounced sector */
	unsigned npieces;
};

struct piix3_ide {
	/* saved (the state describes this struct) */
	struct pci_fn fn;
	struct ide_channel ch[2];

	/* wiring */
	const struct dev_ctx *ctx;
	struct vclock *clock;
	const struct dma_space *dma;
	struct blk_front *front;      /* NULL: no disk behind any unit */
	bool icount;
	bool decode_at_reset;         /* IDETIM's decode bits set from reset */
	uint64_t bm_win;              /* BAR4's window (0: not claimed yet) */
	bool bm_win_on;
};

/* ---- piix3_ide.c ---- */

/* Sets the device up from its properties on `front` (NULL when no unit
 * has a disk): claims the PCI function and the legacy ports, takes IRQ
 * 14 and 15. What the kind's create does after attaching the front; the
 * tests call it with a fake front. 0 or -errno with err. */
int piix3_ide_setup(struct piix3_ide *s, const struct dev_ctx *c,
		    const struct dev_props *p, struct blk_front *front, char *err,
		    size_t n);
/* Power-on state (requests in flight waited for and dropped). */
void piix3_ide_reset(struct piix3_ide *s);
/* Completes every request in flight (blkf_wait), so the state is whole:
 * what the board does before saving. */
void piix3_ide_drain(struct piix3_ide *s);
/* The channel's legacy ports decode (PCI I/O enable and IDETIM.IDE). */
bool piix3_ide_decodes(const struct piix3_ide *s, unsigned ch);
bool piix3_ide_bus_master(const struct piix3_ide *s);

extern const struct io_ops piix3_ide_cfg_ops;  /* opaque: the piix3_ide */
extern const struct io_ops ide_cmd_ops;        /* opaque: a channel */
extern const struct io_ops ide_ctl_ops;        /* opaque: a channel */
extern const struct io_ops ide_bm_ops;         /* opaque: the piix3_ide */
extern const struct vs_desc piix3_ide_state;

/* ---- ide.c: the channel ---- */

void ide_channel_init(struct ide_channel *ch, struct piix3_ide *s, unsigned index,
		      const struct irq_line *irq);
/* A hardware reset of the channel (power-on or system reset). */
void ide_channel_reset(struct ide_channel *ch, bool power_on);
void ide_update_irq(struct ide_channel *ch);
struct ide_unit *ide_sel(struct ide_channel *ch);
/* Raises the unit's INTRQ (the line follows if it is selected). */
void ide_raise(struct ide_channel *ch, struct ide_unit *u);
/* Ends the command: status, and the interrupt when `irq`. */
void ide_finish(struct ide_channel *ch, uint8_t status, uint8_t error, bool irq);
void ide_abort(struct ide_channel *ch);
/* Starts moving the command's data as ch's fields say (src, dma,
 * write, lba/left or len). */
void ide_transfer_start(struct ide_channel *ch);
/* A front request for the channel; the step after it runs on its
 * completion (or the timer's, under -icount). */
void ide_submit(struct ide_channel *ch, uint8_t kind, enum blkf_op op,
		uint64_t sector, uint32_t n);
/* Waits for the channel's request in flight, dropping its result. */
void ide_cancel_request(struct ide_channel *ch);
/* The data has all moved: the command's end for its protocol. */
void ide_transfer_done(struct ide_channel *ch);
/* A transfer failed with a front status (-EIO, -EFAULT, ...). */
void ide_transfer_error(struct ide_channel *ch, int status);
void ide_timer_fire(void *opaque);
/* The request ends with `status`, reported at the clock's next step
 * (a request that cannot be submitted or was saved in flight). */
void ide_fail_later(struct ide_channel *ch, int status);
/* Submits a request the front's full ring held back. */
void ide_retry_queued(struct ide_channel *ch);
/* IDENTIFY data: the words both kinds share, then the whole page (with
 * its checksum) into buf as a PIO data-in command's data. */
void ide_identify_common(struct ide_channel *ch, struct ide_unit *u, uint16_t *id,
			 const char *model);
void ide_identify_store(struct ide_channel *ch, uint16_t *id);
uint8_t *ide_bounce(struct ide_channel *ch);

/* ---- ide_atapi.c ---- */

void atapi_packet_start(struct ide_channel *ch);
void atapi_exec(struct ide_channel *ch);
void atapi_error(struct ide_channel *ch, uint8_t key, uint8_t asc, uint8_t ascq);
void atapi_identify(struct ide_channel *ch, struct ide_unit *u);
bool atapi_medium(const struct ide_unit *u);
/* A CD unit's signature and power-on state. */
void atapi_unit_reset(struct ide_unit *u, bool power_on);

/* ---- ide_bmdma.c ---- */

/* The command wants DMA, or the guest started the bus master: moves the
 * data when both have happened and bus mastering is enabled. */
void ide_dma_kick(struct ide_channel *ch);
/* A DMA request completed (status 0 or -errno). */
void ide_dma_round_done(struct ide_channel *ch, int status);
/* Bytes the guest reads after a bounced DMA sector completed. */
int ide_dma_bounce_out(struct ide_channel *ch);

#endif
