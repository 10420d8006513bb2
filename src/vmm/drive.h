/* Disks on the command line, with QEMU's spelling: -drive and its
 * shorthands (-hda..-hdd, -cdrom, -fda/-fdb), -snapshot, and -boot's
 * order. Parsing only: the block backend opens the files (blk_host.h),
 * the board puts each drive on its controller. */
#ifndef V2E_VMM_DRIVE_H
#define V2E_VMM_DRIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

#define DRIVE_MAX 8
#define DRIVE_IDE_UNITS 4    /* two channels, master and slave */
#define DRIVE_FLOPPY_UNITS 2

enum drive_if { DRIVE_IF_IDE = 0, DRIVE_IF_FLOPPY, DRIVE_IF_NONE };
enum drive_media { DRIVE_MEDIA_DISK = 0, DRIVE_MEDIA_CDROM };
enum drive_cache {
	DRIVE_CACHE_WRITEBACK = 0, /* QEMU's default: flushes reach the disk */
	DRIVE_CACHE_WRITETHROUGH,  /* every write is stable before it completes */
	DRIVE_CACHE_NONE,          /* O_DIRECT, flushes reach the disk */
	DRIVE_CACHE_UNSAFE,        /* flushes ignored */
};

struct drive_config {
	char id[32];          /* id= or QEMU's name ("ide0-hd0", "ide1-cd0", "fda") */
	char file[1024];      /* "" : an empty CD-ROM or floppy drive */
	char format[16];      /* "" : probe (raw then warns, as QEMU does) */
	enum drive_if iface;
	int index;            /* IDE: bus * 2 + unit; floppy: 0/1; -1 until placed */
	enum drive_media media;
	bool read_only;
	bool snapshot;
	enum drive_cache cache;
};

/* -boot order=,once=,menu=,strict=,splash-time=,reboot-timeout= */
struct boot_config {
	char order[8];        /* QEMU's letters a, c, d, n; "" : QEMU's "cad" */
	char once[8];         /* for the first boot only; "" : none */
	bool menu;
	bool strict;
	int64_t fail_wait_ms; /* reboot-timeout: -1 never */
	int splash_ms;        /* -1: not given */
};

struct drive_list {
	struct drive_config d[DRIVE_MAX];
	unsigned n;
	bool snapshot_all;    /* -snapshot */
};

/* -drive ARG (key=value list; ",," is a comma inside a value). 0 or
 * -EINVAL with err naming the drive and the key. */
int drive_parse(struct drive_list *l, const char *arg, char *err, size_t n) must_check;
/* -hda FILE (hd 0..3), -cdrom FILE, -fda FILE (fd 0/1): QEMU's shorthands. */
int drive_add_hd(struct drive_list *l, unsigned index, const char *file, char *err,
		 size_t n) must_check;
int drive_add_cdrom(struct drive_list *l, const char *file, char *err, size_t n) must_check;
int drive_add_floppy(struct drive_list *l, unsigned index, const char *file, char *err,
		     size_t n) must_check;
/* After every option: places drives without an index on the free units
 * of their interface, refuses two on one unit, applies -snapshot, and
 * (unless `nodefaults`) adds QEMU's default empty CD-ROM on ide1-cd0 and
 * empty floppy drive A when those units are free. 0 or -EINVAL. */
int drive_finish(struct drive_list *l, bool nodefaults, char *err, size_t n) must_check;
/* The drive on IDE unit `index` (0..3) or floppy unit, or NULL. */
const struct drive_config *drive_at(const struct drive_list *l, enum drive_if iface,
				    unsigned index);

int boot_parse(struct boot_config *b, const char *arg, char *err, size_t n) must_check;
/* The CMOS bytes SeaBIOS reads its boot order from (0x3d, and 0x38's
 * high nibble) for `order` ("" : "cad"): 1 floppy, 2 hard disk, 3 CD-ROM,
 * 4 network, first device in the low nibble of 0x3d. */
void boot_cmos_order(const char *order, unsigned char *reg3d, unsigned char *reg38);

#endif
