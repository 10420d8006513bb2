/* Intel 8237A DMA controllers, two cascaded as on the PC/AT (see
 * i8237.h).
 *
 * Sources: the Intel 8237A/8237A-5 datasheet (registers, the byte
 * pointer flip-flop, modes, TC and auto-initialize, the mask bit set at
 * TC without auto-init), the IBM PC/AT technical reference (the second
 * controller on even ports with word addressing, the page registers),
 * and what SeaBIOS (dma.c) and Linux (asm/dma.h) write.
 *
 * Model: the controller moves data only when a device in the same
 * device model asks (i8237_transfer() or the segment calls), as fast as
 * the device wants; demand, single and block modes differ only in bus
 * timing, so they behave alike here. Memory-to-memory transfers
 * (command bit 0, channels 0 and 1) are not modelled: no PC software
 * uses them, and the temporary register stays as the last master clear
 * left it. The cascade channel 4 must be unmasked for channels 0-3 to be
 * served; its mode is not checked (firmware sets it to cascade). */
#include "dm/hw/i8237.h"

#include <errno.h>
#include <string.h>

#include "lib/compiler.h"

/* ---- saved state ---- */

#define I8237_CHAN_FIELDS(c, i)                                               \
	VS_U16(struct i8237, chip[c].ch[i].base_addr),                        \
	VS_U16(struct i8237, chip[c].ch[i].base_count),                       \
	VS_U16(struct i8237, chip[c].ch[i].addr),                             \
	VS_U16(struct i8237, chip[c].ch[i].count),                            \
	VS_MAX(struct i8237, chip[c].ch[i].mode, VS_U8, 0xfc)

#define I8237_CHIP_FIELDS(c)                                                  \
	I8237_CHAN_FIELDS(c, 0), I8237_CHAN_FIELDS(c, 1),                     \
	I8237_CHAN_FIELDS(c, 2), I8237_CHAN_FIELDS(c, 3),                     \
	VS_U8(struct i8237, chip[c].command),                                 \
	VS_MAX(struct i8237, chip[c].status, VS_U8, 0x0f),                    \
	VS_MAX(struct i8237, chip[c].mask, VS_U8, 0x0f),                      \
	VS_MAX(struct i8237, chip[c].request, VS_U8, 0x0f),                   \
	VS_U8(struct i8237, chip[c].temp),                                    \
	VS_BOOL(struct i8237, chip[c].flip_flop)

/* Everything the guest programmed, and the devices' DREQ levels (which
 * the status register shows; the devices drive them again on their own
 * load). */
static const struct vs_field i8237_fields[] = {
	I8237_CHIP_FIELDS(0),
	I8237_CHIP_FIELDS(1),
	VS_BYTES(struct i8237, page),
	VS_U8(struct i8237, dreq),
};

const struct vs_desc i8237_state = {
	"i8237", 1, i8237_fields, ARRAY_SIZE(i8237_fields), NULL, NULL,
};

/* Registers by number: port & 0xf on the first controller, (port >> 1)
 * & 0xf on the second. */
enum {
	REG_STATUS_CMD = 8, /* read: status, write: command */
	REG_REQUEST = 9,
	REG_SINGLE_MASK = 10,
	REG_MODE = 11,
	REG_CLEAR_FF = 12,
	REG_TEMP_CLEAR = 13, /* read: temporary, write: master clear */
	REG_CLEAR_MASK = 14,
	REG_ALL_MASK = 15,
};

/* The page register (index from 0x80) of each channel. */
static const uint8_t page_of_chan[I8237_CHANNELS] = {7, 3, 1, 2, 0xf, 0xb, 9, 0xa};

static const struct i8237_chan *chan_regs_c(const struct i8237 *d, unsigned chan)
{
	return &d->chip[chan >> 2].ch[chan & 3];
}

/* Bytes per transfer cycle: 1 on channels 0-3, a word on 4-7. */
static unsigned unit_of(unsigned chan)
{
	return chan >= 4 ? 2 : 1;
}

