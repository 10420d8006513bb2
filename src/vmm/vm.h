/* One virtual machine in the vmm: guest RAM, the vCPU on its engine, the
 * virtual clock, the port and MMIO spaces with their devices, and the
 * loop that runs them. Its files: vm.c (lifetime and reset), vcpu_loop.c
 * (the engine-neutral run loop), io.c (the I/O dispatch every engine
 * calls), board.c (the devices and device models), boot.c (the kernel). */
#ifndef V2E_VMM_VM_H
#define V2E_VMM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cpu/cpu.h"
#include "vmm/engine.h"
#include "dev/vclock.h"
#include "lib/compiler.h"
#include "vmm/acpi.h"
#include "vmm/smbios.h"
#include "vmm/config.h"
#include "vmm/dm_link.h"
#include "dm/backend/console.h"
#include "mem/guest_mem.h"
#include "mem/region.h"
#include "dev/pci.h"
#include "vmm/platform/acpi_pm.h"
#include "vmm/platform/i440fx.h"
#include "vmm/platform/ioapic.h"
#include "vmm/platform/lapic.h"
#include "vmm/platform/pic.h"
#include "vmm/platform/piix3.h"
#include "vmm/platform/piix4_pm.h"
#include "vmm/platform/pit.h"
#include "vmm/platform/rtc.h"
#include "vmm/qlog.h"

struct blk_host;

/* Exit statuses of `v2e` (README.md). isa-debug-exit's (value << 1) | 1
 * are odd; v2e's own reasons are even and non-zero. */
enum v2e_exit {
	V2E_EXIT_OK = 0,          /* guest powered off, or reset under -no-reboot */
	V2E_EXIT_USAGE = 2,       /* bad options or unusable guest files */
	V2E_EXIT_GUEST_FATAL = 4, /* triple fault under -no-reboot; stuck guest */
	V2E_EXIT_DM_FAILURE = 6,  /* a device model failed */
	V2E_EXIT_HOST = 8,        /* the host refused something v2e needs */
};

struct vm {
	const struct vm_config *cfg;
	struct guest_mem gm;
	struct vcpu vcpu;       /* the vCPU on its engine (engine.h) */
	struct vclock clock;
	/* The port space and guest-physical memory (RAM, platform MMIO,
	 * device models' windows) as region maps. */
	struct region_map ports, mem;
	uint64_t start_host_ns; /* real-time mode: host time at clock 0 */
	/* Real-time mode: a host timer at the next virtual deadline ends
	 * the vCPU's burst, so guest timers are not late by a burst. */
	timer_t kick_timer;
	bool kick_timer_ok;
	uint64_t kick_armed;    /* virtual deadline it is armed for, or NEVER */
	bool woke;              /* the vCPU slept: the next burst is a short one */
	bool wake_burst;        /* that burst runs: no host timer for it */
	unsigned idle_sleeps;   /* sleeps the timer ended, with only halts between */
	uint64_t halt_poll_ns;  /* how long a halted vCPU looks for a dm's event */
	uint64_t idle_ns;       /* deterministic mode: halted time jumped over */
	bool stop;
	int exit_status;
	char exit_reason[512];
	int sigfd;              /* SIGINT/SIGTERM, read between bursts; -1 if none */
	bool sig_ready;         /* a sleep saw the signalfd readable */
	unsigned sig_bursts;    /* bursts since the signalfd was last read */
	bool signalled;
	/* The ISA interrupt lines devices drive, into both the PIC pair and
	 * the IOAPIC (IRQ 0 on pin 2). The PIC's INT goes to the LAPIC's
	 * LINT0 (and IOAPIC pin 0); the LAPIC drives the vCPU's INTR. */
	struct irq_line isa_irq[16];
	struct irq_line pic_intr, cpu_intr, cpu_nmi;
	struct pic pic;
	struct ioapic ioapic;
	struct lapic lapic;
	struct acpi_pm acpi_pm;
	struct irq_line power_off_line;
	struct pit pit;
	struct irq_line a20_line, reset_line;
	bool reset_pending;     /* the guest asked for a system reset */
	struct rtc rtc;
	/* PCI bus 0 behind the i440FX (00:00.0, PAM) and the PIIX3 ISA
	 * bridge (00:01.0, PIRQ routing); device models own other slots. */
	struct pci_bus pci;
	struct i440fx i440fx;
	struct piix3 piix3;
	struct piix4_pm piix4_pm;
	struct blk_host *blk;        /* the disks' backend (NULL: no disk files) */
	int blk_drive[DRIVE_MAX];    /* drive i of the command line in it, or -1 */
	struct region *pm_blk[3];    /* PM1 event, control, timer (piix4_pm.h) */
	/* The device models (dm_link.h): dm0, and dm1 with -dm-split. They
	 * run COM1-COM4 (one UART per -serial, COM1 always), the i8042,
	 * port 0x92, the POST port, isa-debug-exit and fw_cfg. */
	struct dm_link dm[2];
	unsigned n_dm;
	struct dm_link_host dm_host;
	/* VRAM, the display's page and the VNC display process
	 * (display_host.h): vram_fd -1 without a VGA. */
	struct display_host display;
	unsigned n_com;
	struct console term;    /* the terminal's raw mode, owned here */
	bool term_open;
	bool term_input;        /* a COM port reads the terminal */
	/* Without -kernel: the firmware image, a ROM ending at 4 GiB, and
	 * its alias ending at 1 MiB under the i440FX's PAM shadow RAM
	 * (boot.c). */
	uint8_t *bios;
	size_t bios_len;
	struct region *bios_rom, *bios_isa;
	struct qlog qlog;       /* -d and -D */
	struct gdbstub *gdb;    /* -gdb/-s: the GDB stub, or NULL */
};

