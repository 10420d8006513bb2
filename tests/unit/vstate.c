/* Versioned state (lib/vstate.c): round trips, older and newer versions,
 * and hostile input (truncated at every byte, unknown fields, values out
 * of range, random mutations), which must leave the object untouched. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vstate.h"
#include "tests/tap.h"

struct thing {
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	bool e;
	uint8_t raw[5];
	uint32_t arr[3];
	uint16_t later; /* added in version 2 */
	int post_loads; /* not state: counts post_load calls */
};

static int thing_post_load(void *obj, char *err, size_t n)
{
	(void)err;
	(void)n;
	((struct thing *)obj)->post_loads++;
	return 0;
}

static int thing_check(const void *obj, char *err, size_t n)
{
	const struct thing *t = obj;
	if (t->c == 0xdeadu) {
		snprintf(err, n, "thing: field 'c' may not be 0xdead");
		return -EINVAL;
	}
	return 0;
}

#define THING_V1_FIELDS                                                       \
	VS_MAX(struct thing, a, VS_U8, 100), VS_U16(struct thing, b),         \
		VS_U32(struct thing, c), VS_U64(struct thing, d),             \
		VS_BOOL(struct thing, e), VS_BYTES(struct thing, raw),        \
		VS_ARRAY(struct thing, arr, VS_U32, 3)

static const struct vs_field thing_v1_fields[] = {THING_V1_FIELDS};
static const struct vs_field thing_v2_fields[] = {
	THING_V1_FIELDS,
	VS_FIELD(struct thing, later, VS_U16, 1, 2, 0, 77),
};
/* The same kind with no bound on `a`, to write out-of-range states. */
static const struct vs_field thing_loose_fields[] = {
	VS_U8(struct thing, a),
	VS_U16(struct thing, b),
	VS_U32(struct thing, c),
	VS_U64(struct thing, d),
	VS_BOOL(struct thing, e), /* saves the byte as it is */
	VS_BYTES(struct thing, raw),
	VS_ARRAY(struct thing, arr, VS_U32, 3),
	VS_FIELD(struct thing, later, VS_U16, 1, 2, 0, 77),
};
/* Version 1 with one field too many (what a foreign writer might send). */
static const struct vs_field thing_extra_fields[] = {
	THING_V1_FIELDS,
	VS_U16(struct thing, later),
};
/* Version 1 with a field missing. */
static const struct vs_field thing_short_fields[] = {
	VS_MAX(struct thing, a, VS_U8, 100),
	VS_U16(struct thing, b),
};

#define DESC(name_, ver, f)                                                   \
	{name_, ver, f, ARRAY_SIZE(f), thing_check, thing_post_load}
static const struct vs_desc thing_v1 = DESC("thing", 1, thing_v1_fields);
static const struct vs_desc thing_v2 = DESC("thing", 2, thing_v2_fields);
static const struct vs_desc thing_loose = DESC("thing", 2, thing_loose_fields);
static const struct vs_desc thing_extra = DESC("thing", 1, thing_extra_fields);
static const struct vs_desc thing_short = DESC("thing", 1, thing_short_fields);
static const struct vs_desc other_v2 = DESC("other", 2, thing_v2_fields);

static struct thing sample(void)
{
	struct thing t;
	memset(&t, 0, sizeof(t));
	t.a = 42;
	t.b = 0xbeef;
	t.c = 0x12345678;
	t.d = 0x0123456789abcdefull;
	t.e = true;
	memcpy(t.raw, "\x01\x02\x03\x04\x05", 5);
	t.arr[0] = 1;
	t.arr[1] = 0xffffffffu;
	t.arr[2] = 3;
	t.later = 0x5555;
	return t;
}

/* A recognisable object that a failed load must leave as it is. */
static struct thing sentinel(void)
{
	struct thing t;
	memset(&t, 0xa5, sizeof(t));
	t.e = false;
	t.post_loads = 0;
	return t;
}

