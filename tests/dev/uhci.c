/* The PIIX3 UHCI with a USB tablet and keyboard, driven as guests drive
 * them: the PCI function (ids, BAR4 sizing and moving, INTD# on PIRQD#,
 * INTx disable), the registers (HCRESET, GRESET, RS/HCH, FRNUM counting
 * only while running, no timer while stopped), root port flows as
 * SeaBIOS and Linux do them, a full enumeration of the tablet through a
 * QH and TDs in the test's RAM, interrupt IN reports after input (the
 * absolute scaling), the keyboard's boot reports, idle rate and LEDs,
 * NAK, short packets, stalls, a missing device's timeouts, IOC and
 * error interrupts, the cost of an idle schedule; then hostile frame
 * lists (QH and TD cycles, addresses outside RAM, malformed TDs) and
 * random registers and RAM for thousands of frames under the sanitizers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/kind.h"
#include "dm/hw/uhci.h"
#include "dm/hw/usb_hid.h"
#include "mem/region.h"
#include "tests/dev/irqrec.h"
#include "tests/dev/test_ram.h"
#include "tests/tap.h"

#define MS 1000000ull
#define RAM_SIZE (1u << 20)
#define IOBASE 0xc040
#define FL 0x10000      /* frame list */
#define QH_INT 0x20000  /* interrupt queue */
#define QH_CTL 0x20020  /* control queue */
#define TDS 0x21000     /* TDs, 32 bytes apart */
#define BUF 0x30000     /* data */

struct rig {
	struct vclock clk;
	struct region_map ports;
	struct irqrec irq;
	struct irq_line line;
	unsigned line_asked;
	struct dma_space dma;
	uint8_t *ram;             /* guest.mem */
	struct test_ram guest;
	struct dev_ctx ctx, hctx;
	const struct io_ops *pci_ops;
	void *pci_opaque;
	unsigned pci_devfn;
	struct region *win[4];
	unsigned n_win;
	struct uhci *u;
	struct usb_hid *tab, *kbd;
};

/* ---- the rig ---- */

static int rig_claim(const struct dev_ctx *c, unsigned space, uint64_t base, uint64_t len,
		     unsigned flags, const struct io_ops *ops, void *opaque)
{
	struct rig *r = c->board;
	struct region_desc d = {.name = "uhci", .kind = REGION_IO, .base = base, .size = len,
				.enabled = true, .ops = ops, .opaque = opaque};
	if (space == DEV_SPACE_PCI) {
		r->pci_ops = ops;
		r->pci_opaque = opaque;
		r->pci_devfn = (unsigned)base;
		return 0;
	}
	if (space != DEV_SPACE_PIO || r->n_win == 4)
		return -EINVAL;
	return region_add(&r->ports, &d, &r->win[r->n_win++]);
}

static const struct irq_line *rig_line(const struct dev_ctx *c, unsigned line)
{
	struct rig *r = c->board;
	r->line_asked = line;
	return &r->line;
}

static void rig_exit(const struct dev_ctx *c, int status, const char *why)
{
}

static int rig_window(const struct dev_ctx *c, unsigned space, uint64_t base, unsigned op,
		      uint64_t new_base)
{
	struct rig *r = c->board;
	for (unsigned i = 0; i < r->n_win; i++) {
		struct region *w = r->win[i];
		if (w->d.base != base)
			continue;
		if (op == DEV_WIN_MOVE)
			return region_move(&r->ports, w, new_base);
		if (op == DEV_WIN_ENABLE || op == DEV_WIN_DISABLE)
			return region_set_enabled(&r->ports, w, op == DEV_WIN_ENABLE);
		return -EINVAL;
	}
	return -ENOENT;
}

static void *rig_peer(const struct dev_ctx *c, const char *kind)
{
	struct rig *r = c->board;
	return !strcmp(kind, "piix3-usb-uhci") ? r->u : NULL;
}

static uint32_t cfg_rd(struct rig *r, unsigned reg, unsigned size)
{
	return (uint32_t)r->pci_ops->read(r->pci_opaque, UHCI_FN << 8 | reg, size);
}

static void cfg_wr(struct rig *r, unsigned reg, unsigned size, uint32_t v)
{
	r->pci_ops->write(r->pci_opaque, UHCI_FN << 8 | reg, size, v);
}

static uint16_t inw(struct rig *r, unsigned reg)
{
	return (uint16_t)region_read(&r->ports, IOBASE + reg, 2);
}

static void outw(struct rig *r, unsigned reg, uint16_t v)
{
	region_write(&r->ports, IOBASE + reg, 2, v);
}

static void outl(struct rig *r, unsigned reg, uint32_t v)
{
	region_write(&r->ports, IOBASE + reg, 4, v);
}

