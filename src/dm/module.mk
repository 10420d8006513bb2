# src/dm: the device-model side. Each subfolder (block/, ...) adds itself.
include $(wildcard src/dm/*/module.mk)
