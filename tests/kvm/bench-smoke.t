#!/bin/sh
# The benchmark must not rot: run the orchestrator (bench/suite/doze-bench) in
# its tiny configuration (one small snapshot, two latencies, three policies, one
# repetition; a few seconds) and check that it leaves a results line per run, a
# summary with the table and the targets, the plot data and the PNG plots.
# Asserts no timing.
. "$DZ_SRC/tests/lib/kvm.sh"
if ! perl -MJSON::PP -e 1 2>/dev/null; then echo "1..0 # SKIP perl with JSON::PP missing"; exit 0; fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); echo "not ok $n - $1"; }
t() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }

if timeout 300 "$DZ_SRC/bench/suite/doze-bench" --preset tiny --doze "$DOZE" --guest "$G" \
	--out "$T/res" --plots "$T/png" >"$T/out" 2>&1; then
	ok "doze-bench --preset tiny exits 0"
else
	nok "doze-bench --preset tiny exits 0"; sed 's/^/#   /' "$T/out" | tail -10
fi
R="$T/res"
planned=$(sed -n 's/.*"runs_planned" *: *\([0-9]*\).*/\1/p' "$R/meta.json" 2>/dev/null)
t "one results line per planned run ($planned, at least 6)" \
	sh -c "[ '${planned:-0}' -ge 6 ] && [ \"\$(grep -c '\"policy\"' '$R/results.jsonl')\" = '$planned' ]"
t "every line is a JSON object with an outcome" \
	perl -MJSON::PP -ne 'my $j = decode_json($_); exit 1 unless $j->{outcome}; END { exit 0 }' "$R/results.jsonl"
t "sync restores completed with checksum OK" \
	[ "$(grep '"policy":"sync"' "$R/results.jsonl" | grep -c '"outcome":"ok"')" = 2 ]
t "the present-memory baseline ran" \
	[ "$(grep '"policy":"present"' "$R/results.jsonl" | grep -c '"outcome":"ok"')" = 2 ]
t "each run kept its stats JSON" [ "$(ls "$R"/runs/*.json 2>/dev/null | wc -l)" -ge 4 ]
t "summary has the completion table" grep -q '^| scan | 1 | 2 | file | 200us |' "$R/summary.md"
t "summary has the targets section" grep -q '### targets' "$R/summary.md"
t "summary.csv has a header and rows" [ "$(wc -l <"$R/summary.csv")" -ge 5 ]
t "plot data: completion vs latency" [ -s "$R/plot/latency-scan.dat" ]
for p in bench-latency bench-progress bench-fault-cdf; do
	t "plot $p.png written" sh -c "head -c 8 '$T/png/$p.png' 2>/dev/null | grep -q PNG"
done
t "--summarize redoes the summary from results.jsonl" \
	sh -c "rm '$R/summary.md' && '$DZ_SRC/bench/suite/doze-bench' --summarize '$R' >/dev/null && [ -s '$R/summary.md' ]"
echo "1..$n"
