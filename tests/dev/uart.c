/* PC16550D UART: Linux's probe, divisor latch and line settings,
 * transmission through a recording backend with THRE/TEMT timing, the RX
 * FIFO with trigger levels and the character timeout on the virtual
 * clock, flow control, overrun, interrupt priorities and IIR codes, OUT2
 * gating, modem status in loopback, break, hostile register writes. */
#include "dm/hw/uart.h"
#include "tests/dev/irqrec.h"
#include "tests/tap.h"

#include <string.h>

struct sink {
	uint8_t buf[4096];
	size_t n;
	unsigned ready_calls;
};

static void sink_write(void *opaque, const uint8_t *buf, size_t n)
{
	struct sink *s = opaque;
	for (size_t i = 0; i < n && s->n < sizeof(s->buf); i++)
		s->buf[s->n++] = buf[i];
}

static void sink_ready(void *opaque)
{
	struct sink *s = opaque;
	s->ready_calls++;
}

struct rig {
	struct vclock c;
	struct irqrec q;
	struct irq_line line;
	struct sink s;
	struct uart u;
};

static void rig_init(struct rig *g)
{
	struct chardev cd;
	memset(g, 0, sizeof(*g));
	vclock_init(&g->c, 1000);
	g->line = (struct irq_line){irqrec_set, &g->q, 4};
	cd = (struct chardev){sink_write, &g->s, sink_ready};
	uart_init(&g->u, &g->line, &g->c, &cd);
}

static uint8_t in(struct rig *g, unsigned reg)
{
	return (uint8_t)uart_ops.read(&g->u, reg, 1);
}

static void out(struct rig *g, unsigned reg, uint8_t v)
{
	uart_ops.write(&g->u, reg, 1, v);
}

static void advance(struct rig *g, uint64_t ns)
{
	vclock_advance_to(&g->c, vclock_now(&g->c) + ns);
}

static void set_line(struct rig *g, unsigned divisor, uint8_t lcr)
{
	out(g, UART_LCR, UART_LCR_DLAB);
	out(g, UART_DLL, (uint8_t)divisor);
	out(g, UART_DLM, (uint8_t)(divisor >> 8));
	out(g, UART_LCR, lcr);
}

static void test_probe(struct tap *t)
{
	struct rig g;
	rig_init(&g);
	tap_ok(t, in(&g, UART_IIR) == UART_IIR_NO_INT && in(&g, UART_LSR) == 0x60 &&
		       in(&g, UART_IER) == 0 && in(&g, UART_LCR) == 0 && in(&g, UART_MCR) == 0,
	       "reset: IIR 01, LSR 60, IER/LCR/MCR 0");
	/* Linux autoconfig(): IER holds exactly bits 0-3 */
	out(&g, UART_IER, 0);
	tap_ok(t, in(&g, UART_IER) == 0, "IER 0 reads 0");
	out(&g, UART_IER, 0x0f);
	tap_ok(t, in(&g, UART_IER) == 0x0f, "IER 0x0f reads 0x0f");
	out(&g, UART_IER, 0xff);
	tap_ok(t, in(&g, UART_IER) == 0x0f, "IER bits 4-7 (UUE, sleep) read 0");
	out(&g, UART_IER, 0);
	in(&g, UART_IIR);
	out(&g, UART_SCR, 0xa5);
	tap_ok(t, in(&g, UART_SCR) == 0xa5, "scratch register");
	out(&g, UART_MCR, UART_MCR_LOOP | 0x0a);
	tap_ok(t, (in(&g, UART_MSR) & 0xf0) == 0x90, "loopback: MCR 1a gives MSR 9x");
	out(&g, UART_MCR, 0);
	out(&g, UART_FCR, UART_FCR_ENABLE);
	tap_ok(t, (in(&g, UART_IIR) >> 6) == 3, "FIFO detection: IIR bits 6-7 = 11");
	tap_ok(t, (in(&g, UART_IIR) & 0x30) == 0, "IIR bits 4-5 zero (not a 16750)");
	out(&g, UART_LCR, 0xbf);
	tap_ok(t, in(&g, 2) != 0, "no EFR behind LCR=0xbf (not a 16650)");
	out(&g, UART_LCR, 0);
	out(&g, UART_FCR, 0);
	tap_ok(t, (in(&g, UART_IIR) & 0xc0) == 0, "FIFOs off: IIR bits 6-7 = 00");
	/* serial8250_do_startup's THRE test */
	out(&g, UART_IER, UART_IER_ETBEI);
	tap_ok(t, (in(&g, UART_IIR) & 0x0f) == UART_IIR_THRI, "ETBEI with THR empty: THRI");
	tap_ok(t, in(&g, UART_IIR) == UART_IIR_NO_INT, "reading IIR cleared it");
	out(&g, UART_IER, 0);
	out(&g, UART_IER, UART_IER_ETBEI);
	tap_ok(t, (in(&g, UART_IIR) & 0x0f) == UART_IIR_THRI,
	       "ETBEI 0 -> 1 again raises THRI again");
	out(&g, UART_IER, UART_IER_ETBEI | UART_IER_ERBFI);
	tap_ok(t, in(&g, UART_IIR) == UART_IIR_NO_INT,
	       "an IER write that keeps ETBEI does not re-raise it");
}

