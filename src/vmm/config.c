/* Command-line parsing for `v2e` (see config.h). The table below is the
 * whole interface: a QEMU option either has a row here or is refused by
 * name. Both -opt and --opt are accepted, as QEMU does. */
#include "vmm/config.h"
#include "vmm/qlog.h"
#include "vmm/gdbstub.h"
#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RAM_DEFAULT (128ull << 20) /* QEMU's default for PC machines */
#define RAM_MIN (2ull << 20)
#define RAM_MAX (64ull << 30)

int config_parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
	char *end;
	uint64_t mult = default_unit;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'b': case 'B': mult = 1; end++; break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	default: return -EINVAL;
	}
	if (*end || (v && mult > UINT64_MAX / v))
		return -EINVAL;
	*out = v * mult;
	return 0;
}

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "-m 512", "-m 1G", "-m size=512M" */
static int opt_m(struct vm_config *c, const char *arg, char *err, size_t n)
{
	uint64_t v;
	if (!strncmp(arg, "size=", 5))
		arg += 5;
	if (strchr(arg, ','))
		return err_say(err, n, -EINVAL, "-m: only a size is supported (no slots or maxmem): '%s'", arg);
	if (config_parse_size(arg, 1ull << 20, &v) < 0)
		return err_say(err, n, -EINVAL, "-m: invalid size '%s'", arg);
	if (v < RAM_MIN || v > RAM_MAX)
		return err_say(err, n, -EINVAL, "-m: %s is outside 2M..64G", arg);
	c->ram_bytes = (v + 0xfff) & ~0xfffull;
	return 0;
}

static int opt_smp(struct vm_config *c, const char *arg, char *err, size_t n)
{
	uint64_t v;
	const char *num = !strncmp(arg, "cpus=", 5) ? arg + 5 : arg;
	if (strchr(num, ',') || parse_num(num, 4096, &v) < 0 || v == 0)
		return err_say(err, n, -EINVAL, "-smp: invalid '%s'", arg);
	if (v != 1)
		return err_say(err, n, -EINVAL, "-smp %s: v2e runs one vCPU so far", arg);
	c->smp = (unsigned)v;
	return 0;
}

static int opt_serial(struct vm_config *c, const char *arg, char *err, size_t n)
{
	struct serial_config *s;
	if (c->n_serial == CONFIG_MAX_SERIAL)
		return err_say(err, n, -EINVAL, "-serial: at most %d ports (COM1-COM4)", CONFIG_MAX_SERIAL);
	s = &c->serial[c->n_serial];
	if (!strcmp(arg, "mon:stdio"))
		return err_say(err, n, -EINVAL, "-serial mon:stdio: v2e has no monitor yet; use -serial stdio "
			    "(Ctrl-A X quits, Ctrl-A H lists the keys)");
	if (!strcmp(arg, "stdio")) {
		s->kind = SERIAL_STDIO;
	} else if (!strcmp(arg, "none") || !strcmp(arg, "null")) {
		s->kind = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		s->kind = SERIAL_FILE;
		s->path = arg + 5;
	} else {
		return err_say(err, n, -EINVAL, "-serial %s: supported are stdio, file:PATH and none", arg);
	}
	for (unsigned i = 0; i < c->n_serial; i++)
		if (s->kind == SERIAL_STDIO && c->serial[i].kind == SERIAL_STDIO)
			return err_say(err, n, -EINVAL, "-serial stdio: only one port can use the terminal");
	c->n_serial++;
	return 0;
}

static int opt_display(struct vm_config *c, const char *arg, char *err, size_t n)
{
	int r = display_opt_display(&c->display, arg, err, n);
	if (r == 0 && !strcmp(arg, "none"))
		c->display_none = true;
	return r;
}

static int opt_vnc(struct vm_config *c, const char *arg, char *err, size_t n)
{
	return display_opt_vnc(&c->display, arg, err, n);
}

static int opt_vga(struct vm_config *c, const char *arg, char *err, size_t n)
{
	return display_opt_vga(&c->display, arg, err, n);
}

static int opt_object(struct vm_config *c, const char *arg, char *err, size_t n)
{
	return display_opt_object(&c->display, arg, err, n);
}

/* -dm process|inprocess */
static int opt_dm(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (!strcmp(arg, "inprocess"))
		c->dm_inprocess = true;
	else if (!strcmp(arg, "process"))
		c->dm_inprocess = false;
	else
		return err_say(err, n, -EINVAL, "-dm %s: 'process' (default) or 'inprocess'", arg);
	return 0;
}

/* -dm-split KIND[,KIND...]: the devices of these kinds in a second
 * device model (any kind that runs in one). */
static int opt_dm_split(struct vm_config *c, const char *arg, char *err, size_t n)
{
	const char *p = arg;
	while (*p) {
		size_t len = strcspn(p, ",");
		char name[DEV_NAME_MAX];
		const struct dev_kind *k = NULL;
		if (len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = 0;
			k = dev_kind_find(name);
		}
		if (!k || k->where != DEV_IN_DM) {
			char known[512];
			dev_kind_names(known, sizeof(known), DEV_IN_DM, false);
			return err_say(err, n, -EINVAL, "-dm-split: unknown device '%.*s' (devices: %s)",
				    (int)len, p, known);
		}
		if (c->n_dm_split == CONFIG_MAX_DM_SPLIT)
			return err_say(err, n, -EINVAL, "-dm-split: too many devices");
		c->dm_split[c->n_dm_split++] = k->name;
		p += len + (p[len] == ',');
	}
	return 0;
}

