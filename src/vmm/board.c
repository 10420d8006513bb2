/* The vmm's board (vm.h): the platform-core devices wired to each other
 * and to the vCPU, and the device models with the devices they run. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lib/program.h"
#include "vmm/blk_host.h"
#include "vmm/smbios.h"

static void cpu_intr_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	vcpu_set_intr(&vm->vcpu, level);
}

static void cpu_nmi_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	if (level)
		vcpu_raise_nmi(&vm->vcpu);
}

/* ---- devices of the board ---- */

static void a20_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	vcpu_set_a20(&vm->vcpu, level);
}

/* A system reset requested by the guest (port 0x92, the keyboard
 * controller, 0xcf9): handled by the run loop after the burst. */
static void reset_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	if (level) {
		vm->reset_pending = true;
		vcpu_request_exit(&vm->vcpu);
	}
}

/* The chipset's S5 output: the guest powered itself off through ACPI. */
static void power_off_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	if (level)
		vm_request_stop(vm, V2E_EXIT_OK, "guest powered off (ACPI S5)");
}

/* An ISA IRQ line feeds both interrupt controllers, as on a PC with an
 * IOAPIC: the 8259A pin of the same number and IOAPIC pin n (IRQ 0, the
 * PIT, on pin 2: pin 0 carries the 8259A's INT). */
static void isa_irq_set(void *opaque, unsigned irq, bool level)
{
	struct vm *vm = opaque;
	pic_set_irq(&vm->pic, irq, level);
	ioapic_set_irq(&vm->ioapic, irq == 0 ? 2 : irq, level);
}

/* The 8259A's INT: LINT0 of the LAPIC (ExtINT in virtual-wire mode) and
 * IOAPIC pin 0. */
static void pic_intr_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	lapic_set_lint(&vm->lapic, 0, level);
	ioapic_set_irq(&vm->ioapic, 0, level);
}

static uint8_t pic_extint_ack(void *opaque)
{
	struct vm *vm = opaque;
	return pic_intack(&vm->pic);
}

static void ioapic_to_lapic(void *opaque, const struct apic_msg *m)
{
	struct vm *vm = opaque;
	lapic_deliver(&vm->lapic, m);
}

/* The ACPI tables a firmware would leave for this board. */
struct smbios_config vm_board_smbios(const struct vm *vm)
{
	uint64_t ram = vm->cfg->ram_bytes;
	return (struct smbios_config){.ram_bytes = ram,
				      .ram_below_4g = ram < GM_PCI_HOLE ? ram : GM_PCI_HOLE,
				      .version = "pc-i440fx-v2e-" V2E_VERSION,
				      .bios_info = vm->cfg->kernel != NULL};
}

struct acpi_config vm_board_acpi(const struct vm *vm)
{
	return (struct acpi_config){.pm_tmr_32bit = false, .n_com = vm->n_com,
				    .pci_hole_start = (uint32_t)vm->gm.low_end};
}

/* A fixed wall-clock start for deterministic runs (2026-01-01 00:00 UTC),
 * so the RTC reads the same in every run. */
#define ICOUNT_EPOCH 1767225600

/* Where the RTC starts (-rtc base=): a date given wins, else the fixed
 * epoch under -icount, else the host's time, in UTC or local time. */
static int64_t rtc_start(const struct vm_config *cfg)
{
	time_t now;
	struct tm tm;
	if (cfg->rtc_base == RTC_BASE_DATE)
		return cfg->rtc_date;
	if (cfg->icount)
		return ICOUNT_EPOCH;
	now = time(NULL);
	if (cfg->rtc_base == RTC_BASE_LOCALTIME && localtime_r(&now, &tm))
		return (int64_t)now + tm.tm_gmtoff;
	return (int64_t)now;
}

/* ---- the device models ---- */

static uint64_t dmh_now(void *opaque)
{
	struct vm *vm = opaque;
	vm_clock_catch_up(vm);
	return vclock_now(&vm->clock);
}

