# bench/cpu: the emulator's instruction rate on small Multiboot kernels,
# side by side with QEMU (bench/cpu/run.sh).
BENCH_KERNELS := $(patsubst bench/cpu/%.asm,$(B)/bench/cpu/%.mb,$(wildcard bench/cpu/*.asm))
BENCHES += $(B)/bench/cpubench $(BENCH_KERNELS)

$(B)/bench/cpubench: $(B)/bench/cpu/cpubench.o $(B)/libvmm.a $(B)/libmem.a $(B)/libcpu.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(B)/libvmm.a $(B)/libmem.a $(LINK_CPU) -lm

$(B)/bench/cpu/%.mb: bench/cpu/%.asm bench/cpu/mb.inc
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $@")
	$(Q)nasm -f bin -I bench/cpu/ -o $@ $<
