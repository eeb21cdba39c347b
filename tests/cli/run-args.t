#!/bin/sh
# doze run / doze snapshot argument handling (no KVM needed: every case fails
# or succeeds before a VM is created).
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0
# t NAME WANT_RC PATTERN CMD...: exit status WANT_RC and output matching PATTERN
t() {
	name=$1 want=$2 pat=$3; shift 3
	n=$((n+1))
	"$@" >"$T/out" 2>&1; rc=$?
	if [ $rc -eq "$want" ] && grep -q -- "$pat" "$T/out"; then echo "ok $n - $name"
	else echo "not ok $n - $name"; echo "#   rc=$rc (want $want)"; sed 's/^/#   /' "$T/out" | head -5; fi
}
t "run --help" 0 "usage: doze run GUEST" "$DOZE" run --help
t "run without a guest" 2 "expected exactly one GUEST" "$DOZE" run
t "run with two guests" 2 "expected exactly one GUEST" "$DOZE" run a b
t "run --cpus 0" 2 "cpus must be" "$DOZE" run g --cpus 0
t "run --cpus 65" 2 "cpus must be" "$DOZE" run g --cpus 65
t "run --cpus x" 2 "cpus must be" "$DOZE" run g --cpus x
t "run --mem not a multiple of 2M" 2 "multiple of 2M" "$DOZE" run g --mem 3M
t "run --mem garbage" 2 "multiple of 2M" "$DOZE" run g --mem 12Q
t "run --timeout 0" 2 "timeout" "$DOZE" run g --timeout 0
t "run --irqchip bogus" 2 "user or kernel" "$DOZE" run g --irqchip bogus
t "run --tick-hz 0" 2 "tick-hz" "$DOZE" run g --tick-hz 0
t "run with an unknown option" 2 "usage" "$DOZE" run g --frobnicate
t "snapshot --help" 0 "doze snapshot verify" "$DOZE" snapshot --help
t "snapshot without arguments" 2 "usage" "$DOZE" snapshot
t "snapshot with an unknown subcommand" 2 "unknown subcommand" "$DOZE" snapshot frob x.state
t "snapshot info without a file" 2 "expected one STATEFILE" "$DOZE" snapshot info
t "snapshot info of a missing file" 1 "No such file" "$DOZE" snapshot info "$T/none.state"
printf 'this is not a snapshot at all, just some text that is long enough to read a header from.........................................................................................................................................................................................................................................................................................................' >"$T/junk.state"
t "snapshot info of a junk file" 1 "not a valid doze state file" "$DOZE" snapshot info "$T/junk.state"
t "snapshot verify of a junk file" 1 "not a valid doze state file" "$DOZE" snapshot verify "$T/junk.state"
t "snapshot verify without --mem and no .state suffix" 2 "give --mem" "$DOZE" snapshot verify "$T/junk"
echo "1..$n"
