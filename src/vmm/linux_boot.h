/* The Linux/x86 boot protocol loader for bzImage kernels (the kernel's
 * Documentation/arch/x86/boot.rst, the 32-bit boot protocol): places the
 * protected-mode kernel at 1 MiB, builds the zero page (struct
 * boot_params: setup header, e820 map, command line, initrd) and leaves
 * what the CPU state must be on entry in `struct linux_entry`.
 *
 * Guest-physical layout below 640 KiB, chosen here (the real-mode setup
 * code is never run, so its traditional 0x90000 area stays free):
 *   0x06000  a 4-entry GDT with __BOOT_CS (0x10) and __BOOT_DS (0x18)
 *   0x07000  boot_params, one 4 KiB page
 *   0x20000  the command line, up to the header's cmdline_size + NUL
 *            (and never past 0x9fc00, where the EBDA is reserved)
 * Above 1 MiB: the kernel at 0x100000; the initrd page aligned as high as
 * initrd_addr_max and the end of RAM below 4 GiB allow, above everything
 * the kernel needs while it decompresses (init_size from where it runs). */
#ifndef V2E_VMM_LINUX_BOOT_H
#define V2E_VMM_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"
#include "lib/compiler.h"
#include "mem/guest_mem.h"

#define LINUX_GDT_ADDR 0x6000u
#define LINUX_BOOT_PARAMS_ADDR 0x7000u
#define LINUX_CMDLINE_ADDR 0x20000u
#define LINUX_KERNEL_ADDR 0x100000u

struct linux_entry {
	uint32_t eip;       /* where the protected-mode kernel was loaded */
	uint32_t esi;       /* struct boot_params */
	uint32_t gdt_base;
	uint16_t gdt_limit;
	/* When linux_boot_load() fails for lack of RAM (-EFAULT): the
	 * smallest RAM below 4 GiB that would have held the kernel and the
	 * initrd (0 otherwise), so the user can be told the -m that fits. */
	uint64_t ram_needed;
};

/* Returns 1 if `img` carries a setup header ("HdrS" at 0x202): it is a
 * Linux kernel, though perhaps one linux_boot_load() refuses (a protocol
 * older than 2.06, a zImage) with a reason. */
int linux_boot_probe(const uint8_t *img, size_t len);

/* Loads the bzImage `img`, the initrd (NULL or initrd_len 0: none) and
 * the command line (NULL: empty; cut at the header's cmdline_size) into
 * `gm`. 0, or -ENOEXEC (malformed or unsupported image), -EFAULT (the
 * kernel or initrd does not fit in RAM), -EINVAL (a header this loader
 * cannot honour), with a reason in err[errlen]. */
int linux_boot_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		    const uint8_t *initrd, size_t initrd_len, const char *cmdline,
		    struct linux_entry *out, char *err, size_t errlen) must_check;

/* After linux_boot_load(): where the firmware's ACPI RSDP is, in
 * boot_params.acpi_rsdp_addr (kernels from 4.20 read it; older ones scan
 * the BIOS area and find the same table). 0 or -EFAULT. */
int linux_boot_set_acpi_rsdp(const struct guest_mem *gm, uint64_t rsdp) must_check;

/* After linux_boot_load(): boot_params.screen_info says what a VGA BIOS
 * would have reported: colour text mode 3, 80x25 characters of 16 lines,
 * the cursor at the top left (the VGA device starts so for a direct
 * boot). Without it screen_info stays zero: no console on the screen.
 * 0 or -EFAULT. */
int linux_boot_set_vga_text(const struct guest_mem *gm) must_check;

/* Sets what the 32-bit boot protocol fixes for entry in `s` (a state
 * after RESET): flat 4 GiB CS = __BOOT_CS and DS/ES/SS = __BOOT_DS with
 * GDTR on the loader's GDT, CR0.PE, paging and interrupts off, ESI = the
 * boot_params, EBP = EDI = EBX = 0, EIP = the kernel. */
void linux_boot_entry_state(const struct linux_entry *e, struct x86_state *s);

#endif
