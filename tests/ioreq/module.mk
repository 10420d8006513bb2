# tests/ioreq: the ioreq protocol between two processes.
ioreq_TESTS := $(patsubst tests/ioreq/%.c,$(B)/tests/ioreq-%.t,$(wildcard tests/ioreq/*.c))
TESTS += $(ioreq_TESTS)

$(ioreq_TESTS): $(B)/tests/ioreq-%.t: $(B)/tests/ioreq/%.o $(B)/libioreq.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^
