/* The device model's lockdown, from inside: children started through
 * sandbox_spawn() lock themselves down and then either report what they
 * see (an empty read-only root, PID 1, no capabilities, the limits) and
 * exercise what a device model needs (I/O on held descriptors, messages
 * with descriptors, memory, time, threads), or try one forbidden thing
 * each (open, execve, socket, ptrace, PROT_EXEC memory, creating a file,
 * fork, mount, the i386 and x32 system call ABIs) and must die of SIGSYS.
 * The host must not change: no file appears, the mount table stays. */
#include "tests/sandbox/helpers.h"
#include "tests/tap.h"

#include <dirent.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define HEADROOM (64u << 20)
#define FD_MARGIN 4

/* ---- children ---- */

static void lock(const struct sandbox_lockdown_args *a)
{
	int r = sandbox_lockdown(a);
	if (r < 0) {
		ts_report("lockdown %d", r);
		_exit(3);
	}
	ts_report("locked 1");
}

static void report_errno(const char *key, int ret)
{
	ts_report("%s %s", key, ret < 0 ? strerrorname_np(errno) : "none");
}

static void child_state(const char *tmp_path)
{
	static const char *const extra[] = {
		"openat", "getdents64", "capget", "prctl", "prlimit64",
		"getuid", "getgid", "mkdir", "getcwd", NULL,
	};
	const struct sandbox_lockdown_args a = {
		.fd_margin = FD_MARGIN,
		.mem_headroom = HEADROOM,
		.fsize_max = 0,
		.extra_syscalls = extra,
	};
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct caps[2];
	struct rlimit rl;
	struct dirent *de;
	char cwd[64];
	int cap, bounding = 0, ambient = 0, entries = 0;
	DIR *d;

	lock(&a);
	ts_report("pid %d", (int)getpid());
	ts_report("uid %d", (int)getuid());
	if (syscall(SYS_capget, &hdr, caps) == 0)
		ts_report("caps %x %x %x", caps[0].effective | caps[1].effective,
			  caps[0].permitted | caps[1].permitted,
			  caps[0].inheritable | caps[1].inheritable);
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
		bounding += prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1;
		ambient += prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap,
				 0, 0) == 1;
	}
	ts_report("bounding %d", bounding);
	ts_report("ambient %d", ambient);
	ts_report("nnp %d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	ts_report("seccomp %d", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	static const struct { int res; const char *name; } limits[] = {
		{ RLIMIT_NOFILE, "nofile" }, { RLIMIT_NPROC, "nproc" },
		{ RLIMIT_FSIZE, "fsize" }, { RLIMIT_CORE, "core" },
		{ RLIMIT_MEMLOCK, "memlock" }, { RLIMIT_AS, "as" },
		{ RLIMIT_DATA, "data" },
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (getrlimit(limits[i].res, &rl) < 0)
			continue;
		if (rl.rlim_cur == RLIM_INFINITY)
			ts_report("%s inf", limits[i].name);
		else
			ts_report("%s %llu", limits[i].name,
				  (unsigned long long)rl.rlim_cur);
	}
	d = opendir("/");
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				entries++;
		closedir(d);
		ts_report("root_entries %d", entries);
	} else {
		report_errno("root_entries", -1);
	}
	report_errno("open_passwd", open("/etc/passwd", O_RDONLY));
	report_errno("create_root", open("/probe", O_CREAT | O_WRONLY, 0600));
	report_errno("mkdir_root", mkdir("/probe-dir", 0700));
	/* only where the empty root hides the host's /tmp: openat is one
	 * of this child's extras */
	if (entries == 0)
		report_errno("create_tmp",
			     open(tmp_path, O_CREAT | O_WRONLY, 0600));
	ts_report("cwd %s", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	_exit(0);
}

