/* The `v2e` command line: QEMU's spelling and meaning for the options v2e
 * supports (DESIGN.md, "Interfaces users rely on"), parsed into one plain
 * struct. An option v2e does not support is an error that names it. */
#ifndef V2E_VMM_CONFIG_H
#define V2E_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/kind.h"
#include "vmm/display_host.h"
#include "vmm/drive.h"

#define V2E_VERSION "0.1"

#define CONFIG_MAX_SERIAL 4
#define CONFIG_MAX_DM_SPLIT 8
#define CONFIG_MAX_DEVICES 16
#define CONFIG_MAX_CHARDEVS 8
#define CONFIG_MAX_BIOS_DIRS 4

enum serial_kind {
	SERIAL_NONE,  /* the port exists, output goes nowhere */
	SERIAL_STDIO, /* the terminal (raw mode when it is one) */
	SERIAL_FILE,  /* file:PATH, output only */
};

struct serial_config {
	enum serial_kind kind;
	const char *path;
};

/* One device the command line asks for (-device, -serial, the default
 * COM1): a kind from the table with its properties. */
struct dev_config {
	char id[DEV_NAME_MAX];  /* "" : the board names it */
	struct dev_props props; /* props.kind: the kind */
};

/* -chardev BACKEND,id=ID[,path=PATH]: a named backend a device's
 * chardev= property may give, as the spelling a property takes
 * ("file:PATH", "stdio", "null"). */
struct chardev_config {
	char id[DEV_NAME_MAX];
	char spec[DEV_STR_MAX];
};

struct vm_config {
	uint64_t ram_bytes;
	unsigned smp;
	const char *kernel, *initrd, *append;
	/* Without -kernel: the firmware image (-bios, by default SeaBIOS's
	 * bios-256k.bin), looked up as given, then in the -L folders, then
	 * in the system's firmware folders. */
	const char *bios;
	const char *bios_dirs[CONFIG_MAX_BIOS_DIRS];
	unsigned n_bios_dirs;
	/* -boot: the order, menu, and how long the firmware waits after "no
	 * bootable device" before it resets (fail_wait_ms -1, QEMU's
	 * default: never). */
	struct boot_config boot;
	/* -drive, -hda.., -cdrom, -fda.., -snapshot */
	struct drive_list drives;
	struct chardev_config chardev[CONFIG_MAX_CHARDEVS];
	unsigned n_chardev;
	/* -device and -debugcon arguments, parsed once every -chardev is
	 * known (QEMU lets -chardev follow the device that names it). */
	const char *device_arg[CONFIG_MAX_DEVICES];
	unsigned n_device_arg;
	const char *debugcon_arg[CONFIG_MAX_DEVICES];
	unsigned n_debugcon_arg;
	struct serial_config serial[CONFIG_MAX_SERIAL];
	unsigned n_serial;     /* -serial options given */
	bool nographic;
	bool display_none;
	bool no_reboot;
	bool icount;           /* deterministic clock */
	unsigned icount_shift; /* virtual ns per instruction = 2^shift */
	bool no_jit;           /* -jit off: the emulator interprets only */
	uint64_t tick_slack_ns; /* -tick-slack: how late an idle guest's tick may be */
	bool perf_map;         /* -perfmap: /tmp/perf-PID.map for perf */
	/* Devices besides the board's own: the COM ports of -serial (and the
	 * default COM1) first, then each -device in order. */
	struct dev_config dev[CONFIG_MAX_DEVICES];
	unsigned n_dev;
	unsigned n_com;                      /* isa-serial devices among them */
	bool stdio_dev;                      /* one of them is on the terminal */
	bool device_help;                    /* -device help */
	const struct dev_kind *device_props; /* -device NAME,help */
	/* Device models (v2e's own options; QEMU has no such boundary). */
	bool dm_inprocess;       /* -dm inprocess: devices called directly */
	const char *dm_split[CONFIG_MAX_DM_SPLIT]; /* -dm-split: to a second dm */
	unsigned n_dm_split;
	uint64_t dm_timeout_ms;  /* -dm-timeout: longest wait for an answer */
	uint64_t dm_hostile;     /* -dm-hostile N (test builds) */
	const char *gdb;         /* -gdb DEV / -s: the GDB stub listens there */
	bool gdb_wait;           /* -S: the vCPU waits for the debugger */
	bool help, version;
	/* -d ITEM[,ITEM] (cpu_log_item bits; -d help sets log_help) and -D FILE */
	unsigned log_mask;
	bool log_help;
	const char *log_file;
	const char *name;        /* -name: the guest's name (the process title) */
	const char *pidfile;     /* -pidfile: v2e's PID written there */
	bool nodefaults;         /* -nodefaults: no COM1 unless -serial asks */
	bool usb;                /* -usb: the PIIX3's UHCI (00:01.2) on the board */
	bool implied_serial;     /* no display or serial option: COM1 on the terminal */
	/* -vga, -vnc, -display, -object secret (display_host.h) */
	struct display_config display;
	bool daemonize;          /* -daemonize: detach once the VM is set up */
	/* -rtc base=: where the RTC starts (RTC_BASE_DATE: rtc_date, seconds
	 * since the epoch, UTC) */
	enum { RTC_BASE_UTC, RTC_BASE_LOCALTIME, RTC_BASE_DATE } rtc_base;
	int64_t rtc_date;
};

/* Fills `c` from argv (argv[0] is the program). Returns 0, or -EINVAL
 * with a one-line reason in err[errlen] naming the option at fault. */
int config_parse(struct vm_config *c, int argc, char **argv, char *err,
		 size_t errlen);

/* Parses a size with QEMU's suffixes (k, M, G, T; default unit given as
 * a multiplier, so "-m 512" means MiB). Returns 0 or -EINVAL. */
int config_parse_size(const char *s, uint64_t default_unit, uint64_t *out);

const char *config_usage(void);

#endif
