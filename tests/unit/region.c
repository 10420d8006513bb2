/* The region map: priorities, aliases, enable/disable, move, remove, ROM,
 * dirty-page logging, and the flat view after many random changes
 * compared with a brute-force model of the rules. */
#include "mem/region.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"

#define PG REGION_PAGE

/* A device with 256 bytes of registers, counting calls. */
struct regs {
	uint8_t b[256];
	unsigned calls;
};

static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
	struct regs *r = opaque;
	uint64_t v = 0;
	r->calls++;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)r->b[(off + i) & 0xff] << (8 * i);
	return v;
}

static void regs_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct regs *r = opaque;
	r->calls++;
	for (unsigned i = 0; i < size; i++)
		r->b[(off + i) & 0xff] = (uint8_t)(v >> (8 * i));
}

static const struct io_ops regs_ops = {
	regs_read, regs_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

#define MEM(n, k, b, s, p, e, h) \
	(&(struct region_desc){.name = n, .kind = k, .base = b, .size = s, .priority = p, \
			       .enabled = e, .host = h})
#define IO(n, b, s, p, e, dev) \
	(&(struct region_desc){.name = n, .kind = REGION_IO, .base = b, .size = s, \
			       .priority = p, .enabled = e, .ops = &regs_ops, .opaque = dev})

struct heard {
	unsigned changed, revoked, written;
	uint64_t start, end;
};

static void on_changed(void *opaque, uint64_t start, uint64_t end)
{
	struct heard *h = opaque;
	h->changed++;
	h->start = start;
	h->end = end;
}

static void on_revoke(void *opaque)
{
	((struct heard *)opaque)->revoked++;
}

static void on_written(void *opaque, uint64_t addr, uint64_t len)
{
	((struct heard *)opaque)->written++;
}

static void basics(struct tap *t)
{
	struct region_map m;
	struct region *ram, *io, *rom, *alias, *io2;
	static uint8_t ram_b[16 * PG], rom_b[2 * PG];
	struct regs dev = {{0}, 0};
	struct heard h = {0};
	struct region_listener l = {&h, on_changed, on_revoke, on_written};
	uint64_t gen, bits[1];

	tap_ok(t, region_map_init(&m, "mmio", 0) == 0, "a memory space");
	region_map_set_listener(&m, &l);
	tap_ok(t, region_add(&m, MEM("ram", REGION_RAM, 0, 16 * PG, 0, true, ram_b), &ram) == 0, "RAM");
	tap_ok(t, region_add(&m, MEM("odd", REGION_RAM, 0x100, PG, 0, true, ram_b), NULL) == -EINVAL,
	       "RAM not in whole pages is refused");
	tap_ok(t, region_add(&m, IO("io", 2 * PG + 0x10, 0x20, 0, true, &dev), NULL) == -EBUSY &&
		       region_overlap(&m, 2 * PG + 0x10, 0x20, 0, NULL) == ram,
	       "an equal-priority overlap is refused, naming what it hit");
	tap_ok(t, region_add(&m, IO("io", 2 * PG + 0x10, 0x20, 1, true, &dev), &io) == 0,
	       "a higher-priority window over RAM");
	tap_ok(t, h.changed == 2 && h.start == 2 * PG + 0x10 && h.end == 2 * PG + 0x30,
	       "the listener hears the changed range");
	tap_ok(t, m.n_flat == 3 && m.flat[0].r == ram && m.flat[1].r == io &&
		       m.flat[2].r == ram && m.flat[2].off == 2 * PG + 0x30,
	       "the flat view: RAM, the window, RAM from the right offset");
	tap_ok(t, region_ram_page(&m, PG, true) == ram_b + PG &&
		       region_ram_page(&m, 2 * PG, false) == NULL,
	       "a page a window cuts is not handed out as RAM");
	region_write(&m, 2 * PG + 0x10, 4, 0x11223344);
	region_write(&m, 2 * PG + 0x8, 4, 0xaabbccdd);
	tap_ok(t, dev.b[0] == 0x44 && dev.b[3] == 0x11 && ram_b[2 * PG + 8] == 0xdd &&
		       h.written == 1, "accesses reach the window and the RAM beside it");
	tap_ok(t, region_read(&m, 2 * PG + 0xe, 4) == 0x33440000,
	       "a straddling access goes byte by byte to both");

	gen = m.generation;
	tap_ok(t, region_set_enabled(&m, io, false) == 0 && m.generation == gen + 1 &&
		       m.n_flat == 1 && region_ram_page(&m, 2 * PG, false) == ram_b + 2 * PG,
	       "disabled, the window is gone and RAM is whole again");
	tap_ok(t, region_add(&m, IO("io2", 0x20000, 0x20, 1, false, &dev), &io2) == 0 &&
		       region_find(&m, 0x20000) == NULL,
	       "a window added disabled is not in the view");
	tap_ok(t, region_move(&m, io2, 2 * PG + 0x18) == 0, "a disabled window may move anywhere");
	tap_ok(t, region_set_enabled(&m, io, true) == 0 &&
		       region_set_enabled(&m, io2, true) == -EBUSY && !io2->d.enabled,
	       "enabling onto an equal-priority window is refused");
	tap_ok(t, region_move(&m, io2, 0x20000) == 0 && region_set_enabled(&m, io2, true) == 0 &&
		       region_read(&m, 0x20000, 1) == 0x44,
	       "moved away, it can be enabled");
	h.changed = 0;
	tap_ok(t, region_move(&m, io2, 0x30000) == 0 && h.changed == 1 &&
		       h.start == 0x20000 && h.end == 0x30020,
	       "a move tells the listener about both places");
	dev.calls = 0;
	tap_ok(t, region_read(&m, 0x20000, 4) == 0xffffffff && m.unclaimed_reads == 1 &&
		       region_read(&m, 0x30000, 1) == 0x44 && dev.calls == 1,
	       "after a move the old place reads all-ones, the new one answers");
	tap_ok(t, region_move(&m, io2, 2 * PG + 0x20) == -EBUSY && io2->d.base == 0x30000,
	       "a move onto an equal-priority window is refused and changes nothing");

	/* ROM and its alias below 1 MiB, as the PC's BIOS. */
	tap_ok(t, region_add(&m, MEM("rom", REGION_ROM, 0xfffe0000, 2 * PG, 0, true, rom_b), &rom) == 0 &&
		       region_rom_write(rom, PG, "BIOS", 4) == 0 &&
		       region_rom_write(rom, 2 * PG - 2, "BIOS", 4) == -EINVAL,
	       "ROM written by setup, within bounds only");
	tap_ok(t, region_add(&m, &(struct region_desc){.name = "bios", .kind = REGION_ALIAS, .base = 0xf000, .size = PG,
				       .priority = 2, .enabled = true, .target = rom, .offset = PG}, &alias) == 0,
	       "an alias of the ROM's second page over RAM");
	tap_ok(t, region_add(&m, &(struct region_desc){.name = "bad", .kind = REGION_ALIAS, .base = 0x40000, .size = 2 * PG,
				       .priority = 2, .enabled = true, .target = rom, .offset = PG}, NULL) == -EINVAL,
	       "an alias past its target's end is refused");
	tap_ok(t, region_read(&m, 0xf000, 4) == 0x534f4942 &&
		       region_read(&m, 0xfffe1000, 4) == 0x534f4942 &&
		       region_ram_page(&m, 0xf000, false) == rom_b + PG,
	       "the alias shows the ROM's bytes");
	region_write(&m, 0xf000, 4, 0);
	tap_ok(t, region_read(&m, 0xf000, 4) == 0x534f4942 &&
		       region_ram_page(&m, 0xf000, true) == NULL &&
		       region_ram_page(&m, 0xfffe0000, true) == NULL,
	       "the guest cannot write ROM, directly or through an alias");
	tap_ok(t, region_set_enabled(&m, rom, false) == 0 &&
		       region_read(&m, 0xf000, 4) == 0x534f4942 &&
		       region_find(&m, 0xfffe0000) == NULL,
	       "an alias shows its target even when the target is disabled");
	tap_ok(t, region_remove(&m, rom) == -EBUSY, "a region an alias shows cannot go");
	tap_ok(t, region_remove(&m, alias) == 0 && region_remove(&m, rom) == 0 &&
		       region_find(&m, 0xf000)->r == ram,
	       "without its alias it can; RAM shows through again");

	/* Dirty logging. */
	h.revoked = 0;
	tap_ok(t, region_dirty_fetch(ram, bits, 1) == -EINVAL, "no fetch before logging");
	tap_ok(t, region_log_start(ram) == 0 && h.revoked == 1,
	       "logging starts by taking write mappings back");
	tap_ok(t, region_ram_page(&m, 3 * PG, false) != NULL && region_dirty_fetch(ram, bits, 1) == 0 &&
		       bits[0] == 0, "a read mapping dirties nothing");
	tap_ok(t, region_ram_page(&m, 3 * PG, true) == ram_b + 3 * PG, "a write mapping");
	region_write(&m, 5 * PG + 4, 4, 1);
	region_mark_dirty(&m, 7 * PG - 1, 2);
	region_mark_dirty(&m, 0xfff00000, 0x100000); /* nothing there */
	h.revoked = 0;
	tap_ok(t, region_dirty_fetch(ram, bits, 1) == 0 &&
		       bits[0] == ((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7)) && h.revoked == 1,
	       "a write mapping, a slow-path write and DMA mark their pages; fetch revokes");
	tap_ok(t, region_dirty_fetch(ram, bits, 1) == 0 && bits[0] == 0,
	       "the fetch cleared the bits");
	tap_ok(t, region_add(&m, &(struct region_desc){"ram-alias", REGION_ALIAS, 0x100000, 2 * PG,
						       0, true, .target = ram, .offset = 8 * PG},
			     &alias) == 0 && region_ram_page(&m, 0x101000, true) == ram_b + 9 * PG &&
		       region_dirty_fetch(ram, bits, 1) == 0 && bits[0] == 1u << 9,
	       "writes through an alias of RAM mark the RAM's page");
	region_log_stop(ram);
	tap_ok(t, region_log_start(io) == -EINVAL, "only RAM is logged");
	tap_ok(t, region_remove(&m, alias) == 0 && region_remove(&m, io) == 0 &&
		       region_remove(&m, io2) == 0 && region_remove(&m, ram) == 0 &&
		       m.n_flat == 0 && m.n_reg == 0, "everything removed, the view is empty");
	region_map_destroy(&m);
}

/* ---- random changes against a brute-force model ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

#define MAX_R 48

/* What the model says about address a: the enabled region over it with
 * the highest priority (equal priorities never overlap), or NULL. */
static struct region *model_at(struct region **rs, unsigned n, uint64_t a)
{
	struct region *best = NULL;
	for (unsigned i = 0; i < n; i++) {
		struct region *r = rs[i];
		if (r->d.enabled && a >= r->d.base && a - r->d.base < r->d.size &&
		    (!best || r->d.priority > best->d.priority))
			best = r;
	}
	return best;
}

static bool model_collides(struct region **rs, unsigned n, const struct region *self,
			   uint64_t base, uint64_t size, int prio)
{
	for (unsigned i = 0; i < n; i++)
		if (rs[i] != self && rs[i]->d.enabled && rs[i]->d.priority == prio &&
		    base < rs[i]->d.base + rs[i]->d.size && rs[i]->d.base < base + size)
			return true;
	return false;
}

static bool check_addr(struct region_map *m, struct region **rs, unsigned n, uint64_t a)
{
	struct region *w = model_at(rs, n, a);
	const struct region_flat *f = region_find(m, a);
	uint64_t off;

	if (!w || !f)
		return !w && !f;
	off = a - w->d.base + (w->d.kind == REGION_ALIAS ? w->d.offset : 0);
	return f->via == w && f->r == (w->d.kind == REGION_ALIAS ? w->d.target : w) &&
	       f->off + (a - f->start) == off;
}

/* The view's own shape: sorted, non-empty, non-overlapping, and no two
 * touching ranges of the same placed region. */
static bool view_well_formed(const struct region_map *m)
{
	for (size_t i = 0; i < m->n_flat; i++) {
		const struct region_flat *f = &m->flat[i];
		if (f->start >= f->end)
			return false;
		if (i && (f->start < f[-1].end || (f->start == f[-1].end && f->via == f[-1].via)))
			return false;
	}
	return true;
}

static void random_changes(struct tap *t, const char *name, uint64_t limit, bool ports)
{
	static uint8_t backing[MAX_R][8 * PG];
	struct regs dev = {{0}, 0};
	struct region_map m;
	struct region *rs[MAX_R];
	unsigned n = 0, steps = 3000, bad_shape = 0, bad_addr = 0, bad_result = 0;
	uint64_t space = ports ? 0x400 : 64 * PG, gen;

	if (region_map_init(&m, name, limit) < 0) {
		tap_ok(t, 0, "%s: init", name);
		return;
	}
	for (unsigned s = 0; s < steps; s++) {
		unsigned op = (unsigned)rnd(10), i = n ? (unsigned)rnd(n) : 0;
		int want = 0, got;
		gen = m.generation;
		if (op < 3 || n == 0) {
			struct region_desc d = {.name = "r", .kind = REGION_IO, .priority = (int)rnd(4),
						 .enabled = rnd(4) != 0};
			unsigned kind = ports ? 0 : (unsigned)rnd(4);
			if (n == MAX_R)
				continue;
			if (kind == 0) {
				d.base = rnd(space);
				d.size = 1 + rnd(ports ? 0x40 : 2 * PG);
				d.ops = &regs_ops;
				d.opaque = &dev;
			} else if (kind == 3 && n) {
				struct region *tg = rs[rnd(n)];
				d.kind = REGION_ALIAS;
				d.target = tg;
				if ((tg->d.kind == REGION_ALIAS ? tg->d.target : tg)->d.kind ==
				    REGION_IO) {
					d.offset = rnd(tg->d.size);
					d.size = 1 + rnd(tg->d.size - d.offset);
					d.base = rnd(space);
				} else {
					uint64_t pages = tg->d.size / PG;
					d.offset = rnd(pages) * PG;
					d.size = (1 + rnd(pages - d.offset / PG)) * PG;
					d.base = rnd(space / PG) * PG;
				}
			} else {
				d.kind = kind == 1 ? REGION_RAM : REGION_ROM;
				d.base = rnd(space / PG) * PG;
				d.size = (1 + rnd(8)) * PG;
				d.host = backing[n];
			}
			if (d.base + d.size > space)
				d.base = space - d.size;
			want = d.enabled && model_collides(rs, n, NULL, d.base, d.size, d.priority)
			       ? -EBUSY : 0;
			got = region_add(&m, &d, &rs[n]);
			if (got == 0)
				n++;
		} else if (op < 6) {
			struct region *r = rs[i];
			uint64_t base = r->d.kind == REGION_IO ||
						(r->d.kind == REGION_ALIAS &&
						 r->d.target->d.kind == REGION_IO)
					? rnd(space - r->d.size + 1)
					: rnd((space - r->d.size) / PG + 1) * PG;
			want = r->d.enabled && model_collides(rs, n, r, base, r->d.size,
							      r->d.priority) ? -EBUSY : 0;
			got = region_move(&m, r, base);
		} else if (op < 9) {
			struct region *r = rs[i];
			bool on = !r->d.enabled;
			want = on && model_collides(rs, n, r, r->d.base, r->d.size, r->d.priority)
			       ? -EBUSY : 0;
			got = region_set_enabled(&m, r, on);
		} else {
			want = rs[i]->aliases ? -EBUSY : 0;
			got = region_remove(&m, rs[i]);
			if (got == 0)
				rs[i] = rs[--n];
		}
		if (got != want)
			bad_result++;
		if (got != 0 && m.generation != gen)
			bad_result++;
		if (!view_well_formed(&m))
			bad_shape++;
		for (uint64_t a = rnd(7); a < space + 16; a += space / 512 + 1)
			if (!check_addr(&m, rs, n, a))
				bad_addr++;
		for (unsigned k = 0; k < n; k++) {
			uint64_t b = rs[k]->d.base, e = b + rs[k]->d.size;
			if (!check_addr(&m, rs, n, b) || !check_addr(&m, rs, n, e - 1) ||
			    !check_addr(&m, rs, n, e) || (b && !check_addr(&m, rs, n, b - 1)))
				bad_addr++;
		}
	}
	tap_ok(t, bad_result == 0, "%s: %u random changes refused exactly when the rules say "
	       "(%u wrong)", name, steps, bad_result);
	tap_ok(t, bad_shape == 0, "%s: the flat view stays sorted, disjoint and joined (%u bad)",
	       name, bad_shape);
	tap_ok(t, bad_addr == 0, "%s: every address checked matches the brute-force model "
	       "(%u mismatches)", name, bad_addr);
	region_map_destroy(&m);
}

int main(void)
{
	struct tap t = {0};

	basics(&t);
	random_changes(&t, "mmio", 0, false);
	random_changes(&t, "port", 0x10000, true);
	printf("1..%d\n", t.n);
	return t.failed != 0;
}
