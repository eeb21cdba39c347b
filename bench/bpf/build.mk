# eBPF engine benchmark: ns per predicate evaluation, verification time (make bench).
.DEFAULT_GOAL := all
BENCH_TARGETS += bench-bpf

$(O)/bench/bpf/bench-bpf: bench/bpf/bench-bpf.c $(O)/libdoze.a tests/unit/synth-guest.h
	@mkdir -p $(@D)
	$(CC) $(DZ_CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(O)/libdoze.a $(LDLIBS)

bench-bpf: $(O)/bench/bpf/bench-bpf $(O)/guest/pred.bpf.o
	$(O)/bench/bpf/bench-bpf $(O)/guest/pred.bpf.o
