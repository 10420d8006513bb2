/* The decoded-code cache (DESIGN.md, "The emulator"): blocks of straight-line
 * code decoded once, found by guest-physical address and decoding mode, and
 * dropped as soon as their page is written (self-modifying code, a loader
 * overwriting old code, DMA). Blocks live in one arena that is emptied
 * whole when it fills up. */
#include <stdlib.h>

#include "cpu/codecache.h"
#include "cpu/dispatch.h"
#include "cpu/jit.h"

#define HASH_BITS 15
#define PAGE_HASH_BITS 12
#define ARENA_SIZE (32u << 20)
/* Physical pages the code bitmap covers: the 36-bit space of PAE. */
#define BITMAP_PAGES (1ull << 24)

struct code_cache *codecache_create(void)
{
	struct code_cache *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return NULL;
	cc->bitmap_pages = BITMAP_PAGES;
	cc->code_bitmap = calloc(BITMAP_PAGES / 8, 1);
	cc->hash = calloc(1u << HASH_BITS, sizeof(*cc->hash));
	cc->page_hash = calloc(1u << PAGE_HASH_BITS, sizeof(*cc->page_hash));
	cc->arena = aligned_alloc(BLOCK_ALIGN, ARENA_SIZE);
	cc->arena_size = ARENA_SIZE;
	if (!cc->code_bitmap || !cc->hash || !cc->page_hash || !cc->arena) {
		codecache_destroy(cc);
		return NULL;
	}
	return cc;
}

void codecache_destroy(struct code_cache *cc)
{
	if (!cc)
		return;
	free(cc->code_bitmap);
	free(cc->hash);
	free(cc->page_hash);
	free(cc->arena);
	free(cc);
}

void codecache_flush(struct cpu *cpu)
{
	struct code_cache *cc = cpu->cc;
	memset(cc->code_bitmap, 0, cc->bitmap_pages / 8);
	memset(cc->hash, 0, (1u << HASH_BITS) * sizeof(*cc->hash));
	memset(cc->page_hash, 0, (1u << PAGE_HASH_BITS) * sizeof(*cc->page_hash));
	for (unsigned i = 0; i < STRADDLE_SIZE; i++)
		cc->straddle[i].valid = false;
	cc->arena_used = 0;
	jit_reset(cpu->jit);
	jump_cache_clear(cpu);
	memset(cpu->ras, 0, sizeof(cpu->ras));
	/* The running block's records stay readable (the arena is not
	 * freed), but nothing may run after the current instruction. */
	cpu->end_block = true;
}

static unsigned hash_of(uint64_t paddr, uint32_t mode)
{
	uint64_t h = (paddr ^ ((uint64_t)mode << 40)) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> (64 - HASH_BITS));
}

static unsigned page_hash_of(uint64_t ppage)
{
	return (unsigned)(((ppage >> 12) * 0x9e3779b97f4a7c15ull) >>
			  (64 - PAGE_HASH_BITS));
}

bool codecache_page_has_code(struct cpu *cpu, uint64_t ppage)
{
	uint64_t pg = ppage >> 12;
	return pg < cpu->cc->bitmap_pages &&
	       (cpu->cc->code_bitmap[pg >> 3] & (1u << (pg & 7)));
}

/* Takes a dropped block out of its hash chain, so that chains hold live
 * blocks only and lookups stay short however much code is rewritten. */
static void hash_unlink(struct code_cache *cc, struct block *b)
{
	struct block **pp = &cc->hash[hash_of(b->paddr, b->mode)];
	while (*pp) {
		if (*pp == b) {
			*pp = b->hash_next;
			return;
		}
		pp = &(*pp)->hash_next;
	}
}

void codecache_invalidate_page(struct cpu *cpu, uint64_t ppage)
{
	struct code_cache *cc = cpu->cc;
	uint64_t pg = ppage >> 12;
	struct block **pp = &cc->page_hash[page_hash_of(ppage)];

	while (*pp) {
		struct block *b = *pp;
		if ((b->paddr & ~0xfffull) == ppage) {
			b->valid = false;
			hash_unlink(cc, b);
			*pp = b->page_next;
		} else {
			pp = &b->page_next;
		}
	}
	for (unsigned i = 0; i < STRADDLE_SIZE; i++) {
		struct straddle *st = &cc->straddle[i];
		if ((st->paddr & ~0xfffull) == ppage || st->page2 == ppage)
			st->valid = false;
	}
	if (pg < cc->bitmap_pages)
		cc->code_bitmap[pg >> 3] &= (uint8_t)~(1u << (pg & 7));
	if (cpu->cur_code_page == ppage)
		cpu->end_block = true;
}

static uint32_t decode_mode(const struct cpu *cpu)
{
	return codecache_mode(cpu);
}

/* Marks a physical page as holding decoded code: its writes leave the
 * fast path, so the first one drops what was decoded from it. */
