#include "lib/log.h"

#include <stdio.h>

/* The program name is set once by main() before threads start and never
 * changes; it is process identity, not VM state. */
static const char *log_prog = "v2e";

void log_set_prog(const char *name)
{
	log_prog = name;
}

static void log_line(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "%s: %s%s\n", log_prog, level, buf);
}

void log_verror(const char *fmt, va_list ap)
{
	log_line("", fmt, ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

int err_say(char *err, size_t n, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return r;
}
