/* Fronts and a real sandboxed v2e-blk: reads, writes, flushes and
 * discards on raw and qcow2 images, with guest RAM segments across pages
 * and bounce segments; several disks, two fronts on one backend; the
 * read-only, probed-raw and range refusals; cache modes; -snapshot; and
 * a backend that dies (its sandbox killing it for opening a file) seen
 * by the front as I/O errors. Images are checked afterwards with
 * qemu-img and qemu-io. */
#include <dirent.h>
#include <inttypes.h>

#include "../tap.h"
#include "helpers.h"

static struct tap t;
static struct guest_mem gm;

static uint8_t *ram(uint64_t paddr)
{
	return guest_mem_ptr(&gm, paddr, 1);
}

static unsigned files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Writes 16 sectors at `sector` of `disk` from three RAM pieces across
 * pages, reads them back through a bounce segment and a RAM one. */
static void rw_case(struct blk_front *f, unsigned disk, const char *what,
		    uint64_t sector, uint8_t pat)
{
	struct blkf_seg w[3] = {
		{0x10800, 0x800, 0}, {0x11000, 0x1000, 0}, {0x12000, 0x800, 0},
	};
	struct blkf_seg r[2] = {
		{512, 0x1000, BLKF_SEG_BOUNCE}, {0x20000, 0x1000, 0},
	};
	uint8_t *bounce = blkf_bounce(f);
	int ok;

	memset(ram(0x10800), pat, 0x2000);
	memset(ram(0x20000), 0, 0x1000);
	memset(bounce + 512, 0, 0x1000);
	ok = tbi_io(f, disk, BLKF_WRITE, sector, 16, w, 3) == 0;
	tap_ok(&t, ok, "%s: a write from RAM pieces across pages", what);
	ok = tbi_io(f, disk, BLKF_READ, sector, 16, r, 2) == 0 &&
	     tbi_all(bounce + 512, 0x1000, pat) &&
	     tbi_all(ram(0x20000), 0x1000, pat);
	tap_ok(&t, ok, "%s: read back into the bounce area and RAM", what);
	tap_ok(&t, tbi_io(f, disk, BLKF_FLUSH, 0, 0, NULL, 0) == 0,
	       "%s: a flush", what);
}