static int hid_new(struct rig *r, const char *kind, unsigned port, struct usb_hid **out,
		   char *err, size_t n)
{
	const struct dev_kind *k = dev_kind_find(kind);
	struct dev_props p;
	char val[8];
	struct usb_hid *h = calloc(1, k->size);
	int rc;
	dev_props_init(&p, k);
	snprintf(val, sizeof(val), "%u", port);
	if (dev_prop_parse(&p, "port", val, true, err, n))
		abort();
	rc = k->create(h, &r->hctx, &p, err, n);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* A controller with its BAR at IOBASE, I/O and bus mastering on, and
 * a tablet on port 1 and a keyboard on port 2 when asked. */
static struct rig *rig_new(bool tablet, bool kbd)
{
	struct rig *r = calloc(1, sizeof(*r));
	const struct dev_kind *k = dev_kind_find("piix3-usb-uhci");
	struct dev_props p;
	char err[256] = "";

	if (!r || !k || !(r->ram = calloc(1, RAM_SIZE)))
		abort();
	vclock_init(&r->clk, 1000);
	if (region_map_init(&r->ports, "port", 0x10000))
		abort();
	irqrec_init(&r->irq, &r->clk);
	r->line = irqrec_line(&r->irq, 0);
	r->guest = (struct test_ram){r->ram, RAM_SIZE, 0};
	r->dma = (struct dma_space){test_ram_read, test_ram_write, &r->guest, NULL};
	r->ctx = (struct dev_ctx){"uhci", &r->clk, &r->dma, NULL, 0, r, rig_claim, rig_line,
				  rig_exit, rig_window, false, rig_peer};
	r->hctx = r->ctx;
	r->hctx.id = "hid";
	r->u = calloc(1, k->size);
	dev_props_init(&p, k);
	if (k->create(r->u, &r->ctx, &p, err, sizeof(err))) {
		fprintf(stderr, "uhci: %s\n", err);
		abort();
	}
	if ((tablet && hid_new(r, "usb-tablet", 1, &r->tab, err, sizeof(err))) ||
	    (kbd && hid_new(r, "usb-kbd", 2, &r->kbd, err, sizeof(err)))) {
		fprintf(stderr, "hid: %s\n", err);
		abort();
	}
	cfg_wr(r, PCI_BAR0 + 4 * UHCI_BAR, 4, IOBASE);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	return r;
}

static void rig_free(struct rig *r)
{
	const struct dev_kind *k = dev_kind_find("piix3-usb-uhci");
	if (r->tab)
		dev_kind_find("usb-tablet")->destroy(r->tab);
	if (r->kbd)
		dev_kind_find("usb-kbd")->destroy(r->kbd);
	k->destroy(r->u);
	free(r->tab);
	free(r->kbd);
	free(r->u);
	region_map_destroy(&r->ports);
	free(r->ram);
	free(r);
}

static void advance(struct rig *r, uint64_t ns)
{
	vclock_advance_to(&r->clk, vclock_now(&r->clk) + ns);
}

static uint32_t rd32(struct rig *r, uint32_t a)
{
	uint32_t v;
	memcpy(&v, r->ram + a, 4);
	return v;
}

static void wr32(struct rig *r, uint32_t a, uint32_t v)
{
	memcpy(r->ram + a, &v, 4);
}

/* ---- a small UHCI driver ---- */

static uint32_t token(unsigned pid, unsigned addr, unsigned ep, unsigned toggle, unsigned len)
{
	return pid | addr << 8 | ep << 15 | toggle << 19 | ((len - 1) & 0x7ff) << 21;
}

static void td_set(struct rig *r, uint32_t td, uint32_t link, uint32_t ctrl, uint32_t tok,
		   uint32_t buf)
{
	wr32(r, td, link);
	wr32(r, td + 4, ctrl);
	wr32(r, td + 8, tok);
	wr32(r, td + 12, buf);
}

/* Every frame: the interrupt QH, then the control QH. */
static void schedule_init(struct rig *r)
{
	for (unsigned i = 0; i < 1024; i++)
		wr32(r, FL + 4 * i, QH_INT | UHCI_LINK_Q);
	wr32(r, QH_INT, QH_CTL | UHCI_LINK_Q);
	wr32(r, QH_INT + 4, UHCI_LINK_T);
	wr32(r, QH_CTL, UHCI_LINK_T);
	wr32(r, QH_CTL + 4, UHCI_LINK_T);
	outl(r, UHCI_FRBASEADD, FL);
	outw(r, UHCI_FRNUM, 0);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS | UHCI_CMD_CF | UHCI_CMD_MAXP);
}

/* Port reset and enable as Linux's root hub does it: PR for 50 ms, PR
 * off, CSC and PEDC cleared, PED on. */
static void port_reset(struct rig *r, unsigned port)
{
	unsigned reg = UHCI_PORTSC1 + 2 * (port - 1);
	uint16_t sc = inw(r, reg) & ~UHCI_PORT_W1C;
	outw(r, reg, sc | UHCI_PORT_PR);
	advance(r, 50 * MS);
	sc = inw(r, reg) & ~UHCI_PORT_W1C;
	outw(r, reg, sc & ~UHCI_PORT_PR);
	sc = inw(r, reg);
	outw(r, reg, (sc & ~UHCI_PORT_W1C) | UHCI_PORT_W1C);
	outw(r, reg, (inw(r, reg) & ~UHCI_PORT_W1C) | UHCI_PORT_PED);
}

#define XFER_STALL (-1)
#define XFER_TIMEOUT (-2)
#define XFER_STUCK (-3)

/* A control transfer on the control QH, with a SETUP, data stage TDs of
 * maxp bytes (IN with SPD) and a status TD with IOC, depth first; a
 * short packet is fixed up as Linux does (the queue goes on at the
 * status TD). IN data lands in `data`. The bytes of the data stage, or
 * XFER_*. */
static int ctrl(struct rig *r, unsigned addr, uint8_t rt, uint8_t req, uint16_t val,
		uint16_t idx, uint16_t len, uint8_t *data, unsigned maxp)
{
	uint8_t setup[8] = {rt, req, (uint8_t)val, (uint8_t)(val >> 8), (uint8_t)idx,
			    (uint8_t)(idx >> 8), (uint8_t)len, (uint8_t)(len >> 8)};
	bool in = rt & 0x80;
	unsigned n = 0, toggle = 1, status;
	uint32_t base = UHCI_TD_ACTIVE | 3u << UHCI_TD_CERR_SHIFT;
	int got = 0;

	memcpy(r->ram + BUF, setup, 8);
	if (!in && len)
		memcpy(r->ram + BUF + 0x100, data, len);
	td_set(r, TDS, (TDS + 32) | UHCI_LINK_VF, base, token(USB_PID_SETUP, addr, 0, 0, 8), BUF);
	for (unsigned off = 0; off < len; off += maxp) {
		unsigned chunk = len - off < maxp ? len - off : maxp;
		n++;
		td_set(r, TDS + 32 * n, (TDS + 32 * (n + 1)) | UHCI_LINK_VF,
		       base | (in ? UHCI_TD_SPD : 0),
		       token(in ? USB_PID_IN : USB_PID_OUT, addr, 0, toggle, chunk),
		       BUF + 0x100 + off);
		toggle ^= 1;
	}
	status = n + 1;
	td_set(r, TDS + 32 * status, UHCI_LINK_T, base | UHCI_TD_IOC,
	       token(in && len ? USB_PID_OUT : USB_PID_IN, addr, 0, 1, 0), 0);
	wr32(r, QH_CTL + 4, TDS);
	for (unsigned f = 0; f < 200; f++) {
		advance(r, MS);
		for (unsigned i = 0; i <= status; i++) {
			uint32_t st = rd32(r, TDS + 32 * i + 4);
			if (st & UHCI_TD_STALLED)
				return st & UHCI_TD_CRC_TIMEOUT ? XFER_TIMEOUT : XFER_STALL;
		}
		if (!(rd32(r, TDS + 32 * status + 4) & UHCI_TD_ACTIVE))
			break;
		/* a short packet stopped the queue at an inactive TD */
		uint32_t e = rd32(r, QH_CTL + 4);
		if (!(e & UHCI_LINK_T) && !(rd32(r, (e & ~0xfu) + 4) & UHCI_TD_ACTIVE))
			wr32(r, QH_CTL + 4, TDS + 32 * status);
		if (f == 199)
			return XFER_STUCK;
	}
	for (unsigned i = 1; i <= n; i++) {
		uint32_t st = rd32(r, TDS + 32 * i + 4);
		if (st & UHCI_TD_ACTIVE)
			break;
		got += ((st & UHCI_TD_ACTLEN) + 1) & UHCI_TD_ACTLEN;
	}
	if (in)
		memcpy(data, r->ram + BUF + 0x100, (size_t)got);
	return got;
}

