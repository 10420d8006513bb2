/* Device kinds: what a device is, declared once in its own file. A kind
 * names the device, says where it runs (the vmm's platform core or a
 * device model), lists its typed properties with their defaults (what
 * `-device NAME,key=val,...` sets), and gives its operations. The boards
 * (the vmm's, a device model's) create devices from this table, and the
 * command line takes its names, errors and help from it; nothing else
 * lists the kinds.
 *
 * A device file ends with its row:
 *
 *     DEV_KIND(port92) = {
 *             .name = "port92", .help = "...", .where = DEV_IN_DM,
 *             .size = sizeof(struct port92), .create = port92_create, ...
 *     };
 *
 * DEV_KIND puts a pointer to the row in the `v2e_dev_kinds` section; the
 * linker's __start_/__stop_ symbols bound the table. Programs link the
 * device libraries whole (LINK_DEVS in the Makefile) so no row is left
 * out. The table has no order: lists are sorted by name, and a board
 * creates devices in the order its own list gives. */
#ifndef V2E_DEV_KIND_H
#define V2E_DEV_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dev/device.h"
#include "dev/dma.h"
#include "dev/vclock.h"
#include "lib/compiler.h"

struct vs_desc;

enum dev_where {
	DEV_IN_VMM = 1, /* platform core, in the vmm beside the vCPU */
	DEV_IN_DM = 2,  /* a device model (v2e-dm, or the in-process board) */
};

/* How `-device help` groups the kinds. */
enum dev_category {
	DEV_CAT_DISPLAY = 1,
	DEV_CAT_INPUT,
	DEV_CAT_MISC,
	DEV_CAT_PLATFORM,
	DEV_CAT_STORAGE,
	DEV_CAT_TEST,
	DEV_CAT_USB,
};

enum dev_prop_type {
	DEV_PROP_NUM = 1,  /* an unsigned number in [min, max]; 0x.. and 0.. too */
	DEV_PROP_BOOL,     /* on/off (yes/no, true/false) */
	DEV_PROP_STR,      /* text, at most DEV_STR_MAX - 1 bytes */
	DEV_PROP_CHARDEV,  /* a character backend: stdio, null, none, file:PATH */
};

#define DEV_MAX_PROPS 12
#define DEV_STR_MAX 256
#define DEV_NAME_MAX 32 /* kind, id and property names, NUL included */
#define DEV_MAX_FDS 4   /* host descriptors handed to one device */
#define DEV_MAX_LINES 4 /* lines one device drives */

struct dev_prop {
	const char *name;
	uint8_t type;         /* enum dev_prop_type */
	bool internal;        /* set by the board, never by -device */
	uint64_t min, max;    /* DEV_PROP_NUM */
	uint64_t dflt;        /* DEV_PROP_NUM, DEV_PROP_BOOL */
	const char *dflt_str; /* DEV_PROP_STR, DEV_PROP_CHARDEV (NULL: "") */
	const char *help;
};

/* A kind's property values, indexed like its `props`. */
struct dev_props {
	const struct dev_kind *kind;
	uint64_t num[DEV_MAX_PROPS];           /* numbers, bools (0/1) */
	char str[DEV_MAX_PROPS][DEV_STR_MAX];  /* strings, chardevs */
	uint32_t given;                        /* bit i: set explicitly */
};

/* Lines a board offers by number (the same numbers as the ioreq
 * protocol's lines below DEV_LINE_RESET). */
enum dev_line {
	DEV_LINE_ISA0 = 0,       /* ISA IRQ n is DEV_LINE_ISA0 + n */
	DEV_LINE_A20 = 16,       /* the vCPU's A20 gate, a level */
	DEV_LINE_PIRQA = 17,     /* PCI PIRQA#..PIRQD# (17-20): pci_intx_pirq() */
	DEV_LINE_RESET = 21,     /* a rising edge resets the system */
	DEV_LINE_COUNT = 22,
};

/* What a board gives a device it creates. The context lives as long as
 * the device, so a device may keep the pointer (to claim, raise lines or
 * end the VM later). */
