/* QEMU's fw_cfg device (see fw_cfg.h for the guest ABI).
 *
 * The model: items are host-chosen blobs copied in at setup, never
 * resized; the guest only moves a selector and an offset over them, and
 * (through DMA) overwrites the bytes of items registered writable. The
 * offset never passes the selected item's end, so reads past it give
 * zeros without further checks. Guest RAM is reached only through the
 * dma_space, and every descriptor field is checked before use: the
 * descriptor is read once (a descriptor that the transfer overwrites,
 * even itself, does not change the transfer), ranges that wrap are
 * refused, and a transfer that would fail part way is refused before
 * anything is copied.
 *
 * Departures from QEMU, none of which a firmware relies on: an ERROR bit
 * the guest sets in the descriptor is ignored (QEMU then skips the
 * transfer); a failed transfer leaves the offset where it was (QEMU may
 * advance it); the file directory is exactly as long as its entries
 * (QEMU pads it to a fixed number of slots); a 16-bit read of the ports
 * returns two data bytes. */
#include "dm/hw/fw_cfg.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- saved state ---- */

static struct fw_cfg_item *lookup(const struct fw_cfg *fw, uint16_t key);

/* What the guest moves: the selector, the offset in the selected item
 * and the DMA address register. The items are the board's configuration
 * (the same on both sides of a load); the selected item is found again. */
static const struct vs_field fw_cfg_fields[] = {
	VS_U16(struct fw_cfg, selector),
	VS_U32(struct fw_cfg, offset),
	VS_U64(struct fw_cfg, dma_addr),
};

static int fw_cfg_state_check(const void *obj, char *err, size_t n)
{
	const struct fw_cfg *fw = obj;
	const struct fw_cfg_item *it = lookup(fw, fw->selector);
	uint32_t len = it ? it->len : 0;
	if (fw->offset > len) {
		snprintf(err, n, "fw_cfg: field 'offset' is %u, past the end (%u) "
			 "of item 0x%x", fw->offset, len, fw->selector);
		return -EINVAL;
	}
	return 0;
}

static int fw_cfg_post_load(void *obj, char *err, size_t n)
{
	struct fw_cfg *fw = obj;
	(void)err;
	(void)n;
	fw->cur = lookup(fw, fw->selector);
	return 0;
}

const struct vs_desc fw_cfg_state = {
	"fw_cfg", 1, fw_cfg_fields, ARRAY_SIZE(fw_cfg_fields),
	fw_cfg_state_check, fw_cfg_post_load,
};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- The item store --- */

