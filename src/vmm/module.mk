# src/vmm: guest memory, vCPU loop, platform core, loaders, the v2e main.
# Everything but the main goes into libvmm.a so tests can link it.
vmm_SRCS := $(filter-out src/vmm/main.c,$(wildcard src/vmm/*.c))
$(B)/libvmm.a: $(call objs,$(vmm_SRCS))
# -d in_asm disassembles with Capstone (qlog.c).
LIBS_VMM := -lcapstone

PROGRAMS += $(B)/v2e
# The device models' devices are linked in too: until device models run
# out of process (issue 4), they are called directly.
VMM_LIBS = $(B)/libvmm.a $(B)/libplatform.a $(B)/libdm.a $(B)/libdmhw.a \
	$(B)/libdmbackend.a $(B)/libblkif.a $(B)/libsandbox.a $(B)/libioreq.a $(B)/libdev.a \
	$(B)/libmem.a
$(B)/v2e: $(B)/src/vmm/main.o $(VMM_LIBS) $(B)/libcpu.a $(B)/liblib.a $(B)/v2e-dm \
		$(B)/v2e-blk
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libvmm.a $(LINK_DEVS) $(VMM_LIBS) $(LINK_CPU) $(LIBS_VMM) -lseccomp -lm

include $(wildcard src/vmm/*/module.mk)