static void test_line(struct tap *t)
{
	struct rig g;
	rig_init(&g);
	set_line(&g, 12, 0x03);
	out(&g, UART_LCR, 0x83);
	tap_ok(t, in(&g, UART_DLL) == 12 && in(&g, UART_DLM) == 0, "divisor latch reads back");
	out(&g, UART_DLM, 0x01);
	tap_ok(t, g.u.divisor == 0x010c && in(&g, UART_DLM) == 1, "DLM is the high byte");
	out(&g, UART_DLM, 0);
	out(&g, UART_LCR, 0x03);
	out(&g, UART_IER, 0x05);
	tap_ok(t, in(&g, UART_IER) == 0x05 && g.u.divisor == 12,
	       "DLAB = 0: offsets 0/1 are THR/IER again");
	tap_ok(t, uart_char_ns(&g.u) == 1041667, "9600 8N1: 10 bits = 1041667 ns");
	out(&g, UART_LCR, 0x1f); /* 8 data, even parity, 2 stop */
	tap_ok(t, in(&g, UART_LCR) == 0x1f && uart_char_ns(&g.u) == 1250000,
	       "9600 8E2: 12 bits");
	out(&g, UART_LCR, 0x04); /* 5 data, 1.5 stop */
	tap_ok(t, uart_char_ns(&g.u) == 781250, "9600 5N1.5: 7.5 bits");
	set_line(&g, 1, 0x03);
	tap_ok(t, uart_char_ns(&g.u) == 86806, "115200 8N1");
	set_line(&g, 0, 0x03);
	tap_ok(t, uart_char_ns(&g.u) == 5688888889ull, "divisor 0 counts as 65536");
}

