/* The device-kind table and property parsing (see kind.h). */
#include "dev/kind.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* Bounds of the section DEV_KIND fills; weak, so a program without any
 * device still links (its table is empty). */
extern const struct dev_kind *const __start_v2e_dev_kinds[] __attribute__((weak));
extern const struct dev_kind *const __stop_v2e_dev_kinds[] __attribute__((weak));

static int by_name(const void *a, const void *b)
{
	const struct dev_kind *x = *(const struct dev_kind *const *)a;
	const struct dev_kind *y = *(const struct dev_kind *const *)b;
	return strcmp(x->name, y->name);
}

size_t dev_kinds(const struct dev_kind **out, size_t max)
{
	size_t n = 0, total;
	if (!__start_v2e_dev_kinds)
		return 0;
	total = (size_t)(__stop_v2e_dev_kinds - __start_v2e_dev_kinds);
	for (size_t i = 0; i < total && n < max; i++)
		out[n++] = __start_v2e_dev_kinds[i];
	qsort(out, n, sizeof(*out), by_name);
	return total;
}

const struct dev_kind *dev_kind_find(const char *name)
{
	if (!__start_v2e_dev_kinds)
		return NULL;
	for (const struct dev_kind *const *k = __start_v2e_dev_kinds;
	     k < __stop_v2e_dev_kinds; k++)
		if (!strcmp((*k)->name, name))
			return *k;
	return NULL;
}

#define MAX_KINDS 64

void dev_kind_names(char *buf, size_t n, unsigned where, bool user_only)
{
	const struct dev_kind *k[MAX_KINDS];
	size_t nk = dev_kinds(k, MAX_KINDS), len = 0;
	if (n)
		buf[0] = 0;
	for (size_t i = 0; i < nk && i < MAX_KINDS && len < n; i++) {
		if ((where && k[i]->where != where) || (user_only && !k[i]->user))
			continue;
		len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "",
					k[i]->name);
	}
}

void dev_props_init(struct dev_props *p, const struct dev_kind *k)
{
	memset(p, 0, sizeof(*p));
	p->kind = k;
	for (unsigned i = 0; i < k->n_props && i < DEV_MAX_PROPS; i++) {
		const struct dev_prop *d = &k->props[i];
		p->num[i] = d->dflt;
		if (d->dflt_str)
			snprintf(p->str[i], DEV_STR_MAX, "%s", d->dflt_str);
	}
}

int dev_prop_find(const struct dev_kind *k, const char *name)
{
	for (unsigned i = 0; i < k->n_props && i < DEV_MAX_PROPS; i++)
		if (!strcmp(k->props[i].name, name))
			return (int)i;
	return -1;
}

static bool parse_bool(const char *v, uint64_t *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = 1;
		return true;
	}
	if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = 0;
		return true;
	}
	return false;
}

/* The character backends v2e has (no -chardev yet: a backend is named
 * where QEMU would name a chardev's id). */
static bool chardev_ok(const char *v)
{
	return !strcmp(v, "stdio") || !strcmp(v, "null") || !strcmp(v, "none") ||
	       (!strncmp(v, "file:", 5) && v[5]);
}

int dev_prop_parse(struct dev_props *p, const char *key, const char *val,
		   bool user, char *err, size_t n)
{
	const struct dev_kind *k = p->kind;
	int i = dev_prop_find(k, key);
	const struct dev_prop *d;
	char *end;
	unsigned long long v;

	if (i < 0 || (user && k->props[i].internal))
		return err_say(err, n, -EINVAL, "%s: no property '%s' (%s,help lists them)", k->name,
			    key, k->name);
	d = &k->props[i];
	if (!val)
		return err_say(err, n, -EINVAL, "%s: property '%s' needs a value (%s=...)", k->name,
			    key, key);
	switch (d->type) {
	case DEV_PROP_NUM:
		errno = 0;
		v = strtoull(val, &end, 0);
		if (!*val || *val == '-' || errno || *end || v < d->min || v > d->max)
			return err_say(err, n, -EINVAL, "%s: %s=%s: a number from %#llx to %#llx", k->name,
				    key, val, (unsigned long long)d->min,
				    (unsigned long long)d->max);
		p->num[i] = v;
		break;
	case DEV_PROP_BOOL:
		if (!parse_bool(val, &p->num[i]))
			return err_say(err, n, -EINVAL, "%s: %s=%s: on or off", k->name, key, val);
		break;
	case DEV_PROP_CHARDEV:
		if (!chardev_ok(val))
			return err_say(err, n, -EINVAL, "%s: %s=%s: stdio, null or file:PATH", k->name, key,
				    val);
		/* fall through */
	case DEV_PROP_STR:
		if (strlen(val) >= DEV_STR_MAX)
			return err_say(err, n, -EINVAL, "%s: %s: longer than %d bytes", k->name, key,
				    DEV_STR_MAX - 1);
		snprintf(p->str[i], DEV_STR_MAX, "%s", val);
		break;
	default:
		return err_say(err, n, -EINVAL, "%s: property '%s' has no type", k->name, key);
	}
	p->given |= 1u << i;
	return 0;
}

