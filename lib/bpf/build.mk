# The eBPF engine: pure library, no KVM.
LIB_SRCS += $(wildcard lib/bpf/*.c)