/* The guest-physical address of unit `addr` of the channel's block. */
static uint64_t phys_of(const struct i8237 *d, unsigned chan, uint16_t addr)
{
	uint8_t page = d->page[page_of_chan[chan]];
	if (chan >= 4)
		return (uint64_t)(page & 0xfe) << 16 | (uint64_t)addr << 1;
	return (uint64_t)page << 16 | addr;
}

/* ---- readiness and the devices' callbacks ---- */

bool i8237_ready(const struct i8237 *d, unsigned chan)
{
	const struct i8237_chip *c;
	unsigned bit;

	if (chan >= I8237_CHANNELS || chan == I8237_CASCADE || !(d->dreq & (1u << chan)))
		return false;
	c = &d->chip[chan >> 2];
	bit = 1u << (chan & 3);
	if ((c->mask & bit) || (c->command & I8237_CMD_DISABLE) ||
	    (c->ch[chan & 3].mode & I8237_MODE_MODE) == I8237_MODE_CASCADE)
		return false;
	/* Channels 0-3 reach the bus through the second controller's
	 * channel 4. */
	if (chan < 4 && ((d->chip[1].mask & 1) || (d->chip[1].command & I8237_CMD_DISABLE)))
		return false;
	return true;
}

static uint8_t ready_set(const struct i8237 *d)
{
	uint8_t r = 0;
	for (unsigned ch = 0; ch < I8237_CHANNELS; ch++)
		if (i8237_ready(d, ch))
			r |= (uint8_t)(1u << ch);
	return r;
}

/* After a guest write: calls the devices whose channel just became
 * ready. A callback may transfer, which can mask its channel again. */
static void serve_new(struct i8237 *d, uint8_t before)
{
	uint8_t now = ready_set(d);
	for (unsigned ch = 0; ch < I8237_CHANNELS; ch++) {
		uint8_t bit = (uint8_t)(1u << ch);
		if ((now & bit) && !(before & bit) && d->client[ch].service &&
		    i8237_ready(d, ch))
			d->client[ch].service(d->client[ch].opaque);
	}
}

int i8237_attach(struct i8237 *d, unsigned chan, i8237_service_fn *service, void *opaque)
{
	if (chan >= I8237_CHANNELS || chan == I8237_CASCADE)
		return -EINVAL;
	if (d->client[chan].service && (d->client[chan].service != service ||
					d->client[chan].opaque != opaque))
		return -EBUSY;
	d->client[chan].service = service;
	d->client[chan].opaque = opaque;
	return 0;
}

void i8237_dreq(struct i8237 *d, unsigned chan, bool level)
{
	if (chan >= I8237_CHANNELS || chan == I8237_CASCADE)
		return;
	if (level)
		d->dreq |= (uint8_t)(1u << chan);
	else
		d->dreq &= (uint8_t)~(1u << chan);
}

uint32_t i8237_residue(const struct i8237 *d, unsigned chan)
{
	if (chan >= I8237_CHANNELS)
		return 0;
	return ((uint32_t)chan_regs_c(d, chan)->count + 1) * unit_of(chan);
}

/* ---- moving data ---- */

/* `units` cycles done (at most count + 1): the address moves, the count
 * goes down, and at TC the status bit is set and the channel reloads
 * (auto-init) or masks itself. Returns whether TC was reached. */
static bool step(struct i8237 *d, unsigned chan, uint32_t units)
{
	struct i8237_chip *c = &d->chip[chan >> 2];
	struct i8237_chan *r = &c->ch[chan & 3];
	uint8_t bit = (uint8_t)(1u << (chan & 3));
	bool tc = units == (uint32_t)r->count + 1;

	if (r->mode & I8237_MODE_DEC)
		r->addr = (uint16_t)(r->addr - units);
	else
		r->addr = (uint16_t)(r->addr + units);
	r->count = (uint16_t)(r->count - units);
	if (!tc)
		return false;
	c->status |= bit;
	c->request &= (uint8_t)~bit;
	if (r->mode & I8237_MODE_AUTOINIT) {
		r->addr = r->base_addr;
		r->count = r->base_count;
	} else {
		c->mask |= bit;
	}
	return true;
}

