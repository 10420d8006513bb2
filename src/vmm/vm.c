/* One VM's lifetime (vm.h): created with its RAM, its vCPU on an engine,
 * its board and its guest loaded; reset; destroyed. The loop that runs it
 * is vcpu_loop.c, the I/O dispatch io.c, the board board.c, the loaders'
 * side boot.c. */
#include "vmm/vm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/gdbstub.h"
#include "lib/clock.h"
#include "lib/log.h"

void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
{
	va_list ap;
	if (vm->stop)
		return;
	vm->stop = true;
	vm->exit_status = status;
	va_start(ap, fmt);
	vsnprintf(vm->exit_reason, sizeof(vm->exit_reason), fmt, ap);
	va_end(ap);
	vcpu_request_exit(&vm->vcpu);
}

/* ---- the GDB stub's view of the VM ---- */

static void gdb_get_state(void *opaque, struct x86_state *s)
{
	struct vm *vm = opaque;
	vcpu_get_state(&vm->vcpu, s);
}

static void gdb_set_state(void *opaque, const struct x86_state *s)
{
	struct vm *vm = opaque;
	vcpu_set_state(&vm->vcpu, s);
}

static int gdb_mem_rw(void *opaque, uint64_t addr, void *buf, size_t len, bool write)
{
	struct vm *vm = opaque;
	return vm->vcpu.ops->debug_rw(vm->vcpu.e, addr, buf, len, write);
}

static int gdb_set_debug(void *opaque, const struct cpu_debug *d)
{
	struct vm *vm = opaque;
	return vm->vcpu.ops->set_debug(vm->vcpu.e, d);
}

static void gdb_reset(void *opaque)
{
	struct vm *vm = opaque;
	if (vm_reset(vm) != 0)
		vm_request_stop(vm, V2E_EXIT_USAGE, "%s", vm->exit_reason);
}

static void gdb_quit(void *opaque)
{
	vm_request_stop(opaque, V2E_EXIT_OK, "stopped by the debugger");
}

static int gdb_open(struct vm *vm)
{
	struct gdbstub_ops ops = {vm, gdb_get_state, gdb_set_state, gdb_mem_rw,
				  gdb_set_debug, gdb_reset, gdb_quit};
	char err[300];
	int r;

	if (!vm->cfg->gdb)
		return 0;
	r = gdbstub_create(&vm->gdb, vm->cfg->gdb, vm->cfg->gdb_wait, &ops, err,
			   sizeof(err));
	if (r < 0) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "-gdb %.100s: %.300s",
			 vm->cfg->gdb, err);
		vm->exit_status = V2E_EXIT_USAGE;
	}
	return r;
}

/* Guest RAM as regions of the memory map, the PC's layout (guest_mem.h):
 * below the VGA window, from 1 MiB to the PCI hole, and above 4 GiB;
 * 0xC0000-0xFFFFF is the i440FX's to show or hide (PAM, board.c).
 * Platform windows and device models' windows sit beside them at the
 * same priority, so none can overlap RAM. */
