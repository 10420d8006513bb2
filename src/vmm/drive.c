/* -drive, its shorthands and -boot, as QEMU spells and means them
 * (QEMU's documentation of -drive and -boot; its behaviour checked by
 * hand where the text is silent, e.g. the default CD-ROM on ide1-cd0). */
#include "vmm/drive.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static const char *const if_names[] = {"ide", "floppy", "none"};
static const char *const cache_names[] = {"writeback", "writethrough", "none", "unsafe"};

static unsigned if_units(enum drive_if i)
{
	return i == DRIVE_IF_IDE ? DRIVE_IDE_UNITS : i == DRIVE_IF_FLOPPY ? DRIVE_FLOPPY_UNITS : 0;
}

static int on_off(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

static int small_num(const char *v, long max, long *out)
{
	char *end;
	long x;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < 0 || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

/* Copies the next "key=value" of a QEMU option list into buf, turning
 * ",," into ","; returns where the next one starts, or NULL at the end. */
static const char *next_item(const char *s, char *buf, size_t n, bool *too_long)
{
	size_t o = 0;
	*too_long = false;
	while (*s) {
		if (*s == ',') {
			if (s[1] != ',') {
				s++;
				break;
			}
			s++;
		}
		if (o + 1 >= n)
			*too_long = true;
		else
			buf[o++] = *s;
		s++;
	}
	buf[o] = 0;
	return s;
}

static struct drive_config *new_drive(struct drive_list *l, char *err, size_t n)
{
	struct drive_config *d;
	if (l->n >= DRIVE_MAX) {
		err_say(err, n, -EINVAL, "too many drives (at most %d)", DRIVE_MAX);
		return NULL;
	}
	d = &l->d[l->n];
	memset(d, 0, sizeof(*d));
	d->index = -1;
	return d;
}

int drive_parse(struct drive_list *l, const char *arg, char *err, size_t n)
{
	struct drive_config *d = new_drive(l, err, n);
	long bus = -1, unit = -1, index = -1;
	const char *s = arg;
	char item[1100];
	bool media_given = false;

	if (!d)
		return -EINVAL;
	while (*s) {
		bool too_long;
		char *eq, *key, *val;
		s = next_item(s, item, sizeof(item), &too_long);
		if (too_long)
			return err_say(err, n, -EINVAL, "-drive: a value is too long");
		if (!item[0])
			continue;
		eq = strchr(item, '=');
		key = item;
		if (!eq) {
			/* QEMU takes a bare first item as file= only for
			 * -drive's legacy short form; v2e asks for the key. */
			return err_say(err, n, -EINVAL, "-drive %s: expected key=value (file=%s?)", item,
				    item);
		}
		*eq = 0;
		val = eq + 1;
		if (!strcmp(key, "file")) {
			if (!*val)
				return err_say(err, n, -EINVAL, "-drive file=: empty file name");
			snprintf(d->file, sizeof(d->file), "%s", val);
		} else if (!strcmp(key, "format")) {
			if (strcmp(val, "raw") && strcmp(val, "qcow2"))
				return err_say(err, n, -EINVAL, "-drive format=%s: v2e reads raw and qcow2 "
					    "images", val);
			snprintf(d->format, sizeof(d->format), "%s", val);
		} else if (!strcmp(key, "if")) {
			unsigned i;
			for (i = 0; i < 3 && strcmp(val, if_names[i]); i++)
				;
			if (i == 3)
				return err_say(err, n, -EINVAL, "-drive if=%s: not supported by v2e yet "
					    "(ide, floppy or none)", val);
			d->iface = (enum drive_if)i;
		} else if (!strcmp(key, "index")) {
			if (small_num(val, 255, &index))
				return err_say(err, n, -EINVAL, "-drive index=%s: a small number", val);
		} else if (!strcmp(key, "bus")) {
			if (small_num(val, 255, &bus))
				return err_say(err, n, -EINVAL, "-drive bus=%s: a small number", val);
		} else if (!strcmp(key, "unit")) {
			if (small_num(val, 255, &unit))
				return err_say(err, n, -EINVAL, "-drive unit=%s: a small number", val);
		} else if (!strcmp(key, "media")) {
			if (!strcmp(val, "disk"))
				d->media = DRIVE_MEDIA_DISK;
			else if (!strcmp(val, "cdrom"))
				d->media = DRIVE_MEDIA_CDROM;
			else
				return err_say(err, n, -EINVAL, "-drive media=%s: disk or cdrom", val);
			media_given = true;
		} else if (!strcmp(key, "readonly") || !strcmp(key, "snapshot")) {
			bool v;
			if (on_off(val, &v))
				return err_say(err, n, -EINVAL, "-drive %s=%s: on or off", key, val);
			*(key[0] == 'r' ? &d->read_only : &d->snapshot) = v;
		} else if (!strcmp(key, "cache")) {
			unsigned i;
			/* directsync: O_DIRECT and every write stable; v2e
			 * gives it as writethrough's stability over O_DIRECT. */
			if (!strcmp(val, "directsync"))
				val = "none";
			for (i = 0; i < 4 && strcmp(val, cache_names[i]); i++)
				;
			if (i == 4)
				return err_say(err, n, -EINVAL, "-drive cache=%s: writeback, writethrough, "
					    "none, directsync or unsafe", val);
			d->cache = (enum drive_cache)i;
		} else if (!strcmp(key, "id")) {
			if (!*val || strlen(val) >= sizeof(d->id))
				return err_say(err, n, -EINVAL, "-drive id=%s: 1 to %zu characters", val,
					    sizeof(d->id) - 1);
			snprintf(d->id, sizeof(d->id), "%s", val);
		} else if (!strcmp(key, "aio") || !strcmp(key, "discard") ||
			   !strcmp(key, "detect-zeroes")) {
			/* Tuning QEMU offers; v2e's backend has one way. */
			log_warn("-drive %s=%s: ignored (v2e's block backend chooses)", key, val);
		} else {
			return err_say(err, n, -EINVAL, "-drive: '%s' is not supported by v2e yet "
				    "(file, format, if, index, bus, unit, media, readonly, cache, "
				    "snapshot, id)", key);
		}
	}
	if (index >= 0 && (bus >= 0 || unit >= 0))
		return err_say(err, n, -EINVAL, "-drive: index= cannot be given with bus= or unit=");
	if (bus >= 0 || unit >= 0) {
		long per_bus = 2; /* IDE: master and slave; floppy: A and B on bus 0 */
		if (bus < 0)
			bus = 0;
		if (unit < 0)
			unit = 0;
		if (unit >= per_bus || (d->iface == DRIVE_IF_FLOPPY && bus > 0))
			return err_say(err, n, -EINVAL, "-drive bus=%ld,unit=%ld: no such unit on if=%s",
				    bus, unit, if_names[d->iface]);
		index = bus * per_bus + unit;
	}
	if (index >= 0) {
		if (d->iface == DRIVE_IF_NONE || index >= (long)if_units(d->iface))
			return err_say(err, n, -EINVAL, "-drive index=%ld: if=%s has units 0 to %u", index,
				    if_names[d->iface], if_units(d->iface) ? if_units(d->iface) - 1 : 0);
		d->index = (int)index;
	}
	if (d->iface == DRIVE_IF_FLOPPY && media_given && d->media == DRIVE_MEDIA_CDROM)
		return err_say(err, n, -EINVAL, "-drive if=floppy,media=cdrom: a floppy drive has "
			    "no CD");
	if (d->media == DRIVE_MEDIA_CDROM)
		d->read_only = true;
	if (!d->file[0] && !(d->media == DRIVE_MEDIA_CDROM || d->iface == DRIVE_IF_FLOPPY))
		return err_say(err, n, -EINVAL, "-drive: file= is needed (only a CD-ROM or floppy "
			    "drive may be empty)");
	l->n++;
	return 0;
}

static int add_short(struct drive_list *l, enum drive_if iface, int index,
		     enum drive_media media, const char *file, const char *opt, char *err,
		     size_t n)
{
	struct drive_config *d = new_drive(l, err, n);
	if (!d)
		return -EINVAL;
	if (!file || !*file)
		return err_say(err, n, -EINVAL, "-%s: a file name is needed", opt);
	if (strlen(file) >= sizeof(d->file))
		return err_say(err, n, -EINVAL, "-%s: file name too long", opt);
	snprintf(d->file, sizeof(d->file), "%s", file);
	d->iface = iface;
	d->index = index;
	d->media = media;
	d->read_only = media == DRIVE_MEDIA_CDROM;
	l->n++;
	return 0;
}

int drive_add_hd(struct drive_list *l, unsigned index, const char *file, char *err, size_t n)
{
	static const char *const opt[] = {"hda", "hdb", "hdc", "hdd"};
	return add_short(l, DRIVE_IF_IDE, (int)index, DRIVE_MEDIA_DISK, file, opt[index & 3], err, n);
}

int drive_add_cdrom(struct drive_list *l, const char *file, char *err, size_t n)
{
	return add_short(l, DRIVE_IF_IDE, 2, DRIVE_MEDIA_CDROM, file, "cdrom", err, n);
}

int drive_add_floppy(struct drive_list *l, unsigned index, const char *file, char *err,
		     size_t n)
{
	return add_short(l, DRIVE_IF_FLOPPY, (int)index, DRIVE_MEDIA_DISK, file,
			 index ? "fdb" : "fda", err, n);
}

const struct drive_config *drive_at(const struct drive_list *l, enum drive_if iface,
				    unsigned index)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->d[i].iface == iface && l->d[i].index == (int)index)
			return &l->d[i];
	return NULL;
}

