# src/dev: the device contract shared by the vmm's platform core and the
# device models: io_ops, irq lines, the virtual clock.
dev_SRCS := $(wildcard src/dev/*.c)
$(B)/libdev.a: $(call objs,$(dev_SRCS))
