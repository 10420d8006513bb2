/* National Semiconductor PC16550D UART (datasheet "PC16550D Universal
 * Asynchronous Receiver/Transmitter with FIFOs"), as a PC COM port.
 *
 * Timing follows the programmed line on the virtual clock: a character
 * takes (start + data + parity + stop) bits of 16 x divisor periods of the
 * 1.8432 MHz crystal. The transmitter takes a byte from THR/the TX FIFO
 * one bit time after an idle moment (so a driver that fills the FIFO in a
 * burst sees one THRE interrupt, not one per byte) and back to back while
 * busy; THRE and TEMT, and the THRE interrupt, come when the hardware's
 * would. The byte itself goes to the backend when the guest writes it:
 * output is never delayed or lost, even when a guest ignores THRE and
 * overfills the FIFO (the timing then saturates at 16 bytes). The
 * receiver takes input only as fast as the FIFO has room (uart_receive
 * returns what it took), so the host side is flow-controlled and only a
 * guest's own loopback traffic can overrun.
 *
 * Interrupts, highest priority first: receiver line status (OE PE FE BI),
 * received data (FIFO at its trigger level, or any byte in 16450 mode)
 * and character timeout (a byte waiting for 4 character times with no
 * read and no new byte), THR empty (cleared by reading IIR when it is the
 * source or by writing THR; set again when the THR next empties, or when
 * ETBEI goes from 0 to 1 with the THR empty), modem status. The PC gates
 * the INTR output with OUT2, and in loopback mode the chip forces OUT2
 * inactive, so no interrupt leaves the chip then (IIR still shows them).
 *
 * Instant mode (uart_set_instant_tx, what the board uses for a port with
 * a host backend, as QEMU and every VMM do): the wire to the host has no
 * baud rate, so a byte leaves THR the moment it is written and THRE and
 * TEMT are always set. Pacing the console to a guest's 9600 baud would
 * make a kernel that prints with interrupts off lose timer ticks and its
 * TSC, and a boot log take minutes. Each write still ends the pending
 * THRE interrupt and raises a fresh one, so an edge-triggered PIC sees
 * one edge per byte, as it would see one per FIFO load on the chip.
 *
 * Deviations: the FIFO mode's delayed THRE of the datasheet (one
 * character time after a single byte) is not modelled; parity and
 * framing errors never occur (the backend carries bytes, not a line), and
 * only uart_receive_break() or BREAK in loopback produce BI; divisor 0
 * counts as 65536; DMA mode (FCR3, RXRDY/TXRDY pins) is stored only. */
#include "dm/hw/uart.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/vstate.h"

/* ---- saved state ---- */

static void uart_update(struct uart *u);

/* The registers, both FIFOs with their indices, the transmitter's times
 * and both timers' deadlines. Not state: the wiring, the backend and
 * instant_tx (the board's choice for the port, set again on the new one). */
static const struct vs_field uart_fields[] = {
	VS_MAX(struct uart, ier, VS_U8, 0x0f),
	VS_U8(struct uart, lcr),
	VS_MAX(struct uart, mcr, VS_U8, 0x1f),
	VS_U8(struct uart, scr),
	VS_U8(struct uart, fcr),
	VS_U16(struct uart, divisor),
	VS_U8(struct uart, lsr_err),
	VS_MAX(struct uart, msr_delta, VS_U8, 0x0f),
	VS_U8(struct uart, modem_in),
	VS_U8(struct uart, msr_lines),
	VS_BOOL(struct uart, thri),
	VS_BOOL(struct uart, irq_level),
	VS_BYTES(struct uart, rx_buf),
	VS_BYTES(struct uart, rx_err),
	VS_MAX(struct uart, rx_head, VS_U8, UART_FIFO_SIZE - 1),
	VS_MAX(struct uart, rx_count, VS_U8, UART_FIFO_SIZE),
	VS_U8(struct uart, rbr),
	VS_BOOL(struct uart, rx_refused),
	VS_U64(struct uart, rx_last_ns),
	VS_BYTES(struct uart, tx_buf),
	VS_MAX(struct uart, tx_head, VS_U8, UART_FIFO_SIZE - 1),
	VS_MAX(struct uart, tx_count, VS_U8, UART_FIFO_SIZE),
	VS_BOOL(struct uart, tsr_busy),
	VS_U8(struct uart, tsr),
	VS_U64(struct uart, tsr_end_ns),
	VS_U64(struct uart, tx_start_ns),
	VS_U64(struct uart, tx_timer.deadline),
	VS_U64(struct uart, rx_timer.deadline),
};

