/* The VNC side (display.h): LibVNCServer with neither its threads nor its
 * sockets. The loop accepts on the descriptors the vmm listens on and
 * hands each connection to rfbNewClient(); a client's messages are read
 * when poll() says so, updates go out when its socket can take them, and
 * every call into the library for one client runs under a watchdog,
 * because the library's writes wait (select, 5 s at a time) for a client
 * that does not read. The websocket port also serves noVNC's files: its
 * requests are peeked at, and only websocket upgrades go to the library
 * (which would take any other GET for a broken handshake).
 *
 * LibVNCServer facts this rests on (0.9.14): rfbNewClient() makes the
 * socket non-blocking and first waits up to 100 ms for a websocket or
 * TLS client to speak (webSocketsCheck), so a plain RFB client costs
 * that wait once; rfbWriteExact() retries EAGAIN with select() for up to
 * maxClientWait in 5 s steps; rfbReadExact() waits maxClientWait for the
 * rest of a message; rfbCloseClient() only closes the socket and leaves
 * the record for rfbClientConnectionGone(). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "display/display.h"
#include "display/keymap.h"
#include "lib/log.h"

#define HTTP_TIMEOUT_NS (10ull * 1000000000)
#define HTTP_DRAIN_NS (1000000000ull)
#define HTTP_REPEEK_NS (20ull * 1000000)

/* Per client: the buttons last reported, for the wheel's presses, and
 * the keys it holds down, released for it when it goes (a viewer closed
 * with Ctrl held must not leave the guest's Ctrl down). */
struct vnc_client {
	struct dpy *d;
	uint8_t buttons;
	bool want_write;      /* an update waits for room in the socket */
	uint64_t held[4];     /* bit n: key number n (display.h) is down */
	int x, y;             /* where it last put the pointer */
};

/* The watchdog's target. A signal handler reaches nothing else, so this
 * one descriptor number is the process's: the loop is its only user. */
static volatile sig_atomic_t watch_fd = -1;

static void watchdog_fired(int sig)
{
	int fd = watch_fd;

	/* The library's select() returns EINTR and its next write or read
	 * fails, so it closes the client itself. */
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

int vnc_watchdog_init(void)
{
	struct sigaction sa = {.sa_handler = watchdog_fired};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGALRM, &sa, NULL) < 0 ? -errno : 0;
}

static void watch_begin(int fd)
{
	struct itimerval t = {{0, 0}, {DPY_CLIENT_STALL_MS / 1000, DPY_CLIENT_STALL_MS % 1000 * 1000}};

	watch_fd = fd;
	setitimer(ITIMER_REAL, &t, NULL);
}

static void watch_end(void)
{
	struct itimerval t = {{0, 0}, {0, 0}};

	watch_fd = -1;
	setitimer(ITIMER_REAL, &t, NULL);
}

static void send_input(struct dpy *d, const struct display_input *ev)
{
	ssize_t n;

	if (d->input_dead)
		return;
	n = send(d->input_fd, ev, sizeof(*ev), MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)sizeof(*ev))
		return;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN)) {
		/* The device model is gone: pictures go on, input stops. */
		log_warn("the input socket is closed: input is dropped from now on");
		d->input_dead = true;
		return;
	}
	d->input_dropped++;
}

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	int key = keymap_key(keysym);
	struct display_input ev = {.type = DISPLAY_INPUT_KEY, .down = down ? 1 : 0};

	if (key < 0) {
		c->d->keys_unknown++;
		return;
	}
	ev.key = (uint16_t)key;
	if (key < 256) {
		if (down)
			c->held[key / 64] |= 1ull << (key % 64);
		else
			c->held[key / 64] &= ~(1ull << (key % 64));
	}
	send_input(c->d, &ev);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	struct dpy *d = c->d;
	uint8_t pressed = (uint8_t)(mask & ~c->buttons);
	struct display_input ev = {.type = DISPLAY_INPUT_ABS};

	/* RFB buttons 1-3 are left, middle, right; 4 and 5 are the wheel
	 * turned up and down, one step per press. */
	ev.buttons = (mask & 1 ? DISPLAY_BTN_LEFT : 0) | (mask & 2 ? DISPLAY_BTN_MIDDLE : 0) |
		     (mask & 4 ? DISPLAY_BTN_RIGHT : 0);
	ev.dz = (int8_t)((pressed & 16 ? 1 : 0) - (pressed & 8 ? 1 : 0));
	c->buttons = (uint8_t)mask;
	ev.x = x < 0 ? 0 : x >= (int)d->width ? (int)d->width - 1 : x;
	ev.y = y < 0 ? 0 : y >= (int)d->height ? (int)d->height - 1 : y;
	c->x = ev.x;
	c->y = ev.y;
	ev.width = d->width;
	ev.height = d->height;
	send_input(d, &ev);
}

