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
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmm/acpi.h"
#include "vmm/linux_boot.h"
#include "vmm/multiboot.h"

/* Largest kernel or module file accepted: more than any PC kernel. */
#define MAX_IMAGE (512u << 20)
/* Instructions per burst in real-time mode, between clock reads. */
#define RT_BURST 200000

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

static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The virtual time now: retired instructions (plus skipped idle time) in
 * deterministic mode, the host's monotonic clock otherwise. */
static uint64_t vm_clock_source(const struct vm *vm)
{
	if (vm->cfg->icount)
		return (cpu_icount(vm->cpu) << vm->cfg->icount_shift) + vm->idle_ns;
	return host_ns() - vm->start_host_ns;
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
	if (vm->kick_timer_ok && vclock_next_deadline(&vm->clock) < vm->kick_armed)
		kick_timer_sync(vm);
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

static uint64_t bus_mmio_read(void *opaque, uint64_t paddr, unsigned size)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	return iospace_read(&vm->mmio, paddr, size);
}

static void bus_mmio_write(void *opaque, uint64_t paddr, unsigned size,
			   uint64_t v)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	iospace_write(&vm->mmio, paddr, size, v);
	kick_timer_check(vm);
}

static uint32_t bus_pio_in(void *opaque, uint16_t port, unsigned size)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	return (uint32_t)iospace_read(&vm->ports, port, size);
}

static void bus_pio_out(void *opaque, uint16_t port, unsigned size, uint32_t v)
{
	struct vm *vm = opaque;
	clock_catch_up(vm);
	iospace_write(&vm->ports, port, size, v);
	kick_timer_check(vm);
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

/* isa-debug-exit (QEMU's): a write of V ends the VM with (V << 1) | 1. */
static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
	return 0;
}

static void debug_exit_write(void *opaque, uint64_t off, unsigned size,
			     uint64_t v)
{
	struct vm *vm = opaque;
	vm_request_stop(vm, (int)(((v << 1) | 1) & 0xff),
			"isa-debug-exit: guest wrote %#llx", (unsigned long long)v);
}

static const struct io_ops debug_exit_ops = {
	debug_exit_read, debug_exit_write,
	IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4, IO_SIZE_1 | IO_SIZE_2 | IO_SIZE_4,
};

/* Port 0x80, the POST diagnostic port: firmware and kernels write it as
 * a delay; nothing listens. */
static uint64_t post_read(void *opaque, uint64_t off, unsigned size)
{
	return 0xff;
}

static void post_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
}

static const struct io_ops post_ops = {
	post_read, post_write, IO_SIZE_1, IO_SIZE_1,
};

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

static const uint16_t com_base[CONFIG_MAX_SERIAL] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
static const unsigned com_irq[CONFIG_MAX_SERIAL] = {4, 3, 4, 3};

