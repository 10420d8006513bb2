/* v2e-io: drives the block layer from the command line, in the spirit of
 * QEMU's qemu-io and with its spelling for the commands it supports.
 *   v2e-io [-f raw|qcow2] [-r] [-n] [-c "CMD"]... IMAGE
 * Every request goes through blk_aio and the event loop, as a device's
 * would. Exit status: 0 if every command succeeded, 1 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "lib/event_loop.h"
#include "lib/log.h"

#define MAX_CMDS 1024

struct io {
	struct blk *blk;
	struct event_loop *loop;
	struct blk_aio *aio;
};

struct wait {
	int done;
	int ret;
};

static void wait_done(struct blk_req *req, int ret)
{
	struct wait *w = req->opaque;
	w->done = 1;
	w->ret = ret;
}

static int io_do(struct io *io, enum blk_op op, uint64_t off, uint64_t len,
		 void *buf)
{
	struct wait w = { 0 };
	struct blk_req req = {
		.blk = io->blk, .op = op, .offset = off, .len = len,
		.buf = buf, .done = wait_done, .opaque = &w,
	};
	blk_aio_submit(io->aio, &req);
	while (!w.done) {
		int ret = event_loop_run_once(io->loop, -1);
		if (ret < 0)
			return ret;
	}
	return w.ret;
}

/* Numbers as qemu-io takes them: decimal or 0x, optional k/M/G/T suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case 'b': case 'B': end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static void fmt_size(char *buf, size_t n, uint64_t v)
{
	static const char *units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	double d = (double)v;
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, n, "%" PRIu64 " bytes", v);
	else
		snprintf(buf, n, "%.3g %s", d, units[u]);
}

static void dump(const unsigned char *p, uint64_t off, size_t len)
{
	size_t i, j;
	for (i = 0; i < len; i += 16) {
		printf("%08" PRIx64 ":  ", off + i);
		for (j = i; j < i + 16 && j < len; j++)
			printf("%02x ", p[j]);
		for (; j < i + 16; j++)
			printf("   ");
		printf(" ");
		for (j = i; j < i + 16 && j < len; j++)
			putchar(p[j] >= 32 && p[j] < 127 ? p[j] : '.');
		printf("\n");
	}
}

/* Splits a command line on blanks; no quoting needed by the commands. */
static int split(char *s, char **argv, int max)
{
	int n = 0;
	char *tok, *save;
	for (tok = strtok_r(s, " \t", &save); tok && n < max - 1;
	     tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return n;
}

static int cmd_rw(struct io *io, int argc, char **argv, int is_write)
{
	int pattern = -1, verbose = 0, zero = 0, c, ret;
	uint64_t off, len, done;
	unsigned char *buf;
	const size_t chunk = 16u << 20;

	optind = 1;
	while ((c = getopt(argc, argv, is_write ? "P:z" : "P:v")) != -1) {
		switch (c) {
		case 'P': {
			uint64_t p;
			if (parse_size(optarg, &p) || p > 255) {
				log_error("bad pattern '%s'", optarg);
				return -EINVAL;
			}
			pattern = (int)p;
			break;
		}
		case 'v': verbose = 1; break;
		case 'z': zero = 1; break;
		default: return -EINVAL;
		}
	}
	if (argc - optind != 2 || parse_size(argv[optind], &off) ||
	    parse_size(argv[optind + 1], &len)) {
		log_error("usage: %s [-P PATTERN]%s OFFSET LENGTH", argv[0],
			  is_write ? " [-z]" : " [-v]");
		return -EINVAL;
	}
	if (zero && pattern >= 0) {
		log_error("write: -z and -P are exclusive");
		return -EINVAL;
	}
	buf = malloc(len < chunk ? (size_t)len + 1 : chunk);
	if (!buf)
		return -ENOMEM;
	for (done = 0; done < len || (len == 0 && done == 0);) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;
		if (is_write && zero) {
			ret = io_do(io, BLK_OP_WRITE_ZEROES, off + done, n, NULL);
		} else if (is_write) {
			memset(buf, pattern >= 0 ? pattern : 0xcd, n);
			ret = io_do(io, BLK_OP_WRITE, off + done, n, buf);
		} else {
			ret = io_do(io, BLK_OP_READ, off + done, n, buf);
		}
		if (ret < 0) {
			log_error("%s failed: %s", is_write ? "write" : "read",
				  strerror(-ret));
			free(buf);
			return ret;
		}
		if (!is_write && pattern >= 0) {
			size_t i;
			for (i = 0; i < n && buf[i] == pattern; i++)
				;
			if (i < n) {
				size_t j = i;
				while (j < n && buf[j] != pattern)
					j++;
				printf("Pattern verification failed at offset %"
				       PRIu64 ", %zu bytes\n", off + done + i,
				       j - i);
				free(buf);
				return -EILSEQ;
			}
		}
		if (!is_write && verbose)
			dump(buf, off + done, n);
		if (len == 0)
			break;
		done += n;
	}
	free(buf);
	printf("%s %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n",
	       is_write ? "wrote" : "read", len, len, off);
	return 0;
}

