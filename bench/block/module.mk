# bench/block: v2e-blkbench (the counterpart of qemu-img bench) and the
# io_uring vs thread pool measurement. bench/block/run.sh runs them.
$(B)/bench/v2e-blkbench: $(B)/bench/block/blkbench.o $(B)/libblock.a \
		$(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BLOCK_LDLIBS)
$(B)/bench/v2e-aio-choice: $(B)/bench/block/aio-choice.o $(B)/libblock.a \
		$(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -luring $(BLOCK_LDLIBS)
BENCHES += $(B)/bench/v2e-blkbench $(B)/bench/v2e-aio-choice