static int opt_dm_timeout(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (parse_num(arg, 3600000, &c->dm_timeout_ms) < 0 || !c->dm_timeout_ms)
		return err_say(err, n, -EINVAL, "-dm-timeout %s: milliseconds, 1..3600000", arg);
	return 0;
}

/* -tick-slack MS: how late an idle guest's periodic tick may come
 * (vcpu_loop.c); 0 keeps every tick on time. */
static int opt_tick_slack(struct vm_config *c, const char *arg, char *err, size_t n)
{
	uint64_t ms;
	if (parse_num(arg, 1000, &ms) < 0)
		return err_say(err, n, -EINVAL, "-tick-slack %s: milliseconds, 0..1000", arg);
	c->tick_slack_ns = ms * 1000000;
	return 0;
}

/* -jit on|off: the emulator's native code generator (on by default). */
static int opt_jit(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (!strcmp(arg, "on"))
		c->no_jit = false;
	else if (!strcmp(arg, "off"))
		c->no_jit = true;
	else
		return err_say(err, n, -EINVAL, "-jit %s: 'on' (default) or 'off'", arg);
	return 0;
}

#ifdef V2E_TEST_DEVICES
static int opt_dm_hostile(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (parse_num(arg, 1000000000, &c->dm_hostile) < 0 || !c->dm_hostile)
		return err_say(err, n, -EINVAL, "-dm-hostile %s: a request count", arg);
	return 0;
}
#endif

/* A chardev= value: the id of a -chardev, or a backend spelled out
 * (stdio, null, file:PATH). */
static const char *chardev_resolve(const struct vm_config *c, const char *val)
{
	for (unsigned i = 0; i < c->n_chardev; i++)
		if (!strcmp(c->chardev[i].id, val))
			return c->chardev[i].spec;
	return val;
}

/* -device NAME[,id=ID][,PROP=VALUE...] | help | NAME,help: kept until
 * every -chardev is known (device_parse). */
/* -usbdevice tablet|keyboard: QEMU's older spelling of -usb with
 * -device usb-tablet or usb-kbd. */
static int opt_usbdevice(struct vm_config *c, const char *arg, char *err, size_t n)
{
	const char *kind = !strcmp(arg, "tablet") ? "usb-tablet" : !strcmp(arg, "keyboard") ? "usb-kbd" : NULL;
	if (!kind)
		return err_say(err, n, -EINVAL, "-usbdevice %s: v2e has tablet and keyboard", arg);
	if (c->n_device_arg == CONFIG_MAX_DEVICES)
		return err_say(err, n, -EINVAL, "-usbdevice %s: at most %d devices", arg,
			       CONFIG_MAX_DEVICES);
	c->usb = true;
	c->device_arg[c->n_device_arg++] = kind;
	return 0;
}

static int opt_device(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (c->n_device_arg == CONFIG_MAX_DEVICES)
		return err_say(err, n, -EINVAL, "-device %s: at most %d devices", arg, CONFIG_MAX_DEVICES);
	c->device_arg[c->n_device_arg++] = arg;
	return 0;
}

/* One -device: any kind the table lets a user create, its properties
 * parsed by the table. */
static int device_parse(struct vm_config *c, const char *arg, char *err, size_t n)
{
	char buf[1024], msg[300];
	char *save, *tok, *name;
	const struct dev_kind *k;
	struct dev_config *d;

	if (strlen(arg) >= sizeof(buf))
		return err_say(err, n, -EINVAL, "-device: argument too long");
	strcpy(buf, arg);
	name = strtok_r(buf, ",", &save);
	if (!name || !strcmp(name, "help") || !strcmp(name, "?")) {
		c->device_help = true;
		return 0;
	}
	k = dev_kind_find(name);
	if (!k)
		return err_say(err, n, -EINVAL, "-device %s: unknown device '%s' (-device help lists them)",
			    arg, name);
	if (strstr(arg, ",help") || strstr(arg, ",?")) {
		c->device_props = k;
		return 0;
	}
	if (!k->user)
		return err_say(err, n, -EINVAL, "-device %s: the board creates %s itself; -device cannot",
			    arg, name);
	if (c->n_dev == CONFIG_MAX_DEVICES)
		return err_say(err, n, -EINVAL, "-device %s: at most %d devices", arg, CONFIG_MAX_DEVICES);
	for (unsigned i = 0; k->unique && i < c->n_dev; i++)
		if (c->dev[i].props.kind == k)
			return err_say(err, n, -EINVAL, "-device %s: given twice (one per machine)", name);
	d = &c->dev[c->n_dev];
	memset(d->id, 0, sizeof(d->id));
	dev_props_init(&d->props, k);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');
		const char *val = eq ? eq + 1 : NULL;
		int pi;
		if (eq)
			*eq = 0;
		pi = dev_prop_find(k, tok);
		if (val && pi >= 0 && k->props[pi].type == DEV_PROP_CHARDEV)
			val = chardev_resolve(c, val);
		if (!strcmp(tok, "id") && eq) {
			if (strlen(eq + 1) >= sizeof(d->id) || !eq[1])
				return err_say(err, n, -EINVAL, "-device %s: id=%s: 1 to %zu characters", arg,
					    eq + 1, sizeof(d->id) - 1);
			strcpy(d->id, eq + 1);
		} else if (dev_prop_parse(&d->props, tok, val, true, msg, sizeof(msg)) < 0) {
			return err_say(err, n, -EINVAL, "-device %s", msg);
		}
	}
	if (k->check && k->check(&d->props, msg, sizeof(msg)) < 0)
		return err_say(err, n, -EINVAL, "-device %s", msg);
	c->n_dev++;
	return 0;
}

