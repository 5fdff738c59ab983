# host/: snowd and snowctl.
DEB_PACKAGES += ipmitool libcurl4-openssl-dev redfishtool openipmi openssl
HOST_LIB_SRCS := host/db.c host/db_sqlite.c host/db_pg.c host/inv.c host/inv_auth.c host/inv_cfg.c host/inv_cmd.c host/cmd.c host/auth.c host/authq.c host/stream.c host/metrics.c host/settings.c host/power.c host/power_redfish.c host/redfish.c host/bmc.c host/bmc_sol.c host/bmcp.c host/inv_bmc.c host/images.c host/history.c host/boot.c host/overlay.c host/dnsmasq.c host/nodes.c host/health.c host/http.c host/route.c host/api.c host/api_admin.c host/api_cmd.c host/chan.c host/bootsrv.c host/web.c host/klogp.c host/klog.c host/qmpev.c host/pstorep.c host/pstore.c host/wake.c host/peerp.c host/peer.c
HOST_LIB_SRCS += host/peernet.c
HOST_LIB_SRCS += host/bmc_tree.c
HOST_LIB_SRCS += host/bootlog.c
HOST_LIB_SRCS += host/klog_crash.c
HOST_LIB_SRCS += host/klog_state.c
HOST_CPPFLAGS := -Ifirmware -Ihost $(shell pkg-config --cflags libpq)
LIBHOST   := $(B)/lib/libhost.a
LIBHOST_T := $(B)/lib/libhost-t.a
HOST_LDLIBS := -lcrypt -lpthread -lcurl $(LDLIBS_HTTPD) $(LDLIBS_SQL) $(LDLIBS_JSON) $(LDLIBS_CRYPTO)

$(OBJ)/host/%.o $(TOBJ)/host/%.o: CPPFLAGS += $(HOST_CPPFLAGS)
$(TOBJ)/tests/host/%.o: CPPFLAGS += $(HOST_CPPFLAGS)

$(LIBHOST): $(HOST_LIB_SRCS:%.c=$(OBJ)/%.o) $(OBJ)/gen/firmware_templates.o
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
$(LIBHOST_T): $(HOST_LIB_SRCS:%.c=$(TOBJ)/%.o) $(TOBJ)/gen/firmware_templates.o
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BIN)/snowd: $(OBJ)/host/main.o $(LIBHOST) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(HOST_LDLIBS)

$(BIN)/snowctl: $(OBJ)/host/snowctl.o $(OBJ)/host/snowctl_node.o $(OBJ)/host/snowctl_image.o $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_JSON) $(LDLIBS_CRYPTO) -lgnutls

$(BIN)/snow-vcluster: host/snow-vcluster
	@mkdir -p $(@D)
	install -m 0755 $< $@

BINS += $(BIN)/snowd $(BIN)/snowctl $(BIN)/snow-vcluster

$(call unit_tests_in,host,$(LIBHOST_T) $(LIBSNOW_T),$(HOST_LDLIBS))

# snowd and snowctl built with ASan+UBSan, for the integration tests that run
# them on loopback (tests/lib.sh: SNOW_ASAN_BIN); any sanitizer report fails them.
ASAN_BIN := $(B)/asan/bin
$(ASAN_BIN)/snowd: $(TOBJ)/host/main.o $(LIBHOST_T) $(LIBSNOW_T)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -o $@ $^ $(HOST_LDLIBS)
$(ASAN_BIN)/snowctl: $(TOBJ)/host/snowctl.o $(TOBJ)/host/snowctl_node.o $(TOBJ)/host/snowctl_image.o $(LIBSNOW_T)
	@mkdir -p $(@D)
	$(CC) $(TCFLAGS) -o $@ $^ $(LDLIBS_JSON) $(LDLIBS_CRYPTO) -lgnutls
UNIT_TESTS += $(ASAN_BIN)/snowd $(ASAN_BIN)/snowctl
