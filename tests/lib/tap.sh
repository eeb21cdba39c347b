# TAP helpers for doze's shell tests (sourced; run by prove).
# Each check prints "ok N - name" or "not ok N - name"; a failing command's
# last output lines ($T/out, T being the test's temp dir) follow as diagnostics.
n=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
nok() { n=$((n+1)); echo "not ok $n - $1"; sed 's/^/#   /' "$T/out" | tail -5; }
# check NAME CMD...: CMD must succeed;  fails NAME CMD...: CMD must fail
check() { name=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$name"; else nok "$name"; fi; }
# A hang or a crash is never the failure a test wants: ended by an outer
# timeout(1) (124) or by doze's own --timeout, or killed by a signal (>= 128),
# it fails the check.
fails() {
	name=$1; shift
	"$@" >"$T/out" 2>&1; rc=$?
	if [ $rc -eq 0 ]; then nok "$name"
	elif [ $rc -eq 124 ] || grep -q "did not finish within --timeout" "$T/out"; then nok "$name (it hung)"
	elif [ $rc -ge 128 ]; then nok "$name (killed by signal $((rc - 128)))"
	else ok "$name"; fi
}
# has NAME PATTERN: the last command's output contains PATTERN
has() { if grep -q -- "$2" "$T/out"; then ok "$1"; else nok "$1"; fi; }