/* Index of the first numbered item whose key is >= key. */
static size_t item_pos(const struct fw_cfg *fw, uint16_t key)
{
	size_t lo = 0, hi = fw->n_items;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (fw->items[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first file whose name is >= name (strcmp order: bytes
 * compared unsigned, as QEMU sorts). */
static size_t file_pos(const struct fw_cfg *fw, const char *name)
{
	size_t lo = 0, hi = fw->n_files;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(fw->files[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct fw_cfg_item *lookup(const struct fw_cfg *fw, uint16_t key)
{
	uint16_t index = key & FW_CFG_INDEX_MASK;
	size_t i;

	key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
	if (!(key & FW_CFG_ARCH_LOCAL) && index >= FW_CFG_FILE_FIRST) {
		i = index - FW_CFG_FILE_FIRST;
		return i < fw->n_files ? &fw->files[i] : NULL;
	}
	i = item_pos(fw, key);
	return i < fw->n_items && fw->items[i].key == key ? &fw->items[i] : NULL;
}

const struct fw_cfg_item *fw_cfg_find(const struct fw_cfg *fw, uint16_t key)
{
	return lookup(fw, key);
}

const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *fw,
					   const char *name)
{
	size_t i = file_pos(fw, name);
	return i < fw->n_files && !strcmp(fw->files[i].name, name) ?
	       &fw->files[i] : NULL;
}

static void select_item(struct fw_cfg *fw, uint16_t key)
{
	fw->selector = key;
	fw->offset = 0;
	fw->cur = lookup(fw, key);
}

/* After the arrays moved: find the selected item again, keeping the
 * offset (only setup adds items, so it is 0 in practice). */
static void reselect(struct fw_cfg *fw)
{
	fw->cur = lookup(fw, fw->selector);
	if (!fw->cur || fw->offset > fw->cur->len)
		fw->offset = 0;
}

/* A copy of data[0..len) for an item, after checking the bounds of the
 * store; `extra` is what else the caller is about to add or drop. */
static int item_copy(struct fw_cfg *fw, const void *data, size_t len,
		     int64_t extra, uint8_t **out)
{
	uint64_t total = fw->bytes + (uint64_t)extra;

	*out = NULL;
	if (len > UINT32_MAX)
		return -EINVAL;
	if (len > fw->max_bytes || total > fw->max_bytes - len)
		return -E2BIG;
	if (!len)
		return 0;
	*out = malloc(len);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, data, len);
	return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t c;
	void *p;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	p = realloc(*arr, c * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* Adds a numbered item without the reserved-key check (the device's own
 * items go through here). */
static int add_item(struct fw_cfg *fw, uint16_t key, const void *data,
		    size_t len, unsigned flags)
{
	size_t i = item_pos(fw, key);
	uint8_t *copy;
	int r;

	if (i < fw->n_items && fw->items[i].key == key)
		return -EEXIST;
	r = item_copy(fw, data, len, 0, &copy);
	if (r)
		return r;
	r = grow((void **)&fw->items, &fw->cap_items, fw->n_items,
		 sizeof(*fw->items));
	if (r) {
		free(copy);
		return r;
	}
	memmove(&fw->items[i + 1], &fw->items[i],
		(fw->n_items - i) * sizeof(*fw->items));
	fw->items[i] = (struct fw_cfg_item){
		.data = copy,
		.len = (uint32_t)len,
		.key = key,
		.writable = (flags & FW_CFG_WRITABLE) != 0,
	};
	fw->n_items++;
	fw->bytes += len;
	reselect(fw);
	return 0;
}

static bool key_for_board(uint16_t key)
{
	if (key & FW_CFG_WRITE_CHANNEL)
		return false;
	if (key & FW_CFG_ARCH_LOCAL)
		return true;
	return key < FW_CFG_FILE_FIRST && key != FW_CFG_SIGNATURE &&
	       key != FW_CFG_ID && key != FW_CFG_FILE_DIR;
}

int fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data,
		     size_t len, unsigned flags)
{
	if (!key_for_board(key))
		return -EINVAL;
	return add_item(fw, key, data, len, flags);
}

int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t v)
{
	uint8_t b[2];
	put_le(b, v, sizeof(b));
	return fw_cfg_add_bytes(fw, key, b, sizeof(b), 0);
}

int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t key, uint32_t v)
{
	uint8_t b[4];
	put_le(b, v, sizeof(b));
	return fw_cfg_add_bytes(fw, key, b, sizeof(b), 0);
}

int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	put_le(b, v, sizeof(b));
	return fw_cfg_add_bytes(fw, key, b, sizeof(b), 0);
}

int fw_cfg_add_string(struct fw_cfg *fw, uint16_t key, const char *s)
{
	return fw_cfg_add_bytes(fw, key, s, strlen(s) + 1, 0);
}

static size_t dir_len(size_t n_files)
{
	return 4 + n_files * FW_CFG_DIR_ENTRY_LEN;
}

static void dir_fill(const struct fw_cfg *fw, uint8_t *dir)
{
	memset(dir, 0, dir_len(fw->n_files));
	put_be32(dir, (uint32_t)fw->n_files);
	for (size_t i = 0; i < fw->n_files; i++) {
		const struct fw_cfg_item *f = &fw->files[i];
		uint8_t *e = dir + 4 + i * FW_CFG_DIR_ENTRY_LEN;
		put_be32(e, f->len);
		put_be16(e + 4, f->key);
		memcpy(e + 8, f->name, strlen(f->name));
	}
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
		    size_t len, unsigned flags)
{
	size_t nl = strnlen(name, FW_CFG_NAME_LEN), i;
	struct fw_cfg_item *dir = lookup(fw, FW_CFG_FILE_DIR);
	size_t old_dir = dir_len(fw->n_files), new_dir = dir_len(fw->n_files + 1);
	uint8_t *copy, *dir_data;
	int r;

	if (nl == 0 || nl >= FW_CFG_NAME_LEN)
		return -EINVAL;
	i = file_pos(fw, name);
	if (i < fw->n_files && !strcmp(fw->files[i].name, name))
		return -EEXIST;
	if (fw->n_files >= FW_CFG_MAX_FILES)
		return -ENOSPC;
	/* Everything that can fail comes before the store changes. */
	r = item_copy(fw, data, len, (int64_t)new_dir - (int64_t)old_dir, &copy);
	if (r)
		return r;
	dir_data = malloc(new_dir);
	r = dir_data ? grow((void **)&fw->files, &fw->cap_files, fw->n_files,
			    sizeof(*fw->files)) : -ENOMEM;
	if (r) {
		free(dir_data);
		free(copy);
		return r;
	}
	memmove(&fw->files[i + 1], &fw->files[i],
		(fw->n_files - i) * sizeof(*fw->files));
	fw->files[i] = (struct fw_cfg_item){
		.data = copy,
		.len = (uint32_t)len,
		.writable = (flags & FW_CFG_WRITABLE) != 0,
	};
	memcpy(fw->files[i].name, name, nl + 1);
	fw->n_files++;
	for (size_t k = i; k < fw->n_files; k++)
		fw->files[k].key = (uint16_t)(FW_CFG_FILE_FIRST + k);
	dir_fill(fw, dir_data);
	free(dir->data);
	dir->data = dir_data;
	dir->len = (uint32_t)new_dir;
	fw->bytes += len + new_dir - old_dir;
	reselect(fw);
	return 0;
}

int fw_cfg_init(struct fw_cfg *fw, const struct dma_space *dma)
{
	uint8_t id[4], dir[4] = {0};
	int r;

	memset(fw, 0, sizeof(*fw));
	fw->dma = *dma;
	fw->max_bytes = FW_CFG_MAX_BYTES;
	put_le(id, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA, sizeof(id));
	r = add_item(fw, FW_CFG_SIGNATURE, "QEMU", 4, 0);
	if (!r)
		r = add_item(fw, FW_CFG_ID, id, sizeof(id), 0);
	if (!r)
		r = add_item(fw, FW_CFG_FILE_DIR, dir, sizeof(dir), 0);
	if (r) {
		fw_cfg_destroy(fw);
		return r;
	}
	fw_cfg_reset(fw);
	return 0;
}

void fw_cfg_destroy(struct fw_cfg *fw)
{
	for (size_t i = 0; i < fw->n_items; i++)
		free(fw->items[i].data);
	for (size_t i = 0; i < fw->n_files; i++)
		free(fw->files[i].data);
	free(fw->items);
	free(fw->files);
	fw->items = fw->files = NULL;
	fw->n_items = fw->cap_items = fw->n_files = fw->cap_files = 0;
	fw->bytes = 0;
	fw->cur = NULL;
}

void fw_cfg_reset(struct fw_cfg *fw)
{
	select_item(fw, FW_CFG_SIGNATURE);
	fw->dma_addr = 0;
}

/* --- The traditional interface: selector and data ports --- */

static uint8_t data_byte(struct fw_cfg *fw)
{
	if (fw->cur && fw->offset < fw->cur->len)
		return fw->cur->data[fw->offset++];
	return 0;
}

static uint64_t fw_cfg_io_read(void *opaque, uint64_t off, unsigned size)
{
	struct fw_cfg *fw = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)data_byte(fw) << (8 * i);
	return v;
}

static void fw_cfg_io_write(void *opaque, uint64_t off, unsigned size,
			    uint64_t v)
{
	if (size == 2 && off == 0)
		select_item(opaque, (uint16_t)v);
}

const struct io_ops fw_cfg_io_ops = {
	fw_cfg_io_read, fw_cfg_io_write,
	IO_SIZE_1 | IO_SIZE_2, IO_SIZE_1 | IO_SIZE_2,
};

/* --- The DMA interface --- */

#define DMA_DESC_LEN 16
#define DMA_CHUNK 4096

static const uint8_t dma_zeros[DMA_CHUNK];

/* Checks that every byte of [gpa, gpa + len) is RAM (zero false), or
 * writes zeros there (zero true), a chunk at a time: a guest-chosen
 * length never sizes a host buffer. */
static int dma_zero_range(struct fw_cfg *fw, uint64_t gpa, uint64_t len,
			  bool zero)
{
	uint8_t scratch[DMA_CHUNK];

	while (len) {
		size_t n = len < DMA_CHUNK ? (size_t)len : DMA_CHUNK;
		int r = zero ? dma_write(&fw->dma, gpa, dma_zeros, n) :
			       dma_read(&fw->dma, gpa, scratch, n);
		if (r)
			return r;
		gpa += n;
		len -= n;
	}
	return 0;
}

static bool range_wraps(uint64_t gpa, uint32_t len)
{
	return len && len - 1 > UINT64_MAX - gpa;
}

static uint32_t item_left(const struct fw_cfg *fw)
{
	return fw->cur ? fw->cur->len - fw->offset : 0;
}

/* READ: the item's next bytes, then zeros up to `len`. */
static int dma_to_guest(struct fw_cfg *fw, uint64_t gpa, uint32_t len)
{
	uint32_t left = item_left(fw);
	uint32_t n = len < left ? len : left;

	if (range_wraps(gpa, len))
		return -EFAULT;
	/* The zeros' range is checked first, so that a failure anywhere
	 * leaves guest RAM untouched; the item's part is one checked copy. */
	if (n < len && dma_zero_range(fw, gpa + n, len - n, false))
		return -EFAULT;
	if (n && dma_write(&fw->dma, gpa, fw->cur->data + fw->offset, n))
		return -EFAULT;
	if (n < len && dma_zero_range(fw, gpa + n, len - n, true))
		return -EFAULT;
	fw->offset += n;
	return 0;
}

/* WRITE: only into a writable item, and only within it (items never
 * grow; a write that would run past the end is refused whole). */
static int dma_from_guest(struct fw_cfg *fw, uint64_t gpa, uint32_t len)
{
	if (!len)
		return 0;
	if (!fw->cur || !fw->cur->writable || len > item_left(fw))
		return -EPERM;
	if (range_wraps(gpa, len) ||
	    dma_read(&fw->dma, gpa, fw->cur->data + fw->offset, len))
		return -EFAULT;
	fw->offset += len;
	return 0;
}

static void dma_status(struct fw_cfg *fw, uint64_t desc, uint32_t control)
{
	uint8_t b[4];

	put_be32(b, control);
	if (desc <= UINT64_MAX - sizeof(b))
		(void)dma_write(&fw->dma, desc, b, sizeof(b));
}

static void dma_run(struct fw_cfg *fw)
{
	uint64_t desc = fw->dma_addr;
	uint8_t d[DMA_DESC_LEN];
	uint32_t control, len;
	uint64_t gpa;
	int r = 0;

	fw->dma_addr = 0;
	if (desc > UINT64_MAX - DMA_DESC_LEN ||
	    dma_read(&fw->dma, desc, d, sizeof(d))) {
		/* The control word may still be RAM: say so there. */
		dma_status(fw, desc, FW_CFG_DMA_ERROR);
		return;
	}
	control = get_be32(d);
	len = get_be32(d + 4);
	gpa = get_be64(d + 8);

	if (control & FW_CFG_DMA_SELECT)
		select_item(fw, (uint16_t)(control >> 16));
	if (control & FW_CFG_DMA_READ) {
		r = dma_to_guest(fw, gpa, len);
	} else if (control & FW_CFG_DMA_WRITE) {
		r = dma_from_guest(fw, gpa, len);
	} else if (control & FW_CFG_DMA_SKIP) {
		uint32_t left = item_left(fw);
		fw->offset += len < left ? len : left;
	}
	dma_status(fw, desc, r ? FW_CFG_DMA_ERROR : 0);
}

static const uint8_t dma_signature[FW_CFG_DMA_LEN] = "QEMU CFG";

static uint64_t fw_cfg_dma_read(void *opaque, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size && off + i < FW_CFG_DMA_LEN; i++)
		v |= (uint64_t)dma_signature[off + i] << (8 * i);
	return v;
}

