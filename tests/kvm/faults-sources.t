#!/bin/sh
# Source-fault suite: `doze restore` through `doze faultproxy` in front of a
# doze pageserver (tcp://) and nginx (http://), one fault mode at a time.
#
#   transient faults (drop, close mid-response, stall, trickle, corrupt bytes,
#   wrong length, server restart): the restore retries and finishes with
#   checksum OK, every page present exactly once and verified, RAM equal to the
#   snapshot, and the retries/checksum failures counted in the stats;
#   permanent faults (a page corrupted or dropped every time it is sent): the
#   page is declared lost and named (GPA and source) in a clear error, and the
#   run ends by itself (never by the timeout guard).
#
# Every command runs under `timeout`; the proxy is bounded by --max-time.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/nginx.sh"
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
PIDS=
FP_PID=
cleanup() { [ -n "$FP_PID" ] && kill $FP_PID 2>/dev/null; [ -n "$PIDS" ] && kill $PIDS 2>/dev/null; nginx_stop; rm -rf "$T"; }
trap cleanup EXIT
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); echo "not ok $n - $1"; sed 's/^/#   /' "$T/out" | tail -4; }
has() { if grep -q -- "$2" "$T/out"; then ok "$1"; else nok "$1"; fi; }
# exits NAME: the last restore ended by itself with a failure (not by the timeout guard)
failed() { if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ]; then ok "$1"; else echo "# rc=$rc"; nok "$1"; fi; }
passed() { if [ "$rc" -eq 0 ]; then ok "$1"; else echo "# rc=$rc"; nok "$1"; fi; }
j() { jget "$T/st.json" "$1"; }
# every page present exactly once, verified, none lost, RAM equal to the snapshot
accounted() {
	tot=$(j pages.total) pr=$(j pages.present) d=$(j pages.demand) pf=$(j pages.prefetch) h=$(j pages.hint)
	v=$(j pages.verified) l=$(j pages.lost) mm=$(j ram_verify_mismatches)
	if [ -n "$tot" ] && [ "$pr" = "$tot" ] && [ $((d + pf + h)) = "$pr" ] && [ "$v" = "$pr" ] &&
		[ "$l" = 0 ] && { [ "$mm" = 0 ] || [ "${VERIFY:-1}" = 0 ]; }; then ok "$1"
	else n=$((n+1)); echo "not ok $n - $1"; echo "# total=$tot present=$pr demand=$d prefetch=$pf hint=$h verified=$v lost=$l mismatches=$mm"; fi
}
ge() { if [ "${2:-0}" -ge "$3" ] 2>/dev/null; then ok "$1 ($2 >= $3)"; else n=$((n+1)); echo "not ok $n - $1 (${2:-none} < $3)"; fi; }
eq() { if [ "$2" = "$3" ]; then ok "$1 ($2)"; else n=$((n+1)); echo "not ok $n - $1 (got '$2', want '$3')"; fi; }
fired() { grep -c "conn [0-9]*: $1\|^faultproxy: $1" "$T/fp.log"; }

