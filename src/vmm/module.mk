# src/vmm: guest memory, vCPU loop, platform core, loaders, the v2e main.
# Everything but the main goes into libvmm.a so tests can link it.
vmm_SRCS := $(filter-out src/vmm/main.c,$(wildcard src/vmm/*.c))
$(B)/libvmm.a: $(call objs,$(vmm_SRCS))

PROGRAMS += $(B)/v2e
$(B)/v2e: $(B)/src/vmm/main.o $(B)/libvmm.a $(B)/libplatform.a $(B)/libdev.a $(B)/libcpu.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libvmm.a \
		$(B)/libplatform.a $(B)/libdev.a $(LINK_CPU) -lm

include $(wildcard src/vmm/*/module.mk)
