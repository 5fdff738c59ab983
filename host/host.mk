# host/host.mk
