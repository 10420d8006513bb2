/* One device-model process's server: the devices of its board behind an
 * ioreq channel, serving the vmm's requests (src/dm/main.c is the
 * program around it). */
#ifndef V2E_DM_DM_H
#define V2E_DM_DM_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/iospace.h"
#include "dev/vclock.h"
#include "dm/board.h"
#include "ioreq/chan.h"
#include "mem/guest_mem.h"

#define DM_PCI_SLOTS 32

struct dm {
	char name[CTL_NAME_LEN];
	int ctl;                 /* control socket to the vmm */
	struct guest_mem gm;
	struct ioreq_chan chan;
	struct vclock clock;
	struct iospace ports, mmio;
	struct io_window pci[DM_PCI_SLOTS]; /* config space by slot on bus 0 */
	struct dm_board board;
	bool icount;
	uint64_t start_host_ns;
	bool in_request;         /* events go out with the reply: no kick */
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
