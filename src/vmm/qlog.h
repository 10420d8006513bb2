/* QEMU's -d ITEM[,ITEM] and -D FILE for v2e: what the guest and the
 * emulator do, one line per event, to stderr or a file. The item names
 * and their meaning are QEMU's; the mask is the engine's (cpu.h,
 * cpu_log_item). One qlog belongs to one VM. */
#ifndef V2E_VMM_QLOG_H
#define V2E_VMM_QLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"

struct qlog {
	FILE *f;          /* NULL: logging off */
	unsigned mask;    /* cpu_log_item bits */
	size_t cs[3];     /* Capstone handles for 16, 32 and 64-bit code */
	bool cs_ok[3];
};

/* Parses -d's argument into `mask`. "help" sets *help and no mask. 0,
 * or -EINVAL with a line in err[n] naming the unknown item. */
int qlog_parse_items(const char *arg, unsigned *mask, bool *help, char *err,
		     size_t n);

/* The items with a line each, as `-d help` prints them. */
void qlog_print_help(FILE *out);

/* Starts logging `mask` to `path` (NULL: stderr). 0 or -errno. */
int qlog_open(struct qlog *q, unsigned mask, const char *path);
void qlog_close(struct qlog *q);
void qlog_flush(struct qlog *q);

/* The engine's sink, reporting into `q`. */
void qlog_cpu_sink(struct qlog *q, struct cpu_log_sink *sink);

static inline bool qlog_on(const struct qlog *q, unsigned item)
{
	return (q->mask & item) != 0;
}

/* guest_errors: an access nothing claims (`space` "port" or "mmio"), at
 * the instruction `cpu` is on (NULL: an engine without an emulator). */
void qlog_unclaimed(struct qlog *q, const char *space, uint64_t addr,
		    unsigned size, bool write, uint64_t value, struct cpu *cpu);

/* A free-form line under `item` (the vmm's own observations). */
void qlog_printf(struct qlog *q, unsigned item, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The whole register state, as for cpu_reset. */
void qlog_dump_state(struct qlog *q, const struct x86_state *s);

#endif
