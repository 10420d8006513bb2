/* The terminal console (see console.h). */
#include "dm/backend/console.h"
#include "lib/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CTRL_A 0x01

int console_open(struct console *c, int in_fd, int out_fd)
{
	int fl;
	memset(c, 0, sizeof(*c));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	if (in_fd >= 0 && isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
		struct termios raw = c->saved;
		/* Every key to the guest: no echo, no line editing, no
		 * signals from Ctrl-C, no CR/NL translation on input. */
		cfmakeraw(&raw);
		/* Keep output post-processing so the guest's "\n" still
		 * returns the carriage, as QEMU's stdio backend does. */
		raw.c_oflag |= OPOST;
		if (tcsetattr(in_fd, TCSANOW, &raw) < 0)
			return -errno;
		c->tty = true;
		c->escapes = true;
	}
	if (in_fd >= 0) {
		fl = fcntl(in_fd, F_GETFL);
		if (fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			console_close(c);
			return -errno;
		}
	} else {
		c->eof = true;
	}
	return 0;
}

int console_attach(struct console *c, int in_fd, int out_fd, bool escapes)
{
	int fl;
	memset(c, 0, sizeof(*c));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->escapes = escapes;
	c->eof = in_fd < 0;
	if (in_fd >= 0) {
		fl = fcntl(in_fd, F_GETFL);
		if (fl < 0 || fcntl(in_fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -errno;
	}
	return 0;
}

void console_close(struct console *c)
{
	console_flush(c);
	if (c->tty) {
		tcsetattr(c->in_fd, TCSANOW, &c->saved);
		c->tty = false;
	}
}

static void write_all(struct console *c, const uint8_t *buf, size_t n)
{
	while (n > 0 && c->out_fd >= 0) {
		ssize_t w = write(c->out_fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			/* A full terminal: wait for it rather than lose
			 * guest output. */
			usleep(1000);
			continue;
		}
		if (w <= 0) {
			c->out_fd = -1; /* closed: the guest writes into nothing */
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

void console_flush(struct console *c)
{
	if (c->olen) {
		write_all(c, c->obuf, c->olen);
		c->olen = 0;
	}
}


void console_write(void *opaque, const uint8_t *buf, size_t n)
{
	struct console *c = opaque;
	uint64_t now = mono_ns();
	if (c->olen && now - c->ofirst_ns >= CONSOLE_FLUSH_NS)
		console_flush(c);
	if (c->olen + n > sizeof(c->obuf)) {
		console_flush(c);
		if (n > sizeof(c->obuf)) {
			write_all(c, buf, n);
			return;
		}
	}
	if (!c->olen)
		c->ofirst_ns = now;
	memcpy(c->obuf + c->olen, buf, n);
	c->olen += n;
}

size_t console_filter(struct console *c, const uint8_t *in, size_t n,
		      uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];
		if (c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				c->quit = true;
			} else if (b == CTRL_A) {
				out[o++] = CTRL_A;
			} else if (b == 'h' || b == 'H' || b == '?') {
				/* The terminal is raw: \r\n line ends. */
				static const char help[] =
					"\r\nv2e: Ctrl-A H  this help\r\n"
					"v2e: Ctrl-A X  quit (the guest is stopped)\r\n"
					"v2e: Ctrl-A Ctrl-A  sends Ctrl-A to the guest\r\n";
				console_flush(c);
				write_all(c, (const uint8_t *)help, sizeof(help) - 1);
			}
			/* Other escapes (QEMU's monitor, timestamps, break)
			 * do not exist here: the pair is dropped. */
			continue;
		}
		if (b == CTRL_A && c->escapes) {
			c->escape = true;
			continue;
		}
		out[o++] = b;
	}
	return o;
}

size_t console_read(struct console *c, uint8_t *buf, size_t cap)
{
	uint8_t raw[256];
	ssize_t n;
	if (c->eof || cap == 0)
		return 0;
	n = read(c->in_fd, raw, cap < sizeof(raw) ? cap : sizeof(raw));
	if (n == 0) {
		c->eof = true; /* the guest goes on without input */
		return 0;
	}
	if (n < 0)
		return 0;
	return console_filter(c, raw, (size_t)n, buf);
}

int console_open_backend(const char *spec, bool input, int *fds, unsigned *n_fds,
			 char *err, size_t n)
{
	int out = -1, in = -1, r;

	if (!strcmp(spec, "stdio")) {
		out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (out >= 0 && input)
			in = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	} else if (!strncmp(spec, "file:", 5)) {
		out = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		return 0;
	}
	if (out < 0 || (input && in < 0 && !strcmp(spec, "stdio"))) {
		r = -errno;
		if (out >= 0)
			close(out);
		snprintf(err, n, "chardev=%.220s: %s", spec, strerror(-r));
		return r;
	}
	fds[(*n_fds)++] = out;
	if (in >= 0)
		fds[(*n_fds)++] = in;
	return 0;
}
