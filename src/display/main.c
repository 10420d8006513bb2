/* v2e-display: the display-only device model. It owns nothing but the
 * display: VRAM mapped read-only, the VGA registers and the dirty bitmap
 * on a shared page (dev/display.h), an eventfd the vmm kicks, a socket
 * for keyboard and pointer events towards the device model that has the
 * keyboard and the pointers, and the listening sockets of its VNC and
 * websocket ports. It serves VNC with LibVNCServer inside its own poll()
 * loop and noVNC's files to browsers, in a sandbox that can open nothing.
 *
 *   v2e-display --shm FD --vram FD --kick FD --input FD [--rfb FD]...
 *               [--ws FD]... [--password-fd FD] [--name NAME] [--novnc DIR]
 *
 * Started by the vmm (sandbox_spawn) with every descriptor open. Exits 0
 * on SIGTERM or SIGINT; 1 with a line on stderr if it cannot start. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "display/display.h"
#include "dm/sandbox/sandbox.h"
#include "lib/log.h"

#define DEFAULT_NOVNC "/usr/share/novnc"
#define PASSWORD_MAX 1024

uint64_t dpy_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct options {
	int shm, vram, kick, input, password;
	const char *name, *novnc;
	bool novnc_given;
};

static void usage(void)
{
	fprintf(stderr, "usage: v2e-display --shm FD --vram FD --kick FD --input FD "
			"[--rfb FD]... [--ws FD]... [--password-fd FD] [--name NAME] "
			"[--novnc DIR]\n");
}

static int parse_fd(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX || fcntl((int)v, F_GETFD) < 0)
		return -1;
	return (int)v;
}

static int parse_args(int argc, char **argv, struct options *o, struct dpy *d)
{
	*o = (struct options){-1, -1, -1, -1, -1, "v2e", DEFAULT_NOVNC, false};
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int fd = val ? parse_fd(val) : -1;

		if (!val) {
			log_error("%s needs a value", opt);
			return -EINVAL;
		}
		i++;
		if (!strcmp(opt, "--name")) {
			o->name = val;
			continue;
		}
		if (!strcmp(opt, "--novnc")) {
			o->novnc = val;
			o->novnc_given = true;
			continue;
		}
		if (fd < 0) {
			log_error("%s %s: not an open descriptor", opt, val);
			return -EINVAL;
		}
		if (!strcmp(opt, "--shm"))
			o->shm = fd;
		else if (!strcmp(opt, "--vram"))
			o->vram = fd;
		else if (!strcmp(opt, "--kick"))
			o->kick = fd;
		else if (!strcmp(opt, "--input"))
			o->input = fd;
		else if (!strcmp(opt, "--password-fd"))
			o->password = fd;
		else if (!strcmp(opt, "--rfb") || !strcmp(opt, "--ws")) {
			if (d->n_listen == DPY_MAX_LISTEN) {
				log_error("at most %d listening sockets", DPY_MAX_LISTEN);
				return -EINVAL;
			}
			d->listen_ws[d->n_listen] = !strcmp(opt, "--ws");
			d->listen_fd[d->n_listen++] = fd;
		} else {
			log_error("unknown option %s", opt);
			return -EINVAL;
		}
	}
	if (o->shm < 0 || o->vram < 0 || o->kick < 0 || o->input < 0) {
		log_error("--shm, --vram, --kick and --input are needed");
		return -EINVAL;
	}
	return 0;
}

/* The shared page and VRAM, checked: a vmm that got them wrong would
 * otherwise show up as a SIGBUS much later. */