/* Whether the channel's mode moves memory in this direction. */
static bool moves_memory(const struct i8237_chan *r, bool to_memory)
{
	uint8_t x = r->mode & I8237_MODE_XFER;
	return to_memory ? x == I8237_XFER_WRITE : x == I8237_XFER_READ;
}

/* Copies between buf and the channel's memory from its current address,
 * `units` cycles that stay inside the block (no wrap), without touching
 * the registers. In decrement mode unit i of buf is at addr - i. */
static void copy_run(struct i8237 *d, unsigned chan, uint8_t *buf, uint32_t units,
		     uint16_t addr, bool to_memory)
{
	const struct i8237_chan *r = chan_regs_c(d, chan);
	unsigned unit = unit_of(chan);
	bool dec = (r->mode & I8237_MODE_DEC) != 0;
	uint8_t tmp[256];

	if (!moves_memory(r, to_memory)) {
		if (!to_memory)
			memset(buf, 0xff, (size_t)units * unit);
		return;
	}
	if (!dec) {
		uint64_t gpa = phys_of(d, chan, addr);
		size_t n = (size_t)units * unit;
		if (to_memory)
			(void)dma_write(d->dma, gpa, buf, n);
		else if (dma_read(d->dma, gpa, buf, n) < 0)
			memset(buf, 0xff, n);
		return;
	}
	/* Downwards: memory holds the units in the opposite order. */
	while (units) {
		uint32_t k = units < sizeof(tmp) / unit ? units : (uint32_t)(sizeof(tmp) / unit);
		uint16_t low = (uint16_t)(addr - (k - 1));
		uint64_t gpa = phys_of(d, chan, low);
		size_t n = (size_t)k * unit;
		if (to_memory) {
			for (uint32_t i = 0; i < k; i++)
				memcpy(tmp + (size_t)(k - 1 - i) * unit, buf + (size_t)i * unit, unit);
			(void)dma_write(d->dma, gpa, tmp, n);
		} else {
			if (dma_read(d->dma, gpa, tmp, n) < 0)
				memset(tmp, 0xff, n);
			for (uint32_t i = 0; i < k; i++)
				memcpy(buf + (size_t)i * unit, tmp + (size_t)(k - 1 - i) * unit, unit);
		}
		buf += n;
		units -= k;
		addr = (uint16_t)(low - 1);
	}
}

/* Units the next run may hold before the address wraps in its block. */
static uint32_t run_room(const struct i8237_chan *r, uint16_t addr)
{
	return (r->mode & I8237_MODE_DEC) ? (uint32_t)addr + 1 : 0x10000u - addr;
}

/* Moves or only copies (advance false) up to len bytes. */
static size_t move(struct i8237 *d, unsigned chan, void *buf, size_t len,
		   bool to_memory, bool advance, bool *tc)
{
	const struct i8237_chan *r;
	unsigned unit;
	uint32_t left, done = 0;
	uint16_t addr;

	if (tc)
		*tc = false;
	if (chan >= I8237_CHANNELS || chan == I8237_CASCADE)
		return 0;
	r = chan_regs_c(d, chan);
	unit = unit_of(chan);
	left = (uint32_t)r->count + 1;
	if (len / unit < left)
		left = (uint32_t)(len / unit);
	addr = r->addr;
	/* At most two runs: a block holds 64 Ki units and so does a count. */
	while (left) {
		uint32_t run = run_room(r, addr);
		if (run > left)
			run = left;
		copy_run(d, chan, (uint8_t *)buf + (size_t)done * unit, run, addr, to_memory);
		addr = (r->mode & I8237_MODE_DEC) ? (uint16_t)(addr - run) : (uint16_t)(addr + run);
		done += run;
		left -= run;
	}
	if (advance && done) {
		bool hit = step(d, chan, done);
		if (tc)
			*tc = hit;
	}
	return (size_t)done * unit;
}

size_t i8237_transfer(struct i8237 *d, unsigned chan, void *buf, size_t len,
		      bool to_memory, bool *tc)
{
	return move(d, chan, buf, len, to_memory, true, tc);
}

size_t i8237_peek(struct i8237 *d, unsigned chan, void *buf, size_t len, bool to_memory)
{
	return move(d, chan, buf, len, to_memory, false, NULL);
}

