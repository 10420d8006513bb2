/* The backend contract of a character device (a UART today): where the
 * bytes the guest sends go. The backends (stdio, file, pty) live with the
 * board, never in the device model (STYLE.md, principle 4).
 *
 * Input flows the other way through the device's own entry points (for
 * the UART: uart_can_receive() and uart_receive(), which accept only what
 * fits, so the caller keeps the rest); `rx_ready`, when set, tells the
 * backend that a device which refused input has room again. */
#ifndef V2E_DEV_CHARDEV_H
#define V2E_DEV_CHARDEV_H

#include <stddef.h>
#include <stdint.h>

struct chardev {
	/* Bytes the device sends; NULL drops them (nothing connected). */
	void (*write)(void *opaque, const uint8_t *buf, size_t n);
	void *opaque;
	/* Optional: the device can take input again. */
	void (*rx_ready)(void *opaque);
};

#endif
