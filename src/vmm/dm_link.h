/* The vmm's side of one device model (an "ioreq server" in Xen's words):
 * either a sandboxed `v2e-dm` process behind an ioreq channel, or the
 * same board called directly (in-process transport). The vmm sees the
 * same thing either way: the device model's windows claimed in the vmm's
 * port and MMIO spaces, and its lines, exits, resets and RAM writes
 * arriving through `struct dm_link_host`.
 *
 * A device model is not trusted: every answer and event is checked, and
 * one that crashes, hangs past its timeout, breaks the protocol or makes
 * an impossible claim is cut off (its windows then read as all-ones) and
 * reported once through host->failed. */
#ifndef V2E_VMM_DM_LINK_H
#define V2E_VMM_DM_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/pci.h"
#include "dev/vclock.h"
#include "dm/board.h"
#include "dm/sandbox/sandbox.h"
#include "ioreq/chan.h"
#include "lib/compiler.h"
#include "mem/guest_mem.h"
#include "mem/region.h"

struct dm_link_host {
	struct region_map *ports, *mem;
	struct vclock *clock;
	struct guest_mem *gm;
	struct dma_space dma;      /* for the in-process board */
	bool icount;
	uint64_t start_host_ns;
	void *opaque;
	/* The virtual clock brought to the current instruction. */
	uint64_t (*now)(void *opaque);
	void (*set_line)(void *opaque, unsigned line, bool level);
	void (*exit)(void *opaque, int status, const char *why);
	void (*reset)(void *opaque);
	/* The dm wrote guest RAM (decoded code there is stale). */
	void (*dirty)(void *opaque, uint64_t gpa, uint64_t len);
	/* The dm is cut off; `why` names it and says what happened. */
	void (*failed)(void *opaque, const char *why);
	/* An MSI write (address in 0xfee00000-0xfeefffff, 32-bit data);
	 * NULL: the board has no MSI target, and a dm sending one is broken. */
	void (*msi)(void *opaque, uint64_t addr, uint32_t data);
	/* PCI bus 0: a dm's slot claims take free slots here, and config
	 * cycles to them are forwarded as IOREQ_TYPE_PCI_CONFIG. NULL: no
	 * PCI, slot claims are refused. */
	struct pci_bus *pci;
	/* The board's VRAM (dev/display.h), NULL when it has none: a window
	 * claimed with CTL_CLAIM_VRAM becomes this memory as guest RAM, with
	 * dirty logging on; *vram_region is that region while it exists
	 * (one at a time, whichever dm claims it). */
	uint8_t *vram;
	uint64_t vram_size;
	struct region **vram_region;
};

#define DM_LINK_MAX_CLAIMS 64
#define DM_LINK_MAX_SPECS 16

struct dm_link;

/* One of a dm's windows in the vmm's space (forwarded to the dm, or in
 * process the device's own ops), numbered as the dm claimed them. */
struct dm_claim {
	struct dm_link *link;
	struct region *reg;  /* NULL: no window by this number */
	uint8_t space;       /* CTL_SPACE_PIO or CTL_SPACE_MMIO */
	uint8_t type;        /* IOREQ_TYPE_PIO or IOREQ_TYPE_MMIO */
	bool buffered;
	char name[CTL_NAME_LEN];
};

struct dm_link_options {
	const char *name;          /* "dm0" */
	const char *dm_path;       /* the v2e-dm program */
	bool inprocess;
	uint64_t timeout_ns;       /* longest wait for an answer */
	uint64_t hostile_after;    /* test builds: --hostile */
};

