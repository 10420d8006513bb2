/* The I/O dispatch (vm.h): the machine as the vCPU's engine sees it.
 * An emulated access and a hardware-virtualization exit reach devices
 * through the same functions: the clock is brought to the access's
 * instruction, then the port or MMIO space routes it to a platform
 * device or a device model; RAM pages come from the same memory map. */
#include "vmm/vm.h"

/* Devices read the virtual clock: bring it to this instruction before any
 * access reaches them (the run loop only advances it between bursts).
 * Timers due by now fire here, in the middle of the burst. */
void vm_clock_catch_up(struct vm *vm)
{
	vclock_advance_to(&vm->clock, vm_clock_source(vm));
}

/* -d guest_errors: an access the space answered as unclaimed (its
 * counters moved). */
static uint64_t io_read_logged(struct vm *vm, struct region_map *sp, uint64_t addr,
			       unsigned size)
{
	uint64_t misses = sp->unclaimed_reads;
	uint64_t v = region_read(sp, addr, size);
	if (sp->unclaimed_reads != misses)
		qlog_unclaimed(&vm->qlog, sp->name, addr, size, false, 0,
			       vcpu_emulator(&vm->vcpu));
	return v;
}

static void io_write_logged(struct vm *vm, struct region_map *sp, uint64_t addr,
			    unsigned size, uint64_t v)
{
	uint64_t misses = sp->unclaimed_writes;
	region_write(sp, addr, size, v);
	if (sp->unclaimed_writes != misses)
		qlog_unclaimed(&vm->qlog, sp->name, addr, size, true, v,
			       vcpu_emulator(&vm->vcpu));
}

uint64_t vm_io_mmio_read(struct vm *vm, uint64_t paddr, unsigned size)
{
	vm_clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		return io_read_logged(vm, &vm->mem, paddr, size);
	return region_read(&vm->mem, paddr, size);
}

void vm_io_mmio_write(struct vm *vm, uint64_t paddr, unsigned size, uint64_t v)
{
	vm_clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		io_write_logged(vm, &vm->mem, paddr, size, v);
	else
		region_write(&vm->mem, paddr, size, v);
	vm_kick_check(vm);
}

uint32_t vm_io_pio_in(struct vm *vm, uint16_t port, unsigned size)
{
	vm_clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		return (uint32_t)io_read_logged(vm, &vm->ports, port, size);
	return (uint32_t)region_read(&vm->ports, port, size);
}

void vm_io_pio_out(struct vm *vm, uint16_t port, unsigned size, uint32_t v)
{
	vm_clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		io_write_logged(vm, &vm->ports, port, size, v);
	else
		region_write(&vm->ports, port, size, v);
	vm_kick_check(vm);
}

/* ---- the emulator's bus ---- */

static uint8_t *bus_ram_page(void *opaque, uint64_t paddr, bool write)
{
	struct vm *vm = opaque;
	return region_ram_page(&vm->mem, paddr, write);
}

static uint64_t bus_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
	return vm_io_mmio_read(opaque, paddr, size);
}

static void bus_mmio_write(void *opaque, uint64_t paddr, unsigned size, uint64_t v)
{
	vm_io_mmio_write(opaque, paddr, size, v);
}

static uint32_t bus_pio_in(void *opaque, uint16_t port, unsigned size)
{
	return vm_io_pio_in(opaque, port, size);
}

static void bus_pio_out(void *opaque, uint16_t port, unsigned size, uint32_t v)
{
	vm_io_pio_out(opaque, port, size, v);
}

/* REP INS/OUTS as one transfer, when the port's window can move a run
 * of elements at once (a device model's: one ioreq for the whole run). */
static uint32_t bus_pio_string(void *opaque, uint16_t port, unsigned size, bool in,
			       uint64_t paddr, uint32_t count, bool down)
{
	struct vm *vm = opaque;
	const struct region_flat *f = region_find(&vm->ports, port);
	const struct region *r = f ? f->r : NULL;

	if (!r || r->d.kind != REGION_IO || !r->d.ops->string || port + size > f->end)
		return 0;
	vm_clock_catch_up(vm);
	return r->d.ops->string(r->d.opaque, f->off + (port - f->start), size, in, paddr,
				count, down);
}

static uint8_t bus_intr_ack(void *opaque)
{
	struct vm *vm = opaque;
	return lapic_intack(&vm->lapic);
}

static uint64_t bus_tsc_now(void *opaque)
{
	/* The TSC runs at 1 GHz of virtual time. */
	return vm_clock_source(opaque);
}

void vm_io_bus(struct vm *vm, struct cpu_bus *bus)
{
	*bus = (struct cpu_bus){
		.opaque = vm,
		.ram_page = bus_ram_page,
		.mmio_read = bus_mmio_read,
		.mmio_write = bus_mmio_write,
		.pio_in = bus_pio_in,
		.pio_out = bus_pio_out,
		.pio_string = bus_pio_string,
		.intr_ack = bus_intr_ack,
		.tsc_now = bus_tsc_now,
	};
}
