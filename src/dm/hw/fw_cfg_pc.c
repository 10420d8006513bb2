/* The PC's fw_cfg items (see fw_cfg_pc.h). The bzImage layout follows
 * the kernel's Documentation/arch/x86/boot.rst. On failure some items may
 * already be registered: the board then destroys the device. */
#include "dm/hw/fw_cfg_pc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define E820_RECORD 20

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void put_e820(uint8_t *p, const struct fw_cfg_e820_entry *e)
{
	put_le(p, e->start, 8);
	put_le(p + 8, e->len, 8);
	put_le(p + 16, e->type, 4);
}

static int add_e820(struct fw_cfg *fw, const struct fw_cfg_pc *pc)
{
	uint8_t legacy[4 + FW_CFG_E820_LEGACY_SLOTS * E820_RECORD] = {0};
	uint32_t reserved = 0;
	uint8_t *all;
	int r;

	if (pc->n_e820 > FW_CFG_MAX_BYTES / E820_RECORD)
		return -E2BIG;
	for (size_t i = 0; i < pc->n_e820; i++) {
		if (pc->e820[i].type == FW_CFG_E820_RAM)
			continue;
		if (reserved == FW_CFG_E820_LEGACY_SLOTS)
			return -E2BIG;
		put_e820(legacy + 4 + reserved * E820_RECORD, &pc->e820[i]);
		reserved++;
	}
	put_le(legacy, reserved, 4);
	r = fw_cfg_add_bytes(fw, FW_CFG_E820_TABLE, legacy, sizeof(legacy), 0);
	if (r)
		return r;

	/* calloc(0) may give NULL: keep one byte so an empty map works. */
	all = calloc(pc->n_e820 ? pc->n_e820 : 1, E820_RECORD);
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < pc->n_e820; i++)
		put_e820(all + i * E820_RECORD, &pc->e820[i]);
	r = fw_cfg_add_file(fw, "etc/e820", all, pc->n_e820 * E820_RECORD, 0);
	free(all);
	return r;
}

/* What SeaBIOS reads to reach its boot menu, as QEMU provides it. */
static int add_boot(struct fw_cfg *fw, const struct fw_cfg_pc *pc)
{
	uint8_t wait[4], port[2];
	int r;

	put_le(wait, pc->boot_fail_wait, 4);
	put_le(port, pc->sercon_port, 2);
	if ((r = fw_cfg_add_file(fw, "bootorder", "", 0, 0)) ||
	    (r = fw_cfg_add_file(fw, "etc/boot-fail-wait", wait, sizeof(wait), 0)))
		return r;
	if (pc->boot_menu_wait >= 0) {
		uint8_t menu_wait[2];
		put_le(menu_wait, (uint64_t)pc->boot_menu_wait, 2);
		r = fw_cfg_add_file(fw, "etc/boot-menu-wait", menu_wait, sizeof(menu_wait), 0);
		if (r)
			return r;
	}
	if (pc->sercon_port)
		r = fw_cfg_add_file(fw, "etc/sercon-port", port, sizeof(port), 0);
	return r;
}

int fw_cfg_pc_fill(struct fw_cfg *fw, const struct fw_cfg_pc *pc)
{
	int r;

	if (pc->ram_below_4g > (1ull << 32) ||
	    pc->ram_above_4g > UINT64_MAX - pc->ram_below_4g ||
	    !pc->nb_cpus || pc->max_cpus < pc->nb_cpus)
		return -EINVAL;
	if ((r = fw_cfg_add_u64(fw, FW_CFG_RAM_SIZE,
				pc->ram_below_4g + pc->ram_above_4g)) ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_NOGRAPHIC, pc->nographic)) ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_NB_CPUS, pc->nb_cpus)) ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_MAX_CPUS, pc->max_cpus)) ||
	    (r = fw_cfg_add_u16(fw, FW_CFG_BOOT_MENU, pc->boot_menu)) ||
	    (r = add_boot(fw, pc)))
		return r;
	return add_e820(fw, pc);
}

/* The setup header (boot.rst), by offset in the image. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_HEADER 0x202 /* "HdrS" */
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c /* 2.03 */
#define HDR_XLOADFLAGS 0x236      /* 2.12 */
#define HDR_CMDLINE_SIZE 0x238    /* 2.06 */
#define HDR_INIT_SIZE 0x260       /* 2.10 */