/* -chardev file,id=ID,path=PATH | stdio,id=ID | null,id=ID (QEMU's
 * spelling; other properties QEMU knows, such as signal=off or
 * mux=off, change nothing here). */
static int opt_chardev(struct vm_config *c, const char *arg, char *err, size_t n)
{
	char buf[DEV_STR_MAX + 64], *save, *tok, *backend;
	const char *id = NULL, *path = NULL;
	struct chardev_config *cd;

	if (strlen(arg) >= sizeof(buf))
		return err_say(err, n, -EINVAL, "-chardev: argument too long");
	if (c->n_chardev == CONFIG_MAX_CHARDEVS)
		return err_say(err, n, -EINVAL, "-chardev %s: at most %d", arg, CONFIG_MAX_CHARDEVS);
	strcpy(buf, arg);
	backend = strtok_r(buf, ",", &save);
	if (!backend || (strcmp(backend, "file") && strcmp(backend, "stdio") &&
			 strcmp(backend, "null")))
		return err_say(err, n, -EINVAL, "-chardev %s: v2e supports the backends file, stdio "
			    "and null", arg);
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strncmp(tok, "id=", 3))
			id = tok + 3;
		else if (!strncmp(tok, "path=", 5))
			path = tok + 5;
		else if (strcmp(tok, "signal=off") && strcmp(tok, "signal=on") &&
			 strcmp(tok, "mux=off") && strcmp(tok, "append=off"))
			return err_say(err, n, -EINVAL, "-chardev %s: '%s' is not supported (id=, "
				    "path= for file)", arg, tok);
	}
	if (!id || !*id || strlen(id) >= DEV_NAME_MAX)
		return err_say(err, n, -EINVAL, "-chardev %s: needs id=ID (1 to %d characters)", arg,
			    DEV_NAME_MAX - 1);
	if (!strcmp(backend, "file") && (!path || !*path))
		return err_say(err, n, -EINVAL, "-chardev %s: a file needs path=PATH", arg);
	if (strcmp(backend, "file") && path)
		return err_say(err, n, -EINVAL, "-chardev %s: path= is for the file backend", arg);
	for (unsigned i = 0; i < c->n_chardev; i++)
		if (!strcmp(c->chardev[i].id, id))
			return err_say(err, n, -EINVAL, "-chardev %s: id %s given twice", arg, id);
	cd = &c->chardev[c->n_chardev++];
	snprintf(cd->id, sizeof(cd->id), "%s", id);
	if (path)
		snprintf(cd->spec, sizeof(cd->spec), "file:%s", path);
	else
		snprintf(cd->spec, sizeof(cd->spec), "%s", backend);
	return 0;
}

/* -debugcon file:PATH | stdio | null | none | chardev:ID: QEMU's debug
 * console, an isa-debugcon at port 0xe9. */
static int opt_debugcon(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (c->n_debugcon_arg == CONFIG_MAX_DEVICES)
		return err_say(err, n, -EINVAL, "-debugcon: at most %d", CONFIG_MAX_DEVICES);
	c->debugcon_arg[c->n_debugcon_arg++] = arg;
	return 0;
}

static int debugcon_parse(struct vm_config *c, const char *arg, char *err, size_t n)
{
	const struct dev_kind *k = dev_kind_find("isa-debugcon");
	const char *be = !strncmp(arg, "chardev:", 8) ? chardev_resolve(c, arg + 8) : arg;
	struct dev_config *d;
	char msg[300];

	if (!k)
		return err_say(err, n, -EINVAL, "-debugcon: no isa-debugcon in this build");
	if (c->n_dev == CONFIG_MAX_DEVICES)
		return err_say(err, n, -EINVAL, "-debugcon %s: at most %d devices in all", arg,
			    CONFIG_MAX_DEVICES);
	if (!strncmp(arg, "chardev:", 8) && be == arg + 8)
		return err_say(err, n, -EINVAL, "-debugcon %s: no -chardev with id=%s", arg, arg + 8);
	d = &c->dev[c->n_dev];
	memset(d->id, 0, sizeof(d->id));
	dev_props_init(&d->props, k);
	if (dev_prop_parse(&d->props, "chardev", be, false, msg, sizeof(msg)) < 0)
		return err_say(err, n, -EINVAL, "-debugcon %s: file:PATH, stdio, null or chardev:ID",
			    arg);
	c->n_dev++;
	return 0;
}

/* -bios FILE, -L DIR: the firmware without -kernel. */
static int opt_L(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (c->n_bios_dirs == CONFIG_MAX_BIOS_DIRS)
		return err_say(err, n, -EINVAL, "-L %s: at most %d folders", arg, CONFIG_MAX_BIOS_DIRS);
	c->bios_dirs[c->n_bios_dirs++] = arg;
	return 0;
}

/* -boot reboot-timeout=MS: the firmware's wait after no device booted,
 * -1 (the default) waits for ever; other -boot choices need disks. */
static int opt_boot(struct vm_config *c, const char *arg, char *err, size_t n)
{
	return boot_parse(&c->boot, arg, err, n);
}

