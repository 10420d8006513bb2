/* v2e-blk's drives: each image descriptor the vmm sends is opened with
 * the block layer (format given or probed, backing files asked of the
 * vmm), made a -snapshot overlay's backing where asked, and answered
 * with its size or an error naming the file. All before lockdown. */
#include "blkback/blkback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"

/* What the block layer's backing opener needs to know. */
struct bb_opener {
	struct blkback *bb;
	unsigned drive;
	/* -snapshot: the overlay names the drive's own file as its backing,
	 * which is already open here. */
	const char *overlay_label;
	const char *base_name;
	int base_fd;
};

static int bb_open_backing(void *opaque, const char *referrer,
			   const char *name, char *resolved,
			   size_t resolved_len)
{
	struct bb_opener *o = opaque;
	struct blkctl_backing m = {{BLKCTL_BACKING, sizeof(m), 0, 0}, o->drive, 0, "", ""};
	struct blkctl_backing_result res;
	int fd = -1;
	unsigned n_fds = 0;
	ssize_t n;

	if (o->overlay_label && !strcmp(referrer, o->overlay_label) &&
	    !strcmp(name, o->base_name)) {
		fd = fcntl(o->base_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		snprintf(resolved, resolved_len, "%s", o->base_name);
		return fd;
	}
	if (o->bb->locked)
		return -EPERM;
	if (strlen(referrer) >= sizeof(m.referrer) || strlen(name) >= sizeof(m.name))
		return -ENAMETOOLONG;
	strcpy(m.referrer, referrer);
	strcpy(m.name, name);
	if (ctl_send(o->bb->ctl, &m, NULL, 0) < 0)
		return -EIO;
	n = ctl_recv(o->bb->ctl, &res, sizeof(res), &fd, 1, &n_fds);
	if (n != (ssize_t)sizeof(res) || res.h.type != BLKCTL_BACKING_RESULT ||
	    (res.h.result == 0) != (n_fds == 1)) {
		if (n_fds)
			close(fd);
		return -EPROTO;
	}
	if (res.h.result < 0)
		return res.h.result;
	res.resolved[sizeof(res.resolved) - 1] = 0;
	snprintf(resolved, resolved_len, "%s", res.resolved);
	return fd;
}

static int reply_text(int ctl, uint32_t type, int result, const char *text)
{
	struct ctl_text t = {{type, sizeof(t), result, 0}, ""};
	snprintf(t.text, sizeof(t.text), "%s", text);
	return ctl_send(ctl, &t, NULL, 0);
}

int bb_setup(struct blkback *bb, struct blkctl_setup *m, const int *fds,
	     unsigned n_fds)
{
	int r;

	if (m->h.len != sizeof(*m) || n_fds != 1 ||
	    m->abi_version != BLKCTL_ABI_VERSION || m->n_drives == 0 ||
	    m->n_drives > BLKCTL_MAX_DRIVES || bb->gm.host) {
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
		(void)!reply_text(bb->ctl, BLKCTL_SETUP, -EPROTO,
				  "v2e-blk: a malformed SETUP (another v2e's backend?)");
		return -EPROTO;
	}
	r = guest_mem_attach(&bb->gm, fds[0], m->ram_size);
	if (r < 0) {
		close(fds[0]);
		(void)!reply_text(bb->ctl, BLKCTL_SETUP, r,
				  "v2e-blk: cannot map guest RAM");
		return r;
	}
	return reply_text(bb->ctl, BLKCTL_SETUP, 0, "");
}

static const char *known_format(const char *f)
{
	if (!strcmp(f, "raw"))
		return "raw";
	if (!strcmp(f, "qcow2"))
		return "qcow2";
	return NULL;
}

static int open_error(struct blkctl_drive_result *res, int r, const char *file,
		      const char *fmt)
{
	const char *hint = "";
	if (r == -ENOTSUP || r == -EINVAL || r == -EIO || r == -EPROTONOSUPPORT)
		hint = " (the message above says why; `qemu-img check` tells "
		       "whether it is damaged)";
	snprintf(res->text, sizeof(res->text), "%.150s: cannot open as %s: %s%s",
		 file, fmt, strerror(-r), hint);
	res->h.result = r;
	return r;
}

/* Opens drive m on fds (the image; with SNAPSHOT, the overlay file too)
 * into d; fills res. */
static int drive_open(struct blkback *bb, struct bb_drive *d,
		      const struct blkctl_drive *m, const int *fds,
		      unsigned n_fds, struct blkctl_drive_result *res)
{
	struct bb_opener o = {bb, m->index, NULL, NULL, -1};
	struct blk_open_opts opts = {0};
	const char *fmt;
	char label[BLKCTL_PATH_LEN + 32];
	struct stat st;
	int fd = fds[0], fl, r;

	if (fstat(fd, &st) < 0)
		return open_error(res, -errno, d->file, "an image");
	d->is_bdev = S_ISBLK(st.st_mode);
	fmt = m->format[0] ? known_format(m->format) : blk_probe(fd);
	if (!fmt) {
		snprintf(res->text, sizeof(res->text),
			 "%.150s: unknown format '%.15s' (raw or qcow2)", d->file,
			 m->format);
		return res->h.result = -EINVAL;
	}
	d->probed_raw = !m->format[0] && !strcmp(fmt, "raw");
	if (d->probed_raw)
		res->flags |= BLKCTL_RESULT_PROBED_RAW;
	snprintf(res->format, sizeof(res->format), "%s", fmt);

	/* cache=none: O_DIRECT, set here rather than at open so that the
	 * probe and qcow2's small metadata reads never meet its alignment
	 * rules; the raw format bounces what is not aligned. */
	fl = fcntl(fd, F_GETFL);
	if (d->cache == BLKCTL_CACHE_NONE && !d->snapshot) {
		if (strcmp(fmt, "raw")) {
			snprintf(res->text, sizeof(res->text),
				 "%.150s: qcow2 images are served through the "
				 "page cache: cache=none acts as writeback", d->file);
		} else if (fl < 0 || fcntl(fd, F_SETFL, fl | O_DIRECT) < 0) {
			snprintf(res->text, sizeof(res->text),
				 "%.150s: the file system refuses O_DIRECT: "
				 "cache=none acts as writeback", d->file);
		} else {
			opts.flags |= BLK_O_DIRECT;
			d->direct = true;
		}
	}

	opts.format = fmt;
	opts.name = d->file;
	opts.open_backing = bb_open_backing;
	opts.opaque = &o;
	if (!d->snapshot) {
		if (d->read_only)
			opts.flags |= BLK_O_RDONLY;
		r = blk_open_fd(fd, &opts, &d->blk);
		if (r < 0)
			return open_error(res, r, d->file, fmt);
		return 0;
	}

	/* -snapshot: the image, read-only, under a fresh qcow2 overlay. The
	 * image is opened alone first, so a damaged one is named as itself
	 * and its size is known. */
	{
		struct blk *base;
		struct blk_open_opts oo = {0};
		int ofd = fds[1], bfd;
		uint64_t size;

		opts.flags |= BLK_O_RDONLY;
		bfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (bfd < 0)
			return open_error(res, -errno, d->file, fmt);
		r = blk_open_fd(bfd, &opts, &base);
		if (r < 0) {
			close(bfd);
			return open_error(res, r, d->file, fmt);
		}
		size = base->size & ~(uint64_t)(BLKF_SECTOR - 1);
		blk_close(base);
		r = qcow2_create(ofd, size, d->file, fmt);
		if (r < 0) {
			snprintf(res->text, sizeof(res->text),
				 "%.150s: cannot make the -snapshot overlay: %s",
				 d->file, strerror(-r));
			return res->h.result = r;
		}
		snprintf(label, sizeof(label), "%s (-snapshot overlay)", d->file);
		o.overlay_label = label;
		o.base_name = d->file;
		o.base_fd = fd;
		oo.flags = d->read_only ? BLK_O_RDONLY : 0;
		oo.format = "qcow2";
		oo.name = label;
		oo.open_backing = bb_open_backing;
		oo.opaque = &o;
		r = blk_open_fd(ofd, &oo, &d->blk);
		if (r < 0)
			return open_error(res, r, d->file, "a -snapshot overlay");
		/* The overlay holds its own copy of the image's descriptor;
		 * the caller closes this one. */
		return 0;
	}
}

int bb_drive(struct blkback *bb, struct blkctl_drive *m, const int *fds,
	     unsigned n_fds)
{
	struct blkctl_drive_result res = {{BLKCTL_DRIVE_RESULT, sizeof(res), 0, 0},
					  m->index, 0, 0, "", ""};
	struct bb_drive *d = &bb->drive[bb->n_drives];
	unsigned want_fds = (m->flags & BLKCTL_DRIVE_SNAPSHOT) ? 2 : 1;
	int r;

	m->file[sizeof(m->file) - 1] = 0;
	m->format[sizeof(m->format) - 1] = 0;
	if (m->h.len != sizeof(*m) || m->index != bb->n_drives ||
	    bb->n_drives == BLKCTL_MAX_DRIVES || n_fds != want_fds ||
	    (m->flags & ~(BLKCTL_DRIVE_READ_ONLY | BLKCTL_DRIVE_SNAPSHOT)) ||
	    m->cache > BLKCTL_CACHE_UNSAFE || !bb->gm.host) {
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
		snprintf(res.text, sizeof(res.text), "v2e-blk: a malformed DRIVE");
		res.h.result = -EPROTO;
		(void)!ctl_send(bb->ctl, &res, NULL, 0);
		return -EPROTO;
	}
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", ctl_name(m->id));
	snprintf(d->file, sizeof(d->file), "%s", m->file);
	d->cache = (enum blkctl_cache)m->cache;
	d->read_only = m->flags & BLKCTL_DRIVE_READ_ONLY;
	d->snapshot = m->flags & BLKCTL_DRIVE_SNAPSHOT;
	r = drive_open(bb, d, m, fds, n_fds, &res);
	if (r < 0) {
		for (unsigned i = 0; i < n_fds; i++)
			close(fds[i]);
		d->blk = NULL;
	} else {
		if (d->snapshot)
			close(fds[0]);
		d->sectors = d->blk->size / BLKF_SECTOR;
		res.size = d->sectors * BLKF_SECTOR;
		bb->n_drives++;
	}
	if (ctl_send(bb->ctl, &res, NULL, 0) < 0)
		return -EIO;
	return r;
}

void bb_drives_close(struct blkback *bb)
{
	for (unsigned i = 0; i < bb->n_drives; i++) {
		struct bb_drive *d = &bb->drive[i];
		if (!d->blk)
			continue;
		if (!d->read_only && d->cache != BLKCTL_CACHE_UNSAFE &&
		    !d->snapshot && blk_flush(d->blk) < 0)
			log_error("%s: the flush at exit failed", d->file);
		blk_close(d->blk);
		d->blk = NULL;
	}
}
