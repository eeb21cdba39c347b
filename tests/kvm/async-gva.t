#!/bin/sh
# The GVA of the #VE information area (DZ_VE_F_GVA_VALID): restores of `scan`
# (ring-3 faults) and `syscall` (ring-0 faults in SYS_RECORDS) under bpf from
# a slow file source. Every page-not-present delivered as #VE carries a GVA
# the VMM decoded from the faulting instruction and verified through the
# guest's page tables (stats async.gva: filled == delivered, unknown == 0),
# and the traced GVAs are the right ones: the scan loop's faults lie inside
# the scan arrays, each at the first word of a page (the loop reads the
# arrays in order), the arrays being found independently in the snapshot's
# memory (struct uarg: array pointer, then array_words); SYS_RECORDS's faults
# lie inside kbuf (its pointer and size read from the snapshot at the
# guest's symbols). A page lost in a scan array is reported with its GVA;
# 2 vCPUs running every kind of task have a GVA for every delivery too.
# Every command runs under timeout: a hang fails.
. "$DZ_SRC/tests/lib/kvm.sh"
for tool in perl nm od; do
	command -v $tool >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done
. "$DZ_SRC/tests/lib/json.sh"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
. "$DZ_SRC/tests/lib/tap.sh"
# num NAME GOT OP WANT: numeric test on a value the script computed
num() {
	if [ -n "$2" ] && [ "$2" "$3" "$4" ]; then ok "$1 ($2 $3 $4)"; else n=$((n+1)); echo "not ok $n - $1 (got '$2', want $3 $4)"; fi
}
restore() {
	p=$1; shift
	timeout 120 "$DOZE" restore "$p.state" --source "file:$p.mem?latency=1ms" --quiet --timeout 100 \
		--prefetch off --policy bpf --async-trace --stats-json "$T/st.json" "$@"
}
# hex(): "0x..." to a number in any awk (mawk has no strtonum); exact below 2^53
HEX='function hex(s,  i, v) { v = 0; s = tolower(s); sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v }'
# npnp: the page-not-present lines of the last trace
npnp() { grep -c 'page-not-present' "$T/out"; }
# delivered: page-not-present injected, by the policy's own count (async_faults)
delivered() { echo $(( $(jget "$T/st.json" async.async_faults.ring0) + $(jget "$T/st.json" async.async_faults.ring3) )); }

# ---- scan: ring 3 ------------------------------------------------------------
# 2 tasks of 513 pages each: array_words = 262656 is a value to look for
SIZE=2101248
check "snapshot of scan" timeout 60 "$DOZE" run "$G" --quiet --mem 64M \
	--workload scan:tasks=2,size=$SIZE --snapshot "$T/scan"
check "scan under bpf: exits 0" restore "$T/scan"
has "scan under bpf: checksum OK" "checksum 0x[0-9a-f]* OK"
d=$(npnp)
num "scan: page-not-present delivered" "$d" -gt 500
jcmp "scan: every one had a verified GVA" async.gva.filled -eq "$d"
jcmp "scan: as many as async_faults counts" async.gva.filled -eq "$(delivered)"
jcmp "scan: none without" async.gva.unknown -eq 0
num "scan: every trace line names a GVA" "$(grep -c 'GVA unknown' "$T/out")" -eq 0

# the arrays, from the snapshot's memory: struct uarg holds the array pointer
# then array_words (= SIZE / 8)
perl -e '
	open(my $f, "<:raw", $ARGV[0]) or die; local $/; my $m = <$f>;
	my $want = pack("Q<", $ARGV[1] / 8);
	for (my $p = index($m, $want); $p >= 0; $p = index($m, $want, $p + 1)) {
		next if $p % 8 || $p < 8;
		my $a = unpack("Q<", substr($m, $p - 8, 8));
		print "$a\n" if $a && $a % 4096 == 0 && $a < length($m);
	}' "$T/scan.mem" $SIZE >"$T/arrays"
num "scan: both arrays found in the snapshot" "$(wc -l <"$T/arrays")" -eq 2

# the scan loop: the RIP of most ring-3 faults
grep 'page-not-present' "$T/out" >"$T/pnp"
rip=$(awk '{for (i = 1; i < NF; i++) if ($i == "RIP") print $(i + 1)}' "$T/pnp" | sort | uniq -c |
	sort -rn | awk 'NR == 1 {print $2}')
awk -v rip="$rip" -v size=$SIZE "$HEX"'
	NR == FNR { lo[NR] = $1; na = NR; next }
	{
		r = ""; g = ""
		for (i = 1; i < NF; i++) { if ($i == "RIP") r = $(i + 1); if ($i == "GVA") g = $(i + 1) }
		if (r != rip) next
		loop++
		v = hex(g)
		for (k = 1; k <= na; k++)
			if (v >= lo[k] && v < lo[k] + size) { inside++; if (v % 4096 == 0) aligned++; break }
	}
	END { printf "%d %d %d\n", loop, inside, aligned }' "$T/arrays" "$T/pnp" >"$T/loop" 2>/dev/null ||
	echo "0 0 0" >"$T/loop"
