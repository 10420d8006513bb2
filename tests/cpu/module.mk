# tests/cpu: emulator tests on a bare test machine (testbus.c).
cputest_SRCS := $(filter-out tests/cpu/testbus.c,$(wildcard tests/cpu/*.c))
cputest_TESTS := $(patsubst tests/cpu/%.c,$(B)/tests/cpu-%.t,$(cputest_SRCS))
TESTS += $(cputest_TESTS)

$(B)/tests/cpu-%.t: $(B)/tests/cpu/%.o $(B)/tests/cpu/testbus.o $(B)/libcpu.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_CPU) -lm
include tests/cpu/diff.mk