static void test_tx(struct tap *t)
{
	struct rig g;
	uint64_t t0, bit, ch;
	rig_init(&g);
	set_line(&g, 12, 0x03);
	ch = uart_char_ns(&g.u);
	bit = 104167;

	t0 = vclock_now(&g.c);
	out(&g, UART_THR, 'A');
	tap_ok(t, g.s.n == 1 && g.s.buf[0] == 'A', "the byte reaches the backend at once");
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0, "THRE and TEMT clear right after the write");
	vclock_advance_to(&g.c, t0 + bit);
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == UART_LSR_THRE,
	       "a bit time later the shift register has it: THRE, not TEMT");
	out(&g, UART_THR, 'B');
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0, "16450 mode: one byte fills the THR");
	vclock_advance_to(&g.c, t0 + bit + ch - 1);
	tap_ok(t, !(in(&g, UART_LSR) & UART_LSR_THRE), "THR still full until A is out");
	vclock_advance_to(&g.c, t0 + bit + ch);
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == UART_LSR_THRE, "B moves on when A is out");
	vclock_advance_to(&g.c, t0 + bit + 2 * ch);
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0x60, "TEMT when B is out");

	/* Linux's interrupt-driven transmit: 16 bytes per THRE interrupt */
	out(&g, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX);
	out(&g, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	out(&g, UART_IER, UART_IER_ETBEI);
	tap_ok(t, g.q.level && in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_THRI),
	       "THRE interrupt on IRQ with OUT2, IIR c2");
	tap_ok(t, !g.q.level, "reading IIR lowered it");
	{
		unsigned rises = g.q.rises;
		size_t n0 = g.s.n;
		t0 = vclock_now(&g.c);
		for (int i = 0; i < 16; i++)
			out(&g, UART_THR, (uint8_t)('a' + i));
		tap_ok(t, g.s.n == n0 + 16 && memcmp(g.s.buf + n0, "abcdefghijklmnop", 16) == 0,
		       "16 bytes at the backend at once");
		vclock_advance_to(&g.c, t0 + bit + 15 * ch - 1);
		tap_ok(t, g.q.rises == rises && !(in(&g, UART_LSR) & UART_LSR_THRE),
		       "no interrupt while the FIFO drains");
		vclock_advance_to(&g.c, t0 + bit + 15 * ch);
		tap_ok(t, g.q.rises == rises + 1 && g.q.level,
		       "one THRE interrupt when the last byte enters the shift register");
		tap_ok(t, (in(&g, UART_LSR) & 0x60) == UART_LSR_THRE, "THRE but not TEMT yet");
		vclock_advance_to(&g.c, t0 + bit + 16 * ch);
		tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0x60, "TEMT after 16 characters");
		out(&g, UART_THR, 'x');
		tap_ok(t, !g.q.level, "writing THR clears the THRE interrupt");
		advance(&g, bit);
		tap_ok(t, g.q.level, "and it comes back once the byte moves on");
		in(&g, UART_IIR);
	}
	{
		size_t n0 = g.s.n;
		for (int i = 0; i < 40; i++)
			out(&g, UART_THR, (uint8_t)i);
		tap_ok(t, g.s.n == n0 + 40, "a guest overfilling the FIFO loses nothing");
		advance(&g, 20 * ch);
		tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0x60, "timing saturates at 16 + 1 bytes");
	}
}

