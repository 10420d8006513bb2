/* Interoperability with QEMU: images made by qemu-img/qemu-io with every
 * option we support must read back identically to `qemu-img convert -O
 * raw` of them; and images we write must pass `qemu-img check` and
 * convert to exactly what we wrote. */
#include <inttypes.h>
#include <sys/stat.h>

#include "../tap.h"
#include "helpers.h"

static struct tap t;

static uint8_t *slurp(const char *name, uint64_t *size)
{
	FILE *f = fopen(tb_path(name), "rb");
	uint8_t *p;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n ? (size_t)n : 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*size = (uint64_t)n;
	return p;
}

/* Reads name through the block layer and compares with ref (raw file). */
static int same_as(const char *name, const char *ref)
{
	uint64_t size, off;
	uint8_t *want = slurp(ref, &size), *buf = malloc(1 << 20);
	struct blk *b = tb_open(name, NULL, BLK_O_RDONLY);
	int ok = want && b && b->size == size;

	for (off = 0; ok && off < size; off += 1 << 20) {
		uint64_t n = size - off < (1 << 20) ? size - off : (1 << 20);
		if (blk_pread(b, off, buf, n) < 0 || memcmp(buf, want + off, n)) {
			tap_diag("%s differs near %" PRIu64, name, off);
			ok = 0;
		}
	}
	blk_close(b);
	free(want);
	free(buf);
	return ok;
}

/* The same writes on every image, through qemu-io. */
#define QIO_WRITES \
	"-c 'write -P 0x11 0 100k' -c 'write -P 0x22 1M 64k' " \
	"-c 'write -P 0x33 3000k 1500k' -c 'write -z 3100k 200k' " \
	"-c 'write -P 0x44 7M 1k' -c 'discard 1M 64k' "

static void read_case(const char *label, const char *create)
{
	const char *fmt = strstr(create, "-f raw") ? "raw" : "qcow2";
	int ok = tb_sh("rm -f r.img r.raw && %s && qemu-io -f %s " QIO_WRITES
		       "r.img >/dev/null && qemu-img convert -f %s -O raw r.img "
		       "r.raw", create, fmt, fmt) == 0;
	tap_ok(&t, ok && same_as("r.img", "r.raw"), "qemu-made %s reads back",
	       label);
}

