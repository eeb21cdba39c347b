# The VMM: KVM setup, vCPU loop, fault service, page sources, policies, snapshot, stats.
LIB_SRCS += $(wildcard vmm/*.c)
