/* The device-kind table (dev/kind.h): every row well formed, property
 * parsing and its errors, the help texts listing every kind, and the
 * DEVICE message a kind's properties travel in, refused when hostile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/kind.h"
#include "dm/board.h"
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
	return tap_done(&t);
}
