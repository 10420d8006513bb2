/* The GDB remote stub: `-gdb tcp::PORT` / `-s` as QEMU users know it.
 *
 * Three layers, each usable alone:
 *  - the packet layer (gdbstub_rx_*, hex and binary helpers): pure
 *    functions on bytes, for the unit test and the fuzz target;
 *  - the session (struct gdbstub_session): one debugger's conversation,
 *    the packets and what they do to a target reached through
 *    gdbstub_ops, with its replies collected in a buffer;
 *  - the stub (struct gdbstub): the listening socket and the connection
 *    around a session, which the run loop polls (vm.c).
 *
 * Everything received is hostile input: every length is bounded, a
 * malformed packet gets an error or an empty reply. */
#ifndef V2E_VMM_GDBSTUB_H
#define V2E_VMM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "lib/compiler.h"

/* The largest packet payload accepted and advertised (PacketSize). */
#define GDBSTUB_MAX_PACKET 4096

/* ---- the packet layer ---- */

enum gdbstub_rx_event {
	GDBSTUB_RX_NONE,      /* nothing complete yet */
	GDBSTUB_RX_PACKET,    /* rx->buf[0..len) holds a packet, checksum right */
	GDBSTUB_RX_BAD,       /* a packet with a wrong checksum or too long */
	GDBSTUB_RX_INTERRUPT, /* 0x03 outside a packet: Ctrl-C */
	GDBSTUB_RX_ACK,       /* '+' */
	GDBSTUB_RX_NAK,       /* '-': resend */
};

struct gdbstub_rx {
	int state;
	bool overlong;
	uint8_t sum, want;
	size_t len;
	char buf[GDBSTUB_MAX_PACKET + 1]; /* NUL-terminated for parsing */
};

void gdbstub_rx_init(struct gdbstub_rx *rx);
/* Feeds one received byte. */
enum gdbstub_rx_event gdbstub_rx_byte(struct gdbstub_rx *rx, uint8_t c);

/* Decodes exactly `n` bytes from 2n hex digits at `hex`. 0 or -EINVAL. */
int gdbstub_hex_decode(const char *hex, uint8_t *out, size_t n) must_check;
/* Writes 2n hex digits (no terminator). */
void gdbstub_hex_encode(const uint8_t *in, size_t n, char *out);
/* A hex number of 1..16 digits at *p; *p moves past it. 0 or -EINVAL. */
int gdbstub_parse_hex(const char **p, const char *end, uint64_t *v) must_check;
/* Undoes the binary escapes of an X packet ('}' then byte ^ 0x20) from
 * in[0..n) into out (at most `max` bytes). Returns the bytes written, or
 * -EINVAL (a '}' at the end, or more than `max`). */
int gdbstub_unescape(const char *in, size_t n, uint8_t *out, size_t max);
/* Frames `payload` as $...#xx, escaping '$', '#', '}' and '*'. Returns the
 * length written, or 0 if it does not fit in `max`. */
size_t gdbstub_frame(const char *payload, size_t n, char *out, size_t max);

/* ---- the session ---- */

/* The target a session debugs: the vCPU and the VM around it. */
struct gdbstub_ops {
	void *opaque;
	void (*get_state)(void *opaque, struct x86_state *s);
	void (*set_state)(void *opaque, const struct x86_state *s);
	/* Linear (virtual) memory, without side effects: 0 or -EFAULT. */
	int (*mem_rw)(void *opaque, uint64_t addr, void *buf, size_t len,
		      bool write);
	/* Breakpoints, watchpoints and step for the next run. */
	int (*set_debug)(void *opaque, const struct cpu_debug *d);
	void (*reset)(void *opaque); /* monitor system_reset */
	void (*quit)(void *opaque);  /* 'k' and monitor quit: v2e exits 0 */
};

/* Room for replies: the largest is a framed, escaped packet; a few may
 * queue (O packets of a monitor command, then OK). */
#define GDBSTUB_OUT_SIZE (4 * (2 * GDBSTUB_MAX_PACKET + 8))

struct gdbstub_session {
	struct gdbstub_ops ops;
	struct gdbstub_rx rx;
	bool no_ack;      /* QStartNoAckMode */
	bool running;     /* the vCPU may run (after c, s, D) */
	bool detached;    /* 'D': the connection should close */
	struct cpu_debug dbg; /* breakpoints and watchpoints set by Z */
	char out[GDBSTUB_OUT_SIZE];
	size_t out_len;
	/* The last packet sent, for a '-' asking for it again. */
	char last[2 * GDBSTUB_MAX_PACKET + 8];
	size_t last_len;
};

void gdbstub_session_init(struct gdbstub_session *s, const struct gdbstub_ops *ops);
/* Processes received bytes; replies go to s->out. Stops early, before
 * the output could overflow: returns the bytes consumed (the caller
 * drains s->out and feeds the rest). */
size_t gdbstub_session_input(struct gdbstub_session *s, const uint8_t *buf, size_t n);
/* The vCPU stopped: tells the debugger why (a stop reply). `sig` is 5
 * (SIGTRAP) for a debug exit with `why`, 2 (SIGINT) for Ctrl-C. */
void gdbstub_session_stopped(struct gdbstub_session *s, int sig,
			     const struct cpu_debug_stop *why);
/* The VM ended with `status`: W packet. */
void gdbstub_session_exited(struct gdbstub_session *s, int status);

/* ---- the stub: sockets around a session ---- */

struct gdbstub;

/* Parses a -gdb device: tcp::PORT, tcp:HOST:PORT, unix:PATH[,server=on]
 * [,wait=off]. 0 or -EINVAL. */
int gdbstub_check_spec(const char *spec) must_check;

/* Listens on `spec`. `wait_attach` (-S): the vCPU stays stopped until a
 * debugger says continue. 0 or -errno with err[] saying why. */
int gdbstub_create(struct gdbstub **out, const char *spec, bool wait_attach,
		   const struct gdbstub_ops *ops, char *err, size_t errlen) must_check;
void gdbstub_destroy(struct gdbstub *g);
/* The descriptor to poll for input (the connection, or the listening
 * socket while nobody is attached). */
int gdbstub_fd(const struct gdbstub *g);
/* Accepts a debugger and serves what arrived, without blocking. */
void gdbstub_poll(struct gdbstub *g);
/* Whether the vCPU must stay stopped. */
bool gdbstub_stopped(const struct gdbstub *g);
/* The vCPU stopped for the debugger (CPU_EXIT_DEBUG) because of `why`. */
void gdbstub_cpu_stopped(struct gdbstub *g, const struct cpu_debug_stop *why);
/* The VM ends with `status`; an attached debugger hears it. */
void gdbstub_vm_exited(struct gdbstub *g, int status);

#endif
