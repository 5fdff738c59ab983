# snmp/: SNOW-CLUSTER-MIB and snow-subagent, the AgentX subagent that serves
# it from snowd (issue 5).  See docs/snmp.md.
#   snow-subagent   the subagent
#   snow-snmp       starts snmptrapd, snmpd and the subagent for a state dir
#   make bench-snmp walks the MIB for 1000 simulated nodes (not in make check)
SNMP_SRCS    := snmp/subagent/model.c snmp/subagent/fetch.c snmp/subagent/agent.c
LIBSNOWSNMP  := $(B)/lib/libsnowsnmp.a
LIBSNOWSNMP_T := $(B)/lib/libsnowsnmp-t.a
SNMP_LDLIBS  := -lnetsnmpagent -lnetsnmp -lpthread -lm $(LDLIBS_JSON) $(LDLIBS_CRYPTO) -lgnutls

$(OBJ)/snmp/%.o $(TOBJ)/snmp/%.o $(TOBJ)/tests/snmp/%.o: CPPFLAGS += -Isnmp/subagent
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

$(BIN)/snow-snmp: snmp/snow-snmp
	@mkdir -p $(@D)
	install -m 0755 $< $@

BINS += $(BIN)/snow-subagent $(BIN)/snow-snmp
DEB_PACKAGES += snmpd snmp snmptrapd libsnmp-dev smitools

$(call unit_tests_in,snmp,$(LIBSNOWSNMP_T) $(LIBSNOW_T),$(SNMP_LDLIBS))

.PHONY: bench-snmp
bench-snmp: $(BIN)/snow-subagent $(BIN)/snow-snmp $(BIN)/snowd $(BIN)/snowctl
	@tests/snmp/bench-snmp.sh
