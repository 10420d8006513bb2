/* The block layer: disk images behind a small table of functions.
 *
 * A backend (raw.c, qcow2*.c) implements struct blk_ops with synchronous,
 * thread-safe calls on an already-open file descriptor; it never opens a
 * path, because the device model runs sandboxed and is handed fds. Backing
 * files are reached through an opener the caller supplies.
 *
 * Guests and tools submit asynchronous requests through struct blk_aio:
 * several may be in flight; each completes by a callback run in the thread
 * of the event loop the blk_aio is attached to.
 *
 * Why a thread pool and not io_uring (bench/block/aio-choice.c: random
 * 4 KiB reads of a 512 MiB raw file at queue depth 32, 2-core host).
 * With O_DIRECT io_uring did 45-89k IOPS against 17-24k for 4 workers
 * and 29-34k for 8: for uncached raw I/O io_uring wins, 2-3x. Through
 * the page cache a plain pool did 80-150k against io_uring's 93-270k,
 * but the pool plus RWF_NOWAIT (a cached read done at once in the
 * submitter's thread, a worker only on a miss) did 360-460k. We chose
 * the pool, for every format: qcow2 needs metadata lookups, allocation,
 * copy-on-write and ordered flushes between data transfers; as
 * straight-line code run by a worker they stay short and checkable, where
 * io_uring would turn each into a state machine. Against QEMU's default
 * (its own thread pool, what `qemu-img bench` uses) it matches or wins
 * (docs/performance.md). The known next step, for O_DIRECT raw images on
 * real disks, is an io_uring path for raw behind the same blk_aio.
 *
 * Errors are 0 or -errno. Every offset and length from a guest or from an
 * image is checked before use (blk_check_request, and in each format).
 */
#ifndef V2E_BLOCK_BLOCK_H
#define V2E_BLOCK_BLOCK_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

#include "lib/compiler.h"

struct event_loop;
struct blk;

/* Largest single request; bigger guest requests are an I/O error, tools
 * split. Bounds the bounce buffers a request may need. */
#define BLK_MAX_REQUEST (32u << 20)
/* Deepest backing chain we follow; a loop is caught earlier by identity. */
#define BLK_MAX_CHAIN 64

enum {
	BLK_O_RDONLY = 1 << 0,
	BLK_O_DIRECT = 1 << 1,	/* raw: O_DIRECT already set on the fd */
	BLK_O_NO_BACKING = 1 << 2,
};

/* Opens the backing file `name` that image `referrer` names, read-only.
 * Returns an fd (the block layer owns it) or -errno. It writes the name it
 * resolved into resolved[resolved_len] so that a relative name inside that
 * backing resolves against it in turn. */
typedef int blk_open_backing_fn(void *opaque, const char *referrer,
				const char *name, char *resolved,
				size_t resolved_len);

struct blk_open_opts {
	unsigned flags;			/* BLK_O_* */
	const char *format;		/* "raw", "qcow2", or NULL to probe */
	const char *name;		/* label of the image, for the opener */
	blk_open_backing_fn *open_backing; /* NULL: backing files refused */
	void *opaque;
};

/* What map reports about a range. */
enum {
	BLK_MAP_DATA = 1 << 0,		/* data stored in this image */
	BLK_MAP_ZERO = 1 << 1,		/* reads as zeros */
	BLK_MAP_BACKING = 1 << 2,	/* comes from the backing chain */
};

struct blk_info {
	const char *format;
	uint64_t size;			/* guest-visible bytes */
	uint32_t cluster_size;		/* 0 for raw */
	int version;			/* qcow2 version, 0 for raw */
	int read_only;
	char backing[1024];		/* backing file name, "" if none */
	char backing_format[32];
	uint32_t nb_snapshots;
	int compression_type;		/* 0 zlib, 1 zstd */
	int refcount_bits;
};

/* The table a format fills in. All calls are made with a checked range
 * and may run concurrently in several worker threads. */
struct blk_ops {
	const char *name;
	int (*read)(struct blk *b, uint64_t off, void *buf, size_t len);
	int (*write)(struct blk *b, uint64_t off, const void *buf, size_t len);
	int (*flush)(struct blk *b);
	int (*discard)(struct blk *b, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk *b, uint64_t off, uint64_t len);
	/* Optional: a read or write that needs no disk I/O and no waiting
	 * (page-cache hits through RWF_NOWAIT, zeros of never-written areas),
	 * done in the submitter's thread; -EAGAIN when it would need either.
	 * Saves the worker hand-off, which is most of a cached 4 KiB
	 * request's latency. A write may be partly done before -EAGAIN: the
	 * worker then writes it all again. */
	int (*read_nowait)(struct blk *b, uint64_t off, void *buf, size_t len);
	int (*write_nowait)(struct blk *b, uint64_t off, const void *buf,
			    size_t len);
	/* Optional: one transfer of the contiguous range [off, off + len)
	 * to or from several buffers (a guest's scattered pages), and their
	 * no-wait forms. A format without them is called per buffer. */
	int (*readv)(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
		     size_t len);
	int (*writev)(struct blk *b, uint64_t off, const struct iovec *iov, int cnt,
		      size_t len);
	int (*readv_nowait)(struct blk *b, uint64_t off, const struct iovec *iov,
			    int cnt, size_t len);
	int (*writev_nowait)(struct blk *b, uint64_t off, const struct iovec *iov,
			     int cnt, size_t len);
	/* Describes [off, off+len): *pnum bytes from off share *flags. */
	int (*map)(struct blk *b, uint64_t off, uint64_t len, uint64_t *pnum,
		   unsigned *flags);
	void (*info)(struct blk *b, struct blk_info *info);
	void (*close)(struct blk *b);
};

