/* Booting (vm.h): the guest's kernel read and loaded as a firmware
 * would, with the ACPI tables a firmware leaves and the CPU state it
 * hands over. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/linux_boot.h"
#include "vmm/multiboot.h"

/* Largest kernel or module file accepted: more than any PC kernel. */
#define MAX_IMAGE (512u << 20)

/* Reads a whole file of at most MAX_IMAGE bytes; NULL with errno set. */
static uint8_t *read_file(const char *path, size_t *len, char *why, size_t n)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	/* O_NONBLOCK: a FIFO given by mistake must not hang the open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, n, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_IMAGE) {
		if (!S_ISREG(st.st_mode))
			snprintf(why, n, "not a regular file (%s)",
				 S_ISDIR(st.st_mode) ? "a directory" : "a device or special file");
		else
			snprintf(why, n, "larger than %u MiB", MAX_IMAGE >> 20);
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf)
		snprintf(why, n, "%s", strerror(ENOMEM));
	while (buf && got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0) {
			snprintf(why, n, "%s", r < 0 ? strerror(errno) : "shorter than its size");
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return buf;
}

static void multiboot_cpu_state(struct vm *vm, const struct mb_entry *e)
{
	struct x86_state s;
	vcpu_reset(&vm->vcpu);
	vcpu_get_state(&vm->vcpu, &s);
	multiboot_entry_state(e, &s);
	vcpu_set_state(&vm->vcpu, &s);
}

static void linux_cpu_state(struct vm *vm, const struct linux_entry *e)
{
	struct x86_state s;
	vcpu_reset(&vm->vcpu);
	vcpu_get_state(&vm->vcpu, &s);
	linux_boot_entry_state(e, &s);
	vcpu_set_state(&vm->vcpu, &s);
}

/* What firmware does before it starts a kernel above 1 MiB: A20 on,
 * through port 0x92 (a device model's) so the port reads back what it
 * did. */
void vm_firmware_handover(struct vm *vm)
{
	region_write(&vm->ports, 0x92, 1, 0x02);
}

int vm_load_kernel(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	uint8_t *img, *initrd = NULL;
	size_t len, ilen = 0;
	struct mb_module mod;
	struct mb_entry e;
	struct linux_entry le;
	struct acpi_config acfg = vm_board_acpi(vm);
	uint32_t rsdp;
	char err[256];
	int r, is_linux;

	if (!cfg->kernel) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "no -kernel given (firmware boot is not supported yet)");
		return V2E_EXIT_USAGE;
	}
	img = read_file(cfg->kernel, &len, err, sizeof(err));
	if (!img) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "-kernel %.200s: %s",
			 cfg->kernel, err);
		return V2E_EXIT_USAGE;
	}
	is_linux = !multiboot_probe(img, len) && linux_boot_probe(img, len);
	if (!is_linux && !multiboot_probe(img, len)) {
		free(img);
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "-kernel %.200s: neither a Multiboot kernel nor a Linux bzImage",
			 cfg->kernel);
		return V2E_EXIT_USAGE;
	}
	if (cfg->initrd) {
		initrd = read_file(cfg->initrd, &ilen, err, sizeof(err));
		if (!initrd) {
			free(img);
			snprintf(vm->exit_reason, sizeof(vm->exit_reason),
				 "-initrd %.200s: %s", cfg->initrd, err);
			return V2E_EXIT_USAGE;
		}
		mod = (struct mb_module){initrd, ilen, cfg->initrd};
	}
	if (is_linux)
		r = linux_boot_load(&vm->gm, img, len, initrd, ilen, cfg->append, &le, err,
				    sizeof(err));
	else {
		/* Multiboot kernels get "PATH ARGS", as from GRUB and QEMU:
		 * those that parse an argv take the first word as argv[0]. */
		char *line = NULL;
		if (asprintf(&line, "%s %s", cfg->kernel, cfg->append ? cfg->append : "") < 0)
			line = NULL;
		r = line ? multiboot_load(&vm->gm, img, len, line, initrd ? &mod : NULL,
					  initrd ? 1 : 0, &e, err, sizeof(err))
			 : -ENOMEM;
		if (!line)
			snprintf(err, sizeof(err), "out of memory");
		free(line);
	}
	free(img);
	free(initrd);
	if (r < 0) {
		if (is_linux && le.ram_needed > cfg->ram_bytes)
			snprintf(vm->exit_reason, sizeof(vm->exit_reason),
				 "-kernel %.100s%s%.100s: %.200s; -m %lluM or more holds them",
				 cfg->kernel, cfg->initrd ? " with -initrd " : "",
				 cfg->initrd ? cfg->initrd : "", err,
				 (unsigned long long)((le.ram_needed + (1 << 20) - 1) >> 20));
		else
			snprintf(vm->exit_reason, sizeof(vm->exit_reason), "-kernel %.200s: %.250s",
				 cfg->kernel, err);
		return V2E_EXIT_USAGE;
	}
	/* The firmware's ACPI tables, in the BIOS area both loaders'
	 * memory maps leave alone. */
	r = acpi_install(&acfg, &vm->gm, &rsdp);
	if (!r && is_linux)
		r = linux_boot_set_acpi_rsdp(&vm->gm, rsdp);
	if (r < 0) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "ACPI tables do not fit in RAM at %#x: %s", ACPI_TABLES_BASE,
			 strerror(-r));
		return V2E_EXIT_USAGE;
	}
	if (is_linux)
		linux_cpu_state(vm, &le);
	else
		multiboot_cpu_state(vm, &e);
	return 0;
}

