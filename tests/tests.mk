# Unit tests of lib/: tests/lib/test_*.c
$(call unit_tests_in,lib,$(LIBSNOW_T),$(LDLIBS_JSON) $(LDLIBS_CRYPTO))

# Golden-file tests of the boot generators (firmware/ templates rendered by host/).
$(TOBJ)/tests/firmware/%.o: CPPFLAGS += $(HOST_CPPFLAGS)
$(call unit_tests_in,firmware,$(LIBHOST_T) $(LIBSNOW_T),$(HOST_LDLIBS))
