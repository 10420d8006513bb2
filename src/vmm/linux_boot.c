/* Linux/x86 boot protocol loading (see linux_boot.h). Written from
 * boot.rst: every setup header field used is checked against the file,
 * against the protocol version that defines it, and against guest RAM
 * before anything is copied. A malformed kernel gets a clear error, never
 * a host access out of bounds. */
#include "vmm/linux_boot.h"
#include "vmm/loader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The setup header, at these offsets in both the file and boot_params. */
#define HDR_START 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200 /* a short jump: its offset byte ends the header */
#define HDR_HEADER 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_EXT_LOADER_VER 0x226
#define HDR_EXT_LOADER_TYPE 0x227
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE_KERNEL 0x234
#define HDR_CMDLINE_SIZE 0x238
#define HDR_HARDWARE_SUBARCH 0x23c /* 2.07 */
#define HDR_XLOADFLAGS 0x236       /* 2.12 */
#define HDR_PAYLOAD_OFFSET 0x248   /* 2.08 */
#define HDR_PAYLOAD_LENGTH 0x24c   /* 2.08 */
#define HDR_SETUP_DATA 0x250       /* 2.09 */
#define HDR_PREF_ADDRESS 0x258     /* 2.10 */
#define HDR_INIT_SIZE 0x260        /* 2.10 */

/* Where the header must end at least: past cmdline_size (2.06), past
 * init_size (2.10). It may not run into the EDD buffer at 0x290. */
#define XLF_KERNEL_64 0x01
#define HDR_END_206 0x23c
#define HDR_END_210 0x264
#define HDR_END_LIMIT 0x290

/* boot_params outside the header. */
#define BP_SIZE 4096
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_ALT_MEM_K 0x1e0
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define E820_ENTRY_SIZE 20
#define E820_RAM 1
#define E820_RESERVED 2

#define LOADFLAGS_LOADED_HIGH 0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define LOADER_UNDEFINED 0xff
/* Only the real-mode setup reads it, and it is never run; boot.rst's
 * sample loader's value, so the field is coherent with CAN_USE_HEAP. */
#define HEAP_END_PTR 0xde00

#define VERSION_MIN 0x206
/* The real-mode setup has 32 KiB (boot.rst's memory layout, X to
 * X+0x8000): more sectors than that is not a kernel. */
#define SETUP_SECTS_MAX 64
#define SETUP_SECTS_DEFAULT 4
#define CMDLINE_LIMIT 0x9fc00u /* the EBDA, reserved in the e820 map */

int linux_boot_probe(const uint8_t *img, size_t len)
{
	return len >= HDR_VERSION + 2 && !memcmp(img + HDR_HEADER, "HdrS", 4);
}

struct e820 {
	uint64_t start, len;
	uint32_t type;
};

/* The RAM ranges with the PC's BIOS areas cut out and listed as reserved
 * (the EBDA's last KiB below 640 KiB, the BIOS ROM below 1 MiB), sorted
 * by address. Returns the number of entries. */
static size_t build_e820(const struct guest_mem *gm, struct e820 *out, size_t max)
{
	static const struct e820 reserved[] = {
		{0x9fc00, 0x400, E820_RESERVED},
		{0xf0000, 0x10000, E820_RESERVED},
	};
	struct gm_range ram[4];
	size_t nr = guest_mem_ranges(gm, ram, 4), n = 0;

	for (size_t i = 0; i < nr; i++) {
		uint64_t s = ram[i].start, e = ram[i].start + ram[i].len;
		for (size_t j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++) {
			uint64_t rs = reserved[j].start, re = rs + reserved[j].len;
			if (re <= s || rs >= e)
				continue;
			if (s < rs && n < max)
				out[n++] = (struct e820){s, rs - s, E820_RAM};
			s = re < e ? re : e;
		}
		if (s < e && n < max)
			out[n++] = (struct e820){s, e - s, E820_RAM};
	}
	for (size_t j = 0; j < sizeof(reserved) / sizeof(reserved[0]) && n < max; j++)
		out[n++] = reserved[j];
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && out[k - 1].start > out[k].start; k--) {
			struct e820 t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

/* The flat GDT the entry state's selectors refer to: null, unused,
 * __BOOT_CS (0x10, execute/read), __BOOT_DS (0x18, read/write). */
static const uint64_t boot_gdt[4] = {
	0,
	0,
	0x00cf9b000000ffffull,
	0x00cf93000000ffffull,
};

int linux_boot_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		    const uint8_t *initrd, size_t initrd_len, const char *cmdline,
		    struct linux_entry *out, char *err, size_t errlen)
{
	uint8_t bp[BP_SIZE];
	struct e820 map[BP_E820_MAX];
	unsigned version, hdr_end, setup_sects, loadflags;
	uint32_t syssize, cmdline_size, initrd_max, init_size;
	uint64_t setup_len, pm_len, run_at, kernel_end, ramdisk = 0;
	size_t cl_len, cl_max, n_e820;
	int r;

