/* The ATAPI CD/DVD-ROM drive (see ide.h): the PACKET protocol
 * (ATA/ATAPI-6 9.10: the packet, the byte count limit, the interrupt
 * reason) and the packet commands SeaBIOS, Linux's sr/cdrom and
 * Windows' atapi.sys/cdrom.sys send (MMC-3, SPC-3), with their sense
 * data. The medium is the front's disk named by the unit's "cd:N", read
 * in 2048-byte blocks of four front sectors; the tray opens and closes
 * on START STOP UNIT unless PREVENT ALLOW MEDIUM REMOVAL locked it, and
 * a medium loaded again reports UNIT ATTENTION once and a media event.
 *
 * Not modelled: audio (READ CD of CD-DA, PLAY, READ SUB-CHANNEL), MODE
 * SELECT, DVD structures, writing; they end in CHECK CONDITION, ILLEGAL
 * REQUEST (invalid command operation code or invalid field). */
#include "dm/hw/ide.h"

#include <string.h>

#define SK_NOT_READY 0x02
#define SK_ILLEGAL 0x05
#define SK_UNIT_ATTENTION 0x06
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_SAVING_PARAMS 0x39
#define ASC_NO_MEDIUM 0x3a
#define ASC_REMOVAL_PREVENTED 0x53

/* Media events (GET EVENT STATUS NOTIFICATION, media class). */
#define EV_NEW_MEDIA 2
#define EV_MEDIA_REMOVAL 3

/* A disc above 90 minutes of CD is a DVD. */
#define CD_MAX_BLOCKS (90u * 60u * 75u)

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

bool atapi_medium(const struct ide_unit *u)
{
	return u->has_disk && !u->tray_open;
}

static uint32_t atapi_blocks(const struct ide_unit *u)
{
	uint64_t b = u->sectors / (ATAPI_BLOCK / IDE_SECTOR);
	return b > 0x3fffffff ? 0x3fffffff : (uint32_t)b;
}

static bool atapi_dvd(const struct ide_unit *u)
{
	return atapi_blocks(u) > CD_MAX_BLOCKS;
}

void atapi_unit_reset(struct ide_unit *u, bool power_on)
{
	u->tray_open = false;
	u->locked = false;
	u->ua = false;
	u->media_event = 0;
	u->sense_key = u->asc = u->ascq = 0;
}

void atapi_identify(struct ide_channel *ch, struct ide_unit *u)
{
	uint16_t id[256] = {0};

	ide_identify_common(ch, u, id, "V2E DVD-ROM");
	/* ATAPI, CD-ROM, removable, DRQ within 50 us of PACKET, 12-byte
	 * packets. */
	id[0] = 0x85c0;
	id[49] = 0x0b00;  /* IORDY, LBA, DMA */
	id[51] = 0x0200;
	id[71] = id[72] = 30;
	id[80] = 0x0070;  /* ATA/ATAPI-4 to -6 */
	id[82] = 0x4010;  /* NOP, PACKET */
	id[83] = id[84] = id[87] = 0x4000;
	id[85] = 0x4010;
	ide_identify_store(ch, id);
	ide_transfer_start(ch);
}

void atapi_packet_start(struct ide_channel *ch)
{
	struct ide_unit *u = &ch->unit[ch->active & 1];

	ch->atapi = true;
	ch->dma = u->feature & 1;
	ch->bcl = (uint16_t)(u->lbam | u->lbah << 8);
	ch->phase = PH_PACKET;
	ch->pos = 0;
	ch->end = sizeof(ch->packet);
	u->nsector = (uint8_t)((u->nsector & ~7) | ATAPI_IR_COD);
	u->status = ATA_DRDY | ATA_DSC | ATA_DRQ;
}

void atapi_error(struct ide_channel *ch, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct ide_unit *u = &ch->unit[ch->active & 1];

	u->sense_key = key;
	u->asc = asc;
	u->ascq = ascq;
	u->nsector = (uint8_t)((u->nsector & ~7) | ATAPI_IR_IO | ATAPI_IR_COD);
	ide_finish(ch, ATA_DRDY | ATA_ERR, (uint8_t)(key << 4), true);
}

