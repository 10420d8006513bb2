/* v2e-screendump: the guest's screen into a file, through its VNC server
 * (QEMU's monitor command `screendump`, until v2e has a monitor); and,
 * before the picture, input for tests and scripts.
 *
 *   v2e-screendump [OPTION]... ADDRESS FILE
 *
 * ADDRESS is HOST:DISPLAY (port 5900 + DISPLAY), HOST::PORT or
 * unix:PATH, as -vnc was given. FILE ending in .png is written as PNG,
 * anything else as binary PPM (P6). Options, applied in order:
 *   --password-file F   the VNC password (first line)
 *   --type TEXT         types TEXT (US layout; \n is Return, Shift is
 *                       pressed around the characters that need it)
 *   --key NAME          presses and releases one key (Return, Escape, Tab,
 *                       BackSpace, Delete, Up, Down, Left, Right, Home, End,
 *                       Page_Up, Page_Down, F1..F12, space, or one character)
 *   --pointer X,Y[,B]   moves the pointer, buttons B held (1 left, 2 middle,
 *                       4 right)
 *   --sleep MS          waits, serving the connection
 * and then:
 *   --wait-size WxH     waits until the screen has this size
 *   --stable MS         waits until nothing changed for MS (default 300;
 *                       a blinking cursor's cell does not count)
 *   --timeout S         gives up after S seconds in all (default 30)
 * Exit 0 with the file written; 1 on a connection or timeout failure; 2
 * for bad arguments. */
#include <png.h>
#include <rfb/rfbclient.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/clock.h"

#define MAX_STEPS 64

enum step_kind { STEP_TYPE, STEP_KEY, STEP_POINTER, STEP_SLEEP };

struct step {
	enum step_kind kind;
	const char *text;
	int x, y, buttons, ms;
};

struct dump {
	double last_update;
	bool got_frame;
	char password[64];
};

static struct dump *dump_of(rfbClient *c)
{
	return rfbClientGetClientData(c, (void *)dump_of);
}

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	struct dump *d = dump_of(c);
	/* A blinking text cursor changes one cell for ever: a change that
	 * small does not make the screen unsettled. */
	if (!d->got_frame || w * h > 2 * 9 * 16)
		d->last_update = mono_s();
	d->got_frame = true;
}

static char *get_password(rfbClient *c)
{
	return strdup(dump_of(c)->password);
}

static void quiet(const char *format, ...)
{
	(void)format;
}

static const struct {
	const char *name;
	uint32_t sym;
} key_names[] = {
	{"Return", XK_Return}, {"Escape", XK_Escape}, {"Tab", XK_Tab},
	{"BackSpace", XK_BackSpace}, {"Delete", XK_Delete}, {"Up", XK_Up},
	{"Down", XK_Down}, {"Left", XK_Left}, {"Right", XK_Right}, {"Home", XK_Home},
	{"End", XK_End}, {"Page_Up", XK_Page_Up}, {"Page_Down", XK_Page_Down},
	{"space", XK_space}, {"F1", XK_F1}, {"F2", XK_F2}, {"F3", XK_F3}, {"F4", XK_F4},
	{"F5", XK_F5}, {"F6", XK_F6}, {"F7", XK_F7}, {"F8", XK_F8}, {"F9", XK_F9},
	{"F10", XK_F10}, {"F11", XK_F11}, {"F12", XK_F12},
};

/* The characters a US keyboard types with Shift held. */
static bool needs_shift(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch && strchr("~!@#$%^&*()_+{}|:\"<>?", ch));
}

static bool serve(rfbClient *c, double secs)
{
	int r = WaitForMessage(c, (unsigned)(secs * 1e6));
	return r >= 0 && (r == 0 || HandleRFBServerMessage(c));
}

static void press(rfbClient *c, uint32_t sym, bool shift)
{
	if (shift)
		SendKeyEvent(c, XK_Shift_L, TRUE);
	SendKeyEvent(c, sym, TRUE);
	SendKeyEvent(c, sym, FALSE);
	if (shift)
		SendKeyEvent(c, XK_Shift_L, FALSE);
}

static bool run_step(rfbClient *c, const struct step *s)
{
	double until;

	switch (s->kind) {
	case STEP_TYPE:
		for (const char *p = s->text; *p; p++) {
			press(c, *p == '\n' ? XK_Return : (uint32_t)(unsigned char)*p,
			      needs_shift(*p));
			/* A guest reads a keyboard at its own pace: keep the
			 * connection served between keys. */
			if (!serve(c, 0.02))
				return false;
		}
		return true;
	case STEP_KEY:
		if (strlen(s->text) == 1) {
			press(c, (uint32_t)(unsigned char)s->text[0], needs_shift(s->text[0]));
			return true;
		}
		for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
			if (!strcmp(key_names[i].name, s->text)) {
				press(c, key_names[i].sym, false);
				return true;
			}
		fprintf(stderr, "v2e-screendump: unknown key %s\n", s->text);
		return false;
	case STEP_POINTER:
		return SendPointerEvent(c, s->x, s->y, s->buttons);
	case STEP_SLEEP:
		for (until = mono_s() + s->ms / 1e3; mono_s() < until;)
			if (!serve(c, until - mono_s()))
				return false;
		return true;
	}
	return false;
}

static int write_ppm(rfbClient *c, const char *path)
{
	FILE *f = fopen(path, "wb");
	const uint8_t *fb = c->frameBuffer;

	if (!f)
		return -1;
	fprintf(f, "P6\n%d %d\n255\n", c->width, c->height);
	for (int i = 0; i < c->width * c->height; i++)
		fwrite(fb + 4 * i, 1, 3, f); /* R, G, B of the client's format */
	return fclose(f) ? -1 : 0;
}

