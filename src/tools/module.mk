# src/tools: command-line tools built on the libraries.
$(B)/v2e-io: $(B)/src/tools/v2e-io.o $(B)/libblock.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BLOCK_LDLIBS)
PROGRAMS += $(B)/v2e-io

# v2e-screendump: the screen through VNC into a PPM or PNG file, with
# keys and pointer moves first (for users and the whole-guest tests).
$(B)/v2e-screendump: $(B)/src/tools/v2e-screendump.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lvncclient -lpng16
PROGRAMS += $(B)/v2e-screendump
