/* Register-window dispatch (see iospace.h): a sorted array searched by
 * binary search, and the size rules of struct io_ops. */
#include "dev/iospace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

void iospace_init(struct iospace *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
}

void iospace_destroy(struct iospace *s)
{
	free(s->win);
	s->win = NULL;
	s->n = s->cap = 0;
}

/* Index of the first window whose end is above addr. */
static size_t lower_bound(const struct iospace *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->win[mid].base + s->win[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct io_window *iospace_find(const struct iospace *s, uint64_t addr)
{
	size_t i = lower_bound(s, addr);
	if (i < s->n && s->win[i].base <= addr)
		return &s->win[i];
	return NULL;
}

int iospace_claim(struct iospace *s, uint64_t base, uint64_t len,
		  const struct io_ops *ops, void *opaque, const char *name)
{
	size_t i;
	if (len == 0 || base + len < base)
		return -EINVAL;
	i = lower_bound(s, base);
	if (i < s->n && s->win[i].base < base + len) {
		log_error("%s %#llx-%#llx for %s overlaps %#llx-%#llx of %s",
			  s->name, (unsigned long long)base,
			  (unsigned long long)(base + len - 1), name,
			  (unsigned long long)s->win[i].base,
			  (unsigned long long)(s->win[i].base + s->win[i].len - 1),
			  s->win[i].name);
		return -EBUSY;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct io_window *w = realloc(s->win, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		s->win = w;
		s->cap = cap;
	}
	memmove(&s->win[i + 1], &s->win[i], (s->n - i) * sizeof(*s->win));
	s->win[i] = (struct io_window){base, len, ops, opaque, name};
	s->n++;
	return 0;
}

static unsigned size_bit(unsigned size)
{
	return size == 1 ? IO_SIZE_1 : size == 2 ? IO_SIZE_2 :
	       size == 4 ? IO_SIZE_4 : size == 8 ? IO_SIZE_8 : 0;
}

/* The widest implemented size not above `size`, or 0. */
static unsigned impl_at_most(const struct io_ops *ops, unsigned size)
{
	for (unsigned sz = size; sz; sz >>= 1)
		if (ops->impl_sizes & size_bit(sz))
			return sz;
	return 0;
}

/* An access entirely inside window `w` with a size the guest may use. */
static uint64_t win_read(const struct io_window *w, uint64_t off,
			 unsigned size)
{
	const struct io_ops *ops = w->ops;
	unsigned part;
	uint64_t v = 0;

	if (ops->impl_sizes & size_bit(size))
		return ops->read(w->opaque, off, size) & size_mask_bytes(size);
	part = impl_at_most(ops, size);
	if (part) {
		/* Split into narrower implemented accesses. */
		for (unsigned i = 0; i < size; i += part)
			v |= (ops->read(w->opaque, off + i, part) &
			      size_mask_bytes(part)) << (8 * i);
		return v;
	}
	/* Only wider accesses are implemented: widen, aligned, and pick
	 * the bytes out. */
	for (part = size * 2; part <= 8; part *= 2) {
		if (ops->impl_sizes & size_bit(part)) {
			uint64_t aligned = off & ~(uint64_t)(part - 1);
			uint64_t wide = ops->read(w->opaque, aligned, part);
			return (wide >> (8 * (off - aligned))) &
			       size_mask_bytes(size);
		}
	}
	return size_mask_bytes(size);
}

static void win_write(const struct io_window *w, uint64_t off, unsigned size,
		      uint64_t v)
{
	const struct io_ops *ops = w->ops;
	unsigned part;

	if (ops->impl_sizes & size_bit(size)) {
		ops->write(w->opaque, off, size, v & size_mask_bytes(size));
		return;
	}
	part = impl_at_most(ops, size);
	if (part) {
		for (unsigned i = 0; i < size; i += part)
			ops->write(w->opaque, off + i, part,
				   (v >> (8 * i)) & size_mask_bytes(part));
		return;
	}
	/* Only wider writes are implemented: read, merge, write back. */
	for (part = size * 2; part <= 8; part *= 2) {
		if (ops->impl_sizes & size_bit(part)) {
			uint64_t aligned = off & ~(uint64_t)(part - 1);
			unsigned sh = (unsigned)(8 * (off - aligned));
			uint64_t wide = ops->read(w->opaque, aligned, part);
			wide &= ~(size_mask_bytes(size) << sh);
			wide |= (v & size_mask_bytes(size)) << sh;
			ops->write(w->opaque, aligned, part, wide);
			return;
		}
	}
}

uint64_t iospace_read(struct iospace *s, uint64_t addr, unsigned size)
{
	const struct io_window *w = iospace_find(s, addr);
	uint64_t v = 0;

	if (w && addr + size <= w->base + w->len &&
	    (w->ops->valid_sizes & size_bit(size)))
		return win_read(w, addr - w->base, size);
	if (!w) {
		/* Nothing decodes the address: the whole access goes
		 * unanswered, never split onto a neighbour (a dword at an
		 * unclaimed 0xcf8 must not write 0xcf9). */
		s->unclaimed_reads++;
		return size_mask_bytes(size);
	}
	/* Straddling or an unaccepted size: byte by byte. */
	for (unsigned i = 0; i < size; i++) {
		const struct io_window *b = iospace_find(s, addr + i);
		uint64_t byte;
		if (b && (b->ops->valid_sizes & IO_SIZE_1)) {
			byte = win_read(b, addr + i - b->base, 1);
		} else {
			s->unclaimed_reads++;
			byte = 0xff;
		}
		v |= (byte & 0xff) << (8 * i);
	}
	return v;
}

void iospace_write(struct iospace *s, uint64_t addr, unsigned size,
		   uint64_t value)
{
	const struct io_window *w = iospace_find(s, addr);

	if (w && addr + size <= w->base + w->len &&
	    (w->ops->valid_sizes & size_bit(size))) {
		win_write(w, addr - w->base, size, value);
		return;
	}
	if (!w) {
		s->unclaimed_writes++;
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		const struct io_window *b = iospace_find(s, addr + i);
		if (b && (b->ops->valid_sizes & IO_SIZE_1))
			win_write(b, addr + i - b->base, 1, (value >> (8 * i)) & 0xff);
		else
			s->unclaimed_writes++;
	}
}
