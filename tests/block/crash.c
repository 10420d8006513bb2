/* Crash safety: a child writes to an image (allocating, copying on write,
 * zeroing, discarding, flushing every few requests) and is killed with
 * SIGKILL at a point chosen by a fixed seed. Afterwards qemu-img check
 * must find no errors (leaked clusters are allowed), every request
 * acknowledged before a completed flush must read back, every other slot
 * must hold either its old or its new content, and the image must take
 * further writes. Each request goes to its own 4 KiB slot, so what a slot
 * may hold is known exactly. */
#include <inttypes.h>
#include <signal.h>
#include <time.h>

#include "../tap.h"
#include "helpers.h"

#define SLOT 4096u

static struct tap t;

enum { OP_WRITE, OP_ZERO, OP_DISCARD };

struct plan {
	uint64_t nslots;
	uint32_t *perm;		/* slot of op i */
	uint8_t *kind;		/* OP_* of op i */
};

static void make_plan(struct plan *p, uint64_t nslots, uint64_t seed)
{
	uint64_t i, rs = seed;
	p->nslots = nslots;
	p->perm = malloc(nslots * sizeof(*p->perm));
	p->kind = malloc(nslots);
	for (i = 0; i < nslots; i++)
		p->perm[i] = (uint32_t)i;
	for (i = nslots - 1; i > 0; i--) {
		uint64_t j = tb_rand(&rs) % (i + 1);
		uint32_t tmp = p->perm[i];
		p->perm[i] = p->perm[j];
		p->perm[j] = tmp;
	}
	for (i = 0; i < nslots; i++) {
		unsigned r = (unsigned)(tb_rand(&rs) % 20);
		p->kind[i] = r < 16 ? OP_WRITE : r < 18 ? OP_ZERO : OP_DISCARD;
	}
}

static uint8_t pattern_of(uint64_t op)
{
	return (uint8_t)(op % 250 + 3);
}

static void child(const char *name, const struct plan *p, int ackfd)
{
	struct blk *b = tb_open(name, NULL, 0);
	uint8_t *buf = malloc(SLOT);
	uint64_t i;

	if (!b)
		_exit(2);
	for (i = 0; i < p->nslots; i++) {
		uint64_t off = (uint64_t)p->perm[i] * SLOT;
		int ret;
		switch (p->kind[i]) {
		case OP_WRITE:
			memset(buf, pattern_of(i), SLOT);
			ret = blk_pwrite(b, off, buf, SLOT);
			break;
		case OP_ZERO:
			ret = blk_write_zeroes(b, off, SLOT);
			break;
		default:
			ret = blk_discard(b, off, SLOT);
		}
		if (ret < 0)
			_exit(3);
		if (i % 8 == 7) {
			uint32_t ack = (uint32_t)i;
			if (blk_flush(b) < 0)
				_exit(4);
			if (write(ackfd, &ack, 4) != 4)
				_exit(5);
		}
	}
	blk_close(b);
	_exit(0);
}

/* old(slot): what the slot held before the run. */
static int verify(const char *name, const struct plan *p, int64_t flushed,
		  uint8_t (*old)(uint64_t slot))
{
	struct blk *b = tb_open(name, NULL, BLK_O_RDONLY);
	uint8_t *buf = malloc(SLOT);
	uint64_t i, j;
	int ok = b != NULL;

	for (i = 0; ok && i < p->nslots; i++) {
		uint64_t slot = p->perm[i];
		uint8_t want = p->kind[i] == OP_WRITE ? pattern_of(i) : 0;
		uint8_t was = old(slot);
		if (blk_pread(b, slot * SLOT, buf, SLOT) < 0) {
			tap_diag("read of slot %" PRIu64 " failed", slot);
			ok = 0;
			break;
		}
		if (p->kind[i] == OP_DISCARD)
			continue;
		for (j = 0; j < SLOT; j++) {
			if (buf[j] == want)
				continue;
			if ((int64_t)i > flushed && buf[j] == was)
				continue;
			tap_diag("op %" PRIu64 " (slot %" PRIu64 ", flushed up "
				 "to %" PRId64 "): byte %" PRIu64 " is %u, want "
				 "%u", i, slot, flushed, j, buf[j], want);
			ok = 0;
			break;
		}
	}
	blk_close(b);
	free(buf);
	return ok;
}

static uint64_t cur_half;
static uint8_t old_half(uint64_t slot)
{
	return slot < cur_half ? 0x5a : 0;
}

