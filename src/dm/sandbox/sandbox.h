/* The device model's sandbox (the stub-domain idea of DESIGN.md): a
 * device model sees guest RAM and the host resources handed to it as file
 * descriptors, nothing else. Two halves:
 *
 *  - sandbox_spawn(), in the vmm: starts the device-model program in new
 *    user, mount, PID, IPC, UTS and network namespaces (those the host
 *    allows: a refused kind costs a one-line warning, not the start), with
 *    exactly the descriptors the caller lists, dying with its parent.
 *  - sandbox_lockdown(), in the device model, once everything it needs has
 *    arrived as descriptors and before it serves the first request: an
 *    empty read-only root, no_new_privs, no capabilities, tight resource
 *    limits and a seccomp allow-list. It takes no paths: after it, nothing
 *    new can be opened.
 *
 * Errors are 0 / -errno, each with a one-line message on stderr. */
#ifndef V2E_DM_SANDBOX_H
#define V2E_DM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/compiler.h"

/* Namespace kinds, for sandbox_spawn_args.namespaces and what it got. */
enum {
	SANDBOX_NS_USER = 1u << 0,
	SANDBOX_NS_MOUNT = 1u << 1,
	SANDBOX_NS_PID = 1u << 2,
	SANDBOX_NS_IPC = 1u << 3,
	SANDBOX_NS_UTS = 1u << 4,
	SANDBOX_NS_NET = 1u << 5,
	SANDBOX_NS_ALL = (1u << 6) - 1,
};

/* One descriptor handed to the child: the caller's fd becomes child_fd
 * there. child_fd -1 lets sandbox_spawn() choose (the lowest free number
 * from 3 up) and write the choice back. Descriptors not listed are closed
 * in the child, except that 0, 1 and 2, when not listed, are /dev/null
 * (so that no descriptor the child receives later lands there): list 2
 * to keep stderr. */
struct sandbox_fd {
	int fd;
	int child_fd;
};

struct sandbox_spawn_args {
	/* The program, opened here and executed through that descriptor, so
	 * the path is resolved with the caller's rights, not the child's. */
	const char *path;
	char *const *argv;
	char *const *envp;		/* NULL: the caller's environment */
	struct sandbox_fd *fds;
	size_t nfds;
	unsigned namespaces;		/* SANDBOX_NS_* wanted */
};

/* A started child. Poll pidfd (readable when the child has ended) where
 * the kernel has pidfds, else watch SIGCHLD; then sandbox_reap(). */
struct sandbox_child {
	pid_t pid;			/* in the caller's PID namespace */
	int pidfd;			/* -1 without pidfd support */
	unsigned namespaces;		/* SANDBOX_NS_* it got */
};

/* Starts args->path in a new session, with the namespaces the host allows
 * out of args->namespaces, the listed descriptors and nothing else, an
 * empty signal mask, default signal dispositions, and SIGKILL as its
 * parent-death signal (the parent is the calling *thread*: spawn from one
 * that lives as long as the child should). With a PID namespace the child
 * is its PID 1: signals it has no handler for are ignored unless they
 * come from outside, so stop it with sandbox_kill() or a message.
 * In a user namespace the child is root there, mapped to the caller's
 * user, or to uid/gid 65534 when the caller is root and may map it; it
 * keeps its capabilities there until sandbox_lockdown().
 * Returns once the program has been executed, or -errno (exec failures
 * included) with nothing left running. */
must_check int sandbox_spawn(const struct sandbox_spawn_args *args,
			     struct sandbox_child *child);

/* Collects the child's end: 1 with *status as waitpid() gives it (and the
 * pidfd closed, pid -1), 0 if it still runs and !block, or -errno. */
must_check int sandbox_reap(struct sandbox_child *child, int *status,
			    bool block);

/* Sends SIGKILL (through the pidfd when there is one: no reuse race). */
int sandbox_kill(const struct sandbox_child *child);

/* "exited with status 3", "killed by SIGSYS (a system call outside the
 * sandbox's allow-list)", ... for a status from sandbox_reap(). */
void sandbox_describe_status(int status, char *buf, size_t len);

/* "user, network" for a mask of SANDBOX_NS_* ("none" for 0). */
void sandbox_ns_names(unsigned mask, char *buf, size_t len);

