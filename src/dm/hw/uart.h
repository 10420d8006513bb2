/* National PC16550D UART (the "16550A" of the PC's COM ports): 8 registers
 * at a base the board chooses (COM1 0x3f8 IRQ 4, COM2 0x2f8 IRQ 3, COM3
 * 0x3e8 IRQ 4, COM4 0x2e8 IRQ 3). See uart.c for the model. */
#ifndef V2E_DM_HW_UART_H
#define V2E_DM_HW_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/chardev.h"
#include "dev/device.h"
#include "dev/vclock.h"
#include "lib/vstate.h"

/* Register offsets */
#define UART_RBR 0 /* read, DLAB = 0 */
#define UART_THR 0 /* write, DLAB = 0 */
#define UART_DLL 0 /* DLAB = 1 */
#define UART_IER 1 /* DLAB = 0 */
#define UART_DLM 1 /* DLAB = 1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* THR empty */
#define UART_IER_ELSI 0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MS 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_CTI 0x0c /* character timeout */
#define UART_IIR_FIFO 0xc0 /* both bits set when FIFOs are enabled */

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_TRIGGER 0xc0 /* 1, 4, 8, 14 bytes */

#define UART_LCR_WLS 0x03 /* word length 5 + n */
#define UART_LCR_STB 0x04 /* 2 stop bits (1.5 with 5-bit words) */
#define UART_LCR_PEN 0x08
#define UART_LCR_EPS 0x10
#define UART_LCR_SPAR 0x20
#define UART_LCR_BREAK 0x40
#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* gates the interrupt output on the PC */
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFOE 0x80 /* an error somewhere in the RX FIFO */

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#define UART_FIFO_SIZE 16
#define UART_CLOCK_HZ 1843200 /* the PC's crystal; baud = clock / (16 divisor) */

struct uart {
	/* registers */
	uint8_t ier, lcr, mcr, scr;
	uint8_t fcr;         /* FIFO enable, DMA mode and trigger bits as last set */
	uint16_t divisor;    /* DLM:DLL */
	uint8_t lsr_err;     /* OE PE FE BI latched until LSR is read */
	uint8_t msr_delta;   /* DCTS DDSR TERI DDCD, cleared by reading MSR */
	uint8_t modem_in;    /* CTS DSR RI DCD from the outside (MSR bits 7-4) */
	uint8_t msr_lines;   /* MSR bits 7-4 as the guest sees them now */
	bool thri;           /* THR-empty interrupt pending */
	bool instant_tx;     /* no baud-rate pacing (uart_set_instant_tx) */
	bool irq_level;

	/* receiver: FIFO (1 deep in 16450 mode) with per-byte error bits */
	uint8_t rx_buf[UART_FIFO_SIZE], rx_err[UART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint8_t rbr;         /* the byte last read: what an empty RBR shows */
	bool rx_refused;     /* uart_receive() turned bytes away: tell rx_ready */
	uint64_t rx_last_ns; /* last byte received or read (character timeout) */

	/* transmitter: bytes waiting in THR/FIFO, then the shift register */
	uint8_t tx_buf[UART_FIFO_SIZE];
	uint8_t tx_head, tx_count;
	bool tsr_busy;
	uint8_t tsr;
	uint64_t tsr_end_ns;   /* when the byte in the TSR has been shifted out */
	uint64_t tx_start_ns;  /* when an idle transmitter takes the THR byte */

	struct irq_line irq;
	struct vclock *clock;
	struct chardev out;
	struct vtimer tx_timer;
	struct vtimer rx_timer; /* character timeout, only while it can matter */
};

/* `out` receives what the guest transmits (copied; its write may be NULL).
 * The UART starts as after a master reset, with divisor 1 (115200 baud:
 * the latch is undefined at reset, and unprogrammed guests want speed)
 * and the modem inputs CTS, DSR and DCD asserted (a terminal attached). */
void uart_init(struct uart *u, const struct irq_line *irq, struct vclock *clock,
	       const struct chardev *out);

extern const struct io_ops uart_ops; /* 8 ports, opaque = struct uart */

/* Saved state (lib/vstate.h); a load re-arms the timers and drives the
 * interrupt line to the loaded level. */
extern const struct vs_desc uart_state;

/* Input from the backend: takes as many bytes as the receiver has room
 * for now and returns that count; the caller keeps the rest and offers
 * it again after chardev.rx_ready (or on its own schedule). Nothing is
 * accepted in loopback mode, where the serial input is disconnected. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t n);
bool uart_can_receive(const struct uart *u);
/* A break condition on the line: a 0 byte with BI (and FE), as the
 * chip reports one (Linux's magic SysRq on a serial console). Returns
 * false if there is no room. */
bool uart_receive_break(struct uart *u);

/* Instant mode (uart.c): transmitted bytes take no virtual time, THRE
 * and TEMT stay set. For ports whose backend is the host; off by default,
 * where THRE follows the programmed baud rate as on the chip. */
void uart_set_instant_tx(struct uart *u, bool instant);

/* The modem inputs from the outside: any of UART_MSR_CTS/DSR/RI/DCD. */
void uart_set_modem_inputs(struct uart *u, uint8_t lines);

/* The time one character takes with the current divisor and LCR. */
uint64_t uart_char_ns(const struct uart *u);

#endif
