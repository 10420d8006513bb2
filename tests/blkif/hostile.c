/* A hostile front: this program writes the ring by hand, as a device
 * model the guest has taken over could: bad disk indices, sectors out of
 * range, segments outside RAM and the bounce area, too many segments,
 * lengths that do not add up, unknown operations, flooding, random
 * garbage, and indices far ahead. Each request gets an error (or, for
 * garbage that happens to be valid, is served); ring corruption cuts the
 * front off; the backend stays up for the others, and the qcow2 image
 * passes `qemu-img check` afterwards. */
#include <inttypes.h>
#include <sys/wait.h>
#include <time.h>

#include "../tap.h"
#include "helpers.h"

static struct tap t;
static struct guest_mem gm;

struct hfront {
	struct blkif_shared *sh;
	int kick_fd, rfd;
	uint32_t prod, cons;
};

static int hf_open(struct blk_host *h, const unsigned *drives, unsigned n,
		   struct hfront *hf)
{
	int fds[3];
	unsigned n_fds = 3;
	char err[256];
	if (blk_host_connect(h, drives, n, fds, &n_fds, err, sizeof(err)) < 0) {
		tap_diag("connect: %s", err);
		return -1;
	}
	hf->sh = mmap(NULL, BLKIF_SHARED_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fds[0], 0);
	close(fds[0]);
	hf->kick_fd = fds[1];
	hf->rfd = fds[2];
	hf->prod = hf->cons = 0;
	return hf->sh == MAP_FAILED ? -1 : 0;
}

static void hf_close(struct hfront *hf)
{
	munmap(hf->sh, BLKIF_SHARED_SIZE);
	close(hf->kick_fd);
	close(hf->rfd);
}

static void hf_kick(struct hfront *hf)
{
	char one = 1;
	(void)!write(hf->kick_fd, &one, 1);
}

static void hf_put(struct hfront *hf, const struct blkif_req *r)
{
	memcpy(&hf->sh->req[hf->prod % BLKIF_RING_SLOTS], r, sizeof(*r));
	hf->prod++;
	__atomic_store_n(&hf->sh->req_prod, hf->prod, __ATOMIC_RELEASE);
}

/* The next response: 0, -ETIMEDOUT, or -EPIPE once the backend has cut
 * this front off (its pipe hung up, no response pending). */
static int hf_get(struct hfront *hf, struct blkif_rsp *out)
{
	for (int tries = 0; tries < 500; tries++) {
		struct pollfd p = {hf->rfd, POLLIN, 0};
		char buf[64];
		ssize_t n;
		if (__atomic_load_n(&hf->sh->rsp_prod, __ATOMIC_ACQUIRE) != hf->cons) {
			*out = hf->sh->rsp[hf->cons % BLKIF_RING_SLOTS];
			hf->cons++;
			__atomic_store_n(&hf->sh->rsp_cons, hf->cons, __ATOMIC_RELEASE);
			return 0;
		}
		if (poll(&p, 1, 20) < 0)
			return -errno;
		n = read(hf->rfd, buf, sizeof(buf));
		if (n == 0)
			return -EPIPE;
	}
	return -ETIMEDOUT;
}

/* One request, its status (or -1000 + the wait's error). */
static int hf_io(struct hfront *hf, const struct blkif_req *r)
{
	struct blkif_rsp rsp;
	int e;
	hf_put(hf, r);
	hf_kick(hf);
	e = hf_get(hf, &rsp);
	if (e < 0)
		return -1000 + e;
	if (rsp.id != r->id)
		return -2000;
	return rsp.status;
}

static struct blkif_req rq(uint64_t id, uint8_t op, uint8_t disk,
			   uint64_t sector, uint32_t n, uint16_t nseg)
{
	struct blkif_req r;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.op = op;
	r.disk = disk;
	r.sector = sector;
	r.nr_sectors = n;
	r.nseg = nseg;
	return r;
}