static int opt_drive(struct vm_config *c, const char *arg, char *err, size_t n)
{
	return drive_parse(&c->drives, arg, err, n);
}

static int opt_cdrom(struct vm_config *c, const char *arg, char *err, size_t n)
{
	return drive_add_cdrom(&c->drives, arg, err, n);
}

/* -hda..-hdd and -fda/-fdb: the option's letter is the unit. */
static int opt_hd(struct vm_config *c, const char *opt, const char *arg, char *err, size_t n)
{
	return drive_add_hd(&c->drives, (unsigned)(opt[2] - 'a'), arg, err, n);
}

static int opt_hda(struct vm_config *c, const char *a, char *e, size_t n) { return opt_hd(c, "hda", a, e, n); }
static int opt_hdb(struct vm_config *c, const char *a, char *e, size_t n) { return opt_hd(c, "hdb", a, e, n); }
static int opt_hdc(struct vm_config *c, const char *a, char *e, size_t n) { return opt_hd(c, "hdc", a, e, n); }
static int opt_hdd(struct vm_config *c, const char *a, char *e, size_t n) { return opt_hd(c, "hdd", a, e, n); }
static int opt_fda(struct vm_config *c, const char *a, char *e, size_t n)
{
	return drive_add_floppy(&c->drives, 0, a, e, n);
}
static int opt_fdb(struct vm_config *c, const char *a, char *e, size_t n)
{
	return drive_add_floppy(&c->drives, 1, a, e, n);
}

/* -icount [shift=]N: N virtual ns per instruction is 2^N (QEMU's
 * meaning); without a value v2e's default shift. */
static int opt_icount(struct vm_config *c, const char *arg, char *err, size_t n)
{
	char buf[64], *save, *tok;
	uint64_t v;
	c->icount = true;
	if (!arg)
		return 0;
	if (strlen(arg) >= sizeof(buf))
		return err_say(err, n, -EINVAL, "-icount: argument too long");
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		/* v2e's deterministic clock jumps over idle time: QEMU's
		 * sleep=off. */
		if (!strcmp(tok, "sleep=off"))
			continue;
		if (!strcmp(tok, "sleep=on"))
			return err_say(err, n, -EINVAL, "-icount sleep=on: not supported by v2e yet (its "
				    "deterministic clock jumps over idle time, as sleep=off)");
		if (!strncmp(tok, "shift=", 6))
			tok += 6;
		if (!strcmp(tok, "auto"))
			return err_say(err, n, -EINVAL, "-icount auto: v2e's icount is always deterministic; "
				    "give a shift");
		if (parse_num(tok, 10, &v) < 0)
			return err_say(err, n, -EINVAL, "-icount: invalid '%s' (shift=0..10, sleep=off)", tok);
		c->icount_shift = (unsigned)v;
	}
	return 0;
}

/* -d ITEM[,ITEM...] | help (qlog.c has the items) */
static int opt_d(struct vm_config *c, const char *arg, char *err, size_t n)
{
	unsigned mask;
	bool help;
	int r = qlog_parse_items(arg, &mask, &help, err, n);
	if (r < 0)
		return r;
	c->log_mask |= mask;
	c->log_help |= help;
	return 0;
}

/* -gdb DEV, -s (= -gdb tcp::1234), -S: QEMU's debugger options. */
static int opt_gdb(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (gdbstub_check_spec(arg) < 0)
		return err_say(err, n, -EINVAL, "-gdb %s: tcp::PORT, tcp:HOST:PORT or unix:PATH"
			    "[,server=on,wait=off]", arg);
	c->gdb = arg;
	return 0;
}

static int opt_s(struct vm_config *c, const char *arg, char *err, size_t n)
{
	c->gdb = "tcp::1234";
	return 0;
}

static int opt_S(struct vm_config *c, const char *arg, char *err, size_t n)
{
	c->gdb_wait = true;
	return 0;
}

/* -accel tcg: the only accelerator v2e has is its own emulator, which
 * is what a TCG user expects (no KVM yet). */
static int opt_accel(struct vm_config *c, const char *arg, char *err, size_t n)
{
	size_t len = strcspn(arg, ",");
	if (!strncmp(arg, "accel=", 6))
		return opt_accel(c, arg + 6, err, n);
	if (len == 3 && !strncmp(arg, "tcg", 3))
		return 0;
	return err_say(err, n, -EINVAL, "-accel %s: v2e runs guests on its own emulator only "
		    "('tcg'); hardware virtualization is not supported yet", arg);
}

/* -M / -machine pc[,...]: the only machine (QEMU's i440FX PC). */
static int opt_machine(struct vm_config *c, const char *arg, char *err, size_t n)
{
	size_t len = strcspn(arg, ",");
	if (!strncmp(arg, "type=", 5))
		return opt_machine(c, arg + 5, err, n);
	if (!strcmp(arg, "help"))
		return err_say(err, n, -EINVAL, "-machine: v2e has one machine, 'pc'");
	if (len != 2 || strncmp(arg, "pc", 2) || arg[len])
		return err_say(err, n, -EINVAL, "-machine %s: v2e has one machine, 'pc' (no machine "
			    "properties yet)", arg);
	return 0;
}

/* -rtc [base=utc|localtime|DATE][,clock=host|rt|vm][,driftfix=none|slew].
 * DATE is 2006-06-17T16:01:21 or 2006-06-17, UTC. v2e's RTC always counts
 * the VM's own clock (the host's while the guest runs, stopped while a
 * debugger holds it; instructions under -icount), which is what every
 * clock= gives a running guest; the interrupt catch-up of driftfix=slew is
 * not needed, as no tick is ever lost. */
