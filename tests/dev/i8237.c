/* The 8237A pair: the byte flip-flop, masks (single, all, clear, set at
 * TC), status (TC bits cleared by a read, request bits from DREQ),
 * master clear, transfers in increment and decrement mode with the data
 * checked in guest RAM, auto-init, verify, the 64 KiB and 128 KiB block
 * wrap, word channels, the segment interface with dma_wrote(), the
 * service callback on unmask, and a seeded random driver under the
 * sanitizers that must never reach outside the test's RAM. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dm/hw/i8237.h"
#include "tests/dev/test_ram.h"
#include "tests/tap.h"

/* Guest RAM: 2 MiB; anything else is refused (and counted). */
#define RAM_SIZE (2u << 20)

/* test_ram first: the DMA space's opaque is this struct. */
struct ram {
	struct test_ram t;
	uint64_t wrote_gpa[8], wrote_len[8];
	unsigned n_wrote;
};

static void ram_wrote(void *opaque, uint64_t gpa, uint64_t n)
{
	struct ram *r = opaque;
	if (r->n_wrote < 8) {
		r->wrote_gpa[r->n_wrote] = gpa;
		r->wrote_len[r->n_wrote] = n;
	}
	r->n_wrote++;
}

struct rig {
	struct ram ram;
	struct dma_space dma;
	struct i8237 d;
	unsigned served;
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->ram.t.mem = calloc(1, RAM_SIZE);
	g->ram.t.size = RAM_SIZE;
	if (!g->ram.t.mem)
		abort();
	g->dma = (struct dma_space){test_ram_read, test_ram_write, &g->ram, ram_wrote};
	i8237_init(&g->d, &g->dma);
}

static void rig_fini(struct rig *g)
{
	free(g->ram.t.mem);
}

/* Port I/O as the guest does it. */
static void out(struct rig *g, unsigned port, uint8_t v)
{
	if (port < 0x10)
		i8237_lo_ops.write(&g->d, port, 1, v);
	else if (port >= 0xc0 && port < 0xe0)
		i8237_hi_ops.write(&g->d, port - 0xc0, 1, v);
	else if (port >= 0x81 && port < 0x90)
		i8237_page_ops.write(&g->d, port - 0x81, 1, v);
	else
		abort();
}

static uint8_t in(struct rig *g, unsigned port)
{
	if (port < 0x10)
		return (uint8_t)i8237_lo_ops.read(&g->d, port, 1);
	if (port >= 0xc0 && port < 0xe0)
		return (uint8_t)i8237_hi_ops.read(&g->d, port - 0xc0, 1);
	if (port >= 0x81 && port < 0x90)
		return (uint8_t)i8237_page_ops.read(&g->d, port - 0x81, 1);
	abort();
}

static const uint8_t page_port[8] = {0x87, 0x83, 0x81, 0x82, 0x8f, 0x8b, 0x89, 0x8a};

/* What SeaBIOS's dma_floppy() does, for any channel: mask, address,
 * count (bytes or words - 1), mode, page, unmask. */
static void program(struct rig *g, unsigned ch, uint32_t addr, uint16_t count, uint8_t mode)
{
	bool hi = ch >= 4;
	unsigned c = ch & 3;
	unsigned base = hi ? 0xc0 : 0x00, step = hi ? 2 : 1;
	uint16_t a = hi ? (uint16_t)(addr >> 1) : (uint16_t)addr;

	out(g, base + 10 * step, (uint8_t)(0x04 | c)); /* mask */
	out(g, base + 12 * step, 0);                   /* flip-flop */
	out(g, base + 2 * c * step, (uint8_t)a);
	out(g, base + 2 * c * step, (uint8_t)(a >> 8));
	out(g, base + 12 * step, 0);
	out(g, base + (2 * c + 1) * step, (uint8_t)count);
	out(g, base + (2 * c + 1) * step, (uint8_t)(count >> 8));
	out(g, base + 11 * step, (uint8_t)(mode | c));
	out(g, page_port[ch], (uint8_t)(addr >> 16));
	out(g, base + 10 * step, (uint8_t)c); /* unmask */
}