static int cmd_discard(struct io *io, int argc, char **argv)
{
	uint64_t off, len;
	int ret;
	if (argc != 3 || parse_size(argv[1], &off) || parse_size(argv[2], &len)) {
		log_error("usage: discard OFFSET LENGTH");
		return -EINVAL;
	}
	ret = io_do(io, BLK_OP_DISCARD, off, len, NULL);
	if (ret < 0) {
		log_error("discard failed: %s", strerror(-ret));
		return ret;
	}
	printf("discard %" PRIu64 "/%" PRIu64 " bytes at offset %" PRIu64 "\n",
	       len, len, off);
	return 0;
}

static int cmd_info(struct io *io)
{
	struct blk_info info;
	char s[64];
	blk_get_info(io->blk, &info);
	printf("format name: %s\n", info.format);
	fmt_size(s, sizeof(s), info.size);
	printf("virtual size: %s (%" PRIu64 " bytes)\n", s, info.size);
	if (info.cluster_size) {
		fmt_size(s, sizeof(s), info.cluster_size);
		printf("cluster size: %s\n", s);
		printf("qcow2 version: %d\n", info.version);
		printf("refcount bits: %d\n", info.refcount_bits);
		printf("compression type: %s\n",
		       info.compression_type ? "zstd" : "zlib");
		printf("snapshots: %u\n", info.nb_snapshots);
	}
	if (info.backing[0])
		printf("backing file: %s%s%s%s\n", info.backing,
		       info.backing_format[0] ? " (format " : "",
		       info.backing_format,
		       info.backing_format[0] ? ")" : "");
	printf("read only: %s\n", info.read_only ? "yes" : "no");
	return 0;
}

static int cmd_map(struct io *io)
{
	uint64_t off = 0, size = io->blk->size;
	while (off < size) {
		uint64_t pnum, start = off;
		unsigned flags, first = 0;
		char a[64], b[64];
		int ret, have = 0;
		/* Merge runs with the same allocation state, as qemu-io does. */
		while (off < size) {
			uint64_t chunk = size - off;
			ret = blk_map(io->blk, off, chunk, &pnum, &flags);
			if (ret < 0) {
				log_error("map failed: %s", strerror(-ret));
				return ret;
			}
			if (!pnum)
				return -EIO;
			if (have && (flags & BLK_MAP_DATA) != (first & BLK_MAP_DATA))
				break;
			first = flags;
			have = 1;
			off += pnum;
		}
		fmt_size(a, sizeof(a), off - start);
		fmt_size(b, sizeof(b), start);
		printf("%s (0x%" PRIx64 ") bytes %s allocated at offset %s (0x%"
		       PRIx64 ")\n", a, off - start,
		       (first & BLK_MAP_DATA) ? "    " : "not", b, start);
	}
	return 0;
}