static int opt_rtc(struct vm_config *c, const char *arg, char *err, size_t n)
{
	char buf[128], *save, *tok;
	if (strlen(arg) >= sizeof(buf))
		return err_say(err, n, -EINVAL, "-rtc: argument too long");
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "base=utc")) {
			c->rtc_base = RTC_BASE_UTC;
		} else if (!strcmp(tok, "base=localtime")) {
			c->rtc_base = RTC_BASE_LOCALTIME;
		} else if (!strncmp(tok, "base=", 5)) {
			struct tm tm;
			const char *end;
			memset(&tm, 0, sizeof(tm));
			end = strptime(tok + 5, "%Y-%m-%dT%H:%M:%S", &tm);
			if (!end || *end) {
				memset(&tm, 0, sizeof(tm));
				end = strptime(tok + 5, "%Y-%m-%d", &tm);
			}
			if (!end || *end || tm.tm_year < 70)
				return err_say(err, n, -EINVAL, "-rtc %s: base is utc, localtime, or a date "
					    "such as 2006-06-17T16:01:21 or 2006-06-17 (1970 on)",
					    tok);
			c->rtc_base = RTC_BASE_DATE;
			c->rtc_date = (int64_t)timegm(&tm);
		} else if (strcmp(tok, "clock=host") && strcmp(tok, "clock=rt") &&
			   strcmp(tok, "clock=vm") && strcmp(tok, "driftfix=none") &&
			   strcmp(tok, "driftfix=slew")) {
			return err_say(err, n, -EINVAL, "-rtc: unknown or unsupported '%s' (base=utc|localtime|"
				    "DATE, clock=host|rt|vm, driftfix=none|slew)", tok);
		}
	}
	return 0;
}

static bool is_serial(const struct dev_config *d)
{
	return !strcmp(d->props.kind->name, "isa-serial");
}

/* The COM ports: -serial's in order as isa-serial devices ahead of
 * -device's (QEMU's serial_hd(i) is COM i + 1), the default COM1 with
 * nothing behind it when neither -serial, -device isa-serial nor
 * -nodefaults is given; an isa-serial without index= takes the first
 * free one. At most one port on the terminal. */
static int serial_devices(struct vm_config *c, bool user_serials, char *err, size_t n)
{
	const struct dev_kind *k = dev_kind_find("isa-serial");
	unsigned want = c->n_serial ? c->n_serial : c->nodefaults || user_serials ? 0 : 1;
	unsigned taken = 0, stdio = 0;
	char msg[300];

	if (!k)
		return want ? err_say(err, n, -EINVAL, "-serial: no isa-serial in this build") : 0;
	if (c->n_dev + want > CONFIG_MAX_DEVICES)
		return err_say(err, n, -EINVAL, "-serial: at most %d devices in all", CONFIG_MAX_DEVICES);
	memmove(c->dev + want, c->dev, c->n_dev * sizeof(c->dev[0]));
	c->n_dev += want;
	for (unsigned i = 0; i < want; i++) {
		struct dev_config *d = &c->dev[i];
		const struct serial_config *sc = &c->serial[i];
		char be[DEV_STR_MAX + 8] = "null", index[12];
		if (i < c->n_serial && sc->kind == SERIAL_STDIO)
			strcpy(be, "stdio");
		else if (i < c->n_serial && sc->kind == SERIAL_FILE)
			snprintf(be, sizeof(be), "file:%.*s", DEV_STR_MAX, sc->path);
		memset(d->id, 0, sizeof(d->id));
		dev_props_init(&d->props, k);
		snprintf(index, sizeof(index), "%u", i);
		if (dev_prop_parse(&d->props, "index", index, false, msg, sizeof(msg)) < 0 ||
		    dev_prop_parse(&d->props, "chardev", be, false, msg, sizeof(msg)) < 0)
			return err_say(err, n, -EINVAL, "-serial %s: %s", be, msg);
	}
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < c->n_dev; i++) {
			struct dev_config *d = &c->dev[i];
			int ix = dev_prop_find(k, "index");
			unsigned bit;
			if (!is_serial(d) || ix < 0 ||
			    (pass == 0) != ((d->props.given & (1u << ix)) != 0))
				continue;
			if (pass == 1) {
				unsigned free_ix = 0;
				while (free_ix < 4 && (taken & (1u << free_ix)))
					free_ix++;
				if (free_ix == 4)
					return err_say(err, n, -EINVAL, "-device isa-serial: all four COM ports "
						    "are taken");
				d->props.num[ix] = free_ix;
				d->props.given |= 1u << ix;
			}
			bit = 1u << d->props.num[ix];
			if (taken & bit)
				return err_say(err, n, -EINVAL, "isa-serial: COM%u given twice",
					    (unsigned)d->props.num[ix] + 1);
			taken |= bit;
			if (!d->id[0])
				snprintf(d->id, sizeof(d->id), "com%u", (unsigned)d->props.num[ix] + 1);
		}
	}
	for (unsigned i = 0; i < c->n_dev; i++) {
		const struct dev_kind *dk = c->dev[i].props.kind;
		c->n_com += is_serial(&c->dev[i]);
		for (unsigned p = 0; p < dk->n_props; p++)
			if (dk->props[p].type == DEV_PROP_CHARDEV &&
			    !strcmp(c->dev[i].props.str[p], "stdio"))
				stdio++;
	}
	c->stdio_dev = stdio != 0;
	if (stdio > 1)
		return err_say(err, n, -EINVAL, "-serial stdio: only one port can use the terminal");
	if (stdio && c->daemonize)
		return err_say(err, n, -EINVAL, "-serial stdio cannot be used with -daemonize");
	return 0;
}