/* Firmware's init: master clear both, channel 4 cascade and unmasked. */
static void firmware_init(struct rig *g)
{
	out(g, 0x0d, 0);
	out(g, 0xda, 0);
	out(g, 0xd6, 0xc0);
	out(g, 0xd4, 0x00);
}

static uint16_t read16(struct rig *g, unsigned port)
{
	uint8_t lo = in(g, port), hi = in(g, port);
	return (uint16_t)(lo | hi << 8);
}

static void served(void *opaque)
{
	((struct rig *)opaque)->served++;
}

static void test_registers(struct tap *t)
{
	struct rig g;
	rig_init(&g);
	tap_ok(t, in(&g, 0x0f) == 0xff && in(&g, 0xde) == 0xff,
	       "power-on: every channel masked on both controllers");
	out(&g, 0x0c, 0);
	out(&g, 0x04, 0x34);
	out(&g, 0x04, 0x12);
	out(&g, 0x05, 0xff);
	out(&g, 0x05, 0x01);
	out(&g, 0x0c, 0);
	tap_ok(t, read16(&g, 0x04) == 0x1234 && read16(&g, 0x05) == 0x01ff,
	       "address and count: low byte then high byte, through one flip-flop");
	out(&g, 0x0c, 0);
	(void)in(&g, 0x04); /* low */
	out(&g, 0x04, 0x99); /* the high byte: the flip-flop is shared */
	out(&g, 0x0c, 0);
	tap_ok(t, read16(&g, 0x04) == 0x9934,
	       "the flip-flop is shared by reads and writes of every register");
	out(&g, 0x0c, 0);
	out(&g, 0x04, 0x56);
	out(&g, 0x0c, 0);
	tap_ok(t, read16(&g, 0x04) == 0x9956, "clearing it starts again at the low byte");

	out(&g, 0x0a, 0x02); /* unmask 2 */
	out(&g, 0x0a, 0x04 | 0x01); /* mask 1 (already) */
	tap_ok(t, (in(&g, 0x0f) & 0x0f) == 0x0b, "single mask: clear 2, set 1 -> 1011");
	out(&g, 0x0e, 0);
	tap_ok(t, (in(&g, 0x0f) & 0x0f) == 0, "clear mask register unmasks all");
	out(&g, 0x0f, 0x05);
	tap_ok(t, (in(&g, 0x0f) & 0x0f) == 0x05, "write all mask bits");
	out(&g, 0xc0 + 2 * 0x0a, 0x05 & 0x03); /* unmask 5 */
	tap_ok(t, (in(&g, 0xde) & 0x0f) == 0x0d, "the second controller on even ports");
	out(&g, 0xc0 + 2 * 0x0a + 1, 0x04 | 0x01); /* odd port aliases it */
	tap_ok(t, (in(&g, 0xde) & 0x0f) == 0x0f, "odd ports alias the even ones");

	out(&g, 0x84, 0x5a);
	out(&g, 0x81, 0x12);
	tap_ok(t, in(&g, 0x84) == 0x5a && in(&g, 0x81) == 0x12,
	       "page registers and the unused ones read back");

	out(&g, 0x09, 0x04 | 3); /* software request on 3 */
	i8237_dreq(&g.d, 1, true);
	tap_ok(t, (in(&g, 0x08) & 0xf0) == 0xa0, "status: request bits for DREQ and software");
	i8237_dreq(&g.d, 1, false);
	out(&g, 0x09, 3);
	tap_ok(t, (in(&g, 0x08) & 0xf0) == 0x00, "and cleared with them");

	out(&g, 0x08, 0x04);
	out(&g, 0x0c, 0);
	(void)in(&g, 0x04); /* flip-flop now high */
	out(&g, 0x0d, 0);   /* master clear */
	tap_ok(t, (in(&g, 0x0f) & 0x0f) == 0x0f && in(&g, 0x04) == 0x56,
	       "master clear: all masked, flip-flop cleared (low byte next)");
	tap_ok(t, g.d.chip[0].command == 0 && in(&g, 0x0d) == 0,
	       "command register and temporary register cleared");
	rig_fini(&g);
}

