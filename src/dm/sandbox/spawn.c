/* The vmm's half of the device-model sandbox: the program starts in new
 * namespaces (a direct child, so the caller waits for it and sees how it
 * died, and, with a PID namespace, its PID 1), holding only the listed
 * descriptors. See sandbox.h for the contract.
 *
 * Between clone and exec the child runs on a copy of a possibly
 * multithreaded parent without the C library's fork bookkeeping: it uses
 * raw system calls only (no malloc, no stdio, no set*id wrappers, which
 * would signal the parent's threads), and reports a failure as a
 * (step, errno) pair over a close-on-exec pipe. */
#include "dm/sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

/* A caller choosing a descriptor number beyond this is a bug. */
#define SANDBOX_FD_MAX 65535

/* When the caller is root, the child's root is mapped to this host
 * uid/gid (nobody/nogroup on Debian) rather than to host root. */
#define SANDBOX_UNPRIV_ID 65534

/* The kernel's struct clone_args, first version (64 bytes). */
struct clone3_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
};

/* The kernel's struct sigaction on x86-64 (what rt_sigaction takes). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static const struct {
	unsigned kind;
	uint64_t clone_flag;
	const char *name;
} ns_kinds[] = {
	{ SANDBOX_NS_USER, CLONE_NEWUSER, "user" },
	{ SANDBOX_NS_MOUNT, CLONE_NEWNS, "mount" },
	{ SANDBOX_NS_PID, CLONE_NEWPID, "PID" },
	{ SANDBOX_NS_IPC, CLONE_NEWIPC, "IPC" },
	{ SANDBOX_NS_UTS, CLONE_NEWUTS, "UTS" },
	{ SANDBOX_NS_NET, CLONE_NEWNET, "network" },
};

enum child_step {
	STEP_IDS,
	STEP_SESSION,
	STEP_DEATHSIG,
	STEP_FDS,
	STEP_SIGNALS,
	STEP_EXEC,
};

static const char *const child_step_names[] = {
	[STEP_IDS] = "taking root in its user namespace",
	[STEP_SESSION] = "starting a session",
	[STEP_DEATHSIG] = "setting its parent-death signal",
	[STEP_FDS] = "arranging its descriptors",
	[STEP_SIGNALS] = "resetting its signals",
	[STEP_EXEC] = "executing the program",
};

struct child_failure {
	int32_t step;
	int32_t err;
};

/* Everything the child needs, prepared before clone (the child sees a
 * copy of it). */
struct child_plan {
	int exe_fd;
	int null_fd;		/* /dev/null, for unlisted 0, 1 and 2 */
	char *const *argv;
	char *const *envp;
	const struct sandbox_fd *fds;
	size_t nfds;
	int max_target;		/* highest child_fd, at least 2 */
	int go_rfd, go_wfd;	/* parent -> child: ids mapped, go on */
	int report_rfd, report_wfd; /* child -> parent: a child_failure */
	int userns;
};

static uint64_t ns_clone_flags(unsigned kinds)
{
	uint64_t flags = 0;
	size_t i;

	for (i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++)
		if (kinds & ns_kinds[i].kind)
			flags |= ns_kinds[i].clone_flag;
	return flags;
}

void sandbox_ns_names(unsigned mask, char *buf, size_t len)
{
	size_t i, used = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		if (!(mask & ns_kinds[i].kind))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s",
				 used ? ", " : "", ns_kinds[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "none");
}

/* Like fork, into new namespaces: 0 in the child, the pid in the parent,
 * -1 with errno. *pidfd gets a pidfd where the kernel gives one. */
static pid_t raw_clone(uint64_t flags, int *pidfd)
{
	struct clone3_args ca = {
		.flags = flags | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = SIGCHLD,
	};
	long r;

	*pidfd = -1;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r >= 0 || errno != ENOSYS)
		return (pid_t)r;
	/* No clone3 (an old kernel, or a container's seccomp profile): clone,
	 * whose x86-64 argument order is flags, stack, parent_tid,
	 * child_tid, tls; CLONE_PIDFD returns the pidfd through parent_tid. */
	r = syscall(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, 0, pidfd, 0, 0);
	if (r >= 0 || errno != EINVAL)
		return (pid_t)r;
	*pidfd = -1;
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

