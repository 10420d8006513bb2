/* The terminal console: raw mode and its restoration on a real pty,
 * QEMU's escape keys, input from a pipe and its end, and output held back
 * until a flush, a full buffer or CONSOLE_FLUSH_NS. */
#include <fcntl.h>
#include <time.h>
#include <pty.h>
#include <string.h>
#include <unistd.h>

#include "tests/tap.h"
#include "dm/backend/console.h"

int main(void)
{
	struct tap t = {0};
	struct console c;
	struct termios before, during, after;
	uint8_t buf[64];
	size_t n;
	int master, slave, p[2];

	/* A pty stands in for the user's terminal. */
	if (openpty(&master, &slave, NULL, NULL, NULL) < 0)
		return 1;
	tcgetattr(slave, &before);
	tap_ok(&t, console_open(&c, slave, slave) == 0 && c.tty, "opens a terminal in raw mode");
	tcgetattr(slave, &during);
	tap_ok(&t, !(during.c_lflag & (ICANON | ECHO | ISIG)) && (during.c_oflag & OPOST),
	       "raw: no line editing, no echo, Ctrl-C is a byte; output still processed");
	n = console_filter(&c, (const uint8_t *)"a\003\001\001b", 5, buf);
	tap_ok(&t, n == 4 && !memcmp(buf, "a\003\001b", 4),
	       "Ctrl-C goes to the guest; Ctrl-A Ctrl-A sends one Ctrl-A");
	n = console_filter(&c, (const uint8_t *)"\001", 1, buf);
	tap_ok(&t, n == 0 && !c.quit, "Ctrl-A alone waits for the next key");
	n = console_filter(&c, (const uint8_t *)"x", 1, buf);
	tap_ok(&t, n == 0 && c.quit, "Ctrl-A X quits");
	write(master, "hi", 2);
	usleep(10000);
	n = console_read(&c, buf, sizeof(buf));
	tap_ok(&t, n == 2 && !memcmp(buf, "hi", 2), "reads typed input");
	console_close(&c);
	tcgetattr(slave, &after);
	tap_ok(&t, after.c_lflag == before.c_lflag && after.c_iflag == before.c_iflag &&
		       after.c_oflag == before.c_oflag,
	       "the terminal is restored on close");
	close(master);
	close(slave);

	/* Standard input that is a pipe: no raw mode, Ctrl-A is data, and
	 * its end is not an error. */
	if (pipe(p) < 0)
		return 1;
	tap_ok(&t, console_open(&c, p[0], -1) == 0 && !c.tty, "a pipe is not a terminal");
	write(p[1], "\001x", 2);
	close(p[1]);
	n = console_read(&c, buf, sizeof(buf));
	tap_ok(&t, n == 2 && !c.quit, "on a pipe Ctrl-A X is plain data");
	n = console_read(&c, buf, sizeof(buf));
	tap_ok(&t, n == 0 && c.eof, "end of input is noted, not fatal");
	console_write(&c, (const uint8_t *)"x", 1); /* no output fd: dropped */
	console_close(&c);
	close(p[0]);

	/* Output into a pipe, read back without blocking. */
	if (pipe(p) < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		return 1;
	console_attach(&c, -1, p[1], false);
	console_write(&c, (const uint8_t *)"ab", 2);
	console_write(&c, (const uint8_t *)"c", 1);
	tap_ok(&t, read(p[0], buf, sizeof(buf)) < 0, "output waits in the buffer");
	console_flush(&c);
	tap_ok(&t, read(p[0], buf, sizeof(buf)) == 3 && !memcmp(buf, "abc", 3),
	       "a flush writes it out, in order");
	{
		static uint8_t big[5000];
		size_t got = 0;
		ssize_t r;
		memset(big, 'z', sizeof(big));
		console_write(&c, (const uint8_t *)"1", 1);
		console_write(&c, big, sizeof(big));
		while ((r = read(p[0], buf, sizeof(buf))) > 0)
			got += (size_t)r;
		tap_ok(&t, got == 1 + sizeof(big),
		       "a write larger than the buffer goes out at once, after what was held (%zu bytes)",
		       got);
	}
	console_write(&c, (const uint8_t *)"old", 3);
	nanosleep(&(struct timespec){0, CONSOLE_FLUSH_NS + 1000000}, NULL);
	console_write(&c, (const uint8_t *)"new", 3);
	n = (size_t)read(p[0], buf, sizeof(buf));
	tap_ok(&t, n == 3 && !memcmp(buf, "old", 3),
	       "the next write flushes bytes held longer than CONSOLE_FLUSH_NS");
	console_close(&c);
	tap_ok(&t, read(p[0], buf, sizeof(buf)) == 3 && !memcmp(buf, "new", 3),
	       "closing flushes the rest");
	close(p[0]);
	close(p[1]);
	return tap_done(&t);
}
