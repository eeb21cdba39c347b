# Tests that boot real KVM guests (root, /dev/kvm): compiled test-*.c and *.t scripts.
KVM_TESTS += $(patsubst tests/%.c,$(O)/tests/%,$(wildcard tests/kvm/test-*.c))
KVM_SCRIPTS += $(sort $(wildcard tests/kvm/*.t))
