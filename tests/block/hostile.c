/* Hostile images: malformed headers, tables pointing past the end or at
 * each other, loops in backing chains, absurd sizes. Each must give an
 * error at open or an I/O error at access; never a crash (the sanitizers
 * watch), a hang, or an unbounded allocation. */
#include <inttypes.h>
#include <sys/stat.h>

#include "../tap.h"
#include "helpers.h"

static struct tap t;

static void put_be(const char *name, uint64_t off, uint64_t v, int bytes)
{
	uint8_t b[8];
	int fd = open(tb_path(name), O_WRONLY), i;
	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
	if (fd < 0 || pwrite(fd, b, (size_t)bytes, (off_t)off) != bytes)
		tap_diag("patching %s failed", name);
	close(fd);
}

static uint64_t get_be(const char *name, uint64_t off, int bytes)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	int fd = open(tb_path(name), O_RDONLY), i;
	if (fd < 0 || pread(fd, b, (size_t)bytes, (off_t)off) != bytes)
		tap_diag("reading %s failed", name);
	close(fd);
	for (i = 0; i < bytes; i++)
		v = (v << 8) | b[i];
	return v;
}

/* A fresh copy of the good image, 4 KiB clusters, first 1 MiB written. */
static void fresh(void)
{
	tb_sh("cp good.img h.img");
}

static int open_fails(unsigned flags)
{
	struct blk *b = tb_open("h.img", "qcow2", flags);
	if (b) {
		blk_close(b);
		return 0;
	}
	return 1;
}

/* Opens (read-write unless ro) and reads the whole image; returns the
 * first error, 0 if every read worked, 1 if it would not open. */
static int read_all(int ro)
{
	struct blk *b = tb_open("h.img", "qcow2", ro ? BLK_O_RDONLY : 0);
	uint8_t *buf = malloc(1 << 20);
	uint64_t off;
	int ret = 0, r;
	if (!b) {
		free(buf);
		return 1;
	}
	for (off = 0; off < b->size; off += 1 << 20) {
		uint64_t n = b->size - off < (1 << 20) ? b->size - off : 1 << 20;
		r = blk_pread(b, off, buf, n);
		if (r < 0 && !ret)
			ret = r;
	}
	blk_close(b);
	free(buf);
	return ret;
}

static int write_some(void)
{
	struct blk *b = tb_open("h.img", "qcow2", 0);
	uint8_t buf[8192] = { 1 };
	int ret;
	if (!b)
		return 1;
	ret = blk_pwrite(b, 4096 * 3 + 7, buf, sizeof(buf));
	if (ret == 0)
		ret = blk_pwrite(b, (2u << 20) + 100, buf, sizeof(buf));
	if (ret == 0)
		ret = blk_flush(b);
	blk_close(b);
	return ret;
}

static void header_cases(void)
{
	struct { const char *what; uint64_t off; uint64_t v; int bytes; } c[] = {
		{ "bad magic", 0, 0x12345678, 4 },
		{ "version 1", 4, 1, 4 },
		{ "version 4", 4, 4, 4 },
		{ "cluster_bits 8", 20, 8, 4 },
		{ "cluster_bits 31", 20, 31, 4 },
		{ "cluster_bits 2^32-1", 20, 0xffffffff, 4 },
		{ "virtual size 2^63", 24, 1ull << 63, 8 },
		{ "virtual size past what L1 covers", 24, 1ull << 40, 8 },
		{ "encrypted (AES)", 32, 1, 4 },
		{ "L1 size 2^32-1", 36, 0xffffffff, 4 },
		{ "L1 table past the end", 40, 1ull << 40, 8 },
		{ "L1 table unaligned", 40, 4096 + 8, 8 },
		{ "refcount table at 0", 48, 0, 8 },
		{ "refcount table past the end", 48, 1ull << 40, 8 },
		{ "refcount table 2^32-1 clusters", 56, 0xffffffff, 4 },
		{ "snapshot count 2^32-1", 60, 0xffffffff, 4 },
		{ "unknown incompatible feature", 72, 1ull << 40, 8 },
		{ "external data file", 72, 1ull << 2, 8 },
		{ "extended L2 entries", 72, 1ull << 4, 8 },
		{ "refcount_order 7", 96, 7, 4 },
		{ "header_length 2^32-1", 100, 0xffffffff, 4 },
		{ "header_length 50", 100, 50, 4 },
		{ "compression type 2", 104, 2ull << 56, 8 },
		{ "zstd without the incompatible bit", 104, 1ull << 56, 8 },
		{ "backing name 5000 bytes", 16, 5000, 4 },
		{ "backing name past the end", 8, 1ull << 40, 8 },
	};
	unsigned i;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		fresh();
		if (c[i].off == 16 || c[i].off == 8) {
			put_be("h.img", 8, c[i].off == 8 ? c[i].v : 512, 8);
			put_be("h.img", 16, c[i].off == 16 ? c[i].v : 8, 4);
		} else {
			put_be("h.img", c[i].off, c[i].v, c[i].bytes);
		}
		tap_ok(&t, open_fails(BLK_O_RDONLY) && open_fails(0),
		       "open refuses: %s", c[i].what);
	}
	fresh();
	tb_sh("truncate -s 50 h.img");
	tap_ok(&t, open_fails(BLK_O_RDONLY), "open refuses: truncated header");
	fresh();
	tb_sh("truncate -s 4096 h.img");
	tap_ok(&t, open_fails(BLK_O_RDONLY), "open refuses: file cut after "
	       "the header");
	fresh();
	/* A header extension whose length runs past the cluster. */
	put_be("h.img", get_be("h.img", 100, 4), 0x12345678, 4);
	put_be("h.img", get_be("h.img", 100, 4) + 4, 0x7fffffff, 4);
	tap_ok(&t, open_fails(BLK_O_RDONLY), "open refuses: extension longer "
	       "than the cluster");
}

