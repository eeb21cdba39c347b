#!/bin/sh
# doze stats: --stats-json files side by side; bad input gets a clear error.
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0
t() { n=$((n+1)); if eval "$2" >"$T/out" 2>&1; then echo "ok $n - $1"; else echo "not ok $n - $1"; sed 's/^/#   /' "$T/out" | tail -3; fi; }
cat >"$T/a.json" <<'J'
{
  "command": "restore", "source": "file:/x/s.mem", "policy": "sync",
  "guest": { "checksum_ok": true, "checksum": 12 },
  "elapsed_s": 0.25, "faults": { "total": 4117, "sync": 4117, "poisoned": 0 },
  "fault_wait_ns": { "count": 4117, "p50": 69000, "p99": 128000, "max": 2438000 },
  "pages": { "demand": 4117, "prefetch": 0, "lost": 0 },
  "progress": [[0.1, 0, 5], [0.2, 0, 9]], "error": null, "note": "a \"quoted\" word"
}
J
sed 's/4117/300/g; s/"sync"/"bpf"/' "$T/a.json" >"$T/b.json"
t "two files side by side" '"$DOZE" stats "$T/a.json" "$T/b.json" >"$T/tab"'
t "... a column per file" 'head -1 "$T/tab" | grep -q "a.json.*b.json"'
t "... waits in microseconds" 'grep -q "wait p50 (us) *69.0" "$T/tab"'
t "... guest run in milliseconds" 'grep -q "guest run (ms) *250.0 *250.0" "$T/tab"'
t "... faults of each" 'grep -q "^faults *4117 *300" "$T/tab"'
t "... policy of each" 'grep -q "^policy *sync *bpf" "$T/tab"'
t "--key picks members by path" '"$DOZE" stats --key guest.checksum --key pages.demand "$T/a.json" | grep -q "pages.demand *4117"'
t "--all lists every member, arrays left out" '"$DOZE" stats --all "$T/a.json" >"$T/all" && grep -q "fault_wait_ns.max" "$T/all" && ! grep -q progress "$T/all"'
printf '{"a": [1, 2' >"$T/bad.json"
t "a truncated file is refused with the reason" '! "$DOZE" stats "$T/bad.json" && grep -q "not a stats file" "$T/out"'
t "a missing file is refused" '! "$DOZE" stats "$T/nope.json" && grep -q "No such file" "$T/out"'
t "no file is a usage error (2)" '"$DOZE" stats; [ $? -eq 2 ]'
t "--help" '"$DOZE" stats --help | grep -q usage'
echo "1..$n"
