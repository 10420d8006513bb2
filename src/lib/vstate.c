/* Versioned state (vstate.h): the encoder and the bounded decoder.
 *
 * The encoding, all integers little-endian:
 *   state := "V2ES" | u32 body length | body
 *   body  := u8 name length | kind name | u16 version | u16 field count
 *            | field*
 *   field := u8 name length | field name | u8 type | u32 count | data
 * where data is count elements of the type's width (1, 2, 4 or 8 bytes;
 * VS_BOOL and VS_BYTES are 1). The body length makes a state skippable
 * when several are concatenated; vs_load() takes exactly one. */
#include "lib/vstate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VS_MAGIC "V2ES"
#define VS_HDR_LEN 8 /* magic and body length */

static unsigned vs_width(unsigned type)
{
	switch (type) {
	case VS_U16:
		return 2;
	case VS_U32:
		return 4;
	case VS_U64:
		return 8;
	case VS_U8:
	case VS_BOOL:
	case VS_BYTES:
		return 1;
	default:
		return 0;
	}
}

static const char *vs_type_name(unsigned type)
{
	static const char *const names[] = {"?", "u8", "u16", "u32", "u64",
					    "bool", "bytes"};
	return type < ARRAY_SIZE(names) ? names[type] : "?";
}

void vs_buf_free(struct vs_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

static void vs_put(struct vs_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;
		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->failed = true;
				return;
			}
			cap *= 2;
		}
		d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void vs_put_le(struct vs_buf *b, uint64_t v, unsigned width)
{
	uint8_t le[8];
	for (unsigned i = 0; i < width; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	vs_put(b, le, width);
}

static void vs_put_name(struct vs_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (n > 255) {
		b->failed = true;
		return;
	}
	vs_put_le(b, n, 1);
	vs_put(b, s, n);
}

/* Element i of a field, read from (or written to) the object in host
 * order, widened to 64 bits. */
static uint64_t vs_get_elem(const uint8_t *p, unsigned width)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	switch (width) {
	case 1:
		memcpy(&v8, p, 1);
		return v8;
	case 2:
		memcpy(&v16, p, 2);
		return v16;
	case 4:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

static void vs_set_elem(uint8_t *p, unsigned width, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	switch (width) {
	case 1:
		memcpy(p, &v8, 1);
		break;
	case 2:
		memcpy(p, &v16, 2);
		break;
	case 4:
		memcpy(p, &v32, 4);
		break;
	default:
		memcpy(p, &v, 8);
		break;
	}
}

int vs_save(const struct vs_desc *d, const void *obj, struct vs_buf *b)
{
	const uint8_t *o = obj;
	size_t start = b->len, body;

	vs_put(b, VS_MAGIC, 4);
	vs_put_le(b, 0, 4); /* the body length, patched below */
	vs_put_name(b, d->name);
	vs_put_le(b, d->version, 2);
	vs_put_le(b, d->n_fields, 2);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const struct vs_field *f = &d->fields[i];
		unsigned w = vs_width(f->type);
		if (!w) {
			b->failed = true;
			break;
		}
		vs_put_name(b, f->name);
		vs_put_le(b, f->type, 1);
		vs_put_le(b, f->count, 4);
		if (f->type == VS_BYTES) {
			vs_put(b, o + f->offset, f->count);
			continue;
		}
		for (uint32_t k = 0; k < f->count; k++)
			vs_put_le(b, vs_get_elem(o + f->offset + (size_t)k * w, w), w);
	}
	if (b->failed) {
		b->len = b->len < start ? b->len : start;
		return -ENOMEM;
	}
	body = b->len - start - VS_HDR_LEN;
	if (body > UINT32_MAX) {
		b->len = start;
		return -ENOMEM;
	}
	for (unsigned i = 0; i < 4; i++)
		b->data[start + 4 + i] = (uint8_t)(body >> (8 * i));
	return 0;
}

/* A cursor over untrusted bytes: every read checks what is left. */
struct vs_in {
	const uint8_t *p;
	size_t left;
};

static bool vs_take(struct vs_in *in, void *out, size_t n)
{
	if (n > in->left)
		return false;
	if (out)
		memcpy(out, in->p, n);
	in->p += n;
	in->left -= n;
	return true;
}

static bool vs_take_le(struct vs_in *in, uint64_t *v, unsigned width)
{
	uint8_t le[8];
	if (!vs_take(in, le, width))
		return false;
	*v = 0;
	for (unsigned i = 0; i < width; i++)
		*v |= (uint64_t)le[i] << (8 * i);
	return true;
}

/* A length-prefixed name as a C string (at most 255 bytes, no NUL). */
static bool vs_take_name(struct vs_in *in, char name[256])
{
	uint64_t n;
	if (!vs_take_le(in, &n, 1) || !vs_take(in, name, n))
		return false;
	name[n] = '\0';
	return memchr(name, '\0', n) == NULL;
}

static int vs_fail(char *err, size_t n, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int vs_fail(char *err, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err && n) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Decodes one field's data into the copy, checking every element. */
static int vs_load_field(const struct vs_desc *d, const struct vs_field *f,
			 struct vs_in *in, uint8_t *copy, char *err, size_t n)
{
	unsigned w = vs_width(f->type);
	uint8_t *dst = copy + f->offset;

	for (uint32_t k = 0; k < f->count; k++) {
		uint64_t v;
		if (!vs_take_le(in, &v, w))
			return vs_fail(err, n, -EPROTO,
				       "%s: state truncated in field '%s'",
				       d->name, f->name);
		if (f->type == VS_BOOL && v > 1)
			return vs_fail(err, n, -EINVAL,
				       "%s: field '%s'[%u] is %llu, not a bool",
				       d->name, f->name, (unsigned)k,
				       (unsigned long long)v);
		if (f->max && v > f->max)
			return vs_fail(err, n, -EINVAL,
				       "%s: field '%s'[%u] is %llu, above its "
				       "maximum %llu", d->name, f->name,
				       (unsigned)k, (unsigned long long)v,
				       (unsigned long long)f->max);
		vs_set_elem(dst + (size_t)k * w, w, v);
	}
	return 0;
}

static void vs_default_field(const struct vs_field *f, uint8_t *copy)
{
	unsigned w = vs_width(f->type);
	for (uint32_t k = 0; k < f->count; k++)
		vs_set_elem(copy + f->offset + (size_t)k * w, w, f->dflt);
}

/* Everything up to the commit: parses `data` into `copy`. */
static int vs_decode(const struct vs_desc *d, uint8_t *copy, const void *data,
		     size_t len, char *err, size_t n)
{
	struct vs_in in = {data, len};
	char name[256];
	uint8_t magic[4];
	uint64_t body, version, n_fields;
	bool *seen;
	int rc = 0;

	if (!vs_take(&in, magic, 4) || !vs_take_le(&in, &body, 4))
		return vs_fail(err, n, -EPROTO, "%s: state truncated in its header",
			       d->name);
	if (memcmp(magic, VS_MAGIC, 4))
		return vs_fail(err, n, -EPROTO, "%s: not a device state", d->name);
	if (body != in.left)
		return vs_fail(err, n, -EPROTO,
			       "%s: state is %zu bytes, its header says %llu",
			       d->name, in.left, (unsigned long long)body);
	if (!vs_take_name(&in, name) || !vs_take_le(&in, &version, 2) ||
	    !vs_take_le(&in, &n_fields, 2))
		return vs_fail(err, n, -EPROTO, "%s: state truncated in its header",
			       d->name);
	if (strcmp(name, d->name))
		return vs_fail(err, n, -EINVAL, "%s: the state is of a '%s'",
			       d->name, name);
	if (version == 0)
		return vs_fail(err, n, -EINVAL, "%s: state version 0", d->name);
	if (version > d->version)
		return vs_fail(err, n, -EINVAL,
			       "%s: state version %llu is newer than this "
			       "code's %u", d->name, (unsigned long long)version,
			       d->version);

	seen = calloc(d->n_fields ? d->n_fields : 1, sizeof(*seen));
	if (!seen)
		return vs_fail(err, n, -ENOMEM, "%s: out of memory", d->name);
	for (uint64_t i = 0; i < n_fields; i++) {
		const struct vs_field *f = NULL;
		uint64_t type, count;
		unsigned j;

		if (!vs_take_name(&in, name)) {
			rc = vs_fail(err, n, -EPROTO,
				     "%s: state truncated in field %llu's name",
				     d->name, (unsigned long long)i);
			goto out;
		}
		for (j = 0; j < d->n_fields; j++)
			if (!strcmp(d->fields[j].name, name)) {
				f = &d->fields[j];
				break;
			}
		if (!f || f->since > version) {
			rc = vs_fail(err, n, -EINVAL,
				     "%s: unknown field '%s' in a version %llu "
				     "state", d->name, name,
				     (unsigned long long)version);
			goto out;
		}
		if (seen[j]) {
			rc = vs_fail(err, n, -EINVAL, "%s: field '%s' twice",
				     d->name, name);
			goto out;
		}
		seen[j] = true;
		if (!vs_take_le(&in, &type, 1) || !vs_take_le(&in, &count, 4)) {
			rc = vs_fail(err, n, -EPROTO,
				     "%s: state truncated in field '%s'",
				     d->name, name);
			goto out;
		}
		if (type != f->type || count != f->count) {
			rc = vs_fail(err, n, -EINVAL,
				     "%s: field '%s' is %s[%llu], expected "
				     "%s[%u]", d->name, name,
				     vs_type_name((unsigned)type),
				     (unsigned long long)count,
				     vs_type_name(f->type), (unsigned)f->count);
			goto out;
		}
		rc = vs_load_field(d, f, &in, copy, err, n);
		if (rc)
			goto out;
	}
	if (in.left) {
		rc = vs_fail(err, n, -EPROTO, "%s: %zu bytes after the last field",
			     d->name, in.left);
		goto out;
	}
	for (unsigned j = 0; j < d->n_fields; j++) {
		const struct vs_field *f = &d->fields[j];
		if (seen[j])
			continue;
		if (f->since <= version) {
			rc = vs_fail(err, n, -EINVAL,
				     "%s: field '%s' is missing from a version "
				     "%llu state", d->name, f->name,
				     (unsigned long long)version);
			goto out;
		}
		vs_default_field(f, copy);
	}
out:
	free(seen);
	return rc;
}

int vs_load(const struct vs_desc *d, void *obj, size_t obj_size, const void *data,
	    size_t len, char *err, size_t n)
{
	uint8_t *copy;
	int rc;

	if (err && n)
		err[0] = '\0';
	for (unsigned j = 0; j < d->n_fields; j++) {
		const struct vs_field *f = &d->fields[j];
		unsigned w = vs_width(f->type);
		if (!w || f->offset > obj_size ||
		    f->count > (obj_size - f->offset) / w)
			return vs_fail(err, n, -EINVAL,
				       "%s: field '%s' is described outside "
				       "the object", d->name, f->name);
	}
	copy = malloc(obj_size ? obj_size : 1);
	if (!copy)
		return vs_fail(err, n, -ENOMEM, "%s: out of memory", d->name);
	memcpy(copy, obj, obj_size);
	rc = vs_decode(d, copy, data, len, err, n);
	if (!rc && d->check)
		rc = d->check(copy, err, n);
	if (!rc) {
		memcpy(obj, copy, obj_size);
		if (d->post_load)
			rc = d->post_load(obj, err, n);
	}
	free(copy);
	return rc;
}

int vs_next(const void *data, size_t len, char *name, size_t name_n,
	    size_t *state_len)
{
	struct vs_in in = {data, len};
	uint8_t magic[4];
	uint64_t body;
	char nm[256];

	if (!vs_take(&in, magic, 4) || memcmp(magic, VS_MAGIC, 4) ||
	    !vs_take_le(&in, &body, 4) || body > in.left)
		return -EPROTO;
	in.left = body;
	if (!vs_take_name(&in, nm))
		return -EPROTO;
	if (name && name_n)
		snprintf(name, name_n, "%s", nm);
	*state_len = VS_HDR_LEN + body;
	return 0;
}