static int map_shared(struct dpy *d, const struct options *o)
{
	struct stat st;
	uint64_t size;
	void *p;

	if (fstat(o->shm, &st) < 0 || (uint64_t)st.st_size < sizeof(struct display_shm)) {
		log_error("--shm: smaller than the shared page (%zu bytes)",
			  sizeof(struct display_shm));
		return -EINVAL;
	}
	p = mmap(NULL, sizeof(struct display_shm), PROT_READ | PROT_WRITE, MAP_SHARED, o->shm, 0);
	if (p == MAP_FAILED) {
		log_error("--shm: %s", strerror(errno));
		return -errno;
	}
	d->shm = p;
	size = d->shm->vram_size;
	if (d->shm->magic != DISPLAY_SHM_MAGIC || d->shm->version != DISPLAY_SHM_VERSION) {
		log_error("--shm: not a display page of version %u", DISPLAY_SHM_VERSION);
		return -EINVAL;
	}
	if (size < (1u << 20) || size > DISPLAY_VRAM_MAX || (size & (size - 1))) {
		log_error("--shm: VRAM of %llu bytes (a power of two from 1 to 256 MiB)",
			  (unsigned long long)size);
		return -EINVAL;
	}
	if (fstat(o->vram, &st) < 0 || (uint64_t)st.st_size < size) {
		log_error("--vram: smaller than the %llu bytes of VRAM", (unsigned long long)size);
		return -EINVAL;
	}
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, o->vram, 0);
	if (p == MAP_FAILED) {
		log_error("--vram: %s", strerror(errno));
		return -errno;
	}
	d->vram = p;
	d->vram_size = size;
	return 0;
}

static int read_password(int fd, char **out)
{
	char buf[PASSWORD_MAX + 1];
	size_t len = 0;

	for (;;) {
		ssize_t n = read(fd, buf + len, PASSWORD_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("--password-fd: %s", strerror(errno));
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == PASSWORD_MAX) {
			log_error("--password-fd: longer than %d bytes", PASSWORD_MAX);
			return -EINVAL;
		}
	}
	close(fd);
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	if (!len || strlen(buf) != len) {
		log_error("--password-fd: an empty password, or one with a NUL byte");
		return -EINVAL;
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *out ? 0 : -ENOMEM;
}

/* SIGTERM and SIGINT arrive on a descriptor the loop polls. */
static int setup_signals(struct dpy *d)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigset_t set;

	/* A client gone mid-write is an EPIPE, not a death. */
	sigaction(SIGPIPE, &ign, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0)
		return -errno;
	return vnc_watchdog_init();
}

static int lock_down(struct dpy *d)
{
	/* What LibVNCServer and the loop call beyond the base list:
	 * accept4 (the loop), setsockopt (TCP_NODELAY on each client),
	 * getpeername (naming a client), fcntl (O_NONBLOCK), select
	 * (the library's waits), recvfrom and sendto (recv and send,
	 * MSG_PEEK), shutdown (the watchdog, HTTP), setitimer (the
	 * watchdog). None opens or creates anything. */
	static const char *const extra[] = {
		"accept4", "setsockopt", "getpeername", "getsockname", "fcntl", "select",
		"pselect6", "recvfrom", "sendto", "shutdown", "setitimer", NULL,
	};
	struct sandbox_lockdown_args lock = {
		.fd_margin = DPY_MAX_CLIENTS + DPY_MAX_HTTP + 8,
		.mem_headroom = 1ull << 30,
		.fsize_max = 0,
		.max_threads = 0,
		.extra_syscalls = extra,
	};
	int held = sandbox_holds_writable_file();

	if (held != 0)
		lock.fsize_max = SANDBOX_UNLIMITED;   /* stderr may be a log file */
	return sandbox_lockdown(&lock);
}