/* The register is big-endian: the byte at the lowest port is the most
 * significant, so the little-endian value of a port access is swapped. */
static void fw_cfg_dma_write(void *opaque, uint64_t off, unsigned size,
			     uint64_t v)
{
	struct fw_cfg *fw = opaque;

	if (size == 4 && off == 0) {
		fw->dma_addr = (uint64_t)__builtin_bswap32((uint32_t)v) << 32;
	} else if (size == 4 && off == 4) {
		fw->dma_addr |= __builtin_bswap32((uint32_t)v);
		dma_run(fw);
	} else if (size == 8 && off == 0) {
		fw->dma_addr = __builtin_bswap64(v);
		dma_run(fw);
	}
}

const struct io_ops fw_cfg_dma_ops = {
	fw_cfg_dma_read, fw_cfg_dma_write,
	IO_SIZE_4 | IO_SIZE_8, IO_SIZE_4 | IO_SIZE_8,
};

/* ---- the kind (dev/kind.h): the PC's fw_cfg, with the guest's kernel,
 * initrd and command line for firmware that boots them ---- */

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/kind.h"
#include "dm/hw/fw_cfg_pc.h"
#include "mem/guest_mem.h"

struct fw_cfg_dev {
	struct fw_cfg fw; /* first: the device's state is fw_cfg's */
	bool live;        /* fw_cfg_init() succeeded: destroy frees it */
};

