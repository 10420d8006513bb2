/* The vmm's side of v2e-blk (blk_host.h; the conversation is
 * blkif/ctl.h). The vmm opens and locks the images, answers the backend's
 * questions for backing files during setup only, and creates each
 * front's ring. A thread watches the backend so that its death at run
 * time is reported once; the fronts notice it by themselves (their
 * response pipe hangs up). */
#include "vmm/blk_host.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blkif/ring.h"
#include "dm/sandbox/sandbox.h"
#include "lib/log.h"
#include "lib/program.h"
#include "mem/guest_mem.h"

/* Setup may repair a dirty qcow2 image's refcounts: give it time. */
#define REPLY_TIMEOUT_MS 60000
#define MAX_KNOWN_NAMES 256

struct host_drive {
	char file[BLKCTL_PATH_LEN];
	struct blkf_disk disk;
};

struct blk_host {
	struct sandbox_child child;
	int ctl;
	unsigned n;
	struct host_drive drive[BLKCTL_MAX_DRIVES];
	/* Names the backend may ask backing files of: the drives' files and
	 * the backing files opened so far. */
	char *known[MAX_KNOWN_NAMES];
	unsigned n_known;
	char backing_err[400];	/* why the last backing file was refused */
	pthread_t watcher;
	bool watching;
	int stop_efd;
	int dead;		/* atomic: the backend has ended */
	bool reaped;
	char death[160];	/* how it ended */
};

/* Waits for one message from the backend. n, or -ETIMEDOUT, or -EPIPE
 * when it has gone (its death is then known). */
static ssize_t recv_reply(struct blk_host *h, void *buf, size_t cap, int *fds,
			  unsigned max_fds, unsigned *n_fds)
{
	struct pollfd p = {h->ctl, POLLIN, 0};
	ssize_t n;
	int r;

	*n_fds = 0;
	do
		r = poll(&p, 1, REPLY_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	n = ctl_recv(h->ctl, buf, cap, fds, max_fds, n_fds);
	if (n == 0 || n == -ECONNRESET)
		return -EPIPE;
	return n;
}

/* The backend is gone or useless: make sure it is dead and reaped, and
 * say how it ended. Only without the watcher running. */
static void backend_reap(struct blk_host *h, bool kill_it)
{
	int status;
	if (h->reaped || h->child.pid <= 0)
		return;
	if (kill_it)
		sandbox_kill(&h->child);
	if (sandbox_reap(&h->child, &status, true) == 1) {
		sandbox_describe_status(status, h->death, sizeof(h->death));
		h->reaped = true;
	}
	__atomic_store_n(&h->dead, 1, __ATOMIC_RELEASE);
}

static void *watch_backend(void *arg)
{
	struct blk_host *h = arg;
	struct pollfd p[2] = {
		{h->child.pidfd >= 0 ? h->child.pidfd : h->ctl,
		 h->child.pidfd >= 0 ? POLLIN : 0, 0},
		{h->stop_efd, POLLIN, 0},
	};

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (p[0].revents)
			break;
	}
	backend_reap(h, false);
	log_error("the disk backend v2e-blk %s: the guest's disks now fail "
		  "with I/O errors", h->death[0] ? h->death : "has ended");
	return NULL;
}

static int remember_name(struct blk_host *h, const char *name)
{
	if (h->n_known == MAX_KNOWN_NAMES)
		return -ENOSPC;
	h->known[h->n_known] = strdup(name);
	if (!h->known[h->n_known])
		return -ENOMEM;
	h->n_known++;
	return 0;
}

static bool known_name(const struct blk_host *h, const char *name)
{
	for (unsigned i = 0; i < h->n_known; i++)
		if (!strcmp(h->known[i], name))
			return true;
	return false;
}

/* Locks fd for reading or writing against other processes (v2e or QEMU
 * take such locks); 0, or -EAGAIN with err saying who holds it. A file
 * system without locks costs a warning, not the start. */