/* The errors by which a host refuses a namespace kind: EPERM (no
 * privilege, a container's seccomp profile or LSM), EINVAL (not built
 * in), ENOSPC/EUSERS (a max_*_namespaces sysctl or nesting limit),
 * EACCES (an LSM). */
static int is_refusal(int err)
{
	return err == EPERM || err == EINVAL || err == ENOSPC ||
	       err == EUSERS || err == EACCES;
}

static __attribute__((noreturn)) void child_fail(const struct child_plan *p,
						 enum child_step step, int err)
{
	struct child_failure f = { step, err };

	/* If this write fails the parent reads EOF and the child's status
	 * 127 tells the rest. */
	syscall(SYS_write, p->report_wfd, &f, sizeof(f));
	syscall(SYS_exit_group, 127);
	__builtin_unreachable();
}

static void child_close_range(unsigned first, unsigned last)
{
	struct rlimit rl;
	uint64_t fd, end = last;

	if (first > last)
		return;
	if (syscall(SYS_close_range, first, last, 0) == 0)
		return;
	/* Before Linux 5.9: one by one, below the descriptor limit. */
	if (syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur <= end)
		end = rl.rlim_cur ? rl.rlim_cur - 1 : 0;
	for (fd = first; fd <= end; fd++)
		syscall(SYS_close, (unsigned)fd);
}

/* Moves every listed descriptor to its number, puts /dev/null on the
 * standard numbers not listed (else the first descriptors the child
 * receives would land there, and a stray printf would write into them),
 * and closes the rest except the program and the report pipe (both
 * close-on-exec). */
static void child_arrange_fds(struct child_plan *p)
{
	int base = p->max_target + 1;
	int moved[p->nfds ? p->nfds : 1];
	int keep_lo, keep_hi, fd, null_fd;
	size_t i;

	/* First everything above the targets, so that no dup2 clobbers a
	 * descriptor still to be moved. */
	for (i = 0; i < p->nfds; i++) {
		moved[i] = (int)syscall(SYS_fcntl, p->fds[i].fd,
					F_DUPFD_CLOEXEC, base);
		if (moved[i] < 0)
			child_fail(p, STEP_FDS, errno);
	}
	p->exe_fd = (int)syscall(SYS_fcntl, p->exe_fd, F_DUPFD_CLOEXEC, base);
	if (p->exe_fd < 0)
		child_fail(p, STEP_FDS, errno);
	p->report_wfd = (int)syscall(SYS_fcntl, p->report_wfd,
				     F_DUPFD_CLOEXEC, base);
	if (p->report_wfd < 0)
		child_fail(p, STEP_FDS, errno);
	null_fd = (int)syscall(SYS_fcntl, p->null_fd, F_DUPFD_CLOEXEC, base);
	if (null_fd < 0)
		child_fail(p, STEP_FDS, errno);
	for (fd = 0; fd <= p->max_target; fd++) {
		for (i = 0; i < p->nfds; i++)
			if (p->fds[i].child_fd == fd)
				break;
		if (i < p->nfds) {
			if (syscall(SYS_dup3, moved[i], fd, 0) < 0)
				child_fail(p, STEP_FDS, errno);
		} else if (fd <= 2) {
			if (syscall(SYS_dup3, null_fd, fd, 0) < 0)
				child_fail(p, STEP_FDS, errno);
		} else {
			syscall(SYS_close, fd);
		}
	}
	keep_lo = p->exe_fd < p->report_wfd ? p->exe_fd : p->report_wfd;
	keep_hi = p->exe_fd < p->report_wfd ? p->report_wfd : p->exe_fd;
	child_close_range((unsigned)base, (unsigned)keep_lo - 1);
	child_close_range((unsigned)keep_lo + 1, (unsigned)keep_hi - 1);
	child_close_range((unsigned)keep_hi + 1, ~0u);
}

