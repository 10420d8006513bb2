/* Multiboot v1 loading (see multiboot.h). Every field of the image is
 * checked against the file and against guest RAM before anything is
 * copied: a malformed kernel gets a clear error, never a host access out
 * of bounds. */
#include "vmm/multiboot.h"
#include "vmm/loader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_SEARCH 8192

/* Header flags */
#define MBH_PAGE_ALIGN (1u << 0)
#define MBH_MEMORY_INFO (1u << 1)
#define MBH_VIDEO_MODE (1u << 2)
#define MBH_ADDRESS (1u << 16)

/* Info flags */
#define MBI_MEMORY (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

/* Where the loader puts what it builds: after the kernel, page aligned. */
#define INFO_SIZE 0x1000u

/* Offset of the header, or -1. */
static long find_header(const uint8_t *img, size_t len)
{
	for (size_t off = 0; off + 12 <= len && off < MB_SEARCH; off += 4) {
		uint32_t m = ld_rd32(img + off), f = ld_rd32(img + off + 4);
		uint32_t c = ld_rd32(img + off + 8);
		if (m == MB_HEADER_MAGIC && (uint32_t)(m + f + c) == 0)
			return (long)off;
	}
	return -1;
}

int multiboot_probe(const uint8_t *img, size_t len)
{
	return find_header(img, len) >= 0;
}

static int zero_fill(const struct guest_mem *gm, uint64_t paddr, uint64_t n,
		     char *err, size_t errlen)
{
	void *p = n ? guest_mem_ptr(gm, paddr, n) : NULL;
	if (n && !p)
		return ld_fail(err, errlen, -EFAULT, "bss at %#llx (%llu bytes) is not inside guest RAM",
			    (unsigned long long)paddr, (unsigned long long)n);
	if (p)
		memset(p, 0, n);
	return 0;
}

/* ELF32 executable: PT_LOAD segments at their physical addresses. */
static int load_elf(const struct guest_mem *gm, const uint8_t *img, size_t len,
		    uint32_t *entry, uint64_t *end, char *err, size_t errlen)
{
	uint32_t phoff, phnum, phentsize;
	int r;

	if (len < 52 || img[4] != 1 /* ELFCLASS32 */ || img[5] != 1 /* LSB */ ||
	    ld_rd16(img + 18) != 3 /* EM_386 */)
		return ld_fail(err, errlen, -ENOEXEC, "not a 32-bit x86 ELF kernel");
	*entry = ld_rd32(img + 24);
	phoff = ld_rd32(img + 28);
	phentsize = ld_rd16(img + 42);
	phnum = ld_rd16(img + 44);
	if (phentsize < 32 || phnum == 0 || phoff > len ||
	    (uint64_t)phnum * phentsize > len - phoff)
		return ld_fail(err, errlen, -ENOEXEC, "ELF program headers outside the file");
	*end = 0;
	for (uint32_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
		uint32_t type = ld_rd32(ph), off = ld_rd32(ph + 4), paddr = ld_rd32(ph + 12);
		uint32_t filesz = ld_rd32(ph + 16), memsz = ld_rd32(ph + 20);
		if (type != 1 /* PT_LOAD */ || memsz == 0)
			continue;
		if (filesz > memsz || off > len || filesz > len - off)
			return ld_fail(err, errlen, -ENOEXEC, "ELF segment %u outside the file", i);
		r = ld_copy_in(gm, paddr, img + off, filesz, err, errlen, "ELF segment");
		if (!r)
			r = zero_fill(gm, (uint64_t)paddr + filesz, memsz - filesz, err, errlen);
		if (r)
			return r;
		if ((uint64_t)paddr + memsz > *end)
			*end = (uint64_t)paddr + memsz;
	}
	if (*end == 0)
		return ld_fail(err, errlen, -ENOEXEC, "ELF kernel with nothing to load");
	return 0;
}

/* The header's address fields (flag 16): the file from header_addr -
 * load_addr bytes before the header, up to load_end_addr, then bss. */
