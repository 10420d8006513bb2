/* The terminal console behind a serial port (`-serial stdio`, and
 * `-nographic`): raw mode when standard input is a terminal, QEMU's escape
 * keys (Ctrl-A X quits, Ctrl-A Ctrl-A sends Ctrl-A), the terminal restored
 * on every exit path through console_close(), and standard input that is
 * a pipe or /dev/null working too: its end does not stop the guest. */
#ifndef V2E_DM_BACKEND_CONSOLE_H
#define V2E_DM_BACKEND_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct console {
	int in_fd, out_fd;
	bool tty;          /* in_fd is a terminal we put in raw mode */
	bool escapes;      /* Ctrl-A is the escape key (input from a terminal) */
	bool escape;       /* the last byte was Ctrl-A */
	bool eof;          /* input ended: stop polling it */
	bool quit;         /* Ctrl-A X seen */
	struct termios saved;
	/* Output not written yet: a guest printing byte by byte would
	 * otherwise cost a write() per byte inside each port access. */
	uint8_t obuf[4096];
	size_t olen;
	uint64_t ofirst_ns; /* when the oldest byte in obuf arrived */
};

/* The longest a byte waits in obuf while the guest keeps writing (the
 * device model also flushes whenever it goes idle). */
#define CONSOLE_FLUSH_NS 2000000

/* In the vmm, before a device model starts: the descriptors a console
 * backend named by a device's chardev needs, appended to fds: for
 * "stdio", standard output (and standard input when `input`); for
 * "file:PATH", the file created or truncated for writing; nothing for
 * any other name ("null", none). 0, or -errno with err naming the
 * backend. */
int console_open_backend(const char *spec, bool input, int *fds, unsigned *n_fds,
			 char *err, size_t n);

/* 0 or -errno. Raw mode only if in_fd is a terminal; in_fd becomes
 * non-blocking. */
int console_open(struct console *c, int in_fd, int out_fd);
void console_close(struct console *c);

/* The same console where another process owns the terminal's mode (a
 * device model behind a vmm that called console_open): no termios
 * change; `escapes` when the input is that terminal. 0 or -errno. */
int console_attach(struct console *c, int in_fd, int out_fd, bool escapes);

/* Output from the guest (a chardev write): kept in obuf until it is
 * full, CONSOLE_FLUSH_NS old, or console_flush(). */
void console_write(void *opaque, const uint8_t *buf, size_t n);
/* Writes out what obuf holds, whole, retrying on short writes; a closed
 * output drops the bytes. */
void console_flush(struct console *c);

/* Reads what input is available without blocking and returns the bytes
 * meant for the guest in buf (escape keys consumed); sets c->quit on
 * Ctrl-A X. */
size_t console_read(struct console *c, uint8_t *buf, size_t cap);

/* The escape-key filter on its own, for bytes already read. */
size_t console_filter(struct console *c, const uint8_t *in, size_t n,
		      uint8_t *out);

#endif
