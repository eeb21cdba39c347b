# Verifier corpus: one TAP program runs every case in tests/verifier/cases/*.c.
CHECK_TESTS += $(O)/tests/verifier/test-verifier
$(O)/tests/verifier/test-verifier: $(wildcard tests/verifier/cases/*.c) tests/verifier/corpus.h tests/verifier/all-cases.h

# Predicates written in C and compiled by clang: real compiler output for the runner.
# Twice: the default instruction set (v1), and -mcpu=v3 (32-bit ALU and JMP32 code).
VERIFIER_CLANG_OBJ := $(O)/tests/verifier/clang-preds.bpf.o $(O)/tests/verifier/clang-preds-v3.bpf.o
VERIFIER_CLANG_FLAGS := -O2 -g -target bpf -Iinclude/uapi -I/usr/include/$(shell $(CC) -print-multiarch)
$(O)/tests/verifier/clang-preds.bpf.o: tests/verifier/clang/preds.bpf.c include/uapi/doze/pred.h
	@mkdir -p $(@D)
	$(CLANG) $(VERIFIER_CLANG_FLAGS) -c $< -o $@
$(O)/tests/verifier/clang-preds-v3.bpf.o: tests/verifier/clang/preds.bpf.c include/uapi/doze/pred.h
	@mkdir -p $(@D)
	$(CLANG) $(VERIFIER_CLANG_FLAGS) -mcpu=v3 -c $< -o $@
$(O)/tests/verifier/test-verifier: $(VERIFIER_CLANG_OBJ)

# The scalar domain against the interpreter (white box: lib/bpf/verifier.h).
CHECK_TESTS += $(O)/tests/verifier/test-scalar
