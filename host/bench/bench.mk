# host/bench/: make bench-host, the host benchmark (docs/nodesim.md).  Not part of `make check`:
# it prints figures and ratios and never fails on speed.  Needs root (node addresses on 127/8)
# and nginx + wrk (`make deps` installs them) for the file-serving comparison.
DEB_PACKAGES += nginx-light wrk sqlite3

$(B)/bench/overlay_bench: $(OBJ)/host/bench/overlay_bench.o $(LIBHOST) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(HOST_LDLIBS)

.PHONY: bench-host
bench-host: $(BIN)/snowd $(BIN)/snow-nodesim $(B)/bench/overlay_bench $(B)/bench/report_bench
	@host/bench/bench-host.sh
	@host/bench/bmc_fanout.sh

$(OBJ)/host/bench/report_bench.o: CPPFLAGS += -Ihost/nodesim
$(B)/bench/report_bench: $(OBJ)/host/bench/report_bench.o $(NODESIM_LIB) $(LIBSNOW)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ -ljansson -lnettle -lm
