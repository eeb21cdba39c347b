# The reference guest's fault predicate, compiled to eBPF by clang.
# build.mk files are read before the Makefile's `all:`; a rule here must not become the default.
.DEFAULT_GOAL := all
PRED_OBJ := $(O)/guest/pred.bpf.o
ALL_TARGETS += $(PRED_OBJ) $(O)/guest/pred/pred.bpf.o
# <linux/types.h> needs <asm/types.h>, which Debian keeps under the multiarch directory.
PRED_CFLAGS := -O2 -g -target bpf -Iinclude/uapi -I/usr/include/$(shell $(CC) -print-multiarch)

$(PRED_OBJ): guest/pred/pred.bpf.c guest/pred/percpu.h include/uapi/doze/pred.h
	@mkdir -p $(@D)
	$(CLANG) $(PRED_CFLAGS) -c $< -o $@

# The same object under the source tree's layout (some tests look for it there).
$(O)/guest/pred/pred.bpf.o: $(PRED_OBJ)
	@mkdir -p $(@D)
	cp $< $@
