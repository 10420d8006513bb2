/* One device-model process's server: the devices of its board behind an
 * ioreq channel, serving the vmm's requests (src/dm/main.c is the
 * program around it). */
#ifndef V2E_DM_DM_H
#define V2E_DM_DM_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/pci.h"
#include "dev/vclock.h"
#include "dm/board.h"
#include "ioreq/chan.h"
#include "mem/guest_mem.h"
#include "mem/region.h"

#define DM_MAX_WINDOWS 64 /* the vmm's DM_LINK_MAX_CLAIMS */

/* A device state received from the vmm, waiting for LOAD. */
struct dm_staged_state {
	char id[CTL_NAME_LEN];
	uint8_t *data;
	size_t len;
};

struct dm {
	char name[CTL_NAME_LEN];
	int ctl;                 /* control socket to the vmm */
	struct guest_mem gm;
	struct ioreq_chan chan;
	struct vclock clock;
	struct region_map ports, mmio;
	/* Its windows, numbered in claim order as the vmm numbers them
	 * (ioreq.h, IOREQ_EV_WINDOW); NULL: a number not in use. */
	struct dm_window {
		struct region *reg;
		unsigned space;
	} win[DM_MAX_WINDOWS];
	unsigned n_win;          /* numbers below this were used */
	/* What it last published (ioreq.h, "Published reads"), and which
	 * windows have any of it. */
	uint32_t pub[IOREQ_PUB_WINDOWS][IOREQ_PUB_PORTS];
	bool pub_any[IOREQ_PUB_WINDOWS];
	struct dm_pci_fn {       /* config space by function on bus 0 */
		const struct io_ops *ops;
		void *opaque;
		const char *name;
	} pci[PCI_SLOTS * PCI_FNS]; /* by PCI_DEVFN() */
	struct dm_board board;
	struct dm_staged_state staged[DM_MAX_DEVICES];
	unsigned n_staged;
	bool icount;
	uint64_t start_host_ns;
	/* Serving a batch whose end signals the vmm (a reply, or a kick):
	 * the events it posts go out without a signal each. */
	bool kick_later;
	bool serving;            /* setup is over: claims become ADD events */
	bool stop;
	int exit_code;
	/* test builds: misbehave after this many requests (0: never) */
	uint64_t hostile_after;
	uint64_t served;
	uint64_t rng;
};

/* Receives SETUP, the devices and START on `ctl`, builds the board and
 * claims its windows. 0 or -errno (the vmm has been sent FATAL). */
int dm_setup(struct dm *dm, int ctl);
/* Serves until SHUTDOWN or the vmm's end; returns the exit code. */
int dm_serve(struct dm *dm);
void dm_destroy(struct dm *dm);

/* Tells the vmm why this dm gives up (best effort). */
void dm_fatal(struct dm *dm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
