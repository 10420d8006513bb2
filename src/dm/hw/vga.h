/* Standard VGA as QEMU's `-vga std` / `-device VGA` presents it: PCI
 * 1234:1111, class 0300h, the legacy VGA (ports 3B0h-3DFh, the memory
 * window A0000h-BFFFFh with the graphics controller's read and write
 * modes), the Bochs VBE extension (DISPI at ports 1CEh/1CFh, 1D0h too),
 * and three BARs: BAR0 the linear framebuffer (all of VRAM, prefetchable
 * 32-bit memory), BAR2 4 KiB of MMIO (400h-41Fh the ports 3C0h-3DFh,
 * 500h-515h the DISPI registers, 600h QEMU's extended registers), and an
 * expansion ROM with the VGA BIOS (SeaBIOS's vgabios-stdvga.bin).
 *
 * The registers live in struct vga_state (dev/vga_regs.h); pictures are
 * made from them and VRAM by dev/vga_render.h, which does not depend on
 * this device.
 *
 * The VRAM contract. VRAM is guest-visible memory, never copied:
 * - It is `vram_size` bytes (a power of two, page aligned) the device
 *   reads and writes in place. create() maps anonymous memory for it; a
 *   board that keeps VRAM on a memfd (so that the vmm can map it into
 *   the guest as BAR0 and a display process can map it read-only) calls
 *   vga_attach_vram() after create, before the guest runs. VRAM contents
 *   are not in the device's saved state: like guest RAM, they belong to
 *   whoever owns that memory (the board saves them).
 * - Every write the device performs (the legacy window, BAR0's window, a
 *   VBE enable clearing memory) sets the bit of each 4 KiB page it
 *   touches in the device's dirty bitmap; vga_dirty_fetch() hands the
 *   bits to a display and clears them, and vga_render_changed() turns
 *   them into changed lines.
 * - Today BAR0 is an I/O window whose accesses the device serves (right,
 *   just slow). When the vmm maps BAR0 as guest RAM on VRAM's memfd, the
 *   guest's framebuffer writes never reach the device: the vmm logs them
 *   (region_log_start() on that RAM region), and a display ORs that log
 *   into the device's bitmap. The device still follows BAR0 through the
 *   PCI callbacks, so both sides agree on where it is. */
#ifndef V2E_DM_HW_VGA_H
#define V2E_DM_HW_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/display.h"
#include "dev/kind.h"
#include "dev/pci.h"
#include "dev/vga_regs.h"
#include "lib/compiler.h"

#define VGA_PCI_VENDOR 0x1234
#define VGA_PCI_DEVICE 0x1111
#define VGA_LFB_BAR 0
#define VGA_MMIO_BAR 2
#define VGA_MMIO_SIZE 0x1000
#define VGA_PORT_BASE 0x3b0      /* vga_port_ops: ports 3B0h-3DFh */
#define VGA_PORT_LEN 0x30
#define VGA_DISPI_BASE 0x1ce     /* vga_dispi_ops: index, data, data (Bochs) */
#define VGA_DISPI_LEN 4
#define VGA_MEM_BASE 0xa0000     /* vga_mem_ops: the legacy window */
#define VGA_MEM_LEN 0x20000
#define VGA_ROM_MAX (1u << 20)   /* the largest option ROM taken */
#define VGA_PAGE 4096u           /* a dirty bit's worth of VRAM */

struct vga {
	struct vga_state s;          /* first: the saved state's base */
	struct pci_fn fn;
	/* Not state: wiring, VRAM and the ROM image. */
	const struct dev_ctx *ctx;   /* NULL: no windows (unit tests) */
	uint8_t *vram;
	size_t vram_size;
	bool vram_mapped;            /* create's own mapping, unmapped at fini */
	uint64_t *dirty;             /* a bit per VGA_PAGE of VRAM */
	size_t dirty_words;
	uint8_t *rom;                /* the expansion ROM image, or NULL */
	uint32_t rom_len;
	struct display_shm *shm;     /* the display's shared page, or NULL */
	bool vram_shared;            /* VRAM is the board's memfd: BAR0 is its RAM */
	bool text_at_reset;          /* power on in the firmware's text mode */
	uint64_t win[PCI_BAR_ROM + 1]; /* where each BAR's window was claimed (0: never) */
	bool win_on[PCI_BAR_ROM + 1];
};

/* Register windows, offsets from the bases above (the BARs' from
 * theirs); each takes the device as its opaque. */
extern const struct io_ops vga_port_ops, vga_dispi_ops, vga_mem_ops;
extern const struct io_ops vga_lfb_ops, vga_mmio_ops, vga_rom_ops;
/* PCI configuration space of function 0 (offset = function << 8 | reg). */
extern const struct io_ops vga_cfg_ops;

/* A device with `vram_size` bytes of VRAM (a power of two from 1 MiB to
 * 256 MiB) of its own, at power-on, with no windows: what create builds
 * on and what unit tests use. 0, -EINVAL, -ENOMEM. */
int vga_init(struct vga *v, size_t vram_size) must_check;
/* Frees what vga_init and vga_set_rom took. */
void vga_fini(struct vga *v);
/* Power-on registers (VRAM keeps its contents, as on QEMU). */
void vga_reset(struct vga *v);
/* Puts VRAM on memory the caller owns (a memfd's mapping), `size` bytes
 * as vga_init was given; the old contents are copied over. 0, or
 * -EINVAL for another size or an unaligned address. */
int vga_attach_vram(struct vga *v, uint8_t *vram, size_t size) must_check;
/* The expansion ROM's image (copied); its BAR is the next power of two
 * of at least 2 KiB. 0, -EINVAL (empty, past VGA_ROM_MAX), -ENOMEM. */
int vga_set_rom(struct vga *v, const uint8_t *rom, size_t len) must_check;
/* Publishes the registers and dirty pages on a display's shared page
 * (dev/display.h) from now on: the registers at once and after every
 * write that may change them, each page the device writes as a bit. */
void vga_attach_display(struct vga *v, struct display_shm *shm);
/* Copies the dirty bits (at most `words` words) into bits and clears
 * them. Returns the words copied. */
size_t vga_dirty_fetch(struct vga *v, uint64_t *bits, size_t words);

extern const struct vs_desc vga_state_desc;

#endif
