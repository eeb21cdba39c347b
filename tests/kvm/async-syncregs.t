#!/bin/sh
# The asynchronous fault path with the vCPU state read and written through
# KVM_CAP_SYNC_REGS (the default where KVM offers it) and through the ioctls
# (DOZE_SYNC_REGS=0, what a kernel without the capability gets): ring-0 reads
# taken back and #VE injected (syscall), ring-3 faults (scan), and the #PF
# delivery that sets CR2 (syscall), each ending with the checksum OK. With
# strace installed, the fault path is seen to make no KVM_GET_REGS in the
# first mode and one per fault in the second.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"
restore() { timeout 120 "$DOZE" restore "$@" --quiet --timeout 100 --prefetch off --policy bpf; }
SRC() { echo "file:$T/$1.mem?latency=1ms"; }

for w in scan syscall; do
	check "snapshot of $w" timeout 60 "$DOZE" run "$G" --quiet --workload $w --snapshot "$T/$w"
done

for mode in 1 0; do
	[ $mode = 1 ] && m="sync regs" || m="ioctls"
	export DOZE_SYNC_REGS=$mode
	check "$m: syscall: exits 0" restore "$T/syscall.state" --source "$(SRC syscall)" \
		--stats-json "$T/st.json"
	has "$m: syscall: checksum OK" "checksum 0x[0-9a-f]* OK"
	jcmp "$m: syscall: ring-0 faults went async" async.async_faults.ring0 -gt 100
	jcmp "$m: syscall: ring-0 reads were taken back" async.rollbacks -gt 100
	jcmp "$m: syscall: no hard error" async.hard_errors -eq 0
	check "$m: scan: exits 0" restore "$T/scan.state" --source "$(SRC scan)" \
		--stats-json "$T/st.json"
	has "$m: scan: checksum OK" "checksum 0x[0-9a-f]* OK"
	jcmp "$m: scan: ring-3 faults went async" async.async_faults.ring3 -gt 100
	check "$m: syscall, #PF delivery: exits 0" restore "$T/syscall.state" \
		--source "$(SRC syscall)" --async-delivery pf --stats-json "$T/st.json"
	has "$m: syscall, #PF delivery: checksum OK" "checksum 0x[0-9a-f]* OK"
	jcmp "$m: syscall, #PF delivery: ring-0 faults went async" async.async_faults.ring0 -gt 100
	jcmp "$m: syscall, #PF delivery: no hard error" async.hard_errors -eq 0
done

if command -v strace >/dev/null 2>&1; then
	for mode in 1 0; do
		export DOZE_SYNC_REGS=$mode
		# LeakSanitizer cannot run under ptrace (an ASan build of doze)
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			timeout 200 strace -f -e trace=ioctl -o "$T/trace" "$DOZE" restore "$T/syscall.state" \
			--source "$(SRC syscall)" --quiet --timeout 150 --prefetch off --policy bpf \
			--stats-json "$T/st.json" >"$T/out" 2>&1
		gets=$(grep -c 'KVM_GET_REGS' "$T/trace")
		faults=$(jget "$T/st.json" async.async_faults.ring0)
		if [ $mode = 1 ]; then
			[ -n "$faults" ] && [ "$faults" -gt 100 ] && [ "$gets" -lt $((faults / 10)) ]
			ok_if=$?
			what="sync regs: the fault path reads registers without KVM_GET_REGS"
		else
			[ -n "$faults" ] && [ "$faults" -gt 100 ] && [ "$gets" -ge "$faults" ]
			ok_if=$?
			what="ioctls: one KVM_GET_REGS per async fault at least"
		fi
		if [ $ok_if = 0 ]; then ok "$what ($gets for $faults faults)"
		else nok "$what ($gets for '$faults' faults)"; fi
	done
else
	ok "# SKIP strace is not installed: ioctl counts not checked"
fi
echo "1..$n"
