/* The Multiboot v1 loader (the Multiboot Specification 0.6.96): places a
 * kernel image and its modules in guest RAM and builds the information
 * structure, leaving what the CPU state must be on entry in `struct
 * mb_entry` (EAX = magic, EBX = info address, flat 32-bit protected mode,
 * paging off, interrupts off). */
#ifndef V2E_VMM_MULTIBOOT_H
#define V2E_VMM_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"
#include "lib/compiler.h"
#include "mem/guest_mem.h"

#define MB_BOOTLOADER_MAGIC 0x2BADB002u

struct mb_module {
	const uint8_t *data;
	size_t len;
	const char *cmdline;
};

struct mb_entry {
	uint32_t eip;
	uint32_t eax, ebx;
};

/* Returns 1 if `img` carries a Multiboot header in its first 8 KiB. */
int multiboot_probe(const uint8_t *img, size_t len);

/* Loads `img` (ELF32 or with the header's address fields), the command
 * line and modules. 0, or -ENOEXEC (not Multiboot / malformed), -EFAULT
 * (does not fit in RAM), -EINVAL (asks for video or unsupported
 * features), with a reason in err[errlen]. */
int multiboot_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		   const char *cmdline, const struct mb_module *mods,
		   size_t n_mods, struct mb_entry *out, char *err,
		   size_t errlen) must_check;

/* Sets what the specification fixes for entry in `s` (a state after
 * RESET): flat 4 GiB code and data segments, CR0.PE, paging and
 * interrupts off, EIP/EAX/EBX from `e`. */
void multiboot_entry_state(const struct mb_entry *e, struct x86_state *s);

#endif
