/* The vmm's side of the display (display_host.h). */
#include "vmm/display_host.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/program.h"

/* ---- options ---- */

int display_opt_vga(struct display_config *c, const char *arg, char *err, size_t n)
{
	if (!strcmp(arg, "std"))
		c->vga = true;
	else if (!strcmp(arg, "none"))
		c->vga = false;
	else
		return err_say(err, n, -EINVAL, "-vga %s: v2e has std and none (cirrus, vmware, "
			       "qxl and virtio are not supported yet)", arg);
	c->vga_given = true;
	return 0;
}

/* "[HOST]:N" or "HOST:N" with an optional [v6] host. */
static int parse_host_display(const char *s, size_t len, char *host, size_t hn,
			      unsigned long *num)
{
	const char *colon = NULL;
	char *end;

	for (size_t i = len; i-- > 0;)
		if (s[i] == ':') {
			colon = s + i;
			break;
		}
	if (!colon || (size_t)(colon - s) >= hn)
		return -EINVAL;
	if (colon > s && s[0] == '[' && colon[-1] == ']') {
		snprintf(host, hn, "%.*s", (int)(colon - s - 2), s + 1);
	} else {
		snprintf(host, hn, "%.*s", (int)(colon - s), s);
	}
	errno = 0;
	*num = strtoul(colon + 1, &end, 10);
	if (end != s + len || end == colon + 1 || errno)
		return -EINVAL;
	return 0;
}

