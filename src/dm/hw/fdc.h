/* The Intel 82077AA floppy disk controller in PC/AT mode, with two
 * drives (A: and B:), as QEMU's isa-fdc presents it: ports 0x3f0-0x3f5
 * and 0x3f7 (0x3f6 is the IDE's), IRQ 6, DMA channel 2 of the i8237.
 *
 * The controller core codes against the block front (blkif/front.h), so
 * its tests run on an in-memory fake; the kind `isa-fdc` at the bottom of
 * fdc.c attaches the real front from the board's descriptors. Disk I/O
 * is asynchronous: a data command submits a request and its result phase
 * and interrupt follow the completion, which the kind's input (or, for a
 * deterministic clock, a virtual timer) brings in.
 *
 * Media: a drive has a geometry fixed by its image's size (see
 * fdc_geometry_for()); the disk change line (DIR bit 7) is set at power
 * on and by every insert or eject, and cleared by a SEEK or RECALIBRATE
 * with a disk in the drive. */
#ifndef V2E_DM_HW_FDC_H
#define V2E_DM_HW_FDC_H

#include <stdbool.h>
#include <stdint.h>

#include "blkif/front.h"
#include "dev/device.h"
#include "dev/vclock.h"
#include "dm/hw/i8237.h"
#include "lib/vstate.h"

#define FDC_BASE 0x3f0     /* window: 0x3f0-0x3f5 */
#define FDC_LEN 6
#define FDC_DIR_PORT 0x3f7 /* DIR (read) / CCR (write) */
#define FDC_IRQ 6
#define FDC_DMA_CHAN 2
#define FDC_DRIVES 2
#define FDC_SECTOR 512u

/* The controller's share of the front's bounce area, for PIO sectors,
 * DMA transfers the backend cannot do into guest RAM directly and
 * FORMAT's fill: the last 32 KiB. The IDE controller on the same kind of
 * front uses the rest; a floppy track is at most 18 KiB. */
#define FDC_BOUNCE_BYTES (32u << 10)
#define FDC_BOUNCE_OFF (BLKF_BOUNCE_BYTES - FDC_BOUNCE_BYTES)

/* Registers (offsets from 0x3f0) and bits. */
#define FDC_SRA 0
#define FDC_SRB 1
#define FDC_DOR 2
#define FDC_TDR 3
#define FDC_MSR 4 /* read */
#define FDC_DSR 4 /* write */
#define FDC_FIFO 5

#define FDC_DOR_SEL 0x03
#define FDC_DOR_NRESET 0x04
#define FDC_DOR_DMAEN 0x08 /* AT mode: gates INT and DRQ */
#define FDC_DOR_MOTORS 0xf0

#define FDC_MSR_BUSY_MASK 0x0f
#define FDC_MSR_CB 0x10
#define FDC_MSR_NDMA 0x20
#define FDC_MSR_DIO 0x40 /* controller -> host */
#define FDC_MSR_RQM 0x80

#define FDC_DSR_RATE 0x03 /* 0 500 kb/s, 1 300, 2 250, 3 1 Mb/s */
#define FDC_DSR_RESET 0x80
#define FDC_DIR_DSKCHG 0x80

#define FDC_ST0_DS 0x03
#define FDC_ST0_HD 0x04
#define FDC_ST0_NR 0x08
#define FDC_ST0_EC 0x10
#define FDC_ST0_SE 0x20
#define FDC_ST0_ABNTERM 0x40
#define FDC_ST0_INVCMD 0x80
#define FDC_ST0_POLL 0xc0 /* abnormal termination by polling (after reset) */
#define FDC_ST1_MA 0x01
#define FDC_ST1_NW 0x02
#define FDC_ST1_ND 0x04
#define FDC_ST1_DE 0x20
#define FDC_ST1_EN 0x80
#define FDC_ST2_BC 0x02
#define FDC_ST2_WC 0x10
#define FDC_ST2_DD 0x20
#define FDC_ST2_CM 0x40
#define FDC_ST3_HD 0x04
#define FDC_ST3_T0 0x10
#define FDC_ST3_RDY 0x20
#define FDC_ST3_WP 0x40

/* CONFIGURE's third byte. */
#define FDC_CFG_EIS 0x40   /* implied seek */
#define FDC_CFG_EFIFO 0x20 /* 1: FIFO disabled */
#define FDC_CFG_POLL 0x10  /* 1: polling disabled */

struct fdc_geometry {
	uint8_t cyls, heads, spt;
	uint8_t rate;      /* the data rate its media needs (DSR code) */
	uint8_t cmos_type; /* the drive it goes in: CMOS 0x10 nibble */
};