/* A valid read still works: the backend is up. */
static int still_serves(struct hfront *hf)
{
	struct blkif_req r = rq(4242, BLKF_READ, 0, 0, 8, 1);
	r.seg[0] = (struct blkf_seg){0x50000, 4096, 0};
	return hf_io(hf, &r) == 0;
}

static void malformed(struct hfront *hf)
{
	struct blkif_req r;

	r = rq(1, BLKF_READ, 7, 0, 8, 1);
	r.seg[0] = (struct blkf_seg){0x50000, 4096, 0};
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a disk index the front lacks: -EINVAL");
	r.disk = 255;
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "disk 255: -EINVAL");

	r = rq(2, BLKF_WRITE, 0, 16384 - 4, 8, 1);
	r.seg[0] = (struct blkf_seg){0x50000, 4096, 0};
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a write running past the end: -EINVAL");
	r.sector = UINT64_MAX - 2;
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a sector that wraps: -EINVAL");
	r = rq(3, BLKF_DISCARD, 0, 0, UINT32_MAX, 0);
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a discard of 2^32 - 1 sectors: -EINVAL");

	r = rq(4, BLKF_WRITE, 0, 0, 8, 1);
	r.seg[0] = (struct blkf_seg){TBI_RAM, 4096, 0};
	tap_ok(&t, hf_io(hf, &r) == -EFAULT, "a segment past RAM: -EFAULT");
	r.seg[0] = (struct blkf_seg){0xbf800, 4096, 0};
	tap_ok(&t, hf_io(hf, &r) == -EFAULT, "a segment into the VGA hole: -EFAULT");
	r.seg[0] = (struct blkf_seg){UINT64_MAX - 100, 4096, 0};
	tap_ok(&t, hf_io(hf, &r) == -EFAULT, "a segment address that wraps: -EFAULT");
	r.seg[0] = (struct blkf_seg){BLKF_BOUNCE_BYTES - 100, 4096, BLKF_SEG_BOUNCE};
	tap_ok(&t, hf_io(hf, &r) == -EFAULT, "a bounce segment past the area: -EFAULT");
	r.seg[0] = (struct blkf_seg){UINT64_MAX, 4096, BLKF_SEG_BOUNCE};
	tap_ok(&t, hf_io(hf, &r) == -EFAULT, "a bounce offset that wraps: -EFAULT");
	r.seg[0] = (struct blkf_seg){0x50000, 4096, 0x80};
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "unknown segment flags: -EINVAL");

	r = rq(5, BLKF_READ, 0, 0, 8, BLKF_MAX_SEGS + 1);
	for (unsigned i = 0; i < BLKF_MAX_SEGS; i++)
		r.seg[i] = (struct blkf_seg){0x50000, 64, 0};
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "nseg past the maximum: -EINVAL");
	r.nseg = 0xffff;
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "nseg 65535: -EINVAL");
	r.nseg = 0;
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a read with no segments: -EINVAL");
	r.nseg = BLKF_MAX_SEGS;
	r.nr_sectors = 9;
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "lengths that do not add up: -EINVAL");
	r.seg[0].len = UINT32_MAX;
	r.nr_sectors = 8;
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a 4 GiB segment: -EINVAL");
	r = rq(6, BLKF_READ, 0, 0, 8, 2);
	r.seg[0] = (struct blkf_seg){0x50000, 4096, 0};
	r.seg[1] = (struct blkf_seg){0x50000, 0, 0};
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a zero-length segment: -EINVAL");
	r = rq(7, BLKF_READ, 0, 0, BLKF_MAX_SECTORS + 8, 1);
	r.seg[0] = (struct blkf_seg){0, (BLKF_MAX_SECTORS + 8) * 512u, 0};
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "more sectors than a request may have: -EINVAL");

	r = rq(8, 9, 0, 0, 0, 0);
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "an unknown operation: -EINVAL");
	r = rq(9, BLKF_FLUSH, 0, 0, 8, 0);
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a flush with sectors: -EINVAL");
	r = rq(10, BLKF_DISCARD, 0, 0, 0, 0);
	tap_ok(&t, hf_io(hf, &r) == -EINVAL, "a discard of nothing: -EINVAL");
	tap_ok(&t, still_serves(hf), "the backend still serves this front");
}

