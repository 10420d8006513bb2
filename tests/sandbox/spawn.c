/* sandbox_spawn() and the child handle: only the listed descriptors reach
 * the child, at the chosen or reported numbers; it gets the namespaces
 * (PID 1, root of a user namespace mapped to an unprivileged host id), a
 * session of its own, an empty signal mask and default dispositions; it
 * dies with its parent; the caller sees how it ended through the pidfd
 * and sandbox_reap(); exec failures come back as errors with nothing left
 * running; a namespace kind the host refuses (a max_*_namespaces sysctl
 * at 0 in a user namespace of the test's own) costs one warning naming
 * it, and the rest is kept. */
#include "tests/sandbox/helpers.h"
#include "tests/tap.h"

#include <signal.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

static const char *const ns_files[] = {
	"user", "mnt", "pid", "ipc", "uts", "net",	/* SANDBOX_NS_* order */
};

/* ---- children ---- */

static void child_fds(void)
{
	char line[512], c;
	struct sigaction sa;
	uint64_t ev = 0;
	sigset_t set;
	size_t used = 0;
	int fd, cloexec = 0, blocked = 0, sig;

	used += (size_t)snprintf(line, sizeof(line), "fds");
	for (fd = 0; fd < 1024; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl < 0)
			continue;
		cloexec += !!(fl & FD_CLOEXEC);
		if (used < sizeof(line) - 16)
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 " %d", fd);
	}
	ts_report("%s", line);
	ts_report("cloexec %d", cloexec);
	for (fd = 0; fd < 2; fd++) {
		struct stat st;
		ts_report("null%d %d", fd, fstat(fd, &st) == 0 &&
			  S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
			  minor(st.st_rdev) == 3);
	}
	sigprocmask(SIG_BLOCK, NULL, &set);
	for (sig = 1; sig < 32; sig++)
		blocked += sigismember(&set, sig) == 1;
	ts_report("blocked %d", blocked);
	sigaction(SIGPIPE, NULL, &sa);
	ts_report("sigpipe %s", sa.sa_handler == SIG_IGN ? "ign" : "dfl");
	ts_report("session %d", getsid(0) == getpid());
	ts_report("pid %d", (int)getpid());
	ts_report("uid %d gid %d", (int)getuid(), (int)getgid());
	for (size_t i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
		struct stat st;
		snprintf(line, sizeof(line), "/proc/self/ns/%s", ns_files[i]);
		ts_report("ns_%s %llu", ns_files[i], stat(line, &st) == 0 ?
			  (unsigned long long)st.st_ino : 0ull);
	}
	ts_report("event %llu", read(9, &ev, sizeof(ev)) == sizeof(ev) ?
		  (unsigned long long)ev : 0ull);
	ts_report("end 1");
	/* the parent looks at us from outside, then sends a byte on fd 4 */
	if (read(4, &c, 1) != 1 || write(4, &c, 1) != 1)
		_exit(5);
	_exit(0);
}

static int child_main(const char *mode, const char *arg)
{
	if (!strcmp(mode, "exit"))
		_exit(arg ? atoi(arg) : 0);
	if (!strcmp(mode, "sleep")) {
		for (;;)
			pause();
	}
	if (!strcmp(mode, "fds"))
		child_fds();
	return 9;
}

/* ---- parent ---- */

/* Collects what this process writes to stderr between the two calls. */
struct capture {
	int saved;
	int rfd;
	char text[4096];
};