/* All set by the board (host_open): fw_cfg is never a -device. */
enum { P_RAM, P_NOGRAPHIC, P_KERNEL, P_INITRD, P_CMDLINE, P_BOOT_FAIL_WAIT, P_BOOT_MENU,
       P_BOOT_MENU_WAIT, P_FILES };

static const struct dev_prop fw_cfg_props[] = {
	[P_RAM] = {"ram-size", DEV_PROP_NUM, true, 0, 1ull << 40, 0, NULL, "guest RAM bytes"},
	[P_NOGRAPHIC] = {"nographic", DEV_PROP_BOOL, true, 0, 1, 0, NULL, "-nographic"},
	[P_KERNEL] = {"kernel", DEV_PROP_BOOL, true, 0, 1, 0, NULL, "a kernel descriptor follows"},
	[P_INITRD] = {"initrd", DEV_PROP_BOOL, true, 0, 1, 0, NULL, "an initrd descriptor follows"},
	[P_CMDLINE] = {"cmdline", DEV_PROP_BOOL, true, 0, 1, 0, NULL,
		       "a command-line descriptor follows"},
	[P_BOOT_FAIL_WAIT] = {"boot-fail-wait", DEV_PROP_NUM, true, 0, UINT32_MAX, UINT32_MAX,
			      NULL, "ms the firmware waits before a reset when nothing boots"},
	[P_BOOT_MENU] = {"boot-menu", DEV_PROP_BOOL, true, 0, 1, 0, NULL, "-boot menu=on"},
	[P_BOOT_MENU_WAIT] = {"boot-menu-wait", DEV_PROP_NUM, true, 0, 0x10000, 0x10000, NULL,
			      "ms the boot menu waits (65536: the firmware's default)"},
	[P_FILES] = {"files", DEV_PROP_BOOL, true, 0, 1, 0, NULL,
		     "a descriptor with the vmm's firmware files follows"},
};

