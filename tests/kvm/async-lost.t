#!/bin/sh
# Pages that can never arrive are reported to the guest, never a hang: a ring-3
# task that touches a page past the end of a truncated memory file is killed
# (SIGBUS-like) while the other task finishes; a kernel copy (SYS_RECORDS) from
# a page whose checksum never matches returns -EFAULT to its task through the
# exception table. Under synchronous and asynchronous policies, with #VE
# delivery (a #VE error event) and in the Linux-compatible #PF mode (a machine
# check); and a task killed before a barrier does not hold the others.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
PS_PID=
cleanup() { [ -n "$PS_PID" ] && kill "$PS_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
. "$DZ_SRC/tests/lib/tap.sh"
restore() { timeout 60 "$DOZE" restore "$@" --timeout 50 --prefetch off; }

# Layout assumption (docs/vmm.md): the user heap starts at about 12 MiB; with
# two 16 MiB scan arrays the second one spans about 28..44 MiB, and a 32 MiB
# kbuf spans about 12..44 MiB. The checks below fail loudly if that moves.
check "snapshot of scan (2 tasks, 16 MiB arrays)" timeout 60 "$DOZE" run "$G" --quiet \
	--workload scan:tasks=2,size=16M --snapshot "$T/s"
check "snapshot of syscall (2 tasks, 32 MiB kbuf)" timeout 60 "$DOZE" run "$G" --quiet \
	--workload syscall:tasks=2,kbuf=32M --snapshot "$T/y"
head -c $((36 * 1024 * 1024)) "$T/s.mem" > "$T/s-trunc.mem"
cp "$T/y.mem" "$T/y-bad.mem"
printf 'garbage!' | dd of="$T/y-bad.mem" bs=1 seek=$((30 * 1024 * 1024 + 64)) conv=notrunc 2>/dev/null

# #VE delivery reports a lost page as a #VE error event; the Linux-compatible
# #PF mode has no #VE area, so the same report comes as a machine check.
for cfg in sync user bpf sync:pf bpf:pf; do
	p=${cfg%%:*}
	case $cfg in
	*:pf) d="--async-delivery pf" as=machine_check mce="-ge 1" ;;
	*) d= as="#VE" mce="-eq 0" ;;
	esac
	p="$p${d:+ (pf)}"
	fails "truncated file, $p: exits non-zero (a task was killed)" restore "$T/s.state" \
		--source "file:$T/s-trunc.mem" --policy ${cfg%%:*} $d --stats-json "$T/st.json"
	has "truncated file, $p: the task got a SIGBUS report" "task 1 killed: SIGBUS (page [0-9a-fx]* lost, error 2)"
	has "truncated file, $p: the other task finished" "all 2 tasks done (1 killed, 0 saw -EFAULT)"
	jcmp "truncated file, $p: one error delivered" async.errors_delivered -ge 1
	jcmp "truncated file, $p: ... as $as" async.errors_as_machine_check $mce
	jcmp "truncated file, $p: no hard error" async.hard_errors -eq 0

	fails "corrupt kbuf page, $p: exits non-zero (a task saw -EFAULT)" restore "$T/y.state" \
		--source "file:$T/y-bad.mem" --policy ${cfg%%:*} $d --stats-json "$T/st.json"
	has "corrupt kbuf page, $p: every task finished" "all 2 tasks done (0 killed, 1 saw -EFAULT)"
	jcmp "corrupt kbuf page, $p: the page is lost (checksum)" pages.lost -ge 1
	jcmp "corrupt kbuf page, $p: one error delivered" async.errors_delivered -ge 1
	jcmp "corrupt kbuf page, $p: ... as $as" async.errors_as_machine_check $mce
done
# A task killed before the barrier that follows the snapshot point never
# arrives there: the others must not wait for it (this hung until the barrier
# counted live tasks). Find task 1's user-stack page from a truncated file,
# then corrupt just that page, so only task 1 dies and before the barrier.
check "snapshot of scan (2 tasks, 4 MiB arrays)" timeout 60 "$DOZE" run "$G" --quiet \
	--workload scan:size=4M --snapshot "$T/b"
head -c $((8 * 1024 * 1024)) "$T/b.mem" > "$T/b-trunc.mem"
restore "$T/b.state" --source "file:$T/b-trunc.mem" > "$T/out" 2>&1
stack=$(sed -n 's/.*task 1 killed: SIGBUS (page \([0-9a-f]*\) lost.*/\1/p' "$T/out" | head -1)
if [ -n "$stack" ]; then ok "task 1's first lost page is its stack (page $stack)"; else nok "task 1's first lost page is its stack"; fi
cp "$T/b.mem" "$T/b-bad.mem"
printf 'garbage!' | dd of="$T/b-bad.mem" bs=1 seek=$((0x${stack:-0} + 8)) conv=notrunc 2>/dev/null
for cfg in sync user bpf always bpf:pf; do
	p=${cfg%%:*}
	case $cfg in *:pf) d="--async-delivery pf" ;; *) d= ;; esac
	fails "task killed before the barrier, $cfg: exits non-zero" restore "$T/b.state" \
		--source "file:$T/b-bad.mem" --policy $p $d
	has "task killed before the barrier, $cfg: task 1 killed on its stack page" \
		"task 1 killed: SIGBUS (page $stack lost"
	has "task killed before the barrier, $cfg: the other task finished" \
		"all 2 tasks done (1 killed, 0 saw -EFAULT)"
done
# A page server that refuses the pages past the end of its (truncated) file.
"$DOZE" pageserver "$T/s-trunc.mem" --listen 127.0.0.1:0 --port-file "$T/ps" --quiet &
PS_PID=$!
w=0; while [ ! -s "$T/ps" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done
fails "page server refuses pages, bpf: exits non-zero (a task was killed)" restore "$T/s.state" \
	--source "tcp://$(cat "$T/ps")" --policy bpf --stats-json "$T/st.json"
has "page server refuses pages: the task got a SIGBUS report" "task 1 killed: SIGBUS"
has "page server refuses pages: the other task finished" "all 2 tasks done (1 killed, 0 saw -EFAULT)"
has "page server refuses pages: doze names the lost page and the source" "page at GPA 0x[0-9a-f]* lost.*tcp://"
echo "1..$n"