/* The reply built in buf, cut to the allocation length. */
static void atapi_reply(struct ide_channel *ch, uint32_t len, uint32_t alloc)
{
	if (len > alloc)
		len = alloc;
	ch->src = SRC_BUF;
	ch->len = len;
	if (!len) {
		ide_transfer_done(ch);
		return;
	}
	ide_transfer_start(ch);
}

static void atapi_read(struct ide_channel *ch, struct ide_unit *u, uint32_t lba, uint32_t n)
{
	uint32_t blocks = atapi_blocks(u);

	if (lba > blocks || n > blocks - lba) {
		atapi_error(ch, SK_ILLEGAL, ASC_LBA_RANGE, 0);
		return;
	}
	if (!n) {
		ide_transfer_done(ch);
		return;
	}
	ch->src = SRC_DISK;
	ch->lba = (uint64_t)lba * (ATAPI_BLOCK / IDE_SECTOR);
	ch->left = n * (ATAPI_BLOCK / IDE_SECTOR);
	ide_transfer_start(ch);
}

/* ---- the commands ---- */

static void pc_test_unit_ready(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	ide_transfer_done(ch);
}

static void pc_request_sense(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	uint8_t *b = ch->buf;

	if (u->ua && !u->sense_key) {
		u->sense_key = SK_UNIT_ATTENTION;
		u->asc = ASC_MEDIUM_CHANGED;
		u->ascq = 0;
	}
	u->ua = false;
	memset(b, 0, 18);
	b[0] = 0x70;      /* current error, fixed format */
	b[2] = u->sense_key;
	b[7] = 10;        /* additional sense length */
	b[12] = u->asc;
	b[13] = u->ascq;
	atapi_reply(ch, 18, c[4]);
}

static void pc_inquiry(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	uint8_t *b = ch->buf;

	if (c[1] & 1) { /* no vital product data pages */
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
		return;
	}
	memset(b, 0, 36);
	b[0] = 0x05;      /* CD/DVD device */
	b[1] = 0x80;      /* removable */
	b[3] = 0x21;      /* ATAPI, response format 1 */
	b[4] = 31;
	memcpy(b + 8, "V2E     ", 8);
	memcpy(b + 16, "V2E DVD-ROM     ", 16);
	memcpy(b + 32, "1.0 ", 4);
	atapi_reply(ch, 36, be16(c + 3));
}

/* Mode pages: read error recovery (01h), CD device parameters (0Dh),
 * capabilities (2Ah). `changeable`: the mask of what MODE SELECT could
 * change, which is nothing. */
static uint32_t mode_page(struct ide_unit *u, unsigned page, bool changeable, uint8_t *p)
{
	uint32_t n;

	switch (page) {
	case 0x01:
		n = 12;
		memset(p, 0, n);
		p[1] = 0x0a;
		p[3] = 5;                 /* read retry count */
		break;
	case 0x0d:
		n = 8;
		memset(p, 0, n);
		p[1] = 0x06;
		p[5] = 60;                /* seconds per MSF minute */
		p[7] = 75;                /* frames per MSF second */
		break;
	case 0x2a:
		n = 22;
		memset(p, 0, n);
		p[1] = 0x14;
		p[2] = 0x0b;              /* reads CD-R, CD-RW, DVD-ROM */
		p[4] = 0x71;              /* audio play, mode 2 forms, multisession */
		p[6] = 0x29 | (u->locked ? 0x02 : 0); /* tray, eject, lock (state) */
		put16(p + 8, 706);        /* 4x, KB/s */
		put16(p + 12, 512);       /* buffer, KiB */
		put16(p + 14, 706);
		break;
	default:
		return 0;
	}
	p[0] = (uint8_t)page;
	if (changeable)
		memset(p + 2, 0, n - 2);
	return n;
}

