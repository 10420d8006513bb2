/* Where v2e's helper programs are: beside the running executable, so a
 * build tree runs its own v2e-dm, v2e-blk and v2e-display, never ones
 * found on $PATH. */
#ifndef V2E_LIB_PROGRAM_H
#define V2E_LIB_PROGRAM_H

#include <stddef.h>

/* The path of `name` in the running program's folder, in buf (n bytes);
 * just `name` when /proc/self/exe cannot be read. */
void program_beside_us(const char *name, char *buf, size_t n);

#endif
