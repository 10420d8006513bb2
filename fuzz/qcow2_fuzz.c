/* libFuzzer target for the qcow2 parser and mapping code: the input is an
 * image file. It is opened read-only and read at spread-out offsets and
 * mapped, then opened read-write and written, zeroed, discarded and
 * flushed. Any crash, sanitizer report, hang or runaway allocation is a
 * bug. Built with clang by `make fuzz`; replayed by the block-fuzz tests. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every backing file is the image itself: a loop, or a read of it. */
static int fuzz_backing(void *opaque, const char *referrer, const char *name,
			char *resolved, size_t resolved_len)
{
	int fd = dup(*(int *)opaque);
	return fd < 0 ? -1 : fd;
}

static void exercise(int fd, unsigned flags)
{
	struct blk_open_opts o = {
		.flags = flags, .format = "qcow2", .name = "fuzz",
		.open_backing = fuzz_backing, .opaque = &fd,
	};
	static uint8_t buf[1 << 17];
	struct blk *b;
	int dfd = dup(fd), i;
	uint64_t pnum;
	unsigned mflags;

	if (dfd < 0)
		return;
	if (blk_open_fd(dfd, &o, &b) < 0) {
		close(dfd);
		return;
	}
	for (i = 0; i < 16 && b->size; i++) {
		uint64_t off = b->size / 16 * (uint64_t)i;
		uint64_t len = b->size - off < sizeof(buf) ? b->size - off :
			       sizeof(buf);
		if (blk_pread(b, off, buf, len) < 0)
			continue;
		if (blk_map(b, off, len, &pnum, &mflags) < 0)
			continue;
	}
	if (!(flags & BLK_O_RDONLY) && b->size) {
		uint64_t last = b->size - 1;
		memset(buf, 0xa5, 8192);
		(void)!blk_pwrite(b, 0, buf, 8192 < b->size ? 8192 : b->size);
		(void)!blk_pwrite(b, last / 2, buf, 1);
		(void)!blk_write_zeroes(b, last / 3, b->size - last / 3 < 70000 ?
				       b->size - last / 3 : 70000);
		(void)!blk_discard(b, last / 4, b->size - last / 4 < 70000 ?
				   b->size - last / 4 : 70000);
		(void)!blk_pwrite(b, last, buf, 1);
		(void)!blk_flush(b);
		(void)!blk_pread(b, 0, buf, 8192 < b->size ? 8192 : b->size);
	}
	blk_close(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		exercise(fd, BLK_O_RDONLY);
		exercise(fd, 0);
	}
	close(fd);
	return 0;
}
