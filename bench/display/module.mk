# bench/display: VNC frame latency, frames per second, bytes of an
# unchanged screen and the display's CPU, side by side with QEMU
# (bench/display/run.sh).
BENCHES += $(B)/bench/vncbench $(B)/bench/display/fb.mb

$(B)/bench/vncbench: $(B)/bench/display/vncbench.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lvncclient

$(B)/bench/display/fb.mb: bench/display/fb.asm bench/cpu/mb.inc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $@")
	$(Q)nasm -f bin -I bench/cpu/ -o $@ $<