static void test_reads(void)
{
	read_case("raw", "qemu-img create -f raw r.img 8M >/dev/null");
	read_case("qcow2 v2", "qemu-img create -f qcow2 -o compat=0.10 r.img 8M"
		  " >/dev/null");
	read_case("qcow2 v3", "qemu-img create -f qcow2 r.img 8M >/dev/null");
	read_case("qcow2 512-byte clusters", "qemu-img create -f qcow2 -o "
		  "cluster_size=512 r.img 8M >/dev/null");
	read_case("qcow2 2 MiB clusters", "qemu-img create -f qcow2 -o "
		  "cluster_size=2M r.img 8M >/dev/null");
	read_case("qcow2 refcount_bits=1", "qemu-img create -f qcow2 -o "
		  "refcount_bits=1 r.img 8M >/dev/null");
	read_case("qcow2 refcount_bits=64", "qemu-img create -f qcow2 -o "
		  "refcount_bits=64 r.img 8M >/dev/null");
	read_case("qcow2 lazy refcounts", "qemu-img create -f qcow2 -o "
		  "lazy_refcounts=on r.img 8M >/dev/null");
	read_case("qcow2 preallocation=metadata", "qemu-img create -f qcow2 -o "
		  "preallocation=metadata r.img 8M >/dev/null");
	read_case("qcow2 preallocation=full", "qemu-img create -f qcow2 -o "
		  "preallocation=full r.img 8M >/dev/null");
	read_case("qcow2 with a bitmap", "qemu-img create -f qcow2 r.img 8M "
		  ">/dev/null && qemu-img bitmap --add r.img bm0");
	read_case("qcow2 odd size", "qemu-img create -f qcow2 r.img 8001k "
		  ">/dev/null");

	/* Compressed clusters, zlib and zstd. */
	tap_ok(&t, tb_sh("rm -f c.src c.img c.raw && qemu-img create -f raw "
			 "c.src 4M >/dev/null && qemu-io -f raw -c 'write -P 0x5a"
			 " 0 1M' -c 'write -P 0x21 2M 300k' c.src >/dev/null && "
			 "head -c 500000 /dev/urandom | dd of=c.src bs=1k "
			 "seek=1100 conv=notrunc status=none && qemu-img convert "
			 "-c -O qcow2 c.src c.img && qemu-img convert -O raw "
			 "c.img c.raw") == 0 && same_as("c.img", "c.raw"),
	       "zlib-compressed clusters read back");
	tap_ok(&t, tb_sh("rm -f c.img c.raw && qemu-img convert -c -O qcow2 -o "
			 "compression_type=zstd c.src c.img && qemu-img convert "
			 "-O raw c.img c.raw") == 0 && same_as("c.img", "c.raw"),
	       "zstd-compressed clusters read back");

	/* A chain of four: raw base, qcow2 v2, v3, v3 with zeros. */
	tap_ok(&t, tb_sh("rm -f b0.raw b1.q b2.q b3.q ch.raw && "
			 "qemu-img create -f raw b0.raw 8M >/dev/null && "
			 "qemu-io -f raw -c 'write -P 1 0 8M' b0.raw >/dev/null && "
			 "qemu-img create -f qcow2 -o compat=0.10 -b b0.raw -F raw"
			 " b1.q >/dev/null && qemu-io -c 'write -P 2 1M 1M' b1.q "
			 ">/dev/null && qemu-img create -f qcow2 -b b1.q -F qcow2 "
			 "b2.q 6M >/dev/null && qemu-io -c 'write -P 3 1500k 1M' "
			 "b2.q >/dev/null && qemu-img create -f qcow2 -b b2.q -F "
			 "qcow2 b3.q 10M >/dev/null && qemu-io -c 'write -z 2M 64k'"
			 " -c 'write -P 4 9M 10k' b3.q >/dev/null && "
			 "qemu-img convert -O raw b3.q ch.raw") == 0 &&
	       same_as("b3.q", "ch.raw"),
	       "backing chain of depth 4 (raw, v2, shrunk v3, grown v3)");

	/* Internal snapshot: the active layer reads what qemu says. */
	tap_ok(&t, tb_sh("rm -f s.q s.raw && qemu-img create -f qcow2 s.q 4M "
			 ">/dev/null && qemu-io -c 'write -P 1 0 4M' s.q "
			 ">/dev/null && qemu-img snapshot -c snap1 s.q && qemu-io "
			 "-c 'write -P 2 1M 100k' s.q >/dev/null && qemu-img "
			 "convert -O raw s.q s.raw") == 0 &&
	       same_as("s.q", "s.raw"), "image with an internal snapshot");
}

/* We write; qemu checks and converts; we compare with our shadow. */
/* leaks_ok: the image has bitmaps, which we invalidate (autoclear bit)
 * as the specification asks of a writer that does not update them; qemu
 * then no longer counts their clusters and reports them leaked. */
static void write_case_x(const char *label, const char *create, int fill,
			 uint64_t seed, int leaks_ok)
{
	uint64_t size, rs = seed, i, qsize;
	struct blk *b;
	uint8_t *shadow, *got, *buf = malloc(256 << 10);
	int ok = 0, st;

	if (tb_sh("rm -f w.img w.raw && %s", create) != 0 ||
	    !(b = tb_open("w.img", NULL, 0))) {
		tap_ok(&t, 0, "%s: create and open", label);
		free(buf);
		return;
	}
	size = b->size;
	shadow = malloc(size);
	memset(shadow, fill, size);
	for (i = 0; i < 200; i++) {
		uint64_t off = tb_rand(&rs) % size;
		uint64_t len = 1 + tb_rand(&rs) % (256 << 10), j;
		unsigned what = (unsigned)(tb_rand(&rs) % 10);
		if (off + len > size)
			len = size - off;
		if (what < 8) {
			for (j = 0; j < len; j++)
				buf[j] = (uint8_t)(i * 31 + j);
			if (blk_pwrite(b, off, buf, len) < 0)
				break;
			memcpy(shadow + off, buf, len);
		} else if (what == 8) {
			if (blk_write_zeroes(b, off, len) < 0)
				break;
			memset(shadow + off, 0, len);
		} else if (blk_flush(b) < 0) {
			break;
		}
	}
	blk_close(b);
	st = tb_sh("qemu-img check -q w.img >/dev/null 2>&1");
	if (leaks_ok && st == 3)
		st = 0;
	tap_ok(&t, i == 200 && st == 0, "%s: our writes pass qemu-img check "
	       "(status %d)", label, st);
	if (tb_sh("qemu-img convert -O raw w.img w.raw 2>/dev/null") == 0) {
		got = slurp("w.raw", &qsize);
		ok = got && qsize == size && !memcmp(got, shadow, size);
		free(got);
	}
	tap_ok(&t, ok, "%s: qemu reads what we wrote", label);
	{
		FILE *f = fopen(tb_path("shadow.raw"), "wb");
		int wrote = f && fwrite(shadow, 1, size, f) == size;
		if (f)
			fclose(f);
		tap_ok(&t, wrote && tb_sh("qemu-img compare -q -f qcow2 -F raw "
					  "w.img shadow.raw") == 0,
		       "%s: qemu-img compare finds it identical", label);
	}
	free(shadow);
	free(buf);
}

