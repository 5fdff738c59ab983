# node-os/node-os.mk: the node image and its agent.
#   $(BIN)/snow-agent          the node agent (node-os/agent/)
#   $(BIN)/snow-mkimage        image builder (node-os/mkimage/), with
#   $(BIN)/snow-kernel-deb     which finds/fetches Debian's kernel package
#   $(BIN)/snow-image          whole Debian systems as node images (docs/images.md)
#   $(BIN)/snow-debroot        cached debootstrap roots (snow-image, the host VM test)
#   $(BIN)/snow-oci            unpacks OCI/docker image archives and root tarballs for it
#   make node-kernel           kernel .deb into ${SNOW_CACHE:-/var/cache/snow}
#   make image                 build/images/default/{vmlinuz,initrd,MANIFEST}
# The image is in `all` through BINS (NODE_IMAGE).

# debootstrap, squashfs-tools: snow-image; openssh-client: snowd's ssh-keygen (node host
# keys) and ssh into whole-system images; e2fsprogs: the host VM's disk (mkfs.ext4 -d);
# libarchive-dev: snow-oci reads layer tarballs (any compression) with it.
DEB_PACKAGES += busybox-static cpio kmod binutils qemu-system-x86 python3 debootstrap squashfs-tools \
	openssh-client e2fsprogs libarchive-dev

NODE_AGENT_SRCS := $(addprefix node-os/agent/,agent.c loop.c command.c link.c answer.c blackbox.c sample.c tree.c ddm.c ddm_nic.c ddm_block.c ddm_pci.c wdog.c overlay.c nicst.c xcvr.c persist.c post.c nlwatch.c hotrestart.c pstore.c wake.c)
NODE_AGENT_LIB  := $(B)/node-os/libagent.a
NODE_AGENT_LIB_T := $(B)/node-os/libagent-t.a
NODE_DATA       := $(B)/share/snow/node-os
NODE_CACHE      := $(if $(SNOW_CACHE),$(SNOW_CACHE),/var/cache/snow)
NODE_IMG        := $(B)/images/default
NODE_IMAGE      := $(NODE_IMG)/vmlinuz $(NODE_IMG)/initrd $(NODE_IMG)/MANIFEST

$(NODE_AGENT_LIB): $(NODE_AGENT_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# The same objects with sanitizers, for tests/node-os/test_*.
$(NODE_AGENT_LIB_T): $(NODE_AGENT_SRCS:%.c=$(TOBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BIN)/snow-agent: $(OBJ)/node-os/agent/main.o $(NODE_AGENT_LIB) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_JSON) $(LDLIBS_CRYPTO)

# Image archives are outside input: the JSON is parsed in node-os/oci/oci.c (fuzz
# target tests/fuzz/oci.c), the layers applied by oci_main.c inside the root.
$(BIN)/snow-oci: $(OBJ)/node-os/oci/oci_main.o $(OBJ)/node-os/oci/oci.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -larchive $(LDLIBS_JSON) $(LDLIBS_CRYPTO)

# Programs on the node post their own events with it (node-os/agent/post.h); libc only.
$(BIN)/snow-event: $(OBJ)/node-os/agent/snow-event.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^

# /init's hold of the watchdog, with a pretimeout, until the agent takes it (docs/crash.md).
$(BIN)/snow-wdhold: $(OBJ)/node-os/agent/wdhold.o $(OBJ)/node-os/agent/wdog.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^

$(BIN)/snow-mkimage: node-os/mkimage/snow-mkimage
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(BIN)/snow-image: node-os/mkimage/snow-image
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(BIN)/snow-debroot: node-os/mkimage/snow-debroot
	@mkdir -p $(@D)
	install -m 0755 $< $@

$(BIN)/snow-kernel-deb: node-os/mkimage/snow-kernel-deb
	@mkdir -p $(@D)
	install -m 0755 $< $@

# /init and the DHCP script, where the installed snow-mkimage looks for them.
$(NODE_DATA)/%: node-os/init/%
	@mkdir -p $(@D)
	install -m 0755 $< $@

# snow-nic (nic/, the NIC offload engine) goes in too: /init runs it on the
# compute interface when the node has one (docs/nic.md).
# Rebuilt when the agent, snow-nic, /init, the builder, busybox or the cached kernel
# package change.  snow-mkimage replaces all three files only on success.
$(NODE_IMAGE) &: $(BIN)/snow-mkimage $(BIN)/snow-kernel-deb $(BIN)/snow-agent $(BIN)/snow-nic \
		$(BIN)/snow-event $(BIN)/snow-wdhold \
		$(NODE_DATA)/init $(NODE_DATA)/udhcpc.script $(wildcard /bin/busybox) \
		$(wildcard $(NODE_CACHE)/linux-image-*.deb)
	$(BIN)/snow-mkimage --out $(NODE_IMG) --agent $(BIN)/snow-agent --extra-bin $(BIN)/snow-nic \
		$(BIN)/snow-event $(BIN)/snow-wdhold

.PHONY: image node-kernel
image: $(NODE_IMAGE)

# Called by `make deps`: the kernel .deb the image is built from.
node-kernel:
	@bash node-os/mkimage/snow-kernel-deb --fetch >/dev/null

BINS += $(BIN)/snow-agent $(BIN)/snow-event $(BIN)/snow-wdhold $(BIN)/snow-mkimage $(BIN)/snow-kernel-deb $(BIN)/snow-image \
	$(BIN)/snow-oci $(BIN)/snow-debroot $(NODE_IMAGE)

# Unit tests find the headers and the fixture tree.
$(TOBJ)/tests/node-os/%.o: CPPFLAGS += -Inode-os/agent \
	-DNODE_OS_FIXTURES='"$(CURDIR)/tests/node-os/fixtures"'
$(call unit_tests_in,node-os,$(NODE_AGENT_LIB_T) $(LIBSNOW_T),$(LDLIBS_JSON) $(LDLIBS_CRYPTO))

# The whole-system image end to end (docs/images.md): builds build/images/debian
# with snow-image (a debootstrap the first time, seconds after), boots two QEMU
# nodes into it and feeds one a corrupt squashfs.  Slow, root only; `make check`
# runs the same test only when build/images/debian is already built.
.PHONY: check-image
check-image: all
	SNOW_IMAGE_TESTS=1 tests/run.sh it_image_debian