/* The interrupt TD of the interrupt QH: IN on endpoint 1, IOC. */
static void int_arm(struct rig *r, unsigned addr, unsigned toggle, unsigned maxlen)
{
	td_set(r, TDS + 0x800, UHCI_LINK_T, UHCI_TD_ACTIVE | 3u << UHCI_TD_CERR_SHIFT | UHCI_TD_IOC,
	       token(USB_PID_IN, addr, 1, toggle, maxlen), BUF + 0x800);
	wr32(r, QH_INT + 4, TDS + 0x800);
}

/* A report from the interrupt TD within `frames` frames: its length,
 * or -1 (still NAKed). */
static int int_wait(struct rig *r, unsigned frames, uint8_t *out)
{
	for (unsigned f = 0; f < frames; f++) {
		uint32_t st;
		advance(r, MS);
		st = rd32(r, TDS + 0x800 + 4);
		if (!(st & UHCI_TD_ACTIVE)) {
			int n = (int)(((st & UHCI_TD_ACTLEN) + 1) & UHCI_TD_ACTLEN);
			memcpy(out, r->ram + BUF + 0x800, (size_t)n);
			return n;
		}
	}
	return -1;
}

/* Enumerates the device on `port` to `addr` as Linux would: reset,
 * 8 bytes of the device descriptor, reset, SET_ADDRESS, all 18,
 * configuration (9 then whole), SET_CONFIGURATION, the report
 * descriptor, SET_IDLE 0. Returns the report descriptor's length. */
static int enumerate(struct rig *r, unsigned port, unsigned addr, uint8_t *dev, uint8_t *cfg,
		     uint8_t *rep)
{
	int n, total, rlen;
	port_reset(r, port);
	if (ctrl(r, 0, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 64, dev, 64) != 8)
		return -10;
	port_reset(r, port);
	if (ctrl(r, 0, 0x00, USB_REQ_SET_ADDRESS, (uint16_t)addr, 0, 0, NULL, 8) != 0)
		return -11;
	if (ctrl(r, addr, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 18, dev, dev[7]) != 18)
		return -12;
	if (ctrl(r, addr, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0200, 0, 9, cfg, 8) != 9)
		return -13;
	total = cfg[2] | cfg[3] << 8;
	if ((n = ctrl(r, addr, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0200, 0, (uint16_t)total, cfg, 8)) !=
	    total)
		return -14;
	if (ctrl(r, addr, 0x00, USB_REQ_SET_CONFIGURATION, 1, 0, 0, NULL, 8) != 0)
		return -15;
	rlen = cfg[9 + 9 + 7] | cfg[9 + 9 + 8] << 8;
	if (ctrl(r, addr, 0x81, USB_REQ_GET_DESCRIPTOR, 0x2200, 0, (uint16_t)rlen, rep, 8) != rlen)
		return -16;
	if (ctrl(r, addr, 0x21, 0x0a, 0, 0, 0, NULL, 8) != 0)
		return -17;
	return rlen;
}

/* ---- the tests ---- */

static void test_pci(struct tap *t)
{
	struct rig *r = rig_new(false, false);
	uint32_t bar;

	tap_ok(t, cfg_rd(r, PCI_VENDOR_ID, 4) == 0x70208086 && cfg_rd(r, PCI_REVISION_ID, 4) ==
		       0x0c030001 && r->pci_devfn == PCI_DEVFN(1, 2),
	       "00:01.2 is 8086:7020, class 0c0300, revision 1");
	tap_ok(t, cfg_rd(r, PCI_INTERRUPT_PIN, 1) == 4 && r->line_asked == DEV_LINE_PIRQA + 3,
	       "interrupt pin INTD#, wired to PIRQD# (line %u)", r->line_asked);
	tap_ok(t, cfg_rd(r, UHCI_SBRN, 1) == 0x10 && cfg_rd(r, UHCI_LEGSUP, 2) == 0x2000,
	       "SBRN 10h, USBLEGSUP 2000h");
	r->u->fn.cfg[UHCI_LEGSUP + 1] |= 0x8f;
	cfg_wr(r, UHCI_LEGSUP, 2, 0xaf00);
	tap_ok(t, cfg_rd(r, UHCI_LEGSUP, 2) == 0x2000, "USBLEGSUP's status bits clear by writing 1");
	cfg_wr(r, PCI_COMMAND, 2, 0);
	cfg_wr(r, PCI_BAR0 + 16, 4, 0xffffffff);
	bar = cfg_rd(r, PCI_BAR0 + 16, 4);
	tap_ok(t, bar == 0xffffffe1, "BAR4 sizes as 32 bytes of I/O (%08x)", bar);
	cfg_wr(r, PCI_BAR0 + 16, 4, 0xd000);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO);
	tap_ok(t, region_read(&r->ports, 0xd002, 2) == UHCI_STS_HCH &&
		       region_read(&r->ports, IOBASE + 2, 2) == 0xffff,
	       "the registers follow the BAR (USBSTS reads HCH at the new base)");
	tap_ok(t, region_read(&r->ports, 0xd010, 2) == UHCI_PORT_ONE &&
		       region_read(&r->ports, 0xd014, 2) == 0 && region_read(&r->ports, 0xd00c, 1) ==
		       0x40,
	       "PORTSC1 reads bit 7, the offset after PORTSC2 reads 0, SOFMOD 40h");
	cfg_wr(r, PCI_COMMAND, 2, 0);
	tap_ok(t, region_read(&r->ports, 0xd002, 2) == 0xffff, "I/O space off: the window goes");
	rig_free(r);
}

