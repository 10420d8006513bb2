# src/dm: the device-model side. The dm core (board, server, test-only
# devices) is libdm.a; each subfolder (hw/, backend/, sandbox/)
# adds itself; v2e-dm is the program.
dm_SRCS := $(filter-out src/dm/main.c,$(wildcard src/dm/*.c))
$(B)/libdm.a: $(call objs,$(dm_SRCS))

include $(wildcard src/dm/*/module.mk)

DM_LIBS = $(B)/libdm.a $(B)/libdmhw.a $(B)/libdmbackend.a $(B)/libblkif.a \
	$(B)/libsandbox.a $(B)/libioreq.a $(B)/libdev.a $(B)/libmem.a $(B)/liblib.a
# The same, with the devices linked whole (their kind rows).
DM_LINK = $(B)/libdm.a $(LINK_DMHW) $(B)/libdmbackend.a $(B)/libblkif.a \
	$(B)/libsandbox.a $(B)/libioreq.a $(B)/libdev.a $(B)/libmem.a $(B)/liblib.a
PROGRAMS += $(B)/v2e-dm
$(B)/v2e-dm: $(B)/src/dm/main.o $(DM_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DM_LINK) -lseccomp -lm
