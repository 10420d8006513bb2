# src/display: v2e-display, the display-only device model serving VNC and
# noVNC. It links the renderer (libdev), the sandbox's lockdown and
# LibVNCServer; nothing of the vmm or of a device model.
display_SRCS := $(wildcard src/display/*.c)
DISPLAY_LIBS = $(B)/libdev.a $(B)/libsandbox.a $(B)/liblib.a
DISPLAY_LDLIBS := $(shell pkg-config --libs libvncserver 2>/dev/null || echo -lvncserver)
PROGRAMS += $(B)/v2e-display
$(B)/v2e-display: $(call objs,$(display_SRCS)) $(DISPLAY_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(DISPLAY_LIBS) \
		$(SANDBOX_LDLIBS) $(DISPLAY_LDLIBS)
