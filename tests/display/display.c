/* v2e-display end to end: started as the vmm starts it, watched with
 * LibVNCClient. The first picture is what vga_render draws (a VBE 32 bpp
 * mode served from VRAM in place, then a text mode rendered); a change
 * in VRAM sends exactly its rectangle; an unchanged screen sends no byte
 * for a second, even with dirty pages and kicks; keys and pointer
 * events arrive on the input socket as struct display_input; password
 * authentication; hostile clients (garbage, truncated messages, a huge
 * update request, one that never reads while the screen changes) leave
 * the display serving a second client; the websocket port serves
 * vnc.html, refuses ../ paths and other methods, and upgrades a
 * websocket to RFB; SIGTERM ends it with status 0. */
#include <rfb/rfbclient.h>

#include "tests/display/rig.h"
#include "tests/tap.h"

#define W 640
#define H 480

static int rect_tag;

struct seen {
	int x0, y0, x1, y1;   /* union of the rectangles since reset */
	unsigned rects, frames;
	const char *password;
};

static void got_rect(rfbClient *c, int x, int y, int w, int h)
{
	struct seen *s = rfbClientGetClientData(c, &rect_tag);
	if (!s->rects) {
		s->x0 = x, s->y0 = y, s->x1 = x + w, s->y1 = y + h;
	} else {
		s->x0 = x < s->x0 ? x : s->x0;
		s->y0 = y < s->y0 ? y : s->y0;
		s->x1 = x + w > s->x1 ? x + w : s->x1;
		s->y1 = y + h > s->y1 ? y + h : s->y1;
	}
	s->rects++;
}

static void got_frame(rfbClient *c)
{
	struct seen *s = rfbClientGetClientData(c, &rect_tag);
	s->frames++;
}

static char *get_password(rfbClient *c)
{
	struct seen *s = rfbClientGetClientData(c, &rect_tag);
	return strdup(s->password ? s->password : "");
}

static void quiet(const char *fmt, ...)
{
}

/* rfbClientCleanup() leaves the framebuffer it allocated. */
static void vnc_close(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

static rfbClient *vnc_open(int fd, struct seen *s)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	memset(s, 0, sizeof(*s) - sizeof(s->password));
	rfbClientSetClientData(c, &rect_tag, s);
	/* The server's own format: the client's framebuffer is XRGB. */
	c->format.redShift = 16;
	c->format.greenShift = 8;
	c->format.blueShift = 0;
	c->appData.encodingsString = "raw";
	c->canHandleNewFBSize = TRUE;
	c->GotFrameBufferUpdate = got_rect;
	c->FinishedFrameBufferUpdate = got_frame;
	c->GetPassword = get_password;
	c->listenSpecified = TRUE;
	c->sock = fd;
	if (!rfbInitClient(c, NULL, NULL))
		return NULL;   /* freed by the library */
	return c;
}

/* Serves messages until `frames` updates have ended or ms pass. */
static bool pump(rfbClient *c, struct seen *s, unsigned frames, unsigned ms)
{
	uint64_t end = rig_ms() + ms;

	while (s->frames < frames && rig_ms() < end) {
		int n = WaitForMessage(c, 50000);
		if (n < 0 || (n > 0 && !HandleRFBServerMessage(c)))
			return false;
	}
	return s->frames >= frames;
}

/* Serves messages until the rectangles received since s->rects was
 * zeroed cover [x0, x1) x [y0, y1) and their update has ended. */
static bool pump_cover(rfbClient *c, struct seen *s, int x0, int y0, int x1, int y1, unsigned ms)
{
	uint64_t end = rig_ms() + ms;

	while (rig_ms() < end) {
		unsigned frames = s->frames;
		if (!pump(c, s, frames + 1, (unsigned)(end - rig_ms())))
			return false;
		if (s->rects && s->x0 <= x0 && s->y0 <= y0 && s->x1 >= x1 && s->y1 >= y1)
			return true;
	}
	return false;
}

static bool same_as(rfbClient *c, const uint32_t *ref, unsigned w, unsigned h)
{
	if ((unsigned)c->width != w || (unsigned)c->height != h)
		return false;
	for (unsigned y = 0; y < h; y++)
		if (memcmp(c->frameBuffer + (size_t)y * w * 4, ref + (size_t)y * w, (size_t)w * 4)) {
			tap_diag("line %u differs: %08x vs %08x", y,
				 ((uint32_t *)c->frameBuffer)[(size_t)y * w], ref[(size_t)y * w]);
			return false;
		}
	return true;
}