static void test_registers(struct tap *t)
{
	struct rig *r = rig_new(false, false);
	uint16_t fr;

	outl(r, UHCI_FRBASEADD, FL | 0xabc);
	tap_ok(t, (uint32_t)region_read(&r->ports, IOBASE + UHCI_FRBASEADD, 4) == FL,
	       "FRBASEADD keeps bits 31-12");
	outw(r, UHCI_FRNUM, 0x7fe);
	advance(r, 10 * MS);
	tap_ok(t, inw(r, UHCI_FRNUM) == 0x7fe && vclock_next_deadline(&r->clk) == VCLOCK_NEVER &&
		       r->u->frames_walked == 0,
	       "stopped: FRNUM stands, no timer, no frame walked");
	for (unsigned i = 0; i < 1024; i++)
		wr32(r, FL + 4 * i, UHCI_LINK_T);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
	tap_ok(t, !(inw(r, UHCI_USBSTS) & UHCI_STS_HCH), "RS: HCH clears");
	advance(r, 5 * MS);
	fr = inw(r, UHCI_FRNUM);
	tap_ok(t, fr == 3 && r->u->frames_walked == 5, "FRNUM counts a frame a ms, wrapping at 7FFh "
	       "(%#x after 5 frames from 7FEh)", fr);
	advance(r, MS / 2);
	tap_ok(t, inw(r, UHCI_FRNUM) == 3, "mid-frame: still the same frame");
	outw(r, UHCI_USBCMD, 0);
	tap_ok(t, (inw(r, UHCI_USBSTS) & UHCI_STS_HCH) && vclock_next_deadline(&r->clk) ==
		       VCLOCK_NEVER,
	       "RS off: HCH, the timer gone");
	advance(r, 20 * MS);
	tap_ok(t, inw(r, UHCI_FRNUM) == 3, "and FRNUM stands");
	outw(r, UHCI_USBINTR, 0xf);
	outw(r, UHCI_USBCMD, UHCI_CMD_HCRESET);
	tap_ok(t, inw(r, UHCI_USBCMD) == 0 && inw(r, UHCI_FRNUM) == 0 && inw(r, UHCI_USBINTR) == 0 &&
		       inw(r, UHCI_USBSTS) == UHCI_STS_HCH &&
		       region_read(&r->ports, IOBASE + UHCI_FRBASEADD, 4) == 0,
	       "HCRESET: registers to their defaults, the bit reads back clear");
	outw(r, UHCI_USBCMD, UHCI_CMD_GRESET);
	advance(r, 50 * MS);
	tap_ok(t, inw(r, UHCI_USBCMD) == UHCI_CMD_GRESET, "GRESET stays set while held");
	outw(r, UHCI_USBCMD, 0);
	tap_ok(t, inw(r, UHCI_USBCMD) == 0, "and clears when the driver clears it");
	/* a byte write to USBSTS's high byte clears nothing */
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
	wr32(r, FL, UHCI_LINK_T | 0x1000); /* bit 12 of an entry */
	region_write(&r->ports, IOBASE + UHCI_SOFMOD, 1, 0x7f);
	tap_ok(t, region_read(&r->ports, IOBASE + UHCI_SOFMOD, 1) == 0x7f &&
		       inw(r, UHCI_USBCMD) == UHCI_CMD_RS,
	       "SOFMOD takes a byte, USBCMD unchanged beside it");
	rig_free(r);
}

static void test_ports(struct tap *t)
{
	struct rig *r = rig_new(true, false);
	uint16_t sc;

	sc = inw(r, UHCI_PORTSC1);
	tap_ok(t, sc == (UHCI_PORT_ONE | UHCI_PORT_CCS | UHCI_PORT_CSC | UHCI_PORT_DPLUS) &&
		       inw(r, UHCI_PORTSC1 + 2) == UHCI_PORT_ONE,
	       "port 1: connected full speed (J), change bit set; port 2 empty (%#x)", sc);
	/* SeaBIOS: PR with the read value (CSC written back clears it),
	 * 50 ms, 0, then PED. */
	outw(r, UHCI_PORTSC1, sc | UHCI_PORT_PR);
	sc = inw(r, UHCI_PORTSC1);
	tap_ok(t, (sc & UHCI_PORT_PR) && !(sc & (UHCI_PORT_PED | UHCI_PORT_CSC | UHCI_PORT_DPLUS)),
	       "reset held: SE0, disabled, CSC cleared by its own write-back (%#x)", sc);
	outw(r, UHCI_PORTSC1, sc | UHCI_PORT_PED);
	tap_ok(t, !(inw(r, UHCI_PORTSC1) & UHCI_PORT_PED), "no enable while in reset");
	advance(r, 50 * MS);
	outw(r, UHCI_PORTSC1, 0);
	sc = inw(r, UHCI_PORTSC1);
	outw(r, UHCI_PORTSC1, UHCI_PORT_PED);
	tap_ok(t, (sc & UHCI_PORT_CCS) && (inw(r, UHCI_PORTSC1) & UHCI_PORT_PED),
	       "reset done: still connected, enabled by the driver");
	/* Linux: resetting an enabled port shows an enable change. */
	port_reset(r, 1);
	sc = inw(r, UHCI_PORTSC1);
	tap_ok(t, (sc & (UHCI_PORT_PED | UHCI_PORT_CCS)) == (UHCI_PORT_PED | UHCI_PORT_CCS) &&
		       !(sc & UHCI_PORT_W1C),
	       "Linux's reset flow: enabled, changes cleared (%#x)", sc);
	outw(r, UHCI_PORTSC1, (sc & ~UHCI_PORT_W1C) | UHCI_PORT_SUSP);
	tap_ok(t, inw(r, UHCI_PORTSC1) & UHCI_PORT_SUSP, "suspend sticks");
	outw(r, UHCI_PORTSC1, sc & ~UHCI_PORT_W1C & ~UHCI_PORT_SUSP);
	dev_kind_find("usb-tablet")->destroy(r->tab);
	sc = inw(r, UHCI_PORTSC1);
	tap_ok(t, (sc & (UHCI_PORT_CSC | UHCI_PORT_PEDC)) == (UHCI_PORT_CSC | UHCI_PORT_PEDC) &&
		       !(sc & (UHCI_PORT_CCS | UHCI_PORT_PED)),
	       "unplugged: disconnected and disabled, both changes set (%#x)", sc);
	outw(r, UHCI_PORTSC1, UHCI_PORT_PED);
	tap_ok(t, !(inw(r, UHCI_PORTSC1) & UHCI_PORT_PED), "an empty port cannot be enabled");
	free(r->tab);
	r->tab = NULL;
	{
		char err[256];
		struct usb_hid *a, *b, *c;
		tap_ok(t, hid_new(r, "usb-tablet", 2, &a, err, sizeof(err)) == 0 &&
			       hid_new(r, "usb-kbd", 0, &b, err, sizeof(err)) == 0 &&
			       (inw(r, UHCI_PORTSC1) & UHCI_PORT_CCS) && b->usb.wakeup_opaque == r->u &&
			       r->u->dev[0] == &b->usb,
		       "port=2 takes port 2, port=0 the first free one");
		tap_ok(t, hid_new(r, "usb-kbd", 0, &c, err, sizeof(err)) == -EBUSY &&
			       strstr(err, "taken"),
		       "a third device: refused (%s)", err);
		dev_kind_find("usb-kbd")->destroy(b);
		tap_ok(t, hid_new(r, "usb-kbd", 2, &c, err, sizeof(err)) == -EBUSY &&
			       strstr(err, "port 2"),
		       "a taken port: refused (%s)", err);
		dev_kind_find("usb-tablet")->destroy(a);
		free(a);
		free(b);
		r->hctx.peer = NULL;
		tap_ok(t, hid_new(r, "usb-kbd", 0, &c, err, sizeof(err)) == -ENODEV &&
			       strstr(err, "piix3-usb-uhci"),
		       "no controller on the board: refused (%s)", err);
	}
	rig_free(r);
}