/* Flooding: requests beyond what the ring allows wait until the front
 * consumes responses; the backend never holds more than a ring's worth. */
static void flood(struct hfront *hf)
{
	struct blkif_req r = rq(0, BLKF_WRITE, 0, 0, 8, 1);
	struct blkif_rsp rsp;
	unsigned got = 0, bad = 0;
	uint32_t start = hf->prod, taken;

	r.seg[0] = (struct blkf_seg){0x60000, 4096, 0};
	for (unsigned i = 0; i < BLKIF_RING_SLOTS; i++) {
		r.id = 100 + i;
		r.sector = 8 * (uint64_t)i;
		hf_put(hf, &r);
	}
	hf_kick(hf);
	for (int tries = 0; tries < 500; tries++) {
		if (__atomic_load_n(&hf->sh->req_cons, __ATOMIC_ACQUIRE) ==
		    hf->prod)
			break;
		usleep(10000);
	}
	/* A second ring's worth over the slots it has copied, no response
	 * consumed: it must wait. */
	for (unsigned i = BLKIF_RING_SLOTS; i < 2 * BLKIF_RING_SLOTS; i++) {
		r.id = 100 + i;
		r.sector = 8 * (uint64_t)i;
		hf_put(hf, &r);
	}
	hf_kick(hf);
	usleep(100000);
	taken = __atomic_load_n(&hf->sh->req_cons, __ATOMIC_ACQUIRE) - start;
	tap_ok(&t, taken == BLKIF_RING_SLOTS,
	       "a flood waits while the front consumes no responses (%u taken)",
	       taken);
	while (got < BLKIF_RING_SLOTS && hf_get(hf, &rsp) == 0) {
		got++;
		bad += rsp.status != 0;
	}
	hf_kick(hf);
	while (got < 2 * BLKIF_RING_SLOTS && hf_get(hf, &rsp) == 0) {
		got++;
		bad += rsp.status != 0;
	}
	tap_ok(&t, got == 2 * BLKIF_RING_SLOTS && bad == 0,
	       "then all of it is served (%u answers, %u errors)", got, bad);
}

static void garbage(struct hfront *hf)
{
	uint64_t seed = 0x5eed;
	unsigned answered = 0;

	for (unsigned round = 0; round < 8; round++) {
		unsigned n = BLKIF_RING_SLOTS / 2;
		struct blkif_rsp rsp;
		for (unsigned i = 0; i < n; i++) {
			struct blkif_req r;
			uint64_t *w = (uint64_t *)&r;
			for (size_t k = 0; k < sizeof(r) / 8; k++)
				w[k] = tb_rand(&seed);
			/* Some fields near the valid range, so that part of the
			 * garbage gets past the first checks. */
			r.op = (uint8_t)(r.op & 3);
			r.disk = (uint8_t)(r.disk & 1);
			r.nseg = (uint16_t)(r.nseg % 4);
			r.sector &= 0x3fff;
			r.nr_sectors &= 0xff;
			for (unsigned s = 0; s < 4; s++) {
				r.seg[s].addr &= 0x7fffff;
				r.seg[s].len &= 0x3fe00;
				r.seg[s].flags &= 1;
			}
			hf_put(hf, &r);
		}
		hf_kick(hf);
		for (unsigned i = 0; i < n && hf_get(hf, &rsp) == 0; i++)
			answered++;
	}
	tap_ok(&t, answered == 8 * BLKIF_RING_SLOTS / 2,
	       "random requests are all answered (%u)", answered);
	tap_ok(&t, still_serves(hf), "and the backend still serves");
}

/* A front that keeps its request pipe full, from another process, for
 * 4 s: the backend reads it a bounded amount a turn and still answers
 * another front at once. */