static uint8_t old_backing(uint64_t slot)
{
	return 0x6b;
}

static void crash_case(const char *label, const char *create,
		       uint64_t size, uint8_t (*old)(uint64_t), uint64_t seed,
		       int rounds)
{
	uint64_t rs = seed;
	int r;

	for (r = 0; r < rounds; r++) {
		struct plan p;
		int fds[2], st;
		pid_t pid;
		int64_t flushed = -1;
		uint32_t ack;
		struct timespec ts;
		uint64_t delay_us = 2000 + tb_rand(&rs) % 120000;

		if (tb_sh("rm -f c.img && %s", create) != 0) {
			tap_ok(&t, 0, "%s: create", label);
			return;
		}
		make_plan(&p, size / SLOT, tb_rand(&rs));
		if (pipe(fds) < 0)
			return;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(fds[0]);
			child("c.img", &p, fds[1]);
		}
		close(fds[1]);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)delay_us * 1000;
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		while (read(fds[0], &ack, 4) == 4)
			flushed = ack;
		close(fds[0]);
		st = tb_sh("qemu-img check -q c.img >/dev/null 2>&1");
		tap_ok(&t, st == 0 || st == 3, "%s, kill after %" PRIu64 " us "
		       "(flushed through op %" PRId64 "): qemu-img check status"
		       " %d", label, delay_us, flushed, st);
		tap_ok(&t, verify("c.img", &p, flushed, old),
		       "%s: flushed writes read back, others old or new", label);
		free(p.perm);
		free(p.kind);
	}
	/* The crashed image still takes writes and stays consistent. */
	{
		struct blk *b = tb_open("c.img", NULL, 0);
		uint8_t buf[8192];
		int ok = b != NULL;
		memset(buf, 0x77, sizeof(buf));
		if (b) {
			ok = blk_pwrite(b, 0, buf, sizeof(buf)) == 0 &&
			     blk_pwrite(b, size / 2 + 100, buf, sizeof(buf)) == 0 &&
			     blk_flush(b) == 0;
			blk_close(b);
		}
		tap_ok(&t, ok && (tb_sh("qemu-img check -q c.img >/dev/null "
					"2>&1") & ~3) == 0,
		       "%s: writes after the crash, still consistent", label);
	}
}

int main(void)
{
	cur_half = (4u << 20) / SLOT;
	crash_case("v3 4k clusters", "qemu-img create -f qcow2 -o "
		   "cluster_size=4k c.img 8M >/dev/null && qemu-io -c "
		   "'write -P 0x5a 0 4M' c.img >/dev/null", 8u << 20, old_half,
		   11, 4);
	crash_case("v3 64k clusters (partial-cluster COW)", "qemu-img create -f "
		   "qcow2 c.img 8M >/dev/null && qemu-io -c 'write -P 0x5a 0 4M'"
		   " c.img >/dev/null", 8u << 20, old_half, 12, 3);
	crash_case("512-byte clusters, 64-bit refcounts (table growth)",
		   "qemu-img create -f qcow2 -o cluster_size=512,refcount_bits=64"
		   " c.img 8M >/dev/null && qemu-io -c 'write -P 0x5a 0 4M' "
		   "c.img >/dev/null", 8u << 20, old_half, 13, 3);
	crash_case("v2", "qemu-img create -f qcow2 -o compat=0.10,cluster_size=8k"
		   " c.img 8M >/dev/null && qemu-io -c 'write -P 0x5a 0 4M' "
		   "c.img >/dev/null", 8u << 20, old_half, 14, 3);
	crash_case("over a backing file", "rm -f cb.raw && qemu-img create -f "
		   "raw cb.raw 8M >/dev/null && qemu-io -f raw -c 'write -P 0x6b "
		   "0 8M' cb.raw >/dev/null && qemu-img create -f qcow2 -o "
		   "cluster_size=16k -b cb.raw -F raw c.img >/dev/null", 8u << 20,
		   old_backing, 15, 3);
	crash_case("with an internal snapshot (shared tables)", "qemu-img create"
		   " -f qcow2 -o cluster_size=4k c.img 8M >/dev/null && qemu-io "
		   "-c 'write -P 0x5a 0 4M' c.img >/dev/null && qemu-img snapshot"
		   " -c s1 c.img", 8u << 20, old_half, 16, 3);
	tb_cleanup();
	return tap_done(&t);
}