static void test_enumeration(struct tap *t)
{
	struct rig *r = rig_new(true, false);
	uint8_t dev[64], cfg[64], rep[128], b[64];
	int rlen;

	schedule_init(r);
	rlen = enumerate(r, 1, 5, dev, cfg, rep);
	tap_ok(t, rlen > 40, "the tablet enumerates at address 5 (report descriptor %d bytes)",
	       rlen);
	tap_ok(t, dev[0] == 18 && dev[1] == 1 && dev[7] == 8 && (dev[8] | dev[9] << 8) == 0x0627 &&
		       (dev[10] | dev[11] << 8) == 0x0001 && dev[17] == 1,
	       "device descriptor: 0627:0001, 8-byte endpoint 0, one configuration");
	tap_ok(t, cfg[1] == 2 && cfg[4] == 1 && cfg[5] == 1 && (cfg[7] & 0x20) && cfg[14] == 3 &&
		       cfg[27 + 2] == 0x81 && cfg[27 + 3] == 3,
	       "configuration: one HID interface, endpoint 81h interrupt, remote wakeup");
	tap_ok(t, r->tab->usb.addr == 5 && r->tab->usb.state == USB_STATE_CONFIGURED &&
		       r->tab->idle == 0,
	       "addressed, configured, idle 0");
	tap_ok(t, ctrl(r, 5, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0302, 0x0409, 255, b, 8) == 30 &&
		       b[1] == 3 && b[2] == 'v' && b[6] == 'e' && b[10] == 'U',
	       "string 2: \"v2e USB Tablet\" in UTF-16");
	tap_ok(t, ctrl(r, 5, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0300, 0, 255, b, 8) == 4 &&
		       b[2] == 0x09 && b[3] == 0x04,
	       "string 0: US English");
	tap_ok(t, ctrl(r, 5, 0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, 8) == 1 && b[0] == 1 &&
		       ctrl(r, 5, 0x80, USB_REQ_GET_STATUS, 0, 0, 2, b, 8) == 2 && b[0] == 0,
	       "GET_CONFIGURATION 1, GET_STATUS bus powered");
	tap_ok(t, ctrl(r, 5, 0x00, USB_REQ_SET_FEATURE, USB_FEAT_REMOTE_WAKEUP, 0, 0, NULL, 8) == 0 &&
		       ctrl(r, 5, 0x80, USB_REQ_GET_STATUS, 0, 0, 2, b, 8) == 2 && b[0] == 2,
	       "remote wakeup enabled shows in GET_STATUS");
	tap_ok(t, ctrl(r, 5, 0x81, USB_REQ_GET_INTERFACE, 0, 0, 1, b, 8) == 1 && b[0] == 0 &&
		       ctrl(r, 5, 0x01, USB_REQ_SET_INTERFACE, 0, 0, 0, NULL, 8) == 0 &&
		       ctrl(r, 5, 0x01, USB_REQ_SET_INTERFACE, 1, 0, 0, NULL, 8) == XFER_STALL,
	       "GET_INTERFACE 0, SET_INTERFACE 0 taken, alternate 1 stalls");
	tap_ok(t, ctrl(r, 5, 0x81, USB_REQ_GET_DESCRIPTOR, 0x2100, 0, 9, b, 8) == 9 && b[1] == 0x21 &&
		       (b[7] | b[8] << 8) == rlen,
	       "the HID descriptor names the report descriptor's length");
	tap_ok(t, ctrl(r, 5, 0xa1, 0x03, 0, 0, 1, b, 8) == XFER_STALL &&
		       ctrl(r, 5, 0x21, 0x0b, 0, 0, 0, NULL, 8) == XFER_STALL,
	       "the tablet has no boot protocol: GET/SET_PROTOCOL stall");
	tap_ok(t, ctrl(r, 5, 0x80, 0x42, 0, 0, 4, b, 8) == XFER_STALL &&
		       ctrl(r, 5, 0x80, USB_REQ_GET_CONFIGURATION, 0, 0, 1, b, 8) == 1,
	       "an unknown request stalls; the next SETUP clears the stall");
	/* A short packet: 18 bytes asked for in 64-byte packets. */
	tap_ok(t, ctrl(r, 5, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 64, b, 64) == 8,
	       "a short packet ends the data stage (8 of 64), the queue fixed up");
	tap_ok(t, ctrl(r, 9, 0x80, USB_REQ_GET_DESCRIPTOR, 0x0100, 0, 8, b, 8) == XFER_TIMEOUT &&
		       (inw(r, UHCI_USBSTS) & UHCI_STS_ERRINT),
	       "nobody at address 9: three timeouts, stalled, USBERRINT");
	outw(r, UHCI_USBSTS, UHCI_STS_W1C);

	/* interrupt IN: NAK, then a move */
	int_arm(r, 5, 0, 8);
	tap_ok(t, int_wait(r, 30, b) == -1 && (rd32(r, TDS + 0x800 + 4) & UHCI_TD_NAK),
	       "nothing to report: NAK, the TD stays active");
	usb_tablet_event(r->tab, 1023, 0, 1024, 768, USB_TABLET_LEFT, 0);
	tap_ok(t, int_wait(r, 2, b) == 6 && b[0] == 1 && (b[1] | b[2] << 8) == 0x7fff &&
		       (b[3] | b[4] << 8) == 0 && b[5] == 0,
	       "a report within a frame of the event: left, X 7FFFh at the last pixel, Y 0");
	int_arm(r, 5, 1, 8);
	usb_tablet_event(r->tab, 100, 200, 1024, 768, 0, 0);
	usb_tablet_event(r->tab, 512, 384, 1024, 768, 0, 2);
	tap_ok(t, int_wait(r, 2, b) == 6 && b[0] == 0 && (b[1] | b[2] << 8) == 512 * 0x7fff / 1023 &&
		       (b[3] | b[4] << 8) == 384 * 0x7fff / 767 && (int8_t)b[5] == -2,
	       "moves coalesce: the latest position, the wheel summed (2 steps down: -2)");
	int_arm(r, 5, 0, 8);
	tap_ok(t, int_wait(r, 20, b) == -1, "and only one report");
	tap_ok(t, usb_tablet_scale(-5, 100) == 0 && usb_tablet_scale(5000, 100) == 0x7fff &&
		       usb_tablet_scale(50, 101) == 0x3fff && usb_tablet_scale(3, 1) == 0,
	       "scaling: clamped to the screen, the middle of 101 pixels 3FFFh");
	usb_tablet_event(r->tab, 10, 10, 100, 100, 0, 0);
	int_arm(r, 5, 0, 4);
	(void)int_wait(r, 2, b);
	tap_ok(t, (rd32(r, TDS + 0x800 + 4) & UHCI_TD_BABBLE) &&
		       (rd32(r, TDS + 0x800 + 4) & UHCI_TD_STALLED),
	       "a 6-byte report into a 4-byte TD: babble, stalled");
	tap_ok(t, ctrl(r, 5, 0x02, USB_REQ_SET_FEATURE, USB_FEAT_ENDPOINT_HALT, 0x81, 0, NULL, 8) ==
		       0 &&
		       ctrl(r, 5, 0x82, USB_REQ_GET_STATUS, 0, 0x81, 2, b, 8) == 2 && b[0] == 1,
	       "endpoint halt set: GET_STATUS shows it");
	int_arm(r, 5, 0, 8);
	usb_tablet_event(r->tab, 20, 20, 100, 100, 0, 0);
	(void)int_wait(r, 2, b);
	tap_ok(t, (rd32(r, TDS + 0x800 + 4) & (UHCI_TD_STALLED | UHCI_TD_ACTIVE)) ==
		       UHCI_TD_STALLED, "a halted endpoint stalls");
	tap_ok(t, ctrl(r, 5, 0x02, USB_REQ_CLEAR_FEATURE, USB_FEAT_ENDPOINT_HALT, 0x81, 0, NULL, 8) ==
		       0,
	       "CLEAR_FEATURE(ENDPOINT_HALT)");
	int_arm(r, 5, 0, 8);
	tap_ok(t, int_wait(r, 2, b) == 6 && (b[1] | b[2] << 8) == 20 * 0x7fff / 99,
	       "and the report waiting comes");
	tap_ok(t, ctrl(r, 5, 0xa1, 0x01, 0x0100, 0, 6, b, 8) == 6 && (b[1] | b[2] << 8) ==
		       20 * 0x7fff / 99,
	       "GET_REPORT(input): the current state");
	tap_ok(t, r->guest.refused == 0, "nothing outside RAM asked for");
	rig_free(r);
}

