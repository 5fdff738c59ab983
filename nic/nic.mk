# nic/: the NIC offload engine (issue 7).  See docs/nic.md.
#   libsnownic.a   the application library (nic/lib/)
#   libnicfw.a     the NIC program (nic/fw/) and the emulated NIC's HAL
#   snow-nic       the emulated NIC daemon
#   snow-nic-bench the benchmark client (make bench-nic)
NIC_FW_SRCS  := nic/fw/fw.c nic/fw/fw_rx.c nic/fw/fw_tx.c nic/fw/fw_cal.c nic/fw/frame.c nic/fw/cost.c
NIC_EMU_SRCS := nic/hal/hal_emu.c nic/hal/reqq.c nic/hal/rx_lend.c nic/hal/wire_packet.c nic/emu/inproc.c
NIC_LIB_SRCS := nic/lib/snownic.c
LIBSNOWNIC   := $(B)/lib/libsnownic.a
LIBNICFW     := $(B)/lib/libnicfw.a
LIBSNOWNIC_T := $(B)/lib/libsnownic-t.a
NIC_LDLIBS   := $(LDLIBS_JSON) $(LDLIBS_CRYPTO) -lm -lpthread

# Everything in nic/ and its tests includes "fw/...", "hal/...", "lib/..." from nic/.
$(OBJ)/nic/%.o $(TOBJ)/nic/%.o $(TOBJ)/tests/nic/%.o: CPPFLAGS += -Inic

$(LIBSNOWNIC): $(NIC_LIB_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(LIBNICFW): $(NIC_FW_SRCS:%.c=$(OBJ)/%.o) $(NIC_EMU_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

# For unit tests: the program, the test HAL, the emulated HAL and the library, with sanitizers.
$(LIBSNOWNIC_T): $(patsubst %.c,$(TOBJ)/%.o,$(NIC_FW_SRCS) $(NIC_EMU_SRCS) $(NIC_LIB_SRCS) nic/hal/hal_test.c)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BIN)/snow-nic: $(OBJ)/nic/emu/snow_nic.o $(LIBNICFW) $(LIBSNOWNIC) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(NIC_LDLIBS)

$(BIN)/snow-nic-bench: $(OBJ)/nic/bench/nic_bench.o $(LIBNICFW) $(LIBSNOWNIC) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(NIC_LDLIBS)

BINS += $(BIN)/snow-nic $(BIN)/snow-nic-bench $(LIBSNOWNIC)
DEB_PACKAGES += iperf3 sockperf

$(call unit_tests_in,nic,$(LIBSNOWNIC_T) $(LIBSNOW_T),$(NIC_LDLIBS))

.PHONY: bench-nic
bench-nic: $(BIN)/snow-nic $(BIN)/snow-nic-bench
	@nic/bench/bench-nic.sh
