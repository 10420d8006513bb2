# tests/blkif: the block ring between fronts and a real v2e-blk: round
# trips, refusals before the guest starts, and hostile fronts.
blkif_TESTS := $(patsubst tests/blkif/%.c,$(B)/tests/blkif-%.t,$(wildcard tests/blkif/*.c))
TESTS += $(blkif_TESTS)
BLKIF_TEST_LIBS = $(B)/libvmm.a $(B)/libblkif.a $(B)/libblock.a $(B)/libsandbox.a \
	$(B)/libioreq.a $(B)/libmem.a $(B)/liblib.a

$(blkif_TESTS): $(B)/tests/blkif-%.t: $(B)/tests/blkif/%.o $(BLKIF_TEST_LIBS) $(B)/v2e-blk
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(BLKIF_TEST_LIBS) \
		$(SANDBOX_LDLIBS) $(BLOCK_LDLIBS)