static void default_id(struct drive_config *d)
{
	if (d->id[0])
		return;
	if (d->iface == DRIVE_IF_IDE)
		snprintf(d->id, sizeof(d->id), "ide%d-%s%d", d->index / 2,
			 d->media == DRIVE_MEDIA_CDROM ? "cd" : "hd", d->index % 2);
	else if (d->iface == DRIVE_IF_FLOPPY)
		snprintf(d->id, sizeof(d->id), "fd%c", 'a' + d->index);
}

int drive_finish(struct drive_list *l, bool nodefaults, char *err, size_t n)
{
	unsigned used[3] = {0, 0, 0};

	for (unsigned i = 0; i < l->n; i++) {
		struct drive_config *d = &l->d[i];
		if (d->index < 0 || d->iface == DRIVE_IF_NONE)
			continue;
		if (used[d->iface] & (1u << d->index))
			return err_say(err, n, -EINVAL, "two drives on if=%s index=%d (%s)",
				    if_names[d->iface], d->index, d->file[0] ? d->file : "empty");
		used[d->iface] |= 1u << d->index;
	}
	for (unsigned i = 0; i < l->n; i++) {
		struct drive_config *d = &l->d[i];
		unsigned u;
		if (d->index >= 0 || d->iface == DRIVE_IF_NONE)
			continue;
		for (u = 0; u < if_units(d->iface) && (used[d->iface] & (1u << u)); u++)
			;
		if (u == if_units(d->iface))
			return err_say(err, n, -EINVAL, "-drive %s: every if=%s unit is taken",
				    d->file[0] ? d->file : "(empty)", if_names[d->iface]);
		d->index = (int)u;
		used[d->iface] |= 1u << u;
	}
	if (!nodefaults && !(used[DRIVE_IF_IDE] & (1u << 2)) && l->n < DRIVE_MAX) {
		struct drive_config *d = &l->d[l->n++];
		memset(d, 0, sizeof(*d));
		d->iface = DRIVE_IF_IDE;
		d->index = 2;
		d->media = DRIVE_MEDIA_CDROM;
		d->read_only = true;
	}
	/* ... and its empty floppy drive A. */
	if (!nodefaults && !(used[DRIVE_IF_FLOPPY] & 1u) && l->n < DRIVE_MAX) {
		struct drive_config *d = &l->d[l->n++];
		memset(d, 0, sizeof(*d));
		d->iface = DRIVE_IF_FLOPPY;
		d->index = 0;
	}
	for (unsigned i = 0; i < l->n; i++) {
		struct drive_config *d = &l->d[i];
		if (d->iface == DRIVE_IF_NONE && !d->id[0])
			return err_say(err, n, -EINVAL, "-drive if=none needs an id= (a device "
				    "names the drive by it)");
		default_id(d);
		if (l->snapshot_all && d->file[0] && !d->read_only)
			d->snapshot = true;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(l->d[j].id, d->id))
				return err_say(err, n, -EINVAL, "-drive id=%s given twice", d->id);
	}
	return 0;
}