static void test_transfers(struct tap *t)
{
	struct rig g;
	uint8_t buf[0x300], back[0x300];
	bool tc;
	size_t n;

	rig_init(&g);
	firmware_init(&g);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);

	/* Channel 2, device -> memory, 0x200 bytes at 0x23400. */
	program(&g, 2, 0x23400, 0x1ff, 0x44 /* single, increment, write */);
	tap_ok(t, i8237_residue(&g.d, 2) == 0x200, "residue: count + 1 bytes");
	n = i8237_transfer(&g.d, 2, buf, 0x100, true, &tc);
	tap_ok(t, n == 0x100 && !tc && !memcmp(g.ram.t.mem + 0x23400, buf, 0x100) &&
		       read16(&g, 0x04) == 0x3500 && read16(&g, 0x05) == 0x00ff,
	       "half: data in RAM at page:address, address up, count down");
	tap_ok(t, (in(&g, 0x08) & 0x04) == 0, "no TC yet");
	n = i8237_transfer(&g.d, 2, buf + 0x100, 0x200, true, &tc);
	tap_ok(t, n == 0x100 && tc && !memcmp(g.ram.t.mem + 0x23400, buf, 0x200) &&
		       g.ram.t.mem[0x23600] == 0,
	       "the rest stops at TC, not a byte beyond");
	tap_ok(t, (in(&g, 0x0f) & 0x04) && read16(&g, 0x05) == 0xffff,
	       "TC without auto-init masks the channel; the count wrapped to 0xffff");
	tap_ok(t, (in(&g, 0x08) & 0x04) == 0x04 && (in(&g, 0x08) & 0x04) == 0,
	       "status shows TC once: a read clears it");

	/* Memory -> device. */
	program(&g, 2, 0x23400, 0x0ff, 0x48);
	memset(back, 0, sizeof(back));
	n = i8237_transfer(&g.d, 2, back, sizeof(back), false, &tc);
	tap_ok(t, n == 0x100 && tc && !memcmp(back, buf, 0x100), "memory -> device, to TC");

	/* Auto-init: reloads at TC and stays unmasked. */
	program(&g, 1, 0x40000, 0x0f, 0x54 /* auto-init, write */);
	n = i8237_transfer(&g.d, 1, buf, 0x10, true, &tc);
	tap_ok(t, n == 0x10 && tc && !(in(&g, 0x0f) & 0x02) && read16(&g, 0x02) == 0x0000 &&
		       read16(&g, 0x03) == 0x000f,
	       "auto-init: at TC the base registers reload, the channel stays unmasked");
	n = i8237_transfer(&g.d, 1, buf + 0x10, 0x08, true, &tc);
	tap_ok(t, n == 8 && !tc && !memcmp(g.ram.t.mem + 0x40000, buf + 0x10, 8),
	       "and the next transfer starts at the base address again");

	/* Decrement: unit i lands at address - i. */
	program(&g, 3, 0x50100, 0x0f, 0x64 /* decrement, write */);
	n = i8237_transfer(&g.d, 3, buf, 0x10, true, &tc);
	{
		bool ok = n == 0x10 && tc;
		for (unsigned i = 0; i < 0x10; i++)
			ok = ok && g.ram.t.mem[0x50100 - i] == buf[i];
		tap_ok(t, ok && g.ram.t.mem[0x500f0] == 0 && read16(&g, 0x06) == 0x00f0,
		       "decrement: bytes go downwards from the address");
	}
	program(&g, 3, 0x50100, 0x0f, 0x68 /* decrement, read */);
	n = i8237_transfer(&g.d, 3, back, 0x10, false, &tc);
	tap_ok(t, n == 0x10 && !memcmp(back, buf, 0x10), "and come back in the same order");

	/* The block wraps; the page does not carry. */
	memset(g.ram.t.mem + 0x10000, 0, 0x20000);
	program(&g, 2, 0x1fff0, 0x1f, 0x44);
	n = i8237_transfer(&g.d, 2, buf, 0x20, true, &tc);
	tap_ok(t, n == 0x20 && !memcmp(g.ram.t.mem + 0x1fff0, buf, 0x10) &&
		       !memcmp(g.ram.t.mem + 0x10000, buf + 0x10, 0x10) && g.ram.t.mem[0x20000] == 0,
	       "64 KiB wrap: 0x1fff0 + 0x20 goes on at 0x10000, not 0x20000");
	program(&g, 2, 0x1fff0, 0x1f, 0x44);
	{
		struct i8237_seg seg[4];
		size_t covered;
		unsigned ns = i8237_segments(&g.d, 2, true, 0x40, seg, 4, &covered);
		tap_ok(t, ns == 2 && covered == 0x20 && seg[0].addr == 0x1fff0 && seg[0].len == 0x10 &&
			       seg[1].addr == 0x10000 && seg[1].len == 0x10,
		       "segments: the same two ranges, cut at TC");
		tap_ok(t, i8237_segments(&g.d, 2, false, 0x40, seg, 4, &covered) == 0 && covered == 0,
		       "none in the direction the mode does not move");
		ns = i8237_segments(&g.d, 2, true, 0x40, seg, 1, &covered);
		tap_ok(t, ns == 1 && covered == 0x10, "at most `max` ranges, covered says how far");
		g.ram.n_wrote = 0;
		tap_ok(t, i8237_advance(&g.d, 2, 0x20, true) && g.ram.n_wrote == 2 &&
			       g.ram.wrote_gpa[0] == 0x1fff0 && g.ram.wrote_len[0] == 0x10 &&
			       g.ram.wrote_gpa[1] == 0x10000 && g.ram.wrote_len[1] == 0x10,
		       "advance: TC reached, both ranges reported with dma_wrote()");
	}
	program(&g, 2, 0x30000, 0xff, 0x64);
	{
		struct i8237_seg seg[2];
		size_t covered;
		tap_ok(t, i8237_segments(&g.d, 2, true, 0x10, seg, 2, &covered) == 0,
		       "no segments in decrement mode");
	}

	/* Word channel 5: word address and count, 128 KiB block. */
	memset(g.ram.t.mem + 0x20000, 0, 0x20010);
	program(&g, 5, 0x3fffc, 3, 0x44);
	tap_ok(t, read16(&g, 0xc4) == 0xfffe && i8237_residue(&g.d, 5) == 8,
	       "channel 5: the address register holds words; 4 words = 8 bytes");
	n = i8237_transfer(&g.d, 5, buf, 9, true, &tc);
	tap_ok(t, n == 8 && tc && !memcmp(g.ram.t.mem + 0x3fffc, buf, 4) &&
		       !memcmp(g.ram.t.mem + 0x20000, buf + 4, 4) && g.ram.t.mem[0x40000] == 0,
	       "words, wrapping in the 128 KiB block at 0x20000");

	/* Verify and the wrong direction move nothing but count. */
	memset(g.ram.t.mem + 0x60000, 0xee, 0x10);
	program(&g, 2, 0x60000, 0x0f, 0x40 /* verify */);
	n = i8237_transfer(&g.d, 2, buf, 0x10, true, &tc);
	tap_ok(t, n == 0x10 && tc && g.ram.t.mem[0x60000] == 0xee, "verify: counted, RAM untouched");
	program(&g, 2, 0x60000, 0x0f, 0x48 /* read from memory */);
	n = i8237_transfer(&g.d, 2, buf, 0x10, true, &tc);
	tap_ok(t, n == 0x10 && tc && g.ram.t.mem[0x60000] == 0xee,
	       "a device writing while the mode reads memory: nothing written");

	/* Peek leaves the registers. */
	memcpy(g.ram.t.mem + 0x73400, buf, 0x20);
	program(&g, 2, 0x73400, 0x0f, 0x48);
	n = i8237_peek(&g.d, 2, back, 0x20, false);
	tap_ok(t, n == 0x10 && !memcmp(back, buf, 0x10) && read16(&g, 0x04) == 0x3400 &&
		       read16(&g, 0x05) == 0x000f,
	       "peek copies up to TC and leaves address and count");

	/* Not RAM: reads 0xff, writes dropped, no fault. */
	program(&g, 2, 0xff0000, 0x0f, 0x48);
	n = i8237_transfer(&g.d, 2, back, 0x10, false, &tc);
	tap_ok(t, n == 0x10 && back[0] == 0xff && back[15] == 0xff && g.ram.t.refused == 1,
	       "an address outside RAM reads all-ones");
	rig_fini(&g);
}

