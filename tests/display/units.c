/* v2e-display's pieces alone: the websocket port's request parser
 * (accepted and refused requests, then seeded random mutations of good
 * ones under the sanitizers: it must never read past what it was given,
 * and a path it accepts must be clean) and the keysym table. */
#include <stdlib.h>
#include <string.h>

#include <rfb/keysym.h>

#include "display/http.h"
#include "display/keymap.h"
#include "tests/tap.h"

static enum http_parse parse(const char *s, struct http_request *r)
{
	return http_parse(s, strlen(s), r);
}

static void test_parser(struct tap *t)
{
	struct http_request r;
	static const struct {
		const char *req;
		enum http_parse want;
		const char *path;
	} cases[] = {
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_GET, "/"},
		{"GET /app/ui.js?x=1#f HTTP/1.0\r\n\r\n", HTTP_GET, "/app/ui.js"},
		{"GET /a%2Eb HTTP/1.1\r\n\r\n", HTTP_GET, "/a.b"},
		{"GET /x HTTP/1.1\r\nUpgrade: WebSocket\r\n\r\n", HTTP_UPGRADE, NULL},
		{"GET /x HTTP/1.1\r\nupgrade: h2c, websocket\r\n\r\n", HTTP_UPGRADE, NULL},
		{"GET /x HTTP/1.1\r\nHost: x\r\n", HTTP_INCOMPLETE, NULL},
		{"GET /../etc/passwd HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /a/./b HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /a//b HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /.hidden HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /%2e%2e/x HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /a%2fb HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /a%00b HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /a%zz HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"GET /a\\b HTTP/1.1\r\n\r\n", HTTP_BAD_PATH, NULL},
		{"POST / HTTP/1.1\r\n\r\n", HTTP_BAD_METHOD, NULL},
		{"HEAD / HTTP/1.1\r\n\r\n", HTTP_BAD_METHOD, NULL},
		{"GET / HTTP/2.0\r\n\r\n", HTTP_BAD, NULL},
		{"GET  / HTTP/1.1\r\n\r\n", HTTP_BAD, NULL},
		{"GET x HTTP/1.1\r\n\r\n", HTTP_BAD, NULL},
		{"GET / HTTP/1.1\r\n folded: x\r\n\r\n", HTTP_BAD, NULL},
		{"GET / HTTP/1.1\r\nNo colon\r\n\r\n", HTTP_BAD, NULL},
		{"GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n", HTTP_BAD, NULL},
		{"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", HTTP_BAD, NULL},
		{"G\nT / HTTP/1.1\r\n\r\n", HTTP_BAD, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum http_parse p = parse(cases[i].req, &r);
		bool ok = p == cases[i].want && (!cases[i].path || !strcmp(r.path, cases[i].path));
		tap_ok(t, ok, "request %zu parses as %d (got %d)", i, cases[i].want, p);
	}
	{
		char big[HTTP_MAX_REQUEST + 16];
		memset(big, 'a', sizeof(big));
		memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
		tap_ok(t, http_parse(big, sizeof(big), &r) == HTTP_BAD,
		       "headers that do not end within 4 KiB are refused");
		tap_ok(t, http_parse(big, 100, &r) == HTTP_INCOMPLETE,
		       "a partial request waits for more");
	}
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static unsigned rnd(unsigned n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(rng >> 33) % n;
}

/* Seeded mutations: bytes changed, inserted, cut. Each input sits in a
 * buffer of exactly its size (ASan catches a read beyond it). */
static void test_mutations(struct tap *t)
{
	static const char *seeds[] = {
		"GET /vnc.html?autoconnect=1 HTTP/1.1\r\nHost: localhost:5700\r\n\r\n",
		"GET /websockify HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
		"GET /app/%2e/x HTTP/1.0\r\n\r\n",
	};
	static const char alphabet[] = "GET /.%2e\r\n: aZ\\?#\t\x7f\x80";
	unsigned bad_paths = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		const char *seed = seeds[rnd(3)];
		size_t len = strlen(seed), n = len;
		char tmp[512], *buf;
		struct http_request r;
		memcpy(tmp, seed, len);
		for (unsigned m = rnd(4) + 1; m; m--) {
			unsigned at = rnd((unsigned)n + 1);
			switch (rnd(3)) {
			case 0:
				if (at < n)
					tmp[at] = rnd(2) ? alphabet[rnd(sizeof(alphabet) - 1)]
							 : (char)rnd(256);
				break;
			case 1:
				if (n + 1 < sizeof(tmp)) {
					memmove(tmp + at + 1, tmp + at, n - at);
					tmp[at] = alphabet[rnd(sizeof(alphabet) - 1)];
					n++;
				}
				break;
			default:
				n = at;
				break;
			}
		}
		buf = malloc(n ? n : 1);
		memcpy(buf, tmp, n);
		if (http_parse(buf, n, &r) == HTTP_GET) {
			for (const char *p = r.path; *p; p++)
				if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
					bad_paths++;
			if (r.path[0] != '/' || strstr(r.path, "/.") || strstr(r.path, "//"))
				bad_paths++;
		}
		free(buf);
	}
	tap_ok(t, bad_paths == 0, "200000 mutated requests: no accepted path is unclean (%u)",
	       bad_paths);
}

static void test_keymap(struct tap *t)
{
	static const struct {
		uint32_t keysym;
		int key;
	} cases[] = {
		{'a', 0x1e}, {'A', 0x1e}, {'z', 0x2c}, {'1', 0x02}, {'!', 0x02}, {'0', 0x0b},
		{')', 0x0b}, {'-', 0x0c}, {'_', 0x0c}, {'`', 0x29}, {'~', 0x29}, {'|', 0x2b},
		{' ', 0x39}, {XK_Return, 0x1c}, {XK_Escape, 0x01}, {XK_BackSpace, 0x0e},
		{XK_Tab, 0x0f}, {XK_F1, 0x3b}, {XK_F10, 0x44}, {XK_F11, 0x57}, {XK_F12, 0x58},
		{XK_Up, 0xc8}, {XK_Down, 0xd0}, {XK_Left, 0xcb}, {XK_Right, 0xcd},
		{XK_Home, 0xc7}, {XK_End, 0xcf}, {XK_Page_Up, 0xc9}, {XK_Page_Down, 0xd1},
		{XK_Insert, 0xd2}, {XK_Delete, 0xd3}, {XK_KP_Enter, 0x9c}, {XK_KP_Divide, 0xb5},
		{XK_KP_7, 0x47}, {XK_KP_Home, 0x47}, {XK_Control_L, 0x1d}, {XK_Control_R, 0x9d},
		{XK_Alt_R, 0xb8}, {XK_Shift_R, 0x36}, {XK_Super_L, 0xdb}, {XK_Menu, 0xdd},
		{XK_Print, 0xb7}, {XK_Pause, 0xc6}, {XK_Num_Lock, 0x45}, {XK_Caps_Lock, 0x3a},
		{XK_Scroll_Lock, 0x46}, {0x20ac /* EuroSign */, -1}, {0x1000000, -1},
	};
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (keymap_key(cases[i].keysym) != cases[i].key) {
			tap_diag("keysym %#x: %d, want %d", cases[i].keysym,
				 keymap_key(cases[i].keysym), cases[i].key);
			bad++;
		}
	tap_ok(t, bad == 0, "keysyms to US keys (letters, shifted symbols, E0 keys, keypad)");
}

int main(void)
{
	struct tap t = {0};

	test_parser(&t);
	test_mutations(&t);
	test_keymap(&t);
	return tap_done(&t);
}
