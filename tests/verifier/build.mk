# Verifier corpus: one TAP program runs every case in tests/verifier/cases/*.c.
CHECK_TESTS += $(O)/tests/verifier/test-verifier
$(O)/tests/verifier/test-verifier: $(wildcard tests/verifier/cases/*.c) tests/verifier/corpus.h tests/verifier/all-cases.h

# Predicates written in C and compiled by clang: real compiler output for the runner.
VERIFIER_CLANG_OBJ := $(O)/tests/verifier/clang-preds.bpf.o
$(VERIFIER_CLANG_OBJ): tests/verifier/clang/preds.bpf.c include/uapi/doze/pred.h
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -target bpf -Iinclude/uapi -I/usr/include/$(shell $(CC) -print-multiarch) -c $< -o $@
$(O)/tests/verifier/test-verifier: $(VERIFIER_CLANG_OBJ)