# proxy UPSTREAM FAULT [seed]: (re)starts the fault proxy, sets FP
proxy() {
	[ -n "$FP_PID" ] && kill $FP_PID 2>/dev/null && wait $FP_PID 2>/dev/null
	rm -f "$T/fp.port"
	"$DOZE" faultproxy --listen 127.0.0.1:0 --to "$1" --fault "$2" --seed "${3:-1}" \
		--port-file "$T/fp.port" --log "$T/fp.log" --max-time 120 --quiet </dev/null >/dev/null 2>&1 &
	FP_PID=$!
	w=0; while [ ! -s "$T/fp.port" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
	FP=$(cat "$T/fp.port" 2>/dev/null)
}
# restore URI [args]: through the proxy; sets rc
restore() {
	rm -f "$T/st.json"
	u=$1; shift
	if [ "${VERIFY:-1}" = 1 ]; then set -- --verify-ram "$T/s.mem" "$@"; fi
	timeout 90 "$DOZE" restore "$T/s.state" --source "$u" --quiet --timeout 80 \
		--stats-json "$T/st.json" "$@" >"$T/out" 2>&1
	rc=$?
}
# uri SCHEME OPTS: the source URI through the proxy
uri() { if [ "$1" = tcp ]; then echo "tcp://$FP?$2"; else echo "http://$FP/s.mem?$2"; fi; }

if timeout 60 "$DOZE" run "$G" --quiet --workload scan:size=4M --snapshot "$T/s" >"$T/out" 2>&1; then
	ok "snapshot"; else nok "snapshot"; fi
"$DOZE" pageserver "$T/s.mem" --listen 127.0.0.1:0 --port-file "$T/ps.port" --quiet >"$T/ps.log" 2>&1 </dev/null &
PIDS="$PIDS $!"
w=0; while [ ! -s "$T/ps.port" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
PS=$(cat "$T/ps.port" 2>/dev/null)
if [ -n "$PS" ]; then ok "page server listening"; else nok "page server listening"; fi
if nginx_start "$T"; then ok "nginx serves the snapshot"; else nok "nginx starts"; fi

OPTS="timeout=2s&connect_timeout=500ms"
for S in tcp http; do
	[ $S = tcp ] && UP=$PS || UP=127.0.0.1:$NGINX_PORT
	# a retried request counts as a reconnect on tcp, as a retry on http
	retries() { if [ $S = tcp ]; then j source_io.reconnects; else j source_io.retries; fi; }

	proxy "$UP" pass
	restore "$(uri $S "$OPTS")"
	passed "$S pass-through: restore exits 0"
	has "$S pass-through: checksum OK" "checksum 0x[0-9a-f]* OK"
	accounted "$S pass-through: every page installed once, verified, RAM matches"

	proxy "$UP" "drop:after=1000000,every=8000000,jitter=4000000,times=6" 7
	restore "$(uri $S "$OPTS")"
	passed "$S drop (RST) 6 times: restore exits 0"
	has "$S drop: checksum OK" "checksum 0x[0-9a-f]* OK"
	accounted "$S drop: every page installed once, verified, RAM matches"
	eq "$S drop: the proxy reset 6 connections" "$(fired 'drop')" 6
	ge "$S drop: the source retried" "$(retries)" 6

	proxy "$UP" "close:after=3000000,every=20000000,times=4"
	restore "$(uri $S "$OPTS")"
	passed "$S short read (FIN mid-response) 4 times: restore exits 0"
	accounted "$S short read: every page installed once, verified, RAM matches"
	eq "$S short read: the proxy cut 4 responses" "$(fired 'close')" 4
	ge "$S short read: the source retried" "$(retries)" 4

	proxy "$UP" "stall:after=2000000"
	restore "$(uri $S "timeout=1s&connect_timeout=500ms")"
	passed "$S stall (one connection silent for good): restore exits 0"
	accounted "$S stall: every page installed once, verified, RAM matches"
	eq "$S stall: fired once" "$(fired 'stall')" 1
	ge "$S stall: the stalled request was sent again" "$(retries)" 1

	proxy "$UP" "trickle:rate=4000000"
	restore "$(uri $S "$OPTS")" --prefetch off
	passed "$S trickle (4 MB/s, demand only): restore exits 0"
	has "$S trickle: checksum OK" "checksum 0x[0-9a-f]* OK"
	eq "$S trickle: nothing lost" "$(j pages.lost)" 0

	# (--verify-ram compares only what is installed: rejected copies are no mismatch)
	# (a generous timeout: a response timed out on a loaded machine is fetched
	# again without its checksum being checked, and the counts below are exact)
	proxy "$UP" "corrupt:after=3000000,every=10000000,times=5" 3
	restore "$(uri $S "timeout=20s&connect_timeout=2s")"
	passed "$S 5 corrupt bytes: restore exits 0"
	has "$S corrupt: checksum OK" "checksum 0x[0-9a-f]* OK"
	accounted "$S corrupt: every page installed once, verified, RAM matches"
	eq "$S corrupt: the proxy flipped 5 bytes" "$(fired 'corrupt')" 5
	eq "$S corrupt: the checksum caught all 5" "$(j checksum_failures)" 5
	eq "$S corrupt: each was fetched again" "$(j retries)" 5

	proxy "$UP" "restart:after=6000000,down=1500ms"
	restore "$(uri $S "timeout=5s&connect_timeout=500ms")"
	passed "$S server restart (connections refused 1.5 s): restore exits 0"
	accounted "$S restart: every page installed once, verified, RAM matches"
	eq "$S restart: fired once" "$(fired 'restart (')" 1
	ge "$S restart: the source retried" "$(retries)" 1

	# a page corrupted every time it is sent: caught, re-fetched twice, then lost
	proxy "$UP" "corrupt:page=3000"
	restore "$(uri $S "$OPTS")"
	failed "$S page 3000 always corrupt: restore fails by itself"
	has "$S always corrupt: the error names the page and the source" \
		"page at GPA 0xbb8000 lost: checksum mismatch.*\[source $S://$FP"
	eq "$S always corrupt: 3 checksum failures (1 + 2 re-fetches)" "$(j checksum_failures)" 3
	eq "$S always corrupt: exactly one page lost" "$(j pages.lost)" 1
	eq "$S always corrupt: every other page present" "$(j pages.present)" $(( $(j pages.total) - 1 ))

	# a page the guest needs that never gets through (1543, GPA 0x607000: the
	# vCPU's kernel stack at the snapshot point): demand fault, the guest is stopped
	proxy "$UP" "drop:page=1543"
	VERIFY=0 restore "$(uri $S "$OPTS")" --prefetch off
	failed "$S page 1543 always dropped, guest touches it: restore fails by itself"
	has "$S always dropped: the error names the page and the source" \
		"page at GPA 0x607000 lost.*$S://$FP"
	has "$S always dropped: after giving up" "gave up"
	has "$S always dropped: the guest was stopped, not left waiting" "guest stopped"
	ge "$S always dropped: retried before giving up" "$(retries)" 2

	# the same page dropped with prefetch on: only its own request should be lost
	proxy "$UP" "drop:page=3000"
	restore "$(uri $S "$OPTS")"
	failed "$S page 3000 always dropped, prefetch on: restore fails by itself"
	# tcp: the requests pipelined behind it are sent again without it (no
	# head-of-line loss), and it backs off on its own (source-tcp.c)
	eq "$S always dropped: only page 3000 is lost" "$(j pages.lost)" 1
	if [ $S = tcp ]; then
		n=$((n+1)); rc=$(j source_io.reconnects)
		if [ "${rc:-99}" -le 20 ]; then echo "ok $n - tcp always dropped: the failing request backs off on its own ($rc reconnects in 2 s)"
		else echo "not ok $n - tcp always dropped: the failing request backs off on its own ($rc reconnects in 2 s, want <= 20)"; fi
	fi

	# a response that lies about its length is a transient error: the pages are there
	proxy "$UP" "length:after=4000000,every=20000000,times=3"
	restore "$(uri $S "$OPTS")"
	passed "$S wrong length 3 times: restore exits 0"
	accounted "$S wrong length: every page installed once, verified, RAM matches"
	eq "$S wrong length: the proxy lied 3 times" "$(fired 'length')" 3
done

# A server that accepts every connection and drops it at the first request, answering
# nothing: the client backs off (10 ms doubling to 1 s), it does not hammer it.
proxy "$PS" "drop:req=1,every=1,times=0"
restore "$(uri tcp "$OPTS")" --prefetch off
failed "tcp: every connection dropped before any answer: restore fails by itself"
has "tcp: ... after giving up" "gave up after 2.0 s"
r=$(j source_io.reconnects)
if [ "${r:-99}" -le 20 ]; then ok "tcp: ... reconnecting with backoff ($r reconnects in 2 s)"
else n=$((n+1)); echo "not ok $n - tcp: ... reconnecting with backoff ($r reconnects in 2 s)"; fi

# The proxy is deterministic: the same seed picks the same bytes and the same flips.
for i in 1 2; do
	proxy "$PS" "corrupt:after=1000000,every=5000000,jitter=2000000,times=4" 42
	restore "$(uri tcp "$OPTS")" --prefetch off
	sed -n 's/.*\(payload byte [0-9]*\).*: 0x..\( ^ 0x..\)$/\1\2/p' "$T/fp.log" >"$T/det$i"
done
if [ -s "$T/det1" ] && cmp -s "$T/det1" "$T/det2"; then ok "same seed, same faults ($(wc -l <"$T/det1") flips)"
else n=$((n+1)); echo "not ok $n - same seed, same faults"; diff "$T/det1" "$T/det2" | sed 's/^/#   /'; fi
proxy "$PS" "corrupt:after=1000000,every=5000000,jitter=2000000,times=4" 43
restore "$(uri tcp "$OPTS")" --prefetch off
sed -n 's/.*\(payload byte [0-9]*\).*: 0x..\( ^ 0x..\)$/\1\2/p' "$T/fp.log" >"$T/det3"
if ! cmp -s "$T/det1" "$T/det3"; then ok "another seed, other faults"; else nok "another seed, other faults"; fi

# Bad proxy arguments are refused clearly.
timeout 10 "$DOZE" faultproxy --listen 127.0.0.1:0 --to 127.0.0.1:1 --fault explode >"$T/out" 2>&1
rc=$?; [ $rc = 2 ] && ok "faultproxy: unknown mode is a usage error" || nok "faultproxy: unknown mode is a usage error"
has "... naming it" "unknown fault mode 'explode'"
timeout 10 "$DOZE" faultproxy --listen 127.0.0.1:0 --to 127.0.0.1:1 --fault drop:after=soon >"$T/out" 2>&1
has "faultproxy: a bad value is named" "bad value 'soon' for after"
if timeout 10 "$DOZE" faultproxy --help >"$T/out" 2>&1; then ok "faultproxy --help"; else nok "faultproxy --help"; fi
echo "1..$n"
