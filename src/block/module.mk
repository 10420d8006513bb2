# src/block: the block layer (generic part, thread pool, formats).
block_SRCS := $(wildcard src/block/*.c)
$(B)/libblock.a: $(call objs,$(block_SRCS))
BLOCK_LDLIBS := -lz -lzstd -lpthread
