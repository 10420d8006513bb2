# tests/dev: unit tests of the device contract and of each device, linked
# against every device library (platform core and device-model devices).
DEV_LIBS := $(B)/libplatform.a $(B)/libdmhw.a $(B)/libdmbackend.a $(B)/libblkif.a $(B)/libdev.a \
	$(B)/libmem.a $(B)/liblib.a
devtest_SRCS := $(wildcard tests/dev/*.c)
TESTS += $(patsubst tests/dev/%.c,$(B)/tests/dev-%.t,$(devtest_SRCS))

$(B)/tests/dev-%.t: $(B)/tests/dev/%.o $(DEV_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DEV_LIBS) -lm

# The VGA BIOS runs on the emulator: this test links it too.
$(B)/tests/dev-vga_bios.t: $(B)/tests/dev/vga_bios.o $(DEV_LIBS) $(B)/libcpu.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DEV_LIBS) $(LINK_CPU) -lm