static void flag_cases(void)
{
	fresh();
	put_be("h.img", 72, 1ull << 1, 8);
	tap_ok(&t, open_fails(0) && read_all(1) == 0,
	       "corrupt bit: no writing, reading works");
	fresh();
	put_be("h.img", 72, 1ull << 0, 8);
	tap_ok(&t, read_all(1) == 0, "dirty bit: reading works read-only");
	tap_ok(&t, write_some() == 0 && get_be("h.img", 72, 8) == 0 &&
	       tb_sh("qemu-img check -q h.img") == 0,
	       "dirty bit: opening to write repairs, clears it, image clean");
	/* Stale refcounts under the dirty bit, as lazy refcounts leave them:
	 * one data cluster's count dropped to 0, another raised to 5. */
	fresh();
	put_be("h.img", 72, 1ull << 0, 8);
	{
		uint64_t rb = get_be("h.img", get_be("h.img", 48, 8), 8);
		put_be("h.img", rb + 2 * 10, 0, 2);
		put_be("h.img", rb + 2 * 20, 5, 2);
	}
	tap_ok(&t, write_some() == 0 && tb_sh("qemu-img check -q h.img") == 0 &&
	       tb_sh("qemu-io -c 'read -P 0x42 32k 900k' h.img | grep -q "
		     "'^read'") == 0,
	       "stale refcounts under the dirty bit are rebuilt, data kept");
	/* The real thing: qemu-io with lazy refcounts killed mid-way. */
	tb_sh("rm -f lazy.img && qemu-img create -f qcow2 -o lazy_refcounts=on,"
	      "cluster_size=4k lazy.img 4M >/dev/null && qemu-io -c 'write -P 9 "
	      "0 1M' -c 'sigraise 9' lazy.img >/dev/null 2>&1; true");
	tap_ok(&t, (get_be("lazy.img", 72, 8) & 1) == 1,
	       "qemu-io killed with lazy refcounts leaves the dirty bit");
	{
		struct blk *b = tb_open("lazy.img", NULL, 0);
		uint8_t buf[4096];
		int ok = b && blk_pread(b, 4096, buf, 4096) == 0 && buf[0] == 9 &&
			 blk_pwrite(b, (2u << 20), buf, 4096) == 0 &&
			 blk_flush(b) == 0;
		blk_close(b);
		tap_ok(&t, ok && tb_sh("qemu-img check -q lazy.img") == 0,
		       "we repair it on open for writing and write: clean");
	}
}

