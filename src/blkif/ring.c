/* Mapping the shared area of ring.h, as both ends do. */
#include "blkif/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lib/log.h"

int blkif_map(int fd, struct blkif_shared **out, char *err, size_t errlen)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	void *sh;

	/* Sealed, or the other end could shrink it and fault us (SIGBUS). */
	if (fstat(fd, &st) < 0 || st.st_size != BLKIF_SHARED_SIZE || seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW))
		return err_say(err, errlen, -EPROTO,
			       "the block ring is not a sealed memfd of %u bytes",
			       BLKIF_SHARED_SIZE);
	sh = mmap(NULL, BLKIF_SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sh == MAP_FAILED)
		return err_say(err, errlen, -errno, "cannot map the block ring: %s",
			       strerror(errno));
	*out = sh;
	return 0;
}
