# src/dm/sandbox: the device model's sandbox. spawn.o runs in the vmm and
# needs nothing more; lockdown.o runs in the device model and needs
# libseccomp (SANDBOX_LDLIBS).
sandbox_SRCS := $(wildcard src/dm/sandbox/*.c)
$(B)/libsandbox.a: $(call objs,$(sandbox_SRCS))
SANDBOX_LDLIBS := -lseccomp