#define SANDBOX_UNLIMITED UINT64_MAX

struct sandbox_lockdown_args {
	/* Descriptor numbers that may still be created (received with
	 * SCM_RIGHTS, say): RLIMIT_NOFILE is the highest held fd + 1 + this. */
	unsigned fd_margin;
	/* Bytes of address space (RLIMIT_AS) and of private writable memory
	 * (RLIMIT_DATA) the device model may add to what it has mapped when
	 * lockdown starts; SANDBOX_UNLIMITED leaves both limits alone. */
	uint64_t mem_headroom;
	/* RLIMIT_FSIZE. The kernel applies it to every write to a regular
	 * file, at any offset, not only to growth, and kills the writer with
	 * SIGXFSZ: 0 suits a device model that holds no writable file (its
	 * stderr a pipe, no disk image); one writing an image or a log file
	 * needs SANDBOX_UNLIMITED or a bound above the file's size. Lockdown
	 * refuses 0 while a writable regular file is held (guest RAM's memfd
	 * does not count: stores into a mapping are not writes). */
	uint64_t fsize_max;
	/* Threads the device model may start after lockdown (0: none). Threads
	 * must not exist before it: capabilities are per thread, and lockdown
	 * refuses to run in a process that has several. With threads, clone
	 * is allowed for CLONE_THREAD only and clone3 fails with ENOSYS (so
	 * the C library falls back to clone). */
	unsigned max_threads;
	/* NULL-terminated system call names allowed on top of the base list
	 * (io_uring_enter, ...), unconditionally: naming one the base list
	 * restricts by argument (mmap, mprotect, newfstatat, ioctl, clone)
	 * lifts that restriction. NULL: none. */
	const char *const *extra_syscalls;
};

/* 1 if the process holds a writable regular file other than a memfd (a
 * log, a disk image: RLIMIT_FSIZE applies to it), 0 if not, or -errno.
 * For choosing fsize_max. */
must_check int sandbox_holds_writable_file(void);

/* Sandboxes the calling process for good. It must be single-threaded and
 * hold every descriptor it will need. In order: a fresh private mount
 * namespace with an empty read-only tmpfs as root (nosuid, nodev,
 * noexec; the host's tree detached) and the working directory there;
 * resource limits (RLIMIT_NOFILE, RLIMIT_NPROC 0 or max_threads,
 * RLIMIT_FSIZE, RLIMIT_CORE 0, RLIMIT_MEMLOCK 0, RLIMIT_AS and
 * RLIMIT_DATA); no_new_privs; every capability dropped (effective,
 * permitted, inheritable, ambient, bounding); then a seccomp filter for
 * the native architecture (x86-64; x32 and i386 system calls kill) that
 * kills the process (SIGSYS) on any system call outside the allow-list:
 * I/O on held descriptors (read, write, readv, writev, pread64, pwrite64,
 * preadv, pwritev, preadv2, pwritev2, lseek, fsync, fdatasync, fallocate,
 * close, fstat, newfstatat with AT_EMPTY_PATH, ioctl TCGETS for isatty), waiting (ppoll, poll, epoll_wait, epoll_pwait,
 * epoll_pwait2, epoll_ctl, futex, sched_yield), messages on held sockets
 * (recvmsg, sendmsg), time (clock_gettime, clock_nanosleep, nanosleep),
 * memory without PROT_EXEC (mmap, mprotect, munmap, madvise, brk,
 * mremap), signals (rt_sigreturn, rt_sigprocmask, restart_syscall,
 * sigaltstack), getpid, gettid, exit, exit_group; with max_threads also
 * clone (CLONE_THREAD only), set_robust_list, rseq, rt_sigaction and
 * sched_getaffinity; and args->extra_syscalls.
 * Only a missing mount namespace is a warning (no empty root then; the
 * filter still forbids opening anything); every other failure returns
 * -errno and leaves the process half locked: it should exit.
 * Under AddressSanitizer, exit() runs LeakSanitizer's check, which needs
 * ptrace and /proc: a sanitizer build's device model ends with _exit()
 * (or runs with detect_leaks=0), else it dies of SIGSYS at its exit. */
must_check int sandbox_lockdown(const struct sandbox_lockdown_args *args);

#endif
