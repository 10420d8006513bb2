# The 32-bit oracle of tests/cpu/diff32.c: an i386 program run under
# qemu-i386, built beside the test that runs it.
$(B)/tests/diff32/prog: tests/cpu/diff32/prog.c tests/cpu/diff32/record.h tests/cpu/diff.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC32    $@")
	$(Q)$(CC) -m32 -static -O1 -std=gnu11 -Wall -Wextra -Werror -Wshadow \
		-Wmissing-prototypes -D_GNU_SOURCE -Isrc -I. -o $@ $<

$(B)/tests/cpu-diff32.t: $(B)/tests/diff32/prog
