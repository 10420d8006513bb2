# src/vmm: guest memory, vCPU loop, platform core, loaders, the v2e main.
# Everything but the main goes into libvmm.a so tests can link it.
vmm_SRCS := $(filter-out src/vmm/main.c,$(wildcard src/vmm/*.c))
$(B)/libvmm.a: $(call objs,$(vmm_SRCS))

include $(wildcard src/vmm/*/module.mk)
