# src/tools: command-line tools built on the libraries.
$(B)/v2e-io: $(B)/src/tools/v2e-io.o $(B)/libblock.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BLOCK_LDLIBS)
PROGRAMS += $(B)/v2e-io
