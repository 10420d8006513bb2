# src/lib: small shared utilities, linked into every program.
lib_SRCS := $(wildcard src/lib/*.c)
$(B)/liblib.a: $(call objs,$(lib_SRCS))
