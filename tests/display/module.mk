# tests/display: v2e-display end to end through LibVNCClient.
DISPLAY_TEST_LIBS = $(B)/libdev.a $(B)/libsandbox.a $(B)/liblib.a
VNCCLIENT_LDLIBS := $(shell pkg-config --libs libvncclient 2>/dev/null || echo -lvncclient)
TESTS += $(B)/tests/display-display.t

$(B)/tests/display-display.t: $(B)/tests/display/display.o $(DISPLAY_TEST_LIBS) $(B)/v2e-display
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DISPLAY_TEST_LIBS) $(SANDBOX_LDLIBS) \
		$(VNCCLIENT_LDLIBS)

# The request parser and the keymap alone (with seeded mutations).
TESTS += $(B)/tests/display-units.t
$(B)/tests/display-units.t: $(B)/tests/display/units.o $(B)/src/display/http.o \
		$(B)/src/display/keymap.o $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# The request parser's fuzz corpus, replayed with seeded mutations.
TESTS += $(B)/tests/display-fuzz-replay.t
$(B)/tests/display-fuzz-replay.t: tests/display/fuzz-replay.sh $(B)/tests/display-fuzz-replay
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@
