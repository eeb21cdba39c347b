# doze-bench (see bench/build.mk). Results: bench/results/<UTC time>/
# (results.jsonl, summary.md, summary.csv, micro-*.txt, per-run stats JSON);
# the plots go to docs/bench-*.png.
BENCH_TARGETS += bench-suite
BENCH_PRESET := $(if $(BENCH_FULL),full,default)
BENCH_MICRO_ARGS = --micro 'bpf=$(O)/bench/bpf/bench-bpf $(O)/guest/pred.bpf.o' \
		   --micro 'kbpf=$(O)/bench/micro/kbpf' --micro 'fault-rt=$(O)/bench/micro/fault-rt' \
		   --micro 'ring0=bench/suite/ring0-split --doze $(DOZE)'

# After every other bench target (never two benchmarks at once on a 2-core
# machine); this file is included after bench/{bpf,micro,restore}/build.mk.
bench-suite: $(DOZE) $(ALL_TARGETS) $(O)/bench/bpf/bench-bpf | $(filter-out bench-suite,$(BENCH_TARGETS))
	bench/suite/doze-bench --preset $(BENCH_PRESET) --doze $(DOZE) --plots docs $(BENCH_MICRO_ARGS) $(BENCH_ARGS)

# dz-eager: the "all memory present" baseline (an eager restore of the same snapshot).
ALL_TARGETS += $(O)/bench/suite/dz-eager
$(O)/bench/suite/dz-eager: bench/suite/dz-eager.c $(O)/libdoze.a
	@mkdir -p $(@D)
	$(CC) $(DZ_CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(O)/libdoze.a $(LDLIBS)