/* Connects COM port i to its backend. */
static int serial_backend(struct vm *vm, unsigned i)
{
	const struct serial_config *sc = &vm->cfg->serial[i];
	struct console *c = &vm->com_backend[i];
	int fd, r;

	switch (i < vm->cfg->n_serial ? sc->kind : SERIAL_NONE) {
	case SERIAL_STDIO:
		vm->stdio_com = (int)i;
		return console_open(c, STDIN_FILENO, STDOUT_FILENO);
	case SERIAL_FILE:
		fd = open(sc->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -errno;
		r = console_open(c, -1, fd);
		if (r < 0)
			close(fd);
		return r;
	default:
		return console_open(c, -1, -1);
	}
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
	port92_init(&vm->port92, &vm->a20_line, &vm->reset_line);
	r = iospace_claim(&vm->ports, 0x92, 1, &port92_ops, &vm->port92, "port92");
	if (r)
		return r;

	i8042_init(&vm->kbd, &vm->isa_irq[1], &vm->isa_irq[12], &vm->a20_line,
		   &vm->reset_line);
	r = iospace_claim(&vm->ports, 0x60, 1, &i8042_data_ops, &vm->kbd, "i8042");
	if (!r)
		r = iospace_claim(&vm->ports, 0x64, 1, &i8042_cmd_ops, &vm->kbd, "i8042");
	if (r)
		return r;

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

	r = iospace_claim(&vm->ports, 0x80, 1, &post_ops, vm, "post");
	if (r)
		return r;
	if (cfg->debug_exit) {
		r = iospace_claim(&vm->ports, cfg->debug_exit_base,
				  cfg->debug_exit_size, &debug_exit_ops, vm,
				  "isa-debug-exit");
		if (r)
			return r;
	}

	rtc_init(&vm->rtc, &vm->isa_irq[8], &vm->clock,
		 cfg->icount ? ICOUNT_EPOCH : (int64_t)time(NULL));
	rtc_cmos_set_memory(&vm->rtc, cfg->ram_bytes);
	r = iospace_claim(&vm->ports, 0x70, 2, &rtc_ops, &vm->rtc, "rtc");
	if (r)
		return r;

	vm->stdio_com = -1;
	vm->n_com = cfg->n_serial ? cfg->n_serial : 1;
	for (unsigned i = 0; i < vm->n_com; i++) {
		struct chardev out = {console_write, &vm->com_backend[i], NULL};
		r = serial_backend(vm, i);
		if (r < 0) {
			vm->n_com = i;
			return r;
		}
		uart_init(&vm->com[i], &vm->isa_irq[com_irq[i]], &vm->clock, &out);
		uart_set_instant_tx(&vm->com[i], true);
		r = iospace_claim(&vm->ports, com_base[i], 8, &uart_ops, &vm->com[i],
				  "uart");
		if (r) {
			vm->n_com = i + 1;
			return r;
		}
	}
	return 0;
}

static void board_unwire(struct vm *vm)
{
	for (unsigned i = vm->n_com; i-- > 0;) {
		console_close(&vm->com_backend[i]);
		if (vm->com_backend[i].out_fd > STDERR_FILENO)
			close(vm->com_backend[i].out_fd);
	}
	vm->n_com = 0;
}

/* Terminal input to the UART on the terminal, as much as it takes. */
static void serial_input(struct vm *vm)
{
	struct console *c;
	struct uart *u;
	size_t took;

	if (vm->stdio_com < 0)
		return;
	c = &vm->com_backend[vm->stdio_com];
	u = &vm->com[vm->stdio_com];
	if (vm->rx_held_len == 0)
		vm->rx_held_len = console_read(c, vm->rx_held, sizeof(vm->rx_held));
	if (c->quit) {
		vm_request_stop(vm, V2E_EXIT_OK, "QEMU: Terminated (Ctrl-A X)");
		return;
	}
	if (vm->rx_held_len == 0)
		return;
	took = uart_receive(u, vm->rx_held, vm->rx_held_len);
	memmove(vm->rx_held, vm->rx_held + took, vm->rx_held_len - took);
	vm->rx_held_len -= took;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	struct cpu_bus bus = {
		.opaque = vm,
		.ram_page = bus_ram_page,
		.mmio_read = bus_mmio_read,
		.mmio_write = bus_mmio_write,
		.pio_in = bus_pio_in,
		.pio_out = bus_pio_out,
		.intr_ack = bus_intr_ack,
		.tsc_now = bus_tsc_now,
	};
	struct cpu_model model;
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->sigfd = -1;
	r = guest_mem_create(&vm->gm, cfg->ram_bytes);
	if (r < 0)
		return r;
	iospace_init(&vm->ports, "port");
	iospace_init(&vm->mmio, "mmio");
	vclock_init(&vm->clock, 0);
	vm->start_host_ns = host_ns();
	/* The default CPU, with the local APIC it now has (CPUID.1:EDX.APIC). */
	cpu_model_default(&model);
	model.features_edx |= 1u << 9;
	vm->cpu = cpu_create(&bus, &model, cfg->ram_bytes / 4096);
	if (!vm->cpu) {
		r = -ENOMEM;
		goto fail_mem;
	}
	r = board_wire(vm);
	if (r < 0)
		goto fail_board;
	return 0;

fail_board:
	board_unwire(vm);
	cpu_destroy(vm->cpu);
fail_mem:
	iospace_destroy(&vm->mmio);
	iospace_destroy(&vm->ports);
	guest_mem_destroy(&vm->gm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	board_unwire(vm);
	cpu_destroy(vm->cpu);
	iospace_destroy(&vm->mmio);
	iospace_destroy(&vm->ports);
	guest_mem_destroy(&vm->gm);
}

/* Reads a whole file of at most MAX_IMAGE bytes; NULL with errno set. */
static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_IMAGE) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return NULL;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			free(buf);
			buf = NULL;
			errno = n < 0 ? errno : EIO;
			break;
		}
		got += (size_t)n;
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
	img = read_file(cfg->kernel, &len);
	if (!img) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "-kernel %.200s: %s",
			 cfg->kernel, strerror(errno));
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
		initrd = read_file(cfg->initrd, &ilen);
		if (!initrd) {
			free(img);
			snprintf(vm->exit_reason, sizeof(vm->exit_reason),
				 "-initrd %.200s: %s", cfg->initrd, strerror(errno));
			return V2E_EXIT_USAGE;
		}
		mod = (struct mb_module){initrd, ilen, cfg->initrd};
	}
	if (is_linux)
		r = linux_boot_load(&vm->gm, img, len, initrd, ilen, cfg->append, &le, err,
				    sizeof(err));
	else
		r = multiboot_load(&vm->gm, img, len, cfg->append ? cfg->append : "",
				   initrd ? &mod : NULL, initrd ? 1 : 0, &e, err, sizeof(err));
	free(img);
	free(initrd);
	if (r < 0) {
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
	/* What firmware does before it starts a kernel above 1 MiB: A20 on,
	 * through port 0x92 so the port reads back what it did. */
	port92_ops.write(&vm->port92, 0, 1, 0x02);
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
	port92_init(&vm->port92, &vm->a20_line, &vm->reset_line);
	i8042_init(&vm->kbd, &vm->isa_irq[1], &vm->isa_irq[12], &vm->a20_line,
		   &vm->reset_line);
	return vm_load_kernel(vm);
}