unsigned i8237_segments(const struct i8237 *d, unsigned chan, bool to_memory, size_t len,
			struct i8237_seg *seg, unsigned max, size_t *covered)
{
	const struct i8237_chan *r;
	unsigned unit, n = 0;
	uint32_t left, done = 0;
	uint16_t addr;

	*covered = 0;
	if (chan >= I8237_CHANNELS || chan == I8237_CASCADE)
		return 0;
	r = chan_regs_c(d, chan);
	if ((r->mode & I8237_MODE_DEC) || !moves_memory(r, to_memory))
		return 0;
	unit = unit_of(chan);
	left = (uint32_t)r->count + 1;
	if (len / unit < left)
		left = (uint32_t)(len / unit);
	addr = r->addr;
	while (left && n < max) {
		uint32_t run = 0x10000u - addr;
		if (run > left)
			run = left;
		seg[n].addr = phys_of(d, chan, addr);
		seg[n].len = run * unit;
		n++;
		addr = (uint16_t)(addr + run);
		done += run;
		left -= run;
	}
	*covered = (size_t)done * unit;
	return n;
}

bool i8237_advance(struct i8237 *d, unsigned chan, size_t n, bool to_memory)
{
	const struct i8237_chan *r;
	unsigned unit;
	uint32_t units;
	uint16_t addr;

	if (chan >= I8237_CHANNELS || chan == I8237_CASCADE)
		return false;
	r = chan_regs_c(d, chan);
	unit = unit_of(chan);
	units = (uint32_t)r->count + 1;
	if (n / unit < units)
		units = (uint32_t)(n / unit);
	if (!units)
		return false;
	if (to_memory && moves_memory(r, true) && !(r->mode & I8237_MODE_DEC)) {
		/* What the backend wrote, run by run (it wraps at most once). */
		uint32_t left = units;
		addr = r->addr;
		while (left) {
			uint32_t run = 0x10000u - addr;
			if (run > left)
				run = left;
			dma_wrote(d->dma, phys_of(d, chan, addr), (uint64_t)run * unit);
			addr = (uint16_t)(addr + run);
			left -= run;
		}
	}
	return step(d, chan, units);
}

/* ---- the guest's side ---- */

static void master_clear(struct i8237_chip *c)
{
	c->command = 0;
	c->status = 0;
	c->request = 0;
	c->temp = 0;
	c->flip_flop = false;
	c->mask = 0x0f;
}

void i8237_reset(struct i8237 *d)
{
	for (unsigned i = 0; i < 2; i++) {
		memset(d->chip[i].ch, 0, sizeof(d->chip[i].ch));
		master_clear(&d->chip[i]);
	}
	memset(d->page, 0, sizeof(d->page));
	/* DREQ is the devices' output: a reset of the controller leaves it. */
}

void i8237_init(struct i8237 *d, const struct dma_space *dma)
{
	memset(d, 0, sizeof(*d));
	d->dma = dma;
	i8237_reset(d);
}

static uint8_t reg_read(struct i8237 *d, unsigned chip, unsigned reg)
{
	struct i8237_chip *c = &d->chip[chip];
	uint8_t v;

	if (reg < 8) {
		struct i8237_chan *r = &c->ch[reg >> 1];
		uint16_t w = (reg & 1) ? r->count : r->addr;
		v = c->flip_flop ? (uint8_t)(w >> 8) : (uint8_t)w;
		c->flip_flop = !c->flip_flop;
		return v;
	}
	switch (reg) {
	case REG_STATUS_CMD: {
		uint8_t req = (uint8_t)((d->dreq >> (chip * 4)) & 0x0f) | c->request;
		v = (uint8_t)((c->status & 0x0f) | req << 4);
		c->status &= 0xf0; /* TC bits clear on read */
		return v;
	}
	case REG_TEMP_CLEAR:
		return c->temp;
	case REG_ALL_MASK:
		/* Not on the 8237A itself; chipsets since the PIIX read the
		 * mask here, and the bits read back are the truth anyway. */
		return (uint8_t)(0xf0 | c->mask);
	default:
		return 0xff; /* write-only */
	}
}

