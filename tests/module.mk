# tests: every tests/unit/*.c and tests/cpu/*.c is a TAP program linked
# against the libraries. Test programs end in .t so prove can run them.
TEST_LIBS := $(B)/libcpu.a $(B)/liblib.a
unit_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%.t,$(wildcard tests/unit/*.c))
TESTS += $(unit_TESTS)

$(B)/tests/%.t: $(B)/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm
include $(wildcard tests/*/module.mk)