static long int80_getpid(void)
{
	long r;
	/* i386 getpid is 20; the compat entry zeroes r8-r15 */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L)
			 : "memory", "r8", "r9", "r10", "r11", "r12", "r13",
			   "r14", "r15");
	return r;
}

/* One forbidden thing; the child must not get past it. */
static void child_attempt(const char *what, const char *arg)
{
	const struct sandbox_lockdown_args a = {
		.fd_margin = FD_MARGIN,
		.mem_headroom = HEADROOM,
		.fsize_max = 0,
	};
	char *const argv[] = { (char *)"/bin/true", NULL };
	int r = -1, sv[2];
	void *p;

	lock(&a);
	if (!strcmp(what, "open")) {
		r = open("/etc/passwd", O_RDONLY);
	} else if (!strcmp(what, "create")) {
		r = open(arg, O_CREAT | O_WRONLY, 0600);
	} else if (!strcmp(what, "execve")) {
		r = execve(argv[0], argv, argv + 1);
	} else if (!strcmp(what, "socket")) {
		r = socket(AF_INET, SOCK_STREAM, 0);
	} else if (!strcmp(what, "socketpair")) {
		r = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	} else if (!strcmp(what, "ptrace")) {
		r = (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	} else if (!strcmp(what, "mmap-exec")) {
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		r = p == MAP_FAILED ? -1 : 0;
	} else if (!strcmp(what, "mprotect-exec")) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			ts_report("setup %s", strerrorname_np(errno));
			_exit(4);
		}
		r = mprotect(p, 4096, PROT_READ | PROT_EXEC);
	} else if (!strcmp(what, "fork")) {
		r = fork();
		if (r == 0)
			_exit(0);
	} else if (!strcmp(what, "tiocsti")) {
		r = ioctl(2, TIOCSTI, "x");
	} else if (!strcmp(what, "mount")) {
		r = mount("none", "/", "tmpfs", 0, NULL);
	} else if (!strcmp(what, "int80")) {
		r = (int)int80_getpid();
	} else if (!strcmp(what, "x32")) {
		r = (int)syscall(0x40000000 | SYS_getpid);
	}
	report_errno("survived", r);
	_exit(0);
}

/* fd 4: a SOCK_SEQPACKET socket (the control socket's kind) with "ping"
 * and a pipe's write end waiting in it; fd 5: a regular file. */
static void child_allowed(void)
{
	const struct sandbox_lockdown_args a = {
		.fd_margin = FD_MARGIN,
		.mem_headroom = HEADROOM,
		.fsize_max = SANDBOX_UNLIMITED,
	};
	char buf[64], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct epoll_event ev = { .events = EPOLLOUT };
	struct pollfd pfd = { .fd = 4, .events = POLLOUT };
	struct timespec ts = { 0, 1000000 };
	struct stat st;
	ssize_t n;
	int epfd, passed = -1;
	char *mem;
	void *p;

	epfd = epoll_create1(EPOLL_CLOEXEC);	/* before: it makes an fd */
	lock(&a);

	n = recvmsg(4, &msg, 0);
	if (n == 4 && !memcmp(buf, "ping", 4)) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(&passed, CMSG_DATA(c), sizeof(int));
	}
	ts_report("recvmsg %zd fd %s", n, passed >= 0 ? "yes" : "no");
	iov.iov_base = (char *)"pong";
	iov.iov_len = 4;
	msg = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	ts_report("sendmsg %zd", sendmsg(4, &msg, 0));
	ts_report("write_passed %zd",
		  passed >= 0 ? write(passed, "via", 3) : -1);
	ts_report("close %d", passed >= 0 ? close(passed) : -1);
	ts_report("socket_write %zd", write(4, "raw", 3));

	mem = malloc(8u << 20);
	if (mem) {
		memset(mem, 0x5a, 8u << 20);
		ts_report("malloc %d", mem[(8u << 20) - 1] == 0x5a);
		free(mem);
	}
	ts_report("clock_gettime %ld",
		  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
	ts.tv_sec = 0;
	ts.tv_nsec = 1000000;
	ts_report("nanosleep %d", nanosleep(&ts, NULL));
	ts_report("clock_nanosleep %d",
		  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL));
	ts_report("poll %d", poll(&pfd, 1, 0));
	ts_report("epoll %d", epfd >= 0 &&
		  epoll_ctl(epfd, EPOLL_CTL_ADD, 4, &ev) == 0 &&
		  epoll_wait(epfd, &ev, 1, 0) == 1);
	ts_report("pwrite %zd", pwrite(5, "disk", 4, 4096));
	ts_report("pread %zd", pread(5, buf, 4, 4096));
	ts_report("fsync %d", fsync(5) | fdatasync(5));
	ts_report("fallocate %d", fallocate(5, 0, 0, 65536));
	ts_report("lseek %lld", (long long)lseek(5, 0, SEEK_END));
	ts_report("fstat %d", fstat(5, &st) == 0 && st.st_size == 65536);
	p = mmap(NULL, 2 * HEADROOM, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ts_report("mmap_beyond %s", p == MAP_FAILED ?
		  strerrorname_np(errno) : "mapped");
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ts_report("mmap %d", p != MAP_FAILED &&
		  mprotect(p, 1 << 20, PROT_READ) == 0 &&
		  munmap(p, 1 << 20) == 0);
	ts_report("getpid %d", getpid() > 0 && gettid() > 0);
	ts_report("done 1");
	_exit(0);
}

