#!/bin/sh
# Asynchronous page faults on real KVM: a snapshot of each workload restored
# lazily from a file source with a 1 ms latency model under every policy ends
# (atomic under always: see async-hard-error.t)
# with the guest's checksum OK; `syscall` under bpf takes ring-0 faults
# asynchronously (and none is a hard error) while `user` serves them all
# synchronously; the adaptive minimum wait turns async off for a fast source.
# Every command runs under timeout: a hang fails.
. "$DZ_SRC/tests/lib/kvm.sh"
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"
restore() { timeout 120 "$DOZE" restore "$@" --quiet --timeout 100 --prefetch off; }
SRC() { echo "file:$T/$1.mem?latency=1ms"; }

for w in scan syscall atomic; do
	check "snapshot of $w" timeout 60 "$DOZE" run "$G" --quiet --workload $w --snapshot "$T/$w"
done

for w in scan syscall atomic; do
	for p in sync user bpf always; do
		# atomic under always is the hard error (async-hard-error.t)
		[ $w/$p = atomic/always ] && continue
		check "$w under $p: exits 0" restore "$T/$w.state" --source "$(SRC $w)" --policy $p \
			--stats-json "$T/st.json"
		has "$w under $p: checksum OK" "checksum 0x[0-9a-f]* OK"
		jcmp "$w under $p: no hard error" async.hard_errors -eq 0
		case $w/$p in
		syscall/always)
			jcmp "syscall under always: ring-0 faults went async" async.async_faults.ring0 -gt 100 ;;
		scan/user|scan/bpf|scan/always)
			jcmp "$w under $p: ring-3 faults went async" async.async_faults.ring3 -gt 100 ;;
		syscall/bpf)
			jcmp "syscall under bpf: ring-0 faults went async" async.async_faults.ring0 -gt 100
			jcmp "syscall under bpf: the predicate ran" async.predicate.evaluations -gt 100
			jcmp "syscall under bpf: retired ring-0 writes to missing pages were kept (write-behind)" \
				async.write_behind -gt 0
			jcmp "syscall under bpf: ring-0 reads were taken back" async.rollbacks -gt 100 ;;
		syscall/user)
			jcmp "syscall under user: no ring-0 fault went async" async.async_faults.ring0 -eq 0
			jcmp "syscall under user: ring-0 faults were served synchronously" \
				async.sync_faults_on_vcpu.ring0 -gt 100 ;;
		*/sync)
			jcmp "$w under sync: nothing went async" async.async_faults.ring3 -eq 0
			jcmp "$w under sync: the fault service never poisoned" faults.poisoned -eq 0 ;;
		esac
	done
done

# A source faster than --async-min-wait is waited for: nothing goes async (the
# expected latency is the 1 ms model plus the measured average: far below 1 s).
check "adaptive: 1 ms source, --async-min-wait 1s: exits 0" restore "$T/syscall.state" \
	--source "$(SRC syscall)" --policy bpf --async-min-wait 1s --stats-json "$T/st.json"
jcmp "adaptive: nothing went async" async.async_faults.ring0 -eq 0
jcmp "adaptive: the faults were adaptive fallbacks" async.sync_fallbacks.adaptive -gt 100

# The Linux-compatible delivery: page-not-present as #PF with CR2 = token.
for w in scan syscall; do
	check "$w under bpf, #PF delivery: exits 0" restore "$T/$w.state" --source "$(SRC $w)" \
		--policy bpf --async-delivery pf --stats-json "$T/st.json"
	has "$w under bpf, #PF delivery: checksum OK" "checksum 0x[0-9a-f]* OK"
done
jcmp "syscall under bpf, #PF delivery: ring-0 faults went async" async.async_faults.ring0 -gt 100

# 80 ring-3 tasks on one vCPU against a slow source: at most 64 tokens are
# outstanding, the rest wait synchronously (token_limit), the result is right.
check "snapshot of 80 small scan tasks" timeout 60 "$DOZE" run "$G" --quiet \
	--workload scan:tasks=80,size=8K --snapshot "$T/many"
check "80 tasks, 20 ms source, bpf: exits 0" restore "$T/many.state" \
	--source "file:$T/many.mem?latency=20ms" --policy bpf --stats-json "$T/st.json"
has "80 tasks: checksum OK" "checksum 0x[0-9a-f]* OK"
jcmp "80 tasks: never more than 64 tokens outstanding" async.tokens_outstanding_max -le 64
jcmp "80 tasks: the table filled up" async.tokens_outstanding_max -ge 32

# Two vCPUs, the mixed workload (every kind of task at once) under bpf.
check "snapshot of mixed on 2 vCPUs" timeout 60 "$DOZE" run "$G" --quiet --cpus 2 --workload mixed \
	--snapshot "$T/mixed2"
for i in 1 2 3; do
	check "mixed, 2 vCPUs, bpf, run $i: exits 0" restore "$T/mixed2.state" --source "$(SRC mixed2)" \
		--policy bpf --stats-json "$T/st.json"
	jcmp "mixed, 2 vCPUs, bpf, run $i: no hard error" async.hard_errors -eq 0
done
echo "1..$n"