static void on_client_gone(rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	struct dpy *d = c->d;

	for (unsigned k = 0; k < 256; k++)
		if (c->held[k / 64] >> (k % 64) & 1) {
			struct display_input ev = {.type = DISPLAY_INPUT_KEY, .key = (uint16_t)k};
			send_input(d, &ev);
		}
	if (c->buttons & 7) {
		/* The buttons up where the pointer is: no motion. */
		struct display_input ev = {.type = DISPLAY_INPUT_ABS, .x = c->x, .y = c->y,
					   .width = d->width, .height = d->height};
		send_input(d, &ev);
	}
	free(c);
	cl->clientData = NULL;
	if (--d->n_clients == 0)
		__atomic_store_n(&d->shm->watching, 0, __ATOMIC_RELEASE);
}

static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
	struct dpy *d = cl->screen->screenData;
	struct vnc_client *c = calloc(1, sizeof(*c));

	if (!c)
		return RFB_CLIENT_REFUSE;
	c->d = d;
	cl->clientData = c;
	cl->clientGoneHook = on_client_gone;
	if (d->n_clients++ == 0) {
		/* Nobody watched, so nothing was logged: from now on the
		 * vmm logs and kicks, and the picture is drawn whole. */
		__atomic_store_n(&d->shm->watching, 1, __ATOMIC_SEQ_CST);
		picture_update(d, true);
	}
	return RFB_CLIENT_ACCEPT;
}

static void rfb_log_quiet(const char *fmt, ...)
{
}

static void rfb_log_error(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_warn("vnc: %s", line);
}

/* Before the sandbox closes the file system: libgcrypt (VNC
 * authentication's DES, the websocket handshake's SHA-1) initialises
 * itself at its first use and reads files then, so it is used once now.
 * And the library seeds the random() behind its authentication
 * challenges with time and PID (PID 1 in our namespace) at its first
 * challenge: that happens now, and the seed is replaced by one from the
 * kernel. */
static void vnc_warm_up(void)
{
	unsigned char bytes[16] = {0};
	char key[] = "warm-up";
	unsigned seed;

	rfbEncryptBytes(bytes, key);
	rfbRandomBytes(bytes);
	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		srandom(seed);
}

int vnc_init(struct dpy *d, const char *name, const char *password)
{
	static char arg0[] = "v2e-display";
	char *argv[] = {arg0, NULL};
	int argc = 1;
	rfbScreenInfoPtr s;

	rfbLog = rfb_log_quiet;
	rfbErr = getenv("V2E_DISPLAY_DEBUG") ? rfb_log_error : rfb_log_quiet;
	s = rfbGetScreen(&argc, argv, DPY_BLANK_WIDTH, DPY_BLANK_HEIGHT, 8, 3, 4);
	if (!s)
		return -ENOMEM;
	d->screen = s;
	s->screenData = d;
	s->desktopName = name;
	s->frameBuffer = (char *)d->front;
	/* The library listens nowhere and serves no files of its own. */
	s->autoPort = FALSE;
	s->port = 0;
	s->ipv6port = 0;
	s->httpPort = 0;
	s->httpDir = NULL;
	/* No cursor drawn into the framebuffer: it may be VRAM, mapped
	 * read-only. The guest draws its own. */
	s->cursor = NULL;
	/* Every client shares the screen: one asking for exclusivity
	 * must not throw the others out. */
	s->alwaysShared = TRUE;
	s->deferUpdateTime = 0;
	s->deferPtrUpdateTime = 0;
	s->maxClientWait = DPY_CLIENT_STALL_MS;
	s->kbdAddEvent = on_key;
	s->ptrAddEvent = on_pointer;
	s->newClientHook = on_new_client;
	if (password) {
		d->passwords[0] = strdup(password);
		if (!d->passwords[0])
			return -ENOMEM;
		s->authPasswdData = d->passwords;
		s->passwordCheck = rfbCheckPasswordByList;
	}
	rfbInitServer(s);
	vnc_warm_up();
	return 0;
}

static struct dpy_http *http_slot(struct dpy *d)
{
	for (unsigned i = 0; i < DPY_MAX_HTTP; i++)
		if (d->http[i].fd < 0)
			return &d->http[i];
	return NULL;
}

static void http_close(struct dpy_http *h)
{
	close(h->fd);
	h->fd = -1;
}

