/* Shared by the sandbox tests: each program starts itself again, through
 * sandbox_spawn(), as "PROGRAM --child MODE [ARG]"; the child reports
 * "key value" lines on descriptor 3 (a pipe) and the parent reads them
 * until the child ends. */
#ifndef V2E_TESTS_SANDBOX_HELPERS_H
#define V2E_TESTS_SANDBOX_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dm/sandbox/sandbox.h"

#define TS_REPORT_FD 3
#define TS_TIMEOUT_MS 20000

struct ts_run {
	char out[8192];		/* report lines */
	size_t len;
	char err[8192];		/* its stderr */
	size_t errlen;
	int status;
	unsigned namespaces;	/* what the child got */
	pid_t pid;
};

/* Child side: one report line on TS_REPORT_FD (write(2) only: it works
 * under the sandbox's filter). */
static inline void ts_report(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void ts_report(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(TS_REPORT_FD, line, (size_t)n) != n)
		_exit(120);
}

static inline int ts_spawn_self(const char *mode, const char *arg,
				struct sandbox_fd *fds, size_t nfds,
				unsigned namespaces, struct sandbox_child *c)
{
	char *argv[] = { (char *)"sandbox-test", (char *)"--child",
			 (char *)mode, (char *)arg, NULL };
	struct sandbox_spawn_args a = {
		.path = "/proc/self/exe",
		.argv = argv,
		.fds = fds,
		.nfds = nfds,
		.namespaces = namespaces,
	};
	return sandbox_spawn(&a, c);
}

/* Reads (adding to what is already in r) what the child reports and
 * writes to stderr until it closes both pipes (or the time runs out: then it is killed), then reaps it. */
static inline int ts_collect(int rfd, int efd, struct sandbox_child *c,
			     struct ts_run *r)
{
	struct pollfd pfd[2] = {
		{ .fd = rfd, .events = POLLIN },
		{ .fd = efd, .events = POLLIN },
	};
	char *buf[2] = { r->out, r->err };
	size_t *len[2] = { &r->len, &r->errlen };
	ssize_t n;
	int i;

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		int p = poll(pfd, 2, TS_TIMEOUT_MS);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0) {
			fprintf(stderr, "sandbox test: child timed out\n");
			(void)sandbox_kill(c);
			break;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf[i] + *len[i],
				 sizeof(r->out) - 1 - *len[i]);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				continue;
			}
			*len[i] += (size_t)n;
		}
	}
	r->out[r->len] = '\0';
	r->err[r->errlen] = '\0';
	close(rfd);
	close(efd);
	return sandbox_reap(c, &r->status, true) == 1 ? 0 : -ECHILD;
}

/* After a failed check: what the child said. */
static inline void ts_dump(const struct ts_run *r)
{
	fprintf(stderr, "--- child report:\n%s--- child stderr:\n%s---\n",
		r->out, r->err);
}

/* Runs one child with a pipe as its stderr (as the vmm would give it:
 * a file there would meet RLIMIT_FSIZE 0), the report pipe and the extra
 * descriptors (their child_fd chosen by the caller). */
static inline int ts_run(const char *mode, const char *arg,
			 const struct sandbox_fd *extra, size_t nextra,
			 unsigned namespaces, struct ts_run *r)
{
	struct sandbox_fd fds[16] = { { -1, 2 }, { -1, TS_REPORT_FD } };
	struct sandbox_child c;
	int p[2], e[2], ret;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (nextra > 14 || pipe2(p, O_CLOEXEC) < 0)
		return -EINVAL;
	if (pipe2(e, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return -EMFILE;
	}
	fds[0].fd = e[1];
	fds[1].fd = p[1];
	for (i = 0; i < nextra; i++)
		fds[2 + i] = extra[i];
	ret = ts_spawn_self(mode, arg, fds, 2 + nextra, namespaces, &c);
	close(p[1]);
	close(e[1]);
	if (ret < 0) {
		close(p[0]);
		close(e[0]);
		return ret;
	}
	r->namespaces = c.namespaces;
	r->pid = c.pid;
	return ts_collect(p[0], e[0], &c, r);
}

/* The value of the report line "key value", or NULL. */
static inline const char *ts_value(const struct ts_run *r, const char *key)
{
	static char val[512];
	size_t klen = strlen(key);
	const char *p = r->out;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > klen && !strncmp(p, key, klen) && p[klen] == ' ') {
			size_t vlen = len - klen - 1;
			if (vlen >= sizeof(val))
				vlen = sizeof(val) - 1;
			memcpy(val, p + klen + 1, vlen);
			val[vlen] = '\0';
			return val;
		}
		p += len + (eol ? 1 : 0);
	}
	return NULL;
}

static inline int ts_value_is(const struct ts_run *r, const char *key,
			      const char *want)
{
	const char *v = ts_value(r, key);
	return v && !strcmp(v, want);
}

static inline int ts_killed_by(const struct ts_run *r, int sig)
{
	return WIFSIGNALED(r->status) && WTERMSIG(r->status) == sig;
}

static inline int ts_exited(const struct ts_run *r, int code)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

static inline const char *ts_status(const struct ts_run *r)
{
	static char buf[128];
	sandbox_describe_status(r->status, buf, sizeof(buf));
	return buf;
}

#endif
