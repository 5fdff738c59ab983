# Fuzz targets (docs/fuzzing.md).  Every tests/fuzz/NAME.c that has a
# tests/fuzz/NAME.deps beside it is a target: NAME.c defines
# LLVMFuzzerTestOneInput(); NAME.deps is one line, the repo-relative .c files
# to compile in with it, then optionally " -- " and extra flags (-lLIB, -I...).
# Seeds and the crash inputs found go in tests/fuzz/corpus/NAME/.  Nothing
# here names a target: a new pair of files is picked up as it is.
#
# Each target is built twice:
#   build/fuzz/NAME               libFuzzer, clang -fsanitize=fuzzer,address,undefined
#                                 (make fuzz; only this needs clang)
#   build/tests/fuzz/replay_NAME  $(CC) with the tests' sanitizers and
#                                 tests/fuzz/replay_main.c: make unit-tests builds
#                                 it, and tests/fuzz/it_fuzz_replay.sh (make check)
#                                 runs every corpus file through it.
#
#   make fuzz [FUZZ=NAME] [FUZZ_S=60]   fuzz each target (or one) FUZZ_S seconds
#
# Each target is compiled in one command from its sources; include paths are
# lib/, firmware/ and the folder of each source.  A target depends on the
# headers of those folders, so a change there rebuilds it.

FUZZ_S     ?= 60
FUZZ_CC    ?= clang
FUZZ_DIR   := $(B)/fuzz
REPLAY_DIR := $(TBIN)/fuzz
FUZZ_NAMES := $(sort $(foreach d,$(wildcard tests/fuzz/*.deps),$(if $(wildcard $(d:.deps=.c)),$(notdir $(d:.deps=)))))
FUZZ_FLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# The tests' flags: LLVMFuzzerTestOneInput() has no prototype in its file.
REPLAY_FLAGS := $(TCFLAGS) -D_GNU_SOURCE -Wno-missing-prototypes

# $(call fuzz_words,NAME): the words of NAME.deps; its sources are the .c
# files, everything else but "--" goes to the compiler after them.
fuzz_words = $(file <tests/fuzz/$(1).deps)
fuzz_srcs  = $(filter %.c,$(call fuzz_words,$(1)))
fuzz_extra = $(filter-out %.c --,$(call fuzz_words,$(1)))
fuzz_incs  = -Ilib -Ifirmware $(filter-out -Ilib -Ifirmware,$(patsubst %/,-I%,$(sort $(dir $(call fuzz_srcs,$(1))))))

define fuzz_target
FUZZ_$(1)_SRCS  := $(call fuzz_srcs,$(1))
FUZZ_$(1)_EXTRA := $(call fuzz_extra,$(1))
FUZZ_$(1)_INCS  := $(call fuzz_incs,$(1))
FUZZ_$(1)_HDRS  := $$(wildcard lib/*.h firmware/*.h $$(addsuffix *.h,$$(sort $$(dir $$(FUZZ_$(1)_SRCS)))))

$(FUZZ_DIR)/$(1): tests/fuzz/$(1).c tests/fuzz/$(1).deps $$(FUZZ_$(1)_SRCS) $$(FUZZ_$(1)_HDRS) tests/fuzz/fuzz.mk
	@mkdir -p $$(@D)
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: needs $(FUZZ_CC) (make deps installs it)" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_FLAGS) $$(FUZZ_$(1)_INCS) -o $$@ tests/fuzz/$(1).c $$(FUZZ_$(1)_SRCS) $$(FUZZ_$(1)_EXTRA)

$(REPLAY_DIR)/replay_$(1): tests/fuzz/$(1).c tests/fuzz/replay_main.c tests/fuzz/$(1).deps $$(FUZZ_$(1)_SRCS) $$(FUZZ_$(1)_HDRS) tests/fuzz/fuzz.mk
	@mkdir -p $$(@D)
	$$(CC) $$(REPLAY_FLAGS) $$(FUZZ_$(1)_INCS) -o $$@ tests/fuzz/$(1).c tests/fuzz/replay_main.c $$(FUZZ_$(1)_SRCS) $$(FUZZ_$(1)_EXTRA)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_target,$(n))))

FUZZ_BINS   := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
REPLAY_BINS := $(FUZZ_NAMES:%=$(REPLAY_DIR)/replay_%)
UNIT_TESTS  += $(REPLAY_BINS)

.PHONY: fuzz fuzz-bins
fuzz-bins: $(if $(FUZZ),$(FUZZ:%=$(FUZZ_DIR)/%),$(FUZZ_BINS))

fuzz:
	@$(if $(FUZZ),$(if $(filter-out $(FUZZ_NAMES),$(FUZZ)),echo "make fuzz: no target '$(filter-out $(FUZZ_NAMES),$(FUZZ))' (there are: $(FUZZ_NAMES))" >&2; exit 1;))
	@$(MAKE) --no-print-directory fuzz-bins
	@tests/fuzz/fuzz.sh $(FUZZ_S) $(or $(FUZZ),$(FUZZ_NAMES))
