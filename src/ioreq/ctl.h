/* The control socket between the vmm and one device-model process
 * (DESIGN.md): a SOCK_SEQPACKET pair, one message per packet, file
 * descriptors passed with SCM_RIGHTS. It carries setup (guest RAM, the
 * shared ioreq area, event channels, the devices to create with their
 * host resources), range claims, device-state save and load, and
 * shutdown. The hot path never uses it.
 *
 * The conversation:
 *   vmm -> dm  SETUP (fds: guest RAM memfd, shared-area memfd, events
 *              eventfd, buffered eventfd, then a request and a response
 *              eventfd per vCPU)
 *   vmm -> dm  DEVICE, one per device (fds: its backends)
 *   vmm -> dm  START
 *   dm -> vmm  CLAIM, one per range; the vmm answers each CLAIM_RESULT
 *   dm -> vmm  READY once its sandbox is in place (result: 0 or -errno)
 *   ...        SAVE -> STATE* + STATE(end); STATE* + LOAD -> LOAD_RESULT
 *   vmm -> dm  RESET -> RESET (a system reset)
 *   vmm -> dm  SHUTDOWN; dm -> vmm FATAL (text) before it gives up.
 * Every message a dm sends is checked by the vmm (ctl_recv bounds the
 * length and descriptor count; the receiver checks the type's size). */
#ifndef V2E_IOREQ_CTL_H
#define V2E_IOREQ_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/compiler.h"

enum ctl_type {
	CTL_SETUP = 1,
	CTL_DEVICE = 2,
	CTL_START = 3,
	CTL_CLAIM = 4,
	CTL_CLAIM_RESULT = 5,
	CTL_READY = 6,
	CTL_SAVE = 7,
	CTL_STATE = 8,
	CTL_LOAD = 9,
	CTL_LOAD_RESULT = 10,
	CTL_SHUTDOWN = 11,
	CTL_FATAL = 12,
	CTL_RESET = 13, /* vmm -> dm: devices to power-on state; dm answers RESET */
};

#define CTL_MAX_MSG 65536
#define CTL_MAX_FDS 32
#define CTL_NAME_LEN 32

struct ctl_hdr {
	uint32_t type;   /* enum ctl_type */
	uint32_t len;    /* of the whole message, header included */
	int32_t result;  /* replies: 0 or -errno */
	uint32_t pad;
};

#define CTL_SETUP_ICOUNT 0x1 /* deterministic clock */

struct ctl_setup {
	struct ctl_hdr h;
	uint32_t abi_version;
	uint32_t n_vcpus;
	uint64_t ram_size;
	uint64_t ram_low_end;   /* guest-physical end of RAM below 4 GiB */
	uint64_t start_host_ns; /* real-time mode: host CLOCK_MONOTONIC at clock 0 */
	uint32_t flags;
	uint32_t pad;
	char name[CTL_NAME_LEN]; /* the dm's name in messages */
};

/* One device to create. `kind` names it in the dm's kind table
 * (dev/kind.h); each property is named and carries a number (numbers,
 * bools) or a NUL-terminated string, and the dm checks every one against
 * the kind (unknown, repeated, out of range or unterminated: refused).
 * Properties not sent take the kind's defaults. The message's fds are
 * the device's host resources, in the order the kind expects. */
#define CTL_MAX_PROPS 12
#define CTL_STR_LEN 256

struct ctl_prop {
	char name[CTL_NAME_LEN];
	uint64_t num;
	char str[CTL_STR_LEN];
};

struct ctl_device {
	struct ctl_hdr h;
	char kind[CTL_NAME_LEN];
	char id[CTL_NAME_LEN];
	uint32_t n_fds;
	uint32_t n_props;
	struct ctl_prop prop[CTL_MAX_PROPS];
};

_Static_assert(sizeof(struct ctl_prop) == 296, "ctl_prop layout");
_Static_assert(sizeof(struct ctl_device) == 16 + 64 + 8 + 12 * 296, "ctl_device layout");

enum ctl_space {
	CTL_SPACE_PIO = 0,
	CTL_SPACE_MMIO = 1,
	CTL_SPACE_PCI = 2, /* base = PCI_DEVFN(slot, fn) on bus 0, len = functions (in one slot) */
};

#define CTL_CLAIM_BUFFERED 0x1 /* writes need no reply */
/* The window is the board's VRAM (dev/display.h): the vmm maps its own
 * VRAM memory there as guest RAM (dirty-logged) instead of forwarding
 * accesses. MMIO only, the VRAM's whole size, one such window at most. */
#define CTL_CLAIM_VRAM 0x2

struct ctl_claim {
	struct ctl_hdr h;
	uint32_t space;  /* enum ctl_space */
	uint32_t flags;
	uint64_t base;
	uint64_t len;
	char name[CTL_NAME_LEN];
};

/* Device state, one message per device; an empty `id` ends a SAVE's
 * answer. `data` follows the fixed part (h.len - sizeof(struct
 * ctl_state) bytes), in the device's own versioned format. */
struct ctl_state {
	struct ctl_hdr h;
	char id[CTL_NAME_LEN];
	uint32_t version;
	uint32_t pad;
	uint8_t data[];
};

/* Text for the vmm's message (FATAL, and a refused CLAIM_RESULT). */
struct ctl_text {
	struct ctl_hdr h;
	char text[256];
};

/* Sends one message (h.len bytes) with `n_fds` descriptors. 0 or -errno. */
int ctl_send(int sock, const void *msg, const int *fds, unsigned n_fds) must_check;

/* Receives one message into buf (at most cap bytes, cap >= sizeof(struct
 * ctl_hdr)) and up to max_fds descriptors (any beyond are closed; all
 * are close-on-exec). Returns the message length, 0 at end of stream, or
 * -errno; -EBADMSG when the packet is shorter than a header, its h.len
 * disagrees with its size, or it was truncated. */
ssize_t ctl_recv(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
		 unsigned *n_fds) must_check;

/* The text of a peer's ctl_text, NUL-terminated in place. */
const char *ctl_text_str(struct ctl_text *t);

/* Copies a name into a fixed field, always NUL-terminated. */
void ctl_set_name(char dst[CTL_NAME_LEN], const char *src);

/* A name from a peer's fixed field, NUL-terminated in place (never read
 * past the field). */
const char *ctl_name(char field[CTL_NAME_LEN]);

#endif
