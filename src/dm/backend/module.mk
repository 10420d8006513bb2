# src/dm/backend: host backends behind the device models' small contracts
# (chardev: the terminal console, files). Only these touch host fds.
dmbackend_SRCS := $(wildcard src/dm/backend/*.c)
$(B)/libdmbackend.a: $(call objs,$(dmbackend_SRCS))
