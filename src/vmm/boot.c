/* Booting (vm.h): the guest's kernel read and loaded as a firmware
 * would, with the ACPI tables a firmware leaves and the CPU state it
 * hands over; or, without -kernel, the firmware itself mapped where a PC
 * has it and started at the reset vector. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/linux_boot.h"
#include "vmm/multiboot.h"
#include "vmm/platform/i440fx.h"

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
	if (!vm->cfg->kernel)
		return;
	region_write(&vm->ports, 0x92, 1, 0x02);
	/* What SeaBIOS does for the tables' PM1 blocks to answer, and its
	 * PCI interrupt routing: PIRQA-D to IRQs 10, 10, 11, 11, level-
	 * triggered in the ELCR (the links' _CRS then say so). */
	piix4_pm_enable(&vm->piix4_pm, ACPI_PM_BASE);
	piix3_slot_ops.write(&vm->piix3, PIIX3_PIRQRC, 4, 0x0b0b0a0a);
	region_write(&vm->ports, 0x4d1, 1, region_read(&vm->ports, 0x4d1, 1) | 0x0c);
}

/* ---- firmware (no -kernel) ---- */

/* Where -bios NAME is looked for after the -L folders: SeaBIOS's own
 * package, then QEMU's data folder. */
static const char *const bios_dirs[] = {"/usr/share/seabios", "/usr/share/qemu"};

/* The image QEMU's PC machines load when no -bios is given. */
#define BIOS_DEFAULT "bios-256k.bin"
/* QEMU maps the image's last 128 KiB (all of it when smaller) below
 * 1 MiB too, where real-mode code reaches it. */
#define BIOS_ISA_MAX (128u << 10)
#define BIOS_MIN (64u << 10)
#define BIOS_MAX (16u << 20)

/* The path of the firmware image, as QEMU finds it: the name as given
 * when it is readable, else in each -L folder, then the system's. */
static int bios_path(const struct vm_config *cfg, char *path, size_t n)
{
	const char *name = cfg->bios ? cfg->bios : BIOS_DEFAULT;
	if (access(name, R_OK) == 0 || strchr(name, '/')) {
		snprintf(path, n, "%s", name);
		return 0;
	}
	for (unsigned i = 0; i < cfg->n_bios_dirs + ARRAY_SIZE(bios_dirs); i++) {
		const char *dir = i < cfg->n_bios_dirs ? cfg->bios_dirs[i]
						       : bios_dirs[i - cfg->n_bios_dirs];
		if ((size_t)snprintf(path, n, "%s/%s", dir, name) < n && access(path, R_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Maps the firmware: a ROM ending at 4 GiB, read at the reset vector,
 * and its last 128 KiB as an alias ending at 1 MiB. Guest RAM leaves
 * 0xC0000-0xFFFFF to the chipset: the alias sits under the i440FX's PAM
 * shadow RAM (I440FX_PAM_PRIORITY), so the BIOS area reads the firmware
 * wherever PAM has the shadow off, as it is at power-on; the firmware
 * turns it on and copies itself there. */
static int firmware_map(struct vm *vm, const uint8_t *img, size_t len)
{
	size_t isa = len < BIOS_ISA_MAX ? len : BIOS_ISA_MAX;
	uint8_t *rom = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct region_desc d = {
		.name = "bios", .kind = REGION_ROM, .base = GM_4G - len, .size = len,
		.enabled = true, .host = rom,
	};
	int r;

	if (rom == MAP_FAILED)
		return -ENOMEM;
	vm->bios = rom;
	vm->bios_len = len;
	r = region_add(&vm->mem, &d, &vm->bios_rom);
	if (r == 0)
		r = region_rom_write(vm->bios_rom, 0, img, len);
	if (r == 0) {
		struct region_desc a = {
			.name = "isa-bios", .kind = REGION_ALIAS, .base = 0x100000 - isa,
			.size = isa, .priority = I440FX_PAM_PRIORITY - 1, .enabled = true,
			.target = vm->bios_rom, .offset = len - isa,
		};
		r = region_add(&vm->mem, &a, &vm->bios_isa);
	}
	return r;
}

void vm_unload_firmware(struct vm *vm)
{
	if (vm->bios)
		munmap(vm->bios, vm->bios_len);
	vm->bios = NULL;
	vm->bios_rom = vm->bios_isa = NULL;
}

/* The firmware's image mapped and the vCPU at the reset vector. */
static int vm_load_firmware(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	char path[4096], err[256];
	const char *opt = cfg->bios ? "-bios" : "firmware";
	uint8_t *img;
	size_t len;
	int r;

	if (vm->bios) {
		vcpu_reset(&vm->vcpu);
		return 0;
	}
	if (bios_path(cfg, path, sizeof(path)) < 0) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "%s %.200s: not found (as given, in -L folders, /usr/share/seabios "
			 "or /usr/share/qemu: install Debian's seabios, or give -kernel)",
			 opt, cfg->bios ? cfg->bios : BIOS_DEFAULT);
		return V2E_EXIT_USAGE;
	}
	img = read_file(path, &len, err, sizeof(err));
	if (!img) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s %.200s: %s", opt, path,
			 err);
		return V2E_EXIT_USAGE;
	}
	/* QEMU's rule: whole 64 KiB blocks (v2e: at most 16 MiB, below the
	 * IOAPIC's and LAPIC's windows). */
	if (len < BIOS_MIN || len > BIOS_MAX || len % BIOS_MIN) {
		free(img);
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "%s %.200s: %zu bytes; a firmware image is a multiple of 64 KiB, "
			 "from 64 KiB to 16 MiB", opt, path, len);
		return V2E_EXIT_USAGE;
	}
	r = firmware_map(vm, img, len);
	free(img);
	if (r < 0) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "%s %.200s: cannot map it below 4 GiB: %s", opt, path, strerror(-r));
		return V2E_EXIT_HOST;
	}
	vcpu_reset(&vm->vcpu);
	return 0;
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

	if (!cfg->kernel)
		return vm_load_firmware(vm);
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
	/* The VGA starts in the BIOS's text mode (board.c): say so. */
	if (!r && is_linux && cfg->display.vga)
		r = linux_boot_set_vga_text(&vm->gm);
	if (!r) {
		struct smbios_config scfg = vm_board_smbios(vm);
		r = smbios_install(&scfg, &vm->gm, SMBIOS_BASE);
	}
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

