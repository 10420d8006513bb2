/* The I/O APIC: the indirect register window (ID, version, arbitration,
 * redirection entries with their read-only bits), edge entries (one
 * message per rising edge, edges lost while masked), level entries with
 * Remote IRR cleared by EOI broadcast or the EOI register and sent again
 * while asserted, active-low inputs, unmasking an asserted level input,
 * the message fields, hostile register indices. */
#include "vmm/platform/ioapic.h"
#include "tests/tap.h"

#include <string.h>

#define MAXMSG 64

struct env {
	struct ioapic io;
	struct apic_msg msg[MAXMSG];
	unsigned n;
};

static void deliver(void *opaque, const struct apic_msg *m)
{
	struct env *e = opaque;
	if (e->n < MAXMSG)
		e->msg[e->n] = *m;
	e->n++;
}

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	ioapic_init(&e->io, 1, deliver, e);
}

static uint32_t reg_rd(struct env *e, unsigned r)
{
	ioapic_ops.write(&e->io, IOAPIC_REGSEL, 4, r);
	return (uint32_t)ioapic_ops.read(&e->io, IOAPIC_WIN, 4);
}

static void reg_wr(struct env *e, unsigned r, uint32_t v)
{
	ioapic_ops.write(&e->io, IOAPIC_REGSEL, 4, r);
	ioapic_ops.write(&e->io, IOAPIC_WIN, 4, v);
}

static void rte(struct env *e, unsigned pin, uint64_t v)
{
	reg_wr(e, 0x11 + 2 * pin, (uint32_t)(v >> 32));
	reg_wr(e, 0x10 + 2 * pin, (uint32_t)v);
}

static uint32_t rte_lo(struct env *e, unsigned pin)
{
	return reg_rd(e, 0x10 + 2 * pin);
}

static void pin(struct env *e, unsigned p, bool level)
{
	ioapic_set_irq(&e->io, p, level);
}

static void test_registers(struct tap *t)
{
	struct env e;
	bool masked = true;
	env_init(&e);
	tap_ok(t, reg_rd(&e, 0) == 0x01000000, "ID register: 1 in bits 24-27 (%#x)",
	       reg_rd(&e, 0));
	tap_ok(t, reg_rd(&e, 1) == 0x00170020, "version 0x20, 24 entries (%#x)", reg_rd(&e, 1));
	tap_ok(t, reg_rd(&e, 2) == 0x01000000, "arbitration ID");
	for (unsigned p = 0; p < IOAPIC_PINS; p++)
		if (rte_lo(&e, p) != 0x10000 || reg_rd(&e, 0x11 + 2 * p) != 0)
			masked = false;
	tap_ok(t, masked, "power-on: every entry masked, edge, high, vector 0");
	reg_wr(&e, 0, 0xffffffff);
	tap_ok(t, reg_rd(&e, 0) == 0x0f000000, "ID: only bits 24-27 writable");
	reg_wr(&e, 1, 0);
	tap_ok(t, reg_rd(&e, 1) == 0x00170020, "version is read-only");
	rte(&e, 5, 0xffffffffffffffffull);
	tap_ok(t, rte_lo(&e, 5) == 0x0001afff && reg_rd(&e, 0x1b) == 0xff000000,
	       "entry: delivery status and Remote IRR read-only, reserved bits 0 (%#x %#x)",
	       rte_lo(&e, 5), reg_rd(&e, 0x1b));
	ioapic_ops.write(&e.io, IOAPIC_REGSEL, 1, 0x12);
	tap_ok(t, ioapic_ops.read(&e.io, IOAPIC_REGSEL, 4) == 0x12, "IOREGSEL reads back");
	tap_ok(t, reg_rd(&e, 0x40) == 0 && reg_rd(&e, 0xff) == 0,
	       "indices past the table read 0");
	reg_wr(&e, 0x40, 0x1234);
	reg_wr(&e, 0xff, 0x1234);
	tap_ok(t, e.n == 0, "and writes there do nothing");
	pin(&e, 24, true);
	pin(&e, 1000, true);
	tap_ok(t, e.n == 0 && e.io.lines == 0, "pins past 23 are ignored");
}