static __attribute__((noreturn)) void child_run(struct child_plan *p)
{
	struct pollfd pfd;
	char go;
	int sig;

	syscall(SYS_close, p->go_wfd);
	syscall(SYS_close, p->report_rfd);
	/* Wait for the parent to map our ids (or to give up: EOF). */
	if (syscall(SYS_read, p->go_rfd, &go, 1) != 1)
		syscall(SYS_exit_group, 127);
	if (p->userns) {
		/* Drop the caller's supplementary groups where the parent
		 * allowed setgroups (it does when it is root). */
		if (syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
			child_fail(p, STEP_IDS, errno);
		if (syscall(SYS_setresgid, 0, 0, 0) < 0 ||
		    syscall(SYS_setresuid, 0, 0, 0) < 0)
			child_fail(p, STEP_IDS, errno);
	}
	/* Out of the caller's process group: a terminal's ^C is the vmm's to
	 * handle, not a reason for its device models to die. */
	if (syscall(SYS_setsid) < 0)
		child_fail(p, STEP_SESSION, errno);
	/* After the last credential change, which would clear it. */
	if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(p, STEP_DEATHSIG, errno);
	/* The parent holds the go pipe's write end until we have executed:
	 * a hang-up means it died before the death signal was armed. */
	pfd.fd = p->go_rfd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (syscall(SYS_poll, &pfd, 1, 0) < 0)
		child_fail(p, STEP_DEATHSIG, errno);
	if (pfd.revents & POLLHUP)
		syscall(SYS_exit_group, 127);
	syscall(SYS_close, p->go_rfd);

	child_arrange_fds(p);

	/* Every signal is blocked since the clone (the caller's handlers
	 * must not run here). Default dispositions first, ignored ones
	 * included (exec would keep those), then the empty mask. */
	struct kernel_sigaction dfl = { .handler = SIG_DFL };
	for (sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL,
				sizeof(dfl.mask));
	uint64_t empty = 0;
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, NULL,
		    sizeof(empty)) < 0)
		child_fail(p, STEP_SIGNALS, errno);

	syscall(SYS_execveat, p->exe_fd, "", p->argv, p->envp, AT_EMPTY_PATH);
	child_fail(p, STEP_EXEC, errno);
}

static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	err = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return err;
}

/* Writes one line "0 host 1" to /proc/PID/WHAT, trying the unprivileged
 * id first when the caller is root (the host may not know it: a
 * container's user namespace). */