static void pc_mode_sense(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	static const uint8_t all[] = {0x01, 0x0d, 0x2a};
	bool ten = c[0] == 0x5a;
	unsigned page = c[2] & 0x3f, pc = c[2] >> 6, hdr = ten ? 8 : 4;
	uint32_t len = hdr, alloc = ten ? be16(c + 7) : c[4];
	uint8_t *b = ch->buf;

	if (pc == 3) {
		atapi_error(ch, SK_ILLEGAL, ASC_SAVING_PARAMS, 0);
		return;
	}
	memset(b, 0, hdr);
	if (page == 0x3f) {
		for (unsigned i = 0; i < sizeof(all); i++)
			len += mode_page(u, all[i], pc == 1, b + len);
	} else {
		uint32_t n = mode_page(u, page, pc == 1, b + hdr);
		if (!n) {
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
			return;
		}
		len += n;
	}
	/* Medium type: 120 mm data disc, or no disc with the door closed
	 * or open. */
	b[ten ? 2 : 1] = atapi_medium(u) ? 0x01 : u->tray_open ? 0x71 : 0x70;
	if (ten)
		put16(b, len - 2);
	else
		b[0] = (uint8_t)(len - 1);
	atapi_reply(ch, len, alloc);
}

static void pc_start_stop(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	bool loej = c[4] & 2, start = c[4] & 1;

	if (loej && !start) {
		if (u->locked) {
			atapi_error(ch, SK_ILLEGAL, ASC_REMOVAL_PREVENTED, 0x02);
			return;
		}
		if (!u->tray_open && u->has_disk)
			u->media_event = EV_MEDIA_REMOVAL;
		u->tray_open = true;
	} else if (loej && start && u->tray_open) {
		u->tray_open = false;
		if (u->has_disk) {
			u->ua = true;
			u->media_event = EV_NEW_MEDIA;
		}
	}
	ide_transfer_done(ch);
}

static void pc_prevent_allow(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	u->locked = c[4] & 1;
	ide_transfer_done(ch);
}

static void pc_read_capacity(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	uint32_t blocks = atapi_blocks(u);
	put32(ch->buf, blocks ? blocks - 1 : 0);
	put32(ch->buf + 4, ATAPI_BLOCK);
	atapi_reply(ch, 8, 8);
}

static void pc_read10(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	atapi_read(ch, u, be32(c + 2), be16(c + 7));
}

static void pc_read12(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	atapi_read(ch, u, be32(c + 2), be32(c + 6));
}

static void pc_seek(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	if (be32(c + 2) >= atapi_blocks(u)) {
		atapi_error(ch, SK_ILLEGAL, ASC_LBA_RANGE, 0);
		return;
	}
	ide_transfer_done(ch);
}

/* A TOC address: LBA, or MSF (with the 2-second pregap). */
static void toc_addr(uint8_t *p, uint32_t lba, bool msf)
{
	if (!msf) {
		put32(p, lba);
		return;
	}
	lba += 150;
	p[0] = 0;
	p[1] = (uint8_t)(lba / (60 * 75) > 255 ? 255 : lba / (60 * 75));
	p[2] = (uint8_t)(lba / 75 % 60);
	p[3] = (uint8_t)(lba % 75);
}

/* One data track: the TOC (format 0), the session info (1) and the raw
 * TOC (2) Linux and Windows ask for. */
