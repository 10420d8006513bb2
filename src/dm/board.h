/* A device model's board: the devices one dm runs, created from a list of
 * specs (a kind from dev/kind.h with its properties, an id, host fds),
 * with their windows claimed and their lines wired through a small host
 * contract. The same board runs
 * inside `v2e-dm` behind the ioreq channel and inside the vmm for the
 * in-process transport; neither the board nor its devices know which. */
#ifndef V2E_DM_BOARD_H
#define V2E_DM_BOARD_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/dma.h"
#include "dev/kind.h"
#include "dev/vclock.h"
#include "ioreq/ctl.h"
#include "ioreq/ioreq.h"
#include "lib/vstate.h"
#include "lib/compiler.h"

/* What the board needs from whoever hosts it. */
struct dm_host_ops {
	/* Claims a window (space: enum ctl_space; flags: CTL_CLAIM_*). 0 or
	 * -errno, with the host having said why. */
	int (*claim)(void *opaque, unsigned space, uint64_t base, uint64_t len,
		     unsigned flags, const struct io_ops *ops, void *dev,
		     const char *name);
	/* A board line (enum ioreq_line) changes level. */
	void (*set_line)(void *opaque, unsigned line, bool level);
	/* Ends the VM with a status (isa-debug-exit, the quit key). */
	void (*exit)(void *opaque, int status, const char *why);
	/* The guest asked for a system reset. */
	void (*reset)(void *opaque);
	/* Changes a window the board claimed, found by its space and current
	 * base (op: IOREQ_WIN_MOVE to new_base, _ENABLE, _DISABLE, _REMOVE;
	 * a claim while the guest runs is the ADD). 0 or -errno. The guest's
	 * next instruction sees the change. */
	int (*window)(void *opaque, unsigned space, uint64_t base, unsigned op,
		      uint64_t new_base);
};

#define DM_MAX_DEVICES 16
#define DM_MAX_DEV_FDS 4

struct dm_device_spec {
	char id[DEV_NAME_MAX];   /* "" : the kind's name */
	struct dev_props props;  /* props.kind is the kind (DEV_IN_DM) */
	int fds[DM_MAX_DEV_FDS]; /* host resources; the board takes ownership */
	unsigned n_fds;
};

/* A spec as a DEVICE message (the vmm's side), and back (the dm's side:
 * the message is hostile input; every name, count, number and string is
 * checked against the kind). 0, or -errno with err saying why. */
void dm_spec_to_msg(const struct dm_device_spec *s, struct ctl_device *m);
int dm_spec_from_msg(struct dm_device_spec *s, struct ctl_device *m, char *err,
		     size_t n) must_check;

struct dm_device;

struct dm_board {
	const struct dm_host_ops *host;
	void *host_opaque;
	struct vclock *clock;
	struct dma_space dma;
	bool icount;             /* the clock is deterministic (dev_ctx) */
	struct dm_device *dev[DM_MAX_DEVICES];
	unsigned n_dev;
	/* Those whose kind looks at memory another process writes (ready,
	 * waiting): the serving loop asks them at every turn of its spin. */
	struct dm_device *shm_dev[DM_MAX_DEVICES];
	unsigned n_shm_dev;
	/* Wired-OR of the sources driving each line (bit per source). */
	uint32_t line_sources[IOREQ_LINE_COUNT];
	unsigned n_sources;
	bool reset_level;
};

void dm_board_init(struct dm_board *b, const struct dm_host_ops *host,
		   void *host_opaque, struct vclock *clock,
		   const struct dma_space *dma);
/* Creates one device and claims its windows. 0 or -errno with err
 * saying why (unknown kind, bad numbers, a claim refused). */
int dm_board_add(struct dm_board *b, const struct dm_device_spec *s, char *err,
		 size_t errlen);
void dm_board_destroy(struct dm_board *b);

/* Device state (lib/vstate.h), device by device: the i-th device's id,
 * and its encoded state appended to out (nothing for a kind without
 * state), after the kind's quiesce has finished its work in flight.
 * 0, -ENOENT past the last device, or -ENOMEM. */
int dm_board_save(const struct dm_board *b, unsigned i, const char **id,
		  struct vs_buf *out);
/* A state for the device named `id`: checked only (nothing changes), or
 * loaded when `apply`. 0, or -errno with err naming the device and field. */
int dm_board_load(struct dm_board *b, const char *id, const void *data, size_t len,
		  bool apply, char *err, size_t n);

/* Devices back to their power-on state (a system reset). */
void dm_board_reset(struct dm_board *b);
/* Writes out the output the devices hold back (the consoles' buffers):
 * when the device model goes idle, and before it stops. */
void dm_board_flush(struct dm_board *b);

/* Host input: the descriptors the board wants watched (at most max), and
 * a call after poll() with their revents; returns how many it served. */
unsigned dm_board_poll_fds(struct dm_board *b, struct pollfd *p, unsigned max);
unsigned dm_board_input(struct dm_board *b, const struct pollfd *p, unsigned n);
/* Whether a device's input waits by its kind's ready() (no system
 * call), and serving those devices as if their descriptors were
 * readable: for a device model that spins instead of sleeping. */
bool dm_board_ready(const struct dm_board *b);
unsigned dm_board_input_ready(struct dm_board *b);
/* Whether a device waits for another process's answer (its kind's
 * waiting()): the device model then sleeps rather than spins. */
bool dm_board_waiting(const struct dm_board *b);

#endif