	if (errlen)
		err[0] = 0;
	out->ram_needed = 0;
	if (!linux_boot_probe(img, len))
		return ld_fail(err, errlen, -ENOEXEC, "no Linux setup header (\"HdrS\" at 0x202)");
	version = ld_rd16(img + HDR_VERSION);
	if (version < VERSION_MIN)
		return ld_fail(err, errlen, -ENOEXEC,
			    "Linux boot protocol %u.%02u is older than 2.06, the oldest supported",
			    version >> 8, version & 0xff);
	if (ld_rd16(img + HDR_BOOT_FLAG) != 0xaa55)
		return ld_fail(err, errlen, -ENOEXEC, "Linux setup header without the 0xAA55 boot_flag");
	setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : SETUP_SECTS_DEFAULT;
	if (setup_sects > SETUP_SECTS_MAX)
		return ld_fail(err, errlen, -ENOEXEC,
			    "setup_sects %u: a real-mode setup larger than the protocol's 32 KiB",
			    setup_sects);
	setup_len = (uint64_t)(setup_sects + 1) * 512;
	if (len <= setup_len)
		return ld_fail(err, errlen, -ENOEXEC,
			    "the file (%zu bytes) ends inside its %llu-byte real-mode setup", len,
			    (unsigned long long)setup_len);
	/* From here the whole header area (< 0x290 < setup_len) is in the
	 * file. */
	hdr_end = HDR_HEADER + img[HDR_JUMP + 1];
	if (hdr_end < (version >= 0x20a ? HDR_END_210 : HDR_END_206) || hdr_end > HDR_END_LIMIT)
		return ld_fail(err, errlen, -ENOEXEC,
			    "setup header ends at %#x, which protocol %u.%02u does not allow", hdr_end,
			    version >> 8, version & 0xff);
	loadflags = img[HDR_LOADFLAGS];
	if (!(loadflags & LOADFLAGS_LOADED_HIGH))
		return ld_fail(err, errlen, -EINVAL, "a zImage (loaded low): only bzImage is supported");
	pm_len = len - setup_len;
	/* syssize counts 16-byte paragraphs, rounded up: a file may end up
	 * to 15 bytes before it (Debian ships such kernels; QEMU and boot
	 * loaders load them). What must be in the file is the compressed
	 * payload the decompressor reads (2.08 on). */
	syssize = ld_rd32(img + HDR_SYSSIZE);
	if (syssize == 0 || (uint64_t)syssize * 16 >= pm_len + 16)
		return ld_fail(err, errlen, -ENOEXEC,
			    "syssize says %llu bytes of protected-mode kernel, the file has %llu",
			    (unsigned long long)syssize * 16, (unsigned long long)pm_len);
	if (version >= 0x208 && (uint64_t)ld_rd32(img + HDR_PAYLOAD_OFFSET) +
					ld_rd32(img + HDR_PAYLOAD_LENGTH) > pm_len)
		return ld_fail(err, errlen, -ENOEXEC,
			    "the compressed kernel (payload %#x + %#x bytes) runs past the "
			    "file's %llu bytes of protected-mode kernel: a truncated file",
			    ld_rd32(img + HDR_PAYLOAD_OFFSET), ld_rd32(img + HDR_PAYLOAD_LENGTH),
			    (unsigned long long)pm_len);
	/* A kernel built for x86-64 starts in 32-bit mode too, then finds
	 * no long mode and halts without a word: say it here. */
	if (version >= 0x20c && (img[HDR_XLOADFLAGS] & XLF_KERNEL_64))
		return ld_fail(err, errlen, -ENOEXEC,
			    "a 64-bit (x86-64) kernel: v2e's CPU has no long mode yet; "
			    "use a 32-bit (i386/i686) kernel");
	cmdline_size = ld_rd32(img + HDR_CMDLINE_SIZE);
	if (cmdline_size == 0)
		return ld_fail(err, errlen, -ENOEXEC, "setup header with cmdline_size 0");
	initrd_max = ld_rd32(img + HDR_INITRD_ADDR_MAX);

