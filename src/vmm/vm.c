/* The VM and its run loop (see vm.h): bursts of the vCPU between clock
 * updates, timers fired from the virtual clock, idle time jumped over in
 * deterministic mode and slept through in real-time mode. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/gdbstub.h"
#include "vmm/linux_boot.h"
#include "vmm/multiboot.h"
#include "lib/clock.h"
#include "lib/log.h"

/* Largest kernel or module file accepted: more than any PC kernel. */
#define MAX_IMAGE (512u << 20)
/* Instructions per burst in real-time mode, between clock reads. */
#define RT_BURST 200000
/* The first burst after a halted vCPU woke: an idle guest's interrupt
 * handler (about 3,000 instructions for Linux's tick) runs and halts
 * again within it, so no host timer is armed for it: a wake-up costs one
 * system call instead of three. A guest that keeps running gets the host
 * timer from its next burst on; its timers are at most this burst late. */
#define RT_WAKE_BURST 20000

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
	cpu_request_exit(vm->cpu);
}


/* The virtual time now: retired instructions (plus skipped idle time) in
 * deterministic mode, the host's monotonic clock otherwise. */
static uint64_t vm_clock_source(const struct vm *vm)
{
	if (vm->cfg->icount)
		return (cpu_icount(vm->cpu) << vm->cfg->icount_shift) + vm->idle_ns;
	return mono_ns() - vm->start_host_ns;
}

/* ---- real-time mode: ending a burst at the next timer deadline ---- */

/* The host timer's signal: the vCPU finishes its block and returns, the
 * run loop moves the clock and fires what is due. The handler finds the
 * vCPU in the signal's value (no global state), and only stores a flag. */
#define KICK_SIGNAL (SIGRTMIN + 1)

static void kick_handler(int sig, siginfo_t *si, void *uc)
{
	cpu_request_exit(si->si_value.sival_ptr);
}

static void kick_timer_create(struct vm *vm)
{
	struct sigaction sa;
	struct sigevent sev;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kick_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = KICK_SIGNAL;
	sev.sigev_value.sival_ptr = vm->cpu;
	sev._sigev_un._tid = gettid();
	/* Without it, timers are only as late as one burst: still works. */
	vm->kick_armed = VCLOCK_NEVER;
	vm->kick_timer_ok = sigaction(KICK_SIGNAL, &sa, NULL) == 0 &&
			    timer_create(CLOCK_MONOTONIC, &sev, &vm->kick_timer) == 0;
}

/* Arms the host timer for the clock's next deadline when that changed
 * (the last one fired, a device armed another). One syscall at most, and
 * only in real-time mode. */
static void kick_timer_sync(struct vm *vm)
{
	struct itimerspec its;
	uint64_t next, at;

	if (!vm->kick_timer_ok)
		return;
	next = vclock_next_deadline(&vm->clock);
	if (next == vm->kick_armed)
		return;
	vm->kick_armed = next;
	memset(&its, 0, sizeof(its));
	if (next != VCLOCK_NEVER) {
		at = vm->start_host_ns + next;
		its.it_value.tv_sec = (time_t)(at / 1000000000);
		its.it_value.tv_nsec = (long)(at % 1000000000);
	}
	timer_settime(vm->kick_timer, TIMER_ABSTIME, &its, NULL);
}

/* After a device access: only a deadline earlier than the armed one
 * needs the host timer now; a later one is armed between bursts (the
 * early kick costs one empty exit). */
static void kick_timer_check(struct vm *vm)
{
	if (vm->kick_timer_ok && !vm->wake_burst &&
	    vclock_next_deadline(&vm->clock) < vm->kick_armed)
		kick_timer_sync(vm);
}

/* Before a halted vCPU sleeps: the sleep's own timeout wakes it at the
 * deadline, and a signal on top would cost a delivery and a return for
 * nothing (an idle guest wakes hundreds of times a second). */