static void test_rx(struct tap *t)
{
	struct rig g;
	uint64_t ch, t0;
	uint8_t data[32];
	bool ok = true;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x30 + i);
	rig_init(&g);
	set_line(&g, 12, 0x03);
	ch = uart_char_ns(&g.u);
	out(&g, UART_MCR, UART_MCR_OUT2);
	out(&g, UART_IER, UART_IER_ERBFI);

	/* 16450 mode: one byte */
	tap_ok(t, uart_receive(&g.u, data, 3) == 1 && !uart_can_receive(&g.u),
	       "16450 mode takes one byte");
	tap_ok(t, g.q.level && in(&g, UART_IIR) == UART_IIR_RDI, "RDA at once (IIR 04)");
	tap_ok(t, in(&g, UART_LSR) & UART_LSR_DR, "DR");
	tap_ok(t, in(&g, UART_RBR) == 0x30 && !g.q.level && !(in(&g, UART_LSR) & UART_LSR_DR),
	       "reading RBR clears DR and the interrupt");
	tap_ok(t, g.s.ready_calls == 1, "the backend that was turned away hears rx_ready");
	tap_ok(t, in(&g, UART_RBR) == 0x30, "an empty RBR shows the last byte");

	/* FIFO, trigger 8 */
	out(&g, UART_FCR, UART_FCR_ENABLE | 0x80);
	t0 = vclock_now(&g.c);
	tap_ok(t, uart_receive(&g.u, data, 5) == 5, "5 bytes taken");
	tap_ok(t, !g.q.level && in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_NO_INT),
	       "below the trigger level: no interrupt yet");
	tap_ok(t, vclock_next_deadline(&g.c) == t0 + 4 * ch, "timeout timer at 4 character times");
	vclock_advance_to(&g.c, t0 + 4 * ch - 1);
	tap_ok(t, !g.q.level, "no timeout 1 ns early");
	vclock_advance_to(&g.c, t0 + 4 * ch);
	tap_ok(t, g.q.level && in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_CTI),
	       "character timeout (IIR cc) at 4 character times");
	t0 = vclock_now(&g.c);
	tap_ok(t, in(&g, UART_RBR) == 0x30 && !g.q.level, "a read clears the timeout");
	vclock_advance_to(&g.c, t0 + 4 * ch);
	tap_ok(t, g.q.level && (in(&g, UART_IIR) & 0x0f) == UART_IIR_CTI,
	       "and restarts it: 4 character times after the read");
	tap_ok(t, uart_receive(&g.u, data + 5, 4) == 4 && g.q.level &&
		       in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_RDI),
	       "8 bytes: trigger level reached, IIR c4");
	in(&g, UART_RBR);
	tap_ok(t, !g.q.level, "7 bytes: below the trigger again (timer restarted)");
	for (int i = 0; i < 7; i++)
		in(&g, UART_RBR);
	tap_ok(t, !(in(&g, UART_LSR) & UART_LSR_DR) && vclock_next_deadline(&g.c) == VCLOCK_NEVER,
	       "FIFO empty: no timer");

	/* each trigger level */
	for (unsigned lvl = 0; lvl < 4; lvl++) {
		static const unsigned want[4] = {1, 4, 8, 14};
		out(&g, UART_FCR, (uint8_t)(UART_FCR_ENABLE | UART_FCR_CLEAR_RX | lvl << 6));
		uart_receive(&g.u, data, want[lvl] - 1);
		if ((in(&g, UART_IIR) & 0x0f) == UART_IIR_RDI)
			ok = false;
		uart_receive(&g.u, data, 1);
		if ((in(&g, UART_IIR) & 0x0f) != UART_IIR_RDI || !g.q.level)
			ok = false;
	}
	tap_ok(t, ok, "trigger levels 1, 4, 8, 14");
	out(&g, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	tap_ok(t, !(in(&g, UART_LSR) & UART_LSR_DR) && !g.q.level, "FCR clears the RX FIFO");
	g.s.ready_calls = 0;
	tap_ok(t, uart_receive(&g.u, data, 20) == 16 && !uart_can_receive(&g.u),
	       "the FIFO takes 16 of 20; the caller keeps 4");
	tap_ok(t, !(in(&g, UART_LSR) & UART_LSR_OE), "no overrun from the host side");
	in(&g, UART_RBR);
	tap_ok(t, g.s.ready_calls == 1 && uart_receive(&g.u, data + 16, 4) == 1,
	       "room for one more after a read, rx_ready called");
	ok = true;
	for (int i = 1; i < 16; i++)
		if (in(&g, UART_RBR) != data[i])
			ok = false;
	tap_ok(t, ok && in(&g, UART_RBR) == data[16], "bytes come out in order");
}

