/* fw_cfg: the traditional interface and the DMA interface through the
 * ports as the board claims them, the item store and its file directory,
 * hostile descriptors against a fake guest RAM, and the PC items
 * (RAM, CPUs, e820, a synthetic bzImage with initrd and command line, a
 * flat Multiboot-style kernel). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mem/region.h"
#include "dm/hw/fw_cfg.h"
#include "dm/hw/fw_cfg_pc.h"
#include "tests/tap.h"

/* Guest RAM: 1 MiB with a hole at the VGA window, as a PC has. */
#define RAM_SIZE 0x100000u
#define HOLE_START 0xa0000u
#define HOLE_END 0xc0000u

struct ram {
	uint8_t *mem;
	unsigned reads, writes, refused;
};

static int ram_ok(uint64_t gpa, size_t n)
{
	if (n == 0)
		return 1;
	if (gpa >= RAM_SIZE || n > RAM_SIZE - gpa)
		return 0;
	return gpa + n <= HOLE_START || gpa >= HOLE_END;
}

static int ram_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct ram *r = opaque;
	if (!ram_ok(gpa, n)) {
		r->refused++;
		return -EFAULT;
	}
	r->reads++;
	memcpy(buf, r->mem + gpa, n);
	return 0;
}

static int ram_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct ram *r = opaque;
	if (!ram_ok(gpa, n)) {
		r->refused++;
		return -EFAULT;
	}
	r->writes++;
	memcpy(r->mem + gpa, buf, n);
	return 0;
}

struct rig {
	struct ram ram;
	struct dma_space dma;
	struct fw_cfg fw;
	struct region_map ports;
	uint8_t *snap;
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->ram.mem = calloc(1, RAM_SIZE);
	g->snap = calloc(1, RAM_SIZE);
	g->dma = (struct dma_space){ram_read, ram_write, &g->ram};
	if (!g->ram.mem || !g->snap || fw_cfg_init(&g->fw, &g->dma))
		abort();
	if (region_map_init(&g->ports, "port", 0x10000) < 0 ||
	    region_claim(&g->ports, FW_CFG_IO_BASE, FW_CFG_IO_LEN,
			  &fw_cfg_io_ops, &g->fw, "fw_cfg") ||
	    region_claim(&g->ports, FW_CFG_DMA_BASE, FW_CFG_DMA_LEN,
			  &fw_cfg_dma_ops, &g->fw, "fw_cfg-dma"))
		abort();
}

static void rig_destroy(struct rig *g)
{
	region_map_destroy(&g->ports);
	fw_cfg_destroy(&g->fw);
	free(g->ram.mem);
	free(g->snap);
}

static void snapshot(struct rig *g)
{
	memcpy(g->snap, g->ram.mem, RAM_SIZE);
}

/* Bytes of RAM that differ from the snapshot. */
static size_t changed(const struct rig *g)
{
	size_t n = 0;
	for (size_t i = 0; i < RAM_SIZE; i++)
		n += g->ram.mem[i] != g->snap[i];
	return n;
}

static void sel(struct rig *g, uint16_t key)
{
	region_write(&g->ports, FW_CFG_IO_BASE, 2, key);
}

static uint8_t rd(struct rig *g)
{
	return (uint8_t)region_read(&g->ports, FW_CFG_IO_BASE + 1, 1);
}

static void rdn(struct rig *g, void *buf, size_t n)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < n; i++)
		p[i] = rd(g);
}