static void test_edge(struct tap *t)
{
	struct env e;
	env_init(&e);
	rte(&e, 2, 0x0100000000000830ull); /* logical dest 1, vector 0x30 */
	pin(&e, 2, true);
	tap_ok(t, e.n == 1 && e.msg[0].vector == 0x30 && e.msg[0].logical &&
		  e.msg[0].dest == 1 && e.msg[0].mode == APIC_DM_FIXED && !e.msg[0].level,
	       "edge: the rising edge sends vector, logical destination 1, fixed, edge");
	pin(&e, 2, true);
	tap_ok(t, e.n == 1, "a held level sends nothing more");
	pin(&e, 2, false);
	pin(&e, 2, true);
	tap_ok(t, e.n == 2, "the next rising edge sends again");
	pin(&e, 2, false);
	rte(&e, 2, 0x0100000000010830ull);
	pin(&e, 2, true);
	tap_ok(t, e.n == 2, "masked: the edge is not delivered");
	rte(&e, 2, 0x0100000000000830ull);
	tap_ok(t, e.n == 2, "nor kept pending for the unmask");
	pin(&e, 2, false);
	/* active low */
	rte(&e, 3, 0x0000000000002031ull);
	pin(&e, 3, true);
	pin(&e, 3, false);
	tap_ok(t, e.n == 3 && e.msg[2].vector == 0x31, "active low: the falling edge sends");
	/* delivery modes pass through */
	rte(&e, 4, 0x0000000000000400ull);
	pin(&e, 4, true);
	tap_ok(t, e.n == 4 && e.msg[3].mode == APIC_DM_NMI, "NMI entries send NMI messages");
	rte(&e, 0, 0x0000000000000700ull);
	pin(&e, 0, true);
	tap_ok(t, e.n == 5 && e.msg[4].mode == APIC_DM_EXTINT, "and ExtINT entries ExtINT");
}

static void test_level(struct tap *t)
{
	struct env e;
	env_init(&e);
	rte(&e, 9, 0x0000000000008041ull); /* level, active high, vector 0x41 */
	pin(&e, 9, true);
	tap_ok(t, e.n == 1 && e.msg[0].level && e.msg[0].vector == 0x41 &&
		  (rte_lo(&e, 9) & IOAPIC_RTE_REMOTE_IRR),
	       "level: sent once with the level flag, Remote IRR set");
	pin(&e, 9, false);
	pin(&e, 9, true);
	tap_ok(t, e.n == 1, "Remote IRR holds further messages");
	ioapic_eoi(&e.io, 0x42);
	tap_ok(t, e.n == 1 && (rte_lo(&e, 9) & IOAPIC_RTE_REMOTE_IRR),
	       "an EOI of another vector changes nothing");
	ioapic_eoi(&e.io, 0x41);
	tap_ok(t, e.n == 2, "EOI with the input still asserted: sent again");
	pin(&e, 9, false);
	ioapic_ops.write(&e.io, IOAPIC_EOI, 4, 0x41);
	tap_ok(t, e.n == 2 && !(rte_lo(&e, 9) & IOAPIC_RTE_REMOTE_IRR),
	       "the EOI register, input low: Remote IRR clear, nothing sent");
	/* unmask while asserted */
	rte(&e, 9, 0x0000000000018041ull);
	pin(&e, 9, true);
	tap_ok(t, e.n == 2, "masked level input: nothing sent");
	rte(&e, 9, 0x0000000000008041ull);
	tap_ok(t, e.n == 3, "unmasked while asserted: sent");
	/* switching to edge clears a stuck Remote IRR */
	rte(&e, 9, 0x0000000000000041ull);
	tap_ok(t, !(rte_lo(&e, 9) & IOAPIC_RTE_REMOTE_IRR),
	       "switching the entry to edge clears Remote IRR");
	pin(&e, 9, false);
	/* active-low level, PCI style */
	rte(&e, 11, 0x000000000000a050ull);
	tap_ok(t, e.n == 4, "active-low level entry with the input low asserts at once");
	pin(&e, 11, true);
	ioapic_eoi(&e.io, 0x50);
	tap_ok(t, e.n == 4, "deasserted (high) before the EOI: nothing more");
	/* reset */
	ioapic_reset(&e.io);
	tap_ok(t, rte_lo(&e, 9) == 0x10000 && rte_lo(&e, 11) == 0x10000,
	       "reset masks every entry again");
}

int main(void)
{
	struct tap t = {0};
	test_registers(&t);
	test_edge(&t);
	test_level(&t);
	return tap_done(&t);
}
