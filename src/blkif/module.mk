# src/blkif: the block ring between a device model (the front) and the
# block backend v2e-blk: its ABI (ring.h), the control conversation with
# the vmm (ctl.h) and the front a device model links (libblkif.a).
blkif_SRCS := $(wildcard src/blkif/*.c)
$(B)/libblkif.a: $(call objs,$(blkif_SRCS))