static void test_service(struct tap *t)
{
	struct rig g;
	rig_init(&g);
	tap_ok(t, i8237_attach(&g.d, 2, served, &g) == 0 &&
		       i8237_attach(&g.d, 2, served, &g.d) == -EBUSY &&
		       i8237_attach(&g.d, 4, served, &g) == -EINVAL &&
		       i8237_attach(&g.d, 8, served, &g) == -EINVAL,
	       "attach: one device per channel, never the cascade");
	i8237_dreq(&g.d, 2, true);
	tap_ok(t, !i8237_ready(&g.d, 2) && g.served == 0, "DREQ on a masked channel: waits");
	out(&g, 0x0a, 0x02);
	tap_ok(t, !i8237_ready(&g.d, 2) && g.served == 0, "unmasked, but the cascade is masked");
	out(&g, 0xd4, 0x00);
	tap_ok(t, i8237_ready(&g.d, 2) && g.served == 1,
	       "unmasking channel 4 makes it ready: the device is called once");
	out(&g, 0x0a, 0x02);
	tap_ok(t, g.served == 1, "no second call while it stays ready");
	out(&g, 0x08, 0x04);
	tap_ok(t, !i8237_ready(&g.d, 2), "command bit 2 disables the controller");
	out(&g, 0x08, 0x00);
	tap_ok(t, g.served == 2, "enabled again: called again");
	out(&g, 0x0b, 0xc2);
	tap_ok(t, !i8237_ready(&g.d, 2), "a channel in cascade mode is never served");
	i8237_dreq(&g.d, 2, false);
	out(&g, 0x0b, 0x46);
	tap_ok(t, !i8237_ready(&g.d, 2) && g.served == 2, "without DREQ nothing is ready");
	rig_fini(&g);
}

