# tests/block: block layer tests. C files become TAP programs, shell
# scripts are installed as TAP programs; both named block-NAME.t.
block_TEST_LIBS := $(B)/libblock.a $(B)/liblib.a
block_C_TESTS := $(patsubst tests/block/%.c,$(B)/tests/block-%.t,$(wildcard tests/block/*.c))
block_SH_TESTS := $(patsubst tests/block/%.sh,$(B)/tests/block-%.t,$(wildcard tests/block/*.sh))
TESTS += $(block_C_TESTS) $(block_SH_TESTS)

$(block_C_TESTS): $(B)/tests/block-%.t: $(B)/tests/block/%.o $(block_TEST_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BLOCK_LDLIBS)

$(block_SH_TESTS): $(B)/tests/block-%.t: tests/block/%.sh $(B)/v2e-io
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

include fuzz/module.mk
