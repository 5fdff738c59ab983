# host/nodesim/: snow-nodesim, simulated nodes speaking the node protocol (docs/nodesim.md).
# Included from the top Makefile (-include host/nodesim/nodesim.mk).
NODESIM_LIB_SRCS := host/nodesim/ovl.c host/nodesim/sim.c host/nodesim/simtext.c
NODESIM_LIB   := $(B)/lib/libnodesim.a
NODESIM_LIB_T := $(B)/lib/libnodesim-t.a

$(OBJ)/host/nodesim/%.o $(TOBJ)/host/nodesim/%.o: CPPFLAGS += -Ihost/nodesim
$(TOBJ)/tests/nodesim/%.o: CPPFLAGS += -Ihost/nodesim $(HOST_CPPFLAGS)

$(NODESIM_LIB): $(NODESIM_LIB_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
# The same with sanitizers, for tests/nodesim/test_*.
$(NODESIM_LIB_T): $(NODESIM_LIB_SRCS:%.c=$(TOBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

NODESIM_SRCS := $(addprefix host/nodesim/,main.c net.c procs.c sched.c setup.c simwake.c stats.c step.c)
$(BIN)/snow-nodesim: $(NODESIM_SRCS:%.c=$(OBJ)/%.o) $(NODESIM_LIB) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_JSON) $(LDLIBS_CRYPTO) -lm

BINS += $(BIN)/snow-nodesim

# test_ovl reads overlays snowd's own boot_render_overlay() wrote, so libhost too.
$(call unit_tests_in,nodesim,$(NODESIM_LIB_T) $(LIBHOST_T) $(LIBSNOW_T),$(HOST_LDLIBS) -lm)
