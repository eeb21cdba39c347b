#!/bin/sh
# doze faultproxy on its own (no KVM): nginx serves a 1 MiB file, curl asks for
# byte ranges through the proxy, and each fault mode does exactly what it says —
# pass-through is byte-exact, `corrupt` flips exactly the byte it names (the
# same one for the same seed), `drop`/`close` cut the transfer, `length` shortens
# the body by half a page, `stall`/`trickle` delay but deliver, `restart` refuses
# connections for a while and then serves again, --max-time ends the proxy.
. "$DZ_SRC/tests/lib/nginx.sh"
if [ -z "$(nginx_bin)" ] || ! command -v curl >/dev/null; then echo "1..0 # SKIP needs nginx and curl (tools/install-deps)"; exit 0; fi
T=$(mktemp -d) || exit 1
FP_PID=
cleanup() { [ -n "$FP_PID" ] && kill $FP_PID 2>/dev/null; nginx_stop; rm -rf "$T"; }
trap cleanup EXIT
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); echo "not ok $n - $1"; [ -f "$T/fp.log" ] && sed 's/^/#   /' "$T/fp.log" | tail -3; }
t() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
proxy() {
	[ -n "$FP_PID" ] && kill $FP_PID 2>/dev/null && wait $FP_PID 2>/dev/null
	rm -f "$T/fp.port"
	"$DOZE" faultproxy --listen 127.0.0.1:0 --to "127.0.0.1:$NGINX_PORT" --fault "$1" --seed "${2:-1}" \
		--port-file "$T/fp.port" --log "$T/fp.log" --max-time 60 --quiet </dev/null >/dev/null 2>&1 &
	FP_PID=$!
	w=0; while [ ! -s "$T/fp.port" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
	FP=$(cat "$T/fp.port" 2>/dev/null)
}
# get FIRST LAST OUT: a range through the proxy; sets crc (curl's exit status)
get() { timeout 20 curl -s --max-time 15 -r "$1-$2" -o "$3" "http://$FP/f.bin"; crc=$?; }
size() { wc -c <"$1" | tr -d ' '; }

head -c 1048576 /dev/urandom >"$T/f.bin"
if nginx_start "$T"; then ok "nginx serves the file"; else nok "nginx starts"; echo "1..$n"; exit 0; fi
# reference ranges straight from the file
dd if="$T/f.bin" of="$T/ref" bs=4096 skip=4 count=4 2>/dev/null

proxy pass
get 0 1048575 "$T/all"
t "pass: the whole file, byte for byte" cmp -s "$T/all" "$T/f.bin"

proxy "corrupt:page=5,offset=100"
get 16384 32767 "$T/c1"
t "corrupt page=5,offset=100: curl still gets 16 KiB" test "$crc" = 0 -a "$(size "$T/c1")" = 16384
diffs=$(cmp -l "$T/c1" "$T/ref" 2>/dev/null | wc -l)
at=$(cmp -l "$T/c1" "$T/ref" 2>/dev/null | awk '{print $1; exit}')
t "... exactly one byte differs ($diffs)" test "$diffs" = 1
t "... the one named: page 5, byte 100 ($at)" test "$at" = $((4096 + 100 + 1))
t "... and the proxy logged it" grep -q "corrupt payload byte .* (page 5 + 100)" "$T/fp.log"

proxy "corrupt:after=5000,every=3000,times=3" 9
get 16384 32767 "$T/s1"
proxy "corrupt:after=5000,every=3000,times=3" 9
get 16384 32767 "$T/s2"
proxy "corrupt:after=5000,every=3000,times=3" 10
get 16384 32767 "$T/s3"
t "corrupt: three bytes flipped" test "$(cmp -l "$T/s1" "$T/ref" | wc -l)" = 3
t "corrupt: the same seed flips the same bytes the same way" cmp -s "$T/s1" "$T/s2"
t "corrupt: another seed flips them another way" sh -c "! cmp -s '$T/s1' '$T/s3'"

proxy "drop:after=100000"
get 0 1048575 "$T/d"
t "drop (RST) after 100000 bytes: curl fails ($crc)" test "$crc" != 0
t "... having received at most 100000 body bytes" test "$(size "$T/d" 2>/dev/null || echo 0)" -le 100000
proxy "close:after=100000"
get 0 1048575 "$T/d"
t "close (FIN) mid-response: curl reports a partial transfer ($crc)" test "$crc" = 18
t "... of exactly 100000 bytes" test "$(size "$T/d")" = 100000

proxy "length:page=2"
get 0 16383 "$T/l"
t "length: the body says half a page less ($(size "$T/l") bytes)" test "$(size "$T/l")" = $((16384 - 2048))

proxy "stall:after=4096,for=1s"
get 0 65535 "$T/st"
dd if="$T/f.bin" of="$T/ref64" bs=65536 count=1 2>/dev/null
t "stall for 1 s: then everything arrives ($crc)" test "$crc" = 0
t "... byte for byte" cmp -s "$T/st" "$T/ref64"
proxy "trickle:rate=400000"
get 0 65535 "$T/tr"
t "trickle: everything arrives, byte for byte" cmp -s "$T/tr" "$T/ref64"

proxy "restart:after=1000,down=1500ms"
get 0 65535 "$T/r1"
t "restart: the transfer in progress is reset ($crc)" test "$crc" != 0
timeout 10 curl -s --max-time 5 -r 0-4095 -o "$T/r2" "http://$FP/f.bin"; crc=$?
t "... new connections are refused meanwhile ($crc)" test "$crc" = 7
sleep 2
get 0 65535 "$T/r3"
t "... and served again afterwards" cmp -s "$T/r3" "$T/ref64"

kill $FP_PID 2>/dev/null; wait $FP_PID 2>/dev/null; FP_PID=
timeout 10 "$DOZE" faultproxy --listen 127.0.0.1:0 --to 127.0.0.1:1 --max-time 0.5 --quiet >/dev/null 2>&1
t "--max-time ends the proxy by itself" test $? = 0
timeout 10 "$DOZE" faultproxy --listen 127.0.0.1:0 --to 127.0.0.1:1 --fault explode >"$T/out" 2>&1
t "an unknown mode is a usage error (exit 2)" test $? = 2
t "... naming it" grep -q "unknown fault mode 'explode'" "$T/out"
timeout 10 "$DOZE" faultproxy --listen 127.0.0.1:0 --to 127.0.0.1:1 --fault "drop:page=1,req=2" >"$T/out" 2>&1
t "page= and req= together are refused" grep -q "exclude each other" "$T/out"
timeout 10 "$DOZE" faultproxy --to 127.0.0.1:1 >"$T/out" 2>&1
t "--listen is required" test $? = 2
timeout 10 "$DOZE" faultproxy --help >"$T/out" 2>&1
t "doze faultproxy --help" grep -q "usage: doze faultproxy" "$T/out"
echo "1..$n"