static void render_ref(struct rig *r, const struct vga_state *s, uint32_t *ref, unsigned blink)
{
	struct vga_surface out = {ref, VGA_RENDER_MAX_WIDTH, VGA_RENDER_MAX_HEIGHT, 0};
	struct vga_mode m;
	vga_render_mode(s, &m);
	out.width = m.width;
	out.height = m.height;
	out.stride = m.width;
	vga_render(s, r->vram, RIG_VRAM, blink, &out, NULL);
}

static bool input_next(struct rig *r, struct display_input *ev, unsigned ms)
{
	struct pollfd p = {r->input[0], POLLIN, 0};
	return poll(&p, 1, (int)ms) == 1 && recv(r->input[0], ev, sizeof(*ev), 0) == sizeof(*ev);
}

/* Bytes arriving on fd within ms. */
static size_t bytes_within(int fd, unsigned ms)
{
	uint64_t end = rig_ms() + ms;
	size_t total = 0;
	char buf[4096];

	for (uint64_t now; (now = rig_ms()) < end;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;
		if (poll(&p, 1, (int)(end - now)) != 1)
			break;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	return total;
}

static void fill_pattern(struct rig *r, unsigned seed)
{
	uint32_t *px = (uint32_t *)r->vram;
	for (unsigned i = 0; i < W * H; i++)
		px[i] = (i * 2654435761u + seed) & 0xffffff;
}

static void test_vbe(struct tap *t, struct rig *r, const struct vga_state *s, uint32_t *ref)
{
	struct seen seen = {0};
	rfbClient *c = vnc_open(rig_connect_unix(r->sock_path), &seen);
	uint32_t *px = (uint32_t *)r->vram;
	int fd;

	if (!tap_ok(t, c != NULL, "an RFB client connects on the unix socket"))
		return;
	fd = c->sock;
	tap_ok(t, pump_cover(c, &seen, 0, 0, W, H, 10000), "the first update arrives");
	render_ref(r, s, ref, 0);
	tap_ok(t, same_as(c, ref, W, H), "the first picture is what vga_render draws (640x480x32)");
	tap_ok(t, __atomic_load_n(&r->shm->watching, __ATOMIC_ACQUIRE) == 1,
	       "the shared page says someone watches");

	/* A 10x10 square at (100, 50). */
	for (unsigned y = 50; y < 60; y++)
		for (unsigned x = 100; x < 110; x++)
			px[y * W + x] = 0x00ff8000;
	seen.rects = 0;
	rig_dirty(r, 50 * W * 4, 60 * W * 4);
	rig_kick(r);
	tap_ok(t, pump_cover(c, &seen, 100, 50, 110, 60, 10000), "a change is sent");
	tap_ok(t, seen.rects >= 1 && seen.x0 == 100 && seen.y0 == 50 && seen.x1 == 110 &&
			  seen.y1 == 60,
	       "only the changed rectangle is sent (got %u rects, %d,%d-%d,%d)", seen.rects,
	       seen.x0, seen.y0, seen.x1, seen.y1);
	render_ref(r, s, ref, 0);
	tap_ok(t, same_as(c, ref, W, H), "the client sees the new pixels");

	/* Nothing changed, though pages are dirty (rewritten with the same
	 * bytes) and the vmm kicks. */
	rig_dirty(r, 0, W * H * 4);
	rig_kick(r);
	rig_kick(r);
	tap_ok(t, bytes_within(fd, 1000) == 0 && c->buffered == 0,
	       "an unchanged screen sends no byte in a second");
	/* The client is out of step now (its bytes read above): close. */
	vnc_close(c);
}

static void test_input(struct tap *t, struct rig *r)
{
	struct seen seen = {0};
	rfbClient *c = vnc_open(rig_connect_unix(r->sock_path), &seen);
	struct display_input ev;
	bool ok;

	if (!tap_ok(t, c != NULL, "a client for input connects"))
		return;
	pump_cover(c, &seen, 0, 0, W, H, 10000);
	SendKeyEvent(c, 0x1234567, TRUE);   /* no such key: dropped */
	SendKeyEvent(c, 'a', TRUE);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.type == DISPLAY_INPUT_KEY && ev.down == 1 && ev.key == 0x1e,
	       "'a' pressed arrives as key 0x1e down (an unknown keysym before it is dropped)");
	SendKeyEvent(c, 'A', FALSE);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.type == DISPLAY_INPUT_KEY && ev.down == 0 && ev.key == 0x1e,
	       "'A' released is the same key, up");
	SendKeyEvent(c, 0xff52 /* XK_Up */, TRUE);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.key == 0xc8, "Up is the E0 key 0xc8");
	SendKeyEvent(c, 0xffe4 /* XK_Control_R */, TRUE);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.key == 0x9d, "Right Ctrl is 0x9d");
	SendPointerEvent(c, 10, 20, rfbButton1Mask | rfbButton3Mask);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.type == DISPLAY_INPUT_ABS && ev.x == 10 && ev.y == 20 &&
			  ev.buttons == (DISPLAY_BTN_LEFT | DISPLAY_BTN_RIGHT) && ev.dz == 0 &&
			  ev.width == W && ev.height == H,
	       "a pointer event arrives absolute, with the screen's size and the buttons");
	SendPointerEvent(c, 11, 21, rfbButton4Mask);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.dz == -1 && ev.buttons == 0, "wheel up (button 4) is dz -1");
	SendPointerEvent(c, 11, 21, 0);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.dz == 0, "its release moves nothing");
	SendPointerEvent(c, 11, 21, rfbButton5Mask);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.dz == 1, "wheel down (button 5) is dz +1");
	SendPointerEvent(c, 30000, 30000, 0);
	ok = input_next(r, &ev, 5000);
	tap_ok(t, ok && ev.x == W - 1 && ev.y == H - 1, "a pointer beyond the screen is clamped");
	/* Right Ctrl and Up are still down: a client that goes must not
	 * leave them held in the guest. */
	SendPointerEvent(c, 5, 6, rfbButton1Mask);
	ok = input_next(r, &ev, 5000) && ev.buttons == DISPLAY_BTN_LEFT;
	vnc_close(c);
	{
		struct display_input k1, k2, b;
		ok = ok && input_next(r, &k1, 5000) && input_next(r, &k2, 5000) &&
		     input_next(r, &b, 5000);
		tap_ok(t, ok && k1.type == DISPLAY_INPUT_KEY && k1.key == 0x9d && !k1.down &&
				  k2.type == DISPLAY_INPUT_KEY && k2.key == 0xc8 && !k2.down &&
				  b.type == DISPLAY_INPUT_ABS && b.buttons == 0 && b.x == 5 && b.y == 6,
		       "a client that goes releases the keys and buttons it held");
	}
}

