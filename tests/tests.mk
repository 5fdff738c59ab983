# Unit tests of lib/: tests/lib/test_*.c
$(call unit_tests_in,lib,$(LIBSNOW_T),$(LDLIBS_JSON) $(LDLIBS_CRYPTO))
