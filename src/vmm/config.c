/* Command-line parsing for `v2e` (see config.h). The table below is the
 * whole interface: a QEMU option either has a row here or is refused by
 * name. Both -opt and --opt are accepted, as QEMU does. */
#include "vmm/config.h"
#include "vmm/qlog.h"
#include "vmm/gdbstub.h"

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

static int fail(char *err, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

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
		return fail(err, n, "-m: only a size is supported (no slots or maxmem): '%s'", arg);
	if (config_parse_size(arg, 1ull << 20, &v) < 0)
		return fail(err, n, "-m: invalid size '%s'", arg);
	if (v < RAM_MIN || v > RAM_MAX)
		return fail(err, n, "-m: %s is outside 2M..64G", arg);
	c->ram_bytes = (v + 0xfff) & ~0xfffull;
	return 0;
}

static int opt_smp(struct vm_config *c, const char *arg, char *err, size_t n)
{
	uint64_t v;
	const char *num = !strncmp(arg, "cpus=", 5) ? arg + 5 : arg;
	if (strchr(num, ',') || parse_num(num, 4096, &v) < 0 || v == 0)
		return fail(err, n, "-smp: invalid '%s'", arg);
	if (v != 1)
		return fail(err, n, "-smp %s: v2e runs one vCPU so far", arg);
	c->smp = (unsigned)v;
	return 0;
}

static int opt_serial(struct vm_config *c, const char *arg, char *err, size_t n)
{
	struct serial_config *s;
	if (c->n_serial == CONFIG_MAX_SERIAL)
		return fail(err, n, "-serial: at most %d ports (COM1-COM4)", CONFIG_MAX_SERIAL);
	s = &c->serial[c->n_serial];
	if (!strcmp(arg, "mon:stdio"))
		return fail(err, n, "-serial mon:stdio: v2e has no monitor yet; use -serial stdio "
			    "(Ctrl-A X quits, Ctrl-A H lists the keys)");
	if (!strcmp(arg, "stdio")) {
		s->kind = SERIAL_STDIO;
	} else if (!strcmp(arg, "none") || !strcmp(arg, "null")) {
		s->kind = SERIAL_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		s->kind = SERIAL_FILE;
		s->path = arg + 5;
	} else {
		return fail(err, n, "-serial %s: supported are stdio, file:PATH and none", arg);
	}
	for (unsigned i = 0; i < c->n_serial; i++)
		if (s->kind == SERIAL_STDIO && c->serial[i].kind == SERIAL_STDIO)
			return fail(err, n, "-serial stdio: only one port can use the terminal");
	c->n_serial++;
	return 0;
}

static int opt_display(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (strcmp(arg, "none"))
		return fail(err, n, "-display %s: only 'none' is supported so far", arg);
	c->display_none = true;
	return 0;
}

#ifdef V2E_TEST_DEVICES
/* -device test-sandbox|test-dma,iobase=N: test builds only (dm/test_devices.h). */
static int opt_test_device(struct vm_config *c, const char *arg, const char *kind,
			   char *save, char *err, size_t n)
{
	uint64_t base = 0;
	char *tok;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (strncmp(tok, "iobase=", 7) || parse_num(tok + 7, 0xfff8, &base) < 0)
			return fail(err, n, "-device %s: invalid property '%s'", kind, tok);
	}
	if (!base || c->n_test_devices == CONFIG_MAX_TEST_DEVICES)
		return fail(err, n, "-device %s: needs iobase=N (at most %d test devices)",
			    arg, CONFIG_MAX_TEST_DEVICES);
	c->test_device[c->n_test_devices] = !strcmp(kind, "test-dma") ? "test-dma"
								       : "test-sandbox";
	c->test_device_base[c->n_test_devices++] = (uint16_t)base;
	return 0;
}
#endif

/* -dm process|inprocess */
static int opt_dm(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (!strcmp(arg, "inprocess"))
		c->dm_inprocess = true;
	else if (!strcmp(arg, "process"))
		c->dm_inprocess = false;
	else
		return fail(err, n, "-dm %s: 'process' (default) or 'inprocess'", arg);
	return 0;
}

