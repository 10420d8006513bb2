# tests/gdb: the GDB stub end to end with Debian's gdb in batch mode,
# against a Multiboot kernel built as ELF with symbols, plus a raw client
# (rsp.pl) for Ctrl-C and a hostile byte stream.
TESTS += $(B)/tests/vmm-gdb.t

$(B)/tests/gdb/kernel.elf: tests/gdb/kernel.asm
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $@")
	$(Q)nasm -f elf32 -g -o $(B)/tests/gdb/kernel.o $<
	$(Q)ld -m elf_i386 -Ttext 0x100000 -e start -z max-page-size=0x1000 \
		-z noseparate-code -o $@ $(B)/tests/gdb/kernel.o

$(B)/tests/gdb/rsp.pl: tests/gdb/rsp.pl
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(B)/tests/vmm-gdb.t: tests/gdb/gdb.sh $(B)/v2e $(B)/tests/gdb/kernel.elf \
		$(B)/tests/gdb/rsp.pl $(B)/tests/vmm/clock.mb
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

TESTS += $(B)/tests/gdb-fuzz-replay.t
$(B)/tests/gdb-fuzz-replay.t: tests/gdb/fuzz-replay.sh $(B)/tests/gdb-fuzz-replay
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@