int display_opt_vnc(struct display_config *c, const char *arg, char *err, size_t n)
{
	const char *comma = strchr(arg, ',');
	size_t head = comma ? (size_t)(comma - arg) : strlen(arg);
	unsigned long num;

	c->vnc = c->vnc_none = c->vnc_default = false;
	c->vnc_unix = NULL;
	if (head == 4 && !strncmp(arg, "none", 4)) {
		c->vnc_none = true;
		return comma ? err_say(err, n, -EINVAL, "-vnc none takes no options") : 0;
	}
	if (head > 5 && !strncmp(arg, "unix:", 5)) {
		if (head - 5 >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return err_say(err, n, -EINVAL, "-vnc %s: the socket path is too long", arg);
		/* The path lives in vnc_host: a unix socket has no host. */
		snprintf(c->vnc_host, sizeof(c->vnc_host), "%.*s", (int)(head - 5), arg + 5);
		c->vnc_unix = c->vnc_host;
	} else if (parse_host_display(arg, head, c->vnc_host, sizeof(c->vnc_host), &num) ||
		   num > 59635) {
		return err_say(err, n, -EINVAL, "-vnc %s: give [HOST]:DISPLAY (port 5900 + "
			       "DISPLAY), unix:PATH or none", arg);
	} else {
		c->vnc_display = (unsigned)num;
	}
	c->vnc = true;
	while (comma) {
		const char *opt = comma + 1, *eq;
		size_t len;
		comma = strchr(opt, ',');
		len = comma ? (size_t)(comma - opt) : strlen(opt);
		eq = memchr(opt, '=', len);
		if ((len == 9 && !strncmp(opt, "websocket", 9)) ||
		    (len == 12 && !strncmp(opt, "websocket=on", 12))) {
			c->websocket = true;
			c->ws_host[0] = 0;
			c->ws_port = -1;
		} else if (eq && (size_t)(eq - opt) == 9 && !strncmp(opt, "websocket", 9)) {
			const char *v = eq + 1;
			size_t vl = len - 10;
			char *end;
			if (memchr(v, ':', vl)) {
				if (parse_host_display(v, vl, c->ws_host, sizeof(c->ws_host), &num))
					num = 0;
			} else {
				c->ws_host[0] = 0;
				num = strtoul(v, &end, 10);
				if (end != v + vl)
					num = 0;
			}
			if (num == 0 || num > 65535)
				return err_say(err, n, -EINVAL, "-vnc: websocket=%.*s: give a port, "
					       "HOST:PORT or on", (int)vl, v);
			c->websocket = true;
			c->ws_port = (int)num;
		} else if (eq && (size_t)(eq - opt) == 15 && !strncmp(opt, "password-secret", 15)) {
			if (len - 16 == 0 || len - 16 >= sizeof(c->password_secret))
				return err_say(err, n, -EINVAL, "-vnc: password-secret= needs an id");
			snprintf(c->password_secret, sizeof(c->password_secret), "%.*s",
				 (int)(len - 16), eq + 1);
		} else if (eq && (size_t)(eq - opt) == 2 && !strncmp(opt, "to", 2)) {
			char *end;
			num = strtoul(eq + 1, &end, 10);
			if (end != opt + len || num > 59635)
				return err_say(err, n, -EINVAL, "-vnc: to=%.*s: give the last display "
					       "to try", (int)(len - 3), eq + 1);
			c->vnc_to = (unsigned)num;
		} else if (len == 11 && !strncmp(opt, "password=on", 11)) {
			return err_say(err, n, -EINVAL, "-vnc: password=on sets the password from "
				       "the monitor, which v2e does not have yet: use "
				       "password-secret=ID with -object secret,id=ID,file=PATH");
		} else {
			return err_say(err, n, -EINVAL, "-vnc: option '%.*s' is not supported by v2e "
				       "yet (websocket, password-secret and to are)", (int)len, opt);
		}
	}
	return 0;
}

int display_opt_display(struct display_config *c, const char *arg, char *err, size_t n)
{
	if (!strcmp(arg, "none")) {
		c->vnc = false;
		c->vnc_none = true;
		return 0;
	}
	if (!strncmp(arg, "vnc=", 4))
		return display_opt_vnc(c, arg + 4, err, n);
	return err_say(err, n, -EINVAL, "-display %s: v2e has none and vnc=... (no window "
		       "system displays: use a VNC client)", arg);
}

int display_opt_object(struct display_config *c, const char *arg, char *err, size_t n)
{
	struct display_secret *s;
	const char *p;

	if (strncmp(arg, "secret,", 7))
		return err_say(err, n, -EINVAL, "-object %s: v2e has only secret objects yet", arg);
	if (c->n_secret == DISPLAY_MAX_SECRETS)
		return err_say(err, n, -EINVAL, "-object: at most %u secrets", DISPLAY_MAX_SECRETS);
	s = &c->secret[c->n_secret];
	memset(s, 0, sizeof(*s));
	for (p = arg + 7; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len > 3 && !strncmp(p, "id=", 3) && len - 3 < sizeof(s->id))
			snprintf(s->id, sizeof(s->id), "%.*s", (int)(len - 3), p + 3);
		else if (len > 5 && !strncmp(p, "file=", 5) && !comma)
			s->file = p + 5;
		else if (len > 5 && !strncmp(p, "data=", 5) && !comma)
			s->data = p + 5;
		else if (len == 10 && !strncmp(p, "format=raw", 10))
			;
		else
			return err_say(err, n, -EINVAL, "-object secret: '%.*s' is not supported "
				       "(id=, format=raw, then file= or data= last)", (int)len, p);
		p = comma ? comma + 1 : NULL;
	}
	if (!s->id[0] || (!s->file == !s->data))
		return err_say(err, n, -EINVAL, "-object secret needs id= and one of file= or data=");
	for (unsigned i = 0; i < c->n_secret; i++)
		if (!strcmp(c->secret[i].id, s->id))
			return err_say(err, n, -EINVAL, "-object secret: id=%s given twice", s->id);
	c->n_secret++;
	return 0;
}

static const struct display_secret *find_secret(const struct display_config *c, const char *id)
{
	for (unsigned i = 0; i < c->n_secret; i++)
		if (!strcmp(c->secret[i].id, id))
			return &c->secret[i];
	return NULL;
}

int display_config_check(struct display_config *c, char *err, size_t n)
{
	if (c->password_secret[0] && !find_secret(c, c->password_secret))
		return err_say(err, n, -EINVAL, "-vnc: password-secret=%s: no -object secret "
			       "with that id", c->password_secret);
	if ((c->vnc || c->vnc_default) && !c->vga)
		return err_say(err, n, -EINVAL, "a VNC display needs a VGA: drop -vga none "
			       "(or add -display none)");
	return 0;
}

/* ---- VRAM and the page ---- */

