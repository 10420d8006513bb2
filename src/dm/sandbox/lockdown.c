/* The device model's half of the sandbox: it locks itself in, for good,
 * before it serves the first request. See sandbox.h for the contract and
 * the allow-list; the order below matters (the root needs CAP_SYS_ADMIN,
 * dropping the bounding set CAP_SETPCAP, and seccomp comes last so that
 * every earlier step may still use what it forbids). */
#include "dm/sandbox/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"

/* What the process holds when lockdown starts, read from /proc before the
 * host's tree goes away. */
struct census {
	int highest_fd;
	/* a writable regular file (not guest RAM's memfd), or -1 */
	int writable_file;
	char writable_file_path[128];
	uint64_t vm_size;	/* bytes, VmSize */
	uint64_t vm_data;	/* bytes, VmData */
	unsigned threads;
	/* uid_map maps one id: a user namespace of the device model's own
	 * (sandbox_spawn's), so per-user counts are its own. */
	bool own_userns;
};

static int read_status(struct census *c)
{
	char line[256];
	unsigned long long kb;
	unsigned found = 0;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmSize: %llu kB", &kb) == 1) {
			c->vm_size = (uint64_t)kb << 10;
			found |= 1;
		} else if (sscanf(line, "VmData: %llu kB", &kb) == 1) {
			c->vm_data = (uint64_t)kb << 10;
			found |= 2;
		} else if (sscanf(line, "Threads: %u", &c->threads) == 1) {
			found |= 4;
		}
	}
	fclose(f);
	return found == 7 ? 0 : -EIO;
}

/* A write to a regular file obeys RLIMIT_FSIZE; stores into a mapping
 * (guest RAM's memfd) do not. */
static void check_writable_file(struct census *c, int fd)
{
	char link[64], path[sizeof(c->writable_file_path)];
	struct stat st;
	ssize_t n;
	int fl;

	if (c->writable_file >= 0)
		return;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY || (fl & O_PATH) ||
	    fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = '\0';
	if (!strncmp(path, "/memfd:", 7))
		return;
	c->writable_file = fd;
	memcpy(c->writable_file_path, path, sizeof(path));
}

static int read_fds(struct census *c)
{
	struct dirent *de;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return -errno;
	c->highest_fd = -1;
	c->writable_file = -1;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (end == de->d_name || *end || fd == dirfd(d))
			continue;
		if (fd > c->highest_fd)
			c->highest_fd = (int)fd;
		check_writable_file(c, (int)fd);
	}
	closedir(d);
	return 0;
}

int sandbox_holds_writable_file(void)
{
	struct census c;
	int r = read_fds(&c);

	if (r < 0)
		return r;
	return c.writable_file >= 0;
}

static int read_uid_map(struct census *c)
{
	unsigned long long inside, outside, count;
	int lines = 0, one = 0;
	FILE *f;

	f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%llu %llu %llu", &inside, &outside, &count) == 3) {
		lines++;
		one = count == 1;
	}
	fclose(f);
	c->own_userns = lines == 1 && one;
	return 0;
}

static int take_census(struct census *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = read_status(c);
	if (r == 0)
		r = read_fds(c);
	if (r == 0)
		r = read_uid_map(c);
	if (r < 0) {
		log_error("sandbox: lockdown needs /proc/self before it hides "
			  "the host's files: %s", strerror(-r));
		return r;
	}
	if (c->threads != 1) {
		log_error("sandbox: lockdown must run before the device model "
			  "starts threads (it has %u)", c->threads);
		return -EBUSY;
	}
	return 0;
}

/* A fresh mount namespace whose root is an empty tmpfs, read-only, with
 * the host's tree detached. 1 when the host refuses a mount namespace
 * (warned), 0 done, or -errno. */
