# src/mem: guest-physical memory as both processes see it: guest RAM on
# its memfd (guest_mem.c) and the region map (region.c).
mem_SRCS := $(wildcard src/mem/*.c)
$(B)/libmem.a: $(call objs,$(mem_SRCS))
