/* A small USB 1.1 device layer (USB 1.1 specification, chapters 8 and 9):
 * what a host controller (dm/hw/uhci.c) calls to move one packet to or
 * from a function, and what a function (dm/hw/usb_hid.c) implements.
 *
 * The core keeps the part every function shares: the device state
 * (default, addressed, configured), its address, endpoint 0's control
 * transfers (setup, data and status stages, with the standard requests
 * of chapter 9: GET_DESCRIPTOR for the device, configuration and string
 * descriptors, SET_ADDRESS (taking effect after the status stage),
 * SET/GET_CONFIGURATION, GET_STATUS, CLEAR/SET_FEATURE for remote wakeup
 * and endpoint halt, GET/SET_INTERFACE), the halt bit of each endpoint
 * and the data toggle of endpoint 0's OUT data (a retried packet is
 * acknowledged and dropped, 8.6.4). IN toggles are the host's to check;
 * the controller here does not (as QEMU's): a packet is never lost on
 * this bus, so host and device cannot disagree. A function gives its descriptors and
 * three callbacks: the requests the core does not answer (class
 * requests, the HID descriptors), its interrupt IN endpoints, and a bus
 * reset. A function with nothing to send answers NAK.
 *
 * The controller attaches a device to a root port with usb_dev_attach(),
 * giving a wakeup callback: the device calls it (usb_dev_wakeup()) when it
 * has data, so that an idle controller looks again soon, and when it may
 * signal remote wakeup. Both are wiring, not state. */
#ifndef V2E_DM_HW_USB_H
#define V2E_DM_HW_USB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/vclock.h"
#include "lib/vstate.h"

/* Token PIDs (the values UHCI transfer descriptors carry). */
#define USB_PID_SETUP 0x2d
#define USB_PID_IN 0x69
#define USB_PID_OUT 0xe1

/* Packet results other than a byte count (>= 0). */
#define USB_RET_NAK (-1)
#define USB_RET_STALL (-2)

#define USB_MAX_PACKET 64   /* full speed: the largest packet any endpoint has */
#define USB_CTRL_BUF 256    /* endpoint 0's data stage, in either direction */
#define USB_MAX_ENDPOINTS 16
#define USB_MAX_ADDR 127

/* Standard requests (9.4) and descriptor types (9.4, table 9-5). */
#define USB_REQ_GET_STATUS 0x00
#define USB_REQ_CLEAR_FEATURE 0x01
#define USB_REQ_SET_FEATURE 0x03
#define USB_REQ_SET_ADDRESS 0x05
#define USB_REQ_GET_DESCRIPTOR 0x06
#define USB_REQ_SET_DESCRIPTOR 0x07
#define USB_REQ_GET_CONFIGURATION 0x08
#define USB_REQ_SET_CONFIGURATION 0x09
#define USB_REQ_GET_INTERFACE 0x0a
#define USB_REQ_SET_INTERFACE 0x0b
#define USB_DT_DEVICE 1
#define USB_DT_CONFIG 2
#define USB_DT_STRING 3
#define USB_FEAT_ENDPOINT_HALT 0
#define USB_FEAT_REMOTE_WAKEUP 1

/* bmRequestType: direction, type and recipient. */
#define USB_DIR_IN 0x80
#define USB_TYPE_MASK 0x60
#define USB_TYPE_STANDARD 0x00
#define USB_TYPE_CLASS 0x20
#define USB_RECIP_MASK 0x1f
#define USB_RECIP_DEVICE 0
#define USB_RECIP_INTERFACE 1
#define USB_RECIP_ENDPOINT 2

enum usb_dev_state { USB_STATE_DEFAULT = 0, USB_STATE_ADDRESS, USB_STATE_CONFIGURED };

/* Endpoint 0's control transfer: where it is. */
enum usb_ctrl_stage {
	USB_CTRL_IDLE = 0,   /* waiting for SETUP */
	USB_CTRL_DATA_IN,    /* the device sends buf[pos..len) */
	USB_CTRL_DATA_OUT,   /* the device collects len of the request's bytes */
	USB_CTRL_STATUS_IN,  /* no data stage: the host's IN ends it */
	USB_CTRL_STALLED,    /* the request failed: STALL until the next SETUP */
	USB_CTRL_STAGES
};

struct usb_setup {
	uint8_t type, request;
	uint16_t value, index, length;
};

struct usb_dev;

