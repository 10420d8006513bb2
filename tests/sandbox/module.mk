# tests/sandbox: the device-model sandbox. Each program starts itself again
# as the sandboxed child ("--child MODE"), so one binary holds both sides.
sandboxtest_SRCS := $(wildcard tests/sandbox/*.c)
sandboxtest_TESTS := $(patsubst tests/sandbox/%.c,$(B)/tests/sandbox-%.t,$(sandboxtest_SRCS))
TESTS += $(sandboxtest_TESTS)

$(sandboxtest_TESTS): $(B)/tests/sandbox-%.t: $(B)/tests/sandbox/%.o $(B)/libsandbox.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libsandbox.a $(B)/liblib.a $(SANDBOX_LDLIBS) -lpthread
