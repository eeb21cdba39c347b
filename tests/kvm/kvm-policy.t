#!/bin/sh
# The peer baseline `doze restore --policy kvm` (issue 8): KVM's own in-kernel
# async page faults on the same guest, snapshot and page source as doze's
# policies. scan, syscall and atomic end with their checksum OK; under scan the
# guest received KVM's page-not-present #PFs (ring 3) and page-ready
# interrupts, raised by KVM's worker; under syscall the kernel's ring-0 faults
# were never made async by KVM (served on the vCPU thread). A guest that never
# arms KVM's APF still finishes (KVM's artificial halt); a guest that arms it
# with its LAPIC software-disabled is stopped by the watchdog with an error
# naming the cause. Every command runs under timeout: a hang fails.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"
jis() {
	v=$(jget "$T/st.json" "$2")
	if [ "$v" = "$3" ]; then ok "$1 ($2 = $v)"; else n=$((n+1)); echo "not ok $n - $1 ($2 = '$v', want $3)"; fi
}
restore() { timeout 120 "$DOZE" restore "$@" --quiet --timeout 100 --prefetch off; }
SRC() { echo "file:$T/$1.mem?latency=1ms"; }

check "doze restore --help lists --policy kvm" sh -c "'$DOZE' restore --help | grep -q 'kvm '"
fails "--kvm-guest rejects a bad mode" timeout 10 "$DOZE" restore x.state --source file:x --policy kvm --kvm-guest bogus
has "... naming the modes" "apf, lapic, none or no-lapic"

for w in scan syscall atomic; do
	check "snapshot of $w" timeout 60 "$DOZE" run "$G" --quiet --workload $w --snapshot "$T/$w"
done

for w in scan syscall atomic; do
	check "$w under kvm: exits 0" restore "$T/$w.state" --source "$(SRC $w)" --policy kvm \
		--stats-json "$T/st.json"
	has "$w under kvm: checksum OK" "checksum 0x[0-9a-f]* OK"
	jis "$w under kvm: the policy is named" policy kvm
	jis "$w under kvm: the guest armed KVM's APF" kvm.guest_apf_enabled true
	jis "$w under kvm: the guest's counters were read" kvm.guest_counters true
	jis "$w under kvm: doze never poisoned a page" faults.poisoned 0
	jcmp "$w under kvm: KVM's wake-all after enabling reached the guest" kvm.wake_all -ge 1
	jcmp "$w under kvm: KVM's async faults never came in guest ring 0" kvm.page_not_present.ring0 -eq 0
	case $w in
	scan)
		jcmp "scan under kvm: in-kernel page-not-present #PFs in ring 3" kvm.page_not_present.ring3 -gt 100
		jcmp "scan under kvm: as many page-ready interrupts" kvm.page_ready -gt 100
		jcmp "scan under kvm: the faults came from KVM's worker" kvm.uffd_events.worker -gt 100
		jcmp "scan under kvm: the worker's events say write" kvm.uffd_events.worker_write_flag -gt 100 ;;
	syscall)
		jcmp "syscall under kvm: the kernel's faults stalled the vCPU thread" kvm.uffd_events.vcpu -gt 100 ;;
	esac
	# every ring-3 page-not-present gets its page-ready
	np=$(jget "$T/st.json" kvm.page_not_present.ring3); pr=$(jget "$T/st.json" kvm.page_ready)
	if [ -n "$np" ] && [ "$np" = "$pr" ]; then ok "$w under kvm: page-ready = page-not-present ($pr)"
	else n=$((n+1)); echo "not ok $n - $w under kvm: page-ready '$pr' != page-not-present '$np'"; fi
done

# Two vCPUs (the others arm from an IPI: their LAPICs must be on) and a snapshot
# taken with the in-kernel irqchip (its own LAPIC state and EOI gates).
check "snapshot of mixed on 2 vCPUs" timeout 60 "$DOZE" run "$G" --quiet --workload mixed --cpus 2 --snapshot "$T/mix2"
check "mixed, 2 vCPUs under kvm: exits 0" restore "$T/mix2.state" --source "$(SRC mix2)" --policy kvm \
	--stats-json "$T/st.json"
has "mixed, 2 vCPUs under kvm: checksum OK" "checksum 0x[0-9a-f]* OK"
jis "mixed, 2 vCPUs under kvm: every vCPU armed KVM's APF" kvm.guest_apf_enabled true
jcmp "mixed, 2 vCPUs under kvm: one wake-all per vCPU" kvm.wake_all -eq 2
jcmp "mixed, 2 vCPUs under kvm: ring-3 page-not-present" kvm.page_not_present.ring3 -gt 100
check "snapshot of scan with the in-kernel irqchip" timeout 60 "$DOZE" run "$G" --quiet --workload scan --irqchip kernel --snapshot "$T/scank"
check "scan (in-kernel irqchip snapshot) under kvm: exits 0" restore "$T/scank.state" --source "$(SRC scank)" \
	--policy kvm --stats-json "$T/st.json"
has "scan (in-kernel irqchip snapshot) under kvm: checksum OK" "checksum 0x[0-9a-f]* OK"
jcmp "scan (in-kernel irqchip snapshot) under kvm: ring-3 page-not-present" kvm.page_not_present.ring3 -gt 100

# --pin: the vCPU on the first CPU, the other threads elsewhere (stats say so)
check "scan under kvm with --pin: exits 0" restore "$T/scan.state" --source "$(SRC scan)" --policy kvm --pin \
	--stats-json "$T/st.json"
if grep -q '"pin": "vCPU i -> CPU' "$T/st.json"; then ok "--pin is recorded in the stats"; else nok "--pin is recorded in the stats"; fi

# A guest that never arms KVM's APF: KVM still goes async with an in-kernel
# LAPIC and IF = 1, halting the vCPU until the page is in (artificial halt).
for m in lapic none; do
	check "scan, guest without APF ($m): exits 0" restore "$T/scan.state" --source "$(SRC scan)" \
		--policy kvm --kvm-guest $m --stats-json "$T/st.json"
	has "scan, guest without APF ($m): checksum OK" "checksum 0x[0-9a-f]* OK"
	jis "scan, guest without APF ($m): not armed" kvm.guest_apf_enabled false
	jcmp "scan, guest without APF ($m): no page-not-present" kvm.page_not_present.ring3 -eq 0
	jcmp "scan, guest without APF ($m): KVM's worker fetched (artificial halt)" kvm.uffd_events.worker -gt 100
done

# The known failure: APF armed, LAPIC software-disabled. Bounded, and named.
fails "scan, APF armed with the LAPIC disabled: fails" timeout 60 "$DOZE" restore "$T/scan.state" \
	--source "$(SRC scan)" --policy kvm --kvm-guest no-lapic --quiet --prefetch off --timeout 50 \
	--stats-json "$T/st.json"
has "... with the cause named (LAPIC software-disabled)" "LAPIC software-disabled"
has "... not by --timeout" "made no exit for"
jis "... the stats say the watchdog stopped it" kvm.stalled true

# A page that can never arrive: KVM cannot tell the guest; the run ends with the page named
head -c 12M "$T/scan.mem" > "$T/short.mem"
fails "scan under kvm from a truncated memory file: fails" timeout 60 "$DOZE" restore "$T/scan.state" \
	--source "file:$T/short.mem" --policy kvm --quiet --prefetch off --timeout 50
has "... naming the lost page" "lost"

echo "1..$n"