static void kick_storm(struct hfront *hf, struct hfront *other)
{
	struct timespec t0, t1;
	double secs;
	pid_t pid = fork();
	int served, st;

	if (pid == 0) {
		static char junk[65536];
		struct timespec end;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += 4;
		for (;;) {
			struct timespec now;
			(void)!write(hf->kick_fd, junk, sizeof(junk));
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > end.tv_sec ||
			    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
				_exit(0);
		}
	}
	usleep(200000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	served = still_serves(other);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	tap_ok(&t, pid > 0 && served && secs < 2.0,
	       "a front that floods its kick pipe does not hold up another (%.3f s)",
	       secs);
	if (pid > 0)
		waitpid(pid, &st, 0);
	tap_ok(&t, still_serves(hf), "and the flooding front is served after");
}

int main(void)
{
	struct blk_drive_spec d[2] = {
		{.id = "q", .file = tb_path("h.qcow2"), .format = "qcow2"},
		{.id = "r", .file = tb_path("h.raw"), .format = "raw"},
	};
	unsigned both[2] = {0, 1};
	struct hfront hf, other;
	struct blk_host *h;
	struct blkif_rsp rsp;

	if (guest_mem_create(&gm, TBI_RAM) < 0 ||
	    tb_sh("qemu-img create -q -f qcow2 h.qcow2 8M && "
		  "qemu-img create -q -f raw h.raw 8M") != 0) {
		printf("Bail out! no guest RAM or images\n");
		return 1;
	}
	h = tbi_start(d, 2, &gm);
	if (!h || hf_open(h, both, 2, &hf) < 0 || hf_open(h, both, 2, &other) < 0) {
		printf("Bail out! no backend\n");
		return 1;
	}
	malformed(&hf);
	flood(&hf);
	garbage(&hf);
	kick_storm(&hf, &other);

	/* Ring corruption: the front is cut off, the other stays served. */
	hf.sh->req_prod = hf.prod + 1000;
	hf_kick(&hf);
	tap_ok(&t, hf_get(&hf, &rsp) == -EPIPE,
	       "a request index far ahead cuts the front off (its pipe hangs up)");
	tap_ok(&t, still_serves(&other), "another front is still served");
	hf_close(&hf);
	if (hf_open(h, both, 2, &hf) == 0) {
		struct blkif_req r = rq(1, BLKF_READ, 0, 0, 8, 1);
		r.seg[0] = (struct blkf_seg){0x50000, 4096, 0};
		hf.sh->rsp_cons = 77;
		hf_put(&hf, &r);
		hf_kick(&hf);
		tap_ok(&t, hf_get(&hf, &rsp) == -EPIPE,
		       "an impossible response index cuts the front off");
		hf_close(&hf);
	}
	/* A front that leaves with requests queued. */
	if (hf_open(h, both, 2, &hf) == 0) {
		struct blkif_req r = rq(1, BLKF_WRITE, 1, 0, 8, 1);
		r.seg[0] = (struct blkf_seg){0x50000, 4096, 0};
		for (int i = 0; i < 10; i++)
			hf_put(&hf, &r);
		hf_kick(&hf);
		hf_close(&hf);
	}
	tap_ok(&t, still_serves(&other), "a front gone with requests queued harms no one");
	/* A front's end is its request pipe's hang-up: the backend frees its
	 * place, so fronts that come and go (device models restarted) never
	 * use up the BLKCTL_MAX_FRONTS places. */
	{
		unsigned opened = 0;
		for (unsigned i = 0; i < 2 * BLKCTL_MAX_FRONTS; i++) {
			if (hf_open(h, both, 2, &hf) < 0)
				break;
			opened++;
			hf_close(&hf);
		}
		tap_ok(&t, opened == 2 * BLKCTL_MAX_FRONTS,
		       "fronts that hang up give their places back (%u of %u opened)",
		       opened, 2 * BLKCTL_MAX_FRONTS);
	}
	hf_close(&other);
	blk_host_stop(h);
	tap_ok(&t, tb_sh("qemu-img check -q h.qcow2") == 0,
	       "qemu-img check finds the qcow2 image clean");
	guest_mem_destroy(&gm);
	tb_cleanup();
	return tap_done(&t);
}
