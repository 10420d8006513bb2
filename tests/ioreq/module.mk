# tests/ioreq: the ioreq protocol between two processes.
ioreq_TESTS := $(patsubst tests/ioreq/%.c,$(B)/tests/ioreq-%.t,$(filter-out tests/ioreq/dm_state.c,$(wildcard tests/ioreq/*.c)))
TESTS += $(ioreq_TESTS) $(B)/tests/ioreq-dm_state.t

$(ioreq_TESTS): $(B)/tests/ioreq-%.t: $(B)/tests/ioreq/%.o $(B)/libioreq.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Device state through a real v2e-dm: links the vmm's side of the link.
$(B)/tests/ioreq-dm_state.t: $(B)/tests/ioreq/dm_state.o $(B)/libvmm.a $(DM_LIBS) $(B)/v2e-dm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libvmm.a $(DM_LINK) -lseccomp -lm
