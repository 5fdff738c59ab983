# snmp/: SNOW-CLUSTER-MIB and snow-subagent, the AgentX subagent that serves
# it from snowd (issue 5).  See docs/snmp.md.
#   snow-subagent   the subagent
#   snow-snmp       starts snmptrapd, snmpd and the subagent for a state dir
#   make bench-snmp walks the MIB for 1000 simulated nodes (not in make check)
SNMP_SRCS    := snmp/subagent/model.c snmp/subagent/fetch.c snmp/subagent/agent.c \
                snmp/subagent/svc.c snmp/subagent/plan.c
SNMP_SRCS    += snmp/subagent/agent_set.c snmp/subagent/agent_notify.c
LIBSNOWSNMP  := $(B)/lib/libsnowsnmp.a
PICOBJ       := $(B)/picobj
SNMP_DLMOD   := $(B)/lib/snmpd-snow.so
LIBSNOWSNMP_T := $(B)/lib/libsnowsnmp-t.a
SNMP_LDLIBS  := -lnetsnmpagent -lnetsnmp -lpthread -lm $(LDLIBS_JSON) $(LDLIBS_CRYPTO) -lgnutls

$(OBJ)/snmp/%.o $(TOBJ)/snmp/%.o $(TOBJ)/tests/snmp/%.o $(PICOBJ)/snmp/%.o: CPPFLAGS += -Isnmp/subagent
# net-snmp 5.9.3's headers pass -Wall -Wextra -Wshadow -Wstrict-prototypes
# -Wmissing-prototypes here: no warning needs relaxing (checked; if a later
# version needs it, add target-specific CFLAGS/TCFLAGS for these objects only).

$(LIBSNOWSNMP): $(SNMP_SRCS:%.c=$(OBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
$(LIBSNOWSNMP_T): $(SNMP_SRCS:%.c=$(TOBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BIN)/snow-subagent: $(OBJ)/snmp/subagent/main.o $(LIBSNOWSNMP) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(SNMP_LDLIBS)

# snmpd-snow.so: the same service inside snmpd (`dlmod snow PATH`, dlmod.c).
# Position-independent objects of its own, no sanitizers (snmpd is not
# built with them), and only init_snow/deinit_snow visible: nothing of
# libsnow may bind to a symbol of snmpd's or the other way round.
$(PICOBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@ $<
$(B)/lib/libsnow-pic.a: $(LIB_SRCS:%.c=$(PICOBJ)/%.o)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
$(SNMP_DLMOD): $(PICOBJ)/snmp/subagent/dlmod.o $(SNMP_SRCS:%.c=$(PICOBJ)/%.o) \
		$(B)/lib/libsnow-pic.a snmp/subagent/dlmod.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -Wl,-z,defs -Wl,--version-script=snmp/subagent/dlmod.map -o $@ \
		$(filter %.o %.a,$^) $(SNMP_LDLIBS)

$(BIN)/snow-snmp: snmp/snow-snmp
	@mkdir -p $(@D)
	install -m 0755 $< $@

BINS += $(BIN)/snow-subagent $(BIN)/snow-snmp $(SNMP_DLMOD)
DEB_PACKAGES += snmpd snmp snmptrapd libsnmp-dev smitools

$(call unit_tests_in,snmp,$(LIBSNOWSNMP_T) $(LIBSNOW_T),$(SNMP_LDLIBS))

.PHONY: bench-snmp
bench-snmp: $(SNMP_DLMOD) $(BIN)/snow-subagent $(BIN)/snow-snmp $(BIN)/snowd $(BIN)/snowctl
	@tests/snmp/bench-snmp.sh
