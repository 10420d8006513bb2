/* Logging: one line per message on stderr, prefixed with the program name.
 * Library code reports and returns -errno; only main() decides to exit. */
#ifndef V2E_LIB_LOG_H
#define V2E_LIB_LOG_H

#include <stdarg.h>

void log_set_prog(const char *name);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_verror(const char *fmt, va_list ap);

#endif
