/* The x86 emulator engine: the contract the vmm sees.
 *
 * A vCPU is created on a bus (guest RAM pages, MMIO, port I/O and the
 * interrupt acknowledge), runs bounded bursts, and exposes its whole
 * architectural state (state.h) so another engine can take over. */
#ifndef V2E_CPU_CPU_H
#define V2E_CPU_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/state.h"

struct cpu;

/* What the vCPU reaches outside itself. Every callback gets `opaque`. */
struct cpu_bus {
	void *opaque;
	/* Host address of the 4 KiB guest-physical page at `paddr` (page
	 * aligned) if it is RAM usable for this access, NULL otherwise (MMIO,
	 * a hole, or ROM when `write`). Only called when the TLB misses. */
	uint8_t *(*ram_page)(void *opaque, uint64_t paddr, bool write);
	uint64_t (*mmio_read)(void *opaque, uint64_t paddr, unsigned size);
	void (*mmio_write)(void *opaque, uint64_t paddr, unsigned size,
			   uint64_t value);
	uint32_t (*pio_in)(void *opaque, uint16_t port, unsigned size);
	void (*pio_out)(void *opaque, uint16_t port, unsigned size,
			uint32_t value);
	/* Optional: REP INS (in) or REP OUTS of `count` elements of `size`
	 * bytes between `port` and guest-physical RAM at `paddr` (one page,
	 * downwards from paddr when `down`), as one transfer. Returns the
	 * elements done; 0 hands every element to pio_in/pio_out instead. */
	uint32_t (*pio_string)(void *opaque, uint16_t port, unsigned size, bool in,
			       uint64_t paddr, uint32_t count, bool down);
	/* The interrupt controller's acknowledge cycle: called when the CPU
	 * accepts INTR; returns the vector. */
	uint8_t (*intr_ack)(void *opaque);
	/* The current virtual-clock time in TSC ticks (DESIGN.md, "Time"). If
	 * NULL, the TSC counts retired instructions. */
	uint64_t (*tsc_now)(void *opaque);
	/* The x87 FERR# output (CR0.NE=0 error reporting, wired to IRQ 13 on
	 * a PC); may be NULL. */
	void (*ferr)(void *opaque, bool level);
};

/* The CPU model CPUID reports. */
struct cpu_model {
	char vendor[13];
	uint32_t family, model, stepping;
	uint32_t features_edx; /* CPUID.1:EDX */
	uint32_t features_ecx; /* CPUID.1:ECX */
	uint32_t ext_features_edx; /* CPUID.80000001H:EDX (bit 20: NX) */
	char brand[49];
};

/* The default: a P6-class CPU reporting only what the emulator implements. */
void cpu_model_default(struct cpu_model *m);

enum cpu_exit {
	CPU_EXIT_BUDGET,   /* ran the requested number of instructions */
	CPU_EXIT_HALT,     /* HLT with nothing to wake it */
	CPU_EXIT_SHUTDOWN, /* triple fault: the platform resets or stops */
	CPU_EXIT_REQUEST,  /* cpu_request_exit() was called */
	CPU_EXIT_DEBUG,    /* a debugger's breakpoint, watchpoint or step */
};

/* Returns NULL if out of memory. `ram_pages` bounds the physical pages the
 * decoded-code cache tracks (guest RAM size / 4096). */
struct cpu *cpu_create(const struct cpu_bus *bus, const struct cpu_model *m,
		       uint64_t ram_pages);
void cpu_destroy(struct cpu *cpu);

/* Power-on/RESET state (SDM vol. 3, "Processor state following reset"). */
void cpu_reset(struct cpu *cpu);

/* Runs at most `max_insns` steps (see cpu_icount()). */
enum cpu_exit cpu_run(struct cpu *cpu, uint64_t max_insns);

/* Thread-safe: makes a running cpu_run() return soon. */
void cpu_request_exit(struct cpu *cpu);

/* Also return from cpu_run() (CPU_EXIT_REQUEST) soon after *word becomes
 * non-zero: another process's doorbell in shared memory, looked at
 * between blocks, at most a few thousand instructions apart. Each
 * cpu_run() still runs at least one block, so a word that never clears
 * slows the guest but cannot stop it. The caller clears the word. False
 * when CPU_MAX_WATCH words are watched already. */
#define CPU_MAX_WATCH 4
bool cpu_watch(struct cpu *cpu, const volatile uint32_t *word);

/* Interrupt inputs. */
void cpu_set_intr(struct cpu *cpu, bool level);
void cpu_raise_nmi(struct cpu *cpu);
void cpu_set_a20(struct cpu *cpu, bool enabled);

