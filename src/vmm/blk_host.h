/* The vmm's side of the block backend: it opens the disk images itself
 * (so their paths are resolved with the user's rights, and locked
 * against a second writer), starts one sandboxed v2e-blk that parses and
 * serves them all, and makes a ring for each device model that needs
 * disks (blkif/ring.h). The device model attaches with blkf_attach()
 * and never sees a file.
 *
 * Errors are 0 or -errno with one line in err naming the file and what
 * to do; the caller exits with status 2 for a refused image. */
#ifndef V2E_VMM_BLK_HOST_H
#define V2E_VMM_BLK_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "blkif/ctl.h"
#include "blkif/front.h"
#include "lib/compiler.h"

struct guest_mem;
struct blk_host;

struct blk_drive_spec {
	const char *id;      /* the drive's name in messages ("ide0-hd0") */
	const char *file;
	const char *format;  /* "raw", "qcow2", NULL to probe (with QEMU's warning for raw) */
	const char *serial;  /* NULL: "QM%05u" of the drive's index, as QEMU does */
	bool read_only;
	bool snapshot;       /* writes go to a temporary overlay, gone at exit */
	enum blkctl_cache cache;
};

/* Opens every file (read-only for read_only and for snapshot's image),
 * takes an open-file-description lock on each (write lock when written,
 * read lock otherwise), starts `program` (NULL: v2e-blk beside this
 * executable) and has it open them. With n == 0 nothing is started and
 * *out is NULL. */
must_check int blk_host_start(struct blk_host **out, const char *program,
			      const struct blk_drive_spec *d, unsigned n,
			      const struct guest_mem *gm, char *err,
			      size_t errlen);

/* Drive `drive` (its index in the specs) as a front will see it. */
must_check int blk_host_info(struct blk_host *h, unsigned drive,
			     struct blkf_disk *out);

/* A ring for one front serving drives[0..n) (its disk i is drives[i]),
 * connected to the backend. On success fds[0..3) are the ring's memfd,
 * the request pipe's write end and the response pipe's read end, in the
 * order blkf_attach() takes them; *n_fds is their capacity on entry
 * (>= 3) and 3 on return. The caller owns them: hand them to a device
 * model, then close them, so that only the device model holds the pipes'
 * ends (the backend then sees a dead front as a hang-up). Main thread only: it
 * talks to the backend over the control socket and waits for the answer. */
must_check int blk_host_connect(struct blk_host *h, const unsigned *drives,
				unsigned n, int *fds, unsigned *n_fds,
				char *err, size_t errlen);

/* Asks the backend to finish what runs, flush and exit; reaps it. A
 * -snapshot overlay is gone with it. NULL is a no-op. */
void blk_host_stop(struct blk_host *h);

#ifdef V2E_TEST_DEVICES
/* Tests: the backend tries to open `path` after lockdown. 0 if it was
 * killed for it (err: how it died), -EEXIST if it survived. */
int blk_host_test_open(struct blk_host *h, const char *path, char *err,
		       size_t errlen);
#endif

#endif
