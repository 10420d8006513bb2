/* Shared by the block tests: temp dirs, shell commands, opening images. */
#ifndef V2E_TESTS_BLOCK_HELPERS_H
#define V2E_TESTS_BLOCK_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"

static inline const char *tb_tmpdir(void)
{
	static char dir[256];
	const char *base = getenv("TMPDIR");
	if (dir[0])
		return dir;
	snprintf(dir, sizeof(dir), "%s/v2e-block-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	return dir;
}

static inline void tb_cleanup(void)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tb_tmpdir());
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
}

/* Runs a shell command (printf-style) in the temp dir; returns its exit
 * status, or -1. Output goes to stderr so TAP stays clean. */
static inline int tb_sh(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline int tb_sh(const char *fmt, ...)
{
	char cmd[4096];
	int n, st;
	va_list ap;
	n = snprintf(cmd, sizeof(cmd), "cd '%s' && (", tb_tmpdir());
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, ") >&2");
	st = system(cmd);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static inline char *tb_path(const char *name)
{
	static char p[4][512];
	static int i;
	i = (i + 1) & 3;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tb_tmpdir(), name);
	return p[i];
}

static inline int tb_open_backing(void *opaque, const char *referrer,
				  const char *name, char *resolved,
				  size_t resolved_len)
{
	char path[1024];
	int fd;
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", tb_tmpdir(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(resolved, resolved_len, "%s", path);
	return fd;
}

/* Opens tmpdir/name through the block layer; NULL on failure. */
static inline struct blk *tb_open(const char *name, const char *fmt,
				  unsigned flags)
{
	struct blk_open_opts o = {
		.flags = flags, .format = fmt, .name = name,
		.open_backing = tb_open_backing,
	};
	struct blk *b;
	int fd = open(tb_path(name), (flags & BLK_O_RDONLY) ? O_RDONLY : O_RDWR);
	if (fd < 0)
		return NULL;
	if (blk_open_fd(fd, &o, &b) < 0) {
		close(fd);
		return NULL;
	}
	return b;
}

/* A small deterministic generator (xorshift64*), seeded per test. */
static inline uint64_t tb_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

#endif
