/* Guest RAM on a memfd (see guest_mem.h). The memfd holds RAM bytes
 * contiguously; guest-physical addresses map onto it around the holes. */
#include "mem/guest_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int guest_mem_create(struct guest_mem *gm, uint64_t size)
{
	int err;
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size == 0 || (size & 0xfff) || size < GM_VGA_END)
		return -EINVAL;
	gm->fd = memfd_create("v2e-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (gm->fd < 0)
		return -errno;
	if (ftruncate(gm->fd, (off_t)size) < 0) {
		err = -errno;
		goto fail_fd;
	}
	/* The size is fixed for the VM's life: a device model can never
	 * shrink the mapping under the vmm. */
	if (fcntl(gm->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		err = -errno;
		goto fail_fd;
	}
	gm->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, gm->fd, 0);
	if (gm->host == MAP_FAILED) {
		err = -errno;
		gm->host = NULL;
		goto fail_fd;
	}
	/* Huge pages where the host gives them to shared memory
	 * (transparent_hugepage/shmem_enabled "advise" or "always"; Debian's
	 * default is "never", and then this does nothing): a guest touching
	 * many pages otherwise spends its time in the host's TLB misses
	 * (bench/cpu paging: 0.185 s with 4 KiB pages, 0.123 s with 2 MiB). */
	madvise(gm->host, size, MADV_HUGEPAGE);
	gm->size = size;
	gm->low_end = size < GM_PCI_HOLE ? size : GM_PCI_HOLE;
	return 0;

fail_fd:
	close(gm->fd);
	gm->fd = -1;
	return err;
}

int guest_mem_attach(struct guest_mem *gm, int fd, uint64_t size)
{
	struct stat st;
	int seals;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size == 0 || (size & 0xfff) || size < GM_VGA_END)
		return -EINVAL;
	/* The size must be the one announced and unable to change, or an
	 * access could fault (SIGBUS) in this process. */
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size || seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
		return -EPROTO;
	gm->host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (gm->host == MAP_FAILED) {
		gm->host = NULL;
		return -errno;
	}
	gm->fd = fd;
	gm->size = size;
	gm->low_end = size < GM_PCI_HOLE ? size : GM_PCI_HOLE;
	return 0;
}

void guest_mem_destroy(struct guest_mem *gm)
{
	if (gm->host)
		munmap(gm->host, gm->size);
	if (gm->fd >= 0)
		close(gm->fd);
	gm->host = NULL;
	gm->fd = -1;
}

int64_t guest_mem_offset(const struct guest_mem *gm, uint64_t paddr)
{
	if (paddr < gm->low_end) {
		if (paddr >= GM_VGA_START && paddr < GM_VGA_END)
			return -1;
		return (int64_t)paddr;
	}
	if (paddr >= GM_4G && paddr - GM_4G < gm->size - gm->low_end)
		return (int64_t)(gm->low_end + (paddr - GM_4G));
	return -1;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t paddr, uint64_t len)
{
	int64_t first, last;
	if (len == 0 || paddr + len < paddr)
		return NULL;
	first = guest_mem_offset(gm, paddr);
	last = guest_mem_offset(gm, paddr + len - 1);
	/* One piece: both ends are RAM and nothing in between is a hole. */
	if (first < 0 || last < 0 || (uint64_t)(last - first) != len - 1)
		return NULL;
	if (paddr < GM_VGA_START && paddr + len > GM_VGA_START)
		return NULL;
	return gm->host + first;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t paddr,
		    const void *src, uint64_t len)
{
	/* Page by page, so a range across a hole fails before copying into
	 * the hole's neighbour only if some byte is not RAM at all. */
	for (uint64_t done = 0; done < len;) {
		uint64_t n = 4096 - ((paddr + done) & 0xfff);
		void *p;
		if (n > len - done)
			n = len - done;
		p = guest_mem_ptr(gm, paddr + done, n);
		if (!p)
			return -EFAULT;
		memcpy(p, (const uint8_t *)src + done, n);
		done += n;
	}
	return 0;
}

int guest_mem_read(const struct guest_mem *gm, uint64_t paddr, void *dst,
		   uint64_t len)
{
	for (uint64_t done = 0; done < len;) {
		uint64_t n = 4096 - ((paddr + done) & 0xfff);
		const void *p;
		if (n > len - done)
			n = len - done;
		p = guest_mem_ptr(gm, paddr + done, n);
		if (!p)
			return -EFAULT;
		memcpy((uint8_t *)dst + done, p, n);
		done += n;
	}
	return 0;
}

size_t guest_mem_ranges(const struct guest_mem *gm, struct gm_range *out,
			size_t max)
{
	size_t n = 0;
	struct gm_range r[3] = {
		{0, GM_VGA_START},
		{GM_VGA_END, gm->low_end - GM_VGA_END},
		{GM_4G, gm->size - gm->low_end},
	};
	for (int i = 0; i < 3; i++)
		if (r[i].len && n < max)
			out[n++] = r[i];
	return n;
}