static int capture_begin(struct capture *cap)
{
	int p[2];

	fflush(stderr);
	cap->text[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	cap->saved = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	cap->rfd = p[0];
	return 0;
}

static void capture_end(struct capture *cap)
{
	ssize_t n;

	fflush(stderr);
	dup2(cap->saved, 2);
	close(cap->saved);
	n = read(cap->rfd, cap->text, sizeof(cap->text) - 1);
	cap->text[n > 0 ? n : 0] = '\0';
	close(cap->rfd);
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Reads report lines until `until` has arrived (or EOF / time out). */
static void read_until(int rfd, struct ts_run *r, const char *until)
{
	while (!strstr(r->out, until) && r->len < sizeof(r->out) - 1) {
		ssize_t n;
		if (!wait_readable(rfd, TS_TIMEOUT_MS))
			return;
		n = read(rfd, r->out + r->len, sizeof(r->out) - 1 - r->len);
		if (n <= 0)
			return;
		r->len += (size_t)n;
		r->out[r->len] = '\0';
	}
}

static unsigned long long host_uid_of(pid_t pid)
{
	char path[64], line[256];
	unsigned long long uid = ~0ull;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return uid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %llu", &uid) == 1)
			break;
	fclose(f);
	return uid;
}

static void check_fds(struct tap *t)
{
	struct sandbox_fd fds[4];
	struct sandbox_child c;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigset_t usr1, old_mask;
	struct ts_run r;
	int p[2], e[2], sv[2], efd, stray1, stray2, ret;
	char byte = 'x', want[64];
	unsigned long long own_ino;
	struct stat st;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (pipe2(p, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (efd = eventfd(7, EFD_CLOEXEC)) < 0) {
		tap_ok(t, 0, "fds: set-up: %s", strerror(errno));
		return;
	}
	/* not close-on-exec, and not listed: must not arrive */
	stray1 = open("/dev/null", O_RDONLY);
	stray2 = dup(sv[1]);
	fds[0] = (struct sandbox_fd){ e[1], 2 };
	fds[1] = (struct sandbox_fd){ p[1], TS_REPORT_FD };
	fds[2] = (struct sandbox_fd){ sv[1], -1 };
	fds[3] = (struct sandbox_fd){ efd, 9 };

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old_mask);
	sigaction(SIGPIPE, &ign, &old_pipe);
	ret = ts_spawn_self("fds", NULL, fds, 4, SANDBOX_NS_ALL, &c);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	close(p[1]);
	close(e[1]);
	close(stray1);
	close(stray2);
	if (!tap_ok(t, ret == 0, "fds: spawned (%s)", strerror(-ret)))
		return;
	tap_ok(t, fds[2].child_fd == 4,
	       "fds: the unnumbered descriptor got the lowest free number, 4 "
	       "(%d)", fds[2].child_fd);
	tap_ok(t, c.pidfd >= 0, "a pidfd comes with the child");
	r.namespaces = c.namespaces;
	read_until(p[0], &r, "end 1\n");

	if (!tap_ok(t, ts_value_is(&r, "fds", "0 1 2 3 4 9") &&
		    ts_value_is(&r, "cloexec", "0"),
		    "fds: exactly 2, 3, 4 and 9 arrive (and 0, 1), none "
		    "close-on-exec (%s)",
		    ts_value(&r, "fds") ? ts_value(&r, "fds") : "?"))
		ts_dump(&r);
	tap_ok(t, ts_value_is(&r, "null0", "1") && ts_value_is(&r, "null1", "1"),
	       "fds: 0 and 1, not listed, are /dev/null");
	tap_ok(t, ts_value_is(&r, "event", "7"),
	       "fds: fd 9 is the eventfd (it reads its count, 7)");
	tap_ok(t, ts_value_is(&r, "blocked", "0") &&
	       ts_value_is(&r, "sigpipe", "dfl"),
	       "no blocked signals (the caller blocked SIGUSR1), SIGPIPE back "
	       "to its default (the caller ignored it)");
	tap_ok(t, ts_value_is(&r, "session", "1"),
	       "a session of its own: the terminal's signals are the vmm's");
	for (i = 0; i < sizeof(ns_files) / sizeof(ns_files[0]); i++) {
		snprintf(want, sizeof(want), "/proc/self/ns/%s", ns_files[i]);
		own_ino = stat(want, &st) == 0 ? st.st_ino : 0;
		snprintf(want, sizeof(want), "%llu", own_ino);
		snprintf(want + 32, 32, "ns_%s", ns_files[i]);
		if (c.namespaces & (1u << i))
			tap_ok(t, own_ino && ts_value(&r, want + 32) &&
			       !ts_value_is(&r, want + 32, want),
			       "its own %s namespace", ns_files[i]);
		else
			printf("ok %d - # SKIP the host refuses %s namespaces\n",
			       ++t->n, ns_files[i]);
	}
	if (c.namespaces & SANDBOX_NS_PID)
		tap_ok(t, ts_value_is(&r, "pid", "1"), "PID 1 of its namespace");
	if (c.namespaces & SANDBOX_NS_USER) {
		unsigned long long host = host_uid_of(c.pid);
		unsigned long long want_host =
			geteuid() == 0 ? 65534 : (unsigned long long)geteuid();
		tap_ok(t, ts_value_is(&r, "uid", "0 gid 0"),
		       "root of its user namespace");
		tap_ok(t, host == want_host,
		       "seen from the host it is uid %llu (%llu)", want_host,
		       host);
	}

	tap_ok(t, !wait_readable(c.pidfd, 0), "the pidfd is quiet while it runs");
	tap_ok(t, write(sv[0], &byte, 1) == 1 && wait_readable(sv[0], 5000) &&
	       read(sv[0], &byte, 1) == 1 && byte == 'x',
	       "fd 4 is the socket: the byte comes back");
	tap_ok(t, wait_readable(c.pidfd, 5000), "the pidfd wakes when it ends");
	ret = ts_collect(p[0], e[0], &c, &r);
	tap_ok(t, ret == 0 && ts_exited(&r, 0), "it exits 0 (%s)", ts_status(&r));
	close(sv[0]);
	close(efd);
}

static void check_exit_and_kill(struct tap *t)
{
	struct sandbox_child c;
	struct ts_run r;
	char buf[128];
	int st = 0, ret;

	ret = ts_run("exit", "42", NULL, 0, SANDBOX_NS_ALL, &r);
	sandbox_describe_status(r.status, buf, sizeof(buf));
	tap_ok(t, ret == 0 && ts_exited(&r, 42) &&
	       !strcmp(buf, "exited with status 42"),
	       "the exit status passes through: %s", buf);

	struct sandbox_fd fds[] = { { 2, 2 } };
	ret = ts_spawn_self("sleep", NULL, fds, 1, SANDBOX_NS_ALL, &c);
	if (!tap_ok(t, ret == 0, "a sleeping child starts"))
		return;
	tap_ok(t, sandbox_reap(&c, &st, false) == 0,
	       "sandbox_reap without blocking: still running");
	tap_ok(t, sandbox_kill(&c) == 0, "sandbox_kill");
	ret = sandbox_reap(&c, &st, true);
	sandbox_describe_status(st, buf, sizeof(buf));
	tap_ok(t, ret == 1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
	       !strcmp(buf, "killed by SIGKILL") && c.pid == -1 &&
	       c.pidfd == -1, "it dies of SIGKILL, even as PID 1: %s", buf);
	tap_ok(t, sandbox_reap(&c, &st, true) == -ECHILD,
	       "reaping twice is an error, not a wait on pid -1");

	sandbox_describe_status(SIGSYS, buf, sizeof(buf));
	tap_ok(t, !strcmp(buf, "killed by SIGSYS (a system call outside the "
			  "sandbox's allow-list)"), "SIGSYS is explained: %s",
	       buf);
	sandbox_ns_names(SANDBOX_NS_USER | SANDBOX_NS_NET, buf, sizeof(buf));
	tap_ok(t, !strcmp(buf, "user, network"), "namespace names: %s", buf);
	sandbox_ns_names(0, buf, sizeof(buf));
	tap_ok(t, !strcmp(buf, "none"), "no namespace: %s", buf);
}

static void check_failures(struct tap *t)
{
	char tmpl[] = "/tmp/v2e-sandbox-noexec-XXXXXX";
	char *argv[] = { (char *)"x", NULL };
	struct sandbox_fd dup_fds[] = { { 2, 5 }, { 1, 5 } };
	struct sandbox_spawn_args a = { .argv = argv,
					.namespaces = SANDBOX_NS_ALL };
	struct sandbox_child c;
	struct capture cap;
	int fd, ret;

	a.path = "/nonexistent/v2e-dm";
	capture_begin(&cap);
	ret = sandbox_spawn(&a, &c);
	capture_end(&cap);
	tap_ok(t, ret == -ENOENT && c.pid == -1 &&
	       strstr(cap.text, "cannot open /nonexistent/v2e-dm"),
	       "a missing program: -ENOENT and a message (%s)", strerror(-ret));

	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0 || write(fd, "not a program\n", 14) != 14) {
		tap_ok(t, 0, "set-up: %s", strerror(errno));
		return;
	}
	close(fd);
	chmod(tmpl, 0644);
	a.path = tmpl;
	capture_begin(&cap);
	ret = sandbox_spawn(&a, &c);
	capture_end(&cap);
	unlink(tmpl);
	{
		char *line = strstr(cap.text, "cannot execute");
		if (line)
			line[strcspn(line, "\n")] = '\0';
		tap_ok(t, ret == -EACCES && line,
		       "a file that is not executable: -EACCES from the "
		       "child's execve, reported: %s", line ? line : "?");
	}
	errno = 0;
	tap_ok(t, waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
	       "and no child is left behind");

	a.path = "/proc/self/exe";
	a.fds = dup_fds;
	a.nfds = 2;
	capture_begin(&cap);
	ret = sandbox_spawn(&a, &c);
	capture_end(&cap);
	tap_ok(t, ret == -EINVAL, "two descriptors for one number: -EINVAL");
}

/* The child ends with its parent: a middle process spawns a sleeper and
 * exits; the sleeper, reparented to us (a subreaper), must die. */
static void check_death_signal(struct tap *t)
{
	int q[2], st = 0;
	pid_t mid, sleeper = -1, r = 0;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ||
	    pipe2(q, O_CLOEXEC) < 0) {
		tap_ok(t, 0, "set-up: %s", strerror(errno));
		return;
	}
	mid = fork();
	if (mid == 0) {
		struct sandbox_fd fds[] = { { 2, 2 } };
		struct sandbox_child c;
		if (ts_spawn_self("sleep", NULL, fds, 1, SANDBOX_NS_ALL, &c) < 0)
			_exit(1);
		if (write(q[1], &c.pid, sizeof(c.pid)) != sizeof(c.pid))
			_exit(2);
		_exit(0);	/* without reaping it */
	}
	close(q[1]);
	if (mid < 0 || read(q[0], &sleeper, sizeof(sleeper)) != sizeof(sleeper)) {
		tap_ok(t, 0, "the middle process spawned nothing");
		close(q[0]);
		return;
	}
	close(q[0]);
	waitpid(mid, NULL, 0);
	for (int i = 0; i < 500; i++) {
		r = waitpid(sleeper, &st, WNOHANG);
		if (r == sleeper)
			break;
		nanosleep(&ts, NULL);	/* not reparented or not dead yet */
	}
	if (r != sleeper) {
		kill(sleeper, SIGKILL);
		waitpid(sleeper, &st, 0);
	}
	tap_ok(t, r == sleeper && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "the child dies of SIGKILL when its parent exits");
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* In a user namespace of our own, sets user.SYSCTL to 0, so that the host
 * refuses that kind below it, and spawns with every kind asked. */
static void check_refused(struct tap *t, const char *sysctl, unsigned kind,
			  const char *name)
{
	struct {
		int ret;
		unsigned got;
		int exited0;
		char warn[4096];
	} res;
	char path[128], map[64];
	int q[2], st;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	pid_t pid;

	memset(&res, 0, sizeof(res));
	if (pipe2(q, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct capture cap;
		struct ts_run r;
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(77);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (write_text("/proc/self/setgroups", "deny") < 0 ||
		    write_text("/proc/self/uid_map", map) < 0)
			_exit(78);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		snprintf(path, sizeof(path), "/proc/sys/user/%s", sysctl);
		if (write_text("/proc/self/gid_map", map) < 0 ||
		    write_text(path, "0") < 0)
			_exit(78);
		capture_begin(&cap);
		res.ret = ts_run("exit", "0", NULL, 0, SANDBOX_NS_ALL, &r);
		capture_end(&cap);
		res.got = r.namespaces;
		res.exited0 = ts_exited(&r, 0);
		snprintf(res.warn, sizeof(res.warn), "%s", cap.text);
		if (write(q[1], &res, sizeof(res)) != sizeof(res))
			_exit(79);
		_exit(0);
	}
	close(q[1]);
	if (pid < 0 || read(q[0], &res, sizeof(res)) != sizeof(res)) {
		waitpid(pid, &st, 0);
		close(q[0]);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
			printf("ok %d - # SKIP no user namespace to set "
			       "user.%s in\n", ++t->n, sysctl);
		else
			tap_ok(t, 0, "%s refused: the helper failed (%d)", name,
			       st);
		return;
	}
	close(q[0]);
	waitpid(pid, &st, 0);
	snprintf(path, sizeof(path), ": %s (", name);
	tap_ok(t, res.ret == 0 && res.exited0,
	       "%s namespaces refused: the child still starts and exits 0",
	       name);
	tap_ok(t, res.got == (SANDBOX_NS_ALL & ~kind),
	       "%s namespaces refused: it gets every other kind (0x%x)", name,
	       res.got);
	if (!tap_ok(t, strstr(res.warn, "the host refuses these namespaces, "
			      "the device model runs without them") &&
		    strstr(res.warn, path),
		    "%s namespaces refused: one warning names them", name))
		fprintf(stderr, "%s", res.warn);
}

int main(int argc, char **argv)
{
	struct tap t = { 0 };

	if (argc >= 3 && !strcmp(argv[1], "--child"))
		return child_main(argv[2], argc > 3 ? argv[3] : NULL);

	check_fds(&t);
	check_exit_and_kill(&t);
	check_failures(&t);
	check_death_signal(&t);
	check_refused(&t, "max_net_namespaces", SANDBOX_NS_NET, "network");
	check_refused(&t, "max_user_namespaces", SANDBOX_NS_USER, "user");
	check_refused(&t, "max_pid_namespaces", SANDBOX_NS_PID, "PID");
	return tap_done(&t);
}