static void write_case(const char *label, const char *create, int fill,
		       uint64_t seed)
{
	write_case_x(label, create, fill, seed, 0);
}

static void test_writes(void)
{
	write_case("v3", "qemu-img create -f qcow2 w.img 16M >/dev/null", 0, 1);
	write_case("v2", "qemu-img create -f qcow2 -o compat=0.10 w.img 16M "
		   ">/dev/null", 0, 2);
	write_case("512-byte clusters, 64-bit refcounts", "qemu-img create -f "
		   "qcow2 -o cluster_size=512,refcount_bits=64 w.img 4M "
		   ">/dev/null", 0, 3);
	write_case("refcount_bits=2", "qemu-img create -f qcow2 -o "
		   "cluster_size=1k,refcount_bits=2 w.img 4M >/dev/null", 0, 4);
	write_case("refcount_bits=8", "qemu-img create -f qcow2 -o "
		   "refcount_bits=8 w.img 16M >/dev/null", 0, 5);
	write_case("refcount_bits=32", "qemu-img create -f qcow2 -o "
		   "refcount_bits=32,cluster_size=4k w.img 16M >/dev/null",
		   0, 6);
	write_case("2 MiB clusters", "qemu-img create -f qcow2 -o "
		   "cluster_size=2M w.img 16M >/dev/null", 0, 7);
	write_case("compressed clusters overwritten", "qemu-img create -f raw "
		   "w.src 8M >/dev/null && qemu-io -f raw -c 'write -P 9 0 8M' "
		   "w.src >/dev/null && qemu-img convert -c -O qcow2 -o "
		   "cluster_size=4k w.src w.img", 9, 8);
	write_case("zstd clusters overwritten", "qemu-img convert -c -O qcow2 "
		   "-o compression_type=zstd w.src w.img", 9, 9);
	write_case("over a backing file", "qemu-img create -f qcow2 -b w.src "
		   "-F raw w.img >/dev/null", 9, 10);
	write_case("preallocated metadata", "qemu-img create -f qcow2 -o "
		   "preallocation=metadata w.img 16M >/dev/null", 0, 11);
	write_case("lazy refcounts", "qemu-img create -f qcow2 -o "
		   "lazy_refcounts=on w.img 16M >/dev/null", 0, 12);
	write_case_x("with a bitmap", "qemu-img create -f qcow2 w.img 16M "
		     ">/dev/null && qemu-img bitmap --add w.img bm0", 0, 13, 1);

	/* Snapshots survive our writes: the snapshot still reads its data. */
	write_case("with an internal snapshot", "qemu-img create -f qcow2 -o "
		   "cluster_size=4k w.img 8M >/dev/null && qemu-io -c "
		   "'write -P 9 0 8M' w.img >/dev/null && qemu-img snapshot -c "
		   "s1 w.img", 9, 14);
	tap_ok(&t, tb_sh("qemu-img snapshot -l w.img | grep -q s1 && "
			 "qemu-img convert -l snapshot.name=s1 -O raw w.img "
			 "s1.raw && cmp -s s1.raw w.src") == 0,
	       "the snapshot still holds its data after our writes");
	tap_ok(&t, tb_sh("qemu-img snapshot -a s1 w.img && qemu-img check -q "
			 "w.img >/dev/null 2>&1 && qemu-img convert -O raw w.img w.raw && cmp -s "
			 "w.raw w.src") == 0,
	       "reverting to the snapshot gives its data back, image clean");
}

int main(void)
{
	test_reads();
	test_writes();
	tb_cleanup();
	return tap_done(&t);
}