	/* Where the kernel decompresses and runs: a relocatable kernel at
	 * its load address aligned up, any kernel at pref_address if that
	 * is higher (it moves itself there), needing init_size bytes from
	 * there. Before 2.10 no init_size is given: four times the image,
	 * the most a compressed kernel grows. */
	run_at = LINUX_KERNEL_ADDR;
	if (img[HDR_RELOCATABLE_KERNEL]) {
		uint32_t align = ld_rd32(img + HDR_KERNEL_ALIGNMENT);
		if (align == 0 || (align & (align - 1)) || align > (1u << 30))
			return ld_fail(err, errlen, -ENOEXEC,
				    "relocatable kernel with kernel_alignment %#x", align);
		run_at = (run_at + align - 1) & ~(uint64_t)(align - 1);
	}
	init_size = 0;
	if (version >= 0x20a) {
		uint64_t pref = ld_rd64(img + HDR_PREF_ADDRESS);
		if (pref > run_at)
			run_at = pref;
		init_size = ld_rd32(img + HDR_INIT_SIZE);
	} else if (pm_len <= UINT32_MAX / 4) {
		init_size = (uint32_t)(pm_len * 4);
	}
	kernel_end = LINUX_KERNEL_ADDR + pm_len;
	if (run_at + init_size > kernel_end)
		kernel_end = run_at + init_size;
	/* RAM enough for the kernel and, a page aligned, the initrd above it. */
	out->ram_needed = kernel_end + ((initrd_len + 0xfff) & ~0xfffull);
	if (run_at > gm->low_end || init_size > gm->low_end - run_at ||
	    pm_len > gm->low_end - LINUX_KERNEL_ADDR)
		return ld_fail(err, errlen, -EFAULT,
			    "the kernel needs init_size %#x bytes of RAM from %#llx (and %llu "
			    "bytes at %#x); RAM below 4 GiB ends at %#llx", init_size,
			    (unsigned long long)run_at, (unsigned long long)pm_len,
			    LINUX_KERNEL_ADDR, (unsigned long long)gm->low_end);

	/* The initrd as high as allowed, page aligned, above the kernel. */
	if (initrd && initrd_len) {
		uint64_t top = (uint64_t)initrd_max + 1;
		if (top > gm->low_end)
			top = gm->low_end;
		if (initrd_len > top || ((top - initrd_len) & ~0xfffull) < kernel_end)
			return ld_fail(err, errlen, -EFAULT,
				    "the initrd (%zu bytes) does not fit between the kernel's end "
				    "%#llx and %#llx (initrd_addr_max, end of RAM below 4 GiB)",
				    initrd_len, (unsigned long long)kernel_end,
				    (unsigned long long)top);
		ramdisk = (top - initrd_len) & ~0xfffull;
	}
	out->ram_needed = 0;

	/* The command line: at most cmdline_size bytes (without the NUL);
	 * the kernel would cut a longer one where it stops reading, so it
	 * is refused instead. */
	cl_max = CMDLINE_LIMIT - LINUX_CMDLINE_ADDR - 1;
	if (cmdline_size < cl_max)
		cl_max = cmdline_size;
	cl_len = cmdline ? strlen(cmdline) : 0;
	if (cl_len > cl_max)
		return ld_fail(err, errlen, -E2BIG,
			    "the command line (-append) is %zu bytes; this kernel takes at "
			    "most %zu (cmdline_size)", cl_len, cl_max);