static int uart_state_check(const void *obj, char *err, size_t n)
{
	const struct uart *u = obj;
	if (u->fcr & ~(UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER)) {
		snprintf(err, n, "uart: field 'fcr' has bits a write never keeps");
		return -EINVAL;
	}
	if (!(u->fcr & UART_FCR_ENABLE) && (u->rx_count > 1 || u->tx_count > 1)) {
		snprintf(err, n, "uart: field '%s' above 1 with the FIFOs off",
			 u->rx_count > 1 ? "rx_count" : "tx_count");
		return -EINVAL;
	}
	if (u->modem_in & 0x0f || u->msr_lines & 0x0f) {
		snprintf(err, n, "uart: field '%s' has bits below the MSR lines",
			 u->modem_in & 0x0f ? "modem_in" : "msr_lines");
		return -EINVAL;
	}
	return 0;
}

static int uart_post_load(void *obj, char *err, size_t n)
{
	struct uart *u = obj;
	(void)err;
	(void)n;
	vtimer_restore(u->clock, &u->tx_timer);
	vtimer_restore(u->clock, &u->rx_timer);
	irq_set(&u->irq, u->irq_level);
	uart_update(u);
	return 0;
}

const struct vs_desc uart_state = {
	"uart", 1, uart_fields, ARRAY_SIZE(uart_fields), uart_state_check,
	uart_post_load,
};

#define UART_TIMEOUT_CHARS 4

static bool uart_fifo(const struct uart *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned uart_cap(const struct uart *u)
{
	return uart_fifo(u) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_trigger(const struct uart *u)
{
	static const uint8_t level[4] = {1, 4, 8, 14};
	return level[u->fcr >> 6];
}

static uint64_t uart_divisor(const struct uart *u)
{
	return u->divisor ? u->divisor : 65536;
}

/* Time of `half_bits` half bit times, in ns (16 clocks per bit). */
static uint64_t uart_half_bits_ns(const struct uart *u, uint64_t half_bits)
{
	return vclock_ticks_to_ns(half_bits * 16 * uart_divisor(u), 2 * UART_CLOCK_HZ);
}

uint64_t uart_char_ns(const struct uart *u)
{
	unsigned data = 5 + (u->lcr & UART_LCR_WLS);
	unsigned half = 2 * (1 + data + ((u->lcr & UART_LCR_PEN) ? 1 : 0));
	if (!(u->lcr & UART_LCR_STB))
		half += 2;
	else
		half += data == 5 ? 3 : 4; /* 1.5 stop bits with 5-bit words */
	return uart_half_bits_ns(u, half);
}

/* ---- interrupts ---- */

static bool uart_timeout_due(const struct uart *u, uint64_t now)
{
	return uart_fifo(u) && u->rx_count > 0 &&
	       now >= u->rx_last_ns + UART_TIMEOUT_CHARS * uart_char_ns(u);
}

static uint8_t uart_iir_id(const struct uart *u)
{
	uint64_t now = vclock_now(u->clock);
	if ((u->ier & UART_IER_ELSI) &&
	    (u->lsr_err & (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)))
		return UART_IIR_RLSI;
	if (u->ier & UART_IER_ERBFI) {
		if (u->rx_count >= (uart_fifo(u) ? uart_trigger(u) : 1))
			return UART_IIR_RDI;
		if (uart_timeout_due(u, now))
			return UART_IIR_CTI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thri)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr_delta & 0x0f))
		return UART_IIR_MS;
	return UART_IIR_NO_INT;
}