/* The RFB 3.8 handshake by hand, no authentication, shared. */
static bool raw_handshake(int fd)
{
	char buf[256];
	uint8_t n, types[255], result[4], init[24];
	uint32_t name_len;

	if (recv(fd, buf, 12, MSG_WAITALL) != 12 || send(fd, "RFB 003.008\n", 12, 0) != 12 ||
	    recv(fd, &n, 1, MSG_WAITALL) != 1 || !n || recv(fd, types, n, MSG_WAITALL) != n ||
	    send(fd, "\x01", 1, 0) != 1 || recv(fd, result, 4, MSG_WAITALL) != 4 ||
	    send(fd, "\x01", 1, 0) != 1 || recv(fd, init, 24, MSG_WAITALL) != 24)
		return false;
	name_len = (uint32_t)init[20] << 24 | init[21] << 16 | init[22] << 8 | init[23];
	return name_len < sizeof(buf) && recv(fd, buf, name_len, MSG_WAITALL) == (ssize_t)name_len;
}

/* A second client still gets a right picture. */
static bool still_serves(struct rig *r, const struct vga_state *s, uint32_t *ref)
{
	struct seen seen = {0};
	rfbClient *c = vnc_open(rig_connect_unix(r->sock_path), &seen);
	bool ok;

	if (!c)
		return false;
	ok = pump_cover(c, &seen, 0, 0, W, H, 10000);
	render_ref(r, s, ref, 0);
	ok = ok && same_as(c, ref, W, H);
	vnc_close(c);
	return ok;
}

