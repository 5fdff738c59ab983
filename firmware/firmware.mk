# firmware/firmware.mk
