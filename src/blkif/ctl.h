/* The control socket between the vmm and the block backend, v2e-blk: a
 * SOCK_SEQPACKET pair carrying one message per packet with ioreq/ctl.h's
 * header and ctl_send()/ctl_recv(), descriptors passed with SCM_RIGHTS.
 * The hot path never uses it: requests go over the rings (ring.h).
 *
 * The conversation:
 *   vmm -> blk  SETUP (fd: guest RAM's memfd)
 *   vmm -> blk  DRIVE, one per drive (fds: the image, opened by the vmm;
 *               with SNAPSHOT also the overlay, an unlinked temporary file)
 *   blk -> vmm  BACKING, any number, while it opens a drive: the vmm
 *               resolves the name against the referrer's directory, opens
 *               it read-only and answers BACKING_RESULT (fd: the file, or
 *               result -errno)
 *   blk -> vmm  DRIVE_RESULT (result 0 or -errno; text: an error naming
 *               the file, or a warning)
 *   vmm -> blk  START; blk -> vmm READY (result) once locked down
 *   vmm -> blk  CONNECT (fds: ring memfd, request pipe's read end,
 *               response pipe's write end); blk -> vmm CONNECT_RESULT
 *   vmm -> blk  SHUTDOWN; blk flushes, answers SHUTDOWN and exits.
 * The vmm answers BACKING only before START, and only for a referrer it
 * named itself (a drive's file or a backing file it opened), so a
 * backend taken over by an image it parses can read no other file. */
#ifndef V2E_BLKIF_CTL_H
#define V2E_BLKIF_CTL_H

#include <stdint.h>

#include "blkif/front.h"
#include "ioreq/ctl.h"

#define BLKCTL_ABI_VERSION 2u
#define BLKCTL_MAX_DRIVES 32u
#define BLKCTL_MAX_FRONTS 16u
#define BLKCTL_PATH_LEN 1024u
#define BLKCTL_FMT_LEN 16u

enum blkctl_type {
	BLKCTL_SETUP = 101,
	BLKCTL_DRIVE = 102,
	BLKCTL_BACKING = 103,
	BLKCTL_BACKING_RESULT = 104,
	BLKCTL_DRIVE_RESULT = 105,
	BLKCTL_START = 106,
	BLKCTL_READY = 107,
	BLKCTL_CONNECT = 108,
	BLKCTL_CONNECT_RESULT = 109,
	BLKCTL_SHUTDOWN = 110,
	/* Test builds: the backend tries to open a path (the sandbox must
	 * stop it) and answers with the result if it is still alive. */
	BLKCTL_TEST_OPEN = 199,
};

/* The cache modes QEMU's -drive cache= names. */
enum blkctl_cache {
	BLKCTL_CACHE_WRITEBACK = 0, /* flushes reach the disk */
	BLKCTL_CACHE_NONE = 1,      /* O_DIRECT, flushes reach the disk */
	BLKCTL_CACHE_WRITETHROUGH = 2, /* every write flushed before it completes */
	BLKCTL_CACHE_UNSAFE = 3,    /* flushes are no-ops */
};

struct blkctl_setup {
	struct ctl_hdr h;
	uint32_t abi_version;
	uint32_t n_drives;
	uint64_t ram_size;
};

#define BLKCTL_DRIVE_READ_ONLY 0x1u
#define BLKCTL_DRIVE_SNAPSHOT 0x2u

struct blkctl_drive {
	struct ctl_hdr h;
	uint32_t index;   /* 0, 1, ... in order */
	uint32_t flags;   /* BLKCTL_DRIVE_* */
	uint32_t cache;   /* enum blkctl_cache */
	uint32_t pad;
	char format[BLKCTL_FMT_LEN];  /* "raw", "qcow2", "" to probe */
	char id[CTL_NAME_LEN];
	char file[BLKCTL_PATH_LEN];   /* the path, for messages and backing names */
};

struct blkctl_backing {
	struct ctl_hdr h;
	uint32_t drive;
	uint32_t pad;
	char referrer[BLKCTL_PATH_LEN];
	char name[BLKCTL_PATH_LEN];
};

struct blkctl_backing_result {
	struct ctl_hdr h;           /* result: 0 (one fd) or -errno */
	char resolved[BLKCTL_PATH_LEN];
};

#define BLKCTL_RESULT_PROBED_RAW 0x1u /* no format given, probing said raw */

struct blkctl_drive_result {
	struct ctl_hdr h;           /* result: 0 or -errno */
	uint32_t index;
	uint32_t flags;             /* BLKCTL_RESULT_* */
	uint64_t size;              /* bytes the guest sees */
	char format[BLKCTL_FMT_LEN];
	char text[256];             /* error, or warning with result 0 */
};

struct blkctl_connect {
	struct ctl_hdr h;
	uint32_t n_disks;           /* 1..BLKF_MAX_DISKS */
	uint32_t drive[BLKF_MAX_DISKS]; /* front disk i is drive[i] */
	uint32_t pad;
};

/* READY, CONNECT_RESULT, SHUTDOWN's answer and TEST_OPEN: struct ctl_text
 * (result, and a message when it failed). TEST_OPEN's text is the path. */

#endif
