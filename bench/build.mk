# make bench: benchmarks, never part of make test. Each part has its own
# build.mk (included after this file, in name order):
#   bench/bpf/     the eBPF engine: predicate ns per decision, verifier time vs size
#   bench/micro/   kbpf (the same mix in the kernel's eBPF), fault-rt (fault round trip per path)
#   bench/restore/ the synchronous lazy-restore baseline per source (issue 3)
#   bench/suite/   doze-bench: every policy side by side, the ideal, ratios, plots (issue 5);
#                  it runs last and reports the micro benchmarks beside the restores
#
#   make bench                   the default matrix (~15-20 min on 2 cores)
#   make bench BENCH_FULL=1      the whole matrix of issue 5 (hours)
#   make bench BENCH_ARGS='--reps 5 --policies sync,bpf,present'