static void dmh_set_line(void *opaque, unsigned line, bool level)
{
	struct vm *vm = opaque;
	if (line < 16)
		irq_set(&vm->isa_irq[line], level);
	else if (line == IOREQ_LINE_A20)
		vcpu_set_a20(&vm->vcpu, level);
	else if (line >= IOREQ_LINE_PIRQA && line < IOREQ_LINE_PIRQA + 4)
		piix3_set_pirq(&vm->piix3, line - IOREQ_LINE_PIRQA, level);
}

static void dmh_exit(void *opaque, int status, const char *why)
{
	vm_request_stop(opaque, status, "%s", why);
}

static void dmh_reset(void *opaque)
{
	reset_set(opaque, 0, true);
}

static void dmh_dirty(void *opaque, uint64_t gpa, uint64_t len)
{
	struct vm *vm = opaque;
	region_mark_dirty(&vm->mem, gpa, len);
	vcpu_invalidate_code(&vm->vcpu, gpa, len);
}

/* An MSI (SDM vol. 3, "Message Signalled Interrupts"): the address
 * carries the destination and its mode, the data the vector, delivery
 * mode and trigger. */
static void dmh_msi(void *opaque, uint64_t addr, uint32_t data)
{
	struct vm *vm = opaque;
	struct apic_msg m = {
		.vector = (uint8_t)data,
		.mode = (uint8_t)((data >> 8) & 7),
		.dest = (uint8_t)(addr >> 12),
		.logical = (addr >> 2) & 1,
		.level = (data >> 15) & 1,
	};
	lapic_deliver(&vm->lapic, &m);
}

static void dmh_failed(void *opaque, const char *why)
{
	vm_request_stop(opaque, V2E_EXIT_DM_FAILURE, "%s", why);
}

/* The in-process board's DMA: guest RAM, and decoded code dropped. */
static int ram_dma_read(void *opaque, uint64_t gpa, void *buf, size_t n)
{
	struct vm *vm = opaque;
	return guest_mem_read(&vm->gm, gpa, buf, n);
}

static int ram_dma_write(void *opaque, uint64_t gpa, const void *buf, size_t n)
{
	struct vm *vm = opaque;
	int r = guest_mem_write(&vm->gm, gpa, buf, n);
	if (r == 0) {
		region_mark_dirty(&vm->mem, gpa, n);
		vcpu_invalidate_code(&vm->vcpu, gpa, n);
	}
	return r;
}

static void ram_dma_wrote(void *opaque, uint64_t gpa, uint64_t n)
{
	struct vm *vm = opaque;
	region_mark_dirty(&vm->mem, gpa, n);
	vcpu_invalidate_code(&vm->vcpu, gpa, n);
}

/* v2e-dm lives beside v2e. */
static bool split_here(const struct vm_config *cfg, const char *kind)
{
	for (unsigned i = 0; i < cfg->n_dm_split; i++)
		if (!strcmp(cfg->dm_split[i], kind))
			return true;
	return false;
}

static void close_specs(struct dm_device_spec *specs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned f = 0; f < specs[i].n_fds; f++)
			if (specs[i].fds[f] >= 0)
				close(specs[i].fds[f]);
}

/* The device models' own devices on every PC: the keyboard controller,
 * port 0x92, the POST port, fw_cfg and the PIIX3's IDE. The command
 * line's follow (COM ports first, then each -device). */
static const char *const dm_board_devices[] = {"i8042", "port92", "post", "fw_cfg",
					       "piix3-ide", "i8237", "isa-fdc"};

/* ---- disks ---- */

static enum blkctl_cache blk_cache(enum drive_cache c)
{
	switch (c) {
	case DRIVE_CACHE_WRITETHROUGH: return BLKCTL_CACHE_WRITETHROUGH;
	case DRIVE_CACHE_NONE: return BLKCTL_CACHE_NONE;
	case DRIVE_CACHE_UNSAFE: return BLKCTL_CACHE_UNSAFE;
	default: return BLKCTL_CACHE_WRITEBACK;
	}
}

/* One block backend opens every drive that has a file (blk_host.h); a
 * refused image ends the start with status 2, its file named. Drive i of
 * the command line is the backend's vm->blk_drive[i] (-1: no file). */
