/* Segment descriptors: reading them from the GDT/LDT, turning them into
 * descriptor caches, and the protection checks of segment loads (SDM vol.
 * 3, chapter 5). Shared by MOV/POP Sreg, far branches, gates and task
 * switches. */
#ifndef V2E_CPU_SEG_H
#define V2E_CPU_SEG_H

#include "cpu/vcpu.h"

struct desc {
	uint32_t lo, hi;
};

/* Descriptor type field values for system descriptors (S = 0). */
enum {
	DT_TSS16_AVAIL = 1, DT_LDT = 2, DT_TSS16_BUSY = 3, DT_CALLGATE16 = 4,
	DT_TASKGATE = 5, DT_INTGATE16 = 6, DT_TRAPGATE16 = 7,
	DT_TSS32_AVAIL = 9, DT_TSS32_BUSY = 11, DT_CALLGATE32 = 12,
	DT_INTGATE32 = 14, DT_TRAPGATE32 = 15,
};

static inline unsigned desc_type(const struct desc *d) { return (d->hi >> 8) & 0xf; }
static inline bool desc_s(const struct desc *d) { return (d->hi >> 12) & 1; }
static inline unsigned desc_dpl(const struct desc *d) { return (d->hi >> 13) & 3; }
static inline bool desc_present(const struct desc *d) { return (d->hi >> 15) & 1; }
static inline bool desc_is_code(const struct desc *d) { return desc_s(d) && (d->hi & 0x800); }
static inline bool desc_is_data(const struct desc *d) { return desc_s(d) && !(d->hi & 0x800); }
static inline bool desc_code_conforming(const struct desc *d) { return d->hi & 0x400; }
static inline bool desc_code_readable(const struct desc *d) { return d->hi & 0x200; }
static inline bool desc_data_writable(const struct desc *d) { return d->hi & 0x200; }
/* Gate fields. */
static inline uint16_t gate_selector(const struct desc *d) { return (uint16_t)(d->lo >> 16); }
static inline uint32_t gate_offset(const struct desc *d)
{
	return (d->lo & 0xffff) | (d->hi & 0xffff0000u);
}
static inline unsigned gate_param_count(const struct desc *d) { return d->hi & 0x1f; }

/* Reads the descriptor a selector names. Returns false when the selector
 * lies beyond its table's limit (or names the LDT while it is unusable);
 * callers raise the fault their instruction specifies. */
bool desc_read(struct cpu *cpu, uint16_t sel, struct desc *d);
/* Sets the accessed bit in memory (segment descriptors) or the busy bit
 * (TSS), the way the processor does it: a locked write to the table. */
void desc_write_hi(struct cpu *cpu, uint16_t sel, uint32_t hi);
/* The descriptor cache a segment descriptor loads. */
void desc_to_seg(const struct desc *d, uint16_t sel, struct x86_segment *s);
/* Installs a segment register, with the accessed bit set in the table. */
void seg_install(struct cpu *cpu, int sreg, uint16_t sel, struct desc *d);
/* Marks a data segment register unusable (null selector). */
void seg_set_null(struct cpu *cpu, int sreg, uint16_t sel);

/* Data segment registers whose DPL is below the new CPL become null on a
 * privilege-lowering return (RET far, IRET). */
void seg_null_invalid_after_return(struct cpu *cpu);

static inline uint32_t sel_err(uint16_t sel) { return sel & 0xfffc; }

/* Loads a segment register with the protection checks of the current mode
 * (seg.c). `sreg` S_CS is not loaded through here. */
void seg_load(struct cpu *cpu, int sreg, uint16_t sel);
/* Real/v86-mode load: base = sel << 4, limit and attributes kept. */
void seg_load_real(struct cpu *cpu, int sreg, uint16_t sel);

#endif