int dev_props_parse(struct dev_props *p, const char *list, char *err, size_t n)
{
	char buf[1024], *save, *tok;
	if (strlen(list) >= sizeof(buf))
		return err_say(err, n, -EINVAL, "%s: properties too long", p->kind->name);
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		int r;
		if (eq)
			*eq = 0;
		r = dev_prop_parse(p, tok, eq ? eq + 1 : NULL, true, err, n);
		if (r < 0)
			return r;
	}
	return 0;
}

int dev_props_check(const struct dev_props *p, char *err, size_t n)
{
	const struct dev_kind *k = p->kind;
	for (unsigned i = 0; i < k->n_props && i < DEV_MAX_PROPS; i++) {
		const struct dev_prop *d = &k->props[i];
		uint64_t v = p->num[i];
		if (d->type == DEV_PROP_NUM && (v < d->min || v > d->max))
			return err_say(err, n, -EINVAL, "%s: %s=%#llx out of range", k->name, d->name,
				    (unsigned long long)v);
		if (d->type == DEV_PROP_BOOL && v > 1)
			return err_say(err, n, -EINVAL, "%s: %s is not a bool", k->name, d->name);
		if ((d->type == DEV_PROP_STR || d->type == DEV_PROP_CHARDEV) &&
		    !memchr(p->str[i], 0, DEV_STR_MAX))
			return err_say(err, n, -EINVAL, "%s: %s is not a string", k->name, d->name);
	}
	return 0;
}

static const char *const category_name[] = {
	[DEV_CAT_DISPLAY] = "Display devices",
	[DEV_CAT_INPUT] = "Input devices",
	[DEV_CAT_MISC] = "Misc devices",
	[DEV_CAT_PLATFORM] = "Platform devices",
	[DEV_CAT_STORAGE] = "Storage devices",
	[DEV_CAT_TEST] = "Test devices (test builds only)",
	[DEV_CAT_USB] = "USB devices",
};

void dev_kinds_help(FILE *f)
{
	const struct dev_kind *k[MAX_KINDS];
	size_t nk = dev_kinds(k, MAX_KINDS);
	if (nk > MAX_KINDS)
		nk = MAX_KINDS;
	for (unsigned c = 1; c < ARRAY_SIZE(category_name); c++) {
		bool head = false;
		for (size_t i = 0; i < nk; i++) {
			if (k[i]->category != c)
				continue;
			if (!head)
				fprintf(f, "%s%s:\n", c > 1 ? "\n" : "", category_name[c]);
			head = true;
			fprintf(f, "name \"%s\", desc \"%s\"%s%s%s\n", k[i]->name, k[i]->help,
				k[i]->where == DEV_IN_VMM ? ", in vmm" : "",
				k[i]->unique ? ", one per machine" : "",
				k[i]->user ? "" : ", no-user");
		}
	}
}

void dev_kind_help(FILE *f, const struct dev_kind *k)
{
	unsigned shown = 0;
	fprintf(f, "%s options:\n", k->name);
	for (unsigned i = 0; i < k->n_props && i < DEV_MAX_PROPS; i++) {
		const struct dev_prop *d = &k->props[i];
		char type[64], left[DEV_NAME_MAX + 64];
		if (d->internal)
			continue;
		shown++;
		switch (d->type) {
		case DEV_PROP_NUM:
			snprintf(type, sizeof(type), "<num %#llx..%#llx>",
				 (unsigned long long)d->min, (unsigned long long)d->max);
			break;
		case DEV_PROP_BOOL:
			snprintf(type, sizeof(type), "<on|off>");
			break;
		case DEV_PROP_CHARDEV:
			snprintf(type, sizeof(type), "<chardev>");
			break;
		default:
			snprintf(type, sizeof(type), "<str>");
			break;
		}
		snprintf(left, sizeof(left), "%s=%s", d->name, type);
		fprintf(f, "  %-26s - %s", left, d->help ? d->help : "");
		if (d->type == DEV_PROP_NUM)
			fprintf(f, " (default: %#llx)\n", (unsigned long long)d->dflt);
		else if (d->type == DEV_PROP_BOOL)
			fprintf(f, " (default: %s)\n", d->dflt ? "on" : "off");
		else
			fprintf(f, " (default: \"%s\")\n", d->dflt_str ? d->dflt_str : "");
	}
	if (!shown)
		fprintf(f, "  (no properties)\n");
	if (!k->user)
		fprintf(f, "  (the board creates it; -device cannot)\n");
}
