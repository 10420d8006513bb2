# src/vmm/platform: the platform core, kept in the vmm because it is on
# every hot path (DESIGN.md): PIC, PIT, RTC, IOAPIC, LAPIC, ACPI PM
# hardware. One file per device.
platform_SRCS := $(wildcard src/vmm/platform/*.c)
$(B)/libplatform.a: $(call objs,$(platform_SRCS))
