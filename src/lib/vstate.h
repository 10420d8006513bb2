/* Versioned state: how a device (or the vCPU) saves and loads itself for
 * save/restore and for restarting a device model. A state is a list of
 * named fields described once, next to the struct they live in; the
 * encoding carries each field's name, type and element count, so code can
 * load a state written by an older version (a field added later takes its
 * default) and refuses, naming the device and the field, a state that is
 * newer than the code, truncated, malformed or out of range. Pointers,
 * host descriptors and wiring are never state: what a load cannot carry,
 * the kind's post_load recomputes (timers re-armed, lines re-driven). */
#ifndef V2E_LIB_VSTATE_H
#define V2E_LIB_VSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/compiler.h"

enum vs_type {
	VS_U8 = 1,
	VS_U16,
	VS_U32,
	VS_U64,
	VS_BOOL,  /* stored as one byte, 0 or 1 */
	VS_BYTES, /* an opaque byte array (FIFOs, CMOS memory, FPU registers) */
};

struct vs_field {
	const char *name;
	uint8_t type;     /* enum vs_type */
	uint16_t since;   /* the state version that added the field (1: always) */
	size_t offset;    /* in the saved object */
	uint32_t count;   /* elements; bytes for VS_BYTES */
	uint64_t max;     /* largest element value a load accepts; 0: any */
	uint64_t dflt;    /* every element's value when loading an older state */
};

struct vs_desc {
	const char *name;  /* the device kind, for messages */
	uint16_t version;  /* the newest `since` of its fields */
	const struct vs_field *fields;
	unsigned n_fields;
	/* Optional: on the decoded copy, before anything of the object
	 * changes. 0, or -EINVAL with err (naming the device and the field)
	 * for a combination of fields the device cannot be in. */
	int (*check)(const void *obj, char *err, size_t n);
	/* Optional: after the loaded fields are in the object: rebuild what
	 * is derived from them (re-arm timers, re-drive lines). 0, or
	 * -errno with err; the fields stay loaded. */
	int (*post_load)(void *obj, char *err, size_t n);
};

/* Bytes of one element of a type in the object. */
#define vs_type_size_(ty)                                                     \
	((ty) == VS_U16 ? 2 : (ty) == VS_U32 ? 4 : (ty) == VS_U64 ? 8 : 1)

/* Field descriptions. T is the object's struct type, m the member; the
 * member's size is checked against the type at compile time. */
#define VS_OFF_(T, m, sz)                                                     \
	(offsetof(T, m) + 0 * sizeof(char[sizeof(((T *)0)->m) == (sz) ? 1 : -1]))
#define VS_U8(T, m) {#m, VS_U8, 1, VS_OFF_(T, m, 1), 1, 0, 0}
#define VS_U16(T, m) {#m, VS_U16, 1, VS_OFF_(T, m, 2), 1, 0, 0}
#define VS_U32(T, m) {#m, VS_U32, 1, VS_OFF_(T, m, 4), 1, 0, 0}
#define VS_U64(T, m) {#m, VS_U64, 1, VS_OFF_(T, m, 8), 1, 0, 0}
#define VS_BOOL(T, m) {#m, VS_BOOL, 1, VS_OFF_(T, m, sizeof(bool)), 1, 0, 0}
/* An array member of n elements of type ty (VS_U8 .. VS_U64, VS_BOOL). */
#define VS_ARRAY(T, m, ty, n)                                                 \
	{#m, ty, 1, VS_OFF_(T, m, vs_type_size_(ty) * (n)), n, 0, 0}
/* A member saved as its raw bytes (the whole member). */
#define VS_BYTES(T, m) {#m, VS_BYTES, 1, offsetof(T, m), sizeof(((T *)0)->m), 0, 0}
/* The general form: a field added in version `since`, with the largest
 * value a load accepts and each element's default for older states. */
#define VS_FIELD(T, m, ty, n, since_, max_, dflt_)                            \
	{#m, ty, since_, VS_OFF_(T, m, vs_type_size_(ty) * (n)), n, max_, dflt_}
/* A scalar member with a bound: the common case of VS_FIELD. */
#define VS_MAX(T, m, ty, max_) VS_FIELD(T, m, ty, 1, 1, max_, 0)

/* The encoding (vstate.c has the grammar): "V2ES", the body's length,
 * the kind name, the version, then per field its name, type, element
 * count and elements, all little-endian. States can be concatenated:
 * vs_next() walks such a list. */

/* A growing output buffer. */
struct vs_buf {
	uint8_t *data;
	size_t len, cap;
	bool failed; /* out of memory: vs_save() reports it */
};

void vs_buf_free(struct vs_buf *b);

/* Appends obj's state, described by d, to b. 0 or -ENOMEM. */
int vs_save(const struct vs_desc *d, const void *obj, struct vs_buf *b) must_check;

/* Loads a state written by vs_save() (any version of the same kind) into
 * obj. Nothing of obj changes unless the whole state is valid: the fields
 * are decoded into a copy of obj first and d->check sees that copy.
 * 0, or -EINVAL / -EPROTO with err naming d->name and the field. Calls
 * d->post_load once the fields are in obj. */
int vs_load(const struct vs_desc *d, void *obj, size_t obj_size, const void *data,
	    size_t len, char *err, size_t n) must_check;

/* The first state in data[0..len): its kind name (NUL-terminated into
 * name[0..name_n)) and its encoded length. 0, or -EPROTO when it is not
 * a whole state header. */
int vs_next(const void *data, size_t len, char *name, size_t name_n,
	    size_t *state_len) must_check;

#endif