static void test_hostile(struct tap *t, struct rig *r, const struct vga_state *s, uint32_t *ref)
{
	uint64_t rng = 0x1234567;
	char junk[4096];
	int fd;

	/* Garbage instead of a protocol version, and after the handshake. */
	for (unsigned i = 0; i < sizeof(junk); i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		junk[i] = (char)(rng >> 56);
	}
	fd = rig_connect_unix(r->sock_path);
	(void)!send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	close(fd);
	fd = rig_connect_unix(r->sock_path);
	if (raw_handshake(fd))
		(void)!send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	close(fd);
	/* A TLS hello (the library's websocket probe takes 0x16 for TLS). */
	fd = rig_connect_unix(r->sock_path);
	(void)!send(fd, "\x16\x03\x01\x00\x05hello", 10, MSG_NOSIGNAL);
	close(fd);
	/* A truncated SetEncodings (claims 1000 encodings, sends two),
	 * left open. */
	fd = rig_connect_unix(r->sock_path);
	if (raw_handshake(fd))
		(void)!send(fd, "\x02\x00\x03\xe8\x00\x00\x00\x00\x00\x00\x00\x01", 12, MSG_NOSIGNAL);
	tap_ok(t, still_serves(r, s, ref) && rig_alive(r),
	       "after garbage, a TLS hello and a truncated message, a new client is served");
	close(fd);

	/* A 65535x65535 update request at (65535, 65535), then a full one. */
	fd = rig_connect_unix(r->sock_path);
	if (raw_handshake(fd)) {
		(void)!send(fd, "\x03\x00\xff\xff\xff\xff\xff\xff\xff\xff", 10, MSG_NOSIGNAL);
		(void)!send(fd, "\x03\x00\x00\x00\x00\x00\xff\xff\xff\xff", 10, MSG_NOSIGNAL);
	}
	tap_ok(t, bytes_within(fd, 2000) > 0 && rig_alive(r),
	       "huge update requests are clipped to the screen and answered");
	close(fd);

	/* A client that asks for everything again and again and never
	 * reads, while the screen changes all over. */
	{
		int small = 4096;
		uint64_t t0;
		bool ok;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		{
			struct sockaddr_un a = {.sun_family = AF_UNIX};
			snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->sock_path);
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
				abort();
		}
		ok = raw_handshake(fd);
		for (unsigned i = 0; ok && i < 50; i++) {
			(void)!send(fd, "\x03\x00\x00\x00\x00\x00\x02\x80\x01\xe0", 10,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
			fill_pattern(r, i * 77);
			rig_dirty(r, 0, W * H * 4);
			rig_kick(r);
			usleep(20000);
		}
		t0 = rig_ms();
		ok = ok && still_serves(r, s, ref) && rig_alive(r);
		tap_ok(t, ok, "with a client that never reads, another one is served (in %llu ms)",
		       (unsigned long long)(rig_ms() - t0));
		close(fd);
	}
}