static void basic(void)
{
	struct blk_drive_spec d[3] = {
		{.id = "raw", .file = tb_path("a.raw"), .format = "raw"},
		{.id = "q", .file = tb_path("b.qcow2")},
		{.id = "ro", .file = tb_path("c.raw"), .format = "raw", .read_only = true},
	};
	unsigned all[3] = {0, 1, 2}, just_q = 1;
	struct blkf_seg seg = {0x30000, 4096, 0}, bad[2];
	struct blk_front *fa, *fb;
	struct blkf_disk info;
	struct blk_host *h;
	int ok;

	ok = tb_sh("qemu-img create -q -f raw a.raw 4M && "
		   "qemu-img create -q -f qcow2 b.qcow2 8M && "
		   "qemu-img create -q -f raw c.raw 1M && "
		   "qemu-io -f raw -c 'write -P 0x7e 0 1M' c.raw >/dev/null") == 0;
	h = ok ? tbi_start(d, 3, &gm) : NULL;
	tap_ok(&t, h != NULL, "v2e-blk starts with a raw, a qcow2 and a read-only disk");
	if (!h)
		return;
	ok = blk_host_info(h, 1, &info) == 0 && info.sectors == 16384 &&
	     !info.read_only && !strcmp(info.serial, "QM00001") &&
	     blk_host_info(h, 2, &info) == 0 && info.read_only &&
	     blk_host_info(h, 3, &info) == -ENOENT;
	tap_ok(&t, ok, "the host knows each disk's size, serial and read-only flag");
	fa = tbi_front(h, all, 3);
	fb = tbi_front(h, &just_q, 1);
	tap_ok(&t, fa && fb, "two fronts connect to one backend");
	if (!fa || !fb) {
		blk_host_stop(h);
		return;
	}
	ok = blkf_info(fa, 0, &info) == 0 && info.sectors == 8192 &&
	     blkf_info(fb, 0, &info) == 0 && info.sectors == 16384 &&
	     blkf_info(fb, 1, &info) == -ENOENT;
	tap_ok(&t, ok, "each front sees its own disk table");

	rw_case(fa, 0, "raw", 8, 0xa5);
	rw_case(fa, 1, "qcow2", 100, 0x5a);

	/* The second front writes drive 1, the first reads it. */
	memset(ram(0x30000), 0x3c, 4096);
	ok = tbi_io(fb, 0, BLKF_WRITE, 1024, 8, &seg, 1) == 0;
	memset(ram(0x30000), 0, 4096);
	ok = ok && tbi_io(fa, 1, BLKF_READ, 1024, 8, &seg, 1) == 0 &&
	     tbi_all(ram(0x30000), 4096, 0x3c);
	tap_ok(&t, ok, "what one front writes, the other reads");

	/* A whole cluster: qcow2 may keep a partly discarded one. */
	ok = tbi_io(fa, 1, BLKF_DISCARD, 1024, 128, NULL, 0) == 0 &&
	     tbi_io(fa, 1, BLKF_READ, 1024, 8, &seg, 1) == 0 &&
	     tbi_all(ram(0x30000), 4096, 0);
	tap_ok(&t, ok, "a discarded qcow2 cluster reads as zeros");
	tap_ok(&t, tbi_io(fa, 0, BLKF_DISCARD, 0, 8, NULL, 0) == 0,
	       "a raw image takes a discard");

	ok = tbi_io(fa, 2, BLKF_WRITE, 0, 8, &seg, 1) == -EROFS &&
	     tbi_io(fa, 2, BLKF_DISCARD, 0, 8, NULL, 0) == -EROFS &&
	     tbi_io(fa, 2, BLKF_READ, 0, 8, &seg, 1) == 0 &&
	     tbi_all(ram(0x30000), 4096, 0x7e) &&
	     tbi_io(fa, 2, BLKF_FLUSH, 0, 0, NULL, 0) == 0;
	tap_ok(&t, ok, "a read-only disk refuses writes and discards (-EROFS), reads");

	ok = tbi_io(fa, 0, BLKF_READ, 8192, 8, &seg, 1) == -EINVAL &&
	     tbi_io(fa, 0, BLKF_READ, 8190, 8, &seg, 1) == -EINVAL &&
	     tbi_io(fa, 0, BLKF_DISCARD, 8191, 2, NULL, 0) == -EINVAL;
	tap_ok(&t, ok, "sectors past the end are -EINVAL");

	/* A RAM segment then one in the VGA hole: nothing moves. */
	bad[0] = (struct blkf_seg){0x40000, 4096, 0};
	bad[1] = (struct blkf_seg){0xa0000, 4096, 0};
	memset(ram(0x40000), 0xee, 4096);
	ok = tbi_io(fa, 0, BLKF_READ, 8, 16, bad, 2) == -EFAULT &&
	     tbi_all(ram(0x40000), 4096, 0xee);
	bad[1] = (struct blkf_seg){TBI_RAM - 2048, 4096, 0};
	ok = ok && tbi_io(fa, 0, BLKF_READ, 8, 16, bad, 2) == -EFAULT &&
	     tbi_all(ram(0x40000), 4096, 0xee);
	tap_ok(&t, ok, "a segment outside RAM fails the request with -EFAULT, nothing moved");

	bad[0] = (struct blkf_seg){0, 4096, BLKF_SEG_BOUNCE};
	ok = blkf_submit(fa, 0, BLKF_READ, 0, 16, bad, 1, tbi_on_done, NULL) == -EINVAL &&
	     blkf_submit(fa, 3, BLKF_READ, 0, 8, bad, 1, tbi_on_done, NULL) == -EINVAL &&
	     blkf_submit(fa, 0, BLKF_FLUSH, 0, 8, NULL, 0, tbi_on_done, NULL) == -EINVAL &&
	     blkf_submit(fa, 0, BLKF_READ, 0, 8, bad, BLKF_MAX_SEGS + 1,
			 tbi_on_done, NULL) == -EINVAL;
	bad[0] = (struct blkf_seg){BLKF_BOUNCE_BYTES - 512, 4096, BLKF_SEG_BOUNCE};
	ok = ok && blkf_submit(fa, 0, BLKF_READ, 0, 8, bad, 1, tbi_on_done,
			       NULL) == -EINVAL;
	tap_ok(&t, ok, "requests malformed on their face are refused by submit");

	/* Many at once: the ring's worth and more, completions in any order. */
	{
		struct tbi_done done[100];
		struct blkf_seg s[100];
		int handle[100], queued = 0, again = 0;
		memset(done, 0, sizeof(done));
		for (int i = 0; i < 100; i++) {
			s[i] = (struct blkf_seg){0x100000 + (uint64_t)i * 4096, 4096, 0};
			memset(ram(s[i].addr), i, 4096);
			handle[i] = blkf_submit(fa, 1, BLKF_WRITE, 2048 + 8 * (uint64_t)i,
						8, &s[i], 1, tbi_on_done, &done[i]);
			if (handle[i] == -EAGAIN) {
				again++;
				blkf_wait(fa, handle[queued]);
				i--;
				continue;
			}
			queued = i;
		}
		for (int i = 0; i < 100; i++)
			if (handle[i] >= 0)
				blkf_wait(fa, handle[i]);
		ok = 1;
		for (int i = 0; i < 100; i++)
			ok &= done[i].fired == 1 && done[i].status == 0;
		tap_ok(&t, ok, "100 writes in flight complete once each (%d -EAGAIN)", again);
	}

	blkf_close(fa);
	blkf_close(fb);
	blk_host_stop(h);
	ok = tb_sh("qemu-img check -q b.qcow2") == 0 &&
	     tb_sh("qemu-io -f qcow2 -c 'read -P 0x5a 51200 8k' b.qcow2 | "
		   "grep -q Pattern") != 0 &&
	     tb_sh("qemu-io -f raw -c 'read -P 0xa5 4096 8k' a.raw | "
		   "grep -q Pattern") != 0 &&
	     tb_sh("qemu-io -f qcow2 -c 'read -P 0x63 %u 4k' b.qcow2 | "
		   "grep -q Pattern", (2048 + 8 * 99) * 512) != 0;
	tap_ok(&t, ok, "after stop: qemu-img check is clean and qemu-io reads the data");
}

