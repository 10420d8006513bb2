/* The PIIX3 UHCI USB host controller (see uhci.h). */
#include "dm/hw/uhci.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dev/kind.h"
#include "lib/le.h"

static bool running(const struct uhci *u)
{
	return (u->cmd & UHCI_CMD_RS) && !(u->sts & UHCI_STS_HCH);
}

/* ---- the interrupt ---- */

static bool int_request(const struct uhci *u)
{
	return ((u->sts & UHCI_STS_USBINT) &&
		(((u->cause & UHCI_CAUSE_IOC) && (u->intr & UHCI_INTR_IOC)) ||
		 ((u->cause & UHCI_CAUSE_SPD) && (u->intr & UHCI_INTR_SPD)))) ||
	       ((u->sts & UHCI_STS_ERRINT) && (u->intr & UHCI_INTR_TOCRC)) ||
	       ((u->sts & UHCI_STS_RD) && (u->intr & UHCI_INTR_RESUME)) ||
	       (u->sts & (UHCI_STS_HSE | UHCI_STS_HCPE));
}

/* INTD# follows the request unless the command register's INTx disable
 * masks it; the status register's interrupt bit shows the request. */
static void irq_update(struct uhci *u)
{
	bool req = int_request(u);
	bool masked = pci_cfg16(&u->fn, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;
	u->fn.cfg[PCI_STATUS] = (uint8_t)((u->fn.cfg[PCI_STATUS] & ~PCI_STATUS_INTERRUPT) |
					  (req ? PCI_STATUS_INTERRUPT : 0));
	if (u->irq)
		irq_set(u->irq, req && !masked);
}

/* ---- the frame timer ---- */

static unsigned batch(const struct uhci *u)
{
	return u->idle_frames >= UHCI_IDLE_FRAMES ? UHCI_IDLE_BATCH : 1;
}

/* Armed for the end of the next frame (or batch) while running, else
 * not at all; a batch ends early at the first frame in which a device
 * will have data by itself (a keyboard's idle repeat). */
static void schedule(struct uhci *u)
{
	uint64_t first = u->frame_start + UHCI_FRAME_NS, at;

	if (!running(u)) {
		vtimer_cancel(u->clock, &u->timer);
		return;
	}
	at = u->frame_start + batch(u) * UHCI_FRAME_NS;
	for (unsigned i = 0; i < UHCI_PORTS && at > first; i++) {
		uint64_t t, end = first;
		if (!u->dev[i] || !(u->portsc[i] & UHCI_PORT_PED))
			continue;
		t = usb_dev_next_data(u->dev[i]);
		if (t >= at)
			continue;
		if (t > end)
			end += (t - end + UHCI_FRAME_NS - 1) / UHCI_FRAME_NS * UHCI_FRAME_NS;
		if (end < at)
			at = end;
	}
	vtimer_arm(u->clock, &u->timer, at);
}

/* The controller stops on a fatal error: RS clears, HCH sets. */
static void halt_on(struct uhci *u, uint16_t why)
{
	u->sts |= why | UHCI_STS_HCH;
	u->cmd &= (uint16_t)~UHCI_CMD_RS;
	vtimer_cancel(u->clock, &u->timer);
}

static bool mem_read(struct uhci *u, uint32_t gpa, void *buf, size_t n)
{
	u->dma_reads++;
	if (dma_read(u->dma, gpa, buf, n) == 0)
		return true;
	halt_on(u, UHCI_STS_HSE);
	return false;
}

static bool mem_write(struct uhci *u, uint32_t gpa, const void *buf, size_t n)
{
	if (dma_write(u->dma, gpa, buf, n) == 0)
		return true;
	halt_on(u, UHCI_STS_HSE);
	return false;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool read32(struct uhci *u, uint32_t gpa, uint32_t *v)
{
	uint8_t b[4];
	if (!mem_read(u, gpa, b, 4))
		return false;
	*v = le32(b);
	return true;
}

static bool write32(struct uhci *u, uint32_t gpa, uint32_t v)
{
	uint8_t b[4];
	le_put32(b, v);
	return mem_write(u, gpa, b, 4);
}

/* One frame's walk. */
struct walk {
	unsigned budget;            /* elements left to look at */
	unsigned bytes;             /* data moved */
	unsigned progress;          /* TDs retired */
	unsigned n_qh;
	uint32_t qh[UHCI_LOOP_QHS];
	unsigned qh_progress[UHCI_LOOP_QHS];
};

/* Whether the walk comes back to queue head `addr` with nothing retired
 * since its last visit: the rest of the frame would only go round. */
static bool qh_loops(struct walk *w, uint32_t addr)
{
	for (unsigned i = 0; i < w->n_qh; i++) {
		if (w->qh[i] != addr)
			continue;
		if (w->qh_progress[i] == w->progress)
			return true;
		w->qh_progress[i] = w->progress;
		return false;
	}
	if (w->n_qh < UHCI_LOOP_QHS) {
		w->qh[w->n_qh] = addr;
		w->qh_progress[w->n_qh++] = w->progress;
	}
	return false;
}

/* The device with USB address `addr` on an enabled, awake port. */
static struct usb_dev *find_dev(struct uhci *u, unsigned addr)
{
	for (unsigned i = 0; i < UHCI_PORTS; i++) {
		struct usb_dev *d = u->dev[i];
		uint16_t sc = u->portsc[i];
		if (d && (sc & UHCI_PORT_PED) && !(sc & (UHCI_PORT_SUSP | UHCI_PORT_PR)) &&
		    d->addr == addr)
			return d;
	}
	return NULL;
}

enum td_result {
	TD_DONE,      /* retired without error: a queue advances */
	TD_BLOCKED,   /* inactive, NAKed, failed or short: the queue waits */
	TD_FULL,      /* no room left in this frame */
	TD_HALTED,    /* the controller stopped */
};

static unsigned actlen_of(int n)
{
	return (unsigned)(n - 1) & UHCI_TD_ACTLEN;
}

/* Retires a TD with an error: stalled, inactive, USBERRINT. */
static uint32_t td_fail(struct uhci *u, uint32_t ctrl, uint32_t bits)
{
	u->sts |= UHCI_STS_ERRINT;
	if (ctrl & UHCI_TD_IOC) {
		u->sts |= UHCI_STS_USBINT;
		u->cause |= UHCI_CAUSE_IOC;
	}
	return (ctrl | bits | UHCI_TD_STALLED) & ~UHCI_TD_ACTIVE;
}

/* Executes the TD at `addr` (its four dwords in td) and writes its
 * status back when it changed. */
static enum td_result td_run(struct uhci *u, struct walk *w, uint32_t addr, const uint32_t *td)
{
	uint32_t ctrl = td[1], token = td[2], buffer = td[3], done;
	unsigned pid = token & 0xff, devaddr = (token >> 8) & 0x7f, ep = (token >> 15) & 0xf;
	unsigned maxlen = ((token >> 21) + 1) & 0x7ff;
	bool toggle = (token >> 19) & 1;
	uint64_t frame_end = u->frame_start + UHCI_FRAME_NS;
	uint8_t data[UHCI_FRAME_BYTES];
	enum td_result res = TD_BLOCKED;
	struct usb_dev *d;
	int r;

	if (!(ctrl & UHCI_TD_ACTIVE))
		return TD_BLOCKED;
	if (ctrl & UHCI_TD_IOS) {
		/* No isochronous endpoint exists: the slot passes unused. */
		done = (ctrl & ~UHCI_TD_ACTIVE & ~UHCI_TD_ACTLEN) | UHCI_TD_ACTLEN;
		if (ctrl & UHCI_TD_IOC) {
			u->sts |= UHCI_STS_USBINT;
			u->cause |= UHCI_CAUSE_IOC;
		}
		w->progress++;
		return write32(u, addr + 4, done) ? TD_DONE : TD_HALTED;
	}
	if ((pid != USB_PID_SETUP && pid != USB_PID_IN && pid != USB_PID_OUT) ||
	    maxlen > UHCI_FRAME_BYTES) {
		halt_on(u, UHCI_STS_HCPE);
		return TD_HALTED;
	}
	if (w->bytes + maxlen > UHCI_FRAME_BYTES)
		return TD_FULL;

	d = find_dev(u, devaddr);
	if (!d) {
		/* Nobody answers: a timeout, counted down by C_ERR (0 counts
		 * for ever). */
		unsigned cerr = (ctrl & UHCI_TD_CERR) >> UHCI_TD_CERR_SHIFT;
		done = ctrl | UHCI_TD_CRC_TIMEOUT;
		if (cerr) {
			done = (done & ~UHCI_TD_CERR) | (uint32_t)(cerr - 1) << UHCI_TD_CERR_SHIFT;
			if (cerr == 1) {
				done = td_fail(u, done, 0);
				w->progress++;
			}
		}
	} else if (pid == USB_PID_IN) {
		r = usb_dev_packet(d, (uint8_t)pid, ep, toggle, data, maxlen, frame_end);
		if (r > (int)maxlen) {
			done = td_fail(u, ctrl, UHCI_TD_BABBLE);
			w->progress++;
		} else if (r >= 0) {
			if (r && !mem_write(u, buffer, data, (size_t)r))
				return TD_HALTED;
			w->bytes += (unsigned)r;
			done = (ctrl & ~(UHCI_TD_ACTIVE | UHCI_TD_NAK | UHCI_TD_ACTLEN)) | actlen_of(r);
			if ((unsigned)r < maxlen && (ctrl & UHCI_TD_SPD)) {
				/* A short packet stops its queue where it is. */
				u->sts |= UHCI_STS_USBINT;
				u->cause |= UHCI_CAUSE_SPD;
			} else {
				res = TD_DONE;
			}
			w->progress++;
		} else if (r == USB_RET_NAK) {
			done = ctrl | UHCI_TD_NAK;
		} else {
			done = td_fail(u, ctrl, 0);
			w->progress++;
		}
	} else {
		if (maxlen && !mem_read(u, buffer, data, maxlen))
			return TD_HALTED;
		r = usb_dev_packet(d, (uint8_t)pid, ep, toggle, data, maxlen, frame_end);
		if (r >= 0) {
			w->bytes += maxlen;
			done = (ctrl & ~(UHCI_TD_ACTIVE | UHCI_TD_NAK | UHCI_TD_ACTLEN)) |
			       actlen_of((int)maxlen);
			res = TD_DONE;
			w->progress++;
		} else if (r == USB_RET_NAK) {
			done = ctrl | UHCI_TD_NAK;
		} else {
			done = td_fail(u, ctrl, 0);
			w->progress++;
		}
	}
	if (res == TD_DONE && (ctrl & UHCI_TD_IOC)) {
		u->sts |= UHCI_STS_USBINT;
		u->cause |= UHCI_CAUSE_IOC;
	}
	if (done != ctrl && !write32(u, addr + 4, done))
		return TD_HALTED;
	return res;
}

static bool read_td(struct uhci *u, uint32_t addr, uint32_t *td)
{
	uint8_t b[16];
	if (!mem_read(u, addr, b, sizeof(b)))
		return false;
	for (unsigned i = 0; i < 4; i++)
		td[i] = le32(b + 4 * i);
	return true;
}

/* The queue of the QH at `addr`: its TDs in order while they complete
 * (each completion moves the element link on), going deeper only where
 * a TD's link says depth first. The QH's horizontal link is the walk's
 * next step. */
static enum td_result qh_run(struct uhci *u, struct walk *w, uint32_t addr, uint32_t *next)
{
	uint8_t b[8];
	uint32_t elem;

	if (!mem_read(u, addr, b, sizeof(b)))
		return TD_HALTED;
	*next = le32(b);
	elem = le32(b + 4);
	while (!(elem & (UHCI_LINK_T | UHCI_LINK_Q)) && w->budget) {
		uint32_t td[4];
		enum td_result r;
		w->budget--;
		if (!read_td(u, elem & UHCI_LINK_ADDR, td))
			return TD_HALTED;
		r = td_run(u, w, elem & UHCI_LINK_ADDR, td);
		if (r != TD_DONE)
			return r;
		elem = td[0];
		if (!write32(u, addr + 4, elem))
			return TD_HALTED;
		if (!(td[0] & UHCI_LINK_VF))
			break;
	}
	return TD_DONE;
}

/* Frame `frnum`: whether anything completed in it. */
static bool frame_run(struct uhci *u)
{
	struct walk w = {.budget = UHCI_FRAME_ELEMENTS};
	uint32_t link;

	u->frames_walked++;
	if (!(pci_cfg16(&u->fn, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
		/* The controller cannot reach memory: a master abort. */
		halt_on(u, UHCI_STS_HSE);
		return true;
	}
	if (!read32(u, (u->frbase & ~0xfffu) + 4u * (u->frnum & 0x3ff), &link))
		return true;
	while (!(link & UHCI_LINK_T) && w.budget && running(u)) {
		uint32_t addr = link & UHCI_LINK_ADDR;
		w.budget--;
		if (link & UHCI_LINK_Q) {
			if (qh_loops(&w, addr))
				break;
			if (qh_run(u, &w, addr, &link) == TD_FULL)
				break;
		} else {
			uint32_t td[4];
			if (!read_td(u, addr, td))
				break;
			if (td_run(u, &w, addr, td) == TD_FULL)
				break;
			link = td[0];
		}
	}
	return w.progress != 0 || !running(u);
}

void uhci_catch_up(struct uhci *u)
{
	uint64_t now = vclock_now(u->clock), due;

	if (!running(u) || now < u->frame_start + UHCI_FRAME_NS)
		return;
	due = (now - u->frame_start) / UHCI_FRAME_NS;
	if (due > UHCI_CATCHUP_MAX) {
		/* Frames nobody could have seen walked: FRNUM moves past them. */
		uint64_t lost = due - UHCI_CATCHUP_MAX;
		u->frnum = (uint16_t)((u->frnum + lost) & 0x7ff);
		u->frame_start += lost * UHCI_FRAME_NS;
		due = UHCI_CATCHUP_MAX;
	}
	for (uint64_t i = 0; i < due && running(u); i++) {
		if (frame_run(u))
			u->idle_frames = 0;
		else if (u->idle_frames < UHCI_IDLE_FRAMES)
			u->idle_frames++;
		u->frnum = (uint16_t)((u->frnum + 1) & 0x7ff);
		u->frame_start += UHCI_FRAME_NS;
	}
	irq_update(u);
}

static void uhci_timer(void *opaque)
{
	struct uhci *u = opaque;
	u->timer_fires++;
	uhci_catch_up(u);
	schedule(u);
}

/* ---- ports and devices ---- */

/* Port i's connection follows whether a device is attached: a change
 * shows in CSC, and a port that loses its device is disabled (PEDC). */
static void port_connect(struct uhci *u, unsigned i)
{
	uint16_t sc = u->portsc[i];
	bool was = sc & UHCI_PORT_CCS, now = u->dev[i] != NULL;

	if (was != now)
		sc |= UHCI_PORT_CSC;
	if (now) {
		sc |= UHCI_PORT_CCS;
	} else {
		if (sc & UHCI_PORT_PED)
			sc |= UHCI_PORT_PEDC;
		sc &= (uint16_t)~(UHCI_PORT_CCS | UHCI_PORT_PED | UHCI_PORT_SUSP |
				  UHCI_PORT_RD | UHCI_PORT_PR);
	}
	u->portsc[i] = sc;
}

/* A device has data, or asks to wake the bus: stop batching frames, and
 * signal resume from a suspended port when the host allowed it. */
static void dev_wakeup(void *opaque, struct usb_dev *d)
{
	struct uhci *u = opaque;

	uhci_catch_up(u);
	u->idle_frames = 0;
	for (unsigned i = 0; i < UHCI_PORTS; i++) {
		if (u->dev[i] != d || !(u->portsc[i] & UHCI_PORT_SUSP) || !d->remote_wakeup)
			continue;
		u->portsc[i] |= UHCI_PORT_RD;
		if (u->cmd & UHCI_CMD_EGSM) {
			u->cmd |= UHCI_CMD_FGR;
			u->sts |= UHCI_STS_RD;
		}
	}
	irq_update(u);
	schedule(u);
}

int uhci_attach(struct uhci *u, unsigned port, struct usb_dev *d)
{
	unsigned i;

	if (port > UHCI_PORTS || !d)
		return -EINVAL;
	for (i = 0; i < UHCI_PORTS; i++)
		if (u->dev[i] == d)
			return -EBUSY;
	if (port) {
		i = port - 1;
		if (u->dev[i])
			return -EBUSY;
	} else {
		for (i = 0; i < UHCI_PORTS && u->dev[i]; i++)
			;
		if (i == UHCI_PORTS)
			return -EBUSY;
	}
	u->dev[i] = d;
	d->wakeup = dev_wakeup;
	d->wakeup_opaque = u;
	port_connect(u, i);
	return (int)i + 1;
}

void uhci_detach(struct uhci *u, struct usb_dev *d)
{
	for (unsigned i = 0; i < UHCI_PORTS; i++) {
		if (u->dev[i] != d)
			continue;
		u->dev[i] = NULL;
		d->wakeup = NULL;
		d->wakeup_opaque = NULL;
		port_connect(u, i);
	}
}

/* HCRESET, GRESET and power-on: registers to their defaults, every port
 * seen anew (a connected device shows a connect change) and every device
 * reset as the bus reset would. */
static void hc_reset(struct uhci *u)
{
	vtimer_cancel(u->clock, &u->timer);
	u->cmd = 0;
	u->sts = UHCI_STS_HCH;
	u->intr = 0;
	u->frnum = 0;
	u->frbase = 0;
	u->sofmod = 0x40;
	u->cause = 0;
	u->frame_start = 0;
	u->idle_frames = 0;
	for (unsigned i = 0; i < UHCI_PORTS; i++) {
		u->portsc[i] = 0;
		if (u->dev[i]) {
			usb_dev_reset(u->dev[i]);
			u->portsc[i] = UHCI_PORT_CCS | UHCI_PORT_CSC;
		}
	}
}

/* ---- registers ---- */

static uint16_t port_read(const struct uhci *u, unsigned i)
{
	uint16_t sc = u->portsc[i] | UHCI_PORT_ONE;
	/* A full-speed device idles in J (D+ high); reset drives SE0. */
	if ((sc & UHCI_PORT_CCS) && !(sc & UHCI_PORT_PR))
		sc |= UHCI_PORT_DPLUS;
	return sc;
}

static uint16_t reg_read(struct uhci *u, unsigned reg)
{
	switch (reg) {
	case UHCI_USBCMD:
		return u->cmd;
	case UHCI_USBSTS:
		return u->sts;
	case UHCI_USBINTR:
		return u->intr;
	case UHCI_FRNUM:
		return u->frnum;
	case UHCI_FRBASEADD:
		return (uint16_t)u->frbase;
	case UHCI_FRBASEADD + 2:
		return (uint16_t)(u->frbase >> 16);
	case UHCI_SOFMOD:
		return u->sofmod;
	case UHCI_PORTSC1:
	case UHCI_PORTSC1 + 2:
		return port_read(u, (reg - UHCI_PORTSC1) / 2);
	default:
		return 0;
	}
}

static void port_write(struct uhci *u, unsigned i, uint16_t v, uint16_t mask)
{
	uint16_t old = u->portsc[i], sc;

	sc = (uint16_t)((old & ~UHCI_PORT_RW) |
			(((old & ~mask) | (v & mask)) & UHCI_PORT_RW));
	sc &= (uint16_t)~(v & mask & UHCI_PORT_W1C);
	if ((sc & UHCI_PORT_PR) && !(old & UHCI_PORT_PR)) {
		/* Reset signalling starts: the device goes back to its default
		 * state, the port is disabled until the driver enables it after
		 * the reset (drivers hold PR for 50 ms, then set PED). */
		if (u->dev[i])
			usb_dev_reset(u->dev[i]);
		if (old & UHCI_PORT_PED)
			sc |= UHCI_PORT_PEDC;
	}
	if (!(sc & UHCI_PORT_CCS) || (sc & UHCI_PORT_PR))
		sc &= (uint16_t)~UHCI_PORT_PED;
	u->portsc[i] = sc;
}

static void cmd_write(struct uhci *u, uint16_t v)
{
	bool was_running = running(u);

	if (v & UHCI_CMD_GRESET) {
		/* Global reset: everything resets and stays so while the bit is
		 * held (drivers hold it 10-50 ms). */
		hc_reset(u);
		u->cmd = UHCI_CMD_GRESET;
		return;
	}
	if (v & UHCI_CMD_HCRESET) {
		hc_reset(u); /* done at once: the bit reads back clear */
		return;
	}
	u->cmd = v & 0x00ff;
	if ((u->cmd & UHCI_CMD_RS) && !was_running) {
		u->sts &= (uint16_t)~UHCI_STS_HCH;
		u->frame_start = vclock_now(u->clock);
		u->idle_frames = 0;
	} else if (!(u->cmd & UHCI_CMD_RS)) {
		u->sts |= UHCI_STS_HCH;
	}
}

/* A write of the bytes `mask` selects to the 16-bit register at `reg`. */
static void reg_write(struct uhci *u, unsigned reg, uint16_t v, uint16_t mask)
{
	uint16_t cur = reg_read(u, reg), merged = (uint16_t)((cur & ~mask) | (v & mask));

	switch (reg) {
	case UHCI_USBCMD:
		cmd_write(u, merged);
		break;
	case UHCI_USBSTS:
		u->sts &= (uint16_t)~(v & mask & UHCI_STS_W1C);
		if (!(u->sts & UHCI_STS_USBINT))
			u->cause = 0;
		break;
	case UHCI_USBINTR:
		u->intr = merged & 0x000f;
		break;
	case UHCI_FRNUM:
		u->frnum = merged & 0x07ff;
		break;
	case UHCI_FRBASEADD:
		u->frbase = (u->frbase & 0xffff0000u) | (merged & 0xf000u);
		break;
	case UHCI_FRBASEADD + 2:
		u->frbase = (u->frbase & 0xffffu) | (uint32_t)merged << 16;
		break;
	case UHCI_SOFMOD:
		u->sofmod = merged & 0x7f;
		break;
	case UHCI_PORTSC1:
	case UHCI_PORTSC1 + 2:
		port_write(u, (reg - UHCI_PORTSC1) / 2, v, mask);
		break;
	default:
		break;
	}
}

static uint64_t uhci_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct uhci *u = opaque;
	uint64_t v = 0;

	uhci_catch_up(u);
	/* The timer always follows from the frame the schedule is in. */
	schedule(u);
	for (unsigned i = 0; i < size && off + i < UHCI_IO_SIZE; i++) {
		unsigned at = (unsigned)off + i;
		v |= (uint64_t)(uint8_t)(reg_read(u, at & ~1u) >> (8 * (at & 1))) << (8 * i);
	}
	return v;
}

static void uhci_io_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct uhci *u = opaque;

	uhci_catch_up(u);
	for (unsigned i = 0; i < size && off + i < UHCI_IO_SIZE;) {
		unsigned at = (unsigned)off + i, reg = at & ~1u;
		uint16_t val = 0, mask = 0;
		/* the bytes of this register the access covers */
		for (; i < size && (((unsigned)off + i) & ~1u) == reg; i++) {
			unsigned sh = 8 * (((unsigned)off + i) & 1);
			val |= (uint16_t)(((v >> (8 * i)) & 0xff) << sh);
			mask |= (uint16_t)(0xff << sh);
		}
		reg_write(u, reg, val, mask);
	}
	/* The guest is at work: look at the schedule every frame again. */
	u->idle_frames = 0;
	irq_update(u);
	schedule(u);
}

const struct io_ops uhci_io_ops = {
	uhci_io_read, uhci_io_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* ---- PCI ---- */

/* BAR4 moved, appeared or went: the window follows (claimed the first
 * time it decodes, then moved, enabled and disabled). */
static void uhci_bar(void *opaque, struct pci_fn *f, unsigned bar, uint64_t old, uint64_t now)
{
	struct uhci *u = opaque;
	const struct dev_ctx *c = u->ctx;

	if (bar != UHCI_BAR || !c)
		return;
	if (now == PCI_BAR_NONE) {
		if (u->win && u->win_on &&
		    c->window(c, DEV_SPACE_PIO, u->win, DEV_WIN_DISABLE, 0) == 0)
			u->win_on = false;
		return;
	}
	if (!u->win) {
		if (c->claim(c, DEV_SPACE_PIO, now, UHCI_IO_SIZE, 0, &uhci_io_ops, u) == 0) {
			u->win = now;
			u->win_on = true;
		}
		return;
	}
	if (u->win != now && c->window(c, DEV_SPACE_PIO, u->win, DEV_WIN_MOVE, now) == 0)
		u->win = now;
	if (!u->win_on && u->win == now &&
	    c->window(c, DEV_SPACE_PIO, u->win, DEV_WIN_ENABLE, 0) == 0)
		u->win_on = true;
}

static uint64_t uhci_cfg_read(void *opaque, uint64_t off, unsigned size)
{
	struct uhci *u = opaque;
	if ((off >> 8) != UHCI_FN)
		return size_mask_bytes(size);
	return pci_fn_read(&u->fn, (unsigned)off & 0xff, size);
}

static void uhci_cfg_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct uhci *u = opaque;
	if ((off >> 8) != UHCI_FN)
		return;
	pci_fn_write(&u->fn, (unsigned)off & 0xff, size, (uint32_t)v);
	irq_update(u);
}

static const struct io_ops uhci_cfg_ops = {
	uhci_cfg_read, uhci_cfg_write, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

static void pci_defaults(struct uhci *u)
{
	u->fn.cfg[UHCI_LEGSUP] = (uint8_t)UHCI_LEGSUP_DEFAULT;
	u->fn.cfg[UHCI_LEGSUP + 1] = (uint8_t)(UHCI_LEGSUP_DEFAULT >> 8);
}

static void uhci_reset(void *dev)
{
	struct uhci *u = dev;
	pci_fn_reset(&u->fn);
	pci_defaults(u);
	hc_reset(u);
	irq_update(u);
}

static int uhci_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
		       char *err, size_t n)
{
	static const struct pci_id id = {.vendor = 0x8086, .device = 0x7020,
					 .class_code = 0x0c0300, .revision = 1,
					 .int_pin = UHCI_INT_PIN};
	struct uhci *u = dev;
	int r;

	u->ctx = c;
	u->clock = c->clock;
	u->dma = c->dma;
	u->irq = c->line(c, DEV_LINE_PIRQA + pci_intx_pirq(UHCI_SLOT, UHCI_INT_PIN));
	if (!u->irq) {
		snprintf(err, n, "%s: no PIRQD# line", c->id);
		return -ENODEV;
	}
	vtimer_init(&u->timer, uhci_timer, u);
	pci_fn_init(&u->fn, &id, uhci_bar, u);
	/* Status: fast back-to-back capable, medium DEVSEL timing. */
	u->fn.cfg[PCI_STATUS] = 0x80;
	u->fn.cfg[PCI_STATUS + 1] = 0x02;
	u->fn.cfg[UHCI_SBRN] = 0x10;
	r = pci_fn_bar(&u->fn, UHCI_BAR, PCI_BAR_TYPE_IO, UHCI_IO_SIZE);
	if (r)
		return r;
	pci_fn_writable(&u->fn, UHCI_LEGSUP, 2, UHCI_LEGSUP_RW);
	u->fn.w1c[UHCI_LEGSUP + 1] = (uint8_t)(UHCI_LEGSUP_RWC >> 8);
	uhci_reset(u);
	r = c->claim(c, DEV_SPACE_PCI, PCI_DEVFN(UHCI_SLOT, UHCI_FN), 1, 0, &uhci_cfg_ops, u);
	if (r)
		snprintf(err, n, "%s: PCI function 00:01.2 refused", c->id);
	return r;
}

static void uhci_destroy(void *dev)
{
	struct uhci *u = dev;
	if (u->clock)
		vtimer_cancel(u->clock, &u->timer);
	for (unsigned i = 0; i < UHCI_PORTS; i++)
		if (u->dev[i])
			uhci_detach(u, u->dev[i]);
}

/* ---- saved state ---- */

/* The registers, the ports, the frame the schedule is in (when it
 * began, and how idle it has been: the timer's deadline follows from
 * both), and the PCI configuration. Which device sits on which port is wiring
 * (the board attaches them again); a port whose saved connection
 * disagrees with it shows a connect change. */
static const struct vs_field uhci_fields[] = {
	VS_BYTES(struct uhci, fn.cfg),
	VS_MAX(struct uhci, cmd, VS_U16, 0x00ff),
	VS_MAX(struct uhci, sts, VS_U16, 0x003f),
	VS_MAX(struct uhci, intr, VS_U16, 0x000f),
	VS_MAX(struct uhci, frnum, VS_U16, 0x07ff),
	VS_U32(struct uhci, frbase),
	VS_MAX(struct uhci, sofmod, VS_U8, 0x7f),
	VS_FIELD(struct uhci, portsc, VS_U16, UHCI_PORTS, 1, 0x137f, 0),
	VS_MAX(struct uhci, cause, VS_U8, UHCI_CAUSE_IOC | UHCI_CAUSE_SPD),
	VS_U64(struct uhci, frame_start),
	VS_MAX(struct uhci, idle_frames, VS_U16, UHCI_IDLE_FRAMES),
};

static int uhci_state_check(const void *obj, char *err, size_t n)
{
	const struct uhci *u = obj;
	const char *bad = NULL;

	if (u->frbase & 0xfffu)
		bad = "frbase";
	else if (u->frame_start > UHCI_FRAME_START_MAX)
		bad = "frame_start";
	for (unsigned i = 0; i < UHCI_PORTS; i++)
		if (u->portsc[i] & (UHCI_PORT_DPLUS | UHCI_PORT_DMINUS | UHCI_PORT_ONE |
				    UHCI_PORT_LSDA))
			bad = "portsc";
	if (bad) {
		snprintf(err, n, "piix3-usb-uhci: field '%s' impossible", bad);
		return -EINVAL;
	}
	return 0;
}

static int uhci_post_load(void *obj, char *err, size_t n)
{
	struct uhci *u = obj;

	pci_fn_update_bars(&u->fn);
	for (unsigned i = 0; i < UHCI_PORTS; i++)
		if (!(u->portsc[i] & UHCI_PORT_CCS) != !u->dev[i])
			port_connect(u, i);
	schedule(u);
	irq_update(u);
	return 0;
}

const struct vs_desc uhci_state = {
	.name = "piix3-usb-uhci",
	.version = 1,
	.fields = uhci_fields,
	.n_fields = ARRAY_SIZE(uhci_fields),
	.check = uhci_state_check,
	.post_load = uhci_post_load,
};

DEV_KIND(uhci) = {
	.name = "piix3-usb-uhci",
	.help = "PIIX3 USB UHCI (00:01.2): two root ports for usb-tablet and usb-kbd",
	.where = DEV_IN_DM,
	.category = DEV_CAT_USB,
	.user = true,
	.unique = true,
	.size = sizeof(struct uhci),
	.create = uhci_create,
	.reset = uhci_reset,
	.destroy = uhci_destroy,
	.state = &uhci_state,
};