static int memfd_sized(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

void display_host_none(struct display_host *d)
{
	memset(d, 0, sizeof(*d));
	d->password_len = -1;
	d->vram_fd = d->shm_fd = d->kick_fd = -1;
	d->input_fd[0] = d->input_fd[1] = -1;
	d->child.pid = -1;
	d->child.pidfd = -1;
}

int display_host_init(struct display_host *d, uint64_t vram_size, char *err, size_t n)
{
	size_t words = (size_t)(vram_size / DISPLAY_PAGE / 64);
	void *p;

	display_host_none(d);
	if (vram_size < (1u << 20) || vram_size > DISPLAY_VRAM_MAX ||
	    (vram_size & (vram_size - 1)))
		return err_say(err, n, -EINVAL, "VRAM of %llu bytes", (unsigned long long)vram_size);
	d->vram_fd = memfd_sized("v2e-vram", vram_size);
	d->shm_fd = memfd_sized("v2e-display", (sizeof(struct display_shm) + 4095) & ~4095ul);
	d->bits = calloc(words ? words : 1, sizeof(*d->bits));
	if (d->vram_fd < 0 || d->shm_fd < 0 || !d->bits)
		return err_say(err, n, -ENOMEM, "no memory for VRAM (%s)",
			       strerror(d->vram_fd < 0 ? -d->vram_fd : ENOMEM));
	p = mmap(NULL, vram_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->vram_fd, 0);
	if (p == MAP_FAILED)
		return err_say(err, n, -errno, "mapping VRAM: %s", strerror(errno));
	d->vram = p;
	d->vram_size = vram_size;
	p = mmap(NULL, sizeof(*d->shm), PROT_READ | PROT_WRITE, MAP_SHARED, d->shm_fd, 0);
	if (p == MAP_FAILED)
		return err_say(err, n, -errno, "mapping the display page: %s", strerror(errno));
	d->shm = p;
	d->shm->magic = DISPLAY_SHM_MAGIC;
	d->shm->version = DISPLAY_SHM_VERSION;
	d->shm->vram_size = vram_size;
	d->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->kick_fd < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, d->input_fd) < 0)
		return err_say(err, n, -errno, "display setup: %s", strerror(errno));
	return 0;
}

/* ---- listening ---- */

/* Binds every address of host:port (all interfaces when host is empty);
 * 0 and the sockets in fds, or -errno (-EADDRINUSE: try another port). */
static int listen_tcp(const char *host, unsigned port, int *fds, unsigned *nfds, unsigned max)
{
	struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	unsigned start = *nfds;
	char serv[8];
	int r, one = 1;

	snprintf(serv, sizeof(serv), "%u", port);
	r = getaddrinfo(host[0] ? host : NULL, serv, &hints, &res);
	if (r)
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	r = -EADDRNOTAVAIL;
	for (ai = res; ai && *nfds < max; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
			r = -errno;
			close(fd);
			/* A host without IPv6 is not a taken port. */
			if (r == -EADDRINUSE)
				break;
			continue;
		}
		fds[(*nfds)++] = fd;
	}
	freeaddrinfo(res);
	if (*nfds > start && r != -EADDRINUSE)
		return 0;
	while (*nfds > start)
		close(fds[--*nfds]);
	return r;
}

static int listen_unix(const char *path, int *fd)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	/* A socket left by an earlier run is replaced, as QEMU does; any
	 * other file is the user's and stays. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	if (bind(*fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(*fd, 16) < 0) {
		int e = -errno;
		close(*fd);
		*fd = -1;
		return e;
	}
	return 0;
}

/* The password, read with the user's rights (the display never sees the
 * file); it reaches each display through a pipe it reads once. */
static int read_password(struct display_host *d, const struct display_secret *s, char *err,
			 size_t n)
{
	size_t len = 0;

	if (s->file) {
		int fd = open(s->file, O_RDONLY | O_CLOEXEC);
		ssize_t k;
		if (fd < 0)
			return err_say(err, n, -errno, "-object secret,id=%s: %s: %s", s->id,
				       s->file, strerror(errno));
		while (len < sizeof(d->password) &&
		       (k = read(fd, d->password + len, sizeof(d->password) - len)) > 0)
			len += (size_t)k;
		close(fd);
	} else {
		len = strlen(s->data);
		if (len > sizeof(d->password))
			len = sizeof(d->password);
		memcpy(d->password, s->data, len);
	}
	d->password_len = (int)len;
	return 0;
}

static int password_pipe(const struct display_host *d, int *out)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (write(p[1], d->password, (size_t)d->password_len) != d->password_len) {
		close(p[0]);
		close(p[1]);
		return -EIO;
	}
	close(p[1]);
	*out = p[0];
	return 0;
}

/* Starts v2e-display on what the host holds (display_host_start bound
 * it): 0, or -errno with err saying why. */
