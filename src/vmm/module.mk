# src/vmm: guest memory, vCPU loop, platform core, loaders, the v2e main.
include $(wildcard src/vmm/*/module.mk)