/* Common head of every backend's state. */
struct blk {
	const struct blk_ops *ops;
	int fd;
	uint64_t size;
	int read_only;
	/* The file refuses RWF_NOWAIT writes: blk_pwritev_nowait() writes
	 * small ones in the submitter's thread all the same, except until
	 * inline_writes_off_until (CLOCK_MONOTONIC ns) after a slow one. */
	bool nowait_writes_refused;
	uint64_t inline_writes_off_until;
	char name[1024];
};

/* Opens an image on fd; on success the blk owns fd, on failure the caller
 * still does. */
must_check int blk_open_fd(int fd, const struct blk_open_opts *opts,
			   struct blk **out);
void blk_close(struct blk *b);
const char *blk_probe(int fd);	/* "qcow2" or "raw" */

/* Makes the file on fd (writable; its contents are lost) an empty qcow2
 * version 3 image of `size` bytes (a multiple of 512) with 64 KiB
 * clusters, backed by `backing` in `backing_fmt` when not NULL (the
 * -snapshot overlay's shape). Does not open it: blk_open_fd() does. */
must_check int qcow2_create(int fd, uint64_t size, const char *backing,
			    const char *backing_fmt);

/* pread with RWF_NOWAIT: 0 if all of it was done from the page cache,
 * -EAGAIN otherwise (including a short transfer), or -errno. */
int blk_pread_nowait(int fd, void *buf, size_t len, uint64_t off);
/* A buffered write of b's file at `off` without waiting: 0 if all of it
 * went into the page cache, -EAGAIN for a worker to do (it may be partly
 * done). Through RWF_NOWAIT; on a file system that takes no RWF_NOWAIT
 * writes (ext4), a plain write of up to 64 KiB, which lands in the page
 * cache in microseconds, unless one took over 1 ms in the last second
 * (the kernel throttling a writer with too much dirty data: the
 * submitter's loop must not be held up while writeback catches up). */
int blk_pwritev_nowait(struct blk *b, const struct iovec *iov, int cnt, size_t len,
		       uint64_t off);

/* Turns a guest's request into -EINVAL/-EIO before any host access:
 * overflow, past the end, too large, or a write to a read-only image. */
must_check int blk_check_request(const struct blk *b, uint64_t off,
				 uint64_t len, int is_write);

/* Synchronous calls, checked; used by workers and tools. */
must_check int blk_pread(struct blk *b, uint64_t off, void *buf, size_t len);
must_check int blk_pwrite(struct blk *b, uint64_t off, const void *buf,
			  size_t len);
/* The same over iovcnt buffers whose lengths add up to len (<=
 * BLK_MAX_IOV of them). */
#define BLK_MAX_IOV 128
/* 0, or -EINVAL unless 1..BLK_MAX_IOV buffers add up to exactly len. */
must_check int blk_check_iov(const struct iovec *iov, int iovcnt, size_t len);
must_check int blk_preadv(struct blk *b, uint64_t off, const struct iovec *iov,
			  int iovcnt, size_t len);
must_check int blk_pwritev(struct blk *b, uint64_t off, const struct iovec *iov,
			   int iovcnt, size_t len);
must_check int blk_flush(struct blk *b);
must_check int blk_discard(struct blk *b, uint64_t off, uint64_t len);
must_check int blk_write_zeroes(struct blk *b, uint64_t off, uint64_t len);
must_check int blk_map(struct blk *b, uint64_t off, uint64_t len,
		       uint64_t *pnum, unsigned *flags);
void blk_get_info(struct blk *b, struct blk_info *info);

/* Asynchronous requests. */
enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

struct blk_req;
typedef void blk_done_fn(struct blk_req *req, int ret);

/* Owned by the caller until its callback runs. */
struct blk_req {
	struct blk *blk;
	enum blk_op op;
	uint64_t offset;
	uint64_t len;
	void *buf;
	/* Instead of buf (iovcnt > 0): the buffers, their lengths adding up
	 * to len; owned by the caller like the request. */
	const struct iovec *iov;
	int iovcnt;
	blk_done_fn *done;
	void *opaque;
	/* private to the pool */
	int ret;
	struct blk_req *next;
};

struct blk_aio;

must_check int blk_aio_new(struct event_loop *loop, unsigned nthreads,
			   struct blk_aio **out);
/* Waits for requests in flight, without running their callbacks. */
void blk_aio_free(struct blk_aio *aio);
/* Queues req; its callback runs later from the event loop, also on error. */
void blk_aio_submit(struct blk_aio *aio, struct blk_req *req);
unsigned blk_aio_in_flight(const struct blk_aio *aio);

#endif
