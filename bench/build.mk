# make bench: the lazy-restore benchmark (bench/suite/doze-bench, issue 5) and
# the micro benchmarks it reports beside the restores. Never part of make test.
#
#   make bench                   the default matrix (~15-20 min on 2 cores)
#   make bench BENCH_FULL=1      the whole matrix of issue 5 (hours)
#   make bench BENCH_ARGS='--reps 5 --policies sync,bpf,present'
#
# Results: bench/results/<UTC time>/ (results.jsonl, summary.md, summary.csv,
# per-run stats JSON); the plots go to docs/bench-*.png.
BENCH_TARGETS += bench-suite
BENCH_PRESET := $(if $(BENCH_FULL),full,default)

bench-suite: $(DOZE) $(ALL_TARGETS) | $(filter-out bench-suite,$(BENCH_TARGETS))
	bench/suite/doze-bench --preset $(BENCH_PRESET) --doze $(DOZE) --plots docs $(BENCH_ARGS)