static int disks_start(struct vm *vm)
{
	const struct drive_list *l = &vm->cfg->drives;
	struct blk_drive_spec spec[DRIVE_MAX];
	char err[600];
	unsigned n = 0;
	int r;

	for (unsigned i = 0; i < l->n; i++) {
		const struct drive_config *d = &l->d[i];
		vm->blk_drive[i] = -1;
		if (!d->file[0])
			continue;
		spec[n] = (struct blk_drive_spec){d->id, d->file, d->format[0] ? d->format : NULL,
						  NULL, d->read_only, d->snapshot,
						  blk_cache(d->cache)};
		vm->blk_drive[i] = (int)n++;
	}
	r = blk_host_start(&vm->blk, NULL, spec, n, &vm->gm, err, sizeof(err));
	if (r < 0) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%.500s", err);
		vm->exit_status = V2E_EXIT_USAGE;
	}
	return r;
}

/* A disk controller's units: props "unit0".."unitN" (kind-specific
 * prefixes: "hd:"/"cd:" for IDE, "fd:" for the floppy) naming its front's
 * disk numbers, and the front's descriptors when any unit has a file. */
static int disks_controller(struct vm *vm, struct dm_device_spec *s, enum drive_if iface,
			    unsigned units, const char *prop_fmt, char *why, size_t n)
{
	const struct drive_list *l = &vm->cfg->drives;
	unsigned drives[DRIVE_MAX], n_drives = 0;
	int r;

	for (unsigned u = 0; u < units; u++) {
		const struct drive_config *d = drive_at(l, iface, u);
		char key[16], val[32] = "";
		int b = d ? vm->blk_drive[d - l->d] : -1;
		if (d && iface == DRIVE_IF_IDE)
			snprintf(val, sizeof(val), "%s", d->media == DRIVE_MEDIA_CDROM ? "cd" : "hd");
		else if (d)
			snprintf(val, sizeof(val), "%s", b >= 0 ? "fd" : "empty");
		if (b >= 0) {
			snprintf(val + strlen(val), sizeof(val) - strlen(val), ":%u", n_drives);
			drives[n_drives++] = (unsigned)b;
		}
		snprintf(key, sizeof(key), prop_fmt, u);
		r = dev_prop_parse(&s->props, key, val, false, why, n);
		if (r < 0)
			return r;
	}
	if (!n_drives)
		return 0;
	s->n_fds = DEV_MAX_FDS;
	return blk_host_connect(vm->blk, drives, n_drives, s->fds, &s->n_fds, why, n);
}

/* The floppy drives in the CMOS, where firmware looks for them: 0x10
 * the drive types (A high nibble, B low; 4 = 1.44 MB, 5 = 2.88 MB, 2 =
 * 1.2 MB, the drive each image size goes in; an empty drive is a 1.44 MB
 * one, as QEMU's default), 0x14's bit 0 and bits 7-6 the drive count. */
static void floppies_cmos(struct vm *vm)
{
	const struct drive_list *l = &vm->cfg->drives;
	unsigned types = 0, count = 0;
	uint8_t equip;

	for (unsigned u = 0; u < DRIVE_FLOPPY_UNITS; u++) {
		const struct drive_config *d = drive_at(l, DRIVE_IF_FLOPPY, u);
		struct blkf_disk info;
		unsigned type = 4;
		int b;
		if (!d)
			continue;
		b = vm->blk_drive[d - l->d];
		if (b >= 0 && blk_host_info(vm->blk, (unsigned)b, &info) == 0)
			type = info.sectors == 5760 ? 5 : info.sectors == 2400 || info.sectors == 720 ? 2 : 4;
		types |= type << (u ? 0 : 4);
		count++;
	}
	rtc_cmos_set(&vm->rtc, 0x10, (uint8_t)types);
	equip = rtc_cmos_get(&vm->rtc, 0x14) & 0x3e;
	if (count)
		equip |= (uint8_t)(0x01 | (count - 1) << 6);
	rtc_cmos_set(&vm->rtc, 0x14, equip);
}

