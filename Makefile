# v2e: one non-recursive make. Each folder adds itself through its module.mk.
# Tables of callbacks leave their optional trailing members out, hence
# -Wno-missing-field-initializers.
# Build modes sit side by side: build/release (default), build/debug,
# build/asan (address + undefined sanitizers; what the tests use).
# V=1 prints full commands.

MODE ?= release
B := build/$(MODE)

CC ?= cc
CFLAGS_BASE := -std=gnu11 -g -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-fno-strict-aliasing -D_GNU_SOURCE -Isrc -I. -MMD -MP
CFLAGS_release := -O2
CFLAGS_debug := -O0 -DV2E_TEST_DEVICES
CFLAGS_asan := -O1 -DV2E_TEST_DEVICES -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS_asan := -fsanitize=address,undefined
ALL_CFLAGS = $(CFLAGS_BASE) $(CFLAGS_$(MODE)) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_$(MODE)) $(LDFLAGS)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# objs(SRCS): object paths for sources under the current mode.
objs = $(patsubst %.c,$(B)/%.o,$(filter %.c,$(1))) \
       $(patsubst %.asm,$(B)/%.o,$(filter %.asm,$(1)))

# Programs link the emulator library whole: the opcode table names every
# handler, and nothing may be left to archive-member selection.
LINK_CPU = -Wl,--whole-archive $(B)/libcpu.a -Wl,--no-whole-archive $(B)/liblib.a
# Likewise the device libraries: each device's kind row (dev/kind.h) is
# reached only through the table, never by a symbol, so archive-member
# selection would drop it. LINK_DMHW: a device model's devices;
# LINK_DEVS: those and the vmm's platform core.
LINK_DMHW = -Wl,--whole-archive $(B)/libdmhw.a -Wl,--no-whole-archive
LINK_DEVS = -Wl,--whole-archive $(B)/libdmhw.a $(B)/libplatform.a -Wl,--no-whole-archive

# Filled in by the fragments.
PROGRAMS :=
TESTS :=
BENCHES :=

include src/lib/module.mk
include src/cpu/module.mk
include src/dev/module.mk
include src/mem/module.mk
include src/ioreq/module.mk
include src/block/module.mk
include src/blkif/module.mk
include src/blkback/module.mk
include src/vmm/module.mk
include src/dm/module.mk
include src/display/module.mk
include tests/module.mk
include bench/module.mk
include src/tools/module.mk

.DEFAULT_GOAL := all
all: $(PROGRAMS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/%.a:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# check: install what the tests need, build them with sanitizers, run them.
# Whole-guest tests boot on the release build (the sanitizers add nothing
# to a guest and slow it threefold), so that is built too.
check:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory MODE=release all
	$(Q)$(MAKE) --no-print-directory MODE=asan tests
	$(Q)scripts/run-tests.sh build/asan

# run: boot the default guest (Debian's i686 kernel, a busybox shell) on the
# terminal, fetching it by package name on first use.
run:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory MODE=release build/release/v2e
	$(Q)scripts/run-guest.sh build/release/v2e

tests: $(TESTS)

bench: $(BENCHES)

clean:
	rm -rf build

.PHONY: all check run tests bench clean
.DELETE_ON_ERROR:

-include $(shell find $(B) -name "*.d" 2>/dev/null)
