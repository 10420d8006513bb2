/* Replays fuzz inputs through the fuzz target without libFuzzer, as a TAP
 * test: every file given, then a fixed number of deterministic mutations
 * of each (a fixed seed), so `make check` covers what fuzzing found and a
 * bounded slice of what it might. Usage: replay [-m MUTATIONS] FILE... */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tests/tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Flips bytes where the parser looks most: the header, and 8-byte
 * fields anywhere (table entries), sometimes to extreme values. */
static void mutate(uint8_t *p, size_t n, uint64_t *s)
{
	int k, edits = 1 + (int)(rnd(s) % 4);
	for (k = 0; k < edits && n; k++) {
		uint64_t r = rnd(s);
		size_t at = (r & 1) ? (size_t)(rnd(s) % (n < 112 ? n : 112)) :
			    (size_t)(rnd(s) % n);
		switch (rnd(s) % 4) {
		case 0: p[at] ^= (uint8_t)(1u << (rnd(s) % 8)); break;
		case 1: p[at] = (uint8_t)rnd(s); break;
		case 2: p[at] = (rnd(s) & 1) ? 0xff : 0; break;
		default:
			at &= ~(size_t)7;
			if (at + 8 <= n)
				memset(p + at, (rnd(s) & 1) ? 0xff : 0, 8);
		}
	}
}

int main(int argc, char **argv)
{
	struct tap t = { 0 };
	int i = 1, mutations = 0, m;
	uint64_t seed = 0x5eed;

	if (argc > 2 && !strcmp(argv[1], "-m")) {
		mutations = atoi(argv[2]);
		i = 3;
	}
	for (; i < argc; i++) {
		struct stat st;
		uint8_t *orig, *work;
		int fd = open(argv[i], O_RDONLY);
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (64 << 20)) {
			tap_ok(&t, 0, "read %s", argv[i]);
			if (fd >= 0)
				close(fd);
			continue;
		}
		orig = malloc((size_t)st.st_size + 1);
		work = malloc((size_t)st.st_size + 1);
		if (read(fd, orig, (size_t)st.st_size) != st.st_size) {
			tap_ok(&t, 0, "read %s", argv[i]);
			close(fd);
			continue;
		}
		close(fd);
		LLVMFuzzerTestOneInput(orig, (size_t)st.st_size);
		for (m = 0; m < mutations; m++) {
			memcpy(work, orig, (size_t)st.st_size);
			mutate(work, (size_t)st.st_size, &seed);
			LLVMFuzzerTestOneInput(work, (size_t)st.st_size);
		}
		tap_ok(&t, 1, "%s and %d mutations of it: no crash", argv[i],
		       mutations);
		free(orig);
		free(work);
	}
	return tap_done(&t);
}
