# eBPF fixture programs for the engine's tests, compiled by clang like the
# reference predicate (tests/unit/test-elf.c loads them from $(O)/tests/bpf/).
BPF_FIXTURES := $(patsubst tests/bpf/%.bpf.c,$(O)/tests/bpf/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))
ALL_TARGETS += $(BPF_FIXTURES)

$(O)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c include/uapi/doze/pred.h
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -target bpf -Iinclude/uapi -I/usr/include/$(shell $(CC) -print-multiarch) \
		-c $< -o $@
