/* The emulator as two vCPU engines (engine.h): with its code generator
 * ("tcg", the default, as QEMU calls its translator) and interpreting
 * every instruction ("interp", -jit off). */
#include "vmm/engine.h"

#include <string.h>

static void *emu_create(const struct cpu_bus *bus, const struct cpu_model *m,
			uint64_t ram_pages)
{
	return cpu_create(bus, m, ram_pages);
}

static void *interp_create(const struct cpu_bus *bus, const struct cpu_model *m,
			   uint64_t ram_pages)
{
	struct cpu *c = cpu_create(bus, m, ram_pages);
	if (c)
		cpu_set_jit(c, false);
	return c;
}

static void emu_destroy(void *e) { cpu_destroy(e); }
static void emu_reset(void *e) { cpu_reset(e); }
static enum cpu_exit emu_run(void *e, uint64_t n) { return cpu_run(e, n); }
static void emu_request_exit(void *e) { cpu_request_exit(e); }
static bool emu_watch(void *e, const volatile uint32_t *w) { return cpu_watch(e, w); }
static void emu_set_intr(void *e, bool level) { cpu_set_intr(e, level); }
static void emu_raise_nmi(void *e) { cpu_raise_nmi(e); }
static void emu_set_a20(void *e, bool on) { cpu_set_a20(e, on); }
static void emu_get_state(void *e, struct x86_state *s) { cpu_get_state(e, s); }
static void emu_set_state(void *e, const struct x86_state *s) { cpu_set_state(e, s); }
static uint64_t emu_icount(const void *e) { return cpu_icount(e); }

static void emu_invalidate_code(void *e, uint64_t paddr, uint64_t len)
{
	cpu_invalidate_code(e, paddr, len);
}

static void emu_flush_tlb(void *e) { cpu_flush_tlb(e); }

static int emu_set_debug(void *e, const struct cpu_debug *d)
{
	return cpu_set_debug(e, d);
}

static void emu_debug_stop(const void *e, struct cpu_debug_stop *out)
{
	cpu_debug_stop(e, out);
}

static int emu_debug_rw(void *e, uint64_t lin, void *buf, size_t len, bool write)
{
	return cpu_debug_rw(e, lin, buf, len, write);
}

static void emu_set_log(void *e, unsigned mask, const struct cpu_log_sink *sink)
{
	cpu_set_log(e, mask, sink);
}

static struct cpu *emu_emulator(void *e) { return e; }

#define EMU_OPS                                                               \
	.destroy = emu_destroy, .reset = emu_reset, .run = emu_run,           \
	.request_exit = emu_request_exit, .watch = emu_watch,                 \
	.set_intr = emu_set_intr,                                             \
	.raise_nmi = emu_raise_nmi, .set_a20 = emu_set_a20,                   \
	.get_state = emu_get_state, .set_state = emu_set_state,               \
	.icount = emu_icount, .invalidate_code = emu_invalidate_code,         \
	.flush_tlb = emu_flush_tlb,                                           \
	.set_debug = emu_set_debug, .debug_stop = emu_debug_stop,             \
	.debug_rw = emu_debug_rw, .set_log = emu_set_log,                     \
	.emulator = emu_emulator

const struct vcpu_engine vcpu_engine_jit = {
	.name = "tcg",
	.help = "the emulator with its code generator (default)",
	.create = emu_create,
	EMU_OPS,
};

const struct vcpu_engine vcpu_engine_interp = {
	.name = "interp",
	.help = "the emulator interpreting every instruction (-jit off)",
	.create = interp_create,
	EMU_OPS,
};

const struct vcpu_engine *vcpu_engine_find(const char *name)
{
	static const struct vcpu_engine *const all[] = {&vcpu_engine_jit,
							&vcpu_engine_interp};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}
