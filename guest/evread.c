/* evread: the event reader of the display test guest (initramfs-display,
 * built by scripts/make-images.sh as a static i386 program). It opens
 * every /dev/input/event* as it appears (it looks again every 250 ms, so
 * a USB device enumerated late is found too) and prints one line on its
 * standard output for each device and each input report, so that a host
 * test can read what a VNC client's keys and pointer did in the guest:
 *
 *   evread: event3 open: v2e v2e USB Tablet
 *   evread: event3 abs x=16399 y=16404
 *   evread: event2 rel x=5 y=-3
 *   evread: event2 rel x=0 y=0 wheel=-1
 *   evread: event1 key 30 down        (up, repeat; buttons too: 272 ...)
 *
 * An "abs" line comes at each SYN_REPORT that changed ABS_X or ABS_Y and
 * gives both axes as they stand then; a "rel" line sums the report's
 * REL_X, REL_Y (and REL_WHEEL when it moved). Linux's evdev hands the
 * driver's values on unscaled, so these are what the device sent.
 *
 *   evread [DIR]      (default /dev/input)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS 32
#define RESCAN_MS 250

struct dev {
	int fd;
	int num;		/* N of eventN */
	int abs_x, abs_y;
	int rel_x, rel_y, wheel;
	bool abs_changed, rel_changed;
};

struct evread {
	const char *dir;
	struct dev devs[MAX_DEVS];
	int n;
};

/* One line, one write(): other writers share the serial line. */
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (len > (int)sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	while (write(STDOUT_FILENO, line, (size_t)len) < 0 && errno == EINTR)
		;
}

static bool known(const struct evread *e, int num)
{
	for (int i = 0; i < e->n; i++)
		if (e->devs[i].num == num)
			return true;
	return false;
}

static void open_dev(struct evread *e, int num)
{
	char path[300], name[128] = "";
	struct dev *d;
	int fd, abs[6];

	if (e->n == MAX_DEVS)
		return;
	snprintf(path, sizeof(path), "%s/event%d", e->dir, num);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return;		/* not there yet (devtmpfs makes the node first) */
	if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) < 0)
		strcpy(name, "?");
	d = &e->devs[e->n++];
	memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->num = num;
	/* The position an absolute device starts from, so that a report
	 * moving one axis prints both correctly. */
	if (ioctl(fd, EVIOCGABS(ABS_X), abs) == 0)
		d->abs_x = abs[0];
	if (ioctl(fd, EVIOCGABS(ABS_Y), abs) == 0)
		d->abs_y = abs[0];
	say("evread: event%d open: %s", num, name);
}

static void scan(struct evread *e)
{
	DIR *dir = opendir(e->dir);
	struct dirent *de;
	int num;

	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (sscanf(de->d_name, "event%d", &num) == 1 && num >= 0 && !known(e, num))
			open_dev(e, num);
	closedir(dir);
}

static void event(struct dev *d, const struct input_event *ev)
{
	switch (ev->type) {
	case EV_KEY:
		say("evread: event%d key %u %s", d->num, ev->code,
		    ev->value == 0 ? "up" : ev->value == 1 ? "down" : "repeat");
		break;
	case EV_REL:
		if (ev->code == REL_X)
			d->rel_x += ev->value;
		else if (ev->code == REL_Y)
			d->rel_y += ev->value;
		else if (ev->code == REL_WHEEL)
			d->wheel += ev->value;
		else
			break;
		d->rel_changed = true;
		break;
	case EV_ABS:
		if (ev->code == ABS_X)
			d->abs_x = ev->value;
		else if (ev->code == ABS_Y)
			d->abs_y = ev->value;
		else
			break;
		d->abs_changed = true;
		break;
	case EV_SYN:
		if (ev->code != SYN_REPORT)
			break;
		if (d->abs_changed)
			say("evread: event%d abs x=%d y=%d", d->num, d->abs_x, d->abs_y);
		if (d->rel_changed && d->wheel)
			say("evread: event%d rel x=%d y=%d wheel=%d", d->num, d->rel_x, d->rel_y,
			    d->wheel);
		else if (d->rel_changed)
			say("evread: event%d rel x=%d y=%d", d->num, d->rel_x, d->rel_y);
		d->abs_changed = d->rel_changed = false;
		d->rel_x = d->rel_y = d->wheel = 0;
		break;
	}
}

/* Drains one device; a device that went away is closed and forgotten. */
static void drain(struct evread *e, int i)
{
	struct dev *d = &e->devs[i];
	struct input_event ev[16];
	ssize_t got;

	while ((got = read(d->fd, ev, sizeof(ev))) > 0)
		for (size_t k = 0; k < (size_t)got / sizeof(ev[0]); k++)
			event(d, &ev[k]);
	if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
		say("evread: event%d gone", d->num);
		close(d->fd);
		*d = e->devs[--e->n];
	}
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	static struct evread e;
	struct pollfd pfd[MAX_DEVS];
	long long next_scan = 0;

	e.dir = argc > 1 ? argv[1] : "/dev/input";
	say("evread: watching %s", e.dir);
	for (;;) {
		long long t = now_ms();
		int n;

		if (t >= next_scan) {
			scan(&e);
			next_scan = t + RESCAN_MS;
		}
		for (int i = 0; i < e.n; i++)
			pfd[i] = (struct pollfd){.fd = e.devs[i].fd, .events = POLLIN};
		n = e.n;
		if (poll(pfd, (nfds_t)n, RESCAN_MS) < 0 && errno != EINTR)
			return 1;
		/* From the last: drain() may move the last device into i. */
		for (int i = n - 1; i >= 0; i--)
			if (pfd[i].revents)
				drain(&e, i);
	}
}