enum arg_kind { NO_ARG, ARG, OPT_ARG };

struct option_row {
	const char *name;
	enum arg_kind arg;
	int (*fn)(struct vm_config *c, const char *arg, char *err, size_t n);
	size_t str_field; /* for plain string options: offset in vm_config */
};

#define STR(field) offsetof(struct vm_config, field)

static const struct option_row options[] = {
	{"m", ARG, opt_m, 0},
	{"smp", ARG, opt_smp, 0},
	{"kernel", ARG, NULL, STR(kernel)},
	{"initrd", ARG, NULL, STR(initrd)},
	{"append", ARG, NULL, STR(append)},
	{"serial", ARG, opt_serial, 0},
	{"display", ARG, opt_display, 0},
	{"vnc", ARG, opt_vnc, 0},
	{"vga", ARG, opt_vga, 0},
	{"object", ARG, opt_object, 0},
	{"device", ARG, opt_device, 0},
	{"chardev", ARG, opt_chardev, 0},
	{"debugcon", ARG, opt_debugcon, 0},
	{"bios", ARG, NULL, STR(bios)},
	{"L", ARG, opt_L, 0},
	{"boot", ARG, opt_boot, 0},
	{"drive", ARG, opt_drive, 0},
	{"hda", ARG, opt_hda, 0},
	{"hdb", ARG, opt_hdb, 0},
	{"hdc", ARG, opt_hdc, 0},
	{"hdd", ARG, opt_hdd, 0},
	{"cdrom", ARG, opt_cdrom, 0},
	{"fda", ARG, opt_fda, 0},
	{"fdb", ARG, opt_fdb, 0},
	{"snapshot", NO_ARG, NULL, 0},
	{"icount", OPT_ARG, opt_icount, 0},
	{"dm", ARG, opt_dm, 0},
	{"dm-split", ARG, opt_dm_split, 0},
	{"dm-timeout", ARG, opt_dm_timeout, 0},
	{"jit", ARG, opt_jit, 0},
	{"tick-slack", ARG, opt_tick_slack, 0},
	{"d", ARG, opt_d, 0},
	{"D", ARG, NULL, STR(log_file)},
	{"gdb", ARG, opt_gdb, 0},
	{"s", NO_ARG, opt_s, 0},
	{"S", NO_ARG, opt_S, 0},
#ifdef V2E_TEST_DEVICES
	{"dm-hostile", ARG, opt_dm_hostile, 0},
#endif
	{"accel", ARG, opt_accel, 0},
	{"M", ARG, opt_machine, 0},
	{"machine", ARG, opt_machine, 0},
	{"name", ARG, NULL, STR(name)},
	{"pidfile", ARG, NULL, STR(pidfile)},
	{"nodefaults", NO_ARG, NULL, 0},
	{"usb", NO_ARG, NULL, 0},
	{"usbdevice", ARG, opt_usbdevice, 0},
	{"daemonize", NO_ARG, NULL, 0},
	{"rtc", ARG, opt_rtc, 0},
	{"nographic", NO_ARG, NULL, 0},
	{"no-reboot", NO_ARG, NULL, 0},
	{"perfmap", NO_ARG, NULL, 0},
	{"h", NO_ARG, NULL, 0},
	{"help", NO_ARG, NULL, 0},
	{"version", NO_ARG, NULL, 0},
};

/* QEMU options users will try that v2e does not have yet: refused with
 * a reason rather than "unknown". */
static const char *const not_yet[] = {
	"qmp",
	"monitor", "netdev", "net", "cpu", "machine", "M", "enable-kvm", "accel",
	"global", "nic", "k", "sd",
	"mtdblock", "pflash", "blockdev", "fsdev", "virtfs",
	"soundhw", "audiodev", "spice", "sdl", "curses", "full-screen",
	"g", "mem-path", "mem-prealloc", "numa", "overcommit", "icount-align",
	"option-rom", "fw_cfg", "smbios", "acpitable", "uuid", "incoming",
	"loadvm", "watchdog", "watchdog-action", "runas", "chroot", "sandbox",
	"singlestep", "trace", "plugin", "qtest", "semihosting", "tpmdev",
	"add-fd", "parallel", "virtioconsole", "mon", "no-acpi",
	"no-hpet", "no-shutdown", "action", "enable-fips", "msg", "readconfig",
	"writeconfig", "nodefconfig", "no-user-config", "smp-opts",
};

static const struct option_row *find_option(const char *name)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (!strcmp(options[i].name, name))
			return &options[i];
	return NULL;
}

static bool is_not_yet(const char *name)
{
	for (size_t i = 0; i < sizeof(not_yet) / sizeof(not_yet[0]); i++)
		if (!strcmp(not_yet[i], name))
			return true;
	return false;
}