/* ---- -boot ---- */

static int order_ok(const char *v, size_t max)
{
	size_t len = strlen(v);
	if (len > max)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!strchr("acdn", v[i]) || memchr(v, v[i], i))
			return -EINVAL;
	}
	return 0;
}

int boot_parse(struct boot_config *b, const char *arg, char *err, size_t n)
{
	const char *s = arg;
	char item[128];

	while (*s) {
		bool too_long;
		char *eq, *val;
		s = next_item(s, item, sizeof(item), &too_long);
		if (too_long)
			return err_say(err, n, -EINVAL, "-boot: a value is too long");
		if (!item[0])
			continue;
		eq = strchr(item, '=');
		if (!eq) {
			/* the old spelling: -boot dc */
			if (order_ok(item, sizeof(b->order) - 1))
				return err_say(err, n, -EINVAL, "-boot %s: boot devices are a, c, d, n, "
					    "each once", item);
			memcpy(b->order, item, strlen(item) + 1);
			continue;
		}
		*eq = 0;
		val = eq + 1;
		if (!strcmp(item, "order") || !strcmp(item, "once")) {
			char *dst = item[1] == 'r' ? b->order : b->once;
			if (order_ok(val, sizeof(b->order) - 1))
				return err_say(err, n, -EINVAL, "-boot %s=%s: boot devices are a, c, d, n, "
					    "each once", item, val);
			memcpy(dst, val, strlen(val) + 1); /* order_ok bounded it */
		} else if (!strcmp(item, "menu") || !strcmp(item, "strict")) {
			bool v;
			if (on_off(val, &v))
				return err_say(err, n, -EINVAL, "-boot %s=%s: on or off", item, val);
			*(item[0] == 'm' ? &b->menu : &b->strict) = v;
		} else if (!strcmp(item, "reboot-timeout")) {
			long v;
			if (!strcmp(val, "-1"))
				b->fail_wait_ms = -1;
			else if (small_num(val, 0xffff, &v))
				/* QEMU's bound: the firmware keeps it in 16 bits. */
				return err_say(err, n, -EINVAL, "-boot reboot-timeout=%s: milliseconds, "
					    "-1..65535", val);
			else
				b->fail_wait_ms = v;
		} else if (!strcmp(item, "splash-time")) {
			long v;
			if (small_num(val, 0xffff, &v))
				return err_say(err, n, -EINVAL, "-boot splash-time=%s: milliseconds, "
					    "0..65535", val);
			b->splash_ms = (int)v;
		} else {
			return err_say(err, n, -EINVAL, "-boot %s: not supported by v2e (order, once, "
				    "menu, strict, splash-time, reboot-timeout)", item);
		}
	}
	return 0;
}

void boot_cmos_order(const char *order, unsigned char *reg3d, unsigned char *reg38)
{
	unsigned char dev[3] = {0, 0, 0};
	if (!order || !*order)
		order = "cad";
	for (unsigned i = 0; i < 3 && order[i]; i++)
		dev[i] = order[i] == 'a' ? 1 : order[i] == 'c' ? 2 : order[i] == 'd' ? 3 : 4;
	*reg3d = (unsigned char)(dev[1] << 4 | dev[0]);
	/* bit 0 clear: SeaBIOS checks a floppy's boot signature */
	*reg38 = (unsigned char)(dev[2] << 4);
}
