/* The browser side of the websocket port: a strict parser for the one
 * request an HTTP connection may make (GET, HTTP/1.0 or 1.1, headers
 * only), and noVNC's files, read into memory before the sandbox closes
 * the file system. Everything here takes hostile bytes: no allocation a
 * request chooses, every length bounded. */
#ifndef V2E_DISPLAY_HTTP_H
#define V2E_DISPLAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/compiler.h"

#define HTTP_MAX_REQUEST 4096     /* request line and headers */
#define HTTP_MAX_PATH 256

enum http_parse {
	HTTP_INCOMPLETE = 0,      /* no blank line yet: wait for more */
	HTTP_GET,                 /* a GET of req->path */
	HTTP_UPGRADE,             /* a websocket upgrade: RFB follows */
	HTTP_BAD,                 /* 400 */
	HTTP_BAD_METHOD,          /* 405 */
	HTTP_BAD_PATH,            /* 404: a path no file can have (.., %00) */
};

struct http_request {
	size_t header_len;        /* bytes up to and with the blank line */
	char path[HTTP_MAX_PATH]; /* decoded, without query or fragment */
};

/* Parses the first len bytes received on a connection. HTTP_INCOMPLETE
 * while the headers have not ended within HTTP_MAX_REQUEST bytes (at or
 * beyond that, HTTP_BAD). */
enum http_parse http_parse(const char *buf, size_t len, struct http_request *req);

struct http_file {
	char *path;               /* "/app/ui.js" */
	const char *type;         /* Content-Type */
	char *data;
	size_t size;
};

struct http_files {
	struct http_file *file;
	size_t n, cap, bytes;
};

/* Reads every regular file under dir (following symbolic links, to a
 * bounded depth, count and size) into files. 0 or -errno, with a line
 * on stderr. */
must_check int http_files_load(struct http_files *files, const char *dir);
void http_files_free(struct http_files *files);

/* The file a request path names ("/" is "/vnc.html"), or NULL. */
const struct http_file *http_files_find(const struct http_files *files, const char *path);

#endif