/* State transfer (V2E). cpu_set_state() drops every cache that depends on
 * the old state. */
void cpu_get_state(struct cpu *cpu, struct x86_state *out);
void cpu_set_state(struct cpu *cpu, const struct x86_state *in);

/* Versioned state (lib/vstate.h, cpu_vstate.c): the whole state above
 * plus the live interrupt shadow, INTR, A20 and the step count, appended
 * to `b`. 0 or -ENOMEM. Between cpu_run() calls only. */
struct vs_buf;
int cpu_save_state(struct cpu *cpu, struct vs_buf *b);
/* Loads a state written by cpu_save_state(): all of it, or nothing, with
 * err naming the field at fault (-EINVAL, -EPROTO). Drops the TLB and
 * decoded code and recomputes the mode as cpu_set_state() does. */
int cpu_load_state(struct cpu *cpu, const void *data, size_t len, char *err,
		   size_t n);

/* The native code generator (jit.c): hot straight-line code of 32-bit
 * flat protected mode runs as host code compiled from its decoded
 * instructions, everything else in the interpreter. On by default on an
 * x86-64 host; turning it off (or on) drops decoded code. Guest-visible
 * behaviour is the same either way. */
void cpu_set_jit(struct cpu *cpu, bool on);
/* Names the generated code for `perf report` in a perf map file at
 * `path` (/tmp/perf-PID.map). False if the code generator is off or the
 * file cannot be written. */
bool cpu_jit_perf_map(struct cpu *cpu, const char *path);

/* Instructions retired since creation, plus one per exception delivered
 * (so that a guest stuck in a fault loop still advances the clock). */
uint64_t cpu_icount(const struct cpu *cpu);

/* The vmm tells the engine that guest code may have been written behind
 * its back (DMA into RAM): drops decoded code for that physical range. */
void cpu_invalidate_code(struct cpu *cpu, uint64_t paddr, uint64_t len);
/* The vmm's guest-physical map changed (a region added, moved, enabled or
 * removed) or it takes back the write mappings ram_page() handed out
 * (dirty logging): drops every cached translation and RAM page, so the
 * next access asks the bus again. Safe from a bus callback: the running
 * instruction completes, the next one sees the new map. */
void cpu_flush_tlb(struct cpu *cpu);

/* Logging (the vmm's -d): what the engine reports to a sink the vmm
 * owns. Each kind is reported only while its bit is in the mask; with
 * the mask 0 (the default) the engine pays one predictable branch at
 * each reporting point. Reporting never changes what the guest sees:
 * block formation, the step count and the budget are the same. */
enum cpu_log_item {
	CPU_LOG_INT = 1u << 0,    /* every interrupt and exception delivered */
	CPU_LOG_RESET = 1u << 1,  /* the state after cpu_reset() */
	CPU_LOG_GUEST = 1u << 2,  /* guest errors: an unknown MSR's #GP */
	CPU_LOG_UNIMP = 1u << 3,  /* what the emulator does not implement */
	CPU_LOG_IN_ASM = 1u << 4, /* each block decoded, with its bytes */
	CPU_LOG_EXEC = 1u << 5,   /* each block entered */
	CPU_LOG_CPU = 1u << 6,    /* the registers before each block */
};

/* How an interrupt came (struct cpu_log_intr.kind). */
enum cpu_log_intr_kind {
	CPU_INTR_HW,   /* INTR or NMI */
	CPU_INTR_SOFT, /* INT n, INT3, INTO */
	CPU_INTR_EXC,  /* an exception */
};

struct cpu_log_intr {
	uint8_t vector;
	uint8_t kind;      /* cpu_log_intr_kind */
	bool has_error;
	uint32_t error;
	uint8_t cpl;
	uint16_t cs, ss;
	uint64_t rip;      /* the return (trap) or faulting RIP, as pushed */
	uint64_t pc;       /* its linear address */
	uint64_t sp, cr2;
	uint64_t icount;
};

/* A block decoded (CPU_LOG_IN_ASM) or entered (CPU_LOG_EXEC, and with
 * CPU_LOG_CPU the state before it in `state`). `bytes` are the guest
 * bytes the decoder read (NULL for a block entered). */
struct cpu_log_block {
	uint16_t cs;
	uint64_t rip, pc, paddr;
	unsigned code_size; /* 2, 4 or 8 */
	unsigned n_insns;
	const uint8_t *bytes;
	unsigned len;
	const struct x86_state *state;
};

/* Something the guest did wrong or the emulator lacks (CPU_LOG_GUEST,
 * CPU_LOG_UNIMP). */
