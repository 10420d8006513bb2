/* Devices that exist only in test builds (compiled with V2E_TEST_DEVICES,
 * which MODE=asan sets): they let the tests make a device model misbehave
 * from inside, the way a compromised device would.
 *
 * test-sandbox (8 ports): writing N to base+0 makes the device model try
 * a forbidden operation: 1 open("/etc/passwd"), 2 execve("/bin/true"),
 * 3 socket(AF_INET), 4 ptrace(PTRACE_TRACEME), 5 create a file in /tmp.
 * If the attempt returns instead of killing the process, base+0 reads
 * back the errno it failed with (0: it succeeded, the sandbox leaked).
 * It also moves its own window while the guest runs: base+4 reads the
 * window's base, and a write of P (2 or 4 bytes) moves the window to
 * port P; a write of P to base+6 adds a one-port window at P that reads
 * 0xa5 (0 removes it again).
 *
 * test-dma (8 ports): base+0 (4 bytes) holds a guest-physical address,
 * writing 4 bytes to base+4 stores them there through the DMA contract;
 * base+4 reads 0 if the last store was accepted, else 0xffffffff.
 *
 * test-quiet (8 ports, writes buffered): base+0 reads back the byte
 * written there, and its writes are quiet (ioreq.h, "Published reads");
 * a write to base+1 sets what base+2 reads, and is not quiet.
 *
 * test-pci (addr=SLOT, default 5): a PCI function 1234:0005 in a slot of
 * bus 0, with one 16-port I/O BAR whose window follows what the guest
 * programs (claimed when it first decodes, then moved, enabled and
 * disabled); each port reads 0x7e570000 | its offset. */
#ifndef V2E_DM_HW_TEST_DEVICES_H
#define V2E_DM_HW_TEST_DEVICES_H

#include <stdint.h>

#include "dev/device.h"
#include "dev/dma.h"

struct dev_ctx;

struct test_device {
	const struct dma_space *dma;
	const struct irq_line *irq;
	uint32_t reg[2];
	uint32_t result;
	/* test-sandbox's windows: where they are now */
	const struct dev_ctx *ctx;
	uint64_t base, extra;
};

#endif
