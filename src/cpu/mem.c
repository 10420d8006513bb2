/* Guest memory as the CPU sees it: paging (2-level with PSE, PAE with NX;
 * SDM vol. 3, chapter 4), the software TLB, accessed/dirty bits, physical
 * accesses to RAM and MMIO, and the hooks that keep decoded code coherent
 * with writes. */
#include <errno.h>

#include "cpu/mem.h"
#include "cpu/mode.h"
#include "cpu/codecache.h"

#define PTE_P 0x001ull
#define PTE_W 0x002ull
#define PTE_U 0x004ull
#define PTE_A 0x020ull
#define PTE_D 0x040ull
#define PTE_PS 0x080ull
#define PTE_G 0x100ull
#define PTE_NX (1ull << 63)

#define PF_P 0x01
#define PF_W 0x02
#define PF_U 0x04
#define PF_RSVD 0x08
#define PF_I 0x10

/* Physical address width reported by CPUID (36 with PAE). */
#define PHYS_ADDR_MASK 0x0000000ffffff000ull

/* ---- physical ---- */

static uint8_t *phys_page(struct cpu *cpu, uint64_t paddr, bool write)
{
	uint64_t page = paddr & ~0xfffull;
	struct phys_cache_entry *c =
		&cpu->phys_cache[write][(page >> 12) & (PHYS_CACHE_SIZE - 1)];
	uint8_t *host;
	if (c->page == page)
		return c->host;
	host = cpu->bus.ram_page(cpu->bus.opaque, page, write);
	if (host) {
		c->page = page;
		c->host = host;
	}
	return host;
}

static uint64_t phys_read_small(struct cpu *cpu, uint64_t paddr, unsigned size)
{
	uint8_t *page;
	paddr &= cpu->a20_mask;
	page = phys_page(cpu, paddr, false);
	if (page)
		return host_load(page + (paddr & 0xfff), size);
	return cpu->bus.mmio_read(cpu->bus.opaque, paddr, size) &
	       size_mask(size);
}

static void phys_write_small(struct cpu *cpu, uint64_t paddr, unsigned size,
			     uint64_t v)
{
	uint8_t *page;
	paddr &= cpu->a20_mask;
	page = phys_page(cpu, paddr, true);
	if (page) {
		codecache_note_write(cpu, paddr, size);
		host_store(page + (paddr & 0xfff), size, v);
		return;
	}
	cpu->bus.mmio_write(cpu->bus.opaque, paddr, size, v & size_mask(size));
}

uint64_t phys_read(struct cpu *cpu, uint64_t paddr, unsigned size)
{
	uint64_t v = 0;
	if (likely((paddr & 0xfff) + size <= 4096))
		return phys_read_small(cpu, paddr, size);
	for (unsigned i = 0; i < size; i++)
		v |= phys_read_small(cpu, paddr + i, 1) << (8 * i);
	return v;
}

