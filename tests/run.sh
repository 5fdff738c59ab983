#!/usr/bin/env bash
# Run Snow's tests: every unit test binary under build/tests/, then every
# integration script tests/*/it_*.sh.  Usage: tests/run.sh [PATTERN]
# (PATTERN picks tests whose path contains it).  Ends with one line
#   N passed, N failed, N skipped
# and exits non-zero when anything failed.
#
# Unit tests are cmocka programs: their "[  PASSED  ]"/"[  FAILED  ]"/
# "[  SKIPPED ]" totals are added up.  Integration scripts (tests/lib.sh)
# print "ok - ...", "not ok - ..." and "skip - ..." lines; a script that
# exits non-zero without a "not ok" line counts as one failure.
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
pass=0 fail=0 skip=0
failed_names=()
logdir=build/test-logs
mkdir -p "$logdir"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=stdout

count() { # count FILE -> sets p f s from cmocka or ok-line output
	p=$(grep -Eo '^\[  PASSED  \] [0-9]+' "$1" | awk '{s+=$4} END {print s+0}')
	f=$(grep -Eo '^\[  FAILED  \] [0-9]+ test' "$1" | awk '{s+=$4} END {print s+0}')
	s=$(grep -Eo '^\[  SKIPPED \] [0-9]+' "$1" | awk '{s+=$4} END {print s+0}')
	p=$((p + $(grep -c '^ok - ' "$1")))
	f=$((f + $(grep -c '^not ok - ' "$1")))
	s=$((s + $(grep -c '^skip - ' "$1")))
}

run_one() { # run_one NAME COMMAND...
	local name=$1; shift
	local log="$logdir/$(echo "$name" | tr '/' '_').log" rc
	printf '%-50s ' "$name"
	"$@" </dev/null >"$log" 2>&1
	rc=$?
	count "$log"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	# A sanitizer report anywhere in a test's output fails it.
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
		f=$((f + 1))
		echo "not ok - sanitizer report in the output" >>"$log"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$name")
		echo "FAIL ($p passed, $f failed, $s skipped; log: $log)"
		grep -E '^(not ok|\[  (FAILED|ERROR)|.*ERROR:|.*runtime error)' "$log" | head -20 | sed 's/^/    /'
	else
		echo "ok ($p passed, $s skipped)"
	fi
}

echo "== unit tests"
while IFS= read -r t; do
	[ -n "$pattern" ] && [[ "$t" != *"$pattern"* ]] && continue
	run_one "${t#build/tests/}" "$t"
done < <(find build/tests -type f -name 'test_*' -perm -u+x 2>/dev/null | sort)

echo "== integration tests"
while IFS= read -r t; do
	[ -n "$pattern" ] && [[ "$t" != *"$pattern"* ]] && continue
	run_one "${t#tests/}" bash "$t"
done < <(find tests -name 'it_*.sh' 2>/dev/null | sort)

if [ "${#failed_names[@]}" -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