struct dm_link {
	const struct dm_link_host *host;
	char name[CTL_NAME_LEN];
	bool inprocess;
	bool failed;
	uint64_t timeout_ns;
	/* out of process */
	struct sandbox_child child;
	int ctl;
	struct ioreq_chan chan;
	struct vtimer deadline; /* the dm's next timer, as a TIMER request */
	uint64_t deadline_at;
	/* Where each buffered write in the ring went, by ring slot: its
	 * window's number (IOREQ_PUB_WINDOWS: none that publishes), port
	 * offset, size and value, to judge it by the published rules. */
	struct dm_queued {
		uint8_t id, off, size;
		uint32_t value;
	} queued[IOREQ_BUF_SLOTS];
	struct dm_claim claim[DM_LINK_MAX_CLAIMS];
	unsigned n_claims;       /* numbers below this were used */
	/* PCI functions on bus 0 this dm owns, by the first function of
	 * each claim (link NULL: no claim starts there). */
	struct dm_pci_claim {
		struct dm_link *link;
		uint8_t slot, nfns;
		char name[CTL_NAME_LEN];
	} pci[PCI_SLOTS * PCI_FNS];
	uint64_t requests;
	/* in process */
	struct dm_board board;
};

/* Starts a device model with these devices (their fds are handed over
 * and closed here). 0, or -errno with err saying why (a refused claim, a
 * dm that died during setup, an unknown device). */
int dm_link_start(struct dm_link *l, const struct dm_link_options *o,
		  const struct dm_link_host *host, struct dm_device_spec *specs,
		  unsigned n_specs, char *err, size_t errlen) must_check;

/* Stops it (SHUTDOWN, then SIGKILL if it lingers) and frees it. */
void dm_link_stop(struct dm_link *l);

/* Applies what the dm queued on its own (events after host input); in
 * process, reads the board's host input. */
void dm_link_poll(struct dm_link *l);

/* End of a burst: buffered writes consumed and their events applied, so
 * their effects land at a deterministic point. */
void dm_link_sync(struct dm_link *l);

/* Devices back to power-on state (system reset). */
void dm_link_reset(struct dm_link *l);

/* Descriptors that wake a halted vCPU for this dm (events and its
 * death; in process, the board's host input): returns how many it wrote
 * (at most 2). Out of process they stay open, the same, for as long as
 * the link has not failed (the vCPU loop keeps them registered). */
unsigned dm_link_wake_fds(struct dm_link *l, int *fds);
/* The doorbell the dm rings while the vmm runs (ioreq.h, vmm_doorbell),
 * or NULL (in process, failed). dm_link_poll() clears it. */
const volatile uint32_t *dm_link_doorbell(const struct dm_link *l);
/* Around that sleep: the dm signals its events only while the vmm waits
 * for them. False: something arrived meanwhile (an event, a new
 * deadline); poll the link instead of sleeping. */
bool dm_link_wait_begin(struct dm_link *l);
void dm_link_wait_end(struct dm_link *l);
/* After a sleep that the first of dm_link_wake_fds() ended: takes the
 * signal, then applies the events (in process: reads the input). */
void dm_link_woken(struct dm_link *l);


/* Device state (lib/vstate.h) of the dm's devices. Save calls fn for
 * each device with state (its id and encoded state) and returns 0, fn's
 * non-zero value, or -EIO when the dm failed (the link is then cut).
 * Load hands the records over and returns 0, the dm's -errno when it
 * refused one (then no device changed), or -EIO. */
typedef int dm_state_fn(void *opaque, const char *id, const void *data, size_t len);
int dm_link_save(struct dm_link *l, dm_state_fn *fn, void *opaque);
struct dm_state_rec {
	const char *id;
	const void *data;
	size_t len;
};
int dm_link_load(struct dm_link *l, const struct dm_state_rec *recs, unsigned n);

/* Round-trip and buffered-write primitives, for the benchmark. */
uint64_t dm_link_pio_read(struct dm_link *l, uint16_t port, unsigned size);

/* REP INS/OUTS as one request: `count` elements of `size` bytes at
 * guest-physical `gpa` (must be RAM, one page), downwards if df. Returns
 * the elements done (0 if the port is not this dm's or it failed). */
uint32_t dm_link_pio_string(struct dm_link *l, uint16_t port, unsigned size,
			    bool in, uint64_t gpa, uint32_t count, bool df);

#endif