static void mark_code_page(struct cpu *cpu, uint64_t ppage)
{
	struct code_cache *cc = cpu->cc;
	uint64_t pg = ppage >> 12;
	if (codecache_page_has_code(cpu, ppage))
		return;
	if (pg < cc->bitmap_pages)
		cc->code_bitmap[pg >> 3] |= (uint8_t)(1u << (pg & 7));
	tlb_drop_writes_to(cpu, ppage);
}

static struct straddle *straddle_slot(struct code_cache *cc, uint64_t paddr)
{
	return &cc->straddle[(paddr ^ (paddr >> 12)) & (STRADDLE_SIZE - 1)];
}

static void *arena_alloc(struct cpu *cpu, size_t n)
{
	struct code_cache *cc = cpu->cc;
	void *p;
	n = (n + BLOCK_ALIGN - 1) & ~(size_t)(BLOCK_ALIGN - 1);
	if (cc->arena_used + n > cc->arena_size || jit_full(cpu->jit))
		codecache_flush(cpu);
	p = cc->arena + cc->arena_used;
	cc->arena_used += n;
	return p;
}

/* Gathers up to 15 bytes at linear `lin` across a page boundary, faulting
 * as the fetch would; used only for an instruction that straddles pages. */
static void fetch_slow(struct cpu *cpu, uint64_t lin, uint8_t *buf,
		       unsigned n)
{
	const uint8_t *host = NULL;
	uint64_t page = ~0ull, ppage = 0;
	/* One translation per page (through the TLB), in byte order, so a
	 * fault is the one the first inaccessible byte raises. */
	for (unsigned i = 0; i < n; i++) {
		uint64_t l = lin + i;
		if ((l & ~0xfffull) != page) {
			page = l & ~0xfffull;
			host = lin_fetch_page(cpu, l, &ppage);
		}
		buf[i] = host ? host[l & 0xfff]
			      : (uint8_t)phys_read(cpu, ppage | (l & 0xfff), 1);
	}
}

/* Linear address of CS:RIP with the code segment's limit check for a
 * fetch of `n` bytes: the first byte beyond the limit is #GP(0). */
static uint64_t fetch_linear(struct cpu *cpu, uint64_t rip, unsigned n)
{
	const struct x86_segment *cs = &cpu->s.seg[S_CS];
	if (!cpu_long64(cpu) && rip + n - 1 > cs->limit)
		cpu_fault(cpu, EXC_GP, 0);
	return cs->base + rip;
}

/* CPU_LOG_IN_ASM: a block just decoded, with the bytes the decoder
 * read. */
static void log_decoded(struct cpu *cpu, uint64_t lin, uint64_t paddr,
			const uint8_t *bytes, unsigned len, unsigned n)
{
	struct cpu_log_block e = {
		.cs = cpu->s.seg[S_CS].selector,
		.rip = cpu->s.rip,
		.pc = lin,
		.paddr = paddr,
		.code_size = cpu->code_size,
		.n_insns = n,
		.bytes = bytes,
		.len = len,
	};
	cpu->log.block(cpu->log.opaque, CPU_LOG_IN_ASM, &e);
}

/* decode_insn(), with the thunk for an instruction without a threaded
 * entry of its own. */
static unsigned decode_one(const struct cpu *cpu, const uint8_t *p,
			   unsigned len, struct insn *in)
{
	unsigned got = decode_insn(cpu, p, len, in);
	if (got && !in->run)
		in->run = (in->flags & INSN_END) ? op_thunk_end : op_thunk;
	return got;
}

/* Keeps a page-straddling instruction just decoded into `in` from RAM
 * (`page` the host page of its first byte, `avail` its bytes there). */
static void straddle_keep(struct cpu *cpu, uint64_t lin, uint64_t paddr,
			  const uint8_t *page, unsigned avail, uint32_t mode,
			  const struct insn *in)
{
	struct straddle *st;
	uint64_t page2;

	/* Cut by the CS limit rather than the page, or not RAM. */
	if (!page || avail != 4096 - (paddr & 0xfff) || in->len <= avail)
		return;
	if (!lin_fetch_page(cpu, lin + avail, &page2))
		return;
	st = straddle_slot(cpu->cc, paddr);
	st->paddr = paddr;
	st->page2 = page2;
	st->mode = mode;
	st->in = *in;
	st->valid = true;
	mark_code_page(cpu, paddr & ~0xfffull);
	mark_code_page(cpu, page2);
}

