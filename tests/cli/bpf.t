#!/bin/sh
# doze bpf asm|dis|verify|run: help, round trips, runs, and clear errors for bad input.
P="$DZ_SRC/tests/cli/progs"
PRED="$DZ_BUILD/guest/pred.bpf.o"
T=$(mktemp -d /tmp/dz-bpf-t.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0
fails=0
# t NAME COMMAND: passes if COMMAND (a shell snippet) succeeds.
t() {
	n=$((n+1))
	if (eval "$2") >"$T/out" 2>&1; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		sed 's/^/#   /' "$T/out" | head -20
		fails=$((fails+1))
	fi
}
# A raw struct dz_pred_ctx (232 bytes): ctx CPL RFLAGS FILE [GS_BASE [KERNEL_GS_BASE]];
# paging on, CR3 0x1000.
ctx() {
	perl -e 'my ($cpl, $rfl, $gs, $kgs) = ($ARGV[0], hex($ARGV[1]), hex($ARGV[2]), hex($ARGV[3]));
		print pack("L<L<Q<Q<Q<", 0, $cpl, $rfl, 0, 0), pack("Q<", 0) x 15,
		      pack("Q<Q<Q<Q<", 0x80000001, 0x1000, 0x20, 0x500),
		      pack("Q<Q<Q<Q<Q<L<L<", 0, $gs, $kgs, 0, 0, 0, 0)' "$1" "$2" "${4:-0}" "${5:-0}" >"$3"
}
# Guest memory for --guest-mem: 4-level tables at 0x1000-0x4fff mapping linear
# 0x400000 to the per-CPU page at 0x5000 (preempt_count at +16, irq depth at +20,
# the CPU's live tasks at +28; default 2).
gmem() { # FILE PREEMPT IRQ [TASKS]
	perl -e 'my $m = "\0" x 0x6000;
		substr($m, 0x1000, 8) = pack("Q<", 0x2003);
		substr($m, 0x2000, 8) = pack("Q<", 0x3003);
		substr($m, 0x3000 + 2 * 8, 8) = pack("Q<", 0x4003);
		substr($m, 0x4000, 8) = pack("Q<", 0x5003);
		substr($m, 0x5010, 16) = pack("L<L<L<L<", $ARGV[0], $ARGV[1], 0, $ARGV[2]);
		print $m' "$2" "$3" "${4:-2}" >"$1"
}

t "doze bpf --help" '"$DOZE" bpf --help | grep -q "asm"'
for c in asm dis verify run; do
	t "doze bpf $c --help" '"$DOZE" bpf '$c' --help | grep -q "^usage: doze bpf '$c'"'
done
t "doze bpf with no command exits 2" '"$DOZE" bpf; [ $? -eq 2 ]'
t "an unknown bpf command exits 2" '"$DOZE" bpf frob 2>&1 | grep -q "not a bpf command"'

# asm -> .bin -> dis -> asm again gives the same bytes.
t "asm writes a .bin" 'cp "$P/isa.s" "$T/isa.s" && "$DOZE" bpf asm "$T/isa.s" && [ -s "$T/isa.bin" ]'
t ".bin size is 8 bytes per slot" '[ $(($(stat -c %s "$T/isa.bin") % 8)) -eq 0 ]'
t "dis prints a bpftool-style listing" \
	'"$DOZE" bpf dis "$T/isa.bin" >"$T/isa.lst" && grep -q "^4: (3f) r1 s/= r2$" "$T/isa.lst"'
t "lddw takes two slots in the listing" 'grep -q "^1: (18) r1 = 0x8000000000000000$" "$T/isa.lst" && ! grep -q "^2:" "$T/isa.lst"'
t "the listing assembles back to the same bytes" \
	'cp "$T/isa.lst" "$T/again.s" && "$DOZE" bpf asm -o "$T/again.bin" "$T/again.s" && cmp "$T/isa.bin" "$T/again.bin"'

# llvm-objdump's listing of clang's object assembles to the same instructions.
if command -v llvm-objdump >/dev/null 2>&1; then
	t "llvm-objdump output assembles to the ELF's instructions" \
		'llvm-objdump -d --no-show-raw-insn "$PRED" | grep -P "^\s+\d+:" | sed "s/^ *[0-9]*:\t//" >"$T/llvm.s" &&
		 "$DOZE" bpf asm -o "$T/llvm.bin" "$T/llvm.s" && "$DOZE" bpf asm -o "$T/elf.bin" "$PRED" &&
		 cmp "$T/llvm.bin" "$T/elf.bin"'
else
	echo "# llvm-objdump not installed: its syntax is not checked here"
fi

# run
t "run prints r0 on the last line" '"$DOZE" bpf run --no-verify "$T/isa.bin" | tail -1 | grep -qx "0x3f"'
t "the .s and the .bin give the same result" '[ "$("$DOZE" bpf run --no-verify "$P/isa.s")" = "$("$DOZE" bpf run --no-verify "$T/isa.bin")" ]'
printf '\001\000\000\000\000\000\000\000\002\000\000\000\000\000\000\001' >"$T/mem"
t "run --mem: r1 points to the file's bytes" '"$DOZE" bpf run --no-verify --mem "$T/mem" "$P/add.s" | tail -1 | grep -qx "0x100000000000003"'
t "run --stats counts instructions" '"$DOZE" bpf run --no-verify --stats --mem "$T/mem" "$P/add.s" | grep -qx "insns: 4"'
t "out-of-bounds access fails clearly" '! "$DOZE" bpf run --no-verify --mem "$T/mem" "$P/oob.s" >/dev/null 2>"$T/e" && grep -q "outside the context" "$T/e"'
t "a loop stops at the budget" '! "$DOZE" bpf run --no-verify --budget 1000 "$P/loop.s" >/dev/null 2>"$T/e" && grep -q "after 1000 insns: instruction budget" "$T/e"'
t "--mem and --ctx exclude each other" '"$DOZE" bpf run --mem "$T/mem" --ctx "$T/mem" "$P/add.s"; [ $? -eq 2 ]'
t "a context of the wrong size is refused" '"$DOZE" bpf run --no-verify --ctx "$T/mem" "$PRED" 2>&1 | grep -q "232 bytes"'

# The reference predicate, from clang's ELF object.
t "dis of the reference predicate names its helper" '"$DOZE" bpf dis "$PRED" | grep -q "call dz_read_percpu#3"'
ctx 3 0x202 "$T/ring3-if1" 0 0x400000; ctx 3 0x2 "$T/ring3-if0" 0 0x400000; ctx 0 0x202 "$T/ring0-nomem"
gmem "$T/gm-ok" 0 0; gmem "$T/gm-preempt" 1 0; gmem "$T/gm-irq" 0 1; gmem "$T/gm-1task" 0 0 1
t "predicate: ring 3 with IF=1 and 2 tasks may sleep" '"$DOZE" bpf run --no-verify --ctx "$T/ring3-if1" --guest-mem "$T/gm-ok" "$PRED" | tail -1 | grep -qx "0x1"'
t "predicate: ring 3 with IF=0 must not" '"$DOZE" bpf run --no-verify --ctx "$T/ring3-if0" --guest-mem "$T/gm-ok" "$PRED" | tail -1 | grep -qx "0x0"'
t "predicate: ring 3, the CPU's only task, must not" '"$DOZE" bpf run --no-verify --ctx "$T/ring3-if1" --guest-mem "$T/gm-1task" "$PRED" | tail -1 | grep -qx "0x0"'
t "predicate: ring 3 with no guest memory must not" '"$DOZE" bpf run --no-verify --ctx "$T/ring3-if1" "$PRED" | tail -1 | grep -qx "0x0"'
t "predicate: ring 0 with no guest memory must not" '"$DOZE" bpf run --no-verify --ctx "$T/ring0-nomem" "$PRED" | tail -1 | grep -qx "0x0"'
ctx 0 0x202 "$T/ring0-if1" 0x400000
t "predicate through --guest-mem page tables: ring 0 sleepable" '"$DOZE" bpf run --no-verify --ctx "$T/ring0-if1" --guest-mem "$T/gm-ok" "$PRED" | tail -1 | grep -qx "0x1"'
t "predicate through --guest-mem: preempt_count 1" '"$DOZE" bpf run --no-verify --ctx "$T/ring0-if1" --guest-mem "$T/gm-preempt" "$PRED" | tail -1 | grep -qx "0x0"'
t "predicate through --guest-mem: in an interrupt" '"$DOZE" bpf run --ctx "$T/ring0-if1" --guest-mem "$T/gm-irq" "$PRED" | tail -1 | grep -qx "0x0"'
t "--guest-mem needs --ctx" '"$DOZE" bpf run --guest-mem "$T/gm-ok" "$PRED"; [ $? -eq 2 ]'
t "verify accepts the reference predicate" '"$DOZE" bpf verify "$PRED" | grep -qx "accepted"'
t "run verifies by default" '"$DOZE" bpf run --ctx "$T/ring3-if1" --guest-mem "$T/gm-ok" "$PRED" | tail -1 | grep -qx "0x1"'
t "verify rejects a loop with a log, exit 1" '"$DOZE" bpf verify --mem-size 16 "$P/loop.s" >"$T/log"; [ $? -eq 1 ] && grep -q "^[0-9]*: (" "$T/log" && grep -q "back-edge" "$T/log"'
t "verify rejects an out-of-bounds read (mem program)" '"$DOZE" bpf verify --mem-size 16 "$P/oob.s" >"$T/log"; [ $? -eq 1 ] && grep -q "^0: (79) r0 = \*(u64 \*)(r1 +16)" "$T/log"'
t "verify accepts a memory program within its buffer" '"$DOZE" bpf verify --mem-size 16 "$P/add.s" | grep -qx "accepted"'
t "run refuses what the verifier rejects" '! "$DOZE" bpf run "$P/loop.s" >/dev/null 2>&1'
t "run --mem verified" '"$DOZE" bpf run --mem "$T/mem" "$P/add.s" | tail -1 | grep -qx "0x100000000000003"'

# Bad input: clear errors, no crash (exit 1, never a signal).
bad() { # NAME FILE EXPECTED-MESSAGE
	t "$1" '"$DOZE" bpf dis "'"$2"'" >"$T/o" 2>&1; rc=$?; [ $rc -eq 1 ] && grep -q "'"$3"'" "$T/o"'
}
printf 'abcdefghijkl' >"$T/odd.bin"
printf '\377\000\000\000\000\000\000\000' >"$T/garbage.bin"
printf '\005\000\005\000\000\000\000\000\225\000\000\000\000\000\000\000' >"$T/far.bin"
printf '\030\000\000\000\001\000\000\000' >"$T/lddw.bin"
printf 'r0 = 1\nr0 +=\nexit\n' >"$T/bad.s"
printf 'garbage' >"$T/junk.o"
head -c 300 "$PRED" >"$T/trunc.o"
: >"$T/empty.bin"
bad "odd-sized .bin" "$T/odd.bin" "not a multiple of 8"
bad "empty .bin" "$T/empty.bin" "no instructions"
bad "garbage opcode" "$T/garbage.bin" "insn 0: invalid"
bad "jump out of range" "$T/far.bin" "jump out of range"
bad "truncated lddw" "$T/lddw.bin" "truncated"
bad "assembly error has a line number" "$T/bad.s" "line 2:"
bad "not an ELF object" "$T/junk.o" "not an ELF object"
bad "truncated ELF object" "$T/trunc.o" "trunc.o:"
bad "unknown suffix" "$P/../bpf.t" "unknown program format"
bad "missing file" "$T/nope.bin" "No such file"
t "reserved field set" 'printf "\007\041\000\000\001\000\000\000\225\000\000\000\000\000\000\000" >"$T/res.bin"; "$DOZE" bpf dis "$T/res.bin" 2>&1 | grep -q "reserved fields"'

echo "1..$n"
[ $fails -eq 0 ]