static int spawn(struct display_host *d, char *err, size_t n)
{
	char path[4096], num[DISPLAY_MAX_LISTEN + 6][16];
	char *argv[2 * (DISPLAY_MAX_LISTEN + 8) + 2];
	struct sandbox_fd keep[DISPLAY_MAX_LISTEN + 8];
	struct sandbox_spawn_args sa;
	unsigned na = 0, nk = 0;
	int pw = -1, ro, r;

	if (d->password_len >= 0 && (r = password_pipe(d, &pw)) < 0)
		return err_say(err, n, r, "cannot hand the VNC password over: %s", strerror(-r));
	/* The display reads VRAM through a descriptor that cannot write. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->vram_fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0) {
		r = err_say(err, n, -errno, "VRAM for the display: %s", strerror(errno));
		if (pw >= 0)
			close(pw);
		return r;
	}
	argv[na++] = (char *)"v2e-display";
#define PASS(opt, fd)                                                         \
	do {                                                                  \
		keep[nk] = (struct sandbox_fd){(fd), (int)(3 + nk)};          \
		snprintf(num[nk], sizeof(num[nk]), "%d", (int)(3 + nk));      \
		argv[na++] = (char *)(opt);                                   \
		argv[na++] = num[nk];                                         \
		nk++;                                                         \
	} while (0)
	PASS("--shm", d->shm_fd);
	PASS("--vram", ro);
	PASS("--kick", d->kick_fd);
	PASS("--input", d->input_fd[1]);
	for (unsigned i = 0; i < d->n_lfd; i++)
		PASS(i < d->n_rfb ? "--rfb" : "--ws", d->lfd[i]);
	if (pw >= 0)
		PASS("--password-fd", pw);
#undef PASS
	argv[na] = NULL;
	keep[nk++] = (struct sandbox_fd){STDERR_FILENO, STDERR_FILENO};
	program_beside_us("v2e-display", path, sizeof(path));
	/* Its own network namespace would leave the sockets it was given
	 * working, but it needs none: what it lacks is the host's files. */
	sa = (struct sandbox_spawn_args){path, argv, NULL, keep, nk,
					 SANDBOX_NS_ALL & ~SANDBOX_NS_NET};
	r = sandbox_spawn(&sa, &d->child);
	if (r < 0) {
		d->child.pid = -1;
		err_say(err, n, r, "cannot start the display %s: %s", path, strerror(-r));
	}
	if (pw >= 0)
		close(pw);
	close(ro);
	return r < 0 ? r : 0;
}

int display_host_start(struct display_host *d, const struct display_config *c, char *err,
		       size_t n)
{
	unsigned display = c->vnc_display, last;
	const char *host = c->vnc_default ? "localhost" : c->vnc_host;
	int r = 0;

	if (!c->vnc && !c->vnc_default)
		return 0;
	if (!d->shm)
		return err_say(err, n, -EINVAL, "a VNC display needs a VGA");
	/* The RFB port: the display asked for, or the first free one. */
	if (c->vnc_unix) {
		r = listen_unix(c->vnc_unix, &d->lfd[d->n_lfd]);
		if (r < 0)
			return err_say(err, n, r, "-vnc unix:%s: %s", c->vnc_unix, strerror(-r));
		d->n_lfd++;
		snprintf(d->where, sizeof(d->where), "unix:%s", c->vnc_unix);
	} else {
		last = c->vnc_default ? display + 99 : c->vnc_to > display ? c->vnc_to : display;
		for (;; display++) {
			r = listen_tcp(host, DISPLAY_VNC_BASE + display, d->lfd, &d->n_lfd,
				       DISPLAY_MAX_LISTEN - 2);
			if (r != -EADDRINUSE || display >= last)
				break;
		}
		if (r < 0)
			return err_say(err, n, r, "VNC server on %s:%u (display :%u): %s",
				       host[0] ? host : "*", DISPLAY_VNC_BASE + display, display,
				       r == -EADDRINUSE ? "the port is taken (give another "
				       "display, or to=)" : strerror(-r));
		snprintf(d->where, sizeof(d->where), "%s:%u (display :%u)", host[0] ? host : "*",
			 DISPLAY_VNC_BASE + display, display);
	}
	d->n_rfb = d->n_lfd;
	if (c->websocket) {
		unsigned port = c->ws_port > 0 ? (unsigned)c->ws_port : DISPLAY_WS_BASE + display;
		const char *wh = c->ws_host[0] ? c->ws_host : host;
		r = listen_tcp(wh, port, d->lfd, &d->n_lfd, DISPLAY_MAX_LISTEN);
		if (r < 0)
			return err_say(err, n, r, "-vnc websocket on %s:%u: %s", wh[0] ? wh : "*",
				       port, r == -EADDRINUSE ? "the port is taken" : strerror(-r));
		snprintf(d->where + strlen(d->where), sizeof(d->where) - strlen(d->where),
			 ", browsers at http://%s:%u/vnc.html", wh[0] ? wh : "localhost", port);
	}
	if (c->password_secret[0] &&
	    (r = read_password(d, find_secret(c, c->password_secret), err, n)) < 0)
		return r;
	return spawn(d, err, n);
}