static int enter_empty_root(void)
{
	/* Any directory will do as a mount point: the mount happens in our
	 * own namespace and the tree holding it is detached afterwards. */
	static const char *const mount_points[] = {
		"/tmp", "/proc", "/dev", "/mnt", "/run",
	};
	const unsigned long want = ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC;
	const char *step;
	struct statvfs sv;
	size_t i;
	int r = -ENOENT;

	/* Ours even if sandbox_spawn() made one already: it may not have
	 * (refused), and then pivot_root must not touch the host's. */
	if (unshare(CLONE_NEWNS) < 0) {
		r = -errno;
		if (r != -EPERM && r != -EINVAL && r != -ENOSPC &&
		    r != -EUSERS && r != -EACCES) {
			step = "unsharing the mount namespace";
			goto err;
		}
		log_warn("sandbox: the host refuses a mount namespace (%s): the "
			 "device model keeps the host's file system view "
			 "(it still cannot open anything)", strerror(-r));
		return 1;
	}
	step = "making mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		goto err_errno;
	step = "mounting the empty root";
	for (i = 0; i < sizeof(mount_points) / sizeof(mount_points[0]); i++) {
		if (mount("tmpfs", mount_points[i], "tmpfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "size=4k,nr_inodes=2,mode=555") == 0)
			break;
		r = -errno;
	}
	if (i == sizeof(mount_points) / sizeof(mount_points[0]))
		goto err;
	/* pivot_root(".", ".") stacks the old root on the new one; the
	 * detach then takes it and everything under it away. */
	step = "entering the empty root";
	if (chdir(mount_points[i]) < 0)
		goto err_errno;
	step = "pivot_root";
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		goto err_errno;
	step = "detaching the host's tree";
	if (umount2(".", MNT_DETACH) < 0)
		goto err_errno;
	step = "chdir(\"/\")";
	if (chdir("/") < 0)
		goto err_errno;
	step = "remounting the root read-only";
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		goto err_errno;
	step = "checking the root";
	if (statvfs("/", &sv) < 0)
		goto err_errno;
	if ((sv.f_flag & want) != want) {
		r = -EIO;
		goto err;
	}
	return 0;

err_errno:
	r = -errno;
err:
	log_error("sandbox: lockdown: %s: %s", step, strerror(-r));
	return r;
}

/* Lowers a limit to v (never above the hard limit: only raising needs a
 * privilege the device model does not have). */
static int limit(int resource, const char *name, uint64_t v)
{
	struct rlimit rl;
	int r;

	if (getrlimit(resource, &rl) < 0)
		goto err;
	if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max)
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = (rlim_t)v;
	if (setrlimit(resource, &rl) < 0)
		goto err;
	return 0;
err:
	r = -errno;
	log_error("sandbox: lockdown: setting %s: %s", name, strerror(-r));
	return r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? RLIM_INFINITY : a + b;
}

static int set_limits(const struct sandbox_lockdown_args *a,
		      const struct census *c)
{
	int r;

	if (a->fsize_max == 0 && c->writable_file >= 0) {
		log_error("sandbox: lockdown: fd %d is a writable file (%s): "
			  "under RLIMIT_FSIZE 0 its first write would kill the "
			  "device model (SIGXFSZ); give fsize_max a bound",
			  c->writable_file, c->writable_file_path);
		return -EINVAL;
	}
	r = limit(RLIMIT_NOFILE, "RLIMIT_NOFILE",
		  (uint64_t)c->highest_fd + 1 + a->fd_margin);
	if (r == 0)
		r = limit(RLIMIT_CORE, "RLIMIT_CORE", 0);
	if (r == 0)
		r = limit(RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0);
	if (r == 0 && a->fsize_max != SANDBOX_UNLIMITED)
		r = limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", a->fsize_max);
	if (r == 0 && a->mem_headroom != SANDBOX_UNLIMITED) {
		r = limit(RLIMIT_AS, "RLIMIT_AS",
			  add_sat(c->vm_size, a->mem_headroom));
		if (r == 0)
			r = limit(RLIMIT_DATA, "RLIMIT_DATA",
				  add_sat(c->vm_data, a->mem_headroom));
	}
	if (r < 0)
		return r;
	/* RLIMIT_NPROC counts the tasks of the process's uid in its user
	 * namespace: in one of its own that is this one task. Sharing a uid
	 * with host processes, any small bound would be wrong; 0 still
	 * forbids every new task, and seccomp forbids forks anyway. */
	if (a->max_threads == 0)
		return limit(RLIMIT_NPROC, "RLIMIT_NPROC", 0);
	if (c->own_userns)
		return limit(RLIMIT_NPROC, "RLIMIT_NPROC",
			     1 + (uint64_t)a->max_threads);
	log_warn("sandbox: RLIMIT_NPROC left as it is: without a user "
		 "namespace the device model shares its uid with host "
		 "processes");
	return 0;
}

static int drop_capabilities(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	const char *step;
	int cap, r, kept = 0;
	size_t i;

	step = "clearing the ambient set";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)	/* EINVAL: before Linux 4.3, no ambient set */
		goto err_errno;
	step = "dropping the bounding set";
	for (cap = 0; (r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0)) >= 0; cap++) {
		if (r == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno != EPERM)
			goto err_errno;
		kept++;
	}
	if (kept)
		/* Only without a user namespace and without CAP_SETPCAP: with
		 * no_new_privs and nothing executable, the set is inert. */
		log_warn("sandbox: %d capabilities stay in the bounding set "
			 "(no CAP_SETPCAP outside a user namespace)", kept);
	step = "clearing the capability sets";
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		goto err_errno;
	step = "checking the capability sets";
	if (syscall(SYS_capget, &hdr, data) < 0)
		goto err_errno;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		if (data[i].effective || data[i].permitted ||
		    data[i].inheritable) {
			errno = EIO;
			goto err_errno;
		}
	}
	return 0;

