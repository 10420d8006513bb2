/* The fw_cfg items of a PC, laid out as QEMU's PC machines lay them out
 * for SeaBIOS and for QEMU's option ROMs (linuxboot_dma.bin for a Linux
 * bzImage, multiboot.bin for a Multiboot kernel): numbered integers are
 * little-endian, e820 entries are packed 20-byte records (u64 start, u64
 * length, u32 type, little-endian). */
#ifndef V2E_DM_HW_FW_CFG_PC_H
#define V2E_DM_HW_FW_CFG_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dm/hw/fw_cfg.h"
#include "lib/compiler.h"

#define FW_CFG_E820_RAM 1
#define FW_CFG_E820_RESERVED 2
#define FW_CFG_E820_ACPI 3
#define FW_CFG_E820_NVS 4
#define FW_CFG_E820_UNUSABLE 5

/* Slots of the legacy FW_CFG_E820_TABLE item (reservations only). */
#define FW_CFG_E820_LEGACY_SLOTS 16

/* Top of RAM below 4 GiB that a direct Linux boot leaves to the
 * firmware's own tables (ACPI and the like), as QEMU's PC does: the
 * initrd ends below it. */
#define FW_CFG_PC_FIRMWARE_RESERVE 0x28000u

/* Where linuxboot_dma.bin puts a bzImage (the boot protocol's layout for
 * a kernel loaded high, protocol 2.02 and later). */
#define FW_CFG_PC_SETUP_ADDR 0x10000u
#define FW_CFG_PC_CMDLINE_ADDR 0x20000u
#define FW_CFG_PC_KERNEL_ADDR 0x100000u

struct fw_cfg_e820_entry {
	uint64_t start, len;
	uint32_t type;
};

struct fw_cfg_pc {
	/* RAM is [0, ram_below_4g) and [4 GiB, 4 GiB + ram_above_4g); the
	 * holes at 640 KiB and below 4 GiB count as RAM below 4 GiB, as
	 * QEMU counts them. */
	uint64_t ram_below_4g, ram_above_4g;
	uint16_t nb_cpus;  /* CPUs present at boot */
	uint16_t max_cpus; /* one above the highest APIC ID (QEMU's value) */
	bool nographic;
	bool boot_menu;
	/* The map the firmware hands on (SeaBIOS adds its own reservations
	 * for the BIOS areas): QEMU gives RAM [0, ram_below_4g) whole. */
	const struct fw_cfg_e820_entry *e820;
	size_t n_e820;
	/* How long SeaBIOS waits after "No bootable device" before it
	 * resets, in ms; 0xffffffff (QEMU's default) waits for ever. */
	uint32_t boot_fail_wait;
	/* The UART port SeaBIOS mirrors its text screen on (sercon), 0 for
	 * none: QEMU's 0x3f8 when there is no display (-nographic). */
	uint16_t sercon_port;
	/* -boot splash-time: how long the boot menu waits, in ms ("etc/
	 * boot-menu-wait", u16); -1 leaves the firmware's own default. */
	int32_t boot_menu_wait;
};

/* Registers RAM_SIZE (u64, all RAM), NOGRAPHIC, NB_CPUS, MAX_CPUS and
 * BOOT_MENU (u16), the file "etc/e820" (every entry) and the legacy
 * FW_CFG_E820_TABLE (u32 count and FW_CFG_E820_LEGACY_SLOTS records, the
 * non-RAM entries only); for SeaBIOS the files "bootorder" (empty: no
 * device has a boot index yet), "etc/boot-fail-wait" (u32), "etc/boot-menu-wait" (u16) when
 * boot_menu_wait >= 0, and, when
 * sercon_port is set, "etc/sercon-port" (u16), little-endian. 0, -EINVAL (no CPUs, RAM split impossible),
 * -E2BIG (more than FW_CFG_E820_LEGACY_SLOTS reservations), or an error
 * of fw_cfg_add_*(). */
int fw_cfg_pc_fill(struct fw_cfg *fw, const struct fw_cfg_pc *pc) must_check;

/* Registers a Linux bzImage for linuxboot_dma.bin, as the 32-bit boot
 * protocol splits it: SETUP_ADDR/SIZE/DATA (the (setup_sects + 1) * 512
 * bytes of real-mode setup, with the header filled in as a boot loader
 * does: loader type, CAN_USE_HEAP and heap_end_ptr, cmd_line_ptr, and
 * ramdisk_image/ramdisk_size when there is an initrd), KERNEL_ADDR/SIZE/
 * DATA (the protected-mode body, loaded at 1 MiB), CMDLINE_ADDR/SIZE/DATA
 * and KERNEL_CMDLINE (the command line's address), and with an initrd
 * INITRD_ADDR/SIZE/DATA (page aligned, as high as the header's
 * initrd_addr_max and RAM below 4 GiB less FW_CFG_PC_FIRMWARE_RESERVE
 * allow). `initrd` NULL or initrd_len 0: none. `cmdline` NULL: empty;
 * cut at the header's cmdline_size. 0, -ENOEXEC (not a bzImage of
 * protocol 2.02 or later, or a malformed one), -EFBIG (the initrd does
 * not fit below its limit), or an error of fw_cfg_add_*(), with a reason
 * in err[errlen]. */
int fw_cfg_pc_add_linux(struct fw_cfg *fw, const struct fw_cfg_pc *pc,
			const uint8_t *img, size_t len, const uint8_t *initrd,
			size_t initrd_len, const char *cmdline, char *err,
			size_t errlen) must_check;

/* A kernel already laid out flat, as multiboot.bin takes one: the image
 * goes to `load_addr` and runs at `entry`; `info` (the Multiboot
 * information structure, say) goes to `info_addr`. */
struct fw_cfg_flat_kernel {
	uint32_t load_addr, entry;
	const uint8_t *image;
	size_t image_len;
	uint32_t info_addr;
	const uint8_t *info;
	size_t info_len;
};

/* Registers KERNEL_ENTRY, KERNEL_ADDR/SIZE/DATA and INITRD_ADDR/SIZE/DATA
 * (the info block) as QEMU does for multiboot.bin. 0, -EINVAL (a part
 * that runs past 4 GiB), or an error of fw_cfg_add_*(). */
int fw_cfg_pc_add_flat_kernel(struct fw_cfg *fw,
			      const struct fw_cfg_flat_kernel *k) must_check;

#endif
