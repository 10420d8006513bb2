#include "lib/program.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void program_beside_us(const char *name, char *buf, size_t n)
{
	ssize_t len = n > 1 ? readlink("/proc/self/exe", buf, n - 1) : -1;
	char *slash;

	if (len <= 0) {
		snprintf(buf, n, "%s", name);
		return;
	}
	buf[len] = 0;
	slash = strrchr(buf, '/');
	snprintf(slash ? slash + 1 : buf, n - (size_t)(slash ? slash + 1 - buf : 0), "%s", name);
}
