# tests/vmm: the v2e program end to end, with small Multiboot kernels.
VMM_TEST_KERNELS := $(patsubst tests/vmm/%.asm,$(B)/tests/vmm/%.mb,$(wildcard tests/vmm/*.asm))
# Firmware images for -bios (tests/vmm/rom/*.asm, flat binaries).
VMM_TEST_ROMS := $(patsubst tests/vmm/rom/%.asm,$(B)/tests/vmm/%.rom,$(wildcard tests/vmm/rom/*.asm))
TESTS += $(B)/tests/vmm-v2e.t $(B)/tests/vmm-dm.t $(B)/tests/vmm-dlog.t

$(B)/tests/vmm/%.mb: tests/vmm/%.asm tests/vmm/mb.inc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $@")
	$(Q)nasm -f bin -I tests/vmm/ -o $@ $<

$(B)/tests/vmm/%.rom: tests/vmm/rom/%.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $@")
	$(Q)nasm -f bin -o $@ $<

$(B)/tests/vmm-v2e.t: tests/vmm/v2e.sh $(B)/v2e $(VMM_TEST_KERNELS) $(VMM_TEST_ROMS)
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

$(B)/tests/vmm-dm.t: tests/vmm/dm.sh $(B)/v2e $(VMM_TEST_KERNELS)
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

$(B)/tests/vmm-dlog.t: tests/vmm/dlog.sh $(B)/v2e $(VMM_TEST_KERNELS)
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@
