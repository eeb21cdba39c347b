#!/bin/sh
# doze restore from http:// when the object store goes away mid-restore: nginx
# is stopped while the guest is still demand-faulting; the restore ends with a
# non-zero exit and an error naming the page (GPA) and the source, after the
# source's timeout, never a hang (timeout guards the run; 124 fails the test).
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/nginx.sh"
T=$(mktemp -d) || exit 1
trap 'nginx_stop; rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"

if timeout 60 "$DOZE" run "$G" --quiet --workload scan:size=4M --snapshot "$T/s" >"$T/out" 2>&1; then
	ok "snapshot"; else nok "snapshot"; fi
if nginx_start "$T"; then ok "nginx up"; else nok "nginx up"; fi
# 5 ms per page: the guest's ~2000 demand faults take ~10 s; nginx goes away at 1 s.
( timeout 90 "$DOZE" restore "$T/s.state" --quiet --timeout 80 --prefetch off \
	--source "http://127.0.0.1:$NGINX_PORT/s.mem?latency=5ms&timeout=2s&connect_timeout=500ms" \
	>"$T/out" 2>&1; echo $? >"$T/rc" ) &
RP=$!
sleep 1
nginx_stop
wait $RP
rc=$(cat "$T/rc")
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ]; then ok "nginx stopped mid-restore: restore fails"; else echo "# rc=$rc"; nok "nginx stopped mid-restore: restore fails"; fi
has "... naming the page and the source" "page at GPA 0x[0-9a-f]* lost.*http://127.0.0.1:"
has "... after retrying for the timeout" "gave up on page [0-9]* after 2.0 s"
echo "1..$n"
