# tests/sys: bare-metal system test programs. Each tests/sys/*.asm is a
# flat binary (nasm -f bin) that reports over port 0xe9 and ends through
# port 0xf4; the lines starting with ";= " in it are the output it must
# print, lines starting with ";! " options for the runner (the CPU model).
# One runner, sys.t, runs them all on the test machine.
sys_ASMS := $(wildcard tests/sys/*.asm)
sys_INCS := $(wildcard tests/sys/*.inc)
sys_BINS := $(patsubst tests/sys/%.asm,$(B)/tests/sys/%.bin,$(sys_ASMS))
sys_EXPECTS := $(sys_BINS:.bin=.expect)
TESTS += $(B)/tests/sys.t

$(B)/tests/sys/%.bin: tests/sys/%.asm $(sys_INCS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  NASM    $@")
	$(Q)nasm -f bin -w+error -I tests/sys/ -o $@ $<

$(B)/tests/sys/%.expect: tests/sys/%.asm
	@mkdir -p $(dir $@)
	$(Q)sed -n -e 's/^;= \{0,1\}//p' -e 's/^;! */!/p' $< > $@

$(B)/tests/sys.t: $(B)/tests/sys/run.o $(B)/tests/cpu/testbus.o $(B)/libcpu.a $(B)/liblib.a $(sys_BINS) $(sys_EXPECTS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_CPU) -lm
