/* v2e-display's insides: one process, one loop (main.c), the picture
 * (picture.c: registers and dirty pages to changed rectangles) and the
 * VNC side (vnc.c: LibVNCServer without its threads or its sockets, the
 * websocket port's HTTP). The contract with the rest of v2e is
 * dev/display.h; this header is only the module's own. */
#ifndef V2E_DISPLAY_DISPLAY_H
#define V2E_DISPLAY_DISPLAY_H

#include <stdbool.h>
#include <poll.h>
#include <stdint.h>

#include <rfb/rfb.h>
/* rfb.h's FB_UPDATE_PENDING calls sraRgnEmpty() without declaring it:
 * an implicit int would read garbage above the rfbBool it returns. */
#include <rfb/rfbregion.h>

#include "dev/display.h"
#include "dev/vga_render.h"
#include "display/http.h"
#include "lib/compiler.h"

#define DPY_MAX_LISTEN 8
#define DPY_MAX_CLIENTS 16
#define DPY_MAX_HTTP 16
/* How long one call into LibVNCServer for one client may take before the
 * client is cut off (its writes wait for a client that may never read). */
#define DPY_CLIENT_STALL_MS 1000
/* The picture while the registers describe none. */
#define DPY_BLANK_WIDTH 640
#define DPY_BLANK_HEIGHT 480
#define DPY_LINE_WORDS ((VGA_RENDER_MAX_HEIGHT + 63) / 64)

/* A connection on the websocket port until its request is known. */
struct dpy_http {
	int fd;                     /* -1: slot free */
	enum { HTTP_READING, HTTP_SENDING, HTTP_DRAINING } state;
	uint64_t deadline_ns;       /* closed then, whatever its state */
	uint64_t repeek_ns;         /* READING with a partial request: look again then */
	char head[512];
	size_t head_len;
	const char *body;
	size_t body_len, sent;      /* of head_len + body_len */
};

struct dpy {
	/* What the vmm handed over. */
	struct display_shm *shm;
	const uint8_t *vram;
	size_t vram_size;
	int kick_fd, input_fd, signal_fd;
	bool input_dead;
	int listen_fd[DPY_MAX_LISTEN];
	bool listen_ws[DPY_MAX_LISTEN];
	unsigned n_listen;

	/* The VNC server. */
	rfbScreenInfoPtr screen;
	unsigned n_clients;
	char *passwords[2];
	struct http_files files;
	struct dpy_http http[DPY_MAX_HTTP];
	/* What vnc_poll_fill() put at each place: a client or a slot. */
	rfbClientPtr poll_cl[DPY_MAX_CLIENTS + DPY_MAX_HTTP];
	struct dpy_http *poll_http[DPY_MAX_CLIENTS + DPY_MAX_HTTP];

	/* The picture: the registers last read, the mode they give, and
	 * what the clients read (`fb`: VRAM itself for an in-place mode,
	 * else `front`, which picture.c renders into). */
	struct vga_state state;
	struct vga_mode mode;
	bool have_picture, in_place;
	uint32_t width, height;     /* of fb */
	const uint8_t *fb;
	uint32_t fb_pitch;          /* bytes */
	uint32_t *front, *scratch;  /* rendered modes: sent, and redrawn lines */
	uint8_t *shadow;            /* in-place modes: the lines last sent */
	uint32_t font_gen_seen;
	unsigned blink;             /* VGA_BLINK_* */
	uint64_t blink_next_ns;     /* 0: no blink timer */
	uint64_t dirty[DISPLAY_DIRTY_WORDS];
	uint64_t lines[DPY_LINE_WORDS];

	/* Counted, for the log at exit. */
	unsigned long keys_unknown, input_dropped, rects_sent;
};

uint64_t dpy_now_ns(void);

/* picture.c */
must_check int picture_init(struct dpy *d);
/* Takes the registers and dirty pages and marks what really changed for
 * the clients; `all`: redraw every line (a client came, the blink phase
 * turned) and send what differs. */
void picture_update(struct dpy *d, bool all);
/* The blink phase for the time now; schedules the next turn while a text
 * mode is shown to someone. True when the phase changed. */
bool picture_blink(struct dpy *d, uint64_t now_ns);

/* vnc.c */
/* Installs the watchdog's SIGALRM handler (no SA_RESTART). */
must_check int vnc_watchdog_init(void);
must_check int vnc_init(struct dpy *d, const char *name, const char *password);
void vnc_accept(struct dpy *d, unsigned listener);
/* One pass over the clients and HTTP connections after poll():
 * vnc_poll_fill() adds their descriptors, vnc_poll_run() serves those
 * that are ready and those whose time has come. */
unsigned vnc_poll_fill(struct dpy *d, struct pollfd *pfd, unsigned max, uint64_t *deadline_ns);
void vnc_poll_run(struct dpy *d, const struct pollfd *pfd, unsigned n, uint64_t now_ns);
/* Sends pending updates to the clients that can take them and reaps the
 * ones that are gone. */
void vnc_flush(struct dpy *d);

#endif
