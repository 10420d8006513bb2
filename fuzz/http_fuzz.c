/* libFuzzer target for the display's HTTP request parser (the one
 * network-facing parser v2e writes itself on the websocket port): the
 * input is what a browser, or anyone reaching the port, sends. Each
 * prefix is parsed as a connection sees it arrive, in a buffer of its
 * exact size (so a read past the bytes received is a sanitizer report).
 * What the parser accepts must be whole: a GET's decoded path starts with
 * '/', ends with a NUL, has no segment starting with a dot and no empty
 * segment; a GET's or an upgrade's headers end within what was received.
 * Built with clang by `make fuzz-http`; replayed by
 * tests/display/fuzz-replay.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "display/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *buf, size_t len)
{
	struct http_request req;
	enum http_parse r = http_parse(buf, len, &req);

	if ((r == HTTP_GET || r == HTTP_UPGRADE) && (req.header_len == 0 || req.header_len > len))
		abort();
	if (r == HTTP_GET) {
		size_t pl = strnlen(req.path, sizeof(req.path));
		if (pl == sizeof(req.path) || req.path[0] != '/' || strstr(req.path, "/.") ||
		    strstr(req.path, "//"))
			abort();
	}
	if (r == HTTP_INCOMPLETE && len >= HTTP_MAX_REQUEST)
		abort(); /* past the bound it must have decided */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Whole, and a few prefixes: the parser sees a request grow. */
	size_t cuts[4] = {size, size / 2, size / 3, size > 0 ? size - 1 : 0};

	if (size > 2 * HTTP_MAX_REQUEST)
		size = 2 * HTTP_MAX_REQUEST;
	for (unsigned i = 0; i < 4; i++) {
		size_t n = cuts[i] < size ? cuts[i] : size;
		char *buf = malloc(n ? n : 1);
		if (!buf)
			return 0;
		memcpy(buf, data, n);
		check(buf, n);
		free(buf);
	}
	return 0;
}