static void probed_raw_and_cache(void)
{
	struct blk_drive_spec d[3] = {
		{.id = "p", .file = tb_path("p.raw")},
		{.id = "wt", .file = tb_path("wt.raw"), .format = "raw",
		 .cache = BLKCTL_CACHE_WRITETHROUGH},
		{.id = "un", .file = tb_path("un.qcow2"), .format = "qcow2",
		 .cache = BLKCTL_CACHE_UNSAFE},
	};
	struct blk_drive_spec direct = {.id = "none", .file = "/var/tmp/v2e-blkif-direct.raw",
					.format = "raw", .cache = BLKCTL_CACHE_NONE};
	unsigned all[3] = {0, 1, 2}, one = 0;
	struct blkf_seg seg = {0x30000, 512, 0};
	struct blkf_seg odd[2] = {{0x30200, 512, 0}, {0x31000, 1024, 0}};
	struct blk_front *f;
	struct blk_host *h;
	int ok;

	ok = tb_sh("qemu-img create -q -f raw p.raw 1M && "
		   "qemu-img create -q -f raw wt.raw 1M && "
		   "qemu-img create -q -f qcow2 un.qcow2 1M") == 0;
	h = ok ? tbi_start(d, 3, &gm) : NULL;
	f = h ? tbi_front(h, all, 3) : NULL;
	tap_ok(&t, f != NULL, "a probed raw image, writethrough and unsafe drives start");
	if (!f) {
		blk_host_stop(h);
		return;
	}
	memset(ram(0x30000), 0, 512);
	memcpy(ram(0x30000), "QFI\xfb", 4);
	ok = tbi_io(f, 0, BLKF_WRITE, 0, 1, &seg, 1) == -EPERM;
	ok = ok && tbi_io(f, 0, BLKF_WRITE, 1, 1, &seg, 1) == 0;
	memcpy(ram(0x30000), "MBR!", 4);
	ok = ok && tbi_io(f, 0, BLKF_WRITE, 0, 1, &seg, 1) == 0;
	tap_ok(&t, ok, "a probed raw image refuses a qcow2 header in sector 0 only (-EPERM)");

	memset(ram(0x30200), 0x61, 512);
	memset(ram(0x31000), 0x62, 1024);
	ok = tbi_io(f, 1, BLKF_WRITE, 5, 3, odd, 2) == 0 &&
	     tbi_io(f, 2, BLKF_WRITE, 5, 3, odd, 2) == 0 &&
	     tbi_io(f, 2, BLKF_FLUSH, 0, 0, NULL, 0) == 0;
	tap_ok(&t, ok, "writethrough and unsafe drives write and flush");
	blkf_close(f);
	blk_host_stop(h);
	ok = tb_sh("qemu-io -f raw -c 'read -P 0x61 2560 512' -c 'read -P 0x62 3072 1k' "
		   "wt.raw | grep -q Pattern") != 0 &&
	     tb_sh("od -c p.raw | head -1 | grep -q 'M   B   R'") == 0 &&
	     tb_sh("qemu-img check -q un.qcow2") == 0;
	tap_ok(&t, ok, "the data is in the files");

	/* cache=none: O_DIRECT where the file system has it (unaligned
	 * pieces bounce in the raw format), page cache otherwise. */
	ok = tb_sh("qemu-img create -q -f raw %s 1M", direct.file) == 0;
	h = ok ? tbi_start(&direct, 1, &gm) : NULL;
	f = h ? tbi_front(h, &one, 1) : NULL;
	ok = f && tbi_io(f, 0, BLKF_WRITE, 5, 3, odd, 2) == 0;
	memset(ram(0x30200), 0, 512);
	memset(ram(0x31000), 0, 1024);
	ok = ok && tbi_io(f, 0, BLKF_READ, 5, 3, odd, 2) == 0 &&
	     tbi_all(ram(0x30200), 512, 0x61) && tbi_all(ram(0x31000), 1024, 0x62);
	tap_ok(&t, ok, "cache=none: unaligned pieces round-trip");
	if (f)
		blkf_close(f);
	blk_host_stop(h);
	unlink(direct.file);
}