static void test_loopback(struct tap *t)
{
	struct rig g;
	uint64_t ch, bit = 104167;
	bool ok = true;

	rig_init(&g);
	set_line(&g, 12, 0x03);
	ch = uart_char_ns(&g.u);
	out(&g, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	tap_ok(t, !uart_can_receive(&g.u) && uart_receive(&g.u, (const uint8_t *)"z", 1) == 0,
	       "loopback: external input disconnected (held, not lost)");
	out(&g, UART_THR, 0x5a);
	tap_ok(t, g.s.n == 0, "loopback: nothing reaches the backend");
	advance(&g, bit + ch - 1);
	tap_ok(t, !(in(&g, UART_LSR) & UART_LSR_DR), "not received before it is shifted out");
	advance(&g, 1);
	tap_ok(t, (in(&g, UART_LSR) & UART_LSR_DR) && in(&g, UART_RBR) == 0x5a,
	       "TX looped into RX after a bit plus a character time");

	/* 16450 overrun: the second byte replaces the first */
	out(&g, UART_THR, 1);
	advance(&g, bit + ch);
	out(&g, UART_THR, 2);
	advance(&g, bit + ch);
	tap_ok(t, (in(&g, UART_LSR) & (UART_LSR_OE | UART_LSR_DR)) == (UART_LSR_OE | UART_LSR_DR),
	       "16450 overrun: OE");
	tap_ok(t, !(in(&g, UART_LSR) & UART_LSR_OE) && in(&g, UART_RBR) == 2,
	       "LSR read cleared OE; RBR has the newer byte");

	/* FIFO overrun: the 17th byte is lost, the FIFO kept */
	out(&g, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX | 0xc0);
	out(&g, UART_IER, UART_IER_ERBFI | UART_IER_ELSI);
	for (int i = 0; i < 16; i++)
		out(&g, UART_THR, (uint8_t)(0x40 + i));
	advance(&g, bit + 16 * ch);
	tap_ok(t, (in(&g, UART_IIR) & 0x0f) == UART_IIR_RDI, "16 bytes looped: RDA");
	out(&g, UART_THR, 0x99);
	advance(&g, bit + ch);
	tap_ok(t, in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_RLSI),
	       "17th byte: overrun, line status (c6) before data");
	tap_ok(t, (in(&g, UART_LSR) & UART_LSR_OE) &&
		       (in(&g, UART_IIR) & 0x0f) == UART_IIR_RDI,
	       "LSR read clears it; data available next");
	for (int i = 0; i < 16; i++)
		if (in(&g, UART_RBR) != 0x40 + i)
			ok = false;
	tap_ok(t, ok && !(in(&g, UART_LSR) & UART_LSR_DR), "the FIFO kept the first 16");
	tap_ok(t, !g.q.level, "no IRQ leaves the chip in loopback (OUT2 forced off)");

	/* break in loopback */
	out(&g, UART_LCR, 0x03 | UART_LCR_BREAK);
	out(&g, UART_LCR, 0x03);
	{
		uint8_t lsr = in(&g, UART_LSR);
		tap_ok(t, (lsr & (UART_LSR_BI | UART_LSR_FE | UART_LSR_DR | UART_LSR_FIFOE)) ==
				  (UART_LSR_BI | UART_LSR_FE | UART_LSR_DR | UART_LSR_FIFOE) &&
			       in(&g, UART_RBR) == 0,
		       "BREAK in loopback: a 0 byte with BI, FE, FIFO error");
	}

	/* modem status follows MCR in loopback */
	out(&g, UART_MCR, 0);
	in(&g, UART_MSR);
	out(&g, UART_MCR, UART_MCR_LOOP);
	tap_ok(t, in(&g, UART_MSR) == (UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD),
	       "entering loopback drops CTS DSR DCD: their deltas");
	tap_ok(t, in(&g, UART_MSR) == 0, "MSR read clears the deltas");
	out(&g, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	tap_ok(t, in(&g, UART_MSR) == (UART_MSR_CTS | UART_MSR_DCTS), "RTS -> CTS, DCTS");
	out(&g, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
	tap_ok(t, in(&g, UART_MSR) == (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DDSR),
	       "DTR -> DSR, DDSR");
	out(&g, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	tap_ok(t, in(&g, UART_MSR) == (UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR),
	       "OUT1 -> RI (no TERI on the leading edge)");
	out(&g, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	tap_ok(t, in(&g, UART_MSR) == (UART_MSR_DCD | UART_MSR_DDCD | UART_MSR_TERI),
	       "OUT2 -> DCD; RI's trailing edge sets TERI");
	out(&g, UART_IER, UART_IER_EDSSI);
	out(&g, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	tap_ok(t, in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_MS), "modem status interrupt: c0");
	in(&g, UART_MSR);
	tap_ok(t, in(&g, UART_IIR) == (UART_IIR_FIFO | UART_IIR_NO_INT), "cleared by MSR read");
	out(&g, UART_MCR, UART_MCR_OUT2);
	in(&g, UART_MSR);
	uart_set_modem_inputs(&g.u, UART_MSR_DSR | UART_MSR_DCD);
	tap_ok(t, g.q.level && (in(&g, UART_MSR) & 0x0f) == UART_MSR_DCTS,
	       "outside loopback the backend's lines count: CTS drop raises DCTS");
}

static void test_priorities(struct tap *t)
{
	struct rig g;
	rig_init(&g);
	set_line(&g, 1, 0x03);
	out(&g, UART_FCR, UART_FCR_ENABLE);
	/* all four sources pending at once */
	uart_receive_break(&g.u);
	uart_set_modem_inputs(&g.u, UART_MSR_DSR);
	out(&g, UART_IER, 0x0f);
	tap_ok(t, !g.q.level, "OUT2 clear: pending interrupts stay inside");
	out(&g, UART_MCR, UART_MCR_OUT2);
	tap_ok(t, g.q.level, "OUT2 set: IRQ raised");
	tap_ok(t, in(&g, UART_IIR) == 0xc6, "1st: receiver line status");
	in(&g, UART_LSR);
	tap_ok(t, in(&g, UART_IIR) == 0xc4, "2nd: received data");
	in(&g, UART_RBR);
	tap_ok(t, in(&g, UART_IIR) == 0xc2, "3rd: THR empty (cleared by this read)");
	tap_ok(t, in(&g, UART_IIR) == 0xc0, "4th: modem status");
	in(&g, UART_MSR);
	tap_ok(t, in(&g, UART_IIR) == 0xc1 && !g.q.level, "none left, IRQ low");
	uart_receive(&g.u, (const uint8_t *)"q", 1);
	tap_ok(t, g.q.level, "new data raises it");
	out(&g, UART_MCR, 0);
	tap_ok(t, !g.q.level, "clearing OUT2 gates it off");
	out(&g, UART_MCR, UART_MCR_OUT2);
	tap_ok(t, g.q.level, "and on again");
	out(&g, UART_IER, 0);
	tap_ok(t, !g.q.level && in(&g, UART_IIR) == 0xc1, "IER 0 masks every source");
}

static void test_hostile(struct tap *t)
{
	struct rig g;
	uint32_t x = 12345;
	rig_init(&g);
	for (int i = 0; i < 200000; i++) {
		unsigned reg, v;
		x = x * 1103515245 + 12345;
		reg = (x >> 16) % 10;
		v = (x >> 8) & 0xff;
		if (x & 1)
			out(&g, reg, (uint8_t)v);
		else
			(void)in(&g, reg);
		if ((i & 63) == 0) {
			uint8_t b[40];
			memset(b, (int)v, sizeof(b));
			uart_receive(&g.u, b, (x >> 3) % 40);
			advance(&g, (x >> 4) % 3000000);
		}
		if ((i & 1023) == 0)
			uart_receive_break(&g.u);
	}
	tap_ok(t, g.u.rx_count <= UART_FIFO_SIZE && g.u.tx_count <= UART_FIFO_SIZE &&
		       g.u.rx_head < UART_FIFO_SIZE && g.u.tx_head < UART_FIFO_SIZE,
	       "200000 random register accesses: FIFOs in bounds");
	tap_ok(t, uart_ops.read(&g.u, 9, 1) == 0xff, "offsets past 7 read all-ones");
	out(&g, UART_LCR, 0x03);
	out(&g, UART_MCR, 0);
	out(&g, UART_FCR, 0);
	out(&g, UART_IER, 0);
	advance(&g, 1000000000);
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0x60, "still transmits after the storm");
}

/* The board's mode for host-backed ports: no pacing, one edge per byte. */
static void test_instant(struct tap *t)
{
	struct rig g;
	unsigned rises;

	rig_init(&g);
	uart_set_instant_tx(&g.u, true);
	set_line(&g, 12, 0x03); /* 9600 baud: would be 1 ms a byte if paced */
	out(&g, UART_FCR, UART_FCR_ENABLE);
	out(&g, UART_MCR, UART_MCR_OUT2);
	out(&g, UART_THR, 'x');
	tap_ok(t, (in(&g, UART_LSR) & 0x60) == 0x60 && g.s.n == 1 && g.s.buf[0] == 'x',
	       "instant: the byte is out and THRE+TEMT set with no time passing");
	out(&g, UART_IER, UART_IER_ETBEI);
	tap_ok(t, g.q.level && in(&g, UART_IIR) == 0xc2 && !g.q.level,
	       "instant: THRE interrupt at once, cleared by reading IIR");
	rises = g.q.rises;
	for (int i = 0; i < 16; i++)
		out(&g, UART_THR, (uint8_t)('a' + i));
	tap_ok(t, g.q.rises == rises + 16 && g.q.level && g.s.n == 17,
	       "instant: each THR write is a fresh edge for an edge-triggered PIC");
	tap_ok(t, !vtimer_armed(&g.u.tx_timer) && vclock_next_deadline(&g.c) == VCLOCK_NEVER,
	       "instant: no transmitter timer");
	out(&g, UART_MCR, UART_MCR_LOOP);
	out(&g, UART_THR, 'L');
	tap_ok(t, (in(&g, UART_LSR) & UART_LSR_DR) && in(&g, UART_RBR) == 'L' && g.s.n == 17,
	       "instant loopback: the byte arrives in the receiver, not the backend");
}

/* io_ops.peek: the byte a read would give, or -1 where reading changes
 * something (what a device model publishes for the vmm to answer). */
static int peek(struct rig *g, unsigned reg)
{
	uint8_t v;
	return uart_ops.peek(&g->u, reg, &v) ? v : -1;
}

static void test_peek(struct tap *t)
{
	struct rig g;
	uint8_t b = 'k';
	bool same = true;

	rig_init(&g);
	uart_set_instant_tx(&g.u, true);
	set_line(&g, 1, 0x03);
	out(&g, UART_FCR, UART_FCR_ENABLE);
	out(&g, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	out(&g, UART_SCR, 0x5a);
	for (unsigned r = 1; r < 8; r++)
		if (r != UART_IIR && r != UART_MSR)
			same = same && peek(&g, r) == in(&g, r);
	tap_ok(t, same && peek(&g, UART_LSR) == 0x60 && peek(&g, UART_RBR) == -1 &&
		   peek(&g, UART_IIR) == -1,
	       "published: IER, LCR, MCR, LSR and SCR as read; never RBR or IIR");
	out(&g, UART_LCR, 0x83);
	tap_ok(t, peek(&g, UART_RBR) == 1 && peek(&g, UART_IER) == 0,
	       "published: the divisor latch with DLAB set");
	out(&g, UART_LCR, 0x03);
	out(&g, UART_IER, UART_IER_ERBFI);
	uart_receive(&g.u, &b, 1);
	tap_ok(t, peek(&g, UART_LSR) == -1 && (in(&g, UART_LSR) & UART_LSR_DR) &&
		   peek(&g, UART_LSR) == -1,
	       "published: not LSR while a received byte waits (its timer)");
	(void)in(&g, UART_RBR);
	out(&g, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	out(&g, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP | UART_MCR_DTR);
	tap_ok(t, peek(&g, UART_MSR) == -1 && in(&g, UART_MSR) != 0 &&
		   peek(&g, UART_MSR) == in(&g, UART_MSR),
	       "published: MSR only once its changes are read");
}

int main(void)
{
	struct tap t = {0};
	test_probe(&t);
	test_line(&t);
	test_tx(&t);
	test_rx(&t);
	test_loopback(&t);
	test_priorities(&t);
	test_hostile(&t);
	test_instant(&t);
	test_peek(&t);
	return tap_done(&t);
}
