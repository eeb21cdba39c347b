#!/bin/sh
# doze restore on a terminal: a progress line on stderr (pages present / total,
# MB/s), refreshed a few times a second and erased at the end; never when
# stderr is not a terminal. `script` (util-linux) provides the terminal.
. "$DZ_SRC/tests/lib/kvm.sh"
if ! command -v script >/dev/null 2>&1; then echo "1..0 # SKIP no script(1) to provide a terminal"; exit 0; fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); echo "not ok $n - $1"; tr '\r' '\n' <"$T/out" | tail -5 | sed 's/^/#   /'; }
has() { if grep -q -- "$2" "$T/out"; then ok "$1"; else nok "$1"; fi; }

if timeout 60 "$DOZE" run "$G" --quiet --workload scan:size=4M --snapshot "$T/s" >"$T/out" 2>&1; then
	ok "snapshot"; else nok "snapshot"; fi
# 1 ms per demand page: the restore lasts seconds, long enough for several refreshes.
cat >"$T/run.sh" <<EOF2
exec timeout 120 "$DOZE" restore "$T/s.state" --source "file:$T/s.mem?latency=1ms" --prefetch off --quiet --timeout 100
EOF2
if timeout 150 script -qec "sh $T/run.sh" "$T/out" >/dev/null 2>&1 </dev/null; then ok "restore on a terminal exits 0"; else nok "restore on a terminal exits 0"; fi
has "the progress line shows pages present / total" "restore: [0-9]*/32768 pages present"
has "... and the rate" "MB/s"
if [ "$(tr '\r' '\n' <"$T/out" | grep -c 'pages present')" -ge 2 ]; then ok "... refreshed"; else nok "... refreshed"; fi
if tr '\r' '\n' <"$T/out" | grep -q "^$(printf '\033')\[K"; then ok "... and erased at the end"; else nok "... and erased at the end"; fi
has "the summary follows" "checksum 0x[0-9a-f]* OK"
timeout 120 "$DOZE" restore "$T/s.state" --source "file:$T/s.mem?latency=1ms" --prefetch off --quiet --timeout 100 >"$T/out" 2>&1
if grep -q "pages present" "$T/out"; then nok "no progress line when stderr is not a terminal"; else ok "no progress line when stderr is not a terminal"; fi
echo "1..$n"
