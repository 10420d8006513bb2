/* vncbench: the client side of the display benchmark (run.sh). It
 * connects to a VNC server with LibVNCClient, raw encoding only (so the
 * bytes counted are the pixels sent), and measures one thing:
 *
 *   vncbench HOST PORT static SECONDS   bytes of pixels received while the
 *                                       screen does not change (after the
 *                                       first whole frame)
 *   vncbench HOST PORT latency COUNT    a key press to the new colour of the
 *                                       screen's centre (fb.asm "wait"), in
 *                                       ms: median, min, max
 *   vncbench HOST PORT fps SECONDS      whole-screen updates received per
 *                                       second while the guest repaints the
 *                                       screen without end (fb.asm "spin")
 *
 * One line on stdout, "key value ...", for run.sh to collect. */
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"

struct bench {
	unsigned long long bytes;
	unsigned long long rects;
	unsigned long long area;        /* of the update being received */
	unsigned long long full_frames; /* updates that covered the screen */
};

static struct bench *bench_of(rfbClient *c)
{
	return rfbClientGetClientData(c, (void *)bench_of);
}

static void got_update(rfbClient *c, int x, int y, int w, int h)
{
	struct bench *b = bench_of(c);
	b->bytes += (unsigned long long)w * (unsigned long long)h * 4;
	b->area += (unsigned long long)w * (unsigned long long)h;
	b->rects++;
}

/* One FramebufferUpdate message ended: a frame when it covered (nearly)
 * the whole screen. */
static void finished_update(rfbClient *c)
{
	struct bench *b = bench_of(c);
	if (b->area * 10 >= (unsigned long long)c->width * (unsigned long long)c->height * 9)
		b->full_frames++;
	b->area = 0;
}

static uint32_t centre(rfbClient *c)
{
	const uint32_t *fb = (const uint32_t *)c->frameBuffer;
	return fb[(size_t)(c->height / 2) * (size_t)c->width + (size_t)(c->width / 2)];
}

/* Serves messages for up to `secs`; false when the connection ended. */
static rfbBool pump(rfbClient *c, double secs)
{
	int r = WaitForMessage(c, (unsigned)(secs * 1e6));
	if (r < 0)
		return FALSE;
	if (r > 0 && !HandleRFBServerMessage(c))
		return FALSE;
	return TRUE;
}

static void quiet(const char *format, ...)
{
	(void)format;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct bench b = {0, 0};
	rfbClient *c;
	double t0, arg;
	const char *mode;
	int one = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: vncbench HOST PORT static|latency|fps N\n");
		return 2;
	}
	mode = argv[3];
	arg = atof(argv[4]);
	rfbClientLog = quiet;
	c = rfbGetClient(8, 3, 4);
	c->serverHost = strdup(argv[1]);
	c->serverPort = atoi(argv[2]);
	c->appData.encodingsString = "raw";
	c->GotFrameBufferUpdate = got_update;
	c->FinishedFrameBufferUpdate = finished_update;
	rfbClientSetClientData(c, (void *)bench_of, &b);
	if (!rfbInitClient(c, &one, argv)) {
		fprintf(stderr, "vncbench: cannot connect to %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	/* The first whole frame, and the guest's mode set behind it. */
	t0 = mono_s();
	while (mono_s() - t0 < 30 && (c->width != 1024 || b.bytes < 1024ull * 768 * 4))
		if (!pump(c, 0.1))
			return 1;
	if (c->width != 1024) {
		fprintf(stderr, "vncbench: the screen is %dx%d, not 1024x768\n", c->width, c->height);
		return 1;
	}
	if (!strcmp(mode, "static")) {
		/* Settle, then count. */
		for (t0 = mono_s(); mono_s() - t0 < 1;)
			pump(c, 0.1);
		b.bytes = b.rects = 0;
		for (t0 = mono_s(); mono_s() - t0 < arg;)
			if (!pump(c, 0.1))
				return 1;
		printf("static_bytes %llu rects %llu seconds %.1f\n", b.bytes, b.rects, arg);
	} else if (!strcmp(mode, "latency")) {
		unsigned n = (unsigned)arg, got = 0;
		double *ms = calloc(n ? n : 1, sizeof(*ms));
		for (unsigned i = 0; i < n; i++) {
			uint32_t before = centre(c);
			double start;
			/* Let the screen settle between presses. */
			for (t0 = mono_s(); mono_s() - t0 < 0.2;)
				pump(c, 0.05);
			before = centre(c);
			start = mono_s();
			SendKeyEvent(c, XK_a, TRUE);
			SendKeyEvent(c, XK_a, FALSE);
			while (centre(c) == before && mono_s() - start < 5)
				if (!pump(c, 0.005))
					return 1;
			if (centre(c) != before)
				ms[got++] = (mono_s() - start) * 1e3;
		}
		if (!got) {
			fprintf(stderr, "vncbench: no key press changed the screen\n");
			return 1;
		}
		qsort(ms, got, sizeof(*ms), cmp_double);
		printf("latency_ms %.2f min %.2f max %.2f presses %u\n", ms[got / 2], ms[0],
		       ms[got - 1], got);
		free(ms);
	} else if (!strcmp(mode, "fps")) {
		/* Whole-screen updates received; the centre's colour only says
		 * the guest kept painting (it cycles through 8 colours, so a
		 * count of colour changes would alias with the paint rate). */
		unsigned long long changes = 0;
		uint32_t last = centre(c);
		b.bytes = 0;
		b.full_frames = 0;
		for (t0 = mono_s(); mono_s() - t0 < arg;) {
			if (!pump(c, 0.1))
				return 1;
			if (centre(c) != last) {
				last = centre(c);
				changes++;
			}
		}
		printf("fps %.1f bytes_per_s %.0f colour_changes %llu\n",
		       (double)b.full_frames / arg, (double)b.bytes / arg, changes);
	} else {
		fprintf(stderr, "vncbench: unknown mode %s\n", mode);
		return 2;
	}
	rfbClientCleanup(c);
	return 0;
}
