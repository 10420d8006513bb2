/* diskbench: the guest side of bench/disk/run.sh. A static i386 program
 * (gcc -m32 -static) in the bench initramfs; it reads or writes a block
 * device with O_DIRECT, one request at a time, and times the whole loop
 * with CLOCK_MONOTONIC inside the guest:
 *
 *   diskbench NAME DEV read|write seq|rand BS COUNT
 *   diskbench now        (prints CLOCK_MONOTONIC in seconds, to time dd)
 *
 * seq: COUNT requests of BS bytes from offset 0 on. rand: COUNT requests
 * at offsets from a fixed pseudo-random sequence (a 64-bit LCG, the same
 * on every run), BS-aligned, anywhere on the device. Prints
 *   v2e-bench: NAME-mibs VALUE MiB/s
 *   v2e-bench: NAME-iops VALUE IOPS
 * or "v2e-bench: NAME FAIL reason" and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

static const char *name = "diskbench";

static int fail(const char *what)
{
	printf("v2e-bench: %s FAIL %s: %s\n", name, what, strerror(errno));
	return 1;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t size, blocks, seed = 0x76326562656e6368ull, off;
	unsigned long bs, count, i;
	int fd, write_it, rand_it;
	double t0, t1;
	void *buf;
	ssize_t n;

	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%.6f\n", now());
		return 0;
	}
	if (argc != 7) {
		fprintf(stderr, "usage: diskbench NAME DEV read|write seq|rand BS COUNT\n");
		return 2;
	}
	name = argv[1];
	write_it = !strcmp(argv[3], "write");
	rand_it = !strcmp(argv[4], "rand");
	bs = strtoul(argv[5], NULL, 0);
	count = strtoul(argv[6], NULL, 0);
	if (bs == 0 || bs % 4096 || bs > (64ul << 20) || count == 0) {
		errno = EINVAL;
		return fail("arguments");
	}
	fd = open(argv[2], (write_it ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		return fail("open");
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		return fail("BLKGETSIZE64");
	blocks = size / bs;
	if (blocks == 0 || (!rand_it && count > blocks)) {
		errno = ENOSPC;
		return fail("device too small");
	}
	if (posix_memalign(&buf, 4096, bs))
		return fail("posix_memalign");
	memset(buf, 0x5a, bs);

	t0 = now();
	for (i = 0; i < count; i++) {
		if (rand_it) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			off = (seed >> 33) % blocks * bs;
		} else {
			off = (uint64_t)i * bs;
		}
		n = write_it ? pwrite(fd, buf, bs, (off_t)off) : pread(fd, buf, bs, (off_t)off);
		if (n != (ssize_t)bs) {
			if (n >= 0)
				errno = EIO;
			return fail(write_it ? "pwrite" : "pread");
		}
	}
	t1 = now();
	if (t1 <= t0)
		t1 = t0 + 1e-9;
	printf("v2e-bench: %s-mibs %.2f MiB/s\n", name, count * (double)bs / (t1 - t0) / 1048576);
	printf("v2e-bench: %s-iops %.0f IOPS\n", name, count / (t1 - t0));
	close(fd);
	return 0;
}
