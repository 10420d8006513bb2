# src/ioreq: the ioreq protocol, both ends: the shared-area ABI (ioreq.h),
# the channel (chan.c) and the control socket (ctl.c).
ioreq_SRCS := $(wildcard src/ioreq/*.c)
$(B)/libioreq.a: $(call objs,$(ioreq_SRCS))