static int lock_image(int fd, const char *file, bool write, char *err,
		      size_t errlen)
{
	struct flock fl = {.l_type = write ? F_WRLCK : F_RDLCK,
			   .l_whence = SEEK_SET};
	struct flock who = fl;

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES) {
		log_warn("%s: cannot lock it (%s): nothing stops another "
			 "process from writing it too", file, strerror(errno));
		return 0;
	}
	if (fcntl(fd, F_OFD_GETLK, &who) == 0 && who.l_type == F_RDLCK)
		return err_say(err, errlen, -EAGAIN,
			       "%s is locked: another process has it open "
			       "(read-only); stop it or use readonly=on or "
			       "-snapshot here", file);
	return err_say(err, errlen, -EAGAIN,
		       "%s is locked: another process has it open for writing",
		       file);
}

static int open_image(const struct blk_drive_spec *s, int *fd, int *overlay,
		      char *err, size_t errlen)
{
	bool writable = !s->read_only && !s->snapshot;
	struct stat st;
	int r;

	*fd = open(s->file, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return err_say(err, errlen, -e,
				       "%s: No such file or directory (check "
				       "the path)", s->file);
		if (writable && (e == EACCES || e == EPERM || e == EROFS))
			return err_say(err, errlen, -e,
				       "%s: cannot open it for writing: %s (use "
				       "readonly=on or -snapshot, or fix its "
				       "permissions)", s->file, strerror(e));
		return err_say(err, errlen, -e, "%s: cannot open it: %s",
			       s->file, strerror(e));
	}
	if (fstat(*fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		r = err_say(err, errlen, -EINVAL,
			    "%s: not a regular file or a block device", s->file);
		goto fail;
	}
	r = lock_image(*fd, s->file, writable, err, errlen);
	if (r < 0)
		goto fail;
	*overlay = -1;
	if (s->snapshot) {
		const char *dir = getenv("TMPDIR");
		if (!dir || !dir[0])
			dir = "/var/tmp";
		/* Unlinked from the start: gone at exit, however we exit. */
		*overlay = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
		if (*overlay < 0) {
			r = err_say(err, errlen, -errno,
				    "%s: cannot create the -snapshot overlay in "
				    "%s: %s (set TMPDIR to a writable directory)",
				    s->file, dir, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return r;
}

/* BACKING: the name resolved against the referrer's directory, opened
 * read-only and read-locked, for a referrer we named ourselves. */
static int answer_backing(struct blk_host *h, struct blkctl_backing *m,
			  ssize_t len)
{
	struct blkctl_backing_result res = {{BLKCTL_BACKING_RESULT, sizeof(res), 0, 0}, ""};
	const char *slash;
	struct stat st;
	int fd = -1, r;

	if (len != (ssize_t)sizeof(*m))
		return -EPROTO;
	m->referrer[sizeof(m->referrer) - 1] = 0;
	m->name[sizeof(m->name) - 1] = 0;
	if (!known_name(h, m->referrer) || !m->name[0]) {
		res.h.result = -EPERM;
		goto answer;
	}
	slash = strrchr(m->referrer, '/');
	if (m->name[0] == '/' || !slash)
		r = snprintf(res.resolved, sizeof(res.resolved), "%s", m->name);
	else
		r = snprintf(res.resolved, sizeof(res.resolved), "%.*s/%s",
			     (int)(slash - m->referrer), m->referrer, m->name);
	if (r < 0 || (size_t)r >= sizeof(res.resolved)) {
		res.h.result = -ENAMETOOLONG;
		goto answer;
	}
	fd = open(res.resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		res.h.result = -errno;
		snprintf(h->backing_err, sizeof(h->backing_err),
			 "%.140s: its backing file %.140s: %s", m->referrer,
			 res.resolved, strerror(errno));
		goto answer;
	}
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		res.h.result = -EINVAL;
		snprintf(h->backing_err, sizeof(h->backing_err),
			 "%.140s: its backing file %.140s is not a regular file",
			 m->referrer, res.resolved);
		goto answer;
	}
	r = lock_image(fd, res.resolved, false, h->backing_err,
		       sizeof(h->backing_err));
	if (r == 0)
		r = remember_name(h, res.resolved);
	res.h.result = r;
answer:
	if (res.h.result < 0 && fd >= 0) {
		close(fd);
		fd = -1;
	}
	r = ctl_send(h->ctl, &res, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
	return r;
}

static void warn_probed_raw(const char *file)
{
	/* QEMU's words, so that users and scripts recognise them. */
	log_warn("Image format was not specified for '%s' and probing guessed raw.",
		 file);
	log_warn("Automatically detecting the format is dangerous for raw "
		 "images, write operations on block 0 will be restricted.");
	log_warn("Specify the 'raw' format explicitly to remove the restrictions.");
}

static int setup_drive(struct blk_host *h, unsigned i,
		       const struct blk_drive_spec *s, char *err, size_t errlen)
{
	struct blkctl_drive m = {{BLKCTL_DRIVE, sizeof(m), 0, 0}, i, 0,
				 (uint32_t)s->cache, 0, "", "", ""};
	int fds[2], n_fds, r;

	r = open_image(s, &fds[0], &fds[1], err, errlen);
	if (r < 0)
		return r;
	n_fds = fds[1] >= 0 ? 2 : 1;
	m.flags = (s->read_only ? BLKCTL_DRIVE_READ_ONLY : 0) |
		  (s->snapshot ? BLKCTL_DRIVE_SNAPSHOT : 0);
	if (s->format)
		snprintf(m.format, sizeof(m.format), "%s", s->format);
	ctl_set_name(m.id, s->id);
	snprintf(m.file, sizeof(m.file), "%s", s->file);
	r = remember_name(h, s->file);
	if (r == 0)
		r = ctl_send(h->ctl, &m, fds, (unsigned)n_fds);
	for (int k = 0; k < n_fds; k++)
		close(fds[k]);
	if (r < 0)
		return err_say(err, errlen, r, "%s: cannot hand it to v2e-blk: %s",
			       s->file, strerror(-r));
	h->backing_err[0] = 0;
	for (;;) {
		union {
			struct ctl_hdr h;
			struct blkctl_backing b;
			struct blkctl_drive_result res;
		} u;
		unsigned got;
		int stray;
		ssize_t n = recv_reply(h, &u, sizeof(u), &stray, 1, &got);

		if (n > 0 && got)
			close(stray);
		if (n == -EPIPE) {
			backend_reap(h, false);
			return err_say(err, errlen, -EIO,
				       "%s: v2e-blk %s while opening it (the "
				       "image may be damaged: try qemu-img check)",
				       s->file, h->death);
		}
		if (n < 0)
			return err_say(err, errlen, (int)n,
				       "%s: v2e-blk did not answer while opening "
				       "it: %s", s->file, strerror((int)-n));
		if (u.h.type == BLKCTL_BACKING) {
			r = answer_backing(h, &u.b, n);
			if (r < 0)
				return err_say(err, errlen, r,
					       "%s: v2e-blk misbehaved while "
					       "opening it", s->file);
			continue;
		}
		if (u.h.type != BLKCTL_DRIVE_RESULT || n != (ssize_t)sizeof(u.res) ||
		    u.res.index != i)
			return err_say(err, errlen, -EPROTO,
				       "%s: v2e-blk misbehaved while opening it",
				       s->file);
		u.res.text[sizeof(u.res.text) - 1] = 0;
		if (u.res.h.result < 0)
			return err_say(err, errlen, u.res.h.result, "%s",
				       h->backing_err[0] ? h->backing_err :
				       u.res.text);
		if (u.res.text[0])
			log_warn("%s", u.res.text);
		if ((u.res.flags & BLKCTL_RESULT_PROBED_RAW) && !s->snapshot)
			warn_probed_raw(s->file);
		h->drive[i].disk.sectors = u.res.size / BLKF_SECTOR;
		h->drive[i].disk.read_only = s->read_only;
		if (s->serial)
			snprintf(h->drive[i].disk.serial,
				 sizeof(h->drive[i].disk.serial), "%s", s->serial);
		else
			snprintf(h->drive[i].disk.serial,
				 sizeof(h->drive[i].disk.serial), "QM%05u", i);
		snprintf(h->drive[i].file, sizeof(h->drive[i].file), "%s", s->file);
		return 0;
	}
}

static int check_specs(const struct blk_drive_spec *d, unsigned n, char *err,
		       size_t errlen)
{
	if (n > BLKCTL_MAX_DRIVES)
		return err_say(err, errlen, -E2BIG, "%u disks: at most %u", n,
			       BLKCTL_MAX_DRIVES);
	for (unsigned i = 0; i < n; i++) {
		if (!d[i].file || !d[i].file[0] || strlen(d[i].file) >= BLKCTL_PATH_LEN)
			return err_say(err, errlen, -EINVAL,
				       "disk %u: no file, or a path too long", i);
		if (d[i].format && strcmp(d[i].format, "raw") &&
		    strcmp(d[i].format, "qcow2"))
			return err_say(err, errlen, -EINVAL,
				       "%s: format '%s' is not supported (raw "
				       "or qcow2)", d[i].file, d[i].format);
		if ((unsigned)d[i].cache > BLKCTL_CACHE_UNSAFE)
			return err_say(err, errlen, -EINVAL,
				       "%s: unknown cache mode", d[i].file);
	}
	return 0;
}

static void host_free(struct blk_host *h)
{
	for (unsigned i = 0; i < h->n_known; i++)
		free(h->known[i]);
	if (h->ctl >= 0)
		close(h->ctl);
	if (h->stop_efd >= 0)
		close(h->stop_efd);
	free(h);
}

/* Sends SHUTDOWN and waits for the answer or the end, then reaps. */
static void backend_shutdown(struct blk_host *h)
{
	struct ctl_hdr m = {BLKCTL_SHUTDOWN, sizeof(m), 0, 0};
	bool killed = true;

	if (h->reaped || h->child.pid <= 0)
		return;
	if (!__atomic_load_n(&h->dead, __ATOMIC_ACQUIRE) &&
	    ctl_send(h->ctl, &m, NULL, 0) == 0) {
		for (;;) {
			struct ctl_text t;
			unsigned got;
			int stray;
			ssize_t n = recv_reply(h, &t, sizeof(t), &stray, 1, &got);
			if (n > 0 && got)
				close(stray);
			if (n > 0 && t.h.type != BLKCTL_SHUTDOWN)
				continue; /* a late answer to something else */
			killed = n < 0 && n != -EPIPE;
			break;
		}
	}
	backend_reap(h, killed);
}

int blk_host_start(struct blk_host **out, const char *program,
		   const struct blk_drive_spec *d, unsigned n,
		   const struct guest_mem *gm, char *err, size_t errlen)
{
	struct blkctl_setup setup = {{BLKCTL_SETUP, sizeof(setup), 0, 0},
				     BLKCTL_ABI_VERSION, n, gm->size};
	struct ctl_hdr start = {BLKCTL_START, sizeof(start), 0, 0};
	char path[4096];
	char *argv[] = {(char *)"v2e-blk", (char *)"--ctl-fd", (char *)"3", NULL};
	struct sandbox_fd keep[2];
	struct sandbox_spawn_args sa;
	struct blk_host *h;
	struct ctl_text t;
	unsigned got;
	int sv[2], stray, r;
	ssize_t len;

	*out = NULL;
	r = check_specs(d, n, err, errlen);
	if (r < 0 || n == 0)
		return r;
	h = calloc(1, sizeof(*h));
	if (!h)
		return err_say(err, errlen, -ENOMEM, "out of memory");
	h->ctl = -1;
	h->stop_efd = -1;
	h->child.pid = -1;
	h->child.pidfd = -1;
	h->n = n;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = err_say(err, errlen, -errno, "socketpair: %s", strerror(errno));
		goto fail;
	}
	if (program)
		snprintf(path, sizeof(path), "%s", program);
	else
		program_beside_us("v2e-blk", path, sizeof(path));
	keep[0] = (struct sandbox_fd){sv[1], 3};
	keep[1] = (struct sandbox_fd){STDERR_FILENO, STDERR_FILENO};
	sa = (struct sandbox_spawn_args){path, argv, NULL, keep, 2, SANDBOX_NS_ALL};
	r = sandbox_spawn(&sa, &h->child);
	close(sv[1]);
	h->ctl = sv[0];
	if (r < 0) {
		h->child.pid = -1;
		r = err_say(err, errlen, r, "cannot start the disk backend %s: %s",
			    path, strerror(-r));
		goto fail;
	}

	r = ctl_send(h->ctl, &setup, &gm->fd, 1);
	len = r < 0 ? r : recv_reply(h, &t, sizeof(t), &stray, 1, &got);
	if (len > 0 && got)
		close(stray);
	if (len != (ssize_t)sizeof(t) || t.h.type != BLKCTL_SETUP || t.h.result < 0) {
		r = err_say(err, errlen, -EPROTO, "v2e-blk refused its setup: %s",
			    len == (ssize_t)sizeof(t) ? ctl_text_str(&t) : "no answer");
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		r = setup_drive(h, i, &d[i], err, errlen);
		if (r < 0)
			goto fail;
	}
	r = ctl_send(h->ctl, &start, NULL, 0);
	len = r < 0 ? r : recv_reply(h, &t, sizeof(t), &stray, 1, &got);
	if (len > 0 && got)
		close(stray);
	if (len != (ssize_t)sizeof(t) || t.h.type != BLKCTL_READY || t.h.result < 0) {
		if (len == -EPIPE)
			backend_reap(h, false);
		r = err_say(err, errlen, -EPROTO, "v2e-blk did not start: %s",
			    len == (ssize_t)sizeof(t) ? ctl_text_str(&t) :
			    h->death[0] ? h->death : "no answer");
		goto fail;
	}

	h->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (h->stop_efd < 0) {
		r = err_say(err, errlen, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = -pthread_create(&h->watcher, NULL, watch_backend, h);
	if (r < 0) {
		r = err_say(err, errlen, r, "cannot start the backend's watcher");
		goto fail;
	}
	h->watching = true;
	*out = h;
	return 0;

fail:
	backend_shutdown(h);
	host_free(h);
	return r;
}

int blk_host_info(struct blk_host *h, unsigned drive, struct blkf_disk *out)
{
	if (!h || drive >= h->n)
		return -ENOENT;
	*out = h->drive[drive].disk;
	return 0;
}

/* A ring of BLKIF_SHARED_SIZE bytes with its header written, sealed. */
static int make_ring(struct blk_host *h, const unsigned *drives, unsigned n)
{
	struct blkif_shared *sh;
	int fd = memfd_create("v2e-blkif", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int r;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, BLKIF_SHARED_SIZE) < 0) {
		r = -errno;
		goto fail;
	}
	sh = mmap(NULL, BLKIF_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		  fd, 0);
	if (sh == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	sh->magic = BLKIF_MAGIC;
	sh->abi_version = BLKIF_ABI_VERSION;
	sh->n_disks = n;
	sh->ring_slots = BLKIF_RING_SLOTS;
	for (unsigned i = 0; i < n; i++) {
		const struct blkf_disk *d = &h->drive[drives[i]].disk;
		sh->disk[i].sectors = d->sectors;
		sh->disk[i].read_only = d->read_only;
		memcpy(sh->disk[i].serial, d->serial, sizeof(d->serial));
	}
	munmap(sh, BLKIF_SHARED_SIZE);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int blk_host_connect(struct blk_host *h, const unsigned *drives, unsigned n,
		     int *fds, unsigned *n_fds, char *err, size_t errlen)
{
	struct blkctl_connect m = {{BLKCTL_CONNECT, sizeof(m), 0, 0}, n, {0}, 0};
	int ring = -1, kick[2] = {-1, -1}, rsp[2] = {-1, -1}, stray, r;
	struct ctl_text t;
	unsigned got;
	ssize_t len;

	if (!h)
		return err_say(err, errlen, -ENODEV, "no disks were set up");
	if (__atomic_load_n(&h->dead, __ATOMIC_ACQUIRE))
		return err_say(err, errlen, -EIO, "the disk backend v2e-blk %s",
			       h->death[0] ? h->death : "has ended");
	if (n == 0 || n > BLKF_MAX_DISKS || *n_fds < 3)
		return err_say(err, errlen, -EINVAL,
			       "a front serves 1 to %u disks (3 descriptors), "
			       "not %u", BLKF_MAX_DISKS, n);
	for (unsigned i = 0; i < n; i++) {
		if (drives[i] >= h->n)
			return err_say(err, errlen, -EINVAL, "no disk %u",
				       drives[i]);
		m.drive[i] = drives[i];
	}
	ring = make_ring(h, drives, n);
	if (ring < 0)
		return err_say(err, errlen, ring, "cannot make a disk ring: %s",
			       strerror(-ring));
	if (pipe2(kick, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(rsp, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = err_say(err, errlen, -errno, "cannot make a disk ring's "
			    "event channels: %s", strerror(errno));
		goto fail;
	}
	{
		int send_fds[3] = {ring, kick[0], rsp[1]};
		r = ctl_send(h->ctl, &m, send_fds, 3);
	}
	/* Each pipe's other end belongs to the backend alone: a death on
	 * either side is the other's hang-up. */
	close(kick[0]);
	close(rsp[1]);
	kick[0] = rsp[1] = -1;
	len = r < 0 ? r : recv_reply(h, &t, sizeof(t), &stray, 1, &got);
	if (len > 0 && got)
		close(stray);
	if (len != (ssize_t)sizeof(t) || t.h.type != BLKCTL_CONNECT_RESULT ||
	    t.h.result < 0) {
		r = err_say(err, errlen, len == (ssize_t)sizeof(t) ? t.h.result : -EIO,
			    "v2e-blk refused a disk ring: %s",
			    len == (ssize_t)sizeof(t) ? ctl_text_str(&t) :
			    "it did not answer");
		goto fail;
	}
	fds[0] = ring;
	fds[1] = kick[1];
	fds[2] = rsp[0];
	*n_fds = 3;
	return 0;
fail:
	close(ring);
	for (unsigned i = 0; i < 2; i++) {
		if (kick[i] >= 0)
			close(kick[i]);
		if (rsp[i] >= 0)
			close(rsp[i]);
	}
	return r;
}

static void stop_watching(struct blk_host *h)
{
	uint64_t one = 1;
	if (!h->watching)
		return;
	(void)!write(h->stop_efd, &one, sizeof(one));
	pthread_join(h->watcher, NULL);
	h->watching = false;
}

void blk_host_stop(struct blk_host *h)
{
	if (!h)
		return;
	stop_watching(h);
	backend_shutdown(h);
	host_free(h);
}

#ifdef V2E_TEST_DEVICES
int blk_host_test_open(struct blk_host *h, const char *path, char *err,
		       size_t errlen)
{
	struct ctl_text t = {{BLKCTL_TEST_OPEN, sizeof(t), 0, 0}, ""};
	unsigned got;
	int stray;
	ssize_t n;

	snprintf(t.text, sizeof(t.text), "%s", path);
	if (ctl_send(h->ctl, &t, NULL, 0) < 0)
		return -EIO;
	n = recv_reply(h, &t, sizeof(t), &stray, 1, &got);
	if (n > 0) {
		if (got)
			close(stray);
		return err_say(err, errlen, -EEXIST,
			       "v2e-blk survived opening %s (result %d)", path,
			       t.h.result);
	}
	/* The watcher reaps it and says how it died. */
	pthread_join(h->watcher, NULL);
	h->watching = false;
	return err_say(err, errlen, 0, "%s", h->death);
}
#endif