static int load_aout(const struct guest_mem *gm, const uint8_t *img, size_t len,
		     long hoff, uint32_t *entry, uint64_t *end, char *err,
		     size_t errlen)
{
	const uint8_t *h = img + hoff;
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t file_start, n;
	int r;

	if ((size_t)hoff + 32 > len)
		return ld_fail(err, errlen, -ENOEXEC, "Multiboot header truncated");
	header_addr = ld_rd32(h + 12);
	load_addr = ld_rd32(h + 16);
	load_end = ld_rd32(h + 20);
	bss_end = ld_rd32(h + 24);
	*entry = ld_rd32(h + 28);
	if (header_addr < load_addr || header_addr - load_addr > (uint64_t)hoff)
		return ld_fail(err, errlen, -ENOEXEC, "Multiboot header_addr below load_addr");
	file_start = (uint64_t)hoff - (header_addr - load_addr);
	n = load_end ? (uint64_t)load_end - load_addr : len - file_start;
	if (load_end && load_end < load_addr)
		return ld_fail(err, errlen, -ENOEXEC, "Multiboot load_end_addr below load_addr");
	if (n > len - file_start)
		return ld_fail(err, errlen, -ENOEXEC, "Multiboot image shorter than its load range");
	r = ld_copy_in(gm, load_addr, img + file_start, n, err, errlen, "kernel image");
	if (r)
		return r;
	*end = (uint64_t)load_addr + n;
	if (bss_end) {
		if (bss_end < *end)
			return ld_fail(err, errlen, -ENOEXEC, "Multiboot bss_end_addr below the image end");
		r = zero_fill(gm, *end, bss_end - *end, err, errlen);
		if (r)
			return r;
		*end = bss_end;
	}
	return 0;
}