static void table_cases(void)
{
	uint64_t l1 = get_be("good.img", 40, 8), rt = get_be("good.img", 48, 8);
	uint64_t l2 = get_be("good.img", l1, 8) & 0x00fffffffffffe00ull;
	int r;

	fresh();
	put_be("h.img", l1, (1ull << 63) | (1ull << 45), 8);
	tap_ok(&t, read_all(1) == -EIO, "L1 entry past the end: -EIO on read");
	tap_ok(&t, write_some() < 0, "L1 entry past the end: error on write");
	fresh();
	put_be("h.img", l1, (1ull << 63) | 4096 | 5, 8);
	tap_ok(&t, read_all(1) == -EIO, "L1 entry with reserved bits: -EIO");
	fresh();
	put_be("h.img", l1, (1ull << 63) | (4096 + 8), 8);
	tap_ok(&t, read_all(1) == -EIO, "L1 entry unaligned: -EIO");
	fresh();
	put_be("h.img", l2, (1ull << 63) | (1ull << 50), 8);
	r = read_all(1);
	tap_ok(&t, r == 0 || r == -EIO, "L2 entry past the end: zeros or -EIO "
	       "(%d)", r);
	fresh();
	put_be("h.img", l2, (1ull << 63) | 4096 | (1ull << 57), 8);
	tap_ok(&t, read_all(1) == -EIO, "L2 entry with reserved bits: -EIO");
	fresh();
	put_be("h.img", l2, (1ull << 62) | (1ull << 40), 8);
	tap_ok(&t, read_all(1) == -EIO, "compressed cluster past the end: -EIO");
	fresh();
	put_be("h.img", l2, (1ull << 62) | 4096, 8);
	tap_ok(&t, read_all(1) == -EIO, "compressed cluster of garbage: -EIO");
	fresh();
	put_be("h.img", l2, 1ull << 63, 8);
	tap_ok(&t, read_all(1) == -EIO, "L2 entry copied at offset 0: -EIO");
	/* Tables pointing at each other: the L1 entry names the L1 table,
	 * so L1 entries are read as L2 entries. Any outcome but a crash. */
	fresh();
	put_be("h.img", l1, (1ull << 63) | l1, 8);
	read_all(1);
	write_some();
	tap_ok(&t, 1, "L1 entry naming the L1 table: no crash");
	fresh();
	put_be("h.img", l1, (1ull << 63) | rt, 8);
	read_all(1);
	write_some();
	tap_ok(&t, 1, "L1 entry naming the refcount table: no crash");
	fresh();
	put_be("h.img", l2, (1ull << 63) | 0, 8);
	put_be("h.img", l2 + 8, (1ull << 63) | l2, 8);
	tap_ok(&t, write_some() != 0 || 1, "L2 entry naming its own table: "
	       "no crash");
	fresh();
	put_be("h.img", rt, 1ull << 45, 8);
	tap_ok(&t, write_some() < 0, "refcount block past the end: write "
	       "fails");
	fresh();
	put_be("h.img", rt, 0, 8);
	r = write_some();
	tap_ok(&t, 1, "refcount table entry cleared: write gives %d, no crash",
	       r);
	/* Every refcount table entry naming the same block: every cluster
	 * looks used; allocation must give up, not scan forever. */
	fresh();
	{
		uint64_t rb = get_be("good.img", rt, 8), i;
		uint64_t n = get_be("good.img", 56, 4) * 4096 / 8;
		int fd = open(tb_path("h.img"), O_WRONLY);
		uint8_t be[8], ff[4096];
		memset(ff, 0xff, sizeof(ff));
		if (pwrite(fd, ff, sizeof(ff), (off_t)rb) != sizeof(ff))
			tap_diag("patch failed");
		for (i = 0; i < 8; i++)
			be[i] = (uint8_t)(rb >> (56 - 8 * i));
		for (i = 0; i < n; i++)
			if (pwrite(fd, be, 8, (off_t)(rt + i * 8)) != 8)
				tap_diag("patch failed");
		close(fd);
		tap_ok(&t, write_some() < 0, "aliased full refcount blocks: "
		       "allocation fails, no hang");
	}
}

static void chain_cases(void)
{
	int i;
	struct blk *b;

	tb_sh("qemu-img create -f qcow2 -o cluster_size=4k la.img 1M >/dev/null"
	      " && qemu-img create -f qcow2 -o cluster_size=4k -b la.img -F qcow2"
	      " lb.img >/dev/null && qemu-img rebase -u -b lb.img -F qcow2 "
	      "la.img");
	b = tb_open("la.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b == NULL, "backing loop of two is refused");
	blk_close(b);
	tb_sh("qemu-img create -f qcow2 self.img 1M >/dev/null && qemu-img "
	      "rebase -u -b self.img -F qcow2 self.img");
	b = tb_open("self.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b == NULL, "image backed by itself is refused");
	blk_close(b);
	tb_sh("ln -sf la.img alias.img && qemu-img create -f qcow2 -u -b alias.img"
	      " -F qcow2 top.img 1M >/dev/null");
	b = tb_open("top.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b == NULL, "loop through a symlink is refused");
	blk_close(b);
	/* A long chain: 70 > BLK_MAX_CHAIN. */
	tb_sh("qemu-img create -f raw d0.img 64k >/dev/null");
	for (i = 1; i <= 70; i++)
		tb_sh("qemu-img create -f qcow2 -o cluster_size=512 -b d%d.img -F "
		      "%s d%d.img >/dev/null", i - 1, i == 1 ? "raw" : "qcow2", i);
	b = tb_open("d60.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b != NULL, "a chain of 61 images opens");
	blk_close(b);
	b = tb_open("d70.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b == NULL, "a chain of 71 images is refused");
	blk_close(b);
	tb_sh("qemu-img create -f qcow2 -u -b nosuch.img -F raw orphan.img 1M "
	      ">/dev/null");
	b = tb_open("orphan.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b == NULL, "missing backing file: open fails");
	blk_close(b);
	tap_ok(&t, access(tb_path("orphan.img"), F_OK) == 0,
	       "(the image naming it exists)");
	tb_sh("qemu-img create -f qcow2 -u -b good.img -F vmdk badfmt.img 1M "
	      ">/dev/null");
	b = tb_open("badfmt.img", NULL, BLK_O_RDONLY);
	tap_ok(&t, b == NULL, "backing format we do not read: open fails");
	blk_close(b);
}

int main(void)
{
	tb_sh("qemu-img create -f qcow2 -o cluster_size=4k good.img 4M "
	      ">/dev/null && qemu-io -c 'write -P 0x42 0 1M' good.img "
	      ">/dev/null");
	header_cases();
	flag_cases();
	table_cases();
	chain_cases();
	tb_cleanup();
	return tap_done(&t);
}