err_errno:
	r = -errno;
	log_error("sandbox: lockdown: %s: %s", step, strerror(-r));
	return r;
}

/* The base allow-list: what serving ioreqs needs, from held descriptors
 * only (nothing here creates a descriptor except recvmsg's SCM_RIGHTS,
 * bounded by RLIMIT_NOFILE). */
static const char *const base_syscalls[] = {
	/* I/O on held descriptors: control socket, event channels, disks */
	"read", "write", "readv", "writev", "pread64", "pwrite64",
	"preadv", "pwritev", "preadv2", "pwritev2", "lseek", "fsync",
	"fdatasync", "fallocate", "close", "fstat",
	"recvmsg", "sendmsg",
	/* waiting */
	"ppoll", "poll", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"epoll_ctl", "futex", "sched_yield",
	/* time (the vDSO answers most clock_gettime calls) */
	"clock_gettime", "clock_nanosleep", "nanosleep",
	/* memory (mmap and mprotect below, without PROT_EXEC) */
	"munmap", "madvise", "brk", "mremap",
	/* signals; restart_syscall resumes a sleep a stop interrupted;
	 * sigaltstack (AddressSanitizer's threads set one up and take it
	 * down, also at exit) only concerns the caller's own stack */
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall", "sigaltstack",
	"getpid", "gettid", "exit", "exit_group",
};

static int allow(scmp_filter_ctx ctx, const char *name, uint32_t action,
		 unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR) {
		log_error("sandbox: lockdown: unknown system call \"%s\"", name);
		return -EINVAL;
	}
	r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r < 0)
		log_error("sandbox: lockdown: allowing %s: %s", name,
			  strerror(-r));
	return r;
}

