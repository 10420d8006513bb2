/* The device-kind table (dev/kind.h): every row well formed, property
 * parsing and its errors, the help texts listing every kind, and the
 * DEVICE message a kind's properties travel in, refused when hostile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/kind.h"
#include "dm/board.h"
#include "dm/hw/fdc.h"
#include "dm/hw/uhci.h"
#include "dm/hw/usb_hid.h"
#include "tests/tap.h"

#define MAX 64

static char *capture(void (*fn)(FILE *, const struct dev_kind *), const struct dev_kind *k)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fn(f, k);
	fclose(f);
	return buf;
}

static void all_help(FILE *f, const struct dev_kind *k)
{
	dev_kinds_help(f);
}

/* ---- a board's peers (dev_ctx.peer) ---- */

/* Which instance claimed a window, by device id: post and port92 claim
 * with their instance as the opaque. */
#define MAX_CLAIMS 8
struct claims {
	unsigned n;
	char id[MAX_CLAIMS][DEV_NAME_MAX];
	void *dev[MAX_CLAIMS];
};

static int host_claim(void *opaque, unsigned space, uint64_t base, uint64_t len,
		      unsigned flags, const struct io_ops *ops, void *dev, const char *name)
{
	struct claims *c = opaque;
	if (c->n < MAX_CLAIMS) {
		snprintf(c->id[c->n], DEV_NAME_MAX, "%s", name);
		c->dev[c->n++] = dev;
	}
	return 0;
}

static void *claimed_by(const struct claims *c, const char *id)
{
	for (unsigned i = 0; i < c->n; i++)
		if (!strcmp(c->id[i], id))
			return c->dev[i];
	return NULL;
}

static void host_line(void *opaque, unsigned line, bool level)
{
}

static void host_exit(void *opaque, int status, const char *why)
{
}

static void host_reset(void *opaque)
{
}

static int host_window(void *opaque, unsigned space, uint64_t base, unsigned op,
		       uint64_t new_base)
{
	return 0;
}

static const struct dm_host_ops host_ops = {host_claim, host_line, host_exit, host_reset,
					    host_window};

/* A device with at most one property set the board's way (internal
 * ones too); err says why when refused. */
static int board_add_prop(struct dm_board *b, const char *kind, const char *id,
			  const char *key, const char *val, char *err, size_t n)
{
	struct dm_device_spec s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	dev_props_init(&s.props, dev_kind_find(kind));
	if (key && dev_prop_parse(&s.props, key, val, false, err, n) < 0)
		return -EINVAL;
	return dm_board_add(b, &s, err, n);
}

static int board_add(struct dm_board *b, const char *kind, const char *id)
{
	char err[256];
	return board_add_prop(b, kind, id, NULL, NULL, err, sizeof(err));
}

/* The board keeps each device's context first in its record (board.c),
 * so b->dev[i] is that device's context. */
static const struct dev_ctx *board_ctx(struct dm_board *b, unsigned i)
{
	return (const struct dev_ctx *)b->dev[i];
}

static void test_board_peers(struct tap *t)
{
	struct dm_board b;
	struct vclock clock;
	struct dma_space dma = {0};
	struct claims claims = {0};
	const struct dev_ctx *first, *mid, *last;
	void *post_a, *post_b, *p92;

	vclock_init(&clock, 0);
	dm_board_init(&b, &host_ops, &claims, &clock, &dma);
	tap_ok(t, board_add(&b, "post", "post-a") == 0 && board_add(&b, "port92", "p92") == 0 &&
		       board_add(&b, "post", "post-b") == 0,
	       "a board of post, port92, post");
	first = board_ctx(&b, 0);
	mid = board_ctx(&b, 1);
	last = board_ctx(&b, 2);
	post_a = claimed_by(&claims, "post-a");
	post_b = claimed_by(&claims, "post-b");
	p92 = claimed_by(&claims, "p92");
	tap_ok(t, first->peer && post_a && post_b && p92 && mid->peer(mid, "post") == post_a &&
		       first->peer(first, "port92") == p92,
	       "peer(): another device's instance by kind, the first created");
	tap_ok(t, first->peer(first, "post") == post_b && last->peer(last, "post") == post_a,
	       "never the caller itself");
	tap_ok(t, mid->peer(mid, "port92") == NULL && mid->peer(mid, "i8042") == NULL,
	       "NULL for a kind the board has none of (but the caller)");
	dm_board_destroy(&b);

	/* The floppy controller finds the 8237 listed before it. */
	{
		char err[256];
		void *dma8237, *fdc;
		memset(&claims, 0, sizeof(claims));
		dm_board_init(&b, &host_ops, &claims, &clock, &dma);
		tap_ok(t, board_add(&b, "i8237", "dma") == 0 &&
			       board_add_prop(&b, "isa-fdc", "fdc", "drive0", "empty", err,
					      sizeof(err)) == 0,
		       "a board of i8237 and isa-fdc (drive0=empty)");
		dma8237 = claimed_by(&claims, "dma");
		fdc = claimed_by(&claims, "fdc");
		tap_ok(t, dma8237 && fdc &&
			       board_ctx(&b, 1)->peer(board_ctx(&b, 1), "i8237") == dma8237 &&
			       ((struct fdc *)fdc)->dma == dma8237,
		       "isa-fdc took the board's i8237 at create");
		tap_ok(t, board_add_prop(&b, "isa-fdc", "fdc2", "drive1", "fd:9", err,
					 sizeof(err)) < 0 && strstr(err, "drive1"),
		       "drive1=fd:9 refused: %s", err);
		dm_board_destroy(&b);
	}

	/* USB devices attach to the board's UHCI listed before them. */
	{
		char err[256] = "";
		struct uhci *u;
		memset(&claims, 0, sizeof(claims));
		dm_board_init(&b, &host_ops, &claims, &clock, &dma);
		tap_ok(t, board_add_prop(&b, "usb-kbd", "kbd0", NULL, NULL, err, sizeof(err)) < 0 &&
			       strstr(err, "piix3-usb-uhci"),
		       "usb-kbd without a controller before it: refused (%s)", err);
		dm_board_destroy(&b);
		memset(&claims, 0, sizeof(claims));
		dm_board_init(&b, &host_ops, &claims, &clock, &dma);
		tap_ok(t, board_add(&b, "piix3-usb-uhci", "usb") == 0 &&
			       board_add_prop(&b, "usb-tablet", "tab", "port", "2", err,
					      sizeof(err)) == 0 &&
			       board_add(&b, "usb-kbd", "kbd") == 0,
		       "a board of piix3-usb-uhci, usb-tablet port=2, usb-kbd");
		u = claimed_by(&claims, "usb");
		tap_ok(t, u && u->dev[0] && u->dev[1] &&
			       ((struct usb_hid *)u->dev[1])->kind == USB_HID_TABLET &&
			       ((struct usb_hid *)u->dev[0])->kind == USB_HID_KBD,
		       "the tablet on port 2, the keyboard on the first free one");
		tap_ok(t, board_add(&b, "usb-kbd", "kbd2") < 0, "a third: no port left");
		dm_board_destroy(&b);
	}
}

