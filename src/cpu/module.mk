# src/cpu: the x86 emulator.
cpu_SRCS := $(wildcard src/cpu/*.c)
$(B)/libcpu.a: $(call objs,$(cpu_SRCS))