int config_parse(struct vm_config *c, int argc, char **argv, char *err,
		 size_t errlen)
{
	bool user_serials = false;

	memset(c, 0, sizeof(*c));
	c->ram_bytes = RAM_DEFAULT;
	c->smp = 1;
	c->icount_shift = 3; /* 8 ns per instruction: a 125 MHz guest */
	c->dm_timeout_ms = 10000;
	c->tick_slack_ns = 40000000;
	c->boot.fail_wait_ms = -1;
	c->boot.splash_ms = -1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name;
		const struct option_row *o;
		const char *val = NULL;
		int r;

		if (a[0] != '-' || !a[1])
			return err_say(err, errlen, -EINVAL, "unexpected argument '%s' (options start with -)", a);
		name = a[1] == '-' ? a + 2 : a + 1;
		o = find_option(name);
		if (!o) {
			if (is_not_yet(name))
				return err_say(err, errlen, -EINVAL, "option -%s is not supported by v2e yet", name);
			return err_say(err, errlen, -EINVAL, "unknown option -%s", name);
		}
		if (o->arg == ARG) {
			if (i + 1 >= argc)
				return err_say(err, errlen, -EINVAL, "option -%s needs an argument", name);
			val = argv[++i];
		} else if (o->arg == OPT_ARG && i + 1 < argc && argv[i + 1][0] != '-') {
			val = argv[++i];
		}
		if (o->fn) {
			r = o->fn(c, val, err, errlen);
			if (r < 0)
				return r;
		} else if (o->arg == ARG) {
			*(const char **)((char *)c + o->str_field) = val;
		} else if (!strcmp(name, "daemonize")) {
			c->daemonize = true;
		} else if (!strcmp(name, "nodefaults")) {
			c->nodefaults = true;
		} else if (!strcmp(name, "usb")) {
			c->usb = true;
		} else if (!strcmp(name, "nographic")) {
			c->nographic = true;
		} else if (!strcmp(name, "no-reboot")) {
			c->no_reboot = true;
		} else if (!strcmp(name, "snapshot")) {
			c->drives.snapshot_all = true;
		} else if (!strcmp(name, "perfmap")) {
			c->perf_map = true;
		} else if (!strcmp(name, "version")) {
			c->version = true;
		} else {
			c->help = true;
		}
	}
	for (unsigned i = 0; i < c->n_device_arg; i++) {
		int r = device_parse(c, c->device_arg[i], err, errlen);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < c->n_debugcon_arg; i++) {
		int r = debugcon_parse(c, c->debugcon_arg[i], err, errlen);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < c->n_dev; i++)
		user_serials |= is_serial(&c->dev[i]);
	if (c->bios && c->kernel)
		return err_say(err, errlen, -EINVAL, "-bios with -kernel: v2e boots a -kernel directly, "
			    "without firmware");
	if (c->gdb_wait && !c->gdb)
		return err_say(err, errlen, -EINVAL, "-S waits for a debugger to start the guest: give -s "
			    "or -gdb (v2e has no monitor yet)");
	if ((c->initrd || c->append) && !c->kernel)
		return err_say(err, errlen, -EINVAL, "-%s needs -kernel", c->initrd ? "initrd" : "append");
	{
		int r = drive_finish(&c->drives, c->nodefaults, err, errlen);
		bool uhci = c->usb;
		if (r < 0)
			return r;
		/* A USB device plugs into a controller given before it (-usb
		 * puts one on the board, ahead of every -device). */
		for (unsigned i = 0; i < c->n_dev; i++) {
			const char *kn = c->dev[i].props.kind->name;
			if (!strcmp(kn, "piix3-usb-uhci")) {
				if (c->usb)
					return err_say(err, errlen, -EINVAL, "-device piix3-usb-uhci "
						       "with -usb: the PC has one UHCI (give one or "
						       "the other)");
				uhci = true;
			} else if (!strncmp(kn, "usb-", 4) && !uhci) {
				return err_say(err, errlen, -EINVAL, "-device %s needs a USB "
					       "controller before it: add -usb", kn);
			}
		}
	}
	/* -nodefaults drops the VGA as QEMU's does, unless -vga asks. */
	if (!c->display.vga_given)
		c->display.vga = !c->nodefaults;
	if (c->nographic)
		c->display.vnc = false;
	/* No display chosen: QEMU on a machine without a window system serves
	 * VNC on localhost. COM1 goes to the terminal (QEMU would put it on a
	 * console inside the display, which v2e does not have), not for a
	 * daemon, which has no terminal. */
	if (!c->nographic && !c->display_none && !c->display.vnc && !c->display.vnc_none) {
		c->display.vnc_default = c->display.vga;
		if (c->n_serial == 0 && !c->nodefaults && !c->daemonize && !user_serials) {
			c->serial[0].kind = SERIAL_STDIO;
			c->n_serial = 1;
			c->implied_serial = true;
		}
	}
	if (display_config_check(&c->display, err, errlen) < 0)
		return -EINVAL;
	if (c->daemonize) {
		/* A daemon has no terminal (QEMU refuses the same). */
		if (c->nographic)
			return err_say(err, errlen, -EINVAL, "-nographic cannot be used with -daemonize");
		for (unsigned i = 0; i < c->n_serial; i++)
			if (c->serial[i].kind == SERIAL_STDIO)
				return err_say(err, errlen, -EINVAL, "-serial stdio cannot be used with -daemonize");
		if (c->gdb_wait)
			return err_say(err, errlen, -EINVAL, "-S with -daemonize: start the debugger first, "
				    "or run in the foreground");
	}
	/* QEMU: -nographic puts the first serial port on the terminal. */
	if (c->nographic && !c->nodefaults) {
		c->display_none = true;
		if (c->n_serial == 0 && !user_serials) {
			c->serial[0].kind = SERIAL_STDIO;
			c->n_serial = 1;
		}
	}
	return serial_devices(c, user_serials, err, errlen);
}