static void read_item(struct rig *g, uint16_t key, void *buf, size_t n)
{
	sel(g, key);
	rdn(g, buf, n);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t read_int(struct rig *g, uint16_t key, unsigned n)
{
	uint8_t b[8] = {0};
	read_item(g, key, b, n);
	return le(b, n);
}

static void desc_put(struct rig *g, uint64_t desc, uint32_t control,
		     uint32_t len, uint64_t addr)
{
	uint8_t d[16];
	put_be(d, control, 4);
	put_be(d + 4, len, 4);
	put_be(d + 8, addr, 8);
	if (ram_ok(desc, 16))
		memcpy(g->ram.mem + desc, d, 16);
}

/* Starts the transfer at `desc` with one 32-bit write of the low half,
 * as SeaBIOS does (the high half first when there is one), and returns
 * the control word found there afterwards. */
static uint32_t dma_go(struct rig *g, uint64_t desc)
{
	if (desc >> 32)
		region_write(&g->ports, FW_CFG_DMA_BASE, 4,
			      __builtin_bswap32((uint32_t)(desc >> 32)));
	region_write(&g->ports, FW_CFG_DMA_BASE + 4, 4,
		      __builtin_bswap32((uint32_t)desc));
	return ram_ok(desc, 4) ? (uint32_t)be(g->ram.mem + desc, 4) : 0xdeadbeef;
}

static uint32_t dma(struct rig *g, uint64_t desc, uint32_t control,
		    uint32_t len, uint64_t addr)
{
	desc_put(g, desc, control, len, addr);
	return dma_go(g, desc);
}

/* A transfer that must fail and copy nothing: ERROR in the control word
 * and no other byte of RAM changed. */
static int dma_refused(struct rig *g, uint64_t desc, uint32_t control,
		       uint32_t len, uint64_t addr)
{
	uint32_t c;

	desc_put(g, desc, control, len, addr);
	snapshot(g);
	c = dma_go(g, desc);
	memcpy(g->ram.mem + desc, g->snap + desc, 4);
	return c == FW_CFG_DMA_ERROR && changed(g) == 0;
}

/* The file directory as the guest reads it: the key of `name`, or 0. */
static uint16_t dir_lookup(struct rig *g, const char *name, uint32_t *size)
{
	uint8_t b[4], e[FW_CFG_DIR_ENTRY_LEN];
	uint32_t count;

	read_item(g, FW_CFG_FILE_DIR, b, 4);
	count = (uint32_t)be(b, 4);
	for (uint32_t i = 0; i < count; i++) {
		rdn(g, e, sizeof(e));
		if (!strncmp((char *)e + 8, name, FW_CFG_NAME_LEN)) {
			if (size)
				*size = (uint32_t)be(e, 4);
			return (uint16_t)be(e + 4, 2);
		}
	}
	return 0;
}

static void test_traditional(struct tap *t)
{
	struct rig g;
	uint8_t b[8];
	int ok;

	rig_init(&g);
	rdn(&g, b, 4);
	tap_ok(t, !memcmp(b, "QEMU", 4), "the signature is selected after init");
	read_item(&g, FW_CFG_SIGNATURE, b, 6);
	tap_ok(t, !memcmp(b, "QEMU\0\0", 6), "signature \"QEMU\", then zeros past the end");
	tap_ok(t, read_int(&g, FW_CFG_ID, 4) == (FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA),
	       "ID: traditional interface and DMA");
	read_item(&g, FW_CFG_SIGNATURE | FW_CFG_WRITE_CHANNEL, b, 4);
	tap_ok(t, !memcmp(b, "QEMU", 4), "the write-channel bit is ignored when selecting");
	tap_ok(t, region_read(&g.ports, FW_CFG_DMA_BASE, 4) == 0x554d4551 &&
	       region_read(&g.ports, FW_CFG_DMA_BASE + 4, 4) == 0x47464320,
	       "the DMA address register reads \"QEMU CFG\" in port order");
	tap_ok(t, region_read(&g.ports, FW_CFG_DMA_BASE, 8) == 0x47464320554d4551ull,
	       "and as one 64-bit read");
	tap_ok(t, region_read(&g.ports, FW_CFG_DMA_BASE, 2) == 0xffff &&
	       region_read(&g.ports, FW_CFG_DMA_BASE, 1) == 0xff,
	       "8- and 16-bit accesses to the DMA register are refused");

	tap_ok(t, fw_cfg_add_u16(&g.fw, FW_CFG_NB_CPUS, 0x1234) == 0 &&
	       fw_cfg_add_u32(&g.fw, FW_CFG_KERNEL_ADDR, 0xdeadbeef) == 0 &&
	       fw_cfg_add_u64(&g.fw, FW_CFG_RAM_SIZE, 0x123456789abcdef0ull) == 0 &&
	       fw_cfg_add_string(&g.fw, FW_CFG_CMDLINE_DATA, "hello") == 0 &&
	       fw_cfg_add_u32(&g.fw, FW_CFG_E820_TABLE, 7) == 0,
	       "numbered items register");
	tap_ok(t, read_int(&g, FW_CFG_NB_CPUS, 2) == 0x1234, "u16 item, little-endian");
	tap_ok(t, read_int(&g, FW_CFG_KERNEL_ADDR, 4) == 0xdeadbeef, "u32 item");
	tap_ok(t, read_int(&g, FW_CFG_RAM_SIZE, 8) == 0x123456789abcdef0ull, "u64 item");
	read_item(&g, FW_CFG_CMDLINE_DATA, b, 7);
	tap_ok(t, !memcmp(b, "hello\0\0", 7), "string item with its NUL, zeros after");
	tap_ok(t, read_int(&g, FW_CFG_E820_TABLE, 4) == 7, "architecture key (0x8003)");
	tap_ok(t, read_int(&g, FW_CFG_ARCH_LOCAL | FW_CFG_NB_CPUS, 2) == 0,
	       "the same index with bit 15 is another item (absent: zeros)");

	sel(&g, FW_CFG_KERNEL_ADDR);
	rdn(&g, b, 2);
	sel(&g, FW_CFG_KERNEL_ADDR);
	rdn(&g, b + 2, 4);
	tap_ok(t, b[0] == 0xef && b[1] == 0xbe && le(b + 2, 4) == 0xdeadbeef,
	       "selecting again sets the offset back to 0");
	sel(&g, FW_CFG_KERNEL_ADDR);
	ok = 1;
	for (int i = 0; i < 4; i++)
		ok &= rd(&g) == ((0xdeadbeefu >> (8 * i)) & 0xff);
	for (int i = 0; i < 1000; i++)
		ok &= rd(&g) == 0;
	tap_ok(t, ok, "reads past the end give 0, however many");
	sel(&g, FW_CFG_KERNEL_ADDR);
	tap_ok(t, (uint8_t)region_read(&g.ports, FW_CFG_IO_BASE, 1) == 0xef &&
	       region_read(&g.ports, FW_CFG_IO_BASE, 2) == 0xadbe,
	       "byte reads at the selector port and 16-bit reads also take data bytes");
	sel(&g, 0x3000);
	tap_ok(t, rd(&g) == 0 && rd(&g) == 0, "an absent key reads zeros");
	sel(&g, 0xffff);
	tap_ok(t, rd(&g) == 0, "key 0xffff reads zeros");

	sel(&g, FW_CFG_NB_CPUS);
	region_write(&g.ports, FW_CFG_IO_BASE + 1, 1, 0x55);
	region_write(&g.ports, FW_CFG_IO_BASE, 1, FW_CFG_SIGNATURE);
	tap_ok(t, rd(&g) == 0x34 && rd(&g) == 0x12 &&
	       read_int(&g, FW_CFG_NB_CPUS, 2) == 0x1234,
	       "byte writes change neither the item nor the selection");
	sel(&g, FW_CFG_SIGNATURE);
	region_write(&g.ports, FW_CFG_IO_BASE, 4, FW_CFG_NB_CPUS);
	tap_ok(t, g.fw.selector == FW_CFG_SIGNATURE && rd(&g) == 'Q',
	       "a 32-bit write is split into ignored bytes");

	sel(&g, FW_CFG_NB_CPUS);
	fw_cfg_reset(&g.fw);
	rdn(&g, b, 4);
	tap_ok(t, !memcmp(b, "QEMU", 4) && read_int(&g, FW_CFG_NB_CPUS, 2) == 0x1234,
	       "reset selects the signature and keeps the items");
	rig_destroy(&g);
}

static void test_store(struct tap *t)
{
	struct rig g;
	char name[128];
	const struct fw_cfg_item *it;
	uint8_t b[4];
	uint32_t size = 0;
	uint16_t key;
	int ok;

	rig_init(&g);
	tap_ok(t, fw_cfg_add_u32(&g.fw, FW_CFG_SIGNATURE, 1) == -EINVAL &&
	       fw_cfg_add_u32(&g.fw, FW_CFG_ID, 1) == -EINVAL &&
	       fw_cfg_add_u32(&g.fw, FW_CFG_FILE_DIR, 1) == -EINVAL,
	       "the device's own keys are refused");
	tap_ok(t, fw_cfg_add_u32(&g.fw, FW_CFG_FILE_FIRST, 1) == -EINVAL &&
	       fw_cfg_add_u32(&g.fw, 0x3fff, 1) == -EINVAL &&
	       fw_cfg_add_u32(&g.fw, FW_CFG_WRITE_CHANNEL | 5, 1) == -EINVAL,
	       "keys of the file range and of the write channel are refused");
	tap_ok(t, fw_cfg_add_u32(&g.fw, 0xbfff, 1) == 0 &&
	       fw_cfg_add_u32(&g.fw, 0xbfff, 2) == -EEXIST &&
	       read_int(&g, 0xbfff, 4) == 1,
	       "a key is registered once");

	tap_ok(t, fw_cfg_add_file(&g.fw, "etc/zz", "zz-data", 7, 0) == 0 &&
	       fw_cfg_add_file(&g.fw, "etc/aa", "aa", 2, 0) == 0 &&
	       fw_cfg_add_file(&g.fw, "bootorder", "/pci", 4, 0) == 0 &&
	       fw_cfg_add_file(&g.fw, "etc/mm", NULL, 0, 0) == 0,
	       "four files register");
	read_item(&g, FW_CFG_FILE_DIR, b, 4);
	tap_ok(t, be(b, 4) == 4, "the directory counts 4 files, big-endian");
	it = fw_cfg_find(&g.fw, FW_CFG_FILE_DIR);
	tap_ok(t, it && it->len == 4 + 4 * FW_CFG_DIR_ENTRY_LEN, "the directory is 4 + 4 * 64 bytes");
	ok = 1;
	{
		static const char *order[] = {"bootorder", "etc/aa", "etc/mm", "etc/zz"};
		static const uint32_t sizes[] = {4, 2, 0, 7};
		uint8_t e[FW_CFG_DIR_ENTRY_LEN];
		for (int i = 0; i < 4; i++) {
			rdn(&g, e, sizeof(e));
			ok &= be(e, 4) == sizes[i];
			ok &= be(e + 4, 2) == (uint64_t)(FW_CFG_FILE_FIRST + i);
			ok &= e[6] == 0 && e[7] == 0;
			ok &= !strcmp((char *)e + 8, order[i]);
			for (size_t k = 8 + strlen(order[i]); k < sizeof(e); k++)
				ok &= e[k] == 0;
		}
	}
	tap_ok(t, ok, "entries sorted by name from key 0x20: size, key, reserved, NUL-padded name");
	key = dir_lookup(&g, "etc/zz", &size);
	{
		char buf[9] = {0};
		read_item(&g, key, buf, 8);
		tap_ok(t, key == 0x23 && size == 7 && !strcmp(buf, "zz-data"),
		       "a file found by name in the directory reads its bytes");
	}
	tap_ok(t, dir_lookup(&g, "etc/nope", NULL) == 0, "an absent name is not in the directory");
	it = fw_cfg_find_file(&g.fw, "etc/aa");
	tap_ok(t, it && it->key == 0x21 && it->len == 2 && !fw_cfg_find_file(&g.fw, "etc/a"),
	       "fw_cfg_find_file");
	tap_ok(t, fw_cfg_add_file(&g.fw, "etc/aa", "x", 1, 0) == -EEXIST, "a name is registered once");
	tap_ok(t, fw_cfg_add_file(&g.fw, "", "x", 1, 0) == -EINVAL, "an empty name is refused");
	memset(name, 'n', sizeof(name));
	name[FW_CFG_NAME_LEN] = 0;
	tap_ok(t, fw_cfg_add_file(&g.fw, name, "x", 1, 0) == -EINVAL,
	       "a 56-byte name (no room for its NUL) is refused");
	name[FW_CFG_NAME_LEN - 1] = 0;
	tap_ok(t, fw_cfg_add_file(&g.fw, name, "x", 1, 0) == 0 &&
	       dir_lookup(&g, name, NULL) == 0x24, "a 55-byte name fits");

	tap_ok(t, read_int(&g, 0x20, 1) == '/', "key 0x20 is bootorder");
	tap_ok(t, fw_cfg_add_file(&g.fw, "a-first", "A", 1, 0) == 0 &&
	       dir_lookup(&g, "bootorder", NULL) == 0x21 &&
	       read_int(&g, 0x20, 1) == 'A', "an earlier name takes key 0x20, the rest move up");

	g.fw.max_bytes = g.fw.bytes + 100;
	tap_ok(t, fw_cfg_add_bytes(&g.fw, 0x8100, name, 101, 0) == -E2BIG &&
	       fw_cfg_add_bytes(&g.fw, 0x8100, name, 100, 0) == 0 &&
	       fw_cfg_add_bytes(&g.fw, 0x8101, name, 1, 0) == -E2BIG,
	       "the store is bounded");
	tap_ok(t, fw_cfg_add_file(&g.fw, "etc/more", NULL, 0, 0) == -E2BIG &&
	       !fw_cfg_find_file(&g.fw, "etc/more"),
	       "a file whose directory entry would pass the bound is refused whole");
	g.fw.max_bytes = FW_CFG_MAX_BYTES;
	tap_ok(t, fw_cfg_add_bytes(&g.fw, 0x8102, name, (size_t)UINT32_MAX + 1, 0) == -EINVAL,
	       "an item over 32 bits is refused");
	rig_destroy(&g);
}

static void test_dma(struct tap *t)
{
	struct rig g;
	uint8_t item[300];
	const struct fw_cfg_item *it;
	uint16_t key, wkey;
	uint32_t c;
	int ok;

	rig_init(&g);
	for (size_t i = 0; i < sizeof(item); i++)
		item[i] = (uint8_t)(i * 7 + 1);
	if (fw_cfg_add_file(&g.fw, "etc/blob", item, sizeof(item), 0) ||
	    fw_cfg_add_file(&g.fw, "etc/rw", "0123456789abcdef", 16, FW_CFG_WRITABLE))
		abort();
	key = dir_lookup(&g, "etc/blob", NULL);
	wkey = dir_lookup(&g, "etc/rw", NULL);

	snapshot(&g);
	c = dma(&g, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
		100, 0x2000);
	tap_ok(t, c == 0 && !memcmp(g.ram.mem + 0x2000, item, 100) &&
	       g.ram.mem[0x2000 + 100] == 0, "SELECT+READ copies the item's first bytes, control 0");
	tap_ok(t, g.fw.dma_addr == 0, "the address register is 0 after the transfer");
	c = dma(&g, 0x1000, FW_CFG_DMA_READ, 50, 0x3000);
	tap_ok(t, c == 0 && !memcmp(g.ram.mem + 0x3000, item + 100, 50),
	       "READ without SELECT continues at the offset");
	tap_ok(t, rd(&g) == item[150], "the traditional interface shares the offset");
	c = dma(&g, 0x1000, FW_CFG_DMA_SKIP, 48, 0);
	tap_ok(t, c == 0 && rd(&g) == item[199], "SKIP advances the offset");
	memset(g.ram.mem + 0x4000, 0xaa, 0x200);
	c = dma(&g, 0x1000, FW_CFG_DMA_READ, 0x180, 0x4000);
	ok = !memcmp(g.ram.mem + 0x4000, item + 200, 100);
	for (int i = 100; i < 0x180; i++)
		ok &= g.ram.mem[0x4000 + i] == 0;
	ok &= g.ram.mem[0x4000 + 0x180] == 0xaa;
	tap_ok(t, c == 0 && ok, "READ past the end fills with zeros, and only up to the length");
	c = dma(&g, 0x1000, FW_CFG_DMA_SELECT | (uint32_t)FW_CFG_SIGNATURE << 16, 1000, 0x5000);
	tap_ok(t, c == 0 && rd(&g) == 'Q', "SELECT alone selects, offset 0, nothing copied");
	c = dma(&g, 0x1000, 0, 1000, 0x5000);
	tap_ok(t, c == 0 && rd(&g) == 'E', "a control of 0 does nothing and succeeds");
	c = dma(&g, 0x1000, FW_CFG_DMA_ERROR | FW_CFG_DMA_SKIP, 1, 0);
	tap_ok(t, c == 0 && rd(&g) == 'U', "an ERROR bit set by the guest is ignored");

	/* WRITE */
	memcpy(g.ram.mem + 0x6000, "WXYZ", 4);
	c = dma(&g, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 4, 0x6000);
	it = fw_cfg_find_file(&g.fw, "etc/blob");
	tap_ok(t, c == FW_CFG_DMA_ERROR && !memcmp(it->data, item, sizeof(item)),
	       "WRITE to a read-only item: ERROR, the item unchanged");
	c = dma(&g, 0x1000, (uint32_t)wkey << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_SKIP, 2, 0);
	c |= dma(&g, 0x1000, FW_CFG_DMA_WRITE, 4, 0x6000);
	it = fw_cfg_find_file(&g.fw, "etc/rw");
	tap_ok(t, c == 0 && !memcmp(it->data, "01WXYZ6789abcdef", 16),
	       "WRITE into a writable item at the offset");
	tap_ok(t, rd(&g) == '6', "WRITE advances the offset");
	c = dma(&g, 0x1000, FW_CFG_DMA_WRITE, 10, 0x6000);
	tap_ok(t, c == FW_CFG_DMA_ERROR && !memcmp(it->data, "01WXYZ6789abcdef", 16),
	       "WRITE past the item's end: ERROR, nothing written");
	c = dma(&g, 0x1000, FW_CFG_DMA_WRITE, 9, 0x6000);
	tap_ok(t, c == 0 && !memcmp(it->data + 7, "WXYZ", 4), "WRITE up to the end exactly");
	c = dma(&g, 0x1000, (uint32_t)wkey << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE,
		0xffffffffu, 0x6000);
	tap_ok(t, c == FW_CFG_DMA_ERROR && !memcmp(it->data, "01WXYZ6WXYZ", 11),
	       "WRITE of 2^32-1 bytes: ERROR, nothing written");
	c = dma(&g, 0x1000, (uint32_t)wkey << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE,
		4, RAM_SIZE - 2);
	tap_ok(t, c == FW_CFG_DMA_ERROR && !memcmp(it->data, "01WX", 4) && rd(&g) == '0',
	       "WRITE from outside RAM: ERROR, item and offset unchanged");
	c = dma(&g, 0x1000, 0x3000u << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 4, 0x6000);
	tap_ok(t, c == FW_CFG_DMA_ERROR, "WRITE with no item selected: ERROR");
	c = dma(&g, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_WRITE, 0, 0x6000);
	tap_ok(t, c == 0, "a WRITE of 0 bytes succeeds even on a read-only item");
	c = dma(&g, 0x1000, (uint32_t)wkey << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ |
		FW_CFG_DMA_WRITE, 2, 0x6100);
	tap_ok(t, c == 0 && !memcmp(g.ram.mem + 0x6100, "01", 2) && !memcmp(it->data, "01", 2),
	       "READ takes priority over WRITE");

	/* Hostile descriptors and buffers. */
	sel(&g, FW_CFG_SIGNATURE);
	tap_ok(t, dma_refused(&g, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT |
			      FW_CFG_DMA_READ, 0x200, RAM_SIZE - 0x100),
	       "a buffer running past RAM: ERROR, nothing copied");
	tap_ok(t, rd(&g) == item[0], "and the offset did not move");
	tap_ok(t, dma_refused(&g, 0x1000, FW_CFG_DMA_READ, 0x100, HOLE_START - 0x80),
	       "a buffer over the RAM hole: ERROR, nothing copied");
	tap_ok(t, dma_refused(&g, 0x1000, FW_CFG_DMA_READ, 0x80, HOLE_END - 0x40),
	       "a buffer starting in the hole: ERROR, nothing copied");
	tap_ok(t, dma_refused(&g, 0x1000, FW_CFG_DMA_READ, 0x100, 0xffffffffffffff80ull),
	       "a buffer that wraps past 2^64: ERROR, nothing copied");
	tap_ok(t, dma_refused(&g, 0x1000, FW_CFG_DMA_READ, 0x10, 0x100000000ull),
	       "a buffer above 4 GiB (no RAM there): ERROR");
	g.ram.reads = g.ram.writes = 0;
	tap_ok(t, dma_refused(&g, 0x1000, FW_CFG_DMA_READ, 0xffffffffu, 0x8000),
	       "READ of 2^32-1 bytes: ERROR, nothing copied");
	tap_ok(t, g.ram.reads <= (HOLE_START - 0x8000) / 4096 + 1 && g.ram.writes == 1,
	       "and refused after a bounded number of checks (%u)", g.ram.reads);
	tap_ok(t, rd(&g) == item[1], "the offset did not move");
	c = dma(&g, 0x1000, FW_CFG_DMA_SKIP, 0xffffffffu, 0);
	tap_ok(t, c == 0 && rd(&g) == 0, "SKIP of 2^32-1 stops at the item's end");
	memset(g.ram.mem + 0x9000, 0xaa, 17);
	c = dma(&g, 0x1000, FW_CFG_DMA_READ, 16, 0x9000);
	ok = g.ram.mem[0x9000 + 16] == 0xaa;
	for (int i = 0; i < 16; i++)
		ok &= g.ram.mem[0x9000 + i] == 0;
	tap_ok(t, c == 0 && ok, "after it READ gives zeros");

	snapshot(&g);
	g.ram.writes = 0;
	dma(&g, RAM_SIZE + 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
	    16, 0x2000);
	tap_ok(t, changed(&g) == 0 && g.ram.writes == 0 && g.fw.dma_addr == 0,
	       "a descriptor outside RAM: nothing read or written");
	dma(&g, 0x1234567800001000ull, FW_CFG_DMA_READ, 16, 0x2000);
	tap_ok(t, changed(&g) == 0 && g.ram.writes == 0,
	       "a 64-bit descriptor address set by two 32-bit writes: outside RAM, nothing done");
	dma(&g, 0xfffffffffffffff8ull, FW_CFG_DMA_READ, 16, 0x2000);
	tap_ok(t, changed(&g) == 0 && g.ram.writes == 0, "a descriptor wrapping past 2^64: nothing done");
	memset(g.ram.mem + RAM_SIZE - 8, 0, 8);
	put_be(g.ram.mem + RAM_SIZE - 8, FW_CFG_DMA_READ, 4);
	region_write(&g.ports, FW_CFG_DMA_BASE + 4, 4, __builtin_bswap32(RAM_SIZE - 8));
	tap_ok(t, be(g.ram.mem + RAM_SIZE - 8, 4) == FW_CFG_DMA_ERROR,
	       "a descriptor running past RAM: ERROR in its control word");

	/* A descriptor that points at itself is read once: the copy over it
	 * does not change the transfer, and the status lands last. */
	c = dma(&g, 0x7000, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 16, 0x7000);
	tap_ok(t, c == 0 && !memcmp(g.ram.mem + 0x7004, item + 4, 12),
	       "a descriptor pointing at itself: item bytes over it, control 0");
	tap_ok(t, rd(&g) == item[16], "and exactly 16 bytes were transferred");
	/* A READ into the descriptor's length field cannot make it longer. */
	c = dma(&g, 0x7100, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 8, 0x7100);
	tap_ok(t, c == 0 && rd(&g) == item[8], "a descriptor overwritten mid-flight keeps its length");

	/* Triggers: a 64-bit write, and a high half then a low half. */
	put_be(g.ram.mem + 0x1000, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
	       FW_CFG_DMA_READ, 4);
	put_be(g.ram.mem + 0x1004, 4, 4);
	put_be(g.ram.mem + 0x1008, 0x2000, 8);
	region_write(&g.ports, FW_CFG_DMA_BASE, 8, __builtin_bswap64(0x1000));
	tap_ok(t, be(g.ram.mem + 0x1000, 4) == 0 && !memcmp(g.ram.mem + 0x2000, "QEMU", 4),
	       "a 64-bit write starts the transfer");
	memset(g.ram.mem + 0x2000, 0, 4);
	put_be(g.ram.mem + 0x1000, (uint32_t)FW_CFG_SIGNATURE << 16 | FW_CFG_DMA_SELECT |
	       FW_CFG_DMA_READ, 4);
	region_write(&g.ports, FW_CFG_DMA_BASE, 4, 0);
	tap_ok(t, be(g.ram.mem + 0x1000, 4) != 0, "writing the high half alone starts nothing");
	region_write(&g.ports, FW_CFG_DMA_BASE + 4, 4, __builtin_bswap32(0x1000));
	tap_ok(t, be(g.ram.mem + 0x1000, 4) == 0 && !memcmp(g.ram.mem + 0x2000, "QEMU", 4),
	       "the low half starts it");
	region_write(&g.ports, FW_CFG_DMA_BASE, 4, __builtin_bswap32(1));
	region_write(&g.ports, FW_CFG_DMA_BASE, 4, 0);
	put_be(g.ram.mem + 0x1000, FW_CFG_DMA_READ, 4);
	region_write(&g.ports, FW_CFG_DMA_BASE + 4, 4, __builtin_bswap32(0x1000));
	tap_ok(t, be(g.ram.mem + 0x1000, 4) == 0, "a second high-half write replaces the first");
	rig_destroy(&g);
}

/* A synthetic bzImage: protocol 2.16, `sects` setup sectors, a body of
 * `body` bytes with a pattern. */
static uint8_t *make_bzimage(unsigned sects, size_t body, size_t *len)
{
	size_t setup = (sects + 1) * 512;
	uint8_t *img = calloc(1, setup + body);

	if (!img)
		abort();
	img[0x1f1] = (uint8_t)sects;
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x10;
	img[0x207] = 0x02;
	img[0x211] = 0x01;                       /* LOADED_HIGH */
	img[0x22c] = 0xff; img[0x22d] = 0xff;    /* initrd_addr_max 0x7fffffff */
	img[0x22e] = 0xff; img[0x22f] = 0x7f;
	img[0x238] = 0xff; img[0x239] = 0x07;    /* cmdline_size 2047 */
	img[0x260] = 0x00; img[0x262] = 0x40;    /* init_size 0x400000 */
	for (size_t i = 0; i < body; i++)
		img[setup + i] = (uint8_t)(i * 13 + 5);
	*len = setup + body;
	return img;
}

static void test_pc(struct tap *t)
{
	static const struct fw_cfg_e820_entry map[] = {
		{0, 0x8000000, FW_CFG_E820_RAM},
		{0xfeffc000, 0x4000, FW_CFG_E820_RESERVED},
		{0x100000000ull, 0x40000000, FW_CFG_E820_RAM},
		{0xfffc0000, 0x40000, FW_CFG_E820_RESERVED},
	};
	struct fw_cfg_pc pc = {
		.ram_below_4g = 0x8000000, .ram_above_4g = 0x40000000,
		.nb_cpus = 1, .max_cpus = 4, .nographic = true,
		.e820 = map, .n_e820 = 4, .boot_fail_wait = 0xffffffff, .sercon_port = 0x3f8,
		.boot_menu_wait = -1,
	};
	struct fw_cfg_e820_entry many[FW_CFG_E820_LEGACY_SLOTS + 1];
	struct rig g;
	uint8_t *b, *img, initrd[5000];
	uint32_t size;
	uint16_t key;
	size_t len;
	char err[160];
	int ok, r;

	rig_init(&g);
	tap_ok(t, fw_cfg_pc_fill(&g.fw, &pc) == 0, "PC items register");
	tap_ok(t, read_int(&g, FW_CFG_RAM_SIZE, 8) == 0x48000000ull, "RAM_SIZE: all RAM, u64");
	tap_ok(t, read_int(&g, FW_CFG_NB_CPUS, 2) == 1 && read_int(&g, FW_CFG_MAX_CPUS, 2) == 4,
	       "NB_CPUS and MAX_CPUS, u16");
	tap_ok(t, read_int(&g, FW_CFG_NOGRAPHIC, 2) == 1 && read_int(&g, FW_CFG_BOOT_MENU, 2) == 0,
	       "NOGRAPHIC and BOOT_MENU, u16");
	key = dir_lookup(&g, "etc/boot-fail-wait", &size);
	tap_ok(t, key && size == 4 && read_int(&g, key, 4) == 0xffffffff,
	       "etc/boot-fail-wait: u32, for ever by default");
	key = dir_lookup(&g, "etc/sercon-port", &size);
	tap_ok(t, key && size == 2 && read_int(&g, key, 2) == 0x3f8,
	       "etc/sercon-port: u16 0x3f8 with no display");
	key = dir_lookup(&g, "bootorder", &size);
	tap_ok(t, key && size == 0, "bootorder: present and empty");
	key = dir_lookup(&g, "etc/e820", &size);
	b = calloc(1, 512);
	read_item(&g, key, b, size);
	ok = key && size == 4 * 20;
	for (int i = 0; i < 4; i++)
		ok &= le(b + i * 20, 8) == map[i].start && le(b + i * 20 + 8, 8) == map[i].len &&
		      le(b + i * 20 + 16, 4) == map[i].type;
	tap_ok(t, ok, "etc/e820: every entry, 20 packed little-endian bytes each");
	read_item(&g, FW_CFG_E820_TABLE, b, 4 + 16 * 20 + 1);
	ok = le(b, 4) == 2 && le(b + 4, 8) == 0xfeffc000 && le(b + 12, 8) == 0x4000 &&
	     le(b + 20, 4) == 2 && le(b + 24, 8) == 0xfffc0000 && le(b + 32, 8) == 0x40000 &&
	     le(b + 40, 4) == 2 && le(b + 44, 8) == 0 && le(b + 52, 8) == 0 &&
	     le(b + 60, 4) == 0;
	tap_ok(t, ok && fw_cfg_find(&g.fw, FW_CFG_E820_TABLE)->len == 4 + 16 * 20,
	       "FW_CFG_E820_TABLE: count and 16 slots, the reservations only");
	free(b);
	rig_destroy(&g);

	rig_init(&g);
	for (size_t i = 0; i < FW_CFG_E820_LEGACY_SLOTS + 1; i++)
		many[i] = (struct fw_cfg_e820_entry){i * 0x1000, 0x1000, FW_CFG_E820_RESERVED};
	pc.e820 = many;
	pc.n_e820 = FW_CFG_E820_LEGACY_SLOTS + 1;
	tap_ok(t, fw_cfg_pc_fill(&g.fw, &pc) == -E2BIG, "more reservations than legacy slots: -E2BIG");
	rig_destroy(&g);
	rig_init(&g);
	pc.e820 = map;
	pc.n_e820 = 4;
	pc.nb_cpus = 0;
	tap_ok(t, fw_cfg_pc_fill(&g.fw, &pc) == -EINVAL, "no CPUs: -EINVAL");
	pc.nb_cpus = 5;
	tap_ok(t, fw_cfg_pc_fill(&g.fw, &pc) == -EINVAL, "more CPUs than max_cpus: -EINVAL");
	pc.nb_cpus = 1;
	rig_destroy(&g);

	/* A bzImage with initrd and command line. */
	rig_init(&g);
	img = make_bzimage(30, 70000, &len);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	r = fw_cfg_pc_add_linux(&g.fw, &pc, img, len, initrd, sizeof(initrd),
				"console=ttyS0 quiet", err, sizeof(err));
	tap_ok(t, r == 0, "a bzImage registers (%s)", r ? err : "ok");
	tap_ok(t, read_int(&g, FW_CFG_SETUP_ADDR, 4) == 0x10000 &&
	       read_int(&g, FW_CFG_SETUP_SIZE, 4) == 31 * 512,
	       "SETUP_ADDR 0x10000, SETUP_SIZE (setup_sects + 1) * 512");
	tap_ok(t, read_int(&g, FW_CFG_KERNEL_ADDR, 4) == 0x100000 &&
	       read_int(&g, FW_CFG_KERNEL_SIZE, 4) == 70000,
	       "KERNEL_ADDR 1 MiB, KERNEL_SIZE the protected-mode body");
	b = malloc(len);
	read_item(&g, FW_CFG_KERNEL_DATA, b, 70000);
	tap_ok(t, !memcmp(b, img + 31 * 512, 70000), "KERNEL_DATA is the body");
	read_item(&g, FW_CFG_SETUP_DATA, b, 31 * 512);
	{
		uint32_t iaddr = (uint32_t)read_int(&g, FW_CFG_INITRD_ADDR, 4);
		uint32_t want = (0x8000000 - FW_CFG_PC_FIRMWARE_RESERVE - 1 - sizeof(initrd)) & ~0xfffu;
		tap_ok(t, iaddr == want && read_int(&g, FW_CFG_INITRD_SIZE, 4) == sizeof(initrd),
		       "INITRD_ADDR page aligned below RAM less the firmware's reserve (%#x)", iaddr);
		ok = b[0x210] == 0xff && b[0x211] == 0x81 && le(b + 0x224, 2) == 0xfe00 &&
		     le(b + 0x228, 4) == 0x20000 && le(b + 0x218, 4) == iaddr &&
		     le(b + 0x21c, 4) == sizeof(initrd);
		tap_ok(t, ok, "SETUP_DATA header: loader type, CAN_USE_HEAP, heap_end_ptr, "
		       "cmd_line_ptr, ramdisk_image and ramdisk_size");
	}
	ok = 1;
	for (size_t i = 0; i < 31 * 512; i++)
		if ((i < 0x210 || i > 0x22b) && b[i] != img[i])
			ok = 0;
	tap_ok(t, ok, "SETUP_DATA is otherwise the image's setup");
	read_item(&g, FW_CFG_INITRD_DATA, b, sizeof(initrd));
	tap_ok(t, !memcmp(b, initrd, sizeof(initrd)), "INITRD_DATA");
	read_item(&g, FW_CFG_CMDLINE_DATA, b, 21);
	tap_ok(t, read_int(&g, FW_CFG_CMDLINE_ADDR, 4) == 0x20000 &&
	       read_int(&g, FW_CFG_CMDLINE_SIZE, 4) == 20 &&
	       !memcmp(b, "console=ttyS0 quiet\0\0", 21),
	       "CMDLINE_ADDR, CMDLINE_SIZE with the NUL, CMDLINE_DATA");
	tap_ok(t, read_int(&g, FW_CFG_KERNEL_CMDLINE, 4) == 0x20000, "KERNEL_CMDLINE: its address");
	/* The linuxboot ROM's way: DMA the kernel body into RAM. */
	{
		uint32_t c = dma(&g, 0x1000, FW_CFG_KERNEL_DATA << 16 | FW_CFG_DMA_SELECT |
				 FW_CFG_DMA_READ, 70000, 0x10000);
		tap_ok(t, c == 0 && !memcmp(g.ram.mem + 0x10000, img + 31 * 512, 70000),
		       "KERNEL_DATA by DMA");
	}
	free(b);
	rig_destroy(&g);

	rig_init(&g);
	img[0x238] = 4;
	img[0x239] = 0;
	r = fw_cfg_pc_add_linux(&g.fw, &pc, img, len, NULL, 0, "console=ttyS0", err, sizeof(err));
	tap_ok(t, r == 0 && read_int(&g, FW_CFG_CMDLINE_SIZE, 4) == 5 &&
	       read_int(&g, FW_CFG_CMDLINE_DATA, 5) == le((const uint8_t *)"cons", 5) &&
	       !fw_cfg_find(&g.fw, FW_CFG_INITRD_ADDR) && le(fw_cfg_find(&g.fw, FW_CFG_SETUP_DATA)->data + 0x218, 8) == 0,
	       "the command line is cut at cmdline_size; no initrd, no initrd items");
	rig_destroy(&g);
	rig_init(&g);
	r = fw_cfg_pc_add_linux(&g.fw, &pc, img, len, NULL, 0, NULL, err, sizeof(err));
	tap_ok(t, r == 0 && read_int(&g, FW_CFG_CMDLINE_SIZE, 4) == 1 &&
	       read_int(&g, FW_CFG_CMDLINE_DATA, 2) == 0, "no command line: an empty string");
	rig_destroy(&g);

	rig_init(&g);
	pc.ram_below_4g = 0x500000;
	r = fw_cfg_pc_add_linux(&g.fw, &pc, img, len, initrd, sizeof(initrd), "", err, sizeof(err));
	tap_ok(t, r == -EFBIG, "an initrd that would overlap the kernel's init_size: -EFBIG (%s)", err);
	pc.ram_below_4g = 0x8000000;
	img[0x22c] = 0x00; img[0x22d] = 0x10; img[0x22e] = 0x60; img[0x22f] = 0x00;
	r = fw_cfg_pc_add_linux(&g.fw, &pc, img, len, initrd, sizeof(initrd), "", err, sizeof(err));
	tap_ok(t, r == 0 && read_int(&g, FW_CFG_INITRD_ADDR, 4) == ((0x601000u - sizeof(initrd)) & ~0xfffu),
	       "initrd_addr_max bounds the initrd (%s)", r ? err : "ok");
	rig_destroy(&g);

	rig_init(&g);
	memcpy(img + 0x202, "HdrT", 4);
	tap_ok(t, fw_cfg_pc_add_linux(&g.fw, &pc, img, len, NULL, 0, "", err, sizeof(err)) == -ENOEXEC,
	       "no HdrS: -ENOEXEC (%s)", err);
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x01;
	tap_ok(t, fw_cfg_pc_add_linux(&g.fw, &pc, img, len, NULL, 0, "", err, sizeof(err)) == -ENOEXEC,
	       "protocol 2.01: -ENOEXEC (%s)", err);
	img[0x206] = 0x10;
	img[0x211] = 0;
	tap_ok(t, fw_cfg_pc_add_linux(&g.fw, &pc, img, len, NULL, 0, "", err, sizeof(err)) == -ENOEXEC,
	       "a zImage: -ENOEXEC (%s)", err);
	img[0x211] = 1;
	img[0x1f1] = 200;
	tap_ok(t, fw_cfg_pc_add_linux(&g.fw, &pc, img, len, NULL, 0, "", err, sizeof(err)) == -ENOEXEC,
	       "200 setup sectors: -ENOEXEC (%s)", err);
	img[0x1f1] = 30;
	tap_ok(t, fw_cfg_pc_add_linux(&g.fw, &pc, img, 31 * 512, NULL, 0, "", err, sizeof(err)) == -ENOEXEC,
	       "no body after the setup: -ENOEXEC (%s)", err);
	tap_ok(t, fw_cfg_pc_add_linux(&g.fw, &pc, img, 0x100, NULL, 0, "", err, sizeof(err)) == -ENOEXEC,
	       "a truncated header: -ENOEXEC");
	tap_ok(t, g.fw.n_items == 3 && g.fw.n_files == 0, "refused kernels register nothing");
	free(img);
	rig_destroy(&g);

	/* A flat kernel for multiboot.bin. */
	rig_init(&g);
	{
		static const uint8_t image[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
		static const uint8_t info[] = {0xa, 0xb, 0xc};
		struct fw_cfg_flat_kernel k = {0x100000, 0x10000c, image, sizeof(image),
					       0x9000, info, sizeof(info)};
		uint8_t got[12];
		ok = fw_cfg_pc_add_flat_kernel(&g.fw, &k) == 0;
		ok &= read_int(&g, FW_CFG_KERNEL_ENTRY, 4) == 0x10000c &&
		      read_int(&g, FW_CFG_KERNEL_ADDR, 4) == 0x100000 &&
		      read_int(&g, FW_CFG_KERNEL_SIZE, 4) == sizeof(image) &&
		      read_int(&g, FW_CFG_INITRD_ADDR, 4) == 0x9000 &&
		      read_int(&g, FW_CFG_INITRD_SIZE, 4) == sizeof(info);
		read_item(&g, FW_CFG_KERNEL_DATA, got, sizeof(image));
		ok &= !memcmp(got, image, sizeof(image));
		read_item(&g, FW_CFG_INITRD_DATA, got, sizeof(info));
		ok &= !memcmp(got, info, sizeof(info));
		tap_ok(t, ok, "flat kernel: KERNEL_ENTRY/ADDR/SIZE/DATA, INITRD_ADDR/SIZE/DATA");
		k.load_addr = 0xfffffffc;
		tap_ok(t, fw_cfg_pc_add_flat_kernel(&g.fw, &k) == -EINVAL,
		       "a flat kernel running past 4 GiB: -EINVAL");
	}
	rig_destroy(&g);
}

int main(void)
{
	struct tap t = {0};

	test_traditional(&t);
	test_store(&t);
	test_dma(&t);
	test_pc(&t);
	return tap_done(&t);
}
