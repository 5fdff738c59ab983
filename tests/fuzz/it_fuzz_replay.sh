#!/usr/bin/env bash
# Replay every fuzz corpus (tests/fuzz/corpus/NAME/: seeds and the crashes
# found) through its target, built with the tests' sanitizers by
# `make unit-tests` (tests/fuzz/fuzz.mk: build/tests/fuzz/replay_NAME).
# One ok line per target; a sanitizer report or a crash fails it.
. "$(dirname "$0")/../lib.sh"
cd "$SNOW_TOP" || exit 1
log=$(mktemp)
on_exit rm -f "$log"
n=0
for deps in tests/fuzz/*.deps; do
	name=$(basename "$deps" .deps)
	[ -f "tests/fuzz/$name.c" ] || continue
	n=$((n + 1))
	bin=build/tests/fuzz/replay_$name
	corpus=tests/fuzz/corpus/$name
	if [ ! -x "$bin" ]; then
		not_ok "fuzz $name: $bin is not built (make unit-tests)"
		continue
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls "$corpus")" ]; then
		not_ok "fuzz $name: no seeds in $corpus"
		continue
	fi
	if "$bin" "$corpus" >"$log" 2>&1 && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
		ok "fuzz $name: $(sed -n 's/^replay: //p' "$log") replayed"
	else
		not_ok "fuzz $name: replaying $corpus failed"
		cat "$log"
	fi
done
check "fuzz targets found" [ "$n" -gt 0 ]