struct block *codecache_get(struct cpu *cpu, struct insn *single)
{
	struct code_cache *cc = cpu->cc;
	uint64_t rip = cpu->s.rip;
	uint64_t lin = fetch_linear(cpu, rip, 1);
	uint64_t ppage, paddr;
	uint32_t mode = decode_mode(cpu);
	const uint8_t *page;
	struct block *b, **head;
	unsigned off, start_off, h, n = 0;
	uint32_t jmode;
	struct jc_entry *jc;
	uint8_t buf[16];
	uint8_t local[16]; /* bytes fetched from a page without a host page */
	struct insn tmp[BLOCK_MAX_INSNS];

	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	jmode = jc_mode(cpu);
	jc = jc_slot(cpu, lin);
	page = lin_fetch_page(cpu, lin, &ppage);
	off = lin & 0xfff;
	paddr = ppage | off;
	/* The jump cache again, now that the TLB holds the page (a miss in
	 * codecache_lookup() is most often the TLB's): no hash walk. */
	b = jc->b;
	if (b && jc->lin == lin && jc->mode == jmode && b->valid &&
	    b->paddr == paddr)
		goto found;
	/* A page-straddling instruction decoded before: both pages as they
	 * were then (the second translated as fetching it would, faults
	 * included) and within the CS limit. */
	if (off > 4096 - 15 && page) {
		struct straddle *st = straddle_slot(cc, paddr);
		if (st->valid && st->paddr == paddr && st->mode == mode &&
		    (cpu_long64(cpu) ||
		     cpu->s.seg[S_CS].limit - rip >= (uint64_t)st->in.len - 1)) {
			uint64_t page2;
			if (lin_fetch_page(cpu, lin + (4096 - off), &page2) &&
			    page2 == st->page2 && st->valid) {
				*single = st->in;
				return NULL;
			}
		}
	}
	h = hash_of(paddr, mode);
	for (b = cc->hash[h]; b; b = b->hash_next)
		if (b->paddr == paddr && b->mode == mode && b->valid)
			goto found;

	/* Decode a new block: stop at a branch, at the page's end, or at
	 * the code segment limit. */
	start_off = off;
	for (;;) {
		uint64_t cur = rip + (off - start_off);
		unsigned avail = 4096 - off, got;
		const uint8_t *src;
		if (!cpu_long64(cpu)) {
			uint64_t lim = cpu->s.seg[S_CS].limit;
			if (cur > lim)
				break;
			if (lim - cur + 1 < avail)
				avail = (unsigned)(lim - cur + 1);
		}
		if (page) {
			src = page + off;
		} else {
			/* MMIO or ROM without a host page: fetch bytes. */
			unsigned k = avail < 15 ? avail : 15;
			for (unsigned i = 0; i < k; i++)
				local[i] = (uint8_t)phys_read(cpu, ppage + off + i, 1);
			src = local;
			avail = k;
		}
		got = decode_one(cpu, src, avail < 15 ? avail : 15, &tmp[n]);
		if (!got) {
			if (n > 0)
				break;
			/* The first instruction straddles the page or the
			 * limit: fetch it for real (faults are its own). */
			fetch_linear(cpu, rip, 1);
			{
				unsigned lim_n = 15;
				if (!cpu_long64(cpu) &&
				    cpu->s.seg[S_CS].limit - rip + 1 < 15)
					lim_n = (unsigned)(cpu->s.seg[S_CS].limit - rip + 1);
				memset(buf, 0, sizeof(buf));
				fetch_slow(cpu, lin, buf, lim_n);
				if (!decode_one(cpu, buf, lim_n, single)) {
					/* Runs past the limit: #GP. */
					cpu_fault(cpu, EXC_GP, 0);
				}
			}
			straddle_keep(cpu, lin, paddr, page, avail, mode, single);
			if (unlikely(cpu->log_mask & CPU_LOG_IN_ASM))
				log_decoded(cpu, lin, paddr, buf, single->len, 1);
			return NULL;
		}
		tmp[n].off = (uint16_t)(off - start_off);
		n++;
		off += got;
		if ((tmp[n - 1].flags & INSN_END) || off >= 4096 ||
		    n == BLOCK_MAX_INSNS || !page)
			break;
	}

	if (unlikely(cpu->log_mask & CPU_LOG_IN_ASM))
		log_decoded(cpu, lin, paddr, page ? page + start_off : local,
			    off - start_off, n);
	block_drop_dead_flags(tmp, n);
	branch_target_prepare(&tmp[n - 1]);
	/* The chain's tail entry follows the last instruction. */
	b = arena_alloc(cpu, sizeof(*b) + (n + 1) * sizeof(struct insn) +
			       sizeof(struct block_direct));
	b->paddr = paddr;
	b->mode = mode;
	b->n = (uint16_t)n;
	b->valid = true;
	b->link[0] = b->link[1] = NULL;
	b->link_rip[0] = b->link_rip[1] = 0;
	b->far[0] = b->far[1] = (struct far_link){NULL, 0};
	memcpy(b->insns, tmp, n * sizeof(struct insn));
	memset(&b->insns[n], 0, sizeof(struct insn));
	b->insns[n].run = op_block_tail;
	b->insns[n].off = (uint16_t)(off - start_off);
	memset(block_direct(b), 0, sizeof(struct block_direct));
	/* A compare the generated code covers does its Jcc's work there. */
	if (jit_compile_block(cpu, b) < n - 1 && n >= 2)
		insn_fuse_jcc(&b->insns[n - 2], &b->insns[n - 1]);
	b->hash_next = cc->hash[h];
	cc->hash[h] = b;
	head = &cc->page_hash[page_hash_of(ppage)];
	b->page_next = *head;
	*head = b;
	mark_code_page(cpu, ppage);
found:
	cpu->cur_code_page = ppage;
	jc->lin = lin;
	jc->mode = jmode;
	jc->b = b;
	return b;
}