static void test_text(struct tap *t, struct rig *r, uint32_t *ref)
{
	struct vga_state s;
	struct seen seen = {0};
	rfbClient *c = vnc_open(rig_connect_unix(r->sock_path), &seen);
	static const uint8_t crtc[25] = {
		[0x01] = 79, [0x07] = 0x12, [0x09] = 0x4f, [0x0a] = 0x20 /* cursor off */,
		[0x12] = 0x8f, [0x13] = 40, [0x14] = 0x1f, [0x17] = 0xa3, [0x18] = 0xff,
	};
	if (!tap_ok(t, c != NULL, "a client for the text mode connects"))
		return;
	pump_cover(c, &seen, 0, 0, W, H, 10000);
	memset(&s, 0, sizeof(s));
	s.vram_size = RIG_VRAM;
	s.misc = 0x67;
	memcpy(s.seq, (uint8_t[]){0x03, 0x00, 0x03, 0x00, 0x02}, 5);
	memcpy(s.crtc, crtc, sizeof(crtc));
	memcpy(s.gc, (uint8_t[]){0, 0, 0, 0, 0, 0x10, 0x0e, 0x00, 0xff}, 9);
	for (unsigned i = 0; i < 16; i++)
		s.ac[i] = (uint8_t)i;
	s.ac[0x10] = 0x04;   /* line graphics, no blink */
	s.ac[0x12] = 0x0f;
	s.ac_index = VGA_AC_INDEX_PAS;
	s.pel_mask = 0xff;
	for (unsigned i = 0; i < 256 * 3; i++)
		s.palette[i] = (uint8_t)(i * 7 % 64);
	memset(r->vram, 0, RIG_VRAM);
	/* Plane 0 the characters, 1 the attributes, 2 the font. */
	for (unsigned i = 0; i < 2000; i++) {
		r->vram[4 * i] = (uint8_t)(i * 7 + 3);
		r->vram[4 * i + 1] = (uint8_t)((i * 11) & 0x7f);
	}
	for (unsigned ch = 0; ch < 256; ch++)
		for (unsigned l = 0; l < 16; l++)
			r->vram[4 * (ch * 32 + l) + 2] = (uint8_t)(ch ^ (l * 0x1d));
	s.font_gen = 1;
	rig_set_state(r, &s);
	rig_kick(r);
	seen.rects = 0;
	while (pump_cover(c, &seen, 0, 0, 720, 400, 10000) && (c->width != 720 || c->height != 400))
		seen.rects = 0;
	render_ref(r, &s, ref, 0);
	tap_ok(t, same_as(c, ref, 720, 400),
	       "a text mode: the client gets 720x400 and the picture vga_render draws");
	/* One character changes: its cell goes out. */
	r->vram[4 * 81] = 'X';
	rig_dirty(r, 4 * 81, 4 * 82);
	rig_kick(r);
	seen.rects = 0;
	pump_cover(c, &seen, 9, 16, 18, 32, 10000);
	render_ref(r, &s, ref, 0);
	tap_ok(t, same_as(c, ref, 720, 400) && seen.x0 >= 9 && seen.x1 <= 18 && seen.y0 >= 16 &&
			  seen.y1 <= 32,
	       "a changed character sends its cell only (%d,%d-%d,%d)", seen.x0, seen.y0,
	       seen.x1, seen.y1);
	vnc_close(c);
	/* Back to the VBE mode for what follows. */
	rig_vbe32(&s, W, H);
	fill_pattern(r, 0);
	rig_set_state(r, &s);
	rig_kick(r);
}

static void test_password(struct tap *t, uint32_t *ref)
{
	struct rig r;
	struct vga_state s;
	struct seen seen = {0};
	rfbClient *c;
	int rc;

	rig_vbe32(&s, W, H);
	if (!tap_ok(t, rig_start(&r, "s3cret-pw\n", &s) == 0, "a display with a password starts"))
		return;
	fill_pattern(&r, 5);
	seen.password = "s3cret-pw";
	c = vnc_open(rig_connect_unix(r.sock_path), &seen);
	tap_ok(t, c != NULL && pump_cover(c, &seen, 0, 0, W, H, 10000),
	       "the right password is accepted (VNC authentication)");
	if (c)
		vnc_close(c);
	seen.password = "wrong";
	c = vnc_open(rig_connect_unix(r.sock_path), &seen);
	tap_ok(t, c == NULL, "a wrong password is refused");
	if (c)
		vnc_close(c);
	rc = rig_stop(&r);
	tap_ok(t, rc == 0, "it exits 0 on SIGTERM (status %#x)", (unsigned)rc);
	(void)ref;
}

