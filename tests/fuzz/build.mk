# Verifier soundness fuzzing.
#   make check            replays tests/fuzz/regressions/ and runs a short deterministic smoke
#   make fuzz-verifier    libFuzzer (clang, ASan + UBSan) for FUZZ_TIME seconds (default 60),
#                         seeded with the verifier corpus; findings abort and are saved as crash-*
CHECK_TESTS += $(O)/tests/fuzz/test-replay
$(O)/tests/fuzz/test-replay: tests/fuzz/harness.h tests/verifier/all-cases.h

FUZZ_TIME	?= 60
FUZZ_JOBS	?=
FUZZ_DIR	:= $(O)/fuzz
FUZZ_CFLAGS	:= -std=gnu11 -g -O1 -Iinclude -Iinclude/uapi -Itests -D_GNU_SOURCE \
		   -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_LIB_OBJS	:= $(patsubst %.c,$(FUZZ_DIR)/%.o,$(wildcard lib/bpf/*.c))

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_DIR)/fuzz-verifier: tests/fuzz/fuzz-verifier.c tests/fuzz/harness.h $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) -lbpf -lelf -lz -o $@

$(FUZZ_DIR)/mkseeds: tests/fuzz/mkseeds.c tests/verifier/all-cases.h $(wildcard tests/verifier/cases/*.c)
	@mkdir -p $(@D)
	$(CC) $(DZ_CFLAGS) -Itests $< -o $@

fuzz-verifier: $(FUZZ_DIR)/fuzz-verifier $(FUZZ_DIR)/mkseeds
	@mkdir -p $(FUZZ_DIR)/seeds $(FUZZ_DIR)/corpus $(FUZZ_DIR)/artifacts
	$(FUZZ_DIR)/mkseeds $(FUZZ_DIR)/seeds
	$(FUZZ_DIR)/fuzz-verifier -max_total_time=$(FUZZ_TIME) -timeout=20 -rss_limit_mb=4096 \
		-max_len=1026 $(if $(FUZZ_JOBS),-jobs=$(FUZZ_JOBS) -workers=$(FUZZ_JOBS)) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds tests/fuzz/regressions

.PHONY: fuzz-verifier

# The same harness for AFL++ (afl-clang-fast links libFuzzer-style targets with -fsanitize=fuzzer).
AFL_CC		?= afl-clang-fast
$(FUZZ_DIR)/fuzz-verifier-afl: tests/fuzz/fuzz-verifier.c tests/fuzz/harness.h $(wildcard lib/bpf/*.c)
	@mkdir -p $(@D)
	AFL_QUIET=1 $(AFL_CC) -std=gnu11 -g -O1 -Iinclude -Iinclude/uapi -Itests -D_GNU_SOURCE \
		-fsanitize=fuzzer $< $(wildcard lib/bpf/*.c) -lbpf -lelf -lz -o $@

fuzz-verifier-afl: $(FUZZ_DIR)/fuzz-verifier-afl $(FUZZ_DIR)/mkseeds
	@mkdir -p $(FUZZ_DIR)/seeds
	$(FUZZ_DIR)/mkseeds $(FUZZ_DIR)/seeds
	AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
		afl-fuzz -V $(FUZZ_TIME) -i $(FUZZ_DIR)/seeds -o $(FUZZ_DIR)/afl -- $(FUZZ_DIR)/fuzz-verifier-afl

.PHONY: fuzz-verifier-afl
