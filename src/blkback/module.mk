# src/blkback: v2e-blk, the block backend. It links the block layer, the
# sandbox's lockdown and guest RAM's attach; nothing of the vmm or of a
# device model.
blkback_SRCS := $(wildcard src/blkback/*.c)
BLKBACK_LIBS = $(B)/libblkif.a $(B)/libblock.a $(B)/libsandbox.a $(B)/libioreq.a $(B)/libmem.a \
	$(B)/liblib.a
PROGRAMS += $(B)/v2e-blk
$(B)/v2e-blk: $(call objs,$(blkback_SRCS)) $(BLKBACK_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(BLKBACK_LIBS) \
		$(SANDBOX_LDLIBS) $(BLOCK_LDLIBS)