/* RLIMIT_FSIZE 0 would kill at the first write to the held file. */
static void child_fsize(void)
{
	const struct sandbox_lockdown_args a = {
		.fd_margin = FD_MARGIN,
		.mem_headroom = HEADROOM,
		.fsize_max = 0,
	};

	lock(&a);
	report_errno("survived", (int)pwrite(5, "x", 1, 0));
	_exit(0);
}

static int thread_pipe[2];

static void *thread_wait(void *arg)
{
	char c;
	return read(thread_pipe[0], &c, 1) == 1 ? arg : NULL;
}

static void child_threads(void)
{
	const struct sandbox_lockdown_args a = {
		.fd_margin = FD_MARGIN,
		.mem_headroom = HEADROOM,
		.fsize_max = 0,
		.max_threads = 2,
	};
	static int tag[3];
	pthread_t t[3];
	void *ret;
	int r[3], i, joined = 0;

	if (pipe2(thread_pipe, O_CLOEXEC) < 0)
		_exit(4);
	lock(&a);
	for (i = 0; i < 3; i++)
		r[i] = pthread_create(&t[i], NULL, thread_wait, &tag[i]);
	ts_report("created %d %d %s", r[0], r[1], strerrorname_np(r[2]));
	if (write(thread_pipe[1], "go", 2) != 2)
		_exit(5);
	for (i = 0; i < 2; i++)
		joined += !r[i] && !pthread_join(t[i], &ret) && ret == &tag[i];
	ts_report("joined %d", joined);
	/* still no fork */
	if (fork() == 0)
		_exit(0);
	ts_report("forked 1");
	_exit(0);
}

/* A device model that ends by returning from main: exit handlers run
 * (stdio flushing, the sanitizers' leak check in a test build). */
static int child_exit(void)
{
	const struct sandbox_lockdown_args a = {
		.fd_margin = FD_MARGIN,
		.mem_headroom = HEADROOM,
		.fsize_max = 0,
	};
	static char *kept;

	lock(&a);
	kept = malloc(100);
	printf("buffered");
	return kept ? 0 : 1;
}

/* fd 4 guest RAM's kind of memfd, fd 5 a file opened read-only: neither
 * counts as a writable file; a file it opens for writing does. */
static int child_writable(const char *path)
{
	int before = sandbox_holds_writable_file(), fd;

	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	unlink(path);
	ts_report("writable %d %d", before,
		  fd >= 0 ? sandbox_holds_writable_file() : -99);
	_exit(0);
}