static void test_keyboard(struct tap *t)
{
	struct rig *r = rig_new(false, true);
	uint8_t dev[64], cfg[64], rep[128], b[64];
	int rlen;

	schedule_init(r);
	rlen = enumerate(r, 2, 3, dev, cfg, rep);
	tap_ok(t, rlen > 40 && cfg[9 + 6] == 1 && cfg[9 + 7] == 1 && rep[0] == 0x05 && rep[3] == 6,
	       "the keyboard enumerates: boot interface, a keyboard report (%d bytes)", rlen);
	tap_ok(t, ctrl(r, 3, 0xa1, 0x03, 0, 0, 1, b, 8) == 1 && b[0] == 1 &&
		       ctrl(r, 3, 0x21, 0x0b, 0, 0, 0, NULL, 8) == 0 &&
		       ctrl(r, 3, 0xa1, 0x03, 0, 0, 1, b, 8) == 1 && b[0] == 0,
	       "report protocol after reset; SET_PROTOCOL(boot) taken");
	b[0] = USB_KBD_LED_CAPS | USB_KBD_LED_NUM;
	tap_ok(t, ctrl(r, 3, 0x21, 0x09, 0x0200, 0, 1, b, 8) == 1 && r->kbd->leds == 3 &&
		       ctrl(r, 3, 0xa1, 0x01, 0x0200, 0, 1, b, 8) == 1 && b[0] == 3,
	       "SET_REPORT(output): the LEDs, read back by GET_REPORT");
	tap_ok(t, ctrl(r, 3, 0xa1, 0x02, 0, 0, 1, b, 8) == 1 && b[0] == 0,
	       "GET_IDLE: 0 after SET_IDLE 0");
	int_arm(r, 3, 0, 8);
	usb_kbd_key(r->kbd, 0xe1, true); /* left shift */
	usb_kbd_key(r->kbd, 0x04, true); /* a */
	tap_ok(t, int_wait(r, 2, b) == 8 && b[0] == 0x02 && b[2] == 0, "shift down");
	int_arm(r, 3, 1, 8);
	tap_ok(t, int_wait(r, 2, b) == 8 && b[0] == 0x02 && b[2] == 0x04 && b[3] == 0,
	       "then shift+a: each change a report");
	for (uint8_t k = 5; k < 11; k++)
		usb_kbd_key(r->kbd, k, true);
	for (unsigned i = 0; i < 6; i++) {
		int_arm(r, 3, i & 1, 8);
		(void)int_wait(r, 2, b);
	}
	tap_ok(t, b[2] == 1 && b[7] == 1, "seven keys down: ErrorRollOver");
	for (uint8_t k = 4; k < 11; k++)
		usb_kbd_key(r->kbd, k, false);
	usb_kbd_key(r->kbd, 0xe1, false);
	for (unsigned i = 0; i < 8; i++) {
		int_arm(r, 3, i & 1, 8);
		if (int_wait(r, 2, b) < 0)
			break;
	}
	tap_ok(t, b[0] == 0 && b[2] == 0, "all released: the last report is empty");
	/* the idle rate: 40 ms repeats the current report */
	tap_ok(t, ctrl(r, 3, 0x21, 0x0a, 10 << 8, 0, 0, NULL, 8) == 0, "SET_IDLE 40 ms");
	usb_kbd_key(r->kbd, 0x2c, true);
	int_arm(r, 3, 0, 8);
	(void)int_wait(r, 2, b);
	{
		unsigned gap[3] = {0};
		int n = 0;
		for (unsigned k = 0; k < 3; k++) {
			int_arm(r, 3, (k + 1) & 1, 8);
			for (gap[k] = 1; gap[k] < 80 && (n = int_wait(r, 1, b)) < 0; gap[k]++)
				;
		}
		tap_ok(t, n == 8 && b[2] == 0x2c && gap[0] == 40 && gap[1] == 40 && gap[2] == 40,
		       "the report repeats every 40 ms without a change, though the "
		       "schedule is idle (%u, %u, %u frames)", gap[0], gap[1], gap[2]);
	}
	rig_free(r);
}