static int write_png(rfbClient *c, const char *path)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)c->width;
	img.height = (png_uint_32)c->height;
	img.format = PNG_FORMAT_RGBA;
	/* The client's fourth byte is padding, not alpha: make it opaque. */
	for (int i = 0; i < c->width * c->height; i++)
		c->frameBuffer[4 * i + 3] = 0xff;
	return png_image_write_to_file(&img, path, 0, c->frameBuffer, 4 * c->width, NULL) ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: v2e-screendump [--password-file F] [--type TEXT] [--key NAME] "
		"[--pointer X,Y[,B]] [--sleep MS] [--wait-size WxH] [--stable MS] "
		"[--timeout S] HOST:DISPLAY|HOST::PORT|unix:PATH FILE.ppm|FILE.png\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct step steps[MAX_STEPS];
	unsigned n_steps = 0, want_w = 0, want_h = 0;
	double stable = 0.3, timeout = 30, t0;
	const char *address = NULL, *file = NULL, *pwfile = NULL;
	struct dump d = {0, false, ""};
	char *host, *colon;
	rfbClient *c;
	int one = 1, port = 5900;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		struct step *s = &steps[n_steps];
		if (a[0] != '-') {
			if (!address)
				address = a;
			else if (!file)
				file = a;
			else
				return usage();
			continue;
		}
		if (!v || n_steps == MAX_STEPS)
			return usage();
		i++;
		if (!strcmp(a, "--password-file")) {
			pwfile = v;
		} else if (!strcmp(a, "--type")) {
			*s = (struct step){STEP_TYPE, v, 0, 0, 0, 0};
			n_steps++;
		} else if (!strcmp(a, "--key")) {
			*s = (struct step){STEP_KEY, v, 0, 0, 0, 0};
			n_steps++;
		} else if (!strcmp(a, "--pointer")) {
			*s = (struct step){STEP_POINTER, NULL, 0, 0, 0, 0};
			if (sscanf(v, "%d,%d,%d", &s->x, &s->y, &s->buttons) < 2)
				return usage();
			n_steps++;
		} else if (!strcmp(a, "--sleep")) {
			*s = (struct step){STEP_SLEEP, NULL, 0, 0, 0, atoi(v)};
			n_steps++;
		} else if (!strcmp(a, "--wait-size")) {
			if (sscanf(v, "%ux%u", &want_w, &want_h) != 2)
				return usage();
		} else if (!strcmp(a, "--stable")) {
			stable = atof(v) / 1e3;
		} else if (!strcmp(a, "--timeout")) {
			timeout = atof(v);
		} else {
			return usage();
		}
	}
	if (!address || !file)
		return usage();
	if (pwfile) {
		FILE *f = fopen(pwfile, "r");
		if (!f || !fgets(d.password, sizeof(d.password), f)) {
			fprintf(stderr, "v2e-screendump: cannot read %s\n", pwfile);
			return 2;
		}
		fclose(f);
		d.password[strcspn(d.password, "\r\n")] = 0;
	}
	/* LibVNCClient takes a unix socket's path as the host. */
	if (!strncmp(address, "unix:", 5)) {
		host = strdup(address + 5);
	} else {
		host = strdup(address);
		colon = strrchr(host, ':');
		if (!colon)
			return usage();
		if (colon > host && colon[-1] == ':') {
			port = atoi(colon + 1);
			colon[-1] = 0;
		} else {
			port = 5900 + atoi(colon + 1);
			*colon = 0;
		}
		if (!host[0]) {
			free(host);
			host = strdup("localhost");
		}
	}
	rfbClientLog = quiet;
	c = rfbGetClient(8, 3, 4);
	c->serverHost = host;
	c->serverPort = port;
	c->appData.encodingsString = "raw copyrect";
	c->GotFrameBufferUpdate = got_update;
	c->GetPassword = get_password;
	rfbClientSetClientData(c, (void *)dump_of, &d);
	if (!rfbInitClient(c, &one, argv)) {
		fprintf(stderr, "v2e-screendump: cannot connect to %s (or it refused us)\n", address);
		return 1;
	}
	t0 = mono_s();
	/* The first picture before any input: a guest may be mid-mode. */
	while (!d.got_frame)
		if (!serve(c, 0.1) || mono_s() - t0 > timeout)
			goto fail;
	for (unsigned i = 0; i < n_steps; i++)
		if (!run_step(c, &steps[i]))
			goto fail;
	for (;;) {
		bool sized = !want_w || ((unsigned)c->width == want_w && (unsigned)c->height == want_h);
		if (sized && mono_s() - d.last_update >= stable)
			break;
		if (mono_s() - t0 > timeout) {
			fprintf(stderr, "v2e-screendump: %s: no %s screen after %.0f s (it is %dx%d)\n",
				address, sized ? "stable" : "such a", timeout, c->width, c->height);
			rfbClientCleanup(c);
			return 1;
		}
		if (!serve(c, 0.05))
			goto fail;
	}
	if ((strlen(file) > 4 && !strcmp(file + strlen(file) - 4, ".png") ? write_png(c, file)
									   : write_ppm(c, file)) < 0) {
		fprintf(stderr, "v2e-screendump: cannot write %s\n", file);
		rfbClientCleanup(c);
		return 1;
	}
	rfbClientCleanup(c);
	return 0;
fail:
	fprintf(stderr, "v2e-screendump: %s: the connection ended or timed out\n", address);
	rfbClientCleanup(c);
	return 1;
}
