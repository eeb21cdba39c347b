#!/bin/sh
# A page that the network never delivers is reported to the guest, never a
# hang: `doze faultproxy` in front of a doze pageserver (tcp://) and nginx
# (http://) drops (or corrupts) one page every time it is sent.
#   * a ring-3 scan task touching it is killed with the SIGBUS-like report
#     (error 1, source gone) and the other task finishes;
#   * a kernel record copy (SYS_RECORDS) from a page that always arrives
#     corrupt returns -EFAULT to its task (error 3, checksum) and every task
#     finishes.
# Under the synchronous and the asynchronous policies; every run ends by
# itself (the timeout guard counts as a failure).
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
failed() { if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ]; then ok "$1"; else echo "# rc=$rc"; nok "$1"; fi; }
# pageserver MEMFILE NAME: starts one (not in a subshell, so cleanup can stop it); sets PS
pageserver() {
	rm -f "$T/$2.port"
	"$DOZE" pageserver "$1" --listen 127.0.0.1:0 --port-file "$T/$2.port" --quiet >"$T/$2.log" 2>&1 </dev/null &
	PIDS="$PIDS $!"
	w=0; while [ ! -s "$T/$2.port" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
	PS=$(cat "$T/$2.port" 2>/dev/null)
}
proxy() {
	[ -n "$FP_PID" ] && kill $FP_PID 2>/dev/null && wait $FP_PID 2>/dev/null
	rm -f "$T/fp.port"
	"$DOZE" faultproxy --listen 127.0.0.1:0 --to "$1" --fault "$2" --port-file "$T/fp.port" \
		--log "$T/fp.log" --max-time 120 --quiet </dev/null >/dev/null 2>&1 &
	FP_PID=$!
	w=0; while [ ! -s "$T/fp.port" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
	FP=$(cat "$T/fp.port" 2>/dev/null)
}
restore() {
	timeout 90 "$DOZE" restore "$@" --prefetch off --timeout 80 --stats-json "$T/st.json" >"$T/out" 2>&1
	rc=$?
}

# Layout (as tests/kvm/async-lost.t): with two 16 MiB scan arrays the second
# spans about 28..44 MiB (page 9216 = 36 MiB is in it); a 32 MiB kbuf spans
# about 12..44 MiB (page 7680 = 30 MiB).
if timeout 60 "$DOZE" run "$G" --quiet --workload scan:tasks=2,size=16M --snapshot "$T/s" >"$T/out" 2>&1 &&
	timeout 60 "$DOZE" run "$G" --quiet --workload syscall:tasks=2,kbuf=32M --snapshot "$T/y" >"$T/out" 2>&1
then ok "snapshots of scan and syscall"; else nok "snapshots"; fi
pageserver "$T/s.mem" s; PS_S=$PS
pageserver "$T/y.mem" y; PS_Y=$PS
if nginx_start "$T"; then ok "nginx up"; else nok "nginx up"; fi

for S in tcp http; do
	for p in sync user bpf; do
		if [ $S = tcp ]; then up=$PS_S; else up=127.0.0.1:$NGINX_PORT; fi
		proxy "$up" "drop:page=9216"
		if [ $S = tcp ]; then u="tcp://$FP?timeout=1s&connect_timeout=300ms"; else u="http://$FP/s.mem?timeout=1s&connect_timeout=300ms"; fi
		restore "$T/s.state" --source "$u" --policy $p
		if grep -q "not available in this build" "$T/out"; then
			n=$((n+1)); echo "ok $n # SKIP policy $p not in this build"; continue
		fi
		failed "$S, page never delivered, $p: exits non-zero by itself"
		has "$S, $p: the task touching it got the SIGBUS report (source gone)" \
			"task [0-9]* killed: SIGBUS (page [0-9a-fx]* lost, error 1)"
		# tcp: the requests pipelined behind the page that kills the connection
		# must not be lost with it (source-tcp.c sends them again one at a time)
		has "$S, $p: the other task finished" "all 2 tasks done (1 killed, 0 saw -EFAULT)"

		if [ $S = tcp ]; then up=$PS_Y; else up=127.0.0.1:$NGINX_PORT; fi
		proxy "$up" "corrupt:page=7680"
		if [ $S = tcp ]; then u="tcp://$FP?timeout=1s"; else u="http://$FP/y.mem?timeout=1s"; fi
		restore "$T/y.state" --source "$u" --policy $p
		failed "$S, kbuf page always corrupt, $p: exits non-zero by itself"
		has "$S, $p: every task finished, one saw -EFAULT" "all 2 tasks done (0 killed, 1 saw -EFAULT)"
		v=$(jget "$T/st.json" checksum_failures)
		if [ "${v:-0}" -ge 3 ]; then ok "$S, $p: the checksum caught it on every fetch ($v)"; else n=$((n+1)); echo "not ok $n - $S, $p: checksum failures ($v)"; fi
	done
done
echo "1..$n"