/* The board's own settings of a device it always has. */
static int board_device_setup(struct vm *vm, const struct dev_kind *k, struct dm_device_spec *s,
			      char *why, size_t n)
{
	if (!strcmp(k->name, "piix3-ide")) {
		/* No firmware to turn the channels' decoding on: start with it
		 * on, as SeaBIOS leaves it. */
		int r = vm->cfg->kernel ? dev_prop_parse(&s->props, "decode", "on", false, why, n) : 0;
		return r ? r : disks_controller(vm, s, DRIVE_IF_IDE, DRIVE_IDE_UNITS, "unit%u", why, n);
	}
	/* No VGA BIOS runs before a -kernel: the device starts in the text
	 * mode it would have left (the loader tells Linux so). */
	if (!strcmp(k->name, "VGA") && vm->cfg->kernel)
		return dev_prop_parse(&s->props, "text", "on", false, why, n);
	if (!strcmp(k->name, "isa-fdc")) {
		floppies_cmos(vm);
		return disks_controller(vm, s, DRIVE_IF_FLOPPY, DRIVE_FLOPPY_UNITS, "drive%u", why, n);
	}
	return 0;
}

/* Every device that is not platform core, in one list: kinds from the
 * table with their properties, and the host resources each kind opens
 * (host_open) as descriptors; then one device model for them (two with
 * -dm-split). Returns 0 or -errno with vm->exit_reason set. */
