/* The Linux boot protocol loader on synthetic bzImages: the setup header
 * copied into boot_params and the loader's fields filled, the e820 map
 * for small and for more-than-4-GiB guests, initrd placement, command
 * line truncation, the entry state, and hostile headers refused with a
 * reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"
#include "vmm/linux_boot.h"

#define SETUP_LEN ((4 + 1) * 512)
#define PM_LEN 0x3000
#define IMG_LEN (SETUP_LEN + PM_LEN)
#define MiB (1ull << 20)

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void wr64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t rd(const struct guest_mem *gm, uint64_t a, unsigned n)
{
	uint64_t v = 0;
	if (guest_mem_read(gm, a, &v, n) < 0)
		return 0xdeadbeefdeadbeefull;
	return v;
}

/* A protocol 2.15 bzImage like Debian's i386 kernels: 4 setup sectors, a
 * relocatable kernel aligned to 2 MiB preferring 16 MiB and needing
 * 8 MiB from there, 12 KiB of protected-mode "kernel". */
static void make_bzimage(uint8_t *img)
{
	memset(img, 0, IMG_LEN);
	img[0x1f1] = 4;                       /* setup_sects */
	wr32(img + 0x1f4, PM_LEN / 16);       /* syssize */
	wr16(img + 0x1fa, 0xffff);            /* vid_mode: normal */
	wr16(img + 0x1fc, 0x0801);            /* root_dev */
	wr16(img + 0x1fe, 0xaa55);            /* boot_flag */
	img[0x200] = 0xeb;                    /* jmp to 0x202 + 0x6a */
	img[0x201] = 0x6a;
	memcpy(img + 0x202, "HdrS", 4);
	wr16(img + 0x206, 0x020f);            /* version 2.15 */
	wr16(img + 0x20e, 0x1234);            /* kernel_version */
	img[0x211] = 0x01 | 0x20 | 0x40;      /* LOADED_HIGH, QUIET, KEEP_SEGMENTS */
	wr32(img + 0x214, 0x100000);          /* code32_start */
	wr32(img + 0x22c, 0x7fffffff);        /* initrd_addr_max */
	wr32(img + 0x230, 0x200000);          /* kernel_alignment */
	img[0x234] = 1;                       /* relocatable_kernel */
	wr32(img + 0x238, 2047);              /* cmdline_size */
	wr64(img + 0x250, 0x12345678);        /* setup_data: loader-owned */
	wr64(img + 0x258, 0x1000000);         /* pref_address */
	wr32(img + 0x260, 0x800000);          /* init_size */
	memset(img + 0x26c, 0x77, 0x290 - 0x26c); /* past the header */
	for (size_t i = 0; i < PM_LEN; i++)
		img[SETUP_LEN + i] = (uint8_t)(i * 7 + 1);
}

struct e820 {
	uint64_t start, len;
	uint32_t type;
};

static size_t read_e820(const struct guest_mem *gm, struct e820 *m, size_t max)
{
	size_t n = (size_t)rd(gm, LINUX_BOOT_PARAMS_ADDR + 0x1e8, 1);
	for (size_t i = 0; i < n && i < max; i++) {
		uint64_t a = LINUX_BOOT_PARAMS_ADDR + 0x2d0 + 20 * i;
		m[i].start = rd(gm, a, 8);
		m[i].len = rd(gm, a + 8, 8);
		m[i].type = (uint32_t)rd(gm, a + 16, 4);
	}
	return n;
}

static int e820_is(const struct e820 *m, size_t n, const struct e820 *want, size_t nw)
{
	if (n != nw)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (m[i].start != want[i].start || m[i].len != want[i].len ||
		    m[i].type != want[i].type)
			return 0;
		if (i && m[i - 1].start + m[i - 1].len > m[i].start)
			return 0;
	}
	return 1;
}

static int refused(const struct guest_mem *gm, const uint8_t *img, size_t len, int code,
		   char *err, size_t errlen)
{
	struct linux_entry e;
	int r;
	err[0] = 0;
	r = linux_boot_load(gm, img, len, NULL, 0, "", &e, err, errlen);
	return (code ? r == code : r < 0) && err[0];
}

