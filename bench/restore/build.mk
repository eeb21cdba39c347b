# The synchronous lazy-restore baseline (issue 3): each page source with and
# without the latency model, prefetch off and on (make bench; a few minutes).
BENCH_TARGETS += bench-restore

bench-restore: $(DOZE) $(ALL_TARGETS)
	bench/restore/bench-restore --doze $(DOZE) --guest $(O)/guest/doze-guest.elf $(BENCH_RESTORE_ARGS)