static int dm_wire(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	const struct display_config *dc = &cfg->display;
	const bool vnc = dc->vnc || dc->vnc_default;
	/* -usb adds the PIIX3's UHCI, as on QEMU's pc, before the -devices
	 * that plug into it; the VGA is QEMU's 00:02.0; a display's input
	 * arrives through display-input. */
	const char *board[ARRAY_SIZE(dm_board_devices) + 3];
	unsigned n_board = 0;
	struct dm_device_spec *all = NULL, *specs[2];
	struct dev_machine m = {cfg->ram_bytes, cfg->kernel, cfg->initrd, cfg->append,
				cfg->nographic, vm->term.tty, (uint32_t)cfg->boot.fail_wait_ms,
				cfg->boot.menu, cfg->boot.splash_ms, NULL, 0, -1, -1, -1};
	struct acpi_config acfg = vm_board_acpi(vm);
	struct acpi_blobs *acpi = NULL;
	struct smbios_blobs *smbios = NULL;
	struct smbios_config scfg = vm_board_smbios(vm);
	struct dev_fw_file fw_files[5];
	unsigned n_all = 0, n[2] = {0, 0};
	char path[4096], err[600];
	int r = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(dm_board_devices); i++)
		board[n_board++] = dm_board_devices[i];
	if (dc->vga)
		board[n_board++] = "VGA";
	if (cfg->usb)
		board[n_board++] = "piix3-usb-uhci";
	if (dc->vga && vnc)
		board[n_board++] = "display-input";
	/* VRAM (QEMU's 16 MiB) is the board's, so that the vmm can map it
	 * as BAR0 and a display can read it; the page only when a display
	 * reads it (the VGA then publishes its registers there). */
	if (dc->vga) {
		r = display_host_init(&vm->display, 16u << 20, err, sizeof(err));
		if (r < 0) {
			snprintf(vm->exit_reason, sizeof(vm->exit_reason), "VGA: %.500s", err);
			return r;
		}
		m.vram_fd = vm->display.vram_fd;
		if (vnc) {
			m.display_shm_fd = vm->display.shm_fd;
			m.display_input_fd = vm->display.input_fd[0];
		}
	}
	vm->dm_host = (struct dm_link_host){
		&vm->ports, &vm->mem, &vm->clock, &vm->gm, {ram_dma_read, ram_dma_write, vm, ram_dma_wrote},
		cfg->icount, vm->start_host_ns, vm, dmh_now, dmh_set_line, dmh_exit,
		dmh_reset, dmh_dirty, dmh_failed, dmh_msi, &vm->pci,
		vm->display.vram, vm->display.vram_size, &vm->display.vram_region,
	};
	if (n_board + cfg->n_dev > DM_LINK_MAX_SPECS) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
			 "%u devices: at most %u in device models", n_board + cfg->n_dev,
			 DM_LINK_MAX_SPECS);
		vm->exit_status = V2E_EXIT_USAGE;
		return -E2BIG;
	}
	/* The firmware gets the same ACPI tables a -kernel boot gets. */
	if (!cfg->kernel) {
		acpi = malloc(sizeof(*acpi));
		smbios = malloc(sizeof(*smbios));
		r = acpi && smbios ? acpi_build_blobs(&acfg, acpi) : -ENOMEM;
		if (!r)
			r = smbios_build(&scfg, smbios);
		if (r < 0) {
			snprintf(vm->exit_reason, sizeof(vm->exit_reason), "firmware tables: %s",
				 strerror(-r));
			goto out;
		}
		fw_files[0] = (struct dev_fw_file){"etc/acpi/rsdp", acpi->rsdp, sizeof(acpi->rsdp)};
		fw_files[1] = (struct dev_fw_file){"etc/acpi/tables", acpi->tables, acpi->tables_len};
		fw_files[2] = (struct dev_fw_file){"etc/table-loader", acpi->loader, acpi->loader_len};
		fw_files[3] = (struct dev_fw_file){"etc/smbios/smbios-tables", smbios->tables,
						   smbios->tables_len};
		fw_files[4] = (struct dev_fw_file){"etc/smbios/smbios-anchor", smbios->anchor,
						   sizeof(smbios->anchor)};
		m.fw_files = fw_files;
		m.n_fw_files = 5;
	}
	all = calloc(3 * DM_LINK_MAX_SPECS, sizeof(*all));
	if (!all || disks_start(vm) < 0) {
		r = all ? -EINVAL : -ENOMEM;
		goto out;
	}
	specs[0] = all + DM_LINK_MAX_SPECS;
	specs[1] = all + 2 * DM_LINK_MAX_SPECS;
	for (unsigned i = 0; i < n_board + cfg->n_dev; i++) {
		struct dm_device_spec *s = &all[n_all];
		char why[300] = "";
		const struct dev_kind *k;

		if (i < n_board) {
			const char *name = board[i];
			k = dev_kind_find(name);
			if (!k) {
				snprintf(vm->exit_reason, sizeof(vm->exit_reason),
					 "no device kind %s in this build", name);
				r = -ENOENT;
				break;
			}
			dev_props_init(&s->props, k);
			r = board_device_setup(vm, k, s, why, sizeof(why));
		} else {
			const struct dev_config *d = &cfg->dev[i - n_board];
			k = d->props.kind;
			s->props = d->props;
			memcpy(s->id, d->id, sizeof(s->id));
		}
		if (k->host_open && r == 0)
			r = k->host_open(&s->props, &m, s->fds, &s->n_fds, why, sizeof(why));
		n_all++;
		if (r < 0) {
			snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s %.32s: %.400s",
				 k->name, s->id[0] ? s->id : k->name, why);
			break;
		}
		for (unsigned j = 0; j < k->n_props; j++)
			if (k->props[j].type == DEV_PROP_CHARDEV && !strcmp(s->props.str[j], "stdio"))
				vm->term_input = true;
	}
	if (r < 0) {
		vm->exit_status = V2E_EXIT_USAGE;
		close_specs(all, n_all);
		goto out;
	}
	for (unsigned i = 0; i < n_all; i++) {
		unsigned which = split_here(cfg, all[i].props.kind->name) ? 1 : 0;
		specs[which][n[which]++] = all[i];
	}

	program_beside_us("v2e-dm", path, sizeof(path));
	for (unsigned d = 0; d < 2; d++) {
		struct dm_link_options o = {d ? "dm1" : "dm0", path, cfg->dm_inprocess,
					    cfg->dm_timeout_ms * 1000000ull, cfg->dm_hostile};
		if (d == 1 && n[1] == 0)
			break;
		r = dm_link_start(&vm->dm[d], &o, &vm->dm_host, specs[d], n[d], err,
				  sizeof(err));
		if (r < 0) {
			snprintf(vm->exit_reason, sizeof(vm->exit_reason),
				 "device model %s: %.450s", o.name, err);
			vm->exit_status = V2E_EXIT_DM_FAILURE;
			if (d == 0)
				close_specs(specs[1], n[1]);
			break;
		}
		vm->n_dm = d + 1;
	}
	if (r == 0 && (r = display_host_start(&vm->display, dc, err, sizeof(err))) < 0) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%.500s", err);
		vm->exit_status = V2E_EXIT_USAGE;
	}