int main(void)
{
	struct tap t = {0};
	struct guest_mem gm, big;
	struct linux_entry e;
	struct x86_state s;
	struct e820 m[16];
	char err[256];
	static uint8_t img[IMG_LEN];
	static uint8_t initrd[0x2345];
	uint8_t *huge;
	uint64_t bp = LINUX_BOOT_PARAMS_ADDR, ri, rs;
	size_t n;
	int ok;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0xa5);
	if (guest_mem_create(&gm, 64 * MiB) < 0)
		return 1;
	make_bzimage(img);
	tap_ok(&t, linux_boot_probe(img, IMG_LEN), "probe finds HdrS");
	tap_ok(&t, !linux_boot_probe(img, 0x207) && !linux_boot_probe((const uint8_t *)"MZ", 2),
	       "probe refuses short files");
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN, initrd, sizeof(initrd), "console=ttyS0",
				   &e, err, sizeof(err)) == 0, "loads a 2.15 bzImage (%s)", err);
	tap_ok(&t, e.eip == 0x100000 && e.esi == bp, "entry at 1 MiB, ESI on boot_params");
	tap_ok(&t, !memcmp(gm.host + 0x100000, img + SETUP_LEN, PM_LEN),
	       "protected-mode kernel at 1 MiB, without the setup");

	/* The header as the file has it... */
	tap_ok(&t, rd(&gm, bp + 0x1f1, 1) == 4 && rd(&gm, bp + 0x1f4, 4) == PM_LEN / 16 &&
		       rd(&gm, bp + 0x1fa, 2) == 0xffff && rd(&gm, bp + 0x1fc, 2) == 0x0801 &&
		       rd(&gm, bp + 0x1fe, 2) == 0xaa55 && rd(&gm, bp + 0x202, 4) == 0x53726448 &&
		       rd(&gm, bp + 0x206, 2) == 0x20f && rd(&gm, bp + 0x20e, 2) == 0x1234 &&
		       rd(&gm, bp + 0x22c, 4) == 0x7fffffff && rd(&gm, bp + 0x238, 4) == 2047 &&
		       rd(&gm, bp + 0x260, 4) == 0x800000,
	       "setup header copied");
	tap_ok(&t, rd(&gm, bp + 0x26c, 8) == 0 && rd(&gm, bp + 0x1ef, 2) == 0 &&
		       rd(&gm, bp + 0x0f, 1) == 0,
	       "nothing past the header's end; sentinel and orig_video_isVGA zero");
	/* ... and the loader's fields filled. */
	tap_ok(&t, rd(&gm, bp + 0x210, 1) == 0xff, "type_of_loader 0xff");
	tap_ok(&t, rd(&gm, bp + 0x211, 1) == 0x81 && rd(&gm, bp + 0x224, 2) == 0xde00,
	       "loadflags LOADED_HIGH | CAN_USE_HEAP with heap_end_ptr (%#llx)",
	       (unsigned long long)rd(&gm, bp + 0x211, 1));
	tap_ok(&t, rd(&gm, bp + 0x214, 4) == 0x100000 && rd(&gm, bp + 0x250, 8) == 0,
	       "code32_start, setup_data cleared");
	tap_ok(&t, rd(&gm, bp + 0x228, 4) == LINUX_CMDLINE_ADDR &&
		       !strcmp((char *)gm.host + LINUX_CMDLINE_ADDR, "console=ttyS0"),
	       "command line below 640 KiB");
	ri = rd(&gm, bp + 0x218, 4);
	rs = rd(&gm, bp + 0x21c, 4);
	tap_ok(&t, rs == sizeof(initrd) && (ri & 0xfff) == 0 && ri + rs <= 64 * MiB &&
		       ri + rs > 64 * MiB - 0x1000 && ri >= 0x1000000 + 0x800000 &&
		       !memcmp(gm.host + ri, initrd, sizeof(initrd)),
	       "initrd page aligned at the top of RAM, above pref_address + init_size (%#llx)",
	       (unsigned long long)ri);
	n = read_e820(&gm, m, 16);
	{
		const struct e820 want[] = {
			{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xc0000, 0x30000, 1},
			{0xf0000, 0x10000, 2}, {0x100000, 63 * MiB, 1},
		};
		tap_ok(&t, e820_is(m, n, want, 5),
		       "e820 for 64 MiB: RAM, EBDA and BIOS reserved, ordered (%zu entries)", n);
	}
	tap_ok(&t, rd(&gm, bp + 0x1e0, 4) == 63 * 1024, "alt_mem_k");

	/* The entry state. */
	memset(&s, 0, sizeof(s));
	s.gpr[R_BX] = s.gpr[R_BP] = s.gpr[R_DI] = 0x55;
	s.rflags = FL_FIXED1 | FL_IF;
	linux_boot_entry_state(&e, &s);
	tap_ok(&t, s.seg[S_CS].selector == 0x10 && s.seg[S_DS].selector == 0x18 &&
		       s.seg[S_ES].selector == 0x18 && s.seg[S_SS].selector == 0x18 &&
		       s.seg[S_CS].limit == 0xffffffff && s.seg[S_DS].base == 0 &&
		       (s.seg[S_CS].ar & AR_TYPE_CODE) && (s.seg[S_CS].ar & AR_DB) &&
		       !(s.seg[S_DS].ar & AR_TYPE_CODE),
	       "flat __BOOT_CS / __BOOT_DS");
	tap_ok(&t, (s.cr0 & CR0_PE) && !(s.cr0 & CR0_PG) && !(s.rflags & FL_IF) &&
		       s.rip == 0x100000 && s.gpr[R_SI] == bp && s.gpr[R_BX] == 0 &&
		       s.gpr[R_BP] == 0 && s.gpr[R_DI] == 0,
	       "protected mode, paging and interrupts off, ESI, EBX = EBP = EDI = 0");
	tap_ok(&t, s.gdtr.limit == 31 && rd(&gm, s.gdtr.base + 0x10, 8) == 0x00cf9b000000ffffull &&
		       rd(&gm, s.gdtr.base + 0x18, 8) == 0x00cf93000000ffffull,
	       "GDTR on a GDT whose 0x10 / 0x18 are flat code / data, so a reload works");

	/* A command line longer than cmdline_size is refused, not cut. */
	make_bzimage(img);
	wr32(img + 0x238, 7);
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN, NULL, 0, "console=ttyS0", &e, err,
				   sizeof(err)) == -E2BIG && strstr(err, "at most 7"),
	       "command line longer than cmdline_size 7 refused: %s", err);
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN, NULL, 0, "console", &e, err,
				   sizeof(err)) == 0 &&
		       !strcmp((char *)gm.host + LINUX_CMDLINE_ADDR, "console") &&
		       rd(&gm, bp + 0x218, 4) == 0 && rd(&gm, bp + 0x21c, 4) == 0,
	       "one of exactly cmdline_size 7 loads; no initrd, no ramdisk fields");

	/* syssize rounded up past the file's end, as Debian ships some. */
	make_bzimage(img);
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN - 8, NULL, 0, "", &e, err,
				   sizeof(err)) == 0,
	       "a file ending 8 bytes before syssize's paragraphs loads (%s)", err);
	make_bzimage(img);
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN, NULL, 0, NULL, &e, err, sizeof(err)) == 0 &&
		       gm.host[LINUX_CMDLINE_ADDR] == 0,
	       "no command line: an empty one");

	/* initrd_addr_max decides where the initrd goes. */
	make_bzimage(img);
	wr32(img + 0x22c, 0x1ffffff);
	ok = linux_boot_load(&gm, img, IMG_LEN, initrd, sizeof(initrd), "", &e, err,
			     sizeof(err)) == 0;
	ri = rd(&gm, bp + 0x218, 4);
	tap_ok(&t, ok && ri + sizeof(initrd) <= 0x2000000 && ri + sizeof(initrd) > 0x2000000 - 0x1000 &&
		       ri >= 0x1800000,
	       "initrd below initrd_addr_max 32 MiB, above the kernel (%#llx)", (unsigned long long)ri);
	make_bzimage(img);
	wr32(img + 0x22c, 0x17fffff);
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN, initrd, sizeof(initrd), "", &e, err,
				   sizeof(err)) == -EFAULT,
	       "initrd_addr_max inside the kernel's init_size: %s", err);
	huge = calloc(1, 48 * MiB);
	make_bzimage(img);
	ok = huge && linux_boot_load(&gm, img, IMG_LEN, huge, 48 * MiB, "", &e, err,
				     sizeof(err)) == -EFAULT;
	tap_ok(&t, ok && e.ram_needed == 0x1800000 + 48 * MiB,
	       "initrd too big for RAM: %s (RAM that holds both: %#llx)", err,
	       (unsigned long long)e.ram_needed);
	free(huge);

	/* An old 2.06 header: no init_size, pref_address; still loads. */
	make_bzimage(img);
	wr16(img + 0x206, 0x0206);
	img[0x201] = 0x23c - 0x202;
	img[0x234] = 0;
	img[0x23c] = 5; /* hardware_subarch, past a 2.06 header */
	tap_ok(&t, linux_boot_load(&gm, img, IMG_LEN, initrd, sizeof(initrd), "", &e, err,
				   sizeof(err)) == 0 && rd(&gm, bp + 0x23c, 4) == 0,
	       "protocol 2.06 loads (%s)", err);

	/* Hostile headers. */
	make_bzimage(img);
	img[0x1f1] = 200;
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)), "setup_sects 200: %s", err);
	make_bzimage(img);
	tap_ok(&t, refused(&gm, img, SETUP_LEN - 100, -ENOEXEC, err, sizeof(err)),
	       "file shorter than its setup: %s", err);
	make_bzimage(img);
	img[0x1f1] = 0; /* means 4 */
	tap_ok(&t, refused(&gm, img, SETUP_LEN, -ENOEXEC, err, sizeof(err)),
	       "setup_sects 0 is 4, nothing after it: %s", err);
	make_bzimage(img);
	wr16(img + 0x206, 0x0204);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)), "protocol 2.04: %s", err);
	make_bzimage(img);
	wr32(img + 0x238, 0);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)), "cmdline_size 0: %s", err);
	make_bzimage(img);
	wr32(img + 0x1f4, PM_LEN / 16 + 1);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)),
	       "syssize a paragraph beyond the file: %s", err);
	make_bzimage(img);
	wr32(img + 0x248, 0x100);
	wr32(img + 0x24c, PM_LEN);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)),
	       "compressed payload beyond the file: %s", err);
	make_bzimage(img);
	img[0x236] = 0x01 | 0x02;
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)) && strstr(err, "64-bit"),
	       "a 64-bit kernel is named as such: %s", err);
	make_bzimage(img);
	img[0x201] = 0xff;
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)),
	       "header running into the EDD buffer: %s", err);
	make_bzimage(img);
	img[0x201] = 0x30;
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)),
	       "header too short for its version: %s", err);
	make_bzimage(img);
	img[0x211] = 0;
	tap_ok(&t, refused(&gm, img, IMG_LEN, -EINVAL, err, sizeof(err)), "zImage: %s", err);
	make_bzimage(img);
	wr16(img + 0x1fe, 0);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)), "no boot_flag: %s", err);
	make_bzimage(img);
	wr32(img + 0x230, 0x3000);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -ENOEXEC, err, sizeof(err)),
	       "kernel_alignment not a power of two: %s", err);
	make_bzimage(img);
	wr32(img + 0x260, 0xf0000000);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -EFAULT, err, sizeof(err)), "init_size beyond RAM: %s", err);
	make_bzimage(img);
	wr64(img + 0x258, 0xfffffffffffff000ull);
	tap_ok(&t, refused(&gm, img, IMG_LEN, -EFAULT, err, sizeof(err)),
	       "pref_address beyond RAM: %s", err);
	tap_ok(&t, refused(&gm, (const uint8_t *)"not a kernel, just some bytes here", 34, -ENOEXEC,
			   err, sizeof(err)), "no header: %s", err);
	guest_mem_destroy(&gm);

	/* More than 4 GiB: RAM up to the PCI hole, the rest above 4 GiB. */
	if (guest_mem_create(&big, GM_4G + 512 * MiB) < 0) {
		tap_diag("cannot create 4.5 GiB of guest RAM; skipping");
		return tap_done(&t);
	}
	make_bzimage(img);
	tap_ok(&t, linux_boot_load(&big, img, IMG_LEN, initrd, sizeof(initrd), "", &e, err,
				   sizeof(err)) == 0, "loads with 4.5 GiB (%s)", err);
	n = read_e820(&big, m, 16);
	{
		const struct e820 want[] = {
			{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0xc0000, 0x30000, 1},
			{0xf0000, 0x10000, 2}, {0x100000, GM_PCI_HOLE - 0x100000, 1},
			{GM_4G, GM_4G + 512 * MiB - GM_PCI_HOLE, 1},
		};
		tap_ok(&t, e820_is(m, n, want, 6),
		       "e820 for 4.5 GiB: the hole left out, RAM above 4 GiB (%zu entries)", n);
	}
	ri = rd(&big, bp + 0x218, 4);
	tap_ok(&t, ri + sizeof(initrd) <= 0x80000000ull && ri + sizeof(initrd) > 0x80000000ull - 0x1000 &&
		       !memcmp(big.host + ri, initrd, sizeof(initrd)),
	       "initrd just under initrd_addr_max 2 GiB (%#llx)", (unsigned long long)ri);
	guest_mem_destroy(&big);
	return tap_done(&t);
}
