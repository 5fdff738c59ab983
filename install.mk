# install.mk: `make install` lays Snow out as the Debian packages hold it,
# under $(DESTDIR) (debian/rules installs into debian/tmp).  Nothing here
# downloads: the web console's npm files must be there already (`make deb`
# fetches them before dpkg-buildpackage starts).
#
#   $(PREFIX)/sbin          snowd, snow-mkimage, snow-subagent, snow-snmp
#   $(PREFIX)/bin           snowctl, snowtop, snow-nodesim
#   $(PREFIX)/lib/snow      snow-kernel-deb (snow-mkimage's helper), snmpd-snow.so
#                           (SNOW-CLUSTER-MIB inside snmpd: dlmod snow)
#   $(PREFIX)/lib/snow/node the node side snow-mkimage packs: snow-agent,
#                           snow-nic, init, udhcpc.script
#   $(PREFIX)/share/snow    web/ (snowd finds it beside its bin folder), snmp/
#   $(SYSCONFDIR)/snow      snowd.conf, snow-subagent.conf: every option
#                           commented, made from the option tables
#   man pages, bash completion, systemd units (debian/ installs the units).

PREFIX     ?= /usr
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
INST       := install -D
MAN_DIR    := $(B)/man

# Pages whose OPTIONS list the program prints from its option table
# (--conf-doc=mdoc); the others are written whole in man/.
MAN_TABLE  := snowd.8 snowtop.1 snow-subagent.8 snow-agent.8 snow-nic.8 snow-nodesim.1
MAN_PLAIN  := snowctl.1 snow-mkimage.8 snow-snmp.8
MAN_PAGES  := $(addprefix $(MAN_DIR)/,$(MAN_TABLE) $(MAN_PLAIN))

# man/NAME.N.in with its "@OPTIONS@" line replaced by NAME's own list, and
# "@VERSION@" by the version.
$(foreach p,$(MAN_TABLE),$(eval $(MAN_DIR)/$(p): man/$(p).in $(BIN)/$(basename $(p)) VERSION))
$(MAN_DIR)/%: man/%.in VERSION
	@mkdir -p $(@D)
	@bin=$(BIN)/$(basename $*); \
	 while IFS= read -r line; do \
	   if [ "$$line" = "@OPTIONS@" ]; then "$$bin" --conf-doc=mdoc || exit 1; \
	   else printf '%s\n' "$${line//@VERSION@/$(VERSION)}"; fi; \
	 done < $< > $@.tmp && mv $@.tmp $@

# The config files, from the daemons' tables with a head that says so.
$(B)/etc/snowd.conf: $(BIN)/snowd man/snowd.conf.head
	@mkdir -p $(@D)
	{ cat man/snowd.conf.head; $(BIN)/snowd --conf-doc=file; } > $@.tmp && mv $@.tmp $@
$(B)/etc/snow-subagent.conf: $(BIN)/snow-subagent man/snow-subagent.conf.head
	@mkdir -p $(@D)
	{ cat man/snow-subagent.conf.head; $(BIN)/snow-subagent --conf-doc=file; } > $@.tmp && mv $@.tmp $@

INSTALL_FILES := $(BIN)/snowd $(BIN)/snowctl $(BIN)/snowtop $(BIN)/snow-nodesim \
  $(BIN)/snow-mkimage $(BIN)/snow-kernel-deb $(BIN)/snow-agent $(BIN)/snow-nic $(BIN)/snow-event \
  $(BIN)/snow-wdhold $(BIN)/snow-subagent $(BIN)/snow-snmp $(SNMP_DLMOD) $(WEB_FILES) $(MAN_PAGES) \
  $(B)/etc/snowd.conf $(B)/etc/snow-subagent.conf

# `make` builds them too: cheap, and tests/install/it_files.sh checks them.
BINS += $(MAN_PAGES) $(B)/etc/snowd.conf $(B)/etc/snow-subagent.conf

.PHONY: install install-files man
install-files: $(INSTALL_FILES)
man: $(MAN_PAGES) $(B)/etc/snowd.conf $(B)/etc/snow-subagent.conf