/* -dm-split DEV[,DEV...]: these devices in a second device model. */
static int opt_dm_split(struct vm_config *c, const char *arg, char *err, size_t n)
{
	static const char *const known[] = {"uart", "i8042", "port92", "post",
					    "isa-debug-exit", "test-sandbox", "test-dma"};
	const char *p = arg;
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			if (strlen(known[k]) == len && !strncmp(known[k], p, len)) {
				if (c->n_dm_split == CONFIG_MAX_DM_SPLIT)
					return fail(err, n, "-dm-split: too many devices");
				c->dm_split[c->n_dm_split++] = known[k];
				found = true;
			}
		}
		if (!found)
			return fail(err, n, "-dm-split: unknown device '%.*s' (devices: uart, "
				    "i8042, port92, post, isa-debug-exit)", (int)len, p);
		p += len + (p[len] == ',');
	}
	return 0;
}

static int opt_dm_timeout(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (parse_num(arg, 3600000, &c->dm_timeout_ms) < 0 || !c->dm_timeout_ms)
		return fail(err, n, "-dm-timeout %s: milliseconds, 1..3600000", arg);
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
		return fail(err, n, "-jit %s: 'on' (default) or 'off'", arg);
	return 0;
}

#ifdef V2E_TEST_DEVICES
static int opt_dm_hostile(struct vm_config *c, const char *arg, char *err, size_t n)
{
	if (parse_num(arg, 1000000000, &c->dm_hostile) < 0 || !c->dm_hostile)
		return fail(err, n, "-dm-hostile %s: a request count", arg);
	return 0;
}
#endif

/* -device isa-debug-exit[,iobase=N][,iosize=N] */
static int opt_device(struct vm_config *c, const char *arg, char *err, size_t n)
{
	char buf[256];
	char *save, *tok;
	uint64_t base = 0x501, size = 0x02; /* QEMU's defaults */

	if (strlen(arg) >= sizeof(buf))
		return fail(err, n, "-device: argument too long");
	strcpy(buf, arg);
	tok = strtok_r(buf, ",", &save);
#ifdef V2E_TEST_DEVICES
	if (tok && (!strcmp(tok, "test-sandbox") || !strcmp(tok, "test-dma")))
		return opt_test_device(c, arg, tok, save, err, n);
#endif
	if (!tok || strcmp(tok, "isa-debug-exit"))
		return fail(err, n, "-device %s: unsupported device (supported: isa-debug-exit)", arg);
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strncmp(tok, "iobase=", 7)) {
			if (parse_num(tok + 7, 0xffff, &base) < 0)
				return fail(err, n, "-device isa-debug-exit: invalid %s", tok);
		} else if (!strncmp(tok, "iosize=", 7)) {
			if (parse_num(tok + 7, 4, &size) < 0 || size == 0 || size == 3)
				return fail(err, n, "-device isa-debug-exit: invalid %s (1, 2 or 4)", tok);
		} else {
			return fail(err, n, "-device isa-debug-exit: unknown property '%s'", tok);
		}
	}
	if (base + size > 0x10000)
		return fail(err, n, "-device isa-debug-exit: ports beyond 0xffff");
	if (c->debug_exit)
		return fail(err, n, "-device isa-debug-exit: given twice");
	c->debug_exit = true;
	c->debug_exit_base = (uint16_t)base;
	c->debug_exit_size = (uint16_t)size;
	return 0;
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
		return fail(err, n, "-icount: argument too long");
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		/* v2e's deterministic clock jumps over idle time: QEMU's
		 * sleep=off. */
		if (!strcmp(tok, "sleep=off"))
			continue;
		if (!strcmp(tok, "sleep=on"))
			return fail(err, n, "-icount sleep=on: not supported by v2e yet (its "
				    "deterministic clock jumps over idle time, as sleep=off)");
		if (!strncmp(tok, "shift=", 6))
			tok += 6;
		if (!strcmp(tok, "auto"))
			return fail(err, n, "-icount auto: v2e's icount is always deterministic; "
				    "give a shift");
		if (parse_num(tok, 10, &v) < 0)
			return fail(err, n, "-icount: invalid '%s' (shift=0..10, sleep=off)", tok);
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
		return fail(err, n, "-gdb %s: tcp::PORT, tcp:HOST:PORT or unix:PATH"
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
	return fail(err, n, "-accel %s: v2e runs guests on its own emulator only "
		    "('tcg'); hardware virtualization is not supported yet", arg);
}