static void reg_write(struct i8237 *d, unsigned chip, unsigned reg, uint8_t v)
{
	struct i8237_chip *c = &d->chip[chip];
	uint8_t before = ready_set(d);

	if (reg < 8) {
		struct i8237_chan *r = &c->ch[reg >> 1];
		uint16_t *base = (reg & 1) ? &r->base_count : &r->base_addr;
		uint16_t *cur = (reg & 1) ? &r->count : &r->addr;
		if (c->flip_flop)
			*base = (uint16_t)((*base & 0x00ff) | v << 8);
		else
			*base = (uint16_t)((*base & 0xff00) | v);
		*cur = *base;
		c->flip_flop = !c->flip_flop;
		return;
	}
	switch (reg) {
	case REG_STATUS_CMD:
		c->command = v;
		break;
	case REG_REQUEST:
		if (v & 0x04)
			c->request |= (uint8_t)(1u << (v & 3));
		else
			c->request &= (uint8_t)~(1u << (v & 3));
		break;
	case REG_SINGLE_MASK:
		if (v & 0x04)
			c->mask |= (uint8_t)(1u << (v & 3));
		else
			c->mask &= (uint8_t)~(1u << (v & 3));
		break;
	case REG_MODE:
		c->ch[v & I8237_MODE_CHAN].mode = v & 0xfc;
		break;
	case REG_CLEAR_FF:
		c->flip_flop = false;
		break;
	case REG_TEMP_CLEAR:
		master_clear(c);
		break;
	case REG_CLEAR_MASK:
		c->mask = 0;
		break;
	case REG_ALL_MASK:
		c->mask = v & 0x0f;
		break;
	}
	serve_new(d, before);
}

static uint64_t lo_read(void *opaque, uint64_t off, unsigned size)
{
	return reg_read(opaque, 0, (unsigned)off & 0x0f);
}

static void lo_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	reg_write(opaque, 0, (unsigned)off & 0x0f, (uint8_t)v);
}

static uint64_t hi_read(void *opaque, uint64_t off, unsigned size)
{
	return reg_read(opaque, 1, (unsigned)(off >> 1) & 0x0f);
}

static void hi_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	reg_write(opaque, 1, (unsigned)(off >> 1) & 0x0f, (uint8_t)v);
}

static uint64_t page_read(void *opaque, uint64_t off, unsigned size)
{
	struct i8237 *d = opaque;
	return d->page[(off + 1) & 0x0f];
}

static void page_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct i8237 *d = opaque;
	d->page[(off + 1) & 0x0f] = (uint8_t)v;
}

const struct io_ops i8237_lo_ops = {lo_read, lo_write, IO_SIZE_1, IO_SIZE_1};
const struct io_ops i8237_hi_ops = {hi_read, hi_write, IO_SIZE_1, IO_SIZE_1};
const struct io_ops i8237_page_ops = {page_read, page_write, IO_SIZE_1, IO_SIZE_1};

/* ---- the kind (dev/kind.h) ---- */

#include "dev/kind.h"

static int i8237_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			char *err, size_t n)
{
	int r;
	i8237_init(dev, c->dma);
	r = c->claim(c, DEV_SPACE_PIO, I8237_LO_BASE, I8237_LO_LEN, 0, &i8237_lo_ops, dev);
	if (!r)
		r = c->claim(c, DEV_SPACE_PIO, I8237_HI_BASE, I8237_HI_LEN, 0, &i8237_hi_ops, dev);
	if (!r)
		r = c->claim(c, DEV_SPACE_PIO, I8237_PAGE_BASE, I8237_PAGE_LEN, 0,
			     &i8237_page_ops, dev);
	return r;
}

static void i8237_kind_reset(void *dev)
{
	i8237_reset(dev);
}

DEV_KIND(i8237) = {
	.name = "i8237",
	.help = "two cascaded 8237A ISA DMA controllers (0x00, 0xc0) and page registers",
	.where = DEV_IN_DM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct i8237),
	.create = i8237_create,
	.reset = i8237_kind_reset,
	.state = &i8237_state,
};