static int run_cmd(struct io *io, const char *line)
{
	char *copy = strdup(line), *argv[64];
	int argc, ret = -EINVAL;

	if (!copy)
		return -ENOMEM;
	argc = split(copy, argv, 64);
	if (argc == 0)
		ret = 0;
	else if (!strcmp(argv[0], "read"))
		ret = cmd_rw(io, argc, argv, 0);
	else if (!strcmp(argv[0], "write"))
		ret = cmd_rw(io, argc, argv, 1);
	else if (!strcmp(argv[0], "discard"))
		ret = cmd_discard(io, argc, argv);
	else if (!strcmp(argv[0], "flush")) {
		ret = io_do(io, BLK_OP_FLUSH, 0, 0, NULL);
		if (ret < 0)
			log_error("flush failed: %s", strerror(-ret));
	} else if (!strcmp(argv[0], "info"))
		ret = cmd_info(io);
	else if (!strcmp(argv[0], "map"))
		ret = cmd_map(io);
	else
		log_error("unknown command '%s'", argv[0]);
	free(copy);
	return ret;
}

/* Opens backing files read-only, relative to the image that names them,
 * as a dm's supervisor would before handing the fd over. */
static int open_backing(void *opaque, const char *referrer, const char *name,
			char *resolved, size_t resolved_len)
{
	char path[4096];
	int fd;

	if (name[0] == '/' || !referrer || !strchr(referrer, '/')) {
		snprintf(path, sizeof(path), "%s", name);
	} else {
		char *dup = strdup(referrer);
		if (!dup)
			return -ENOMEM;
		snprintf(path, sizeof(path), "%s/%s", dirname(dup), name);
		free(dup);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		log_error("cannot open backing file '%s': %s", path,
			  strerror(errno));
		return err;
	}
	snprintf(resolved, resolved_len, "%s", path);
	return fd;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: v2e-io [-f raw|qcow2] [-r] [-n] [-c CMD]... IMAGE\n"
		"commands: read [-P PAT] [-v] OFF LEN | write [-P PAT] [-z] "
		"OFF LEN\n          discard OFF LEN | flush | info | map\n");
}

int main(int argc, char **argv)
{
	const char *cmds[MAX_CMDS];
	struct blk_open_opts opts = { .open_backing = open_backing };
	struct io io = { 0 };
	int ncmds = 0, c, i, fd, ret, status = 0;

	log_set_prog("v2e-io");
	while ((c = getopt(argc, argv, "+f:rnc:h")) != -1) {
		switch (c) {
		case 'f': opts.format = optarg; break;
		case 'r': opts.flags |= BLK_O_RDONLY; break;
		case 'n': opts.flags |= BLK_O_DIRECT; break;
		case 'c':
			if (ncmds == MAX_CMDS) {
				log_error("too many commands");
				return 1;
			}
			cmds[ncmds++] = optarg;
			break;
		default: usage(); return c == 'h' ? 0 : 1;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 1;
	}
	if (opts.format && strcmp(opts.format, "raw") &&
	    strcmp(opts.format, "qcow2")) {
		log_error("unknown format '%s'", opts.format);
		return 1;
	}
	opts.name = argv[optind];
	fd = open(argv[optind], ((opts.flags & BLK_O_RDONLY) ? O_RDONLY : O_RDWR) |
		  ((opts.flags & BLK_O_DIRECT) ? O_DIRECT : 0) | O_CLOEXEC);
	if (fd < 0) {
		log_error("cannot open '%s': %s", argv[optind], strerror(errno));
		return 1;
	}
	ret = blk_open_fd(fd, &opts, &io.blk);
	if (ret < 0) {
		log_error("cannot open image '%s': %s", argv[optind],
			  strerror(-ret));
		close(fd);
		return 1;
	}
	ret = event_loop_new(&io.loop);
	if (ret == 0)
		ret = blk_aio_new(io.loop, 4, &io.aio);
	if (ret < 0) {
		log_error("setup failed: %s", strerror(-ret));
		status = 1;
		goto out;
	}
	for (i = 0; i < ncmds; i++) {
		if (run_cmd(&io, cmds[i]) < 0) {
			status = 1;
			break;
		}
	}
	/* Closing flushes metadata; a failure there is a failure too. */
	if (!(opts.flags & BLK_O_RDONLY) && io_do(&io, BLK_OP_FLUSH, 0, 0,
						  NULL) < 0)
		status = 1;
out:
	blk_aio_free(io.aio);
	event_loop_free(io.loop);
	blk_close(io.blk);
	return status;
}