struct dev_ctx {
	const char *id;             /* the instance's name ("com1") */
	struct vclock *clock;
	const struct dma_space *dma;
	const int *fds;             /* host resources from host_open, owned */
	unsigned n_fds;             /* by the board (closed after destroy) */
	void *board;
	/* Claims a window (space: DEV_SPACE_*, flags: DEV_CLAIM_*). 0 or
	 * -errno, with the board having said why. */
	int (*claim)(const struct dev_ctx *c, unsigned space, uint64_t base,
		     uint64_t len, unsigned flags, const struct io_ops *ops,
		     void *opaque);
	/* A new source driving board line `line` (enum dev_line); NULL when
	 * the board has no such line or the device has too many. */
	const struct irq_line *(*line)(const struct dev_ctx *c, unsigned line);
	/* Ends the VM with a status (isa-debug-exit, the console's quit key). */
	void (*exit)(const struct dev_ctx *c, int status, const char *why);
	/* Changes one of the device's windows while the guest runs, found by
	 * its space and current base: op DEV_WIN_MOVE to new_base,
	 * DEV_WIN_ENABLE, DEV_WIN_DISABLE, DEV_WIN_REMOVE (a claim after
	 * setup adds one). 0 or -errno (-EBUSY: the move would overlap). The
	 * guest's next instruction sees the change (PCI BARs, VGA windows). */
	int (*window)(const struct dev_ctx *c, unsigned space, uint64_t base,
		      unsigned op, uint64_t new_base);
	/* The clock is deterministic (-icount): what the guest sees must not
	 * depend on the host, so work done by another process (a disk read)
	 * is waited for at a virtual time the device chooses. */
	bool icount;
	/* Another device on the same board, by kind name: the first one of
	 * that kind, never the caller; NULL when the board has none. This is
	 * how an ISA device reaches the bus's DMA controller ("i8237", whose
	 * contract is dm/hw/i8237.h): the instance is the kind's own struct
	 * and lives as long as the board. The board creates devices in its
	 * list order, so a device finds in its create only those listed
	 * before it; one that may be listed first looks again at first use.
	 * Optional for a board: NULL means no device has peers. */
	void *(*peer)(const struct dev_ctx *c, const char *kind);
};

enum { DEV_WIN_MOVE = 2, DEV_WIN_ENABLE = 3, DEV_WIN_DISABLE = 4, DEV_WIN_REMOVE = 5 };

/* DEV_SPACE_PCI: functions on PCI bus 0 (base = PCI_DEVFN(slot, fn),
 * len = how many, within the slot), their config space behind the ops
 * (offset = function << 8 | register, dev/pci.h); claimed at setup only. */
enum { DEV_SPACE_PIO = 0, DEV_SPACE_MMIO = 1, DEV_SPACE_PCI = 2 };
#define DEV_CLAIM_BUFFERED 0x1 /* writes need no reply */
#define DEV_CLAIM_VRAM 0x2     /* the board's VRAM, mapped as RAM (dev/display.h) */

/* A named blob the vmm built for the firmware (ACPI tables and their
 * loader script): fw_cfg serves each as a file. */
struct dev_fw_file {
	const char *name;
	const void *data;
	size_t len;
};
#define DEV_FW_FILES_MAX 8

/* What the vmm knows of the machine, for a kind's host_open. */
struct dev_machine {
	uint64_t ram_bytes;
	const char *kernel, *initrd, *append; /* NULL when not given */
	bool nographic;
	bool tty;                             /* stdin is a terminal */
	uint32_t boot_fail_wait;              /* -boot reboot-timeout (ms) */
	bool boot_menu;                       /* -boot menu=on */
	int32_t boot_menu_wait;               /* -boot splash-time (ms), -1: not given */
	const struct dev_fw_file *fw_files;
	unsigned n_fw_files;
	/* The display (dev/display.h), -1 each when there is none: VRAM's
	 * memfd, the shared page's memfd, and the device model's end of the
	 * display's input socket. host_open dups what its kind needs. */
	int vram_fd, display_shm_fd, display_input_fd;
};

struct dev_kind {
	const char *name;
	const char *help;
	uint8_t where;     /* enum dev_where */
	uint8_t category;  /* enum dev_category */
	bool user;         /* -device may create it */
	bool unique;       /* one per machine */
	const struct dev_prop *props;
	unsigned n_props;
	size_t size;       /* the instance the board allocates (zeroed) */