static bool same_fields(const struct thing *x, const struct thing *y)
{
	return x->a == y->a && x->b == y->b && x->c == y->c && x->d == y->d &&
	       x->e == y->e && !memcmp(x->raw, y->raw, 5) &&
	       !memcmp(x->arr, y->arr, sizeof(x->arr)) && x->later == y->later;
}

static int load(const struct vs_desc *d, struct thing *t, const struct vs_buf *b,
		size_t len, char *err, size_t n)
{
	return vs_load(d, t, sizeof(*t), b->data, len, err, n);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(void)
{
	struct tap t = {0};
	struct vs_buf b = {0}, b1 = {0}, bl = {0};
	struct thing s = sample(), x, y;
	char err[256];
	int rc;

	/* Round trip */
	tap_ok(&t, vs_save(&thing_v2, &s, &b) == 0, "save");
	x = sentinel();
	rc = load(&thing_v2, &x, &b, b.len, err, sizeof(err));
	tap_ok(&t, rc == 0 && same_fields(&x, &s), "round trip (%d %s)", rc, err);
	tap_ok(&t, x.post_loads == 1, "post_load ran once");
	{
		char name[32];
		size_t sl = 0;
		struct vs_buf two = {0};
		int ok = vs_save(&thing_v2, &s, &two) == 0 &&
			 vs_save(&thing_v1, &s, &two) == 0;
		ok = ok && vs_next(two.data, two.len, name, sizeof(name), &sl) == 0 &&
		     sl == b.len && !strcmp(name, "thing");
		x = sentinel();
		ok = ok && vs_load(&thing_v1, &x, sizeof(x), two.data + sl,
				   two.len - sl, err, sizeof(err)) == 0;
		ok = ok && vs_next(two.data, sl - 1, name, sizeof(name), &sl) != 0;
		tap_ok(&t, ok, "vs_next walks concatenated states");
		vs_buf_free(&two);
	}

	/* An older state: the later field takes its default. */
	tap_ok(&t, vs_save(&thing_v1, &s, &b1) == 0, "save version 1");
	x = sentinel();
	rc = load(&thing_v2, &x, &b1, b1.len, err, sizeof(err));
	y = s;
	y.later = 77;
	tap_ok(&t, rc == 0 && same_fields(&x, &y), "version 1 state loads with "
	       "the default of a version 2 field (%d %s)", rc, err);

	/* A newer state is refused. */
	x = sentinel();
	y = x;
	rc = load(&thing_v1, &x, &b, b.len, err, sizeof(err));
	tap_ok(&t, rc == -EINVAL && strstr(err, "thing") && strstr(err, "newer"),
	       "version 2 state refused by version 1 code: %s", err);
	tap_ok(&t, !memcmp(&x, &y, sizeof(x)), "object untouched");

	/* Another kind's state is refused. */
	rc = load(&other_v2, &x, &b, b.len, err, sizeof(err));
	tap_ok(&t, rc == -EINVAL && strstr(err, "other"), "other kind refused: %s",
	       err);

	/* Truncated at every byte, and one byte too long. */
	{
		bool all = true, untouched = true;
		for (size_t len = 0; len < b.len; len++) {
			x = sentinel();
			rc = load(&thing_v2, &x, &b, len, err, sizeof(err));
			if (rc == 0 || !strstr(err, "thing"))
				all = false;
			if (memcmp(&x, &y, sizeof(x)))
				untouched = false;
		}
		tap_ok(&t, all, "truncated at each of %zu bytes: refused", b.len);
		tap_ok(&t, untouched, "truncated: object untouched");
		x = sentinel();
		rc = load(&thing_v2, &x, &b, 3, err, sizeof(err));
		tap_ok(&t, rc == -EPROTO, "3 bytes: %s", err);
		b.data[b.len] = 0; /* cap > len: the buffer has room */
		rc = vs_load(&thing_v2, &x, sizeof(x), b.data, b.len + 1, err,
			     sizeof(err));
		tap_ok(&t, rc == -EPROTO, "a trailing byte: %s", err);
	}

	/* An unknown field, a missing field. */
	{
		struct vs_buf e = {0};
		tap_ok(&t, vs_save(&thing_extra, &s, &e) == 0, "save extra");
		x = sentinel();
		rc = load(&thing_v1, &x, &e, e.len, err, sizeof(err));
		tap_ok(&t, rc == -EINVAL && strstr(err, "'later'") &&
			   !memcmp(&x, &y, sizeof(x)),
		       "unknown field refused: %s", err);
		vs_buf_free(&e);
		tap_ok(&t, vs_save(&thing_short, &s, &e) == 0, "save short");
		rc = load(&thing_v1, &x, &e, e.len, err, sizeof(err));
		tap_ok(&t, rc == -EINVAL && strstr(err, "'c'") &&
			   !memcmp(&x, &y, sizeof(x)),
		       "missing field refused: %s", err);
		vs_buf_free(&e);
	}

	/* Out of range, a bool that is not one, a check that fails. */
	{
		struct thing bad = s;
		bad.a = 101;
		tap_ok(&t, vs_save(&thing_loose, &bad, &bl) == 0, "save loose");
		x = sentinel();
		rc = load(&thing_v2, &x, &bl, bl.len, err, sizeof(err));
		tap_ok(&t, rc == -EINVAL && strstr(err, "'a'") &&
			   !memcmp(&x, &y, sizeof(x)),
		       "out of range refused: %s", err);
		vs_buf_free(&bl);
		bad = s;
		memset(&bad.e, 2, 1);
		tap_ok(&t, vs_save(&thing_loose, &bad, &bl) == 0, "save bool 2");
		rc = load(&thing_v2, &x, &bl, bl.len, err, sizeof(err));
		tap_ok(&t, rc == -EINVAL && strstr(err, "'e'") &&
			   !memcmp(&x, &y, sizeof(x)),
		       "bool of 2 refused: %s", err);
		vs_buf_free(&bl);
		bad = s;
		bad.c = 0xdead;
		tap_ok(&t, vs_save(&thing_v2, &bad, &bl) == 0, "save 0xdead");
		rc = load(&thing_v2, &x, &bl, bl.len, err, sizeof(err));
		tap_ok(&t, rc == -EINVAL && strstr(err, "'c'") &&
			   !memcmp(&x, &y, sizeof(x)) && x.post_loads == 0,
		       "check refusal: no change, no post_load: %s", err);
		vs_buf_free(&bl);
	}

	/* Random mutations of a valid state: never a crash (ASan watches),
	 * and either a whole load or no change at all. */
	{
		uint8_t *m = malloc(b.len + 16);
		unsigned loaded = 0, refused = 0, bad = 0;
		for (unsigned i = 0; m && i < 20000; i++) {
			size_t len = b.len;
			unsigned edits = 1 + rnd() % 4;
			memcpy(m, b.data, b.len);
			for (unsigned k = 0; k < edits; k++) {
				size_t at = rnd() % len;
				switch (rnd() % 4) {
				case 0:
					m[at] ^= (uint8_t)(1u << (rnd() % 8));
					break;
				case 1:
					m[at] = (uint8_t)rnd();
					break;
				case 2:
					len = at + 1;
					break;
				default:
					m[at] = (uint8_t)(rnd() % 2 ? 0 : 0xff);
					break;
				}
			}
			x = sentinel();
			rc = vs_load(&thing_v2, &x, sizeof(x), m, len, err,
				     sizeof(err));
			if (rc == 0) {
				loaded++;
				uint8_t e;
				memcpy(&e, &x.e, 1);
				if (x.post_loads != 1 || x.a > 100 || e > 1)
					bad++;
			} else {
				refused++;
				if (memcmp(&x, &y, sizeof(x)) || !strstr(err, "thing"))
					bad++;
			}
		}
		tap_ok(&t, m && bad == 0, "20000 mutations: %u loaded, %u refused, "
		       "%u broke the rules", loaded, refused, bad);
		free(m);
	}

	vs_buf_free(&b);
	vs_buf_free(&b1);
	return tap_done(&t);
}