const char *config_usage(void)
{
	return "usage: v2e [options]\n"
	       "  -m SIZE              guest RAM (default 128M; k, M, G suffixes)\n"
	       "  -smp 1               vCPUs (one so far)\n"
	       "  -kernel FILE         Linux bzImage or Multiboot kernel\n"
	       "  -initrd FILE         initial ramdisk (Linux)\n"
	       "  -append CMDLINE      kernel command line\n"
	       "  -bios FILE           firmware image without -kernel (default SeaBIOS's\n"
	       "                       bios-256k.bin), 64 KiB to 16 MiB\n"
	       "  -L DIR               folder searched for the firmware image\n"
	       "  -hda..-hdd FILE      IDE disk images (raw or qcow2; probed, or -drive's\n"
	       "                       format=); -cdrom FILE the CD on ide1-cd0\n"
	       "  -fda/-fdb FILE       floppy images (360K, 720K, 1.2M, 1.44M, 2.88M)\n"
	       "  -drive file=F[,format=raw|qcow2][,if=ide|floppy|none][,index=N|bus=B,unit=U]\n"
	       "         [,media=disk|cdrom][,readonly=on][,cache=writeback|writethrough|\n"
	       "         none|directsync|unsafe][,snapshot=on][,id=ID]  a drive\n"
	       "  -snapshot            writes go to a temporary overlay, gone at exit\n"
	       "  -boot [order=]DEVS[,once=DEVS][,menu=on][,splash-time=MS]\n"
	       "        [,reboot-timeout=MS]  boot order (a floppy, c disk, d CD, n net;\n"
	       "                       default cad), menu, the wait after nothing boots\n"
	       "  -usb                 the PIIX3's UHCI (for -device usb-tablet, usb-kbd)\n"
	       "  -usbdevice tablet|keyboard  -usb with that device\n"
	       "  -debugcon DEV        QEMU's debug console at port 0xe9: file:PATH,\n"
	       "                       stdio, null or chardev:ID\n"
	       "  -chardev file,id=ID,path=PATH | stdio,id=ID | null,id=ID  a backend a\n"
	       "                       device names (chardev=ID)\n"
	       "  -serial DEV          stdio | file:PATH | none (COM1..COM4 in order)\n"
	       "  -nographic           no display; serial on the terminal\n"
	       "  -vga std|none        the standard VGA at 00:02.0 (default std)\n"
	       "  -vnc [HOST]:N|unix:PATH|none[,websocket[=[HOST:]PORT]][,to=L]\n"
	       "        [,password-secret=ID]  VNC server on port 5900+N (default with no\n"
	       "                       display option: localhost, the first free N; the\n"
	       "                       serial console on the terminal); websocket: noVNC\n"
	       "                       at http://HOST:PORT/vnc.html (default port 5700+N)\n"
	       "  -object secret,id=ID,file=PATH|data=TEXT  a password for password-secret\n"
	       "  -nodefaults          no default devices (no COM1 without -serial)\n"
	       "  -name NAME           the guest's name\n"
	       "  -pidfile FILE        write v2e's process ID to FILE\n"
	       "  -accel tcg, -M pc    the only accelerator and machine there are\n"
	       "  -rtc base=utc|localtime|DATE[,clock=host|rt|vm]  where the RTC starts\n"
	       "  -daemonize           detach once the VM is set up\n"
	       "  -display none|vnc=...  no display, or -vnc's\n"
	       "  -no-reboot           exit instead of resetting\n"
	       "  -icount [shift=]N[,sleep=off]  deterministic clock, 2^N ns per\n"
	       "                       instruction, jumping over idle time\n"
	       "  -device NAME[,id=ID][,PROP=V...]  add a device (-device help lists\n"
	       "                       them, -device NAME,help their properties), e.g.\n"
	       "                       isa-debug-exit[,iobase=N][,iosize=N]: writing V to\n"
	       "                       the port exits with (V << 1) | 1\n"
	       "  -dm process|inprocess  device models in a sandboxed v2e-dm process\n"
	       "                       (default) or called inside v2e\n"
	       "  -dm-split KIND[,KIND]  the devices of these kinds in a second v2e-dm\n"
	       "                       (isa-serial, i8042, port92, ...: -device help)\n"
	       "  -dm-timeout MS       longest wait for a device model's answer (10000)\n"
	       "  -tick-slack MS       how late an idle guest's periodic timer tick may\n"
	       "                       come (default 40; 0: every tick on time)\n"
	       "  -jit on|off          compile hot guest code to host code (default on;\n"
	       "                       off: the interpreter runs everything)\n"
	       "  -perfmap             name the generated code for perf in /tmp/perf-PID.map\n"
	       "  -d ITEM[,ITEM]       log what the guest does (int, in_asm, exec, cpu,\n"
	       "                       cpu_reset, guest_errors, unimp; -d help lists them)\n"
	       "  -D FILE              write the -d log to FILE instead of stderr\n"
	       "  -gdb DEV             GDB stub on tcp::PORT, tcp:HOST:PORT or unix:PATH\n"
	       "  -s                   -gdb tcp::1234\n"
	       "  -S                   do not start the vCPU until the debugger continues\n"
	       "  -version, -help\n";
}
