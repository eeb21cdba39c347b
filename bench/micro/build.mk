# Micro benchmarks reported by make bench beside the restores (bench/build.mk):
# kbpf (the predicate's instruction mix in the kernel's eBPF, BPF_PROG_TEST_RUN)
# and fault-rt (cost of one fault round trip per path on real KVM + userfaultfd).
BENCH_MICRO := $(patsubst bench/micro/%.c,$(O)/bench/micro/%,$(wildcard bench/micro/*.c))
ALL_TARGETS += $(BENCH_MICRO)

$(O)/bench/micro/%: bench/micro/%.c $(O)/libdoze.a
	@mkdir -p $(@D)
	$(CC) $(DZ_CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $< $(O)/libdoze.a $(LDLIBS)