enum cpu_log_note_kind {
	CPU_NOTE_RDMSR,     /* an MSR the model lacks: #GP (value: ECX) */
	CPU_NOTE_WRMSR,     /* the same for WRMSR, or a reserved value */
	CPU_NOTE_CPUID,     /* a leaf beyond the model's (value: EAX) */
	CPU_NOTE_NO_INSN,   /* an opcode or form without a handler: #UD
			     * (value: the opcode, 0x0fXX for the two-byte
			     * map; value2: its mandatory prefix or 0) */
};

struct cpu_log_note {
	unsigned item;      /* CPU_LOG_GUEST and/or CPU_LOG_UNIMP */
	enum cpu_log_note_kind kind;
	uint64_t value, value2;
	uint16_t cs;
	uint64_t rip;
};

struct cpu_log_sink {
	void *opaque;
	void (*intr)(void *opaque, const struct cpu_log_intr *e);
	void (*reset)(void *opaque, const struct x86_state *s);
	void (*block)(void *opaque, unsigned item, const struct cpu_log_block *b);
	void (*note)(void *opaque, const struct cpu_log_note *n);
};

/* Reports the items in `mask` (cpu_log_item) to `sink` (copied; NULL
 * or mask 0 turns logging off). With CPU_LOG_EXEC or CPU_LOG_CPU every
 * block returns to the run loop, which reports it, instead of chaining
 * into the next one. */
void cpu_set_log(struct cpu *cpu, unsigned mask, const struct cpu_log_sink *sink);

/* CS and RIP of the instruction running (from a bus callback), or of the
 * next one between bursts; reads the state only, for the vmm's own
 * reports. */
void cpu_log_where(const struct cpu *cpu, uint16_t *cs, uint64_t *rip);

/* ---- a debugger's view (the vmm's GDB stub) ----
 *
 * Breakpoints and watchpoints live in the engine, never in guest memory.
 * While any is armed (or a step is asked for), every instruction runs
 * through the careful one-instruction path, which checks them; otherwise
 * the fast path pays nothing. Addresses are linear (gdb's addresses:
 * segmentation is left out). */
#define CPU_DEBUG_MAX_BP 64
#define CPU_DEBUG_MAX_WP 8

enum cpu_watch_kind {
	CPU_WATCH_WRITE = 1,
	CPU_WATCH_READ = 2,
	CPU_WATCH_ACCESS = 3,
};

struct cpu_debug {
	uint64_t bp[CPU_DEBUG_MAX_BP]; /* instruction breakpoints */
	unsigned n_bp;
	struct cpu_watch {
		uint64_t addr, len;
		enum cpu_watch_kind kind;
	} wp[CPU_DEBUG_MAX_WP];
	unsigned n_wp;
	/* Run one instruction and exit with CPU_EXIT_DEBUG; interrupts are
	 * held off during it (unless the vCPU is halted, where taking one is
	 * the step). */
	bool step;
};

enum cpu_debug_reason {
	CPU_DEBUG_NONE,
	CPU_DEBUG_STEP,  /* the asked-for step is done */
	CPU_DEBUG_BREAK, /* the next instruction is at a breakpoint */
	CPU_DEBUG_WATCH, /* the last instruction touched a watched range */
};

struct cpu_debug_stop {
	enum cpu_debug_reason reason;
	uint64_t addr;            /* CPU_DEBUG_WATCH: the watchpoint's address */
	enum cpu_watch_kind kind; /* and kind */
};

/* Arms (or with an empty `d`, disarms) breakpoints, watchpoints and the
 * step. The instruction at the current RIP runs without its breakpoint
 * check, so resuming from a breakpoint does not stop at once. Returns 0 or
 * -EINVAL for counts beyond the maximums. */
int cpu_set_debug(struct cpu *cpu, const struct cpu_debug *d);
/* Why the last cpu_run() returned CPU_EXIT_DEBUG. */
void cpu_debug_stop(const struct cpu *cpu, struct cpu_debug_stop *out);
/* The guest-physical address of linear `lin` through the current page
 * tables, without side effects: no accessed or dirty bit set, no fault
 * raised, MMIO not touched. 0, or -EFAULT if not mapped. */
int cpu_debug_translate(struct cpu *cpu, uint64_t lin, uint64_t *paddr);
/* Copies `len` bytes between `buf` and guest linear memory the same way
 * (RAM only); writes drop decoded code. 0, or -EFAULT (nothing is copied
 * past the first unmapped byte; what came before may be). */
int cpu_debug_rw(struct cpu *cpu, uint64_t lin, void *buf, size_t len,
		 bool write);

#endif