read loop inside aligned <"$T/loop"
num "scan: the loop ($rip) took most faults" "$loop" -gt 500
num "scan: each of its GVAs lies inside a scan array" "$inside" -eq "$loop"
num "scan: each at the first word of a page (the loop reads in order)" "$aligned" -eq "$loop"
# (most of the 1026 array pages: under ASan some arrive before their fault is seen)
num "scan: most of the arrays' pages went async" "$inside" -gt 513
# identity-mapped user heap in the reference guest: GVA page = GPA page
bad=$(awk "$HEX"'{for (i = 1; i < NF; i++) { if ($i == "GPA") p = $(i + 1); if ($i == "GVA") g = $(i + 1) }
	if (int(hex(p) / 4096) != int(hex(g) / 4096)) b++ } END { print b + 0 }' "$T/pnp" 2>/dev/null)
num "scan: every GVA maps to its GPA's page (identity-mapped guest)" "$bad" -eq 0

# A page lost past the end of a truncated memory file, in the middle of the
# second array: its error event carries the GVA too, at that page's first word.
a2=$(sort -n "$T/arrays" | tail -1)
cut=$(( ${a2:-0} + 1024 * 1024 ))
head -c $cut "$T/scan.mem" >"$T/trunc.mem"
ln -s "$T/scan.state" "$T/trunc.state"
fails "truncated file, bpf: exits non-zero (a task was killed)" restore "$T/trunc"
has "truncated file: a task was killed by the lost page" "a task was killed by a lost page"
lost=$(sed -n 's/.*page \(0x[0-9a-f]*\) lost: error event delivered, GVA \(.*\)/\1 \2/p' "$T/out" | head -1)
want=$(printf '%#x %#x' $cut $cut)
if [ "$lost" = "$want" ]; then ok "truncated file: the lost page's GVA is the array word the loop read ($lost)"
else n=$((n+1)); echo "not ok $n - truncated file: the lost page's GVA (got '$lost', want '$want')"; fi

# ---- syscall: ring 0 -----------------------------------------------------------
check "snapshot of syscall" timeout 60 "$DOZE" run "$G" --quiet --mem 64M --workload syscall \
	--snapshot "$T/sys"
check "syscall under bpf: exits 0" restore "$T/sys"
has "syscall under bpf: checksum OK" "checksum 0x[0-9a-f]* OK"
d=$(npnp)
r0=$(grep -c 'page-not-present.*CPL 0' "$T/out")
num "syscall: ring-0 page-not-present delivered" "$r0" -gt 500
jcmp "syscall: every one had a verified GVA" async.gva.filled -eq "$d"
jcmp "syscall: as many as async_faults counts" async.gva.filled -eq "$(delivered)"
jcmp "syscall: none without" async.gva.unknown -eq 0
# kbuf and kbuf_pages: the guest kernel's statics (identity-mapped image)
sym() { nm "$G" | awk -v s="$1" '$3 == s {print $1}'; }
peek() { od -An -t u8 -j $((0x$1)) -N 8 "$T/sys.mem" | tr -d ' '; }
kb=$(peek "$(sym kbuf)")
kp=$(peek "$(sym kbuf_pages)")
copy=$(sym apf_copy_record)
num "syscall: kbuf found in the snapshot" "${kb:-0}" -gt 0
grep 'page-not-present.*CPL 0' "$T/out" >"$T/pnp0"
out=$(awk -v lo="${kb:-0}" -v pages="${kp:-0}" "$HEX"'
	{ for (i = 1; i < NF; i++) if ($i == "GVA") g = hex($(i + 1))
	  if (g < lo || g >= lo + pages * 4096) b++ } END { print b + 0 }' "$T/pnp0" 2>/dev/null)
num "syscall: every ring-0 GVA lies inside kbuf" "$out" -eq 0
rips=$(awk '{for (i = 1; i < NF; i++) if ($i == "RIP") print $(i + 1)}' "$T/pnp0" | sort -u |
	awk -v c=$((0x${copy:-0})) "$HEX"'{ v = hex($1); if (v < c || v >= c + 256) b++ } END { print b + 0 }')
num "syscall: every ring-0 fault was in apf_copy_record" "$rips" -eq 0

# ---- two vCPUs, every kind of task at once (ring-0 kernel threads too)
check "snapshot of mixed on 2 vCPUs" timeout 60 "$DOZE" run "$G" --quiet --mem 64M --cpus 2 \
	--workload mixed --snapshot "$T/mixed"
check "mixed, 2 vCPUs, bpf: exits 0" restore "$T/mixed"
has "mixed, 2 vCPUs, bpf: checksum OK" "checksum 0x[0-9a-f]* OK"
num "mixed: page-not-present delivered" "$(npnp)" -gt 500
jcmp "mixed: every one had a verified GVA" async.gva.filled -eq "$(delivered)"
jcmp "mixed: none without" async.gva.unknown -eq 0

# ---- the Linux-compatible #PF delivery has no #VE area: nothing filled, nothing counted
check "syscall under bpf, #PF delivery: exits 0" restore "$T/sys" --async-delivery pf
jcmp "#PF delivery: no GVA counted" async.gva.filled -eq 0
jcmp "#PF delivery: no unknown counted" async.gva.unknown -eq 0
echo "1..$n"