static void pc_read_toc(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	bool msf = c[1] & 2;
	unsigned format = c[2] & 0x0f, track = c[6];
	uint32_t blocks = atapi_blocks(u), len = 4;
	uint8_t *b = ch->buf;

	if (!format)
		format = c[9] >> 6; /* the older place of the format */
	memset(b, 0, 64);
	b[2] = 1;
	b[3] = 1;
	switch (format) {
	case 0:
		if (track > 1 && track != 0xaa) {
			atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
			return;
		}
		if (track <= 1) {
			b[len + 1] = 0x14; /* data track, digital copy allowed */
			b[len + 2] = 1;
			toc_addr(b + len + 4, 0, msf);
			len += 8;
		}
		b[len + 1] = 0x14;
		b[len + 2] = 0xaa; /* lead-out */
		toc_addr(b + len + 4, blocks, msf);
		len += 8;
		break;
	case 1:
		b[5] = 0x14;
		b[6] = 1;
		toc_addr(b + 8, 0, msf);
		len = 12;
		break;
	case 2: {
		static const uint8_t points[] = {0xa0, 0xa1, 0xa2, 0x01};
		for (unsigned i = 0; i < sizeof(points); i++) {
			uint8_t *d = b + len;
			d[0] = 1;          /* session */
			d[1] = 0x14;
			d[3] = points[i];
			if (points[i] == 0xa0 || points[i] == 0xa1) {
				d[8] = 1;  /* first / last track; disc type 0 */
			} else {
				uint8_t a[4];
				toc_addr(a, points[i] == 0xa2 ? blocks : 0, true);
				memcpy(d + 8, a + 1, 3);
			}
			len += 11;
		}
		break;
	}
	default:
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
		return;
	}
	put16(b, len - 2);
	atapi_reply(ch, len, be16(c + 7));
}

/* GET CONFIGURATION: the profiles (DVD-ROM and CD-ROM, the medium's
 * current) and the features a read-only drive has. */
static void pc_get_configuration(struct ide_channel *ch, struct ide_unit *u,
				 const uint8_t *c)
{
	unsigned rt = c[1] & 3, start = be16(c + 2);
	bool medium = atapi_medium(u), dvd = medium && atapi_dvd(u), cd = medium && !dvd;
	uint8_t *b = ch->buf;
	uint32_t len = 8;
	struct feature {
		uint16_t code;
		uint8_t flags;   /* version << 2 | persistent | current */
		uint8_t n;
		uint8_t data[8];
	} f[] = {
		{0x0000, 0x03, 8, {0x00, 0x10, dvd, 0, 0x00, 0x08, cd, 0}},
		{0x0001, 0x0b, 8, {0, 0, 0, 2, 0, 0, 0, 0}},   /* core: ATAPI */
		{0x0002, 0x07, 4, {0}},                         /* morphing */
		{0x0003, 0x03, 4, {0x29, 0, 0, 0}},             /* tray, eject, lock */
		{0x0010, medium, 8, {0, 0, 0x08, 0x00, 0, dvd ? 16 : 1, 0, 0}},
		{0x001e, 0x08 | cd, 4, {0}},                    /* CD read */
		{0x001f, dvd, 4, {0}},                          /* DVD read */
	};

	if (rt == 3) {
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
		return;
	}
	memset(b, 0, len);
	for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		if (f[i].code < start || (rt == 1 && !(f[i].flags & 1)) ||
		    (rt == 2 && f[i].code != start))
			continue;
		put16(b + len, f[i].code);
		b[len + 2] = f[i].flags;
		b[len + 3] = f[i].n;
		memcpy(b + len + 4, f[i].data, f[i].n);
		len += 4u + f[i].n;
	}
	put32(b, len - 4);
	put16(b + 6, dvd ? 0x0010 : cd ? 0x0008 : 0);
	atapi_reply(ch, len, be16(c + 7));
}

/* GET EVENT STATUS NOTIFICATION, polled: media events only. */
static void pc_event_status(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	uint8_t *b = ch->buf;
	uint32_t len;

	if (!(c[1] & 1)) { /* asynchronous notification is not supported */
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
		return;
	}
	memset(b, 0, 8);
	b[3] = 0x10; /* the media class is supported */
	if (c[4] & 0x10) {
		put16(b, 6);
		b[2] = 0x04;
		b[4] = u->media_event & 0x0f;
		b[5] = (u->tray_open ? 1 : 0) | (atapi_medium(u) ? 2 : 0);
		u->media_event = 0;
		len = 8;
	} else {
		put16(b, 2);
		b[2] = 0x80; /* no event available */
		len = 4;
	}
	atapi_reply(ch, len, be16(c + 7));
}