	memset(bp, 0, sizeof(bp));
	memcpy(bp + HDR_START, img + HDR_START, hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	bp[HDR_LOADFLAGS] = LOADFLAGS_LOADED_HIGH | LOADFLAGS_CAN_USE_HEAP;
	ld_wr16(bp + HDR_HEAP_END_PTR, HEAP_END_PTR);
	bp[HDR_EXT_LOADER_VER] = 0;
	bp[HDR_EXT_LOADER_TYPE] = 0;
	ld_wr32(bp + HDR_CODE32_START, LINUX_KERNEL_ADDR);
	ld_wr32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
	ld_wr32(bp + HDR_RAMDISK_IMAGE, (uint32_t)ramdisk);
	ld_wr32(bp + HDR_RAMDISK_SIZE, ramdisk ? (uint32_t)initrd_len : 0);
	/* Fields the loader owns: a PC, no setup_data chain, whatever the
	 * file carried there. */
	if (version >= 0x207)
		ld_wr32(bp + HDR_HARDWARE_SUBARCH, 0);
	if (version >= 0x209)
		ld_wr64(bp + HDR_SETUP_DATA, 0);
	ld_wr32(bp + BP_ALT_MEM_K, (uint32_t)((gm->low_end - LINUX_KERNEL_ADDR) >> 10));
	n_e820 = build_e820(gm, map, BP_E820_MAX);
	bp[BP_E820_ENTRIES] = (uint8_t)n_e820;
	for (size_t i = 0; i < n_e820; i++) {
		uint8_t *ent = bp + BP_E820_TABLE + i * E820_ENTRY_SIZE;
		ld_wr64(ent, map[i].start);
		ld_wr64(ent + 8, map[i].len);
		ld_wr32(ent + 16, map[i].type);
	}
	/* screen_info stays zero (no console on a screen) unless
	 * linux_boot_set_vga_text() says the VGA is in text mode. */

	r = ld_copy_in(gm, LINUX_KERNEL_ADDR, img + setup_len, pm_len, err, errlen,
		    "protected-mode kernel");
	if (!r && ramdisk)
		r = ld_copy_in(gm, ramdisk, initrd, initrd_len, err, errlen, "initrd");
	if (!r)
		r = ld_copy_in(gm, LINUX_CMDLINE_ADDR, cmdline ? cmdline : "", cl_len, err, errlen,
			    "command line");
	if (!r)
		r = ld_copy_in(gm, LINUX_CMDLINE_ADDR + cl_len, "", 1, err, errlen, "command line");
	if (!r)
		r = ld_copy_in(gm, LINUX_GDT_ADDR, boot_gdt, sizeof(boot_gdt), err, errlen, "GDT");
	if (!r)
		r = ld_copy_in(gm, LINUX_BOOT_PARAMS_ADDR, bp, sizeof(bp), err, errlen,
			    "boot_params");
	if (r)
		return r;
	out->eip = LINUX_KERNEL_ADDR;
	out->esi = LINUX_BOOT_PARAMS_ADDR;
	out->gdt_base = LINUX_GDT_ADDR;
	out->gdt_limit = sizeof(boot_gdt) - 1;
	return 0;
}

int linux_boot_set_acpi_rsdp(const struct guest_mem *gm, uint64_t rsdp)
{
	uint8_t v[8];
	ld_wr64(v, rsdp);
	return guest_mem_write(gm, LINUX_BOOT_PARAMS_ADDR + BP_ACPI_RSDP_ADDR, v, sizeof(v));
}

int linux_boot_set_vga_text(const struct guest_mem *gm)
{
	/* struct screen_info, the zero page's first 64 bytes. */
	uint8_t si[18] = {0};
	si[0x06] = 3;              /* orig_video_mode */
	si[0x07] = 80;             /* orig_video_cols */
	ld_wr16(si + 0x0a, 0x0003);/* orig_video_ega_bx: colour, 256 KiB (INT 10h AH=12h BL=10h) */
	si[0x0e] = 25;             /* orig_video_lines */
	si[0x0f] = 1;              /* orig_video_isVGA */
	ld_wr16(si + 0x10, 16);    /* orig_video_points */
	return guest_mem_write(gm, LINUX_BOOT_PARAMS_ADDR, si, sizeof(si));
}

void linux_boot_entry_state(const struct linux_entry *e, struct x86_state *s)
{
	ld_flat_segments(s, 0x10, 0x18);
	s->gdtr.base = e->gdt_base;
	s->gdtr.limit = e->gdt_limit;
	s->cr0 = CR0_PE | CR0_ET;
	s->rflags = FL_FIXED1;
	s->rip = e->eip;
	s->gpr[R_SI] = e->esi;
	s->gpr[R_BP] = 0;
	s->gpr[R_DI] = 0;
	s->gpr[R_BX] = 0;
}
