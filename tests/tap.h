/* A minimal TAP producer for unit tests: prove reads what these print. */
#ifndef V2E_TESTS_TAP_H
#define V2E_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

struct tap {
	int n;
	int failed;
};

static inline int tap_ok(struct tap *t, int cond, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int tap_ok(struct tap *t, int cond, const char *fmt, ...)
{
	va_list ap;
	t->n++;
	if (!cond)
		t->failed++;
	printf("%sok %d - ", cond ? "" : "not ", t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static inline void tap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Prints the plan and returns the exit status for main(). */
static inline int tap_done(struct tap *t)
{
	printf("1..%d\n", t->n);
	return t->failed ? 1 : 0;
}

#endif