static int ram_regions(struct vm *vm)
{
	struct gm_range ram[4];
	size_t n = guest_mem_ranges(&vm->gm, ram, 4);

	for (size_t i = 0; i < n; i++) {
		/* 0xc0000-0xfffff is the i440FX's PAM segments (i440fx.h):
		 * the part of this range below and above them. */
		uint64_t cut_lo = I440FX_PAM_BASE, cut_hi = I440FX_PAM_BASE + I440FX_PAM_SIZE;
		uint64_t start = ram[i].start, end = ram[i].start + ram[i].len;
		uint64_t part[2][2] = {{start, end < cut_lo ? end : cut_lo},
				       {start > cut_hi ? start : cut_hi, end}};
		for (unsigned k = 0; k < 2; k++) {
			struct region_desc d = {
				.name = "ram", .kind = REGION_RAM, .base = part[k][0],
				.size = part[k][1] - part[k][0], .enabled = true,
				.host = vm->gm.host + guest_mem_offset(&vm->gm, part[k][0]),
			};
			int r;
			if (part[k][1] <= part[k][0])
				continue;
			r = region_add(&vm->mem, &d, NULL);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The memory map changed: the vCPU's translations and the code decoded
 * from the range are stale before its next instruction. */
static void mem_changed(void *opaque, uint64_t start, uint64_t end)
{
	struct vm *vm = opaque;
	vcpu_flush_tlb(&vm->vcpu);
	vcpu_invalidate_code(&vm->vcpu, start, end - start);
}

/* Dirty bits were cleared: the next write to each page must miss. */
static void mem_revoke_writes(void *opaque)
{
	struct vm *vm = opaque;
	vcpu_flush_tlb(&vm->vcpu);
}

/* A store that reached RAM through the MMIO path (a page a window cuts). */
static void mem_ram_written(void *opaque, uint64_t addr, uint64_t len)
{
	struct vm *vm = opaque;
	vcpu_invalidate_code(&vm->vcpu, addr, len);
}

/* A running vCPU hears a device model's events (a disk's completion)
 * within a few thousand instructions rather than at its burst's end. Not
 * under -icount: events land at the burst's end there, where the guest
 * is at the same instruction every run. */
static void watch_doorbells(struct vm *vm)
{
	if (vm->cfg->icount || !vm->vcpu.ops->watch)
		return;
	for (unsigned d = 0; d < vm->n_dm; d++) {
		const volatile uint32_t *w = dm_link_doorbell(&vm->dm[d]);
		if (w && !vm->vcpu.ops->watch(vm->vcpu.e, w))
			log_warn("device model %u: events wait for the burst's end", d);
	}
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	const struct vcpu_engine *engine = cfg->no_jit ? &vcpu_engine_interp
						       : &vcpu_engine_jit;
	struct cpu_bus bus;
	struct cpu_model model;
	int r, st;

	memset(vm, 0, sizeof(*vm));
	display_host_none(&vm->display);
	vm->cfg = cfg;
	vm->sigfd = -1;
	r = guest_mem_create(&vm->gm, cfg->ram_bytes);
	if (r < 0)
		return r;
	r = region_map_init(&vm->ports, "port", 0x10000);
	if (r == 0)
		r = region_map_init(&vm->mem, "mmio", 0);
	if (r == 0)
		r = ram_regions(vm);
	if (r < 0)
		goto fail_mem;
	vclock_init(&vm->clock, 0);
	vm->start_host_ns = mono_ns();
	/* The default CPU, with the local APIC it now has (CPUID.1:EDX.APIC). */
	cpu_model_default(&model);
	model.features_edx |= 1u << 9;
	vm_io_bus(vm, &bus);
	vm->vcpu.ops = engine;
	vm->vcpu.e = engine->create(&bus, &model, cfg->ram_bytes / 4096);
	if (!vm->vcpu.e) {
		r = -ENOMEM;
		goto fail_mem;
	}
	region_map_set_listener(&vm->mem, &(struct region_listener){
		vm, mem_changed, mem_revoke_writes, mem_ram_written});
	if (cfg->perf_map) {
		struct cpu *emu = vcpu_emulator(&vm->vcpu);
		char path[64];
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
		if (!emu || !cpu_jit_perf_map(emu, path))
			log_warn("-perfmap: cannot write %s (or the code generator is off)",
				 path);
	}
	if (cfg->log_mask || cfg->log_file) {
		struct cpu_log_sink sink;
		r = qlog_open(&vm->qlog, cfg->log_mask, cfg->log_file);
		if (r < 0) {
			snprintf(vm->exit_reason, sizeof(vm->exit_reason), "-D %.200s: %s",
				 cfg->log_file ? cfg->log_file : "(stderr)", strerror(-r));
			vm->exit_status = V2E_EXIT_USAGE;
			goto fail_log;
		}
		qlog_cpu_sink(&vm->qlog, &sink);
		if (engine->set_log)
			engine->set_log(vm->vcpu.e, cfg->log_mask, &sink);
	}
	/* The guest's files before any device model starts: a kernel or
	 * initrd that cannot be loaded is the user's error (status 2, with
	 * the -m that fits), not a device model's failure. */
	vm->n_com = cfg->n_com;
	st = vm_load_kernel(vm);
	if (st) {
		vm->exit_status = st;
		r = -EINVAL;
		goto fail_board;
	}
	r = vm_board_wire(vm);
	if (r < 0)
		goto fail_board;
	watch_doorbells(vm);
	vm_firmware_handover(vm);
	r = gdb_open(vm);
	if (r < 0)
		goto fail_board;
	return 0;

fail_board:
	vm_board_unwire(vm);
	qlog_close(&vm->qlog);
fail_log:
	engine->destroy(vm->vcpu.e);
fail_mem:
	region_map_destroy(&vm->mem);
	region_map_destroy(&vm->ports);
	vm_unload_firmware(vm);
	guest_mem_destroy(&vm->gm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	gdbstub_destroy(vm->gdb);
	vm->gdb = NULL;
	vm_board_unwire(vm);
	qlog_close(&vm->qlog);
	vm->vcpu.ops->destroy(vm->vcpu.e);
	region_map_destroy(&vm->mem);
	region_map_destroy(&vm->ports);
	vm_unload_firmware(vm);
	guest_mem_destroy(&vm->gm);
}

/* A system reset: the board's devices to their power-on state, then the
 * boot again: the firmware from its reset vector, or the kernel again
 * (direct kernel boot plays the firmware's part). */
int vm_reset(struct vm *vm)
{
	int st;
	vm->reset_pending = false;
	vm_board_reset(vm);
	/* -boot once= held for the first boot only (QEMU's meaning). */
	vm_set_boot_order(vm, vm->cfg->boot.order);
	st = vm_load_kernel(vm);
	if (st == 0)
		vm_firmware_handover(vm);
	return st;
}