	/* Checks a combination of properties that each are in range (the
	 * command line runs it, and the board before create). Optional; 0
	 * or -EINVAL with err naming the kind and the properties. */
	int (*check)(const struct dev_props *p, char *err, size_t n);
	/* In the vmm before the device model starts (and before lockdown):
	 * opens the host resources the device needs and appends them to
	 * fds (at most DEV_MAX_FDS); may rewrite internal properties to say
	 * what it opened. 0, or -errno with err naming the resource. */
	int (*host_open)(struct dev_props *p, const struct dev_machine *m,
			 int *fds, unsigned *n_fds, char *err, size_t n);
	/* Creates the device in `dev` from checked properties: claims its
	 * windows, takes its lines. 0, or -errno with err saying why. */
	int (*create)(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		      char *err, size_t n);
	void (*reset)(void *dev);           /* power-on state; optional */
	void (*destroy)(void *dev);         /* frees what create took; optional */
	/* Host input (optional): the descriptor to watch now (-1: none), and
	 * a call each round, `readable` when that descriptor had input;
	 * returns whether it served the descriptor. */
	int (*input_fd)(void *dev);
	bool (*input)(void *dev, bool readable);
	/* Optional: whether its descriptor's input waits, by a look at
	 * memory only (no system call). A device model busy serving one
	 * request after another never gets to poll descriptors; it asks this
	 * between requests, so a guest polling a busy disk does not hold off
	 * the completion it waits for. input() then runs as if the
	 * descriptor were readable. */
	bool (*ready)(void *dev);
	/* Optional: whether it waits for input another process will send
	 * (a disk request in flight), by a look at memory only. While one
	 * does, the device model sleeps on the descriptors instead of
	 * spinning, and leaves its CPU to that process. */
	bool (*waiting)(void *dev);
	/* Writes out output held back (when the device model goes idle). */
	void (*flush)(void *dev);
	/* Finishes work in flight in another process (a disk request), so
	 * that the state is whole: the board calls it before saving.
	 * Optional. */
	void (*quiesce)(void *dev);
	/* Versioned state (lib/vstate.h): the instance starts with the struct it
	 * describes. Every kind has one (a stateless one with no fields). */
	const struct vs_desc *state;
};

#define DEV_KIND(ident)                                                       \
	static const struct dev_kind ident##_kind;                             \
	static const struct dev_kind *const ident##_kind_row                   \
		__attribute__((section("v2e_dev_kinds"), used, aligned(8))) =  \
			&ident##_kind;                                         \
	static const struct dev_kind ident##_kind

#define DEV_PROPS(a) .props = (a), .n_props = ARRAY_SIZE(a)

/* The kinds in this program, sorted by name: how many there are, and the
 * first `max` of them in out. */
size_t dev_kinds(const struct dev_kind **out, size_t max);
const struct dev_kind *dev_kind_find(const char *name);
/* "a, b, c": the kinds running `where` (0: all), for messages. */
void dev_kind_names(char *buf, size_t n, unsigned where, bool user_only);

/* Every property at its default. */
void dev_props_init(struct dev_props *p, const struct dev_kind *k);
/* Index of a property, or -1. */
int dev_prop_find(const struct dev_kind *k, const char *name);
/* Sets one property from text. `user`: refuses internal properties.
 * 0, or -EINVAL with err naming the kind, the property and the value. */
int dev_prop_parse(struct dev_props *p, const char *key, const char *val,
		   bool user, char *err, size_t n) must_check;
/* Parses "key=val,key=val" (the part of -device after the name). */
int dev_props_parse(struct dev_props *p, const char *list, char *err,
		    size_t n) must_check;
/* Checks every value against its property (a number's range, a bool's
 * 0/1, a string's terminator): for values that crossed a process
 * boundary. 0 or -EINVAL with err naming the property. */
int dev_props_check(const struct dev_props *p, char *err, size_t n) must_check;

/* -device help: the kinds grouped by category; -device NAME,help: one
 * kind's properties with their types and defaults. */
void dev_kinds_help(FILE *f);
void dev_kind_help(FILE *f, const struct dev_kind *k);

#endif