/* At most this many restarts in a minute: a display that a client can
 * crash at will is not started for ever. */
#define DISPLAY_RESTARTS_PER_MINUTE 3

void display_host_check(struct display_host *d)
{
	char why[160] = "is gone", err[300];
	int status = 0, r;
	uint64_t now;

	if (d->child.pid <= 0)
		return;
	r = sandbox_reap(&d->child, &status, false);
	if (r == 0)
		return;
	if (r == 1)
		sandbox_describe_status(status, why, sizeof(why));
	d->child.pid = -1;
	/* Its clients went with it; the next display sets this again. */
	__atomic_store_n(&d->shm->watching, 0, __ATOMIC_RELEASE);
	now = mono_ns();
	if (now - d->restart_from_ns > 60 * 1000000000ull) {
		d->restart_from_ns = now;
		d->restarts = 0;
	}
	if (d->restarts++ >= DISPLAY_RESTARTS_PER_MINUTE) {
		log_warn("the display v2e-display %s, %u times in a minute: not started "
			 "again; the guest runs on without it", why, d->restarts);
		return;
	}
	if (spawn(d, err, sizeof(err)) < 0)
		log_warn("the display v2e-display %s, and %s; the guest runs on without it", why,
			 err);
	else
		log_warn("the display v2e-display %s; started again (%s)", why, d->where);
}

/* ---- the publisher ---- */

uint64_t display_host_poll(struct display_host *d, uint64_t now_ns)
{
	struct display_shm *p = d->shm;
	size_t words = (size_t)(d->vram_size / DISPLAY_PAGE / 64);
	bool changed = false;
	uint32_t seq;

	if (!p || d->child.pid < 0 || !__atomic_load_n(&p->watching, __ATOMIC_RELAXED))
		return UINT64_MAX;
	if (now_ns < d->next_ns)
		return d->next_ns;
	d->next_ns = now_ns + DISPLAY_PUBLISH_NS;
	/* The guest's stores through BAR0 (the device ORs its own). */
	if (d->vram_region && region_dirty_fetch(d->vram_region, d->bits, words) == 0)
		for (size_t i = 0; i < words; i++)
			if (d->bits[i]) {
				__atomic_fetch_or(&p->dirty[i], d->bits[i], __ATOMIC_RELEASE);
				changed = true;
			}
	for (size_t i = 0; !changed && i < words; i++)
		changed = __atomic_load_n(&p->dirty[i], __ATOMIC_RELAXED) != 0;
	seq = __atomic_load_n(&p->state_seq, __ATOMIC_ACQUIRE);
	if (seq != d->seq_seen) {
		d->seq_seen = seq;
		changed = true;
	}
	if (changed) {
		uint64_t one = 1;
		/* Full (the display is behind): it will look anyway. */
		if (write(d->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("display: kick: %s", strerror(errno));
	}
	return d->next_ns;
}

void display_host_stop(struct display_host *d)
{
	int status;

	if (d->child.pid > 0) {
		sandbox_kill(&d->child);
		if (sandbox_reap(&d->child, &status, true) < 0)
			d->child.pid = -1;
	}
	d->child.pid = -1;
	for (unsigned i = 0; i < 2; i++)
		if (d->input_fd[i] >= 0)
			close(d->input_fd[i]);
	if (d->kick_fd >= 0)
		close(d->kick_fd);
	for (unsigned i = 0; i < d->n_lfd; i++)
		close(d->lfd[i]);
	memset(d->password, 0, sizeof(d->password));
	if (d->shm)
		munmap(d->shm, sizeof(*d->shm));
	if (d->vram)
		munmap(d->vram, d->vram_size);
	if (d->vram_fd >= 0)
		close(d->vram_fd);
	if (d->shm_fd >= 0)
		close(d->shm_fd);
	free(d->bits);
	display_host_none(d);
}