/* -M / -machine pc[,...]: the only machine (QEMU's i440FX PC). */
static int opt_machine(struct vm_config *c, const char *arg, char *err, size_t n)
{
	size_t len = strcspn(arg, ",");
	if (!strncmp(arg, "type=", 5))
		return opt_machine(c, arg + 5, err, n);
	if (!strcmp(arg, "help"))
		return fail(err, n, "-machine: v2e has one machine, 'pc'");
	if (len != 2 || strncmp(arg, "pc", 2) || arg[len])
		return fail(err, n, "-machine %s: v2e has one machine, 'pc' (no machine "
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
		return fail(err, n, "-rtc: argument too long");
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
				return fail(err, n, "-rtc %s: base is utc, localtime, or a date "
					    "such as 2006-06-17T16:01:21 or 2006-06-17 (1970 on)",
					    tok);
			c->rtc_base = RTC_BASE_DATE;
			c->rtc_date = (int64_t)timegm(&tm);
		} else if (strcmp(tok, "clock=host") && strcmp(tok, "clock=rt") &&
			   strcmp(tok, "clock=vm") && strcmp(tok, "driftfix=none") &&
			   strcmp(tok, "driftfix=slew")) {
			return fail(err, n, "-rtc: unknown or unsupported '%s' (base=utc|localtime|"
				    "DATE, clock=host|rt|vm, driftfix=none|slew)", tok);
		}
	}
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
	{"device", ARG, opt_device, 0},
	{"icount", OPT_ARG, opt_icount, 0},
	{"dm", ARG, opt_dm, 0},
	{"dm-split", ARG, opt_dm_split, 0},
	{"dm-timeout", ARG, opt_dm_timeout, 0},
	{"jit", ARG, opt_jit, 0},
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
	"bios", "drive", "hda", "hdb", "cdrom", "boot", "vnc", "qmp",
	"monitor", "netdev", "net", "cpu", "machine", "M", "enable-kvm", "accel",
	"chardev", "vga", "usb", "global", "object",
	"nic", "snapshot", "k", "hdc", "hdd", "fda", "fdb", "sd",
	"mtdblock", "pflash", "blockdev", "fsdev", "virtfs", "usbdevice",
	"soundhw", "audiodev", "spice", "sdl", "curses", "full-screen",
	"g", "mem-path", "mem-prealloc", "numa", "overcommit", "icount-align",
	"L", "option-rom", "fw_cfg", "smbios", "acpitable", "uuid", "incoming",
	"loadvm", "watchdog", "watchdog-action", "runas", "chroot", "sandbox",
	"singlestep", "trace", "plugin", "qtest", "semihosting", "tpmdev",
	"add-fd", "parallel", "virtioconsole", "mon", "debugcon", "no-acpi",
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
	memset(c, 0, sizeof(*c));
	c->ram_bytes = RAM_DEFAULT;
	c->smp = 1;
	c->icount_shift = 3; /* 8 ns per instruction: a 125 MHz guest */
	c->debug_exit_base = 0x501;
	c->debug_exit_size = 2;
	c->dm_timeout_ms = 10000;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name;
		const struct option_row *o;
		const char *val = NULL;
		int r;

		if (a[0] != '-' || !a[1])
			return fail(err, errlen, "unexpected argument '%s' (options start with -)", a);
		name = a[1] == '-' ? a + 2 : a + 1;
		o = find_option(name);
		if (!o) {
			if (is_not_yet(name))
				return fail(err, errlen, "option -%s is not supported by v2e yet", name);
			return fail(err, errlen, "unknown option -%s", name);
		}
		if (o->arg == ARG) {
			if (i + 1 >= argc)
				return fail(err, errlen, "option -%s needs an argument", name);
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
		} else if (!strcmp(name, "nographic")) {
			c->nographic = true;
		} else if (!strcmp(name, "no-reboot")) {
			c->no_reboot = true;
		} else if (!strcmp(name, "perfmap")) {
			c->perf_map = true;
		} else if (!strcmp(name, "version")) {
			c->version = true;
		} else {
			c->help = true;
		}
	}
	if (c->gdb_wait && !c->gdb)
		return fail(err, errlen, "-S waits for a debugger to start the guest: give -s "
			    "or -gdb (v2e has no monitor yet)");
	if ((c->initrd || c->append) && !c->kernel)
		return fail(err, errlen, "-%s needs -kernel", c->initrd ? "initrd" : "append");
	/* No display exists yet: without any display or serial choice,
	 * behave as -nographic (main says so) rather than print nothing. */
	if (!c->nographic && !c->display_none && c->n_serial == 0 && !c->nodefaults) {
		c->nographic = true;
		c->implied_nographic = true;
	}
	if (c->daemonize) {
		/* A daemon has no terminal (QEMU refuses the same). */
		if (c->implied_nographic)
			return fail(err, errlen, "-daemonize: no display yet, and a daemon has no "
				    "terminal: give -display none (and -serial file:PATH or none)");
		if (c->nographic)
			return fail(err, errlen, "-nographic cannot be used with -daemonize");
		for (unsigned i = 0; i < c->n_serial; i++)
			if (c->serial[i].kind == SERIAL_STDIO)
				return fail(err, errlen, "-serial stdio cannot be used with -daemonize");
		if (c->gdb_wait)
			return fail(err, errlen, "-S with -daemonize: start the debugger first, "
				    "or run in the foreground");
	}
	/* QEMU: -nographic puts the first serial port on the terminal. */
	if (c->nographic && !c->nodefaults) {
		c->display_none = true;
		if (c->n_serial == 0) {
			c->serial[0].kind = SERIAL_STDIO;
			c->n_serial = 1;
		}
	}
	return 0;
}