static void test_interrupts(struct tap *t)
{
	struct rig *r = rig_new(true, false);
	uint8_t dev[64], cfg[64], rep[128], b[8];

	schedule_init(r);
	(void)enumerate(r, 1, 1, dev, cfg, rep);
	outw(r, UHCI_USBSTS, UHCI_STS_W1C);
	tap_ok(t, !r->irq.level && (inw(r, UHCI_USBSTS) & UHCI_STS_USBINT) == 0,
	       "USBINTR 0: IOC completions raised nothing");
	outw(r, UHCI_USBINTR, UHCI_INTR_IOC | UHCI_INTR_TOCRC);
	int_arm(r, 1, 0, 8);
	usb_tablet_event(r->tab, 1, 1, 10, 10, 0, 0);
	(void)int_wait(r, 2, b);
	tap_ok(t, r->irq.level && (inw(r, UHCI_USBSTS) & UHCI_STS_USBINT) &&
		       (cfg_rd(r, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	       "IOC with USBINTR.IOC: INTD# up, USBINT and PCI status' interrupt bit");
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	tap_ok(t, !r->irq.level && (cfg_rd(r, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	       "INTx disable: the line drops, the status bit stays");
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	tap_ok(t, r->irq.level, "enabled again: up again");
	outw(r, UHCI_USBSTS, UHCI_STS_USBINT);
	tap_ok(t, !r->irq.level && !(cfg_rd(r, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	       "USBINT cleared: the line drops");
	/* the idle cost: a NAKing interrupt TD for a second */
	int_arm(r, 1, 1, 8);
	advance(r, 100 * MS);
	{
		uint64_t fires, walked;
		(void)inw(r, UHCI_FRNUM); /* the frames due walked */
		fires = r->u->timer_fires;
		walked = r->u->frames_walked;
		advance(r, 1000 * MS);
		(void)inw(r, UHCI_FRNUM);
		fires = r->u->timer_fires - fires;
		walked = r->u->frames_walked - walked;
		tap_ok(t, walked == 1000 && fires <= 1000 / UHCI_IDLE_BATCH + 1,
		       "an idle schedule: 1000 frames walked in %llu timer ticks",
		       (unsigned long long)fires);
		usb_tablet_event(r->tab, 2, 2, 10, 10, 0, 0);
		tap_ok(t, vclock_next_deadline(&r->clk) <= vclock_now(&r->clk) + MS &&
			       int_wait(r, 1, b) == 6,
		       "input ends the batching: the report within a frame");
	}
	outw(r, UHCI_USBCMD, 0);
	{
		uint64_t fires = r->u->timer_fires;
		advance(r, 1000 * MS);
		tap_ok(t, r->u->timer_fires == fires, "a stopped controller: no timer at all");
	}
	/* remote wakeup from a suspended port under global suspend */
	{
		uint16_t sc = inw(r, UHCI_PORTSC1) & ~UHCI_PORT_W1C;
		(void)ctrl; /* the controller is stopped: set the feature directly */
		r->tab->usb.remote_wakeup = true;
		outw(r, UHCI_PORTSC1, sc | UHCI_PORT_SUSP);
		outw(r, UHCI_USBINTR, UHCI_INTR_RESUME);
		outw(r, UHCI_USBCMD, UHCI_CMD_EGSM);
		usb_tablet_event(r->tab, 3, 3, 10, 10, 0, 0);
		tap_ok(t, (inw(r, UHCI_PORTSC1) & UHCI_PORT_RD) && (inw(r, UHCI_USBSTS) & UHCI_STS_RD) &&
			       (inw(r, UHCI_USBCMD) & UHCI_CMD_FGR) && r->irq.level,
		       "remote wakeup: resume detect on the port and USBSTS, FGR, interrupt");
	}
	rig_free(r);
}

/* ---- hostile schedules ---- */

static void start(struct rig *r)
{
	outl(r, UHCI_FRBASEADD, FL);
	outw(r, UHCI_USBINTR, 0xf);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
}

static void test_hostile(struct tap *t)
{
	struct rig *r = rig_new(true, true);
	uint64_t reads;

	port_reset(r, 1);
	port_reset(r, 2);
	/* a QH whose horizontal link is itself, with an inactive TD */
	for (unsigned i = 0; i < 1024; i++)
		wr32(r, FL + 4 * i, QH_CTL | UHCI_LINK_Q);
	wr32(r, QH_CTL, QH_CTL | UHCI_LINK_Q);
	wr32(r, QH_CTL + 4, TDS);
	td_set(r, TDS, UHCI_LINK_T, 0, token(USB_PID_IN, 0, 1, 0, 8), BUF);
	start(r);
	reads = r->u->dma_reads;
	advance(r, 10 * MS);
	tap_ok(t, inw(r, UHCI_FRNUM) == 10 && r->u->dma_reads - reads <= 10 * 6,
	       "a QH linked to itself: stopped at the second visit (%llu reads in 10 frames)",
	       (unsigned long long)(r->u->dma_reads - reads));
	/* two TDs linked to each other, NAKing (address 0 endpoint 1) */
	for (unsigned i = 0; i < 1024; i++)
		wr32(r, FL + 4 * i, TDS);
	td_set(r, TDS, TDS + 32, UHCI_TD_ACTIVE, token(USB_PID_IN, 0, 1, 0, 8), BUF);
	td_set(r, TDS + 32, TDS, UHCI_TD_ACTIVE, token(USB_PID_IN, 0, 1, 0, 8), BUF);
	reads = r->u->dma_reads;
	advance(r, 10 * MS);
	tap_ok(t, inw(r, UHCI_FRNUM) == 20 &&
		       r->u->dma_reads - reads <= 10 * (UHCI_FRAME_ELEMENTS + 2),
	       "a TD cycle: bounded by the frame's budget (%llu reads in 10 frames)",
	       (unsigned long long)(r->u->dma_reads - reads));
	/* a frame list entry pointing outside RAM */
	wr32(r, FL + 4 * (inw(r, UHCI_FRNUM) & 0x3ff), 0x7ffff000 | UHCI_LINK_Q);
	advance(r, 2 * MS);
	tap_ok(t, (inw(r, UHCI_USBSTS) & (UHCI_STS_HSE | UHCI_STS_HCH)) ==
		       (UHCI_STS_HSE | UHCI_STS_HCH) && !(inw(r, UHCI_USBCMD) & UHCI_CMD_RS) &&
		       r->irq.level && vclock_next_deadline(&r->clk) == VCLOCK_NEVER,
	       "a QH outside RAM: host system error, halted, interrupt, no timer");
	/* a TD whose buffer lies outside RAM */
	outw(r, UHCI_USBSTS, UHCI_STS_W1C);
	for (unsigned i = 0; i < 1024; i++)
		wr32(r, FL + 4 * i, TDS);
	td_set(r, TDS, UHCI_LINK_T, UHCI_TD_ACTIVE, token(USB_PID_SETUP, 0, 0, 0, 8), 0xfffffff8);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
	advance(r, 2 * MS);
	tap_ok(t, (inw(r, UHCI_USBSTS) & UHCI_STS_HSE) && (inw(r, UHCI_USBSTS) & UHCI_STS_HCH),
	       "a SETUP buffer past RAM's end: host system error");
	/* a TD with an unknown PID, one with MaxLen 500h */
	outw(r, UHCI_USBSTS, UHCI_STS_W1C);
	td_set(r, TDS, UHCI_LINK_T, UHCI_TD_ACTIVE, token(0xa5, 0, 0, 0, 8), BUF);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
	advance(r, 2 * MS);
	tap_ok(t, (inw(r, UHCI_USBSTS) & (UHCI_STS_HCPE | UHCI_STS_HCH)) ==
		       (UHCI_STS_HCPE | UHCI_STS_HCH),
	       "an unknown PID: host controller process error, halted");
	outw(r, UHCI_USBSTS, UHCI_STS_W1C);
	td_set(r, TDS, UHCI_LINK_T, UHCI_TD_ACTIVE, 0x500u << 21 | USB_PID_OUT, BUF);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
	advance(r, 2 * MS);
	tap_ok(t, inw(r, UHCI_USBSTS) & UHCI_STS_HCPE, "MaxLen 500h: the same");
	outw(r, UHCI_USBSTS, UHCI_STS_W1C);
	cfg_wr(r, PCI_COMMAND, 2, PCI_COMMAND_IO);
	outw(r, UHCI_USBCMD, UHCI_CMD_RS);
	advance(r, 2 * MS);
	tap_ok(t, inw(r, UHCI_USBSTS) & UHCI_STS_HSE, "bus mastering off: host system error");
	tap_ok(t, r->guest.refused >= 2, "the out-of-RAM accesses were refused by the DMA space");
	rig_free(r);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random register writes and random schedule memory: whatever happens,
 * nothing outside the DMA space and no sanitizer report. */
static void test_random(struct tap *t)
{
	unsigned frames = 0, hse = 0;

	for (unsigned round = 0; round < 20; round++) {
		struct rig *r = rig_new(true, true);
		port_reset(r, 1);
		port_reset(r, 2);
		/* a schedule region of random words, pointers mostly into it */
		for (uint32_t a = 0x10000; a < 0x40000; a += 4) {
			uint32_t v = (uint32_t)rnd();
			if (rnd() % 4)
				v = (0x10000 + (uint32_t)(rnd() % 0x30000)) | (v & 0xf);
			wr32(r, a, v);
		}
		start(r);
		for (unsigned step = 0; step < 300; step++) {
			unsigned reg = (unsigned)(rnd() % UHCI_IO_SIZE), size = 1u << (rnd() % 3);
			uint64_t v = rnd();
			if (rnd() % 8 == 0) {
				/* keep it running most of the time */
				if (reg == UHCI_USBCMD)
					v |= UHCI_CMD_RS;
				region_write(&r->ports, IOBASE + reg, size, v);
			}
			if (rnd() % 16 == 0)
				usb_tablet_event(r->tab, (int)(rnd() % 2000) - 100,
						 (int)(rnd() % 2000) - 100, 1024, 768,
						 (unsigned)rnd(), (int)(rnd() % 9) - 4);
			if (rnd() % 16 == 0)
				usb_kbd_key(r->kbd, (uint8_t)rnd(), rnd() & 1);
			if (rnd() % 32 == 0)
				wr32(r, (0x10000 + (uint32_t)(rnd() % 0x30000)) & ~3u,
				     (uint32_t)rnd());
			if (!(inw(r, UHCI_USBCMD) & UHCI_CMD_RS) || rnd() % 64 == 0) {
				hse += (inw(r, UHCI_USBSTS) & UHCI_STS_HSE) != 0;
				outw(r, UHCI_USBSTS, UHCI_STS_W1C);
				outl(r, UHCI_FRBASEADD, 0x10000 + (uint32_t)(rnd() % 0x30) * 0x1000);
				outw(r, UHCI_USBCMD, UHCI_CMD_RS);
			}
			advance(r, (rnd() % 4) * MS + rnd() % MS);
		}
		frames += (unsigned)r->u->frames_walked;
		rig_free(r);
	}
	tap_ok(t, frames > 5000, "20 random schedules, %u frames walked, %u host system errors, "
	       "no fault", frames, hse);
}

int main(void)
{
	struct tap t = {0};
	test_pci(&t);
	test_registers(&t);
	test_ports(&t);
	test_enumeration(&t);
	test_keyboard(&t);
	test_interrupts(&t);
	test_hostile(&t);
	test_random(&t);
	return tap_done(&t);
}
