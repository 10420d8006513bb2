# bench: side-by-side benchmarks; `make bench` builds them.
include $(wildcard bench/*/module.mk)
