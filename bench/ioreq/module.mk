# bench/ioreq: the device-model boundary (round trip, buffered writes,
# REP INSW) through a real sandboxed v2e-dm, beside the in-process
# transport.
BENCHES += $(B)/bench/ioreqbench

$(B)/bench/ioreqbench: $(B)/bench/ioreq/ioreqbench.o $(DM_LIBS) $(B)/v2e-dm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libvmm.a $(DM_LINK) -lseccomp -lm
