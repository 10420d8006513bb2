# tests/tools: programs the tests use (not tests themselves).
TESTS += $(B)/tests/screen-text
$(B)/tests/screen-text: $(B)/tests/tools/screen_text.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^