/* The geometry of an image of `sectors` 512-byte sectors: 360 KB (40/2/9,
 * 300 kb/s in a 1.2 MB drive), 720 KB (80/2/9, 250 kb/s in a 1.44 MB
 * drive), 1.2 MB (80/2/15, 500 kb/s), 1.44 MB (80/2/18, 500 kb/s),
 * 2.88 MB (80/2/36, 1 Mb/s). 0, or -EINVAL for any other size. */
int fdc_geometry_for(uint64_t sectors, struct fdc_geometry *g);
#define FDC_SIZES_ACCEPTED "368640 (360 KB), 737280 (720 KB), 1228800 (1.2 MB), " \
			   "1474560 (1.44 MB) and 2949120 (2.88 MB) bytes"

struct fdc_drive {
	/* saved */
	uint8_t cyl;         /* the present cylinder (PCN): where the head is */
	uint8_t last_sector; /* the last ID under the head, for READ ID */
	bool changed;        /* the disk change line */
	bool has_disk;
	uint8_t disk;        /* the front's disk, when has_disk */
	/* from the board and the disk */
	bool present;
	bool read_only;
	struct fdc_geometry geo;
};

/* Where a running data command is (fdc.xstate). */
enum fdc_xstate {
	FDC_X_NONE = 0,
	FDC_X_WAIT_DMA, /* DREQ up until the 8237 serves channel 2 */
	FDC_X_IO,       /* a request to the disk in flight (or to redo) */
	FDC_X_PIO,      /* the guest moves bytes through the FIFO */
};

struct fdc {
	/* ---- saved state (fdc_state) ---- */
	uint8_t dor, tdr, dsr;
	uint8_t phase;              /* enum in fdc.c */
	uint8_t cmd[9], cmd_len, cmd_pos;
	uint8_t res[10], res_len, res_pos;
	uint8_t specify[2];         /* SRT/HUT, HLT/ND */
	uint8_t config, pretrk, perp;
	bool locked;
	uint8_t pend;               /* drives with a SENSE INTERRUPT status */
	uint8_t pend_st0[4];
	uint8_t busy;               /* MSR drive busy bits */
	bool int_pending;           /* INT inside the chip, before the DOR gate */
	bool irq_level;             /* the line as driven */
	bool dreq_level;            /* DRQ 2 as driven */
	/* the data command in execution */
	uint8_t op, unit, head;     /* head: the physical head */
	uint8_t c, h, r, n, eot;    /* the next sector's ID */
	uint8_t left;               /* VERIFY with EC: sectors to go */
	bool mt, pio;
	uint8_t xstate;             /* enum fdc_xstate */
	bool direct;                /* the request moves guest RAM itself */
	uint8_t chunk_sectors;      /* in the request */
	uint32_t chunk_bytes;       /* of DMA it accounts for */
	uint16_t pio_pos, pio_len;
	uint64_t fmt_todo;          /* FORMAT: sectors (bit R-1) still to fill */
	uint8_t fmt_fill;
	uint8_t buf[1024];          /* a PIO sector, FORMAT's IDs */
	uint64_t io_deadline;       /* -icount: when the request completes */
	struct fdc_drive drive[FDC_DRIVES];

	/* ---- wiring, not state ---- */
	struct irq_line irq;
	struct vclock *clock;
	struct blk_front *front;    /* NULL: no drive has a disk */
	struct i8237 *dma;          /* NULL until found */
	const struct dev_ctx *ctx;  /* to find the 8237 late; NULL in tests */
	bool icount;
	struct vtimer io_timer;
	bool io_inflight, io_done;
	int io_handle, io_status;
};

/* Power-on state: out of reset (DOR 0x0c), drives as given by
 * fdc_drive_setup(). `front` may be NULL while no drive has a disk,
 * `dma` NULL until fdc_set_dma(). */
void fdc_init(struct fdc *f, const struct irq_line *irq, struct vclock *clock,
	      struct blk_front *front, bool icount);
void fdc_set_dma(struct fdc *f, struct i8237 *dma);
/* Power-on again (a system reset); drives and disks stay. */
void fdc_reset(struct fdc *f);
/* Drains a request in flight and stops the timer. */
void fdc_fini(struct fdc *f);

/* Drive `unit`: present or not, with disk `disk` of the front or none
 * (-1). A disk's size must be one fdc_geometry_for() knows: else
 * -EINVAL with err naming the size and the accepted ones. */
int fdc_drive_setup(struct fdc *f, unsigned unit, bool present, int disk, char *err,
		    size_t n);
/* Media change: insert disk `disk` (or eject with -1) in a present
 * drive; the change line goes up. 0 or -errno with err. */
int fdc_change_media(struct fdc *f, unsigned unit, int disk, char *err, size_t n);

/* Runs the front's completions (the kind's input). */
void fdc_poll(struct fdc *f);

extern const struct io_ops fdc_ops;     /* 0x3f0-0x3f5, opaque = struct fdc */
extern const struct io_ops fdc_dir_ops; /* 0x3f7 */
extern const struct vs_desc fdc_state;

#endif
