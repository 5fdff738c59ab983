#!/usr/bin/env bash
# Run libFuzzer targets (built by `make fuzz`, tests/fuzz/fuzz.mk) one after
# the other.  Usage: tests/fuzz/fuzz.sh SECONDS NAME...
#
# New inputs go to a scratch corpus, build/fuzz/work/NAME/ (kept between runs),
# never to tests/fuzz/corpus/NAME/, which libFuzzer only reads: the committed
# corpus grows only by the crash files someone adds on purpose.  A crash,
# leak, timeout or out-of-memory input is written to build/fuzz/crashes/NAME/
# and named here.  tests/fuzz/NAME.dict, when there is one, is the target's
# dictionary.  Prints one line per target (execs, coverage) and exits 1 when
# any target found something.  An input counts as hanging after 60 s of wall
# time: every target takes well under a millisecond per input, but on a
# loaded 2-core host a process at nice 19 can wait 10-15 s for the CPU, and
# libFuzzer's timer counts that too (three false timeouts at -timeout=10).
set -u
cd "$(dirname "$0")/../.."
secs=$1; shift
found=0
for name in "$@"; do
	bin=build/fuzz/$name
	work=build/fuzz/work/$name
	crashes=build/fuzz/crashes/$name
	log=build/fuzz/logs/$name.log
	mkdir -p "$work" "$crashes" "$(dirname "$log")"
	args=(-max_total_time="$secs" -timeout=60 -rss_limit_mb=2048 -print_final_stats=1
	      -artifact_prefix="$crashes/")
	[ -f "tests/fuzz/$name.dict" ] && args+=(-dict="tests/fuzz/$name.dict")
	corpus=("$work")
	[ -d "tests/fuzz/corpus/$name" ] && corpus+=("tests/fuzz/corpus/$name")
	before=$(ls "$crashes" | wc -l)
	"$bin" "${args[@]}" "${corpus[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -Eo ' cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
	new=$(ls -t "$crashes" | head -n $(( $(ls "$crashes" | wc -l) - before )))
	if [ "$rc" -ne 0 ] || [ -n "$new" ]; then
		found=1
		printf 'fuzz %-16s FOUND (exit %d) after %s execs, cov %s; log: %s\n' "$name" "$rc" \
			"${execs:-?}" "${cov:-?}" "$log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 | sed 's/^/    /'
		for f in $new; do
			echo "    input: $crashes/$f  (replay: $bin $crashes/$f;"
			echo "           once fixed, copy it to tests/fuzz/corpus/$name/)"
		done
	else
		printf 'fuzz %-16s ok: %s execs in %ss, cov %s, corpus %s files\n' "$name" \
			"${execs:-?}" "$secs" "${cov:-?}" "$(ls "$work" | wc -l)"
	fi
done
exit "$found"
