#!/bin/sh
# doze restore when the pages cannot all arrive: an unreachable source, a page
# server that dies mid-restore (on purpose after N pages, and by SIGKILL), a
# truncated memory file (file:, tcp://, http://) and a corrupt page (checksum
# mismatch). Each ends with a non-zero exit and a clear error naming the page
# (GPA) and the source, in bounded time: every command runs under timeout, and
# an exit by timeout (124) fails the test.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/nginx.sh"
T=$(mktemp -d) || exit 1
PIDS=
cleanup() { [ -n "$PIDS" ] && kill $PIDS 2>/dev/null; nginx_stop; rm -rf "$T"; }
trap cleanup EXIT
. "$DZ_SRC/tests/lib/tap.sh"
restore() { timeout 90 "$DOZE" restore "$@" --quiet --timeout 80; }
# pageserver MEMFILE NAME [args]: starts one in the background, sets PS_ADDR and PS_PID
pageserver() {
	f=$1 name=$2; shift 2
	rm -f "$T/$name.port"
	"$DOZE" pageserver "$f" --listen 127.0.0.1:0 --port-file "$T/$name.port" --quiet "$@" \
		>"$T/$name.log" 2>&1 </dev/null &
	PS_PID=$!
	PIDS="$PIDS $PS_PID"
	w=0; while [ ! -s "$T/$name.port" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
	PS_ADDR=$(cat "$T/$name.port" 2>/dev/null)
}

check "snapshot" timeout 60 "$DOZE" run "$G" --quiet --workload scan:size=4M --snapshot "$T/s"

# --- unreachable sources: a clear error at open, never a hang
fails "tcp: connection refused" restore "$T/s.state" --source tcp://127.0.0.1:1
has "... says so and names the source" "tcp://127.0.0.1:1.*refused"
fails "http: connection refused" restore "$T/s.state" --source http://127.0.0.1:1/s.mem
has "... names the source" "http://127.0.0.1:1/s.mem"
fails "file: no such file" restore "$T/s.state" --source "file:$T/nope.mem"
has "... names the file" "nope.mem: No such file"
fails "unknown scheme" restore "$T/s.state" --source "gopher://x/y"
has "... says which are known" "unknown page source"
if nginx_start "$T"; then ok "nginx up"; else nok "nginx up"; fi
fails "http: 404" restore "$T/s.state" --source "http://127.0.0.1:$NGINX_PORT/missing.mem"
has "... says HTTP 404" "HTTP 404"

# --- the page server dies mid-restore
pageserver "$T/s.mem" die --die-after-pages 300
fails "pageserver exits after 300 pages: restore fails" restore "$T/s.state" \
	--source "tcp://$PS_ADDR?timeout=2s&connect_timeout=500ms" --prefetch off
has "... naming the page (GPA)" "page at GPA 0x[0-9a-f]* lost"
has "... and the source" "tcp://$PS_ADDR"
pageserver "$T/s.mem" kill
# 5 ms per page on top of the network: the guest's ~2000 faults take ~10 s, the kill comes at 1 s
( timeout 90 "$DOZE" restore "$T/s.state" --source "tcp://$PS_ADDR?latency=5ms&timeout=2s&connect_timeout=500ms" \
	--prefetch off --quiet --timeout 80 >"$T/out" 2>&1; echo $? >"$T/rc" ) &
RP=$!
sleep 1
kill -KILL "$PS_PID"
wait $RP
rc=$(cat "$T/rc")
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ]; then ok "pageserver killed (SIGKILL) mid-restore: restore fails"; else echo "# rc=$rc"; nok "pageserver killed mid-restore: restore fails"; fi
has "... naming the page and the source" "page at GPA 0x[0-9a-f]* lost.*tcp://$PS_ADDR"
has "... after giving up on reconnecting" "gave up after 2.0 s"

# --- truncated memory file: the pages past the end are lost, never zero-filled
cp "$T/s.mem" "$T/t.mem"
truncate -s 8M "$T/t.mem"
fails "file: truncated, the guest touches a lost page" restore "$T/s.state" --source "file:$T/t.mem" --prefetch off
has "... error names page and source" "page at GPA 0x[0-9a-f]* lost.*past the end.*file:$T/t.mem"
# (the guest is told: its tasks die SIGBUS-like, or it stops when the page was its own code)
has "... and the guest was stopped or told" "guest stopped\|status 4"
fails "file: truncated, prefetch finds the lost pages" restore "$T/s.state" --source "file:$T/t.mem" \
	--stats-json "$T/st.json"
# (the guest may reach a lost page first, or the prefetcher does: either way the page is named)
has "... the first lost page is named" "page at GPA 0x[0-9a-f]* lost: No data available.*past the end"
if grep -q '"lost": [1-9]' "$T/st.json"; then ok "... stats count the lost pages"; else nok "... stats count the lost pages"; fi
pageserver "$T/t.mem" trunc
fails "tcp: truncated file behind the page server" restore "$T/s.state" --source "tcp://$PS_ADDR" --prefetch off
has "... the server refuses the page, the error names it" "page at GPA 0x[0-9a-f]* lost.*past the end of its file"
fails "http: truncated object" restore "$T/s.state" --source "http://127.0.0.1:$NGINX_PORT/t.mem" --prefetch off
has "... 416 / short body: the error names the page" "page at GPA 0x[0-9a-f]* lost.*past the end of the object"

# --- a corrupt page: the checksum catches it, fetched again, then reported
cp "$T/s.mem" "$T/c.mem"
# page 3000 (GPA 0xbb8000) is guest data the restored workload reads
printf 'X' | dd of="$T/c.mem" bs=1 seek=$((4096 * 3000 + 123)) conv=notrunc 2>/dev/null
for uri in "file:$T/c.mem" "http://127.0.0.1:$NGINX_PORT/c.mem"; do
	scheme=${uri%%:*}
	fails "$scheme: corrupt page: restore fails" restore "$T/s.state" --source "$uri" --stats-json "$T/st.json"
	has "... checksum mismatch reported for GPA 0xbb8000" "page at GPA 0xbb8000 lost: checksum mismatch"
	if grep -q '"checksum_failures": 3' "$T/st.json"; then ok "... after 1 + 2 fetches"; else nok "... after 1 + 2 fetches"; fi
done

# --- usage errors
fails "an unknown --policy is refused" timeout 10 "$DOZE" restore "$T/s.state" --source "file:$T/s.mem" --policy frob
has "... clearly" "unknown --policy 'frob'"
fails "--source is required" timeout 10 "$DOZE" restore "$T/s.state"
fails "a bad state file is refused" timeout 10 "$DOZE" restore "$T/s.mem" --source "file:$T/s.mem"
has "... clearly" "cannot read snapshot"
fails "a bad latency option is refused" timeout 10 "$DOZE" restore "$T/s.state" --source "file:$T/s.mem?latency=soon"
has "... naming the option" "bad value 'soon' for latency"
check "doze restore --help" timeout 10 "$DOZE" restore --help
check "doze pageserver --help" timeout 10 "$DOZE" pageserver --help
fails "pageserver: missing memory file" timeout 10 "$DOZE" pageserver "$T/nope.mem" --listen 127.0.0.1:0
has "... clearly" "cannot open memory file"
echo "1..$n"
