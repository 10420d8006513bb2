/* Shared loader helpers (see loader.h). */
#include "vmm/loader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int ld_fail(char *err, size_t n, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return code;
}

int ld_copy_in(const struct guest_mem *gm, uint64_t paddr, const void *src,
	       uint64_t n, char *err, size_t errlen, const char *what)
{
	if (n && guest_mem_write(gm, paddr, src, n) < 0)
		return ld_fail(err, errlen, -EFAULT,
			       "%s at %#llx (%llu bytes) is not inside guest RAM",
			       what, (unsigned long long)paddr,
			       (unsigned long long)n);
	return 0;
}