static void pc_disc_info(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	uint8_t *b = ch->buf;

	if (c[1] & 7) {
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
		return;
	}
	memset(b, 0, 34);
	put16(b, 32);
	b[2] = 0x0e;      /* complete disc, complete last session */
	b[3] = 1;         /* first track */
	b[4] = 1;         /* sessions */
	b[5] = 1;         /* first and last track of the last session */
	b[6] = 1;
	b[7] = 0x20;      /* unrestricted use */
	atapi_reply(ch, 34, be16(c + 7));
}

static void pc_mechanism_status(struct ide_channel *ch, struct ide_unit *u,
				const uint8_t *c)
{
	memset(ch->buf, 0, 8);
	ch->buf[1] = u->tray_open ? 0x10 : 0;
	atapi_reply(ch, 8, be16(c + 8));
}

static void pc_ok(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	ide_transfer_done(ch);
}

/* READ CD: user data of mode 1 blocks only. */
static void pc_read_cd(struct ide_channel *ch, struct ide_unit *u, const uint8_t *c)
{
	unsigned type = (c[1] >> 2) & 7, fields = c[9] & 0xf8;
	uint32_t n = (uint32_t)c[6] << 16 | (uint32_t)c[7] << 8 | c[8];

	if ((type != 0 && type != 2) || (fields != 0x10 && fields != 0)) {
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_FIELD, 0);
		return;
	}
	atapi_read(ch, u, be32(c + 2), fields ? n : 0);
}

#define ALLOW_UA 0x1    /* runs with a unit attention pending */
#define NEED_MEDIUM 0x2

struct packet_cmd {
	void (*run)(struct ide_channel *ch, struct ide_unit *u, const uint8_t *cdb);
	uint8_t flags;
};

static const struct packet_cmd packet_cmds[256] = {
	[0x00] = {pc_test_unit_ready, NEED_MEDIUM},
	[0x03] = {pc_request_sense, ALLOW_UA},
	[0x12] = {pc_inquiry, ALLOW_UA},
	[0x1a] = {pc_mode_sense, 0},
	[0x1b] = {pc_start_stop, 0},
	[0x1e] = {pc_prevent_allow, 0},
	[0x25] = {pc_read_capacity, NEED_MEDIUM},
	[0x28] = {pc_read10, NEED_MEDIUM},
	[0x2b] = {pc_seek, NEED_MEDIUM},
	[0x43] = {pc_read_toc, NEED_MEDIUM},
	[0x46] = {pc_get_configuration, ALLOW_UA},
	[0x4a] = {pc_event_status, ALLOW_UA},
	[0x51] = {pc_disc_info, NEED_MEDIUM},
	[0x5a] = {pc_mode_sense, 0},
	[0xa8] = {pc_read12, NEED_MEDIUM},
	[0xbb] = {pc_ok, 0},                 /* SET CD SPEED */
	[0xbd] = {pc_mechanism_status, 0},
	[0xbe] = {pc_read_cd, NEED_MEDIUM},
};

void atapi_exec(struct ide_channel *ch)
{
	struct ide_unit *u = &ch->unit[ch->active & 1];
	const uint8_t *cdb = ch->packet;
	const struct packet_cmd *pc = &packet_cmds[cdb[0]];

	ch->phase = PH_BUSY;
	u->status = ATA_BSY | ATA_DRDY;
	ch->src = SRC_BUF;
	ch->write = false;
	if (!pc->run) {
		atapi_error(ch, SK_ILLEGAL, ASC_INVALID_OPCODE, 0);
		return;
	}
	if (u->ua && !(pc->flags & ALLOW_UA)) {
		u->ua = false;
		atapi_error(ch, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
		return;
	}
	if ((pc->flags & NEED_MEDIUM) && !atapi_medium(u)) {
		atapi_error(ch, SK_NOT_READY, ASC_NO_MEDIUM, u->tray_open ? 0x02 : 0x01);
		return;
	}
	pc->run(ch, u, cdb);
}
