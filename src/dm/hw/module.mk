# src/dm/hw: device-model devices (UART, and later i8042, ...). One file
# per device; they reach the host only through backends handed to them.
dmhw_SRCS := $(wildcard src/dm/hw/*.c)
$(B)/libdmhw.a: $(call objs,$(dmhw_SRCS))
