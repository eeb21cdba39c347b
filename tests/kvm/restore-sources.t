#!/bin/sh
# doze restore on real KVM: a snapshot of the reference guest (1 and 2 vCPUs)
# restored lazily from each page source — file:, tcp:// (a doze pageserver
# process) and http:// (Debian's nginx on loopback) — finishes with checksum OK
# and every page's checksum verified, and the restored RAM equals the snapshot's
# memory file byte for byte. Every command runs under timeout: a hang fails.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/nginx.sh"
T=$(mktemp -d) || exit 1
PS_PID=
# Background servers write to files, never to our stdout: prove waits for it to close.
cleanup() { [ -n "$PS_PID" ] && kill $PS_PID 2>/dev/null; nginx_stop; rm -rf "$T"; }
trap cleanup EXIT
. "$DZ_SRC/tests/lib/tap.sh"
json() { if grep -q -- "$2" "$T/st.json"; then ok "$1"; else n=$((n+1)); echo "not ok $n - $1"; grep -E '"(error|checksum_ok|verified|lost|mismatches)"' "$T/st.json" | sed 's/^/#   /'; fi; }
restore() { timeout 120 "$DOZE" restore "$@" --quiet --timeout 100; }

# The guest's snapshot point comes after its fill phase: RAM holds real data.
for c in 1 2; do
	check "snapshot with $c vCPU(s)" timeout 60 "$DOZE" run "$G" --quiet --cpus $c \
		--workload scan:size=4M --snapshot "$T/s$c"
done

# tcp://: one pageserver process serves every tcp restore below (several clients).
"$DOZE" pageserver "$T/s1.mem" --listen 127.0.0.1:0 --port-file "$T/ps1" --quiet >"$T/ps1.log" 2>&1 </dev/null &
PS_PID=$!
w=0; while [ ! -s "$T/ps1" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
PS1=$(cat "$T/ps1" 2>/dev/null)
"$DOZE" pageserver "$T/s2.mem" --listen 127.0.0.1:0 --port-file "$T/ps2" --quiet >"$T/ps2.log" 2>&1 </dev/null &
PS_PID="$PS_PID $!"
w=0; while [ ! -s "$T/ps2" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
PS2=$(cat "$T/ps2" 2>/dev/null)
if [ -n "$PS1" ] && [ -n "$PS2" ]; then ok "two page servers listening"; else nok "two page servers listening"; fi
# http://: nginx serves the snapshot directory.
if nginx_start "$T"; then ok "nginx serves the snapshots on port $NGINX_PORT"; else nok "nginx starts"; fi

for c in 1 2; do
	[ $c = 1 ] && PS=$PS1 || PS=$PS2
	for uri in "file:$T/s$c.mem" "tcp://$PS" "http://127.0.0.1:$NGINX_PORT/s$c.mem"; do
		scheme=${uri%%:*}
		check "$scheme, $c vCPU(s): restore exits 0" restore "$T/s$c.state" --source "$uri" \
			--stats-json "$T/st.json" --verify-ram "$T/s$c.mem"
		has "$scheme, $c vCPU(s): checksum OK" "checksum 0x[0-9a-f]* OK"
		has "$scheme, $c vCPU(s): every page verified" "every page verified"
		has "$scheme, $c vCPU(s): every installed page equals the memory file" "RAM matches"
		json "$scheme, $c vCPU(s): stats: guest checksum_ok" '"checksum_ok": true'
		json "$scheme, $c vCPU(s): stats: every_page_verified" '"every_page_verified": true'
		json "$scheme, $c vCPU(s): stats: nothing lost" '"lost": 0'
	done
done

# Demand only (no prefetch): every page the guest needs comes through a fault.
check "prefetch off: checksum OK" restore "$T/s2.state" --source "tcp://$PS2" --prefetch off \
	--stats-json "$T/st.json"
json "prefetch off: no page by prefetch" '"prefetch": 0,'
json "prefetch off: every fault was a sync wait" '"sync": [1-9]'
json "prefetch off: fault waits have percentiles" '"p99": [1-9]'
# A busy-polling fault service (spins instead of sleeping in poll) serves the same pages.
check "--busy-poll: checksum OK" restore "$T/s1.state" --source "file:$T/s1.mem" --prefetch off \
	--busy-poll --stats-json "$T/st.json"
json "--busy-poll: every fault a sync wait" '"sync": [1-9]'
# The latency model on the http source still gives the same guest result.
check "http with the latency model: checksum OK" restore "$T/s1.state" \
	--source "http://127.0.0.1:$NGINX_PORT/s1.mem?latency=1ms&bandwidth=1gbit" --stats-json "$T/st.json"
json "... and the expected latency includes the model" '"source_expected_latency_ns": [1-9][0-9][0-9][0-9][0-9][0-9][0-9]'

# Without running the guest: fetch every page, then compare all of RAM byte for byte.
for c in 1 2; do
	check "all of RAM equals s$c.mem byte for byte (--no-run)" \
		timeout 120 "$DOZE" restore "$T/s$c.state" --source "http://127.0.0.1:$NGINX_PORT/s$c.mem" \
		--verify-ram "$T/s$c.mem" --no-run
	has "... every page compared, none differs" " 0 differ"
done
# The comparison itself can fail: a memory file that differs in one page is caught.
cp "$T/s1.mem" "$T/other.mem"
printf 'Z' | dd of="$T/other.mem" bs=1 seek=$((4096 * 300 + 9)) conv=notrunc 2>/dev/null
if timeout 120 "$DOZE" restore "$T/s1.state" --source "file:$T/s1.mem" --verify-ram "$T/other.mem" \
	--no-run >"$T/out" 2>&1; then nok "--verify-ram catches a differing page"; else ok "--verify-ram catches a differing page"; fi
has "... and says how many" "differs from .* in 1 page"
echo "1..$n"
