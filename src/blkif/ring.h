/* The block ring ABI: the memory one block front (a device model) shares
 * with the block backend, v2e-blk (front.h says what a front is). As in
 * Xen's blkif: one shared area per front with a request ring (producer:
 * front) and a response ring (producer: back), free-running indices, and
 * an event channel each way.
 *
 * The area is one sealed memfd of BLKIF_SHARED_SIZE bytes, created and
 * sealed (no shrinking, no growing) by the vmm, which writes the header
 * (magic, ABI version, the disk table) before anyone else maps it; the
 * front reads the header once, at attach; the backend never reads it (it
 * was told the disks over its control socket).
 *
 * Who writes what:
 *   front: req_prod, the request slots, rsp_cons, the bounce area
 *   back:  req_cons, rsp_prod, the response slots, the bounce area
 *          (reads into bounce segments)
 * Each index is stored with release ordering after the slots it
 * publishes, and loaded with acquire ordering before they are read.
 *
 * Flow control. A front has at most BLKIF_RING_SLOTS requests whose
 * response it has not consumed (req_prod - rsp_cons <= SLOTS); so the
 * back, which takes a request only while req_cons - rsp_cons < SLOTS,
 * always has room for its response and holds at most SLOTS requests of a
 * front at a time, however fast that front produces.
 *
 * What the back checks, since it trusts nothing the front writes (a
 * device model the guest has taken over): req_prod no further than SLOTS
 * ahead of req_cons and rsp_cons no further than SLOTS behind rsp_prod,
 * else the ring is corrupt and the front is disconnected; each request
 * is copied out of shared memory before any field of it is checked and
 * only the copy is used (the front may rewrite the slot meanwhile); in
 * the copy, the disk index, operation, sector range, segment count,
 * every segment (length, flags, and address: in guest RAM in one piece,
 * or in the bounce area) and that the lengths add up. A malformed request
 * gets an error response; it never reaches the image.
 *
 * What the front checks, since the back may die or misbehave: rsp_prod
 * no further ahead of rsp_cons than the requests it has outstanding, and
 * a response id naming a request it has in flight; anything else and it
 * treats the backend as gone.
 *
 * Event channels: a pipe each way, one byte a kick. Request kick (front
 * -> back): the front writes after publishing requests. Response kick
 * (back -> front): the backend writes after publishing responses. Pipes,
 * not eventfds: each end has one holder, so either side's death is the
 * other's hang-up (an eventfd has no end to hang up), and the kernel
 * wakes a pipe's reader as a hand-over from its writer, which puts the
 * backend on the CPU of the device model that waits for it rather than
 * on the vCPU's. A front whose request pipe hangs up has ended: the
 * backend takes nothing more from it. Both are non-blocking; a kick that
 * finds the pipe full is not needed (it is readable already).
 *
 * All fields are fixed width, host order (both ends run on one host); no
 * bitfields; sizes and offsets are asserted. */
#ifndef V2E_BLKIF_RING_H
#define V2E_BLKIF_RING_H

#include <stddef.h>
#include <stdint.h>

#include "blkif/front.h"

#define BLKIF_MAGIC 0x46496b62u /* "bkIF" */
#define BLKIF_ABI_VERSION 2u
#define BLKIF_RING_SLOTS 64u /* a power of two */

/* One disk as the front sees it: written by the vmm at creation. */
struct blkif_disk {
	uint64_t sectors;
	uint32_t read_only;  /* 0 or 1 */
	uint32_t pad;
	char serial[24];     /* NUL-terminated within 21 bytes */
};
_Static_assert(sizeof(struct blkif_disk) == 40, "blkif_disk layout");

_Static_assert(sizeof(struct blkf_seg) == 16, "blkf_seg layout");
_Static_assert(offsetof(struct blkf_seg, len) == 8, "blkf_seg layout");

/* One request. `id` is the front's and comes back in the response
 * unchanged. `op` is enum blkf_op, `disk` an index into the front's disk
 * table. READ and WRITE: 1..BLKF_MAX_SEGS segments whose lengths add up
 * to nr_sectors * BLKF_SECTOR (1..BLKF_MAX_SECTORS sectors). DISCARD:
 * nr_sectors >= 1, no segments. FLUSH: no sectors, no segments. */
struct blkif_req {
	uint64_t id;
	uint64_t sector;
	uint32_t nr_sectors;
	uint16_t nseg;
	uint8_t op;
	uint8_t disk;
	uint8_t pad[8];
	struct blkf_seg seg[BLKF_MAX_SEGS];
};
_Static_assert(offsetof(struct blkif_req, seg) == 32, "blkif_req layout");
_Static_assert(sizeof(struct blkif_req) == 32 + 16 * BLKF_MAX_SEGS,
	       "blkif_req layout");

/* One response: the request's id and its status (0 or a -errno of those
 * front.h lists). */
struct blkif_rsp {
	uint64_t id;
	int32_t status;
	uint32_t pad;
};
_Static_assert(sizeof(struct blkif_rsp) == 16, "blkif_rsp layout");

struct blkif_shared {
	/* vmm, at creation */
	uint32_t magic;
	uint32_t abi_version;
	uint32_t n_disks;     /* 1..BLKF_MAX_DISKS */
	uint32_t ring_slots;  /* BLKIF_RING_SLOTS */
	uint8_t pad0[48];
	struct blkif_disk disk[BLKF_MAX_DISKS];
	/* front */
	uint32_t req_prod;
	uint8_t pad1[60];
	uint32_t rsp_cons;
	uint8_t pad2[60];
	/* back */
	uint32_t req_cons;
	uint8_t pad3[60];
	uint32_t rsp_prod;
	uint8_t pad4[60];
	struct blkif_req req[BLKIF_RING_SLOTS];
	struct blkif_rsp rsp[BLKIF_RING_SLOTS];
};
_Static_assert(offsetof(struct blkif_shared, disk) == 64, "header layout");
_Static_assert(offsetof(struct blkif_shared, req_prod) == 384, "index layout");
_Static_assert(offsetof(struct blkif_shared, req) == 640, "ring layout");

/* The bounce area follows, page aligned (O_DIRECT transfers into it need
 * no copy), BLKF_BOUNCE_BYTES long. */
#define BLKIF_BOUNCE_OFFSET 0x40000u
#define BLKIF_SHARED_SIZE (BLKIF_BOUNCE_OFFSET + BLKF_BOUNCE_BYTES)
_Static_assert(sizeof(struct blkif_shared) <= BLKIF_BOUNCE_OFFSET,
	       "the rings end before the bounce area");

/* Maps a ring's memfd after checking it is sealed against growing and
 * shrinking and exactly BLKIF_SHARED_SIZE long. 0, or -errno with err. */
int blkif_map(int fd, struct blkif_shared **out, char *err, size_t errlen);

#endif