/* Random port writes and transfers: the controller never reaches outside
 * its RAM (the fake refuses and counts, ASan watches the buffers). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random(struct tap *t)
{
	struct rig g;
	static uint8_t buf[0x20000];
	size_t moved = 0;

	rig_init(&g);
	for (unsigned step = 0; step < 20000; step++) {
		unsigned what = (unsigned)(rnd() % 8);
		unsigned ch = (unsigned)(rnd() % 9);
		if (what < 4) {
			static const uint16_t ports[] = {0x00, 0x01, 0x04, 0x05, 0x08, 0x09, 0x0a, 0x0b,
							 0x0c, 0x0d, 0x0e, 0x0f, 0xc0, 0xc4, 0xc6,
							 0xd0, 0xd4, 0xd6, 0xd8, 0xda, 0xdc, 0xde,
							 0x81, 0x82, 0x83, 0x87, 0x89, 0x8a, 0x8b};
			unsigned port = ports[rnd() % ARRAY_SIZE(ports)];
			if (rnd() % 3)
				out(&g, port, (uint8_t)rnd());
			else
				(void)in(&g, port);
		} else if (what == 4) {
			i8237_dreq(&g.d, ch, rnd() & 1);
		} else {
			size_t len = (size_t)(rnd() % sizeof(buf));
			bool to_mem = rnd() & 1, tc;
			if (what == 5) {
				moved += i8237_transfer(&g.d, ch, buf, len, to_mem, &tc);
			} else if (what == 6) {
				moved += i8237_peek(&g.d, ch, buf, len, to_mem);
			} else {
				struct i8237_seg seg[4];
				size_t covered;
				unsigned ns = i8237_segments(&g.d, ch, to_mem, len, seg, 4, &covered);
				bool ok = covered <= len;
				for (unsigned i = 0; i < ns; i++)
					ok = ok && seg[i].len && (seg[i].addr & 0xffff) + seg[i].len <=
									 (ch >= 4 ? 0x20000u : 0x10000u);
				if (!ok) {
					tap_ok(t, false, "segment outside its block at step %u", step);
					break;
				}
				(void)i8237_advance(&g.d, ch, covered, to_mem);
			}
		}
	}
	tap_ok(t, true, "20000 random steps: %zu bytes moved, %u accesses outside RAM refused",
	       moved, g.ram.t.refused);
	rig_fini(&g);
}

int main(void)
{
	struct tap t = {0};
	test_registers(&t);
	test_transfers(&t);
	test_service(&t);
	test_random(&t);
	return tap_done(&t);
}