void phys_write(struct cpu *cpu, uint64_t paddr, unsigned size, uint64_t v)
{
	if (likely((paddr & 0xfff) + size <= 4096)) {
		phys_write_small(cpu, paddr, size, v);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		phys_write_small(cpu, paddr + i, 1, v >> (8 * i));
}

/* ---- TLB ---- */

/* What the fast path looks up while every data access must take the slow
 * path: no tag matches. */
static const struct tlb_entry tlb_never[TLB_SIZE] = {
	[0 ... TLB_SIZE - 1] = { .tag = TLB_INVALID },
};

void tlb_select(struct cpu *cpu)
{
	for (int k = 0; k < 3; k++)
		cpu->tlb_data[k] = cpu->mem_checks ? tlb_never
						   : cpu->tlb[cpu->cpl == 3][k];
}

#define TLB_ENTRIES (2 * 3 * TLB_SIZE)

/* The 4 MiB region of `lin` in tlb_large_regions: word and bit. */
static inline unsigned large_region(uint64_t lin)
{
	return (unsigned)(lin >> 22) & 1023;
}

/* Notes a filled entry for tlb_flush(), and where its large page lies
 * for tlb_flush_page(). */
static inline void tlb_note_fill(struct cpu *cpu, const struct tlb_entry *e,
				 const struct tlb_meta *m)
{
	if (m->large_mask) {
		unsigned r = large_region(e->tag);
		cpu->tlb_large_regions[r / 64] |= 1ull << (r % 64);
		if (m->large_mask > 0x3fffff)
			cpu->tlb_large_huge = true;
	}
	if (cpu->tlb_filled_n < TLB_FILLED_MAX)
		cpu->tlb_filled[cpu->tlb_filled_n] =
			(uint16_t)(e - &cpu->tlb[0][0][0]);
	if (cpu->tlb_filled_n <= TLB_FILLED_MAX)
		cpu->tlb_filled_n++;
}

void tlb_flush(struct cpu *cpu, bool include_global)
{
	struct tlb_entry *e = &cpu->tlb[0][0][0];
	const struct tlb_meta *m = &cpu->tlb_meta[0][0][0];
	uint64_t *vt = &cpu->tlb_victim_tag[0][0][0];
	const struct tlb_victim *v = &cpu->tlb_victim[0][0][0];
	for (int w = 0; w < 2; w++)
		for (unsigned i = 0; i < PHYS_CACHE_SIZE; i++)
			cpu->phys_cache[w][i].page = TLB_INVALID;
	/* A valid non-global entry was filled since the last flush that
	 * dropped them: the list holds it unless it overflowed. */
	if (include_global || cpu->tlb_filled_n > TLB_FILLED_MAX) {
		for (unsigned i = 0; i < TLB_ENTRIES; i++)
			if (include_global || !m[i].global)
				e[i].tag = TLB_INVALID;
	} else {
		for (unsigned i = 0; i < cpu->tlb_filled_n; i++)
			if (!m[cpu->tlb_filled[i]].global)
				e[cpu->tlb_filled[i]].tag = TLB_INVALID;
	}
	cpu->tlb_filled_n = 0;
	if (include_global) {
		memset(cpu->tlb_large_regions, 0, sizeof(cpu->tlb_large_regions));
		cpu->tlb_large_huge = false;
	}
	for (unsigned i = 0; i < 2 * 3; i++, v += TLB_VICTIMS, vt += TLB_VICTIMS)
		for (unsigned j = 0; j < TLB_VICTIMS; j++)
			if (include_global || !v[j].meta.global)
				vt[j] = TLB_INVALID;
}

void tlb_flush_page(struct cpu *cpu, uint64_t lin)
{
	struct tlb_entry *e = &cpu->tlb[0][0][0];
	const struct tlb_meta *m = &cpu->tlb_meta[0][0][0];
	uint64_t page = lin & ~0xfffull;
	unsigned r = large_region(lin);
	/* A large page may be cached under any of its 4 KiB parts: drop
	 * every entry whose tag lies inside the large page too, where one
	 * may be; elsewhere only the page's own slots can hold it. */
	if (!cpu->tlb_large_huge &&
	    !(cpu->tlb_large_regions[r / 64] & (1ull << (r % 64)))) {
		for (int u = 0; u < 2; u++)
			for (int k = 0; k < 3; k++) {
				struct tlb_entry *own = tlb_entry_for(cpu, lin, k, u);
				if (own->tag == page)
					own->tag = TLB_INVALID;
			}
	} else {
		for (unsigned i = 0; i < TLB_ENTRIES; i++) {
			uint64_t tag = e[i].tag;
			if (tag == TLB_INVALID)
				continue;
			if (tag == page ||
			    (tag & ~m[i].large_mask) == (page & ~m[i].large_mask))
				e[i].tag = TLB_INVALID;
		}
	}
	for (int u = 0; u < 2; u++)
		for (int k = 0; k < 3; k++)
			for (unsigned i = 0; i < TLB_VICTIMS; i++) {
				uint64_t *vt = &cpu->tlb_victim_tag[u][k][i];
				uint64_t mask = ~cpu->tlb_victim[u][k][i].meta.large_mask;
				if (*vt != TLB_INVALID && (*vt & mask) == (page & mask))
					*vt = TLB_INVALID;
			}
}

void tlb_drop_writes_to(struct cpu *cpu, uint64_t paddr_page)
{
	for (int u = 0; u < 2; u++)
		for (unsigned i = 0; i < TLB_SIZE; i++)
			if (cpu->tlb_meta[u][ACC_WRITE][i].paddr == paddr_page)
				cpu->tlb[u][ACC_WRITE][i].tag = TLB_INVALID;
	for (int u = 0; u < 2; u++)
		for (unsigned i = 0; i < TLB_VICTIMS; i++)
			if (cpu->tlb_victim[u][ACC_WRITE][i].meta.paddr == paddr_page)
				cpu->tlb_victim_tag[u][ACC_WRITE][i] = TLB_INVALID;
}

/* ---- page walk ---- */

struct walk {
	uint64_t paddr;    /* physical address of the byte */
	bool writable;     /* for the privilege walked */
	bool executable;
	bool dirty;        /* final entry has D set */
	bool global;
	uint64_t large_mask; /* offset mask of a large page, 0 for 4 KiB */
};

static __attribute__((noreturn)) void page_fault(struct cpu *cpu,
						 uint64_t lin, uint32_t err)
{
	cpu->s.cr2 = lin;
	cpu_fault(cpu, EXC_PF, err);
}

static void set_bits(struct cpu *cpu, bool debug, uint64_t pte_addr,
		     uint64_t *pte, uint64_t bits, unsigned size)
{
	if (!debug && (*pte & bits) != bits) {
		*pte |= bits;
		phys_write(cpu, pte_addr, size, *pte);
	}
}

/* A failed walk: #GP (a non-canonical address) or #PF with its error. */
#define WALK_GP 0x10000u
#define WALK_PF 0x20000u

/* A page-table entry. A debugger's walk (`debug`) reads RAM only: an
 * entry outside it reads as not present, so no device sees the read. */
static uint64_t pte_read(struct cpu *cpu, uint64_t paddr, unsigned size,
			 bool debug)
{
	const uint8_t *page;
	if (!debug)
		return phys_read(cpu, paddr, size);
	paddr &= cpu->a20_mask;
	page = phys_page(cpu, paddr, false);
	return page ? host_load(page + (paddr & 0xfff), size) : 0;
}

/* Walks the page tables for `lin`. Returns 0, or WALK_GP or WALK_PF with
 * the SDM's #PF error code. The CPU's walk sets A (and D for writes); a
 * debugger's (`debug`) changes nothing. */
static uint32_t walk_tables(struct cpu *cpu, uint64_t lin, enum access_kind k,
			    bool user, struct walk *w, bool debug)
{
	bool write = k == ACC_WRITE;
	bool wp = (cpu->s.cr0 & CR0_WP) != 0;
	bool nxe = (cpu->s.efer & EFER_NXE) != 0;
	uint32_t err = (write ? PF_W : 0) | (user ? PF_U : 0);
	bool rw = true, us = true, nx = false;
	uint64_t pte, pte_addr, paddr;
	unsigned esize;

	if (cpu->s.efer & EFER_LMA) {
		/* IA-32e paging (SDM vol. 3, 4.5): four levels, 1 GiB pages
		 * in the PDPT and 2 MiB pages in the PD; addresses whose
		 * bits 63:47 are not a sign extension fault with #GP. */
		uint64_t rsvd = 0x000ffff000000000ull | (nxe ? 0 : PTE_NX);
		uint64_t table = cpu->s.cr3 & PHYS_ADDR_MASK;
		if ((uint64_t)((int64_t)(lin << 16) >> 16) != lin)
			return WALK_GP;
		if (nxe)
			err |= k == ACC_EXEC ? PF_I : 0;
		esize = 8;
		for (unsigned level = 3;; level--) {
			unsigned shift = 12 + 9 * level;
			uint64_t off = ((uint64_t)1 << shift) - 1;
			pte_addr = table + ((lin >> shift) & 0x1ff) * 8;
			pte = pte_read(cpu, pte_addr, 8, debug);
			if (!(pte & PTE_P))
				return WALK_PF | err;
			if ((pte & rsvd) || (level == 3 && (pte & PTE_PS)))
				return WALK_PF | err | PF_P | PF_RSVD;
			rw &= (pte & PTE_W) != 0;
			us &= (pte & PTE_U) != 0;
			nx |= nxe && (pte & PTE_NX);
			if (level == 0 || (pte & PTE_PS)) {
				/* Bit 12 of a large page is PAT; the bits up
				 * to the page size are reserved. */
				if (level && (pte & off & ~0x1fffull))
					return WALK_PF | err | PF_P | PF_RSVD;
				paddr = (pte & PHYS_ADDR_MASK & ~off) |
					(lin & off);
				w->large_mask = level ? off : 0;
				break;
			}
			set_bits(cpu, debug, pte_addr, &pte, PTE_A, 8);
			table = pte & PHYS_ADDR_MASK;
		}
	} else if (cpu->s.cr4 & CR4_PAE) {
		uint64_t pdpte, pde, pde_addr;
		/* Bits 36-62 are above the physical width; bit 63 is
		 * reserved unless EFER.NXE makes it NX. */
		uint64_t rsvd = 0x7ffffff000000000ull | (nxe ? 0 : PTE_NX);
		lin &= 0xffffffffull;
		if (nxe)
			err |= k == ACC_EXEC ? PF_I : 0;
		esize = 8;
		pdpte = pte_read(cpu, (cpu->s.cr3 & 0xffffffe0ull) +
					       ((lin >> 30) & 3) * 8, 8, debug);
		if (!(pdpte & PTE_P))
			return WALK_PF | err;
		if (pdpte & (0x1e6ull | rsvd | PTE_NX))
			return WALK_PF | err | PF_P | PF_RSVD;
		pde_addr = (pdpte & PHYS_ADDR_MASK) + ((lin >> 21) & 0x1ff) * 8;
		pde = pte_read(cpu, pde_addr, 8, debug);
		if (!(pde & PTE_P))
			return WALK_PF | err;
		if (pde & rsvd)
			return WALK_PF | err | PF_P | PF_RSVD;
		rw &= (pde & PTE_W) != 0;
		us &= (pde & PTE_U) != 0;
		nx |= nxe && (pde & PTE_NX);
		if (pde & PTE_PS) {
			if (pde & 0x1fe000ull)
				return WALK_PF | err | PF_P | PF_RSVD;
			pte = pde;
			pte_addr = pde_addr;
			paddr = (pde & PHYS_ADDR_MASK & ~0x1fffffull) |
				(lin & 0x1fffff);
			w->large_mask = 0x1fffff;
		} else {
			set_bits(cpu, debug, pde_addr, &pde, PTE_A, 8);
			pte_addr = (pde & PHYS_ADDR_MASK) +
				   ((lin >> 12) & 0x1ff) * 8;
			pte = pte_read(cpu, pte_addr, 8, debug);
			if (!(pte & PTE_P))
				return WALK_PF | err;
			if (pte & rsvd)
				return WALK_PF | err | PF_P | PF_RSVD;
			rw &= (pte & PTE_W) != 0;
			us &= (pte & PTE_U) != 0;
			nx |= nxe && (pte & PTE_NX);
			paddr = (pte & PHYS_ADDR_MASK) | (lin & 0xfff);
			w->large_mask = 0;
		}
	} else {
		uint64_t pde, pde_addr;
		lin &= 0xffffffffull;
		esize = 4;
		pde_addr = (cpu->s.cr3 & 0xfffff000ull) + ((lin >> 22) & 0x3ff) * 4;
		pde = pte_read(cpu, pde_addr, 4, debug);
		if (!(pde & PTE_P))
			return WALK_PF | err;
		rw &= (pde & PTE_W) != 0;
		us &= (pde & PTE_U) != 0;
		if ((pde & PTE_PS) && (cpu->s.cr4 & CR4_PSE)) {
			pte = pde;
			pte_addr = pde_addr;
			/* PSE-36: bits 13-16 give physical bits 32-35. */
			paddr = (pde & 0xffc00000ull) |
				((pde >> 13) & 0xfull) << 32 | (lin & 0x3fffff);
			w->large_mask = 0x3fffff;
		} else {
			set_bits(cpu, debug, pde_addr, &pde, PTE_A, 4);
			pte_addr = (pde & 0xfffff000ull) + ((lin >> 12) & 0x3ff) * 4;
			pte = pte_read(cpu, pte_addr, 4, debug);
			if (!(pte & PTE_P))
				return WALK_PF | err;
			rw &= (pte & PTE_W) != 0;
			us &= (pte & PTE_U) != 0;
			paddr = (pte & 0xfffff000ull) | (lin & 0xfff);
			w->large_mask = 0;
		}
	}

	w->writable = user ? (rw && us) : (rw || !wp);
	w->executable = !nx && (!user || us);
	if (user && !us)
		return WALK_PF | err | PF_P;
	if (write && !w->writable)
		return WALK_PF | err | PF_P;
	if (k == ACC_EXEC && nx)
		return WALK_PF | err | PF_P;

	set_bits(cpu, debug, pte_addr, &pte, write ? PTE_A | PTE_D : PTE_A, esize);
	w->dirty = (pte & PTE_D) != 0;
	w->global = (pte & PTE_G) && (cpu->s.cr4 & CR4_PGE);
	w->paddr = paddr;
	return 0;
}

/* The CPU's walk: a violation raises the fault. */
static void page_walk(struct cpu *cpu, uint64_t lin, enum access_kind k,
		      bool user, struct walk *w)
{
	uint32_t r = walk_tables(cpu, lin, k, user, w, false);
	if (r & WALK_GP)
		cpu_fault(cpu, EXC_GP, 0);
	if (r)
		page_fault(cpu, (cpu->s.efer & EFER_LMA) ? lin : lin & 0xffffffffull,
			   r & 0xffff);
}

/* The victims' slot for linear page `page`: bits above the TLB's index
 * folded in, so that pages sharing a TLB slot get different ones. */
static unsigned victim_slot(uint64_t page)
{
	uint64_t pn = page >> 12;
	return (unsigned)((pn ^ (pn >> 5) ^ (pn >> 8) ^ (pn >> 11)) &
			  (TLB_VICTIMS - 1));
}

/* Keeps a translation among the victims of table [user][k], over what
 * its slot held. */
static void victim_put(struct cpu *cpu, enum access_kind k, bool user,
		       uint64_t tag, uintptr_t addend,
		       const struct tlb_meta *meta, bool fast)
{
	unsigned i = victim_slot(tag);
	struct tlb_victim *v = &cpu->tlb_victim[user][k][i];
	cpu->tlb_victim_tag[user][k][i] = tag;
	v->addend = addend;
	v->meta = *meta;
	v->fast = fast;
}

/* A miss that a victim answers: a RAM entry trades places with the one
 * the TLB holds at its index; an MMIO one only gives the address. True
 * with *paddr set when found. */
static bool victim_take(struct cpu *cpu, uint64_t lin, enum access_kind k,
			bool user, uint64_t *paddr)
{
	uint64_t page = lin & ~0xfffull;
	unsigned i = victim_slot(page);
	struct tlb_victim *v = &cpu->tlb_victim[user][k][i];
	struct tlb_entry *e, old_e;
	struct tlb_meta *m, old_m;

	if (cpu->tlb_victim_tag[user][k][i] != page)
		return false;
	*paddr = v->meta.paddr | (lin & 0xfff);
	if (!v->fast)
		return true;
	e = tlb_entry_for(cpu, lin, k, user);
	m = tlb_meta_for(cpu, lin, k, user);
	old_e = *e;
	old_m = *m;
	e->addend = v->addend;
	*m = v->meta;
	e->tag = page;
	tlb_note_fill(cpu, e, m);
	/* The entry it displaces goes to its own slot. */
	cpu->tlb_victim_tag[user][k][i] = TLB_INVALID;
	if (old_e.tag != TLB_INVALID)
		victim_put(cpu, k, user, old_e.tag, old_e.addend, &old_m, true);
	return true;
}

bool tlb_refill(struct cpu *cpu, uint64_t lin, enum access_kind k, bool user)
{
	uint64_t pa;
	if (!(cpu->s.cr0 & CR0_PG) || !victim_take(cpu, lin, k, user, &pa))
		return false;
	return tlb_entry_for(cpu, lin, k, user)->tag == (lin & ~0xfffull);
}

#define NO_TRANSLATION UINT64_MAX

/* Translates and, when the page is RAM the access may use directly, fills
 * the TLB entry of that access kind; the entry it replaces becomes a
 * victim. With `probe`, a translation that needs a page walk is not
 * made (NO_TRANSLATION): nothing that could fault, and no A or D bit
 * set where the interpreter's full path would set them in another
 * order. */
static inline __attribute__((always_inline)) uint64_t translate_fill_as(
	struct cpu *cpu, uint64_t lin, enum access_kind k, bool user, bool probe)
{
	struct walk w;
	struct tlb_entry *e;
	struct tlb_meta *m;
	uint64_t ppage, pa;
	uint8_t *host;

	e = tlb_entry_for(cpu, lin, k, user);
	m = tlb_meta_for(cpu, lin, k, user);
	/* The slow paths (descriptor-table reads, MMIO neighbours, generic
	 * handlers) come here too: what the TLB holds needs no walk. */
	if (e->tag == (lin & ~0xfffull))
		return m->paddr | (lin & 0xfff);
	if (cpu->s.cr0 & CR0_PG) {
		if (victim_take(cpu, lin, k, user, &pa))
			return pa;
		if (probe)
			return NO_TRANSLATION;
		page_walk(cpu, lin, k, user, &w);
	} else {
		w.paddr = lin & 0xffffffffull;
		w.writable = w.executable = w.dirty = true;
		w.global = false;
		w.large_mask = 0;
	}
	w.paddr &= cpu->a20_mask;
	ppage = w.paddr & ~0xfffull;

	if (k == ACC_WRITE && codecache_page_has_code(cpu, ppage)) {
		e->tag = TLB_INVALID;
		return w.paddr | (lin & 0xfff);
	}
	host = phys_page(cpu, ppage, k == ACC_WRITE);
	if (!host) {
		/* MMIO: the entry at this index stays (unless it is this
		 * page's, now stale); the translation is a victim. */
		if (e->tag == (lin & ~0xfffull))
			e->tag = TLB_INVALID;
		if (cpu->s.cr0 & CR0_PG) {
			struct tlb_meta nm = {ppage, w.large_mask, w.global};
			victim_put(cpu, k, user, lin & ~0xfffull, 0, &nm, false);
		}
		return w.paddr | (lin & 0xfff);
	}
	if ((cpu->s.cr0 & CR0_PG) && e->tag != TLB_INVALID &&
	    e->tag != (lin & ~0xfffull))
		victim_put(cpu, k, user, e->tag, e->addend, m, true);
	e->tag = TLB_INVALID;
	{
		e->addend = (uintptr_t)host - (lin & ~0xfffull);
		m->paddr = ppage;
		m->global = w.global;
		m->large_mask = w.large_mask;
		e->tag = lin & ~0xfffull;
		tlb_note_fill(cpu, e, m);
	}
	return w.paddr | (lin & 0xfff);
}

static uint64_t translate_fill(struct cpu *cpu, uint64_t lin,
			       enum access_kind k, bool user)
{
	return translate_fill_as(cpu, lin, k, user, false);
}

bool tlb_refill_fast(struct cpu *cpu, uint64_t lin, unsigned kind, unsigned size)
{
	bool user = cpu->cpl == 3, rmw = kind == TLB_REFILL_RMW;
	enum access_kind k = rmw ? ACC_WRITE : (enum access_kind)kind;
	uint64_t pa;
	uint8_t *host;
	/* An offset plus base past 4 GiB must wrap: the interpreter's. */
	if ((lin & 0xfff) + size > 0x1000 || lin > cpu->lin_mask)
		return false;
	pa = translate_fill_as(cpu, lin, k, user, true);
	if (pa == NO_TRANSLATION)
		return false;
	/* The generated code reads through the write's entry: only where
	 * the read's translation, taken as the interpreter takes it, goes
	 * to the same place (a table changed without INVLPG may leave a
	 * stale one). */
	if (rmw && translate_fill_as(cpu, lin, ACC_READ, user, true) != pa)
		return false;
	return tlb_fast(cpu, lin, size, (int)k, &host);
}

uint64_t lin_translate(struct cpu *cpu, uint64_t lin, enum access_kind k,
		       bool user)
{
	return translate_fill(cpu, lin, k, user);
}

static void check_canonical_page_split(struct cpu *cpu, uint64_t lin,
				       unsigned size, enum access_kind k,
				       bool user, uint64_t *p1, uint64_t *p2,
				       unsigned *n1)
{
	unsigned first = 4096 - (lin & 0xfff);
	*n1 = first < size ? first : size;
	*p1 = translate_fill(cpu, lin, k, user);
	*p2 = *n1 < size ? translate_fill(cpu, lin + *n1, k, user) : 0;
}

/* #AC for a misaligned CPL 3 data access (a fault, before any byte moves),
 * then data breakpoints (traps, noted for after the instruction). */
static void mem_checks_slow(struct cpu *cpu, uint64_t lin, unsigned size,
			    bool write, bool user)
{
	if ((cpu->mem_checks & MEMCHK_AC) && user && (lin & (size - 1)))
		cpu_fault(cpu, EXC_AC, 0);
	if (cpu->mem_checks & MEMCHK_DR)
		dr_check_data(cpu, lin, size, write);
	if (cpu->mem_checks & MEMCHK_GDB)
		cpu_debug_check_data(cpu, lin, size, write);
}

uint64_t lin_read(struct cpu *cpu, uint64_t lin, unsigned size, bool user)
{
	uint64_t p1, p2, v = 0;
	unsigned n1;
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	if (unlikely(cpu->mem_checks))
		mem_checks_slow(cpu, lin, size, false, user);
	check_canonical_page_split(cpu, lin, size, ACC_READ, user, &p1, &p2, &n1);
	if (n1 == size)
		return phys_read(cpu, p1, size);
	for (unsigned i = 0; i < size; i++)
		v |= phys_read(cpu, i < n1 ? p1 + i : p2 + (i - n1), 1) << (8 * i);
	return v;
}

void lin_write(struct cpu *cpu, uint64_t lin, unsigned size, uint64_t v,
	       bool user)
{
	uint64_t p1, p2;
	unsigned n1;
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	if (unlikely(cpu->mem_checks))
		mem_checks_slow(cpu, lin, size, true, user);
	/* Both pages are translated before any byte is written, so a fault
	 * on the second page leaves the first untouched. */
	check_canonical_page_split(cpu, lin, size, ACC_WRITE, user, &p1, &p2, &n1);
	if (n1 == size) {
		phys_write(cpu, p1, size, v);
		return;
	}
	for (unsigned i = 0; i < size; i++)
		phys_write(cpu, i < n1 ? p1 + i : p2 + (i - n1), 1, v >> (8 * i));
}

uint64_t mem_read_slow(struct cpu *cpu, int sreg, uint64_t off, unsigned size)
{
	uint64_t lin = seg_linear(cpu, sreg, off, size, false);
	return lin_read(cpu, lin, size, cpu->cpl == 3);
}

void mem_write_slow(struct cpu *cpu, int sreg, uint64_t off, unsigned size,
		    uint64_t v)
{
	uint64_t lin = seg_linear(cpu, sreg, off, size, true);
	lin_write(cpu, lin, size, v, cpu->cpl == 3);
}

void mem_probe_write(struct cpu *cpu, int sreg, uint64_t off, unsigned size)
{
	uint64_t lin, p1, p2;
	unsigned n1;
	uint8_t *host;
	/* A write the fast path would take cannot fault. */
	if (mem_fast(cpu, sreg, off, size, ACC_WRITE, &host))
		return;
	lin = seg_linear(cpu, sreg, off, size, true);
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	check_canonical_page_split(cpu, lin, size, ACC_WRITE, cpu->cpl == 3,
				   &p1, &p2, &n1);
}

const uint8_t *lin_fetch_page(struct cpu *cpu, uint64_t lin, uint64_t *paddr)
{
	const struct tlb_entry *e;
	bool user = cpu->cpl == 3;
	uint64_t pa;
	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	e = tlb_entry_for(cpu, lin, ACC_EXEC, user);
	if (e->tag == (lin & ~0xfffull)) {
		*paddr = tlb_meta_for(cpu, lin, ACC_EXEC, user)->paddr;
		return (const uint8_t *)(uintptr_t)((lin & ~0xfffull) + e->addend);
	}
	pa = translate_fill(cpu, lin, ACC_EXEC, user);
	*paddr = pa & ~0xfffull;
	if (e->tag != (lin & ~0xfffull))
		return NULL; /* not RAM: the caller fetches through phys_read */
	return (const uint8_t *)(uintptr_t)((lin & ~0xfffull) + e->addend);
}

/* ---- a debugger's accesses (cpu.h) ---- */

int cpu_debug_translate(struct cpu *cpu, uint64_t lin, uint64_t *paddr)
{
	struct walk w;

	if (!cpu_long64(cpu))
		lin &= 0xffffffffull;
	if (cpu->s.cr0 & CR0_PG) {
		/* A supervisor read: the debugger may look at any mapped
		 * page, whatever its protection. */
		if (walk_tables(cpu, lin, ACC_READ, false, &w, true))
			return -EFAULT;
	} else {
		w.paddr = lin & 0xffffffffull;
	}
	*paddr = w.paddr & cpu->a20_mask;
	return 0;
}

int cpu_debug_rw(struct cpu *cpu, uint64_t lin, void *buf, size_t len,
		 bool write)
{
	uint8_t *p = buf;

	while (len) {
		size_t n = 4096 - (lin & 0xfff);
		uint64_t pa;
		uint8_t *host;

		if (n > len)
			n = len;
		if (cpu_debug_translate(cpu, lin, &pa) < 0)
			return -EFAULT;
		/* RAM only (ROM is not written): a device never sees a
		 * debugger's access. */
		host = phys_page(cpu, pa, write);
		if (!host)
			return -EFAULT;
		if (write) {
			memcpy(host + (pa & 0xfff), p, n);
			cpu_invalidate_code(cpu, pa, n);
		} else {
			memcpy(p, host + (pa & 0xfff), n);
		}
		p += n;
		lin += n;
		len -= n;
	}
	return 0;
}