int main(void)
{
	struct tap t = {0};
	const struct dev_kind *k[MAX];
	size_t n = dev_kinds(k, MAX);
	const struct dev_kind *dx = dev_kind_find("isa-debug-exit");
	const struct dev_kind *ser = dev_kind_find("isa-serial");
	struct dev_props p;
	struct dm_device_spec s, back;
	struct ctl_device m;
	char err[300], *help;
	bool rows_ok = true, states_ok = true, listed = true;

	tap_ok(&t, n >= 12 && n <= MAX, "the table holds every kind linked in (%zu)", n);
	for (size_t i = 0; i < n && i < MAX; i++) {
		const struct dev_kind *r = k[i];
		bool ok = r->name && strlen(r->name) < DEV_NAME_MAX && r->help && r->size &&
			  (r->where == DEV_IN_VMM || r->where == DEV_IN_DM) &&
			  r->n_props <= DEV_MAX_PROPS && (r->where != DEV_IN_DM || r->create) &&
			  (!r->user || r->where == DEV_IN_DM) && dev_kind_find(r->name) == r &&
			  (i == 0 || strcmp(k[i - 1]->name, r->name) < 0);
		dev_props_init(&p, r);
		ok = ok && dev_props_check(&p, err, sizeof(err)) == 0;
		if (!ok) {
			tap_diag("kind %s: malformed row or defaults out of range", r->name);
			rows_ok = false;
		}
		/* Save/restore and a device model's restart take every
		 * device's state; a stateless one says so with no fields. */
		if (!r->state || !r->state->name || !r->state->version ||
		    (r->state->n_fields && !r->state->fields)) {
			tap_diag("kind %s: no versioned state", r->name);
			states_ok = false;
		}
	}
	tap_ok(&t, states_ok, "every kind has a versioned state description");
	tap_ok(&t, rows_ok, "every row: a unique name, help, size, a place, create in a dm, "
	       "defaults in range, sorted");

	help = capture(all_help, NULL);
	for (size_t i = 0; help && i < n && i < MAX; i++) {
		char want[64];
		snprintf(want, sizeof(want), "name \"%s\"", k[i]->name);
		if (!strstr(help, want)) {
			tap_diag("-device help misses %s", k[i]->name);
			listed = false;
		}
	}
	tap_ok(&t, help && listed && strstr(help, "Input devices:") &&
		       strstr(help, "Platform devices:"),
	       "-device help lists every kind in the table, by category");
	free(help);
	help = capture(dev_kind_help, dx);
	tap_ok(&t, help && strstr(help, "iobase=<num 0..0xffff>") && strstr(help, "default: 0x501") &&
		       strstr(help, "default: 0x2"),
	       "-device isa-debug-exit,help: types, ranges and QEMU's defaults");
	free(help);
	help = capture(dev_kind_help, ser);
	tap_ok(&t, help && strstr(help, "chardev=<chardev>") && !strstr(help, "escapes"),
	       "-device isa-serial,help: no internal property shown");
	free(help);

	dev_props_init(&p, dx);
	tap_ok(&t, p.num[0] == 0x501 && p.num[1] == 2 && !p.given, "isa-debug-exit defaults");
	tap_ok(&t, dev_props_parse(&p, "iobase=0xf4,iosize=4", err, sizeof(err)) == 0 &&
		       p.num[0] == 0xf4 && p.num[1] == 4 && p.given == 3,
	       "hex and decimal numbers, marked as given");
	tap_ok(&t, dev_props_parse(&p, "iobase=010", err, sizeof(err)) == 0 && p.num[0] == 8,
	       "octal, as strtoull reads it (QEMU's too)");
	tap_ok(&t, dev_props_parse(&p, "iobase=-1", err, sizeof(err)) < 0 && strstr(err, "-1") &&
		       dev_props_parse(&p, "iobase=0x10000", err, sizeof(err)) < 0 &&
		       strstr(err, "0xffff") &&
		       dev_props_parse(&p, "iobase=", err, sizeof(err)) < 0 &&
		       dev_props_parse(&p, "iosize=0", err, sizeof(err)) < 0,
	       "negative, too large, empty, below the minimum: refused (%s)", err);
	tap_ok(&t, dev_props_parse(&p, "nosuch=1", err, sizeof(err)) < 0 && strstr(err, "nosuch") &&
		       strstr(err, "isa-debug-exit"),
	       "an unknown property names itself and the kind: %s", err);
	dev_props_init(&p, ser);
	tap_ok(&t, dev_props_parse(&p, "escapes=on", err, sizeof(err)) < 0 &&
		       dev_prop_parse(&p, "escapes", "yes", false, err, sizeof(err)) == 0 &&
		       p.num[4] == 1 &&
		       dev_prop_parse(&p, "escapes", "off", false, err, sizeof(err)) == 0 &&
		       p.num[4] == 0 &&
		       dev_prop_parse(&p, "escapes", "maybe", false, err, sizeof(err)) < 0,
	       "bools: on/yes/off; internal ones only from the board");
	tap_ok(&t, dev_props_parse(&p, "chardev=file:/tmp/x", err, sizeof(err)) == 0 &&
		       !strcmp(p.str[3], "file:/tmp/x") &&
		       dev_props_parse(&p, "chardev=file:", err, sizeof(err)) < 0 &&
		       dev_props_parse(&p, "chardev=pty", err, sizeof(err)) < 0,
	       "chardevs: a backend v2e has, or refused");
	{
		char longv[DEV_STR_MAX + 16];
		memset(longv, 'a', sizeof(longv));
		memcpy(longv, "file:", 5);
		longv[sizeof(longv) - 1] = 0;
		tap_ok(&t, dev_prop_parse(&p, "chardev", longv, true, err, sizeof(err)) < 0 &&
			       strstr(err, "longer"), "a string too long: %s", err);
	}

	/* The DEVICE message: properties by name, given ones only. */
	memset(&s, 0, sizeof(s));
	strcpy(s.id, "com2");
	dev_props_init(&s.props, ser);
	tap_ok(&t, dev_props_parse(&s.props, "index=1,chardev=stdio", err, sizeof(err)) == 0,
	       "isa-serial index=1,chardev=stdio");
	dm_spec_to_msg(&s, &m);
	tap_ok(&t, m.h.type == CTL_DEVICE && m.h.len == sizeof(m) && m.n_props == 2 &&
		       !strcmp(m.kind, "isa-serial") && !strcmp(m.id, "com2"),
	       "to a message: the kind, the id, the two properties given");
	tap_ok(&t, dm_spec_from_msg(&back, &m, err, sizeof(err)) == 0 && back.props.kind == ser &&
		       back.props.num[0] == 1 && !strcmp(back.props.str[3], "stdio") &&
		       back.props.num[1] == 0x3f8 && back.props.given == s.props.given &&
		       !strcmp(back.id, "com2"),
	       "and back, the rest at the kind's defaults");
	{
		struct ctl_device h = m;
		strcpy(h.prop[1].name, "index");
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0 && strstr(err, "index"),
		       "hostile: a property repeated (%s)", err);
		h = m;
		strcpy(h.prop[0].name, "nosuch");
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0, "hostile: unknown property");
		h = m;
		h.prop[0].num = 4;
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0 && strstr(err, "index"),
		       "hostile: a number out of range (%s)", err);
		h = m;
		memset(h.prop[1].str, 'x', sizeof(h.prop[1].str));
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0, "hostile: a string "
		       "without its terminator");
		h = m;
		h.n_props = CTL_MAX_PROPS + 1;
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0, "hostile: too many "
		       "properties");
		h = m;
		memset(h.kind, 'k', sizeof(h.kind));
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0, "hostile: an "
		       "unterminated kind name");
		h = m;
		h.n_props = 0;
		strcpy(h.kind, "lapic");
		tap_ok(&t, dm_spec_from_msg(&back, &h, err, sizeof(err)) < 0 && strstr(err, "lapic"),
		       "a kind of the vmm's is no device-model kind (%s)", err);
	}
	test_board_peers(&t);
	return tap_done(&t);
}
