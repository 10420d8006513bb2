# src/vmm/platform: the platform core, kept in the vmm because it is on
# every hot path (DESIGN.md): PIC, PIT, RTC (and later IOAPIC, LAPIC, ACPI
# PM timer). One file per device.
platform_SRCS := $(wildcard src/vmm/platform/*.c)
$(B)/libplatform.a: $(call objs,$(platform_SRCS))
