#!/bin/sh
# doze run / doze snapshot on real KVM with the reference guest: every workload
# on 1 and 2 vCPUs ends with checksum OK; a snapshot verifies page by page and
# a damaged memory file is caught; guests that crash, hang or spin end with a
# clear error and a non-zero exit, never a hang (timeout guards every run).
. "$DZ_SRC/tests/lib/kvm.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"
# check NAME CMD...: CMD's stdout+stderr go to $T/out
# has NAME PATTERN: the last command's output matches
run() { timeout 60 "$DOZE" run "$G" --quiet --timeout 50 "$@"; }

for w in scan syscall atomic mixed; do
	for c in 1 2; do
		check "$w on $c vCPU(s): checksum OK" run --cpus $c --workload "$w"
	done
done
check "console output appears, prefixed by vCPU" timeout 60 "$DOZE" run "$G" --workload scan:size=1M
has "the guest finds doze's CPUID leaves (signature, ABI 1, ports + #VE + predicates + lost pages as #MC)" "^\[cpu0\] hypervisor: dozeDOZEdoze, ABI 1, features 27, MSR base 445a0000"
check "parameters: scan with 3 tasks per vCPU, 3 passes, seed 7" \
	run --cpus 2 --workload scan:tasks=3,passes=3,seed=7,size=1M

# statistics
check "--stats-json is written" run --cpus 2 --workload atomic:abuf=1M --stats-json "$T/st.json"
check "stats: checksum_ok true" grep -q '"checksum_ok": true' "$T/st.json"
check "stats: per-vCPU exits by reason" grep -q '"IO": [1-9]' "$T/st.json"
check "stats: progress series" grep -q '"progress": \[' "$T/st.json"

# snapshot
check "--snapshot writes the files and exits 0" run --cpus 2 --workload syscall:kbuf=2M --snapshot "$T/s"
has "it prints both paths" "$T/s.mem $T/s.state"
check "snapshot verify: every page matches" "$DOZE" snapshot verify "$T/s.state"
check "snapshot info shows the workload and both vCPUs" \
	sh -c "'$DOZE' snapshot info '$T/s.state' | grep -q 'workload: *syscall' && '$DOZE' snapshot info '$T/s.state' | grep -q '^vcpu 1:'"
cp "$T/s.mem" "$T/bad.mem"
printf 'X' | dd of="$T/bad.mem" bs=1 seek=$((4096 * 1000 + 17)) conv=notrunc 2>/dev/null
if "$DOZE" snapshot verify "$T/s.state" --mem "$T/bad.mem" >"$T/out" 2>&1; then
	nok "a corrupt page fails verify"
else
	ok "a corrupt page fails verify"
fi
has "... naming page 1000" "page 1000 "
truncate -s 1000000 "$T/bad.mem"
if "$DOZE" snapshot verify "$T/s.state" --mem "$T/bad.mem" >"$T/out" 2>&1; then
	nok "a truncated memory file fails verify"
else
	ok "a truncated memory file fails verify"
fi
has "... saying so" "truncated"
head -c 100 "$T/s.state" >"$T/short.state"
if "$DOZE" snapshot info "$T/short.state" >"$T/out" 2>&1; then nok "a damaged state file is refused"
else ok "a damaged state file is refused"; fi

# failures end cleanly
expect_fail() { # NAME PATTERN CMD...
	name=$1 pat=$2; shift 2
	"$@" >"$T/out" 2>&1; rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$pat" "$T/out"; then ok "$name"; else echo "# rc=$rc"; nok "$name"; fi
}
expect_fail "triple fault: clear error naming vCPU, RIP, CPL" "vCPU 0, RIP 0x[0-9a-f]*, CPL 0.*triple fault" \
	run --workload crash
expect_fail "kernel page fault: guest panic naming vector 14, RIP and CR2" \
	"guest panic on vCPU 0: unhandled exception vector 14 at RIP 0x[0-9a-f]* (error code 0, CR2 0x8000000000)" \
	run --workload fault
expect_fail "more vCPUs than the guest supports: clear error" "guest panic on vCPU .*: .*support" \
	run --cpus 40
expect_fail "halt with IF=0: clear error" "halted with interrupts disabled" run --workload hang
expect_fail "endless ring-0 loop: --timeout ends it" "did not finish within --timeout 2" \
	timeout 30 "$DOZE" run "$G" --quiet --workload spin --timeout 2
expect_fail "unknown workload: the guest says so" "workload not understood" run --workload frobnicate
expect_fail "too little RAM for the workload" "not enough guest RAM" run --mem 16M --workload scan:size=64M
expect_fail "not an ELF executable" "cannot load guest" timeout 10 "$DOZE" run /etc/passwd
expect_fail "missing guest file" "No such file" timeout 10 "$DOZE" run "$T/nonexistent"
expect_fail "bad --mem" "multiple of 2M" timeout 10 "$DOZE" run "$G" --mem 3M
check "doze run --help" "$DOZE" run --help
check "doze snapshot --help" "$DOZE" snapshot --help
echo "1..$n"
