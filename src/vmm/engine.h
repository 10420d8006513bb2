/* A vCPU engine: what executes the guest's instructions. The VM's loop
 * (vcpu_loop.c), its board and its debugger reach the engine only through
 * this table, so the emulator's interpreter, its code generator and later
 * a hardware-virtualization engine are interchangeable, and V2E can move a
 * vCPU between them. An engine sees the machine as a `struct cpu_bus`:
 * the same I/O dispatch (io.c) serves an emulated access and a hardware
 * exit. */
#ifndef V2E_VMM_ENGINE_H
#define V2E_VMM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct vcpu_engine {
	const char *name; /* as -accel or -jit names it */
	const char *help;
	/* NULL when the host cannot run this engine. */
	void *(*create)(const struct cpu_bus *bus, const struct cpu_model *m,
			uint64_t ram_pages);
	void (*destroy)(void *e);
	void (*reset)(void *e);
	enum cpu_exit (*run)(void *e, uint64_t max_insns);
	/* Async-signal-safe: makes a running run() return soon. */
	void (*request_exit)(void *e);
	/* run() also returns soon after *word (a device model's doorbell in
	 * shared memory) becomes non-zero; false if it cannot look (then the
	 * doorbell is heard at the burst's end). May be NULL. An engine that
	 * cannot poll memory while the guest runs (hardware) will need the
	 * device model to send a signal instead. */
	bool (*watch)(void *e, const volatile uint32_t *word);
	void (*set_intr)(void *e, bool level);
	void (*raise_nmi)(void *e);
	void (*set_a20)(void *e, bool enabled);
	void (*get_state)(void *e, struct x86_state *out);
	void (*set_state)(void *e, const struct x86_state *in);
	/* Instructions retired (the deterministic clock's source). */
	uint64_t (*icount)(const void *e);
	/* Guest RAM changed behind the vCPU's back (DMA, a loader). */
	void (*invalidate_code)(void *e, uint64_t paddr, uint64_t len);
	/* The guest-physical map changed, or write mappings are taken back
	 * (dirty logging): no cached translation may be used again. */
	void (*flush_tlb)(void *e);
	int (*set_debug)(void *e, const struct cpu_debug *d);
	void (*debug_stop)(const void *e, struct cpu_debug_stop *out);
	int (*debug_rw)(void *e, uint64_t lin, void *buf, size_t len, bool write);
	/* -d: the engine's events to a log sink; may be NULL. */
	void (*set_log)(void *e, unsigned mask, const struct cpu_log_sink *sink);
	/* The emulator behind this engine, for what only it has (its JIT's
	 * perf map, -d's register dumps), or NULL. */
	struct cpu *(*emulator)(void *e);
};

/* One vCPU on its engine. */
struct vcpu {
	const struct vcpu_engine *ops;
	void *e;
};

/* Calls through the vCPU's engine. */
static inline enum cpu_exit vcpu_run(struct vcpu *v, uint64_t n) { return v->ops->run(v->e, n); }
static inline void vcpu_request_exit(struct vcpu *v) { v->ops->request_exit(v->e); }
static inline void vcpu_reset(struct vcpu *v) { v->ops->reset(v->e); }
static inline void vcpu_set_intr(struct vcpu *v, bool l) { v->ops->set_intr(v->e, l); }
static inline void vcpu_raise_nmi(struct vcpu *v) { v->ops->raise_nmi(v->e); }
static inline void vcpu_set_a20(struct vcpu *v, bool on) { v->ops->set_a20(v->e, on); }
static inline void vcpu_get_state(struct vcpu *v, struct x86_state *s) { v->ops->get_state(v->e, s); }
static inline void vcpu_set_state(struct vcpu *v, const struct x86_state *s) { v->ops->set_state(v->e, s); }
static inline uint64_t vcpu_icount(const struct vcpu *v) { return v->ops->icount(v->e); }
static inline void vcpu_invalidate_code(struct vcpu *v, uint64_t paddr, uint64_t len)
{
	v->ops->invalidate_code(v->e, paddr, len);
}
static inline void vcpu_flush_tlb(struct vcpu *v) { v->ops->flush_tlb(v->e); }
static inline struct cpu *vcpu_emulator(struct vcpu *v)
{
	return v->ops->emulator ? v->ops->emulator(v->e) : NULL;
}

/* The engines this build has, and the one a name selects (NULL: none). */
extern const struct vcpu_engine vcpu_engine_jit, vcpu_engine_interp;
const struct vcpu_engine *vcpu_engine_find(const char *name);

#endif