static int map_id(pid_t pid, const char *id, unsigned own, int is_root)
{
	char path[64], line[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/%s_map", (int)pid, id);
	if (is_root) {
		snprintf(line, sizeof(line), "0 %u 1\n", SANDBOX_UNPRIV_ID);
		r = write_file(path, line);
		if (r == 0)
			return 0;
		log_warn("sandbox: cannot map the device model's root to host "
			 "%s %u (%s); it is host %s %u", id, SANDBOX_UNPRIV_ID,
			 strerror(-r), id, own);
	}
	snprintf(line, sizeof(line), "0 %u 1\n", own);
	r = write_file(path, line);
	if (r < 0)
		log_error("sandbox: cannot write %s: %s", path, strerror(-r));
	return r;
}

static int map_ids(pid_t pid)
{
	char path[64];
	int is_root = geteuid() == 0;
	int r;

	if (!is_root) {
		/* An unprivileged gid_map needs setgroups denied first (absent
		 * before Linux 3.19). */
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		r = write_file(path, "deny");
		if (r < 0 && r != -ENOENT) {
			log_error("sandbox: cannot write %s: %s", path,
				  strerror(-r));
			return r;
		}
	}
	r = map_id(pid, "uid", (unsigned)geteuid(), is_root);
	if (r == 0)
		r = map_id(pid, "gid", (unsigned)getegid(), is_root);
	return r;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static void reap_quietly(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* One attempt with the given clone flags. *refused says the clone itself
 * failed with a namespace refusal (nothing logged then). */
static int spawn_once(struct child_plan *plan, const char *path,
		      uint64_t flags, struct sandbox_child *child,
		      int *refused)
{
	struct child_failure f;
	int go[2], report[2];
	int pidfd, r;
	ssize_t n;
	pid_t pid;

	*refused = 0;
	if (pipe2(go, O_CLOEXEC) < 0)
		goto err_pipe;
	if (pipe2(report, O_CLOEXEC) < 0) {
		close(go[0]);
		close(go[1]);
		goto err_pipe;
	}
	plan->go_rfd = go[0];
	plan->go_wfd = go[1];
	plan->report_rfd = report[0];
	plan->report_wfd = report[1];
	plan->userns = !!(flags & CLONE_NEWUSER);

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = raw_clone(flags, &pidfd);
	if (pid == 0)
		child_run(plan);
	r = pid < 0 ? -errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(go[0]);
	close(report[1]);
	if (r < 0) {
		if (flags && is_refusal(-r))
			*refused = 1;
		else
			log_error("sandbox: cannot start a process: %s",
				  strerror(-r));
		goto out;
	}

	if (plan->userns) {
		r = map_ids(pid);
		if (r < 0)
			goto err_child;
	}
	if (write(go[1], "g", 1) != 1) {
		r = -errno;
		log_error("sandbox: cannot release the child: %s", strerror(-r));
		goto err_child;
	}
	n = read_full(report[0], &f, sizeof(f));
	if (n < 0) {
		r = -errno;
		log_error("sandbox: cannot read the child's start-up report: %s",
			  strerror(-r));
		goto err_child;
	}
	if (n > 0) {
		r = n == sizeof(f) && f.err > 0 ? -f.err : -EIO;
		if (n == sizeof(f) && f.step == STEP_EXEC)
			log_error("sandbox: cannot execute %s: %s", path,
				  strerror(-r));
		else
			log_error("sandbox: the child for %s failed %s: %s",
				  path, n == sizeof(f) && (unsigned)f.step <
				  sizeof(child_step_names) /
				  sizeof(child_step_names[0]) ?
				  child_step_names[f.step] : "to start",
				  strerror(-r));
		goto err_child;
	}
	child->pid = pid;
	child->pidfd = pidfd;
	goto out;

err_child:
	if (pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	else
		kill(pid, SIGKILL);
	reap_quietly(pid);
	if (pidfd >= 0)
		close(pidfd);
out:
	close(go[1]);
	close(report[0]);
	return r;

err_pipe:
	r = -errno;
	log_error("sandbox: cannot create a pipe: %s", strerror(-r));
	return r;
}

/* Clones a child that exits at once: 0 if the host allows these flags. */
static int probe_clone(uint64_t flags)
{
	int pidfd;
	pid_t pid = raw_clone(flags, &pidfd);

	if (pid == 0)
		syscall(SYS_exit_group, 0);
	if (pid < 0)
		return -errno;
	reap_quietly(pid);
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

/* Which of the wanted kinds the host allows, one at a time (each with a
 * user namespace if that works: an unprivileged caller needs one for the
 * others); warns once, naming what is missing and why. */
static unsigned probe_namespaces(unsigned wanted)
{
	char missing[256];
	size_t used = 0, i;
	unsigned got = 0;
	int r;

	missing[0] = '\0';
	for (i = 0; i < sizeof(ns_kinds) / sizeof(ns_kinds[0]); i++) {
		if (!(wanted & ns_kinds[i].kind))
			continue;
		r = probe_clone(ns_clone_flags(got & SANDBOX_NS_USER) |
				ns_kinds[i].clone_flag);
		if (r == 0) {
			got |= ns_kinds[i].kind;
			continue;
		}
		int n = snprintf(missing + used, sizeof(missing) - used,
				 "%s%s (%s)", used ? ", " : "",
				 ns_kinds[i].name, strerror(-r));
		if (n > 0 && (size_t)n < sizeof(missing) - used)
			used += (size_t)n;
	}
	if (used)
		log_warn("sandbox: the host refuses these namespaces, the "
			 "device model runs without them: %s", missing);
	return got;
}

static int fd_taken(const struct sandbox_fd *fds, size_t nfds, int n)
{
	size_t i;

	for (i = 0; i < nfds; i++)
		if (fds[i].child_fd == n)
			return 1;
	return 0;
}

/* Checks the descriptor list and gives the -1 entries the lowest free
 * numbers from 3 up; returns the highest target (at least 2) or -errno. */
static int plan_fds(struct sandbox_fd *fds, size_t nfds)
{
	int max_target = 2, n = 3;
	size_t i, j;

	for (i = 0; i < nfds; i++) {
		if (fds[i].fd < 0 || fds[i].child_fd < -1 ||
		    fds[i].child_fd > SANDBOX_FD_MAX)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (fds[i].child_fd >= 0 &&
			    fds[j].child_fd == fds[i].child_fd)
				return -EINVAL;
	}
	for (i = 0; i < nfds; i++) {
		if (fds[i].child_fd != -1)
			continue;
		while (fd_taken(fds, nfds, n))
			n++;
		fds[i].child_fd = n;
	}
	for (i = 0; i < nfds; i++)
		if (fds[i].child_fd > max_target)
			max_target = fds[i].child_fd;
	return max_target;
}

int sandbox_spawn(const struct sandbox_spawn_args *args,
		  struct sandbox_child *child)
{
	struct child_plan plan;
	unsigned kinds;
	int r, refused;

	child->pid = -1;
	child->pidfd = -1;
	child->namespaces = 0;
	if (!args->path || !args->argv || !args->argv[0] ||
	    (args->nfds && !args->fds) ||
	    (args->namespaces & ~(unsigned)SANDBOX_NS_ALL)) {
		log_error("sandbox: invalid spawn arguments");
		return -EINVAL;
	}
	r = plan_fds(args->fds, args->nfds);
	if (r < 0) {
		log_error("sandbox: invalid descriptor list for %s", args->path);
		return r;
	}
	memset(&plan, 0, sizeof(plan));
	plan.max_target = r;
	plan.argv = args->argv;
	plan.envp = args->envp ? args->envp : environ;
	plan.fds = args->fds;
	plan.nfds = args->nfds;
	plan.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (plan.null_fd < 0) {
		r = -errno;
		log_error("sandbox: cannot open /dev/null: %s", strerror(-r));
		return r;
	}
	plan.exe_fd = open(args->path, O_PATH | O_CLOEXEC);
	if (plan.exe_fd < 0) {
		r = -errno;
		log_error("sandbox: cannot open %s: %s", args->path,
			  strerror(-r));
		close(plan.null_fd);
		return r;
	}

	kinds = args->namespaces;
	r = spawn_once(&plan, args->path, ns_clone_flags(kinds), child,
		       &refused);
	if (r < 0 && refused) {
		kinds = probe_namespaces(kinds);
		r = spawn_once(&plan, args->path, ns_clone_flags(kinds), child,
			       &refused);
		if (r < 0 && refused)
			log_error("sandbox: cannot start %s in the namespaces "
				  "the host allows one by one: %s", args->path,
				  strerror(-r));
	}
	if (r == 0)
		child->namespaces = kinds;
	close(plan.exe_fd);
	close(plan.null_fd);
	return r;
}

int sandbox_reap(struct sandbox_child *child, int *status, bool block)
{
	pid_t r;

	if (child->pid <= 0)
		return -ECHILD;
	do
		r = waitpid(child->pid, status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	if (child->pidfd >= 0)
		close(child->pidfd);
	child->pidfd = -1;
	child->pid = -1;
	return 1;
}

int sandbox_kill(const struct sandbox_child *child)
{
	if (child->pid <= 0)
		return -ESRCH;
	if (child->pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, child->pidfd, SIGKILL, NULL,
			    0) == 0)
			return 0;
		if (errno != ENOSYS)
			return -errno;
	}
	return kill(child->pid, SIGKILL) < 0 ? -errno : 0;
}

void sandbox_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *abbrev = sigabbrev_np(sig);
		char name[32];

		if (abbrev)
			snprintf(name, sizeof(name), "SIG%s", abbrev);
		else
			snprintf(name, sizeof(name), "signal %d", sig);
		snprintf(buf, len, "killed by %s%s%s", name,
			 sig == SIGSYS ? " (a system call outside the "
					 "sandbox's allow-list)" : "",
			 WCOREDUMP(status) ? " (core dumped)" : "");
	} else {
		snprintf(buf, len, "stopped or continued (status 0x%x)",
			 (unsigned)status);
	}
}