/* The vmm's firmware files travel in one memfd: for each, its name
 * (FW_FILE_NAME_LEN bytes, NUL-padded) and its length (u32, host order),
 * then its bytes. */
#define FW_FILE_NAME_LEN 56
#define FW_FILES_MAX_BYTES (4u << 20)

static int files_fd(const struct dev_fw_file *f, unsigned n)
{
	int fd = memfd_create("v2e-fw-files", MFD_CLOEXEC);
	for (unsigned i = 0; fd >= 0 && i < n; i++) {
		char name[FW_FILE_NAME_LEN] = {0};
		uint32_t len = (uint32_t)f[i].len;
		snprintf(name, sizeof(name), "%s", f[i].name);
		if (write(fd, name, sizeof(name)) != (ssize_t)sizeof(name) ||
		    write(fd, &len, 4) != 4 || write(fd, f[i].data, len) != (ssize_t)len) {
			close(fd);
			fd = -1;
		}
	}
	return fd;
}

/* Adds each file of a files_fd() image; -EINVAL for a malformed one. */
static int add_files(struct fw_cfg *fw, const uint8_t *b, size_t len)
{
	size_t at = 0;
	while (at < len) {
		char name[FW_FILE_NAME_LEN + 1];
		uint32_t flen;
		int r;
		if (len - at < FW_FILE_NAME_LEN + 4)
			return -EINVAL;
		memcpy(name, b + at, FW_FILE_NAME_LEN);
		name[FW_FILE_NAME_LEN] = 0;
		memcpy(&flen, b + at + FW_FILE_NAME_LEN, 4);
		at += FW_FILE_NAME_LEN + 4;
		if (!name[0] || flen > len - at)
			return -EINVAL;
		r = fw_cfg_add_file(fw, name, b + at, flen, 0);
		if (r)
			return r;
		at += flen;
	}
	return 0;
}