/* 0, or -errno with vm->exit_reason saying why and vm->exit_status the
 * status to exit with (0: the host refused something). */
int vm_create(struct vm *vm, const struct vm_config *cfg) must_check;
void vm_destroy(struct vm *vm);

/* Loads -kernel (and its modules) and sets the boot CPU state (vm_create()
 * does, before any device model starts, and a system reset again);
 * without -kernel, maps the firmware (once) and puts the vCPU at the
 * reset vector. Returns 0, or a V2E_EXIT_* with vm->exit_reason filled. */
int vm_load_kernel(struct vm *vm);
/* Frees the firmware's image once its regions are gone (boot.c). */
void vm_unload_firmware(struct vm *vm);

/* Runs until the guest ends the VM; returns the exit status, with
 * vm->exit_reason saying why when it is not 0. */
int vm_run(struct vm *vm);

/* Ends the run with a status and a one-line reason (device callbacks,
 * signal handling). */
void vm_request_stop(struct vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- between the VM's own files ---- */

/* The virtual time now (vcpu_loop.c): retired instructions (plus idle
 * time jumped over) under -icount, the host's monotonic clock otherwise. */
uint64_t vm_clock_source(const struct vm *vm);
/* After a device access armed an earlier timer: the real-time host timer
 * follows (vcpu_loop.c). */
void vm_kick_check(struct vm *vm);

/* The machine as an engine sees it (io.c). The vm_io_* calls are what
 * an emulated access or a hardware exit hands to the devices: each first
 * brings the clock to the current instruction. */
void vm_io_bus(struct vm *vm, struct cpu_bus *bus);
void vm_clock_catch_up(struct vm *vm);
uint32_t vm_io_pio_in(struct vm *vm, uint16_t port, unsigned size);
void vm_io_pio_out(struct vm *vm, uint16_t port, unsigned size, uint32_t v);
uint64_t vm_io_mmio_read(struct vm *vm, uint64_t paddr, unsigned size);
void vm_io_mmio_write(struct vm *vm, uint64_t paddr, unsigned size, uint64_t v);

/* The board (board.c): wired once after the kernel is loaded, returned
 * to power-on state by a reset, unwired in reverse by vm_destroy(). */
int vm_board_wire(struct vm *vm);
void vm_board_reset(struct vm *vm);
/* Puts -boot's device order ("cad", ...) where the firmware reads it. */
void vm_set_boot_order(struct vm *vm, const char *order);
void vm_board_unwire(struct vm *vm);
struct acpi_config vm_board_acpi(const struct vm *vm);
struct smbios_config vm_board_smbios(const struct vm *vm);

/* What firmware does before it starts the kernel (boot.c). */
void vm_firmware_handover(struct vm *vm);
/* A system reset: board, then boot (vm.c). 0 or a V2E_EXIT_*. */
int vm_reset(struct vm *vm);

#endif