const char *config_usage(void)
{
	return "usage: v2e [options]\n"
	       "  -m SIZE              guest RAM (default 128M; k, M, G suffixes)\n"
	       "  -smp 1               vCPUs (one so far)\n"
	       "  -kernel FILE         Linux bzImage or Multiboot kernel\n"
	       "  -initrd FILE         initial ramdisk (Linux)\n"
	       "  -append CMDLINE      kernel command line\n"
	       "  -serial DEV          stdio | file:PATH | none (COM1..COM4 in order)\n"
	       "  -nographic           no display; serial on the terminal (also the\n"
	       "                       default: v2e has no display yet)\n"
	       "  -nodefaults          no default devices (no COM1 without -serial)\n"
	       "  -name NAME           the guest's name\n"
	       "  -pidfile FILE        write v2e's process ID to FILE\n"
	       "  -accel tcg, -M pc    the only accelerator and machine there are\n"
	       "  -rtc base=utc|localtime|DATE[,clock=host|rt|vm]  where the RTC starts\n"
	       "  -daemonize           detach once the VM is set up (needs -display none)\n"
	       "  -display none        no display\n"
	       "  -no-reboot           exit instead of resetting\n"
	       "  -icount [shift=]N[,sleep=off]  deterministic clock, 2^N ns per\n"
	       "                       instruction, jumping over idle time\n"
	       "  -device isa-debug-exit[,iobase=N][,iosize=N]\n"
	       "                       writing V to the port exits with (V << 1) | 1\n"
	       "  -dm process|inprocess  device models in a sandboxed v2e-dm process\n"
	       "                       (default) or called inside v2e\n"
	       "  -dm-split DEV[,DEV]  these devices in a second v2e-dm (uart, i8042,\n"
	       "                       port92, post, isa-debug-exit)\n"
	       "  -dm-timeout MS       longest wait for a device model's answer (10000)\n"
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