/* The INTR output: a pending interrupt, gated by OUT2 (off in loopback). */
static bool uart_irq_wanted(const struct uart *u)
{
	return uart_iir_id(u) != UART_IIR_NO_INT &&
	       (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
}

static void uart_update(struct uart *u)
{
	bool level = uart_irq_wanted(u);
	uint64_t now = vclock_now(u->clock);

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
	/* The character timeout needs a timer only while it could be the
	 * next thing to raise the interrupt. */
	if ((u->ier & UART_IER_ERBFI) && uart_fifo(u) && u->rx_count > 0 &&
	    u->rx_count < uart_trigger(u)) {
		uint64_t due = u->rx_last_ns + UART_TIMEOUT_CHARS * uart_char_ns(u);
		if (due > now) {
			vtimer_arm(u->clock, &u->rx_timer, due);
			return;
		}
	}
	vtimer_cancel(u->clock, &u->rx_timer);
}

static void uart_rx_timer_fire(void *opaque)
{
	uart_update(opaque);
}

/* ---- receiver ---- */

static void uart_rx_push(struct uart *u, uint8_t byte, uint8_t err)
{
	if (u->rx_count >= uart_cap(u)) {
		u->lsr_err |= UART_LSR_OE;
		/* 16450 mode: the new byte replaces the unread one; with FIFOs
		 * it stays in the shift register and is overwritten. */
		if (!uart_fifo(u)) {
			u->rx_buf[u->rx_head] = byte;
			u->rx_err[u->rx_head] = err;
			u->lsr_err |= err;
		}
	} else {
		unsigned slot = (u->rx_head + u->rx_count) % UART_FIFO_SIZE;
		u->rx_buf[slot] = byte;
		u->rx_err[slot] = err;
		if (u->rx_count++ == 0)
			u->lsr_err |= err; /* errors show when the byte is on top */
	}
	u->rx_last_ns = vclock_now(u->clock);
}

static uint8_t uart_rx_pop(struct uart *u)
{
	if (u->rx_count == 0)
		return u->rbr;
	u->rbr = u->rx_buf[u->rx_head];
	u->rx_err[u->rx_head] = 0;
	u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
	if (--u->rx_count > 0)
		u->lsr_err |= u->rx_err[u->rx_head];
	u->rx_last_ns = vclock_now(u->clock);
	return u->rbr;
}

static void uart_rx_clear(struct uart *u)
{
	u->rx_count = 0;
	u->rx_head = 0;
	memset(u->rx_err, 0, sizeof(u->rx_err));
}

bool uart_can_receive(const struct uart *u)
{
	return !(u->mcr & UART_MCR_LOOP) && u->rx_count < uart_cap(u);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t n)
{
	size_t i;
	for (i = 0; i < n && uart_can_receive(u); i++)
		uart_rx_push(u, buf[i], 0);
	if (i < n)
		u->rx_refused = true;
	uart_update(u);
	return i;
}

bool uart_receive_break(struct uart *u)
{
	if (!uart_can_receive(u)) {
		u->rx_refused = true;
		return false;
	}
	uart_rx_push(u, 0, UART_LSR_BI | UART_LSR_FE);
	uart_update(u);
	return true;
}

/* After the guest made room: tell a backend that was turned away. */
static void uart_notify_rx(struct uart *u)
{
	if (u->rx_refused && uart_can_receive(u)) {
		u->rx_refused = false;
		if (u->out.rx_ready)
			u->out.rx_ready(u->out.opaque);
	}
}

/* ---- transmitter ---- */

/* Moves the transmitter to virtual time `now`: bytes finish shifting
 * out (into the receiver in loopback), the next one is taken from the
 * FIFO back to back, and THRE/TEMT follow. */
static void uart_tx_run(struct uart *u)
{
	uint64_t now = vclock_now(u->clock), next;

	for (;;) {
		if (u->tsr_busy && now >= u->tsr_end_ns) {
			u->tsr_busy = false;
			u->tx_start_ns = u->tsr_end_ns;
			if (u->mcr & UART_MCR_LOOP)
				uart_rx_push(u, u->tsr, 0);
			continue;
		}
		if (!u->tsr_busy && u->tx_count > 0 && now >= u->tx_start_ns) {
			u->tsr = u->tx_buf[u->tx_head];
			u->tx_head = (uint8_t)((u->tx_head + 1) % UART_FIFO_SIZE);
			u->tsr_busy = true;
			u->tsr_end_ns = u->tx_start_ns + uart_char_ns(u);
			if (--u->tx_count == 0)
				u->thri = true; /* THR (FIFO) just became empty */
			continue;
		}
		break;
	}
	next = u->tsr_busy ? u->tsr_end_ns : u->tx_count ? u->tx_start_ns : VCLOCK_NEVER;
	if (next == VCLOCK_NEVER)
		vtimer_cancel(u->clock, &u->tx_timer);
	else
		vtimer_arm(u->clock, &u->tx_timer, next);
}

static void uart_tx_timer_fire(void *opaque)
{
	struct uart *u = opaque;
	uart_tx_run(u);
	uart_update(u);
}

static void uart_thr_write(struct uart *u, uint8_t byte)
{
	uint64_t now = vclock_now(u->clock);

	if (!(u->mcr & UART_MCR_LOOP) && u->out.write)
		u->out.write(u->out.opaque, &byte, 1);
	u->thri = false;
	if (u->instant_tx) {
		if (u->mcr & UART_MCR_LOOP)
			uart_rx_push(u, byte, 0);
		/* The write ends the THRE interrupt (the line drops), and the
		 * THR is empty again at once (uart_update raises it anew). */
		if (u->irq_level) {
			u->irq_level = false;
			irq_lower(&u->irq);
		}
		u->thri = true;
		return;
	}
	if (u->tx_count < uart_cap(u)) {
		if (u->tx_count == 0 && !u->tsr_busy)
			u->tx_start_ns = now + uart_half_bits_ns(u, 2);
		u->tx_buf[(u->tx_head + u->tx_count) % UART_FIFO_SIZE] = byte;
		u->tx_count++;
	}
	uart_tx_run(u);
}

static void uart_tx_clear(struct uart *u)
{
	if (u->tx_count > 0)
		u->thri = true;
	u->tx_count = 0;
	u->tx_head = 0;
	uart_tx_run(u);
}

/* ---- modem lines ---- */

static void uart_set_lines(struct uart *u)
{
	uint8_t now_lines, changed;

	if (u->mcr & UART_MCR_LOOP) {
		now_lines = (uint8_t)(((u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
				      ((u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
				      ((u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
				      ((u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
	} else {
		now_lines = u->modem_in;
	}
	changed = u->msr_lines ^ now_lines;
	if (changed & UART_MSR_CTS)
		u->msr_delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_delta |= UART_MSR_DDSR;
	if (changed & UART_MSR_DCD)
		u->msr_delta |= UART_MSR_DDCD;
	if ((u->msr_lines & UART_MSR_RI) && !(now_lines & UART_MSR_RI))
		u->msr_delta |= UART_MSR_TERI; /* trailing edge of RI */
	u->msr_lines = now_lines;
}

void uart_set_instant_tx(struct uart *u, bool instant)
{
	u->instant_tx = instant;
	if (instant) {
		/* whatever was shifting out has already gone to the backend */
		u->tx_count = 0;
		u->tsr_busy = false;
		uart_tx_run(u);
	}
	uart_update(u);
}

void uart_set_modem_inputs(struct uart *u, uint8_t lines)
{
	u->modem_in = lines & 0xf0;
	uart_set_lines(u);
	uart_update(u);
}

/* ---- registers ---- */

static uint8_t uart_lsr(const struct uart *u)
{
	uint8_t v = u->lsr_err;
	if (u->rx_count)
		v |= UART_LSR_DR;
	if (u->tx_count == 0) {
		v |= UART_LSR_THRE;
		if (!u->tsr_busy)
			v |= UART_LSR_TEMT;
	}
	if (uart_fifo(u)) {
		for (unsigned i = 0; i < u->rx_count; i++)
			if (u->rx_err[(u->rx_head + i) % UART_FIFO_SIZE])
				v |= UART_LSR_FIFOE;
	}
	return v;
}

static uint64_t uart_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uart *u = opaque;
	uint8_t v;

	switch (offset) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB)
			return (uint8_t)u->divisor;
		v = uart_rx_pop(u);
		uart_update(u);
		uart_notify_rx(u);
		return v;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB)
			return (uint8_t)(u->divisor >> 8);
		return u->ier;
	case UART_IIR:
		v = uart_iir_id(u);
		if (v == UART_IIR_THRI)
			u->thri = false; /* reading IIR clears a THRE interrupt */
		uart_update(u);
		return v | (uart_fifo(u) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = uart_lsr(u);
		u->lsr_err = 0;
		if (u->rx_count)
			u->rx_err[u->rx_head] = 0; /* reported now */
		uart_update(u);
		return v;
	case UART_MSR:
		v = u->msr_lines | u->msr_delta;
		u->msr_delta = 0;
		uart_update(u);
		return v;
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

static void uart_fcr_write(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & UART_FCR_ENABLE) {
		/* changing FIFO mode resets both FIFOs */
		uart_rx_clear(u);
		uart_tx_clear(u);
	}
	if (!(v & UART_FCR_ENABLE)) {
		u->fcr = 0; /* the other bits are only programmed with FCR0 */
		return;
	}
	if (v & UART_FCR_CLEAR_RX)
		uart_rx_clear(u);
	if (v & UART_FCR_CLEAR_TX)
		uart_tx_clear(u);
	u->fcr = v & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER);
}

static void uart_io_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
	struct uart *u = opaque;
	uint8_t v = (uint8_t)value, old;

	switch (offset) {
	case UART_THR:
		if (u->lcr & UART_LCR_DLAB)
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
		else
			uart_thr_write(u, v);
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | v << 8);
			break;
		}
		old = u->ier;
		u->ier = v & 0x0f;
		/* enabling ETBEI with the THR empty raises a THRE interrupt */
		if ((u->ier & ~old & UART_IER_ETBEI) && u->tx_count == 0)
			u->thri = true;
		break;
	case UART_FCR:
		uart_fcr_write(u, v);
		break;
	case UART_LCR:
		old = u->lcr;
		u->lcr = v;
		/* a break sent in loopback arrives as a break */
		if ((v & ~old & UART_LCR_BREAK) && (u->mcr & UART_MCR_LOOP))
			uart_rx_push(u, 0, UART_LSR_BI | UART_LSR_FE);
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		uart_set_lines(u);
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR writes: factory test only */
	}
	uart_update(u);
	uart_notify_rx(u);
}

/* Reads that change nothing: the divisor, IER, LCR, MCR and the scratch
 * register always; LSR with no error to clear and no received byte (whose
 * timeout timer a read would re-arm); MSR with no change to clear. Never
 * RBR or IIR. All only while the interrupt line is what uart_update()
 * would make it. */
static bool uart_io_peek(void *opaque, uint64_t offset, uint8_t *v)
{
	const struct uart *u = opaque;

	if (uart_irq_wanted(u) != u->irq_level)
		return false;
	switch (offset) {
	case UART_RBR:
		if (!(u->lcr & UART_LCR_DLAB))
			return false;
		*v = (uint8_t)u->divisor;
		return true;
	case UART_IER:
		*v = u->lcr & UART_LCR_DLAB ? (uint8_t)(u->divisor >> 8) : u->ier;
		return true;
	case UART_LCR:
		*v = u->lcr;
		return true;
	case UART_MCR:
		*v = u->mcr;
		return true;
	case UART_LSR:
		if (u->lsr_err || u->rx_count)
			return false;
		*v = uart_lsr(u);
		return true;
	case UART_MSR:
		if (u->msr_delta)
			return false;
		*v = u->msr_lines;
		return true;
	case UART_SCR:
		*v = u->scr;
		return true;
	default: /* IIR */
		return false;
	}
}

const struct io_ops uart_ops = {
	.read = uart_io_read,
	.write = uart_io_write,
	.valid_sizes = IO_SIZE_1,
	.impl_sizes = IO_SIZE_1,
	.peek = uart_io_peek,
};

void uart_init(struct uart *u, const struct irq_line *irq, struct vclock *clock,
	       const struct chardev *out)
{
	memset(u, 0, sizeof(*u));
	u->irq = *irq;
	u->clock = clock;
	if (out)
		u->out = *out;
	vtimer_init(&u->tx_timer, uart_tx_timer_fire, u);
	vtimer_init(&u->rx_timer, uart_rx_timer_fire, u);
	u->divisor = 1;
	u->modem_in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	u->msr_lines = u->modem_in;
	u->rx_last_ns = vclock_now(clock);
	irq_lower(&u->irq);
}

/* ---- the kind (dev/kind.h): isa-serial, a COM port with its console ---- */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "dev/kind.h"
#include "dm/backend/console.h"

struct isa_serial {
	struct uart uart; /* first: the device's state is the UART's */
	struct console cons;
	uint8_t rx_held[256]; /* terminal input the FIFO had no room for */
	size_t rx_held_len;
	const struct dev_ctx *ctx;
};

enum { P_INDEX, P_IOBASE, P_IRQ, P_CHARDEV, P_ESCAPES };

static const struct dev_prop serial_props[] = {
	[P_INDEX] = {"index", DEV_PROP_NUM, false, 0, 3, 0, NULL,
		     "COM port number - 1 (the next free one when not given)"},
	[P_IOBASE] = {"iobase", DEV_PROP_NUM, false, 0, 0xfff8, 0x3f8, NULL,
		      "first of its 8 ports (by index: 0x3f8, 0x2f8, 0x3e8, 0x2e8)"},
	[P_IRQ] = {"irq", DEV_PROP_NUM, false, 0, 15, 4, NULL,
		   "ISA IRQ (by index: 4, 3, 4, 3)"},
	[P_CHARDEV] = {"chardev", DEV_PROP_CHARDEV, false, 0, 0, 0, "null",
		       "backend: stdio, null or file:PATH (as -serial)"},
	[P_ESCAPES] = {"escapes", DEV_PROP_BOOL, true, 0, 1, 0, NULL,
		       "the input is the vmm's terminal: Ctrl-A escapes"},
};

/* The COM port's place when only the index is given. */
static void serial_place(struct dev_props *p)
{
	static const uint16_t com_base[4] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
	static const uint8_t com_irq[4] = {4, 3, 4, 3};
	unsigned i = (unsigned)(p->num[P_INDEX] & 3);
	if (!(p->given & (1u << P_IOBASE)))
		p->num[P_IOBASE] = com_base[i];
	if (!(p->given & (1u << P_IRQ)))
		p->num[P_IRQ] = com_irq[i];
	p->given |= 1u << P_IOBASE | 1u << P_IRQ;
}

/* In the vmm: the terminal (output, input) or the file behind the port. */
static int serial_host_open(struct dev_props *p, const struct dev_machine *m, int *fds,
			    unsigned *n_fds, char *err, size_t n)
{
	const char *be = p->str[P_CHARDEV];
	int r;

	serial_place(p);
	r = console_open_backend(be, true, fds, n_fds, err, n);
	if (r == 0 && !strcmp(be, "stdio")) {
		p->num[P_ESCAPES] = m->tty; /* Ctrl-A escapes on a terminal */
		p->given |= 1u << P_ESCAPES;
	}
	return r;
}

/* Held input, as much as the FIFO takes now; also the chardev's
 * rx_ready: when the guest's read makes room, the rest of a paste goes in
 * at once. Its descriptor is not readable again (the bytes were read
 * already), so nothing else would move them. */
static void serial_give_held(void *opaque)
{
	struct isa_serial *s = opaque;
	size_t took;
	if (s->rx_held_len == 0)
		return;
	took = uart_receive(&s->uart, s->rx_held, s->rx_held_len);
	memmove(s->rx_held, s->rx_held + took, s->rx_held_len - took);
	s->rx_held_len -= took;
}

static void serial_write(void *opaque, const uint8_t *buf, size_t n)
{
	struct isa_serial *s = opaque;
	console_write(&s->cons, buf, n);
}

static int serial_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			 char *err, size_t n)
{
	struct isa_serial *s = dev;
	struct dev_props at = *p;
	struct chardev out = {serial_write, s, serial_give_held};
	const struct irq_line *irq;
	int r;

	serial_place(&at);
	irq = c->line(c, DEV_LINE_ISA0 + (unsigned)at.num[P_IRQ]);
	if (!irq)
		return -ENODEV;
	s->ctx = c;
	r = console_attach(&s->cons, c->n_fds > 1 ? c->fds[1] : -1,
			   c->n_fds > 0 ? c->fds[0] : -1, at.num[P_ESCAPES] != 0);
	if (r < 0) {
		snprintf(err, n, "isa-serial %s: console: %s", c->id, strerror(-r));
		return r;
	}
	uart_init(&s->uart, irq, c->clock, &out);
	uart_set_instant_tx(&s->uart, true);
	return c->claim(c, DEV_SPACE_PIO, at.num[P_IOBASE], 8, 0, &uart_ops, &s->uart);
}

static void serial_reset(void *dev)
{
	struct isa_serial *s = dev;
	struct chardev out = {serial_write, s, serial_give_held};
	struct irq_line irq = s->uart.irq;
	uart_init(&s->uart, &irq, s->ctx->clock, &out);
	uart_set_instant_tx(&s->uart, true);
}

/* Terminal input to the UART, as much as it takes now. */
static void serial_take(struct isa_serial *s)
{
	if (s->rx_held_len == 0)
		s->rx_held_len = console_read(&s->cons, s->rx_held, sizeof(s->rx_held));
	if (s->cons.quit) {
		s->cons.quit = false;
		s->ctx->exit(s->ctx, 0, "QEMU: Terminated (Ctrl-A X)");
		return;
	}
	serial_give_held(s);
}

static int serial_input_fd(void *dev)
{
	struct isa_serial *s = dev;
	/* Held input waits for room in the FIFO, not for the fd. */
	if (s->cons.eof || (s->rx_held_len && !uart_can_receive(&s->uart)))
		return -1;
	return s->cons.in_fd;
}

static bool serial_input(void *dev, bool readable)
{
	struct isa_serial *s = dev;
	if (s->cons.eof)
		return false;
	if (readable)
		serial_take(s);
	/* Held bytes go in as the guest makes room. */
	if (s->rx_held_len && uart_can_receive(&s->uart))
		serial_take(s);
	return readable;
}

static void serial_flush(void *dev)
{
	struct isa_serial *s = dev;
	console_flush(&s->cons);
}

DEV_KIND(isa_serial) = {
	.name = "isa-serial",
	.help = "16550A UART on the ISA bus (a COM port)",
	.where = DEV_IN_DM,
	.category = DEV_CAT_INPUT,
	.user = true,
	DEV_PROPS(serial_props),
	.size = sizeof(struct isa_serial),
	.host_open = serial_host_open,
	.create = serial_create,
	.reset = serial_reset,
	.input_fd = serial_input_fd,
	.input = serial_input,
	.flush = serial_flush,
	.state = &uart_state,
};
