/* Shared by the display tests: a v2e-display started as the vmm starts
 * it (sandbox_spawn, no network namespace), on a shared page and VRAM
 * this file makes, with a unix RFB socket and a TCP websocket port. */
#ifndef V2E_TESTS_DISPLAY_RIG_H
#define V2E_TESTS_DISPLAY_RIG_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dev/display.h"
#include "dev/vga_render.h"
#include "dm/sandbox/sandbox.h"

#define RIG_VRAM (8u << 20)

struct rig {
	struct display_shm *shm;
	uint8_t *vram;
	int shm_fd, vram_fd, kick_fd, input[2], rfb_fd, ws_fd;
	int ws_port;
	char dir[32], sock_path[96];
	struct sandbox_child child;
};

static inline uint64_t rig_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The registers, as the device publishes them: under the lock. */
static inline void rig_set_state(struct rig *r, const struct vga_state *s)
{
	uint32_t seq = __atomic_load_n(&r->shm->state_seq, __ATOMIC_RELAXED);
	__atomic_store_n(&r->shm->state_seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(&r->shm->state, s, sizeof(*s));
	__atomic_store_n(&r->shm->state_seq, seq + 2, __ATOMIC_RELEASE);
}

static inline void rig_dirty(struct rig *r, uint64_t lo, uint64_t hi)
{
	for (uint64_t pg = lo / DISPLAY_PAGE; pg <= (hi - 1) / DISPLAY_PAGE; pg++)
		__atomic_fetch_or(&r->shm->dirty[pg / 64], 1ull << (pg % 64), __ATOMIC_RELEASE);
}

static inline void rig_kick(struct rig *r)
{
	uint64_t one = 1;
	if (write(r->kick_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static inline void rig_vbe32(struct vga_state *s, unsigned w, unsigned h)
{
	memset(s, 0, sizeof(*s));
	s->vram_size = RIG_VRAM;
	s->vbe[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
	s->vbe[VBE_DISPI_INDEX_XRES] = (uint16_t)w;
	s->vbe[VBE_DISPI_INDEX_YRES] = (uint16_t)h;
	s->vbe[VBE_DISPI_INDEX_BPP] = 32;
	s->vbe[VBE_DISPI_INDEX_VIRT_WIDTH] = (uint16_t)w;
	s->vbe[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)h;
	s->vbe[VBE_DISPI_INDEX_ENABLE] = VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED;
}

static inline int rig_listen_tcp(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

static inline int rig_connect_unix(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	return fd;
}

static inline int rig_connect_tcp(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		abort();
	return fd;
}

/* The display program beside the tests' folder. */
static inline void rig_program(char *path, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", path, n - 32);
	char *slash;
	if (len <= 0)
		abort();
	path[len] = '\0';
	slash = strrchr(path, '/');
	*slash = '\0';
	slash = strrchr(path, '/');
	snprintf(slash, n - (size_t)(slash - path), "/v2e-display");
}

/* Starts a display with a 640x480x32 VBE mode; password: NULL for none. */
static inline int rig_start(struct rig *r, const char *password, const struct vga_state *s)
{
	char prog[4096], fds[7][16];
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int pw[2] = {-1, -1}, vram_ro;
	char procpath[64];
	struct sandbox_fd sfd[8];
	unsigned n = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/v2e-dpy-XXXXXX");
	if (!mkdtemp(r->dir))
		return -errno;
	snprintf(r->sock_path, sizeof(r->sock_path), "%s/rfb", r->dir);
	r->shm_fd = memfd_create("display-shm", MFD_CLOEXEC);
	r->vram_fd = memfd_create("vram", MFD_CLOEXEC);
	if (r->shm_fd < 0 || r->vram_fd < 0 || ftruncate(r->shm_fd, sizeof(struct display_shm)) ||
	    ftruncate(r->vram_fd, RIG_VRAM))
		return -errno;
	r->shm = mmap(NULL, sizeof(*r->shm), PROT_READ | PROT_WRITE, MAP_SHARED, r->shm_fd, 0);
	r->vram = mmap(NULL, RIG_VRAM, PROT_READ | PROT_WRITE, MAP_SHARED, r->vram_fd, 0);
	if (r->shm == MAP_FAILED || r->vram == MAP_FAILED)
		return -errno;
	r->shm->magic = DISPLAY_SHM_MAGIC;
	r->shm->version = DISPLAY_SHM_VERSION;
	r->shm->vram_size = RIG_VRAM;
	rig_set_state(r, s);
	/* The display gets VRAM read-only, as the vmm hands it over. */
	snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", r->vram_fd);
	vram_ro = open(procpath, O_RDONLY | O_CLOEXEC);
	r->kick_fd = eventfd(0, EFD_CLOEXEC);
	if (vram_ro < 0 || r->kick_fd < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->input))
		return -errno;
	r->rfb_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", r->sock_path);
	if (r->rfb_fd < 0 || bind(r->rfb_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(r->rfb_fd, 16))
		return -errno;
	r->ws_fd = rig_listen_tcp(&r->ws_port);
	if (password) {
		if (pipe2(pw, O_CLOEXEC) || write(pw[1], password, strlen(password)) < 0)
			return -errno;
		close(pw[1]);
	}
	sfd[n++] = (struct sandbox_fd){2, 2};
	sfd[n++] = (struct sandbox_fd){r->shm_fd, 3};
	sfd[n++] = (struct sandbox_fd){vram_ro, 4};
	sfd[n++] = (struct sandbox_fd){r->kick_fd, 5};
	sfd[n++] = (struct sandbox_fd){r->input[1], 6};
	sfd[n++] = (struct sandbox_fd){r->rfb_fd, 7};
	sfd[n++] = (struct sandbox_fd){r->ws_fd, 8};
	if (password)
		sfd[n++] = (struct sandbox_fd){pw[0], 9};
	{
		struct sandbox_spawn_args args = {.path = prog, .fds = sfd, .nfds = n,
						  .namespaces = SANDBOX_NS_ALL & ~SANDBOX_NS_NET};
		char *argv[20];
		unsigned k = 0;
		for (unsigned i = 1; i < n; i++)
			snprintf(fds[i - 1], sizeof(fds[0]), "%u", 2 + i);
		rig_program(prog, sizeof(prog));
		argv[k++] = (char *)"v2e-display";
		argv[k++] = (char *)"--shm";
		argv[k++] = fds[0];
		argv[k++] = (char *)"--vram";
		argv[k++] = fds[1];
		argv[k++] = (char *)"--kick";
		argv[k++] = fds[2];
		argv[k++] = (char *)"--input";
		argv[k++] = fds[3];
		argv[k++] = (char *)"--rfb";
		argv[k++] = fds[4];
		argv[k++] = (char *)"--ws";
		argv[k++] = fds[5];
		if (password) {
			argv[k++] = (char *)"--password-fd";
			argv[k++] = fds[6];
		}
		argv[k++] = (char *)"--name";
		argv[k++] = (char *)"test";
		argv[k] = NULL;
		args.argv = argv;
		rc = sandbox_spawn(&args, &r->child);
	}
	close(vram_ro);
	if (password)
		close(pw[0]);
	return rc;
}

/* Still running? */
static inline bool rig_alive(struct rig *r)
{
	int status;
	return sandbox_reap(&r->child, &status, false) == 0;
}

/* SIGTERM, then its exit status (-1 if it had to be killed). */
static inline int rig_stop(struct rig *r)
{
	int status = -1;
	uint64_t end = rig_ms() + 10000;

	kill(r->child.pid, SIGTERM);
	while (rig_ms() < end) {
		int rc = sandbox_reap(&r->child, &status, false);
		if (rc == 1)
			break;
		usleep(10000);
	}
	if (rig_alive(r)) {
		sandbox_kill(&r->child);
		(void)!sandbox_reap(&r->child, &status, true);
		status = -1;
	}
	unlink(r->sock_path);
	rmdir(r->dir);
	close(r->shm_fd);
	close(r->vram_fd);
	close(r->kick_fd);
	close(r->input[0]);
	close(r->input[1]);
	close(r->rfb_fd);
	close(r->ws_fd);
	munmap(r->shm, sizeof(*r->shm));
	munmap(r->vram, RIG_VRAM);
	return status;
}

#endif
