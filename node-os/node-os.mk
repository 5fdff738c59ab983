# node-os/node-os.mk