static void rfb_client_new(struct dpy *d, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (d->n_clients >= DPY_MAX_CLIENTS || fd >= FD_SETSIZE) {
		close(fd);
		return;
	}
	/* The library names its peer with getnameinfo(), which for a
	 * scoped IPv6 address asks for the interface's name through a new
	 * socket: the sandbox kills for that, so such a peer is refused. */
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
		if (a->sin6_scope_id && (IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr) ||
					 IN6_IS_ADDR_MC_LINKLOCAL(&a->sin6_addr))) {
			close(fd);
			return;
		}
	}
	watch_begin(fd);
	(void)rfbNewClient(d->screen, fd);
	watch_end();
}

void vnc_accept(struct dpy *d, unsigned listener)
{
	/* A few per wake-up: a flood of connections must not starve the
	 * clients already served. */
	for (unsigned i = 0; i < 8; i++) {
		int fd = accept4(d->listen_fd[listener], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dpy_http *h;

		if (fd < 0)
			return;
		if (!d->listen_ws[listener]) {
			rfb_client_new(d, fd);
			continue;
		}
		h = http_slot(d);
		if (!h) {
			close(fd);
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->fd = fd;
		h->state = HTTP_READING;
		h->deadline_ns = dpy_now_ns() + HTTP_TIMEOUT_NS;
		h->repeek_ns = 1;   /* look at once */
	}
}

static void http_respond(struct dpy_http *h, int status, const char *reason,
			 const struct http_file *f)
{
	const char *type = f ? f->type : "text/plain; charset=utf-8";
	size_t body_len = f ? f->size : strlen(reason) + 1;

	h->body = f ? f->data : NULL;
	h->body_len = f ? f->size : 0;
	h->head_len = (size_t)snprintf(h->head, sizeof(h->head),
				       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
				       "Content-Length: %zu\r\nCache-Control: no-cache\r\n"
				       "X-Content-Type-Options: nosniff\r\n"
				       "Connection: close\r\n\r\n%s%s",
				       status, reason, type, body_len, f ? "" : reason,
				       f ? "" : "\n");
	if (h->head_len >= sizeof(h->head))
		h->head_len = sizeof(h->head) - 1;
	h->sent = 0;
	h->state = HTTP_SENDING;
}

static void http_read(struct dpy *d, struct dpy_http *h, uint64_t now)
{
	char buf[HTTP_MAX_REQUEST];
	struct http_request req;
	ssize_t n = recv(h->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	enum http_parse p;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		http_close(h);
		return;
	}
	if (n < 0) {
		h->repeek_ns = 0;
		return;
	}
	p = http_parse(buf, (size_t)n, &req);
	switch (p) {
	case HTTP_INCOMPLETE:
		/* The bytes stay queued, so poll() would keep saying
		 * readable: look again a little later instead. */
		h->repeek_ns = now + HTTP_REPEEK_NS;
		return;
	case HTTP_UPGRADE: {
		int fd = h->fd;
		/* The whole handshake is queued: the library reads it
		 * without waiting, answers 101 and speaks RFB. */
		h->fd = -1;
		rfb_client_new(d, fd);
		return;
	}
	default:
		break;
	}
	h->repeek_ns = 0;
	/* Take the request off the socket: what the client sent beyond it
	 * is drained after the answer. */
	if (recv(h->fd, buf, p == HTTP_BAD ? (size_t)n : req.header_len, MSG_DONTWAIT) < 0) {
		http_close(h);
		return;
	}
	if (p == HTTP_GET) {
		const struct http_file *f = http_files_find(&d->files, req.path);
		if (f)
			http_respond(h, 200, "OK", f);
		else
			http_respond(h, 404, "Not Found", NULL);
	} else if (p == HTTP_BAD_PATH) {
		http_respond(h, 404, "Not Found", NULL);
	} else if (p == HTTP_BAD_METHOD) {
		http_respond(h, 405, "Method Not Allowed", NULL);
	} else {
		http_respond(h, 400, "Bad Request", NULL);
	}
}

static void http_write(struct dpy_http *h, uint64_t now)
{
	while (h->sent < h->head_len + h->body_len) {
		struct iovec iov[2];
		struct msghdr mh = {.msg_iov = iov};
		ssize_t n;

		if (h->sent < h->head_len) {
			iov[0] = (struct iovec){h->head + h->sent, h->head_len - h->sent};
			iov[1] = (struct iovec){(void *)h->body, h->body_len};
			mh.msg_iovlen = h->body_len ? 2 : 1;
		} else {
			size_t off = h->sent - h->head_len;
			iov[0] = (struct iovec){(void *)(h->body + off), h->body_len - off};
			mh.msg_iovlen = 1;
		}
		n = sendmsg(h->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			http_close(h);
			return;
		}
		h->sent += (size_t)n;
	}
	/* Closing with unread bytes queued would reset the connection and
	 * could lose the answer's tail: end our side, then drain. */
	shutdown(h->fd, SHUT_WR);
	h->state = HTTP_DRAINING;
	h->deadline_ns = now + HTTP_DRAIN_NS;
}

static void http_drain(struct dpy_http *h)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		http_close(h);
}

static short client_events(rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;

	return (short)(POLLIN | (c && c->want_write ? POLLOUT : 0));
}

unsigned vnc_poll_fill(struct dpy *d, struct pollfd *pfd, unsigned max, uint64_t *deadline_ns)
{
	unsigned n = 0;

	if (max > DPY_MAX_CLIENTS + DPY_MAX_HTTP)
		max = DPY_MAX_CLIENTS + DPY_MAX_HTTP;
	for (rfbClientPtr cl = d->screen->clientHead; cl && n < max; cl = cl->next) {
		if (cl->sock == RFB_INVALID_SOCKET)
			continue;
		d->poll_cl[n] = cl;
		d->poll_http[n] = NULL;
		pfd[n++] = (struct pollfd){cl->sock, client_events(cl), 0};
	}
	for (unsigned i = 0; i < DPY_MAX_HTTP && n < max; i++) {
		struct dpy_http *h = &d->http[i];
		short ev = 0;
		if (h->fd < 0)
			continue;
		if (h->state == HTTP_SENDING)
			ev = POLLOUT;
		else if (h->state == HTTP_DRAINING || !h->repeek_ns)
			ev = POLLIN;
		d->poll_cl[n] = NULL;
		d->poll_http[n] = h;
		pfd[n++] = (struct pollfd){h->fd, ev, 0};
		if (h->deadline_ns < *deadline_ns)
			*deadline_ns = h->deadline_ns;
		if (h->repeek_ns && h->repeek_ns < *deadline_ns)
			*deadline_ns = h->repeek_ns;
	}
	return n;
}

static void client_read(struct dpy *d, rfbClientPtr cl)
{
	watch_begin(cl->sock);
	/* A websocket frame may hold several messages: the library keeps
	 * the rest in its own buffer, where poll() cannot see it. */
	do
		rfbProcessClientMessage(cl);
	while (cl->sock != RFB_INVALID_SOCKET && webSocketsHasDataInBuffer(cl));
	watch_end();
	/* Server-side scaling (UltraVNC's and PalmVNC's SetScale) keeps a
	 * scaled copy of the framebuffer that the library does not resize
	 * with it; it is not offered. */
	if (cl->sock != RFB_INVALID_SOCKET && cl->scaledScreen != d->screen)
		rfbCloseClient(cl);
}

void vnc_poll_run(struct dpy *d, const struct pollfd *pfd, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		struct dpy_http *h = d->poll_http[i];
		rfbClientPtr cl = d->poll_cl[i];

		/* A slot or client that closed during this pass may have
		 * lent its number to a newer one: match both. */
		if (h && h->fd == pfd[i].fd) {
			if (now >= h->deadline_ns)
				http_close(h);
			else if (h->state == HTTP_READING &&
				 ((h->repeek_ns && now >= h->repeek_ns) ||
				  (!h->repeek_ns && pfd[i].revents)))
				http_read(d, h, now);
			else if (h->state == HTTP_SENDING && pfd[i].revents)
				http_write(h, now);
			else if (h->state == HTTP_DRAINING && pfd[i].revents)
				http_drain(h);
		} else if (cl && cl->sock == pfd[i].fd && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
			client_read(d, cl);
		}
	}
}

static bool writable(int fd)
{
	struct pollfd p = {fd, POLLOUT, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

void vnc_flush(struct dpy *d)
{
	rfbClientPtr cl, next;

	for (cl = d->screen->clientHead; cl; cl = cl->next) {
		struct vnc_client *c = cl->clientData;
		if (cl->sock == RFB_INVALID_SOCKET || !c || cl->state != RFB_NORMAL)
			continue;
		c->want_write = false;
		if (!FB_UPDATE_PENDING(cl) || sraRgnEmpty(cl->requestedRegion))
			continue;
		/* A client that has not taken the last update gets the
		 * next one when it has: no write waits on it here. */
		if (!writable(cl->sock)) {
			c->want_write = true;
			continue;
		}
		watch_begin(cl->sock);
		rfbUpdateClient(cl);
		watch_end();
	}
	for (cl = d->screen->clientHead; cl; cl = next) {
		next = cl->next;
		if (cl->sock == RFB_INVALID_SOCKET)
			rfbClientConnectionGone(cl);
	}
}
