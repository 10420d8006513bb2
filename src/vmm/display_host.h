/* The vmm's side of the display (dev/display.h): the display options of
 * the command line, VRAM and the shared page, the listening sockets, the
 * sandboxed `v2e-display` process, and the publisher that hands the
 * guest's framebuffer writes (the vmm's dirty log of VRAM) to it.
 *
 * QEMU's spelling: -vga std|none, -vnc [HOST]:N | unix:PATH | none with
 * ,websocket[=[HOST:]PORT] ,password-secret=ID ,to=L, -display vnc=...|
 * none, -object secret,id=ID,file=PATH|data=TEXT. Without any display
 * choice (and without -nographic) v2e does what QEMU does on a machine
 * with no window system: a VNC server on localhost, display :0 or the
 * next free one. */
#ifndef V2E_VMM_DISPLAY_HOST_H
#define V2E_VMM_DISPLAY_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/display.h"
#include "dm/sandbox/sandbox.h"
#include "lib/compiler.h"
#include "mem/region.h"

#define DISPLAY_MAX_SECRETS 4
#define DISPLAY_MAX_LISTEN 6
#define DISPLAY_VNC_BASE 5900
#define DISPLAY_WS_BASE 5700
/* How often, at most, the vmm hands its dirty log over while a client
 * watches: a monitor's refresh. At 30 Hz a frame waited for the next
 * look half the time (25 frames/s, 33 ms from a key to the picture);
 * at 60 Hz, 50 frames/s and 17 ms (bench/display). */
#define DISPLAY_PUBLISH_NS (1000000000ull / 60)

struct display_secret {
	char id[64];
	const char *file;       /* file=PATH, or */
	const char *data;       /* data=TEXT */
};

struct display_config {
	bool vga;               /* -vga std (the default), false: -vga none */
	bool vga_given;
	bool vnc;               /* a VNC server */
	bool vnc_default;       /* no display was chosen: QEMU's localhost :0.. */
	bool vnc_none;          /* -vnc none / -display none */
	char vnc_host[256];     /* "" : every interface */
	unsigned vnc_display;   /* port 5900 + N */
	unsigned vnc_to;        /* ,to=L: try N..L when taken */
	const char *vnc_unix;   /* unix:PATH */
	bool websocket;
	char ws_host[256];
	int ws_port;            /* -1: 5700 + N */
	char password_secret[64];
	struct display_secret secret[DISPLAY_MAX_SECRETS];
	unsigned n_secret;
};

/* -vga, -vnc, -display (its argument), -object. 0 or -EINVAL with err
 * naming the option and what is wrong. */
int display_opt_vga(struct display_config *c, const char *arg, char *err, size_t n) must_check;
int display_opt_vnc(struct display_config *c, const char *arg, char *err, size_t n) must_check;
int display_opt_display(struct display_config *c, const char *arg, char *err, size_t n) must_check;
int display_opt_object(struct display_config *c, const char *arg, char *err, size_t n) must_check;
/* After every option: the secret named exists, the choices agree. */
int display_config_check(struct display_config *c, char *err, size_t n) must_check;

struct display_host {
	/* VRAM and the shared page, -1 / NULL without a VGA */
	int vram_fd, shm_fd;
	uint8_t *vram;
	uint64_t vram_size;
	struct display_shm *shm;
	struct region *vram_region; /* BAR0 while the guest has it mapped */
	/* the display process, pid -1 without one */
	struct sandbox_child child;
	int kick_fd;                /* eventfd: the vmm's "look again" */
	int input_fd[2];            /* [0] for the device model, [1] the display's */
	char where[300];            /* "127.0.0.1:5900 (display :0)", for the user */
	/* What a restarted display gets again: the listening sockets (RFB
	 * first), the password. A display that dies is started again, a
	 * few times a minute at most: its clients reconnect, the guest
	 * never notices. */
	int lfd[DISPLAY_MAX_LISTEN];
	unsigned n_lfd, n_rfb;
	char password[256];
	int password_len;           /* -1: no password */
	unsigned restarts;          /* in the minute from restart_from_ns */
	uint64_t restart_from_ns;
	/* the publisher */
	uint64_t next_ns;
	uint32_t seq_seen;
	uint64_t *bits;             /* scratch for the dirty log */
};

/* No VGA, no display: what stop leaves, safe to stop again. */
void display_host_none(struct display_host *d);
/* VRAM of `vram_size` bytes and the page, on memfds, the kick and the
 * input socket (its device model's end for dev_machine). 0 or -errno. */
int display_host_init(struct display_host *d, uint64_t vram_size, char *err,
		      size_t n) must_check;
/* Binds the listening sockets and starts v2e-display (nothing when the
 * configuration has no VNC server). 0, or -errno with err saying why (a
 * port taken names it: status 2 for the user). */
int display_host_start(struct display_host *d, const struct display_config *c, char *err,
		       size_t n) must_check;
/* Between bursts and before sleeping, at host time `now_ns`: while a
 * client watches, hands the dirty log over and kicks the display when
 * something changed. Returns when it wants to run again (UINT64_MAX:
 * nobody watches; the next call costs one load). */
uint64_t display_host_poll(struct display_host *d, uint64_t now_ns);
/* The display ended? Then it is started again (or, after too many
 * restarts in a minute, given up with a message). Cheap: one waitpid. */
void display_host_check(struct display_host *d);
/* Its pidfd, readable when it ends (-1: none running), for a sleep. */
static inline int display_host_fd(const struct display_host *d)
{
	return d->child.pid > 0 ? d->child.pidfd : -1;
}

/* Whether a client watches (one load): only then is polling worth a
 * clock read. */
static inline bool display_host_watched(const struct display_host *d)
{
	return d->shm && d->child.pid > 0 &&
	       __atomic_load_n(&d->shm->watching, __ATOMIC_RELAXED);
}

/* Stops the process and frees everything (safe after display_host_none
 * and on a failed init). */
void display_host_stop(struct display_host *d);

#endif