static int child_main(const char *mode, const char *arg)
{
	if (!strcmp(mode, "writable"))
		return child_writable(arg);
	if (!strcmp(mode, "exit"))
		return child_exit();
	if (!strcmp(mode, "state"))
		child_state(arg);
	else if (!strcmp(mode, "allowed"))
		child_allowed();
	else if (!strcmp(mode, "fsize"))
		child_fsize();
	else if (!strcmp(mode, "threads"))
		child_threads();
	else
		child_attempt(mode, arg);
	return 9;
}

/* ---- parent ---- */

static char *read_text(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

/* Can this host run the i386 system call ABI at all (int 0x80)? */
static int have_int80(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		/* where it faults, the sanitizers' report is noise */
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		_exit(int80_getpid() > 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static const char *ns_text(unsigned mask)
{
	static char buf[128];
	sandbox_ns_names(mask, buf, sizeof(buf));
	return buf;
}

static void check_state(struct tap *t, unsigned ns, const char *label,
			const char *tmp_path)
{
	struct ts_run r;
	char want[32];
	int ret;

	ret = ts_run("state", tmp_path, NULL, 0, ns, &r);
	if (!tap_ok(t, ret == 0 && ts_exited(&r, 0) &&
		    ts_value_is(&r, "locked", "1"),
		    "%s: the child locks down and reports (%s; %s)", label,
		    ts_status(&r), ns_text(r.namespaces))) {
		ts_dump(&r);
		return;
	}
	if (r.namespaces & SANDBOX_NS_PID)
		tap_ok(t, ts_value_is(&r, "pid", "1"),
		       "%s: PID 1 in its PID namespace", label);
	else
		printf("ok %d - # SKIP %s: no PID namespace here\n", ++t->n,
		       label);
	if (r.namespaces & SANDBOX_NS_USER)
		tap_ok(t, ts_value_is(&r, "uid", "0"),
		       "%s: root of its user namespace", label);
	tap_ok(t, ts_value_is(&r, "caps", "0 0 0"),
	       "%s: no effective, permitted or inheritable capability", label);
	/* Where the host refuses what a step needs, lockdown says so in a
	 * warning, and only then may the step's effect be missing. */
	if (!strstr(r.err, "stay in the bounding set"))
		tap_ok(t, ts_value_is(&r, "bounding", "0") &&
		       ts_value_is(&r, "ambient", "0"),
		       "%s: empty bounding and ambient sets", label);
	else	/* no CAP_SETPCAP to drop it with (no user namespace) */
		tap_ok(t, ts_value_is(&r, "ambient", "0") &&
		       !(r.namespaces & SANDBOX_NS_USER),
		       "%s: empty ambient set, a warning for the bounding set",
		       label);
	tap_ok(t, ts_value_is(&r, "nnp", "1") && ts_value_is(&r, "seccomp", "2"),
	       "%s: no_new_privs, seccomp filter mode", label);
	/* it holds 2 and 3 */
	snprintf(want, sizeof(want), "%d", 3 + 1 + FD_MARGIN);
	tap_ok(t, ts_value_is(&r, "nofile", want),
	       "%s: RLIMIT_NOFILE is the highest fd + 1 + margin (%s)", label,
	       ts_value(&r, "nofile") ? ts_value(&r, "nofile") : "?");
	tap_ok(t, ts_value_is(&r, "nproc", "0") && ts_value_is(&r, "fsize", "0") &&
	       ts_value_is(&r, "core", "0") && ts_value_is(&r, "memlock", "0"),
	       "%s: RLIMIT_NPROC, FSIZE, CORE, MEMLOCK are 0", label);
	tap_ok(t, !ts_value_is(&r, "as", "inf") && ts_value(&r, "as") &&
	       !ts_value_is(&r, "data", "inf") && ts_value(&r, "data"),
	       "%s: RLIMIT_AS and RLIMIT_DATA are bounded", label);
	if (!strstr(r.err, "the host refuses a mount namespace")) {
		tap_ok(t, ts_value_is(&r, "root_entries", "0"),
		       "%s: the root is empty", label);
		tap_ok(t, ts_value_is(&r, "open_passwd", "ENOENT"),
		       "%s: no /etc/passwd in it", label);
		tap_ok(t, ts_value_is(&r, "create_root", "EROFS") &&
		       ts_value_is(&r, "mkdir_root", "EROFS"),
		       "%s: it is read-only", label);
		tap_ok(t, ts_value_is(&r, "create_tmp", "ENOENT"),
		       "%s: no /tmp to create a file in", label);
		tap_ok(t, ts_value_is(&r, "cwd", "/"),
		       "%s: working directory /", label);
	} else if (r.namespaces & SANDBOX_NS_MOUNT) {
		tap_ok(t, 0, "%s: lockdown found no mount namespace, although "
		       "spawn made one", label);
	} else {
		printf("ok %d - # SKIP %s: no mount namespace here\n", ++t->n,
		       label);
	}
	tap_ok(t, access(tmp_path, F_OK) < 0 && errno == ENOENT,
	       "%s: %s does not exist on the host", label, tmp_path);
}

static void check_attempts(struct tap *t, const char *tmp_path)
{
	static const struct {
		const char *mode;
		const char *what;
	} attempts[] = {
		{ "open", "open(\"/etc/passwd\")" },
		{ "create", "creating a file in /tmp" },
		{ "execve", "execve(\"/bin/true\")" },
		{ "socket", "socket(AF_INET)" },
		{ "socketpair", "socketpair(AF_UNIX)" },
		{ "ptrace", "ptrace(PTRACE_TRACEME)" },
		{ "mmap-exec", "mmap with PROT_EXEC" },
		{ "mprotect-exec", "mprotect to PROT_EXEC" },
		{ "fork", "fork" },
		{ "mount", "mount" },
		{ "tiocsti", "ioctl(TIOCSTI) (only TCGETS is allowed)" },
		{ "x32", "an x32 system call" },
		{ "int80", "an i386 system call (int 0x80)" },
	};
	int int80 = have_int80();
	struct ts_run r;
	size_t i;

	for (i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		if (!strcmp(attempts[i].mode, "int80") && !int80) {
			printf("ok %d - # SKIP this kernel runs no i386 system "
			       "calls at all\n", ++t->n);
			continue;
		}
		int ret = ts_run(attempts[i].mode, tmp_path, NULL, 0,
				 SANDBOX_NS_ALL, &r);
		if (!tap_ok(t, ret == 0 && ts_value_is(&r, "locked", "1") &&
			    ts_killed_by(&r, SIGSYS),
			    "%s kills the device model with SIGSYS (%s%s%s)",
			    attempts[i].what, ts_status(&r),
			    ts_value(&r, "survived") ? ", returned " : "",
			    ts_value(&r, "survived") ?
			    ts_value(&r, "survived") : ""))
			ts_dump(&r);
	}
	tap_ok(t, access(tmp_path, F_OK) < 0 && errno == ENOENT,
	       "the file it tried to create does not exist");
}

static void check_allowed(struct tap *t, unsigned ns, const char *label)
{
	char tmpl[] = "/tmp/v2e-sandbox-disk-XXXXXX";
	char cbuf[CMSG_SPACE(sizeof(int))], buf[64];
	struct iovec iov = { (char *)"ping", 4 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	struct ts_run r;
	int sv[2], pp[2], disk, ret;
	ssize_t n1, n2, n3;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(pp, O_CLOEXEC) < 0 || (disk = mkostemp(tmpl, O_CLOEXEC)) < 0) {
		tap_ok(t, 0, "%s: set-up: %s", label, strerror(errno));
		return;
	}
	unlink(tmpl);
	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pp[1], sizeof(int));
	if (sendmsg(sv[0], &msg, 0) != 4) {
		tap_ok(t, 0, "%s: sendmsg: %s", label, strerror(errno));
		return;
	}
	close(pp[1]);

	const struct sandbox_fd fds[] = { { sv[1], 4 }, { disk, 5 } };
	ret = ts_run("allowed", NULL, fds, 2, ns, &r);
	close(sv[1]);
	if (!tap_ok(t, ret == 0 && ts_exited(&r, 0) && ts_value_is(&r, "done", "1"),
		    "%s: the allowed path runs to its end (%s)", label,
		    ts_status(&r)))
		ts_dump(&r);
	tap_ok(t, ts_value_is(&r, "recvmsg", "4 fd yes") &&
	       ts_value_is(&r, "sendmsg", "4") &&
	       ts_value_is(&r, "socket_write", "3"),
	       "%s: recvmsg with a descriptor, sendmsg, write on the control "
	       "socket", label);
	n1 = recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT);
	n2 = recv(sv[0], buf + 8, sizeof(buf) - 8, MSG_DONTWAIT);
	tap_ok(t, n1 == 4 && !memcmp(buf, "pong", 4) && n2 == 3 &&
	       !memcmp(buf + 8, "raw", 3), "%s: the vmm side got both", label);
	n3 = read(pp[0], buf, sizeof(buf));
	tap_ok(t, ts_value_is(&r, "write_passed", "3") && n3 == 3 &&
	       !memcmp(buf, "via", 3) && ts_value_is(&r, "close", "0"),
	       "%s: writes through a descriptor received after lockdown",
	       label);
	tap_ok(t, ts_value_is(&r, "malloc", "1"), "%s: malloc of 8 MiB", label);
	tap_ok(t, ts_value_is(&r, "clock_gettime", "0") &&
	       ts_value_is(&r, "nanosleep", "0") &&
	       ts_value_is(&r, "clock_nanosleep", "0"),
	       "%s: clock_gettime (the system call), nanosleep, "
	       "clock_nanosleep", label);
	tap_ok(t, ts_value_is(&r, "poll", "1") && ts_value_is(&r, "epoll", "1"),
	       "%s: poll, epoll_ctl and epoll_wait", label);
	tap_ok(t, ts_value_is(&r, "pwrite", "4") && ts_value_is(&r, "pread", "4") &&
	       ts_value_is(&r, "fsync", "0") && ts_value_is(&r, "fallocate", "0") &&
	       ts_value_is(&r, "lseek", "65536") && ts_value_is(&r, "fstat", "1"),
	       "%s: pwrite, pread, fsync, fdatasync, fallocate, lseek, fstat "
	       "on a disk file", label);
	tap_ok(t, ts_value_is(&r, "mmap_beyond", "ENOMEM"),
	       "%s: mapping twice the memory headroom fails (%s)", label,
	       ts_value(&r, "mmap_beyond") ? ts_value(&r, "mmap_beyond") : "?");
	tap_ok(t, ts_value_is(&r, "mmap", "1") && ts_value_is(&r, "getpid", "1"),
	       "%s: mmap, mprotect without PROT_EXEC, munmap, getpid, gettid",
	       label);
	close(sv[0]);
	close(pp[0]);

	const struct sandbox_fd disk_fd[] = { { disk, 5 } };
	ret = ts_run("fsize", NULL, disk_fd, 1, ns, &r);
	if (!tap_ok(t, ret == 0 && ts_exited(&r, 3) &&
		    ts_value_is(&r, "lockdown", "-22") &&
		    strstr(r.err, "fd 5 is a writable file"),
		    "%s: lockdown refuses RLIMIT_FSIZE 0 while it holds a "
		    "writable file (%s)", label, ts_status(&r)))
		ts_dump(&r);
	close(disk);
}

static void check_writable(struct tap *t, const char *tmp_path)
{
	int mfd = memfd_create("guest-ram", MFD_CLOEXEC);
	int ro = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	const struct sandbox_fd fds[] = { { mfd, 4 }, { ro, 5 } };
	struct ts_run r;
	int ret;

	ret = ts_run("writable", tmp_path, fds, 2, SANDBOX_NS_ALL, &r);
	tap_ok(t, mfd >= 0 && ro >= 0 && ret == 0 &&
	       ts_value_is(&r, "writable", "0 1"),
	       "sandbox_holds_writable_file: not for a memfd or a read-only "
	       "file, yes for a file open for writing (%s)",
	       ts_value(&r, "writable") ? ts_value(&r, "writable") : "?");
	close(mfd);
	close(ro);
}

static void check_exit(struct tap *t)
{
	struct ts_run r;
	int ret;

#ifdef __SANITIZE_ADDRESS__
	printf("ok %d - # SKIP sanitizer build: exit() runs LeakSanitizer's "
	       "check, which needs ptrace (sandbox.h)\n", ++t->n);
	return;
#endif
	ret = ts_run("exit", NULL, NULL, 0, SANDBOX_NS_ALL, &r);

	if (!tap_ok(t, ret == 0 && ts_exited(&r, 0),
		    "returning from main (exit handlers) works under the "
		    "filter (%s)", ts_status(&r)))
		ts_dump(&r);
}

static void check_threads(struct tap *t)
{
	struct ts_run r;
	int ret = ts_run("threads", NULL, NULL, 0, SANDBOX_NS_ALL, &r);

	if (!(r.namespaces & SANDBOX_NS_USER)) {
		printf("ok %d - # SKIP threads: no user namespace, so no "
		       "RLIMIT_NPROC of its own\n", ++t->n);
		return;
	}
	if (!tap_ok(t, ret == 0 && ts_value_is(&r, "created", "0 0 EAGAIN"),
		    "threads: two start after lockdown, a third is refused "
		    "(%s)", ts_value(&r, "created") ? ts_value(&r, "created") :
		    ts_status(&r)))
		ts_dump(&r);
	tap_ok(t, ts_value_is(&r, "joined", "2"), "threads: both joined");
	tap_ok(t, ts_killed_by(&r, SIGSYS) && !ts_value(&r, "forked"),
	       "threads: fork still kills (%s)", ts_status(&r));
}

int main(int argc, char **argv)
{
	char probe_path[64], writable_path[64];
	char *mounts_before, *mounts_after;
	struct tap t = { 0 };

	if (argc >= 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2], argc > 3 ? argv[3] : NULL);

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
		printf("1..0 # SKIP this kernel has no seccomp\n");
		return 0;
	}
	snprintf(probe_path, sizeof(probe_path), "/tmp/v2e-sandbox-probe-%d",
		 (int)getpid());
	snprintf(writable_path, sizeof(writable_path),
		 "/tmp/v2e-sandbox-writable-%d", (int)getpid());
	mounts_before = read_text("/proc/self/mountinfo");

	check_state(&t, SANDBOX_NS_ALL, "all namespaces", probe_path);
	check_state(&t, 0, "no namespaces asked", probe_path);
	check_attempts(&t, probe_path);
	check_allowed(&t, SANDBOX_NS_ALL, "all namespaces");
	check_allowed(&t, 0, "no namespaces asked");
	check_threads(&t);
	check_exit(&t);
	check_writable(&t, writable_path);

	mounts_after = read_text("/proc/self/mountinfo");
	tap_ok(&t, mounts_before && mounts_after &&
	       !strcmp(mounts_before, mounts_after),
	       "the host's mount table did not change");
	free(mounts_before);
	free(mounts_after);
	unlink(probe_path);	/* only if a check above failed */
	unlink(writable_path);
	return tap_done(&t);
}