static void kick_timer_disarm(struct vm *vm)
{
	struct itimerspec its;
	if (!vm->kick_timer_ok || vm->kick_armed == VCLOCK_NEVER)
		return;
	memset(&its, 0, sizeof(its));
	timer_settime(vm->kick_timer, TIMER_ABSTIME, &its, NULL);
	vm->kick_armed = VCLOCK_NEVER;
}

static void kick_timer_delete(struct vm *vm)
{
	if (vm->kick_timer_ok)
		timer_delete(vm->kick_timer);
	vm->kick_timer_ok = false;
}

/* ---- the bus the vCPU sees ---- */

/* Devices read the virtual clock: bring it to this instruction before any
 * access reaches them (the run loop only advances it between bursts).
 * Timers due by now fire here, in the middle of the burst. */
static void clock_catch_up(struct vm *vm)
{
	vclock_advance_to(&vm->clock, vm_clock_source(vm));
}

static uint8_t *bus_ram_page(void *opaque, uint64_t paddr, bool write)
{
	struct vm *vm = opaque;
	return guest_mem_ptr(&vm->gm, paddr, 4096);
}

/* -d guest_errors: an access the space answered as unclaimed (its
 * counters moved). */
static uint64_t io_read_logged(struct vm *vm, struct iospace *sp, uint64_t addr,
			       unsigned size)
{
	uint64_t misses = sp->unclaimed_reads;
	uint64_t v = iospace_read(sp, addr, size);
	if (sp->unclaimed_reads != misses)
		qlog_unclaimed(&vm->qlog, sp == &vm->ports ? "port" : "mmio", addr, size,
			       false, 0, vm->cpu);
	return v;
}

static void io_write_logged(struct vm *vm, struct iospace *sp, uint64_t addr,
			    unsigned size, uint64_t v)
{
	uint64_t misses = sp->unclaimed_writes;
	iospace_write(sp, addr, size, v);
	if (sp->unclaimed_writes != misses)
		qlog_unclaimed(&vm->qlog, sp == &vm->ports ? "port" : "mmio", addr, size,
			       true, v, vm->cpu);
}

static uint64_t bus_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		return io_read_logged(vm, &vm->mmio, paddr, size);
	return iospace_read(&vm->mmio, paddr, size);
}

static void bus_mmio_write(void *opaque, uint64_t paddr, unsigned size,
			   uint64_t v)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		io_write_logged(vm, &vm->mmio, paddr, size, v);
	else
		iospace_write(&vm->mmio, paddr, size, v);
	kick_timer_check(vm);
}

static uint32_t bus_pio_in(void *opaque, uint16_t port, unsigned size)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		return (uint32_t)io_read_logged(vm, &vm->ports, port, size);
	return (uint32_t)iospace_read(&vm->ports, port, size);
}

static void bus_pio_out(void *opaque, uint16_t port, unsigned size, uint32_t v)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	if (unlikely(qlog_on(&vm->qlog, CPU_LOG_GUEST)))
		io_write_logged(vm, &vm->ports, port, size, v);
	else
		iospace_write(&vm->ports, port, size, v);
	kick_timer_check(vm);
}

/* REP INS/OUTS to a device model's port: one ioreq for the whole run. */
static uint32_t bus_pio_string(void *opaque, uint16_t port, unsigned size, bool in,
			       uint64_t paddr, uint32_t count, bool down)
{
	struct vm *vm = opaque;
	const struct io_window *w = iospace_find(&vm->ports, port);
	struct dm_link *l = dm_link_of_window(w);

	if (!l || port + size > w->base + w->len)
		return 0;
	clock_catch_up(vm);
	return dm_link_pio_string(l, port, size, in, paddr, count, down);
}

static uint8_t bus_intr_ack(void *opaque)
{
	struct vm *vm = opaque;
	return lapic_intack(&vm->lapic);
}

static void cpu_intr_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	cpu_set_intr(vm->cpu, level);
}

static void cpu_nmi_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	if (level)
		cpu_raise_nmi(vm->cpu);
}

static uint64_t bus_tsc_now(void *opaque)
{
	/* The TSC runs at 1 GHz of virtual time. */
	return vm_clock_source(opaque);
}