/* A memfd holding `s`: how a string reaches a sandboxed device model. */
static int string_fd(const char *s)
{
	int fd = memfd_create("v2e-cmdline", MFD_CLOEXEC);
	size_t len = strlen(s);
	if (fd >= 0 && write(fd, s, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* In the vmm: the kernel, initrd and command line as descriptors (a file
 * that does not open is the loader's to report). */
static int fw_cfg_host_open(struct dev_props *p, const struct dev_machine *m, int *fds,
			    unsigned *n_fds, char *err, size_t n)
{
	int kfd, ifd, cfd;

	p->num[P_RAM] = m->ram_bytes;
	p->num[P_NOGRAPHIC] = m->nographic;
	p->num[P_BOOT_FAIL_WAIT] = m->boot_fail_wait;
	p->num[P_BOOT_MENU] = m->boot_menu;
	p->num[P_BOOT_MENU_WAIT] = m->boot_menu_wait >= 0 ? (uint64_t)m->boot_menu_wait : 0x10000;
	p->given |= 1u << P_RAM | 1u << P_NOGRAPHIC | 1u << P_BOOT_FAIL_WAIT | 1u << P_BOOT_MENU |
		    1u << P_BOOT_MENU_WAIT | 1u << P_FILES;
	if (m->n_fw_files) {
		int ffd = files_fd(m->fw_files, m->n_fw_files);
		if (ffd < 0)
			return err_say(err, n, -errno, "fw_cfg: firmware files: %s", strerror(errno));
		fds[(*n_fds)++] = ffd;
		p->num[P_FILES] = 1;
	}
	/* Opened after the files: nothing of these leaks on that error. */
	kfd = m->kernel ? open(m->kernel, O_RDONLY | O_CLOEXEC) : -1;
	ifd = m->initrd ? open(m->initrd, O_RDONLY | O_CLOEXEC) : -1;
	cfd = kfd >= 0 && m->append ? string_fd(m->append) : -1;
	if (kfd >= 0) {
		fds[(*n_fds)++] = kfd;
		p->num[P_KERNEL] = 1;
		if (ifd >= 0) {
			fds[(*n_fds)++] = ifd;
			p->num[P_INITRD] = 1;
		}
		if (cfd >= 0) {
			fds[(*n_fds)++] = cfd;
			p->num[P_CMDLINE] = 1;
		}
		p->given |= 1u << P_KERNEL | 1u << P_INITRD | 1u << P_CMDLINE;
	} else if (ifd >= 0) {
		close(ifd);
	}
	return 0;
}

/* Reads a whole host file handed over as a descriptor (at most `max`). */
static uint8_t *slurp(int fd, size_t max, size_t *len)
{
	size_t cap = 1 << 16, got = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		ssize_t n;
		if (got == cap) {
			uint8_t *nb;
			if (cap >= max) {
				free(buf);
				return NULL;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		n = pread(fd, buf + got, cap - got, (off_t)got);
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return buf;
}

static int fw_cfg_create(void *dev, const struct dev_ctx *c, const struct dev_props *p,
			 char *err, size_t n)
{
	struct fw_cfg_dev *d = dev;
	uint64_t ram = p->num[P_RAM];
	uint64_t below = ram < GM_PCI_HOLE ? ram : GM_PCI_HOLE;
	struct fw_cfg_e820_entry map[2] = {
		{0, below, FW_CFG_E820_RAM},
		{GM_4G, ram - below, FW_CFG_E820_RAM},
	};
	/* No display: SeaBIOS's text screen on COM1, as QEMU sets it. */
	struct fw_cfg_pc pc = {below, ram - below, 1, 1, p->num[P_NOGRAPHIC] != 0,
			       p->num[P_BOOT_MENU] != 0, map, ram > below ? 2 : 1,
			       (uint32_t)p->num[P_BOOT_FAIL_WAIT],
			       p->num[P_NOGRAPHIC] ? 0x3f8 : 0,
			       (int32_t)(p->num[P_BOOT_MENU_WAIT] > 0xffff ? -1
						: (int64_t)p->num[P_BOOT_MENU_WAIT])};
	uint8_t *file[3] = {NULL, NULL, NULL};
	size_t len[3] = {0, 0, 0};
	unsigned fd_i = 0;
	int r;

	if (ram < GM_VGA_END || (ram & 0xfff)) {
		snprintf(err, n, "fw_cfg: RAM size %#llx", (unsigned long long)ram);
		return -EINVAL;
	}
	r = fw_cfg_init(&d->fw, c->dma);
	if (r < 0)
		return r;
	d->live = true;
	r = fw_cfg_pc_fill(&d->fw, &pc);
	if (!r && p->num[P_FILES]) {
		/* First among the descriptors: host_open opened it first. */
		uint8_t *files = c->n_fds ? slurp(c->fds[fd_i++], FW_FILES_MAX_BYTES, &len[0]) : NULL;
		r = files ? add_files(&d->fw, files, len[0]) : -EINVAL;
		free(files);
		len[0] = 0;
		if (r)
			snprintf(err, n, "fw_cfg: the vmm's firmware files are malformed");
	}
	for (unsigned k = 0; !r && k < 3; k++) {
		if (!p->num[P_KERNEL + k])
			continue;
		if (fd_i >= c->n_fds) {
			snprintf(err, n, "fw_cfg: a file descriptor is missing");
			r = -EINVAL;
			break;
		}
		file[k] = slurp(c->fds[fd_i++], 512u << 20, &len[k]);
		if (!file[k])
			r = -EIO;
	}
	if (!r && file[0]) {
		char *cmdline = calloc(1, len[2] + 1);
		if (!cmdline) {
			r = -ENOMEM;
		} else {
			memcpy(cmdline, file[2] ? (char *)file[2] : "", len[2]);
			r = fw_cfg_pc_add_linux(&d->fw, &pc, file[0], len[0], file[1], len[1],
						cmdline, err, n);
			free(cmdline);
			/* A Multiboot kernel is no bzImage: v2e loads it itself,
			 * and QEMU's items for it need the MBI it builds. */
			if (r == -ENOEXEC) {
				err[0] = 0;
				r = 0;
			}
		}
	}
	for (unsigned k = 0; k < 3; k++)
		free(file[k]);
	if (r < 0) {
		if (!*err)
			snprintf(err, n, "fw_cfg: %s", strerror(-r));
		return r;
	}
	r = c->claim(c, DEV_SPACE_PIO, FW_CFG_IO_BASE, FW_CFG_IO_LEN, 0, &fw_cfg_io_ops, &d->fw);
	if (!r)
		r = c->claim(c, DEV_SPACE_PIO, FW_CFG_DMA_BASE, FW_CFG_DMA_LEN, 0,
			     &fw_cfg_dma_ops, &d->fw);
	return r;
}

static void fw_cfg_dev_reset(void *dev)
{
	struct fw_cfg_dev *d = dev;
	if (d->live)
		fw_cfg_reset(&d->fw);
}

static void fw_cfg_dev_destroy(void *dev)
{
	struct fw_cfg_dev *d = dev;
	if (d->live)
		fw_cfg_destroy(&d->fw);
	d->live = false;
}

DEV_KIND(fw_cfg) = {
	.name = "fw_cfg",
	.help = "QEMU's firmware configuration interface (0x510, DMA at 0x514)",
	.where = DEV_IN_DM,
	.category = DEV_CAT_MISC,
	DEV_PROPS(fw_cfg_props),
	.size = sizeof(struct fw_cfg_dev),
	.host_open = fw_cfg_host_open,
	.create = fw_cfg_create,
	.reset = fw_cfg_dev_reset,
	.destroy = fw_cfg_dev_destroy,
	.state = &fw_cfg_state,
};