/* Sleeps until `ns` pass (-1: no limit), terminal input arrives, or a
 * signal: what can wake a halted vCPU. */
static void wait_for_event(struct vm *vm, int64_t ns)
{
	struct pollfd fds[2];
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
	if (vm->stdio_com >= 0 && !vm->com_backend[vm->stdio_com].eof)
		fds[n++] = (struct pollfd){vm->com_backend[vm->stdio_com].in_fd, POLLIN, 0};
	ppoll(fds, n, ns < 0 ? NULL : &ts, NULL);
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

		if (vm->sigfd >= 0 && read(vm->sigfd, &si, sizeof(si)) == sizeof(si)) {
			/* As QEMU: a clean stop, status 0, and a word why. */
			vm->signalled = true;
			vm_request_stop(vm, V2E_EXIT_OK, "terminating on signal %u",
					si.ssi_signo);
			break;
		}

		vclock_advance_to(&vm->clock, now);
		serial_input(vm);
		if (vm->stop)
			break;
		next = vclock_next_deadline(&vm->clock);
		if (cfg->icount) {
			/* Run exactly up to the next timer deadline. */
			budget = next == VCLOCK_NEVER ? 1000000
				 : ((next - vclock_now(&vm->clock)) >> cfg->icount_shift) + 1;
			if (budget > 1000000)
				budget = 1000000;
		} else {
			budget = RT_BURST;
			kick_timer_sync(vm);
		}
		r = cpu_run(vm->cpu, budget);
		if (r == CPU_EXIT_SHUTDOWN || vm->reset_pending) {
			bool triple = r == CPU_EXIT_SHUTDOWN;
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
			    (next == VCLOCK_NEVER &&
			     !(vm->stdio_com >= 0 && !vm->com_backend[vm->stdio_com].eof))) {
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
				wait_for_event(vm, next == VCLOCK_NEVER ? -1
						   : next > at ? (int64_t)(next - at) : 0);
			}
		}
	}
	kick_timer_delete(vm);
	return vm->exit_status;
}