/* One request on the websocket port; the answer (up to n bytes). */
static size_t http_get(struct rig *r, const char *req, char *out, size_t n)
{
	int fd = rig_connect_tcp(r->ws_port);
	size_t got = 0;
	uint64_t end = rig_ms() + 5000;

	(void)!send(fd, req, strlen(req), MSG_NOSIGNAL);
	while (got + 1 < n && rig_ms() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t k;
		if (poll(&p, 1, 500) != 1)
			break;
		k = recv(fd, out + got, n - 1 - got, 0);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	out[got] = '\0';
	close(fd);
	return got;
}

static void test_http(struct tap *t, struct rig *r)
{
	static char buf[1 << 20];
	const char *ws =
		"GET /websockify HTTP/1.1\r\nHost: localhost\r\nOrigin: http://localhost\r\n"
		"Upgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		"Sec-WebSocket-Protocol: binary\r\n\r\n";
	bool have_novnc = access("/usr/share/novnc/vnc.html", R_OK) == 0;
	char *body;

	http_get(r, "GET /vnc.html HTTP/1.1\r\nHost: localhost\r\n\r\n", buf, sizeof(buf));
	body = strstr(buf, "\r\n\r\n");
	if (have_novnc)
		tap_ok(t, !strncmp(buf, "HTTP/1.1 200 ", 13) && body && strstr(body, "noVNC") &&
				  strstr(buf, "Content-Type: text/html"),
		       "GET /vnc.html serves noVNC's page");
	else
		tap_ok(t, !strncmp(buf, "HTTP/1.1 404 ", 13), "GET /vnc.html: 404 without noVNC");
	http_get(r, "GET /app/ui.js HTTP/1.1\r\nHost: localhost\r\n\r\n", buf, sizeof(buf));
	tap_ok(t, !have_novnc || (!strncmp(buf, "HTTP/1.1 200 ", 13) &&
				  strstr(buf, "Content-Type: text/javascript")),
	       "a module script goes out as JavaScript");
	http_get(r, "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	tap_ok(t, !strncmp(buf, "HTTP/1.1 404 ", 13) && !strstr(buf, "root:"),
	       "a ../ path is refused");
	http_get(r, "GET /app/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", buf,
		 sizeof(buf));
	tap_ok(t, !strncmp(buf, "HTTP/1.1 404 ", 13), "an encoded ../ is refused");
	http_get(r, "POST /vnc.html HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof(buf));
	tap_ok(t, !strncmp(buf, "HTTP/1.1 405 ", 13), "POST is refused");
	http_get(r, "GET / HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", buf, sizeof(buf));
	tap_ok(t, !strncmp(buf, "HTTP/1.1 400 ", 13), "a malformed header is a 400");
	{
		int fd = rig_connect_tcp(r->ws_port);
		size_t got = 0;
		uint64_t end = rig_ms() + 5000;
		char *frame;
		(void)!send(fd, ws, strlen(ws), MSG_NOSIGNAL);
		while (got < 300 && rig_ms() < end) {
			struct pollfd p = {fd, POLLIN, 0};
			ssize_t k;
			if (poll(&p, 1, 500) != 1)
				break;
			k = recv(fd, buf + got, 1000, 0);
			if (k <= 0)
				break;
			got += (size_t)k;
			buf[got] = '\0';
			frame = strstr(buf, "\r\n\r\n");
			if (frame && buf + got - frame >= 4 + 2 + 12)
				break;
		}
		frame = strstr(buf, "\r\n\r\n");
		tap_ok(t, !strncmp(buf, "HTTP/1.1 101 ", 13) &&
				  strstr(buf, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") && frame &&
				  (uint8_t)frame[4] == 0x82 && frame[5] == 12 &&
				  !memcmp(frame + 6, "RFB 003.008\n", 12),
		       "a websocket upgrade gets 101 and RFB in a binary frame");
		close(fd);
	}
}

int main(void)
{
	struct tap t = {0};
	struct rig r;
	struct vga_state s;
	uint32_t *ref = calloc((size_t)VGA_RENDER_MAX_WIDTH * VGA_RENDER_MAX_HEIGHT, 4);
	int rc;

	if (!getenv("DBG")) {
		rfbClientLog = quiet;
		rfbClientErr = quiet;
	}
	signal(SIGPIPE, SIG_IGN);
	rig_vbe32(&s, W, H);
	if (!tap_ok(&t, rig_start(&r, NULL, &s) == 0, "v2e-display starts"))
		return tap_done(&t);
	fill_pattern(&r, 0);
	tap_ok(&t, __atomic_load_n(&r.shm->watching, __ATOMIC_ACQUIRE) == 0,
	       "nobody watches before a client comes");
	test_vbe(&t, &r, &s, ref);
	test_input(&t, &r);
	test_text(&t, &r, ref);
	test_hostile(&t, &r, &s, ref);
	test_http(&t, &r);
	tap_ok(&t, rig_alive(&r), "the display is still up");
	rc = rig_stop(&r);
	tap_ok(&t, rc == 0, "SIGTERM ends it with status 0 (status %#x)", (unsigned)rc);
	test_password(&t, ref);
	free(ref);
	return tap_done(&t);
}
