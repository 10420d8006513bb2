/* Logging: one line per message on stderr, prefixed with the program name.
 * Library code reports and returns -errno; only main() decides to exit. */
#ifndef V2E_LIB_LOG_H
#define V2E_LIB_LOG_H

#include <stdarg.h>
#include <stddef.h>

void log_set_prog(const char *name);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verror(const char *fmt, va_list ap);

/* For functions that explain a refusal to their caller: writes the
 * message into err[n] and returns r (a -errno), so that a refusal is one
 * line: `return err_say(err, n, -EINVAL, "...", ...);`. */
int err_say(char *err, size_t n, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