static int build_filter(scmp_filter_ctx ctx,
			const struct sandbox_lockdown_args *a)
{
	const struct scmp_arg_cmp no_exec =
		SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	/* glibc's fstat is newfstatat(fd, "", AT_EMPTY_PATH) */
	const struct scmp_arg_cmp empty_path =
		SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
	/* isatty(), which stdio asks of a character device before its first
	 * output; no other request (TIOCSTI, ...) */
	const struct scmp_arg_cmp tcgets = SCMP_A1(SCMP_CMP_EQ, TCGETS);
	/* threads only, and no new namespaces with them */
	const struct scmp_arg_cmp thread_only = SCMP_A0(SCMP_CMP_MASKED_EQ,
		CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
		CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP,
		CLONE_THREAD);
	size_t i;
	int r;

	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		log_error("sandbox: lockdown: seccomp architecture action: %s",
			  strerror(-r));
		return r;
	}
	for (i = 0; i < sizeof(base_syscalls) / sizeof(base_syscalls[0]); i++)
		if ((r = allow(ctx, base_syscalls[i], SCMP_ACT_ALLOW, 0,
			       NULL)) < 0)
			return r;
	if ((r = allow(ctx, "mmap", SCMP_ACT_ALLOW, 1, &no_exec)) < 0 ||
	    (r = allow(ctx, "mprotect", SCMP_ACT_ALLOW, 1, &no_exec)) < 0 ||
	    (r = allow(ctx, "newfstatat", SCMP_ACT_ALLOW, 1, &empty_path)) < 0 ||
	    (r = allow(ctx, "ioctl", SCMP_ACT_ALLOW, 1, &tcgets)) < 0)
		return r;
	if (a->max_threads) {
		if ((r = allow(ctx, "clone", SCMP_ACT_ALLOW, 1,
			       &thread_only)) < 0 ||
		    (r = allow(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0,
			       NULL)) < 0 ||
		    (r = allow(ctx, "set_robust_list", SCMP_ACT_ALLOW, 0,
			       NULL)) < 0 ||
		    (r = allow(ctx, "rseq", SCMP_ACT_ALLOW, 0, NULL)) < 0 ||
		    /* the C library's internal handler, at the first thread */
		    (r = allow(ctx, "rt_sigaction", SCMP_ACT_ALLOW, 0,
			       NULL)) < 0 ||
		    /* malloc sizes its arenas by it in a new thread */
		    (r = allow(ctx, "sched_getaffinity", SCMP_ACT_ALLOW, 0,
			       NULL)) < 0)
			return r;
	}
	for (i = 0; a->extra_syscalls && a->extra_syscalls[i]; i++)
		if ((r = allow(ctx, a->extra_syscalls[i], SCMP_ACT_ALLOW, 0,
			       NULL)) < 0)
			return r;
	return 0;
}

static int load_filter(const struct sandbox_lockdown_args *a)
{
	scmp_filter_ctx ctx;
	int r;

	/* seccomp_init() takes the native architecture (x86-64) only: a
	 * system call of another ABI (x32, int 0x80) meets the bad-arch
	 * action, which kills as well. */
	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		log_error("sandbox: lockdown: cannot create a seccomp filter");
		return -ENOMEM;
	}
	r = build_filter(ctx, a);
	if (r == 0) {
		r = seccomp_load(ctx);
		if (r < 0)
			log_error("sandbox: lockdown: loading the seccomp "
				  "filter: %s", strerror(-r));
	}
	seccomp_release(ctx);
	return r;
}

int sandbox_lockdown(const struct sandbox_lockdown_args *a)
{
	struct census c;
	int pers, r;

	r = take_census(&c);
	if (r < 0)
		return r;
	r = enter_empty_root();
	if (r < 0)
		return r;
	if (r > 0 && chdir("/") < 0) {
		r = -errno;
		log_error("sandbox: lockdown: chdir(\"/\"): %s", strerror(-r));
		return r;
	}
	r = set_limits(a, &c);
	if (r < 0)
		return r;
	/* With READ_IMPLIES_EXEC every readable mapping would be executable,
	 * behind the filter's back. */
	pers = personality(0xffffffff);
	if (pers >= 0 && (pers & READ_IMPLIES_EXEC) &&
	    personality((unsigned long)pers & ~READ_IMPLIES_EXEC) < 0) {
		r = -errno;
		log_error("sandbox: lockdown: clearing READ_IMPLIES_EXEC: %s",
			  strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		log_error("sandbox: lockdown: no_new_privs: %s", strerror(-r));
		return r;
	}
	r = drop_capabilities();
	if (r < 0)
		return r;
	return load_filter(a);
}