static void snapshot(void)
{
	struct blk_drive_spec d = {.id = "snap", .file = tb_path("base.qcow2"),
				   .snapshot = true};
	struct blkf_seg seg = {0x30000, 0x10000, 0};
	unsigned one = 0;
	struct blk_front *f;
	struct blk_host *h;
	char tmp[600];
	unsigned before;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s/snaptmp", tb_tmpdir());
	ok = tb_sh("mkdir -p snaptmp && qemu-img create -q -f raw back.raw 2M && "
		   "qemu-io -f raw -c 'write -P 0x44 0 2M' back.raw >/dev/null && "
		   "qemu-img create -q -f qcow2 -b back.raw -F raw base.qcow2 && "
		   "qemu-io -c 'write -P 0x11 0 64k' base.qcow2 >/dev/null") == 0;
	before = files_in(tmp);
	setenv("TMPDIR", tmp, 1);
	h = ok ? tbi_start(&d, 1, &gm) : NULL;
	unsetenv("TMPDIR");
	f = h ? tbi_front(h, &one, 1) : NULL;
	tap_ok(&t, f != NULL, "-snapshot on a qcow2 image with a relative backing file");
	if (!f) {
		blk_host_stop(h);
		return;
	}
	memset(ram(0x30000), 0x22, 0x10000);
	ok = tbi_io(f, 0, BLKF_WRITE, 64, 128, &seg, 1) == 0;
	memset(ram(0x30000), 0, 0x10000);
	ok = ok && tbi_io(f, 0, BLKF_READ, 64, 128, &seg, 1) == 0 &&
	     tbi_all(ram(0x30000), 0x10000, 0x22);
	seg.len = 0x8000;
	ok = ok && tbi_io(f, 0, BLKF_READ, 0, 64, &seg, 1) == 0 &&
	     tbi_all(ram(0x30000), 0x8000, 0x11);
	seg.len = 0x10000;
	ok = ok && tbi_io(f, 0, BLKF_READ, 2048, 128, &seg, 1) == 0 &&
	     tbi_all(ram(0x30000), 0x10000, 0x44) &&
	     tbi_io(f, 0, BLKF_FLUSH, 0, 0, NULL, 0) == 0;
	tap_ok(&t, ok, "the guest reads its writes over the image and its backing file");
	tap_ok(&t, files_in(tmp) == before, "the overlay has no name in TMPDIR");
	blkf_close(f);
	blk_host_stop(h);
	ok = tb_sh("qemu-img check -q base.qcow2") == 0 &&
	     tb_sh("qemu-io -c 'read -P 0x11 0 64k' -c 'read -P 0x44 64k 64k' "
		   "base.qcow2 | grep -q Pattern") != 0 &&
	     files_in(tmp) == before;
	tap_ok(&t, ok, "after stop the image is unchanged and clean, no overlay left");
}

static void backend_dies(void)
{
	struct blk_drive_spec d = {.id = "x", .file = tb_path("a.raw"), .format = "raw"};
	struct blkf_seg seg = {0x30000, 512, 0};
	unsigned one = 0;
	struct blk_front *f;
	struct blk_host *h = tbi_start(&d, 1, &gm);
	char err[256] = "";
	int fds[3];
	unsigned n_fds = 3;
	int ok;

	f = h ? tbi_front(h, &one, 1) : NULL;
	ok = f && tbi_io(f, 0, BLKF_READ, 0, 1, &seg, 1) == 0 &&
	     blk_host_test_open(h, "/etc/passwd", err, sizeof(err)) == 0;
	tap_ok(&t, ok && strstr(err, "SIGSYS"),
	       "the backend's sandbox kills it for opening a file (%s)", err);
	ok = f && tbi_io(f, 0, BLKF_READ, 0, 1, &seg, 1) == -EIO &&
	     tbi_io(f, 0, BLKF_WRITE, 0, 1, &seg, 1) == -EIO;
	tap_ok(&t, ok, "then the front completes every request with -EIO");
	ok = h && blk_host_connect(h, &one, 1, fds, &n_fds, err, sizeof(err)) < 0;
	tap_ok(&t, ok, "and a new ring is refused: %s", err);
	if (f)
		blkf_close(f);
	blk_host_stop(h);
}

int main(void)
{
	if (guest_mem_create(&gm, TBI_RAM) < 0) {
		printf("Bail out! no guest RAM\n");
		return 1;
	}
	basic();
	probed_raw_and_cache();
	snapshot();
	backend_dies();
	guest_mem_destroy(&gm);
	tb_cleanup();
	return tap_done(&t);
}