int multiboot_load(const struct guest_mem *gm, const uint8_t *img, size_t len,
		   const char *cmdline, const struct mb_module *mods,
		   size_t n_mods, struct mb_entry *out, char *err, size_t errlen)
{
	long hoff = find_header(img, len);
	uint32_t hflags, entry = 0;
	uint64_t end = 0, info, next;
	uint8_t mbi[INFO_SIZE];
	uint32_t flags = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;
	struct gm_range ranges[4];
	size_t nr, pos;
	int r;

	if (hoff < 0)
		return ld_fail(err, errlen, -ENOEXEC, "no Multiboot header in the first 8 KiB");
	hflags = ld_rd32(img + hoff + 4);
	if (hflags & MBH_VIDEO_MODE)
		return ld_fail(err, errlen, -EINVAL, "Multiboot kernel asks for a video mode");
	if (hflags & 0xfff8u & ~MBH_ADDRESS)
		return ld_fail(err, errlen, -EINVAL, "Multiboot header requires unknown features %#x",
			    hflags & 0xfffcu);
	if (n_mods > 16)
		return ld_fail(err, errlen, -EINVAL, "at most 16 modules");
	if (hflags & MBH_ADDRESS)
		r = load_aout(gm, img, len, hoff, &entry, &end, err, errlen);
	else
		r = load_elf(gm, img, len, &entry, &end, err, errlen);
	if (r)
		return r;

	/* Modules after the kernel, page aligned (flag 0 asks for it). */
	next = (end + 0xfff) & ~0xfffull;
	memset(mbi, 0, sizeof(mbi));
	pos = 88; /* the fixed part of the information structure */
	{
		uint64_t mods_at = pos;
		pos += 16 * n_mods;
		for (size_t i = 0; i < n_mods; i++) {
			uint8_t *m = mbi + mods_at + 16 * i;
			uint32_t start = (uint32_t)next, mend = (uint32_t)(next + mods[i].len);
			r = ld_copy_in(gm, next, mods[i].data, mods[i].len, err, errlen, "module");
			if (r)
				return r;
			next = (next + mods[i].len + 0xfff) & ~0xfffull;
			memcpy(m, &start, 4);
			memcpy(m + 4, &mend, 4);
			if (mods[i].cmdline) {
				size_t l = strlen(mods[i].cmdline) + 1;
				uint32_t at;
				if (pos + l > INFO_SIZE)
					return ld_fail(err, errlen, -EINVAL, "module command lines too long");
				memcpy(mbi + pos, mods[i].cmdline, l);
				at = (uint32_t)pos; /* made absolute below */
				memcpy(m + 8, &at, 4);
				pos += l;
			}
		}
		if (n_mods) {
			uint32_t cnt = (uint32_t)n_mods, addr = (uint32_t)mods_at;
			flags |= MBI_MODS;
			memcpy(mbi + 20, &cnt, 4);
			memcpy(mbi + 24, &addr, 4);
		}
	}
	info = next;
	if (info + INFO_SIZE > GM_PCI_HOLE || !guest_mem_ptr(gm, info, INFO_SIZE))
		return ld_fail(err, errlen, -EFAULT, "no room in RAM for the Multiboot information");

	/* Relocate the offsets recorded so far to absolute addresses. */
	if (n_mods) {
		uint32_t a = ld_rd32(mbi + 24) + (uint32_t)info;
		memcpy(mbi + 24, &a, 4);
		for (size_t i = 0; i < n_mods; i++) {
			uint8_t *m = mbi + 88 + 16 * i;
			uint32_t c = ld_rd32(m + 8);
			if (c) {
				c += (uint32_t)info;
				memcpy(m + 8, &c, 4);
			}
		}
	}
	/* mem_lower / mem_upper in KiB: below 640 KiB, and contiguous from
	 * 1 MiB. */
	nr = guest_mem_ranges(gm, ranges, 4);
	{
		uint32_t lower = 640, upper = (uint32_t)((gm->low_end - 0x100000) >> 10);
		memcpy(mbi + 4, &lower, 4);
		memcpy(mbi + 8, &upper, 4);
	}
	{
		const char *cl = cmdline ? cmdline : "";
		size_t l = strlen(cl) + 1;
		uint32_t at;
		if (pos + l > INFO_SIZE)
			return ld_fail(err, errlen, -EINVAL, "command line too long");
		memcpy(mbi + pos, cl, l);
		at = (uint32_t)(info + pos);
		memcpy(mbi + 16, &at, 4);
		pos += l;
	}
	{
		static const char name[] = "v2e";
		uint32_t at = (uint32_t)(info + pos);
		if (pos + sizeof(name) > INFO_SIZE)
			return ld_fail(err, errlen, -EINVAL, "command line too long");
		memcpy(mbi + pos, name, sizeof(name));
		memcpy(mbi + 64, &at, 4);
		pos += sizeof(name);
	}
	/* The memory map: each entry is size (20), base, length, type. */
	pos = (pos + 3) & ~(size_t)3;
	{
		uint32_t map_at = (uint32_t)(info + pos), map_len;
		size_t start = pos;
		for (size_t i = 0; i < nr; i++) {
			uint32_t sz = 20, type = 1;
			if (pos + 24 > INFO_SIZE)
				break;
			memcpy(mbi + pos, &sz, 4);
			memcpy(mbi + pos + 4, &ranges[i].start, 8);
			memcpy(mbi + pos + 12, &ranges[i].len, 8);
			memcpy(mbi + pos + 20, &type, 4);
			pos += 24;
		}
		map_len = (uint32_t)(pos - start);
		memcpy(mbi + 44, &map_len, 4);
		memcpy(mbi + 48, &map_at, 4);
	}
	memcpy(mbi, &flags, 4);
	r = ld_copy_in(gm, info, mbi, INFO_SIZE, err, errlen, "Multiboot information");
	if (r)
		return r;
	out->eip = entry;
	out->eax = MB_BOOTLOADER_MAGIC;
	out->ebx = (uint32_t)info;
	return 0;
}

void multiboot_entry_state(const struct mb_entry *e, struct x86_state *s)
{
	ld_flat_segments(s, 0x08, 0x10);
	s->cr0 = CR0_PE | CR0_ET;
	s->rflags = FL_FIXED1;
	s->rip = e->eip;
	s->gpr[R_AX] = e->eax;
	s->gpr[R_BX] = e->ebx;
}
