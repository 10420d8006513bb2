# tests: every tests/unit/*.c is a TAP program linked against the
# libraries. Test programs end in .t so prove can run them. Folders with
# their own needs (tests/cpu, ...) add themselves through module.mk.
unit_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%.t,$(wildcard tests/unit/*.c))
TESTS += $(unit_TESTS)

# Linked with every device (LINK_DEVS): the command line reads the kind table.
UNIT_LIBS = $(B)/libvmm.a $(B)/libdm.a $(B)/libdmbackend.a $(B)/libblkif.a $(B)/libsandbox.a \
	$(B)/libioreq.a
$(B)/tests/%.t: $(B)/tests/unit/%.o $(UNIT_LIBS) $(B)/libdmhw.a $(B)/libplatform.a \
		$(B)/libdev.a $(B)/libmem.a $(B)/libcpu.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(UNIT_LIBS) $(LINK_DEVS) $(B)/libdmbackend.a $(B)/libblkif.a \
		$(B)/libdev.a $(B)/libmem.a $(LINK_CPU) $(LIBS_VMM) -lseccomp -lm -lutil

# The shell tests source the TAP helper from beside themselves.
TESTS += $(B)/tests/tap.sh
$(B)/tests/tap.sh: tests/tap.sh
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

include $(wildcard tests/*/module.mk)

# The process map, checked on the sources (tests/layers.sh).
TESTS += $(B)/tests/layers.t
$(B)/tests/layers.t: tests/layers.sh tests/module.mk src/dm/module.mk
	@mkdir -p $(dir $@)
	$(Q)printf '#!/bin/sh\nsrc=%s\ndm_libs="%s"\n' "$(CURDIR)" "$(DM_LIBS)" >$@ && \
		cat $< >>$@ && chmod +x $@