out:
	free(all);
	free(acpi);
	free(smbios);
	return r < 0 ? r : 0;
}

/* The PM1 blocks' offsets from the PIIX4's PMBA. */
static const uint16_t pm_blk_off[3] = {0, ACPI_PM_CNT_OFF, ACPI_PM_TMR_OFF};

/* SeaBIOS reads -boot's order from the CMOS (boot_cmos_order()). */
void vm_set_boot_order(struct vm *vm, const char *order)
{
	unsigned char r3d, r38;
	boot_cmos_order(order, &r3d, &r38);
	rtc_cmos_set(&vm->rtc, 0x3d, r3d);
	rtc_cmos_set(&vm->rtc, 0x38, (uint8_t)((rtc_cmos_get(&vm->rtc, 0x38) & 0x0f) | r38));
}

/* The board: every device with its ports and interrupt line, in one
 * list; vm_destroy() undoes it in reverse. */
int vm_board_wire(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	int r;

	/* Interrupts: ISA lines -> 8259A pair and IOAPIC; 8259A INT ->
	 * LAPIC LINT0 and IOAPIC pin 0; IOAPIC messages -> LAPIC; LAPIC ->
	 * the vCPU's INTR and NMI, answering its acknowledge cycle. */
	vm->cpu_intr = (struct irq_line){cpu_intr_set, vm, 0};
	vm->cpu_nmi = (struct irq_line){cpu_nmi_set, vm, 0};
	lapic_init(&vm->lapic, 0, &vm->clock, &vm->cpu_intr, &vm->cpu_nmi,
		   ioapic_eoi, &vm->ioapic, pic_extint_ack, vm);
	ioapic_init(&vm->ioapic, 1, ioapic_to_lapic, vm);
	vm->pic_intr = (struct irq_line){pic_intr_set, vm, 0};
	pic_init(&vm->pic, &vm->pic_intr);
	for (unsigned i = 0; i < 16; i++)
		vm->isa_irq[i] = (struct irq_line){isa_irq_set, vm, i};
	r = region_claim(&vm->mem, LAPIC_BASE, LAPIC_SIZE, &lapic_ops, &vm->lapic,
			  "lapic");
	if (!r)
		r = region_claim(&vm->mem, IOAPIC_BASE, IOAPIC_SIZE, &ioapic_ops,
				  &vm->ioapic, "ioapic");
	if (!r)
		r = region_claim(&vm->ports, 0x20, 2, &pic_master_ops, &vm->pic, "pic1");
	if (!r)
		r = region_claim(&vm->ports, 0xa0, 2, &pic_slave_ops, &vm->pic, "pic2");
	if (!r)
		r = region_claim(&vm->ports, 0x4d0, 2, &pic_elcr_ops, &vm->pic, "elcr");
	if (r)
		return r;

	pit_init(&vm->pit, &vm->isa_irq[0], &vm->clock);
	r = region_claim(&vm->ports, 0x40, 4, &pit_ops, &vm->pit, "pit");
	if (!r)
		r = region_claim(&vm->ports, 0x61, 1, &pit_port61_ops, &vm->pit,
				  "port61");
	if (r)
		return r;

	vm->a20_line = (struct irq_line){a20_set, vm, 0};
	vm->reset_line = (struct irq_line){reset_set, vm, 0};

	/* ACPI fixed hardware: SCI on ISA IRQ 9, S5 ends the VM, 0xcf9
	 * resets it like port 0x92. */
	vm->power_off_line = (struct irq_line){power_off_set, vm, 0};
	acpi_pm_init(&vm->acpi_pm, &vm->clock, vm_board_acpi(vm).pm_tmr_32bit,
		     &vm->isa_irq[ACPI_SCI_IRQ], &vm->power_off_line, &vm->reset_line);
	/* The PM1 blocks decode where the PIIX4's PMBA puts them (piix4_pm.h). */
	{
		static const char *const names[3] = {"pm1-evt", "pm1-cnt", "pm-tmr"};
		const struct io_ops *ops[3] = {&acpi_pm_evt_ops, &acpi_pm_cnt_ops,
					       &acpi_pm_tmr_ops};
		static const uint16_t len[3] = {ACPI_PM_EVT_LEN, ACPI_PM_CNT_LEN, ACPI_PM_TMR_LEN};
		for (unsigned i = 0; i < 3 && !r; i++) {
			struct region_desc d = {.name = names[i], .kind = REGION_IO,
						.base = ACPI_PM_BASE + pm_blk_off[i], .size = len[i],
						.enabled = true, .ops = ops[i], .opaque = &vm->acpi_pm};
			r = region_add(&vm->ports, &d, &vm->pm_blk[i]);
		}
	}
	if (!r)
		r = region_claim(&vm->ports, ACPI_GPE0_BASE, ACPI_GPE0_LEN, &acpi_pm_gpe_ops,
				  &vm->acpi_pm, "gpe0");
	if (r)
		return r;

	/* PCI: the i440FX host bridge (config ports 0xcf8-0xcff, passing a
	 * byte at 0xcf9 to the reset control register; PAM over guest RAM's
	 * 0xc0000-0xfffff, all DRAM without firmware) and the PIIX3 ISA
	 * bridge routing PIRQs onto the ISA lines. */
	r = i440fx_init(&vm->i440fx, &vm->pci, &vm->mem,
			guest_mem_ptr(&vm->gm, I440FX_PAM_BASE, I440FX_PAM_SIZE), !cfg->kernel,
			&acpi_pm_reset_ops, &vm->acpi_pm);
	if (!r)
		r = piix3_init(&vm->piix3, &vm->pci, vm->isa_irq);
	if (!r)
		r = piix4_pm_init(&vm->piix4_pm, &vm->pci, &vm->ports, vm->pm_blk, pm_blk_off);
	if (!r)
		r = region_claim(&vm->ports, I440FX_CONFIG_PORT, I440FX_CONFIG_LEN,
				  &i440fx_cf8_ops, &vm->i440fx, "pci-config");
	if (r)
		return r;

	rtc_init(&vm->rtc, &vm->isa_irq[8], &vm->clock, rtc_start(cfg));
	rtc_cmos_set_memory(&vm->rtc, cfg->ram_bytes);
	vm_set_boot_order(vm, cfg->boot.once[0] ? cfg->boot.once : cfg->boot.order);
	r = region_claim(&vm->ports, 0x70, 2, &rtc_ops, &vm->rtc, "rtc");
	if (r)
		return r;

	/* Everything else lives in device models. The terminal's mode is
	 * the vmm's, so it is restored on every exit path, whatever
	 * becomes of a device model. */
	if (cfg->stdio_dev) {
		r = console_open(&vm->term, STDIN_FILENO, STDOUT_FILENO);
		if (r < 0)
			return r;
		vm->term_open = true;
	}
	return dm_wire(vm);
}

