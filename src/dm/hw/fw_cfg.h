/* QEMU's firmware configuration interface ("fw_cfg", QEMU's
 * docs/specs/fw_cfg.rst): the channel through which SeaBIOS, QEMU's
 * option ROMs and Linux's qemu_fw_cfg driver read what the VMM tells the
 * firmware (RAM size, CPUs, the e820 map, a kernel to boot), as numbered
 * items and named files. See fw_cfg.c for the model and its limits.
 *
 * Two windows, as on QEMU's PC machines:
 *   fw_cfg_io_ops   at FW_CFG_IO_BASE (2 ports): a 16-bit write at +0
 *                   selects an item (little-endian, the data offset goes
 *                   back to 0); a byte read at +1 (or +0) returns the next
 *                   byte of the item, 0 past its end. Byte writes are
 *                   ignored (QEMU since v2.4: items are written by DMA).
 *   fw_cfg_dma_ops  at FW_CFG_DMA_BASE (8 ports): the big-endian address
 *                   of a DMA descriptor. A 32-bit write at +0 sets the
 *                   high half (and clears the low one), a 32-bit write at
 *                   +4 the low half and starts the transfer; a 64-bit
 *                   write at +0 sets both and starts it. Reads return the
 *                   bytes "QEMU CFG". After a transfer the register is 0.
 *
 * The DMA descriptor (16 bytes, big-endian): control, length, address.
 * Control bits: SELECT (bits 16-31 are the key, as a selector write),
 * then one of READ (item -> guest RAM, zeros past the end), WRITE (guest
 * RAM -> item, only for items registered FW_CFG_WRITABLE and only within
 * the item) or SKIP (advance the offset), in that priority. On completion
 * control is written back as 0, or FW_CFG_DMA_ERROR when anything failed;
 * a failed transfer copies nothing. Guest RAM is reached only through the
 * `struct dma_space` given at init. */
#ifndef V2E_DM_HW_FW_CFG_H
#define V2E_DM_HW_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/device.h"
#include "dev/dma.h"
#include "lib/compiler.h"
#include "lib/vstate.h"

#define FW_CFG_IO_BASE 0x510
#define FW_CFG_IO_LEN 2
#define FW_CFG_DMA_BASE 0x514
#define FW_CFG_DMA_LEN 8

/* Keys (selector values). Bit 15 selects the architecture-specific
 * range; bit 14 is the old write channel, ignored when selecting. */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MACHINE_ID 0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR 0x16
#define FW_CFG_SETUP_SIZE 0x17
#define FW_CFG_SETUP_DATA 0x18
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_INDEX_MASK 0x3fff
#define FW_CFG_E820_TABLE (FW_CFG_ARCH_LOCAL + 0x03)

/* FW_CFG_ID bits */
#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA 0x02

/* DMA control bits */
#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE 0x10

/* The file directory: a big-endian count, then per file (sorted by name,
 * the first at key FW_CFG_FILE_FIRST) a big-endian size, a big-endian
 * key, 2 reserved bytes and a NUL-padded name. */
#define FW_CFG_NAME_LEN 56
#define FW_CFG_DIR_ENTRY_LEN 64

/* Bounds of the store: every key of the file range, and what the 32-bit
 * size fields can describe (the firmware loads it all below 4 GiB). */
#define FW_CFG_MAX_FILES (FW_CFG_INDEX_MASK + 1 - FW_CFG_FILE_FIRST)
#define FW_CFG_MAX_BYTES 0xffffffffu

/* Item flags */
#define FW_CFG_WRITABLE 0x1 /* DMA WRITE may change the item's bytes */

struct fw_cfg_item {
	uint8_t *data;  /* owned by the device; NULL when len is 0 */
	uint32_t len;
	uint16_t key;
	bool writable;
	char name[FW_CFG_NAME_LEN]; /* files only; "" for numbered items */
};

struct fw_cfg {
	struct dma_space dma;
	/* Numbered items, sorted by key (the signature, the ID, the file
	 * directory and whatever the board adds). */
	struct fw_cfg_item *items;
	size_t n_items, cap_items;
	/* Files, sorted by name: files[i] has key FW_CFG_FILE_FIRST + i. */
	struct fw_cfg_item *files;
	size_t n_files, cap_files;
	uint64_t bytes;     /* item bytes held, at most max_bytes */
	uint64_t max_bytes; /* FW_CFG_MAX_BYTES unless the board lowers it */

	/* Guest-visible state */
	uint16_t selector;
	uint32_t offset;          /* never above cur->len */
	struct fw_cfg_item *cur;  /* the selected item, NULL if none */
	uint64_t dma_addr;
};

/* Registers the signature, the ID (traditional and DMA interfaces) and an
 * empty file directory, and selects the signature. 0 or -ENOMEM. */
int fw_cfg_init(struct fw_cfg *fw, const struct dma_space *dma) must_check;

/* Frees every item. */
void fw_cfg_destroy(struct fw_cfg *fw);

/* What a machine reset does: the signature selected, the DMA address
 * register 0. Items (and what the guest wrote into writable ones) stay. */
void fw_cfg_reset(struct fw_cfg *fw);

/* Adds a numbered item with a copy of data[0..len). `key` is a generic
 * key below FW_CFG_FILE_FIRST or an architecture key (FW_CFG_ARCH_LOCAL
 * | index); the write-channel bit must be clear. 0, -EINVAL (a key of the
 * file range, a reserved key, or a size over 32 bits), -EEXIST (the key
 * is taken), -E2BIG (the store would exceed max_bytes), -ENOMEM. */
int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data,
		     size_t len, unsigned flags) must_check;

/* Little-endian integers, and a string with its NUL, as numbered items. */
int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t v) must_check;
int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t key, uint32_t v) must_check;
int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t v) must_check;
int fw_cfg_add_string(struct fw_cfg *fw, uint16_t key,
		      const char *s) must_check;

/* Adds a file with a copy of data[0..len): it takes the key of its place
 * in name order, moving the files after it up by one (as QEMU does), and
 * the directory is rebuilt. `name` is 1 to FW_CFG_NAME_LEN - 1 bytes.
 * 0, -EINVAL (bad name or size), -EEXIST (the name is taken), -ENOSPC
 * (no key left), -E2BIG, -ENOMEM. */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
		    size_t len, unsigned flags) must_check;

/* The item a selector value reaches (the write-channel bit ignored), or
 * NULL. The pointer is valid until the next add. */
const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *fw, uint16_t key);

/* The file called `name`, or NULL. */
const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *fw,
					   const char *name);

extern const struct io_ops fw_cfg_io_ops;  /* FW_CFG_IO_LEN ports */
extern const struct io_ops fw_cfg_dma_ops; /* FW_CFG_DMA_LEN ports */

/* Saved state (lib/vstate.h): selector, offset and DMA address; the
 * items are configuration and must be the same where it is loaded. */
extern const struct vs_desc fw_cfg_state;

#endif
