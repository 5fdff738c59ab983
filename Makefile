# Snow: top-level build.  `make` builds every component into build/bin/,
# `make check` runs every test, `make demo` starts a virtual cluster,
# `make fuzz` runs the fuzz targets (tests/fuzz/fuzz.mk).
# Each component adds its own rules from its folder's *.mk file.

.DEFAULT_GOAL := all
SHELL := /bin/bash

B        := build
OBJ      := $(B)/obj
TOBJ     := $(B)/tobj
BIN      := $(B)/bin
TBIN     := $(B)/tests

# The one version of everything (binaries' --version, the agent's reports,
# debian/changelog): the VERSION file.
VERSION  := $(shell cat VERSION)

CC       ?= cc
PKGS     := jansson nettle sqlite3 libpq libmicrohttpd
CPPFLAGS := -D_GNU_SOURCE -Ilib -MMD -MP -DSNOW_VERSION='"$(VERSION)"'
CFLAGS   := -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
            -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing $(EXTRA_CFLAGS)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TCFLAGS  := $(filter-out -O2,$(CFLAGS)) -O1 $(SANFLAGS)
LDLIBS_JSON   := -ljansson
LDLIBS_CRYPTO := -lnettle
LDLIBS_SQL    := -lsqlite3 -lpq
LDLIBS_HTTPD  := -lmicrohttpd
LDLIBS_TEST   := -lcmocka

# Debian packages every part of Snow needs (build, run and test).  `make deps`
# installs what is missing and says nothing when everything is there.
DEB_PACKAGES := build-essential pkg-config libjansson-dev nettle-dev libsqlite3-dev sqlite3 postgresql libpq-dev \
  libmicrohttpd-dev libgnutls28-dev libcmocka-dev dnsmasq-base ipxe ipxe-qemu \
  qemu-system-x86 busybox-static cpio kmod iproute2 curl procps psmisc xz-utils python3 clang \
  debhelper dpkg-dev fakeroot lintian systemd man-db groff-base util-linux

# Components append to these.
BINS       :=
UNIT_TESTS :=
CLEAN_EXTRA :=

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TOBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TCFLAGS) -c -o $@ $<

# $(call unit_test,COMPONENT/test_NAME,ARCHIVES,LDLIBS): a cmocka test built
# with sanitizers from tests/COMPONENT/test_NAME.c into build/tests/.
define unit_test
$(TBIN)/$(1): $(TOBJ)/tests/$(1).o $(2)
	@mkdir -p $$(@D)
	$$(CC) $$(TCFLAGS) -o $$@ $$^ $(3) $$(LDLIBS_TEST)
UNIT_TESTS += $(TBIN)/$(1)
endef
# Every tests/COMPONENT/test_*.c with the same archives and libraries.
unit_tests_in = $(foreach t,$(basename $(notdir $(wildcard tests/$(1)/test_*.c))),$(eval $(call unit_test,$(1)/$(t),$(2),$(3))))

include lib/lib.mk
include host/host.mk
include node-os/node-os.mk
include firmware/firmware.mk
-include nic/nic.mk
-include host/nodesim/nodesim.mk
-include host/bench/bench.mk
-include snmp/snmp.mk
-include console/console.mk
include tests/tests.mk
include tests/fuzz/fuzz.mk
include install.mk

.PHONY: all deps check unit-tests demo clean
all: $(BINS)

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: must run as root to install packages" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@$(MAKE) --no-print-directory -s node-kernel

unit-tests: $(UNIT_TESTS)

check: deps
	@$(MAKE) --no-print-directory all unit-tests
	@tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@$(BIN)/snow-vcluster up --nodes $${NODES:-2} --hold

clean:
	rm -rf $(B) $(CLEAN_EXTRA)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
