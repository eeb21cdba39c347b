# Unit tests that need no KVM: every tests/unit/test-*.c is one TAP program.
CHECK_TESTS += $(patsubst tests/%.c,$(O)/tests/%,$(wildcard tests/unit/test-*.c))
CHECK_SCRIPTS += $(wildcard tests/unit/*.t)
