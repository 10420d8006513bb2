/* The websocket port's HTTP side (http.h): a strict request parser and
 * noVNC's files held in memory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "display/http.h"
#include "lib/hex.h"
#include "lib/log.h"

#define FILES_MAX 2048
#define FILE_MAX_BYTES (8u << 20)
#define FILES_MAX_BYTES (32u << 20)
#define DIR_MAX_DEPTH 8

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Does the comma-separated header value [v, v + n) list `token`? */
static bool lists_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);
	size_t i = 0;

	while (i < n) {
		size_t s, e;
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, token, tl))
			return true;
	}
	return false;
}

/* The target [t, t + n) as a file path: percent-decoded, query and
 * fragment dropped, no empty, "." or ".." segment, no hidden file, no
 * byte outside printable ASCII, no backslash. */
static bool decode_path(const char *t, size_t n, char *out)
{
	size_t o = 0, seg = 0;

	for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '%') {
			int hi = i + 2 < n ? hex_digit((unsigned char)t[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit((unsigned char)t[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return false;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			/* An encoded slash would hide a segment from the
			 * checks below. */
			if (c == '/')
				return false;
		}
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return false;
		if (o + 1 >= HTTP_MAX_PATH)
			return false;
		if (c == '/') {
			if (o > 0 && o == seg)     /* "//" */
				return false;
			seg = o + 1;
		} else if (o == seg && c == '.') {
			return false;              /* ".", "..", ".hidden" */
		}
		out[o++] = (char)c;
	}
	if (o == 0 || out[0] != '/')
		return false;
	out[o] = '\0';
	return true;
}

enum http_parse http_parse(const char *buf, size_t len, struct http_request *req)
{
	const char *end = NULL, *p, *line_end, *sp, *target;
	size_t scan = len < HTTP_MAX_REQUEST ? len : HTTP_MAX_REQUEST;
	bool upgrade = false;
	size_t tlen;

	for (size_t i = 0; i + 3 < scan; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			end = buf + i + 2;   /* the blank line's start */
			break;
		}
	if (!end)
		return len >= HTTP_MAX_REQUEST ? HTTP_BAD : HTTP_INCOMPLETE;
	memset(req, 0, sizeof(*req));
	req->header_len = (size_t)(end - buf) + 2;

	/* Request line: METHOD SP target SP HTTP/1.x CRLF */
	line_end = memchr(buf, '\r', (size_t)(end - buf));
	if (!line_end || line_end[1] != '\n')
		return HTTP_BAD;
	sp = memchr(buf, ' ', (size_t)(line_end - buf));
	if (!sp || sp == buf)
		return HTTP_BAD;
	for (p = buf; p < sp; p++)
		if (!is_tchar((unsigned char)*p))
			return HTTP_BAD;
	target = sp + 1;
	sp = memchr(target, ' ', (size_t)(line_end - target));
	if (!sp || sp == target || *target != '/')
		return HTTP_BAD;
	tlen = (size_t)(sp - target);
	for (p = target; p < sp; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return HTTP_BAD;
	if (line_end - sp - 1 != 8 ||
	    (memcmp(sp + 1, "HTTP/1.1", 8) && memcmp(sp + 1, "HTTP/1.0", 8)))
		return HTTP_BAD;

	/* Headers: name ":" value CRLF, no folding, no bare CR or LF. */
	for (p = line_end + 2; p < end; p = line_end + 2) {
		const char *colon, *v;
		line_end = memchr(p, '\r', (size_t)(end - p));
		if (!line_end || line_end[1] != '\n')
			return HTTP_BAD;
		colon = memchr(p, ':', (size_t)(line_end - p));
		if (!colon || colon == p)
			return HTTP_BAD;
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return HTTP_BAD;
		for (v = colon + 1; v < line_end; v++) {
			unsigned char c = (unsigned char)*v;
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return HTTP_BAD;
		}
		v = colon + 1;
		if ((size_t)(colon - p) == 7 && !strncasecmp(p, "upgrade", 7) &&
		    lists_token(v, (size_t)(line_end - v), "websocket"))
			upgrade = true;
	}
	/* A stray LF in the request line. */
	if (memchr(buf, '\n', (size_t)(target - buf)) || memchr(target, '\n', tlen))
		return HTTP_BAD;

	if ((size_t)(target - 1 - buf) != 3 || memcmp(buf, "GET", 3))
		return HTTP_BAD_METHOD;
	if (upgrade)
		return HTTP_UPGRADE;
	if (!decode_path(target, tlen, req->path))
		return HTTP_BAD_PATH;
	return HTTP_GET;
}

static const char *content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".json", "application/json"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".mp3", "audio/mpeg"},
		{".oga", "audio/ogg"},
		{".woff", "font/woff"},
		{".ttf", "font/ttf"},
		{".txt", "text/plain; charset=utf-8"},
		{".md", "text/plain; charset=utf-8"},
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && !strcmp(name + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

static int read_whole(const char *fs_path, size_t size, char **out)
{
	int fd = open(fs_path, O_RDONLY | O_CLOEXEC);
	char *data;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	data = malloc(size ? size : 1);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < size) {
		ssize_t n = read(fd, data + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;   /* shrank under us */
			free(data);
			close(fd);
			return r;
		}
		got += (size_t)n;
	}
	close(fd);
	*out = data;
	return 0;
}

static int add_file(struct http_files *files, const char *url, const char *fs_path, size_t size)
{
	struct http_file *f;
	int r;

	if (files->n == FILES_MAX || size > FILE_MAX_BYTES ||
	    files->bytes + size > FILES_MAX_BYTES) {
		log_error("%s: too many or too large files to serve", fs_path);
		return -EFBIG;
	}
	if (files->n == files->cap) {
		size_t cap = files->cap ? files->cap * 2 : 64;
		struct http_file *nf = realloc(files->file, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		files->file = nf;
		files->cap = cap;
	}
	f = &files->file[files->n];
	f->path = strdup(url);
	if (!f->path)
		return -ENOMEM;
	r = read_whole(fs_path, size, &f->data);
	if (r < 0) {
		free(f->path);
		log_error("%s: %s", fs_path, strerror(-r));
		return r;
	}
	f->size = size;
	f->type = content_type(url);
	files->bytes += size;
	files->n++;
	return 0;
}

static int load_dir(struct http_files *files, const char *fs_dir, const char *url_dir,
		    unsigned depth)
{
	DIR *d = opendir(fs_dir);
	struct dirent *e;
	int r = 0;

	if (!d) {
		r = -errno;
		log_error("%s: %s", fs_dir, strerror(-r));
		return r;
	}
	while (r == 0 && (e = readdir(d))) {
		char fs_path[4096], url[HTTP_MAX_PATH], check[HTTP_MAX_PATH];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(fs_path, sizeof(fs_path), "%s/%s", fs_dir, e->d_name) >=
			    sizeof(fs_path) ||
		    (size_t)snprintf(url, sizeof(url), "%s/%s", url_dir, e->d_name) >= sizeof(url))
			continue;
		/* Only names a request can reach. */
		if (!decode_path(url, strlen(url), check) || strcmp(check, url))
			continue;
		if (stat(fs_path, &st) < 0)
			continue;   /* a dangling link */
		if (S_ISDIR(st.st_mode)) {
			if (depth < DIR_MAX_DEPTH)
				r = load_dir(files, fs_path, url, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			r = add_file(files, url, fs_path, (size_t)st.st_size);
		}
	}
	closedir(d);
	return r;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct http_file *)a)->path, ((const struct http_file *)b)->path);
}

int http_files_load(struct http_files *files, const char *dir)
{
	int r;

	memset(files, 0, sizeof(*files));
	r = load_dir(files, dir, "", 0);
	if (r < 0) {
		http_files_free(files);
		return r;
	}
	if (files->n)
		qsort(files->file, files->n, sizeof(files->file[0]), file_cmp);
	return 0;
}

void http_files_free(struct http_files *files)
{
	for (size_t i = 0; i < files->n; i++) {
		free(files->file[i].path);
		free(files->file[i].data);
	}
	free(files->file);
	memset(files, 0, sizeof(*files));
}

const struct http_file *http_files_find(const struct http_files *files, const char *path)
{
	struct http_file want = {.path = (char *)(strcmp(path, "/") ? path : "/vnc.html")};

	if (!files->n)
		return NULL;
	return bsearch(&want, files->file, files->n, sizeof(files->file[0]), file_cmp);
}
