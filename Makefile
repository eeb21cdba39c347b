# doze — top-level GNU Makefile.
#
# Each component lists its own sources and tests in a build.mk next to its code
# (lib/bpf/build.mk, vmm/build.mk, guest/build.mk, tests/*/build.mk, bench/build.mk),
# appending to the variables below. This file holds only the generic rules.
#
#   make            build the doze binary, the library and the reference guest
#   make check      tests that need no KVM (TAP, run by prove)
#   make check-kvm  tests that run real KVM guests (root, /dev/kvm)
#   make test       install dependencies, then check + check-kvm + check-asan (what CI runs)
#   make bench      benchmarks (ratios measured side by side; never part of the tests)
#   make demo       the main demo: one lazy restore shown under every policy
#   make check-asan the tests that need no KVM under ASan + UBSan + LeakSanitizer
#   make check-kvm-asan  the KVM tests against an ASan + UBSan + LeakSanitizer build of doze

O	?= build
CC	?= gcc
CLANG	?= clang
PROVE	?= prove

WARN	:= -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS	?= -O2 -g
DZ_CFLAGS := -std=gnu11 $(WARN) -Iinclude -Iinclude/uapi -D_GNU_SOURCE -pthread $(CFLAGS)
LDLIBS	:= -lbpf -lelf -lz -lcurl -lxxhash -lpthread -lm
ifeq ($(SAN),1)
DZ_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

.DEFAULT_GOAL := all	# the build.mk files below may define rules before `all`

LIB_SRCS	:=	# host library: lib/bpf (pure eBPF engine) + vmm (KVM side)
TOOL_SRCS	:=	# the doze binary's subcommands (tools/)
CHECK_TESTS	:=	# compiled TAP tests that need no KVM ($(O)/tests/...)
CHECK_SCRIPTS	:=	# TAP scripts (*.t) that need no KVM
KVM_TESTS	:=	# compiled TAP tests that need /dev/kvm
KVM_SCRIPTS	:=	# TAP scripts that need /dev/kvm
BENCH_TARGETS	:=	# phony targets run by `make bench`
ALL_TARGETS	:=	# extra artefacts built by `make` (guest image, predicates)

include $(sort $(wildcard lib/*/build.mk vmm/build.mk guest/build.mk guest/*/build.mk \
			  tools/build.mk tests/*/build.mk bench/build.mk bench/*/build.mk))

LIB_OBJS  := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
TOOL_OBJS := $(patsubst %.c,$(O)/%.o,$(TOOL_SRCS))
LIBDOZE   := $(O)/libdoze.a
DOZE      := $(O)/doze

all: $(DOZE) $(ALL_TARGETS) $(CHECK_TESTS) $(KVM_TESTS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(DZ_CFLAGS) -MMD -MP -c $< -o $@

$(LIBDOZE): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(DOZE): $(TOOL_OBJS) $(LIBDOZE)
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(LIBDOZE) $(LDLIBS)

# A compiled test is one C file under tests/ linked against the library.
$(O)/tests/%: tests/%.c $(LIBDOZE) tests/tap.h
	@mkdir -p $(@D)
	$(CC) $(DZ_CFLAGS) -Itests -MMD -MP $(LDFLAGS) -o $@ $< $(LIBDOZE) $(LDLIBS)

# Environment every test sees: where the binary, the build and the sources are.
TEST_ENV := DOZE=$(abspath $(DOZE)) DZ_BUILD=$(abspath $(O)) DZ_SRC=$(CURDIR)

deps:
	@./tools/install-deps

# prove runs a *.t script only if git recorded it executable: say which are not
# (a clean clone would fail them with a bare "Can't exec").
check-modes:
	@bad=$$(git ls-files -s -- 'tests/*.t' 2>/dev/null | awk '$$1 != "100755" { print $$4 }'); \
	if [ -n "$$bad" ]; then echo "not executable in git (git add --chmod=+x):" $$bad; exit 1; fi

check: all check-modes
	$(TEST_ENV) $(PROVE) --exec '' $(CHECK_TESTS) $(CHECK_SCRIPTS)

check-kvm: all check-modes
	@if [ -z "$(strip $(KVM_TESTS) $(KVM_SCRIPTS))" ]; then echo "no KVM tests in this tree"; \
	else $(TEST_ENV) $(PROVE) --exec '' $(KVM_TESTS) $(KVM_SCRIPTS); fi

# The same tests that need no KVM, built with ASan + UBSan (LeakSanitizer included).
check-asan:
	$(MAKE) SAN=1 O=$(O)-asan check

# The KVM tests against an ASan + UBSan + LeakSanitizer build of doze and the test
# programs (the guest image is not instrumented). A report aborts (exit 134, so a
# test expecting a failing exit cannot take it for one) and is logged to a file
# (the tests capture stderr); any log fails the target.
SAN_LOGS = $(abspath $(O)-asan)/san-logs
check-kvm-asan:
	rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	ASAN_OPTIONS=abort_on_error=1:log_path=$(SAN_LOGS)/asan \
	UBSAN_OPTIONS=abort_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan \
		$(MAKE) SAN=1 O=$(O)-asan check-kvm
	@if [ -n "$$(ls $(SAN_LOGS))" ]; then echo "sanitizer reports:"; cat $(SAN_LOGS)/*; exit 1; fi

test: deps
	$(MAKE) check
	$(MAKE) check-kvm
	$(MAKE) check-asan
	$(MAKE) check-kvm-asan

bench: deps all $(BENCH_TARGETS)

demo: deps all
	O=$(O) ./tools/demo

format:
	clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^guest/.*\.S$$')

clean:
	rm -rf $(O)

.PHONY: all deps check-modes check check-kvm check-asan check-kvm-asan test bench demo format clean $(BENCH_TARGETS)
.DELETE_ON_ERROR:

-include $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(CHECK_TESTS:=.d) $(KVM_TESTS:=.d)
