/* PCI functions (dev/pci.h): write masks, write-1-to-clear status bits,
 * BAR sizing with all-ones, decode following the command register, the
 * BAR callback, the expansion ROM BAR (sizing, its enable bit beside the
 * command register), config accesses of every size at every offset, bus
 * 0's empty slots. */
#include <errno.h>
#include <string.h>

#include "dev/pci.h"
#include "tests/tap.h"

struct seen {
	unsigned calls;
	unsigned bar;
	uint64_t old, now;
};

static void bar_seen(void *opaque, struct pci_fn *f, unsigned bar, uint64_t old,
		     uint64_t now)
{
	struct seen *s = opaque;
	s->calls++;
	s->bar = bar;
	s->old = old;
	s->now = now;
}

static uint64_t fn_read(void *opaque, uint64_t off, unsigned size)
{
	return off >> 8 ? 0xffffffffu : pci_fn_read(opaque, (unsigned)off, size);
}

static void fn_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	if (!(off >> 8))
		pci_fn_write(opaque, (unsigned)off, size, (uint32_t)v);
}

static const struct io_ops fn_ops = {fn_read, fn_write, 7, 7};

int main(void)
{
	struct tap t = {0};
	struct seen s = {0};
	struct pci_fn f;
	struct pci_bus bus = {0};
	const struct pci_id id = {0x8086, 0x1234, 0x020000, 3, 0x1af4, 0x1100, false, 1};
	bool all = true;

	pci_fn_init(&f, &id, bar_seen, &s);
	tap_ok(&t, pci_fn_read(&f, 0, 4) == 0x12348086, "vendor and device as one dword");
	tap_ok(&t, pci_fn_read(&f, 8, 4) == 0x02000003, "class code and revision");
	tap_ok(&t, pci_fn_read(&f, 0x2c, 4) == 0x11001af4, "subsystem ids");
	tap_ok(&t, pci_fn_read(&f, 0x3d, 1) == 1, "interrupt pin INTA#");
	pci_fn_write(&f, 0, 4, 0);
	tap_ok(&t, pci_fn_read(&f, 0, 4) == 0x12348086, "ids are read-only");
	pci_fn_write(&f, 0x3c, 2, 0x040b);
	tap_ok(&t, pci_fn_read(&f, 0x3c, 2) == 0x010b, "interrupt line writable, pin not");

	tap_ok(&t, pci_fn_bar(&f, 0, PCI_BAR_TYPE_IO, 32) == 0 &&
		   pci_fn_bar(&f, 1, PCI_BAR_TYPE_MEM32, 4096) == 0, "an I/O and a memory BAR");
	tap_ok(&t, pci_fn_bar(&f, 2, PCI_BAR_TYPE_IO, 24) == -EINVAL &&
		   pci_fn_bar(&f, 6, PCI_BAR_TYPE_IO, 32) == -EINVAL &&
		   pci_fn_bar(&f, 2, PCI_BAR_TYPE_MEM32, 8) == -EINVAL, "impossible BARs refused");
	tap_ok(&t, pci_fn_read(&f, 0x10, 4) == 1 && pci_fn_read(&f, 0x14, 4) == 0,
	       "BARs read their type bits at power-on");
	pci_fn_write(&f, 0x10, 4, 0xffffffff);
	pci_fn_write(&f, 0x14, 4, 0xffffffff);
	tap_ok(&t, pci_fn_read(&f, 0x10, 4) == 0xffffffe1, "I/O BAR sized: 32 bytes");
	tap_ok(&t, pci_fn_read(&f, 0x14, 4) == 0xfffff000, "memory BAR sized: 4 KiB");
	tap_ok(&t, s.calls == 0, "nothing decodes while the command register is 0");
	pci_fn_write(&f, 0x10, 4, 0xc123);
	pci_fn_write(&f, 0x14, 4, 0xfebf1234);
	tap_ok(&t, pci_fn_read(&f, 0x10, 4) == 0xc121 && pci_fn_read(&f, 0x14, 4) == 0xfebf1000,
	       "BAR bits below the size read 0");
	pci_fn_write(&f, 4, 2, PCI_COMMAND_IO);
	tap_ok(&t, s.calls == 1 && s.bar == 0 && s.old == PCI_BAR_NONE && s.now == 0xc120,
	       "I/O decode on: BAR 0 appears at 0xc120");
	pci_fn_write(&f, 4, 1, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	tap_ok(&t, s.calls == 2 && s.bar == 1 && s.now == 0xfebf1000, "memory decode on: BAR 1");
	pci_fn_write(&f, 0x11, 1, 0xd0);
	tap_ok(&t, s.calls == 3 && s.bar == 0 && s.old == 0xc120 && s.now == 0xd020,
	       "a byte write to the BAR moves the window");
	pci_fn_write(&f, 0x10, 4, 0xffffffff);
	tap_ok(&t, s.calls == 4 && s.now == PCI_BAR_NONE,
	       "sized with decode on: the window goes (past 64 KiB)");
	pci_fn_write(&f, 0x10, 4, 0xd020);
	pci_fn_write(&f, 4, 2, PCI_COMMAND_MEMORY);
	tap_ok(&t, s.calls == 6 && s.bar == 0 && s.now == PCI_BAR_NONE, "I/O decode off");
	tap_ok(&t, pci_fn_read(&f, 4, 2) == PCI_COMMAND_MEMORY, "command reads back");
	pci_fn_write(&f, 4, 2, 0xffff);
	tap_ok(&t, pci_fn_read(&f, 4, 2) == 0x0407, "only the implemented command bits stick");

	f.cfg[PCI_STATUS + 1] = 0xf9;
	pci_fn_write(&f, 6, 2, 0x2000);
	tap_ok(&t, pci_fn_read(&f, 6, 2) == 0xd900, "status: writing 1 clears that bit only");
	pci_fn_write(&f, 4, 4, 0xffff0000 | PCI_COMMAND_IO);
	tap_ok(&t, pci_fn_read(&f, 6, 2) == 0 && pci_fn_read(&f, 4, 2) == 0x0001,
	       "a dword write to command and status");

	for (unsigned reg = 0; reg < 256; reg++)
		for (unsigned size = 1; size <= 4; size <<= 1) {
			uint32_t want = 0;
			for (unsigned i = 0; i < size; i++)
				want |= (uint32_t)(reg + i < 256 ? f.cfg[reg + i] : 0xff) << (8 * i);
			all = all && pci_fn_read(&f, reg, size) == want;
		}
	tap_ok(&t, all, "1, 2 and 4-byte reads at every offset match the bytes");
	pci_fn_write(&f, 0x3b, 4, 0x55aa9966);
	tap_ok(&t, pci_fn_read(&f, 0x3c, 2) == 0x0199, "an unaligned dword writes its bytes' masks");

	pci_fn_reset(&f);
	tap_ok(&t, pci_fn_read(&f, 4, 2) == 0 && pci_fn_read(&f, 0x10, 4) == 1 &&
		   pci_fn_read(&f, 0x3c, 1) == 0 && pci_fn_read(&f, 0, 4) == 0x12348086,
	       "reset: command, BARs and line clear, ids stay");
	tap_ok(&t, f.bar[0].decoded == PCI_BAR_NONE && f.bar[1].decoded == PCI_BAR_NONE,
	       "reset: nothing decodes");

	/* The expansion ROM: sized like a memory BAR, decoding only with
	 * its own enable bit and memory space both on. */
	s.calls = 0;
	tap_ok(&t, pci_fn_rom(&f, 1024) == -EINVAL && pci_fn_rom(&f, 3 << 12) == -EINVAL,
	       "ROM BAR: under 2 KiB or not a power of two refused");
	tap_ok(&t, pci_fn_rom(&f, 64 << 10) == 0 && pci_fn_read(&f, PCI_ROM_ADDRESS, 4) == 0,
	       "ROM BAR of 64 KiB reads 0 at power-on");
	pci_fn_write(&f, PCI_ROM_ADDRESS, 4, 0xffffffff);
	tap_ok(&t, pci_fn_read(&f, PCI_ROM_ADDRESS, 4) == 0xffff0001,
	       "ROM BAR sized with all-ones: 64 KiB, the enable bit, reserved bits 0");
	tap_ok(&t, s.calls == 0, "nothing decodes with memory space off");
	pci_fn_write(&f, PCI_ROM_ADDRESS, 4, 0xfeb40000);
	pci_fn_write(&f, 4, 2, PCI_COMMAND_MEMORY);
	tap_ok(&t, s.calls == 0 && f.bar[PCI_BAR_ROM].decoded == PCI_BAR_NONE,
	       "memory space on, the ROM's enable bit off: no decode");
	pci_fn_write(&f, PCI_ROM_ADDRESS, 1, PCI_ROM_ENABLE);
	tap_ok(&t, s.calls == 1 && s.bar == PCI_BAR_ROM && s.now == 0xfeb40000,
	       "the ROM's enable bit on: it decodes at 0xfeb40000");
	pci_fn_write(&f, PCI_ROM_ADDRESS, 4, 0xfec12345);
	tap_ok(&t, s.calls == 2 && s.old == 0xfeb40000 && s.now == 0xfec10000 &&
		   pci_fn_read(&f, PCI_ROM_ADDRESS, 4) == 0xfec10001,
	       "a write moves it: the bits below its size read 0");
	pci_fn_write(&f, 4, 2, 0);
	tap_ok(&t, s.calls == 3 && s.now == PCI_BAR_NONE, "memory space off: the ROM goes");
	pci_fn_reset(&f);
	tap_ok(&t, pci_fn_read(&f, PCI_ROM_ADDRESS, 4) == 0, "reset: the ROM BAR clears");

	tap_ok(&t, pci_bus_claim(&bus, PCI_DEVFN(3, 0), PCI_FNS, &fn_ops, &f, "f") == 0,
	       "slot 3 claimed whole");
	tap_ok(&t, pci_bus_claim(&bus, PCI_DEVFN(3, 2), 1, &fn_ops, &f, "g") == -EBUSY &&
		   pci_bus_claim(&bus, PCI_DEVFN(32, 0), 1, &fn_ops, &f, "g") == -EINVAL &&
		   pci_bus_claim(&bus, PCI_DEVFN(6, 7), 2, &fn_ops, &f, "g") == -EINVAL &&
		   pci_bus_claim(&bus, PCI_DEVFN(6, 0), 0, &fn_ops, &f, "g") == -EINVAL,
	       "taken or impossible functions refused");
	tap_ok(&t, pci_bus_claim(&bus, PCI_DEVFN(5, 1), 1, &fn_ops, &f, "h") == 0 &&
		   pci_bus_claim(&bus, PCI_DEVFN(5, 0), 1, &fn_ops, &f, "i") == 0 &&
		   pci_bus_claim(&bus, PCI_DEVFN(5, 0), 2, &fn_ops, &f, "j") == -EBUSY,
	       "one slot's functions have different owners");
	tap_ok(&t, pci_bus_owner(&bus, PCI_DEVFN(5, 1), 1) &&
		   !strcmp(pci_bus_owner(&bus, PCI_DEVFN(5, 1), 1), "h") &&
		   !pci_bus_owner(&bus, PCI_DEVFN(5, 2), 6), "the owner of a function");
	pci_bus_release(&bus, PCI_DEVFN(5, 1), 1);
	tap_ok(&t, !pci_bus_owner(&bus, PCI_DEVFN(5, 1), 1) &&
		   pci_bus_read(&bus, 5, 1, 0, 4) == 0xffffffff, "a released function reads all-ones");
	tap_ok(&t, pci_bus_read(&bus, 3, 0, 0, 4) == 0x12348086, "a cycle to 3.0 reaches it");
	tap_ok(&t, pci_bus_read(&bus, 3, 1, 0, 2) == 0xffff, "3.1 is no function");
	tap_ok(&t, pci_bus_read(&bus, 4, 0, 0, 4) == 0xffffffff &&
		   pci_bus_read(&bus, 4, 0, 2, 1) == 0xff, "an empty slot reads all-ones");
	pci_bus_write(&bus, 3, 0, 0x3c, 1, 9);
	tap_ok(&t, pci_bus_read(&bus, 3, 0, 0x3c, 1) == 9, "a write through the bus");
	return tap_done(&t);
}