/* ---- devices of the board ---- */

static void a20_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	cpu_set_a20(vm->cpu, level);
}

/* A system reset requested by the guest (port 0x92, the keyboard
 * controller, 0xcf9): handled by the run loop after the burst. */
static void reset_set(void *opaque, unsigned pin, bool level)
{
	struct vm *vm = opaque;
	if (level) {
		vm->reset_pending = true;
		cpu_request_exit(vm->cpu);
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
static struct acpi_config board_acpi(const struct vm *vm)
{
	return (struct acpi_config){.pm_tmr_32bit = false, .n_com = vm->n_com};
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

static const uint16_t com_base[CONFIG_MAX_SERIAL] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
static const unsigned com_irq[CONFIG_MAX_SERIAL] = {4, 3, 4, 3};

/* ---- the device models ---- */

static uint64_t dmh_now(void *opaque)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	return vclock_now(&vm->clock);
}

static void dmh_set_line(void *opaque, unsigned line, bool level)
{
	struct vm *vm = opaque;
	if (line < 16)
		irq_set(&vm->isa_irq[line], level);
	else if (line == IOREQ_LINE_A20)
		cpu_set_a20(vm->cpu, level);
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
	cpu_invalidate_code(vm->cpu, gpa, len);
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
	if (r == 0)
		cpu_invalidate_code(vm->cpu, gpa, n);
	return r;
}

/* v2e-dm lives beside v2e. */
static void dm_program(char *buf, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 8);
	char *slash;
	if (len <= 0) {
		snprintf(buf, n, "v2e-dm");
		return;
	}
	buf[len] = 0;
	slash = strrchr(buf, '/');
	snprintf(slash ? slash + 1 : buf, n - (size_t)(slash ? slash + 1 - buf : 0), "v2e-dm");
}

static int dup_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
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

static void add_fd(struct dm_device_spec *s, int fd)
{
	s->fds[s->n_fds++] = fd;
}

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

/* Every device that is not platform core, in one list, with the host
 * resources each needs as descriptors; then one device model for them
 * (two with -dm-split). Returns 0 or -errno with vm->exit_reason set. */
static int dm_wire(struct vm *vm)
{
	static const char *const com_id[CONFIG_MAX_SERIAL] = {"com1", "com2", "com3", "com4"};
	const struct vm_config *cfg = vm->cfg;
	struct dm_device_spec specs[2][DM_LINK_MAX_SPECS], all[DM_LINK_MAX_SPECS];
	unsigned n_all = 0, n[2] = {0, 0};
	char path[4096], err[600];
	int r;

	vm->dm_host = (struct dm_link_host){
		&vm->ports, &vm->mmio, &vm->clock, &vm->gm, {ram_dma_read, ram_dma_write, vm},
		cfg->icount, vm->start_host_ns, vm, dmh_now, dmh_set_line, dmh_exit,
		dmh_reset, dmh_dirty, dmh_failed, dmh_msi,
	};
	memset(all, 0, sizeof(all));
	for (unsigned i = 0; i < vm->n_com; i++) {
		const struct serial_config *sc = &cfg->serial[i];
		struct dm_device_spec *s = &all[n_all++];
		*s = (struct dm_device_spec){"uart", com_id[i], com_base[i], 8, com_irq[i], 0,
					     {-1, -1, -1, -1}, 0};
		switch (i < cfg->n_serial ? sc->kind : SERIAL_NONE) {
		case SERIAL_STDIO:
			add_fd(s, dup_fd(STDOUT_FILENO));
			add_fd(s, dup_fd(STDIN_FILENO));
			s->param = vm->term.tty; /* Ctrl-A escapes on a terminal */
			vm->term_input = true;
			break;
		case SERIAL_FILE:
			add_fd(s, open(sc->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
			if (s->fds[0] < 0) {
				r = -errno;
				snprintf(vm->exit_reason, sizeof(vm->exit_reason),
					 "-serial file:%.200s: %s", sc->path, strerror(-r));
				vm->exit_status = V2E_EXIT_USAGE;
				close_specs(all, n_all);
				return r;
			}
			break;
		default:
			break;
		}
	}
	all[n_all++] = (struct dm_device_spec){"i8042", "i8042", 0x60, 5, 1, 0, {-1, -1, -1, -1}, 0};
	all[n_all++] = (struct dm_device_spec){"port92", "port92", 0x92, 1, 0, 0, {-1, -1, -1, -1}, 0};
	all[n_all++] = (struct dm_device_spec){"post", "post", 0x80, 1, 0, 0, {-1, -1, -1, -1}, 0};
	if (cfg->debug_exit)
		all[n_all++] = (struct dm_device_spec){"isa-debug-exit", "isa-debug-exit",
						       cfg->debug_exit_base, cfg->debug_exit_size,
						       0, 0, {-1, -1, -1, -1}, 0};
	{
		/* fw_cfg: the kernel, initrd and command line as descriptors
		 * (a file that does not open is the loader's to report). */
		struct dm_device_spec *s = &all[n_all++];
		int kfd = cfg->kernel ? open(cfg->kernel, O_RDONLY | O_CLOEXEC) : -1;
		int ifd = cfg->initrd ? open(cfg->initrd, O_RDONLY | O_CLOEXEC) : -1;
		int cfd = kfd >= 0 && cfg->append ? string_fd(cfg->append) : -1;
		*s = (struct dm_device_spec){"fw_cfg", "fw_cfg", 0x510, cfg->ram_bytes, 0,
					     cfg->nographic ? DM_FWCFG_NOGRAPHIC : 0,
					     {-1, -1, -1, -1}, 0};
		if (kfd >= 0) {
			add_fd(s, kfd);
			s->param |= DM_FWCFG_KERNEL;
			if (ifd >= 0) {
				add_fd(s, ifd);
				s->param |= DM_FWCFG_INITRD;
			}
			if (cfd >= 0) {
				add_fd(s, cfd);
				s->param |= DM_FWCFG_CMDLINE;
			}
		} else if (ifd >= 0) {
			close(ifd);
		}
	}
	for (unsigned i = 0; i < cfg->n_test_devices; i++)
		all[n_all++] = (struct dm_device_spec){cfg->test_device[i], cfg->test_device[i],
						       cfg->test_device_base[i], 8, 5, 0,
						       {-1, -1, -1, -1}, 0};
	for (unsigned i = 0; i < n_all; i++) {
		unsigned which = split_here(cfg, all[i].kind) ? 1 : 0;
		specs[which][n[which]++] = all[i];
	}

	dm_program(path, sizeof(path));
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
			return r;
		}
		vm->n_dm = d + 1;
	}
	return 0;
}

/* The board: every device with its ports and interrupt line, in one
 * list; vm_destroy() undoes it in reverse. */
static int board_wire(struct vm *vm)
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
	r = iospace_claim(&vm->mmio, LAPIC_BASE, LAPIC_SIZE, &lapic_ops, &vm->lapic,
			  "lapic");
	if (!r)
		r = iospace_claim(&vm->mmio, IOAPIC_BASE, IOAPIC_SIZE, &ioapic_ops,
				  &vm->ioapic, "ioapic");
	if (!r)
		r = iospace_claim(&vm->ports, 0x20, 2, &pic_master_ops, &vm->pic, "pic1");
	if (!r)
		r = iospace_claim(&vm->ports, 0xa0, 2, &pic_slave_ops, &vm->pic, "pic2");
	if (!r)
		r = iospace_claim(&vm->ports, 0x4d0, 2, &pic_elcr_ops, &vm->pic, "elcr");
	if (r)
		return r;

	pit_init(&vm->pit, &vm->isa_irq[0], &vm->clock);
	r = iospace_claim(&vm->ports, 0x40, 4, &pit_ops, &vm->pit, "pit");
	if (!r)
		r = iospace_claim(&vm->ports, 0x61, 1, &pit_port61_ops, &vm->pit,
				  "port61");
	if (r)
		return r;

	vm->a20_line = (struct irq_line){a20_set, vm, 0};
	vm->reset_line = (struct irq_line){reset_set, vm, 0};

	/* ACPI fixed hardware: SCI on ISA IRQ 9, S5 ends the VM, 0xcf9
	 * resets it like port 0x92. */
	vm->power_off_line = (struct irq_line){power_off_set, vm, 0};
	acpi_pm_init(&vm->acpi_pm, &vm->clock, board_acpi(vm).pm_tmr_32bit,
		     &vm->isa_irq[ACPI_SCI_IRQ], &vm->power_off_line, &vm->reset_line);
	r = iospace_claim(&vm->ports, ACPI_PM_BASE, ACPI_PM_EVT_LEN, &acpi_pm_evt_ops,
			  &vm->acpi_pm, "pm1-evt");
	if (!r)
		r = iospace_claim(&vm->ports, ACPI_PM_BASE + ACPI_PM_CNT_OFF, ACPI_PM_CNT_LEN,
				  &acpi_pm_cnt_ops, &vm->acpi_pm, "pm1-cnt");
	if (!r)
		r = iospace_claim(&vm->ports, ACPI_PM_BASE + ACPI_PM_TMR_OFF, ACPI_PM_TMR_LEN,
				  &acpi_pm_tmr_ops, &vm->acpi_pm, "pm-tmr");
	if (!r)
		r = iospace_claim(&vm->ports, ACPI_GPE0_BASE, ACPI_GPE0_LEN, &acpi_pm_gpe_ops,
				  &vm->acpi_pm, "gpe0");
	if (!r)
		r = iospace_claim(&vm->ports, ACPI_RESET_PORT, 1, &acpi_pm_reset_ops,
				  &vm->acpi_pm, "reset-control");
	if (r)
		return r;

	rtc_init(&vm->rtc, &vm->isa_irq[8], &vm->clock, rtc_start(cfg));
	rtc_cmos_set_memory(&vm->rtc, cfg->ram_bytes);
	r = iospace_claim(&vm->ports, 0x70, 2, &rtc_ops, &vm->rtc, "rtc");
	if (r)
		return r;

	/* Everything else lives in device models. The terminal's mode is
	 * the vmm's, so it is restored on every exit path, whatever
	 * becomes of a device model. */
	for (unsigned i = 0; i < cfg->n_serial; i++)
		if (cfg->serial[i].kind == SERIAL_STDIO) {
			r = console_open(&vm->term, STDIN_FILENO, STDOUT_FILENO);
			if (r < 0)
				return r;
			vm->term_open = true;
		}
	return dm_wire(vm);
}

