/* Between the generic block layer and the formats; not for devices. */
#ifndef V2E_BLOCK_BLOCK_INT_H
#define V2E_BLOCK_BLOCK_INT_H

#include <sys/types.h>

#include "block/block.h"

/* The images already open above this one, to catch loops by identity
 * (st_dev, st_ino), since names can alias through links. */
struct blk_chain {
	unsigned depth;
	dev_t dev[BLK_MAX_CHAIN + 1];
	ino_t ino[BLK_MAX_CHAIN + 1];
};

int raw_open(int fd, const struct blk_open_opts *opts, struct blk **out);
int qcow2_open(int fd, const struct blk_open_opts *opts,
	       struct blk_chain *chain, struct blk **out);
int blk_open_chain(int fd, const struct blk_open_opts *opts,
		   struct blk_chain *chain, struct blk **out);

/* Opens the backing file `name` named by image `referrer`, read-only,
 * in `format` (NULL: probe). */
int blk_open_backing(const struct blk_open_opts *opts, const char *referrer,
		     const char *name, const char *format,
		     struct blk_chain *chain, struct blk **out);

/* pread/pwrite that loop over short transfers; a read past the end of the
 * file is an error (-EIO), as an image never points there legitimately. */
int blk_full_pread(int fd, void *buf, size_t len, uint64_t off);
int blk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off);
/* Same, but bytes past the end of the file read as zeros. */
int blk_pread_zero_eof(int fd, void *buf, size_t len, uint64_t off);

#endif