install: $(INSTALL_FILES)
	$(INST) -m 0755 -t $(DESTDIR)$(PREFIX)/sbin $(BIN)/snowd $(BIN)/snow-mkimage \
		$(BIN)/snow-subagent $(BIN)/snow-snmp
	$(INST) -m 0755 -t $(DESTDIR)$(PREFIX)/bin $(BIN)/snowctl $(BIN)/snowtop $(BIN)/snow-nodesim
	$(INST) -m 0755 -t $(DESTDIR)$(PREFIX)/lib/snow $(BIN)/snow-kernel-deb
	$(INST) -m 0644 -t $(DESTDIR)$(PREFIX)/lib/snow $(SNMP_DLMOD)
	$(INST) -m 0755 -t $(DESTDIR)$(PREFIX)/lib/snow/node $(BIN)/snow-agent $(BIN)/snow-nic \
		$(BIN)/snow-event $(BIN)/snow-wdhold node-os/init/init node-os/init/udhcpc.script
	cd $(WEB_DIR) && find . -type f | while read -r f; do \
		$(INST) -m 0644 "$$f" "$(DESTDIR)$(PREFIX)/share/snow/web/$$f" || exit 1; done
	$(INST) -m 0644 -t $(DESTDIR)$(PREFIX)/share/snow/snmp snmp/snmpd.conf.in \
		snmp/snmptrapd.conf.in snmp/SNOW-CLUSTER-MIB.txt
	$(INST) -m 0644 -t $(DESTDIR)$(PREFIX)/share/snow/snmp/mibs snmp/mibs/*.txt
	$(INST) -m 0644 $(B)/etc/snowd.conf $(DESTDIR)$(SYSCONFDIR)/snow/snowd.conf
	$(INST) -m 0644 $(B)/etc/snow-subagent.conf $(DESTDIR)$(SYSCONFDIR)/snow/snow-subagent.conf
	$(INST) -m 0644 snmp/snmpd-snow.conf $(DESTDIR)$(SYSCONFDIR)/snmp/snmpd.conf.d/snow.conf
	for p in $(MAN_PAGES); do s=$${p##*.}; \
		$(INST) -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/$${p##*/} || exit 1; done
	$(INST) -m 0644 host/snowctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/snowctl

# --- make deb ------------------------------------------------------------------
# Debian packages into build/deb/ with Debian's tools.  debian/changelog is
# made here from VERSION (and the last commit's date), so the version has one
# source.  The npm files of the web console are fetched first, outside
# dpkg-buildpackage, which then builds without the network.
DEB_DIR := $(B)/deb
DEB_CHANGES := $(CURDIR)/$(DEB_DIR)/snow_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).changes

# The maintainer is debian/control's, so it is named in one place.
debian/changelog: VERSION debian/control
	@{ echo "snow ($(VERSION)) unstable; urgency=medium"; echo; \
	   echo "  * Snow $(VERSION) (debian/changelog is made from VERSION by make deb)."; echo; \
	   echo " -- $$(sed -n 's/^Maintainer: //p' debian/control)  $$(git log -1 --format=%aD 2>/dev/null || date -R)"; \
	 } > $@

.PHONY: deb
deb: debian/changelog $(WEB_NPM)
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	DEB_BUILD_OPTIONS="parallel=2 $$DEB_BUILD_OPTIONS" dpkg-buildpackage -us -uc -b --changes-file=$(DEB_CHANGES) \
		--buildinfo-file=$(DEB_CHANGES:.changes=.buildinfo) \
		--changes-option=-u$(CURDIR)/$(DEB_DIR) --buildinfo-option=-u$(CURDIR)/$(DEB_DIR)
	lintian --fail-on error $(DEB_CHANGES)
	@ls -l $(DEB_DIR)

# make deb, then what the packages hold and an image from the installed
# snow-mkimage (not in `make check`: ~6 min on 2 loaded cores).
.PHONY: check-deb
check-deb:
	@tests/install/check-deb.sh

# The packages installed as an admin would, in a Debian 12 VM with systemd
# (tests/install/it_install_vm.sh): apt install, snowd.conf, systemctl enable
# --now snowd, and a second VM netbooted from it to online.  The host VM's image
# is made once (debootstrap and Debian's kernel, cached in SNOW_CACHE/hostvm);
# `make check` runs the test only when that image and build/deb are there.
.PHONY: check-install
check-install: all
	@$(MAKE) --no-print-directory deb
	SNOW_INSTALL_TESTS=1 tests/run.sh it_install_vm
