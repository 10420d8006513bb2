/* The Multiboot loader: an image with address fields, an ELF32 image, the
 * information structure (memory, command line, modules, memory map), and
 * malformed kernels refused with a reason. */
#include <errno.h>
#include <string.h>

#include "tests/tap.h"
#include "vmm/multiboot.h"

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static uint32_t rd32(const struct guest_mem *gm, uint64_t a)
{
	uint32_t v = 0;
	if (guest_mem_read(gm, a, &v, 4) < 0)
		return 0xdeadbeef;
	return v;
}

/* A kernel with address fields loaded at 1 MiB: header at file offset 16,
 * 64 bytes of image (0x11 fill), bss to 1 MiB + 0x2000. */
static size_t make_aout(uint8_t *img)
{
	memset(img, 0x11, 80);
	wr32(img + 16, 0x1BADB002);
	wr32(img + 20, 0x00010000);
	wr32(img + 24, -(0x1BADB002u + 0x00010000u));
	wr32(img + 28, 0x100010);   /* header_addr */
	wr32(img + 32, 0x100000);   /* load_addr */
	wr32(img + 36, 0x100040);   /* load_end_addr */
	wr32(img + 40, 0x102000);   /* bss_end_addr */
	wr32(img + 44, 0x100030);   /* entry */
	return 80;
}

/* A minimal ELF32 with one PT_LOAD at 2 MiB: 16 bytes of file data, 4 KiB
 * in memory. The Multiboot header sits inside the loaded bytes. */
static size_t make_elf(uint8_t *img)
{
	memset(img, 0, 256);
	memcpy(img, "\177ELF", 4);
	img[4] = 1; img[5] = 1; img[6] = 1;
	wr16(img + 16, 2);            /* ET_EXEC */
	wr16(img + 18, 3);            /* EM_386 */
	wr32(img + 24, 0x200004);     /* entry */
	wr32(img + 28, 52);           /* phoff */
	wr16(img + 42, 32);           /* phentsize */
	wr16(img + 44, 1);            /* phnum */
	wr32(img + 52, 1);            /* PT_LOAD */
	wr32(img + 56, 128);          /* offset */
	wr32(img + 64, 0x200000);     /* paddr */
	wr32(img + 68, 16);           /* filesz */
	wr32(img + 72, 0x1000);       /* memsz */
	wr32(img + 128, 0x1BADB002);
	wr32(img + 132, 0);
	wr32(img + 136, -0x1BADB002u);
	wr32(img + 140, 0x90909090);
	return 144;
}

int main(void)
{
	struct tap t = {0};
	struct guest_mem gm;
	struct mb_entry e;
	char err[256];
	uint8_t img[512];
	size_t n;
	static const uint8_t modbytes[100] = {1, 2, 3};
	struct mb_module mod = {modbytes, sizeof(modbytes), "initrd arg"};
	uint32_t info, flags, cmd, mods, mmap_len, mmap_addr;

	if (guest_mem_create(&gm, 32u << 20) < 0)
		return 1;
	n = make_aout(img);
	tap_ok(&t, multiboot_probe(img, n), "probe finds the header");
	tap_ok(&t, multiboot_load(&gm, img, n, "console=ttyS0", &mod, 1, &e, err,
				  sizeof(err)) == 0, "loads an image with address fields");
	tap_ok(&t, e.eip == 0x100030 && e.eax == MB_BOOTLOADER_MAGIC, "entry and magic");
	tap_ok(&t, gm.host[0x100000] == 0x11 && gm.host[0x10003f] == 0x11 &&
		       gm.host[0x100040] == 0 && gm.host[0x101fff] == 0,
	       "image copied, bss cleared");
	info = e.ebx;
	flags = rd32(&gm, info);
	tap_ok(&t, (flags & 0x4d) == 0x4d, "flags: memory, cmdline, mods, mmap (%#x)", flags);
	tap_ok(&t, rd32(&gm, info + 4) == 640 && rd32(&gm, info + 8) == (32u << 10) - 1024,
	       "mem_lower 640 KiB, mem_upper from 1 MiB");
	cmd = rd32(&gm, info + 16);
	tap_ok(&t, cmd && !strcmp((char *)gm.host + cmd, "console=ttyS0"), "command line");
	mods = rd32(&gm, info + 24);
	tap_ok(&t, rd32(&gm, info + 20) == 1 && rd32(&gm, mods) == 0x102000 &&
		       rd32(&gm, mods + 4) == 0x102000 + 100 &&
		       gm.host[0x102000] == 1 && gm.host[0x102002] == 3 &&
		       !strcmp((char *)gm.host + rd32(&gm, mods + 8), "initrd arg"),
	       "module after the kernel, page aligned, with its string");
	mmap_len = rd32(&gm, info + 44);
	mmap_addr = rd32(&gm, info + 48);
	tap_ok(&t, mmap_len == 48 && rd32(&gm, mmap_addr) == 20 &&
		       rd32(&gm, mmap_addr + 12) == 0xa0000 &&
		       rd32(&gm, mmap_addr + 24 + 4) == 0xc0000,
	       "memory map: two RAM ranges around the VGA window");

	n = make_elf(img);
	tap_ok(&t, multiboot_load(&gm, img, n, NULL, NULL, 0, &e, err, sizeof(err)) == 0 &&
		       e.eip == 0x200004 && gm.host[0x200000] == 0x02 &&
		       gm.host[0x200010] == 0,
	       "loads an ELF32 kernel (%s)", err);

	/* Hostile kernels. */
	make_aout(img);
	wr32(img + 36, 0x0ff000);
	tap_ok(&t, multiboot_load(&gm, img, 80, NULL, NULL, 0, &e, err, sizeof(err)) < 0,
	       "load_end below load_addr: %s", err);
	make_aout(img);
	wr32(img + 36, 0x100400);
	tap_ok(&t, multiboot_load(&gm, img, 80, NULL, NULL, 0, &e, err, sizeof(err)) < 0,
	       "load range beyond the file: %s", err);
	make_aout(img);
	wr32(img + 28, 0x40000000);
	wr32(img + 32, 0x3ffffff0);
	wr32(img + 36, 0x40000040);
	wr32(img + 40, 0);
	tap_ok(&t, multiboot_load(&gm, img, 80, NULL, NULL, 0, &e, err, sizeof(err)) == -EFAULT,
	       "a kernel outside RAM: %s", err);
	make_aout(img);
	wr32(img + 20, 0x00010004);
	wr32(img + 24, -(0x1BADB002u + 0x00010004u));
	tap_ok(&t, multiboot_load(&gm, img, 80, NULL, NULL, 0, &e, err, sizeof(err)) == -EINVAL,
	       "a video mode request: %s", err);
	n = make_elf(img);
	wr32(img + 68, 0x10000);
	tap_ok(&t, multiboot_load(&gm, img, n, NULL, NULL, 0, &e, err, sizeof(err)) < 0,
	       "ELF segment beyond the file: %s", err);
	n = make_elf(img);
	wr16(img + 44, 60000);
	tap_ok(&t, multiboot_load(&gm, img, n, NULL, NULL, 0, &e, err, sizeof(err)) < 0,
	       "ELF program headers beyond the file: %s", err);
	tap_ok(&t, !multiboot_probe((const uint8_t *)"no header here", 14) &&
		       multiboot_load(&gm, (const uint8_t *)"x", 1, NULL, NULL, 0, &e, err,
				      sizeof(err)) == -ENOEXEC,
	       "no header: %s", err);
	guest_mem_destroy(&gm);
	return tap_done(&t);
}