void vm_board_unwire(struct vm *vm)
{
	for (unsigned d = vm->n_dm; d-- > 0;)
		dm_link_stop(&vm->dm[d]);
	vm->n_dm = 0;
	/* After the device models: nothing asks for disk data any more. */
	blk_host_stop(vm->blk);
	vm->blk = NULL;
	display_host_stop(&vm->display);
	if (vm->term_open)
		console_close(&vm->term);
	vm->term_open = false;
}


/* The chipset's devices back to their power-on state (a system reset);
 * the device models reset theirs. */
void vm_board_reset(struct vm *vm)
{
	/* The platform core by kind (the RTC keeps its time and CMOS). */
	const struct {
		const char *kind;
		void *dev;
	} core[] = {
		{"lapic", &vm->lapic}, {"ioapic", &vm->ioapic}, {"i8259", &vm->pic},
		{"i8254", &vm->pit},   {"acpi-pm", &vm->acpi_pm}, {"mc146818rtc", &vm->rtc},
		{"i440FX", &vm->i440fx}, {"PIIX3", &vm->piix3}, {"PIIX4_PM", &vm->piix4_pm},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(core); i++) {
		const struct dev_kind *k = dev_kind_find(core[i].kind);
		if (k && k->where == DEV_IN_VMM && k->reset)
			k->reset(core[i].dev);
	}
	for (unsigned d = 0; d < vm->n_dm; d++)
		dm_link_reset(&vm->dm[d]);
}
