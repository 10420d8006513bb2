/* libFuzzer target for the GDB stub's packet layer and session: the input
 * is the byte stream a debugger (or anyone reaching the socket) sends,
 * fed in uneven chunks to a session on a fake target (a small memory, a
 * register file). Stops are reported whenever the session lets the vCPU
 * run, so every state is reached. Any crash, sanitizer report or invalid
 * request to the target is a bug. Built with clang by `make fuzz-gdb`;
 * replayed by tests/gdb/fuzz-replay.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/gdbstub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAKE_BASE 0x1000
#define FAKE_SIZE 0x4000

struct fake {
	struct x86_state st;
	uint8_t mem[FAKE_SIZE];
	bool quit;
};

static void fake_get(void *o, struct x86_state *s)
{
	*s = ((struct fake *)o)->st;
}

static void fake_set(void *o, const struct x86_state *s)
{
	((struct fake *)o)->st = *s;
}

static int fake_rw(void *o, uint64_t addr, void *buf, size_t len, bool write)
{
	struct fake *f = o;
	if (len > GDBSTUB_MAX_PACKET)
		abort(); /* the session must bound every length */
	if (addr < FAKE_BASE || addr - FAKE_BASE > FAKE_SIZE ||
	    len > FAKE_SIZE - (addr - FAKE_BASE))
		return -EFAULT;
	if (write)
		memcpy(f->mem + (addr - FAKE_BASE), buf, len);
	else
		memcpy(buf, f->mem + (addr - FAKE_BASE), len);
	return 0;
}

static int fake_debug(void *o, const struct cpu_debug *d)
{
	if (d->n_bp > CPU_DEBUG_MAX_BP || d->n_wp > CPU_DEBUG_MAX_WP)
		abort();
	for (unsigned i = 0; i < d->n_wp; i++)
		if (!d->wp[i].len || d->wp[i].kind < CPU_WATCH_WRITE ||
		    d->wp[i].kind > CPU_WATCH_ACCESS)
			abort();
	return 0;
}

static void fake_reset(void *o)
{
	memset(&((struct fake *)o)->st, 0, sizeof(struct x86_state));
}

static void fake_quit(void *o)
{
	((struct fake *)o)->quit = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdbstub_session *s = malloc(sizeof(*s)); /* large: not on the stack */
	struct fake *f = calloc(1, sizeof(*f));
	struct gdbstub_ops ops = {f, fake_get, fake_set, fake_rw, fake_debug,
				  fake_reset, fake_quit};
	size_t at = 0, step = 1;

	if (!f || !s) {
		free(f);
		free(s);
		return 0;
	}
	gdbstub_session_init(s, &ops);
	while (at < size) {
		size_t n = size - at < step ? size - at : step;
		size_t done = gdbstub_session_input(s, data + at, n);
		if (s->out_len > sizeof(s->out))
			abort();
		s->out_len = 0;
		at += done;
		step = step * 3 % 61 + 1; /* chunks of changing size */
		if (s->running) {
			struct cpu_debug_stop why = {(enum cpu_debug_reason)(at % 4),
						     at, (enum cpu_watch_kind)(at % 5)};
			gdbstub_session_stopped(s, 5, &why);
			s->out_len = 0;
		}
	}
	free(f);
	free(s);
	return 0;
}
