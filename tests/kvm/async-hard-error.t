#!/bin/sh
# The `atomic` workload touches missing pages with preemption or interrupts
# off. `user` and `bpf` must never deliver page-not-present there (no hard
# error over repeated runs); `always` (the old SEND_ALWAYS) does, the guest's
# handler sees it cannot sleep and dies loudly, and doze restore exits non-zero
# naming vCPU, RIP, CPL, the policy and the reason.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"
restore() { timeout 120 "$DOZE" restore "$@" --timeout 100 --prefetch off; }

check "snapshot of atomic" timeout 60 "$DOZE" run "$G" --quiet --workload atomic --snapshot "$T/a"
for p in user bpf; do
	for i in 1 2 3; do
		check "atomic under $p, run $i: exits 0" restore "$T/a.state" \
			--source "file:$T/a.mem?latency=1ms" --policy $p --quiet --stats-json "$T/st.json"
		has "atomic under $p, run $i: checksum OK" "checksum 0x[0-9a-f]* OK"
		jcmp "atomic under $p, run $i: no hard error" async.hard_errors -eq 0
		jcmp "atomic under $p, run $i: no ring-0 fault went async" async.async_faults.ring0 -eq 0
	done
done
jcmp "atomic under bpf: the predicate said no" async.sync_fallbacks.predicate_no -gt 0
jcmp "atomic under bpf: IF=0 faults never reached the predicate" async.sync_fallbacks.not_interruptible -gt 0

fails "atomic under always: exits non-zero" restore "$T/a.state" --source "file:$T/a.mem?latency=1ms" \
	--policy always --stats-json "$T/st.json"
has "always: the guest printed its diagnostic" "HARD ERROR: async page-not-present"
has "always: ... and the reason (preemption off)" "cannot sleep: preemption was off"
has "always: doze names the hard error" "hard error"
has "always: ... the vCPU" "vCPU 0"
has "always: ... the RIP" "RIP 0x[0-9a-f]"
has "always: ... the CPL" "CPL 0"
has "always: ... the policy" "policy 'always'"
jcmp "always: stats count the hard error" async.hard_errors -eq 1

fails "atomic under always, #PF delivery: exits non-zero" restore "$T/a.state" \
	--source "file:$T/a.mem?latency=1ms" --policy always --async-delivery pf
has "always, #PF delivery: the guest's diagnostic" "HARD ERROR: async page-not-present"
has "always, #PF delivery: doze names the policy" "policy 'always'"
echo "1..$n"