static void serve(struct dpy *d)
{
	enum { FIXED = 2 + DPY_MAX_LISTEN };
	struct pollfd pfd[FIXED + DPY_MAX_CLIENTS + DPY_MAX_HTTP];

	for (;;) {
		uint64_t now = dpy_now_ns(), deadline = UINT64_MAX;
		unsigned n = 0, nv;
		int timeout = -1, r;

		if (picture_blink(d, now) && d->mode.kind == VGA_MODE_TEXT && d->n_clients) {
			picture_update(d, true);
			vnc_flush(d);
		}
		if (d->blink_next_ns)
			deadline = d->blink_next_ns;
		pfd[n++] = (struct pollfd){d->signal_fd, POLLIN, 0};
		pfd[n++] = (struct pollfd){d->kick_fd, POLLIN, 0};
		for (unsigned i = 0; i < d->n_listen; i++)
			pfd[n++] = (struct pollfd){d->listen_fd[i], POLLIN, 0};
		nv = vnc_poll_fill(d, pfd + n, DPY_MAX_CLIENTS + DPY_MAX_HTTP, &deadline);
		if (deadline != UINT64_MAX) {
			uint64_t ms = deadline > now ? (deadline - now + 999999) / 1000000 : 0;
			timeout = ms > 60000 ? 60000 : (int)ms;
		}
		r = poll(pfd, n + nv, timeout);
		if (r < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return;
		}
		if (r < 0)
			continue;
		now = dpy_now_ns();
		if (pfd[0].revents)
			return;   /* SIGTERM or SIGINT */
		if (pfd[1].revents) {
			uint64_t v;
			/* Reading clears it; the kicks that came while we
			 * drew are one. */
			if (read(d->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn("--kick: %s", strerror(errno));
			if (d->n_clients)
				picture_update(d, false);
		}
		vnc_poll_run(d, pfd + n, nv, now);
		for (unsigned i = 0; i < d->n_listen; i++)
			if (pfd[2 + i].revents)
				vnc_accept(d, i);
		vnc_flush(d);
	}
}

int main(int argc, char **argv)
{
	static struct dpy d;
	struct options o;
	char *password = NULL;
	int r;

	log_set_prog("v2e-display");
	for (unsigned i = 0; i < DPY_MAX_HTTP; i++)
		d.http[i].fd = -1;
	if (parse_args(argc, argv, &o, &d) < 0) {
		usage();
		return 1;
	}
	d.kick_fd = o.kick;
	d.input_fd = o.input;
	if (map_shared(&d, &o) < 0)
		return 1;
	if (o.password >= 0 && read_password(o.password, &password) < 0)
		return 1;
	for (unsigned i = 0; i < d.n_listen; i++) {
		int fl = fcntl(d.listen_fd[i], F_GETFL);
		if (fl < 0 || fcntl(d.listen_fd[i], F_SETFL, fl | O_NONBLOCK) < 0) {
			log_error("a listening socket: %s", strerror(errno));
			return 1;
		}
	}
	fcntl(d.kick_fd, F_SETFL, fcntl(d.kick_fd, F_GETFL) | O_NONBLOCK);
	/* noVNC's files, while files can still be opened. The default
	 * folder may be missing (noVNC not installed): then browsers get
	 * 404s and websocket clients are still served. */
	for (unsigned i = 0; i < d.n_listen; i++) {
		if (!d.listen_ws[i])
			continue;
		r = access(o.novnc, R_OK) == 0 || o.novnc_given ? http_files_load(&d.files, o.novnc) : 0;
		if (r < 0)
			return 1;
		break;
	}
	r = picture_init(&d);
	if (r == 0)
		r = setup_signals(&d);
	if (r == 0)
		r = vnc_init(&d, o.name, password);
	if (r < 0) {
		log_error("cannot start: %s", strerror(-r));
		return 1;
	}
	if (password)
		explicit_bzero(password, strlen(password));
	free(password);
	if (lock_down(&d) < 0) {
		log_error("cannot enter the sandbox");
		_exit(1);
	}
	serve(&d);
	if (d.keys_unknown || d.input_dropped)
		log_info("%lu keys without a PC key, %lu input events dropped", d.keys_unknown,
			 d.input_dropped);
	/* No exit handlers inside the sandbox: LeakSanitizer's check at exit
	 * (test builds) needs ptrace and /proc, which the filter forbids. */
	fflush(stderr);
	_exit(0);
}
