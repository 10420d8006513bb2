/* qcow2_create(): the images it makes pass `qemu-img check`, say what
 * qemu-img info expects (size, backing file and format), open in the
 * block layer, and stay clean once written through both it and qemu-io. */
#include <inttypes.h>

#include "../tap.h"
#include "helpers.h"

static struct tap t;

static int create(const char *name, uint64_t size, const char *backing,
		  const char *fmt)
{
	int fd = open(tb_path(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
	int r;
	if (fd < 0)
		return -errno;
	r = qcow2_create(fd, size, backing, fmt);
	close(fd);
	return r;
}

static void sizes(void)
{
	static const uint64_t size[] = {0, 512, 64 << 20, 3ull << 40,
					(512ull << 20) + 512};
	for (unsigned i = 0; i < ARRAY_SIZE(size); i++) {
		struct blk *b;
		int ok = create("c.qcow2", size[i], NULL, NULL) == 0 &&
			 tb_sh("qemu-img check -q c.qcow2") == 0;
		b = ok ? tb_open("c.qcow2", "qcow2", 0) : NULL;
		tap_ok(&t, b && b->size == size[i],
		       "a %" PRIu64 "-byte image passes qemu-img check and opens",
		       size[i]);
		blk_close(b);
	}
	tap_ok(&t, create("c.qcow2", 1000, NULL, NULL) == -EINVAL,
	       "a size that is not whole sectors is refused");
	tap_ok(&t, create("c.qcow2", 1 << 20, NULL, "raw") == -EINVAL,
	       "a backing format without a backing file is refused");
}

static void overlay(void)
{
	uint8_t buf[4096];
	struct blk *b;
	int ok;

	ok = tb_sh("qemu-img create -q -f raw base.raw 8M && "
		   "qemu-io -f raw -c 'write -P 0x5a 0 8M' base.raw >/dev/null") == 0 &&
	     create("top.qcow2", 8 << 20, tb_path("base.raw"), "raw") == 0;
	tap_ok(&t, ok && tb_sh("qemu-img check -q top.qcow2 && "
			       "qemu-img info top.qcow2 | grep -q 'backing file format: raw'") == 0,
	       "an overlay names its backing file and format for qemu-img");
	b = tb_open("top.qcow2", NULL, 0);
	ok = b && blk_pread(b, 4096, buf, sizeof(buf)) == 0 && buf[0] == 0x5a &&
	     buf[4095] == 0x5a;
	tap_ok(&t, ok, "the overlay reads its backing file through the block layer");
	memset(buf, 0xc3, sizeof(buf));
	ok = b && blk_pwrite(b, 1 << 20, buf, sizeof(buf)) == 0 &&
	     blk_flush(b) == 0;
	blk_close(b);
	ok = ok && tb_sh("qemu-io -c 'write -P 0x77 3M 100k' top.qcow2 >/dev/null") == 0 &&
	     tb_sh("qemu-img check -q top.qcow2") == 0 &&
	     tb_sh("qemu-io -c 'read -P 0xc3 1M 4k' -c 'read -P 0x5a 0 1M' "
		   "-c 'read -P 0x77 3M 100k' top.qcow2 | grep -q Pattern") != 0;
	tap_ok(&t, ok, "written by us and by qemu-io, it stays clean and reads back");
}

int main(void)
{
	sizes();
	overlay();
	tb_cleanup();
	return tap_done(&t);
}