#define LOADFLAGS_LOADED_HIGH 0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
/* boot.rst: "if your boot loader is not listed, use 0xff"; the kernel
 * only reports it. The same value as v2e's own direct loader. */
#define LOADER_UNDEFINED 0xff

#define VERSION_MIN 0x202
#define SETUP_SECTS_DEFAULT 4
/* The real-mode setup has about 32 KiB below its heap (boot.rst's memory
 * layout); v2e's direct loader draws the line at the same place. */
#define SETUP_SECTS_MAX 64
#define INITRD_MAX_OLD 0x37ffffffu
#define CMDLINE_SIZE_OLD 255
#define CMDLINE_LIMIT 0x9fc00u /* the EBDA */

/* Every item as a little-endian u32 followed by its bytes. */
static int add_part(struct fw_cfg *fw, uint16_t addr_key, uint32_t addr,
		    uint16_t size_key, uint16_t data_key, const void *data,
		    size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return -EINVAL;
	if ((r = fw_cfg_add_u32(fw, addr_key, addr)) ||
	    (r = fw_cfg_add_u32(fw, size_key, (uint32_t)len)))
		return r;
	return fw_cfg_add_bytes(fw, data_key, data, len, 0);
}

int fw_cfg_pc_add_linux(struct fw_cfg *fw, const struct fw_cfg_pc *pc,
			const uint8_t *img, size_t len, const uint8_t *initrd,
			size_t initrd_len, const char *cmdline, char *err,
			size_t errlen)
{
	unsigned version, sects;
	size_t setup_len, body_len, cl_len, cl_max;
	uint64_t kernel_end, initrd_max, limit;
	uint32_t initrd_addr = 0;
	uint8_t *setup;
	char *cl;
	int r;

	if (len < HDR_VERSION + 2 || memcmp(img + HDR_HEADER, "HdrS", 4))
		return err_say(err, errlen, -ENOEXEC, "not a Linux kernel (no HdrS setup header)");
	version = get_le(img + HDR_VERSION, 2);
	if (version < VERSION_MIN)
		return err_say(err, errlen, -ENOEXEC,
			    "Linux boot protocol %u.%02u is older than 2.02",
			    version >> 8, version & 0xff);
	sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : SETUP_SECTS_DEFAULT;
	if (sects > SETUP_SECTS_MAX)
		return err_say(err, errlen, -ENOEXEC, "%u setup sectors (at most %u)",
			    sects, SETUP_SECTS_MAX);
	/* At least 2 sectors: every header field read below is inside. */
	setup_len = (sects + 1) * 512u;
	if (setup_len >= len)
		return err_say(err, errlen, -ENOEXEC,
			    "kernel of %zu bytes has no body after %zu bytes of setup",
			    len, setup_len);
	if (!(img[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
		return err_say(err, errlen, -ENOEXEC, "a zImage (not loaded high)");
	body_len = len - setup_len;
	if (body_len > UINT32_MAX - FW_CFG_PC_KERNEL_ADDR)
		return err_say(err, errlen, -ENOEXEC, "kernel body of %zu bytes", body_len);

	/* The command line, cut where the kernel would cut it. */
	cl_max = version >= 0x206 ? get_le(img + HDR_CMDLINE_SIZE, 4) : CMDLINE_SIZE_OLD;
	if (cl_max > CMDLINE_LIMIT - FW_CFG_PC_CMDLINE_ADDR - 1)
		cl_max = CMDLINE_LIMIT - FW_CFG_PC_CMDLINE_ADDR - 1;
	cl_len = cmdline ? strnlen(cmdline, cl_max) : 0;

	/* The initrd: page aligned, as high as allowed, above the kernel
	 * and everything it needs while it decompresses. */
	if (initrd && initrd_len) {
		if (version >= 0x20c && (get_le(img + HDR_XLOADFLAGS, 2) &
					 XLF_CAN_BE_LOADED_ABOVE_4G))
			initrd_max = UINT32_MAX;
		else if (version >= 0x203)
			initrd_max = get_le(img + HDR_INITRD_ADDR_MAX, 4);
		else
			initrd_max = INITRD_MAX_OLD;
		if (pc->ram_below_4g <= FW_CFG_PC_FIRMWARE_RESERVE)
			return err_say(err, errlen, -EFBIG, "no RAM for the initrd");
		limit = pc->ram_below_4g - FW_CFG_PC_FIRMWARE_RESERVE;
		if (initrd_max >= limit)
			initrd_max = limit - 1;
		kernel_end = FW_CFG_PC_KERNEL_ADDR + body_len;
		if (version >= 0x210 &&
		    FW_CFG_PC_KERNEL_ADDR + (uint64_t)get_le(img + HDR_INIT_SIZE, 4) > kernel_end)
			kernel_end = FW_CFG_PC_KERNEL_ADDR + (uint64_t)get_le(img + HDR_INIT_SIZE, 4);
		if (initrd_len >= initrd_max ||
		    ((initrd_max - initrd_len) & ~0xfffull) < kernel_end)
			return err_say(err, errlen, -EFBIG,
				    "initrd of %zu bytes does not fit between the kernel's end %#llx and %#llx",
				    initrd_len, (unsigned long long)kernel_end,
				    (unsigned long long)initrd_max);
		initrd_addr = (uint32_t)((initrd_max - initrd_len) & ~0xfffull);
	}

	setup = malloc(setup_len);
	cl = malloc(cl_len + 1);
	if (!setup || !cl) {
		r = err_say(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(cl, cmdline ? cmdline : "", cl_len);
	cl[cl_len] = 0;
	/* What a boot loader fills in (boot.rst, "Details of header fields"). */
	memcpy(setup, img, setup_len);
	setup[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	setup[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	put_le(setup + HDR_HEAP_END_PTR,
	       FW_CFG_PC_CMDLINE_ADDR - FW_CFG_PC_SETUP_ADDR - 0x200, 2);
	put_le(setup + HDR_CMD_LINE_PTR, FW_CFG_PC_CMDLINE_ADDR, 4);
	put_le(setup + HDR_RAMDISK_IMAGE, initrd_addr, 4);
	put_le(setup + HDR_RAMDISK_SIZE, initrd_addr ? initrd_len : 0, 4);

	if ((r = add_part(fw, FW_CFG_SETUP_ADDR, FW_CFG_PC_SETUP_ADDR,
			  FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA, setup, setup_len)) ||
	    (r = add_part(fw, FW_CFG_KERNEL_ADDR, FW_CFG_PC_KERNEL_ADDR,
			  FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA, img + setup_len,
			  body_len)) ||
	    (r = add_part(fw, FW_CFG_CMDLINE_ADDR, FW_CFG_PC_CMDLINE_ADDR,
			  FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA, cl, cl_len + 1)) ||
	    (r = fw_cfg_add_u32(fw, FW_CFG_KERNEL_CMDLINE, FW_CFG_PC_CMDLINE_ADDR)))
		goto added;
	if (initrd_addr)
		r = add_part(fw, FW_CFG_INITRD_ADDR, initrd_addr, FW_CFG_INITRD_SIZE,
			     FW_CFG_INITRD_DATA, initrd, initrd_len);
added:
	if (r)
		err_say(err, errlen, r, "cannot register the kernel's fw_cfg items: %s",
		     strerror(-r));
out:
	free(cl);
	free(setup);
	return r;
}

int fw_cfg_pc_add_flat_kernel(struct fw_cfg *fw,
			      const struct fw_cfg_flat_kernel *k)
{
	int r;

	if (k->image_len > UINT32_MAX - (uint64_t)k->load_addr ||
	    k->info_len > UINT32_MAX - (uint64_t)k->info_addr)
		return -EINVAL;
	if ((r = fw_cfg_add_u32(fw, FW_CFG_KERNEL_ENTRY, k->entry)) ||
	    (r = add_part(fw, FW_CFG_KERNEL_ADDR, k->load_addr, FW_CFG_KERNEL_SIZE,
			  FW_CFG_KERNEL_DATA, k->image, k->image_len)))
		return r;
	return add_part(fw, FW_CFG_INITRD_ADDR, k->info_addr, FW_CFG_INITRD_SIZE,
			FW_CFG_INITRD_DATA, k->info, k->info_len);
}
