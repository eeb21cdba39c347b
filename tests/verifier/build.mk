# Verifier corpus: one TAP program runs every case in tests/verifier/cases/*.c.
CHECK_TESTS += $(O)/tests/verifier/test-verifier
$(O)/tests/verifier/test-verifier: $(wildcard tests/verifier/cases/*.c) tests/verifier/corpus.h tests/verifier/all-cases.h
