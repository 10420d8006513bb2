/* The region map: one guest-physical (or port) address space made of
 * regions that can be added, moved, enabled, disabled and removed while
 * the guest runs (PCI BARs, VGA windows, option ROMs, shadowed firmware).
 *
 * A region is RAM (host bytes the guest reads and writes, with optional
 * dirty-page logging), ROM (host bytes the guest only reads; setup writes
 * them through region_rom_write()), an I/O window (a device's io_ops,
 * dev/device.h) or an alias (a window onto part of another region, at an
 * offset: the PC's BIOS at 0xE0000 is an alias of the ROM below 4 GiB).
 * Each has a priority and an enable bit. Where enabled regions overlap,
 * the higher priority wins; enabled regions of equal priority may not
 * overlap (add, move and enable refuse it with -EBUSY).
 *
 * Lookups use the flat view: the enabled regions resolved into a sorted
 * list of non-overlapping ranges, rebuilt by every change, which bumps
 * `generation` and tells the listener. An alias shows its target's
 * contents whatever the target's own base or enable bit.
 *
 * Accesses follow the rules of struct io_ops: an access whose first byte
 * nothing holds is unclaimed whole (reads all-ones at its width, a write
 * is dropped, counted once; it never reaches a region holding one of its
 * other bytes); one that starts in a range but straddles out of it, or
 * uses a size an I/O window does not accept, goes byte by byte; a window
 * sees only the sizes it implements (split or widened). Guest writes to
 * ROM are dropped. */
#ifndef V2E_MEM_REGION_H
#define V2E_MEM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "lib/compiler.h"

#define REGION_PAGE 4096ull

enum region_kind {
	REGION_RAM,
	REGION_ROM,
	REGION_IO,
	REGION_ALIAS,
};

/* What region_add() is given. */
struct region_desc {
	const char *name;          /* kept by pointer: must outlive the region */
	enum region_kind kind;
	uint64_t base, size;
	int priority;
	bool enabled;
	uint8_t *host;             /* RAM, ROM: `size` bytes backing it */
	const struct io_ops *ops;  /* IO */
	void *opaque;              /* IO: the device */
	struct region *target;     /* ALIAS: the region shown (an alias's
				    * alias shows the final target) */
	uint64_t offset;           /* ALIAS: where in the target it starts */
	void *owner;               /* whoever may change it (a device model) */
};

struct region {
	struct region_desc d;      /* base and enabled are kept current */
	struct region_map *map;
	unsigned aliases;          /* aliases showing this region */
	uint64_t *dirty;           /* RAM being logged: a bit per page */
};

/* One range of the flat view: [start, end) answered by `r` (RAM, ROM or
 * IO, aliases resolved) from offset `off` in it; `via` is the region
 * placed there (the alias, or r itself). */
struct region_flat {
	uint64_t start, end;
	uint64_t off;
	struct region *r;
	struct region *via;
};

/* Who caches what the flat view says (the vCPU's TLB and decoded code). */
struct region_listener {
	void *opaque;
	/* The flat view changed over [start, end). */
	void (*changed)(void *opaque, uint64_t start, uint64_t end);
	/* Dirty bits were cleared: write mappings handed out by
	 * region_ram_page() must be taken back, so the next write to each
	 * page asks again (and marks it). */
	void (*revoke_writes)(void *opaque);
	/* An access through region_write() stored into RAM. */
	void (*ram_written)(void *opaque, uint64_t addr, uint64_t len);
};

struct region_map {
	const char *name;          /* "port" or "mmio", for messages */
	uint64_t limit;            /* addresses are below it */
	struct region **reg;
	size_t n_reg, cap_reg;
	struct region_flat *flat;
	size_t n_flat;
	/* A port space (limit <= 64 Ki): 1 + flat index by address, 0 where
	 * nothing is, so finding a port's range is one load. */
	uint32_t *by_port;
	/* A memory space: the range the last lookup found, tried first (a
	 * TLB miss is usually in the RAM range the last one was). */
	const struct region_flat *hint;
	uint64_t generation;
	uint64_t unclaimed_reads, unclaimed_writes;
	struct region_listener listener;
};

/* A port space (limit 0x10000) or a memory space (any larger limit, 0 for
 * the whole 64-bit range). 0 or -ENOMEM. */
int region_map_init(struct region_map *m, const char *name, uint64_t limit) must_check;
void region_map_destroy(struct region_map *m);
void region_map_set_listener(struct region_map *m, const struct region_listener *l);

/* Adds a region (*out, if not NULL, is its handle). 0, or -EINVAL (empty,
 * wrapping or past the limit; RAM, ROM or an alias of them not in whole
 * pages; an alias past its target's end or of a region of another map),
 * -EBUSY (overlaps an enabled region of equal priority: region_overlap()
 * says which), -ENOMEM. */
int region_add(struct region_map *m, const struct region_desc *d,
	       struct region **out) must_check;
/* 0, or -EINVAL / -EBUSY as for region_add(); the region is unchanged
 * when refused. */
int region_move(struct region_map *m, struct region *r, uint64_t base) must_check;
int region_set_enabled(struct region_map *m, struct region *r, bool on) must_check;
/* 0, or -EBUSY while aliases show it. */
int region_remove(struct region_map *m, struct region *r) must_check;

/* A device's register window at priority 0, enabled: what a board
 * claims at setup. 0, or -errno as region_add() (an overlap is logged
 * with the window it hit). */
int region_claim(struct region_map *m, uint64_t base, uint64_t len,
		 const struct io_ops *ops, void *opaque, const char *name) must_check;

/* An enabled region other than `self` of `priority` that [base, base +
 * size) overlaps, or NULL: what a refusal collided with. */
const struct region *region_overlap(const struct region_map *m, uint64_t base,
				    uint64_t size, int priority,
				    const struct region *self);

/* The flat range holding `addr`, or NULL. */
const struct region_flat *region_find(const struct region_map *m, uint64_t addr);

/* A guest access of 1, 2, 4 or 8 bytes, by the rules above. */
uint64_t region_read(struct region_map *m, uint64_t addr, unsigned size);
void region_write(struct region_map *m, uint64_t addr, unsigned size, uint64_t v);

/* Host address of the whole page at `paddr` (page aligned) when it is RAM
 * (or ROM and !write) in one range, else NULL (then accesses go through
 * region_read/region_write). A write mapping of a logged page marks it
 * dirty: a caller may keep the mapping until revoke_writes. */
uint8_t *region_ram_page(struct region_map *m, uint64_t paddr, bool write);

/* Firmware setup writes ROM (or RAM) contents: `len` bytes at offset
 * `off` of region r. 0, or -EINVAL past its end or for a region without
 * bytes. */
int region_rom_write(struct region *r, uint64_t off, const void *src,
		     uint64_t len) must_check;

/* Dirty-page logging of a RAM region: bit n of the bitmap is the region's
 * page n. Start: 0, -EINVAL (not RAM), -ENOMEM; every page starts clean.
 * Fetch copies the bits into `bits` (region size / 4 KiB bits, rounded up
 * to whole words) and clears them: 0, or -EINVAL when not logging. */
int region_log_start(struct region *r) must_check;
void region_log_stop(struct region *r);
int region_dirty_fetch(struct region *r, uint64_t *bits, size_t words) must_check;
/* Someone other than the vCPU wrote guest memory (device DMA): marks the
 * logged RAM pages under [addr, addr + len). */
void region_mark_dirty(struct region_map *m, uint64_t addr, uint64_t len);

#endif