/* What a function implements. Descriptors are wire bytes. */
struct usb_dev_class {
	const uint8_t *device_desc;      /* 18 bytes */
	const uint8_t *config_desc;      /* the whole configuration */
	uint16_t config_len;
	const char *const *strings;      /* string descriptor 1.. as ASCII */
	unsigned n_strings;
	/* A request the core does not answer. For a device-to-host request
	 * put at most `max` bytes in data and return how many; for one
	 * with an OUT data stage, data holds its setup.length bytes; 0, or
	 * USB_RET_STALL for a request the function refuses. */
	int (*control)(struct usb_dev *d, const struct usb_setup *s, uint8_t *data,
		       unsigned max);
	/* An IN token to endpoint ep (1-15) while configured, in the frame
	 * ending at virtual time `now`: a packet of at most USB_MAX_PACKET
	 * bytes into buf, USB_RET_NAK or USB_RET_STALL (no such endpoint). */
	int (*in)(struct usb_dev *d, unsigned ep, uint8_t *buf, uint64_t now);
	/* Optional: the virtual time from which an IN will have a packet
	 * without new input (a HID report repeated at its idle rate), or
	 * VCLOCK_NEVER; the controller does not wait longer than that. */
	uint64_t (*next_data)(const struct usb_dev *d);
	/* A bus reset, or a configuration set or cleared: the function's
	 * own state back to what a fresh configuration starts with. */
	void (*reset)(struct usb_dev *d);
};

struct usb_dev {
	const struct usb_dev_class *cls;
	/* wiring: set by the controller, never state */
	void (*wakeup)(void *opaque, struct usb_dev *d);
	void *wakeup_opaque;

	/* state */
	uint8_t state;          /* enum usb_dev_state */
	uint8_t addr;           /* 0..127 */
	uint8_t config;         /* 0, or the configuration value */
	bool remote_wakeup;     /* the host enabled it (SET_FEATURE) */
	uint16_t halted;        /* bit n: IN endpoint n halted */
	struct usb_ctrl {
		uint8_t stage;      /* enum usb_ctrl_stage */
		uint8_t setup[8];   /* the request in progress */
		uint8_t out_toggle; /* DATA PID the next OUT data packet must carry */
		uint8_t new_addr;   /* SET_ADDRESS waits for its status stage */
		bool set_addr;
		uint16_t pos, len;
		uint8_t buf[USB_CTRL_BUF];
	} ctrl;
};

/* A bus reset (port reset): default state, address 0, not configured,
 * every halt cleared; the function's reset too. */
void usb_dev_reset(struct usb_dev *d);

/* One transaction from the host, in the frame that ends at virtual time
 * `now`: token `pid` to endpoint `ep` (0-15) with DATA0/1 `toggle` for
 * SETUP and OUT. SETUP and OUT take `len` bytes from
 * buf; IN puts the device's packet into buf, which holds USB_MAX_PACKET
 * bytes (the controller compares it with what it asked for: babble).
 * Returns the bytes moved or USB_RET_*. */
int usb_dev_packet(struct usb_dev *d, uint8_t pid, unsigned ep, bool toggle,
		   uint8_t *buf, unsigned len, uint64_t now);

/* When the device will have an IN packet without new input, or
 * VCLOCK_NEVER. */
uint64_t usb_dev_next_data(const struct usb_dev *d);

/* The function has something new to send (or wants to wake the host). */
static inline void usb_dev_wakeup(struct usb_dev *d)
{
	if (d->wakeup)
		d->wakeup(d->wakeup_opaque, d);
}

/* Whether the endpoint-0 fields of a loaded state fit together (for a
 * kind's vs_desc check): 0, or -EINVAL naming the field in err. */
int usb_dev_state_check(const struct usb_dev *d, const char *kind, char *err, size_t n);

/* Its fields in the function's saved state (lib/vstate.h). */
#define USB_DEV_VS_FIELDS(T, m)                                               \
	VS_MAX(T, m.state, VS_U8, USB_STATE_CONFIGURED),                      \
	VS_MAX(T, m.addr, VS_U8, USB_MAX_ADDR),                               \
	VS_MAX(T, m.config, VS_U8, 1),                                        \
	VS_MAX(T, m.remote_wakeup, VS_BOOL, 1),                               \
	VS_U16(T, m.halted),                                                  \
	VS_MAX(T, m.ctrl.stage, VS_U8, USB_CTRL_STAGES - 1),                  \
	VS_ARRAY(T, m.ctrl.setup, VS_U8, 8),                                  \
	VS_MAX(T, m.ctrl.out_toggle, VS_U8, 1),                               \
	VS_MAX(T, m.ctrl.new_addr, VS_U8, USB_MAX_ADDR),                      \
	VS_MAX(T, m.ctrl.set_addr, VS_BOOL, 1),                               \
	VS_MAX(T, m.ctrl.pos, VS_U16, USB_CTRL_BUF),                          \
	VS_MAX(T, m.ctrl.len, VS_U16, USB_CTRL_BUF),                          \
	VS_BYTES(T, m.ctrl.buf)

#endif