static void board_unwire(struct vm *vm)
{
	for (unsigned d = vm->n_dm; d-- > 0;)
		dm_link_stop(&vm->dm[d]);
	vm->n_dm = 0;
	if (vm->term_open)
		console_close(&vm->term);
	vm->term_open = false;
}

/* ---- the GDB stub's view of the VM ---- */

static int vm_reset(struct vm *vm);

static void gdb_get_state(void *opaque, struct x86_state *s)
{
	struct vm *vm = opaque;
	cpu_get_state(vm->cpu, s);
}

static void gdb_set_state(void *opaque, const struct x86_state *s)
{
	struct vm *vm = opaque;
	cpu_set_state(vm->cpu, s);
}

static int gdb_mem_rw(void *opaque, uint64_t addr, void *buf, size_t len, bool write)
{
	struct vm *vm = opaque;
	return cpu_debug_rw(vm->cpu, addr, buf, len, write);
}

static int gdb_set_debug(void *opaque, const struct cpu_debug *d)
{
	struct vm *vm = opaque;
	return cpu_set_debug(vm->cpu, d);
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

static void firmware_handover(struct vm *vm);

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	struct cpu_bus bus = {
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
	struct cpu_model model;
	int r, st;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->sigfd = -1;
	r = guest_mem_create(&vm->gm, cfg->ram_bytes);
	if (r < 0)
		return r;
	iospace_init(&vm->ports, "port");
	iospace_init(&vm->mmio, "mmio");
	vclock_init(&vm->clock, 0);
	vm->start_host_ns = mono_ns();
	/* The default CPU, with the local APIC it now has (CPUID.1:EDX.APIC). */
	cpu_model_default(&model);
	model.features_edx |= 1u << 9;
	vm->cpu = cpu_create(&bus, &model, cfg->ram_bytes / 4096);
	if (!vm->cpu) {
		r = -ENOMEM;
		goto fail_mem;
	}
	if (cfg->no_jit)
		cpu_set_jit(vm->cpu, false);
	if (cfg->perf_map) {
		char path[64];
		snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
		if (!cpu_jit_perf_map(vm->cpu, path))
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
		cpu_set_log(vm->cpu, cfg->log_mask, &sink);
	}
	/* The guest's files before any device model starts: a kernel or
	 * initrd that cannot be loaded is the user's error (status 2, with
	 * the -m that fits), not a device model's failure. */
	vm->n_com = cfg->n_serial ? cfg->n_serial : cfg->nodefaults ? 0 : 1;
	st = vm_load_kernel(vm);
	if (st) {
		vm->exit_status = st;
		r = -EINVAL;
		goto fail_board;
	}
	r = board_wire(vm);
	if (r < 0)
		goto fail_board;
	firmware_handover(vm);
	r = gdb_open(vm);
	if (r < 0)
		goto fail_board;
	return 0;

fail_board:
	board_unwire(vm);
	qlog_close(&vm->qlog);
fail_log:
	cpu_destroy(vm->cpu);
fail_mem:
	iospace_destroy(&vm->mmio);
	iospace_destroy(&vm->ports);
	guest_mem_destroy(&vm->gm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	gdbstub_destroy(vm->gdb);
	vm->gdb = NULL;
	board_unwire(vm);
	qlog_close(&vm->qlog);
	cpu_destroy(vm->cpu);
	iospace_destroy(&vm->mmio);
	iospace_destroy(&vm->ports);
	guest_mem_destroy(&vm->gm);
}

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
	cpu_reset(vm->cpu);
	cpu_get_state(vm->cpu, &s);
	multiboot_entry_state(e, &s);
	cpu_set_state(vm->cpu, &s);
}

static void linux_cpu_state(struct vm *vm, const struct linux_entry *e)
{
	struct x86_state s;
	cpu_reset(vm->cpu);
	cpu_get_state(vm->cpu, &s);
	linux_boot_entry_state(e, &s);
	cpu_set_state(vm->cpu, &s);
}

/* What firmware does before it starts a kernel above 1 MiB: A20 on,
 * through port 0x92 (a device model's) so the port reads back what it
 * did. */
static void firmware_handover(struct vm *vm)
{
	iospace_write(&vm->ports, 0x92, 1, 0x02);
}

int vm_load_kernel(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	uint8_t *img, *initrd = NULL;
	size_t len, ilen = 0;
	struct mb_module mod;
	struct mb_entry e;
	struct linux_entry le;
	struct acpi_config acfg = board_acpi(vm);
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

/* A system reset: the chipset's devices to their power-on state, then
 * the boot again (direct kernel boot plays the firmware's part). */
static int vm_reset(struct vm *vm)
{
	vm->reset_pending = false;
	lapic_reset(&vm->lapic);
	ioapic_reset(&vm->ioapic);
	pic_reset(&vm->pic);
	pit_reset(&vm->pit);
	acpi_pm_reset(&vm->acpi_pm);
	int st;
	for (unsigned d = 0; d < vm->n_dm; d++)
		dm_link_reset(&vm->dm[d]);
	st = vm_load_kernel(vm);
	if (st == 0)
		firmware_handover(vm);
	return st;
}

/* Sleeps until `ns` pass (-1: no limit), terminal input arrives, or a
 * signal: what can wake a halted vCPU. */
static void wait_for_event(struct vm *vm, int64_t ns)
{
	struct pollfd fds[2 + 2 * 2];
	unsigned first_fd[2] = {0, 0};
	struct timespec ts;
	nfds_t n = 0;

	/* ppoll's nanoseconds, not poll's milliseconds: a guest timer
	 * (the LAPIC's 1 ms periodic, a one-shot a few microseconds out)
	 * must not wake up to a millisecond late. */
	if (ns >= 0) {
		ts.tv_sec = ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
	}
	if (vm->sigfd >= 0)
		fds[n++] = (struct pollfd){vm->sigfd, POLLIN, 0};
	/* A debugger's Ctrl-C (or its arrival). */
	if (vm->gdb)
		fds[n++] = (struct pollfd){gdbstub_fd(vm->gdb), POLLIN, 0};
	/* A device model's events (terminal input) and its death. */
	for (unsigned d = 0; d < vm->n_dm; d++) {
		int w[2];
		unsigned k = dm_link_wake_fds(&vm->dm[d], w);
		first_fd[d] = k ? (unsigned)n : ~0u;
		for (unsigned i = 0; i < k; i++)
			fds[n++] = (struct pollfd){w[i], POLLIN, 0};
	}
	if (ppoll(fds, n, ns < 0 ? NULL : &ts, NULL) <= 0)
		return;
	if (vm->sigfd >= 0 && fds[0].revents)
		vm->sig_ready = true;
	for (unsigned d = 0; d < vm->n_dm; d++)
		if (first_fd[d] != ~0u && (fds[first_fd[d]].revents & POLLIN))
			dm_link_woken(&vm->dm[d]);
}

/* The vCPU is stopped for the debugger: wait for it (or a signal). */
static void gdb_wait(struct vm *vm)
{
	struct pollfd fds[2];
	nfds_t n = 0;

	if (vm->sigfd >= 0)
		fds[n++] = (struct pollfd){vm->sigfd, POLLIN, 0};
	fds[n++] = (struct pollfd){gdbstub_fd(vm->gdb), POLLIN, 0};
	poll(fds, n, -1);
}

int vm_run(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;

	if (!cfg->icount)
		kick_timer_create(vm);

	while (!vm->stop) {
		uint64_t now = vm_clock_source(vm), next, budget;
		struct signalfd_siginfo si;
		enum cpu_exit r;

		/* The signalfd is read when a sleep saw it readable and every
		 * 16th burst (a few ms of guest time), not after each burst:
		 * an idle guest wakes hundreds of times a second, and each
		 * look is a system call. */
		if (vm->sigfd >= 0 && (vm->sig_ready || ++vm->sig_bursts % 16 == 0) &&
		    (vm->sig_ready = false, read(vm->sigfd, &si, sizeof(si)) == sizeof(si))) {
			/* As QEMU: a clean stop, status 0, and a word why. */
			vm->signalled = true;
			vm_request_stop(vm, V2E_EXIT_OK, "terminating on signal %u",
					si.ssi_signo);
			break;
		}

		/* The debugger: Ctrl-C is seen between bursts. While it
		 * holds the vCPU, nothing runs and the clock stands still. */
		if (vm->gdb) {
			gdbstub_poll(vm->gdb);
			if (vm->stop)
				break;
			if (gdbstub_stopped(vm->gdb)) {
				uint64_t t0 = mono_ns();
				gdb_wait(vm);
				/* Real time stands still too: the host time
				 * spent stopped is taken out of the clock (as
				 * QEMU's paused clock), and the host timer is
				 * armed afresh from it. */
				if (!cfg->icount) {
					vm->start_host_ns += mono_ns() - t0;
					vm->kick_armed = VCLOCK_NEVER;
				}
				continue;
			}
		}

		vclock_advance_to(&vm->clock, now);
		for (unsigned d = 0; d < vm->n_dm; d++)
			dm_link_poll(&vm->dm[d]);
		if (vm->stop)
			break;
		next = vclock_next_deadline(&vm->clock);
		if (cfg->icount) {
			/* Run exactly up to the next timer deadline. */
			budget = next == VCLOCK_NEVER ? 1000000
				 : ((next - vclock_now(&vm->clock)) >> cfg->icount_shift) + 1;
			if (budget > 1000000)
				budget = 1000000;
		} else if (vm->woke) {
			budget = RT_WAKE_BURST;
			vm->woke = false;
			vm->wake_burst = true;
		} else {
			budget = RT_BURST;
			kick_timer_sync(vm);
		}
		r = cpu_run(vm->cpu, budget);
		vm->wake_burst = false;
		/* The log follows the guest burst by burst (tail -f, a crash
		 * loses at most one burst's lines). */
		if (unlikely(vm->qlog.f != NULL))
			qlog_flush(&vm->qlog);
		/* Buffered writes land, and their events, at the burst's end:
		 * a deterministic point. */
		for (unsigned d = 0; d < vm->n_dm; d++)
			dm_link_sync(&vm->dm[d]);
		if (vm->stop)
			break;
		if (r == CPU_EXIT_DEBUG && vm->gdb) {
			struct cpu_debug_stop why;
			cpu_debug_stop(vm->cpu, &why);
			gdbstub_cpu_stopped(vm->gdb, &why);
			continue;
		}
		if (r == CPU_EXIT_SHUTDOWN || vm->reset_pending) {
			bool triple = r == CPU_EXIT_SHUTDOWN;
			if (triple && qlog_on(&vm->qlog, CPU_LOG_GUEST)) {
				struct x86_state s;
				cpu_get_state(vm->cpu, &s);
				qlog_printf(&vm->qlog, CPU_LOG_GUEST,
					    "triple fault at icount %llu: the machine %s",
					    (unsigned long long)cpu_icount(vm->cpu),
					    cfg->no_reboot ? "stops (-no-reboot)" : "resets");
				qlog_dump_state(&vm->qlog, &s);
			}
			if (cfg->no_reboot) {
				/* A guest-requested reset is its way out
				 * (status 0); a triple fault is fatal. */
				if (triple)
					vm_request_stop(vm, V2E_EXIT_GUEST_FATAL,
							"guest triple fault (machine would reset; -no-reboot)");
				else
					vm_request_stop(vm, V2E_EXIT_OK, "guest reset (-no-reboot)");
				break;
			}
			if (vm_reset(vm) != 0) {
				vm_request_stop(vm, V2E_EXIT_USAGE, "%s", vm->exit_reason);
				break;
			}
			continue;
		}
		if (r == CPU_EXIT_HALT) {
			struct x86_state s;
			next = vclock_next_deadline(&vm->clock);
			cpu_get_state(vm->cpu, &s);
			/* With IF clear only an NMI could wake it, and no
			 * device raises NMIs: the halt is final (a kernel's
			 * "System halted" without a power-off device). With IF
			 * set, a timer or terminal input may still come. */
			if (!(s.rflags & FL_IF) ||
			    (next == VCLOCK_NEVER && !vm->term_input)) {
				vm_request_stop(vm, V2E_EXIT_GUEST_FATAL,
						"guest halted with nothing to wake it "
						"(HLT at %#llx, IF=%d)",
						(unsigned long long)s.rip,
						(s.rflags & FL_IF) != 0);
				break;
			}
			if (cfg->icount && next != VCLOCK_NEVER) {
				/* Jump over idle time. */
				uint64_t at = vm_clock_source(vm);
				if (next > at)
					vm->idle_ns += next - at;
			} else {
				uint64_t at = vm_clock_source(vm);
				kick_timer_disarm(vm);
				wait_for_event(vm, next == VCLOCK_NEVER ? -1
						   : next > at ? (int64_t)(next - at) : 0);
				vm->woke = true;
			}
		}
	}
	kick_timer_delete(vm);
	qlog_flush(&vm->qlog);
	if (vm->gdb)
		gdbstub_vm_exited(vm->gdb, vm->exit_status);
	return vm->exit_status;
}
