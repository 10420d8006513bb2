/* Port 0x80, the POST diagnostic port: firmware and kernels write it as a
 * delay (Linux's outb_p). Nothing listens, so its writes are buffered
 * (no reply awaited) and reads see a floating bus. */

#include "dev/device.h"
#include "dev/kind.h"
#include "lib/vstate.h"

struct post {
	uint8_t unused;
};

static uint64_t post_read(void *opaque, uint64_t off, unsigned size)
{
	return 0xff;
}

static void post_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
}

static const struct io_ops post_ops = {post_read, post_write, IO_SIZE_1, IO_SIZE_1};

/* ---- the kind (dev/kind.h) ---- */

static int post_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		       char *err, size_t n)
{
	return c->claim(c, DEV_SPACE_PIO, 0x80, 1, DEV_CLAIM_BUFFERED, &post_ops, dev);
}

/* Nothing a guest can see survives a write: an empty state. */
static const struct vs_desc post_state = {.name = "post", .version = 1};

DEV_KIND(post) = {
	.name = "post",
	.help = "POST diagnostic port 0x80 (writes ignored)",
	.where = DEV_IN_DM,
	.category = DEV_CAT_PLATFORM,
	.size = sizeof(struct post),
	.create = post_create,
	.state = &post_state,
};
